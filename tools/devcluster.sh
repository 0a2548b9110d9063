#!/usr/bin/env bash
# A cluster for development that outlives this script:
#   eval "$(tools/devcluster.sh start)"   # builds, installs, starts; prints exports
#   tools/devcluster.sh stop
# WORKITEM_PORT picks the port (default 55432), so several can run at once.
source "$(dirname "$0")/common.sh"
dir=/tmp/workitem-dev-$PORT
case "${1:-start}" in
start)
    ensure_deps >&2
    build_install >&2
    [ -d "$dir/data" ] || cluster_init "$dir"
    cluster_running "$dir" || cluster_start "$dir" "$PORT" "${WORKITEM_PG_OPTS:-}"
    echo "export PGHOST=$dir PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres PATH=$PGBIN:\$PATH"
    ;;
stop)
    cluster_stop "$dir" >&2 || true
    rm -rf "$dir"
    ;;
esac
