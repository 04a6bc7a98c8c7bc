#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root):
#   installs what is missing, builds with --enable-werror, then runs
#   1. the Check unit tests of the core, plain and under ASan/UBSan; the
#      instruction budget (build/insn_budget.sh: callgrind counts per cached
#      request and per core validation against tests/bench/insn_budget.txt);
#   2. the integration tests: a real httpd with the freshly built module and
#      real mod_proxy per test, a real TLS test IdP, real Redis and
#      memcached, and a headless Chromium for CORS;
#   the packaging checks: conf/ examples through apache2 -t and a private
#      httpd, the RPM spec, the Debian package built, lintian, installed,
#      served by the system apache on a loopback port, purged;
#   3. the integration tests again on the worker and the prefork MPM (CKA_MPM;
#      the browser, valgrind, MPM and README checks run once), all three
#      integration runs side by side;
#   4. the packaging checks (see below), and beside them
#   5. every libFuzzer target for a bounded time (FUZZ_SECONDS, default 60;
#      two at a time, FUZZ_JOBS) after replaying the kept regression inputs;
#   6. the load and fault run (tests/load/run_load.sh, about 3 minutes;
#      CKA_SKIP_LOAD=1 leaves it out).
# Extra arguments go to the integration pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$SECONDS
stage() { echo "== [$(( (SECONDS - T0) / 60 )) min] $*"; }
bash build/deps.sh

stage "build (--enable-werror)"
autoreconf -fi >/dev/null 2>&1
./configure --enable-werror >build/configure.out 2>&1 || { tail -30 build/configure.out; exit 1; }
make -j2 >build/make.out 2>&1 || { grep -E 'error|warning' build/make.out | head -40; exit 1; }

stage "unit tests (Check; plain and ASan/UBSan)"
if ! make -j2 check >build/check.out 2>&1; then
    tail -40 build/check.out
    for f in tests/unit/*.log; do echo "--- $f"; tail -40 "$f"; done
    exit 1
fi
for f in tests/unit/run_unit.log tests/unit/run_unit_asan.log tests/unit/run_config.log; do
    echo "$f: $(grep -E '^[0-9]+%: Checks' "$f")"
done

stage "instruction budget (callgrind: cached request, core validation; tests/bench/insn_budget.txt)"
bash build/insn_budget.sh >build/insn_budget.out 2>&1 || { cat build/insn_budget.out; exit 1; }
tail -6 build/insn_budget.out

# The three integration runs (event, worker, prefork) share no port,
# directory or server: each session makes its own work directory, picks free
# loopback ports and starts its own Redis, memcached and IdP. Most of their
# time is spent waiting on sockets and process starts, so they run side by
# side; their output is shown one after the other. The browser, valgrind,
# MPM and README checks run once, with the event MPM.
stage "integration tests (pytest, real httpd; event, worker and prefork MPM side by side)"
pids=()
runs=(event worker prefork)
for mpm in "${runs[@]}"; do
    if [ $mpm = event ]; then
        out=build/integration.out
        /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration "$@" >$out 2>&1 &
    else
        out=build/integration-$mpm.out
        CKA_MPM=$mpm /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration \
            --ignore=tests/integration/test_browser.py --ignore=tests/integration/test_valgrind.py \
            --ignore=tests/integration/test_mpm.py --ignore=tests/integration/test_readme.py \
            --ignore=tests/integration/test_browser_dpop.py \
            "$@" >$out 2>&1 &
    fi
    pids+=($!)
done
int_failed=0
for i in 0 1 2; do
    mpm=${runs[$i]}
    out=$([ $mpm = event ] && echo build/integration.out || echo build/integration-$mpm.out)
    rc=0
    wait "${pids[$i]}" || rc=$?
    echo "-- $mpm MPM:"
    if [ $rc = 0 ]; then tail -3 $out; else cat $out; int_failed=1; fi
done
cat build/integration-worker.out build/integration-prefork.out >build/integration-mpm.out
[ $int_failed = 0 ] || exit 1

# The fuzz targets (two at a time, FUZZ_JOBS) run while the packaging
# checks (mostly apt, dpkg and the system apache, waiting on I/O) do; each
# target still gets its FUZZ_SECONDS.
stage "packaging checks (examples, RPM spec, Debian package), fuzzing (${FUZZ_SECONDS:-60} s per target) beside them"
FUZZ_JOBS=${FUZZ_JOBS:-2} bash build/fuzz.sh "${FUZZ_SECONDS:-60}" >build/fuzz.out 2>&1 &
fuzz_pid=$!
make dist >/dev/null 2>&1
pkg_rc=0
CKA_DIST_TARBALL="$PWD/$(ls -t mod_conduktor_auth-*.tar.gz | head -1)" \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/packaging >build/packaging.out 2>&1 || pkg_rc=$?
fuzz_rc=0
wait $fuzz_pid || fuzz_rc=$?
if [ $pkg_rc = 0 ]; then tail -3 build/packaging.out; else cat build/packaging.out; fi
echo "-- fuzzing:"
cat build/fuzz.out
[ $pkg_rc = 0 ] && [ $fuzz_rc = 0 ] || exit 1

load="skipped (CKA_SKIP_LOAD)"
if [ -z "${CKA_SKIP_LOAD:-}" ]; then
    stage "load and faults (tests/load/run_load.sh)"
    bash tests/load/run_load.sh --out build/load.out
    load="pass"
fi

# One closing line over everything that ran.
count() { grep -Eo "[0-9]+ $1" "$2" | tail -1 | grep -Eo '^[0-9]+' || echo 0; }
unit=$(grep -Eho 'Checks: [0-9]+' tests/unit/run_unit.log tests/unit/run_unit_asan.log tests/unit/run_config.log | awk '{s+=$2} END {print s}')
sum() { { grep -Eo "[0-9]+ $1" "$2" || true; } | awk '{s+=$1} END {print s+0}'; }
ipass=$(count passed build/integration.out); ppass=$(count passed build/packaging.out)
iskip=$(count skipped build/integration.out); pskip=$(count skipped build/packaging.out)
mpass=$(sum passed build/integration-mpm.out); mskip=$(sum skipped build/integration-mpm.out)
stage "summary: unit checks $unit (plain + ASan), integration $ipass (event) + $mpass (worker, prefork), packaging $ppass, fuzz targets clean, load run $load"
echo "$((unit + ipass + mpass + ppass)) passed, 0 failed, $((iskip + mskip + pskip)) skipped"
