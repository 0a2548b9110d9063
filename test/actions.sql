-- workitem.create_action(case_id, title, description, assignee, priority):
-- the new action is in to_do; refused while its case waits, is resolved or
-- closed (WI008, naming the case and its status), for an unknown case
-- (WI404) or a NULL one (22004); the same rules hold for a plain INSERT.
BEGIN;
SELECT plan(32);
SET LOCAL workitem.actor = 'dora';

CREATE TEMP TABLE c AS
SELECT (workitem.create_case('Onboard ACME', 'Set up the new customer', 'onboarding', NULL, true)).id AS id;
CREATE FUNCTION pg_temp.case_id() RETURNS bigint LANGUAGE sql AS $$ SELECT id FROM c $$;
-- the id as a psql variable too, for queries over workitem.item (on Citus the
-- coordinator pushes those to the workers, where pg_temp.case_id() does not exist)
SELECT id AS case_id FROM c \gset

-- Created in to_do, with what was passed
CREATE TEMP TABLE a AS
SELECT * FROM workitem.create_action(pg_temp.case_id(), 'Create the account', 'In the billing system', 'erin', 'high');
SELECT is((SELECT kind FROM a), 'action'::workitem.kind, 'create_action returns an action');
SELECT is((SELECT status FROM a), 'to_do'::workitem.status, 'the new action is in to_do');
SELECT is((SELECT case_id FROM a), pg_temp.case_id(), 'it belongs to the case');
SELECT is((SELECT row(title, description, assignee, priority)::text FROM a),
          row('Create the account', 'In the billing system', 'erin', 'high')::text,
          'title, description, assignee and priority are stored');
SELECT isnt((SELECT submitted_at FROM a), NULL, 'an action is submitted when created');
SELECT is((SELECT row(i.status, i.title)::text FROM workitem.item i JOIN a USING (id)),
          row('to_do', 'Create the account')::text, 'the returned row is the stored row');
SELECT is((SELECT row(what, new_value, actor)::text FROM workitem.history((SELECT id FROM a))),
          row('created', 'action to_do', 'dora')::text, 'its creation is logged, by the actor');
SELECT is((SELECT status FROM workitem.create_action(pg_temp.case_id(), 'Minimal')),
          'to_do'::workitem.status, 'description, assignee and priority are optional');
SELECT is((SELECT assignee FROM workitem.create_action(pg_temp.case_id(), 'Nobody yet')),
          NULL, 'without an assignee the action is unassigned');

-- The case can be in progress
SELECT is((SELECT status FROM workitem.start(pg_temp.case_id(), 'erin')), 'in_progress'::workitem.status, 'set-up: the case is started');
SELECT is((SELECT status FROM workitem.create_action(pg_temp.case_id(), 'While in progress')),
          'to_do'::workitem.status, 'an action can be added to a case in progress');

-- Refused while the case waits
SELECT is((SELECT wait_type FROM workitem.pause(pg_temp.case_id(), 'customer on holiday')), 'paused'::workitem.wait_type, 'set-up: the case is paused');
SELECT throws_ok(format($$SELECT workitem.create_action(%s, 'Too early')$$, pg_temp.case_id()),
                 'WI008', format('case %s is waiting: no new action can be created for it', pg_temp.case_id()),
                 'refused while the case waits (paused)');
SELECT throws_ok(format($$INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', %s, 'x')$$, pg_temp.case_id()),
                 'WI008', NULL, 'a plain INSERT is refused the same way');
SELECT is((SELECT count(*)::int FROM workitem.item WHERE case_id = :case_id), 4,
          'nothing was added while the case waits');
-- Actions already created can still be completed while the case waits
SELECT is((SELECT status FROM workitem.resolve((SELECT id FROM a), 'completed')),
          'closed'::workitem.status, 'an existing action is completed (and closed) while the case waits');
SELECT is((SELECT status FROM workitem.resume(pg_temp.case_id())), 'in_progress'::workitem.status, 'set-up: the case is resumed');
SELECT is((SELECT status FROM workitem.create_action(pg_temp.case_id(), 'After resuming')),
          'to_do'::workitem.status, 'accepted again once the case is resumed');
SELECT is((SELECT wait_type FROM workitem.wait_more_info(pg_temp.case_id(), 2)), 'more_info'::workitem.wait_type, 'set-up: the case waits for more information');
SELECT throws_ok(format($$SELECT workitem.create_action(%s, 'Too early')$$, pg_temp.case_id()),
                 'WI008', format('case %s is waiting: no new action can be created for it', pg_temp.case_id()),
                 'refused while the case waits for more information');
SELECT is((SELECT status FROM workitem.resume(pg_temp.case_id())), 'in_progress'::workitem.status, 'set-up: the case is resumed again');

-- Refused once the case is resolved, and once it is closed
UPDATE workitem.item SET feedback_window = '5 days' WHERE id = :case_id;
SELECT is((SELECT status FROM workitem.resolve(pg_temp.case_id(), 'completed')), 'resolved'::workitem.status,
          'set-up: the case is resolved');
SELECT throws_ok(format($$SELECT workitem.create_action(%s, 'Too late')$$, pg_temp.case_id()),
                 'WI008', format('case %s is resolved: no new action can be created for it', pg_temp.case_id()),
                 'refused while the case is resolved');
SELECT is((SELECT status FROM workitem.close(pg_temp.case_id())), 'closed'::workitem.status, 'set-up: the case is closed');
SELECT throws_ok(format($$SELECT workitem.create_action(%s, 'Too late')$$, pg_temp.case_id()),
                 'WI008', format('case %s is closed: no new action can be created for it', pg_temp.case_id()),
                 'refused once the case is closed');
CREATE TEMP TABLE c2 AS SELECT (workitem.create_case('Cancelled case', NULL, NULL, NULL, true)).id AS id;
SELECT is((SELECT resolution FROM workitem.cancel((SELECT id FROM c2), 'no longer needed')), 'cancelled'::workitem.resolution, 'set-up: the other case is cancelled');
SELECT throws_ok(format($$SELECT workitem.create_action(%s, 'x')$$, (SELECT id FROM c2)),
                 'WI008', format('case %s is closed: no new action can be created for it', (SELECT id FROM c2)),
                 'refused for a cancelled case');

-- Unknown, NULL, not a case, no title
SELECT throws_ok($$SELECT workitem.create_action(-1, 'Orphan')$$,
                 'WI404', 'case -1 of the new action does not exist', 'unknown case: WI404');
SELECT throws_ok($$SELECT workitem.create_action(NULL, 'Orphan')$$,
                 '22004', 'case_id must not be NULL', 'NULL case: 22004');
SELECT throws_ok(format($$SELECT workitem.create_action(%s, 'x')$$,
                        (workitem.create_ticket('A ticket')).id),
                 'WI008', NULL, 'a ticket is not a case');
SELECT throws_ok(format($$SELECT workitem.create_action(%s, NULL)$$,
                        (workitem.create_case('Another case', NULL, NULL, NULL, true)).id),
                 'WI002', NULL, 'an action needs a title');
-- The function is not SECURITY DEFINER; C like the other operations (its
-- SQL is schema-qualified, so it needs no pinned search_path)
SELECT is((SELECT row(prosecdef, proconfig, l.lanname)::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
           WHERE p.oid = 'workitem.create_action(bigint, text, text, text, text)'::regprocedure),
          row(false, NULL::text[], 'c')::text,
          'create_action: not SECURITY DEFINER, in C');

SELECT * FROM finish();
ROLLBACK;
