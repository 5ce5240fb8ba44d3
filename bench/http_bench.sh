#!/usr/bin/env bash
# The service benchmark: GET /v1/slots of a running slotd, against the same
# answer computed by PostgreSQL itself, in one run on one machine.
#
# The organization is bench/engine_bench.c's clinic: Europe/Warsaw, 20 staff
# working Monday to Saturday 08:00-13:00 and 13:30-18:00, a 30-minute service
# (15-minute step, 10-minute after-buffer) that needs any one of 10 of them, and
# 8 bookings of 45 minutes (buffers 0/10) per staff member and working day for
# all of 2026: about 50,000 bookings. Staff and services are created through
# the API; the bookings are written with one set-based INSERT
# (bench/http_bench_data.sql), as there is no booking API yet.
#
# The baseline is bench_slots() (bench/http_bench_slots.sql), a plain PL/pgSQL
# function over the same tables that checks every candidate start against
# working hours and occupancy, as systems without an in-memory index do per
# request.
#
# Steps:
#   1. install what is missing (wrk, curl, jq too), build slotd, start a
#      throwaway PostgreSQL under /tmp, migrate, create the organization;
#   2. serve with the clock frozen at 2026-01-05T06:00:00+01:00, create the
#      staff and services, insert the bookings, restart slotd so that it loads
#      them all at start (its "index_loaded" line is printed);
#   3. verify: for random 7-day windows (and a few chosen ones: both DST
#      changes, instant bounds, the window holding "now", the longest window)
#      slotd's answer and bench_slots()'s must be the same slots with the same
#      resources, or the script stops with a diff and exit status 1;
#   4. measure slotd with wrk over keep-alive connections, each request a
#      random 7-day window of 2026 (from/to as dates), after a warm-up;
#   5. measure bench_slots() with pgbench (prepared, one call per transaction,
#      the same random windows), after a warm-up; p50/p99 come from pgbench's
#      per-transaction log;
#   6. print requests/s, p50 and p99 of both, the ratio and the targets.
#
# slotd serves from one process with one loop, so it uses one core; wrk runs
# on the other. PostgreSQL gets both cores (one per pgbench client). Numbers
# move from run to run on a shared virtual machine: the table shows one run.
# A measurement, not a test: missed targets still exit 0.
#
# Environment: SLOTD_BENCH_SECONDS (default 15) per measurement,
# SLOTD_BENCH_CONNECTIONS (default 32) wrk connections, SLOTD_BENCH_CLIENTS
# (default 2) pgbench clients, SLOTD_BENCH_VERIFY (default 24) random windows.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

seconds=${SLOTD_BENCH_SECONDS:-15}
connections=${SLOTD_BENCH_CONNECTIONS:-32}
clients=${SLOTD_BENCH_CLIENTS:-2}
verify_count=${SLOTD_BENCH_VERIFY:-24}
zone=Europe/Warsaw
frozen_now=2026-01-05T06:00:00+01:00
first_day=2026-01-06 # 7-day windows start on first_day + 0 .. window_days - 1:
window_days=350      # 2026-01-06..12 to 2026-12-21..27
warmup=3

SLOTD_EXTRA_PACKAGES="wrk curl jq" scripts/deps.sh
. bench/common.sh
echo "== building slotd"
bench_build slotd
slotd=build-bench/slotd
pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# ---- a throwaway PostgreSQL and a slotd on free ports; both stop on exit ----------

slotd_pid=""
stop_slotd() {
    if [ -n "$slotd_pid" ]; then
        kill -TERM "$slotd_pid" 2>/dev/null || true
        wait "$slotd_pid" 2>/dev/null || true
        slotd_pid=""
    fi
}
bench_on_exit+=(stop_slotd)
bench_start_postgres http-bench

sql() {
    PGTZ=$zone "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 "$url" "$@"
}

http_port=$(free_port)
base="http://127.0.0.1:$http_port"
serve_count=0
start_slotd() {
    serve_count=$((serve_count + 1))
    log="$work/slotd-$serve_count.log"
    SLOTD_NOW=$frozen_now "$slotd" serve --workers 1 --listen "127.0.0.1:$http_port" --database-url "$url" \
        >"$log" 2>>"$work/slotd.err" &
    slotd_pid=$!
    for _ in $(seq 1 600); do
        if curl -sf "$base/readyz" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$slotd_pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    echo "http_bench: slotd did not become ready:" >&2
    cat "$work/slotd.err" >&2
    exit 1
}

# ---- the organization -------------------------------------------------------------

"$slotd" migrate --database-url "$url"
created=$("$slotd" org create --name "Benchmark Clinic" --timezone "$zone" --database-url "$url")
org=$(jq -r .organization_id <<<"$created")
key=$(jq -r .api_key <<<"$created")
start_slotd

api_post() {
    curl -sS --fail-with-body -H "Authorization: Bearer $key" \
        -H "Content-Type: application/json" "$base$1" -d "$2"
}

echo "== creating 20 staff and 2 services through the API"
hours='[["08:00","13:00"],["13:30","18:00"]]'
week="{\"mon\":$hours,\"tue\":$hours,\"wed\":$hours,\"thu\":$hours,\"fri\":$hours,\"sat\":$hours}"
staff=()
for i in $(seq -w 1 20); do
    staff+=("$(api_post /v1/resources "{\"kind\":\"staff\",\"name\":\"Staff $i\",\"working_hours\":$week}" |
        jq -r .id)")
done
ids_json() { printf '%s\n' "$@" | jq -R . | jq -sc .; }
service=$(api_post /v1/services "{\"name\":\"Consultation\",\"duration_minutes\":30,
    \"slot_interval_minutes\":15,\"buffer_after_minutes\":10,
    \"requirements\":[{\"resource_ids\":$(ids_json "${staff[@]:0:10}"),\"mode\":\"any\"}]}" | jq -r .id)
booking_service=$(api_post /v1/services "{\"name\":\"Extended visit\",\"duration_minutes\":45,
    \"buffer_after_minutes\":10,
    \"requirements\":[{\"resource_ids\":$(ids_json "${staff[@]}"),\"mode\":\"any\"}]}" | jq -r .id)

echo "== inserting the bookings"
load_start=$EPOCHREALTIME
sql -v org="$org" -v booking_service="$booking_service" -f bench/http_bench_data.sql
load_end=$EPOCHREALTIME
bookings=$(sql -tA -c "SELECT count(*) FROM bookings WHERE organization_id = '$org'")
awk -v n="$bookings" -v a="$load_start" -v b="$load_end" 'BEGIN {
    printf "%d bookings (and as many occupancy rows) inserted in %.1f s\n", n, b - a }'
sql -f bench/http_bench_slots.sql

echo "== restarting slotd: it loads everything at start"
stop_slotd
start_slotd
grep -m 1 '"event":"index_loaded"' "$work/slotd-$serve_count.log" || true

# ---- verification: slotd and bench_slots() give the same slots ----------------------

# A bound as SQL: a date is its local midnight, a "to" date the end of that day.
bound_sql() {
    if [[ $1 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]]; then
        echo "(date '$1' + $2)::timestamp AT TIME ZONE '$zone'"
    else
        echo "timestamptz '$1'"
    fi
}
# One line per slot: start, end, resource ids; slotd's resource_ids as they
# come (docs/api.md promises them sorted), bench_slots()'s sorted here.
service_slots() {
    local status
    status=$(curl -sS -o "$work/service.json" -w '%{http_code}' -G \
        -H "Authorization: Bearer $key" "$base/v1/slots" --data-urlencode "service_id=$service" \
        --data-urlencode "from=$1" --data-urlencode "to=$2")
    if [ "$status" != 200 ]; then
        echo "http_bench: GET /v1/slots from=$1 to=$2 answered $status:" >&2
        cat "$work/service.json" >&2
        echo >&2
        exit 1
    fi
    jq -r '.slots[] | "\(.start) \(.end) \(.resource_ids | join(","))"' "$work/service.json"
}
function_slots() {
    local format='YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'
    sql -tA -c "
        SELECT to_char(f.start, '$format') || ' '
               || to_char(f.start + make_interval(mins => s.duration_minutes), '$format') || ' '
               || (SELECT string_agg(id::text, ',' ORDER BY id::text) FROM unnest(f.resource_ids) id)
          FROM bench_slots('$org', '$service', $(bound_sql "$1" 0), $(bound_sql "$2" 1),
                           '$frozen_now') f
          JOIN services s ON s.organization_id = '$org' AND s.id = '$service'
         ORDER BY f.start"
}

echo "== verifying slotd against bench_slots()"
windows=(
    "2026-03-26 2026-04-01" # spring forward, 2026-03-29
    "2026-10-22 2026-10-28" # fall back, 2026-10-25
    "2026-01-05 2026-01-11" # holds "now": nothing before 06:01 that day
    "2026-01-01 2026-01-04" # all in the past
    "2026-02-10T10:07:00+01:00 2026-02-12T15:52:30+01:00" # instants off the grid
    "2026-05-01 2026-07-01" # the longest window, 62 days
)
while read -r from to; do
    windows+=("$from $to")
done < <(sql -tA -F " " -c "
    SELECT d, d + 6
      FROM (SELECT date '$first_day' + (random() * ($window_days - 1))::integer AS d
              FROM generate_series(1, $verify_count)) w")
checked=0
slots=0
for w in "${windows[@]}"; do
    read -r from to <<<"$w"
    service_slots "$from" "$to" >"$work/service.txt"
    function_slots "$from" "$to" >"$work/function.txt"
    if ! diff -u --label "slotd $from..$to" --label "bench_slots $from..$to" \
        "$work/service.txt" "$work/function.txt" >"$work/diff.txt"; then
        echo "http_bench: slotd and bench_slots() differ for from=$from to=$to:" >&2
        head -n 40 "$work/diff.txt" >&2
        exit 1
    fi
    checked=$((checked + 1))
    slots=$((slots + $(wc -l <"$work/service.txt")))
done
echo "slots identical for $checked windows ($slots slots)"

# ---- slotd under wrk ------------------------------------------------------------------

# The request paths: every 7-day window of the benchmark (to is a date: its day
# is included).
sql -tA -c "
    SELECT format('/v1/slots?service_id=%s&from=%s&to=%s', '$service', d, d + 6)
      FROM (SELECT date '$first_day' + i AS d FROM generate_series(0, $window_days - 1) i) w" \
    >"$work/paths.txt"

echo "== slotd: wrk, $connections keep-alive connections, ${seconds} s (after a ${warmup} s warm-up)"
wrk_run() {
    wrk -t2 -c"$connections" -d"$1s" --latency -s bench/http_bench.lua "$base" \
        -- "$work/paths.txt" "$key"
}
wrk_run "$warmup" >/dev/null
wrk_run "$seconds" | tee "$work/wrk.txt"

http_rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.txt")
http_p50=$(bench_to_ms "$(awk '$1 == "50%" { print $2 }' "$work/wrk.txt")")
http_p99=$(bench_to_ms "$(awk '$1 == "99%" { print $2 }' "$work/wrk.txt")")
http_errors=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$work/wrk.txt")
if [ -n "$http_errors" ] && [ "$http_errors" != 0 ]; then
    echo "http_bench: slotd answered $http_errors requests with an error status" >&2
    exit 1
fi

# ---- bench_slots() under pgbench ------------------------------------------------------

echo "== PostgreSQL: pgbench, $clients clients, ${seconds} s (after a ${warmup} s warm-up)"
pgbench_run() {
    "$pgbin/pgbench" -n -M prepared -c "$clients" -j "$clients" -T "$1" \
        -f bench/http_bench_pgbench.sql \
        -D org="$org" -D service="$service" -D zone="$zone" -D first="$first_day" \
        -D days="$window_days" -D now="$frozen_now" "${@:2}" "$url"
}
pgbench_run "$warmup" >/dev/null 2>&1
pgbench_run "$seconds" -l --log-prefix="$work/pgbench" 2>&1 | tee "$work/pgbench-summary.txt" |
    grep -E '^(number of transactions actually processed|latency average|tps)'
sql_tps=$(awk '/^tps = / { print $3 }' "$work/pgbench-summary.txt")
# The per-transaction log: client, transaction, latency (us), ...
cat "$work"/pgbench.* | awk '{ print $3 }' | sort -n >"$work/latencies.txt"
sql_p50=$(bench_percentile_ms 0.50 "$work/latencies.txt")
sql_p99=$(bench_percentile_ms 0.99 "$work/latencies.txt")

# ---- the table ------------------------------------------------------------------------

ratio=$(awk -v a="$http_rps" -v b="$sql_tps" 'BEGIN { printf "%.0f", a / b }')
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo missed; fi; }

echo
echo "GET /v1/slots, 7-day windows of 2026, any 1 of 10 staff, $bookings bookings," \
    "$(nproc 2>/dev/null || echo '?') cores"
printf '%-32s %12s %10s %10s\n' "" "requests/s" "p50 ms" "p99 ms"
printf '%-32s %12.0f %10s %10s\n' "slotd (HTTP, in-memory index)" "$http_rps" "$http_p50" "$http_p99"
printf '%-32s %12.1f %10s %10s\n' "PostgreSQL function" "$sql_tps" "$sql_p50" "$sql_p99"
printf '%-32s %11sx\n' "throughput ratio" "$ratio"
echo
echo "targets: slotd >= 10,000 requests/s: $(verdict "$http_rps >= 10000");" \
    "p99 <= 5 ms: $(verdict "$http_p99 <= 5");" \
    ">= 100x the function's throughput: $(verdict "$ratio >= 100")"
