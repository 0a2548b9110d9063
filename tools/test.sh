#!/usr/bin/env bash
# make test: set up, then the pg_regress suite, the pgTAP suite and the
# client tests (test/*.py, real connections), with one closing line of counts.
source "$(dirname "$0")/common.sh"
ensure_deps
build_install
start_cluster
cd "$ROOT"

passed=0 failed=0 skipped=0 stage_failed=0
log=$CLUSTER_DIR/test.log

echo "== pg_regress suite (sql/, expected/)"
if ! make -s PG_CONFIG="$PG_CONFIG" installcheck 2>&1 | tee "$log.regress"; then
    stage_failed=1
    [ -f regression.diffs ] && head -n 300 regression.diffs
fi
# PostgreSQL 15 prints "test x ... ok"; 16 and later print "ok 1 - x".
r_ok=$(grep -cE '^(test .*\.\.\. ok|ok [0-9]+ )' "$log.regress" || true)
r_bad=$(grep -cE '^(test .*\.\.\. FAILED|not ok [0-9]+ )' "$log.regress" || true)
passed=$((passed + r_ok)) failed=$((failed + r_bad))

echo "== pgTAP suite (test/*.sql)"
shopt -s nullglob
tap_files=(test/*.sql)
if [ ${#tap_files[@]} -gt 0 ]; then
    createdb workitem_tap
    psql -X -q -d workitem_tap -c 'CREATE EXTENSION pgtap; CREATE EXTENSION workitem;'
    if ! pg_prove -d workitem_tap "${tap_files[@]}" 2>&1 | tee "$log.tap"; then stage_failed=1; fi
    t_total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$log.tap" | tail -n 1)
    t_bad=$({ grep -oE 'Failed [0-9]+/[0-9]+ subtests' "$log.tap" || true; } | awk '{split($2,a,"/"); s+=a[1]} END {print s+0}')
    passed=$((passed + ${t_total:-0} - t_bad)) failed=$((failed + t_bad))
fi

# Client and whole-cluster tests: executables in test/ (*.py, *.sh) print
# TAP lines; they get the cluster in PGHOST/PGPORT and PGBIN, ROOT.
echo "== client tests (test/*.py, test/*.sh)"
createdb workitem_clients
psql -X -q -d workitem_clients -c 'CREATE EXTENSION workitem;'
export PGBIN ROOT CLUSTER_DIR
for script in test/*.py test/*.sh; do
    echo "-- $script"
    if ! PGDATABASE=workitem_clients "$script" 2>&1 | tee "$log.client"; then stage_failed=1; fi
    # a skipped test ran nothing: it is counted apart, not as passed
    c_ok=$(grep -E '^ok [0-9]+' "$log.client" | grep -vc '# SKIP' || true)
    c_skip=$(grep -E '^ok [0-9]+' "$log.client" | grep -c '# SKIP' || true)
    skipped=$((skipped + c_skip))
    c_bad=$(grep -cE '^not ok [0-9]+' "$log.client" || true)
    passed=$((passed + c_ok)) failed=$((failed + c_bad))
done

# A stage that failed without a counted failure (a crash, a bad plan) counts as one.
if [ "$stage_failed" = 1 ] && [ "$failed" = 0 ]; then failed=1; fi
echo "tests: $passed passed, $failed failed$([ "$skipped" = 0 ] || echo ", $skipped skipped")"
[ "$failed" = 0 ]
