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
    if [ ! -d "$dir/data" ]; then
        mkdir -p "$dir"; chmod 755 "$dir"
        [ "$(id -u)" != 0 ] || chown postgres: "$dir"
        as_server_user "$PGBIN/initdb" -D "$dir/data" --auth=trust --username=postgres \
            --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_server_user "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 ||
        as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
            -o "-k $dir -p $PORT -c listen_addresses='' ${WORKITEM_PG_OPTS:-}" start >&2
    echo "export PGHOST=$dir PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres PATH=$PGBIN:\$PATH"
    ;;
stop)
    as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
    ;;
esac
