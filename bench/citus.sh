#!/usr/bin/env bash
# Citus (issue 14): bench/load.sh's load (pgbench, bench/load.sql's bench_op
# on random items) on one plain node and on a coordinator and two workers
# (test/lib/citus_cluster.sh), in one run, same settings, same items spread
# over TENANTS tenants, the same mix and the same operations (pgbench -t TX
# per client, --random-seed SEED: a fixed number, not a fixed time, so that
# both see the items in the same states). Prints a table: tps, latency, CPU seconds
# per node (the postmaster's and its children's, from /proc), statements
# each node ran per operation (pg_stat_statements, utility statements
# included: on a worker, one per command Citus sent it), the ratio
# cluster/single; then the statements single calls send to the workers.
# Each side runs the mix twice, each time on items of its own loaded alike:
# by id only, then with each client naming the item's tenant
# (workitem.tenant: the operations try it first, one shard); a table each.
#   TX=250 CLIENTS=8 ITEMS=4000 TENANTS=64 bench/citus.sh
# Ports CITUS_PORT..+3 (default PGPORT+300). Skips (exit 0, one line) when
# Citus is neither installed in $PG_CONFIG's PostgreSQL nor buildable from
# ../shared/vendor (test/lib/citus_cluster.sh builds it, as test/citus.sh).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/${PGVERSION:-15}/bin}
source "$ROOT/test/lib/citus_cluster.sh"
TX=${TX:-250}
SEED=${SEED:-1}
CLIENTS=${CLIENTS:-8}
ITEMS=${ITEMS:-4000}
TENANTS=${TENANTS:-64}

# The operations of bench_op (bench/load.sql) run on both, by name. What
# does not work through a Citus coordinator yet is left out of both, so
# that the two runs do the same work; move a name up when it works.
MIX=(start assign unassign wait_more_info wait_until resume resolve resolve_any reopen close
     merge cancel create create_action update)
declare -A LEFT_OUT=(
    [outbound]="an outbound message: non-IMMUTABLE functions in CASE/COALESCE (first-response clock)"
    [inbound]="an inbound message on a resolved or closed item: a distributed query from a shard (XX000)"
    [split]="split(): the new tickets are not found from the shard"
    [launch_case]="launch_case(): the new case is not found from the shard"
    [action]="a plain INSERT of an action takes workitem.tenant, not its case's (create_action is in the mix)"
    [log_time]="log_time(): subqueries are not supported within INSERT queries"
)
# Also left out of both: SLA clocks (not routed by tenant yet), the
# resolution-note rule (the trigger's look for a note is a distributed
# query from a shard) and NOTIFY (workitem.notify = off: from a worker's
# trigger it makes a two-phase commit fail, and nobody listens there).

if ! citus_installed && [ ! -f "$CITUS_ARCHIVE" ]; then
    echo "bench/citus.sh: skipped: Citus is not installed in $("$PG_CONFIG" --pkglibdir) and $CITUS_ARCHIVE is not there"
    exit 0
fi
citus_build || { echo "bench/citus.sh: Citus $CITUS_VERSION did not build"; exit 1; }
[ -f "$("$PG_CONFIG" --sharedir)/extension/workitem.control" ] ||
    { echo "bench/citus.sh: workitem is not installed in $("$PG_CONFIG" --sharedir)"; exit 1; }
ops=()
names=(start assign unassign wait_more_info wait_until resume resolve resolve_any reopen close inbound
       outbound merge split launch_case action cancel create update log_time create_action)
for m in "${MIX[@]}"; do
    for i in "${!names[@]}"; do [ "${names[$i]}" = "$m" ] && ops+=($((i + 1))); done
done
[ ${#ops[@]} = ${#MIX[@]} ] || { echo "bench/citus.sh: an operation of MIX is not one of bench_op's"; exit 1; }

port=${CITUS_PORT:-$(( ${PGPORT:-55432} + 300 ))}
dir=$(mktemp -d /tmp/workitem-bench-citus.XXXXXX) && chmod 755 "$dir"
CITUS_DIRS=()
cleanup() {
    citus_cluster_stop
    cluster_running "$dir/single" && cluster_stop "$dir/single" immediate
    [ "${KEEP_CLUSTER:-0}" = 1 ] || rm -rf "$dir"
}
trap cleanup EXIT
# by id only, and the tenant named: each on items of its own, loaded alike
dbs=(workitem_bench_citus workitem_bench_citus_routed)
db=${dbs[0]}
# the same settings on every node, the single one included
settings=("autovacuum = off" "fsync = off" "pg_stat_statements.track = top"
          "pg_stat_statements.track_utility = on" "max_connections = 200")
mix_file=$dir/mix.pgbench
{
    echo "-- bench/citus.sh's mix: ${MIX[*]}"
    echo '\set id random(1, :max)'
    echo '\set id2 random(1, :max)'
    echo "\\set k random(1, ${#ops[@]})"
    echo "SELECT bench_op((ARRAY[$(IFS=,; echo "${ops[*]}")])[:k], :id, :id2);"
} >"$mix_file"
# The same, the client naming the item's tenant (workitem.tenant, as a
# multi-tenant application does): bench/load.sql puts item g (a ticket or
# case) in tenant<g % TENANTS>, and the two actions of the k-th case
# (item 4k) next, ITEMS + 2k - 1 and ITEMS + 2k (checked after the load).
mix_routed=$dir/mix_routed.pgbench
{
    echo "-- bench/citus.sh's mix, the item's tenant named: ${MIX[*]}"
    echo '\set id random(1, :max)'
    echo '\set id2 random(1, :max)'
    echo "\\set k random(1, ${#ops[@]})"
    echo "\\set tn (CASE WHEN :id <= $ITEMS THEN :id % $TENANTS ELSE (4 * ((:id - $ITEMS + 1) / 2)) % $TENANTS END)"
    if [ "$TENANTS" -gt 1 ]; then t="'tenant' || :tn"; else t="'default'"; fi
    echo "SELECT bench_op((ARRAY[$(IFS=,; echo "${ops[*]}")])[:k], :id, :id2, $t);"
} >"$mix_routed"
# the SQL of that tenant, to check it against the items
tenant_of_sql="CASE WHEN $TENANTS > 1 THEN 'tenant' || (CASE WHEN id <= $ITEMS THEN id % $TENANTS
                    ELSE (4 * ((id - $ITEMS + 1) / 2)) % $TENANTS END) ELSE 'default' END"

# node_cpu <data dir>: CPU seconds of a server so far: its postmaster, the
# children it has waited for (cutime, cstime) and the live ones.
node_cpu() {
    local pm tck
    pm=$(head -n 1 "$1/postmaster.pid")
    tck=$(getconf CLK_TCK)
    { cut -d ' ' -f 14-17 "/proc/$pm/stat"
      for c in $(pgrep -P "$pm"); do cut -d ' ' -f 14-15 "/proc/$c/stat" 2>/dev/null; done; } |
        awk -v t="$tck" '{ for (i = 1; i <= NF; i++) s += $i } END { printf "%.2f", s / t }'
}
# statements <host> <port>: "<statements> <lookups> <transaction>": the
# statements the node ran (pg_stat_statements), of which the lookups of an
# item's tenant by its id alone (one per shard), and the transaction control
# Citus sends on each connection a transaction uses (BEGIN,
# assign_distributed_transaction_id, COMMIT or PREPARE and COMMIT
# PREPARED); leaving out Citus's background work (two-phase commit
# recovery, deadlock detection) and this script's.
statements() {
    "$PGBIN/psql" -X -At -F ' ' -h "$1" -p "$2" -U postgres -d "$db" -c "
        SELECT coalesce(sum(calls), 0), coalesce(sum(calls) FILTER (WHERE query LIKE 'SELECT tenant FROM workitem.item%'), 0),
               coalesce(sum(calls) FILTER (WHERE query ~ '^(BEGIN|COMMIT|PREPARE|ROLLBACK|SELECT assign_distributed_transaction_id)'), 0)
        FROM pg_stat_statements
        WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_prepared_xacts%'
          AND query NOT LIKE '%waiting_pid%'"
}
psql_at() { local h=$1 p=$2; shift 2; "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$h" -p "$p" -U postgres -d "$db" "$@"; }

# load <label> <host> <port>: the items (bench/load.sql), and the check
# that each is in the tenant the routed mix names for it.
declare -A R
load() {
    local label=$1 h=$2 p=$3
    PGOPTIONS="-c client_min_messages=warning" psql_at "$h" "$p" -v items="$ITEMS" -v tenants="$TENANTS" -v sla=0 -v noted=0 -f "$ROOT/bench/load.sql" >/dev/null ||
        { echo "bench/citus.sh: $label: bench/load.sql failed"; return 1; }
    psql_at "$h" "$p" -c "VACUUM ANALYZE" 2>/dev/null
    R[$label,max]=$(psql_at "$h" "$p" -c "SELECT max(id) FROM workitem.item")
    R[$label,misplaced]=$(psql_at "$h" "$p" -c "SELECT count(*) FROM workitem.item WHERE tenant <> $tenant_of_sql")
    [ "${R[$label,misplaced]}" = 0 ] ||
        echo "bench/citus.sh: $label: ${R[$label,misplaced]} items not in the tenant the routed mix names (it still runs: those go to every shard)"
}
# run <label> <mix file> <host> <port> <data dirs...>: the mix on the
# database there, loaded under the same label.
run() {
    local label=$1 mix=$2 h=$3 p=$4 d out i
    shift 4
    psql_at "$h" "$p" -c "TRUNCATE bench_done, bench_refused"
    i=0
    for d in "$@"; do
        "$PGBIN/psql" -X -q -At -h "$d" -p $((p + i)) -U postgres -d "$db" -c "SELECT pg_stat_statements_reset()" >/dev/null
        R[$label,cpu0,$i]=$(node_cpu "$d/data")
        i=$((i + 1))
    done
    out=$("$PGBIN/pgbench" -n -h "$h" -p "$p" -U postgres -c "$CLIENTS" -j "$CLIENTS" -t "$TX" --random-seed="$SEED" \
          -D max="${R[$label,max]}" -f "$mix" "$db" 2>&1) || { echo "$out" | tail -n 20; return 1; }
    R[$label,tps]=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | xargs printf '%.1f')
    R[$label,lat]=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
    R[$label,tx]=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
    i=0
    for d in "$@"; do
        R[$label,cpu,$i]=$(awk -v a="${R[$label,cpu0,$i]}" -v b="$(node_cpu "$d/data")" 'BEGIN { printf "%.1f", b - a }')
        read -r "R[$label,stmts,$i]" "R[$label,lookups,$i]" "R[$label,txc,$i]" < <(statements "$d" $((p + i)))
        i=$((i + 1))
    done
    R[$label,nodes]=$#
    psql_at "$h" "$p" -P footer=off -c "
        SELECT op, count(*) FILTER (WHERE NOT r) AS done, count(*) FILTER (WHERE r) AS refused,
               string_agg(DISTINCT sqlstate, ' ') AS sqlstates
        FROM (SELECT op, false AS r, NULL AS sqlstate FROM bench_done
              UNION ALL SELECT op, true, sqlstate FROM bench_refused) o GROUP BY op ORDER BY op" >"$dir/$label.ops"
    R[$label,bad]=$(psql_at "$h" "$p" -c "
        SELECT (SELECT count(*) FROM bench_refused WHERE sqlstate = '40P01' OR sqlstate LIKE 'XX%')
             + (SELECT count(*) FROM wi_bad_rows) + (SELECT count(*) FROM wi_bad_events)")
}

echo "bench/citus.sh: $CLIENTS clients x $TX operations (seed $SEED) on each, $ITEMS tickets and cases (+ 2 actions a case) in $TENANTS tenants"
echo "mix (bench_op, one operation a transaction, at random): ${MIX[*]}"
echo "left out (they do not work through a Citus coordinator yet), of both runs:"
for k in "${!LEFT_OUT[@]}"; do echo "  $k: ${LEFT_OUT[$k]}"; done | sort
echo "  SLA clocks, the resolution-note rule, NOTIFY (workitem.notify = off)"

# One plain node: PostgreSQL with workitem, no Citus.
cluster_init "$dir/single" "shared_preload_libraries = 'pg_stat_statements'" "${settings[@]}" &&
    cluster_start "$dir/single" $((port + 3)) || exit 1
for label in single single_routed; do
    if [ $label = single ]; then db=${dbs[0]} mix=$mix_file; else db=${dbs[1]} mix=$mix_routed; fi
    "$PGBIN/createdb" -h "$dir/single" -p $((port + 3)) -U postgres "$db" || exit 1
    psql_at "$dir/single" $((port + 3)) -c "CREATE EXTENSION pg_stat_statements; ALTER DATABASE $db SET workitem.notify = off" || exit 1
    load $label "$dir/single" $((port + 3)) || exit 1
    run $label "$mix" "$dir/single" $((port + 3)) "$dir/single" || exit 1
done
cluster_stop "$dir/single"

# A coordinator and two workers, workitem distributed by tenant.
CITUS_DIRS=() CITUS_PORTS=()
for i in 0 1 2; do
    CITUS_DIRS+=("$dir/node$i") CITUS_PORTS+=($((port + i)))
    cluster_init "$dir/node$i" "shared_preload_libraries = 'citus, pg_stat_statements'" \
        "citus.node_conninfo = 'sslmode=disable'" "max_prepared_transactions = 200" "${settings[@]}" &&
        citus_node_start "$dir/node$i" $((port + i)) || exit 1
done
for label in cluster cluster_routed; do
    if [ $label = cluster ]; then db=${dbs[0]} mix=$mix_file; else db=${dbs[1]} mix=$mix_routed; fi
    citus_db_create "$db" || exit 1
    cq 0 "$db" "SET client_min_messages = warning; CREATE EXTENSION pg_stat_statements" &&
        cq 0 "$db" "SET client_min_messages = warning; CREATE EXTENSION workitem" &&
        cq 0 "$db" "SET client_min_messages = warning; SELECT FROM workitem.distribute()" >/dev/null &&
        cq 0 "$db" "ALTER DATABASE $db SET workitem.notify = off" || exit 1
    load $label "${CITUS_DIRS[0]}" "$port" || exit 1
    run $label "$mix" "${CITUS_DIRS[0]}" "$port" "${CITUS_DIRS[@]}" || exit 1
done
spread=$(cq 0 "$db" "SELECT string_agg(n.nodeport || ': ' || c, ', ' ORDER BY n.nodeport) FROM (
            SELECT p.groupid, count(*) AS c FROM workitem.item i
            JOIN pg_dist_placement p ON p.shardid = get_shard_id_for_distribution_column('workitem.item', i.tenant)
            GROUP BY p.groupid) s JOIN pg_dist_node n USING (groupid)")

# The tables: by id only, then with the item's tenant named.
f() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a + 0 == 0) print "-"; else printf "%.2f", b / a }'; }
per() { awk -v s="$1" -v t="$2" -v k="${3:-1}" 'BEGIN { if (t + 0 == 0) print "-"; else printf "%.2f", s * k / t }'; }
row() { printf '| %-44s | %10s | %10s | %9s |\n' "$1" "$2" "$3" "$(f "$2" "$3")"; }
echo "items per worker (port: items): $spread"
table() {
    local s=$1 c=$2 title=$3 total_c i
    echo
    echo "$title"
    echo "operations done and refused (single | cluster):"
    paste "$dir/$s.ops" "$dir/$c.ops" | awk -F '\t' '{ printf "  %-44s | %s\n", $1, $2 }'
    echo
    printf '| %-44s | %10s | %10s | %9s |\n' "" single cluster cluster/single
    printf '|%s|%s|%s|%s|\n' "----------------------------------------------" "------------" "------------" "-----------"
    row "tps (one operation a transaction)" "${R[$s,tps]}" "${R[$c,tps]}"
    row "latency average, ms" "${R[$s,lat]}" "${R[$c,lat]}"
    total_c=$(awk -v a="${R[$c,cpu,0]}" -v b="${R[$c,cpu,1]}" -v c="${R[$c,cpu,2]}" 'BEGIN { printf "%.1f", a + b + c }')
    row "CPU s, all nodes" "${R[$s,cpu,0]}" "$total_c"
    row "CPU ms per operation, all nodes" "$(per "${R[$s,cpu,0]}" "${R[$s,tx]}" 1000)" "$(per "$total_c" "${R[$c,tx]}" 1000)"
    row "CPU ms per operation, coordinator" "$(per "${R[$s,cpu,0]}" "${R[$s,tx]}" 1000)" "$(per "${R[$c,cpu,0]}" "${R[$c,tx]}" 1000)"
    for i in 1 2; do
        row "CPU ms per operation, worker $i" "" "$(per "${R[$c,cpu,$i]}" "${R[$c,tx]}" 1000)"
    done
    row "statements per operation, coordinator" "$(per "${R[$s,stmts,0]}" "${R[$s,tx]}")" "$(per "${R[$c,stmts,0]}" "${R[$c,tx]}")"
    for i in 1 2; do
        row "statements per operation, worker $i" "" "$(per "${R[$c,stmts,$i]}" "${R[$c,tx]}")"
    done
    for i in 1 2; do
        row "  lookups by id alone (every shard), w. $i" "" "$(per "${R[$c,lookups,$i]}" "${R[$c,tx]}")"
        row "  transaction control per connection, w. $i" "" "$(per "${R[$c,txc,$i]}" "${R[$c,tx]}")"
    done
}
table single cluster "by id only (no tenant named):"
table single_routed cluster_routed "the item's tenant named (SET workitem.tenant, and AND tenant = t in the plain UPDATE), the same mix on items loaded alike:"

# Statements single calls send to the workers (each at least one network
# round trip), one call at a time in a fresh session, in a tenant of
# worker 1, on an item of that tenant.
echo
echo "statements one call sends to the workers (the tenant named when the session starts, or not):"
echo "all = lookups of the item's tenant by its id alone (one"
echo "per shard) + transaction control (BEGIN, assign_distributed_transaction_id, COMMIT: on each"
echo "connection the transaction used) + the work itself:"
t=$(cq 0 "$db" "SELECT tenant FROM workitem.item i JOIN pg_dist_placement p
                 ON p.shardid = get_shard_id_for_distribution_column('workitem.item', i.tenant)
                WHERE p.groupid = (SELECT groupid FROM pg_dist_node WHERE nodeport = ${CITUS_PORTS[1]}) LIMIT 1")
# probe <what> <tenant to name, or empty> <sql>
probe() {
    local what=$1 named=$2 sql=$3 i s=0 l=0 x=0 c k y
    for i in 1 2; do cq "$i" "$db" "SELECT pg_stat_statements_reset()" >/dev/null; done
    # named when the session starts (a SET in the same query string would make it a transaction block)
    PGOPTIONS="${named:+-c workitem.tenant=$named}" cq 0 "$db" "$sql" >/dev/null 2>"$dir/probe.err" ||
        { printf '  %-58s refused: %s\n' "$what" "$(head -n 1 "$dir/probe.err")"; return; }
    for i in 1 2; do
        read -r c k y < <(statements "${CITUS_DIRS[$i]}" "${CITUS_PORTS[$i]}")
        s=$((s + c)) l=$((l + k)) x=$((x + y))
    done
    printf '  %-62s %4s = %2s + %2s + %2s\n' "$what" "$s" "$l" "$x" "$((s - l - x))"
}
for i in 1 2 3; do
    cq 0 "$db" "SET workitem.tenant = '$t'; SELECT workitem.create_ticket('probe', 'd', 'load', 'c', 'r', NULL, true)" >/dev/null
done
read -r id rid <<<"$(cq 0 "$db" "SELECT string_agg(id::text, ' ' ORDER BY id) FROM (SELECT id FROM workitem.item
                                 WHERE tenant = '$t' AND title = 'probe' ORDER BY id DESC LIMIT 2) x")"
probe "create_ticket(..., submit => true)" "$t" "SELECT workitem.create_ticket('probe2', 'd', 'load', 'c', 'r', NULL, true)"
probe "start(id), no tenant named" "" "SELECT workitem.start($id)"
probe "start(id), the item's tenant named" "$t" "SELECT workitem.start($rid)"
probe "assign(id, 'bob'), no tenant named" "" "SELECT workitem.assign($id, 'bob')"
probe "assign(id, 'bob'), the item's tenant named" "$t" "SELECT workitem.assign($rid, 'bob')"
probe "record_message(id, 'inbound', ...), no tenant named" "" "SELECT workitem.record_message($id, 'inbound', 'email', 's', 'b')"
probe "record_message(id, 'inbound', ...), the tenant named" "$t" "SELECT workitem.record_message($rid, 'inbound', 'email', 's', 'b')"
probe "resolve(id, 'completed', 'done'), no tenant named" "" "SELECT workitem.resolve($id, 'completed', 'done')"
probe "resolve(id, 'completed', 'done'), the item's tenant named" "$t" "SELECT workitem.resolve($rid, 'completed', 'done')"
probe "history(id), no tenant named" "" "SELECT count(*) FROM workitem.history($id)"
probe "history(id), the item's tenant named" "$t" "SELECT count(*) FROM workitem.history($rid)"
probe "SELECT ... FROM item WHERE id = n (no tenant)" "" "SELECT status FROM workitem.item WHERE id = $id"
probe "SELECT ... FROM item WHERE id = n AND tenant = t" "" "SELECT status FROM workitem.item WHERE id = $id AND tenant = '$t'"
probe "UPDATE item ... WHERE id = n AND tenant = t" "" "UPDATE workitem.item SET priority = 'high' WHERE id = $id AND tenant = '$t'"
probe "UPDATE item ... WHERE id = n (no tenant)" "" "UPDATE workitem.item SET priority = 'low' WHERE id = $id"
shards=$(cq 0 "$db" "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'workitem.item'::regclass")
echo "  ($shards shards of workitem.item; CPU and statements from this run's processes only)"

status=0
for l in single single_routed cluster cluster_routed; do
    if [ "${R[$l,bad]}" != 0 ]; then echo "FAIL $l: ${R[$l,bad]} deadlocks, internal errors or rows breaking the invariants"; status=1; fi
done
[ $status = 1 ] || echo "OK   no deadlock, no internal error, invariants and last status events hold on both"
exit $status
