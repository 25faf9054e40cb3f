#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# Installs what xenfit needs, builds it, and runs its main job: every shipped
# scenario (scenarios/*.json) under the three policies -- xapi before PR 6869,
# xapi after it, and xenfit -- on the simulated Xen host each one names, then a
# summary of the false admits, refusals and single-node placements.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${XF_BUILD_DIR:-$top/build}
"$top/scripts/install-deps.sh"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target xenfit >/dev/null
xf=$build/cli/xenfit

echo "== xenfit footprint: what xen-api's model (after PR 6869) says a VM needs"
"$xf" footprint --type hvm --static-max 4G --vcpus 4
echo
echo "== xenfit calibrate: the tightest line over PR 6869's measurements"
"$xf" calibrate "$top/tests/data/vcpu-overhead-pages.csv"

summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
for s in "$top"/scenarios/*.json; do
  echo
  echo "== xenfit sim run scenarios/$(basename "$s")"
  "$xf" sim run "$s" | sed -n '1p;/^policy /,$p'
  "$xf" sim run "$s" --json |
    jq -r '.scenario as $s | .runs[] | [$s, .policy, .totals.admitted, .totals.booted,
           .totals.refused, .totals.false_admits,
           "\(.totals.single_node)/\(.totals.fit_one_node)", .totals.drift_alarms] | @tsv' \
    >>"$summary"
done
echo
echo "== summary (false_admits: said yes, then the build failed)"
{
  printf 'scenario\tpolicy\tadmitted\tbooted\trefused\tfalse_admits\tsingle_node\tdrift\n'
  cat "$summary"
} | column -t -s $'\t'
