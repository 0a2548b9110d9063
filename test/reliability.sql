-- Regression tests for the bugs test/random_ops.py found (issue 7).
BEGIN;
SELECT plan(22);
-- Citus: its UPDATEs by id alone reach every shard; sequentially, so that the
-- same transaction may then write the reference table sla_policy (section 4).
-- (a placeholder setting, without effect, on plain PostgreSQL)
SET LOCAL citus.multi_shard_modify_mode = 'sequential';

-- 1. split() or launch_case() of a ticket that already waits on its split
--    tickets or its launched case used to be accepted: the engine's own
--    move replaced the first wait, and the ticket then waited for ever
--    (the first wait's children no longer resolved it, and a person may
--    not end an engine wait). Now refused with WI001, nothing changed.
SELECT id AS t FROM workitem.create_ticket('Launch', 'd', 'rel', 'c', 'r', NULL, true) \gset
SELECT workitem.launch_case(:t, 'First case') AS c \gset
SELECT throws_ok(format($$SELECT workitem.split(%s, ARRAY['a', 'b'])$$, :t), 'WI001', NULL,
                 'split of a ticket waiting on its launched case is refused');
SELECT throws_ok(format($$SELECT workitem.launch_case(%s, 'Second case')$$, :t), 'WI001', NULL,
                 'a second launch_case while the first case is open is refused');
SELECT is((SELECT count(*)::int FROM workitem.item WHERE parent_id = :t), 1, 'no child ticket or second case was created');
SELECT is((SELECT wait_type::text FROM workitem.item WHERE id = :t), 'case_launched', 'the ticket still waits on its case');
SELECT is((SELECT status::text FROM workitem.resolve(:c, 'completed')), 'closed', 'the case resolves (closed: no feedback window)');
-- (records compared as text: Citus reads a record of a worker's query back as
-- text, and has no input for an anonymous record)
SELECT is((SELECT (status::text, resolution::text)::text FROM workitem.item WHERE id = :t), ROW('closed'::text, 'completed'::text)::text,
          'and the ticket resolves with it (closed: no feedback window)');

SELECT id AS s FROM workitem.create_ticket('Split', 'd', 'rel', 'c', 'r', NULL, true) \gset
SELECT workitem.split(:s, ARRAY['a']) AS kids \gset
SELECT throws_ok(format($$SELECT workitem.launch_case(%s, 'Case')$$, :s), 'WI001', NULL,
                 'launch_case of a ticket waiting on its split tickets is refused');
SELECT throws_ok(format($$SELECT workitem.split(%s, ARRAY['b'])$$, :s), 'WI001', NULL,
                 'a second split while the first one waits is refused');
SELECT is((SELECT status::text FROM workitem.resolve((:'kids'::bigint[])[1], 'customer_response')), 'closed',
          'the only child resolves');
SELECT is((SELECT resolution::text FROM workitem.item WHERE id = :s), 'split_completed', 'and the split ticket completes');

-- 2. cancel() of an item that is already closed passed silently when it
--    was closed as cancelled (no column changed), dropping the reason;
--    every other change of a closed item is refused. Now WI009.
SELECT id AS k FROM workitem.create_case('Case', 'd', NULL, NULL, true) \gset
INSERT INTO workitem.item (kind, case_id, title, assignee) VALUES ('action', :k, 'Step', 'ann') RETURNING id AS a \gset
SELECT workitem.cancel(:k, 'withdrawn') \gset
SELECT throws_ok(format($$SELECT workitem.cancel(%s, 'again')$$, :a), 'WI009', NULL,
                 'cancelling an action closed by its case''s cancelling is refused');
SELECT throws_ok(format($$SELECT workitem.cancel(%s, 'again')$$, :k), 'WI009', NULL,
                 'cancelling a cancelled case again is refused');
SELECT throws_ok(format($$SELECT workitem.cancel(%s, NULL)$$, :k), 'WI009', NULL,
                 '... with no reason too');
-- A reason alone changes no column of a closed item, but asks for a change
-- that would be lost: refused by the trigger, for any operation or UPDATE.
SELECT throws_ok(format($$SELECT workitem.assign(%s, 'ann', 'hand over')$$, :a), 'WI009', NULL,
                 'assign() of a closed item to its own assignee, with a reason, is refused');
SELECT throws_ok(format($$UPDATE workitem.item SET change_reason = 'note' WHERE id = %s$$, :k), 'WI009', NULL,
                 'an UPDATE of a closed item that only gives a reason is refused');
SELECT lives_ok(format($$UPDATE workitem.item SET title = title WHERE id = %s$$, :k),
                'an UPDATE of a closed item that changes nothing, with no reason, still passes');

-- 3. An action of a draft case resolved unable_to_complete: the engine
--    moved the case to to_do, which submitted it, and a draft case with
--    no title refused that (WI002), so the action could not be resolved.
--    A draft case now stays a draft, flagged.
SELECT id AS dc FROM workitem.create_case(NULL) \gset
INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', :dc, 'Step') RETURNING id AS da \gset
SELECT is((SELECT status::text FROM workitem.resolve(:da, 'unable_to_complete', 'no supplier')), 'closed',
          'an action of an untitled draft case can be resolved unable_to_complete');
SELECT is((SELECT (status::text, needs_attention, attention_reason)::text FROM workitem.item WHERE id = :dc),
          ROW('draft'::text, true, 'no supplier'::text)::text, 'the draft case stays a draft, flagged with the reason');

-- 4. A target of months of working time is refused when written, not at
--    every submission that matches its policy.
INSERT INTO workitem.sla_policy (name) VALUES ('months') RETURNING id AS mp \gset
SELECT throws_ok(format($$ INSERT INTO workitem.sla_target (policy_id, target, working_time)
                           VALUES (%s, 'resolution', '1 month') $$, :mp),
                 '23514', NULL, 'a working time of a month is refused (23514)');
SELECT lives_ok(format($$ INSERT INTO workitem.sla_target (policy_id, target, working_time)
                          VALUES (%s, 'resolution', '40 days 2 hours') $$, :mp),
                'forty days of working time are fine');

-- 6. The clock_alarm trigger read a running clock's columns without
--    looking for NULLs, and crashed the backend on a row its table's NOT
--    NULL constraints (tested after BEFORE triggers) refuse anyway.
SELECT throws_ok($$INSERT INTO workitem.sla_clock (item_id, target, state, since, due_at)
                   VALUES (1, 'resolution', 'running', now(), now())$$, '23502', NULL,
                 'a running clock without calendar or target is refused, not a crash');
SELECT throws_ok($$INSERT INTO workitem.sla_clock (item_id, target, calendar, target_time)
                   VALUES (1, 'resolution', '24x7', '1 hour')$$, '23502', NULL,
                 'a clock without a state is refused, not a crash');

SELECT * FROM finish();
ROLLBACK;
