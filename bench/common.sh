# Sourced by the benchmark scripts (bash): the build, a work directory with a
# throwaway PostgreSQL that are removed on exit, and free ports.
#
#   bench_build TARGET...        RelWithDebInfo build in build-bench
#   bench_start_postgres NAME    $work (/tmp/slotd-NAME.XXXXXX) and $url, the
#                                cluster's URL; both removed on exit, after
#                                the functions named in $bench_on_exit ran
#   free_port                    a TCP port nothing listens on, on 127.0.0.1

bench_on_exit=()

bench_build() {
    cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build-bench -j "$(nproc 2>/dev/null || echo 2)" --target "$@" >/dev/null
}

bench_cleanup() {
    local hook
    for hook in "${bench_on_exit[@]}"; do
        "$hook" || true
    done
    scripts/pg.sh stop "$work/data" || true
    rm -rf "$work"
}

bench_start_postgres() {
    work=$(mktemp -d "/tmp/slotd-$1.XXXXXX")
    chmod 755 "$work" # reachable by the postgres user when running as root
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    url=$(SLOTD_PG_THROWAWAY=1 scripts/pg.sh start-free "$work/data")
    echo "== throwaway PostgreSQL at $url"
}

free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}
