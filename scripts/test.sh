#!/usr/bin/env bash
# The test command: builds slotd twice (a normal optimized build and an
# ASan+UBSan build) and runs the whole test suite against each, with a
# throwaway PostgreSQL cluster that it starts and removes itself.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

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
echo "== throwaway PostgreSQL at $url"

jobs=$(nproc 2>/dev/null || echo 2)
status=0
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
    if ! (cd "$dir" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            ctest --output-on-failure -j "$jobs"); then
        status=1
    fi
done
exit $status
