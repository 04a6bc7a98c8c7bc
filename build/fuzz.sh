#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ (clang, -fsanitize=fuzzer,address,undefined).
#
#   build/fuzz.sh [SECONDS]     build every target into build/fuzz-out/, replay
#                               tests/fuzz/regressions/, then fuzz each target
#                               for SECONDS (default 60) from a scratch copy of
#                               its seed corpus tests/fuzz/corpus/<target>/
#   build/fuzz.sh --regress     build, then run each target once over its seed
#                               corpus and tests/fuzz/regressions/<target>/*
#   build/fuzz.sh --build       build only
#
# A long run is the same command with more time, e.g. `build/fuzz.sh 3600`
# (FUZZ_JOBS=2 runs two targets at once on a two-core machine).
# Environment: FUZZ_TARGETS="fuzz_token fuzz_cors" picks targets;
# FUZZ_ARGS adds libFuzzer flags; FUZZ_KEEP_CORPUS=1 keeps the grown corpus
# in build/fuzz-out/corpus/<target>/ (the repository's seeds never change);
# FUZZ_SKIP_KNOWN=1 makes the targets skip the invariants of the open bugs
# listed in tests/fuzz/regressions/README.md (their regression inputs then
# pass too), to fuzz everything else for the whole time until those are fixed.
#
# Exit status 1 when any target crashed, leaked, hit a sanitizer report or a
# target's own invariant: the input is kept in
# build/fuzz-out/crashes/<target>/ and the log in build/fuzz-out/<target>.log.
# Copy a confirmed crash input to tests/fuzz/regressions/<target>/ so it is
# replayed on every run from then on.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=fuzz
SECONDS_EACH=60
case "${1:-}" in
    --regress) MODE=regress ;;
    --build) MODE=build ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    "") ;;
    *[!0-9]*) echo "usage: $0 [SECONDS | --regress | --build]" >&2; exit 2 ;;
    *) SECONDS_EACH=$1 ;;
esac

OUT=build/fuzz-out
ALL_TARGETS="fuzz_token fuzz_jwks fuzz_discovery fuzz_claim_path fuzz_cors fuzz_seal fuzz_credential fuzz_client_creds fuzz_audit fuzz_scope fuzz_introspect fuzz_dpop"
TARGETS=${FUZZ_TARGETS:-$ALL_TARGETS}
PKGS="apr-1 apr-util-1 jansson libcrypto libcurl"

# ---- toolchain ---------------------------------------------------------------
bash build/deps.sh
CC=${FUZZ_CC:-clang}
probe() {
    echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' \
        >"$OUT/probe.c"
    "$CC" -fsanitize=fuzzer,address,undefined "$OUT/probe.c" -o "$OUT/probe" >/dev/null 2>&1
}
mkdir -p "$OUT"
if ! command -v "$CC" >/dev/null || ! probe; then
    echo "== installing clang and its libFuzzer/sanitizer runtimes"
    if [ "$(id -u)" != 0 ]; then echo "need root to install clang" >&2; exit 1; fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    ver=$(apt-cache policy clang | sed -n 's/^  Candidate: 1:\([0-9]*\).*/\1/p')
    apt-get install -y -qq --no-install-recommends clang "libclang-rt-${ver:-14}-dev" >/dev/null
    probe || { echo "clang cannot link -fsanitize=fuzzer" >&2; exit 1; }
fi
rm -f "$OUT/probe" "$OUT/probe.c"

# ---- build -------------------------------------------------------------------
# The core sources are those of libckacore.la in Makefile.am.
CORE_SRCS=$(awk '/^libckacore_la_SOURCES/ {on=1} on {print} on && !/\\$/ {on=0}' Makefile.am \
            | tr ' \t\\' '\n\n\n' | grep '\.c$')
[ -n "$CORE_SRCS" ] || { echo "no libckacore_la_SOURCES in Makefile.am" >&2; exit 1; }
# shellcheck disable=SC2086
DEPS_CFLAGS=$(pkg-config --cflags $PKGS)
# shellcheck disable=SC2086
DEPS_LIBS=$(pkg-config --libs $PKGS)
CFLAGS="-g -O1 -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Wno-unused-parameter
        -fno-sanitize-recover=all -Isrc/core -Itests/fuzz $DEPS_CFLAGS"
echo "== building fuzz targets ($CC) into $OUT/"
mkdir -p "$OUT/obj"
OBJS=""
for src in $CORE_SRCS tests/fuzz/fuzz_common.c; do
    obj="$OUT/obj/$(basename "${src%.c}").o"
    # shellcheck disable=SC2086
    "$CC" $CFLAGS -fsanitize=fuzzer-no-link,address,undefined -c "$src" -o "$obj"
    OBJS="$OBJS $obj"
done
for t in $TARGETS; do
    # shellcheck disable=SC2086
    "$CC" $CFLAGS -fsanitize=fuzzer,address,undefined "tests/fuzz/$t.c" $OBJS $DEPS_LIBS \
        -o "$OUT/$t"
done
[ "$MODE" = build ] && { echo "built: $TARGETS"; exit 0; }

# ---- run -----------------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

max_len() {
    case $1 in
        fuzz_token) echo 17408 ;;      # past the 16 KiB token limit
        fuzz_jwks) echo 16384 ;;
        fuzz_cors) echo 1024 ;;
        fuzz_credential) echo 17408 ;;   # past the 16 KiB limit
        *) echo 4096 ;;
    esac
}

common_args() {
    local t=$1 args="-max_len=$(max_len "$t") -timeout=25 -rss_limit_mb=2560"
    [ -f "tests/fuzz/$t.dict" ] && args="$args -dict=tests/fuzz/$t.dict"
    echo "$args"
}

failed=""
summary=""

# Replay the seed corpus and every kept crash input once.
regress() {
    local t=$1 files=() log="$OUT/$t.regress.log"
    if [ -d "tests/fuzz/regressions/$t" ]; then
        while IFS= read -r -d '' f; do files+=("$f"); done \
            < <(find "tests/fuzz/regressions/$t" -type f ! -name '*.md' -print0 | sort -z)
    fi
    local n=${#files[@]} rc=0 bad=()
    # shellcheck disable=SC2046
    "$OUT/$t" $(common_args "$t") -runs=0 "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
    [ $rc -eq 0 ] || bad+=("seed corpus")
    # one run per kept input, so each failing one is named
    for f in ${files[@]+"${files[@]}"}; do
        # shellcheck disable=SC2046
        "$OUT/$t" $(common_args "$t") "$f" >>"$log" 2>&1 || bad+=("$f")
    done
    if [ ${#bad[@]} -gt 0 ]; then
        echo "FAIL  $t: ${#bad[@]} failing of seed corpus + $n regression input(s) (log: $log)"
        printf '      fails: %s\n' "${bad[@]}"
        grep -E 'ERROR|invariant|SUMMARY' "$log" | sort -u | tail -6 | sed 's/^/      /'
        failed="$failed $t(regress)"
    else
        echo "ok    $t: seed corpus and $n regression input(s) replayed"
    fi
}

fuzz() {
    local t=$1 log="$OUT/$t.log" work rc=0
    work="$OUT/corpus/$t"
    rm -rf "$work"
    mkdir -p "$work" "$OUT/crashes/$t"
    cp -r "tests/fuzz/corpus/$t/." "$work/"
    # shellcheck disable=SC2046,SC2086
    "$OUT/$t" $(common_args "$t") -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
        -artifact_prefix="$OUT/crashes/$t/" ${FUZZ_ARGS:-} "$work" >"$log" 2>&1 || rc=$?
    local execs cov
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
    [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ] || rm -rf "$work"
    if [ $rc -ne 0 ]; then
        echo "CRASH $t after ${execs:-?} executions (log: $log)"
        grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" | tail -8 | sed 's/^/      /'
        failed="$failed $t"
        summary="$summary$(printf '%-16s %12s executions  CRASH' "$t" "${execs:-?}")\n"
    else
        echo "ok    $t: ${execs:-?} executions in ${SECONDS_EACH} s ($cov)"
        summary="$summary$(printf '%-16s %12s executions  ok  %s' "$t" "${execs:-?}" "$cov")\n"
    fi
}

echo "== replaying seed corpora and tests/fuzz/regressions/"
for t in $TARGETS; do regress "$t"; done

if [ "$MODE" = fuzz ]; then
    echo "== fuzzing each target for ${SECONDS_EACH} s"
    if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
        # Parallel: each target in the background, summaries from the logs.
        pids=()
        for t in $TARGETS; do
            ( fuzz "$t" >"$OUT/$t.summary" ) &
            pids+=($!)
            while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do sleep 1; done
        done
        wait "${pids[@]}" || true
        for t in $TARGETS; do
            cat "$OUT/$t.summary"
            grep -q '^CRASH' "$OUT/$t.summary" && failed="$failed $t"
        done
    else
        for t in $TARGETS; do fuzz "$t"; done
        echo "== executions per target"
        printf "%b" "$summary"
    fi
fi

if [ -n "$failed" ]; then
    echo "FAILED:$failed (crash inputs in $OUT/crashes/)"
    exit 1
fi
echo "all fuzz targets clean"
