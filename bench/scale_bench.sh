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
#             the index's own "index_loaded" time; slotd's loop thread's time on
#             a core and waiting for one until then, the same of the PostgreSQL
#             backends serving it, and the time they spent reading blocks
#             (track_io_timing);
#   RSS       VmRSS once loaded, divided by the busy intervals loaded (all-in),
#             and the same above an empty database's RSS;
#   pauses    the loop's longest pause (slotd_loop_max_pause_seconds) beside the
#             CPU time of that same turn (slotd_loop_max_pause_cpu_seconds: the
#             rest of the pause was the process waiting for a core), the most CPU
#             time any one turn took (slotd_loop_max_turn_cpu_seconds), and the
#             worst /healthz latency of a probe sending one request about every
#             millisecond (bench/scale_probe.py), during the load and during a
#             burst of 1,000 writes (single-row INSERTs into blocks on random
#             resources, each a NOTIFY and a reload), until the reloads are done;
#   slots     p50/p99 of GET /v1/slots, 7-day windows on random organizations
#             (each with its own key), over keep-alive connections with wrk.
# Both servers stay up for the slot queries, which run in rounds of the same
# number of queries (SLOTD_SCALE_QUERIES, default 20000), taking turns (clinic,
# saas, then saas, clinic, ...: SLOTD_SCALE_ROUNDS rounds each, default 8, after
# one warm-up round each; a round lasts SLOTD_SCALE_ROUND_SECONDS, default 2, and
# stops early at its count), so that whatever else the machine does in the
# meantime falls on both alike; each side's p50 and p99 are the medians of its
# rounds, printed with the range of its rounds' p99, and slotd's own time on a
# core and waiting for one per query (the kernel's schedstat). By default the
# rounds end within a minute of the warm-up, the life of a cached API key: after
# it, each of the saas set's 2,000 keys is looked up in the database again once.
# The same conditions for both: with two cores or more, slotd runs on core 0 and
# everything else the script starts (PostgreSQL, the probe, wrk, psql) on the
# others (SLOTD_SCALE_PIN=0: no pinning), as if the database had a machine of its own;
# autovacuum is off in the benchmark's cluster and timed checkpoints are an hour
# apart, and each dataset is vacuumed, analyzed and checkpointed before the load
# and again before the slot queries, so neither runs in a measured window; and
# each dataset's files are read once just before its load, so that its data is
# in the kernel's page cache as a database in service has it
# (SLOTD_SCALE_PREWARM=0: as the machine left it; the time PostgreSQL spent
# reading blocks is printed either way).
# Then prints one table, the targets and the machine's load average before and
# after. A measurement, not a test: missed targets still exit 0.
#
# Usage: bench/scale_bench.sh [organizations [intervals per staff member]]
# (default 10000 and 100; or SLOTD_SCALE_ORGS and SLOTD_SCALE_INTERVALS) to
# shrink the saas set. SLOTD_SCALE_KEEP=DIR keeps the data for a later run.
# Environment: SLOTD_BENCH_CONNECTIONS (default 16) of wrk, SLOTD_SCALE_QUERY_ORGS
# (default 2000): how many random organizations (and keys) the slot queries
# spread over.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

connections=${SLOTD_BENCH_CONNECTIONS:-16}
rounds=${SLOTD_SCALE_ROUNDS:-8}
per_round=${SLOTD_SCALE_QUERIES:-20000}
round_seconds=${SLOTD_SCALE_ROUND_SECONDS:-2}
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

# slotd on core 0, this script and everything it starts from here on on the others
on_server_core=()
cores=$(nproc 2>/dev/null || echo 1)
if [ "${SLOTD_SCALE_PIN:-1}" = 1 ] && [ "$cores" -ge 2 ] && command -v taskset >/dev/null; then
    taskset -cp "1-$((cores - 1))" $$ >/dev/null
    on_server_core=(taskset -c 0)
    placement="slotd on core 0; PostgreSQL, wrk, the probe on cores 1-$((cores - 1))"
else
    placement="not pinned"
fi

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
running=() # every slotd started and not stopped yet
stop_probe() {
    if [ -n "$probe_pid" ]; then
        touch "$work/stop"
        wait "$probe_pid" 2>/dev/null || true
        probe_pid=""
    fi
}
stop_slotd() { # $1: its pid
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    stop_probe
    local pid
    for pid in "${running[@]}"; do
        stop_slotd "$pid"
    done
    scripts/pg.sh stop "$work/data" || true
    [ -n "$keep" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. bench/common.sh # free_port

cluster=$(SLOTD_PG_THROWAWAY=1 scripts/pg.sh start-free "$work/data")
echo "== throwaway PostgreSQL at $cluster ($placement)"
db_url() { echo "${cluster%/*}/$1"; }
sql() {
    local db=$1
    shift
    "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 "$(db_url "$db")" "$@"
}
# nothing of PostgreSQL's own housekeeping in a measured window: vacuum and checkpoints
# run when the script asks (settle), not when the server decides
sql postgres -c "ALTER SYSTEM SET autovacuum = off" -c "ALTER SYSTEM SET checkpoint_timeout = '1h'" \
    -c "ALTER SYSTEM SET max_wal_size = '8GB'" -c "ALTER SYSTEM SET track_io_timing = on" \
    -c "SELECT pg_reload_conf()" >/dev/null
now_s() { date +%s.%N; }
# vacuums and analyzes database $1 (or only the tables named after it) and checkpoints
settle() {
    local db=$1 t0
    shift
    t0=$(now_s)
    sql "$db" -c "VACUUM (ANALYZE) $*" -c "CHECKPOINT"
    echo "   vacuumed${*:+ $*} and checkpointed in $(awk -v a="$t0" -v b="$(now_s)" \
        'BEGIN { printf "%.0f", b - a }') s"
}

# reads database $1's files once, so that its data is in the kernel's page cache as a
# database in service has it, not wherever the machine's other work left it
prewarm() {
    local oid t0
    oid=$(sql "$1" -tA -c "SELECT oid FROM pg_database WHERE datname = '$1'")
    t0=$(now_s)
    cat "$work/data/base/$oid"/* >/dev/null
    echo "   read into the page cache in $(awk -v a="$t0" -v b="$(now_s)" \
        'BEGIN { printf "%.0f", b - a }') s"
}

port=""
base=""
# Starts slotd on database $1 on a port of its own with the probe running; sets port, base,
# slotd_pid, load_s and probe_load.
start_slotd() {
    port=$(free_port)
    base="http://127.0.0.1:$port"
    rm -f "$work/stop"
    python3 bench/scale_probe.py "$port" "$work/stop" >"$work/probe.out" &
    probe_pid=$!
    local t0
    t0=$(now_s)
    SLOTD_NOW=$frozen_now "${on_server_core[@]}" "$slotd" serve --workers 1 \
        --listen "127.0.0.1:$port" --database-url "$(db_url "$1")" \
        >"$work/slotd-$1.log" 2>>"$work/slotd.err" &
    slotd_pid=$!
    running+=("$slotd_pid")
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

# "cpu waited": nanoseconds on a core and waiting for one (runnable) of the processes
# named, added up, from the kernel's schedstat (slotd's loop is its main thread)
sched_ns() {
    local pid
    for pid in "$@"; do
        cat "/proc/$pid/schedstat" 2>/dev/null || true
    done | awk '{ c += $1; w += $2 } END { printf "%.0f %.0f\n", c, w }'
}
backends() { # PostgreSQL's processes serving database $1
    sql "$1" -tA -c "SELECT pid FROM pg_stat_activity WHERE datname = '$1' \
        AND pid <> pg_backend_pid()"
}
# the milliseconds PostgreSQL's backends have spent reading blocks of database $1 (from the
# kernel: its page cache or the disk) since the cluster started
read_ms() { sql "$1" -tA -c "SELECT blk_read_time FROM pg_stat_database WHERE datname = '$1'"; }
seconds_pair() { awk -v c="$1" -v w="$2" 'BEGIN { printf "%.1f / %.1f", c / 1e9, w / 1e9 }'; }
metric() { curl -sf "$base/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
metric_ms() { awk -v s="$(metric "$1")" 'BEGIN { printf "%.1f", s * 1000 }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$slotd_pid/status"; }

# ---- an empty database: the process's own RSS ---------------------------------------

sql postgres -c "DROP DATABASE IF EXISTS bench_empty" -c "CREATE DATABASE bench_empty"
"$slotd" migrate --database-url "$(db_url bench_empty)" >/dev/null
start_slotd bench_empty
empty_rss=$(rss_kb)
stop_slotd "$slotd_pid"
running=()

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
    settle "bench_$name"
    if [ "${SLOTD_SCALE_PREWARM:-1}" = 1 ]; then
        prewarm "bench_$name"
    fi
    local read_before
    read_before=$(read_ms "bench_$name")
    start_slotd "bench_$name"
    R[$name.load_read]=$(awk -v a="$read_before" -v b="$(read_ms "bench_$name")" \
        'BEGIN { printf "%.1f", (b - a) / 1000 }')
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
    R[$name.port]=$port
    R[$name.pid]=$slotd_pid
    R[$name.load_sched]=$(seconds_pair $(sched_ns "$slotd_pid"))
    R[$name.load_pg]=$(seconds_pair $(sched_ns $(backends "bench_$name")))
    R[$name.pause_load]="$(metric_ms slotd_loop_max_pause_seconds) / $(metric_ms \
        slotd_loop_max_pause_cpu_seconds)"
    R[$name.cpu_load]=$(metric_ms slotd_loop_max_turn_cpu_seconds)
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
    R[$name.pause_burst]="$(metric_ms slotd_loop_max_pause_seconds) / $(metric_ms \
        slotd_loop_max_pause_cpu_seconds)"
    R[$name.cpu_burst]=$(metric_ms slotd_loop_max_turn_cpu_seconds)

    # what the burst wrote, vacuumed and checkpointed before the slot queries, as a
    # database between bursts is
    settle "bench_$name" blocks

    # slot queries: 7-day windows on random organizations, with their own keys
    local days=$((intervals / 8 - 7))
    [ "$days" -lt 1 ] && days=1
    sql "bench_$name" -tA -F $'\t' -c "SELECT format('/v1/slots?service_id=%s&from=%s&to=%s', \
        md5('svc' || o.id::text)::uuid, d, d + 6), 'sk_' || replace(o.id::text, '-', '') || '_' \
        || md5(o.id::text) || substr(md5('x' || o.id::text), 1, 16) \
        FROM (SELECT id FROM organizations ORDER BY random() LIMIT $query_orgs) o, \
        LATERAL (SELECT date '$first_day' + (random() * $days)::int AS d) w, \
        generate_series(1, greatest(1, $query_orgs / $orgs)) g" >"$work/paths-$name.tsv"
    # slotd stays up: the slot queries of both datasets run in turns once both are loaded
}

# One round of slot queries on dataset $1: $per_round queries (wrk stops there, then waits
# out its -d, which only bounds a slow round: a short round shows in "queries measured"),
# appended to $work/rounds-$1 as "requests p50_us p99_us non2xx cpu_ns waited_ns", the
# last two slotd's over the round.
slot_round() {
    local before after
    before=$(sched_ns "${R[$1.pid]}")
    wrk -t1 -c"$connections" -d"${round_seconds}s" -s bench/scale_bench.lua \
        "http://127.0.0.1:${R[$1.port]}" -- "$work/paths-$1.tsv" "$per_round" >"$work/wrk.out"
    after=$(sched_ns "${R[$1.pid]}")
    awk -v b="$before" -v a="$after" '$1 == "result" { split(b, x, " "); split(a, y, " ");
        print $2, $3, $4, $5, y[1] - x[1], y[2] - x[2] }' "$work/wrk.out" >>"$work/rounds-$1"
}

slot_queries() {
    echo "== slot queries: $rounds rounds of $per_round on each, in turns, after a warm-up round"
    local r name
    for name in clinic saas; do
        slot_round "$name"
        rm -f "$work/rounds-$name" # the warm-up round
    done
    for r in $(seq 1 "$rounds"); do
        if [ $((r % 2)) = 1 ]; then
            slot_round clinic
            slot_round saas
        else
            slot_round saas
            slot_round clinic
        fi
    done
    for name in clinic saas; do
        local f="$work/rounds-$name"
        R[$name.queries]=$(awk '{ n += $1 } END { print n }' "$f")
        R[$name.p50]=$(bench_column_stat 2 <"$f" | awk '{ printf "%.2f ms", $1 / 1000 }')
        R[$name.p99]=$(bench_column_stat 3 <"$f" | awk '{ printf "%.2f ms", $1 / 1000 }')
        R[$name.p99_range]="$(bench_column_stat 3 min <"$f" | awk '{ printf "%.2f", $1 / 1000 }')-$(
            bench_column_stat 3 max <"$f" | awk '{ printf "%.2f", $1 / 1000 }') ms"
        R[$name.non2xx]=$(awk '{ n += $4 } END { print n }' "$f")
        R[$name.p99_us]=$(bench_column_stat 3 <"$f")
        R[$name.cpu_per_query]=$(awk '{ print $5 / $1 / 1000 }' "$f" | bench_column_stat 1 |
            awk '{ printf "%.1f", $1 }')
        R[$name.wait_per_query]=$(awk '{ print $6 / $1 / 1000 }' "$f" | bench_column_stat 1 |
            awk '{ printf "%.1f", $1 }')
        if [ "${R[$name.non2xx]}" != 0 ]; then
            echo "scale_bench: ${R[$name.non2xx]} slot queries of $name were not 2xx" >&2
        fi
    done
    # the ratio within each pair of rounds run next to each other (p99 is the 3rd of each
    # file's 6 columns), as a check on the medians
    R[pair_ratios]=$(paste -d' ' "$work/rounds-clinic" "$work/rounds-saas" |
        awk '{ print $9 / $3 }' | sort -n | awk '{ v[NR] = $1 } END {
            printf "%.2f-%.2f", v[1], v[NR] }')
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run_dataset clinic 1 20 2500
run_dataset saas "$saas_orgs" 5 "$saas_intervals"
slot_queries

echo
echo "== results (one run; slotd on one loop; $placement)"
printf '%-44s %16s %16s\n' "" "clinic" "saas"
row() { printf '%-44s %16s %16s\n' "$1" "${R[clinic.$2]}" "${R[saas.$2]}"; }
row "busy intervals loaded" busy
row "load: start to /readyz (s)" load
row "load: index loaded (ms)" index_ms
row "RSS once loaded (MiB)" rss_mb
row "RSS per busy interval, all-in (bytes)" per
row "RSS per busy interval above empty (bytes)" per_above
row "load: slotd's loop on a core / waiting (s)" load_sched
row "load: PostgreSQL on a core / waiting (s)" load_pg
row "load: PostgreSQL reading blocks (s)" load_read
row "longest loop pause, load: wall / its CPU (ms)" pause_load
row "most CPU in one loop turn, load (ms)" cpu_load
row "worst /healthz latency, load (ms)" probe_load
row "burst of 1,000 writes: reloads" burst_reloads
row "burst of 1,000 writes: until applied (s)" burst_s
row "worst /healthz latency, burst (ms)" probe_burst
row "longest pause to burst end: wall / CPU (ms)" pause_burst
row "most CPU in one loop turn, to burst end (ms)" cpu_burst
row "slots 7-day, random org: queries measured" queries
row "slots 7-day: p50 (median of rounds)" p50
row "slots 7-day: p99 (median of rounds)" p99
row "slots 7-day: p99, range over rounds" p99_range
row "slots: slotd on a core per query (us)" cpu_per_query
row "slots: slotd waiting for a core per query (us)" wait_per_query
ratio=$(awk -v a="${R[saas.p99_us]}" -v b="${R[clinic.p99_us]}" 'BEGIN { printf "%.2f", a / b }')
echo
echo "slot query rounds in the order run (p50 and p99 in ms; slotd's time on a core and"
echo "waiting for one per query in us):"
printf '%-6s %28s   %28s\n' "" "clinic: p50 p99 core wait" "saas: p50 p99 core wait"
paste -d' ' "$work/rounds-clinic" "$work/rounds-saas" | awk '{
    printf "%-6d %13.2f %5.2f %4.1f %4.1f   %13.2f %5.2f %4.1f %4.1f\n", NR, $2 / 1000,
        $3 / 1000, $5 / $1 / 1000, $6 / $1 / 1000, $8 / 1000, $9 / 1000, $11 / $7 / 1000,
        $12 / $7 / 1000 }'
echo
echo "targets: load <= 15 s, <= 100 bytes RSS per interval, no loop pause over 20 ms after"
echo "start, slot p99 within 1.2x of the clinic's (saas/clinic p99: $ratio; within each pair"
echo "of rounds run next to each other: ${R[pair_ratios]})"
echo "(empty database: RSS $((empty_rss / 1024)) MiB)"
echo "load average (1, 5, 15 min): before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)"
