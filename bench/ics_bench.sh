#!/usr/bin/env bash
# The ICS import benchmark: a feed of 20,000 VEVENTs (about 5 MB; half
# one-off events, half series with EXDATEs and RECURRENCE-ID overrides, made
# by bench/ics_bench_feed.js through the independent generator in tests/ical)
# imported by a running slotd, while slot queries of another staff member run
# at a fixed rate; in one run on one machine.
#
# Steps:
#   1. install what is missing (curl, jq; node comes with the test
#      dependencies), build slotd and bench_sync_load (bench/sync_bench.c),
#      start a throwaway PostgreSQL under /tmp, the fake providers (which serve
#      the feed with its ETag and Last-Modified) and slotd (`slotd serve
#      --workers 1`: the loop answering the queries is the loop importing);
#   2. an organization in Europe/Warsaw with two staff members: A, whose
#      calendar the feed is, and B, whose 7-day slot windows the load asks for;
#   3. the load: bench_sync_load, SLOTD_BENCH_RATE (default 100) GET /v1/slots
#      a second (open loop) over 8 connections; after a warm-up,
#      SLOTD_BENCH_SECONDS (default 10) with nothing else going on;
#   4. with the load running, three imports, each timed from the request to
#      the connection's last_sync_at moving (last_error must stay null):
#      the first (the connection is created), a changed feed (1,000 events
#      moved, 500 replaced, 212 series ending sooner; POST .../sync
#      {"full":true}), and the same feed again (a conditional GET: 304);
#   5. prints the feed's size and counts, the three import times, slotd's
#      longest loop pause before and during the imports
#      (slotd_loop_max_pause_seconds, the longest since start: a pause during
#      the imports shows only if it is longer than every earlier one), the
#      load's p50/p99 before and during the imports, and A's own slot query
#      time once its calendar holds the feed (its slots are computed against
#      every event and series of the feed).
#
# Target (issue): no loop pause over 20 ms. A measurement, not a test: a
# missed target still exits 0; a failed import or a failed query exits 1.
#
# Environment: SLOTD_BENCH_SECONDS (10), SLOTD_BENCH_RATE (100),
# SLOTD_BENCH_TIMEOUT (120 s per import), SLOTD_BENCH_PIN (1: slotd and the
# load on core 0, the rest on the others, as in bench/sync_bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

seconds=${SLOTD_BENCH_SECONDS:-10}
rate=${SLOTD_BENCH_RATE:-100}
timeout=${SLOTD_BENCH_TIMEOUT:-120}
warmup=3

SLOTD_EXTRA_PACKAGES="curl jq" scripts/deps.sh
. bench/common.sh
(cd tests/ical && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
echo "== building slotd and bench_sync_load"
bench_build slotd bench_sync_load
slotd=build-bench/slotd
load_tool=build-bench/bench/bench_sync_load

on_server_core=()
cores=$(nproc 2>/dev/null || echo 1)
if [ "${SLOTD_BENCH_PIN:-1}" = 1 ] && [ "$cores" -ge 2 ] && command -v taskset >/dev/null; then
    taskset -cp "1-$((cores - 1))" $$ >/dev/null
    on_server_core=(taskset -c 0)
    placement="slotd and the load on core 0; PostgreSQL, the fake and the generator on the others"
else
    placement="not pinned"
fi

slotd_pid=""
fake_pid=""
load_pid=""
stop_all() {
    local pid
    for pid in "$load_pid" "$slotd_pid" "$fake_pid"; do
        if [ -n "$pid" ]; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
}
bench_on_exit+=(stop_all)
bench_start_postgres ics-bench
fail() {
    echo "ics_bench: $*" >&2
    exit 1
}

echo "== the feeds (bench/ics_bench_feed.js)"
now=$(date +%s)
node bench/ics_bench_feed.js --now "$now" >"$work/feed.ics" 2>"$work/feed.counts"
node bench/ics_bench_feed.js --now "$now" --changed >"$work/changed.ics" 2>"$work/changed.counts"
echo "feed: $(jq -c . "$work/feed.counts")"
echo "changed: $(jq -c '{bytes, vevents, moved, replaced, ended_sooner}' "$work/changed.counts")"

node tests/fakes/providers.js --port 0 >"$work/fake.out" 2>"$work/fake.err" &
fake_pid=$!
for _ in $(seq 1 100); do
    [ -s "$work/fake.out" ] && break
    sleep 0.1
done
fake=$(jq -r .base "$work/fake.out")
ics_url=$(jq -r .ics_url "$work/fake.out")
[ -n "$fake" ] && [ "$fake" != null ] || fail "the fake providers did not start: $(cat "$work/fake.err")"
put_feed() { curl -sS --fail-with-body -X PUT --data-binary "@$1" "$fake/_fake/ics/clinic" >/dev/null; }

"$slotd" migrate --database-url "$url" >/dev/null
created=$("$slotd" org create --name "ICS Benchmark" --timezone Europe/Warsaw --database-url "$url")
key=$(jq -r .api_key <<<"$created")
http_port=$(free_port)
base="http://127.0.0.1:$http_port"
SLOTD_SECRET_KEY=$(head -c 32 /dev/urandom | base64) SLOTD_SYNC_INTERVAL_SECONDS=3600 \
    "${on_server_core[@]}" "$slotd" serve --workers 1 --listen "127.0.0.1:$http_port" \
    --database-url "$url" >"$work/slotd.log" 2>&1 &
slotd_pid=$!
bench_wait_ready "$base" "$slotd_pid" "$work/slotd.log"

api() { # method path [body]
    curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $key" \
        -H "Content-Type: application/json" "$base$2" ${3:+-d "$3"}
}
metric() { curl -sf "$base/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
week='{"mon":[["08:00","18:00"]],"tue":[["08:00","18:00"]],"wed":[["08:00","18:00"]],"thu":[["08:00","18:00"]],"fri":[["08:00","18:00"]]}'
staff() {
    api POST /v1/resources "{\"kind\":\"staff\",\"name\":\"$1\",\"working_hours\":$week}" | jq -r .id
}
service() {
    api POST /v1/services "{\"name\":\"$1\",\"duration_minutes\":30,\"requirements\":[{\"resource_ids\":[\"$2\"],\"mode\":\"all\"}]}" |
        jq -r .id
}
staff_a=$(staff "Dr A")
staff_b=$(staff "Dr B")
service_a=$(service "Visit A" "$staff_a")
service_b=$(service "Visit B" "$staff_b")
tomorrow=$(date -u -d tomorrow +%F)
for d in 0 1 2; do
    day=$(date -u -d "$tomorrow + $d days" +%F)
    echo "/v1/slots?service_id=$service_b&from=$day&to=$(date -u -d "$day + 6 days" +%F)"
done >"$work/paths.txt"

# The connection's last sync, its error and its busy events.
state() {
    api GET "/v1/calendar-connections/$connection" | jq -r '[.last_sync_at // "", .last_error // "", .busy_events] | join("|")'
}
# Waits until the connection's last_sync_at is not $1; the seconds since $2 into $took.
wait_synced() {
    local since=$2 at error busy
    for _ in $(seq 1 $((timeout * 20))); do
        IFS='|' read -r at error busy < <(state)
        [ -n "$error" ] && fail "the import failed: $error"
        if [ -n "$at" ] && [ "$at" != "$1" ]; then
            took=$(awk -v a="$since" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
            last_sync=$at
            busy_events=$busy
            return
        fi
        sleep 0.05
    done
    fail "the import did not end within $timeout s"
}

echo "== the load: $rate GET /v1/slots a second of Dr B, 8 connections; ${warmup} s warm-up," \
    "${seconds} s with nothing else, then the imports of Dr A's feed"
"${on_server_core[@]}" "$load_tool" "$base" "$key" "$work/paths.txt" "$rate" 8 "$work/stop" \
    >"$work/latencies.txt" 2>"$work/load.err" &
load_pid=$!
sleep "$warmup"
before_start=$EPOCHREALTIME
sleep "$seconds"
before_end=$EPOCHREALTIME
pause_before=$(metric slotd_loop_max_pause_seconds)

put_feed "$work/feed.ics"
during_start=$EPOCHREALTIME
connection=$(api POST "/v1/resources/$staff_a/calendar-connections" \
    "{\"provider\":\"ics\",\"credentials\":{\"url\":\"$ics_url/clinic?key=bench\"}}" | jq -r .id)
wait_synced "" "$during_start"
first_took=$took first_busy=$busy_events
pause_first=$(metric slotd_loop_max_pause_seconds)

sleep 1.1 # last_sync_at has whole seconds
put_feed "$work/changed.ics"
asked=$EPOCHREALTIME
api POST "/v1/calendar-connections/$connection/sync" '{"full":true}' >/dev/null
wait_synced "$last_sync" "$asked"
changed_took=$took changed_busy=$busy_events
pause_changed=$(metric slotd_loop_max_pause_seconds)

sleep 1.1
not_modified_before=$(curl -sf "$fake/_fake/ics/clinic" | jq .not_modified)
asked=$EPOCHREALTIME
api POST "/v1/calendar-connections/$connection/sync" '{"full":false}' >/dev/null
wait_synced "$last_sync" "$asked"
same_took=$took
not_modified=$(($(curl -sf "$fake/_fake/ics/clinic" | jq .not_modified) - not_modified_before))
during_end=$EPOCHREALTIME
pause_after=$(metric slotd_loop_max_pause_seconds)
pause_cpu_after=$(metric slotd_loop_max_pause_cpu_seconds)
touch "$work/stop"
wait "$load_pid"
load_pid=""

non_200=$(awk '$3 != 200' "$work/latencies.txt" | wc -l)
[ "$non_200" = 0 ] || fail "$non_200 slot queries of Dr B did not answer 200"
a_path="/v1/slots?service_id=$service_a&from=$tomorrow&to=$(date -u -d "$tomorrow + 6 days" +%F)"
a_times=()
for _ in 1 2 3 4 5; do
    a_times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $key" "$base$a_path")")
done

phase() { # from to (epoch seconds) → the latencies (us) of the queries due then, sorted
    awk -v a="$1" -v b="$2" '$1 >= a * 1e6 && $1 < b * 1e6 { print $2 }' "$work/latencies.txt" |
        sort -n
}
phase "$before_start" "$before_end" >"$work/before.txt"
phase "$during_start" "$during_end" >"$work/during.txt"
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
load=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "ICS import of one 20,000-event feed ($(jq .bytes "$work/feed.counts") bytes; $(jq .series "$work/feed.counts")" \
    "series) while GET /v1/slots of another staff member runs at $rate/s; $cores cores ($placement)," \
    "load average $load"
printf '%-58s %10s\n' "first import (connection created → last_sync_at)" "$first_took s"
printf '%-58s %10s\n' "  busy events and series stored" "$first_busy"
printf '%-58s %10s\n' "changed feed, POST .../sync {full:true}" "$changed_took s"
printf '%-58s %10s\n' "  busy events and series stored" "$changed_busy"
printf '%-58s %10s\n' "the same feed again (conditional GET; 304s: $not_modified)" "$same_took s"
echo
printf '%-44s %12s %12s\n' "" "before" "during"
printf '%-44s %12s %12s\n' "slot queries of Dr B measured" "$(wc -l <"$work/before.txt")" "$(wc -l <"$work/during.txt")"
printf '%-44s %12s %12s\n' "p50 ms" "$(bench_percentile_ms 0.5 "$work/before.txt")" "$(bench_percentile_ms 0.5 "$work/during.txt")"
printf '%-44s %12s %12s\n' "p99 ms" "$(bench_percentile_ms 0.99 "$work/before.txt")" "$(bench_percentile_ms 0.99 "$work/during.txt")"
printf '%-44s %12s %12s\n' "max ms" "$(bench_percentile_ms 1 "$work/before.txt")" "$(bench_percentile_ms 1 "$work/during.txt")"
printf '%-44s %12s %12s\n' "longest loop pause since start, ms" "$(ms "$pause_before")" "$(ms "$pause_after")"
echo "  after the first import $(ms "$pause_first") ms, after the changed one $(ms "$pause_changed") ms;" \
    "the longest one's time on a core $(ms "$pause_cpu_after") ms"
echo "Dr A's own 7-day slot query with the feed in its calendar: ${a_times[*]} s"
worst=$(awk -v a="$pause_after" 'BEGIN { printf "%.1f", a * 1000 }')
if awk -v a="$pause_after" 'BEGIN { exit !(a <= 0.020) }'; then
    echo "target: no loop pause over 20 ms: met (longest $worst ms)"
else
    echo "target: no loop pause over 20 ms: missed (longest $worst ms)"
fi
