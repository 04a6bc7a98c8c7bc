#!/usr/bin/env bash
# Load and faults (issue 6, item 4), a separate command (about 3 minutes):
#
#   tests/load/run_load.sh                              # the full run
#   tests/load/run_load.sh --out tests/load/RESULTS.txt # and keep the report
#   tests/load/run_load.sh --duration 20 --graceful 7,14 --phase2 70   # shorter
#
# Root on Debian 12. Installs what is missing with apt-get (wrk, apache2,
# python3-jwcrypto, python3-cryptography), builds the module when it is not
# built yet, then runs tests/load/run_load.py, which on 127.0.0.1 only:
#   phase 1  60 s of wrk (2 threads, 64 connections, tests/load/load.lua)
#            against an httpd (event MPM) with the module protecting a
#            proxied location and a static file, rotating through valid,
#            expired, forged and malformed tokens, with `apache2 -k graceful`
#            at 20 s and 40 s;
#   phase 2  75 s the same with the keys of an issuer fetched from the TLS
#            test IdP (tests/idp/idp_server.py), which is stopped 5 s in: the
#            key set turns stale while the IdP is down, valid tokens must keep
#            passing;
#   replay   then tests/load/replay_load.py: 30 s of the same bearer load while
#            bursts of 16 copies of one DPoP proof are sent every 0.25 s, a
#            graceful restart in the middle and every proof replayed at the
#            end: each proof accepted exactly once;
# and prints a summary table (requests, req/s, answers per token kind from
# wrk and from the access log, socket errors, graceful restarts, IdP-down
# phase). Exit status 0 only when there is no 5xx, no socket error, every
# answer is right for its token kind, both graceful restarts happened without
# a failed request and valid tokens kept passing with the IdP down.
# Everything stops by itself (wrk -d, timeouts, an overall alarm); the
# temporary directory /tmp/cka-load-* is removed (--keep keeps it).
# Options: tests/load/run_load.py --help.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=""
command -v wrk >/dev/null 2>&1 || need="$need wrk"
[ -x /usr/sbin/apache2 ] || need="$need apache2"
/usr/bin/python3 -c 'import jwcrypto' 2>/dev/null || need="$need python3-jwcrypto"
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || need="$need python3-cryptography"
if [ -n "$need" ]; then
    echo "== installing:$need"
    if [ "$(id -u)" != 0 ]; then echo "need root to install:$need" >&2; exit 1; fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

if [ ! -f .libs/mod_conduktor_auth.so ] && [ -z "${CKA_MODULE:-}" ]; then
    echo "== building the module"
    bash build/deps.sh
    [ -x configure ] || autoreconf -fi >/dev/null 2>&1
    [ -f Makefile ] || ./configure >"${TMPDIR:-/tmp}/cka-load-configure.out" 2>&1 \
        || { tail -30 "${TMPDIR:-/tmp}/cka-load-configure.out"; exit 1; }
    make -j2 >"${TMPDIR:-/tmp}/cka-load-make.out" 2>&1 \
        || { grep -E "error|warning" "${TMPDIR:-/tmp}/cka-load-make.out" | head -40; exit 1; }
fi

rc=0
/usr/bin/python3 tests/load/run_load.py "$@" || rc=$?
# DPoP proof-replay bursts under load, about 45 s (tests/load/replay_load.py):
# every proof accepted exactly once, across a graceful restart.
/usr/bin/python3 tests/load/replay_load.py --duration 30 || rc=1
exit $rc
