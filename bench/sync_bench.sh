#!/usr/bin/env bash
# The calendar sync benchmark: slot queries of a running slotd before and
# during a full sync of 100 calendar connections, and the sync's throughput, in
# one run on one machine.
#
# The organization (zone UTC) has 100 staff members working 09:00-17:00 every
# day, a 60-minute service any one of them serves, and one calendar connection
# per staff member (direction pull), in turn Google Calendar, Microsoft Graph
# and Cal.com: 34, 33 and 33, against the test suite's fake providers
# (tests/fakes/providers.js, no state file). Their calendars hold 10,000 events
# in all: every other connection 50, the others 150, one an hour from
# tomorrow 00:00 UTC (30 minutes each, starting on the hour or 15, 30 or 45
# minutes past it by staff member), one in ten of them not busy: Google
# "transparent" and cancelled, Graph showAs "free" and isCancelled, Cal.com
# rejected and cancelled bookings; 9,000 busy. The fake serves them in its
# normal pages (as slotd asks: Google 250, Graph and Cal.com 100 an answer).
#
# Steps:
#   1. install what is missing (curl, jq; node comes with the test
#      dependencies), build slotd and bench_sync_load (bench/sync_bench.c),
#      start a throwaway PostgreSQL under /tmp (fsync on: PostgreSQL's
#      defaults), the fake providers and slotd (`slotd serve --workers 1`: one
#      process, so that the loop answering the queries is the loop running the
#      sync; real clock; a secret key; periodic pulls an hour apart, so that
#      only the pulls asked for run);
#   2. create the staff and the service through the API, the calendars in the
#      fake, and the connections through the API; their first pulls import the
#      events; wait until every connection has pulled and the database holds
#      the 9,000 busy events;
#   3. the load: bench_sync_load, SLOTD_BENCH_RATE (default 100) GET /v1/slots
#      a second at a fixed rate (open loop: latency counts from when each
#      request was due) over 8 kept-alive connections, each a 7-day window of
#      the service over all its staff starting tomorrow or one of the next two
#      days; after a warm-up, SLOTD_BENCH_SECONDS (default 15) without any sync
#      running;
#   4. with the load still running, POST /v1/calendar-connections/{id}/sync
#      {"full":true} for all 100 (one curl, 10 at a time; every answer must be
#      202); the serving process's own runner pulls them. The sync is over when
#      every connection's last full sync is at or after the trigger, none is
#      claimed or still asked for, and the database holds exactly 9,000 busy
#      events (checked every 50 ms; else the script stops with exit status 1
#      after SLOTD_BENCH_SYNC_TIMEOUT seconds, default 300); then the load stops;
#   5. check: the connections' busy_events (the API) add up to 9,000, every
#      slot query answered 200, and slotd's index holds the same busy entries
#      as before the sync; print the events per second (10,000 listed, from the
#      trigger to the end), p50/p99 of the queries due before the trigger and
#      of those due during the sync, their ratio, the target, and what slotd's
#      loop did meanwhile: its longest pause (slotd_loop_max_pause_seconds
#      before the trigger and after the sync), its time on a core and waiting
#      for one per query in each phase (the kernel's schedstat), index reloads,
#      provider requests.
#
# With two cores or more, slotd runs on core 0 and everything else the script
# starts (PostgreSQL, the fake, the load, psql, curl) on the others
# (SLOTD_BENCH_PIN=0: no pinning), as in bench/scale_bench.sh. A measurement,
# not a test: a missed target still exits 0; a wrong count or a failed query
# exits 1.
#
# Environment: SLOTD_BENCH_SECONDS (default 15), SLOTD_BENCH_RATE (default
# 100 queries a second), SLOTD_BENCH_SYNC_TIMEOUT (default 300 s),
# SLOTD_BENCH_PIN (default 1), SLOTD_BENCH_KEEP (a directory: the run's files are
# copied there: the latencies, one line per query, and slotd's log).
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

seconds=${SLOTD_BENCH_SECONDS:-15}
rate=${SLOTD_BENCH_RATE:-100}
sync_timeout=${SLOTD_BENCH_SYNC_TIMEOUT:-300}
staff_count=100
load_connections=8
warmup=3
expected_events=10000
expected_busy=9000

SLOTD_EXTRA_PACKAGES="curl jq" scripts/deps.sh
. bench/common.sh
echo "== building slotd and bench_sync_load"
bench_build slotd bench_sync_load
slotd=build-bench/slotd
load_tool=build-bench/bench/bench_sync_load
pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# slotd on core 0, this script and everything it starts from here on on the others
bench_pin
slotd_pid=""
fake_pid=""
load_pid=""
# SLOTD_BENCH_KEEP=DIR: the run's files (latencies, slotd's log, ...) are copied there at the end
keep_files() {
    if [ -n "${SLOTD_BENCH_KEEP:-}" ]; then
        mkdir -p "$SLOTD_BENCH_KEEP"
        cp "$work"/*.txt "$work"/*.log "$SLOTD_BENCH_KEEP"/ 2>/dev/null || true
    fi
}
bench_on_exit+=(bench_stop_started keep_files)
bench_start_postgres sync-bench durable

sql() {
    "$pgbin/psql" -X -q -tA -v ON_ERROR_STOP=1 "$url" "$@"
}
fail() {
    echo "sync_bench: $*" >&2
    exit 1
}

# ---- the fake providers and slotd ---------------------------------------------------------

node tests/fakes/providers.js --port 0 >"$work/fake.out" 2>"$work/fake.err" &
fake_pid=$!
for _ in $(seq 1 100); do
    [ -s "$work/fake.out" ] && break
    sleep 0.1
done
fake_url() { jq -r ".$1" "$work/fake.out"; }
fake=$(fake_url base)
if [ -z "$fake" ] || [ "$fake" = null ]; then
    fail "the fake providers did not start: $(cat "$work/fake.err")"
fi
fake_post() {
    curl -sS --fail-with-body -H "Content-Type: application/json" "$fake$1" -d "$2"
}

"$slotd" migrate --database-url "$url" >/dev/null
created=$("$slotd" org create --name "Sync Benchmark" --timezone UTC --database-url "$url")
org=$(jq -r .organization_id <<<"$created")
key=$(jq -r .api_key <<<"$created")
http_port=$(free_port)
base="http://127.0.0.1:$http_port"
SLOTD_SECRET_KEY=$(head -c 32 /dev/urandom | base64) \
    SLOTD_GOOGLE_API_URL=$(fake_url google_api_url) SLOTD_GOOGLE_TOKEN_URL=$(fake_url google_token_url) \
    SLOTD_GOOGLE_CLIENT_ID=bench SLOTD_GOOGLE_CLIENT_SECRET=bench \
    SLOTD_MICROSOFT_GRAPH_URL=$(fake_url microsoft_graph_url) \
    SLOTD_MICROSOFT_LOGIN_URL=$(fake_url microsoft_login_url) SLOTD_MICROSOFT_CLIENT_ID=bench \
    SLOTD_CALCOM_API_URL=$(fake_url calcom_api_url) SLOTD_SYNC_INTERVAL_SECONDS=3600 \
    "${on_server_core[@]}" "$slotd" serve --workers 1 --listen "127.0.0.1:$http_port" \
    --database-url "$url" >"$work/slotd.log" 2>&1 &
slotd_pid=$!
bench_wait_ready "$base" "$slotd_pid" "$work/slotd.log"

api() { # method path [body]
    curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $key" \
        -H "Content-Type: application/json" "$base$2" ${3:+-d "$3"}
}

# ---- the organization, the calendars, the connections -------------------------------------

echo "== creating $staff_count staff and a service through the API"
hours='[["09:00","17:00"]]'
week="{\"mon\":$hours,\"tue\":$hours,\"wed\":$hours,\"thu\":$hours,\"fri\":$hours,\"sat\":$hours,\"sun\":$hours}"
for i in $(seq -w 1 "$staff_count"); do
    api POST /v1/resources "{\"kind\":\"staff\",\"name\":\"Staff $i\",\"working_hours\":$week}" |
        jq -r .id
done >"$work/staff.txt"
service=$(api POST /v1/services "{\"name\":\"Consultation\",\"duration_minutes\":60,
    \"requirements\":[{\"resource_ids\":$(jq -R . "$work/staff.txt" | jq -sc .),\"mode\":\"any\"}]}" |
    jq -r .id)

tomorrow=$(date -u -d tomorrow +%F)
first=$(date -u -d "$tomorrow" +%s)
# The events of calendar $1 (1-based): a JSON list of {n, start, end, kind} (kind busy, free or
# cancelled; instants as epoch seconds), one an hour from tomorrow 00:00 UTC.
events_of() {
    jq -nc --argjson i "$1" --argjson first "$first" '
        (if $i % 2 == 1 then 50 else 150 end) as $count | [range(0; $count) | . as $k |
        ($first + $k * 3600 + ($i % 4) * 900) as $start |
        {n: $k, start: $start, end: ($start + 1800),
         kind: (if $k % 10 != 9 then "busy" elif $k % 20 == 9 then "free" else "cancelled" end)}]'
}

echo "== $staff_count calendars in the fake ($expected_events events), connected through the API"
seeded=0
i=0
while read -r staff; do
    i=$((i + 1))
    events=$(events_of "$i")
    seeded=$((seeded + $(jq length <<<"$events")))
    case $((i % 3)) in
    1)
        user="staff$i@gmail.test"
        refresh=$(fake_post /_fake/google/grants "{\"user\":\"$user\"}" | jq -r .refresh_token)
        fake_post /_fake/google/events "$(jq -c --arg user "$user" '{calendar: $user, events: [.[] |
            {summary: "Appointment \(.n)", start: {dateTime: (.start | todate)},
             end: {dateTime: (.end | todate)}} +
            (if .kind == "free" then {transparency: "transparent"}
             elif .kind == "cancelled" then {status: "cancelled"} else {} end)]}' <<<"$events")" \
            >/dev/null
        connection="{\"provider\":\"google\",\"direction\":\"pull\",\"credentials\":{\"refresh_token\":\"$refresh\"}}"
        ;;
    2)
        user="staff$i@outlook.test"
        refresh=$(fake_post /_fake/microsoft/grants "{\"user\":\"$user\"}" | jq -r .refresh_token)
        fake_post /_fake/microsoft/events "$(jq -c --arg user "$user" '{user: $user, events: [.[] |
            {subject: "Appointment \(.n)",
             start: {dateTime: (.start | todate | rtrimstr("Z")), timeZone: "UTC"},
             end: {dateTime: (.end | todate | rtrimstr("Z")), timeZone: "UTC"},
             showAs: (if .kind == "free" then "free" else "busy" end)} +
            (if .kind == "cancelled" then {isCancelled: true} else {} end)]}' <<<"$events")" \
            >/dev/null
        connection="{\"provider\":\"microsoft\",\"direction\":\"pull\",\"credentials\":{\"refresh_token\":\"$refresh\"}}"
        ;;
    0)
        user="staff$i"
        api_key=$(fake_post /_fake/calcom/users "{\"username\":\"$user\"}" | jq -r .api_key)
        type=$(fake_post /_fake/calcom/event-types "{\"user\":\"$user\",\"length\":30}" | jq -r .id)
        fake_post /_fake/calcom/bookings "$(jq -c --argjson type "$type" '{bookings: [.[] |
            {op: "create", eventTypeId: $type, start: (.start | todate),
             status: (if .kind == "free" then "rejected" elif .kind == "cancelled" then "cancelled"
                      else "accepted" end)}]}' <<<"$events")" >/dev/null
        connection="{\"provider\":\"calcom\",\"direction\":\"pull\",\"credentials\":{\"api_key\":\"$api_key\"}}"
        ;;
    esac
    api POST "/v1/resources/$staff/calendar-connections" "$connection" | jq -r .id
done <"$work/staff.txt" >"$work/connections.txt"
[ "$seeded" = "$expected_events" ] || fail "the calendars hold $seeded events, not $expected_events"

# every connection pulled (the first, full listing of each), nothing claimed or asked for
# every connection pulled (the first, full listing of each), nothing claimed or asked for; asked
# through one psql session kept open (a psql started every 50 ms would take a core's time from
# the measurement)
coproc progress_sql { "$pgbin/psql" -X -q -tA -F " " -v ON_ERROR_STOP=1 "$url"; }
bench_on_exit+=(stop_progress_sql)
stop_progress_sql() {
    if [ -n "${progress_sql_PID:-}" ]; then
        kill -TERM "$progress_sql_PID" 2>/dev/null || true
    fi
}
# synced_since EPOCH WAIT: after WAIT seconds (slept by the database: nothing is started here),
# $pulled: the connections pulled in full since EPOCH, none claimed or asked for again, and $busy:
# the busy events the database holds
synced_since() {
    echo "SELECT (SELECT count(*) FROM calendar_connections
                   WHERE organization_id = '$org' AND deleted_at IS NULL
                     AND last_full_sync_at >= to_timestamp($1) AND last_error IS NULL
                     AND sync_claimed_until IS NULL AND NOT sync_full_requested),
                 (SELECT count(*) FROM external_busy_events WHERE organization_id = '$org' AND busy)
            FROM pg_sleep($2);" >&"${progress_sql[1]}"
    read -r -t 10 pulled busy <&"${progress_sql[0]}" || fail "the database did not answer"
}
echo "== the first pulls (importing the events)"
import_start=$EPOCHREALTIME
for _ in $(seq 1 $((sync_timeout * 10))); do
    synced_since 0 0.1
    [ "$pulled" = "$staff_count" ] && [ "$busy" = "$expected_busy" ] && break
done
[ "$pulled" = "$staff_count" ] && [ "$busy" = "$expected_busy" ] || # SC2015: fail exits
    fail "after the first pulls: $pulled of $staff_count connections pulled, $busy busy events" \
        "(expected $expected_busy); $(sql -c "SELECT string_agg(DISTINCT last_error, '; ')
            FROM calendar_connections WHERE organization_id = '$org'")"
import_s=$(awk -v a="$import_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "$pulled connections pulled, $busy busy events ($import_s s after the last was created)"

# ---- the load: before and during the sync -------------------------------------------------

metric() { curl -sf "$base/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
sched() { awk '{ print $1, $2 }' "/proc/$slotd_pid/schedstat"; } # ns on a core, ns waiting
busy_entries_before=$(metric 'slotd_index_objects{kind="busy_entries"}')
for d in 0 1 2; do
    day=$(date -u -d "$tomorrow + $d days" +%F)
    echo "/v1/slots?service_id=$service&from=$day&to=$(date -u -d "$day + 6 days" +%F)"
done >"$work/paths.txt"
slots_sample=$(api GET "$(head -n 1 "$work/paths.txt")")
echo "== the load: $rate GET /v1/slots a second (7-day windows, $(jq '.slots | length' \
    <<<"$slots_sample") slots of up to $staff_count staff, $(printf '%s' "$slots_sample" | wc -c)" \
    "bytes), $load_connections connections; ${warmup} s warm-up, ${seconds} s without sync, then" \
    "the sync"
"${on_server_core[@]}" "$load_tool" "$base" "$key" "$work/paths.txt" "$rate" "$load_connections" "$work/stop" \
    >"$work/latencies.txt" 2>"$work/load.err" &
load_pid=$!
sleep "$warmup"
before_start=$EPOCHREALTIME
read -r cpu0 wait0 < <(sched)
sleep "$seconds"
before_end=$EPOCHREALTIME
read -r cpu1 wait1 < <(sched)
pause_before=$(metric slotd_loop_max_pause_seconds)
pause_cpu_before=$(metric slotd_loop_max_pause_cpu_seconds)
reloads_before=$(metric 'slotd_index_refreshes_total{kind="reload"}')
requests_before=$(curl -sf "$fake/_fake/requests?limit=1" | jq '.requests[0].seq // 0')

# the sync: all 100 asked for at once through the API, pulled by the serving process's runner
trigger_urls=()
while read -r connection; do
    trigger_urls+=(-o /dev/null "$base/v1/calendar-connections/$connection/sync")
done <"$work/connections.txt"
trigger=$EPOCHREALTIME
trigger_s=${trigger%.*}
curl -sS --parallel --parallel-max 10 -X POST -H "Authorization: Bearer $key" \
    -H "Content-Type: application/json" -d '{"full":true}' -w '%{http_code}\n' \
    "${trigger_urls[@]}" >"$work/trigger.txt" 2>"$work/trigger.err"
triggered=$EPOCHREALTIME
accepted=$(grep -c '^202$' "$work/trigger.txt" || true)
[ "$accepted" = "$staff_count" ] ||
    fail "POST .../sync answered 202 $accepted times of $staff_count: $(sort "$work/trigger.txt" | uniq -c | tr '\n' ' ')"
done_at=""
for _ in $(seq 1 $((sync_timeout * 20))); do
    synced_since "$trigger_s" 0.05
    if [ "$pulled" = "$staff_count" ] && [ "$busy" = "$expected_busy" ]; then
        done_at=$EPOCHREALTIME
        break
    fi
done
read -r cpu2 wait2 < <(sched)
touch "$work/stop"
wait "$load_pid"
load_pid=""
[ -n "$done_at" ] ||
    fail "the sync did not end within ${sync_timeout} s: $pulled of $staff_count connections" \
        "pulled in full since the trigger, $busy busy events (expected $expected_busy)"
pause_after=$(metric slotd_loop_max_pause_seconds)
pause_cpu_after=$(metric slotd_loop_max_pause_cpu_seconds)
reloads_after=$(metric 'slotd_index_refreshes_total{kind="reload"}')
provider_requests=$(curl -sf "$fake/_fake/requests?since=$requests_before" | jq '.requests | length')

# ---- checks -------------------------------------------------------------------------------

busy_api=0
while read -r connection; do
    busy_api=$((busy_api + $(api GET "/v1/calendar-connections/$connection" | jq .busy_events)))
done <"$work/connections.txt"
[ "$busy_api" = "$expected_busy" ] ||
    fail "the connections' busy_events add up to $busy_api, not $expected_busy"
for _ in $(seq 1 100); do # the index follows the database through NOTIFY
    busy_entries_after=$(metric 'slotd_index_objects{kind="busy_entries"}')
    [ "$busy_entries_after" = "$busy_entries_before" ] && break
    sleep 0.1
done
[ "$busy_entries_after" = "$busy_entries_before" ] ||
    fail "slotd's index holds $busy_entries_after busy entries after the sync," \
        "$busy_entries_before before it"
non_200=$(awk '$3 != 200' "$work/latencies.txt" | wc -l)
[ "$non_200" = 0 ] || fail "$non_200 slot queries did not answer 200 ($(awk '$3 != 200 { print $3 }' \
    "$work/latencies.txt" | sort | uniq -c | tr '\n' ' '))"

# ---- the figures ----------------------------------------------------------------------------

phase() { # from to (epoch seconds) → the latencies (us) of the queries due then, sorted
    awk -v a="$1" -v b="$2" '$1 >= a * 1e6 && $1 < b * 1e6 { print $2 }' "$work/latencies.txt" |
        sort -n
}
echo "before $before_start $before_end during $trigger $done_at" >"$work/phases.txt"
phase "$before_start" "$before_end" >"$work/before.txt"
phase "$trigger" "$done_at" >"$work/during.txt"
# slotd's own time per query (its log's duration_ms: from reading the request to the answer,
# without the time the request waited for the loop), by when the line was written
server_phase() { # from to → those durations (ms), sorted
    grep '"route":"GET /v1/slots"' "$work/slotd.log" | jq -r --argjson a "$1" --argjson b "$2" '
        (.ts | capture("^(?<s>[^.]*)\\.(?<ms>[0-9]+)Z$")) as $t |
        (($t.s + "Z" | fromdateiso8601) + ($t.ms | tonumber) / 1000) as $at |
        select($at >= $a and $at < $b) | .duration_ms * 1000' | sort -n
}
server_phase "$before_start" "$before_end" >"$work/server-before.txt"
server_phase "$trigger" "$done_at" >"$work/server-during.txt"
count_before=$(wc -l <"$work/before.txt")
count_during=$(wc -l <"$work/during.txt")
p50_before=$(bench_percentile_ms 0.50 "$work/before.txt")
p99_before=$(bench_percentile_ms 0.99 "$work/before.txt")
max_before=$(bench_percentile_ms 1 "$work/before.txt")
p50_during=$(bench_percentile_ms 0.50 "$work/during.txt")
p99_during=$(bench_percentile_ms 0.99 "$work/during.txt")
max_during=$(bench_percentile_ms 1 "$work/during.txt")
sync_s=$(awk -v a="$trigger" -v b="$done_at" 'BEGIN { printf "%.2f", b - a }')
events_per_s=$(awk -v n="$expected_events" -v s="$sync_s" 'BEGIN { printf "%.0f", n / s }')
ratio=$(awk -v a="$p99_during" -v b="$p99_before" 'BEGIN { printf "%.2f", a / b }')
per_query() { # ns-before ns-after count → us per query
    awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.0f", (b - a) / 1000 / n }'
}
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo missed; fi; }

echo
echo "GET /v1/slots at $rate/s during a full sync of $staff_count connections" \
    "($expected_events events, $expected_busy busy), $cores cores ($placement)," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %12s %12s\n' "" "without sync" "during sync"
printf '%-44s %12s %12s\n' "slot queries measured" "$count_before" "$count_during"
printf '%-44s %12s %12s\n' "p50 ms" "$p50_before" "$p50_during"
printf '%-44s %12s %12s\n' "p99 ms" "$p99_before" "$p99_during"
printf '%-44s %12s %12s\n' "max ms" "$max_before" "$max_during"
printf '%-44s %12s %12s\n' "slotd's own time (its log): p50 ms" \
    "$(bench_percentile_ms 0.50 "$work/server-before.txt")" \
    "$(bench_percentile_ms 0.50 "$work/server-during.txt")"
printf '%-44s %12s %12s\n' "slotd's own time (its log): p99 ms" \
    "$(bench_percentile_ms 0.99 "$work/server-before.txt")" \
    "$(bench_percentile_ms 0.99 "$work/server-during.txt")"
printf '%-44s %12s %12s\n' "slotd on a core per query (us)" \
    "$(per_query "$cpu0" "$cpu1" "$count_before")" "$(per_query "$cpu1" "$cpu2" "$count_during")"
printf '%-44s %12s %12s\n' "slotd waiting for a core per query (us)" \
    "$(per_query "$wait0" "$wait1" "$count_before")" "$(per_query "$wait1" "$wait2" "$count_during")"
printf '%-44s %12s %12s\n' "longest loop pause so far: wall / CPU (ms)" \
    "$(ms "$pause_before") / $(ms "$pause_cpu_before")" "$(ms "$pause_after") / $(ms "$pause_cpu_after")"
echo
echo "sync: $expected_events events in $sync_s s from the trigger (asking took" \
    "$(awk -v a="$trigger" -v b="$triggered" 'BEGIN { printf "%.2f", b - a }') s): $events_per_s events/s;" \
    "$provider_requests provider requests, $((reloads_after - reloads_before)) index reloads"
echo "(the first pulls, importing the same events as the connections were made, ended $import_s s" \
    "after the last was made)"
echo
echo "p99 during / without: $ratio; target: p99 during the sync within 20% of without (<= 1.20):" \
    "$(verdict "$ratio <= 1.2")"
