#!/usr/bin/env bash
# workitem on a real Citus cluster (issue 14), printing TAP: a coordinator
# and workers on loopback (ports CITUS_PORT, +1, ...; default 20300 + PGPORT
# mod 10000: below Linux's ephemeral ports, which the nodes' own connections
# take and which made a node's port busy now and then),
# in a temp dir of their own, stopped and removed at exit. Builds Citus from
# ../shared/vendor/citus-13.2.2.tar.gz into $PG_CONFIG's install when it is
# not there yet (a few minutes, once); skips when neither is there.
# workitem must be installed in that install (tools/citus.sh does both:
# `make test-citus`). It distributes workitem (workitem.distribute()) and
# runs a ticket's story through the coordinator in tenants on both workers,
# the operations across items, COPY, attach(), the views, a third worker
# added later (started with the others, registered at the end), then
# test/random_ops.py and the pgTAP and pg_regress suites through the
# coordinator (test/citus_skip.txt: the files that cannot pass there yet).
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
PGBIN=${PGBIN:-/usr/lib/postgresql/${PGVERSION:-15}/bin}
source "$ROOT/test/lib/citus_cluster.sh"
source "$ROOT/test/lib/tap.sh"
source "$ROOT/test/lib/citus_suites.sh"

# Part of make test (tools/test.sh runs every test/*.sh): building Citus
# takes about 2 minutes on 2 cores, the test itself some 10 seconds.
if ! citus_installed && [ ! -f "$CITUS_ARCHIVE" ]; then
    echo "ok 1 - # SKIP citus archive not found ($CITUS_ARCHIVE) and Citus not installed"
    exit 0
fi
if ! citus_build; then echo "not ok 1 - Citus $CITUS_VERSION builds and installs"; exit 1; fi
[ -f "$("$PG_CONFIG" --sharedir)/extension/workitem.control" ] ||
    { echo "not ok 1 - workitem is installed in $("$PG_CONFIG" --sharedir) (run tools/citus.sh)"; exit 1; }

port=${CITUS_PORT:-$(( ${PGPORT:-55432} % 10000 + 20300 ))}
dir=$(mktemp -d /tmp/workitem-citus.XXXXXX)
CITUS_DIRS=()
cleanup() { citus_cluster_stop; [ "${KEEP_CLUSTER:-0}" = 1 ] || rm -rf "$dir"; }
trap cleanup EXIT
db=workitem_citus

check "a coordinator and three workers start (ports $port-$((port + 3)))" citus_cluster_start "$dir" "$port" 3
[ "$failed" = 0 ] || exit 1
check "the database is created on every node and two workers registered" citus_db_create "$db" 2
[ "$failed" = 0 ] || exit 1
for i in 0 1 2 3; do
    check "node $i (port ${CITUS_PORTS[$i]}) answers" same "$(cq $i "$db" "SELECT 1")" 1
done
check "citus_get_active_worker_nodes() lists the two workers" \
    same "$(cq 0 "$db" "SELECT string_agg(node_name || ':' || node_port, ' ' ORDER BY node_port) FROM citus_get_active_worker_nodes()")" \
    "127.0.0.1:${CITUS_PORTS[1]} 127.0.0.1:${CITUS_PORTS[2]}"
check "CREATE EXTENSION workitem on the coordinator" cq 0 "$db" "SET client_min_messages = warning; CREATE EXTENSION workitem"
want=$(cq 0 "$db" "SELECT extversion FROM pg_extension WHERE extname = 'workitem'")
for i in 1 2; do
    check "Citus created workitem $want on worker $i too" \
        same "$(cq $i "$db" "SELECT extversion FROM pg_extension WHERE extname = 'workitem'")" "$want"
done

# A distributed table of the test's own: its rows land on both workers.
cq 0 "$db" "CREATE TABLE citus_probe (tenant int, v int); SELECT create_distributed_table('citus_probe', 'tenant')" >/dev/null
cq 0 "$db" "INSERT INTO citus_probe SELECT g % 16, g FROM generate_series(1, 320) g"
check "a distributed table: all rows seen through the coordinator" same "$(cq 0 "$db" "SELECT count(*) FROM citus_probe")" 320
check "and they are spread over both workers" \
    same "$(cq 0 "$db" "SELECT count(DISTINCT s.nodeport) FROM citus_shards s
            JOIN run_command_on_shards('citus_probe', 'SELECT count(*) FROM %s') r USING (shardid)
            WHERE s.table_name = 'citus_probe'::regclass AND r.success AND r.result::int > 0")" 2

# ---- workitem distributed (issue 14) -----------------------------------
# distribute <db>: workitem.distribute() on the coordinator, then what it
# made: reference tables, tables colocated by tenant, id ranges per node.
distribute() {
    local db=$1
    check "workitem.distribute() turns the database into a distributed one" \
        cq 0 "$db" "SET client_min_messages = warning; SELECT FROM workitem.distribute()"
    check "the seven configuration tables are reference tables" \
        same "$(cq 0 "$db" "SELECT count(*) FROM pg_dist_partition
                WHERE logicalrelid::text LIKE 'workitem.%' AND partmethod = 'n'")" 7
    check "the eight tables of items (work time too) are distributed by tenant, colocated with item" \
        same "$(cq 0 "$db" "SELECT count(*) FROM pg_dist_partition p
                WHERE logicalrelid::text LIKE 'workitem.%' AND partmethod = 'h'
                  AND column_to_column_name(logicalrelid, partkey) = 'tenant'
                  AND colocationid = (SELECT colocationid FROM pg_dist_partition
                                      WHERE logicalrelid = 'workitem.item'::regclass)")" 8
    check "the foreign keys among configuration tables are back" \
        same "$(cq 0 "$db" "SELECT count(*) FROM pg_constraint
                WHERE contype = 'f' AND confrelid = 'workitem.calendar'::regclass")" 3
    check "each worker draws workitem ids from its own range (group << 48)" \
        same "$(cq 0 "$db" "SELECT string_agg(result, ' ' ORDER BY nodeport) FROM run_command_on_workers(
                \$\$SELECT min(seqmin >> 48) || '-' || max(seqmin >> 48) FROM pg_sequence
                   WHERE seqrelid::regclass::text LIKE 'workitem.%'\$\$)")" "1-1 2-2"
    check "a second distribute() is refused (55000)" \
        same "$("$PGBIN/psql" -X -q -At -v VERBOSITY=verbose -h "${CITUS_DIRS[0]}" -p "${CITUS_PORTS[0]}" -U postgres -d "$db" \
                -c "SELECT workitem.distribute()" 2>&1 | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -n 1)" 55000
}
# run_suites <db>: what works through the coordinator so far. (citus_shards
# and citus_tables do not list an extension's tables: pg_dist_* do.)
run_suites() {
    local db=$1 t
    for t in t1 t2 t3 t4 t5 t6 t7 t8; do
        cq 0 "$db" "SET workitem.tenant = '$t';
            SELECT workitem.create_ticket('Printer of $t', 'jams', 'hardware', 'a@$t', 'a@$t', NULL, true)" >/dev/null ||
            { check "create_ticket through the coordinator for tenant $t" false; return; }
    done
    check "tickets of eight tenants created through the coordinator, each in its tenant" \
        same "$(cq 0 "$db" "SELECT count(DISTINCT tenant) FROM workitem.item WHERE title = 'Printer of ' || tenant")" 8
    check "the items are spread over both workers" \
        same "$(cq 0 "$db" "SELECT count(DISTINCT n.nodeport) FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
                WHERE p.shardid IN (SELECT get_shard_id_for_distribution_column('workitem.item', tenant)
                                    FROM workitem.item)")" 2

    # A ticket's story through the coordinator, in tenants on both workers.
    local a b w ids hist got op
    cq 0 "$db" "INSERT INTO workitem.category_config (kind, category, feedback_window, days_to_wait)
                VALUES ('ticket', 'network', '7 days', 3)" >/dev/null
    a= b=
    for t in t1 t2 t3 t4 t5 t6 t7 t8; do
        w=$(cq 0 "$db" "SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
                        WHERE p.shardid = get_shard_id_for_distribution_column('workitem.item', '$t')")
        [ "$w" = "${CITUS_PORTS[1]}" ] && a=${a:-$t}
        [ "$w" = "${CITUS_PORTS[2]}" ] && b=${b:-$t}
    done
    check "two tenants, one on each worker ($a, $b)" test -n "$a" -a -n "$b"
    for t in $a $b; do
        ids=$(cq 0 "$db" "SET workitem.tenant = '$t';
            SELECT id FROM workitem.create_ticket('Story of $t', 'VPN down', 'network', 'c@$t', 'c@$t', NULL, true)")
        got=$(for op in "(workitem.start($ids)).status" "(workitem.assign($ids, 'bob')).status" \
                        "(workitem.start($ids)).status" "(workitem.wait_more_info($ids)).status" \
                        "(workitem.resume($ids)).status" \
                        "workitem.record_message($ids, 'inbound', 'email', 'more', 'details') > 0" \
                        "(workitem.resolve($ids, 'customer_response', 'fixed')).status" \
                        "(workitem.reopen($ids, 'not fixed')).status" \
                        "(workitem.resolve($ids, 'customer_response', 'fixed now')).status" \
                        "(workitem.close($ids)).status"; do
                  cq 0 "$db" "SET workitem.actor = 'alice'; SELECT $op" 2>&1
              done | tr '\n' ' ')
        check "tenant $t: start, assign, wait_more_info, resume, record_message, resolve, reopen, close through the coordinator" \
            same "$got" "in_progress to_do in_progress waiting in_progress t resolved in_progress resolved closed "
        check "tenant $t: cancel of a case (without actions)" \
            same "$(cq 0 "$db" "SET workitem.tenant = '$t';
                SELECT (workitem.cancel((workitem.create_case('Cancel me', 'd', 'network', NULL, true)).id,
                                        'duplicate')).status" 2>&1)" closed
        hist=$(cq 0 "$db" "SELECT string_agg(new_value, ',' ORDER BY id) FROM workitem.history($ids)
                           WHERE what IN ('created', 'status')" 2>&1)
        check "tenant $t: the log of its moves is seen through the coordinator (history()), in order" \
            same "$hist" "ticket to_do,in_progress,to_do,in_progress,waiting,in_progress,resolved,in_progress,resolved,closed"
        check "tenant $t: the actor of the coordinator's session is the log's (carried in the row)" \
            same "$(cq 0 "$db" "SELECT string_agg(DISTINCT actor, ',') FROM workitem.history($ids) WHERE what = 'status'" 2>&1)" alice
        check "tenant $t: its notes (description, two resolutions) and the message are seen too" \
            same "$(cq 0 "$db" "SELECT count(*) FROM workitem.message WHERE item_id = $ids AND tenant = '$t'" 2>&1)" 4
        eval "id_$t=$ids"
    done
    check "the log rows of the two workers have ids of their own node's range" \
        same "$(cq 0 "$db" "SELECT count(DISTINCT id >> 48) FROM workitem.event WHERE tenant IN ('$a', '$b')" 2>&1)" 2
    check "and no id is used twice" \
        same "$(cq 0 "$db" "SELECT count(*) - count(DISTINCT id) FROM workitem.event" 2>&1)" 0
    local x y
    x=$(cq 0 "$db" "SET workitem.tenant = '$a'; SELECT id FROM workitem.create_ticket('M $a', 'd', 'c', 'p', 'r', NULL, true)")
    y=$(cq 0 "$db" "SET workitem.tenant = '$b'; SELECT id FROM workitem.create_ticket('M $b', 'd', 'c', 'p', 'r', NULL, true)")
    check "a merge within a tenant (on worker 2) closes the item as merged" \
        same "$(cq 0 "$db" "SET workitem.tenant = '$b';
            SELECT (workitem.merge((workitem.create_ticket('dup', 'd', 'c', 'p', 'r', NULL, true)).id, $y)).status" 2>&1)" closed
    check "cancelling a case cancels its actions (on worker 1)" \
        same "$(cq 0 "$db" "SET workitem.tenant = '$a';
            CREATE TEMP TABLE k AS SELECT (workitem.create_case('Case', 'd', 'c', NULL, true)).id;
            SELECT FROM workitem.create_action((SELECT id FROM k), 'act 1');
            SELECT FROM workitem.cancel((SELECT id FROM k), 'no longer needed');
            SELECT string_agg(status::text, ',' ORDER BY id) FROM workitem.item
             WHERE tenant = '$a' AND (id = (SELECT id FROM k) OR case_id = (SELECT id FROM k))" 2>&1)" closed,closed
    check "a merge across tenants is refused with WI023" \
        same "$("$PGBIN/psql" -X -q -At -v VERBOSITY=verbose -h "${CITUS_DIRS[0]}" -p "${CITUS_PORTS[0]}" -U postgres -d "$db" \
                -c "SELECT workitem.merge($x, $y)" 2>&1 | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -n 1)" WI023
    clock_suites "$db" "$a" "$b"
}
# clock_suites <db> <tenant on worker 1> <tenant on worker 2>: SLA clocks,
# run_timers(), the background worker, messages and work time through the
# coordinator (issue 14: each routed by the item's tenant to its node).
clock_suites() {
    local db=$1 a=$2 b=$3 t id got
    # before any SLA policy: messages and work time alone
    for t in $a $b; do
        id=$(cq 0 "$db" "SET workitem.tenant = '$t';
            SELECT id FROM workitem.create_ticket('Follow $t', 'd', 'network', 'c@$t', 'c@$t', NULL, true)" 2>&1)
        cq 0 "$db" "SELECT workitem.resolve($id, 'customer_response', 'done'); SELECT workitem.close($id)" >/dev/null 2>&1
        check "tenant $t: an inbound message on a closed ticket starts a follow-up ticket in the tenant, with the message" \
            same "$(cq 0 "$db" "SELECT workitem.record_message($id, 'inbound', 'email', 'again', 'broken again', 'c@$t') > 0;
                SELECT i.tenant || ':' || i.status || ':' || count(m.id) FROM workitem.item i
                  JOIN workitem.message m ON m.item_id = i.id AND m.tenant = i.tenant
                 WHERE i.follows_id = $id AND i.tenant = '$t' AND m.direction = 'inbound' GROUP BY i.tenant, i.status" 2>&1 | tail -n 1)" "$t:to_do:1"
        # work time: log_time, a timer started and stopped, an expense
        id=$(cq 0 "$db" "SET workitem.tenant = '$t';
            SELECT id FROM workitem.create_ticket('Work $t', 'd', 'network', 'c@$t', 'c@$t', NULL, true)" 2>&1)
        got=$(for op in "(workitem.log_time($id, '1 hour', 'onsite')).resource" "(workitem.start_timer($id)).resource" \
                        "(workitem.start_timer($id)).resource" "(workitem.stop_timer($id)) IS NULL" \
                        "(workitem.add_expense($id, 'expense', 'taxi', 1, 12.5, 'EUR')).currency" \
                        "(workitem.start_timer($id, 'bob')).resource" "(workitem.resolve($id, 'customer_response', 'ok')).status" \
                        "(SELECT count(*) FROM workitem.timer WHERE item_id = $id AND tenant = '$t')"; do
                  cq 0 "$db" "SET workitem.actor = 'alice'; SELECT $op" 2>&1
              done | tr '\n' ' ')
        check "tenant $t: log_time, start_timer (twice), stop_timer, add_expense; resolving stops the running timer" \
            same "$got" "alice alice alice t EUR bob resolved 0 "
        check "tenant $t: the work time's log rows are in the item's log, the timers' with the session's actor" \
            same "$(cq 0 "$db" "SELECT string_agg(what || CASE WHEN what = 'timer' THEN ':' || actor ELSE '' END, ',' ORDER BY id)
                                FROM workitem.history($id)
                                WHERE what IN ('time_entry', 'expense', 'timer') AND (what <> 'timer' OR new_value LIKE 'running%')" 2>&1)" \
                 "time_entry,timer:alice,expense,timer:alice"
    done
    check "an SLA policy for tickets, 1 hour to the first response, 8 to the resolution (reference tables)" \
        cq 0 "$db" "INSERT INTO workitem.sla_policy (name, kind, warn_at) VALUES ('tickets', 'ticket', '{0.5}');
                    INSERT INTO workitem.sla_target (policy_id, target, working_time)
                    SELECT id, x.target, x.t FROM workitem.sla_policy,
                           (VALUES ('first_response', interval '1 hour'), ('resolution', interval '8 hours')) x(target, t)
                     WHERE name = 'tickets'"
    for t in $a $b; do
        id=$(cq 0 "$db" "SET workitem.tenant = '$t';
            SELECT id FROM workitem.create_ticket('Clock of $t', 'slow', 'network', 'c@$t', 'c@$t', NULL, true)" 2>&1)
        check "tenant $t: a ticket under the policy gets its two clocks, running" \
            same "$(cq 0 "$db" "SELECT string_agg(target || ':' || state, ',' ORDER BY target) FROM workitem.sla_clock
                                WHERE item_id = $id AND tenant = '$t'" 2>&1)" "first_response:running,resolution:running"
        got=$(for op in "(workitem.start($id)).status" "(workitem.wait_more_info($id)).status" \
                        "(SELECT string_agg(state, ',' ORDER BY target) FROM workitem.sla_clock WHERE item_id = $id AND tenant = '$t')" \
                        "(workitem.resume($id)).status" \
                        "(SELECT string_agg(state, ',' ORDER BY target) FROM workitem.sla_clock WHERE item_id = $id AND tenant = '$t')" \
                        "workitem.record_message($id, 'outbound', 'email', 'on it', 'looking') > 0" \
                        "(SELECT string_agg(state, ',' ORDER BY target) FROM workitem.sla_clock WHERE item_id = $id AND tenant = '$t')" \
                        "(workitem.resolve($id, 'customer_response', 'fixed')).status" \
                        "(SELECT string_agg(state, ',' ORDER BY target) FROM workitem.sla_clock WHERE item_id = $id AND tenant = '$t')"; do
                  cq 0 "$db" "SET workitem.actor = 'alice'; SELECT $op" 2>&1
              done | tr '\n' ' ')
        check "tenant $t: the clocks pause while it waits for more info, resume, an outbound reply meets the first response, resolving meets the resolution" \
            same "$got" "in_progress waiting paused,paused in_progress running,running t met,running resolved met,met "
        check "tenant $t: the clock log (start, pause, resume, met)" \
            same "$(cq 0 "$db" "SELECT string_agg(event, ',' ORDER BY id) FROM workitem.sla_clock_event
                                WHERE item_id = $id AND tenant = '$t' AND target = 'first_response'" 2>&1)" "start,pause,resume,met"
    done
    check "clock_used() in a fresh session through the coordinator (calendars read on the shards' nodes)" \
        same "$(cq 0 "$db" "SELECT count(*) > 0 FROM workitem.sla_clock
                            WHERE tenant IN ('$a', '$b') AND workitem.clock_used(calendar, used, since, now()) >= '0'" 2>&1)" t
    check "the SLA readers given an item, once per row of a query Citus pushes to the shards, read the worker's shards (sla_state, sla_due_at, sla_label, sla_remaining, current_clock)" \
        same "$(cq 0 "$db" "SELECT count(*) > 0, bool_and(workitem.sla_state(item_id, target) = state
                                     AND workitem.sla_due_at(item_id, target) IS NOT DISTINCT FROM due_at
                                     AND workitem.sla_label(item_id, target) = label
                                     AND workitem.sla_remaining(item_id, target) IS NOT NULL
                                     AND (workitem.current_clock(item_id, target)).cycle = cycle)
                            FROM workitem.item_sla WHERE tenant IN ('$a', '$b') AND item_id IS NOT NULL" 2>&1)" "t|t"
    check "and for an item without such a clock: none (its row is on that worker)" \
        same "$(cq 0 "$db" "SELECT string_agg(DISTINCT workitem.sla_state(id, 'no_such_target'), ',') FROM workitem.item
                            WHERE tenant IN ('$a', '$b')" 2>&1)" none

    # run_timers(): warnings, breaches and a close for no reply, on both workers
    for t in $a $b; do
        cq 0 "$db" "SET workitem.tenant = '$t';
            SELECT workitem.create_ticket('Due $t', 'd', 'network', 'c@$t', 'c@$t', NULL, true);
            SELECT workitem.wait_more_info((workitem.start((workitem.create_ticket('Silent $t', 'd', 'network', 'c@$t', 'c@$t', NULL, true)).id)).id, 2, true)" >/dev/null 2>&1
    done
    # one call does both workers: the moves on the workers send no NOTIFY, so
    # the call's transaction commits in two phases
    got=$(cq 0 "$db" "SELECT workitem.run_timers(now() + interval '3 days') > 0;
                      SELECT count(*) FROM workitem.item WHERE title IN ('Silent $a', 'Silent $b') AND status = 'closed'" 2>&1 | tr '\n' ' ')
    check "run_timers() through the coordinator: one call closes the due tickets on both workers" same "$got" "t 2 "
    got=$(for i in 1 2 3; do cq 0 "$db" "SELECT workitem.run_timers(now() + interval '3 days')" 2>&1; done | tr '\n' ' ')
    check "run_timers() again until nothing is due (got: $got)" \
        test "$(echo "$got" | awk '{print ($NF == 0) ? "yes" : "no"}')" = yes
    for t in $a $b; do
        check "tenant $t: run_timers() fired the warning and the breach of both clocks once each" \
            same "$(cq 0 "$db" "SELECT string_agg(what || ':' || n, ',' ORDER BY what) FROM (
                    SELECT e.what, count(*) AS n FROM workitem.event e JOIN workitem.item i ON i.id = e.item_id AND i.tenant = e.tenant
                     WHERE i.title = 'Due $t' AND e.what LIKE 'sla%' GROUP BY e.what) x" 2>&1)" "sla_breach:2,sla_warning:2"
        check "tenant $t: run_timers() closed the ticket that waited for a reply in vain, as system" \
            same "$(cq 0 "$db" "SELECT i.status || ':' || i.resolution || ':' || e.actor FROM workitem.item i
                    JOIN workitem.event e ON e.item_id = i.id AND e.tenant = i.tenant AND e.what = 'status' AND e.new_value = 'closed'
                   WHERE i.title = 'Silent $t'" 2>&1)" "closed:no_customer_response:system"
    done
    check "run_timers_tenant() runs one tenant's timers (nothing due now: 0)" \
        same "$(cq 0 "$db" "SELECT workitem.run_timers_tenant('$a', now(), 10)" 2>&1)" 0

    # The background worker: on every node, working from the coordinator only.
    local i dir
    for i in 0 1 2; do
        dir=${CITUS_DIRS[$i]}
        cluster_stop "$dir" fast
        printf '%s\n' "shared_preload_libraries = 'citus,workitem'" "workitem.timer_databases = '$db'" \
            "workitem.timer_interval = '300ms'" >>"$dir/data/postgresql.conf"
        # the port may still be held a moment (a connection of the old server in TIME_WAIT)
        for k in $(seq 1 30); do
            cluster_start "$dir" "${CITUS_PORTS[$i]}" "-c listen_addresses=127.0.0.1" 2>/dev/null && break
            sleep 2
        done
        cluster_running "$dir" || { check "node $i restarts with workitem preloaded" false; return; }
    done
    cq 0 "$db" "UPDATE workitem.category_config SET feedback_window = '1 second' WHERE category = 'network'" >/dev/null
    for t in $a $b; do
        cq 0 "$db" "SET workitem.tenant = '$t';
            SELECT workitem.resolve((workitem.create_ticket('Bgw $t', 'd', 'network', 'c@$t', 'c@$t', NULL, true)).id, 'customer_response')" >/dev/null 2>&1
    done
    for i in $(seq 1 150); do
        [ "$(cq 0 "$db" "SELECT count(*) FROM workitem.item WHERE title LIKE 'Bgw %' AND status = 'closed'" 2>/dev/null)" = 2 ] && break
        sleep 0.1
    done
    check "the background worker closes resolved tickets on both workers when their feedback window is over" \
        same "$(cq 0 "$db" "SELECT string_agg(tenant || ':' || status, ',' ORDER BY tenant) FROM workitem.item WHERE title LIKE 'Bgw %'")" \
             "$(printf '%s\n' "$a:closed" "$b:closed" | sort | paste -sd,)"
    check "... each once, by the system" \
        same "$(cq 0 "$db" "SELECT string_agg(e.actor || ':' || e.new_value, ',') FROM workitem.event e JOIN workitem.item i
                ON i.id = e.item_id AND i.tenant = e.tenant WHERE i.title LIKE 'Bgw %' AND e.what = 'status' AND e.new_value = 'closed'")" \
             "system:closed,system:closed"
    for i in 1 2; do
        check "worker $i runs the background worker, which leaves the timers to the coordinator (no failed run)" \
            test "$(cq $i "$db" "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'workitem timers'")" = 1 -a \
                 "$(grep -c 'workitem timers in database.*run failed' "${CITUS_DIRS[$i]}/server.log")" = 0
    done
}
# ---- operations across items, COPY, attach(), views, a node added later --
# code <db> <sql>: the SQLSTATE of the first error the coordinator reports.
code() {
    "$PGBIN/psql" -X -q -At -v VERBOSITY=verbose -h "${CITUS_DIRS[0]}" -p "${CITUS_PORTS[0]}" -U postgres -d "$1" \
        -c "$2" 2>&1 | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -n 1
}
# cqs <node> <db>: the statements on stdin, one at a time (a SET LOCAL that
# Citus propagates is sent alone, not with the rest of a -c string).
cqs() {
    "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "${CITUS_DIRS[$1]}" -p "${CITUS_PORTS[$1]}" -U postgres -d "$2"
}
quiet() { "$@" >/dev/null; }
# tenant_on <db> <worker index>: the first of t1..t8 whose shard is there.
tenant_on() {
    local t
    for t in t1 t2 t3 t4 t5 t6 t7 t8; do
        [ "$(cq 0 "$1" "SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
                        WHERE p.shardid = get_shard_id_for_distribution_column('workitem.item', '$t')")" = "${CITUS_PORTS[$2]}" ] &&
            { echo "$t"; return; }
    done
}
across_items() {
    local db=$1 a b p kids c got id x
    a=$(tenant_on "$db" 1) b=$(tenant_on "$db" 2)
    # split(): the children by routed INSERTs, then the wait; the children
    # done end it by the engine's own move in the shard's process
    p=$(cq 0 "$db" "SET workitem.tenant = '$b'; SELECT id FROM workitem.create_ticket('Split me', 'd', 'c', 'p', 'r', NULL, true)")
    kids=$(cq 0 "$db" "SELECT array_to_string(workitem.split($p, ARRAY['one', 'two']), ' ')" 2>&1)
    check "split() through the coordinator (tenant $b, worker 2): two children in its tenant, the ticket waits (split)" \
        same "$(cq 0 "$db" "SELECT string_agg(tenant || ':' || status || ':' || COALESCE(wait_type::text, '-') || ':' || COALESCE(parent_id = $p, false), ' ' ORDER BY id)
                            FROM workitem.item WHERE id = $p OR parent_id = $p" 2>&1)" "$b:waiting:split:false $b:to_do:-:true $b:to_do:-:true"
    for c in $kids; do cq 0 "$db" "SELECT workitem.resolve($c, 'customer_response', 'done')" >/dev/null 2>&1; done
    check "its children done, the split ticket is resolved split_completed (the engine's move, made on the worker)" \
        same "$(cq 0 "$db" "SELECT status || ':' || resolution FROM workitem.item WHERE id = $p" 2>&1)" "closed:split_completed"
    # launch_case(): the case in the ticket's tenant; cancelling it wakes the ticket
    p=$(cq 0 "$db" "SET workitem.tenant = '$a'; SELECT id FROM workitem.create_ticket('Launch', 'd', 'network', 'p', 'r', NULL, true)")
    c=$(cq 0 "$db" "SELECT workitem.launch_case($p, 'the case')" 2>&1)
    check "launch_case() through the coordinator (tenant $a, worker 1): the case in its tenant, the ticket waits (case_launched)" \
        same "$(cq 0 "$db" "SELECT string_agg(tenant || ':' || kind || ':' || status, ' ' ORDER BY id) FROM workitem.item WHERE id IN ($p, $c)" 2>&1)" \
        "$a:ticket:waiting $a:case:to_do"
    cq 0 "$db" "SELECT workitem.create_action($c, 'act')" >/dev/null 2>&1
    cq 0 "$db" "SELECT workitem.cancel($c, 'not needed')" >/dev/null 2>&1
    check "cancelling the launched case closes its action and wakes the ticket, highlighted" \
        same "$(cq 0 "$db" "SELECT string_agg(kind || ':' || status || ':' || highlighted, ' ' ORDER BY id) FROM workitem.item
                            WHERE id IN ($p, $c) OR case_id = $c" 2>&1)" "ticket:to_do:true case:closed:false action:closed:false"
    check "the woken ticket resolved and reopened through the coordinator" \
        same "$(cq 0 "$db" "SELECT (workitem.resolve($p, 'customer_response', 'x')).status" 2>&1) $(cq 0 "$db" "SELECT (workitem.reopen($p, 'no')).status" 2>&1)" \
        "resolved to_do"
    # items of two tenants never relate: WI023, not WI404 or the foreign key's 23503
    x=$(cq 0 "$db" "SET workitem.tenant = '$a'; SELECT id FROM workitem.create_case('Case of $a', 'd', 'c', NULL, true)")
    id=$(cq 0 "$db" "SET workitem.tenant = '$b'; SELECT id FROM workitem.create_ticket('Of $b', 'd', 'c', 'p', 'r', NULL, true)")
    check "create_action() on a case of another tenant's session: the action in the case's tenant" \
        same "$(cq 0 "$db" "SET workitem.tenant = '$b'; SELECT (workitem.create_action($x, 'act')).tenant" 2>&1)" "$a"
    check "an action of tenant $b for the case of tenant $a is refused with WI023" \
        same "$(code "$db" "INSERT INTO workitem.item (kind, case_id, title, tenant) VALUES ('action', $x, 'x', '$b')")" WI023
    check "a child of tenant $b of a ticket of tenant $a: WI023" \
        same "$(code "$db" "INSERT INTO workitem.item (kind, parent_id, title, tenant) VALUES ('ticket', $p, 'x', '$b')")" WI023
    check "a follow-up of tenant $b of a ticket of tenant $a: WI023" \
        same "$(code "$db" "INSERT INTO workitem.item (kind, follows_id, title, tenant) VALUES ('ticket', $p, 'x', '$b')")" WI023
    check "a merge by UPDATE into an item of another tenant: WI023" \
        same "$(code "$db" "UPDATE workitem.item SET status = 'closed', resolution = 'merged', merged_into = $p WHERE id = $id AND tenant = '$b'")" WI023
    check "a parent that exists in no tenant is still the foreign key's 23503" \
        same "$(code "$db" "INSERT INTO workitem.item (kind, parent_id, title, tenant) VALUES ('ticket', 999999, 'x', '$b')")" 23503
    # a message on a closed item starts a follow-up ticket, in the shard
    cq 0 "$db" "SELECT workitem.resolve($id, 'spam')" >/dev/null 2>&1
    got=$(cq 0 "$db" "SELECT workitem.record_message($id, 'inbound', 'email', 'again', 'broken again', 'c@$b') > 0" 2>&1)
    check "an inbound message on a closed item (tenant $b) starts a follow-up ticket in its tenant, which gets the message" \
        same "$got $(cq 0 "$db" "SELECT f.tenant || ':' || f.status || ':' || f.highlighted || ':' || (SELECT count(*) FROM workitem.message m
                                 WHERE m.item_id = f.id AND m.tenant = f.tenant AND m.subject = 'again')
                                 FROM workitem.item f WHERE f.follows_id = $id" 2>&1)" "t $b:to_do:true:2"
    x=$(cq 0 "$db" "SELECT id FROM workitem.item WHERE follows_id = $id")
    check "thread() of a merge target through the coordinator (plpgsql, in the item's tenant): its messages and the merged item's" \
        same "$(cq 0 "$db" "SET workitem.tenant = '$b'; SELECT (workitem.merge((workitem.create_ticket('dup', 'd', 'c', 'p', 'r', NULL, true)).id, $x)).status;
                            SELECT count(*) FROM workitem.thread($x)" 2>&1 | tr '\n' ' ')" "closed 3 "
}
# shards <db> <sql>: sql's last line, then how many shards of one of
# workitem's tables (the most) the coordinator sent commands to for it
# (citus.log_remote_commands).
shards() {
    "$PGBIN/psql" -X -q -At -h "${CITUS_DIRS[0]}" -p "${CITUS_PORTS[0]}" -U postgres -d "$1" \
        -c "SET citus.log_remote_commands = on" -c "SET client_min_messages = notice" -c "$2" 2>"$dir/shards.err" | tail -n 1
    # the most shards of one table (colocated shards of two tables have ids of their own)
    grep -o 'workitem\.[a-z_]*_[0-9][0-9]*' "$dir/shards.err" | sort -u |
        awk '{ sub(/_[0-9]+$/, ""); n[$0]++ } END { m = 0; for (t in n) if (n[t] > m) m = n[t]; print m }'
}
# The session names its tenant: an operation given an item id looks there
# first, in one shard; a wrong or no tenant still reaches the item (every shard).
routed() {
    local db=$1 a b id c act x y got
    a=$(tenant_on "$db" 1) b=$(tenant_on "$db" 2)
    id=$(cq 0 "$db" "SET workitem.tenant = '$a'; SELECT id FROM workitem.create_ticket('Routed', 'd', 'c', 'p', 'r', NULL, true)")
    check "start(id) in the session's tenant reaches one shard" \
        same "$(shards "$db" "SET workitem.tenant = '$a'; SELECT (workitem.start($id)).status" | tr '\n' ' ')" "in_progress 1 "
    got=$(shards "$db" "SET workitem.tenant = '$b'; SELECT (workitem.assign($id, 'bob')).assignee" | tr '\n' ' ')
    check "assign(id) with another tenant named still finds the item (every shard, as with none: $got)" \
        test "${got% * }" = bob -a "${got#* }" -gt 1
    check "unassign(id) with no tenant named: every shard, as before" \
        test "$(shards "$db" "SELECT (workitem.unassign($id)).status" | tail -n 1)" -gt 1
    check "history(id) and thread(id) in the session's tenant: one shard each" \
        same "$(shards "$db" "SET workitem.tenant = '$a'; SELECT count(*) > 3 FROM workitem.history($id)" | tr '\n' ' ')$(shards "$db" "SET workitem.tenant = '$a'; SELECT count(*) FROM workitem.thread($id)" | tr '\n' ' ')" \
             "t 1 1 1 "
    check "history(id) with another tenant named: the same rows (every shard)" \
        same "$(cq 0 "$db" "SET workitem.tenant = '$b'; SELECT count(*) FROM workitem.history($id)")" \
             "$(cq 0 "$db" "SELECT count(*) FROM workitem.history($id)")"
    c=$(cq 0 "$db" "SET workitem.tenant = '$a'; SELECT id FROM workitem.create_case('Routed case', 'd', 'c', NULL, true)")
    check "create_action(case) and resolve(action) in the session's tenant: one shard each" \
        same "$(act=$(shards "$db" "SET workitem.tenant = '$a'; SELECT (workitem.create_action($c, 'step')).id" | tr '\n' ' ');
                shards "$db" "SET workitem.tenant = '$a'; SELECT (workitem.resolve(${act%% *}, 'completed')).status" | tr '\n' ' '; echo "${act#* }")" \
             "closed 1 1 "
    x=$(cq 0 "$db" "SET workitem.tenant = '$a'; SELECT id FROM workitem.create_ticket('Dup', 'd', 'c', 'p', 'r', NULL, true)")
    check "merge(id, into) in the session's tenant: one shard" \
        same "$(shards "$db" "SET workitem.tenant = '$a'; SELECT (workitem.merge($x, $id)).status" | tr '\n' ' ')" "closed 1 "
    y=$(cq 0 "$db" "SET workitem.tenant = '$a'; SELECT id FROM workitem.create_ticket('Work', 'd', 'c', 'p', 'r', NULL, true)")
    check "log_time(), add_expense(), record_message() in the session's tenant: one shard each" \
        same "$(for op in "(workitem.log_time($y, '1 hour')).tenant" "(workitem.add_expense($y, 'expense', 'taxi', 1, 2, 'EUR')).tenant" \
                          "workitem.record_message($y, 'inbound', 'email', 's', 'b') > 0"; do
                    shards "$db" "SET workitem.tenant = '$a'; SELECT $op"
                done | tr '\n' ' ')" "$a 1 $a 1 t 1 "
    check "split(id) in the session's tenant: one shard" \
        same "$(shards "$db" "SET workitem.tenant = '$a'; SELECT cardinality(workitem.split($y, ARRAY['p1', 'p2']))" | tr '\n' ' ')" "2 1 "
    check "a wrong tenant named: create_action() still puts the action in its case's tenant" \
        same "$(cq 0 "$db" "SET workitem.tenant = '$b'; SELECT (workitem.create_action($c, 'step 2')).tenant" 2>&1)" "$a"
    # resolve() with no tenant named: the read of every shard that finds an
    # action's case also finds the item's tenant, where it is then locked
    n=$(cq 0 "$db" "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'workitem.item'::regclass")
    x=$(cq 0 "$db" "SET workitem.tenant = '$a'; SELECT id FROM workitem.create_ticket('Unnamed', 'd', 'c', 'p', 'r', NULL, true)")
    act=$(cq 0 "$db" "SET workitem.tenant = '$a'; SELECT (workitem.create_action($c, 'step 3')).id")
    # (then one routed read more each: worker_moves(), the NOTIFY payloads the worker kept)
    check "resolve(ticket) and resolve(action) with no tenant named: one read of every shard each, then routed reads only ($n shards)" \
        same "$(for i in "$x" "$act"; do item_reads "$db" "SELECT (workitem.resolve($i, 'completed')).resolution"; done | tr '\n' ' ')" \
             "completed $((n + 2)) completed $((n + 3)) "
}
# item_reads <db> <sql>: its result, then how many SELECTs of workitem.item's shards it sent
item_reads() {
    "$PGBIN/psql" -X -q -At -h "${CITUS_DIRS[0]}" -p "${CITUS_PORTS[0]}" -U postgres -d "$1" \
        -c "SET citus.log_remote_commands = on" -c "SET client_min_messages = notice" -c "$2" 2>"$dir/reads.err" | tail -n 1
    grep -c 'issuing SELECT .* FROM workitem\.item_[0-9]' "$dir/reads.err"
}
# The rows the trigger writes for what the operations make name the
# session's actor (carried in the row: the node does not see the setting).
created_actor() {
    local db=$1 b t c k l got
    b=$(tenant_on "$db" 2)
    got=$(cq 0 "$db" "SET workitem.tenant = '$b'; SET workitem.actor = 'alice';
        CREATE TEMP TABLE made AS SELECT (workitem.create_ticket('Made', 'd', 'c', 'p', 'r', NULL, true)).id AS t,
                                         (workitem.create_case('Made case', 'd', 'c', NULL, true)).id AS c;
        SELECT workitem.create_action(c, 'act') FROM made;
        SELECT workitem.split(t, ARRAY['k1']) FROM made;
        SELECT workitem.launch_case((workitem.create_ticket('Launcher', 'd', 'c', 'p', 'r', NULL, true)).id, 'launched');
        SELECT workitem.log_time(c, '1 hour') FROM made;
        SELECT workitem.add_expense(c, 'expense', 'taxi', 1, 2, 'EUR') FROM made;
        SELECT string_agg(DISTINCT e.what || ':' || e.actor, ' ' ORDER BY e.what || ':' || e.actor)
          FROM workitem.event e JOIN workitem.item i ON i.id = e.item_id AND i.tenant = e.tenant
         WHERE e.tenant = '$b' AND (i.title IN ('Made', 'Made case', 'act', 'k1', 'Launcher', 'launched'))
           AND e.what IN ('created', 'time_entry', 'expense')" 2>&1 | tail -n 1)
    check "create_ticket, create_case, create_action, split's and launch_case's new items, log_time, add_expense: their log rows name the session's actor" \
        same "$got" "created:alice expense:alice time_entry:alice"
    check "... a created row for each of the six new items, every one alice's" \
        same "$(cq 0 "$db" "SELECT count(DISTINCT i.id) FROM workitem.event e JOIN workitem.item i ON i.id = e.item_id AND i.tenant = e.tenant
                WHERE e.tenant = '$b' AND i.title IN ('Made', 'Made case', 'act', 'k1', 'Launcher', 'launched')
                  AND e.what = 'created' AND e.actor = 'alice'" 2>&1)" 6
    check "... and add_expense()'s author is the session's actor; change_actor is not kept" \
        same "$(cq 0 "$db" "SELECT string_agg(DISTINCT author || ':' || (x.change_actor IS NULL), ',') FROM workitem.expense x
                            WHERE tenant = '$b' AND description = 'taxi'")$(cq 0 "$db" "SELECT ',' || count(*) FROM workitem.time_entry
                            WHERE tenant = '$b' AND change_actor IS NOT NULL")" "alice:true,0"
}
# The times a move sets on the worker are the coordinator's now(), carried
# in the row (item.change_at, a message's at): in one transaction through
# the coordinator, every time the trigger sets, and every log row and note
# it writes, is that transaction's now(), as on one node; a plain INSERT of
# an item carries the session's actor (change_actor's default, evaluated on
# the coordinator).
coordinator_time() {
    local db=$1 b got
    b=$(tenant_on "$db" 1)
    cq 0 "$db" "INSERT INTO workitem.category_config (kind, category, feedback_window, require_resolution_note, days_to_wait)
                VALUES ('ticket', 'coord_time', '7 days', false, 3) ON CONFLICT DO NOTHING" >/dev/null
    got=$(cqs 0 "$db" 2>&1 <<SQL | tr '\n' ' '
SET workitem.tenant = '$b';
SET workitem.actor = 'nina';
BEGIN;
SELECT now() AS t0 \gset
SELECT id AS i FROM workitem.create_ticket('Clock', 'd', 'coord_time', 'p', 'r', NULL, true) \gset
SELECT id AS c FROM workitem.create_case('Clock case', 'd', NULL, NULL, true) \gset
SELECT 'wait_until:' || (wait_until = :'t0'::timestamptz + interval '3 days') FROM workitem.wait_more_info(:i);
SELECT workitem.record_message(:i, 'inbound', 'email', 'Re', 'here') > 0 AND true AS recorded \gset
SELECT 'resolved:' || (created_at = :'t0' AND submitted_at = :'t0' AND status_changed_at = :'t0' AND resolved_at = :'t0'
       AND feedback_until = :'t0'::timestamptz + interval '7 days') FROM workitem.resolve(:i, 'customer_response', 'done');
INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', :c, 'Plain action') RETURNING id AS a \gset
COMMIT;
SELECT 'log:' || count(*) || ':' || count(*) FILTER (WHERE at <> :'t0') FROM workitem.history(:i);
SELECT 'thread:' || count(*) || ':' || count(*) FILTER (WHERE at <> :'t0') FROM workitem.thread(:i);
SELECT 'action:' || string_agg(actor || ':' || (at = :'t0'), ',') FROM workitem.history(:a) WHERE what = 'created';
SELECT 'created_at:' || (created_at = :'t0' AND submitted_at = :'t0') FROM workitem.item WHERE id = :a AND tenant = '$b';
INSERT INTO workitem.time_entry (item_id, duration, tenant) VALUES (:c, '1 hour', '$b');
INSERT INTO workitem.expense (item_id, kind, description, quantity, unit_price, currency, tenant)
VALUES (:c, 'expense', 'plain', 1, 2, 'EUR', '$b');
SELECT 'worktime:' || string_agg(what || ':' || actor, ',' ORDER BY what) FROM workitem.history(:c) WHERE what IN ('time_entry', 'expense');
SELECT 'resource:' || (SELECT resource FROM workitem.time_entry WHERE item_id = :c AND tenant = '$b')
       || ':' || (SELECT author FROM workitem.expense WHERE item_id = :c AND tenant = '$b');
SELECT id AS m FROM workitem.create_ticket('Merged', 'd', 'coord_time', 'p', 'r', NULL, true) \gset
SELECT id AS mt FROM workitem.create_ticket('Target', 'd', 'coord_time', 'p', 'r', NULL, true) \gset
BEGIN;
SELECT now() AS t1 \gset
SELECT workitem.merge(:m, :mt) IS NOT NULL AS merged \gset
COMMIT;
SELECT 'merge:' || string_agg(DISTINCT actor || ':' || (at = :'t1'), ',') FROM workitem.history(:m) WHERE at >= :'t1';
SQL
)
    check "one transaction through the coordinator: wait_until (days to wait), the times resolve() sets and feedback_until are its now() (worker $b)" \
        same "$(echo "$got" | grep -o 'wait_until:[a-z]* resolved:[a-z]*')" "wait_until:true resolved:true"
    check "... every log row of the item and every message of its thread (notes written on the worker, a message recorded through the coordinator) is stamped with it" \
        same "$(echo "$got" | grep -o 'log:[0-9]*:[0-9]* thread:[0-9]*:[0-9]*' | sed 's/log:[0-9]*:/log:/; s/thread:[0-9]*:/thread:/')" "log:0 thread:0"
    check "... a plain INSERT of an action: its created row names the session's actor, at that now(), and created_at is it" \
        same "$(echo "$got" | grep -o 'action:[^ ]* created_at:[a-z]*')" "action:nina:true created_at:true"
    check "... a plain INSERT of a time entry and of an expense: their log rows name the session's actor, who is the entry's resource and the expense's author" \
        same "$(echo "$got" | grep -o 'worktime:[^ ]* resource:[^ ]*')" "worktime:expense:nina,time_entry:nina resource:nina:nina"
    check "... merge() in a transaction of its own: the merged item's log rows name the session's actor, at its now()" \
        same "$(echo "$got" | grep -o 'merge:[^ ]*')" "merge:nina:true"
}
# An agent (workitem_agent, neither superuser nor owner) through the
# coordinator: the role made first (Citus propagates CREATE ROLE and GRANT
# to every node). The trigger on a shard checks a new row's id against the
# distributed table's sequence (the shard has none): ids the session drew
# are taken, ids forged in a node's own range are refused (issue 18).
# cqu <user> <node> <db> <sql>: cq as another role.
cqu() {
    "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "${CITUS_DIRS[$2]}" -p "${CITUS_PORTS[$2]}" -U "$1" -d "$3" -c "$4"
}
agent_citus() {
    local db=$1 t id got w
    cq 0 "$db" "CREATE ROLE wi_citus_agent LOGIN; GRANT workitem_agent TO wi_citus_agent" >/dev/null
    check "the agent role and its membership of workitem_agent are on every node" \
        same "$(cq 0 "$db" "SELECT string_agg(result, ' ' ORDER BY nodeport) FROM run_command_on_workers(
                \$\$SELECT pg_has_role('wi_citus_agent', 'workitem_agent', 'MEMBER')\$\$)")" "t t"
    for w in 1 2; do
        t=$(tenant_on "$db" $w)
        id=$(cqu wi_citus_agent 0 "$db" "SET workitem.tenant = '$t';
            SELECT id FROM workitem.create_ticket('Agent of $t', 'VPN down', 'network', 'c@$t', 'c@$t', NULL, true)" 2>&1)
        check "an agent creates a ticket through the coordinator (tenant $t, worker $w)" test "$id" -gt 0 2>/dev/null || continue
        got=$(for op in "(workitem.start($id)).status" "(workitem.wait_more_info($id)).status" "(workitem.resume($id)).status" \
                        "workitem.record_message($id, 'inbound', 'email', 'more', 'details') > 0" \
                        "(workitem.resolve($id, 'customer_response', 'fixed')).status" \
                        "(workitem.reopen($id, 'not fixed')).status" \
                        "(workitem.resolve($id, 'customer_response', 'fixed now')).status" "(workitem.close($id)).status"; do
                  cqu wi_citus_agent 0 "$db" "SET workitem.actor = 'agent'; SELECT $op" 2>&1
              done | tr '\n' ' ')
        check "the agent's ticket story through the coordinator (tenant $t)" \
            same "$got" "in_progress waiting in_progress t resolved in_progress resolved closed "
        check "an agent's plain INSERT through the coordinator (the id drawn by the default)" \
            cqu wi_citus_agent 0 "$db" "INSERT INTO workitem.item (kind, title, tenant) VALUES ('case', 'plain', '$t')"
        check "an id forged in worker $w's own range, sent there by the coordinator: refused (42501)" \
            same "$("$PGBIN/psql" -X -q -At -v VERBOSITY=verbose -h "${CITUS_DIRS[0]}" -p "${CITUS_PORTS[0]}" -U wi_citus_agent -d "$db" \
                    -c "INSERT INTO workitem.item (id, kind, title, tenant) VALUES (($w::bigint << 48) + 999999, 'case', 'squat', '$t')" 2>&1 |
                    sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -n 1)" 42501
        check "an id forged in the other worker's range, sent to worker $w by the coordinator: refused (42501)" \
            same "$("$PGBIN/psql" -X -q -At -v VERBOSITY=verbose -h "${CITUS_DIRS[0]}" -p "${CITUS_PORTS[0]}" -U wi_citus_agent -d "$db" \
                    -c "INSERT INTO workitem.item (id, kind, title, tenant) VALUES (($((3 - w))::bigint << 48) + 999999, 'case', 'squat', '$t')" 2>&1 |
                    sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -n 1)" 42501
        check "an explicit nextval() through the coordinator: taken (drawn there, in the coordinator's range)" \
            cqu wi_citus_agent 0 "$db" "INSERT INTO workitem.item (id, kind, title, tenant) VALUES (nextval('workitem.item_id_seq'), 'case', 'drawn', '$t')"
        check "an agent's INSERT sent by the other worker (its session there, the id drawn by the default in that worker's range): taken" \
            same "$(cqu wi_citus_agent $((3 - w)) "$db" "INSERT INTO workitem.item (kind, title, tenant) VALUES ('case', 'from a worker', '$t') RETURNING id >> 48" 2>&1)" "$((3 - w))"
        check "... refused naming the distributed table, not its shard (pg_dist_shard)" \
            same "$("$PGBIN/psql" -X -q -At -h "${CITUS_DIRS[0]}" -p "${CITUS_PORTS[0]}" -U wi_citus_agent -d "$db" \
                    -c "INSERT INTO workitem.item (id, kind, title, tenant) VALUES (($w::bigint << 48) + 999998, 'case', 'squat', '$t')" 2>&1 |
                    grep -o 'only the owner of [a-z_0-9.]*')" "only the owner of workitem.item"
        check "an id forged on worker $w itself, for its own shard: refused (42501)" \
            same "$("$PGBIN/psql" -X -q -At -v VERBOSITY=verbose -h "${CITUS_DIRS[$w]}" -p "${CITUS_PORTS[$w]}" -U wi_citus_agent -d "$db" \
                    -c "INSERT INTO workitem.item (id, kind, title, tenant) VALUES (900000001, 'case', 'squat', '$t')" 2>&1 |
                    sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -n 1)" 42501
    done
    check "no squatted item was stored" same "$(cq 0 "$db" "SELECT count(*) FROM workitem.item WHERE title = 'squat'")" 0
}
# NOTIFY on a cluster: the triggers on the workers send none (a worker's
# NOTIFY makes Citus's two-phase commit fail); the operations send their
# item's move from the coordinator, heard by its listeners at commit.
notify_citus() {
    local db=$1 a b ia ib got
    a=$(tenant_on "$db" 1) b=$(tenant_on "$db" 2)
    ia=$(cq 0 "$db" "SET workitem.tenant = '$a'; SELECT id FROM workitem.create_ticket('Notify $a', 'd', 'network', 'c', 'r', NULL, true)")
    ib=$(cq 0 "$db" "SET workitem.tenant = '$b'; SELECT id FROM workitem.create_ticket('Notify $b', 'd', 'network', 'c', 'r', NULL, true)")
    printf "BEGIN;\nSELECT (workitem.start($ia)).status;\nSELECT (workitem.start($ib)).status;\nCOMMIT;\n" | cqs 0 "$db" >/dev/null 2>&1
    check "a transaction that moves items of two tenants on two workers commits (two-phase commit)" \
        same "$(cq 0 "$db" "SELECT string_agg(status::text, ' ' ORDER BY tenant) FROM workitem.item WHERE id IN ($ia, $ib) AND title LIKE 'Notify %'")" \
        "in_progress in_progress"
    printf "BEGIN;\nSELECT (workitem.wait_until($ia, now() + interval '1 day', 'later')).status;\nINSERT INTO workitem.category_config (kind, category, feedback_window) VALUES ('ticket', 'notify-test', '1 day');\nCOMMIT;\n" |
        cqs 0 "$db" >/dev/null 2>&1
    check "a transaction that moves an item and writes a reference table commits" \
        same "$(cq 0 "$db" "SELECT status || ':' || (SELECT count(*) FROM workitem.category_config WHERE category = 'notify-test')
                            FROM workitem.item WHERE id = $ia AND tenant = '$a'")" "waiting:1"
    got=$(printf "LISTEN workitem_moves;\nSET workitem.actor = 'alice';\nSELECT (workitem.resume($ia)).status;\nSELECT (workitem.resolve($ib, 'customer_response', 'ok')).status;\nSET workitem.tenant = '$b';\nSELECT 1 FROM workitem.create_case('Heard', 'd', 'network', NULL, false);\nUPDATE workitem.item SET status = 'in_progress', assignee = 'bob' WHERE title = 'Heard' AND tenant = '$b';\n" |
          cqs 0 "$db" 2>&1 | sed -n 's/^Asynchronous notification "workitem_moves" with payload "\(.*\)" received from server process with PID [0-9]*\.$/\1/p' |
          sed 's/"item": [0-9]*/"item": N/' | tr '\n' '|')
    check "a LISTEN on the coordinator hears the operations' moves (item, from, to, actor), not a plain UPDATE" \
        same "$got" '{"item": N, "from": "waiting", "to": "in_progress", "actor": "alice"}|{"item": N, "from": "in_progress", "to": "resolved", "actor": "alice"}|{"item": N, "from": null, "to": "draft", "actor": "alice"}|'
    # The moves the engine makes on a worker, and the operations that moved
    # no item of their own on the coordinator: kept on the worker, taken back
    # and sent at the coordinator's commit (src/notify.c). Sorted: a split
    # inserts its children first on Citus; the actor left out (the engine's
    # moves on a worker name the worker's user for now).
    heard() {
        cqs 0 "$db" 2>&1 | sed -n 's/^Asynchronous notification "workitem_moves" with payload "\(.*\)" received from server process with PID [0-9]*\.$/\1/p' |
            sed 's/"item": [0-9]*/"item": N/; s/, "actor": "[^"]*"//' | LC_ALL=C sort | uniq -c | awk '{$1 = $1; print}' | tr '\n' '|'
    }
    got=$(printf "LISTEN workitem_moves;\nSET workitem.tenant = '$a';\nSELECT id AS c FROM workitem.create_case('Heard case', 'd', 'c', 'r', true) \\gset\nSELECT 1 FROM workitem.create_action(:c, 'one');\nSELECT 1 FROM workitem.create_action(:c, 'two');\nSELECT 1 FROM workitem.cancel(:c, 'not needed');\n" | heard)
    check "a LISTEN on the coordinator hears create_action(), and cancel() closing the case's actions on the worker" \
        same "$got" '3 {"item": N, "from": "to_do", "to": "closed"}|3 {"item": N, "from": null, "to": "to_do"}|'
    got=$(printf "SET workitem.tenant = '$b';\nSELECT id AS t FROM workitem.create_ticket('Heard split', 'd', 'network', 'c', 'r', NULL, true) \\gset\nLISTEN workitem_moves;\nSELECT 1 FROM workitem.split(:t, ARRAY['x', 'y']);\nSELECT id AS l FROM workitem.create_ticket('Heard launch', 'd', 'network', 'c', 'r', NULL, true) \\gset\nSELECT 1 FROM workitem.launch_case(:l, 'its case');\n" | heard)
    check "and split() and launch_case(): the children created, the ticket waiting" \
        same "$got" '2 {"item": N, "from": "to_do", "to": "waiting"}|4 {"item": N, "from": null, "to": "to_do"}|'
    got=$(printf "SET workitem.tenant = '$a';\nSELECT id AS w FROM workitem.create_ticket('Heard wake', 'd', 'network', 'c', 'r', NULL, true) \\gset\nSELECT 1 FROM workitem.wait_more_info((workitem.start(:w)).id);\nSELECT id AS m FROM workitem.create_ticket('Heard merge', 'd', 'network', 'c', 'r', NULL, true) \\gset\nLISTEN workitem_moves;\nSELECT 1 FROM workitem.record_message(:w, 'inbound', 'email', 're', 'here', 'c');\nSELECT 1 FROM workitem.merge(:m, :w);\n" | heard)
    check "and record_message() waking its item, merge()" \
        same "$got" '1 {"item": N, "from": "to_do", "to": "closed"}|1 {"item": N, "from": "waiting", "to": "in_progress"}|'
    ids=
    for t in $a $b; do
        ids="$ids $(cq 0 "$db" "SET workitem.tenant = '$t';
            SELECT (workitem.wait_more_info((workitem.start((workitem.create_ticket('Heard silence', 'd', 'network', 'c', 'c', NULL, true)).id)).id, 2, true)).id" 2>&1)"
    done
    got=$(printf "LISTEN workitem_moves;\nSELECT workitem.run_timers(now() + interval '3 days') > 0;\n" | cqs 0 "$db" 2>&1 |
          grep -E "\"item\": ($(echo $ids | tr ' ' '|')), \"from\": \"waiting\", \"to\": \"closed\", \"actor\": \"system\"" | wc -l)
    check "and run_timers() closing tickets on both workers in one call (items$ids)" \
        same "$got" 2
}
# Settings do not reach the workers; SET LOCAL does, when Citus propagates it.
actor() {
    local db=$1 b id
    b=$(tenant_on "$db" 2)
    id=$(cq 0 "$db" "SET workitem.tenant = '$b'; SELECT id FROM workitem.create_ticket('Actor', 'd', 'c', 'p', 'r', NULL, true)")
    printf "BEGIN;\nSET LOCAL citus.propagate_set_commands = 'local';\nSET LOCAL workitem.actor = 'carol';\nUPDATE workitem.item SET priority = 'high' WHERE id = $id AND tenant = '$b';\nCOMMIT;\nSET workitem.actor = 'dave';\nUPDATE workitem.item SET priority = 'low' WHERE id = $id AND tenant = '$b';\nUPDATE workitem.item SET priority = 'mid', change_actor = 'erin' WHERE id = $id AND tenant = '$b';\n" |
        cqs 0 "$db" >/dev/null 2>&1
    check "a plain UPDATE's actor: SET LOCAL workitem.actor with citus.propagate_set_commands = 'local' reaches the worker, a session SET does not, change_actor does" \
        same "$(cq 0 "$db" "SELECT string_agg(new_value || ':' || actor, ' ' ORDER BY id) FROM workitem.history($id) WHERE what = 'priority'" 2>&1)" \
        "high:carol low:postgres mid:erin"
}
# INSERT ... SELECT through the coordinator reaches the shards as COPY
copy_rules() {
    local db=$1
    # (Citus reports a shard's error in its COPY as XX000: the rule's message is checked)
    check "INSERT ... SELECT through the coordinator is held to the rules (a new item waiting on a split is refused)" \
        test -n "$(cq 0 "$db" "INSERT INTO workitem.item (tenant, kind, status, wait_type, title)
                               SELECT 'cp', 'ticket', 'waiting', 'split', 'x' || g FROM generate_series(1, 2) g" 2>&1 |
                   grep 'a ticket cannot move from draft to waiting')"
    check "... and stored nothing" same "$(cq 0 "$db" "SELECT count(*) FROM workitem.item WHERE tenant = 'cp'")" 0
    # (the triggers on Citus's connections send no NOTIFY: nothing to turn off)
    cq 0 "$db" "INSERT INTO workitem.item (tenant, kind, title) SELECT 'cp', 'ticket', 'x' || g FROM generate_series(1, 3) g" >/dev/null 2>&1
    check "a valid INSERT ... SELECT: the items stored, each with its created event" \
        same "$(cq 0 "$db" "SELECT count(*) || ' ' || (SELECT count(*) FROM workitem.event WHERE tenant = 'cp' AND what = 'created')
                            FROM workitem.item WHERE tenant = 'cp'")" "3 3"
}
# distribute() of a database with items: Citus's copy of them is a restore
distribute_loaded() {
    local db=${1}_loaded nev
    citus_db_create "$db" 2 >/dev/null 2>&1
    cq 0 "$db" "SET client_min_messages = warning; CREATE EXTENSION workitem" >/dev/null
    cq 0 "$db" "SET workitem.tenant = 'a'; SELECT workitem.resolve((workitem.create_ticket('T', 'd', 'c', 'p', 'r', NULL, true)).id, 'customer_response', 'x');
                SET workitem.tenant = 'b'; SELECT workitem.start((workitem.create_ticket('T', 'd', 'c', 'p', 'r', NULL, true)).id)" >/dev/null
    nev=$(cq 0 "$db" "SELECT count(*) FROM workitem.event")
    check "distribute() of a database with items loads them as they are (closed, in progress) and their log" \
        same "$(cq 0 "$db" "SET client_min_messages = warning; SELECT FROM workitem.distribute();
                            SELECT string_agg(tenant || ':' || status, ' ' ORDER BY id) FROM workitem.item;
                            SELECT count(*) FROM workitem.event" 2>&1 | tr '\n' ' ')" \
        "a:closed b:in_progress $nev "
}
attach_citus() {
    local db=$1 a b got t
    a=$(tenant_on "$db" 1) b=$(tenant_on "$db" 2)
    cq 0 "$db" "CREATE TABLE orders (id int PRIMARY KEY, status text NOT NULL DEFAULT 'to_do');
                SELECT create_reference_table('orders')" >/dev/null 2>&1
    check "attach() through the coordinator of a reference table (rules only), and again (the upsert's DO UPDATE)" \
        quiet cq 0 "$db" "SELECT workitem.attach('orders', kind => 'ticket', log_events => false);
                    SELECT workitem.attach('orders', kind => 'ticket', log_events => false)"
    check "its rows follow the lifecycle on every node: a move allowed, one refused (WI001)" \
        same "$(cq 0 "$db" "INSERT INTO orders VALUES (1); UPDATE orders SET status = 'in_progress' WHERE id = 1; SELECT status FROM orders" 2>&1) $(code "$db" "UPDATE orders SET status = 'draft' WHERE id = 1")" \
        "in_progress WI001"
    # Its log (issue 14): one row per move, not one per placement, in the
    # attaching session's tenant, named by the table through the coordinator
    cq 0 "$db" "CREATE TABLE desk_ref (id int PRIMARY KEY, status text NOT NULL DEFAULT 'to_do');
                SELECT create_reference_table('desk_ref')" >/dev/null 2>&1
    cq 0 "$db" "SET workitem.tenant = '$b'; SELECT workitem.attach('desk_ref', kind => 'ticket', feedback_window => '0')" >/dev/null
    cq 0 "$db" "INSERT INTO desk_ref VALUES (1)" >/dev/null 2>&1
    cq 0 "$db" "UPDATE desk_ref SET status = 'in_progress' WHERE id = 1" >/dev/null 2>&1
    check "a reference table's moves are logged once (not once per placement), in the attaching session's tenant, under its name" \
        same "$(cq 0 "$db" "SELECT string_agg(tenant || ':' || row_key || ':' || what, ' ' ORDER BY id)
                            FROM workitem.event WHERE source = 'desk_ref'::regclass;
                            SELECT DISTINCT source FROM workitem.event WHERE row_key = '1' AND what = 'created'" 2>&1 | tr '\n' ' ')" \
        "$b:1:created $b:1:status desk_ref "
    check "history(tbl, row_key) through the coordinator finds its rows" \
        same "$(cq 0 "$db" "SELECT string_agg(what || ':' || coalesce(new_value, ''), ' ' ORDER BY id) FROM workitem.history('desk_ref', '1')" 2>&1)" \
        "created:to_do status:in_progress"
    cq 0 "$db" "UPDATE desk_ref SET status = 'resolved' WHERE id = 1" >/dev/null 2>&1
    check "its feedback window on Citus: a reopen after it closed is refused (WI007)" \
        same "$(code "$db" "UPDATE desk_ref SET status = 'in_progress' WHERE id = 1")" WI007
    # The actor of a plain statement on an attached table: its trigger runs
    # on the placements (every node for a reference table), in Citus's
    # sessions there, which a session's SET workitem.actor does not reach;
    # SET LOCAL, propagated with citus.propagate_set_commands = 'local',
    # does, and so does the table's own actor column
    cq 0 "$db" "CREATE TABLE desk_actor (id int PRIMARY KEY, status text NOT NULL DEFAULT 'to_do', owner text, who text);
                SELECT create_reference_table('desk_actor')" >/dev/null 2>&1
    cq 0 "$db" "SET workitem.tenant = '$b'; SELECT workitem.attach('desk_actor', kind => 'ticket', assignee_column => 'owner', actor_column => 'who')" >/dev/null
    cq 0 "$db" "INSERT INTO desk_actor (id, who) SELECT g, CASE WHEN g = 1 THEN 'erin' END FROM generate_series(1, 10) g" >/dev/null 2>&1
    printf "BEGIN;\nSET LOCAL citus.propagate_set_commands = 'local';\nSET LOCAL workitem.actor = 'carol';\nUPDATE desk_actor SET status = 'in_progress' WHERE id = 2;\nCOMMIT;\nSET workitem.actor = 'dave';\nUPDATE desk_actor SET status = 'in_progress', owner = 'zed' WHERE id = 4;\nUPDATE desk_actor SET status = 'in_progress' WHERE id = 1;\n" |
        cqs 0 "$db" >/dev/null 2>&1
    check "an attached table's plain UPDATE: its actor column names the actor, SET LOCAL workitem.actor (propagated) does, a session's SET does not (the user Citus connects as)" \
        same "$(cq 0 "$db" "SELECT string_agg(row_key || ':' || actor, ' ' ORDER BY row_key) FROM workitem.event
                            WHERE source = 'desk_actor'::regclass AND what = 'status'" 2>&1)" \
        "1:erin 2:carol 4:postgres"
    # Starting unassigned work assigns it to the actor, on each placement of
    # a reference table (README "Scale out with Citus"): only an actor that
    # reaches every placement is written, anything else is refused (0A000)
    # and changes no copy. refused_start <id> <statements before the UPDATE>:
    # the SQLSTATE and the message of the refusal, each statement sent alone.
    refused_start() {
        printf "%s\nUPDATE desk_actor SET status = 'in_progress' WHERE id = %s;\n" "$2" "$1" |
            "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -h "${CITUS_DIRS[0]}" -p "${CITUS_PORTS[0]}" -U postgres -d "$db" 2>&1 |
            sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): \(.*\)/\1 \2/p' | head -n 1
    }
    got=$(refused_start 3 "SET workitem.actor = 'dave';")
    echo "# a session's SET: $got"
    check "... a reference table's row started under a session's SET workitem.actor is refused (0A000), naming the table, the row and the actor" \
        test -n "$(echo "$got" | grep -E "^0A000 public.desk_actor row 3: starting unassigned work would assign it to the actor \"(dave|postgres)\"")"
    got=$(printf "SET workitem.actor = 'dave';\nUPDATE desk_actor SET status = 'in_progress' WHERE id = 3;\n" |
          "$PGBIN/psql" -X -q -At -h "${CITUS_DIRS[0]}" -p "${CITUS_PORTS[0]}" -U postgres -d "$db" 2>&1 | grep -E '^(HINT|DETAIL)' | tr '\n' ' ')
    check "... its hint: SET LOCAL with citus.propagate_set_commands = 'local', or an actor column" \
        test -n "$(echo "$got" | grep -F "HINT:  SET LOCAL workitem.actor in the transaction with citus.propagate_set_commands = 'local', or attach(..., actor_column => ...)")"
    got=
    for t in "BEGIN;
SET LOCAL workitem.actor = 'carol';" "BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SELECT set_config('workitem.actor', 'carol', true);" "BEGIN;
SET LOCAL workitem.actor = 'carol';
SET LOCAL citus.propagate_set_commands = 'local';" "BEGIN;
SELECT workitem.actor();
SET LOCAL workitem.actor = 'carol';
SET LOCAL citus.propagate_set_commands = 'local';" "BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL workitem.actor = 'carol';
SET workitem.actor = 'dave';" "BEGIN;
SELECT workitem.actor();
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL workitem.actor = 'carol';
SELECT set_config('workitem.actor', 'mallory', true);" "SELECT 1;"; do
        got="$got$(refused_start 5 "$t" | cut -c 1-5),"
    done
    check "... and so is one under SET LOCAL without propagation, set_config(), SET LOCAL before the propagation (workitem loaded or not), a session's SET or a set_config() after the SET LOCAL, or no actor at all" \
        same "$got" "0A000,0A000,0A000,0A000,0A000,0A000,0A000,"
    # the consistent ways: the actor column, a propagated SET LOCAL (in a
    # session that loaded workitem first too), a move that assigns nobody
    printf "BEGIN;\nSELECT workitem.actor();\nSET LOCAL citus.propagate_set_commands = 'local';\nSET LOCAL workitem.actor = 'fay';\nUPDATE desk_actor SET status = 'in_progress' WHERE id = 6;\nCOMMIT;\nBEGIN;\nSET LOCAL citus.propagate_set_commands = 'local';\nSAVEPOINT s;\nSET LOCAL workitem.actor = 'gus';\nUPDATE desk_actor SET status = 'in_progress' WHERE id = 7;\nCOMMIT;\nUPDATE desk_actor SET status = 'in_progress', who = 'hal' WHERE id = 8;\n" |
        cqs 0 "$db" >/dev/null 2>&1
    check "... a reference table's placements agree on every row: the refused ones unchanged, the others assigned to the actor column's, the propagated SET LOCAL's, or as the statement said" \
        same "$(cq 0 "$db" "SELECT string_agg(n.groupid || '=' || r.result, ' ' ORDER BY n.groupid)
                            FROM run_command_on_placements('desk_actor', 'SELECT string_agg(id || '':'' || status || '':'' || coalesce(owner, ''-''), '','' ORDER BY id) FROM %s') r
                            JOIN pg_dist_node n ON (n.nodename, n.nodeport) = (r.nodename, r.nodeport)" 2>&1)" \
        "$(for g in 0 1 2; do printf '%s=1:in_progress:erin,2:in_progress:carol,3:to_do:-,4:in_progress:zed,5:to_do:-,6:in_progress:fay,7:in_progress:gus,8:in_progress:hal,9:to_do:-,10:to_do:- ' $g; done | sed 's/ $//')"
    check "attach() of a table on the coordinator only is refused before anything is made (0A000)" \
        same "$(code "$db" "CREATE TABLE desk_local (id int PRIMARY KEY, status text); SELECT workitem.attach('desk_local')")" 0A000
    # A table distributed by tenant, colocated with item: each row in its tenant's shards, with SLA clocks
    cq 0 "$db" "CREATE TABLE desk (tenant text COLLATE \"C\" NOT NULL, id int, status text NOT NULL DEFAULT 'to_do',
                                   PRIMARY KEY (tenant, id));
                SELECT create_distributed_table('desk', 'tenant', colocate_with => 'workitem.item')" >/dev/null 2>&1
    cq 0 "$db" "INSERT INTO workitem.sla_policy (name, kind) VALUES ('desk cases', 'case');
                INSERT INTO workitem.sla_target (policy_id, target, working_time)
                SELECT id, x, interval '8 hours' FROM workitem.sla_policy, unnest('{first_response,resolution}'::text[]) x
                 WHERE name = 'desk cases'" >/dev/null 2>&1
    cq 0 "$db" "SELECT workitem.attach('desk', kind => 'case')" >/dev/null
    cq 0 "$db" "INSERT INTO desk VALUES ('$a', 1), ('$b', 1); UPDATE desk SET status = 'in_progress' WHERE id = 1" >/dev/null 2>&1
    check "its rows' moves are logged in each row's tenant, on its worker (ids of that worker's range)" \
        same "$(cq 0 "$db" "SELECT string_agg(tenant || ':' || row_key || ':' || what || ':' || (id >> 48), ' ' ORDER BY id)
                            FROM workitem.event WHERE source = 'desk'::regclass" 2>&1)" \
        "$a:$a,1:created:1 $a:$a,1:status:1 $b:$b,1:created:2 $b:$b,1:status:2"
    check "its rows get SLA clocks on Citus: the first response met by the start, the resolution running (attached_sla)" \
        same "$(cq 0 "$db" "SELECT string_agg(row_key || ':' || target || ':' || state || ':' || current_status, ' ' ORDER BY row_key = '$b,1', target)
                            FROM workitem.attached_sla WHERE row_key IN ('$a,1', '$b,1')" 2>&1)" \
        "$a,1:first_response:met:in_progress $a,1:resolution:running:in_progress $b,1:first_response:met:in_progress $b,1:resolution:running:in_progress"
    check "history(tbl, row_key) of a distributed table's row" \
        same "$(cq 0 "$db" "SELECT string_agg(what, ' ' ORDER BY id) FROM workitem.history('desk', '$b,1')" 2>&1)" "created status"
    # The views read the log on the workers, where the log's source (the
    # coordinator's OID) names no table, or another: an attached row's
    # source_name and kind come from attached_table's source_oid and
    # source_name, the same on every node (README "Scale out with Citus")
    check "the views give an attached row's source_name and kind through the coordinator (transitions, daily_flow, daily_flow_between(), activity_log, item_sla, attached_sla, status_durations)" \
        same "$(cq 0 "$db" "SELECT string_agg(DISTINCT source_name || '/' || kind, ',') FROM workitem.transitions WHERE source IS NOT NULL;
                            SELECT string_agg(DISTINCT source_name || '/' || kind, ',') FROM workitem.daily_flow WHERE source_name IS NOT NULL;
                            SELECT string_agg(DISTINCT source_name || '/' || kind, ',') FROM workitem.daily_flow_between(current_date - 2, current_date + 2) WHERE source_name IS NOT NULL;
                            SELECT string_agg(DISTINCT source_name, ',') FROM workitem.activity_log WHERE source IS NOT NULL;
                            SELECT string_agg(DISTINCT source_name, ',') FROM workitem.item_sla WHERE row_key IN ('$a,1', '$b,1');
                            SELECT string_agg(DISTINCT source_name, ',') FROM workitem.attached_sla WHERE row_key IN ('$a,1', '$b,1');
                            SELECT string_agg(DISTINCT source_name, ',') FROM workitem.status_durations WHERE source IS NOT NULL" 2>&1 | tr '\n' ' ')" \
        "public.desk/case,public.desk_actor/ticket,public.desk_ref/ticket public.desk/case,public.desk_actor/ticket,public.desk_ref/ticket public.desk/case,public.desk_actor/ticket,public.desk_ref/ticket public.desk,public.desk_actor,public.desk_ref public.desk public.desk public.desk,public.desk_actor,public.desk_ref "
    check "detach() of a reference table through the coordinator: its trigger and its row of attached_table gone on every node" \
        same "$(cq 0 "$db" "SELECT workitem.detach('desk_ref');
                            SELECT count(*) FROM workitem.attached WHERE tbl = 'desk_ref'::regclass;
                            SELECT string_agg(result, ',') FROM run_command_on_placements('desk_ref',
                                'SELECT count(*) FROM pg_trigger WHERE tgrelid = ''%s''::regclass AND tgname = ''zz_workitem_attached''')" 2>&1 | tr '\n' ' ')" \
        " 0 0,0,0 "
}
# run_timers() on the clocks of attached rows, in a database of its own (it
# would move the other tests' waiting items too)
attach_timers_citus() {
    local db=${1}_attached_timers a b
    check "a distributed database for the clocks of attached rows" citus_dist_db "$db" || return
    a=$(tenant_on "$db" 1) b=$(tenant_on "$db" 2)
    cq 0 "$db" "CREATE TABLE desk (tenant text COLLATE \"C\" NOT NULL, id int, status text NOT NULL DEFAULT 'to_do',
                                   PRIMARY KEY (tenant, id));
                SELECT create_distributed_table('desk', 'tenant', colocate_with => 'workitem.item')" >/dev/null 2>&1
    cq 0 "$db" "INSERT INTO workitem.sla_policy (name, kind) VALUES ('desk cases', 'case')" >/dev/null 2>&1
    cq 0 "$db" "INSERT INTO workitem.sla_target (policy_id, target, working_time)
                SELECT id, 'resolution', interval '1 hour' FROM workitem.sla_policy WHERE name = 'desk cases'" >/dev/null 2>&1
    cq 0 "$db" "SELECT workitem.attach('desk', kind => 'case')" >/dev/null
    cq 0 "$db" "INSERT INTO desk VALUES ('$a', 1), ('$a', 2), ('$b', 1), ('$b', 2)" >/dev/null 2>&1
    check "run_timers() through the coordinator fires the warnings and the breach of attached rows' clocks, in each row's tenant, on every node" \
        same "$(cq 0 "$db" "SELECT FROM workitem.run_timers(now() + interval '2 hours');
                            SELECT count(*) FILTER (WHERE what = 'sla_warning') || ' ' || count(*) FILTER (WHERE what = 'sla_breach')
                                   || ' ' || count(DISTINCT tenant) || ' ' || count(DISTINCT id >> 48)
                              FROM workitem.event WHERE source = 'desk'::regclass" 2>&1 | tr '\n' ' ')" \
        "8 4 2 2 "
}
views_citus() {
    local db=$1 v bad=
    # a fresh session each: nothing cached from an earlier statement helps;
    # every column (a count(*) lets Citus leave out the per-day LATERALs)
    for v in $(cq 0 "$db" "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'workitem'::regnamespace
                           AND c.relkind = 'v' ORDER BY 1"); do
        cq 0 "$db" "SELECT * FROM workitem.$v" >/dev/null 2>&1 || bad="$bad $v"
    done
    check "every view answers through the coordinator in a fresh session, all its columns${bad:+ (failed:$bad)}" test -z "$bad"
    check "flow_per_day, sla_per_day and sla_compliance count the clocks and moves of both workers" \
        same "$(cq 0 "$db" "SELECT (SELECT sum(created) FROM workitem.flow_per_day) = (SELECT count(*) FROM workitem.event
                                                                                    WHERE what = 'created' AND item_id IS NOT NULL),
                                   (SELECT sum(stopped) FROM workitem.sla_per_day) = (SELECT count(*) FROM workitem.sla_clock
                                                                                      WHERE state IN ('met', 'missed')),
                                   (SELECT sum(stopped) FROM workitem.sla_compliance) = (SELECT count(*) FROM workitem.sla_clock
                                                                                         WHERE state IN ('met', 'missed') AND item_id IS NOT NULL),
                                   (SELECT count(*) > 0 FROM workitem.sla_compliance)" 2>&1 | tr '\n' ' ')" "t|t|t|t "
    bad=
    check "status_durations has the working time of the items (business_time() on the shards)" \
        same "$(cq 0 "$db" "SELECT count(*) > 0 FROM workitem.status_durations WHERE working_time IS NOT NULL" 2>&1)" t
    for v in "workitem.agent_queue('bob')" "workitem.agent_queue(NULL)" "workitem.inbox(5)" \
             "workitem.daily_flow_between(current_date - 1, current_date)"; do
        cq 0 "$db" "SELECT count(*) FROM $v" >/dev/null 2>&1 || bad="$bad $v"
    done
    check "agent_queue(), inbox(), daily_flow_between() answer through the coordinator${bad:+ (failed:$bad)}" test -z "$bad"
}
# A reader (workitem_reader) through the coordinator: Citus runs a view's
# shard queries as the reader, who gets SELECT on the columns the views
# show or join on (workitem.distribute()), and on nothing else.
readers_citus() {
    local db=$1 v bad= id shard w
    cq 0 "$db" "CREATE ROLE wi_citus_reader LOGIN; GRANT workitem_reader TO wi_citus_reader" >/dev/null
    for v in $(cq 0 "$db" "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'workitem'::regnamespace AND c.relkind = 'v'
                           AND has_table_privilege('workitem_reader', c.oid, 'SELECT') ORDER BY 1"); do
        cqu wi_citus_reader 0 "$db" "SELECT count(*) FROM workitem.$v" >/dev/null 2>&1 || bad="$bad $v"
    done
    check "a reader reads every view through the coordinator${bad:+ (failed:$bad)}" test -z "$bad"
    check "a reader's items row has the SLA columns (sla_clock and the calendars read on the shards as the reader)" \
        same "$(cqu wi_citus_reader 0 "$db" "SELECT count(*) > 0 FROM workitem.items WHERE resolution_state <> 'none'" 2>&1)" t
    id=$(cq 0 "$db" "SELECT max(id) FROM workitem.item WHERE title LIKE 'Agent of %'")
    check "an agent's history() through the coordinator (activity_log read on the shards as the agent)" \
        same "$(cqu wi_citus_agent 0 "$db" "SELECT count(*) > 3 FROM workitem.history($id)" 2>&1)" t
    # on a worker directly: the granted columns of the tables and of their shards, nothing else
    w=$(cq 0 "$db" "SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
                    WHERE p.shardid = get_shard_id_for_distribution_column('workitem.item',
                                                                           (SELECT tenant FROM workitem.item WHERE id = $id))")
    w=$(( w - CITUS_PORTS[0] ))
    shard=$(cq 0 "$db" "SELECT shard_name('workitem.item', get_shard_id_for_distribution_column('workitem.item',
                                          (SELECT tenant FROM workitem.item WHERE id = $id)))")
    check "on worker $w, a reader reads the granted columns of an item (title, status), in the table and in its shard" \
        same "$(cqu wi_citus_reader $w "$db" "SELECT title, status FROM workitem.item WHERE id = $id;
                                             SELECT title, status FROM $shard WHERE id = $id" 2>&1 | tr '\n' ' ')" \
             "$(cq 0 "$db" "SELECT title || '|' || status FROM workitem.item WHERE id = $id") $(cq 0 "$db" "SELECT title || '|' || status FROM workitem.item WHERE id = $id") "
    bad=
    for v in "description FROM workitem.item" "description FROM $shard" "* FROM workitem.item" "body FROM workitem.message" \
             "note FROM workitem.time_entry" "description FROM workitem.expense" "* FROM workitem.sla_clock_event" \
             "* FROM workitem.timer"; do
        [ "$("$PGBIN/psql" -X -q -At -v VERBOSITY=verbose -h "${CITUS_DIRS[$w]}" -p "${CITUS_PORTS[$w]}" -U wi_citus_reader -d "$db" \
                -c "SELECT $v LIMIT 1" 2>&1 | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -n 1)" = 42501 ] || bad="$bad [$v]"
    done
    check "on worker $w, a reader reads no other column: 42501${bad:+ (not refused:$bad)}" test -z "$bad"
}
# Items of two tenants on three workers: a plain INSERT naming another
# tenant's committed item is refused with WI023 whatever the two workers
# (the shard's trigger reads the other shards when its own misses it). An
# item written by the same, still open, transaction on another worker is
# not visible to that read (a transaction of its own): WI404, its detail
# saying why (README "Scale out with Citus").
cross_tenant_citus() {
    local db=$1 w x y c d got= pairs= reader
    local -a tn
    for w in 1 2 3; do tn[$w]=$(tenant_on "$db" $w); done
    check "tenants on each of the three workers (${tn[1]}, ${tn[2]}, ${tn[3]})" test -n "${tn[1]}" -a -n "${tn[2]}" -a -n "${tn[3]}" || return
    for w in "1 2" "2 3" "3 1" "2 1"; do
        x=${tn[${w% *}]} y=${tn[${w#* }]} pairs="$pairs $x>$y"
        c=$(cq 0 "$db" "SET workitem.tenant = '$x'; SELECT (workitem.create_case('Case of $x', NULL, NULL, NULL, true)).id")
        d=$(cq 0 "$db" "SET workitem.tenant = '$x'; SELECT id FROM workitem.create_ticket('Ticket of $x', 'd', 'c', 'p', 'r', NULL, true)")
        got="$got $(code "$db" "INSERT INTO workitem.item (kind, case_id, title, tenant) VALUES ('action', $c, 'x', '$y')")"
        got="$got $(code "$db" "INSERT INTO workitem.item (kind, title, follows_id, tenant) VALUES ('ticket', 'x', $d, '$y')")"
        got="$got $(code "$db" "INSERT INTO workitem.item (kind, title, parent_id, tenant) VALUES ('ticket', 'x', $d, '$y')")"
    done
    check "an action, a follow-up, a child of a committed item of another tenant on another worker: WI023 ($pairs)" \
        same "$got" "$(printf ' WI023%.0s' $(seq 12))"
    x=${tn[2]} y=${tn[3]}
    check "a case of $x written by the same open transaction, on another worker: an action of $y naming it is refused (WI404, saying why)" \
        same "$("$PGBIN/psql" -X -q -At -v VERBOSITY=verbose -h "${CITUS_DIRS[0]}" -p "${CITUS_PORTS[0]}" -U postgres -d "$db" 2>&1 <<SQL | sed -n 's/^ERROR:  \(WI404\):.*/\1/p; s/^DETAIL:  \(No item\) .*/\1/p' | tr '\n' ' '
BEGIN;
SET LOCAL workitem.tenant = '$x';
SELECT (workitem.create_case('Open case of $x', NULL, NULL, NULL, true)).id AS c \\gset
SET LOCAL workitem.tenant = '$y';
INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', :c, 'x');
ROLLBACK;
SQL
)" "WI404 No item "
    # the tenant moved to the third worker: its shard kept the reader's columns
    reader=$(cqu wi_citus_reader 0 "$db" "SELECT count(*) FROM workitem.items WHERE title = 'Moved' AND resolution_state IS NOT NULL" 2>&1)
    check "a reader reads the items of the tenant moved to the third worker (its shards kept the grants)" same "$reader" 1
}
# A worker added later: its id range, and a tenant's shards moved there
node_added() {
    local db=$1 t id
    check "a third worker added later (citus_add_node)" quiet cq 0 "$db" "SELECT FROM citus_add_node('127.0.0.1', ${CITUS_PORTS[3]})"
    check "workitem.distribute_nodes() gives it its id range (one worker set), and leaves the others alone (none the next time)" \
        same "$(cq 0 "$db" "SELECT workitem.distribute_nodes(); SELECT workitem.distribute_nodes()" 2>&1 | tr '\n' ' ')" "1 0 "
    check "each of the three workers draws ids from its own range" \
        same "$(cq 0 "$db" "SELECT string_agg(result, ' ' ORDER BY nodeport) FROM run_command_on_workers(
                \$\$SELECT min(seqmin >> 48) || '-' || max(seqmin >> 48) FROM pg_sequence
                   WHERE seqrelid::regclass::text LIKE 'workitem.%'\$\$)")" "1-1 2-2 3-3"
    # The new worker holds no placement of the reference tables until
    # replicate_reference_tables(): a session there reads the calendars
    # through Citus, and asks where this node's placement is once, not at
    # each load (the scans of pg_dist_shard a load makes); the placements
    # copied there, the same session asks again, once.
    cq 0 "$db" "INSERT INTO workitem.calendar SELECT 'placed ' || g, 'UTC' FROM generate_series(1, 4) g;
                INSERT INTO workitem.calendar_hours SELECT 'placed ' || g, d, '09:00', '17:00' FROM generate_series(1, 4) g, generate_series(1, 5) d"
    got=$("$PGBIN/psql" -X -q -At -h "${CITUS_DIRS[3]}" -p "${CITUS_PORTS[3]}" -U postgres -d "$db" 2>&1 <<EOF
SET citus.enable_ddl_propagation = off;
CREATE FUNCTION pg_temp.load(c text) RETURNS text LANGUAGE sql AS \$\$
    WITH s0 AS (SELECT coalesce(sum(seq_scan + idx_scan), 0) AS n FROM pg_stat_xact_sys_tables WHERE relname = 'pg_dist_shard'),
         b AS (SELECT workitem.business_time(c, '2026-01-05 08:00+00', '2026-01-05 12:00+00') AS t FROM s0)
    SELECT b.t || ' ' || ((SELECT coalesce(sum(seq_scan + idx_scan), 0) FROM pg_stat_xact_sys_tables WHERE relname = 'pg_dist_shard') > s0.n)
    FROM b, s0
\$\$;
SELECT count(*) FROM pg_dist_placement WHERE groupid = (SELECT groupid FROM pg_dist_local_group);
SELECT pg_temp.load('placed 1');
SELECT pg_temp.load('placed 2');
\! "$PGBIN/psql" -X -q -At -h "${CITUS_DIRS[0]}" -p "${CITUS_PORTS[0]}" -U postgres -d "$db" -c "SELECT replicate_reference_tables('block_writes')"
SELECT pg_temp.load('placed 3');
SELECT pg_temp.load('placed 4');
SELECT count(*) > 0 FROM pg_dist_placement WHERE groupid = (SELECT groupid FROM pg_dist_local_group);
EOF
)
    check "a session on the new worker: its placements of the calendars looked up once while there are none, once more after replicate_reference_tables()" \
        same "$(echo "$got" | tr '\n' ' ')" "0 03:00:00 true 03:00:00 false  03:00:00 true 03:00:00 false t "
    t=$(tenant_on "$db" 1)
    id=$(cq 0 "$db" "SET workitem.tenant = '$t'; SELECT id FROM workitem.create_ticket('Moved', 'd', 'c', 'p', 'r', NULL, true)")
    cq 0 "$db" "SELECT replicate_reference_tables('block_writes');
                SELECT citus_move_shard_placement(get_shard_id_for_distribution_column('workitem.item', '$t'),
                    '127.0.0.1', ${CITUS_PORTS[1]}, '127.0.0.1', ${CITUS_PORTS[3]}, shard_transfer_mode => 'block_writes')" >/dev/null 2>&1
    cq 0 "$db" "SET workitem.actor = 'alice'; SELECT workitem.start($id)" >/dev/null 2>&1
    check "tenant $t moved to the new worker: its moves are logged there, with ids of its range" \
        same "$(cq 0 "$db" "SELECT string_agg(DISTINCT (id >> 48)::text, ',') FROM workitem.history($id) WHERE what = 'status'" 2>&1)" 3
}

# split() and launch_case() of a closed ticket through the coordinator:
# refused as on one node (WI009), though on Citus they check the ticket
# before making the children (found by random_ops.py, seed 9917)
closed_wait_citus() {
    local db=$1 t id
    t=$(tenant_on "$db" 2)
    id=$(cq 0 "$db" "SET workitem.tenant = '$t'; SELECT id FROM workitem.create_ticket('Closed', 'd', 'c', 'p', 'r', NULL, true)")
    cq 0 "$db" "SELECT workitem.start($id); SELECT workitem.resolve($id, 'customer_response', 'ok')" >/dev/null 2>&1
    check "launch_case() and split() of a closed ticket through the coordinator: WI009, as on one node" \
        same "$(code "$db" "SELECT workitem.launch_case($id, 'x')") $(code "$db" "SELECT workitem.split($id, ARRAY['a'])")" "WI009 WI009"
}
# history() in order after the tenant of an item moved to the third
# worker and back to the first: its moves there logged with ids of range 3,
# then of range 1, lower (ordered by id, the last move would come second).
history_moved() {
    local db=$1 t id
    t=$(tenant_on "$db" 3)
    id=$(cq 0 "$db" "SELECT id FROM workitem.item WHERE title = 'Moved' AND tenant = '$t'")
    cq 0 "$db" "SELECT citus_move_shard_placement(get_shard_id_for_distribution_column('workitem.item', '$t'),
                    '127.0.0.1', ${CITUS_PORTS[3]}, '127.0.0.1', ${CITUS_PORTS[1]}, shard_transfer_mode => 'block_writes')" >/dev/null 2>&1
    cq 0 "$db" "SELECT workitem.resolve($id, 'customer_response', 'ok')" >/dev/null 2>&1
    # (resolved customer_response: closed at once, as on one node)
    check "history() of an item whose tenant moved to the third worker and back: in order (created, started, closed)" \
        same "$(cq 0 "$db" "SELECT string_agg(h.what || ':' || COALESCE(h.new_value, '') || '@' || (h.id >> 48), ' ' ORDER BY h.n)
                            FROM workitem.history($id) WITH ORDINALITY h(id, item_id, source, row_key, at, actor, what,
                                                                          old_value, new_value, reason, tenant, n)
                            WHERE h.what IN ('created', 'status')" 2>&1)" \
        "created:ticket to_do@1 status:in_progress@3 status:closed@1"
}

distribute "$db"
run_suites "$db"
across_items "$db"
closed_wait_citus "$db"
agent_citus "$db"
notify_citus "$db"
actor "$db"
routed "$db"
created_actor "$db"
coordinator_time "$db"
copy_rules "$db"
distribute_loaded "$db"
attach_citus "$db"
attach_timers_citus "$db"
views_citus "$db"
readers_citus "$db"
node_added "$db"
cross_tenant_citus "$db"
history_moved "$db"

# test/random_ops.py through the coordinator: its model and invariants, with
# the items of eight tenants on both workers (--citus leaves out what does
# not work on Citus yet: it prints what and why). One seed by default, so
# that its coverage check (every operation succeeded once) is the same on
# every run; CITUS_RANDOM_SEED=<n> tries another.
random_ops() {
    local db=workitem_citus_random out
    check "a distributed database for random_ops.py" citus_dist_db "$db" || return
    out=$(PGHOST=${CITUS_DIRS[0]} PGPORT=${CITUS_PORTS[0]} PGUSER=postgres "$ROOT/test/random_ops.py" \
          --dbname "$db" --citus --tenants 8 --items 60 --steps "${CITUS_RANDOM_STEPS:-600}" \
          --seconds "${CITUS_RANDOM_SECONDS:-90}" --seed "${CITUS_RANDOM_SEED:-282820}" 2>&1)
    echo "$out" | grep -E '^#' | grep -v '^# random_ops' || true
    echo "$out" | grep '^# random_ops'
    check "random_ops.py through the coordinator: every check held ($(echo "$out" | grep -cE '^ok [0-9]+') ok)" \
        test "$(echo "$out" | grep -cE '^not ok [0-9]+')" = 0 -a -n "$(echo "$out" | grep -E '^1\.\.[0-9]+')"
    echo "$out" | grep -E '^not ok' | sed 's/^/# /'
    # (node_added registered a third worker: databases made after it use all three)
    check "random_ops.py's items were on more than one worker" \
        test "$(cq 0 "$db" "SELECT count(DISTINCT n.nodeport) FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
                WHERE p.shardid IN (SELECT get_shard_id_for_distribution_column('workitem.item', tenant)
                                    FROM workitem.item)")" -ge 2
}
random_ops

# The project's own suites through the coordinator (test/lib/citus_suites.sh;
# the files that cannot pass on Citus yet, and why: test/citus_skip.txt).
# Logs and diffs in $dir (KEEP_CLUSTER=1 keeps it).
CITUS_NOW_PASSING=()
mkdir -p "$dir/pgtap"
citus_pgtap workitem_citus_tap "$dir/pgtap"
citus_regress workitem_citus_regress "$dir/regress"
[ ${#CITUS_NOW_PASSING[@]} = 0 ] ||
    echo "# listed in test/citus_skip.txt but passing now (take them off the list): ${CITUS_NOW_PASSING[*]}"
# -------------------------------------------------------------------------

# A server process that died on any node fails the run, with what it ran.
crashed=$(grep -l "terminated by signal" "${CITUS_DIRS[@]/%//server.log}" 2>/dev/null)
check "no server process crashed on any node${crashed:+ (see below)}" test -z "$crashed"
for f in $crashed; do grep -B3 -A3 "terminated by signal" "$f" | sed "s|^|# $f: |" | head -40; done
echo "1..$n"
[ "$failed" = 0 ]
