#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# Installs what xenfit needs, builds it, and runs its main job: every shipped
# scenario (scenarios/*.json) under the four policies -- xen-api before PR
# 6869, at its merge, as of February 2026, and xenfit -- on the simulated Xen
# host each one names, then one table of what happened, every column defined
# under it. scripts/readme-table.sh copies that table into README.md.
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

rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
for s in "$top"/scenarios/*.json; do
  echo
  echo "== xenfit sim run scenarios/$(basename "$s")"
  "$xf" sim run "$s" | sed -n '1p;/^policy /,$p'
  # One row per policy; the scenario's name leads the first.
  "$xf" sim run "$s" --json |
    jq -r '.scenario as $s | .runs | to_entries[] | .key as $i | .value as $r | $r.totals as $t |
           [ (if $i == 0 then $s else "" end),
             $r.policy, $t.requested, $t.booted, ($t.refused - $t.late_refusals), $t.late_refusals,
             $t.false_admits, "\($t.single_node)/\($t.requested_fit_one_node)",
             $t.reserved_unused_mib, $t.waits ]
           | "| " + (map(tostring) | join(" | ")) + " |"' >>"$rows"
done

echo
echo "== summary"
echo "<!-- demo-table:begin -->"
echo "| scenario | policy | requested | booted | refused | late refusal | false admit | on one node | unused MiB | waits |"
echo "|---|---|---|---|---|---|---|---|---|---|"
cat "$rows"
cat <<'EOF'

- **requested**: VMs asked for (started, rebooted, migrated in, resumed, or
  added by a fill), counted once each however long they waited; the other
  columns count out of it, and it is the same for every policy except where a
  fill stops early: a fill adds VMs until one is refused or fails, then one
  sized to the brim, so a policy whose build fails first is asked fewer times.
- **booted**: requests that ended with a running domain.
- **refused**: admission said no (HOST_NOT_ENOUGH_FREE_MEMORY with numbers),
  after waiting where that policy waits.
- **late refusal**: admitted, then stopped at build time before any guest
  memory was populated and reported as HOST_NOT_ENOUGH_FREE_MEMORY (xen-api's
  build-time free memory check; xenfit's claim of everything it populates).
- **false admit**: admitted, then the build failed with an internal error
  (a failed claim or populate): the failure a toolstack must not have.
- **on one node**: booted VMs whose memory ended on a single NUMA node, out
  of the requested VMs whose footprint fits the largest node.
- **unused MiB**: over booted VMs, memory reserved at admission but not taken.
- **waits**: requests that waited for memory still being returned by dying
  domains (xen-api never waits: its check gives up at once because Xen
  reports no memory being scrubbed).
<!-- demo-table:end -->
EOF
