#!/usr/bin/env bash
# The run command: installs what is missing, builds slotd, and runs the engine
# demo on the example clinic (config/demo-clinic.json): the next free slots of
# every service and a booking check. Arguments are passed to the demo
# (--now RFC3339, --days N, or another clinic file).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target slotd-engine-demo >/dev/null
if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then
    set -- config/demo-clinic.json "$@"
fi
exec build/slotd-engine-demo "$@"
