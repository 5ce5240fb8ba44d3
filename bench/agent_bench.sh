#!/usr/bin/env bash
# The voice-agent benchmark: the MCP tools (POST /mcp, tools/call) against the
# REST routes that answer the same questions, side by side in one run on one
# machine, then how fast booking.created webhooks reach a local receiver.
#
# The cluster keeps PostgreSQL's defaults: fsync on, every commit flushed
# before it is acknowledged. The organization (zone UTC, clock frozen at
# 2027-01-04T06:00:00Z) is a clinic: 10 staff working Monday to Saturday
# 08:00-13:00 and 13:30-18:00 and a 30-minute "Consultation" (15-minute step,
# 10-minute after-buffer) any one of them serves, for the slot questions; and
# SLOTD_BENCH_CLIENTS more staff working around the clock with a 15-minute
# "Quick visit" any one of them serves, for the bookings (as in
# bench/booking_bench.sh: each request books a slot no other one asks for,
# so every one must succeed).
#
# Steps:
#   1. install what is missing (wrk, curl, jq; node comes with the test
#      dependencies, the receiver's Standard Webhooks library with `npm ci` in
#      tests/webhooks), build slotd, start a throwaway PostgreSQL under /tmp
#      with fsync on, migrate, create the organization, serve (`slotd serve
#      --workers 1`: the targets are per core; with two cores or more slotd
#      alone on core 0, everything else on the others, see bench_pin);
#   2. check one answer of each question by hand: GET /v1/slots and MCP
#      find_slots (by id and by name) must give the same starts, MCP with
#      "isError":false;
#   3. find_slots: wrk, SLOTD_BENCH_CONNECTIONS keep-alive connections, three
#      questions: (a) GET /v1/slots for the day, limit 5, (b) MCP find_slots
#      for the same service (by id) and day, (c) the same by the service's
#      name; after a warm-up of each, SLOTD_BENCH_ROUNDS rounds (default 6) of
#      SLOTD_BENCH_ROUND_SECONDS (default 3) of each, taking turns (a b c, b c
#      a, c a b, ...), so that what else the machine does meanwhile (on a
#      virtual machine, the time its hypervisor gives to others: "steal",
#      printed) falls on all three alike; each question's figures are the
#      medians of its rounds, printed with every round and the range of the
#      ratios within a round; bench/agent_bench.lua checks every answer
#      (status 200 with slots, over MCP with "isError":false);
#   4. book_appointment: wrk, the same connections, after a warm-up of each on
#      other days and VACUUM ANALYZE with a CHECKPOINT before each measurement:
#      POST /v1/bookings (no Idempotency-Key: MCP's tools/call has none), then
#      MCP book_appointment with the staff member by id; every answer must be
#      201, or 200 with "booked":true, and the database must hold one booking
#      of each source per answer (and per request still in flight when wrk
#      stopped: at most one per connection);
#   5. webhooks: a receiver (bench/agent_bench_receiver.js: node, answers 204,
#      verifies signatures), an endpoint for booking.created, then
#      SLOTD_BENCH_WEBHOOKS bookings (curl --parallel, 32 at a time); the time
#      runs from the first booking sent to the last delivery received; every
#      booking must arrive once, signed, or (after SLOTD_BENCH_WEBHOOK_SECONDS)
#      still be waiting in the outbox;
#   6. print requests/s, p50 and p99 of each, slotd's CPU time per answer
#      (/proc: user and system time during the measurement over the answers
#      counted), the ratios and the targets.
#
# A measurement, not a test: missed targets still exit 0; a wrong answer, a
# missing booking or a missing or duplicated delivery exits 1.
#
# Environment: SLOTD_BENCH_SECONDS (default 10) per booking measurement,
# SLOTD_BENCH_CONNECTIONS (default 32) wrk connections, SLOTD_BENCH_CLIENTS
# (default 32) round-the-clock staff, SLOTD_BENCH_WEBHOOKS (default 2000)
# bookings for the webhooks, SLOTD_BENCH_WEBHOOK_SECONDS (default 60) the
# longest wait for their deliveries, SLOTD_BENCH_ROUNDS and
# SLOTD_BENCH_ROUND_SECONDS (find_slots, above), SLOTD_BENCH_PIN (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

seconds=${SLOTD_BENCH_SECONDS:-10}
connections=${SLOTD_BENCH_CONNECTIONS:-32}
clients=${SLOTD_BENCH_CLIENTS:-32}
webhooks=${SLOTD_BENCH_WEBHOOKS:-2000}
webhook_wait=${SLOTD_BENCH_WEBHOOK_SECONDS:-60}
threads=2
warmup=2
rounds=${SLOTD_BENCH_ROUNDS:-6}
round_seconds=${SLOTD_BENCH_ROUND_SECONDS:-3}
frozen_now=2027-01-04T06:00:00Z
day=2027-01-05                                    # the slot questions' day (a Tuesday)
step=900                                          # the quick visit's grid, seconds
warmup_first=$(date -u -d 2027-02-01 +%s)         # warm-up bookings from here (MCP a month on),
measure_first=$(date -u -d 2027-05-01 +%s)        # the measured ones from here (MCP a month on),
webhook_first=$(date -u -d 2028-01-01 +%s)        # the webhooks' from here
month=$((31 * 86400))

SLOTD_EXTRA_PACKAGES="wrk curl jq" scripts/deps.sh
. bench/common.sh
(cd tests/webhooks && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
echo "== building slotd"
bench_build slotd
slotd=build-bench/slotd
pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# slotd on core 0, this script and everything it starts from here on on the others
bench_pin
if [ ${#on_server_core[@]} -gt 0 ]; then
    placement="slotd alone on core 0; PostgreSQL, wrk and the receiver on cores 1-$((cores - 1))"
fi
slotd_pid=""
fake_pid="" # the webhook receiver
load_pid=""
bench_on_exit+=(bench_stop_started)
bench_start_postgres agent-bench durable

sql() {
    "$pgbin/psql" -X -q -tA -v ON_ERROR_STOP=1 "$url" "$@"
}
fail() {
    echo "agent_bench: $*" >&2
    exit 1
}

"$slotd" migrate --database-url "$url" >/dev/null
created=$("$slotd" org create --name "Agent Benchmark Clinic" --timezone UTC --database-url "$url")
org=$(jq -r .organization_id <<<"$created")
key=$(jq -r .api_key <<<"$created")
http_port=$(free_port)
base="http://127.0.0.1:$http_port"
SLOTD_NOW=$frozen_now SLOTD_SECRET_KEY=$(head -c 32 /dev/urandom | base64) \
    SLOTD_WEBHOOK_ALLOW_PRIVATE=1 \
    "${on_server_core[@]}" "$slotd" serve --workers 1 --listen "127.0.0.1:$http_port" \
    --database-url "$url" >"$work/slotd.log" 2>&1 &
slotd_pid=$!
bench_wait_ready "$base" "$slotd_pid" "$work/slotd.log"
echo "slotd --workers 1 ($placement)"

api() { # method path [body]
    curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $key" \
        -H "Content-Type: application/json" "$base$2" ${3:+-d "$3"}
}
mcp() { # tool arguments
    curl -sS --fail-with-body -H "Authorization: Bearer $key" -H "Content-Type: application/json" \
        -H "Accept: application/json, text/event-stream" "$base/mcp" \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"$1\",\"arguments\":$2}}"
}

# ---- the organization ---------------------------------------------------------------------

echo "== creating 10 clinic staff, $clients round-the-clock staff and 2 services through the API"
hours='[["08:00","13:00"],["13:30","18:00"]]'
week="{\"mon\":$hours,\"tue\":$hours,\"wed\":$hours,\"thu\":$hours,\"fri\":$hours,\"sat\":$hours}"
for i in $(seq -w 1 10); do
    api POST /v1/resources "{\"kind\":\"staff\",\"name\":\"Doctor $i\",\"working_hours\":$week}" |
        jq -r .id
done >"$work/clinic.txt"
service_name=Consultation
service=$(api POST /v1/services "{\"name\":\"$service_name\",\"duration_minutes\":30,
    \"slot_interval_minutes\":15,\"buffer_after_minutes\":10,
    \"requirements\":[{\"resource_ids\":$(jq -R . "$work/clinic.txt" | jq -sc .),\"mode\":\"any\"}]}" |
    jq -r .id)
always='[["00:00","24:00"]]'
week="{\"mon\":$always,\"tue\":$always,\"wed\":$always,\"thu\":$always,\"fri\":$always,\"sat\":$always,\"sun\":$always}"
for i in $(seq -w 1 "$clients"); do
    api POST /v1/resources "{\"kind\":\"staff\",\"name\":\"Staff $i\",\"working_hours\":$week}" |
        jq -r .id
done >"$work/staff.txt"
booking_service=$(api POST /v1/services "{\"name\":\"Quick visit\",\"duration_minutes\":15,
    \"requirements\":[{\"resource_ids\":$(jq -R . "$work/staff.txt" | jq -sc .),\"mode\":\"any\"}]}" |
    jq -r .id)

# ---- one answer of each, checked by hand ----------------------------------------------------

echo "== the answers for $day: GET /v1/slots, MCP find_slots by id and by name"
api GET "/v1/slots?service_id=$service&from=$day&to=$day&limit=5" >"$work/rest.json"
jq -r '.slots[].start' "$work/rest.json" >"$work/rest-starts.txt"
for by in "$service" "$service_name"; do
    mcp find_slots "{\"service\":\"$by\",\"date\":\"$day\"}" >"$work/mcp.json"
    if [ "$(jq -r .result.isError "$work/mcp.json")" != false ]; then
        fail "MCP find_slots (service $by) failed: $(cat "$work/mcp.json")"
    fi
    jq -r '.result.structuredContent.slots[].start' "$work/mcp.json" >"$work/mcp-starts.txt"
    if [ ! -s "$work/rest-starts.txt" ] || ! cmp -s "$work/rest-starts.txt" "$work/mcp-starts.txt"; then
        fail "GET /v1/slots and MCP find_slots (service $by) differ:" \
            "$(paste -d' ' "$work/rest-starts.txt" "$work/mcp-starts.txt")"
    fi
done
echo "the same $(wc -l <"$work/rest-starts.txt") starts, from $(head -n 1 "$work/rest-starts.txt");" \
    "MCP says: $(jq -r .result.structuredContent.speech "$work/mcp.json")"

# ---- wrk, one measurement -------------------------------------------------------------------

# slotd's CPU time so far (user and system), in clock ticks
slotd_ticks() { awk '{ print $14 + $15 }' "/proc/$slotd_pid/stat"; }
# wrk_run NAME SECONDS MODE ARGUMENTS...: the output in $work/NAME.txt, with a line
# "cpu TICKS" of slotd's CPU time meanwhile; every answer right, or the script stops.
wrk_run() {
    local name=$1 duration=$2 before
    shift 2
    before=$(slotd_ticks)
    wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s bench/agent_bench.lua "$base" \
        -- "$1" "$key" "${@:2}" >"$work/$name.txt"
    echo "cpu $(($(slotd_ticks) - before))" >>"$work/$name.txt"
    local wrong
    wrong=$(awk '$1 == "answers" { print $4 }' "$work/$name.txt")
    if [ "$wrong" != 0 ]; then
        cat "$work/$name.txt" >&2
        tail -n 5 "$work/slotd.log" >&2
        fail "$name: ${wrong:-?} answers were wrong"
    fi
}
# wrk_figures NAME: requests/s, p50 ms, p99 ms and slotd's CPU time per answer (us)
ticks=$(getconf CLK_TCK)
wrk_figures() {
    echo "$(awk '/^Requests\/sec:/ { print $2 }' "$work/$1.txt")" \
        "$(bench_to_ms "$(awk '$1 == "50%" { print $2 }' "$work/$1.txt")")" \
        "$(bench_to_ms "$(awk '$1 == "99%" { print $2 }' "$work/$1.txt")")" \
        "$(awk -v hz="$ticks" '$1 == "answers" { n = $2 } $1 == "cpu" { t = $2 }
            END { printf "%.0f", n ? t * 1e6 / hz / n : 0 }' "$work/$1.txt")"
}
settle() { sql -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null; }

# ---- find_slots -----------------------------------------------------------------------------

echo "== find_slots: wrk, $connections keep-alive connections, $rounds rounds of ${round_seconds} s" \
    "of each question, taking turns (after a ${warmup} s warm-up of each)"
slot_modes=(rest_slots mcp_slots mcp_named)
slot_round() { # name: one round, its figures appended to $work/rounds-NAME
    case $1 in
    rest_slots) set -- "$1" slots-rest "$service" ;;
    mcp_slots) set -- "$1" slots-mcp "$service" ;;
    mcp_named) set -- "$1" slots-mcp "$service_name" ;;
    esac
    wrk_run "$1-round" "$round_seconds" "$2" "$3" "$day"
    echo "$(wrk_figures "$1-round") $(awk '$1 == "answers" { print $2 }' "$work/$1-round.txt")" \
        >>"$work/rounds-$1"
}
for name in "${slot_modes[@]}"; do
    wrk_run "$name-warmup" "$warmup" "$([ "$name" = rest_slots ] && echo slots-rest || echo slots-mcp)" \
        "$([ "$name" = mcp_named ] && echo "$service_name" || echo "$service")" "$day"
done
read -r machine_before steal_before < <(bench_cpu_ticks)
for r in $(seq 0 $((rounds - 1))); do # each question first, second and third in turn
    for k in 0 1 2; do
        slot_round "${slot_modes[$(((r + k) % 3))]}"
    done
done
read -r machine_after steal_after < <(bench_cpu_ticks)
steal_share=$(awk -v t=$((machine_after - machine_before)) -v s=$((steal_after - steal_before)) \
    'BEGIN { printf "%.0f", t ? 100 * s / t : 0 }')
# per question: the medians of its rounds' requests/s, p50, p99 and CPU per answer, and the
# least and greatest p99
slot_figures() {
    local f="$work/rounds-$1"
    echo "$(bench_column_stat 1 <"$f") $(bench_column_stat 2 <"$f") $(bench_column_stat 3 <"$f")" \
        "$(bench_column_stat 4 <"$f") $(bench_column_stat 3 min <"$f") $(bench_column_stat 3 max <"$f")"
}
read -r rest_slots_rps rest_slots_p50 rest_slots_p99 rest_slots_cpu rest_slots_least rest_slots_most \
    < <(slot_figures rest_slots)
read -r mcp_slots_rps mcp_slots_p50 mcp_slots_p99 mcp_slots_cpu mcp_slots_least mcp_slots_most \
    < <(slot_figures mcp_slots)
read -r mcp_named_rps mcp_named_p50 mcp_named_p99 mcp_named_cpu mcp_named_least mcp_named_most \
    < <(slot_figures mcp_named)
# within each round: MCP's p99 over REST's, the least and greatest
round_ratios() {
    paste -d' ' "$work/rounds-rest_slots" "$work/rounds-$1" | awk '{ print $8 / $3 }' |
        sort -n | awk '{ v[NR] = $1 } END { printf "%.2f-%.2f", v[1], v[NR] }'
}
echo "rounds in the order run (requests/s, p50 ms, p99 ms, slotd's CPU per answer in us;" \
    "the hypervisor took ${steal_share}% of the machine's CPU time meanwhile):"
for name in "${slot_modes[@]}"; do
    printf '  %-11s %s\n' "$name" "$(awk '{ printf "%s%.0f %s %s %s", (NR > 1 ? " | " : ""), $1, $2, $3, $4 }' \
        "$work/rounds-$name")"
done

# ---- book_appointment -----------------------------------------------------------------------

echo "== bookings: wrk, $connections keep-alive connections, ${seconds} s each (after a ${warmup} s" \
    "warm-up; VACUUM ANALYZE and CHECKPOINT before each)"
book_args() { echo "$work/staff.txt $booking_service $1 $step $threads"; }
# shellcheck disable=SC2046 # book_args: words without spaces
{
    wrk_run rest_book-warmup "$warmup" book-rest $(book_args "$warmup_first")
    wrk_run mcp_book-warmup "$warmup" book-mcp $(book_args $((warmup_first + month)))
    settle
    wrk_run rest_book "$seconds" book-rest $(book_args "$measure_first")
    settle
    wrk_run mcp_book "$seconds" book-mcp $(book_args $((measure_first + month)))
}
read -r rest_book_rps rest_book_p50 rest_book_p99 rest_book_cpu < <(wrk_figures rest_book)
read -r mcp_book_rps mcp_book_p50 mcp_book_p99 mcp_book_cpu < <(wrk_figures mcp_book)
answered() { awk '$1 == "answers" { n += $2 } END { print n }' "$work/$1-warmup.txt" "$work/$1.txt"; }
rest_answered=$(answered rest_book)
mcp_answered=$(answered mcp_book)
# wrk stops counting at its deadline; requests still in flight then may commit after
sleep 1
read -r rest_booked mcp_booked < <(sql -F " " -c "
    SELECT count(*) FILTER (WHERE source = 'api'), count(*) FILTER (WHERE source = 'ai_agent')
      FROM bookings WHERE organization_id = '$org'")
for side in rest mcp; do
    a=${side}_answered b=${side}_booked
    if [ "${!b}" -lt "${!a}" ] || [ "${!b}" -gt $((${!a} + 2 * connections)) ]; then
        fail "$side: ${!a} bookings answered, but the database holds ${!b}"
    fi
done
echo "POST /v1/bookings: $rest_answered answered 201, $rest_booked in the database;" \
    "MCP book_appointment: $mcp_answered answered \"booked\":true, $mcp_booked in the database"

# ---- webhooks -------------------------------------------------------------------------------

echo "== webhooks: $webhooks bookings, booking.created to a local receiver"
node bench/agent_bench_receiver.js --port 0 >"$work/receiver.out" 2>"$work/receiver.err" &
fake_pid=$!
for _ in $(seq 1 100); do
    [ -s "$work/receiver.out" ] && break
    sleep 0.1
done
receiver=$(jq -r .base "$work/receiver.out" 2>/dev/null || true)
if [ -z "$receiver" ] || [ "$receiver" = null ]; then
    fail "the receiver did not start: $(cat "$work/receiver.err")"
fi
endpoint=$(api POST /v1/webhook-endpoints \
    "{\"url\":\"$receiver/hooks\",\"events\":[\"booking.created\"],\"description\":\"bench\"}")
endpoint_id=$(jq -r .id <<<"$endpoint")
curl -sS --fail-with-body "$receiver/_control/secret" -d "$(jq -c '{secret}' <<<"$endpoint")" >/dev/null

# one curl, 32 transfers at a time, each a booking of its own slot
staff_count=$(wc -l <"$work/staff.txt")
awk -v base="$base" -v key="$key" -v service="$booking_service" -v first="$webhook_first" \
    -v step="$step" -v r="$staff_count" -v n="$webhooks" '
    NR == FNR { staff[FNR - 1] = $1; next }
    END {
        for (g = 0; g < n; g++) {
            if (g > 0)
                print "next"
            start = strftime("%Y-%m-%dT%H:%M:%SZ", first + int(g / r) * step, 1)
            printf "url = \"%s/v1/bookings\"\n", base
            printf "header = \"Authorization: Bearer %s\"\n", key
            printf "header = \"Content-Type: application/json\"\n"
            printf "data = \"{\\\"service_id\\\":\\\"%s\\\",\\\"start\\\":\\\"%s\\\",", service, start
            printf "\\\"resource_ids\\\":[\\\"%s\\\"],", staff[g % r]
            printf "\\\"customer\\\":{\\\"name\\\":\\\"Webhook %d\\\",\\\"phone\\\":\\\"+48 7%08d\\\"}}\"\n", g, g
            printf "output = \"/dev/null\"\nwrite-out = \"%%{http_code}\\n\"\n"
        }
    }' "$work/staff.txt" /dev/null >"$work/webhook-bookings.curl"
started=$EPOCHREALTIME
curl --no-progress-meter --parallel --parallel-max 32 --parallel-immediate \
    -K "$work/webhook-bookings.curl" >"$work/webhook-statuses.txt" 2>"$work/webhook-curl.err" || true
booked=$EPOCHREALTIME
created_count=$(grep -c '^201$' "$work/webhook-statuses.txt" || true)
if [ "$created_count" != "$webhooks" ]; then
    fail "$created_count of $webhooks webhook bookings answered 201: $(sort "$work/webhook-statuses.txt" |
        uniq -c | tr '\n' ' ')"
fi
stats() { curl -sS "$receiver/_control/stats"; }
deadline=$(awk -v s="$started" -v w="$webhook_wait" 'BEGIN { printf "%d", s + w }')
while [ "$(stats | jq .deliveries)" -lt "$webhooks" ] && [ "${EPOCHREALTIME%.*}" -lt "$deadline" ]; do
    sleep 0.1
done
sleep 2 # a duplicate would come now
stats >"$work/webhook-stats.json"
read -r deliveries distinct duplicates unverified delivered_bookings first_ms last_ms < <(jq -r \
    '"\(.deliveries) \(.distinct) \(.duplicates) \(.unverified) \(.bookings) \(.first_ms) \(.last_ms)"' \
    "$work/webhook-stats.json")
# what has not arrived must still be waiting in the outbox: none lost, none sent twice
read -r messages done_messages < <(sql -F " " -c "
    SELECT count(*), count(*) FILTER (WHERE done_at IS NOT NULL)
      FROM webhook_messages WHERE organization_id = '$org' AND endpoint_id = '$endpoint_id'")
waiting=$((messages - done_messages))
if [ "$distinct" != "$deliveries" ] || [ "$duplicates" != 0 ] || [ "$unverified" != 0 ] ||
    [ "$delivered_bookings" != "$deliveries" ] || [ "$messages" != "$webhooks" ] ||
    [ "$done_messages" -gt "$deliveries" ] || [ $((deliveries + waiting)) -lt "$webhooks" ]; then
    api GET "/v1/webhook-endpoints/$endpoint_id/deliveries?limit=5" >&2 || true
    fail "webhooks: $webhooks bookings, $messages messages ($done_messages done), but" \
        "$deliveries deliveries ($distinct distinct webhook-ids, $duplicates repeated," \
        "$unverified not verified, $delivered_bookings bookings)"
fi
read -r booking_rate delivery_rate delivery_seconds first_delay < <(awk -v s="$started" -v b="$booked" \
    -v f="$first_ms" -v l="$last_ms" -v n="$webhooks" -v d="$deliveries" 'BEGIN {
    if (d == 0) { printf "%.0f 0 - -\n", n / (b - s); exit }
    printf "%.0f %.1f %.2f %.1f\n", n / (b - s), d / (l / 1000 - s), l / 1000 - s, f - s * 1000 }')
echo "$webhooks bookings in $(awk -v s="$started" -v b="$booked" 'BEGIN { printf "%.2f", b - s }') s" \
    "($booking_rate/s); $deliveries deliveries, each of its own booking, signed, the last" \
    "$delivery_seconds s after the first booking was sent (the first after $first_delay ms);" \
    "$waiting still waiting in the outbox after ${webhook_wait} s"

# ---- the table ------------------------------------------------------------------------------

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo missed; fi; }
id_ratio=$(ratio "$mcp_slots_p99" "$rest_slots_p99")
name_ratio=$(ratio "$mcp_named_p99" "$rest_slots_p99")
book_ratio=$(ratio "$mcp_book_p99" "$rest_book_p99")

echo
echo "Voice-agent tools against REST, slotd --workers 1, $connections connections, fsync on," \
    "$cores cores ($placement), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "find_slots: medians of $rounds rounds of ${round_seconds} s each, taken in turns; the" \
    "hypervisor took ${steal_share}% of the machine's CPU time meanwhile"
row() { printf '%-36s %11.0f %8s %8s %13s %11s %13s\n' "$@"; }
printf '%-36s %11s %8s %8s %13s %11s %13s\n' "" "per second" "p50 ms" "p99 ms" "p99 / REST's" \
    "slotd CPU" "p99 of rounds"
row "GET /v1/slots (1 day, limit 5)" "$rest_slots_rps" "$rest_slots_p50" "$rest_slots_p99" "" \
    "$rest_slots_cpu us" "$rest_slots_least-$rest_slots_most"
row "MCP find_slots, service by id" "$mcp_slots_rps" "$mcp_slots_p50" "$mcp_slots_p99" \
    "$id_ratio" "$mcp_slots_cpu us" "$mcp_slots_least-$mcp_slots_most"
row "MCP find_slots, service by name" "$mcp_named_rps" "$mcp_named_p50" "$mcp_named_p99" \
    "$name_ratio" "$mcp_named_cpu us" "$mcp_named_least-$mcp_named_most"
row "POST /v1/bookings" "$rest_book_rps" "$rest_book_p50" "$rest_book_p99" "" "$rest_book_cpu us" ""
row "MCP book_appointment, staff by id" "$mcp_book_rps" "$mcp_book_p50" "$mcp_book_p99" \
    "$book_ratio" "$mcp_book_cpu us" ""
printf '%-36s %11s   %s\n' "booking.created webhooks delivered" "$delivery_rate" \
    "($deliveries of $webhooks bookings made at $booking_rate/s, the last after $delivery_seconds s)"
echo "MCP find_slots p99 over GET /v1/slots' in the same round, least-most: by id" \
    "$(round_ratios mcp_slots), by name $(round_ratios mcp_named)"
echo
echo "targets: MCP find_slots p99 <= 5 ms: by id $(verdict "$mcp_slots_p99 <= 5")," \
    "by name $(verdict "$mcp_named_p99 <= 5");" \
    "within 1.5x of GET /v1/slots' p99: by id $(verdict "$id_ratio <= 1.5")," \
    "by name $(verdict "$name_ratio <= 1.5")"
