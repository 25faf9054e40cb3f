#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# Installs what xenfit needs, builds it with warnings as errors, and runs every
# test: formatting, the full ctest suite, then the unit and contract tests
# again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Build trees: build-ci/ and build-asan/ (override with XF_BUILD_DIR/XF_ASAN_DIR).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
build=${XF_BUILD_DIR:-$top/build-ci}
asan=${XF_ASAN_DIR:-$top/build-asan}

"$top/scripts/install-deps.sh"

echo "== format: clang-format on every C file"
"$top/scripts/check-format.sh"

echo "== build ($build, -Werror)"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXF_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs"

echo "== build ($asan, ASan + UBSan)"
cmake -S "$top" -B "$asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXF_WERROR=ON -DXF_SANITIZE=ON \
  -DXF_BUILD_BENCH=OFF >/dev/null
cmake --build "$asan" -j"$jobs"

echo "== tests under ASan + UBSan (unit, contract, scenario)"
XF_SCENARIO_RUNS=100 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$asan" --output-on-failure -j"$jobs" -L 'unit|contract|scenario'

echo "== all tests"
ctest --test-dir "$build" --output-on-failure -j"$jobs"
