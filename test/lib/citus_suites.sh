# shellcheck shell=bash
# The project's suites through a Citus coordinator (test/citus.sh): the
# pgTAP files (test/*.sql, pg_prove) and the pg_regress files (sql/,
# expected/), each in a distributed database of its own. A file listed in
# test/citus_skip.txt (with the reason it cannot pass on Citus yet) is still
# run: its failure is reported as a TAP SKIP, and a listed file that passes
# is reported too, so that it is taken off the list. A file not listed that
# fails is a failure. Needs citus_cluster.sh and tap.sh sourced, ROOT, PGBIN.
CITUS_SKIP_FILE=${CITUS_SKIP_FILE:-$ROOT/test/citus_skip.txt}

# citus_skip_reason <file>: the reason test/citus_skip.txt gives for it
# (lines "<file> <reason>", # comments), empty when it is not listed.
citus_skip_reason() {
    [ -f "$CITUS_SKIP_FILE" ] || return 0
    awk -v f="$1" '$1 == f { $1 = ""; sub(/^ +/, ""); print; exit }' "$CITUS_SKIP_FILE"
}

# citus_suite_result <file> <passed 0/1> <why it failed> [<log>]: one TAP
# line (and the log's head as comments when it fails unlisted).
citus_suite_result() {
    local file=$1 passed=$2 why=$3 log=${4:-} reason
    reason=$(citus_skip_reason "$file")
    n=$((n + 1))
    if [ "$passed" = 1 ] && [ -z "$reason" ]; then
        echo "ok $n - $file passes through the coordinator"
    elif [ "$passed" = 1 ]; then
        echo "ok $n - $file passes through the coordinator (listed in test/citus_skip.txt: take it off the list)"
        CITUS_NOW_PASSING+=("$file")
    elif [ -n "$reason" ]; then
        echo "ok $n - $file through the coordinator # SKIP on Citus: $reason"
    else
        echo "not ok $n - $file passes through the coordinator ($why; not in test/citus_skip.txt)"
        [ -z "$log" ] || head -n 40 "$log" | sed 's/^/# /'
        failed=$((failed + 1))
    fi
}

# citus_dist_db <db> [<extension>...]: the database on every node, the
# extensions, workitem distributed. Each statement in a transaction of its
# own: Citus creates an extension on the workers in other connections.
citus_dist_db() {
    local db=$1 e
    shift
    citus_db_create "$db" || return 1
    for e in "$@" workitem; do
        cq 0 "$db" "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS $e" || return 1
    done
    cq 0 "$db" "SET client_min_messages = warning; SELECT FROM workitem.distribute()" >/dev/null
}

# citus_pgtap <db> <log dir>: every test/*.sql through the coordinator, in
# one distributed database (as tools/test.sh runs them in one database).
citus_pgtap() {
    local db=$1 logs=$2 f why
    if ! command -v pg_prove >/dev/null; then
        check "pg_prove is installed (libtap-parser-sourcehandler-pgtap-perl)" false
        return
    fi
    check "a distributed database for the pgTAP suite (pgtap, workitem, distribute())" \
        citus_dist_db "$db" pgtap || return
    for f in "$ROOT"/test/*.sql; do
        f=test/${f##*/}
        if (cd "$ROOT" && PGHOST=${CITUS_DIRS[0]} PGPORT=${CITUS_PORTS[0]} PGUSER=postgres \
                timeout "${CITUS_FILE_TIMEOUT:-300}" pg_prove -d "$db" "$f") >"$logs/${f##*/}.log" 2>&1; then
            citus_suite_result "$f" 1 ""
        else
            why=$(grep -m 1 -E '^psql:.*ERROR|Failed [0-9]+/[0-9]+ subtests' "$logs/${f##*/}.log" |
                  sed 's/^psql:[^ ]* //' | cut -c 1-160)
            citus_suite_result "$f" 0 "${why:-see $logs/${f##*/}.log}" "$logs/${f##*/}.log"
        fi
    done
}

# Differences that are only Citus's: the CONTEXT line naming the worker a
# statement failed on, and the notices and warnings about objects Citus
# keeps local (temporary functions and views of a test).
citus_regress_filter() {
    sed -e '/^CONTEXT:  while executing command on /d' \
        -e '/has dependency on unsupported object "schema pg_temp_[0-9]*"/,/will be created only locally$/d' "$1"
}

# citus_regress <db> <out dir>: the pg_regress suite through the
# coordinator, in one distributed database; a test passes when its output,
# filtered as above, is its expected file.
citus_regress() {
    local db=$1 out=$2 pgr t
    pgr=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress
    check "a distributed database for the pg_regress suite (workitem, distribute())" citus_dist_db "$db" || return
    # pg_regress sets these for its own client; a worker formats values in
    # a message (wait_until ...) with its own session's settings.
    # (Citus sends ALTER DATABASE ... SET to the workers)
    cq 0 "$db" "ALTER DATABASE $db SET timezone = 'PST8PDT'" &&
        cq 0 "$db" "ALTER DATABASE $db SET datestyle = 'Postgres, MDY'" &&
        cq 0 "$db" "ALTER DATABASE $db SET intervalstyle = 'postgres_verbose'" || return
    local tests=()
    for t in "$ROOT"/sql/*.sql; do t=${t##*/}; tests+=("${t%.sql}"); done
    mkdir -p "$out"
    (cd "$ROOT" && "$pgr" --inputdir=. --outputdir="$out" --bindir="$PGBIN" --host="${CITUS_DIRS[0]}" \
        --port="${CITUS_PORTS[0]}" --user=postgres --use-existing --dbname="$db" "${tests[@]}") >"$out/pg_regress.log" 2>&1
    for t in "${tests[@]}"; do
        if [ ! -f "$out/results/$t.out" ]; then
            citus_suite_result "sql/$t.sql" 0 "no output"
        elif diff -q <(citus_regress_filter "$ROOT/expected/$t.out") <(citus_regress_filter "$out/results/$t.out") >/dev/null; then
            citus_suite_result "sql/$t.sql" 1 ""
        else
            diff -u <(citus_regress_filter "$ROOT/expected/$t.out") <(citus_regress_filter "$out/results/$t.out") \
                >"$out/$t.diff"
            citus_suite_result "sql/$t.sql" 0 "$(grep -c '^[-+][^-+]' "$out/$t.diff") lines differ, $out/$t.diff" "$out/$t.diff"
        fi
    done
}
