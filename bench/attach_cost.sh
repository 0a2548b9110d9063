#!/usr/bin/env bash
# The attached trigger's cost in CPU instructions per update (issue 6), the
# companion of bench/attach.sh: tps on a shared machine drift by more than
# the targets' 5 and 10 %, instruction counts do not.
#
# callgrind counts a single-user backend (postgres --single, one transaction
# per UPDATE) running N2 and then N1 status updates on random rows of a
# ROWS-row table with EVENTS rows already in the log; the difference over
# N2 - N1 is one update without start-up or shutdown. Before each variant
# the user table is made anew and aged by AGE bare updates. Variants: bare (no
# trigger), attach() with events off and on, the PL/pgSQL trigger of
# bench/attach_plpgsql.sql, and two diagnostics that show where an event
# row's cost lies: the log with its row index only (no primary key, no
# BRIN), and the log with no index at all; last, events on with an SLA
# policy for the table's kind (the rows' clocks kept, issue 15). Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/common.sh
source bench/lib/attach_variants.bash
ROWS=${ROWS:-200000}
EVENTS=${EVENTS:-100000}
N1=${N1:-500}
N2=${N2:-2500}
AGE=${AGE:-20000}
source bench/lib/single_user.bash
single <<SQL
CREATE EXTENSION workitem;

$(cat bench/attach_plpgsql.sql)

CREATE TABLE old_log AS SELECT * FROM workitem.event WHERE false;

CREATE TABLE log_index AS
SELECT c.relname AS name, con.conname AS constraint_name,
       CASE WHEN con.oid IS NULL THEN pg_get_indexdef(i.indexrelid)
            ELSE format('ALTER TABLE workitem.event ADD CONSTRAINT %I %s', con.conname, pg_get_constraintdef(con.oid))
       END AS ddl
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
 WHERE i.indrelid = 'workitem.event'::regclass;

INSERT INTO old_log (id, row_key, at, actor, what, old_value, new_value)
SELECT nextval('workitem.event_id_seq'), (i % $ROWS + 1)::text,
       now() - ($EVENTS - i) * interval '1 second', 'bench', 'status',
       'to_do', 'in_progress' FROM generate_series(1, $EVENTS) i;

SQL

# $1 updates of random rows (seed $2), each a statement of its own (-j).
updates() {
    awk -v n="$1" -v rows="$ROWS" -v seed="$2" 'BEGIN { srand(seed); for (i = 0; i < n; i++) print int(rand() * rows) + 1 }' |
        sed "s/.*/$(status_update '&')\n/"
}
# Instructions callgrind collected for a single-user backend running $1 updates.
collected() {
    updates "$1" "$2" >"$dir/updates.sql"
    callgrind_count "$dir/updates.sql"
}

# The log keeps the shipped indexes (taken from the catalog above), or for
# the diagnostics only some. It is emptied and refilled with the same EVENTS
# rows before each variant, through its indexes as it grows in use: a BRIN
# index built over existing rows summarizes the last, partial range, which
# the log's own (built empty, summarized by VACUUM) never has.
declare -A cost
# VARIANTS="bare c_sla": only those
read -r -a variants <<<"${VARIANTS:-bare c_off c_on plpgsql c_on_rowidx c_on_noidx c_sla}"
for v in "${variants[@]}"; do
    case $v in
        c_on_rowidx) keep="name = 'event_row_idx'" ;;
        c_on_noidx) keep="false" ;;
        *) keep="true" ;;
    esac
    # Every variant starts from the same user table: loaded, then aged by the
    # same bare updates (a freshly loaded table has full pages, no HOT).
    single <<SQL
SELECT workitem.detach(c.oid) FROM pg_class c WHERE c.relname = 'tickets';

DROP TABLE IF EXISTS tickets;

CREATE TABLE tickets (id int PRIMARY KEY, status text NOT NULL, note text);

INSERT INTO tickets SELECT i, 'to_do', 'row ' || i FROM generate_series(1, $ROWS) i;

VACUUM tickets;

SQL
    updates "$AGE" 9 | single
    single <<SQL
DO \$\$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM log_index LOOP
    IF r.constraint_name IS NOT NULL THEN
      EXECUTE format('ALTER TABLE workitem.event DROP CONSTRAINT IF EXISTS %I', r.constraint_name);
    ELSE
      EXECUTE format('DROP INDEX IF EXISTS workitem.%I', r.name);
    END IF;
  END LOOP;
  TRUNCATE workitem.event;
  FOR r IN SELECT * FROM log_index WHERE $keep LOOP
    EXECUTE r.ddl;
  END LOOP;
END \$\$;

INSERT INTO workitem.event (id, source, row_key, at, actor, what, old_value, new_value)
SELECT id, 'tickets'::regclass, row_key, at, actor, what, old_value, new_value FROM old_log;

$(variant_sql $v)

VACUUM ANALYZE tickets;

VACUUM ANALYZE workitem.event;

CHECKPOINT;

SQL
    # a first backend after DDL rebuilds the relcache init file: not in a count
    updates 10 3 | single
    a=$(collected "$N2" 1)
    b=$(collected "$N1" 2)
    cost[$v]=$(( (a - b) / (N2 - N1) ))
done

echo "callgrind, single-user backend, one UPDATE per transaction on random rows of $ROWS, $EVENTS events in the log"
printf '%-52s %14s %9s %12s\n' "variant" "instructions" "vs bare" "over bare"
for v in "${variants[@]}"; do
    printf '%-52s %14d %8.1f%% %12d\n' "$(variant_name $v)" "${cost[$v]}" \
        "$(awk "BEGIN{print ${cost[$v]} / ${cost[bare]} * 100}")" "$(( cost[$v] - cost[bare] ))"
done
