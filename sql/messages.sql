-- What a message does to its item: fill a draft, wake a wait, reopen
-- within the feedback window, start a follow-up for a closed item.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS workitem;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET workitem.actor = 'agent9';
-- the items' ids it prints (in errors) whatever earlier files drew
SELECT setval(pg_get_serial_sequence('workitem.item', 'id'), 1000) AS ids_after \gset
INSERT INTO workitem.category_config (kind, category, feedback_window, require_resolution_note)
VALUES ('ticket', 'mail', '3 days', true);

-- The first message of a blank draft fills title and description
SELECT id AS t FROM workitem.create_ticket() \gset
SELECT workitem.record_message(:t, 'inbound', 'email', 'Cannot print', 'Printer on floor 2 is offline') > 0 AS recorded;
SELECT title, description, status FROM workitem.item WHERE id = :t;
-- a second message does not overwrite them
SELECT workitem.record_message(:t, 'inbound', 'email', 'Also', 'the scanner') > 0 AS recorded;
SELECT title, description FROM workitem.item WHERE id = :t;
UPDATE workitem.item SET category = 'mail', primary_contact = 'p@x', requester = 'p@x' WHERE id = :t;
SELECT status, assignee FROM workitem.start(:t);

-- An inbound reply wakes a waiting item, highlighted
SELECT status, wait_type FROM workitem.wait_more_info(:t, 2);
SELECT workitem.record_message(:t, 'inbound', 'email', 'Re: Cannot print', 'It shows error 42') > 0 AS recorded;
SELECT status, wait_type, highlighted FROM workitem.item WHERE id = :t;
-- an outbound message does not
SELECT status FROM workitem.wait_until(:t, now() + interval '2 hours');
SELECT workitem.record_message(:t, 'outbound', 'email', 'Re: Cannot print', 'Trying a fix') > 0 AS recorded;
SELECT status, highlighted FROM workitem.item WHERE id = :t;
-- a person's move clears the highlight
SELECT status, highlighted FROM workitem.resume(:t);

-- The resolution note rule: the outbound message since the last status
-- change counts, and is marked as the resolution communication
SELECT workitem.record_message(:t, 'outbound', 'email', 'Fixed', 'Replaced the driver') > 0 AS recorded;
SELECT status, resolution FROM workitem.resolve(:t, 'customer_response');
SELECT body, is_resolution FROM workitem.message WHERE item_id = :t AND direction = 'outbound' ORDER BY id;

-- An inbound reply within the feedback window reopens it
SELECT workitem.record_message(:t, 'inbound', 'email', 'Re: Fixed', 'Broken again') > 0 AS recorded;
SELECT status, resolution, highlighted FROM workitem.item WHERE id = :t;
SELECT status FROM workitem.resolve(:t, 'customer_response', 'Replaced the printer');
SELECT status FROM workitem.close(:t);

-- An inbound message for a closed item starts a follow-up ticket
SELECT workitem.record_message(:t, 'inbound', 'email', 'Re: Fixed', 'Thanks, and the toner?') AS m \gset
SELECT i.status, i.follows_id = :t AS follows, i.category, i.primary_contact, i.highlighted
  FROM workitem.message m JOIN workitem.item i ON i.id = m.item_id AND i.tenant = m.tenant WHERE m.id = :m;
-- other messages for a closed item are refused
SELECT workitem.record_message(:t, 'outbound', 'email', 'x', 'y');
SELECT workitem.record_message(NULL, 'inbound', 'email', 'x', 'y');
SELECT workitem.record_message(999999, 'inbound', 'email', 'x', 'y');

-- A plain INSERT by a mail gateway behaves the same
SELECT id AS w FROM workitem.create_ticket('Badge', 'Lost my badge', 'mail', 'q@x', 'q@x', submit => true) \gset
SELECT status FROM workitem.wait_more_info(:w);
INSERT INTO workitem.message (item_id, direction, channel, subject, body)
VALUES (:w, 'inbound', 'portal', 'Re: Badge', 'Found it');
SELECT status, highlighted FROM workitem.item WHERE id = :w;

-- The activity log of the first ticket's messages: each message row names
-- its message by id, shown as its place in the ticket's thread, and
-- followed_by names the follow-up ticket (on Citus the notes and the
-- follow-up the trigger writes on a worker draw ids from that node's range)
SELECT item_id AS f FROM workitem.message WHERE id = :m \gset
SELECT h.what,
       CASE h.what WHEN 'message' THEN regexp_replace(h.new_value, '#[0-9]+$', '#' || th.ordinality)
                   WHEN 'followed_by' THEN CASE WHEN h.new_value = :'f' THEN 'the follow-up' END
                   ELSE h.new_value END AS new_value,
       h.reason
  FROM workitem.history(:t) h
  LEFT JOIN workitem.thread(:t) WITH ORDINALITY th ON h.what = 'message' AND h.new_value LIKE ('%#' || th.id)
 WHERE h.what IN ('message', 'followed_by', 'status') ORDER BY h.id;
