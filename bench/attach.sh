#!/usr/bin/env bash
# The attached trigger's cost (issue 6): pgbench, 2 clients, status updates
# on random rows of a 1,000,000-row user table, in one run:
#   bare UPDATE (no trigger), attach() with log_events false and true,
#   and a PL/pgSQL trigger doing the same check and event row.
# Each update is a valid move (to_do <-> in_progress). Prints tps and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
SECS=${SECS:-20}
ROUNDS=${ROUNDS:-2}
db=workitem_bench_attach
dropdb --if-exists $db 2>/dev/null; createdb $db
# Without this the run measures the disk's fsync, not the trigger.
psql -X -q -d postgres -c "ALTER DATABASE $db SET synchronous_commit = off"
psql -X -q -d $db -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION workitem;
\i bench/attach_plpgsql.sql
CREATE TABLE tickets (id int PRIMARY KEY, status text NOT NULL, note text);
INSERT INTO tickets SELECT i, 'to_do', 'row ' || i FROM generate_series(1, $ROWS) i;
VACUUM ANALYZE tickets;
SQL
script=$(mktemp)
cat > "$script" <<SQL
\set id random(1, $ROWS)
UPDATE tickets SET status = CASE status WHEN 'to_do' THEN 'in_progress' ELSE 'to_do' END WHERE id = :id;
SQL

setup() {
    psql -X -q -d $db -v ON_ERROR_STOP=1 <<SQL >/dev/null
SET client_min_messages = warning;
DROP TRIGGER IF EXISTS plpgsql_enforce ON tickets;
SELECT workitem.detach('tickets');
$1
TRUNCATE workitem.event;
CHECKPOINT;
SQL
}
run() {
    pgbench -n -c 2 -j 2 -T "$SECS" -f "$script" $db 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
declare -A tps
variants=(bare c_off c_on plpgsql)
for round in $(seq "$ROUNDS"); do
  for v in "${variants[@]}"; do
    case $v in
      bare) setup "" ;;
      c_off) setup "SELECT workitem.attach('tickets', log_events => false);" ;;
      c_on) setup "SELECT workitem.attach('tickets', log_events => true);" ;;
      plpgsql) setup "CREATE TRIGGER plpgsql_enforce BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION plpgsql_enforce();" ;;
    esac
    t=$(run)
    # keep the best round of each: the least disturbed by the shared machine
    if [ -z "${tps[$v]:-}" ] || awk "BEGIN{exit !($t > ${tps[$v]})}"; then tps[$v]=$t; fi
  done
done
rm -f "$script"
echo "pgbench, 2 clients, synchronous_commit off, ${SECS}s x ${ROUNDS} rounds (best), status updates on random rows of $ROWS"
printf '%-34s %10s %10s\n' "variant" "tps" "vs bare"
for v in "${variants[@]}"; do
  case $v in
    bare) name="bare UPDATE (no trigger)" ;;
    c_off) name="attach(), log_events => false" ;;
    c_on) name="attach(), log_events => true" ;;
    plpgsql) name="PL/pgSQL trigger + event row" ;;
  esac
  printf '%-34s %10.0f %9.1f%%\n' "$name" "${tps[$v]}" "$(awk "BEGIN{print ${tps[$v]} / ${tps[bare]} * 100}")"
done
printf 'C trigger with events vs PL/pgSQL: %.2fx\n' "$(awk "BEGIN{print ${tps[c_on]} / ${tps[plpgsql]}}")"
dropdb $db
