#!/usr/bin/env bash
# The iCalendar parser under libFuzzer (test/fuzz/, README "Fuzzing"),
# printing TAP. Outside the server: src/ics_parse.c with the shim of
# test/fuzz/shim.c, built by clang with AddressSanitizer and
# UndefinedBehaviorSanitizer (any report aborts). It
#   1. builds the harness;
#   2. replays every input of test/fuzz/regressions/ (feeds that crashed
#      or overflowed once), one test each;
#   3. replays the seed corpus test/fuzz/corpus/;
#   4. fuzzes for FUZZ_SECONDS (default 5), or FUZZ_RUNS inputs when set,
#      from the seeds, in a scratch copy: any crash, sanitizer report or
#      undocumented error fails, and the input is copied to $TMPDIR (keep
#      it in regressions/). The long run of the README:
#      FUZZ_RUNS=10000000 test/fuzz.sh
# clang and its libFuzzer runtime come from Debian (clang, libclang-rt-14-dev)
# and are installed when missing; when they cannot be had the test fails.
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
PG_CONFIG=${PG_CONFIG:-${PGBIN:+$PGBIN/pg_config}}
PG_CONFIG=${PG_CONFIG:-$(command -v /usr/lib/postgresql/15/bin/pg_config || command -v pg_config)}
SECONDS_TO_FUZZ=${FUZZ_SECONDS:-5}
if [ -n "${FUZZ_RUNS:-}" ]; then
    limit=(-runs="$FUZZ_RUNS") what="$FUZZ_RUNS inputs"
else
    limit=(-max_total_time="$SECONDS_TO_FUZZ") what="$SECONDS_TO_FUZZ s"
fi
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }

scratch=$(mktemp -d /tmp/workitem-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
fuzzer=$scratch/ics_fuzz

build() {
    clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -isystem "$("$PG_CONFIG" --includedir-server)" -I "$ROOT/src" -I "$ROOT/test/fuzz" \
        -o "$fuzzer" "$ROOT/src/ics_parse.c" "$ROOT/test/fuzz/shim.c" "$ROOT/test/fuzz/ics_fuzz.c" \
        >"$scratch/build.log" 2>&1
}

if ! build; then
    echo "# installing clang and libclang-rt-14-dev from Debian"
    if [ "$(id -u)" = 0 ]; then run=(); else run=(sudo -n); fi
    { "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev ||
      { "${run[@]}" apt-get update -qq &&
        "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev; }; } >/dev/null 2>&1
    build || true
fi
if [ -x "$fuzzer" ]; then
    ok "the harness builds with clang -fsanitize=fuzzer,address,undefined"
else
    sed 's/^/#   /' "$scratch/build.log" | head -n 20
    not_ok "the harness builds with clang -fsanitize=fuzzer,address,undefined (clang or libclang-rt-14-dev missing and not installable)"
    echo "1..$n"
    exit 1
fi

for input in "$ROOT"/test/fuzz/regressions/*; do
    [ -f "$input" ] || continue
    if "$fuzzer" "$input" >"$scratch/replay.log" 2>&1; then
        ok "regression input $(basename "$input"): no crash, no sanitizer report"
    else
        grep -E 'ERROR|runtime error|ics_fuzz:|SUMMARY' "$scratch/replay.log" | head -n 5 | sed 's/^/#   /'
        not_ok "regression input $(basename "$input"): no crash, no sanitizer report"
    fi
done

if "$fuzzer" -runs=0 "$ROOT/test/fuzz/corpus" >"$scratch/corpus.log" 2>&1; then
    ok "the seed corpus replays cleanly ($(ls "$ROOT/test/fuzz/corpus" | wc -l) feeds)"
else
    grep -E 'ERROR|runtime error|ics_fuzz:|SUMMARY' "$scratch/corpus.log" | head -n 5 | sed 's/^/#   /'
    not_ok "the seed corpus replays cleanly"
fi

mkdir -p "$scratch/corpus" "$scratch/artifacts"
cp "$ROOT"/test/fuzz/corpus/* "$ROOT"/test/fuzz/regressions/* "$scratch/corpus/"
if "$fuzzer" -dict="$ROOT/test/fuzz/ics.dict" -max_len=8192 "${limit[@]}" \
        -artifact_prefix="$scratch/artifacts/" -print_final_stats=1 "$scratch/corpus" >"$scratch/fuzz.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/fuzz.log")
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$scratch/fuzz.log")
    ok "fuzzing ($what): ${runs:-?} inputs in ${secs:-?} s, no crash, no sanitizer report"
else
    grep -E 'ERROR|runtime error|ics_fuzz:|SUMMARY|Test unit written' "$scratch/fuzz.log" | head -n 8 | sed 's/^/#   /'
    for a in "$scratch"/artifacts/*; do
        [ -f "$a" ] && { cp "$a" "${TMPDIR:-/tmp}/"; echo "#   input kept in ${TMPDIR:-/tmp}/$(basename "$a"): add it to test/fuzz/regressions/"; }
    done
    not_ok "fuzzing ($what): no crash, no sanitizer report"
fi

echo "1..$n"
exit $failed
