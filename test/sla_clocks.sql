-- The arithmetic of SLA clocks, the same for items and rows of attached
-- tables (one set of clock statements in src/sla.c): a resume after a
-- pause keeps the working time used before it (due = now + target - used),
-- and the three reopen policies: continue (the same clock, used kept),
-- reset (the same clock, used from zero, logged), new_cycle (a new clock
-- in the next cycle, the old one kept). Also the exact edge of an
-- attached row's feedback window. No timed test: inside one transaction
-- now() stands still; the working time used is set by moving the clocks'
-- start back by hand.
-- Citus: the attached tables are on every node (public, not temporary;
-- rolled back with the rest), the helpers plpgsql (Citus plans no SQL
-- function with parameters over a distributed table), called only where
-- the coordinator evaluates them (never inside a query over the tables).
BEGIN;
\ir lib/on_every_node.sql
SELECT plan(44);
-- Citus: replica mode below reaches the workers (where the triggers run)
-- only when asked to; a placeholder, without effect, elsewhere
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL workitem.actor = 'ann';

-- items: one policy per reopen policy (a category each), 24x7
INSERT INTO workitem.sla_policy (name, kind, category, reopen_policy)
VALUES ('clk continue', 'ticket', 'clk-continue', 'continue'),
       ('clk reset', 'ticket', 'clk-reset', 'reset'),
       ('clk new', 'ticket', 'clk-new', 'new_cycle');
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, t, w FROM workitem.sla_policy,
       (VALUES ('resolution', interval '4 hours'), ('first_response', interval '1 hour')) v(t, w)
 WHERE name LIKE 'clk %';
INSERT INTO workitem.category_config (kind, category, feedback_window)
VALUES ('ticket', 'clk-continue', '1 day'), ('ticket', 'clk-reset', '1 day'), ('ticket', 'clk-new', '1 day');

CREATE FUNCTION pg_temp.iclock(i bigint, t text DEFAULT 'resolution') RETURNS workitem.sla_clock
    LANGUAGE plpgsql AS $$
DECLARE c workitem.sla_clock;
BEGIN
    SELECT * INTO c FROM workitem.sla_clock WHERE item_id = i AND target = t ORDER BY cycle DESC LIMIT 1;
    RETURN c;
END $$;
-- an hour of work before now: the running clocks' period started an hour
-- earlier (by IMMUTABLE steps: Citus refuses a STABLE timestamptz - interval
-- on a column in an UPDATE; in UTC, an hour is an hour)
CREATE FUNCTION pg_temp.iwork(i bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workitem.sla_clock SET since = ((since AT TIME ZONE 'UTC') - interval '1 hour') AT TIME ZONE 'UTC',
           started_at = ((started_at AT TIME ZONE 'UTC') - interval '1 hour') AT TIME ZONE 'UTC'
     WHERE item_id = i AND state = 'running';
END $$;

SELECT id AS ic FROM workitem.create_ticket('c', 'd', 'clk-continue', 'a@x', 'a@x', submit => true) \gset
SELECT id AS ir FROM workitem.create_ticket('r', 'd', 'clk-reset', 'a@x', 'a@x', submit => true) \gset
SELECT id AS inew FROM workitem.create_ticket('n', 'd', 'clk-new', 'a@x', 'a@x', submit => true) \gset

-- item: an hour used, paused by a wait, resumed: due in target - used
SELECT pg_temp.iwork(:ic);
SELECT workitem.start(:ic, 'nina');
SELECT workitem.wait_more_info(:ic, 2);
SELECT is((pg_temp.iclock(:ic)).used, interval '1 hour', 'item: the pause folds the hour worked into used');
SELECT workitem.resume(:ic);
SELECT is((pg_temp.iclock(:ic)).state::text, 'running', 'item: resumed');
SELECT is((pg_temp.iclock(:ic)).due_at, now() + interval '3 hours', 'item: due in 4 h - the hour used before the pause');
SELECT is((pg_temp.iclock(:ic)).since, now(), 'item: the new running period starts now');

-- item, continue: resolved with an hour used, reopened: the same clock, used kept
SELECT workitem.resolve(:ic, 'customer_response');
SELECT is((pg_temp.iclock(:ic)).state::text || ' ' || (pg_temp.iclock(:ic)).used, 'met 01:00:00',
          'item: resolved: met, the hour used');
SELECT workitem.reopen(:ic);
SELECT is((pg_temp.iclock(:ic)).state::text || ' ' || (pg_temp.iclock(:ic)).cycle, 'running 1',
          'item, continue: the same clock runs again');
SELECT is((pg_temp.iclock(:ic)).used, interval '1 hour', 'item, continue: the hour used is kept');
SELECT is((pg_temp.iclock(:ic)).due_at, now() + interval '3 hours', 'item, continue: due in 4 h - 1 h');
SELECT is((pg_temp.iclock(:ic, 'first_response')).state::text, 'met', 'item, continue: first response stays stopped');

-- item, reset: the same clock, from zero, and the log says so
SELECT pg_temp.iwork(:ir);
SELECT workitem.resolve(:ir, 'customer_response');
SELECT is((pg_temp.iclock(:ir)).used, interval '1 hour', 'item: resolved with an hour used');
SELECT workitem.reopen(:ir);
SELECT is((pg_temp.iclock(:ir)).state::text || ' ' || (pg_temp.iclock(:ir)).cycle, 'running 1',
          'item, reset: the same clock runs again');
SELECT is((pg_temp.iclock(:ir)).used, interval '0', 'item, reset: used from zero');
SELECT is((pg_temp.iclock(:ir)).due_at, now() + interval '4 hours', 'item, reset: due in the whole target');
-- (the clock's id and now() taken here: Citus sends a now() in a query
-- over the tables to the workers, where it is their transactions')
SELECT (pg_temp.iclock(:ir)).id AS ir_clock, now() AS t0 \gset
SELECT is((SELECT used::text || ' ' || (due_at - :'t0'::timestamptz)::text || ' ' || reason FROM workitem.sla_clock_event
            WHERE clock_id = :ir_clock ORDER BY id DESC LIMIT 1),
          '00:00:00 04:00:00 reopened', 'item, reset: the resume is logged with used 0 and the new due time');
SELECT is((SELECT count(*) FROM workitem.sla_clock WHERE item_id = :ir), 2::bigint, 'item, reset: no new clock');

-- item, new_cycle: a new clock, the old one kept; again: the cycle after
SELECT pg_temp.iwork(:inew);
SELECT workitem.resolve(:inew, 'customer_response');
SELECT workitem.reopen(:inew);
SELECT is((SELECT array_agg(cycle || ' ' || state || ' ' || used ORDER BY cycle) FROM workitem.sla_clock
            WHERE item_id = :inew AND target = 'resolution'),
          ARRAY['1 met 01:00:00', '2 running 00:00:00'], 'item, new_cycle: cycle 1 stays met, cycle 2 runs from zero');
SELECT is((pg_temp.iclock(:inew)).due_at, now() + interval '4 hours', 'item, new_cycle: due in the whole target');
SELECT is((SELECT count(*) FROM workitem.sla_clock WHERE item_id = :inew AND target = 'first_response'), 1::bigint,
          'item, new_cycle: only the resolution target starts again');
SELECT workitem.resolve(:inew, 'customer_response');
SELECT workitem.reopen(:inew);
SELECT is((SELECT array_agg(cycle || ' ' || state ORDER BY cycle) FROM workitem.sla_clock
            WHERE item_id = :inew AND target = 'resolution'),
          ARRAY['1 met', '2 met', '3 running'], 'item, new_cycle again: cycle 3');

-- attached rows: a table of kind case, its policy changed between rows
INSERT INTO workitem.sla_policy (name, kind) VALUES ('clk attached', 'case');
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, t, w FROM workitem.sla_policy,
       (VALUES ('resolution', interval '4 hours'), ('first_response', interval '1 hour')) v(t, w)
 WHERE name = 'clk attached';
CREATE TABLE public.sla_clocks_cs (id int PRIMARY KEY, status text NOT NULL);
CALL pg_temp.on_every_node('public.sla_clocks_cs');
SELECT workitem.attach('public.sla_clocks_cs', kind => 'case',
       label_map => '{"new": "to_do", "open": "in_progress", "stalled": "waiting", "solved": "resolved", "gone": "closed"}');
CREATE FUNCTION pg_temp.aclock(k text, t text DEFAULT 'resolution') RETURNS workitem.sla_clock
    LANGUAGE plpgsql AS $$
DECLARE c workitem.sla_clock;
BEGIN
    SELECT * INTO c FROM workitem.sla_clock WHERE source = 'public.sla_clocks_cs'::regclass
       AND row_key = k AND target = t ORDER BY cycle DESC LIMIT 1;
    RETURN c;
END $$;
-- (the table's OID taken here: a row's clocks name their table by the
-- coordinator's OID, and Citus sends a regclass literal of an UPDATE to the
-- workers as the table's name, where it is the worker's OID)
CREATE FUNCTION pg_temp.awork(k text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE src oid := 'public.sla_clocks_cs'::regclass::oid;
BEGIN
    UPDATE workitem.sla_clock SET since = ((since AT TIME ZONE 'UTC') - interval '1 hour') AT TIME ZONE 'UTC',
           started_at = ((started_at AT TIME ZONE 'UTC') - interval '1 hour') AT TIME ZONE 'UTC'
     WHERE source::oid = src AND row_key = k AND state = 'running';
END $$;
INSERT INTO public.sla_clocks_cs VALUES (1, 'new'), (2, 'new'), (3, 'new');

-- attached: an hour used, paused by a wait, resumed: due in target - used
SELECT pg_temp.awork('1');
UPDATE public.sla_clocks_cs SET status = 'open' WHERE id = 1;
UPDATE public.sla_clocks_cs SET status = 'stalled' WHERE id = 1;
SELECT is((pg_temp.aclock('1')).used, interval '1 hour', 'attached: the pause folds the hour worked into used');
SELECT is((pg_temp.aclock('1')).state::text, 'paused', 'attached: paused');
UPDATE public.sla_clocks_cs SET status = 'open' WHERE id = 1;
SELECT is((pg_temp.aclock('1')).state::text, 'running', 'attached: resumed');
SELECT is((pg_temp.aclock('1')).used, interval '1 hour', 'attached: used kept by the resume');
SELECT is((pg_temp.aclock('1')).due_at, now() + interval '3 hours', 'attached: due in 4 h - the hour used before the pause');
SELECT is((pg_temp.aclock('1')).since, now(), 'attached: the new running period starts now');

-- attached, continue
UPDATE public.sla_clocks_cs SET status = 'solved' WHERE id = 1;
SELECT is((pg_temp.aclock('1')).state::text || ' ' || (pg_temp.aclock('1')).used, 'met 01:00:00',
          'attached: resolved: met, the hour used');
UPDATE public.sla_clocks_cs SET status = 'open' WHERE id = 1;
SELECT is((pg_temp.aclock('1')).state::text || ' ' || (pg_temp.aclock('1')).cycle, 'running 1',
          'attached, continue: the same clock runs again');
SELECT is((pg_temp.aclock('1')).used, interval '1 hour', 'attached, continue: the hour used is kept');
SELECT is((pg_temp.aclock('1')).due_at, now() + interval '3 hours', 'attached, continue: due in 4 h - 1 h');
SELECT is((pg_temp.aclock('1', 'first_response')).state::text, 'met', 'attached, continue: first response stays stopped');

-- attached, reset
UPDATE workitem.sla_policy SET reopen_policy = 'reset' WHERE name = 'clk attached';
SELECT pg_temp.awork('2');
UPDATE public.sla_clocks_cs SET status = 'solved' WHERE id = 2;
SELECT is((pg_temp.aclock('2')).used, interval '1 hour', 'attached: resolved with an hour used');
UPDATE public.sla_clocks_cs SET status = 'open' WHERE id = 2;
SELECT is((pg_temp.aclock('2')).state::text || ' ' || (pg_temp.aclock('2')).cycle, 'running 1',
          'attached, reset: the same clock runs again');
SELECT is((pg_temp.aclock('2')).used, interval '0', 'attached, reset: used from zero');
SELECT is((pg_temp.aclock('2')).due_at, now() + interval '4 hours', 'attached, reset: due in the whole target');
SELECT (pg_temp.aclock('2')).id AS a2_clock \gset
SELECT is((SELECT used::text || ' ' || (due_at - :'t0'::timestamptz)::text || ' ' || reason FROM workitem.sla_clock_event
            WHERE clock_id = :a2_clock ORDER BY id DESC LIMIT 1),
          '00:00:00 04:00:00 reopened', 'attached, reset: the resume is logged with used 0 and the new due time');

-- attached, new_cycle
UPDATE workitem.sla_policy SET reopen_policy = 'new_cycle' WHERE name = 'clk attached';
SELECT pg_temp.awork('3');
UPDATE public.sla_clocks_cs SET status = 'solved' WHERE id = 3;
UPDATE public.sla_clocks_cs SET status = 'open' WHERE id = 3;
SELECT is((SELECT array_agg(cycle || ' ' || state || ' ' || used ORDER BY cycle) FROM workitem.sla_clock
            WHERE source = 'public.sla_clocks_cs'::regclass AND row_key = '3' AND target = 'resolution'),
          ARRAY['1 met 01:00:00', '2 running 00:00:00'], 'attached, new_cycle: cycle 1 stays met, cycle 2 runs from zero');
SELECT is((pg_temp.aclock('3')).due_at, now() + interval '4 hours', 'attached, new_cycle: due in the whole target');
SELECT is((SELECT count(*) FROM workitem.sla_clock WHERE source = 'public.sla_clocks_cs'::regclass AND row_key = '3'
            AND target = 'first_response'), 1::bigint, 'attached, new_cycle: only the resolution target starts again');
UPDATE public.sla_clocks_cs SET status = 'solved' WHERE id = 3;
UPDATE public.sla_clocks_cs SET status = 'open' WHERE id = 3;
SELECT is((SELECT array_agg(cycle || ' ' || state ORDER BY cycle) FROM workitem.sla_clock
            WHERE source = 'public.sla_clocks_cs'::regclass AND row_key = '3' AND target = 'resolution'),
          ARRAY['1 met', '2 met', '3 running'], 'attached, new_cycle again: cycle 3');
-- a row's clocks are its own: the other rows' clocks untouched by row 3's cycles
SELECT is((SELECT max(cycle) FROM workitem.sla_clock WHERE source = 'public.sla_clocks_cs'::regclass AND row_key IN ('1', '2')),
          1, 'attached: the other rows keep cycle 1');

-- the feedback window's edge: a reopen at resolved + window exactly is
-- inside, one microsecond later is over (WI007)
CREATE TABLE public.sla_clocks_fw (id int PRIMARY KEY, status text NOT NULL);
CALL pg_temp.on_every_node('public.sla_clocks_fw');
SELECT workitem.attach('public.sla_clocks_fw', feedback_window => '2 days',
       label_map => '{"new": "to_do", "open": "in_progress", "solved": "resolved", "gone": "closed"}');
INSERT INTO public.sla_clocks_fw VALUES (1, 'new'), (2, 'new');
UPDATE public.sla_clocks_fw SET status = 'solved';
SET LOCAL session_replication_role = replica;
UPDATE workitem.event SET at = now() - interval '2 days' WHERE source = 'public.sla_clocks_fw'::regclass AND row_key = '1';
UPDATE workitem.event SET at = now() - interval '2 days 0.000001 seconds' WHERE source = 'public.sla_clocks_fw'::regclass AND row_key = '2';
RESET session_replication_role;
SELECT lives_ok($$UPDATE public.sla_clocks_fw SET status = 'open' WHERE id = 1$$, 'resolved exactly 2 days ago, window 2 days: reopened');
SELECT is((SELECT status FROM public.sla_clocks_fw WHERE id = 1), 'open', '... the row is open');
SELECT throws_ok($$UPDATE public.sla_clocks_fw SET status = 'open' WHERE id = 2$$, 'WI007', NULL,
                 'resolved 2 days and 1 microsecond ago: the reopen is refused');
SELECT is((SELECT status FROM public.sla_clocks_fw WHERE id = 2), 'solved', '... the row stays resolved');

SELECT * FROM finish();
ROLLBACK;
