#!/usr/bin/env bash
# The format check: every C source and header under src/ include/ tests/ bench/
# must be exactly what clang-format makes of it with the repository's
# .clang-format. Lists each file that differs (and the first lines of the
# difference) and exits 1; `clang-format -i FILE` fixes one.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null 2>&1 || {
    echo "check-format: clang-format is missing (scripts/deps.sh installs it)" >&2
    exit 1
}
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- 'src/*.[ch]' 'include/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]')
bad=0
difference=$(mktemp)
trap 'rm -f "$difference"' EXIT
for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    if ! clang-format --style=file "$f" | diff -u --label "$f" --label "$f (clang-format)" "$f" - >"$difference" 2>&1; then
        echo "check-format: $f is not formatted (clang-format -i $f):"
        head -n 12 "$difference" | sed 's/^/    /'
        bad=$((bad + 1))
    fi
done
if [ "$bad" -gt 0 ]; then
    echo "check-format: $bad of ${#files[@]} files differ from clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -n 1)"
    exit 1
fi
echo "check-format: ${#files[@]} files formatted"
