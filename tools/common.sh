# Shared by tools/*.sh: dependencies, build, and a throwaway cluster
# (the cluster functions themselves are in tools/cluster.sh).
# Source it; it sets -euo pipefail.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGVERSION=${PGVERSION:-15}
PGBIN=${PGBIN:-/usr/lib/postgresql/$PGVERSION/bin}
PG_CONFIG=$PGBIN/pg_config
PORT=${WORKITEM_PORT:-55432}
export PATH="$PGBIN:$PATH"

source "$ROOT/tools/cluster.sh"

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
        apt_install "${missing[@]}"
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

# The throwaway cluster of make test, make bench and make demo: a temp dir,
# removed at exit (KEEP_CLUSTER=1 keeps it); WORKITEM_PG_OPTS adds server options.
stop_cluster() {
    [ -n "${CLUSTER_DIR:-}" ] || return 0
    cluster_stop "$CLUSTER_DIR" || true
    if [ "${KEEP_CLUSTER:-0}" != 1 ]; then rm -rf "$CLUSTER_DIR"; fi
    CLUSTER_DIR=
}

start_cluster() {
    CLUSTER_DIR=$(mktemp -d /tmp/workitem.XXXXXX)
    trap stop_cluster EXIT
    cluster_init "$CLUSTER_DIR" && cluster_start "$CLUSTER_DIR" "$PORT" "${WORKITEM_PG_OPTS:-}" || return 1
    cluster_env "$CLUSTER_DIR" "$PORT"
    echo "== throwaway cluster: PostgreSQL $PGVERSION on socket $CLUSTER_DIR, port $PORT"
}
