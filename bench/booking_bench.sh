#!/usr/bin/env bash
# The booking benchmark: POST /v1/bookings through one slotd, against the
# ceiling of the same PostgreSQL cluster for one-row INSERT transactions, in
# one run on one machine; then races for one slot; then the cross-instance
# figures of bench/propagation_bench.sh.
#
# The cluster keeps PostgreSQL's defaults: fsync on, every commit flushed
# before it is acknowledged. The organization (zone UTC, clock frozen at
# 2027-01-04T06:00:00Z) has SLOTD_BENCH_CLIENTS staff members working around
# the clock every day and a 15-minute service any one of them serves, with no
# horizon. Each request of the load books a slot no other request asks for
# (bench/booking_bench.lua: resource and start from the request's number, a
# customer and, unless SLOTD_BENCH_IDEMPOTENCY=0, an Idempotency-Key of its
# own): no two bookings of the run
# compete, so every one must be 201.
#
# Steps:
#   1. install what is missing (wrk, curl, jq), build slotd and bench_race,
#      start a throwaway PostgreSQL under /tmp with fsync on, migrate, create
#      the organization, serve (`slotd serve`: one process per core);
#   2. the ceiling: pgbench, SLOTD_BENCH_CLIENTS clients, one INSERT of one
#      row per transaction, prepared, after a warm-up; p50/p99 from its
#      per-transaction log;
#   2b. what PostgreSQL does for a booking's rows alone: pgbench, as many
#      clients, each transaction the rows slotd writes for a new booking of a
#      new customer as plain SQL (bench/booking_bench_rows.sql, in an
#      organization of a database of its own on the cluster), with the
#      schema's constraints and triggers;
#   3. slotd: wrk, SLOTD_BENCH_CLIENTS keep-alive connections, after a warm-up
#      on other days; every answer must be 201, and the database must hold
#      one booking, one audit row and (when sent) one idempotency key per
#      answer, and per request still in flight when wrk stopped (at most one
#      per connection);
#      both measurements start after VACUUM ANALYZE and a CHECKPOINT (for
#      slotd after the warm-up, so that the statistics know tables that hold
#      bookings, as a database in service does: plans made from the empty
#      tables' statistics get slower with every booking, see README);
#   4. the race: bench_race (bench/race_bench.c), SLOTD_BENCH_ROUNDS rounds of
#      64 simultaneous requests for one slot, each round exactly one 201 and
#      63 409s with alternatives;
#   5. print bookings/s, p50 and p99 of the three, the ratios, the race's times and
#      the targets; then run bench/propagation_bench.sh (its own cluster and
#      two instances; SLOTD_BENCH_PROPAGATION=0 skips it).
#
# Everything shares the machine's cores: slotd's processes, PostgreSQL's
# backends and the load generator. A measurement, not a test: missed targets
# still exit 0; a wrong answer (not 201 in the load, a round that is not one
# 201 and 63 409s) exits 1.
#
# Environment: SLOTD_BENCH_SECONDS (default 15) per measurement,
# SLOTD_BENCH_CLIENTS (default 32) concurrent clients on both sides,
# SLOTD_BENCH_ROUNDS (default 100) races, SLOTD_BENCH_IDEMPOTENCY (default 1; 0
# books without an Idempotency-Key), SLOTD_BENCH_PROPAGATION (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

seconds=${SLOTD_BENCH_SECONDS:-15}
clients=${SLOTD_BENCH_CLIENTS:-32}
rounds=${SLOTD_BENCH_ROUNDS:-100}
idempotency=${SLOTD_BENCH_IDEMPOTENCY:-1}
propagation=${SLOTD_BENCH_PROPAGATION:-1}
racers=64
threads=2
warmup=3
frozen_now=2027-01-04T06:00:00Z
step=900                                          # the service's grid, seconds
warmup_first=$(date -u -d 2027-01-05 +%s)         # warm-up bookings from here,
measure_first=$(date -u -d 2027-03-01 +%s)        # the measured ones from here,
race_first=$(date -u -d 2028-01-01 +%s)           # the races' from here
run=$(date -u +%Y%m%dT%H%M%S)
keys=with
if [ "$idempotency" = 0 ]; then
    keys=without
fi

SLOTD_EXTRA_PACKAGES="wrk curl jq" scripts/deps.sh
. bench/common.sh
echo "== building slotd and bench_race"
bench_build slotd bench_race
slotd=build-bench/slotd
pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

slotd_pid=""
stop_slotd() {
    if [ -n "$slotd_pid" ]; then
        kill -TERM "$slotd_pid" 2>/dev/null || true
        wait "$slotd_pid" 2>/dev/null || true
        slotd_pid=""
    fi
}
bench_on_exit+=(stop_slotd)
bench_start_postgres booking-bench durable

sql() {
    "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 "$url" "$@"
}

"$slotd" migrate --database-url "$url"
created=$("$slotd" org create --name "Booking Benchmark" --timezone UTC --database-url "$url")
org=$(jq -r .organization_id <<<"$created")
key=$(jq -r .api_key <<<"$created")
http_port=$(free_port)
base="http://127.0.0.1:$http_port"
SLOTD_NOW=$frozen_now "$slotd" serve --listen "127.0.0.1:$http_port" --database-url "$url" \
    >"$work/slotd.log" 2>&1 &
slotd_pid=$!
bench_wait_ready "$base" "$slotd_pid" "$work/slotd.log"

api_post() {
    curl -sS --fail-with-body -H "Authorization: Bearer $key" \
        -H "Content-Type: application/json" "$base$1" -d "$2"
}

echo "== creating $clients staff and a service through the API"
day='[["00:00","24:00"]]'
week="{\"mon\":$day,\"tue\":$day,\"wed\":$day,\"thu\":$day,\"fri\":$day,\"sat\":$day,\"sun\":$day}"
for i in $(seq -w 1 "$clients"); do
    api_post /v1/resources "{\"kind\":\"staff\",\"name\":\"Staff $i\",\"working_hours\":$week}" |
        jq -r .id
done >"$work/staff.txt"
service=$(api_post /v1/services "{\"name\":\"Quick visit\",\"duration_minutes\":15,
    \"requirements\":[{\"resource_ids\":$(jq -R . "$work/staff.txt" | jq -sc .),\"mode\":\"any\"}]}" |
    jq -r .id)


# ---- the ceiling: pgbench, one-row INSERT transactions ----------------------------------

sql -c "CREATE TABLE booking_bench_ceiling (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            client integer NOT NULL, payload text NOT NULL, at timestamptz NOT NULL DEFAULT now())"
# Each measurement starts from a quiet cluster: statistics fresh, nothing left to write out.
settle() { sql -c "VACUUM ANALYZE" -c "CHECKPOINT"; }
settle
echo "== PostgreSQL: pgbench, $clients clients, one-row INSERT transactions, ${seconds} s" \
    "(after a ${warmup} s warm-up)"
pgbench_run() {
    "$pgbin/pgbench" -n -M prepared -c "$clients" -j "$threads" -T "$1" \
        -f bench/booking_bench_pgbench.sql "${@:2}" "$url"
}
pgbench_run "$warmup" >/dev/null 2>&1
pgbench_run "$seconds" -l --log-prefix="$work/pgbench" 2>&1 | tee "$work/pgbench-summary.txt" |
    grep -E '^(number of transactions actually processed|latency average|tps)'
sql_tps=$(awk '/^tps = / { print $3 }' "$work/pgbench-summary.txt")
cat "$work"/pgbench.* | awk '{ print $3 }' | sort -n >"$work/latencies.txt"
sql_p50=$(bench_percentile_ms 0.50 "$work/latencies.txt")
sql_p99=$(bench_percentile_ms 0.99 "$work/latencies.txt")

# ---- the rows of a booking as plain SQL: what PostgreSQL does for them ------------------

# in a database of its own on the same cluster (its rows do not grow the one slotd is measured
# on, and its notifications reach no slotd), an organization with as many staff as clients
rows_url="${url%/*}/slotd_rows"
sql -c "CREATE DATABASE slotd_rows"
"$slotd" migrate --database-url "$rows_url" >/dev/null
rows_org=$("$slotd" org create --name "Booking Rows" --timezone UTC --database-url "$rows_url" |
    jq -r .organization_id)
rows_sql() { "$pgbin/psql" -X -q -tA -v ON_ERROR_STOP=1 "$rows_url" "$@"; }
rows_sql -c "INSERT INTO resources (organization_id, kind, name)
                 SELECT '$rows_org', 'staff', 'Rows ' || n FROM generate_series(1, $clients) n" \
    -c "INSERT INTO services (organization_id, name, duration_minutes)
            VALUES ('$rows_org', 'Rows visit', 15)" \
    -c "CREATE SEQUENCE booking_bench_rows_n"
rows_service=$(rows_sql -c "SELECT id FROM services WHERE organization_id = '$rows_org'")
rows_resources=$(rows_sql -c "SELECT '{' || string_agg(id::text, ',') || '}' FROM resources
                                WHERE organization_id = '$rows_org'")
rows_settle() { rows_sql -c "VACUUM ANALYZE" -c "CHECKPOINT"; }
rows_settle
echo "== PostgreSQL: pgbench, $clients clients, a booking's rows as plain SQL, ${seconds} s" \
    "(after a ${warmup} s warm-up)"
rows_run() { # slotd.wakes as slotd's connections set it (migration 0027)
    PGOPTIONS='-c slotd.wakes=later' "$pgbin/pgbench" -n -M prepared -c "$clients" -j "$threads" -T "$1" \
        -D org="$rows_org" -D service="$rows_service" -D resources="$rows_resources" \
        -D keys="$idempotency" \
        -f bench/booking_bench_rows.sql "${@:2}" "$rows_url"
}
rows_run "$warmup" >/dev/null 2>&1
rows_settle
rows_run "$seconds" -l --log-prefix="$work/rows" 2>&1 | tee "$work/rows-summary.txt" |
    grep -E '^(number of transactions actually processed|number of failed|latency average|tps)'
rows_tps=$(awk '/^tps = / { print $3 }' "$work/rows-summary.txt")
cat "$work"/rows.* | awk '{ print $3 }' | sort -n >"$work/rows-latencies.txt"
rows_p50=$(bench_percentile_ms 0.50 "$work/rows-latencies.txt")
rows_p99=$(bench_percentile_ms 0.99 "$work/rows-latencies.txt")

# ---- slotd: wrk, POST /v1/bookings ------------------------------------------------------

echo "== slotd: wrk, $clients keep-alive connections, POST /v1/bookings, ${seconds} s" \
    "(after a ${warmup} s warm-up)"
wrk_run() { # seconds first-epoch run-word
    wrk -t"$threads" -c"$clients" -d"$1s" --latency -s bench/booking_bench.lua "$base" \
        -- "$work/staff.txt" "$service" "$key" "$2" "$step" "$threads" "$3"
}
word() { if [ "$idempotency" = 0 ]; then echo -; else echo "$run$1"; fi; }
wrk_run "$warmup" "$warmup_first" "$(word -warmup)" >"$work/wrk-warmup.txt"
# statistics of tables that hold bookings now, as in a database in service (those of the
# empty tables make the planner pick plans that get slower with every booking)
settle
wrk_run "$seconds" "$measure_first" "$(word "")" | tee "$work/wrk.txt"

for f in "$work/wrk-warmup.txt" "$work/wrk.txt"; do
    errors=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$f")
    if [ -n "$errors" ] && [ "$errors" != 0 ]; then
        echo "booking_bench: slotd answered $errors bookings with another status than 201" >&2
        tail -n 20 "$work/slotd.log" >&2
        exit 1
    fi
done
answered=$(awk '/requests in/ { n += $1 } END { print n }' "$work/wrk-warmup.txt" "$work/wrk.txt")
http_rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.txt")
http_p50=$(bench_to_ms "$(awk '$1 == "50%" { print $2 }' "$work/wrk.txt")")
http_p99=$(bench_to_ms "$(awk '$1 == "99%" { print $2 }' "$work/wrk.txt")")
# wrk stops counting at its deadline; requests still in flight then may commit after
read -r bookings idempotency_keys audits < <(sql -tA -F " " -c "
    SELECT (SELECT count(*) FROM bookings WHERE organization_id = '$org'),
           (SELECT count(*) FROM idempotency_keys WHERE organization_id = '$org'),
           (SELECT count(*) FROM booking_audit WHERE organization_id = '$org')")
if [ "$bookings" -lt "$answered" ] || [ "$bookings" -gt $((answered + 2 * clients)) ] ||
    { [ "$idempotency" != 0 ] && [ "$idempotency_keys" != "$bookings" ]; } ||
    [ "$audits" != "$bookings" ]; then
    echo "booking_bench: $answered bookings answered 201, but the database holds $bookings" \
        "bookings, $idempotency_keys idempotency keys and $audits audit rows" >&2
    exit 1
fi
echo "$answered bookings answered 201; the database holds $bookings, with $idempotency_keys" \
    "idempotency keys and $audits audit rows"

# ---- the race: 64 requests for one slot at once -----------------------------------------

echo "== race: $rounds rounds of $racers simultaneous requests for one slot"
if ! build-bench/bench/bench_race "$base" "$key" "$service" "$(head -n 1 "$work/staff.txt")" \
    "$race_first" "$step" "$rounds" "$racers" >"$work/race.txt" 2>"$work/race.err"; then
    tail -n 5 "$work/race.err" >&2
    grep -v '"event":"request"' "$work/slotd.log" | tail -n 20 >&2
    exit 1
fi
cat "$work/race.txt"
race_p50=$(sed -n 's/.* p50 \([0-9.]*\) ms.*/\1/p' "$work/race.txt")
race_p99=$(sed -n 's/.* p99 \([0-9.]*\) ms.*/\1/p' "$work/race.txt")
race_max=$(sed -n 's/.* max \([0-9.]*\) ms.*/\1/p' "$work/race.txt")

# what the indexes did for them: each worker logs its index's work when it stops
stop_slotd
all_bookings=$(sql -tA -c "SELECT count(*) FROM bookings WHERE organization_id = '$org'")
read -r reloads changes reads wakes < <(jq -Rrn '[inputs | fromjson? |
    select(.event == "index_closed")] | "\(map(.reloads) | add // 0) \(map(.changes) | add // 0) \(
    map(.log_reads) | add // 0) \(map(.wakes_sent) | add // 0)"' "$work/slotd.log")
index_work=$(awk -v r="$reloads" -v c="$changes" -v l="$reads" -v w="$wakes" -v b="$all_bookings" \
    'BEGIN { printf "reloads %.2f, changes applied %.2f, reads of the change log %.2f, wakes sent %.2f",
             r / b, c / b, l / b, w / b }')

# ---- the table --------------------------------------------------------------------------

ratio=$(awk -v a="$http_rps" -v b="$sql_tps" 'BEGIN { printf "%.2f", a / b }')
rows_ratio=$(awk -v a="$http_rps" -v b="$rows_tps" 'BEGIN { printf "%.2f", a / b }')
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo missed; fi; }

echo
echo "POST /v1/bookings ($keys Idempotency-Key), $clients clients on distinct free slots, fsync on," \
    "$(nproc 2>/dev/null || echo '?') cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-36s %12s %10s %10s\n' "" "per second" "p50 ms" "p99 ms"
printf '%-36s %12.0f %10s %10s\n' "slotd bookings (HTTP)" "$http_rps" "$http_p50" "$http_p99"
printf '%-36s %12.0f %10s %10s\n' "PostgreSQL one-row INSERTs (pgbench)" "$sql_tps" "$sql_p50" \
    "$sql_p99"
printf '%-36s %12.0f %10s %10s\n' "PostgreSQL a booking's rows (pgbench)" "$rows_tps" "$rows_p50" \
    "$rows_p99"
printf '%-36s %12s\n' "ratio to one-row INSERTs" "$ratio"
printf '%-36s %12s\n' "ratio to a booking's rows" "$rows_ratio"
printf '%-36s %12s %10s %10s\n' "race of $racers for one slot (settled)" "" "$race_p50" "$race_p99"
echo "(race: max $race_max ms over $rounds rounds)"
echo "index work per booking, all workers, load and races ($all_bookings bookings): $index_work"
echo
echo "targets: >= 0.5 of the ceiling: $(verdict "$ratio >= 0.5") (aim 0.8);" \
    "booking p99 <= 50 ms: $(verdict "$http_p99 <= 50");" \
    "race p99 <= 100 ms: $(verdict "$race_p99 <= 100")"

if [ "$propagation" = 1 ]; then
    stop_slotd
    echo
    bench/propagation_bench.sh
fi
