#!/usr/bin/env bash
# The test command: builds slotd twice (a normal optimized build and an
# ASan+UBSan build) and runs the whole test suite against each.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

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
