#!/usr/bin/env bash
# Static checks of the C (issue 7), printing TAP:
#   1. gcc builds it with -Wall -Wextra -Werror;
#   2. clang builds it with -Wall -Wextra -Werror;
#   3. cppcheck (warning, portability, performance) reports nothing;
#   4. src/workitem.h declares its noreturn functions in a way both the
#      installed headers and PostgreSQL 18's (pg_noreturn, no
#      pg_attribute_noreturn()) accept: only 15 is installed here, so 18's
#      convention is simulated on top of it.
# The builds run in a scratch copy of the tree, so they never race with
# the real build. clang and cppcheck are installed from Debian when
# missing (through sudo when not root); a check whose tool cannot be had
# fails, it is never skipped.
#
# Flags: the Makefile's own -Wall -Wextra -Wno-unused-parameter
# -Wno-missing-field-initializers (WERROR=1 adds -Werror). The two -Wno
# are kept: every V1 function takes PG_FUNCTION_ARGS whether it reads it
# or not, and partial designated initialisers of tables are deliberate.
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
source "$ROOT/tools/cluster.sh"
PG_CONFIG=${PG_CONFIG:-$(command -v /usr/lib/postgresql/15/bin/pg_config || command -v pg_config)}
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }

ensure() {  # ensure <command> <debian package>
    command -v "$1" >/dev/null && return 0
    echo "# installing $2 from Debian"
    apt_install "$2" 2>&1 | tail -n 5 | sed 's/^/#   /'
    command -v "$1" >/dev/null
}

scratch=$(mktemp -d /tmp/workitem-static.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

build() {  # build <name> <make args...>: a clean build in its own copy
    local name=$1 dir=$scratch/$1
    shift
    mkdir -p "$dir"
    cp -r "$ROOT/src" "$ROOT/Makefile" "$ROOT/extension" "$ROOT/workitem.control" "$dir/"
    rm -f "$dir"/src/*.o "$dir"/src/*.bc "$dir"/*.so
    if make -C "$dir" -s -k WERROR=1 with_llvm=no PG_CONFIG="$PG_CONFIG" "$@" >"$dir.log" 2>&1 &&
       ! grep -q 'warning:' "$dir.log"; then
        return 0
    fi
    grep -E 'warning:|error:' "$dir.log" | head -n 30 | sed 's/^/#   /'
    return 1
}

if build gcc CC=gcc; then
    ok "gcc builds src/ with -Wall -Wextra -Werror, no warning"
else
    not_ok "gcc builds src/ with -Wall -Wextra -Werror, no warning"
fi

if ensure clang clang; then
    # PGXS passes the flags PostgreSQL was configured with for gcc: drop
    # or translate the ones clang does not know. The server headers are
    # system headers here: clang does not know their gnu_printf format
    # attribute and would warn about every prototype in them.
    clang_cflags=$("$PG_CONFIG" --cflags | sed -e 's/-fexcess-precision=standard//' \
        -e 's/-Wimplicit-fallthrough=3/-Wimplicit-fallthrough/' \
        -e 's/-Wno-format-truncation//' -e 's/-Wno-stringop-truncation//')
    if build clang CC=clang CFLAGS="$clang_cflags" \
            CPPFLAGS="-isystem $("$PG_CONFIG" --includedir-server)"; then
        ok "clang builds src/ with -Wall -Wextra -Werror, no warning"
    else
        not_ok "clang builds src/ with -Wall -Wextra -Werror, no warning"
    fi
else
    not_ok "clang builds src/ with -Wall -Wextra -Werror, no warning (clang is missing and could not be installed)"
fi

if ensure cppcheck cppcheck; then
    # One configuration (the one the server is built for: gcc, x86-64,
    # Linux) instead of every #ifdef combination of the server headers,
    # which takes minutes. USE_ASSERT_CHECKING makes Assert() a call of
    # the noreturn ExceptionalCondition(), so cppcheck knows what the code
    # assumes instead of reporting the asserted case as reachable.
    # Suppressed: missingIncludeSystem (libc headers are not given to it).
    log=$scratch/cppcheck.log
    if cppcheck -q --max-configs=1 -D__GNUC__=12 -D__x86_64__ -D__linux__ -DUSE_ASSERT_CHECKING \
            --std=c99 --enable=warning,portability,performance --error-exitcode=1 \
            --suppress=missingIncludeSystem \
            -I "$("$PG_CONFIG" --includedir-server)" -I "$("$PG_CONFIG" --includedir)" \
            "$ROOT/src" >"$log" 2>&1 && [ ! -s "$log" ]; then
        ok "cppcheck --enable=warning,portability,performance reports nothing in src/"
    else
        head -n 40 "$log" | sed 's/^/#   /'
        not_ok "cppcheck --enable=warning,portability,performance reports nothing in src/"
    fi
else
    not_ok "cppcheck --enable=warning,portability,performance reports nothing in src/ (cppcheck is missing and could not be installed)"
fi

# A call of a noreturn function ends a non-void function: with
# -Werror=return-type the probe compiles only if the declaration says so.
noreturn_probe() {  # noreturn_probe <name> <lines put before #include "workitem.h">
    local f=$scratch/$1.c
    { printf '#include "postgres.h"\n%s\n#include "workitem.h"\n' "$2"
      printf 'int wi_probe(void);\nint wi_probe(void) { wi_refuse_move(1, WI_TICKET, WI_DRAFT, WI_CLOSED, "x"); }\n'
    } >"$f"
    gcc -c -o "$f.o" -Wall -Werror=return-type -I "$ROOT/src" \
        -I "$("$PG_CONFIG" --includedir-server)" "$f" >"$f.log" 2>&1 && return 0
    head -n 10 "$f.log" | sed 's/^/#   /'
    return 1
}
if noreturn_probe pg_installed '' &&
   noreturn_probe pg18 '#undef pg_attribute_noreturn
#define pg_noreturn _Noreturn
#undef PG_VERSION_NUM
#define PG_VERSION_NUM 180000'; then
    ok "workitem.h: wi_refuse_move() is noreturn with the installed headers and with PostgreSQL 18's pg_noreturn"
else
    not_ok "workitem.h: wi_refuse_move() is noreturn with the installed headers and with PostgreSQL 18's pg_noreturn"
fi

echo "1..$n"
exit $failed
