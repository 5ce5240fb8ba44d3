#!/usr/bin/env bash
# The run command: installs what is missing, builds slotd, starts a private
# PostgreSQL under var/ (unless SLOTD_DATABASE_URL names another database),
# migrates, creates the demo clinic (kept across runs; ids in var/demo.env),
# then serves the API in the foreground with its keys and ready-to-paste curl
# examples.
# Ctrl-C stops the service and the private PostgreSQL.
#
# SLOTD_LISTEN (default 127.0.0.1:8080) and SLOTD_PG_PORT (default 54329) move
# the ports.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/deps.sh
command -v curl >/dev/null 2>&1 || SLOTD_EXTRA_PACKAGES=curl scripts/deps.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target slotd >/dev/null

mkdir -p var
private_pg=""
if [ -z "${SLOTD_DATABASE_URL:-}" ]; then
    private_pg="$root/var/postgres"
    SLOTD_DATABASE_URL=$(scripts/pg.sh start "$private_pg" "${SLOTD_PG_PORT:-54329}")
    export SLOTD_DATABASE_URL
    echo "PostgreSQL: private cluster in var/postgres at $SLOTD_DATABASE_URL"
fi
listen=${SLOTD_LISTEN:-127.0.0.1:8080}
base="http://$listen"

build/slotd migrate

# The demo clinic (config/demo-clinic.json: 3 staff, 2 rooms, 3 services, some
# bookings), created once per database and reused: its ids and keys are kept in
# var/demo.env.
demo_ok=""
if [ -f var/demo.env ]; then
    # shellcheck disable=SC1091
    . var/demo.env
    if [ "${DEMO_DATABASE_URL:-}" = "$SLOTD_DATABASE_URL" ] && [ -n "${DEMO_CLEANING:-}" ]; then
        demo_ok=1
    fi
fi
if [ -z "$demo_ok" ]; then
    created=$(build/slotd demo create config/demo-clinic.json)
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
tomorrow=$(date -d tomorrow +%F)
week=$(date -d '+6 days' +%F)

build/slotd serve --listen "$listen" &
serve_pid=$!
stop() {
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
    if [ -n "$private_pg" ]; then scripts/pg.sh stop "$private_pg"; fi
}
trap stop EXIT
trap 'exit 0' INT TERM
for _ in $(seq 1 100); do
    curl -sf "$base/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
cat <<TXT

== slotd is serving on $base  (Ctrl-C stops it)

Demo Dental Clinic, organization $DEMO_ORG
  admin key: $DEMO_ADMIN_KEY
  agent key: $DEMO_AGENT_KEY
  services:  cleaning $DEMO_CLEANING
             check-up $DEMO_CHECKUP
             whitening $DEMO_WHITENING

Try:
  curl -s $base/readyz
  curl -s -H 'Authorization: Bearer $DEMO_AGENT_KEY' '$base/v1/slots?service_id=$DEMO_CLEANING&from=$today&to=$week&per_day=2'
  curl -s -H 'Authorization: Bearer $DEMO_AGENT_KEY' '$base/v1/slots?service_id=$DEMO_WHITENING&from=$today&to=$week&limit=3&tz=UTC'
  curl -s -H 'Authorization: Bearer $DEMO_AGENT_KEY' '$base/v1/slots?service_id=$DEMO_CLEANING&from=$today&to=$week&resource_id=$DEMO_HYGIENIST&limit=3'
  curl -s -H 'Authorization: Bearer $DEMO_AGENT_KEY' $base/v1/services
  curl -s -H 'Authorization: Bearer $DEMO_AGENT_KEY' $base/v1/resources
  curl -s -X PUT -H 'Authorization: Bearer $DEMO_ADMIN_KEY' $base/v1/resources/$DEMO_HYGIENIST/overrides/$tomorrow -d '{"hours":[["12:00","14:00"]]}'
  curl -s -X POST -H 'Authorization: Bearer $DEMO_ADMIN_KEY' $base/v1/resources/$DEMO_HYGIENIST/blocks -d '{"rrule":"FREQ=WEEKLY;BYDAY=FR","start_local":"${today}T12:00","duration_minutes":60,"reason":"team meeting"}'
  curl -s -X PATCH -H 'Authorization: Bearer $DEMO_ADMIN_KEY' $base/v1/organization -d '{"business_hours":{"mon":[["09:00","13:00"],["12:00","17:00"]]}}'   # 400: overlapping ranges
  curl -s $base/metrics | grep slotd_index

The API is described in src/http/openapi.yaml. Request logs follow (one JSON line each):
TXT
wait "$serve_pid"
