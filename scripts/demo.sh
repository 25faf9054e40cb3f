#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# Installs what xenfit needs, builds it, and runs its main job: every shipped
# scenario (scenarios/*.json) under the four policies -- xen-api before PR
# 6869, at its merge, as of February 2026, and xenfit -- on the simulated Xen
# host each one names, then one table of what happened, every column defined
# under it (scripts/demo-table.sh). scripts/readme-table.sh copies that table
# into README.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${XF_BUILD_DIR:-$top/build}
"$top/scripts/install-deps.sh"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# What the README's commands run after this: the CLI and the daemon
# (tests/ops/test-demo-targets.sh checks that the README names no other).
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target xenfit xenfitd >/dev/null
xf=$build/cli/xenfit

echo "== xenfit footprint: what xen-api's model (after PR 6869) says a VM needs"
"$xf" footprint --type hvm --static-max 4G --vcpus 4
echo
echo "== xenfit calibrate: the tightest line over PR 6869's measurements"
"$xf" calibrate "$top/tests/data/vcpu-overhead-pages.csv"

for s in "$top"/scenarios/*.json; do
  echo
  echo "== xenfit sim run scenarios/$(basename "$s")"
  "$xf" sim run "$s" | sed -n '1p;/^policy /,$p'
done

echo
echo "== summary"
"$top/scripts/demo-table.sh" "$xf"
