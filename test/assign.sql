-- assign(id, resource, reason): reassigning work in progress puts it back
-- to to_do and keeps the reason in the log (spec: "the reason is kept");
-- the two-argument call of 1.0.0 still works. Assigning a to_do item, or
-- in_progress work to its own assignee, moves nothing.
BEGIN;
SELECT plan(11);
SET LOCAL workitem.actor = 'agent1';

CREATE TEMP TABLE t AS
SELECT (workitem.create_ticket('Reassign', 'Who owns it', 'network', 'r@x', 'r@x', submit => true)).id AS id;
CREATE FUNCTION pg_temp.t() RETURNS bigint LANGUAGE sql AS $$ SELECT id FROM t $$;
-- the id as a psql variable too, for queries over workitem.item (on Citus the
-- coordinator pushes those to the workers, where pg_temp.t() does not exist)
SELECT id AS t FROM t \gset

SELECT is((SELECT status FROM workitem.start(pg_temp.t())), 'in_progress'::workitem.status, 'started');
SELECT is((SELECT row(status, assignee)::text FROM workitem.assign(pg_temp.t(), 'agent3', 'agent1 is on leave')),
          row('to_do'::workitem.status, 'agent3')::text, 'reassigned work in progress goes back to to_do');
SELECT results_eq(
    $$ SELECT what, old_value, new_value, reason FROM workitem.history(pg_temp.t())
        WHERE what IN ('status', 'assignee') ORDER BY id DESC LIMIT 2 $$,
    $$ VALUES ('assignee', 'agent1', 'agent3', 'agent1 is on leave'),
              ('status', 'in_progress', 'to_do', 'agent1 is on leave') $$,
    'both the assignee and the status change carry the reason');
SELECT is((SELECT assignee FROM workitem.assign(pg_temp.t(), 'agent4')), 'agent4', 'the reason is optional');
SELECT is((SELECT reason FROM workitem.history(pg_temp.t()) WHERE what = 'assignee' ORDER BY id DESC LIMIT 1),
          NULL, 'and logged as NULL when not given');
SELECT throws_ok($$ SELECT workitem.assign(pg_temp.t(), NULL, 'why') $$, '22004', NULL, 'a NULL resource is refused');
SELECT throws_ok($$ SELECT workitem.assign(999999999, 'x', 'why') $$, 'WI404', NULL, 'an unknown item is refused');
SELECT is((SELECT assignee FROM workitem.item WHERE id = :t), 'agent4', 'the refusals changed nothing');

-- Only work in progress goes back: assigning a to_do item leaves it to_do,
-- and assigning in_progress work to the resource that has it is no reassignment
SELECT is((SELECT row(status, assignee)::text FROM workitem.assign(pg_temp.t(), 'agent5')),
          row('to_do'::workitem.status, 'agent5')::text, 'assigning a to_do item leaves it to_do');
CREATE TEMP TABLE t2 AS
SELECT (workitem.create_ticket('Keep', 'Still mine', 'network', 'r@x', 'r@x', submit => true)).id AS id;
SELECT is((SELECT row(status, assignee)::text FROM t2, LATERAL workitem.start(t2.id)),
          row('in_progress'::workitem.status, 'agent1')::text, 'agent1 starts the second ticket');
SELECT is((SELECT row(status, assignee)::text FROM t2, LATERAL workitem.assign(t2.id, 'agent1', 'still mine')),
          row('in_progress'::workitem.status, 'agent1')::text,
          'assigning in_progress work to its own assignee leaves it in_progress');

SELECT * FROM finish();
ROLLBACK;
