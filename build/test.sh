#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root):
#   installs what is missing, builds with --enable-werror, then runs
#   1. the Check unit tests of the core, plain and under ASan/UBSan;
#   2. the integration tests: a real httpd with the freshly built module and
#      real mod_proxy per test, a real TLS test IdP, real Redis and
#      memcached, and a headless Chromium for CORS;
#   3. the packaging checks: conf/ examples through apache2 -t and a private
#      httpd, the RPM spec, the Debian package built, lintian, installed,
#      served by the system apache on a loopback port, purged;
#   4. every libFuzzer target for a bounded time (FUZZ_SECONDS, default 60)
#      after replaying the kept regression inputs.
# Extra arguments go to the integration pytest run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/deps.sh

echo "== build (--enable-werror)"
autoreconf -fi >/dev/null 2>&1
./configure --enable-werror >build/configure.out 2>&1 || { tail -30 build/configure.out; exit 1; }
make -j2 >build/make.out 2>&1 || { grep -E 'error|warning' build/make.out | head -40; exit 1; }

echo "== unit tests (Check; plain and ASan/UBSan)"
if ! make -j2 check >build/check.out 2>&1; then
    tail -40 build/check.out
    for f in tests/unit/*.log; do echo "--- $f"; tail -40 "$f"; done
    exit 1
fi
for f in tests/unit/run_unit.log tests/unit/run_unit_asan.log; do
    echo "$f: $(grep -E '^[0-9]+%: Checks' "$f")"
done

echo "== integration tests (pytest, real httpd)"
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration "$@" | tee build/integration.out
[ "${PIPESTATUS[0]}" = 0 ] || exit 1

echo "== packaging checks (examples, RPM spec, Debian package)"
make dist >/dev/null 2>&1
CKA_DIST_TARBALL="$PWD/$(ls -t mod_conduktor_auth-*.tar.gz | head -1)" \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/packaging | tee build/packaging.out
[ "${PIPESTATUS[0]}" = 0 ] || exit 1

echo "== fuzzing (${FUZZ_SECONDS:-60} s per target)"
bash build/fuzz.sh "${FUZZ_SECONDS:-60}"

# One closing line over everything that ran.
count() { grep -Eo "[0-9]+ $1" "$2" | tail -1 | grep -Eo '^[0-9]+' || echo 0; }
unit=$(grep -Eho 'Checks: [0-9]+' tests/unit/run_unit.log tests/unit/run_unit_asan.log | awk '{s+=$2} END {print s}')
ipass=$(count passed build/integration.out); ppass=$(count passed build/packaging.out)
iskip=$(count skipped build/integration.out); pskip=$(count skipped build/packaging.out)
echo "== summary: unit checks $unit (plain + ASan), integration $ipass, packaging $ppass, fuzz targets clean"
echo "$((unit + ipass + ppass)) passed, 0 failed, $((iskip + pskip)) skipped"
