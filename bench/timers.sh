#!/usr/bin/env bash
# Timers (issue 5): run_timers() over 100,000 due items of mixed kinds and
# waits, in items per second, against the plain SQL a cron job would run
# (set-based UPDATEs through the same trigger, no per-item isolation); and
# one idle run over 1,000,000 items none of which is due, against a scan.
set -euo pipefail
cd "$(dirname "$0")/.."
DUE=${DUE:-100000}
IDLE=${IDLE:-1000000}
db=workitem_bench_timers
dropdb --if-exists $db 2>/dev/null; createdb $db
psql -X -q -d $db -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
CREATE EXTENSION workitem;
SET workitem.actor = 'bench';
INSERT INTO workitem.sla_policy (name) VALUES ('bench');
INSERT INTO workitem.sla_target (policy_id, target, working_time) VALUES (1, 'resolution', '30 days');
-- pg_temp.make_due(n): n due items of mixed kinds and waits, through the real trigger
\i test/lib/due_items.sql
CREATE TEMP TABLE r (what text, ms numeric, items bigint);

SELECT pg_temp.make_due($DUE) \g /dev/null
VACUUM ANALYZE workitem.item;
-- run_timers in batches of 1,000, as the background worker does
DO \$\$
DECLARE t0 timestamptz := clock_timestamp(); n int; total bigint := 0;
BEGIN
  LOOP
    n := workitem.run_timers(now() + interval '3 days', 1000);
    total := total + n;
    EXIT WHEN n = 0;
  END LOOP;
  INSERT INTO pg_temp.r VALUES ('run_timers, batches of 1,000', extract(epoch FROM clock_timestamp() - t0) * 1000, total);
END \$\$;

-- The baseline: the same moves as set-based UPDATEs through the same trigger.
SELECT pg_temp.make_due($DUE) \g /dev/null
VACUUM ANALYZE workitem.item;
DO \$\$
DECLARE t0 timestamptz := clock_timestamp(); a bigint; b bigint; c bigint; d bigint;
BEGIN
  UPDATE workitem.item SET status = 'closed', resolution = 'no_customer_response', change_reason = 'no reply'
   WHERE status = 'waiting' AND wait_until <= now() + interval '3 days' AND wait_type = 'more_info'
     AND close_if_no_reply AND kind = 'ticket';
  GET DIAGNOSTICS a = ROW_COUNT;
  UPDATE workitem.item SET status = CASE WHEN assignee IS NULL THEN 'to_do' ELSE 'in_progress' END::workitem.status,
         highlighted = true, change_reason = 'wait over'
   WHERE status = 'waiting' AND wait_until <= now() + interval '3 days';
  GET DIAGNOSTICS b = ROW_COUNT;
  UPDATE workitem.item SET status = 'closed', change_reason = 'feedback window over'
   WHERE status = 'resolved' AND feedback_until <= now() + interval '3 days';
  GET DIAGNOSTICS c = ROW_COUNT;
  INSERT INTO pg_temp.r VALUES ('plain SQL UPDATEs (baseline)', extract(epoch FROM clock_timestamp() - t0) * 1000, a + b + c);
END \$\$;

\pset footer off
\echo 'run_timers over $DUE due items (waits, no-reply closes, feedback windows; tickets and cases; SLA clocks)'
SELECT what, round(ms) AS ms, items, round(items / ms * 1000) AS "items/s",
       round(ms / (SELECT ms FROM r WHERE what LIKE 'plain%'), 2) AS "vs plain SQL"
FROM r ORDER BY what DESC;
SQL

# Idle: IDLE items, none due; bulk-loaded without triggers (this measures the probe).
psql -X -q -d $db -v ON_ERROR_STOP=1 <<SQL
SET session_replication_role = replica;
INSERT INTO workitem.item (kind, status, title, wait_type, wait_until, resolution, resolved_at, first_resolved_at,
                           feedback_until, assignee)
SELECT 'ticket',
       (ARRAY['to_do', 'in_progress', 'waiting', 'resolved'])[1 + g % 4]::workitem.status, 'idle ' || g,
       CASE WHEN g % 4 = 2 THEN 'follow_up'::workitem.wait_type END,
       CASE WHEN g % 4 = 2 THEN now() + interval '10 days' END,
       CASE WHEN g % 4 = 3 THEN 'customer_response'::workitem.resolution END,
       CASE WHEN g % 4 = 3 THEN now() END, CASE WHEN g % 4 = 3 THEN now() END,
       CASE WHEN g % 4 = 3 THEN now() + interval '10 days' END,
       CASE WHEN g % 4 = 1 THEN 'agent' END
FROM generate_series(1, $IDLE) g;
INSERT INTO workitem.sla_clock (item_id, target, policy_id, calendar, target_time, state, started_at, since, used, due_at, alarm_at)
SELECT id, 'resolution', 1, '24x7', '30 days', 'running', now(), now(), '0', now() + interval '30 days',
       now() + interval '15 days'
FROM workitem.item WHERE status IN ('to_do', 'in_progress') AND title LIKE 'idle %';
RESET session_replication_role;
VACUUM ANALYZE workitem.item, workitem.sla_clock;
CREATE FUNCTION pg_temp.ms(q text, runs int) RETURNS numeric LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; best numeric; x numeric;
BEGIN
  FOR i IN 1..runs LOOP
    t0 := clock_timestamp(); EXECUTE q;
    x := extract(epoch FROM clock_timestamp() - t0) * 1000;
    best := least(best, x);
  END LOOP;
  RETURN best;
END \$\$;
\pset footer off
\echo 'one idle run over $IDLE items (none due) and a scan of the same table'
SELECT (SELECT count(*) FROM workitem.item) AS items,
       (SELECT count(*) FROM workitem.sla_clock WHERE state = 'running') AS running_clocks,
       round(pg_temp.ms('SELECT workitem.run_timers(now())', 20), 3) AS "idle run_timers ms",
       round(pg_temp.ms('SELECT count(*) FROM workitem.item WHERE wait_until <= now() OR feedback_until <= now()', 3), 1) AS "seq scan ms";
\echo 'plans of the idle probes'
EXPLAIN (COSTS OFF) SELECT id FROM workitem.item WHERE status = 'waiting' AND wait_until <= now()
  ORDER BY wait_until LIMIT 1000 FOR UPDATE SKIP LOCKED;
EXPLAIN (COSTS OFF) SELECT id FROM workitem.item WHERE status = 'resolved' AND feedback_until <= now()
  ORDER BY feedback_until LIMIT 1000 FOR UPDATE SKIP LOCKED;
EXPLAIN (COSTS OFF) SELECT id FROM workitem.item WHERE status = 'waiting' AND wait_type = 'split' LIMIT 1000;
EXPLAIN (COSTS OFF) SELECT id FROM workitem.sla_clock WHERE alarm_at <= now() AND state = 'running'
  ORDER BY alarm_at LIMIT 1000 FOR UPDATE SKIP LOCKED;
SQL
dropdb $db
