#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
#
# Remeasures the PV ground truth kept in the repo,
# tests/data/xen/pv-overhead-4.17.csv: one boot of the real-Xen test bed
# running only xen-pv-overhead in its measure mode (PV guests of 128 MiB to
# 1 GiB with 1 to 32 vCPUs, each alone, then side by side), and writes the
# table with a header saying how it was measured, then fits it with
# `xenfit calibrate`. Takes 3-6 minutes. Not part of the test run.
#
# Usage: tests/xen/measure-pv-overhead.sh BUILD_DIR [OUT.csv]
#   BUILD_DIR  a build tree with the real-Xen backend (cmake --build BUILD_DIR)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:?usage: measure-pv-overhead.sh BUILD_DIR [OUT.csv]}
out=${2:-$top/tests/data/xen/pv-overhead-4.17.csv}
results=$build/tests/xen/xenbed-measure
for f in cli/xenfit tests/test-hv-contract tests/xen/test-xen-backend tests/xen/xf-xenprobe; do
  [ -x "$build/$f" ] || { echo "no $build/$f: build the tree first (with libxen-dev)" >&2; exit 1; }
done

bash "$here/run-tier.sh" --source "$top" --results "$results" --mode measure \
  --only pv-overhead --xenfit "$build/cli/xenfit" --bin "$build/tests/test-hv-contract" \
  --bin "$build/tests/xen/test-xen-backend" --bin "$build/tests/xen/xf-xenprobe"
csv=$results/files/pv-overhead.csv
[ "$(cat "$results/tests/pv-overhead.rc" 2>/dev/null)" = 0 ] && [ -s "$csv" ] || {
  echo "the measurement failed: see $results/tests/pv-overhead.log" >&2
  exit 1
}
xen=$(tr -d '\r' <"$results/boot/channel.log" | sed -n 's/^XF-RUN .*versions=xen \([^ ]*\) kernel \([^ ]*\).*/\1 (kernel \2)/p')
{
  cat <<EOF
# PV domain overhead on Xen 4.17, measured in xenfit's real-Xen test bed
# (tests/xen/, docs/real-xen.md) by tests/xen/measure-pv-overhead.sh on
# $(date -u +%Y-%m-%d): Debian Xen $xen under QEMU TCG; a 4 GiB
# host in two 2 GiB NUMA nodes, 4 CPUs, a 1 GiB PV dom0 with 2 vCPUs.
# Each row is one PV guest built paused with \`xl create -p\` (the bed's Debian
# kernel and busybox initramfs; memory = maxmem = memory_mib). took_pages is
# host free pages (xc_physinfo) before minus after, each read once three reads
# 100 ms apart agree; tot_pages is the guest's own (memory_mib * 256);
# overhead_pages = took_pages - tot_pages: Xen's pages for the domain and its
# vCPUs, outside tot_pages. Series: pv-cold, the first guest after Xen booted;
# pv-paused, each guest alone on the host (destroyed before the next);
# pv-alongside, guests kept side by side, each measured against the host as
# the previous ones left it. \`xenfit calibrate\` reads vcpus, overhead_pages and
# series and ignores the other columns.
EOF
  cut -d, -f1-9 "$csv"
} >"$out"
echo "wrote $out ($(($(grep -vc '^#' "$out") - 1)) rows)"
"$build/cli/xenfit" calibrate "$out"
