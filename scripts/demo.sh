#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# Installs what xenfit needs, builds it, and runs its main job: for now a short
# demonstration of `xenfit footprint` (what xen-api computes for a VM) and
# `xenfit calibrate` (the overhead line from xen-api PR 6869's measurements).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${XF_BUILD_DIR:-$top/build}
"$top/scripts/install-deps.sh"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
xf=$build/cli/xenfit

run() { echo; echo "\$ xenfit $*"; "$xf" "$@"; }
echo "== How much host memory does a VM need? (xen-api's model, after PR 6869)"
run footprint --type hvm --static-max 4G --target 4G --vcpus 4
echo
echo "-- the same VM with 32 vCPUs: the per-vCPU term of PR 6869 (38 pages) matters"
run footprint --type hvm --static-max 4G --vcpus 32 --json
echo
echo "-- an incoming migration claims exactly what the VM used on its source"
run footprint --type hvm --static-max 4G --vcpus 4 --memory-total-source 4195328K --json
echo
echo "== Calibration: the tightest line over xen-api PR 6869's measurements"
run calibrate "$top/tests/data/vcpu-overhead-pages.csv"
