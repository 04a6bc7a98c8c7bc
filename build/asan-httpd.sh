#!/usr/bin/env bash
# The integration suite against the module built with AddressSanitizer and
# UBSan, loaded into the real httpd (libasan preloaded into apache2 only):
# memory errors under real concurrency (threads of the event MPM), which
# valgrind's single-process run (test_valgrind.py) cannot show.
#
#   bash build/asan-httpd.sh                 # about 8 minutes
#   bash build/asan-httpd.sh -k test_tokens  # extra arguments go to pytest
#
# The module is built in a copy of the sources in build/asan/obj (the normal
# build is not touched). Sanitizer reports go to build/asan/reports/; the run fails when
# there is one, or when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
bash build/deps.sh
OUT=$TOP/build/asan
rm -rf "$OUT"
mkdir -p "$OUT/obj" "$OUT/reports"
chmod 1777 "$OUT/reports"           # httpd children run as nobody
echo "== building the module with -fsanitize=address,undefined (build/asan/)"
tar -C "$TOP" -cf - configure.ac Makefile.am mod_conduktor_auth.c src build/packaging.mk \
    README.md | tar -C "$OUT/obj" -xf -
mkdir -p "$OUT/obj/build/m4" "$OUT/obj/build/aux"
(cd "$OUT/obj" && autoreconf -fi >/dev/null 2>&1 && ./configure --enable-werror \
    CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
    LDFLAGS="-fsanitize=address,undefined" >"$OUT/configure.out" 2>&1 \
    && make -j2 mod_conduktor_auth.la >"$OUT/make.out" 2>&1) \
    || { tail -30 "$OUT"/*.out; exit 1; }
LIBASAN=$(gcc -print-file-name=libasan.so)
echo "== integration tests, httpd with LD_PRELOAD=$LIBASAN"
rc=0
CKA_MODULE="$OUT/obj/.libs/mod_conduktor_auth.so" CKA_HTTPD_PRELOAD="$LIBASAN" \
ASAN_OPTIONS="detect_leaks=0:log_path=$OUT/reports/asan" \
UBSAN_OPTIONS="print_stacktrace=1:log_path=$OUT/reports/ubsan" \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration \
    --ignore=tests/integration/test_valgrind.py --ignore=tests/integration/test_browser.py \
    "$@" || rc=$?
reports=$(ls "$OUT/reports" | wc -l)
if [ "$reports" != 0 ]; then
    echo "== $reports sanitizer report(s):"
    head -60 "$OUT"/reports/*
    exit 1
fi
echo "== no sanitizer report"
exit $rc
