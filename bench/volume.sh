#!/usr/bin/env bash
# Volume (issue 13), in one run:
#  - intake: one INSERT ... SELECT of N submitted tickets through the
#    trigger (SLA policy with two targets, category defaults), per ticket,
#    against a bare INSERT of exactly the rows the trigger wrote (item,
#    description note, log, clocks, clock log) into copies of the tables
#    (same indexes, checks and foreign keys, no trigger);
#  - operations: start, wait_more_info, resume, resolve on OPS tickets,
#    per call, against a PL/pgSQL loop writing the same rows by hand into
#    the copies;
#  - attach(): a status UPDATE of an attached table, with events against
#    the UPDATE plus a hand-written INSERT of its log row, without against
#    a bare UPDATE;
#  - reads: an agent's queue, the inbox's top 20, an item's history,
#    transitions of the last hour, daily_flow of one day, item_sla of 100
#    items, the BI facts of one day (flow_per_day, status_time_per_day,
#    sla_per_day, sla_compliance, every column) and a month of days, at N items and again at 10 N (the 9 N added are older, closed
#    items: every answer stays the same), best of 5 runs each.
# N=1000000 is the full run (minutes on 2 cores); the default is small.
# READS_ONLY=1 runs the reads alone; KEEP_DB=1 keeps the database (at 10 N).
#   N=100000 bench/volume.sh        (PGHOST, PGPORT... name the server)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000}
OPS=${OPS:-2000}
# attach(): updates per variant (short loops are noisy)
AROWS=${AROWS:-$((5 * OPS))}
db=${VOLUME_DB:-workitem_bench_volume}
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
# Without this the run measures the disk's fsync, not the engine.
psql -X -q -d postgres -c "ALTER DATABASE $db SET synchronous_commit = off"
q() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
val() { psql -X -A -t -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }

q <<'SQL'
CREATE EXTENSION workitem;
INSERT INTO workitem.calendar VALUES ('paris', 'Europe/Paris');
INSERT INTO workitem.calendar_hours SELECT 'paris', d, '09:00', '17:00' FROM generate_series(1, 5) d;
INSERT INTO workitem.calendar_holiday (calendar, day) SELECT 'paris', DATE '2026-01-01' + i * 24 FROM generate_series(0, 29) i;
INSERT INTO workitem.sla_policy (name, calendar) VALUES ('bench', 'paris');
INSERT INTO workitem.sla_target (policy_id, target, working_time)
VALUES (1, 'first_response', '4 hours'), (1, 'resolution', '16 hours');
INSERT INTO workitem.category_config (kind, category, feedback_window, require_resolution_note, days_to_wait)
VALUES ('ticket', 'billing', '7 days', false, 3);
-- Copies of the tables the trigger writes: same columns, defaults, checks,
-- indexes and foreign keys, no trigger.
CREATE SCHEMA bare;
CREATE TABLE bare.item (LIKE workitem.item INCLUDING ALL);
CREATE TABLE bare.message (LIKE workitem.message INCLUDING ALL,
                           FOREIGN KEY (item_id, tenant) REFERENCES bare.item (id, tenant));
CREATE TABLE bare.event (LIKE workitem.event INCLUDING ALL);
CREATE TABLE bare.sla_clock (LIKE workitem.sla_clock INCLUDING ALL,
                             FOREIGN KEY (item_id, tenant) REFERENCES bare.item (id, tenant) DEFERRABLE INITIALLY DEFERRED,
                             FOREIGN KEY (policy_id) REFERENCES workitem.sla_policy (id));
CREATE TABLE bare.sla_clock_event (LIKE workitem.sla_clock_event INCLUDING ALL,
                                   FOREIGN KEY (clock_id, tenant) REFERENCES bare.sla_clock (id, tenant));
CREATE TABLE result (section text, what text, n bigint, ms numeric, base_ms numeric, ord serial, cost numeric);
CREATE TABLE sizes (ticket_bytes numeric, log_row_bytes numeric);
-- Milliseconds of one statement (run once: it writes).
CREATE FUNCTION ms_once(sql text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  EXECUTE sql;
  RETURN round(extract(epoch FROM clock_timestamp() - t0) * 1000, 1);
END $$;
-- Best of 5 runs of a read, all its rows fetched.
CREATE FUNCTION ms_read(sql text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; best numeric; x numeric;
BEGIN
  FOR i IN 1..5 LOOP
    t0 := clock_timestamp();
    EXECUTE 'SELECT count(*) FROM (' || sql || ') s';
    x := extract(epoch FROM clock_timestamp() - t0) * 1000;
    best := least(best, x);
  END LOOP;
  RETURN round(best, 2);
END $$;
-- The same, every column of every row read: count(*) alone lets PostgreSQL
-- drop a LEFT JOIN or an aggregate whose value nobody reads.
CREATE FUNCTION ms_read_all(sql text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; best numeric; x numeric;
BEGIN
  FOR i IN 1..5 LOOP
    t0 := clock_timestamp();
    EXECUTE 'SELECT count(s.*) FROM (' || sql || ') s';
    x := extract(epoch FROM clock_timestamp() - t0) * 1000;
    best := least(best, x);
  END LOOP;
  RETURN round(best, 2);
END $$;
-- The planner's estimated cost of that read (past jit_above_cost, 100,000
-- by default, PostgreSQL compiles it with JIT first).
CREATE FUNCTION est_cost(sql text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE p json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) SELECT count(s.*) FROM (' || sql || ') s' INTO p;
  RETURN round((p -> 0 -> 'Plan' ->> 'Total Cost')::numeric);
END $$;
SQL

echo "volume: N = $N, operations on $OPS tickets (PostgreSQL $(val 'SHOW server_version'))"

if [ "${READS_ONLY:-0}" != 1 ]; then
# ---------------------------------------------------------------- intake
q <<SQL
SET workitem.actor = 'bench';
INSERT INTO result (section, what, n, ms)
SELECT 'intake', 'INSERT ... SELECT of submitted tickets', $N, ms_once(\$q\$
INSERT INTO workitem.item (kind, status, title, description, category, primary_contact, requester, priority)
SELECT 'ticket', 'to_do', 'Ticket ' || i, 'Charged twice for invoice ' || i, 'billing',
       'c' || i || '@example.com', 'c' || i || '@example.com', 'P3'
FROM generate_series(1, $N) i;
SET CONSTRAINTS ALL IMMEDIATE\$q\$);
SQL
q <<'SQL'
-- exactly the rows written, staged first so that reading them is not timed
CREATE TABLE s_item AS SELECT * FROM workitem.item;
CREATE TABLE s_message AS SELECT * FROM workitem.message;
CREATE TABLE s_event AS SELECT * FROM workitem.event;
CREATE TABLE s_clock AS SELECT * FROM workitem.sla_clock;
CREATE TABLE s_clock_event AS SELECT * FROM workitem.sla_clock_event;
VACUUM ANALYZE s_item, s_message, s_event, s_clock, s_clock_event;
UPDATE result SET base_ms = ms_once($q$
  INSERT INTO bare.item SELECT * FROM s_item;
  INSERT INTO bare.message SELECT * FROM s_message;
  INSERT INTO bare.event SELECT * FROM s_event;
  INSERT INTO bare.sla_clock SELECT * FROM s_clock;
  INSERT INTO bare.sla_clock_event SELECT * FROM s_clock_event;
  SET CONSTRAINTS ALL IMMEDIATE$q$)
WHERE section = 'intake';
UPDATE result SET what = what || format(' (rows per ticket: %s)',
   (SELECT round(((SELECT count(*) FROM s_item) + (SELECT count(*) FROM s_message) + (SELECT count(*) FROM s_event)
           + (SELECT count(*) FROM s_clock) + (SELECT count(*) FROM s_clock_event))::numeric / count(*), 1) FROM s_item))
WHERE section = 'intake';
DROP TABLE s_item, s_message, s_event, s_clock, s_clock_event;
-- what a ticket takes on disk, indexes included, and a log row
INSERT INTO sizes
SELECT round((pg_total_relation_size('workitem.item') + pg_total_relation_size('workitem.message')
              + pg_total_relation_size('workitem.event') + pg_total_relation_size('workitem.sla_clock')
              + pg_total_relation_size('workitem.sla_clock_event'))::numeric / (SELECT count(*) FROM workitem.item)) AS ticket_bytes,
       round(pg_total_relation_size('workitem.event')::numeric / (SELECT count(*) FROM workitem.event)) AS log_row_bytes;
SELECT FROM setval(pg_get_serial_sequence('bare.sla_clock_event', 'id'), (SELECT max(id) FROM bare.sla_clock_event));
VACUUM ANALYZE workitem.item, workitem.event, workitem.sla_clock, workitem.sla_clock_event, workitem.message,
               bare.item, bare.event, bare.sla_clock, bare.sla_clock_event, bare.message;
SQL

# ------------------------------------------------------------ operations
# The hand-written writes of each operation, as the trigger makes them:
# the item row, its log rows, the clocks and the clock log.
q <<'SQL'
CREATE FUNCTION hand_start(x bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE bare.item SET status = 'in_progress', assignee = 'bench', status_changed_at = now() WHERE id = x;
  INSERT INTO bare.event (item_id, at, actor, what, old_value, new_value)
  VALUES (x, now(), 'bench', 'status', 'to_do', 'in_progress'), (x, now(), 'bench', 'assignee', NULL, 'bench');
END $$;
CREATE FUNCTION hand_wait_more_info(x bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE d int;
BEGIN
  UPDATE bare.item SET status = 'waiting', wait_type = 'more_info', wait_until = now() + make_interval(days => days_to_wait),
         status_changed_at = now() WHERE id = x RETURNING days_to_wait INTO d;
  INSERT INTO bare.event (item_id, at, actor, what, old_value, new_value)
  VALUES (x, now(), 'bench', 'status', 'in_progress', 'waiting'), (x, now(), 'bench', 'wait_type', NULL, 'more_info'),
         (x, now(), 'bench', 'wait_until', NULL, (now() + make_interval(days => d))::text);
  WITH u AS (UPDATE bare.sla_clock SET state = 'paused', paused_at = now(), due_at = NULL, since = NULL,
                    used = used + workitem.business_time(calendar, since, now())
             WHERE item_id = x AND state = 'running' RETURNING *)
  INSERT INTO bare.sla_clock_event (clock_id, item_id, target, cycle, event, used, due_at, reason)
  SELECT id, item_id, target, cycle, 'pause', used, due_at, 'more_info' FROM u;
END $$;
CREATE FUNCTION hand_resume(x bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE w timestamptz;
BEGIN
  SELECT wait_until INTO w FROM bare.item WHERE id = x;
  UPDATE bare.item SET status = 'in_progress', wait_type = NULL, wait_until = NULL, wait_reason = NULL,
         status_changed_at = now() WHERE id = x;
  INSERT INTO bare.event (item_id, at, actor, what, old_value, new_value)
  VALUES (x, now(), 'bench', 'status', 'waiting', 'in_progress'), (x, now(), 'bench', 'wait_type', 'more_info', NULL),
         (x, now(), 'bench', 'wait_until', w::text, NULL);
  WITH u AS (UPDATE bare.sla_clock SET state = 'running', paused_at = NULL, since = now(),
                    due_at = workitem.business_add(calendar, now(), target_time - used)
             WHERE item_id = x AND state = 'paused' RETURNING *)
  INSERT INTO bare.sla_clock_event (clock_id, item_id, target, cycle, event, used, due_at, reason)
  SELECT id, item_id, target, cycle, 'resume', used, due_at, 'wait ended' FROM u;
END $$;
CREATE FUNCTION hand_resolve(x bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE bare.item SET status = 'resolved', resolution = 'customer_response', status_changed_at = now(),
         resolved_at = now(), resolved_by = 'bench', first_resolved_at = now(), first_resolved_by = 'bench',
         feedback_until = now() + feedback_window WHERE id = x;
  INSERT INTO bare.event (item_id, at, actor, what, old_value, new_value)
  VALUES (x, now(), 'bench', 'status', 'in_progress', 'resolved'), (x, now(), 'bench', 'resolution', NULL, 'customer_response');
  WITH u AS (UPDATE bare.sla_clock SET used = used + workitem.business_time(calendar, since, now()),
                    state = CASE WHEN used + workitem.business_time(calendar, since, now()) <= target_time
                                 THEN 'met' ELSE 'missed' END,
                    since = NULL, due_at = NULL, paused_at = NULL, stopped_at = now()
             WHERE item_id = x AND state IN ('running', 'paused', 'pending') RETURNING *)
  INSERT INTO bare.sla_clock_event (clock_id, item_id, target, cycle, event, used, due_at, reason)
  SELECT id, item_id, target, cycle, state, used, due_at, 'resolved' FROM u;
END $$;
SQL
for op in start wait_more_info resume resolve; do
    case $op in
        resolve) call="workitem.resolve(i, 'customer_response')" ;;
        *) call="workitem.$op(i)" ;;
    esac
    # one call per loop turn, each in the same transaction for both sides
    q <<SQL
SET workitem.actor = 'bench';
INSERT INTO result (section, what, n, ms, base_ms)
SELECT 'operation', '$op', $OPS,
       ms_once(\$o\$DO \$\$ BEGIN FOR i IN 1..$OPS LOOP PERFORM $call; END LOOP; END \$\$\$o\$),
       ms_once(\$o\$DO \$\$ BEGIN FOR i IN 1..$OPS LOOP PERFORM hand_$op(i); END LOOP; END \$\$\$o\$);
SQL
done

# ---------------------------------------------------------------- attach
# A table of one's own with the lifecycle attached: one status UPDATE per
# row, with events against the same UPDATE plus a hand-written INSERT of
# the same log row (same indexes), without against a bare UPDATE.
q <<SQL >/dev/null
SET workitem.actor = 'bench';
-- the rules and the log only: the bench policy (kind NULL) would match the
-- table's kind and keep SLA clocks, rows the baseline does not write
-- (bench/attach_cost.sh measures a table with clocks: variant c_sla)
UPDATE workitem.sla_policy SET enabled = false WHERE name = 'bench';
CREATE TABLE tickets (id int PRIMARY KEY, status text NOT NULL, note text);
INSERT INTO tickets SELECT i, 'to_do', 'row ' || i FROM generate_series(1, 4 * $AROWS) i;
VACUUM ANALYZE tickets;
SELECT workitem.attach('tickets');
INSERT INTO result (section, what, n, ms) SELECT 'attach', 'attach(), log_events => true (against UPDATE + INSERT of the log row)', $AROWS,
  ms_once(\$o\$DO \$\$ BEGIN FOR i IN 1..$AROWS LOOP
    UPDATE tickets SET status = 'in_progress' WHERE id = i; END LOOP; END \$\$\$o\$);
SELECT workitem.detach('tickets');
UPDATE result SET base_ms = ms_once(\$o\$DO \$\$ BEGIN FOR i IN $AROWS + 1..2 * $AROWS LOOP
    UPDATE tickets SET status = 'in_progress' WHERE id = i;
    INSERT INTO workitem.event (source, row_key, actor, what, old_value, new_value)
    VALUES ('tickets', i::text, 'bench', 'status', 'to_do', 'in_progress'); END LOOP; END \$\$\$o\$)
WHERE section = 'attach';
SELECT workitem.attach('tickets', log_events => false);
INSERT INTO result (section, what, n, ms) SELECT 'attach', 'attach(), log_events => false (against a bare UPDATE)', $AROWS,
  ms_once(\$o\$DO \$\$ BEGIN FOR i IN 2 * $AROWS + 1..3 * $AROWS LOOP
    UPDATE tickets SET status = 'in_progress' WHERE id = i; END LOOP; END \$\$\$o\$);
SELECT workitem.detach('tickets');
UPDATE result SET base_ms = ms_once(\$o\$DO \$\$ BEGIN FOR i IN 3 * $AROWS + 1..4 * $AROWS LOOP
    UPDATE tickets SET status = 'in_progress' WHERE id = i; END LOOP; END \$\$\$o\$)
WHERE section = 'attach' AND base_ms IS NULL;
UPDATE workitem.sla_policy SET enabled = true WHERE name = 'bench';
SQL

fi

# ----------------------------------------------------------------- reads
# Synthetic history, loaded without the triggers (this measures reading):
# items $1..$2 created over the $3 days before $4 days ago (their log
# rows before those already there); every tenth of the first batch is open (to_do, in_progress by one of 200 agents, or
# waiting), the rest closed; about 3.6 log rows and one clock per item.
load() {
    q <<SQL
SET session_replication_role = replica;
CREATE TEMP TABLE g AS
SELECT i AS id,
       now() - interval '$4 days' - ($2 - i) * (interval '$3 days' / ($2 - $1 + 1)) AS t0,
       CASE WHEN $5 AND i % 10 = 0 THEN (ARRAY['to_do', 'in_progress', 'waiting'])[1 + (i / 10) % 3]
            ELSE 'closed' END::workitem.status AS status
FROM generate_series($1, $2) i;
INSERT INTO workitem.item (id, kind, status, title, description, category, priority, primary_contact, requester,
                           assignee, wait_type, wait_until, resolution, resolved_at, first_resolved_at, closed_at,
                           created_at, submitted_at, status_changed_at, highlighted, sla_policy_id, feedback_window)
SELECT id, 'ticket', status, 'Ticket ' || id, 'Body', (ARRAY['billing', 'access', 'other'])[1 + id % 3], 'P3',
       'c@example.com', 'c@example.com',
       CASE WHEN status IN ('in_progress', 'waiting', 'closed') THEN 'agent' || (id % 200) END,
       CASE WHEN status = 'waiting' THEN 'more_info'::workitem.wait_type END,
       CASE WHEN status = 'waiting' THEN now() + (id % 72) * interval '1 hour' END,
       CASE WHEN status = 'closed' THEN 'customer_response'::workitem.resolution END,
       CASE WHEN status = 'closed' THEN t0 + interval '2 hours' END,
       CASE WHEN status = 'closed' THEN t0 + interval '2 hours' END,
       CASE WHEN status = 'closed' THEN t0 + interval '3 hours' END,
       t0, t0, t0 + interval '1 hour', id % 97 = 0, 1, '7 days'
FROM g;
-- The log is appended in time order: older items' rows go before the
-- ones there (a BRIN index relies on it, as it can in real use).
CREATE TEMP TABLE keep_ev AS SELECT * FROM workitem.event;
TRUNCATE workitem.event;
INSERT INTO workitem.event (item_id, at, actor, what, old_value, new_value)
SELECT id, at, 'bench', what, o, n FROM (
  SELECT id, t0 AS at, 'created' AS what, NULL AS o, 'ticket to_do' AS n, 1 AS k FROM g
  UNION ALL SELECT id, t0 + interval '1 hour', 'status', 'to_do', 'in_progress', 2 FROM g WHERE status <> 'to_do'
  UNION ALL SELECT id, t0 + interval '1 hour', 'assignee', NULL, 'agent' || (id % 200), 3 FROM g WHERE status <> 'to_do'
  UNION ALL SELECT id, t0 + interval '1 hour', 'status', 'in_progress', 'waiting', 4 FROM g WHERE status = 'waiting'
  UNION ALL SELECT id, t0 + interval '2 hours', 'status', 'in_progress', 'resolved', 5 FROM g WHERE status = 'closed' AND id % 2 = 0
  UNION ALL SELECT id, t0 + interval '3 hours', 'status', CASE WHEN id % 2 = 0 THEN 'resolved' ELSE 'in_progress' END,
                   'closed', 6 FROM g WHERE status = 'closed') e
ORDER BY at, id, k;
INSERT INTO workitem.event SELECT * FROM keep_ev ORDER BY id;
DROP TABLE keep_ev;
INSERT INTO workitem.sla_clock (item_id, target, policy_id, calendar, target_time, state, started_at, since, used,
                                due_at, stopped_at)
SELECT id, 'resolution', 1, 'paris', '16 hours',
       CASE WHEN status = 'closed' THEN 'met' WHEN status = 'waiting' THEN 'paused' ELSE 'running' END,
       t0, CASE WHEN status IN ('to_do', 'in_progress') THEN t0 END, '1 hour',
       CASE WHEN status IN ('to_do', 'in_progress') THEN t0 + (id % 1000) * interval '1 hour' END,
       CASE WHEN status = 'closed' THEN t0 + interval '2 hours' END
FROM g;
DROP TABLE g;
RESET session_replication_role;
SELECT FROM setval(pg_get_serial_sequence('workitem.item', 'id'), $2);
VACUUM ANALYZE workitem.item, workitem.event, workitem.sla_clock;
SQL
}
reads() {
    local scale=$1 sample
    sample=$(val "SELECT string_agg(id::text, ',') FROM (SELECT id FROM workitem.item WHERE id > $N AND id <= 2 * $N ORDER BY id LIMIT 100) s")
    q <<SQL
INSERT INTO result (section, what, n, ms, cost) VALUES
 ('read', 'queue of one agent (queue WHERE assignee = ...)', $scale,
  ms_read(\$q\$SELECT * FROM workitem.queue WHERE assignee = 'agent10'\$q\$), NULL),
 ('read', 'queue of one agent (agent_queue(assignee), all rows)', $scale,
  ms_read(\$q\$SELECT * FROM workitem.agent_queue('agent10', 1000000)\$q\$), NULL),
 ('read', 'inbox top 20 (queue, section inbox, ORDER BY position LIMIT 20)', $scale,
  ms_read(\$q\$SELECT * FROM workitem.queue WHERE section = 'inbox' ORDER BY position LIMIT 20\$q\$), NULL),
 ('read', 'inbox top 20 (inbox(20))', $scale,
  ms_read(\$q\$SELECT * FROM workitem.inbox(20)\$q\$), NULL),
 ('read', 'history of one item', $scale,
  ms_read(\$q\$SELECT * FROM workitem.history($((N + N / 2)))\$q\$), NULL),
 ('read', 'transitions of the last hour', $scale,
  ms_read(\$q\$SELECT * FROM workitem.transitions WHERE at >= now() - interval '1 hour'\$q\$), NULL),
 ('read', 'daily_flow of one day (daily_flow_between(day, day))', $scale,
  ms_read(\$q\$SELECT * FROM workitem.daily_flow_between(current_date - 1, current_date - 1)\$q\$), NULL),
 ('read', 'item_sla of 100 items', $scale,
  ms_read(\$q\$SELECT * FROM workitem.item_sla WHERE item_id IN ($sample)\$q\$), NULL),
 ('read', 'flow_per_day of one day, all columns', $scale,
  ms_read_all(\$q\$SELECT * FROM workitem.flow_per_day WHERE day = current_date - 1\$q\$),
  est_cost(\$q\$SELECT * FROM workitem.flow_per_day WHERE day = current_date - 1\$q\$)),
 ('read', 'status_time_per_day of one day, all columns', $scale,
  ms_read_all(\$q\$SELECT * FROM workitem.status_time_per_day WHERE day = current_date - 1\$q\$),
  est_cost(\$q\$SELECT * FROM workitem.status_time_per_day WHERE day = current_date - 1\$q\$)),
 ('read', 'sla_per_day of one day, all columns', $scale,
  ms_read_all(\$q\$SELECT * FROM workitem.sla_per_day WHERE day = current_date - 1\$q\$),
  est_cost(\$q\$SELECT * FROM workitem.sla_per_day WHERE day = current_date - 1\$q\$)),
 ('read', 'sla_compliance of one day, all columns', $scale,
  ms_read_all(\$q\$SELECT * FROM workitem.sla_compliance WHERE day = current_date - 1\$q\$),
  est_cost(\$q\$SELECT * FROM workitem.sla_compliance WHERE day = current_date - 1\$q\$)),
 ('read', 'days of one calendar, 31 days', $scale,
  ms_read(\$q\$SELECT * FROM workitem.days WHERE calendar = 'paris' AND day BETWEEN current_date - 30 AND current_date\$q\$), NULL);
SQL
}
# The reads start from empty tables.
q -c "TRUNCATE workitem.item, workitem.event, workitem.message, workitem.sla_clock, workitem.sla_clock_event, workitem.time_entry, workitem.timer, workitem.expense" >/dev/null
# items N+1..2N are the measured ones (created over the last 100 days)
load $((N + 1)) $((2 * N)) 100 0 true
reads "$N"
# 9 N older, closed items (ids above: they are loaded later)
load $((2 * N + 1)) $((11 * N)) 900 101 false
reads "$((10 * N))"

# ---------------------------------------------------------------- report
q -P footer=off <<'SQL'
\echo
\echo 'intake, operations, attach: microseconds per ticket or call, against the same rows written by hand'
\echo '(targets: intake 3x, operations 2x, attach with events 1x; without events, the 5 % of bench/attach.sh'
\echo ' is measured there, with pgbench: here, inside one loop, the trigger call itself shows)'
SELECT section, what, n, round(ms * 1000 / n, 1) AS "us each", round(base_ms * 1000 / n, 1) AS "by hand us",
       round(ms / base_ms, 2) AS ratio,
       CASE WHEN what LIKE '%false%' THEN 'info'
            WHEN ms / base_ms <= CASE WHEN section = 'intake' THEN 3 WHEN section = 'operation' THEN 2 ELSE 1 END
            THEN 'ok' ELSE 'OVER' END AS target
FROM result WHERE section <> 'read' ORDER BY ord;
\echo 'disk: a submitted ticket (item, note, log, clocks, clock log) and a log row, indexes included'
SELECT ticket_bytes AS "bytes per ticket", log_row_bytes AS "bytes per log row" FROM sizes;
\echo 'reads: milliseconds (best of 5) at N and 10 N items; the answer is the same'
\echo '(the BI facts also with the estimated cost of their plan at N and 10 N: past jit_above_cost, JIT compiles it first)'
SELECT a.what, a.n AS "N", a.ms AS "ms at N", b.ms AS "ms at 10 N", round(b.ms / nullif(a.ms, 0), 2) AS growth,
       CASE WHEN b.ms / nullif(a.ms, 0) <= 1.5 THEN 'ok' ELSE 'OVER' END AS target,
       a.cost AS "cost at N", b.cost AS "cost at 10 N"
FROM result a JOIN result b ON b.section = 'read' AND b.what = a.what AND b.n = 10 * a.n
WHERE a.section = 'read' ORDER BY a.ord;
SQL
[ "${KEEP_DB:-0}" = 1 ] || dropdb "$db"
