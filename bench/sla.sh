#!/usr/bin/env bash
# SLA readers (issue 4): remaining time, state and label of 1,000,000 running
# clocks through the item_sla view, in rows per second; against the floor of
# reading the same rows with plain column arithmetic (no calendar).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
db=workitem_bench_sla
dropdb --if-exists $db 2>/dev/null; createdb $db
psql -X -q -d $db -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION workitem;
INSERT INTO workitem.calendar VALUES ('paris', 'Europe/Paris');
INSERT INTO workitem.calendar_hours SELECT 'paris', d, '09:00', '17:00' FROM generate_series(1, 5) d;
INSERT INTO workitem.calendar_holiday (calendar, day) SELECT 'paris', DATE '2026-01-01' + i * 24 FROM generate_series(0, 29) i;
INSERT INTO workitem.sla_policy (name, calendar) VALUES ('bench', 'paris');
-- Bulk load without the triggers: this measures reading, not writing.
SET session_replication_role = replica;
INSERT INTO workitem.item (id, kind, status, title, submitted_at)
SELECT i, 'ticket', 'to_do', 'item ' || i, now() - (i % 5000) * interval '1 minute'
FROM generate_series(1, $ROWS) i;
INSERT INTO workitem.sla_clock (item_id, target, policy_id, calendar, target_time, state, started_at, since, used, due_at)
SELECT id, 'resolution', 1, 'paris', '16 hours', 'running', submitted_at, submitted_at, '0',
       workitem.business_add('paris', submitted_at, '16 hours')
FROM workitem.item;
RESET session_replication_role;
VACUUM ANALYZE workitem.item, workitem.sla_clock;
CREATE FUNCTION pg_temp.ms(q text) RETURNS numeric LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; best numeric; x numeric;
BEGIN
  FOR i IN 1..3 LOOP
    t0 := clock_timestamp(); EXECUTE q;
    x := extract(epoch FROM clock_timestamp() - t0) * 1000;
    best := least(best, x);
  END LOOP;
  RETURN round(best, 1);
END \$\$;
CREATE TEMP TABLE r AS SELECT
  pg_temp.ms('SELECT count(*), sum(extract(epoch FROM target_time - (used + (now() - since)))) FROM workitem.sla_clock') AS floor_ms,
  pg_temp.ms('SELECT count(*), sum(extract(epoch FROM remaining)) FROM workitem.item_sla') AS view_ms,
  pg_temp.ms('SELECT count(*) FILTER (WHERE state = ''breached''), count(*) FILTER (WHERE label IS NOT NULL) FROM workitem.item_sla') AS state_ms;
\pset footer off
\echo 'item_sla over $ROWS running clocks (Mon-Fri 09:00-17:00 Europe/Paris, 30 holidays)'
SELECT floor_ms AS "floor (no calendar) ms", view_ms AS "remaining ms", state_ms AS "state+label ms",
       round($ROWS / view_ms * 1000) AS "remaining rows/s", round($ROWS / state_ms * 1000) AS "state+label rows/s",
       round(view_ms / floor_ms, 2) AS "remaining / floor"
FROM r;
SQL
dropdb $db
