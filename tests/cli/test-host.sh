#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# CLI tests of `xenfit host show`: the xl info numbers of the xenbed host as
# measured on real Xen (shared/xenbed/README.md), the planner snapshot of
# every shipped host, and the refusal of malformed specs naming the field.
set -u
XF=${1:?usage: test-host.sh XENFIT_BINARY}
DATA=${XF_TEST_DATA:-$(dirname "$0")/../data}
HOSTS=$(dirname "$0")/../../hosts
. "$(dirname "$0")/lib.sh"

# xl info / xl info -n on xenbed: total 4095, free 3027, node memfree 1740 and 1287.
out=$("$XF" host show --host "$HOSTS/xenbed-2node.json")
expect_match "total_memory" "$out" "^total_memory +: 4095$"
expect_match "free_memory" "$out" "^free_memory +: 3027$"
expect_match "outstanding_claims" "$out" "^outstanding_claims +: 0$"
expect_match "nr_cpus" "$out" "^nr_cpus +: 4$"
expect_match "node 0" "$out" "^   0: +2048 +1740 +0 +10,21$"
expect_match "node 1" "$out" "^   1: +2048 +1287 +0 +21,10$"
expect_match "cpu 3" "$out" "^  3: +1 +1 +1$"
# xenfit's lines: reserve 64, free for new VMs (775165 - 16384) / 256 = 2963.
expect_match "reserve" "$out" "^low_mem_reserve +: 64$"
expect_match "host free" "$out" "^free_for_new_vms +: 2963$"

# --json: the planner's four keys first, then the extras.
js=$("$XF" host show --host "$HOSTS/xenbed-2node.json" --json)
expect_eq "json keys" "$(jq -c 'keys_unsorted' <<<"$js")" \
  '["distances","cpu_to_node","node_cores","node_free_mib","name","backend","total_mib","free_mib","outstanding_claims_mib","low_mem_reserve_mib","host_free_mib","node_memsize_mib","node_memfree_mib","node_claimed_mib","node_dma_free_mib"]'
expect_eq "distances" "$(jq -c .distances <<<"$js")" '[[10,21],[21,10]]'
expect_eq "cpu_to_node" "$(jq -c .cpu_to_node <<<"$js")" '[0,0,1,1]'
expect_eq "node_cores" "$(jq -c .node_cores <<<"$js")" '[2,2]'
# Node 0: (445643 - 114432 DMA) / 256 = 1293; node 1: 329522 / 256 = 1287.
# The 64 MiB reserve is covered by the 447 MiB DMA zone.
expect_eq "node_free_mib" "$(jq -c .node_free_mib <<<"$js")" '[1293,1287]'
expect_eq "node_dma_free_mib" "$(jq -c .node_dma_free_mib <<<"$js")" '[447,0]'
expect_eq "totals" "$(jq -c '[.total_mib,.free_mib,.host_free_mib,.low_mem_reserve_mib]' <<<"$js")" \
  '[4095,3027,2963,64]'

# Every shipped host: a well-formed snapshot of the right shape.
for spec in "$HOSTS"/*.json; do
  js=$("$XF" host show --host "$spec" --json)
  n=$(jq '.distances | length' <<<"$js")
  expect_eq "$(basename "$spec") square" "$(jq "[.distances[] | length == $n] | all" <<<"$js")" true
  expect_eq "$(basename "$spec") per node" \
    "$(jq "[.node_cores, .node_free_mib, .node_memfree_mib] | map(length == $n) | all" <<<"$js")" true
  expect_eq "$(basename "$spec") cpus" "$(jq "[.cpu_to_node[] | . < $n] | all" <<<"$js")" true
done
# The 2-socket host: xen-api's 10/11/21 SLIT, 8 cores per node, 64 CPUs.
js=$("$XF" host show --host "$HOSTS/2socket-4node.json" --json)
expect_eq "4node slit" "$(jq -c '.distances[0]' <<<"$js")" '[10,11,21,21]'
expect_eq "4node cores" "$(jq -c '.node_cores' <<<"$js")" '[8,8,8,8]'
expect_eq "4node cpus" "$(jq '.cpu_to_node | length' <<<"$js")" 64
expect_eq "32node" "$("$XF" host show --host "$HOSTS/32node.json" --json | jq '.distances | length')" 32

# Malformed specs: exit 2, one line naming the field, nothing on stdout.
expect_fail "cpu on two nodes" 2 "nodes[1].cpus[0]: CPU 1 is also on node 0" \
  "$XF" host show --host "$DATA/hosts/bad-cpu-two-nodes.json"
expect_fail "non-square slit" 2 "distances[1]: must be a row of 2" \
  "$XF" host show --host "$DATA/hosts/bad-slit-not-square.json"
expect_fail "negative memory" 2 "nodes[0].memory_mib: must not be negative" \
  "$XF" host show --host "$DATA/hosts/bad-negative-memory.json"
expect_fail "unknown key" 2 "nodes[0].colour: unknown key" \
  "$XF" host show --host "$DATA/hosts/bad-unknown-key.json"
expect_fail "syntax" 2 "bad-syntax.json:2: not valid JSON" \
  "$XF" host show --host "$DATA/hosts/bad-syntax.json"
expect_fail "missing file" 2 "cannot open" "$XF" host show --host /nonexistent.json
expect_fail "no --host" 2 "backend 'sim' needs a host spec (--host SPEC.json)" "$XF" host show
expect_fail "no show" 2 "expected 'show'" "$XF" host frob
expect_fail "unknown backend" 2 "backend 'frob': unknown (built in: " \
  "$XF" host show --backend frob --host "$HOSTS/1node.json"
expect_fail "unknown option" 2 "'--frob'" "$XF" host show --frob
expect_fail "stray argument" 2 "'extra'" "$XF" host show --host "$HOSTS/1node.json" extra

# --help.
expect_match "help" "$("$XF" host --help)" "xenfit host show --host SPEC.json"

# "-" reads the spec from stdin; a directory is named as one.
expect_eq "spec from stdin" "$("$XF" host show --host - <"$DATA/hosts/daemon-2node.json" | sed -n 7p)" \
  "total_memory           : 16384"
expect_eq "stdin = file" "$("$XF" host show --host - <"$DATA/hosts/daemon-2node.json" | sed 1d)" \
  "$("$XF" host show --host "$DATA/hosts/daemon-2node.json" | sed 1d)"
expect_fail "spec is a directory" 2 "'$DATA/hosts' is a directory" "$XF" host show --host "$DATA/hosts"
finish
