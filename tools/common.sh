# Shared by tools/*.sh: dependencies, build, and a throwaway cluster.
# Source it; it sets -euo pipefail.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGVERSION=${PGVERSION:-15}
PGBIN=${PGBIN:-/usr/lib/postgresql/$PGVERSION/bin}
PG_CONFIG=$PGBIN/pg_config
PORT=${WORKITEM_PORT:-55432}
export PATH="$PGBIN:$PATH"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The server refuses to run as root: run its commands as postgres then.
as_server_user() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_deps() {
    local missing=()
    # pg_config alone can come with the server package: look for the headers.
    [ -f "/usr/include/postgresql/$PGVERSION/server/postgres.h" ] || missing+=("postgresql-server-dev-$PGVERSION")
    [ -x "$PGBIN/initdb" ] || missing+=("postgresql-$PGVERSION")
    [ -f "/usr/share/postgresql/$PGVERSION/extension/pgtap.control" ] || missing+=("postgresql-$PGVERSION-pgtap")
    command -v pg_prove >/dev/null || missing+=(libtap-parser-sourcehandler-pgtap-perl)
    /usr/bin/python3 -c 'import psycopg2' 2>/dev/null || missing+=(python3-psycopg2)
    command -v gcc >/dev/null && command -v make >/dev/null || missing+=(build-essential)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "== installing from Debian: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

build_install() {
    echo "== building and installing workitem"
    # One build at a time in a tree: several test runs may share it.
    (
        flock 9
        make -C "$ROOT" -s PG_CONFIG="$PG_CONFIG" >/dev/null
        as_root make -C "$ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
    ) 9>"${TMPDIR:-/tmp}/workitem-build.lock"
}

stop_cluster() {
    [ -n "${CLUSTER_DIR:-}" ] || return 0
    as_server_user "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    if [ "${KEEP_CLUSTER:-0}" != 1 ]; then rm -rf "$CLUSTER_DIR"; fi
    CLUSTER_DIR=
}

# A temporary cluster listening only on a socket in its own directory.
start_cluster() {
    CLUSTER_DIR=$(mktemp -d /tmp/workitem.XXXXXX)
    chmod 755 "$CLUSTER_DIR"
    [ "$(id -u)" != 0 ] || chown postgres: "$CLUSTER_DIR"
    trap stop_cluster EXIT
    if ! as_server_user "$PGBIN/initdb" -D "$CLUSTER_DIR/data" --auth=trust --username=postgres \
            --encoding=UTF8 --locale=C.UTF-8 >"$CLUSTER_DIR/initdb.log" 2>&1; then
        cat "$CLUSTER_DIR/initdb.log"; return 1
    fi
    if ! as_server_user "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w \
            -o "-k $CLUSTER_DIR -p $PORT -c listen_addresses='' ${WORKITEM_PG_OPTS:-}" start >/dev/null; then
        tail -n 30 "$CLUSTER_DIR/server.log"; return 1
    fi
    export PGHOST=$CLUSTER_DIR PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
    echo "== throwaway cluster: PostgreSQL $PGVERSION on socket $CLUSTER_DIR, port $PORT"
}
