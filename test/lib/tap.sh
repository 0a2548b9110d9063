# TAP helpers for the shell tests in test/*.sh (source it). Needs PGBIN.
n=0 failed=0
check() {   # check <description> <command...>: ok when the command succeeds
    local what=$1; shift
    n=$((n + 1))
    if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; failed=$((failed + 1)); fi
}
q() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$@"; }
# The SQLSTATE a statement fails with (empty when it succeeds).
sqlstate() {
    "$PGBIN/psql" -X -q -At -v VERBOSITY=verbose -d "$1" -c "$2" 2>&1 |
        sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -n 1
}
same() { [ "$1" = "$2" ] || { echo "# expected: $2" >&2; echo "#      got: $1" >&2; return 1; }; }
# Scratch databases: scratch_db <var> <prefix> sets <var> to a name of this
# test's own (<prefix>_<pid>), drops a leftover of that name, and notes it;
# drop_scratch_dbs (in the test's EXIT trap) drops every one noted.
scratch_dbs=()
scratch_db() {
    printf -v "$1" '%s_%s' "$2" "$$"
    "$PGBIN/dropdb" --if-exists "${!1}" >/dev/null 2>&1
    scratch_dbs+=("${!1}")
}
drop_scratch_dbs() {
    local db
    for db in "${scratch_dbs[@]}"; do "$PGBIN/dropdb" --if-exists --force "$db" >/dev/null 2>&1; done
}
