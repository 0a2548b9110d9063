-- Views for BI tools (issue 17): hours next to every interval, labels as
-- text, the day dimension and the facts per day (no gaps, a day's rows
-- read for a day), every column commented. test/odbc.py reads them
-- through psqlODBC.
-- citus: the plans of a distributed database are Citus's (its tests of
-- single-node plans are skipped there)
SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') AS citus \gset
BEGIN;
SELECT plan(22);
-- Citus: replica mode below reaches the workers (where the triggers run)
-- only when asked to; a placeholder, without effect, elsewhere
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL workitem.actor = 'ann';
SET LOCAL TimeZone = 'Europe/Paris';
INSERT INTO workitem.category_config (kind, category, feedback_window) VALUES ('ticket', 'bi', '7 days');
INSERT INTO workitem.calendar (name, time_zone) VALUES ('bi-office', 'Europe/Paris');
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT 'bi-office', d, '09:00', '17:00' FROM generate_series(1, 5) d;
-- mon: next Monday; its Tuesday is a holiday
SELECT current_date + (8 - extract(isodow FROM current_date))::int AS mon \gset
INSERT INTO workitem.calendar_holiday (calendar, day, name) VALUES ('bi-office', :'mon'::date + 1, 'Feast');
INSERT INTO workitem.sla_policy (name, category, calendar) VALUES ('bi-sla', 'bi', 'bi-office');
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, 'resolution', '1 hour' FROM workitem.sla_policy WHERE name = 'bi-sla';

-- A story over several days: the log's and the clocks' times are moved
-- back by hand, so that days differ and one day in between has nothing.
SELECT id AS a FROM workitem.create_ticket('A', 'd', 'bi', 'c', 'r', NULL, true) \gset
SELECT id AS b FROM workitem.create_ticket('B', 'd', 'bi', 'c', 'r', NULL, true) \gset
SELECT 1 FROM workitem.start(:a);
SELECT 1 FROM workitem.resolve(:a, 'customer_response');
SELECT 1 FROM workitem.start(:b);
SELECT 1 FROM workitem.resolve(:b, 'customer_response');
SET LOCAL session_replication_role = replica;
-- (timestamptz - interval is STABLE, which Citus refuses on a column in an
-- UPDATE: the same five days of the session's time zone, by IMMUTABLE steps)
UPDATE workitem.event SET at = ((at AT TIME ZONE 'Europe/Paris') - interval '5 days') AT TIME ZONE 'Europe/Paris' WHERE item_id = :a;
UPDATE workitem.sla_clock SET started_at = ((started_at AT TIME ZONE 'Europe/Paris') - interval '5 days') AT TIME ZONE 'Europe/Paris',
       stopped_at = ((stopped_at AT TIME ZONE 'Europe/Paris') - interval '5 days') AT TIME ZONE 'Europe/Paris',
       state = 'missed', used = interval '90 minutes' WHERE item_id = :a;
UPDATE workitem.sla_clock SET state = 'met', used = interval '30 minutes' WHERE item_id = :b;
RESET session_replication_role;

-- labels are text, each interval has its hours
SELECT is((SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           WHERE c.relnamespace = 'workitem'::regnamespace AND c.relkind = 'v' AND a.attnum > 0
             AND c.relname <> 'attached' AND a.atttypid::regtype::text LIKE 'workitem.%'), 0::bigint,
          'no view for BI tools has a column of an enum type');
SELECT is((SELECT array_agg(c.relname || '.' || a.attname ORDER BY 1) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           WHERE c.relnamespace = 'workitem'::regnamespace AND c.relkind = 'v' AND a.attnum > 0
             AND c.relname <> 'attached'  -- settings (feedback_window), not a view for BI tools
             AND a.atttypid = 'interval'::regtype
             AND NOT EXISTS (SELECT FROM pg_attribute h WHERE h.attrelid = c.oid AND h.atttypid = 'float8'::regtype
                             AND h.attname IN (a.attname || '_hours', replace(a.attname, 'time', 'hours'),
                                               replace(a.attname, 'duration', 'hours'), replace(a.attname, '_time', '_hours')))),
          NULL, 'every interval column of a view has its hours next to it');
SELECT is((SELECT array_agg(c.relname || '.' || a.attname ORDER BY 1) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           WHERE c.relnamespace = 'workitem'::regnamespace AND c.relkind = 'v' AND a.attnum > 0
             AND c.relname <> 'attached' AND col_description(c.oid, a.attnum) IS NULL),
          NULL, 'every column of every view for BI tools is commented');
SELECT is((SELECT count(*) FROM workitem.items i JOIN workitem.item_sla s ON s.item_id = i.id AND s.target = 'resolution'
           WHERE abs(i.age_hours - extract(epoch FROM i.age) / 3600) > 1e-9
              OR abs(i.resolution_remaining_hours - extract(epoch FROM i.resolution_remaining) / 3600) > 1e-9
              OR abs(s.used_working_hours - extract(epoch FROM s.used_working_time) / 3600) > 1e-9), 0::bigint,
          'the hours are the intervals in hours');
SELECT is((SELECT count(*) FROM workitem.items WHERE status = 'resolved' AND kind = 'ticket'), 2::bigint,
          'labels compare with untyped literals as before');

-- the day dimension
SELECT is((SELECT min(day) FROM workitem.days), (SELECT min(at)::date FROM workitem.event),
          'days starts on the day of the first log row');
SELECT is((SELECT max(day) FROM workitem.days), current_date + 366, '... and runs a year ahead');
SELECT results_eq(format($$SELECT is_working_day, working_hours, holiday FROM workitem.days
                    WHERE calendar = 'bi-office' AND day BETWEEN %L::date - 1 AND %L::date + 1 ORDER BY day$$, :'mon', :'mon'),
                  $$VALUES (false, 0::float8, NULL::text), (true, 8, NULL), (false, 0, 'Feast')$$,
                  'a Sunday has no working hours, a Monday 8, a holiday none');
SELECT results_eq(format($$SELECT weekday, weekday_name, week_start = day, is_weekend, iso_week_label ~ '^[0-9]{4}-W[0-9]{2}$',
                                  quarter = (month + 2) / 3, month_start = day - extract(day FROM day)::int + 1
                           FROM workitem.days WHERE day IN (%L::date, %L::date + 6) AND calendar = '24x7' ORDER BY day$$, :'mon', :'mon'),
                  $$VALUES (1, 'Monday', true, false, true, true, true), (7, 'Sunday', false, true, true, true, true)$$,
                  'ISO weekday, week start, weekend, week label, quarter and month start');

-- facts per day: every day, zeros included, and the same totals as the older views
SELECT is((SELECT count(*) FROM workitem.flow_per_day), (current_date - (SELECT min(at)::date FROM workitem.event) + 1)::bigint * 3,
          'flow_per_day: every day from the first to today, every kind');
SELECT set_eq($$SELECT day, kind, sum(created) c, sum(submitted) s, sum(resolved) r, sum(closed) cl, sum(reopened) re
                FROM workitem.daily_flow GROUP BY 1, 2$$,
              $$SELECT day, kind, created, submitted, resolved, closed, reopened FROM workitem.flow_per_day
                WHERE created + submitted + resolved + closed + reopened > 0$$,
              'flow_per_day: the counts of daily_flow');
SELECT is((SELECT sum(backlog_change)::bigint FROM workitem.flow_per_day),
          (SELECT count(*) FROM workitem.item WHERE status NOT IN ('draft', 'closed')),
          'the running sum of backlog_change is the open backlog');
SELECT results_eq($$SELECT day, target, met, missed, percent_met, avg_working_hours, p90_working_hours
                    FROM workitem.sla_per_day WHERE stopped > 0 ORDER BY day$$,
                  $$VALUES (current_date - 5, 'resolution', 0::bigint, 1::bigint, 0::float8, 1.5::float8, 1.5::float8),
                           (current_date, 'resolution', 1, 0, 100, 0.5, 0.5)$$,
                  'sla_per_day: met, missed, percent, average and 90th percentile in working hours, per day');
SELECT is((SELECT count(*) FROM workitem.sla_per_day), (current_date - (SELECT min(at)::date FROM workitem.event) + 1)::bigint * 2,
          'sla_per_day: every day and target');
SELECT results_eq($$SELECT s.status, sum(s.times_left)::bigint, sum(s.wall_clock_hours)::numeric(12, 6)
                    FROM workitem.status_time_per_day s GROUP BY 1 HAVING sum(s.times_left) > 0 ORDER BY 1$$,
                  $$SELECT from_status, count(*), sum(time_in_previous_hours)::numeric(12, 6) FROM workitem.transitions
                    WHERE item_id IS NOT NULL AND NOT is_creation GROUP BY 1 ORDER BY 1$$,
                  'status_time_per_day: the times in each status, from transitions');

-- on_day(at, day), the facts' test of a day, is the two comparisons with
-- day::timestamptz (in the session's TimeZone), also on the days the clocks change
SELECT is((SELECT count(*) FROM (SELECT t FROM generate_series(timestamptz '2026-03-28 20:00+01', '2026-03-30 04:00+02', '7 minutes') t
                                 UNION ALL SELECT t FROM generate_series(timestamptz '2026-10-24 20:00+02', '2026-10-26 04:00+01', '7 minutes') t
                                 UNION ALL SELECT timestamptz '2026-03-29 00:00+01' UNION ALL SELECT timestamptz '2026-10-26 00:00+01') t,
                (VALUES (date '2026-03-28'), (date '2026-03-29'), (date '2026-03-30'), (date '2026-10-25'), (date '2026-10-26')) d(day)
           WHERE workitem.on_day(t.t, d.day) IS DISTINCT FROM (t.t >= d.day::timestamptz AND t.t < (d.day + 1)::timestamptz)),
          0::bigint, 'on_day(at, day) is at >= day::timestamptz AND at < (day + 1)::timestamptz, across the changes of time');
SELECT is(workitem.on_day(NULL, current_date), NULL, 'on_day(NULL, day) is NULL');

-- one day's facts read that day's rows: through the log's time index and
-- the index of stopped clocks, never a whole-log aggregate
\if :citus
SELECT skip('Citus: the plans are Citus''s (a distributed plan, shards'' indexes)', 5);
\else
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text; r text := '';
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP r := r || l || E'\n'; END LOOP;
  RETURN r;
END $$;
-- a log of some volume (a year of older rows), so that the plan is the plan of a real one
SET LOCAL session_replication_role = replica;
INSERT INTO workitem.event (item_id, at, actor, what, new_value)
SELECT :a, now() - interval '400 days' + g * interval '10 minutes', 'x', 'status', 'to_do'
FROM generate_series(1, 50000) g;
RESET session_replication_role;
ANALYZE workitem.event;
-- a day not known when planning (a parameter, as the facts' day in their
-- LATERAL): on_day estimates one day's share of the log, 50,000 rows over
-- 400 days, about 125 (the two comparisons: 0.5 %, 250, growing with the log)
PREPARE one_day(date) AS SELECT * FROM workitem.event e WHERE workitem.on_day(e.at, $1);
SET LOCAL plan_cache_mode = force_generic_plan;
CREATE FUNCTION pg_temp.rows_of(q text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE p json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO p;
  RETURN (p -> 0 -> 'Plan' ->> 'Plan Rows')::numeric;
END $$;
SELECT pg_temp.rows_of('EXECUTE one_day(current_date)') AS one_day_rows \gset
SELECT ok(:one_day_rows BETWEEN 100 AND 160, 'on_day of a parameter: one day''s share of the rows (' || :one_day_rows || ')');
RESET plan_cache_mode;
DEALLOCATE one_day;
SELECT matches(pg_temp.plan_of('SELECT * FROM workitem.flow_per_day WHERE day = current_date'),
               'Bitmap Index Scan on event_at_idx\s+Index Cond: \(\(at >=',
               'a day of flow_per_day reads the log through its time index');
SELECT matches(pg_temp.plan_of('SELECT * FROM workitem.status_time_per_day WHERE day = current_date'),
               'Bitmap Index Scan on event_at_idx\s+Index Cond: \(\(at >=',
               'a day of status_time_per_day too');
-- (a few clocks here: without seqscan, the index the plan would take on many)
SET LOCAL enable_seqscan = off;
SELECT matches(pg_temp.plan_of('SELECT * FROM workitem.sla_per_day WHERE day = current_date'),
               'Index Scan using sla_clock_stopped_idx on sla_clock c\s+Index Cond: \(\(stopped_at >=',
               'a day of sla_per_day reads the stopped clocks through their index');
SELECT matches(pg_temp.plan_of('SELECT * FROM workitem.sla_compliance WHERE day = current_date'),
               'Index Scan using sla_clock_stopped_idx on sla_clock c\s+Index Cond: \(\(stopped_at >=',
               'a day of sla_compliance too');
\endif
SELECT * FROM finish();
ROLLBACK;
