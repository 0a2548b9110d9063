-- The lifecycle of tickets, cases and actions through the operations,
-- with the columns the trigger derives.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS workitem;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET workitem.actor = 'agent1';

INSERT INTO workitem.category_config (kind, category, feedback_window, days_to_wait)
VALUES ('ticket', 'network', '2 days', 5),
       ('ticket', 'instant', NULL, NULL),
       ('ticket', 'short', '50 milliseconds', NULL),
       ('case', 'onboarding', '1 day', NULL);

-- A ticket from draft to closed
SELECT id AS t1, status FROM workitem.create_ticket('VPN down', 'Cannot connect since 9:00',
       'network', 'dan@example.com', 'erin@example.com') \gset
SELECT status, submitted_at IS NOT NULL AS submitted, feedback_window, days_to_wait
  FROM workitem.submit(:t1);
SELECT status, assignee FROM workitem.start(:t1);
-- reassigning work in progress puts it back in the queue
SELECT status, assignee FROM workitem.assign(:t1, 'agent2');
SELECT status, assignee FROM workitem.start(:t1, 'agent2');
-- unassigning (a robot handing it back) too
SELECT status, assignee FROM workitem.unassign(:t1, 'robot could not parse the log');
SELECT status, assignee FROM workitem.start(:t1);
-- more info with the category's days to wait
SELECT status, wait_type, (wait_until - now()) AS waits, close_if_no_reply
  FROM workitem.wait_more_info(:t1, close_if_no_reply => true, reason => 'need the log');
-- change of wait: a follow-up tomorrow
SELECT status, wait_type, wait_until - now() AS waits, close_if_no_reply
  FROM workitem.wait_until(:t1, now() + interval '1 day', 'call back tomorrow');
SELECT status, wait_type, wait_until, wait_reason FROM workitem.resume(:t1);
SELECT status, resolution, resolved_by, feedback_until - resolved_at AS window
  FROM workitem.resolve(:t1, 'customer_response', 'Reset the VPN profile');
SELECT status, resolution, resolved_at, feedback_until FROM workitem.reopen(:t1, 'still down');
SELECT status, resolution, first_resolved_at < resolved_at AS first_kept
  FROM workitem.resolve(:t1, 'rejected');
SELECT status, closed_at IS NOT NULL AS closed FROM workitem.close(:t1);

-- No feedback window: resolving closes at once
SELECT id AS t2 FROM workitem.create_ticket('Password', 'Reset it', 'instant', 'f@x', 'f@x', submit => true) \gset
SELECT status, resolution, closed_at = resolved_at AS same_moment
  FROM workitem.resolve(:t2, 'customer_response');

-- Spam goes straight to closed, even from draft
SELECT id AS t3 FROM workitem.create_ticket('WIN A PRIZE') \gset
SELECT status, resolution, submitted_at FROM workitem.resolve(:t3, 'spam');

-- First-contact resolution: draft to resolved submits it too
SELECT id AS t4 FROM workitem.create_ticket('Where is the office?', 'Address please', 'network', 'g@x', 'g@x') \gset
UPDATE workitem.item SET status = 'resolved', resolution = 'customer_response' WHERE id = :t4;
SELECT status, submitted_at IS NOT NULL AS submitted, feedback_window FROM workitem.item WHERE id = :t4;

-- The feedback window runs out
SELECT id AS t5 FROM workitem.create_ticket('Printer', 'Jams', 'short', 'h@x', 'h@x', submit => true) \gset
SELECT status FROM workitem.resolve(:t5, 'customer_response');
SELECT pg_sleep(0.2);
-- (the message names the moment the window closed, so show only its SQLSTATE)
DO $$ BEGIN PERFORM workitem.reopen(currval('workitem.item_id_seq'));
EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'reopen refused: %', SQLSTATE; END $$;
SELECT status FROM workitem.close(:t5);

-- A case with actions
SELECT id AS c1, status FROM workitem.create_case('Onboard new hire', category => 'onboarding', submit => true) \gset
INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', :c1, 'Create accounts') RETURNING id AS a1, status \gset
SELECT :a1 > 0 AS action_created, status FROM workitem.item WHERE id = :a1;
SELECT status, assignee FROM workitem.start(:a1, 'robot7');
SELECT status, wait_type FROM workitem.wait_more_info(:a1, 2);
SELECT status, assignee FROM workitem.resume(:a1);
-- resolving an action closes it
SELECT status, resolution FROM workitem.resolve(:a1, 'completed');
SELECT status, wait_type, wait_until, wait_reason FROM workitem.pause(:c1, 'waiting for the start date');
SELECT status, assignee FROM workitem.resume(:c1);
SELECT status, resolution, closed_at IS NOT NULL AS closed FROM workitem.cancel(:c1, 'hire withdrew');

-- Drafts may be deleted; submitted work may not
SELECT id AS t6 FROM workitem.create_ticket('typo') \gset
DELETE FROM workitem.item WHERE id = :t6;
DELETE FROM workitem.item WHERE id = :t1;

-- Every item satisfies the invariants of spec section 1
SELECT count(*) AS violations FROM workitem.item
 WHERE (status = 'waiting') <> (wait_type IS NOT NULL)
    OR (status IN ('resolved', 'closed')) <> (resolution IS NOT NULL)
    OR (kind = 'action' AND status = 'draft');
