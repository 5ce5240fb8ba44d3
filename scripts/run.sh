#!/usr/bin/env bash
# The run command: installs what is missing, builds slotd, starts a private
# PostgreSQL under var/ (unless SLOTD_DATABASE_URL names another database),
# migrates, creates the demo clinic (kept across runs; ids in var/demo.env) and
# its secret key (var/secret.key), then serves the API in the foreground with
# its keys and ready-to-paste curl examples.
# Ctrl-C stops the service and the private PostgreSQL.
#
# One run per checkout: var/run.lock is held (flock) for as long as this script
# and the slotd it started live, and a second run refuses at once, before it
# touches the database, the demo or the port. A run also refuses when something
# already answers on its listen address.
#
# SLOTD_LISTEN (default 127.0.0.1:8080) and SLOTD_PG_PORT (default 54329) move
# the ports. `scripts/run.sh --fake-calendars` (or SLOTD_FAKE_CALENDARS=1) also
# starts the test suite's fake Google Calendar, Microsoft Graph and Cal.com on
# loopback (state kept in var/fake-calendars.json), points slotd's provider
# settings at it, and prints examples of calendar sync without real accounts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fake_calendars=${SLOTD_FAKE_CALENDARS:-}
for arg in "$@"; do
    case $arg in
    --fake-calendars) fake_calendars=1 ;;
    *)
        echo "usage: scripts/run.sh [--fake-calendars]" >&2
        exit 2
        ;;
    esac
done
scripts/deps.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target slotd >/dev/null

mkdir -p var
listen=${SLOTD_LISTEN:-127.0.0.1:8080}
base="http://$listen"
exec 9>>var/run.lock
if ! flock -n 9; then
    echo "slotd: scripts/run.sh is already running on this checkout (pid $(cat var/run.pid 2>/dev/null || echo '?'))." >&2
    echo "slotd: stop it first (Ctrl-C in its terminal); nothing was started or changed." >&2
    exit 1
fi
echo $$ >var/run.pid
if curl -s -o /dev/null --max-time 2 "$base/healthz"; then
    echo "slotd: something already answers on $listen; stop it, or choose another address with SLOTD_LISTEN." >&2
    exit 1
fi

private_pg=""
if [ -z "${SLOTD_DATABASE_URL:-}" ]; then
    private_pg="$root/var/postgres"
    SLOTD_DATABASE_URL=$(scripts/pg.sh start "$private_pg" "${SLOTD_PG_PORT:-54329}")
    export SLOTD_DATABASE_URL
    echo "PostgreSQL: private cluster in var/postgres at $SLOTD_DATABASE_URL"
fi
build/slotd migrate

# The demo clinic (config/demo-clinic.json: 3 staff, 2 rooms, 3 services, some
# bookings), created once per database and reused: its ids and keys are kept in
# var/demo.env. Its bookings go through the booking API once the service runs
# (var/demo-bookings.jsonl until they are sent), so they pass the rules as any.
demo_ok=""
if [ -f var/demo.env ]; then
    # shellcheck disable=SC1091
    . var/demo.env
    if [ "${DEMO_DATABASE_URL:-}" = "$SLOTD_DATABASE_URL" ] && [ -n "${DEMO_CLEANING:-}" ]; then
        demo_ok=1
    fi
fi
if [ -z "$demo_ok" ]; then
    created=$(build/slotd demo create config/demo-clinic.json --bookings var/demo-bookings.jsonl)
    field() { printf '%s' "$created" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
    umask 077
    cat >var/demo.env <<ENV
DEMO_DATABASE_URL='$SLOTD_DATABASE_URL'
DEMO_ORG='$(field organization_id)'
DEMO_ADMIN_KEY='$(field admin_key)'
DEMO_AGENT_KEY='$(field agent_key)'
DEMO_CLEANING='$(field cleaning)'
DEMO_CHECKUP='$(field checkup)'
DEMO_WHITENING='$(field whitening)'
DEMO_HYGIENIST='$(field hygienist-kasia)'
ENV
    # shellcheck disable=SC1091
    . var/demo.env
fi

today=$(date +%F)
week=$(date -d '+6 days' +%F)
# The examples that change something act on the hygienist on the next Monday to
# Thursday from tomorrow on: a day she works (config/demo-clinic.json), so their
# effect shows in her slots. Each is followed by its undo.
for i in 1 2 3 4 5 6 7; do
    day=$(date -d "+$i days" +%F)
    case $(date -d "$day" +%u) in 1 | 2 | 3 | 4) break ;; esac
done
offset=$(TZ=Europe/Warsaw date -d "$day 12:00" +%:z) # the demo clinic's zone that day

# The demo's secret key (encrypts the credentials of calendar connections),
# made once and kept in var/secret.key with the rest of the demo's state; a
# SLOTD_SECRET_KEY given to this script is used instead.
if [ -z "${SLOTD_SECRET_KEY:-}" ]; then
    if [ ! -s var/secret.key ]; then
        (umask 077 && head -c 32 /dev/urandom | base64 >var/secret.key)
    fi
    SLOTD_SECRET_KEY=$(cat var/secret.key)
fi
export SLOTD_SECRET_KEY

fake_pid=""
if [ -n "$fake_calendars" ]; then
    # the fake providers, their URLs as slotd's settings; pulls every 30 s, and
    # provider webhooks to this service's own address
    rm -f var/fake-calendars.out
    node tests/fakes/providers.js --port 0 --state-file var/fake-calendars.json >var/fake-calendars.out &
    fake_pid=$!
    for _ in $(seq 1 100); do
        [ -s var/fake-calendars.out ] && break
        sleep 0.1
    done
    fake_url() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" var/fake-calendars.out | head -n 1; }
    fake_base=$(fake_url base)
    [ -n "$fake_base" ] || { echo "slotd: the fake calendars did not start" >&2; exit 1; }
    export SLOTD_GOOGLE_API_URL=$(fake_url google_api_url) SLOTD_GOOGLE_TOKEN_URL=$(fake_url google_token_url)
    export SLOTD_MICROSOFT_GRAPH_URL=$(fake_url microsoft_graph_url) SLOTD_MICROSOFT_LOGIN_URL=$(fake_url microsoft_login_url)
    export SLOTD_CALCOM_API_URL=$(fake_url calcom_api_url)
    export SLOTD_GOOGLE_CLIENT_ID=demo SLOTD_GOOGLE_CLIENT_SECRET=demo SLOTD_SYNC_INTERVAL_SECONDS=30
    export SLOTD_PUBLIC_URL=$base
fi

build/slotd serve --listen "$listen" &
serve_pid=$!
stop() {
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
    if [ -n "$fake_pid" ]; then kill -TERM "$fake_pid" 2>/dev/null || true; fi
    if [ -n "$private_pg" ]; then scripts/pg.sh stop "$private_pg"; fi
    rm -f var/run.pid
}
trap stop EXIT
trap 'exit 0' INT TERM
ready=""
for _ in $(seq 1 100); do
    kill -0 "$serve_pid" 2>/dev/null || break # it failed to start: its error is above
    if curl -sf "$base/readyz" >/dev/null 2>&1; then
        ready=1
        break
    fi
    sleep 0.1
done
if [ -z "$ready" ]; then
    echo "slotd: the service did not become ready on $listen; see its messages above." >&2
    exit 1
fi
if [ -f var/demo-bookings.jsonl ]; then
    # each with an Idempotency-Key of its own: sent again after an interrupted run, a
    # booking made already is replayed, not made twice
    n=0 booked=0
    while IFS= read -r body; do
        n=$((n + 1))
        status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/v1/bookings" \
            -H "Authorization: Bearer $DEMO_ADMIN_KEY" -H "Idempotency-Key: demo-booking-$n" \
            -d "$body")
        if [ "$status" = 201 ]; then booked=$((booked + 1)); fi
    done <var/demo-bookings.jsonl
    echo "Demo bookings: $booked of $n booked through POST /v1/bookings."
    mv var/demo-bookings.jsonl var/demo-bookings.sent
fi
auth_agent="-H 'Authorization: Bearer $DEMO_AGENT_KEY'"
auth_admin="-H 'Authorization: Bearer $DEMO_ADMIN_KEY'"
kasia_day="'$base/v1/slots?service_id=$DEMO_CLEANING&from=$day&to=$day&resource_id=$DEMO_HYGIENIST'"
starts="| grep -o '\"start\":\"[^\"]*\"'"
call_key="call-$(date +%s)-$$" # an Idempotency-Key of this run's examples
cat <<TXT

== slotd is serving on $base  (Ctrl-C stops it)

Demo Dental Clinic, organization $DEMO_ORG
  admin key: $DEMO_ADMIN_KEY
  agent key: $DEMO_AGENT_KEY
  services:  cleaning $DEMO_CLEANING
             check-up $DEMO_CHECKUP
             whitening $DEMO_WHITENING

Try (reading):
  curl -s $base/readyz
  curl -s $auth_agent '$base/v1/slots?service_id=$DEMO_CLEANING&from=$today&to=$week&per_day=2'
  curl -s $auth_agent '$base/v1/slots?service_id=$DEMO_WHITENING&from=$today&to=$week&limit=3&tz=UTC'
  curl -s $auth_agent $base/v1/services
  curl -s $auth_agent $base/v1/resources
  curl -s $base/metrics | grep slotd_index

The hygienist's cleaning slots on $day, before any change:
  curl -s $auth_agent $kasia_day $starts

Change her hours that day to 12:00-14:00 (a PUT: pasting it twice changes nothing more),
see the slots follow, then undo it:
  curl -s -X PUT $auth_admin $base/v1/resources/$DEMO_HYGIENIST/overrides/$day -d '{"hours":[["12:00","14:00"]]}'
  curl -s $auth_agent $kasia_day $starts
  curl -s -X DELETE $auth_admin $base/v1/resources/$DEMO_HYGIENIST/overrides/$day

Block 10:00-12:00 that day (the answer's id is kept in \$block), see the gap, then undo it
with the DELETE (paste the three lines together: they leave nothing behind):
  block=\$(curl -s -X POST $auth_admin $base/v1/resources/$DEMO_HYGIENIST/blocks -d '{"start":"${day}T10:00:00$offset","end":"${day}T12:00:00$offset","reason":"team meeting"}' | sed -n 's/^{"id":"\([^"]*\)".*/\1/p'); echo "block \$block"
  curl -s $auth_agent $kasia_day $starts
  curl -s -X DELETE $auth_admin $base/v1/resources/$DEMO_HYGIENIST/blocks/\$block

Take her 14:00 that day as a voice agent would: hold it while the caller confirms (kept in
\$hold), book it from the hold with an Idempotency-Key (paste that line twice: the second
answer is the first one, replayed, and nothing more is booked), see someone else asking for
the same time get a 409 with the nearest free slots, see what keeps her busy that day, move
the booking to 15:00, then cancel it (the time is free again at once):
  hold=\$(curl -s -X POST $auth_agent $base/v1/holds -d '{"service_id":"$DEMO_CLEANING","start":"${day}T14:00:00$offset","resource_ids":["$DEMO_HYGIENIST"]}' | sed -n 's/^{"id":"\([^"]*\)".*/\1/p'); echo "hold \$hold"
  booking=\$(curl -s -X POST $auth_agent -H 'Idempotency-Key: $call_key' $base/v1/bookings -d '{"service_id":"$DEMO_CLEANING","start":"${day}T14:00:00$offset","hold_id":"'\$hold'","customer":{"name":"Anna Kowalska","phone":"+48 601 234 567"},"source":"ai_agent"}' | sed -n 's/^{"id":"\([^"]*\)".*/\1/p'); echo "booking \$booking"
  curl -s -X POST $auth_agent $base/v1/bookings -d '{"service_id":"$DEMO_CLEANING","start":"${day}T14:00:00$offset","resource_ids":["$DEMO_HYGIENIST"],"customer":{"name":"Jan Nowak","phone":"+48 602 000 111"}}'
  curl -s $auth_agent '$base/v1/resources/$DEMO_HYGIENIST/busy?from=$day&to=$day'
  curl -s -X POST $auth_agent $base/v1/bookings/\$booking/reschedule -d '{"start":"${day}T15:00:00$offset"}'
  curl -s -X POST $auth_agent $base/v1/bookings/\$booking/cancel -d '{"reason":"caller changed plans"}'

Be the voice agent (docs/agents.md): ask for her free cleaning times that day over MCP (the
answer's "speech" is the sentence the agent reads out), book 13:00 with a Vapi tool-calls
message carrying the caller's number (paste it twice: a retried tool call books once), then
find the caller's bookings; and see what an MCP client, Vapi and Retell are given to set up:
  curl -s -X POST $auth_agent $base/mcp -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"find_slots","arguments":{"service":"cleaning","staff":"kasia","date":"$day","limit":3}}}'
  curl -s -X POST $auth_agent $base/v1/integrations/vapi -d '{"message":{"type":"tool-calls","customer":{"number":"+48 601 234 567"},"toolCallList":[{"id":"$call_key-vapi","type":"function","function":{"name":"book_appointment","arguments":{"service":"cleaning","staff":"kasia","start":"${day}T13:00:00$offset","customer_name":"Anna Kowalska"}}}]}}'
  curl -s -X POST $auth_agent $base/mcp -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"find_bookings","arguments":{"customer_phone":"+48 601 234 567","locale":"pl"}}}'
  curl -s -X POST $auth_agent $base/mcp -d '{"jsonrpc":"2.0","id":3,"method":"tools/list"}'
  curl -s $auth_agent $base/v1/integrations/vapi/tools
  curl -s $auth_agent $base/v1/integrations/retell/tools

Connect her calendar as an ICS feed (the credentials are encrypted with the demo's key in
var/secret.key and never shown again; the id is kept in \$connection), list it, then remove it:
  connection=\$(curl -s -X POST $auth_admin $base/v1/resources/$DEMO_HYGIENIST/calendar-connections -d '{"provider":"ics","credentials":{"url":"https://calendar.example.com/kasia.ics"}}' | sed -n 's/^{"id":"\([^"]*\)".*/\1/p'); echo "connection \$connection"
  curl -s $auth_admin $base/v1/resources/$DEMO_HYGIENIST/calendar-connections
  curl -s -X DELETE $auth_admin $base/v1/calendar-connections/\$connection

An error names the field at fault (400: overlapping ranges, nothing changes):
  curl -s -X PATCH $auth_admin $base/v1/organization -d '{"business_hours":{"mon":[["09:00","13:00"],["12:00","17:00"]]}}'

TXT
if [ -n "$fake_calendars" ]; then
    grant=$(curl -s -X POST "$fake_base/_fake/google/grants" -d '{"user":"kasia@demo.test","client_id":"demo","client_secret":"demo"}' | sed -n 's/.*"refresh_token":"\([^"]*\)".*/\1/p')
    cat <<TXT
Calendar sync against the fake providers at $fake_base (no real account needed).
Connect her Google calendar (pull and push), let the fake's calendar get a private
appointment at 12:00 that day as if she made it in Google Calendar, see her slots lose it
within a second (the fake notifies slotd's webhook), see what keeps her busy, and see a
booking appear in her calendar:
  connection=\$(curl -s -X POST $auth_admin $base/v1/resources/$DEMO_HYGIENIST/calendar-connections -d '{"provider":"google","direction":"both","credentials":{"refresh_token":"$grant"}}' | sed -n 's/^{"id":"\([^"]*\)".*/\1/p'); echo "connection \$connection"
  curl -s -X POST $fake_base/_fake/google/events -d '{"calendar":"kasia@demo.test","events":[{"summary":"Dentist (private)","start":{"dateTime":"${day}T12:00:00$offset"},"end":{"dateTime":"${day}T13:00:00$offset"}}]}' >/dev/null
  curl -s $auth_agent $kasia_day $starts
  curl -s $auth_admin '$base/v1/resources/$DEMO_HYGIENIST/busy?from=$day&to=$day'
  curl -s $auth_admin $base/v1/calendar-connections/\$connection
  curl -s -X POST $auth_agent $base/v1/bookings -d '{"service_id":"$DEMO_CLEANING","start":"${day}T16:00:00$offset","resource_ids":["$DEMO_HYGIENIST"],"customer":{"name":"Ewa Lis","phone":"+48 603 000 222"}}' >/dev/null; sleep 2
  curl -s '$fake_base/_fake/google/events?calendar=kasia@demo.test' | grep -o '"summary":"[^"]*"'
  curl -s -X DELETE $auth_admin $base/v1/calendar-connections/\$connection

TXT
fi
cat <<TXT
The API is described in src/http/openapi.yaml. Request logs follow (one JSON line each):
TXT
wait "$serve_pid"
