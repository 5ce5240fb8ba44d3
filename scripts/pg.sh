#!/usr/bin/env bash
# A private PostgreSQL cluster for slotd's run and test commands.
#
#   scripts/pg.sh start DATA_DIR PORT   initdb if needed, start on 127.0.0.1:PORT,
#                                       create the database "slotd"; prints its URL
#   scripts/pg.sh start-free DATA_DIR   the same on a free port picked at random
#   scripts/pg.sh stop DATA_DIR         stop it (fast shutdown)
#   scripts/pg.sh stop-now DATA_DIR     stop it as a crash would (immediate shutdown:
#                                       no checkpoint, recovery at the next start)
#
# SLOTD_PG_THROWAWAY=1 (the test command's) turns fsync off and commits
# asynchronous: faster, and safe only for a cluster nobody keeps.
# SLOTD_PG_FAST_DISK=1 (tests that crash PostgreSQL on purpose) turns only
# fsync off: every commit is still written out before it is acknowledged, so
# it survives a crash of PostgreSQL (not of the machine).
# PostgreSQL refuses to run as root: as root the cluster belongs to and runs as
# the "postgres" user, so DATA_DIR's parents must be traversable by it. The
# cluster listens on loopback TCP only (no Unix socket), with trust
# authentication for its superuser "slotd": it is a private, local cluster.
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg.sh: PostgreSQL server binaries not found" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: pg.sh start|start-free|stop|stop-now DATA_DIR [PORT]" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

case $cmd in
start-free)
    # A port can be taken between the check and the start: try a few.
    for _ in 1 2 3 4 5 6 7 8; do
        port=$((20000 + RANDOM % 30000))
        if url=$("$0" start "$dir" "$port" 2>"$dir.start.log"); then
            rm -f "$dir.start.log"
            echo "$url"
            exit 0
        fi
    done
    echo "pg.sh: could not start PostgreSQL:" >&2
    cat "$dir.start.log" >&2
    exit 1
    ;;
start)
    port=${3:?port}
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$dir"
        if ! runuser -u postgres -- test -x "$dir"; then
            echo "pg.sh: the postgres user cannot reach $dir; put the data elsewhere" >&2
            exit 1
        fi
    fi
    if [ ! -f "$dir/PG_VERSION" ]; then
        nosync=""
        [ "${SLOTD_PG_THROWAWAY:-}${SLOTD_PG_FAST_DISK:-}" != "" ] && nosync=--no-sync
        as_owner "$bin/initdb" -D "$dir" -U slotd --auth=trust -E UTF8 --locale=C.UTF-8 $nosync \
            >"$dir.initdb.log" 2>&1 || { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    extra=""
    [ "${SLOTD_PG_THROWAWAY:-}" = 1 ] && extra="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${SLOTD_PG_FAST_DISK:-}" = 1 ] && extra="-c fsync=off"
    if ! as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$dir" -w -t 60 -l "$dir/server.log" \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories= -c max_connections=200 $extra" \
            start >/dev/null || { tail -n 20 "$dir/server.log" >&2; exit 1; }
    fi
    url="postgresql://slotd@127.0.0.1:$port/slotd"
    if ! "$bin/psql" "postgresql://slotd@127.0.0.1:$port/postgres" -qtAc \
        "SELECT 1 FROM pg_database WHERE datname = 'slotd'" | grep -q 1; then
        "$bin/psql" "postgresql://slotd@127.0.0.1:$port/postgres" -qc "CREATE DATABASE slotd" >/dev/null
    fi
    echo "$url"
    ;;
stop | stop-now)
    mode=fast
    [ "$cmd" = stop-now ] && mode=immediate
    if [ -f "$dir/PG_VERSION" ]; then
        as_owner "$bin/pg_ctl" -D "$dir" -m "$mode" -w stop >/dev/null 2>&1 || true
    fi
    ;;
*)
    echo "usage: pg.sh start|start-free|stop|stop-now DATA_DIR [PORT]" >&2
    exit 2
    ;;
esac
