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
source bench/lib/single_user.bash
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
# Instructions for a single-user backend running them.
collected() {
    statements "$@" >"$dir/calls.sql"
    callgrind_count "$dir/calls.sql"
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
