#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine:
#   installs what is missing, builds with --enable-werror, runs the unit
#   tests (plain and ASan/UBSan) and the integration tests on a real httpd.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/deps.sh

echo "== build (--enable-werror)"
autoreconf -fi >/dev/null 2>&1
./configure --enable-werror >build/configure.out 2>&1 || { tail -30 build/configure.out; exit 1; }
make -j2 >build/make.out 2>&1 || { grep -E 'error|warning' build/make.out | head -40; exit 1; }

echo "== unit tests (Check; plain and ASan/UBSan)"
if ! make -j2 check >build/check.out 2>&1; then
    cat build/check.out | tail -40
    for f in tests/unit/*.log; do echo "--- $f"; tail -40 "$f"; done
    exit 1
fi
for f in tests/unit/run_unit.log tests/unit/run_unit_asan.log; do
    [ -f "$f" ] && { echo "$f:"; grep -E '^[0-9]+%: Checks' "$f" || true; }
done

echo "== integration tests (pytest, real httpd)"
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration "$@"
