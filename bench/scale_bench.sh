#!/usr/bin/env bash
# The SaaS-scale benchmark of the in-memory index, side by side with the
# one-organization clinic, in one run on one machine.
#
# Two datasets, each in its own database of one throwaway PostgreSQL, written
# in set-based SQL by bench/scale_bench_data.sql (8 busy intervals of 45
# minutes per staff member and day, one in five a booking, the rest blocks):
#   clinic   1 organization, 20 staff, 2,500 intervals each  (50,000 intervals)
#   saas     10,000 organizations, 5 staff each (50,000), 100 intervals each
#            (5,000,000 intervals)
# For each: start slotd (one process, --workers 1: one loop and one index; clock
# frozen at 2027-01-04T06:00:00+01:00) and measure
#   load      time from the start of the process until /readyz answers 200, and
#             the index's own "index_loaded" time;
#   RSS       VmRSS once loaded, divided by the busy intervals loaded (all-in),
#             and the same above an empty database's RSS;
#   pauses    the loop's longest pause during the load (slotd_loop_max_pause_seconds),
#             the most CPU time one loop turn took (slotd_loop_max_turn_cpu_seconds:
#             a longer pause was the process waiting for a core), the worst /healthz
#             latency of a
#             probe sending one request about every millisecond
#             (bench/scale_probe.py), during the load and during a burst of
#             1,000 writes (single-row INSERTs into blocks on random resources,
#             each a NOTIFY and a reload), until the reloads are done;
#   slots     p50/p99 of GET /v1/slots, 7-day windows on random organizations
#             (each with its own key), over keep-alive connections with wrk.
# Then prints one table, the targets and the machine's load average before and
# after. A measurement, not a test: missed targets still exit 0.
#
# Usage: bench/scale_bench.sh [organizations [intervals per staff member]]
# (default 10000 and 100; or SLOTD_SCALE_ORGS and SLOTD_SCALE_INTERVALS) to
# shrink the saas set. SLOTD_SCALE_KEEP=DIR keeps the data for a later run.
# Environment: SLOTD_BENCH_SECONDS (default 10) of wrk
# per dataset, SLOTD_BENCH_CONNECTIONS (default 16), SLOTD_SCALE_QUERY_ORGS
# (default 2000): how many random organizations (and keys) the slot queries
# spread over.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

seconds=${SLOTD_BENCH_SECONDS:-10}
connections=${SLOTD_BENCH_CONNECTIONS:-16}
saas_orgs=${1:-${SLOTD_SCALE_ORGS:-10000}}
saas_intervals=${2:-${SLOTD_SCALE_INTERVALS:-100}}
query_orgs=${SLOTD_SCALE_QUERY_ORGS:-2000}
frozen_now=2027-01-04T06:00:00+01:00
first_day=2027-01-05

SLOTD_EXTRA_PACKAGES="wrk curl jq python3" scripts/deps.sh
echo "== building slotd"
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-bench -j "$(nproc 2>/dev/null || echo 2)" --target slotd >/dev/null
slotd=build-bench/slotd
pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# SLOTD_SCALE_KEEP=DIR keeps the cluster (and the datasets written into it) in DIR
# after the run; a later run with the same DIR and sizes measures again without
# writing the data again.
keep=${SLOTD_SCALE_KEEP:-}
if [ -n "$keep" ]; then
    mkdir -p "$keep"
    work=$(cd "$keep" && pwd)
else
    work=$(mktemp -d /tmp/slotd-scale-bench.XXXXXX)
fi
chmod 755 "$work"
slotd_pid=""
probe_pid=""
stop_probe() {
    if [ -n "$probe_pid" ]; then
        touch "$work/stop"
        wait "$probe_pid" 2>/dev/null || true
        probe_pid=""
    fi
}
stop_slotd() {
    stop_probe
    if [ -n "$slotd_pid" ]; then
        kill -TERM "$slotd_pid" 2>/dev/null || true
        wait "$slotd_pid" 2>/dev/null || true
        slotd_pid=""
    fi
}
cleanup() {
    stop_slotd
    scripts/pg.sh stop "$work/data" || true
    [ -n "$keep" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. bench/common.sh # free_port

cluster=$(SLOTD_PG_THROWAWAY=1 scripts/pg.sh start-free "$work/data")
echo "== throwaway PostgreSQL at $cluster"
db_url() { echo "${cluster%/*}/$1"; }
sql() {
    local db=$1
    shift
    "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 "$(db_url "$db")" "$@"
}

port=$(free_port)
base="http://127.0.0.1:$port"
now_s() { date +%s.%N; }

# Starts slotd on database $1 with the probe running; sets load_s and probe_load.
start_slotd() {
    rm -f "$work/stop"
    python3 bench/scale_probe.py "$port" "$work/stop" >"$work/probe.out" &
    probe_pid=$!
    local t0
    t0=$(now_s)
    SLOTD_NOW=$frozen_now "$slotd" serve --workers 1 --listen "127.0.0.1:$port" \
        --database-url "$(db_url "$1")" \
        >"$work/slotd-$1.log" 2>>"$work/slotd.err" &
    slotd_pid=$!
    for _ in $(seq 1 12000); do
        if curl -sf "$base/readyz" >/dev/null 2>&1; then
            load_s=$(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }')
            stop_probe
            probe_load=$(cut -d' ' -f1 "$work/probe.out")
            return 0
        fi
        kill -0 "$slotd_pid" 2>/dev/null || break
        sleep 0.01
    done
    echo "scale_bench: slotd did not become ready:" >&2
    tail -n 20 "$work/slotd.err" >&2
    exit 1
}

metric() { curl -sf "$base/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$slotd_pid/status"; }

# ---- an empty database: the process's own RSS ---------------------------------------

sql postgres -c "DROP DATABASE IF EXISTS bench_empty" -c "CREATE DATABASE bench_empty"
"$slotd" migrate --database-url "$(db_url bench_empty)" >/dev/null
start_slotd bench_empty
empty_rss=$(rss_kb)
stop_slotd

declare -A R
run_dataset() {
    local name=$1 orgs=$2 resources=$3 intervals=$4
    echo "== $name: $orgs organizations x $resources staff x $intervals intervals"
    local written="$work/written-$name-$orgs-$resources-$intervals" t0
    if [ -f "$written" ]; then
        echo "   written by an earlier run (SLOTD_SCALE_KEEP)"
        "$slotd" migrate --database-url "$(db_url "bench_$name")" >/dev/null
    else
        sql postgres -c "DROP DATABASE IF EXISTS bench_$name" -c "CREATE DATABASE bench_$name"
        "$slotd" migrate --database-url "$(db_url "bench_$name")" >/dev/null
        t0=$(now_s)
        sql "bench_$name" -v orgs="$orgs" -v resources="$resources" -v intervals="$intervals" \
            -v first_day="$first_day" -f bench/scale_bench_data.sql
        echo "   written in $(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.0f", b - a }') s"
        touch "$written"
    fi
    # as a database in service is: vacuumed (visibility map set, so the load's
    # index-only scans stay index-only) and analyzed before anything is measured
    # (also what an earlier run's burst wrote), not by autovacuum in the middle of
    # the load
    t0=$(now_s)
    sql "bench_$name" -c "VACUUM (ANALYZE)"
    echo "   vacuumed in $(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.0f", b - a }') s"
    start_slotd "bench_$name"
    grep -m 1 '"event":"index_loaded"' "$work/slotd-bench_$name.log" | sed 's/^/   /'
    local busy rss
    busy=$(metric 'slotd_index_objects{kind="busy_entries"}')
    rss=$(rss_kb)
    R[$name.load]=$load_s
    R[$name.index_ms]=$(grep -m 1 '"event":"index_loaded"' "$work/slotd-bench_$name.log" |
        sed 's/.*"ms":\([0-9.]*\).*/\1/')
    R[$name.busy]=$busy
    R[$name.rss_mb]=$(awk -v r="$rss" 'BEGIN { printf "%.0f", r / 1024 }')
    R[$name.per]=$(awk -v r="$rss" -v n="$busy" 'BEGIN { printf "%.0f", r * 1024 / n }')
    R[$name.per_above]=$(awk -v r="$rss" -v e="$empty_rss" -v n="$busy" \
        'BEGIN { printf "%.0f", (r - e) * 1024 / n }')
    R[$name.pause_load]=$(awk -v s="$(metric slotd_loop_max_pause_seconds)" \
        'BEGIN { printf "%.1f", s * 1000 }')
    R[$name.cpu_load]=$(awk -v s="$(metric slotd_loop_max_turn_cpu_seconds)" \
        'BEGIN { printf "%.1f", s * 1000 }')
    R[$name.probe_load]=$probe_load

    # the burst: 1,000 single-row writes on random resources, each its own transaction
    local reloads_before
    reloads_before=$(metric 'slotd_index_refreshes_total{kind="reload"}')
    sql "bench_$name" -tA -c "SELECT format('INSERT INTO blocks (organization_id, resource_id, \
        starts_at, ends_at) VALUES (%L, %L, %L, %L);', organization_id, id, \
        timestamptz '2027-01-05 03:00+01' + n * interval '1 minute', \
        timestamptz '2027-01-05 03:00+01' + n * interval '1 minute' + interval '30 seconds') \
        FROM (SELECT organization_id, id, row_number() OVER () AS n FROM resources \
              ORDER BY random() LIMIT 1000) r" >"$work/burst.sql"
    rm -f "$work/stop"
    python3 bench/scale_probe.py "$port" "$work/stop" >"$work/probe.out" &
    probe_pid=$!
    sleep 0.2
    t0=$(now_s)
    sql "bench_$name" -f "$work/burst.sql" >/dev/null
    local last=-1 current
    for _ in $(seq 1 300); do # until the reloads stop (coalesced ones count once)
        current=$(metric 'slotd_index_refreshes_total{kind="reload"}')
        [ "$current" = "$last" ] && [ "$current" -gt "$reloads_before" ] && break
        last=$current
        sleep 0.1
    done
    R[$name.burst_s]=$(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a - 0.1 }')
    R[$name.burst_reloads]=$((current - reloads_before))
    stop_probe
    R[$name.probe_burst]=$(cut -d' ' -f1 "$work/probe.out")
    R[$name.pause_burst]=$(awk -v s="$(metric slotd_loop_max_pause_seconds)" \
        'BEGIN { printf "%.1f", s * 1000 }')
    R[$name.cpu_burst]=$(awk -v s="$(metric slotd_loop_max_turn_cpu_seconds)" \
        'BEGIN { printf "%.1f", s * 1000 }')

    # the burst's 1,000 inserts start autovacuum of the blocks table (millions of rows on
    # the SaaS set), which would take one of the two cores in the middle of the slot
    # queries: vacuum it first, as a database between bursts is
    sql "bench_$name" -c "VACUUM (ANALYZE) blocks"

    # slot queries: 7-day windows on random organizations, with their own keys
    local days=$((intervals / 8 - 7))
    [ "$days" -lt 1 ] && days=1
    sql "bench_$name" -tA -F $'\t' -c "SELECT format('/v1/slots?service_id=%s&from=%s&to=%s', \
        md5('svc' || o.id::text)::uuid, d, d + 6), 'sk_' || replace(o.id::text, '-', '') || '_' \
        || md5(o.id::text) || substr(md5('x' || o.id::text), 1, 16) \
        FROM (SELECT id FROM organizations ORDER BY random() LIMIT $query_orgs) o, \
        LATERAL (SELECT date '$first_day' + (random() * $days)::int AS d) w, \
        generate_series(1, greatest(1, $query_orgs / $orgs)) g" >"$work/paths.tsv"
    wrk -t1 -c"$connections" -d2s -s bench/scale_bench.lua "$base" -- "$work/paths.tsv" >/dev/null
    wrk -t1 -c"$connections" -d"${seconds}s" --latency -s bench/scale_bench.lua "$base" \
        -- "$work/paths.tsv" >"$work/wrk.out"
    R[$name.rps]=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$work/wrk.out")
    R[$name.p50]=$(awk '$1 == "50%" { print $2 }' "$work/wrk.out")
    R[$name.p99]=$(awk '$1 == "99%" { print $2 }' "$work/wrk.out")
    if grep -q "Non-2xx" "$work/wrk.out"; then
        echo "scale_bench: some slot queries failed:" >&2
        cat "$work/wrk.out" >&2
    fi
    stop_slotd
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run_dataset clinic 1 20 2500
run_dataset saas "$saas_orgs" 5 "$saas_intervals"

ms() { # wrk's "1.23ms" / "456.00us" / "1.2s" as milliseconds
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[^m]s$/) n *= 1000;
        printf "%.3f", n }'
}
echo
echo "== results (one run; slotd on one loop, wrk on the other core)"
printf '%-44s %16s %16s\n' "" "clinic" "saas"
row() { printf '%-44s %16s %16s\n' "$1" "${R[clinic.$2]}" "${R[saas.$2]}"; }
row "busy intervals loaded" busy
row "load: start to /readyz (s)" load
row "load: index loaded (ms)" index_ms
row "RSS once loaded (MiB)" rss_mb
row "RSS per busy interval, all-in (bytes)" per
row "RSS per busy interval above empty (bytes)" per_above
row "longest loop pause, load (ms)" pause_load
row "most CPU in one loop turn, load (ms)" cpu_load
row "worst /healthz latency, load (ms)" probe_load
row "burst of 1,000 writes: reloads" burst_reloads
row "burst of 1,000 writes: until applied (s)" burst_s
row "worst /healthz latency, burst (ms)" probe_burst
row "longest loop pause, to burst end (ms)" pause_burst
row "most CPU in one loop turn, to burst end (ms)" cpu_burst
row "slots 7-day, random org: requests/s" rps
row "slots 7-day: p50" p50
row "slots 7-day: p99" p99
ratio=$(awk -v a="$(ms "${R[saas.p99]}")" -v b="$(ms "${R[clinic.p99]}")" 'BEGIN { printf "%.2f", a / b }')
echo
echo "targets: load <= 15 s, <= 100 bytes RSS per interval, no loop pause over 20 ms after"
echo "start, slot p99 within 1.2x of the clinic's (saas/clinic p99: $ratio)"
echo "(empty database: RSS $((empty_rss / 1024)) MiB)"
echo "load average (1, 5, 15 min): before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)"
