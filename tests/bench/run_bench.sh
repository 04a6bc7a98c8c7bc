#!/usr/bin/env bash
# The benchmark of issue 5, in one command, from a clean checkout (root, Debian 12):
#
#   tests/bench/run_bench.sh                       # about 10 minutes on 2 cores
#   tests/bench/run_bench.sh --rounds 3 --skip perf,rss,callgrind \
#       --out tests/bench/RESULTS-2026-12-07.txt  # issue 24's run (README table)
#   tests/bench/run_bench.sh --out tests/bench/RESULTS.txt
#   tests/bench/run_bench.sh --rss-requests 1000000   # the full RSS-flatness run (+2 min)
#
# It installs what is missing (wrk, mod_auth_openidc, mod_oauth2, valgrind
# and the build dependencies; apt-get update only when something is missing),
# builds the module and the core micro-benchmark, then runs
# tests/bench/run_bench.py, which prints:
#   - the core micro-benchmark (validations/s cold and cached next to raw
#     OpenSSL EVP_DigestVerify/s) and callgrind instructions per validation;
#   - requests/s of one httpd config family (event MPM, same settings) in
#     eight variants, A no auth, B/C/D mod_conduktor_auth, E/F
#     mod_auth_openidc, G/H mod_oauth2, for a small local file and for a
#     request proxied to a local backend httpd, with the ratios B/A, C/A,
#     B/E, C/F, B/G, C/H and B (C) over the better of the two competitors
#     in each round, "B/best(E,G)" and "C/best(F,H)" (issue 13's figure);
#   - the RSS of each httpd child before and after a long run of distinct
#     tokens.
# Everything listens on 127.0.0.1 only. Options: tests/bench/run_bench.py --help.
set -euo pipefail
cd "$(dirname "$0")/../.."

CKA_EXTRA_PKGS="wrk libapache2-mod-auth-openidc libapache2-mod-oauth2 valgrind python3-cryptography procps" \
    bash build/deps.sh

if [ ! -x configure ]; then
    echo "== autoreconf"
    autoreconf -fi >/dev/null 2>&1
fi
if [ ! -f Makefile ]; then
    echo "== configure"
    ./configure >"${TMPDIR:-/tmp}/cka-bench-configure.out" 2>&1 || { tail -30 "${TMPDIR:-/tmp}/cka-bench-configure.out"; exit 1; }
fi
echo "== build (module, tests/bench/bench_core and tests/bench/bench_dpop)"
make -j2 >"${TMPDIR:-/tmp}/cka-bench-make.out" 2>&1 || { grep -E "error|warning" "${TMPDIR:-/tmp}/cka-bench-make.out" | head -40; exit 1; }
make tests/bench/bench_core tests/bench/bench_dpop >>"${TMPDIR:-/tmp}/cka-bench-make.out" 2>&1 || { tail -30 "${TMPDIR:-/tmp}/cka-bench-make.out"; exit 1; }

# The module of the main before the second wave (issue 24), built from
# `git archive` into a temporary directory once per machine (kept under
# ${TMPDIR:-/tmp}/cka-bench-747b18c/ for the next run): variants O and Q.
OLD=747b18c
OLD_DIR="${TMPDIR:-/tmp}/cka-bench-$OLD"
if [ -z "${CKA_OLD_MODULE:-}" ] && git rev-parse -q --verify "$OLD^{commit}" >/dev/null 2>&1; then
    if [ ! -f "$OLD_DIR/.libs/mod_conduktor_auth.so" ]; then
        echo "== build $OLD (variants O and Q) in $OLD_DIR"
        rm -rf "$OLD_DIR"
        mkdir -p "$OLD_DIR"
        git archive "$OLD" | tar -x -C "$OLD_DIR"
        (cd "$OLD_DIR" && autoreconf -fi && ./configure && make -j2) \
            >"${TMPDIR:-/tmp}/cka-bench-$OLD-make.out" 2>&1 \
            || { tail -30 "${TMPDIR:-/tmp}/cka-bench-$OLD-make.out"; exit 1; }
    fi
    export CKA_OLD_MODULE="$OLD_DIR/.libs/mod_conduktor_auth.so"
elif [ -z "${CKA_OLD_MODULE:-}" ]; then
    echo "== no git history with $OLD here: variants O and Q left out"
fi

exec /usr/bin/python3 tests/bench/run_bench.py "$@"
