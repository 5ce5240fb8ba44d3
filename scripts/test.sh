#!/usr/bin/env bash
# The test command: checks formatting (clang-format) and duplicated blocks,
# builds slotd twice (a normal optimized build and an ASan+UBSan build) and runs
# the whole test suite against each, with a throwaway PostgreSQL cluster that it
# starts and removes itself. After the tests of each build, every HTTP response
# they received is validated against src/http/openapi.yaml. Exits 1 when any
# check or test fails (the checks do not stop the builds and tests: every
# failure is reported in one run).
set -euo pipefail
cd "$(dirname "$0")/.."
# haproxy: the multi-machine layout's test runs config/haproxy.example.cfg
SLOTD_EXTRA_PACKAGES="haproxy ${SLOTD_EXTRA_PACKAGES:-}" scripts/deps.sh

status=0
echo "== format"
scripts/check-format.sh || status=1
echo "== duplicated blocks"
scripts/check-duplicates.sh || status=1
echo "== OpenAPI validator (npm ci in tests/openapi)"
(cd tests/openapi && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || status=1
echo "== iCalendar parser and generator for the tests (npm ci in tests/ical)"
(cd tests/ical && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || status=1
echo "== Standard Webhooks receiver for the tests (npm ci in tests/webhooks)"
(cd tests/webhooks && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || status=1
echo "== MCP TypeScript SDK client for the tests (npm ci in tests/mcp)"
(cd tests/mcp && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || status=1
echo "== Retell's SDK for the signature tests (npm ci in tests/agents)"
(cd tests/agents && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || status=1

# The throwaway cluster: a fresh directory under /tmp (reachable by the postgres
# user when running as root), a free port, removed on exit.
pgdir=$(mktemp -d /tmp/slotd-test-pg.XXXXXX)
chmod 755 "$pgdir"
cleanup() {
    scripts/pg.sh stop "$pgdir/data" || true
    rm -rf "$pgdir"
}
trap cleanup EXIT
url=$(SLOTD_PG_THROWAWAY=1 scripts/pg.sh start-free "$pgdir/data")
export SLOTD_TEST_DATABASE_URL="$url"
export SLOTD_OPENAPI_REQUIRE_RESPONSES=1 # every HTTP test runs: the OpenAPI check must see responses
echo "== throwaway PostgreSQL at $url"

jobs=$(nproc 2>/dev/null || echo 2)
for variant in release asan; do
    dir=build-test-$variant
    case $variant in
    release) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
    asan) flags=(-DCMAKE_BUILD_TYPE=Debug -DSLOTD_SANITIZE=ON) ;;
    esac
    echo "== $variant build"
    cmake -S . -B "$dir" "${flags[@]}" >/dev/null
    cmake --build "$dir" -j "$jobs"
    echo "== $variant tests"
    rm -f "$dir/api-responses.jsonl" # every HTTP response of this run (tests/http/api_client.c)
    if ! (cd "$dir" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            ctest --output-on-failure -j "$jobs"); then
        status=1
    fi
    echo "== $variant: every HTTP response against src/http/openapi.yaml"
    tests/openapi/check.sh src/http/openapi.yaml "$dir/api-responses.jsonl" || status=1
done
if [ $status -ne 0 ]; then
    echo "== FAILED (see above)"
fi
exit $status
