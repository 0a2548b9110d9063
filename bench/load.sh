#!/usr/bin/env bash
# Load (issue 7): pgbench, CLIENTS clients (8) for SECS seconds (60), a mix
# of 20 operations (every operation of the API, plain UPDATEs, messages,
# split, merge, launch case, actions, time) on random items among ITEMS
# (10,000) tickets and cases and their actions. An operation may be
# refused: bench/load.sql's bench_op() catches the error and records its
# SQLSTATE, since pgbench 15 aborts a client on an error. Prints tps, the
# refusals by SQLSTATE, and fails (exit 1) on a deadlock (40P01), an
# internal error (XX000), a row that breaks section 1 of the contract, or
# an item whose last status event is not its status.
#   SECS=10 bench/load.sh        (PGHOST, PGPORT... name the server)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SECS:-${1:-60}}
CLIENTS=${CLIENTS:-8}
ITEMS=${ITEMS:-10000}
db=${LOAD_DB:-workitem_bench_load}
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
psql -X -q -d "$db" -v ON_ERROR_STOP=1 -v items="$ITEMS" -f bench/load.sql >/dev/null
psql -X -q -d "$db" -c "VACUUM ANALYZE"
max=$(psql -X -A -t -d "$db" -c "SELECT max(id) FROM workitem.item")
echo "pgbench: $CLIENTS clients, ${SECS}s, $ITEMS tickets and cases (+ actions; $max items), 20 operations at random"
out=$(pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T "$SECS" -D max="$max" -f bench/lib/ops.pgbench "$db" 2>&1) || { echo "$out" | tail -n 20; exit 1; }
tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
echo "tps = $tps (one operation per transaction)"
psql -X -q -d "$db" -P footer=off <<'SQL'
\echo operations: done and refused
SELECT op, count(*) FILTER (WHERE r) AS refused, count(*) FILTER (WHERE NOT r) AS done
FROM (SELECT op, false AS r FROM bench_done UNION ALL SELECT op, true FROM bench_refused) o
GROUP BY op ORDER BY op;
\echo refusals by SQLSTATE
SELECT sqlstate, count(*) AS refusals, string_agg(DISTINCT op, ' ') AS ops
FROM bench_refused GROUP BY sqlstate ORDER BY count(*) DESC;
SQL
read -r deadlocks internal bad_rows bad_events < <(psql -X -A -t -F ' ' -d "$db" -c "
    SELECT (SELECT count(*) FROM bench_refused WHERE sqlstate = '40P01'),
           (SELECT count(*) FROM bench_refused WHERE sqlstate LIKE 'XX%'),
           (SELECT count(*) FROM wi_bad_rows), (SELECT count(*) FROM wi_bad_events)")
status=0
check() { if [ "$2" = 0 ]; then echo "OK   $1"; else echo "FAIL $1: $2"; status=1; fi; }
check "no deadlock (40P01)" "$deadlocks"
check "no internal error (XX000)" "$internal"
check "no row breaks the invariants of section 1" "$bad_rows"
check "every item's last status event is its status" "$bad_events"
[ "${KEEP_DB:-0}" = 1 ] || dropdb "$db"
exit $status
