-- Cases and actions, split, merge, launch case, time entries.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS workitem;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET workitem.actor = 'lead';
-- the items' ids it prints (in errors) whatever earlier files drew
SELECT setval(pg_get_serial_sequence('workitem.item', 'id'), 2000) AS ids_after \gset
INSERT INTO workitem.category_config (kind, category, feedback_window)
VALUES ('ticket', 'facilities', '5 days');

-- A case and its actions
SELECT id AS c FROM workitem.create_case('Relocate team', submit => true) \gset
SELECT status FROM workitem.start(:c);
INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', :c, 'Book room') RETURNING id AS a1 \gset
INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', :c, 'Move desks') RETURNING id AS a2 \gset
INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', :c, 'Update floor plan') RETURNING id AS a3 \gset
-- an action that cannot be completed sends its case back, flagged
SELECT status, resolution FROM workitem.resolve(:a1, 'unable_to_complete', 'no room free in May');
SELECT status, needs_attention, attention_reason FROM workitem.item WHERE id = :c;
-- the flag clears when the case owner next moves it
SELECT status, needs_attention, attention_reason FROM workitem.start(:c);
-- while the case waits, no new action; existing ones can still be completed
SELECT status FROM workitem.pause(:c, 'budget freeze');
INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', :c, 'Order chairs');
SELECT status, resolution FROM workitem.resolve(:a2, 'completed');
-- an action needs a case, not a ticket
SELECT id AS tk FROM workitem.create_ticket('Noise', 'Too loud', 'facilities', 'r@x', 'r@x', submit => true) \gset
INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', :tk, 'Earplugs');
-- cancelling the case closes its open actions as cancelled
SELECT status, resolution FROM workitem.cancel(:c, 'team stays');
SELECT id = :a3 AS third_action, status, resolution FROM workitem.item WHERE case_id = :c ORDER BY id;

-- Split: the parent waits until every child is resolved or closed
SELECT workitem.split(:tk, ARRAY['Noise on floor 1', 'Noise on floor 2']) AS kids \gset
SELECT status, wait_type FROM workitem.item WHERE id = :tk;
SELECT title, status, category, primary_contact FROM workitem.item WHERE parent_id = :tk ORDER BY id;
SELECT workitem.resume(:tk);
SELECT status FROM workitem.resolve((:'kids'::bigint[])[1], 'customer_response');
SELECT status FROM workitem.item WHERE id = :tk;
SELECT status FROM workitem.resolve((:'kids'::bigint[])[2], 'rejected');
SELECT status, resolution FROM workitem.item WHERE id = :tk;
SELECT workitem.split(:tk, ARRAY[]::text[]);
SELECT workitem.split(:c, ARRAY['x']);

-- Launch case: the ticket waits for the case
SELECT id AS lt FROM workitem.create_ticket('New starter', 'Set up Ana', 'facilities', 's@x', 's@x', submit => true) \gset
SELECT workitem.launch_case(:lt, 'Onboard Ana') AS lc \gset
SELECT kind, status, parent_id = :lt AS linked FROM workitem.item WHERE id = :lc;
SELECT status, wait_type FROM workitem.item WHERE id = :lt;
SELECT status FROM workitem.resolve(:lc, 'completed');
SELECT status, resolution FROM workitem.item WHERE id = :lt;
-- a cancelled case brings the ticket back, highlighted
SELECT id AS lt2 FROM workitem.create_ticket('New starter 2', 'Set up Bo', 'facilities', 's@x', 's@x', submit => true) \gset
SELECT workitem.launch_case(:lt2, 'Onboard Bo') AS lc2 \gset
SELECT status FROM workitem.cancel(:lc2, 'offer declined');
SELECT status, highlighted FROM workitem.item WHERE id = :lt2;

-- Merge: the source closes as merged; its messages are read from the target
SELECT id AS src FROM workitem.create_ticket('Noise again', 'Still loud', 'facilities', 'r@x', 'r@x', submit => true) \gset
SELECT workitem.record_message(:src, 'inbound', 'email', 'Noise', 'It is 80 dB') > 0 AS recorded;
SELECT status, resolution, merged_into = :lt2 AS into_target FROM workitem.merge(:src, :lt2);
SELECT item_id = :src AS from_source, body FROM workitem.thread(:lt2);
SELECT workitem.merge(:lt2, :lt2);
SELECT workitem.merge(:lt2, :src);
SELECT workitem.merge(:lt2, :a3);

-- Time entries
SELECT resource, duration, note FROM workitem.log_time(:lt2, '45 minutes', 'site visit');
SELECT resource, duration FROM workitem.log_time(:lt2, '2 hours', resource => 'robot1');
SELECT workitem.log_time(:lt2, '0 seconds');
SELECT workitem.log_time(:lt2, '1 year');
SELECT workitem.log_time(:lt2, NULL);
SELECT entries, total_duration FROM workitem.time_per_item WHERE item_id = :lt2;
SELECT resource, entries, total_duration FROM workitem.time_per_resource WHERE item_id = :lt2 ORDER BY resource;
SELECT what, new_value, reason FROM workitem.history(:lt2) WHERE what = 'time_entry';
