#!/usr/bin/env bash
# The background worker, in a cluster of its own with workitem in
# shared_preload_libraries: it closes an item by itself, survives a failed
# run, writes nothing while nothing is due, and stops cleanly on SIGTERM.
# Prints TAP. Needs PGBIN (set by tools/test.sh) and runs the server as
# postgres when run as root.
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
source "$ROOT/tools/cluster.sh"
PORT=$(( ${PGPORT:-55432} + 200 ))
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }

dir=$(mktemp -d /tmp/workitem-worker.XXXXXX)
cleanup() { cluster_stop "$dir" immediate; rm -rf "$dir"; }
trap cleanup EXIT
# In postgresql.conf, so that ALTER SYSTEM and a reload can change them below.
cluster_init "$dir" "shared_preload_libraries = 'workitem'" "workitem.timer_interval = '300ms'" \
    "workitem.timer_databases = 'postgres'" "autovacuum = off" >/dev/null 2>&1 || { echo "not ok 1 - initdb"; exit 1; }
cluster_start "$dir" "$PORT"
q() { "$PGBIN/psql" -X -q -At -h "$dir" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -c "$1"; }

# waits for a condition (SQL returning t), up to $2 seconds
wait_for() {
    local i
    for i in $(seq 1 $(( $2 * 10 ))); do
        [ "$(q "$1" 2>/dev/null)" = t ] && return 0
        sleep 0.1
    done
    return 1
}

wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'workitem timers'" 10
ok $? "the worker runs (one per database named)"
grep -q 'workitem timers started for database "postgres"' "$dir/server.log"; ok $? "and says so in the log"
q "SET client_min_messages = warning; CREATE EXTENSION workitem"
q "INSERT INTO workitem.category_config (kind, category, feedback_window) VALUES ('ticket', 'w', '1 second')"
id=$(q "SELECT id FROM workitem.create_ticket('Worker', 'closes by itself', 'w', 'c@x', 'c@x', submit => true)")
q "SELECT workitem.resolve($id, 'customer_response')" >/dev/null
wait_for "SELECT status = 'closed' FROM workitem.item WHERE id = $id" 15
ok $? "a resolved ticket is closed by the worker when its feedback window is over"
[ "$(q "SELECT actor || ': ' || reason FROM workitem.event WHERE item_id = $id AND what = 'status' ORDER BY id DESC LIMIT 1")" \
  = "system: feedback window over ($(q "SELECT feedback_until FROM workitem.item WHERE id = $id"))" ]
ok $? "the close is logged with actor system and the reason"

# A failed run is logged and the worker goes on.
q "ALTER TABLE workitem.sla_clock RENAME COLUMN alarm_at TO alarm_at_renamed"
id2=$(q "SELECT id FROM workitem.create_ticket('Worker 2', 'after a failure', 'w', 'c@x', 'c@x', submit => true)")
q "SELECT workitem.resolve($id2, 'customer_response')" >/dev/null
failures() { grep -c 'workitem timers in database "postgres": run failed' "$dir/server.log"; }
# Let the item's 1 s feedback window be over by a margin, then see at least
# one more failed run after that: a run that could have closed it failed.
wait_for "SELECT feedback_until < now() - interval '1 second' FROM workitem.item WHERE id = $id2" 5
ok $? "the second item's feedback window is over"
past=$(failures)
for i in $(seq 1 50); do [ "$(failures)" -gt "$past" ] && break; sleep 0.1; done
[ "$(failures)" -gt "$past" ]
ok $? "a failing run is logged (again after the feedback window is over)"
[ "$(q "SELECT status FROM workitem.item WHERE id = $id2")" = resolved ]
ok $? "the failed run changed nothing"
q "ALTER TABLE workitem.sla_clock RENAME COLUMN alarm_at_renamed TO alarm_at"
wait_for "SELECT status = 'closed' FROM workitem.item WHERE id = $id2" 15
ok $? "the worker goes on after the failure and closes the next item"

# workitem.timer_interval = 0 turns the worker off, on a reload; back on likewise.
q "ALTER SYSTEM SET workitem.timer_interval = 0" && q "SELECT pg_reload_conf()" >/dev/null
sleep 1
id3=$(q "SELECT id FROM workitem.create_ticket('Worker 3', 'while off', 'w', 'c@x', 'c@x', submit => true)")
q "SELECT workitem.resolve($id3, 'customer_response')" >/dev/null
sleep 3
[ "$(q "SELECT status FROM workitem.item WHERE id = $id3")" = resolved ]
ok $? "with timer_interval = 0 (reloaded) the worker leaves a due item alone"
q "ALTER SYSTEM RESET workitem.timer_interval" && q "SELECT pg_reload_conf()" >/dev/null
wait_for "SELECT status = 'closed' FROM workitem.item WHERE id = $id3" 15
ok $? "set back (reloaded), it closes the item without a restart"

# Nothing due: no transaction id taken, no WAL written over several runs.
before=$(q "SELECT pg_snapshot_xmax(pg_current_snapshot()) || ' ' || pg_current_wal_insert_lsn()")
sleep 2
after=$(q "SELECT pg_snapshot_xmax(pg_current_snapshot()) || ' ' || pg_current_wal_insert_lsn()")
[ "$before" = "$after" ]
ok $? "idle runs write nothing (xid horizon and WAL position unchanged: $before -> $after)"

# SIGTERM (a fast shutdown) stops it at once and cleanly.
start=$(date +%s)
cluster_stop "$dir" fast -t 20
ok $? "the server stops with the worker running"
[ $(( $(date +%s) - start )) -le 10 ]
ok $? "within 10 seconds"
! grep -qE 'terminated by signal|PANIC|TRAP' "$dir/server.log"
ok $? "no crash in the server log"

echo "1..$n"
[ "$failed" = 0 ]
