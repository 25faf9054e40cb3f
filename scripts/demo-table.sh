#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# The demo's results table: every shipped scenario under the four policies,
# one row per scenario and policy, every column defined under it, between
# <!-- demo-table:begin --> and <!-- demo-table:end --> markers.
# scripts/demo.sh prints it; scripts/readme-table.sh copies it into README.md;
# the cli-readme test checks README.md still matches it.
#
#   scripts/demo-table.sh XENFIT_BINARY
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
xf=${1:?usage: demo-table.sh XENFIT_BINARY}

rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
for s in "$top"/scenarios/*.json; do
  # One row per policy; the scenario's name leads the first.
  "$xf" sim run "$s" --json |
    jq -r '.scenario as $s | .runs | to_entries[] | .key as $i | .value as $r | $r.totals as $t |
           [ (if $i == 0 then $s else "" end),
             $r.policy, $t.requested, $t.booted, ($t.refused - $t.late_refusals), $t.late_refusals,
             $t.false_admits, "\($t.single_node)/\($t.requested_fit_one_node)",
             $t.reserved_unused_mib, $t.waits ]
           | "| " + (map(tostring) | join(" | ")) + " |"' >>"$rows"
done

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
