-- What a refused operation says: one of each class of error, with the
-- item, its status and the refused target in the message.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS workitem;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET workitem.actor = 'agent1';

SELECT id AS t FROM workitem.create_ticket('Laptop slow') \gset
-- missing fields are all named at once
SELECT workitem.submit(:t);
UPDATE workitem.item SET description = 'Takes minutes to boot', category = 'hardware',
       primary_contact = 'k@x', requester = 'k@x' WHERE id = :t;
SELECT status FROM workitem.submit(:t);
-- invalid transition, with the valid next statuses as hint
SELECT workitem.submit(:t);
UPDATE workitem.item SET status = 'draft' WHERE id = :t;
SELECT workitem.resume(:t);
SELECT workitem.reopen(:t);
-- wait rules
UPDATE workitem.item SET status = 'waiting' WHERE id = :t;
SELECT workitem.pause(:t, 'not for tickets');
UPDATE workitem.item SET status = 'waiting', wait_type = 'split' WHERE id = :t;
SELECT workitem.wait_until(:t, '2020-01-01 09:00:00+00');
SELECT workitem.wait_until(:t, 'infinity');
SELECT workitem.wait_more_info(:t, 0);
UPDATE workitem.item SET wait_type = 'more_info' WHERE id = :t;
-- resolution rules
SELECT workitem.resolve(:t, 'cancelled');
SELECT workitem.cancel(:t, 'not for tickets');
UPDATE workitem.item SET status = 'resolved' WHERE id = :t;
UPDATE workitem.item SET status = 'closed', resolution = 'customer_response' WHERE id = :t;
SELECT workitem.resolve(:t, 'merged');
SELECT workitem.resolve(:t, 'split_completed');
UPDATE workitem.item SET resolution = 'rejected' WHERE id = :t;
-- immutable columns, unassign without assignee, unknown item, NULLs
UPDATE workitem.item SET kind = 'case' WHERE id = :t;
SELECT workitem.unassign(:t);
SELECT workitem.start(999999);
SELECT workitem.start(NULL);
SELECT workitem.resolve(:t, NULL);
SELECT workitem.assign(:t, NULL);
SELECT workitem.resolve(:t, 'fixed');
-- nothing above changed the ticket
SELECT status, assignee, wait_type, resolution FROM workitem.item WHERE id = :t;
-- resolution note required by the category
INSERT INTO workitem.category_config (kind, category, require_resolution_note)
VALUES ('ticket', 'audited', true);
SELECT id AS n FROM workitem.create_ticket('Access review', 'Quarterly', 'audited', 'l@x', 'l@x', submit => true) \gset
SELECT workitem.resolve(:n, 'customer_response');
SELECT status, resolution FROM workitem.resolve(:n, 'customer_response', 'Reviewed all 14 accounts');
-- an action needs a reason to be unable to complete
SELECT id AS c FROM workitem.create_case('Move office', submit => true) \gset
INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', :c, 'Book movers') RETURNING id AS a \gset
SELECT workitem.resolve(:a, 'unable_to_complete');
SELECT status, resolution, resolution_note FROM workitem.resolve(:a, 'unable_to_complete', 'no movers free');
INSERT INTO workitem.item (kind, case_id, title, status) VALUES ('action', :c, 'Pack', 'in_progress');
-- closed is final
SELECT status, resolution FROM workitem.resolve(:t, 'spam');
SELECT workitem.reopen(:t);
UPDATE workitem.item SET title = 'renamed' WHERE id = :t;
UPDATE workitem.item SET status = 'to_do' WHERE id = :t;
DELETE FROM workitem.item WHERE id = :t;
-- legacy labels
SELECT * FROM workitem.legacy_status('action', 'Paused');
