# shellcheck shell=bash
# A Citus cluster on loopback for test/citus.sh (and bench/, by hand): source
# it. Sets no shell options. Needs ROOT and PGBIN; PG_CONFIG defaults to
# $PGBIN/pg_config. Citus itself is not part of the project: it is built from
# the archive in ../shared/vendor (next to the repository) when the install of
# $PG_CONFIG has no Citus yet.
source "$ROOT/tools/cluster.sh"
PG_CONFIG=${PG_CONFIG:-$PGBIN/pg_config}
CITUS_VERSION=${CITUS_VERSION:-13.2.2}
CITUS_ARCHIVE=${CITUS_ARCHIVE:-$ROOT/../shared/vendor/citus-$CITUS_VERSION.tar.gz}
# Debian packages Citus's configure and build need besides the server headers.
CITUS_BUILD_DEPS=(build-essential liblz4-dev libzstd-dev libcurl4-openssl-dev
    libkrb5-dev libssl-dev libselinux1-dev libpam0g-dev libxslt1-dev libxml2-dev libreadline-dev zlib1g-dev)

citus_installed() {
    [ -f "$("$PG_CONFIG" --sharedir)/extension/citus.control" ] &&
        [ -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ]
}

# citus_build: builds and installs Citus into $PG_CONFIG's install unless it
# is there already. Log in $CITUS_BUILD_LOG (default a temp file); returns
# non-zero on failure after printing its tail to stderr.
citus_build() {
    citus_installed && return 0
    [ -f "$CITUS_ARCHIVE" ] || { echo "citus archive not found: $CITUS_ARCHIVE" >&2; return 1; }
    local missing=() p src
    for p in "${CITUS_BUILD_DEPS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "# installing Citus build deps from Debian: ${missing[*]}" >&2
        apt_install "${missing[@]}" || return 1
    fi
    src=$(mktemp -d /tmp/citus-build.XXXXXX)
    CITUS_BUILD_LOG=${CITUS_BUILD_LOG:-$src/build.log}
    tar -xzf "$CITUS_ARCHIVE" -C "$src" || return 1
    src=$src/citus-$CITUS_VERSION
    # PostgreSQL 15.20 and later export have_createdb_privilege(), which
    # Citus 13.2.2 redefines as a static inline: rename Citus's copy.
    if grep -q 'extern bool have_createdb_privilege' "$("$PG_CONFIG" --includedir-server)/commands/dbcommands.h" 2>/dev/null &&
            ! grep -q 'citus_have_createdb_privilege' "$src/src/include/pg_version_compat.h"; then
        sed -i '/^static inline bool$/{N;s/^static inline bool\nhave_createdb_privilege(void)$/#define have_createdb_privilege citus_have_createdb_privilege\n&/}' \
            "$src/src/include/pg_version_compat.h"
        grep -q 'citus_have_createdb_privilege' "$src/src/include/pg_version_compat.h" ||
            { echo "could not apply the have_createdb_privilege fix" >&2; return 1; }
    fi
    echo "# building Citus $CITUS_VERSION in $src (a few minutes; log $CITUS_BUILD_LOG)" >&2
    if ! ( cd "$src" && ./configure PG_CONFIG="$PG_CONFIG" && make -j2 && as_root make install PG_CONFIG="$PG_CONFIG" ) \
            >"$CITUS_BUILD_LOG" 2>&1; then
        tail -n 40 "$CITUS_BUILD_LOG" >&2
        return 1
    fi
    rm -rf "$(dirname "$src")"
    citus_installed
}

# citus_cluster_start <dir> <port> [<nworkers>]: a coordinator on <port> and
# <nworkers> (default 2) workers on the next ports, each in <dir>/node<i>
# (node0 is the coordinator), listening on 127.0.0.1 and their socket dir,
# trust auth (initdb --auth=trust covers 127.0.0.1). Sets CITUS_DIRS and
# CITUS_PORTS (arrays, coordinator first). The nodes talk over TCP
# without SSL: loopback only.
citus_cluster_start() {
    local dir=$1 port=$2 nworkers=${3:-2} i
    CITUS_DIRS=() CITUS_PORTS=()
    mkdir -p "$dir" && chmod 755 "$dir" || return 1
    for i in $(seq 0 "$nworkers"); do
        CITUS_DIRS+=("$dir/node$i") CITUS_PORTS+=($((port + i)))
        cluster_init "$dir/node$i" "shared_preload_libraries = 'citus'" \
            "citus.node_conninfo = 'sslmode=disable'" "max_prepared_transactions = 100" \
            "autovacuum = off" "fsync = off" || return 1
        citus_node_start "$dir/node$i" $((port + i)) || return 1
    done
}

# citus_node_start <dir> <port>: cluster_start on 127.0.0.1 too; tried three
# times, since the nodes' own connections take ephemeral ports, which may
# hold the port a moment.
citus_node_start() {
    local _
    for _ in 1 2 3; do
        cluster_start "$1" "$2" "-c listen_addresses=127.0.0.1" 2>"$1/start.err" && return 0
        sleep 2
    done
    cat "$1/start.err" >&2
    return 1
}

citus_cluster_stop() {
    local d
    for d in "${CITUS_DIRS[@]}"; do cluster_running "$d" && cluster_stop "$d" immediate; done
    return 0
}

# cq <node index> <database> <sql>: one statement on one node, unaligned.
cq() {
    "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "${CITUS_DIRS[$1]}" -p "${CITUS_PORTS[$1]}" \
        -U postgres -d "$2" -c "$3"
}

# citus_db_create <database> [<nworkers>]: the database on every node with
# Citus in it, the coordinator's host set and the first <nworkers> workers
# (default all) registered (Citus 13 does not propagate CREATE DATABASE by
# default, so each node gets it by hand).
citus_db_create() {
    local db=$1 nworkers=${2:-$((${#CITUS_DIRS[@]} - 1))} i
    for i in "${!CITUS_DIRS[@]}"; do
        "$PGBIN/createdb" -h "${CITUS_DIRS[$i]}" -p "${CITUS_PORTS[$i]}" -U postgres "$db" || return 1
        cq "$i" "$db" "SET client_min_messages = warning; CREATE EXTENSION citus" || return 1
    done
    cq 0 "$db" "SELECT citus_set_coordinator_host('127.0.0.1', ${CITUS_PORTS[0]})" >/dev/null || return 1
    for i in $(seq 1 "$nworkers"); do
        cq 0 "$db" "SELECT citus_add_node('127.0.0.1', ${CITUS_PORTS[$i]})" >/dev/null || return 1
    done
}
