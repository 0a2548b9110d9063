# Clusters and privileges, shared by tools/*.sh, the whole-cluster tests
# (test/worker.sh, test/crash.sh) and the benchmarks. Source it; it sets no
# shell options, so a test printing TAP keeps going after a failure.
# Needs PGBIN (default: the system PostgreSQL $PGVERSION, 15).
PGBIN=${PGBIN:-/usr/lib/postgresql/${PGVERSION:-15}/bin}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The server refuses to run as root: run its commands as postgres then.
as_server_user() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# apt_install <package>...: from Debian, as root (sudo otherwise).
apt_install() {
    as_root apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# cluster_init <dir> [<setting>...]: a new cluster in <dir>/data, owned by
# the server user. Each setting ("name = value") goes into postgresql.conf,
# not the command line, so that ALTER SYSTEM and a reload can still change it.
cluster_init() {
    local dir=$1
    shift
    mkdir -p "$dir" && chmod 755 "$dir" || return 1
    [ "$(id -u)" != 0 ] || chown postgres: "$dir"
    if ! as_server_user "$PGBIN/initdb" -D "$dir/data" --auth=trust --username=postgres \
            --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        return 1
    fi
    [ $# = 0 ] || printf '%s\n' "$@" >>"$dir/data/postgresql.conf"
}

# cluster_start <dir> <port> [<postgres options>]: start it, listening only
# on a socket in <dir>; the server log is <dir>/server.log.
cluster_start() {
    local dir=$1 port=$2 opts=${3:-}
    if ! as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-k $dir -p $port -c listen_addresses='' $opts" start >/dev/null 2>&1; then
        tail -n 30 "$dir/server.log" >&2 2>/dev/null
        return 1
    fi
}

cluster_running() {  # cluster_running <dir>
    as_server_user "$PGBIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

# cluster_stop <dir> [<mode> [<pg_ctl options>...]]: mode fast by default;
# returns pg_ctl's status.
cluster_stop() {
    local dir=$1 mode=${2:-fast}
    shift $(( $# < 2 ? $# : 2 ))
    as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -m "$mode" -w "$@" stop >/dev/null 2>&1
}

# cluster_env <dir> <port>: libpq's environment for it (PGHOST ... PGDATABASE).
cluster_env() {
    export PGHOST=$1 PGPORT=$2 PGUSER=postgres PGDATABASE=postgres
}
