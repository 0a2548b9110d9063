#!/usr/bin/env bash
# Crash test (issue 7), printing TAP. In a cluster of its own (a temp dir,
# port CRASH_PORT, default PGPORT+100; never the shared test cluster):
#   load (pgbench, bench/load.sql's random operations), then kill -9 one
#   backend in the middle of it (the server restarts itself), load again,
#   then kill -9 the postmaster (pid from postmaster.pid) and start the
#   cluster again. The background worker runs throughout (every 100 ms,
#   feedback windows of 2 s so that it has work). After each crash: the server comes back, every row
#   keeps the invariants of section 1, the last status event of every item
#   is its status (the event log and the items agree), what was committed
#   before the crash is still there, and operations work again.
# About 20 s.
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
source "$ROOT/tools/cluster.sh"
export PATH="$PGBIN:$PATH"
port=${CRASH_PORT:-$(( ${PGPORT:-55422} + 100 ))}
dir=$(mktemp -d /tmp/workitem-crash.XXXXXX)
cluster_env "$dir" "$port"
unset PGSERVICE PGOPTIONS
n=0 failed=0
check() {  # check <0|1 = passed> <description>
    n=$((n + 1))
    if [ "$1" = 1 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}
bench_pid=
cleanup() {
    [ -z "$bench_pid" ] || kill "$bench_pid" 2>/dev/null
    cluster_stop "$dir" immediate
    rm -rf "$dir"
}
trap cleanup EXIT
start() { cluster_start "$dir" "$port" 2>/dev/null; }
q() { psql -X -A -t -q -c "$1" 2>/dev/null; }
wait_ready() {  # the server accepts connections again within 60 s
    for _ in $(seq 120); do
        [ "$(q 'SELECT 1')" = 1 ] && return 0
        sleep 0.5
    done
    return 1
}

cluster_init "$dir" "shared_preload_libraries = 'workitem'" "workitem.timer_interval = '100ms'" 2>/dev/null && start &&
    psql -X -q -v ON_ERROR_STOP=1 -v items=2000 -f "$ROOT/bench/load.sql" >/dev/null 2>"$dir/setup.err" &&
    psql -X -q -v ON_ERROR_STOP=1 -c "UPDATE workitem.item SET feedback_window = '2 seconds' WHERE kind <> 'action'" \
        2>>"$dir/setup.err"
check $([ $? = 0 ] && echo 1 || echo 0) "own cluster on port $port started, 2000 items loaded"
if [ "$failed" = 1 ]; then
    sed 's/^/# /' "$dir/setup.err" "$dir/server.log" 2>/dev/null | tail -n 20
    echo "1..$n"; exit 1
fi
max=$(q "SELECT max(id) FROM workitem.item")

load() {  # pgbench in the background for at most 60 s
    pgbench -n -c 4 -j 4 -T 60 -D max="$max" -f "$ROOT/bench/lib/ops.pgbench" >"$dir/pgbench.log" 2>&1 &
    bench_pid=$!
}
stop_load() {
    kill "$bench_pid" 2>/dev/null
    wait "$bench_pid" 2>/dev/null
    bench_pid=
}
after_crash() {  # after_crash <what> <done before>
    local bad_rows bad_events done_after
    bad_rows=$(q "SELECT count(*) FROM wi_bad_rows")
    bad_events=$(q "SELECT count(*) FROM wi_bad_events")
    done_after=$(q "SELECT count(*) FROM bench_done")
    check $([ "$bad_rows" = 0 ] && echo 1 || echo 0) "$1: every row keeps the invariants of section 1 ($bad_rows bad)"
    check $([ "$bad_events" = 0 ] && echo 1 || echo 0) "$1: the last status event of every item is its status ($bad_events disagree)"
    check $([ -n "$done_after" ] && [ "$done_after" -ge "$2" ] && echo 1 || echo 0) \
        "$1: the $2 operations committed before the crash are all there ($done_after)"
    local t
    t=$(q "SELECT (workitem.start((workitem.create_ticket('After', 'crash', 'load', 'c', 'r', NULL, true)).id)).status")
    check $([ "$t" = in_progress ] && echo 1 || echo 0) "$1: operations work again (create, submit, start: $t)"
    # The worker is back and moves items again: resolve one with a 1 s window.
    local w closed=
    w=$(q "SELECT id FROM workitem.create_ticket('Worker', 'after crash', 'load', 'c', 'r', NULL, true)")
    q "UPDATE workitem.item SET feedback_window = '1 second' WHERE id = $w" >/dev/null
    q "SELECT workitem.resolve($w, 'customer_response')" >/dev/null
    for _ in $(seq 100); do
        closed=$(q "SELECT status FROM workitem.item WHERE id = $w")
        [ "$closed" = closed ] && break
        sleep 0.2
    done
    check $([ "$closed" = closed ] && echo 1 || echo 0) "$1: the background worker runs again and closes an item by itself"
}

# 1. kill -9 a backend in the middle of the load
load
sleep 4
done_before=$(q "SELECT count(*) FROM bench_done")
victim=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' AND pid <> pg_backend_pid() LIMIT 1")
check $([ -n "$victim" ] && [ "${done_before:-0}" -gt 0 ] && echo 1 || echo 0) \
    "load running: $done_before operations committed, backend $victim picked"
[ -z "$victim" ] || kill -9 "$victim"
stop_load
# The postmaster reaps the victim and resets the others asynchronously: a
# connection made before it has may succeed, and the next fail. Wait for
# the reset to have begun, then for the server to accept connections.
for _ in $(seq 60); do
    grep -q 'all server processes terminated; reinitializing' "$dir/server.log" && break
    sleep 0.5
done
wait_ready
check $([ $? = 0 ] && echo 1 || echo 0) "after kill -9 of a backend the server restarted itself and accepts connections"
grep -q 'terminated by signal 9' "$dir/server.log" && grep -q 'all server processes terminated; reinitializing' "$dir/server.log"
check $([ $? = 0 ] && echo 1 || echo 0) "the server log shows the backend killed by signal 9 and the crash recovery"
after_crash "backend killed" "${done_before:-0}"

# 2. kill -9 the postmaster in the middle of the load
done_start=$(q "SELECT count(*) FROM bench_done")
load
sleep 4
done_before=$(q "SELECT count(*) FROM bench_done")
# As for the first crash: an empty count (the query failed) must not pass
# as 0 committed, and this load must have committed something of its own.
check $([ -n "$done_start" ] && [ "${done_before:-0}" -gt "$done_start" ] && echo 1 || echo 0) \
    "load running again: $done_before operations committed ($done_start before this load)"
pm=$(head -n 1 "$dir/data/postmaster.pid")
children=$(pgrep -P "$pm" | tr '\n' ' ')
kill -9 "$pm"
stop_load
# The old backends notice the postmaster is gone and exit; only then may a
# new postmaster take the data directory.
for _ in $(seq 120); do
    alive=0
    for c in $children; do kill -0 "$c" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
done
start && wait_ready && [ "$(grep -c 'automatic recovery in progress' "$dir/server.log")" -ge 2 ]
check $([ $? = 0 ] && echo 1 || echo 0) "after kill -9 of the postmaster ($pm) the cluster starts again and runs crash recovery"
after_crash "postmaster killed" "${done_before:-0}"
by_worker=$(q "SELECT count(DISTINCT item_id) FROM workitem.event WHERE actor = 'system' AND what = 'status'")
check $([ "${by_worker:-0}" -gt 2 ] && echo 1 || echo 0) "the worker moved items during the load too ($by_worker items)"
refusals=$(q "SELECT string_agg(sqlstate || ' ' || c, ', ' ORDER BY sqlstate) FROM (SELECT sqlstate, count(*) c FROM bench_refused GROUP BY 1) s")
internal=$(q "SELECT count(*) FROM bench_refused WHERE sqlstate LIKE 'XX%' OR sqlstate = '40P01'")
check $([ "$internal" = 0 ] && echo 1 || echo 0) "no internal error (XX000) or deadlock among the refusals ($refusals)"
echo "1..$n"
exit $failed
