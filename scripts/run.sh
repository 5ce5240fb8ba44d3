#!/usr/bin/env bash
# The run command: installs what is missing, builds slotd, starts a private
# PostgreSQL under var/ (unless SLOTD_DATABASE_URL names another database),
# migrates, creates a demo organization (kept across runs in var/demo.env),
# prints what the availability engine offers for the example clinic, then
# serves the API in the foreground with ready-to-paste curl examples.
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
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target slotd slotd-engine-demo >/dev/null

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

# The demo organization: reused while it exists in this database.
demo_ok=""
if [ -f var/demo.env ]; then
    # shellcheck disable=SC1091
    . var/demo.env
    if [ "${DEMO_DATABASE_URL:-}" = "$SLOTD_DATABASE_URL" ]; then demo_ok=1; fi
fi
if [ -z "$demo_ok" ]; then
    created=$(build/slotd org create --name "Demo Dental Clinic" --timezone Europe/Warsaw)
    DEMO_ORG=$(printf '%s' "$created" | sed -n 's/.*"organization_id":"\([^"]*\)".*/\1/p')
    DEMO_ADMIN_KEY=$(printf '%s' "$created" | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
    DEMO_AGENT_KEY=$(build/slotd key create --org "$DEMO_ORG" --role agent |
        sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
    umask 077
    cat >var/demo.env <<ENV
DEMO_DATABASE_URL='$SLOTD_DATABASE_URL'
DEMO_ORG='$DEMO_ORG'
DEMO_ADMIN_KEY='$DEMO_ADMIN_KEY'
DEMO_AGENT_KEY='$DEMO_AGENT_KEY'
ENV
fi

echo
echo "== What the availability engine offers for the example clinic (config/demo-clinic.json)"
build/slotd-engine-demo config/demo-clinic.json --days 3
echo

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
curl -sf -X PATCH -H "Authorization: Bearer $DEMO_ADMIN_KEY" "$base/v1/organization" \
    -d '{"business_hours":{"mon":[["08:00","19:00"]],"tue":[["08:00","19:00"]],"wed":[["08:00","19:00"]],"thu":[["08:00","19:00"]],"fri":[["08:00","19:00"]],"sat":[["09:00","14:00"]]},"closures":["2026-12-24","2026-12-25"]}' \
    >/dev/null

cat <<TXT

== slotd is serving on $base  (Ctrl-C stops it)

Demo organization $DEMO_ORG
  admin key: $DEMO_ADMIN_KEY
  agent key: $DEMO_AGENT_KEY

Try:
  curl -s $base/healthz
  curl -s $base/readyz
  curl -s -H 'Authorization: Bearer $DEMO_AGENT_KEY' $base/v1/organization
  curl -s -X PATCH -H 'Authorization: Bearer $DEMO_ADMIN_KEY' $base/v1/organization -d '{"closures":["2026-12-24","2026-12-25","2026-12-31"]}'
  curl -s -X PATCH -H 'Authorization: Bearer $DEMO_ADMIN_KEY' $base/v1/organization -d '{"business_hours":{"mon":[["09:00","13:00"],["12:00","17:00"]]}}'   # 400: overlapping ranges
  curl -s $base/metrics | head -20

The API is described in src/http/openapi.yaml. Request logs follow (one JSON line each):
TXT
wait "$serve_pid"
