# Shared by the callgrind benches (bench/attach_cost.sh, bench/op_cost.sh):
# a throwaway cluster run by single-user backends (postgres --single, one
# transaction per statement), and instruction counts of one such backend.
# Source it after tools/common.sh; it sets $dir (removed at exit) and makes
# the database "bench".
if ! command -v valgrind >/dev/null; then
    echo "== installing valgrind from Debian"
    apt_install valgrind
fi
dir=$(mktemp -d /tmp/workitem-cost.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cluster_init "$dir"

# Statements on stdin end with ";" and a blank line (-j); errors end the run.
single() {
    as_server_user "$PGBIN/postgres" --single -j -D "$dir/data" -c fsync=off \
        -c exit_on_error=on bench >"$dir/single.log" 2>&1 || { tail -n 20 "$dir/single.log"; exit 1; }
}
as_server_user "$PGBIN/postgres" --single -D "$dir/data" -c exit_on_error=on postgres \
    <<<"CREATE DATABASE bench" >/dev/null 2>&1

# Instructions callgrind counts for a single-user backend running the statements of file $1.
callgrind_count() {
    chmod 644 "$1"
    as_server_user valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$PGBIN/postgres" --single -j -D "$dir/data" -c fsync=off -c full_page_writes=off bench \
        <"$1" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
