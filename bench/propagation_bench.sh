#!/usr/bin/env bash
# Cross-instance freshness: two slotd instances on one database, and how long
# after a write is acknowledged by one the other stops offering the slot it
# took (bench/propagation_bench.c does the measuring). Targets on loopback:
# p50 <= 20 ms, max <= 200 ms.
#
# Steps: install what is missing, build slotd and bench_propagation, start a
# throwaway PostgreSQL under /tmp, two instances (one process each, clock
# frozen the day before the first measured day) and the organization (zone
# UTC; one staff member working 09:00-12:00 every day, a 60-minute service);
# then SLOTD_BENCH_WRITES (default 200) writes through instance A, each on its
# own day, measured at instance B: blocks, and bookings when the service has
# the bookings routes. A measurement, not a test: missed targets still exit 0.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

writes=${SLOTD_BENCH_WRITES:-200}
frozen_now=2027-01-04T06:00:00Z
first_day=2027-01-05

SLOTD_EXTRA_PACKAGES="curl jq" scripts/deps.sh
. bench/common.sh
echo "== building slotd and bench_propagation"
bench_build slotd bench_propagation
slotd=build-bench/slotd

pids=()
stop_instances() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
bench_on_exit+=(stop_instances)
bench_start_postgres propagation-bench
"$slotd" migrate --database-url "$url" >/dev/null
created=$("$slotd" org create --name "Propagation" --timezone UTC --database-url "$url")
key=$(jq -r .api_key <<<"$created")

start_instance() { # name → its base URL in $instance_url (not a subshell: its pid is kept)
    local port
    port=$(free_port)
    SLOTD_NOW=$frozen_now "$slotd" serve --workers 1 --listen "127.0.0.1:$port" \
        --database-url "$url" >"$work/slotd-$1.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 600); do
        if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
            instance_url="http://127.0.0.1:$port"
            return 0
        fi
        sleep 0.1
    done
    echo "propagation_bench: instance $1 did not become ready" >&2
    cat "$work/slotd-$1.log" >&2
    exit 1
}
start_instance a
a=$instance_url
start_instance b
b=$instance_url

api_post() {
    curl -sS --fail-with-body -H "Authorization: Bearer $key" \
        -H "Content-Type: application/json" "$a$1" -d "$2"
}
day='[["09:00","12:00"]]'
week="{\"mon\":$day,\"tue\":$day,\"wed\":$day,\"thu\":$day,\"fri\":$day,\"sat\":$day,\"sun\":$day}"
staff=$(api_post /v1/resources "{\"kind\":\"staff\",\"name\":\"Anna\",\"working_hours\":$week}" | jq -r .id)
service=$(api_post /v1/services "{\"name\":\"Visit\",\"duration_minutes\":60,
    \"requirements\":[{\"resource_ids\":[\"$staff\"],\"mode\":\"any\"}]}" | jq -r .id)

echo "== $writes writes through instance A, measured at instance B (loopback, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
build-bench/bench/bench_propagation "$a" "$b" "$key" "$service" "$staff" "$first_day" "$writes" block
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $key" \
    -H "Content-Type: application/json" "$a/v1/bookings" -d '{}')
if [ "$status" = 404 ] || [ "$status" = 405 ]; then
    echo "(bookings: no POST /v1/bookings in this build)"
else
    booking_first=$(date -u -d "$first_day + $writes days" +%F)
    build-bench/bench/bench_propagation "$a" "$b" "$key" "$service" "$staff" "$booking_first" \
        "$writes" booking
fi
echo "targets: p50 <= 20 ms, max <= 200 ms"
