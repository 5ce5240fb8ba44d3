# Sourced by the benchmark scripts (bash): the build, a work directory with a
# throwaway PostgreSQL that are removed on exit, and free ports.
#
#   bench_build TARGET...        RelWithDebInfo build in build-bench
#   bench_start_postgres NAME [durable]
#                                $work (/tmp/slotd-NAME.XXXXXX) and $url, the
#                                cluster's URL; both removed on exit, after
#                                the functions named in $bench_on_exit ran.
#                                The cluster runs with fsync off and
#                                asynchronous commits, unless "durable": then
#                                with PostgreSQL's defaults (fsync on, every
#                                commit flushed before it is acknowledged)
#   free_port                    a TCP port nothing listens on, on 127.0.0.1
#   bench_wait_ready BASE PID LOG  waits until BASE/readyz answers 200; stops
#                                the script (printing LOG) when PID exits or
#                                a minute passes
#   bench_to_ms VALUE            a wrk latency (with its unit: us, ms, s) in ms
#   bench_percentile_ms Q FILE   the Q quantile (0.99) of FILE's sorted
#                                latencies in microseconds, one a line, in ms
#   bench_column_stat C [min|max]  the median (or the least, or the greatest)
#                                of column C of stdin
#   bench_cpu_ticks              the machine's CPU time so far, in clock
#                                ticks: "all steal" (steal: what the
#                                hypervisor gave to other machines)

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
    if [ "${2:-}" = durable ]; then
        url=$(scripts/pg.sh start-free "$work/data")
        echo "== throwaway PostgreSQL at $url (fsync on, synchronous commits)"
    else
        url=$(SLOTD_PG_THROWAWAY=1 scripts/pg.sh start-free "$work/data")
        echo "== throwaway PostgreSQL at $url"
    fi
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

bench_to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
        else printf "?" }'
}

bench_column_stat() {
    awk -v c="$1" '{ print $c }' | sort -n | awk -v w="${2:-median}" '{ v[NR] = $1 }
        END { if (w == "min") print v[1]; else if (w == "max") print v[NR];
              else print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

bench_cpu_ticks() {
    awk '$1 == "cpu" { for (i = 2; i <= 9; i++) t += $i; print t, $9 }' /proc/stat
}

bench_percentile_ms() {
    awk -v q="$1" '{ v[NR] = $1 } END {
        i = int(NR * q + 0.999999); if (i < 1) i = 1
        printf "%.2f", v[i] / 1000 }' "$2"
}

bench_wait_ready() {
    for _ in $(seq 1 600); do
        if curl -sf "$1/readyz" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$2" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    echo "$(basename "$0"): slotd at $1 did not become ready:" >&2
    cat "$3" >&2
    exit 1
}

# With two cores or more (and SLOTD_BENCH_PIN not 0), this script and what it
# starts go to cores 1..n-1, and on_server_core (a command prefix) puts slotd
# and the load on core 0; `placement` says which.
bench_pin() {
    on_server_core=()
    cores=$(nproc 2>/dev/null || echo 1)
    if [ "${SLOTD_BENCH_PIN:-1}" = 1 ] && [ "$cores" -ge 2 ] && command -v taskset >/dev/null; then
        taskset -cp "1-$((cores - 1))" $$ >/dev/null
        on_server_core=(taskset -c 0)
        placement="slotd and the load on core 0; the rest on cores 1-$((cores - 1))"
    else
        placement="not pinned"
    fi
}

# Stops the processes whose ids are in $load_pid, $slotd_pid and $fake_pid (those set).
bench_stop_started() {
    local pid
    for pid in "${load_pid:-}" "${slotd_pid:-}" "${fake_pid:-}"; do
        if [ -n "$pid" ]; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
}
