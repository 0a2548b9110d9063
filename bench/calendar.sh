#!/usr/bin/env bash
# Working-time benchmark (issue 4): workitem.business_time in C against the
# day-by-day PL/pgSQL baseline (bench/baseline.sql) and against the floor,
# sum(extract(epoch from b - a)): no calendar at all. Calendar: Mon-Fri
# 09:00-17:00 Europe/Paris with 30 holidays. Runs against the server in
# the PG* environment (make bench starts a throwaway one).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
BASE_ROWS=${BASE_ROWS:-2000}     # the baseline is too slow for 1M rows: timed on a sample
db=workitem_bench_cal
dropdb --if-exists $db 2>/dev/null; createdb $db
psql -X -q -d $db -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION workitem;
\i bench/baseline.sql
INSERT INTO workitem.calendar VALUES ('paris', 'Europe/Paris');
INSERT INTO workitem.calendar_hours SELECT 'paris', d, '09:00', '17:00' FROM generate_series(1, 5) d;
INSERT INTO workitem.calendar_holiday (calendar, day)
SELECT 'paris', DATE '2026-01-01' + (i * 24) FROM generate_series(0, 29) i;
SELECT setseed(0.1) \g /dev/null
CREATE TABLE spans AS
SELECT a, a + interval '3 days' AS b3, a + interval '90 days' AS b90
FROM (SELECT TIMESTAMPTZ '2026-01-01 00:00+01' + random() * interval '600 days' AS a
      FROM generate_series(1, $ROWS)) s;
ANALYZE spans;
-- Best of three runs of a query, in milliseconds.
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
  pg_temp.ms('SELECT sum(extract(epoch FROM b3 - a)) FROM spans') AS floor3,
  pg_temp.ms('SELECT sum(extract(epoch FROM b90 - a)) FROM spans') AS floor90,
  pg_temp.ms('SELECT sum(workitem.business_time(''paris'', a, b3)) FROM spans') AS c3,
  pg_temp.ms('SELECT sum(workitem.business_time(''paris'', a, b90)) FROM spans') AS c90,
  pg_temp.ms('SELECT sum(baseline.business_time(''paris'', a, b3)) FROM (SELECT * FROM spans LIMIT $BASE_ROWS) s') / $BASE_ROWS * $ROWS AS p3,
  pg_temp.ms('SELECT sum(baseline.business_time(''paris'', a, b90)) FROM (SELECT * FROM spans LIMIT $BASE_ROWS) s') / $BASE_ROWS * $ROWS AS p90;
\pset footer off
\echo 'business_time over $ROWS rows (ms; PL/pgSQL timed on $BASE_ROWS rows and scaled)'
SELECT span, floor_ms, c_ms, plpgsql_ms,
       round(plpgsql_ms / c_ms, 1) AS "C vs PL/pgSQL (x faster)",
       round(c_ms / floor_ms, 2) AS "C / floor",
       round($ROWS / c_ms * 1000) AS "C rows/s"
FROM (SELECT '3 days' AS span, floor3 AS floor_ms, c3 AS c_ms, round(p3) AS plpgsql_ms FROM r
      UNION ALL SELECT '90 days', floor90, c90, round(p90) FROM r) x;
SQL
dropdb $db
