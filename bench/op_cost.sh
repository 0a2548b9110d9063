#!/usr/bin/env bash
# One operation's cost in CPU instructions against the UPDATE it makes:
# workitem.start(id, 'agent') beside the same UPDATE of workitem.item
# written by hand (the same trigger, the same log rows), each statement a
# transaction of its own in a single-user backend under callgrind. N2 and
# N1 calls on items not touched before; the difference over N2 - N1 is one
# call without start-up. The ratio is what the operation adds: the item's
# lookup, its checks, SPI and the plan cache. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/common.sh
ITEMS=${ITEMS:-100000}
N1=${N1:-300}
N2=${N2:-1500}
if ! command -v valgrind >/dev/null; then
    echo "== installing valgrind from Debian"
    apt_install valgrind
fi
dir=$(mktemp -d /tmp/workitem-opcost.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cluster_init "$dir"

single() {
    as_server_user "$PGBIN/postgres" --single -j -D "$dir/data" -c fsync=off \
        -c exit_on_error=on bench >"$dir/single.log" 2>&1 || { tail -n 20 "$dir/single.log"; exit 1; }
}
as_server_user "$PGBIN/postgres" --single -D "$dir/data" -c exit_on_error=on postgres \
    <<<"CREATE DATABASE bench" >/dev/null 2>&1
single <<SQL
CREATE EXTENSION workitem;

INSERT INTO workitem.item (kind, status, title, description, category, primary_contact, requester)
SELECT 'ticket', 'to_do', 'item ' || i, 'text', 'bench', 'contact', 'requester'
FROM generate_series(1, $ITEMS) i;

VACUUM ANALYZE workitem.item;

CHECKPOINT;

SQL
# $2 statements from template $3 (ID: the item), on items $1, $1 + 1, ...
statements() {
    seq "$1" $(($1 + $2 - 1)) | while read -r id; do printf '%s;\n\n' "${3//ID/$id}"; done
}
# Instructions callgrind collected for a single-user backend running them.
collected() {
    statements "$@" >"$dir/calls.sql"
    chmod 644 "$dir/calls.sql"
    as_server_user valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$PGBIN/postgres" --single -j -D "$dir/data" -c fsync=off -c full_page_writes=off bench \
        <"$dir/calls.sql" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
declare -A cost
declare -A tpl=(
    [by_hand]="UPDATE workitem.item SET status = 'in_progress', assignee = 'agent' WHERE id = ID"
    [start]="SELECT workitem.start(ID, 'agent')"
)
next=1
for v in by_hand start; do
    statements "$next" 10 "${tpl[$v]}" >"$dir/warm.sql"
    chmod 644 "$dir/warm.sql"
    single <"$dir/warm.sql"
    a=$(collected $((next + 10)) "$N2" "${tpl[$v]}")
    b=$(collected $((next + 10 + N2)) "$N1" "${tpl[$v]}")
    cost[$v]=$(( (a - b) / (N2 - N1) ))
    next=$((next + 10 + N2 + N1))
done
printf '%-10s %12s %8s\n' variant instructions ratio
for v in by_hand start; do
    printf '%-10s %12d %7.1f%%\n' "$v" "${cost[$v]}" "$(echo "100 * ${cost[$v]} / ${cost[by_hand]}" | bc -l)"
done
