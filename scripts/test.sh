#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# Installs what xenfit needs, builds it with warnings as errors, and runs every
# test: formatting, the full ctest suite, then the unit and contract tests
# again under AddressSanitizer + UndefinedBehaviorSanitizer.
# The static checks follow the first build: clang-tidy (.clang-tidy) over
# its compile_commands.json, library, CLI, daemon and tests, then clang's
# static analyzer (scan-build) over a build of the library, CLI and daemon;
# any finding fails. Then the libFuzzer targets of xenfitd's request parser
# and its message-switch reader run for a bounded time (clang, ASan). The full run ends with ctest over everything, the
# real-Xen tier included (it skips loudly where the test bed cannot be built).
# Build trees: build-ci/, build-asan/, build-fuzz/, build-scan/ (override with
# XF_BUILD_DIR, XF_ASAN_DIR, XF_FUZZ_DIR, XF_SCAN_DIR).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
build=${XF_BUILD_DIR:-$top/build-ci}
asan=${XF_ASAN_DIR:-$top/build-asan}
fuzz=${XF_FUZZ_DIR:-$top/build-fuzz}
scan=${XF_SCAN_DIR:-$top/build-scan}

"$top/scripts/install-deps.sh"

echo "== format: clang-format on every C file"
"$top/scripts/check-format.sh"

echo "== build ($build, -Werror)"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXF_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs"

echo "== clang-tidy (.clang-tidy) over $build/compile_commands.json"
if ! run-clang-tidy -p "$build" -j"$jobs" -quiet >"$build/clang-tidy.log" 2>&1; then
  grep -E -A3 '(warning|error): ' "$build/clang-tidy.log" || cat "$build/clang-tidy.log"
  echo "clang-tidy: findings above (full log: $build/clang-tidy.log)" >&2
  exit 1
fi
echo "clang-tidy: no finding"

echo "== static analyzer (scan-build) over the library, CLI and daemon ($scan)"
scan-build -o "$scan/report" cmake -S "$top" -B "$scan" -DCMAKE_BUILD_TYPE=Debug \
  -DXF_BUILD_TESTS=OFF -DXF_BUILD_BENCH=OFF >/dev/null
# --clean-first: every file is analyzed again, not only the changed ones.
scan-build -o "$scan/report" --status-bugs cmake --build "$scan" -j"$jobs" --clean-first

echo "== build ($asan, ASan + UBSan)"
cmake -S "$top" -B "$asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXF_WERROR=ON -DXF_SANITIZE=ON \
  -DXF_BUILD_BENCH=OFF >/dev/null
cmake --build "$asan" -j"$jobs"

echo "== tests under ASan + UBSan (unit, contract, scenario, daemon)"
XF_SCENARIO_RUNS=100 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$asan" --output-on-failure -j"$jobs" -L 'unit|contract|scenario|daemon'

echo "== fuzz: xenfitd's request parser and dispatcher, and its message-switch reader, 20 s each (docs/daemon.md: longer runs)"
CC=clang cmake -S "$top" -B "$fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXF_WERROR=ON \
  -DXF_SANITIZE=ON -DXF_FUZZ=ON -DXF_BUILD_BENCH=OFF >/dev/null
cmake --build "$fuzz" -j"$jobs" --target fuzz-rpc fuzz-mswitch
ctest --test-dir "$fuzz" --output-on-failure -L fuzz

echo "== all tests"
ctest --test-dir "$build" --output-on-failure -j"$jobs"
