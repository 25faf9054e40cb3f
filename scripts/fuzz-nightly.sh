#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# The nightly fuzz run of xenfitd's request path (fuzz/fuzz-rpc.c): builds the
# libFuzzer target (clang, ASan + UBSan) and runs it until it has executed
# FUZZ_RUNS inputs (default 10,000,000) from the shipped seeds and a corpus
# that persists between nights. CI keeps its bounded 20 s run (scripts/test.sh).
# Exit status: 0 when the runs completed without a crash, non-zero otherwise
# (the crashing input is left as crash-* in FUZZ_DIR/artifacts).
#   FUZZ_RUNS=10000000 FUZZ_DIR=/var/tmp/xenfit-fuzz scripts/fuzz-nightly.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${XF_FUZZ_DIR:-$top/build-fuzz}
runs=${FUZZ_RUNS:-10000000}
work=${FUZZ_DIR:-$top/build-fuzz/nightly}

"$top/scripts/install-deps.sh"
CC=clang cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXF_WERROR=ON \
  -DXF_SANITIZE=ON -DXF_FUZZ=ON -DXF_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target fuzz-rpc
mkdir -p "$work/corpus" "$work/artifacts"
start=$(date +%s)
"$build/fuzz/fuzz-rpc" -runs="$runs" -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" "$top/fuzz/corpus-rpc" 2>"$work/last.log" || {
  tail -40 "$work/last.log" >&2
  exit 1
}
grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec' "$work/last.log"
echo "fuzz-nightly: $runs inputs in $(($(date +%s) - start)) s, no crash; corpus in $work/corpus"
