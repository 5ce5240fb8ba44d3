#!/usr/bin/env bash
# Installs the Debian packages slotd needs to build and test, when any is missing.
# Works as root (apt-get directly) and as an ordinary user (through sudo when it
# can run without a password; otherwise it names the packages to install).
set -euo pipefail

packages=(build-essential cmake pkg-config libical-dev libjansson-dev libpq-dev libssl-dev libuv1-dev libh2o-dev
          libcurl4-openssl-dev
          postgresql postgresql-contrib tzdata
          clang-format perl git curl util-linux)
# clang-format and perl: the format and duplication checks; curl and util-linux
# (flock): the run command. The OpenAPI check needs node (18 or later) and npm:
# Debian's nodejs and npm unless both commands are already there (a node
# installed otherwise often ships its own npm, which Debian's would conflict with).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

# Callers may add packages of their own.
read -r -a extra <<<"${SLOTD_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "slotd: installing missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "slotd: please install as root: apt-get install ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
