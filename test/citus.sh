#!/usr/bin/env bash
# workitem on a real Citus cluster (issue 14), printing TAP: a coordinator
# and two workers on loopback (ports CITUS_PORT, +1, +2; default PGPORT+300),
# in a temp dir of their own, stopped and removed at exit. Builds Citus from
# ../shared/vendor/citus-13.2.2.tar.gz into $PG_CONFIG's install when it is
# not there yet (a few minutes, once); skips when neither is there.
# workitem must be installed in that install (tools/citus.sh does both:
# `make test-citus`). It distributes workitem (workitem.distribute()), runs a
# ticket's story through the coordinator in tenants on both workers, then
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

port=${CITUS_PORT:-$(( ${PGPORT:-55432} + 300 ))}
dir=$(mktemp -d /tmp/workitem-citus.XXXXXX)
CITUS_DIRS=()
cleanup() { citus_cluster_stop; [ "${KEEP_CLUSTER:-0}" = 1 ] || rm -rf "$dir"; }
trap cleanup EXIT
db=workitem_citus

check "a coordinator and two workers start (ports $port-$((port + 2)))" citus_cluster_start "$dir" "$port" 2
[ "$failed" = 0 ] || exit 1
check "the database is created on every node and the workers registered" citus_db_create "$db"
[ "$failed" = 0 ] || exit 1
for i in 0 1 2; do
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
}
distribute "$db"
run_suites "$db"

# test/random_ops.py through the coordinator: its model and invariants, with
# the items of eight tenants on both workers (--citus leaves out what does
# not work on Citus yet: it prints what and why).
random_ops() {
    local db=workitem_citus_random out
    check "a distributed database for random_ops.py" citus_dist_db "$db" || return
    out=$(PGHOST=${CITUS_DIRS[0]} PGPORT=${CITUS_PORTS[0]} PGUSER=postgres "$ROOT/test/random_ops.py" \
          --dbname "$db" --citus --tenants 8 --items 60 --steps "${CITUS_RANDOM_STEPS:-400}" \
          --seconds "${CITUS_RANDOM_SECONDS:-40}" 2>&1)
    echo "$out" | grep -E '^#' | grep -v '^# random_ops' || true
    echo "$out" | grep '^# random_ops'
    check "random_ops.py through the coordinator: every check held ($(echo "$out" | grep -cE '^ok [0-9]+') ok)" \
        test "$(echo "$out" | grep -cE '^not ok [0-9]+')" = 0 -a -n "$(echo "$out" | grep -E '^1\.\.[0-9]+')"
    echo "$out" | grep -E '^not ok' | sed 's/^/# /'
    check "random_ops.py's items were on both workers" \
        same "$(cq 0 "$db" "SELECT count(DISTINCT n.nodeport) FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
                WHERE p.shardid IN (SELECT get_shard_id_for_distribution_column('workitem.item', tenant)
                                    FROM workitem.item)")" 2
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

echo "1..$n"
[ "$failed" = 0 ]
