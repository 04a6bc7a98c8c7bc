#!/usr/bin/env bash
# The instruction budget (issue 24): instructions per cached request to a
# single-process httpd (-X) and per core RS256 validation (cached, cold),
# counted with valgrind --tool=callgrind and compared with the budgets in
# tests/bench/insn_budget.txt. Fails when a figure is more than 10% over its
# budget, naming the figure, the budget and the ratio. A count, not a time:
# the same on a busy machine as on a quiet one. About 2 minutes.
#
#   build/insn_budget.sh              # check (after a build)
#   build/insn_budget.sh --no-budget  # only print the figures
#
# Raising a budget is a reviewed commit that says why.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/deps.sh
if [ ! -f .libs/mod_conduktor_auth.so ]; then
    [ -x configure ] || autoreconf -fi >/dev/null 2>&1
    [ -f Makefile ] || ./configure >build/configure.out 2>&1
    make -j2 >build/make.out 2>&1
fi
make tests/bench/bench_core >build/insn_budget-make.out 2>&1 \
    || { tail -30 build/insn_budget-make.out; exit 1; }
if [ "${1:-}" = "--no-budget" ]; then
    shift
    exec /usr/bin/python3 tests/bench/insn_budget.py "$@"
fi
exec /usr/bin/python3 tests/bench/insn_budget.py --budgets tests/bench/insn_budget.txt "$@"
