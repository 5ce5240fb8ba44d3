#!/usr/bin/env bash
# Runs the OpenAPI check (check.js beside this file) over a response log:
#   tests/openapi/check.sh OPENAPI_YAML RESPONSE_LOG
# Installs the pinned validator packages with `npm ci` into
# tests/openapi/node_modules (git-ignored) when they are missing or older than
# package-lock.json.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "openapi check: node and npm are missing (scripts/deps.sh installs them)" >&2
    exit 1
fi
if [ ! -f "$here/node_modules/.package-lock.json" ] ||
    [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
exec node "$here/check.js" "$@"
