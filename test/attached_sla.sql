-- SLA of attached rows (issue 15): the table's trigger keeps a row's
-- clocks in workitem.sla_clock (item_id NULL, source and row_key) as the
-- item trigger keeps an item's: started at creation, first response at the
-- first move out of to_do, paused while waiting, stopped at resolved
-- (met or missed), resumed or a new cycle on reopen, stopped by DELETE;
-- run_timers() fires their warnings and breaches as events of the row.
-- No timed test: past times are set in the clocks by hand, future ones
-- given to run_timers(at).
BEGIN;
\ir lib/on_every_node.sql
SELECT plan(55);
SET LOCAL workitem.actor = 'ann';
INSERT INTO workitem.sla_policy (name, kind) VALUES ('attached tickets', 'ticket');
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, t, w FROM workitem.sla_policy,
       (VALUES ('resolution', interval '4 hours'), ('first_response', interval '1 hour')) v(t, w)
 WHERE name = 'attached tickets';
-- (not a temporary table: on Citus it is on every node; rolled back with the rest)
CREATE TABLE public.asla_desk (id int PRIMARY KEY, status text NOT NULL);
CALL pg_temp.on_every_node('public.asla_desk');
SELECT workitem.attach('public.asla_desk',
       label_map => '{"new": "to_do", "open": "in_progress", "stalled": "waiting",
                      "parked": {"status": "waiting", "wait_type": "follow_up"},
                      "solved": "resolved", "gone": "closed"}');
-- (plpgsql: Citus plans no SQL function with parameters over a distributed table)
CREATE FUNCTION pg_temp.clock(k text, t text DEFAULT 'resolution') RETURNS workitem.sla_clock
    LANGUAGE plpgsql AS $$
DECLARE c workitem.sla_clock;
BEGIN
    SELECT * INTO c FROM workitem.sla_clock WHERE source = 'public.asla_desk'::regclass
       AND row_key = k AND target = t ORDER BY cycle DESC LIMIT 1;
    RETURN c;
END $$;

-- creation: both targets start, due in the policy's calendar (24x7)
INSERT INTO public.asla_desk VALUES (1, 'new'), (2, 'new'), (3, 'new'), (4, 'open');
SELECT is((SELECT count(*) FROM workitem.sla_clock WHERE source = 'public.asla_desk'::regclass AND row_key = '1'
           AND item_id IS NULL AND state = 'running' AND cycle = 1), 2::bigint,
          'a new row gets a running clock per target of the policy matching the table''s kind');
SELECT is((pg_temp.clock('1')).due_at, now() + interval '4 hours', 'resolution due 4 h after creation');
SELECT is((pg_temp.clock('1', 'first_response')).alarm_at, now() + interval '30 minutes',
          'alarm_at kept: the first warning (50 % of 1 h)');
SELECT is((SELECT count(*) FROM workitem.sla_clock_event WHERE source = 'public.asla_desk'::regclass
           AND row_key = '1' AND event = 'start' AND item_id IS NULL), 2::bigint, 'the starts are in the clock log');
-- a row created at work has given its first response
SELECT is((pg_temp.clock('4', 'first_response')).state, 'met', 'created in progress: first response met at once');

-- first response: the first move out of to_do
UPDATE public.asla_desk SET status = 'stalled' WHERE id = 1;
SELECT is((pg_temp.clock('1', 'first_response')).state, 'met', 'to_do -> waiting is the first response: met');
SELECT is((SELECT reason FROM workitem.sla_clock_event WHERE clock_id = (pg_temp.clock('1', 'first_response')).id
           AND event = 'met'), 'first move out of to_do (waiting)', '... logged with its reason');
-- waiting (no wait type in the label: as more_info) pauses the resolution clock
SELECT is((pg_temp.clock('1')).state, 'paused', 'waiting: the resolution clock is paused');
SELECT is((pg_temp.clock('1')).due_at, NULL, '... with no due time');
SELECT is((pg_temp.clock('1')).alarm_at, NULL, '... and no alarm');
-- a wait type the policy does not stop for leaves it running
UPDATE public.asla_desk SET status = 'parked' WHERE id = 2;
SELECT is((pg_temp.clock('2')).state, 'running', 'waiting with a wait type the policy ignores (follow_up): running');
UPDATE public.asla_desk SET status = 'stalled' WHERE id = 2;
SELECT is((pg_temp.clock('2')).state, 'paused', 'the label''s wait type changes to one that stops it: paused');

-- 1: an hour waiting, by hand; back to work: resumed, due an hour later
UPDATE workitem.sla_clock SET paused_at = paused_at - interval '1 hour', started_at = started_at - interval '1 hour'
 WHERE source = 'public.asla_desk'::regclass AND row_key = '1';
UPDATE public.asla_desk SET status = 'open' WHERE id = 1;
SELECT is((pg_temp.clock('1')).state, 'running', 'the wait ends: running again');
SELECT is((pg_temp.clock('1')).due_at, now() + interval '4 hours', 'the working time used before the wait is kept (none)');
UPDATE public.asla_desk SET status = 'solved' WHERE id = 1;
SELECT is((pg_temp.clock('1')).state, 'met', 'resolved within the target: met');
SELECT is((pg_temp.clock('1')).stopped_at, now(), '... stopped at the move');

-- 3: five hours of work, by hand; resolved late: missed
UPDATE workitem.sla_clock SET since = since - interval '5 hours', started_at = started_at - interval '5 hours'
 WHERE source = 'public.asla_desk'::regclass AND row_key = '3' AND target = 'resolution';
UPDATE public.asla_desk SET status = 'solved' WHERE id = 3;
SELECT is((pg_temp.clock('3')).state, 'missed', 'resolved after the target: missed');
SELECT is((pg_temp.clock('3')).used, interval '5 hours', '... with the working time used');

-- run_timers fires warnings and breaches of attached rows as events of the row
INSERT INTO public.asla_desk VALUES (5, 'new');
SELECT ok(workitem.run_timers(now() + interval '3 hours') >= 1, 'run_timers fires the alarms of an attached row');
SELECT is((SELECT array_agg(what || ' ' || new_value ORDER BY id) FROM workitem.history('public.asla_desk', '5')
           WHERE what LIKE 'sla%' AND reason LIKE 'first_response%'),
          ARRAY['sla_warning 50%', 'sla_warning 75%', 'sla_breach ' || (now() + interval '1 hour')::text],
          'first response: two warnings and a breach, in the row''s history');
SELECT is((SELECT array_agg(what || ' ' || new_value ORDER BY id) FROM workitem.history('public.asla_desk', '5')
           WHERE what LIKE 'sla%' AND reason LIKE 'resolution%'),
          ARRAY['sla_warning 50%', 'sla_warning 75%'], 'resolution: its two warnings (due in 4 h: no breach yet)');
SELECT is((SELECT count(*) FROM workitem.sla_clock_event WHERE source = 'public.asla_desk'::regclass AND row_key = '5'
           AND event IN ('warning', 'breach')), 5::bigint, 'the warnings and the breach are in the clock log');
SELECT is(workitem.run_timers(now() + interval '3 hours'), 0, 'each fires once');
SELECT is((pg_temp.clock('5', 'first_response')).breached_at, now() + interval '1 hour', 'the breach is kept on the clock');

-- reopen: continue (the policy's default) resumes the resolution clock
UPDATE public.asla_desk SET status = 'new' WHERE id = 1;
SELECT is((pg_temp.clock('1')).state || ' ' || (pg_temp.clock('1')).cycle, 'running 1',
          'reopened under continue: the same clock runs again');
-- under new_cycle a new one starts
UPDATE workitem.sla_policy SET reopen_policy = 'new_cycle' WHERE name = 'attached tickets';
UPDATE public.asla_desk SET status = 'open' WHERE id = 3;
SELECT is((pg_temp.clock('3')).state || ' ' || (pg_temp.clock('3')).cycle, 'running 2',
          'reopened under new_cycle: a resolution clock of cycle 2 runs');
SELECT is((SELECT state FROM workitem.sla_clock WHERE source = 'public.asla_desk'::regclass AND row_key = '3'
           AND target = 'resolution' AND cycle = 1), 'missed', '... the first cycle stays missed');

-- the views read the kept clocks
SELECT is((SELECT state || ' ' || current_status FROM workitem.attached_sla WHERE row_key = '3' AND target = 'resolution'),
          'running in_progress', 'attached_sla: the current cycle and the row''s status');
SELECT is((SELECT count(*) FROM workitem.item_sla WHERE source = 'public.asla_desk'::regclass AND item_id IS NULL),
          10::bigint, 'item_sla: a row per attached row and target, current cycle');

-- DELETE stops the row's clocks; they stay, as its log does
DELETE FROM public.asla_desk WHERE id = 2;
SELECT is((SELECT string_agg(state || ' ' || ended_by, ', ' ORDER BY target) FROM workitem.attached_sla WHERE row_key = '2'),
          'met deleted, met deleted', 'DELETE: the clocks stop (met: within the target) and stay');
SELECT is((SELECT reason FROM workitem.sla_clock_event WHERE source = 'public.asla_desk'::regclass AND row_key = '2'
           AND target = 'resolution' ORDER BY id DESC LIMIT 1), 'row deleted', '... the clock log says why');

-- a target that starts at assignment waits for the assignee column; an
-- observed row may go from resolved straight to a wait: paused
INSERT INTO workitem.sla_policy (name, kind) VALUES ('attached actions', 'action');
INSERT INTO workitem.sla_target (policy_id, target, working_time, clock_start)
SELECT id, 'resolution', interval '2 hours', 'assignment' FROM workitem.sla_policy WHERE name = 'attached actions';
CREATE TABLE pg_temp.tasks (id int PRIMARY KEY, status text NOT NULL, owner int NOT NULL DEFAULT 0);
SELECT workitem.attach('pg_temp.tasks', kind => 'action', mode => 'observe',
                       assignee_column => 'owner', assignee_nobody => '0');
INSERT INTO pg_temp.tasks VALUES (1, 'to_do', 0);
SELECT is((SELECT state FROM workitem.sla_clock WHERE source = 'pg_temp.tasks'::regclass), 'pending',
          'clock_start assignment, created with nobody assigned: pending');
UPDATE pg_temp.tasks SET owner = 7;
SELECT is((SELECT state || ' ' || (due_at = now() + interval '2 hours') FROM workitem.sla_clock
           WHERE source = 'pg_temp.tasks'::regclass), 'running true', 'the assignee column set: the clock starts');
UPDATE pg_temp.tasks SET status = 'resolved';
UPDATE pg_temp.tasks SET status = 'waiting';
SELECT is((SELECT state FROM workitem.sla_clock WHERE source = 'pg_temp.tasks'::regclass), 'paused',
          'observed resolved -> waiting: reopened (continue) and paused at once');

-- a table whose kind no policy matches gets no clock
CREATE TABLE pg_temp.jobs (id int PRIMARY KEY, status text NOT NULL);
SELECT workitem.attach('pg_temp.jobs', kind => 'case');
INSERT INTO pg_temp.jobs VALUES (1, 'to_do');
UPDATE pg_temp.jobs SET status = 'in_progress';
SELECT is((SELECT count(*) FROM workitem.sla_clock WHERE source = 'pg_temp.jobs'::regclass), 0::bigint,
          'no policy for the kind: no clock');

-- The feedback window (attach()'s feedback_window): a reopen after
-- resolved + window is refused (WI007) when enforced, a violation when
-- observed, allowed within; when the row was resolved comes from its log
-- (moved back by hand here).
CREATE TABLE pg_temp.fb (id int PRIMARY KEY, status text NOT NULL);
SELECT workitem.attach('pg_temp.fb', feedback_window => '2 days',
       label_map => '{"new": "to_do", "open": "in_progress", "solved": "resolved", "gone": "closed"}');
INSERT INTO pg_temp.fb VALUES (1, 'new'), (2, 'new'), (3, 'new');
UPDATE pg_temp.fb SET status = 'solved';
SET LOCAL session_replication_role = replica;
UPDATE workitem.event SET at = at - interval '1 day' WHERE source = 'pg_temp.fb'::regclass AND row_key = '1';
UPDATE workitem.event SET at = at - interval '3 days' WHERE source = 'pg_temp.fb'::regclass AND row_key IN ('2', '3');
RESET session_replication_role;
SELECT lives_ok($$UPDATE pg_temp.fb SET status = 'open' WHERE id = 1$$, 'resolved a day ago, window 2 days: reopened');
SELECT throws_ok($$UPDATE pg_temp.fb SET status = 'open' WHERE id = 2$$, 'WI007',
                 format('%s.fb row 2: "solved" -> "open": the feedback window of this ticket closed at %s (resolved at %s, window 2 days)',
                        pg_my_temp_schema()::regnamespace, now() - interval '1 day', now() - interval '3 days'),
                 'resolved 3 days ago: the reopen is refused with WI007, naming the table, the row, the labels and the end');
SELECT is((SELECT status FROM pg_temp.fb WHERE id = 2), 'solved', '... the row stays resolved');
SELECT is((SELECT count(*) FROM workitem.history('pg_temp.fb', '2') WHERE what IN ('status', 'violation')), 1::bigint,
          '... and nothing is logged but its resolve');
SELECT lives_ok($$UPDATE pg_temp.fb SET status = 'gone' WHERE id = 2$$, 'closing it is allowed');
-- the same label, with its row resolved long ago: not a reopen, not read
SELECT lives_ok($$UPDATE pg_temp.fb SET status = 'solved' WHERE id = 3$$, 'an update that is no reopen is not checked');
-- observed: a violation naming the rule, and the move goes through
SELECT workitem.attach('pg_temp.fb', feedback_window => '2 days', mode => 'observe',
       label_map => '{"new": "to_do", "open": "in_progress", "solved": "resolved", "gone": "closed"}');
UPDATE pg_temp.fb SET status = 'new' WHERE id = 3;
SELECT is((SELECT status FROM pg_temp.fb WHERE id = 3), 'new', 'observed: the late reopen goes through');
SELECT matches((SELECT reason FROM workitem.history('pg_temp.fb', '3') WHERE what = 'violation'),
               '^feedback_window: "solved" -> "new": the feedback window of this ticket closed at ',
               '... logged as a violation of the rule feedback_window');
SELECT is((SELECT new_value FROM workitem.history('pg_temp.fb', '3') WHERE what = 'status' ORDER BY id DESC LIMIT 1),
          'to_do', '... and as the move it is');
-- enforce_only naming the rule enforces it alone
SELECT workitem.attach('pg_temp.fb', feedback_window => '0', enforce_only => '{feedback_window}',
       label_map => '{"new": "to_do", "open": "in_progress", "solved": "resolved", "gone": "closed"}');
UPDATE pg_temp.fb SET status = 'solved' WHERE id = 1;
SET LOCAL session_replication_role = replica;
UPDATE workitem.event SET at = at - interval '1 second' WHERE source = 'pg_temp.fb'::regclass AND row_key = '1';
RESET session_replication_role;
SELECT throws_ok($$UPDATE pg_temp.fb SET status = 'open' WHERE id = 1$$, 'WI007', NULL,
                 'enforce_only => {feedback_window}, a window of 0: a reopen later is refused');
-- no window: as before
SELECT workitem.attach('pg_temp.fb',
       label_map => '{"new": "to_do", "open": "in_progress", "solved": "resolved", "gone": "closed"}');
SELECT lives_ok($$UPDATE pg_temp.fb SET status = 'open' WHERE id = 1$$, 'a table attached with no window reopens at any time');
SELECT throws_ok($$SELECT workitem.attach('pg_temp.fb', feedback_window => '-1 day')$$, '22023', NULL,
                 'a negative window is refused');
SELECT throws_ok($$SELECT workitem.attach('pg_temp.fb', feedback_window => '1 day', log_events => false)$$, '22023', NULL,
                 'a window without the log it is read from is refused');

-- status_durations: an attached row's time in each status, from its log,
-- in the calendar of its clocks' policy (24x7 without one); items' rows
-- as before. Times of the log set by hand.
INSERT INTO workitem.calendar (name, time_zone) VALUES ('desk-office', 'UTC');
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT 'desk-office', d, '09:00', '17:00' FROM generate_series(1, 5) d;
INSERT INTO workitem.sla_policy (name, kind, calendar) VALUES ('attached cases', 'case', 'desk-office');
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, 'resolution', interval '8 hours' FROM workitem.sla_policy WHERE name = 'attached cases';
CREATE TABLE pg_temp.cases (id int PRIMARY KEY, status text NOT NULL);
SELECT workitem.attach('pg_temp.cases', kind => 'case');
INSERT INTO pg_temp.cases VALUES (1, 'to_do'), (2, 'to_do');
UPDATE pg_temp.cases SET status = 'in_progress';
UPDATE pg_temp.cases SET status = 'resolved' WHERE id = 1;
DELETE FROM pg_temp.cases WHERE id = 2;
-- Monday 2026-11-23 08:00 created, 12:00 in progress, Tuesday 10:00 resolved (row 2: deleted then)
SET LOCAL session_replication_role = replica;
UPDATE workitem.event e SET at = v.at
  FROM (VALUES ('created', timestamptz '2026-11-23 08:00Z'), ('status:in_progress', '2026-11-23 12:00Z'),
               ('status:resolved', '2026-11-24 10:00Z'), ('deleted', '2026-11-24 10:00Z')) v(w, at)
 WHERE e.source = 'pg_temp.cases'::regclass AND v.w = CASE WHEN e.what = 'status' THEN 'status:' || e.new_value ELSE e.what END;
RESET session_replication_role;
SELECT results_eq($$SELECT row_key COLLATE "default", status, times_entered, wall_clock, working_time, source_name = 'pg_temp.cases'::regclass::text
                    FROM workitem.status_durations WHERE source = 'pg_temp.cases'::regclass AND status <> 'resolved'
                    ORDER BY row_key, status$$,
                  $$VALUES ('1', 'in_progress', 1::bigint, interval '22 hours', interval '6 hours', true),
                           ('1', 'to_do', 1, interval '4 hours', interval '3 hours', true),
                           ('2', 'in_progress', 1, interval '22 hours', interval '6 hours', true),
                           ('2', 'to_do', 1, interval '4 hours', interval '3 hours', true)$$,
                  'status_durations: an attached row''s time per status, wall clock and in its policy''s calendar; a deletion ends it');
SELECT is((SELECT count(*) FROM workitem.status_durations WHERE source = 'pg_temp.cases'::regclass AND row_key = '2'),
          2::bigint, '... a deleted row has no time after its deletion');
SELECT is((SELECT wall_clock FROM workitem.status_durations WHERE source = 'pg_temp.cases'::regclass AND row_key = '1'
           AND status = 'resolved'), now() - timestamptz '2026-11-24 10:00Z', '... the current status up to now');
SELECT is((SELECT count(*) FROM workitem.status_durations WHERE source = 'pg_temp.jobs'::regclass
           AND working_time = wall_clock AND item_id IS NULL AND times_entered = 1), 2::bigint,
          '... a row without clocks counts in 24x7');
-- items: as before, and a filter on one item reads its log through its index alone
SELECT id AS it FROM workitem.create_ticket('T', 'd', 'c', 'p', 'r', NULL, true) \gset
SELECT 1 FROM workitem.start(:it);
SELECT results_eq(format('SELECT status, times_entered, source, row_key COLLATE "default" FROM workitem.status_durations WHERE item_id = %s ORDER BY status', :it),
                  $$VALUES ('in_progress', 1::bigint, NULL::regclass, NULL::text), ('to_do', 1, NULL, NULL)$$,
                  'status_durations: an item''s rows as before (source and row_key NULL)');
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text; r text := '';
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP r := r || l || E'\n'; END LOOP;
  RETURN r;
END $$;
SET LOCAL enable_seqscan = off;
SELECT ok(pg_temp.plan_of(format('SELECT * FROM workitem.status_durations WHERE item_id = %s', :it))
          ~ 'event_item_idx[^\n]*\n\s+Index Cond: \(item_id = '
          AND pg_temp.plan_of(format('SELECT * FROM workitem.status_durations WHERE item_id = %s', :it)) !~ 'event_row_idx|sla_clock',
          'one item: its log through event_item_idx, nothing of attached rows');
SELECT ok(pg_temp.plan_of($$SELECT * FROM workitem.status_durations WHERE source = 'pg_temp.cases'::regclass$$)
          ~ 'event_row_idx[^\n]*\n\s+Index Cond: \(\(source\)::oid = '
          AND pg_temp.plan_of($$SELECT * FROM workitem.status_durations WHERE source = 'pg_temp.cases'::regclass$$) !~ 'event_item_idx',
          'one table: its rows'' log through event_row_idx, no item');
RESET enable_seqscan;

SELECT * FROM finish();
ROLLBACK;
