-- SLA of attached rows (issue 15): the view workitem.attached_sla reads
-- the resolution clock of a row of an attached table from the log: it
-- runs from creation in the policy's calendar, pauses while waiting,
-- stops at the first resolved; the times are set in the log by hand.
BEGIN;
SELECT plan(9);
SET LOCAL workitem.actor = 'ann';
INSERT INTO workitem.sla_policy (name, kind) VALUES ('attached tickets', 'ticket');
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, 'resolution', '4 hours' FROM workitem.sla_policy WHERE name = 'attached tickets';
CREATE TABLE pg_temp.desk (id int PRIMARY KEY, status text NOT NULL);
SELECT workitem.attach('pg_temp.desk');
INSERT INTO pg_temp.desk VALUES (1, 'to_do'), (2, 'to_do'), (3, 'to_do');
UPDATE pg_temp.desk SET status = 'waiting' WHERE id IN (1, 3);
UPDATE pg_temp.desk SET status = 'in_progress' WHERE id = 1;
UPDATE pg_temp.desk SET status = 'resolved' WHERE id = 1;
-- 1: created, 1 h later waiting, 2 h waiting, 2 h working, resolved: 3 h used of 4
-- 2: created 6 h ago, still to_do: breached 2 h ago
-- 3: created 1 h ago, waiting for 30 min: paused, 30 min used
CREATE TEMP TABLE times (key text, new_value text, at timestamptz);
INSERT INTO times VALUES ('1', 'to_do', now() - interval '10 hours'), ('1', 'waiting', now() - interval '9 hours'),
    ('1', 'in_progress', now() - interval '7 hours'), ('1', 'resolved', now() - interval '5 hours'),
    ('2', 'to_do', now() - interval '6 hours'),
    ('3', 'to_do', now() - interval '1 hour'), ('3', 'waiting', now() - interval '30 minutes');
UPDATE workitem.event e SET at = t.at FROM times t
 WHERE e.source = 'pg_temp.desk'::regclass AND e.row_key = t.key AND e.new_value = t.new_value;

SELECT is((SELECT state FROM workitem.attached_sla WHERE row_key = '1'), 'met', 'resolved within the target: met');
SELECT is((SELECT used FROM workitem.attached_sla WHERE row_key = '1'), interval '3 hours',
          'the time waiting does not count (3 h of 5)');
SELECT is((SELECT stopped_at FROM workitem.attached_sla WHERE row_key = '1'), now() - interval '5 hours',
          'the clock stops at the first resolved');
SELECT is((SELECT state FROM workitem.attached_sla WHERE row_key = '2'), 'breached', 'still open past the target: breached');
SELECT is((SELECT due_at FROM workitem.attached_sla WHERE row_key = '2'), now() - interval '2 hours',
          'due 4 hours after creation');
SELECT is((SELECT state FROM workitem.attached_sla WHERE row_key = '3'), 'paused', 'waiting: paused');
SELECT is((SELECT used FROM workitem.attached_sla WHERE row_key = '3'), interval '30 minutes',
          'paused with the time used before the wait');
SELECT is((SELECT policy FROM workitem.attached_sla WHERE row_key = '3'), 'attached tickets',
          'the policy that matches the table''s kind');
-- a table attached as another kind matches no policy of tickets
SELECT workitem.attach('pg_temp.desk', kind => 'case');
SELECT is((SELECT count(*) FROM workitem.attached_sla), 0::bigint, 'no policy for the kind: no row');

SELECT * FROM finish();
ROLLBACK;
