#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# CLI tests of `xenfit plan`: the JSON shape the issue gives, plans worked out
# by hand on the fixtures in tests/data/topologies/, sequences, policies,
# modes, NUMA off, no-fit reasons, the table, and bad input (exit 2 naming
# the offending value).
set -u
XF=${1:?usage: test-plan.sh XENFIT_BINARY}
. "$(dirname "$0")/lib.sh"
T=${XF_TEST_DATA:-$(dirname "$0")/../data}/topologies

# The issue's example host: 2 nodes of 2 CPUs, 1 core, 16 GiB. best_effort
# wants 2 cores for 2 vCPUs: both nodes, 4096 MiB each.
out=$("$XF" plan --topology "$T/two-node.json" --vm vcpus=2,memory=8G --json)
expect_eq "exit 0 when all fit" "$?" 0
expect_eq "placement keys" "$(jq -c '.placements[0] | [has("fits","nodes","cpus","memory_mib_per_node","max_distance","avg_distance")] | all' <<<"$out")" true
expect_eq "two-node plan" "$(jq -c '.placements[0] | [.fits,.nodes,.cpus,.memory_mib_per_node,.max_distance,.avg_distance]' <<<"$out")" \
  '[true,[0,1],[0,1,2,3],{"0":4096,"1":4096},21,15.5]'
expect_eq "extras" "$(jq -c '[.numa,.policy,.mode,.placements[0].affinity,.node_free_mib_after]' <<<"$out")" \
  '["on","best_effort","xenfit","soft",[12288,12288]]'
# prio_mem_only has no cores requirement: one node.
expect_eq "prio_mem_only" "$("$XF" plan --topology "$T/two-node.json" --vm vcpus=2,memory=8G --policy prio_mem_only --json | jq -c '.placements[0].nodes')" "[0]"
# An explicit cores= overrides the policy's.
expect_eq "cores=1" "$("$XF" plan --topology "$T/two-node.json" --vm vcpus=2,memory=8G,cores=1 --json | jq -c '.placements[0] | [.nodes,.cores]')" "[[0],1]"

# 16 nodes, 20 vCPUs / 40 GiB: three consecutive nodes, 40960 = 13654 + 2 * 13653
# (the extra MiB to the lowest node), max 32, avg 178/9.
out=$("$XF" plan --topology "$T/linear-16.json" --vm vcpus=20,memory=40G --json)
expect_eq "3-node split" "$(jq -c '.placements[0] | [.nodes,.memory_mib_per_node,.max_distance]' <<<"$out")" \
  '[[0,1,2],{"0":13654,"1":13653,"2":13653},32]'
expect_eq "3-node avg" "$(jq '.placements[0].avg_distance * 1000 | round' <<<"$out")" 19778
expect_eq "3-node cpus" "$(jq -c '.placements[0].cpus | [length, min, max]' <<<"$out")" "[24,0,23]"
expect_match "table" "$("$XF" plan --topology "$T/linear-16.json" --vm vcpus=20,memory=40G)" \
  "0:13654,1:13653,2:13653 +0-23 +32 +19.78"

# The issue's sequence: 4 nodes, 8 VMs that each fill half a node: all
# single-node, round the nodes twice, nothing left.
vms=()
for i in 1 2 3 4 5 6 7 8; do vms+=(--vm vcpus=4,memory=8G); done
for mode in xenfit xenopsd; do
  out=$("$XF" plan --topology "$T/linear-4.json" "${vms[@]}" --mode $mode --json)
  expect_eq "sequence $mode" "$(jq -c '[.placements[].nodes | length] + [.placements[].nodes[0]]' <<<"$out")" \
    "[1,1,1,1,1,1,1,1,0,1,2,3,0,1,2,3]"
  expect_eq "sequence $mode left" "$(jq -c .node_free_mib_after <<<"$out")" "[0,0,0,0]"
done

# Nothing fits: the numbers, exit 1.
out=$("$XF" plan --topology "$T/linear-4.json" --vm vcpus=4,memory=8G --vm vcpus=40,memory=70000 --json)
expect_eq "exit 1 when one does not fit" "$?" 1
expect_eq "no fit" "$(jq -c '.placements[1] | [.fits, .placement, .shortfall.memory_mib_needed, .shortfall.host_free_mib, .shortfall.best_node, .shortfall.best_node_free_mib, .shortfall.host_cpus, .shortfall.memory, .shortfall.cpus, .shortfall.cores]' <<<"$out")" \
  "[false,\"none\",70000,57344,1,16384,32,true,true,true]"
expect_match "no fit reason" "$(jq -r '.placements[1].reason' <<<"$out")" \
  "needs 70000 MiB, 40 vCPUs, 40 cores; the best node \(1\) has 16384 MiB free, the host 57344 MiB free, 32 CPUs, 32 cores \(short of memory, CPUs, cores\)"
expect_match "no fit table" "$("$XF" plan --topology "$T/linear-4.json" --vm vcpus=4,memory=70000)" "no +none +does not fit"

# Policy any: Xen interleaves over every node, in proportion to free memory.
out=$("$XF" plan --topology "$T/memory-only-node.json" --vm vcpus=2,memory=5300 --policy any --json)
expect_eq "any" "$(jq -c '.placements[0] | [.placement,.affinity,.nodes,.memory_mib_per_node]' <<<"$out")" \
  '["interleave","none",[0,1,2],{"0":408,"1":1631,"2":3261}]'
# A node with memory and no CPUs: {0,2} (distance 17) for 4 vCPUs / 20 GiB;
# 20480 * 4096 / 36864 = 2275.6 and * 32768 / 36864 = 18204.4: 2276 + 18204.
out=$("$XF" plan --topology "$T/memory-only-node.json" --vm vcpus=4,memory=20G --json)
expect_eq "memory-only node" "$(jq -c '.placements[0] | [.nodes,.cpus,.memory_mib_per_node,.max_distance]' <<<"$out")" \
  '[[0,2],[0,1,2,3],{"0":2276,"2":18204},17]'

# Unreachable nodes are never used: only 0 and 2 (20 apart).
out=$("$XF" plan --topology "$T/unreachable.json" --vm vcpus=1,memory=12000 --vm vcpus=1,memory=1000 --json)
expect_eq "unreachable" "$(jq -c '[.placements[].nodes]' <<<"$out")" "[[0,2],[0]]"

# Past 16 nodes: xenopsd's mode tries single nodes only; xenfit finds three.
expect_eq "32 nodes xenfit" "$("$XF" plan --topology "$T/linear-32.json" --vm vcpus=20,memory=40G --json | jq -c '.placements[0] | [.nodes, .exhaustive]')" "[[0,1,2],true]"
expect_eq "32 nodes proven" "$("$XF" plan --topology "$T/linear-32.json" --vm vcpus=20,memory=40G --json | jq -c '.placements[0] | [.proven, .gap_bound]')" '[true,{"max_distance":0,"avg_distance":0}]'
# 10 of 64 nodes in groups of 8 (16 within, 22 across): 8 + 2 of two groups
# (avg 17.32) is the best, but the search stops at its budget and says how
# far the best could be: its bound is 1540 / 100 = 15.40, a gap of 1.92.
out=$("$XF" plan --topology "$T/grid8x8-64.json" --vm vcpus=8,memory=160G --json)
expect_eq "64 nodes not proven" "$(jq -c '.placements[0] | [.nr_nodes // (.nodes | length), .max_distance, .avg_distance, .proven, .gap_bound]' <<<"$out")" '[10,22,17.32,false,{"max_distance":0,"avg_distance":1.92}]'
expect_match "64 nodes not proven (table)" "$("$XF" plan --topology "$T/grid8x8-64.json" --vm vcpus=8,memory=160G)" "not proven best: the best may have a max down to 22, an average down to 15.40"
out=$("$XF" plan --topology "$T/linear-64.json" --vm vcpus=20,memory=40G --mode xenopsd --json)
expect_eq "64 nodes xenopsd exit" "$?" 1
expect_match "64 nodes xenopsd" "$(jq -r '.placements[0].reason' <<<"$out")" "xenopsd's mode tries only single nodes"

# An invalid SLIT: placement off, and the answer says why.
out=$("$XF" plan --topology "$T/slit-bad-diagonal.json" --vm vcpus=1,memory=512 --json)
expect_eq "numa off" "$(jq -c '[.numa, .placements[0].fits, .placements[0].placement]' <<<"$out")" '["off",false,"off"]'
expect_match "numa off reason" "$(jq -r '.numa_reason' <<<"$out")" "distances\[1\]\[1\] = 11"
expect_match "numa off table" "$("$XF" plan --topology "$T/slit-below-10.json" --vm vcpus=1,memory=512)" "NUMA placement is off: .*distances\[0\]\[1\] = 9 is below 10"

# Bad input: exit 2 with the offending field.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '{"distances":[[10,21],[21]],"cpu_to_node":[0],"node_cores":[1,1],"node_free_mib":[1,1]}' >"$tmp/square.json"
printf '{"distances":[[10]],"cpu_to_node":[3],"node_cores":[1],"node_free_mib":[1]}' >"$tmp/cpu.json"
printf '{"distances":[[10]]' >"$tmp/trunc.json"
expect_fail "missing --topology" 2 "--topology is required" "$XF" plan --vm vcpus=1,memory=1G
expect_fail "missing --vm" 2 "at least one --vm" "$XF" plan --topology "$T/two-node.json"
expect_fail "bad vcpus" 2 "vcpus 'x'" "$XF" plan --topology "$T/two-node.json" --vm vcpus=x,memory=1G
expect_fail "zero vcpus" 2 "vcpus '0'" "$XF" plan --topology "$T/two-node.json" --vm vcpus=0,memory=1G
expect_fail "bad memory" 2 "memory '1.5G': a fraction" "$XF" plan --topology "$T/two-node.json" --vm vcpus=1,memory=1.5G
expect_fail "zero memory" 2 "memory '0'" "$XF" plan --topology "$T/two-node.json" --vm vcpus=1,memory=0
expect_fail "bad cores" 2 "cores '-1'" "$XF" plan --topology "$T/two-node.json" --vm vcpus=1,memory=1G,cores=-1
expect_fail "unknown key" 2 "unknown key 'disk'" "$XF" plan --topology "$T/two-node.json" --vm vcpus=1,memory=1G,disk=2
expect_fail "no memory" 2 "vcpus= and memory= are required" "$XF" plan --topology "$T/two-node.json" --vm vcpus=1
expect_fail "not key=value" 2 "'vcpus' is not key=value" "$XF" plan --topology "$T/two-node.json" --vm vcpus
expect_fail "bad policy" 2 "--policy 'strict'" "$XF" plan --topology "$T/two-node.json" --vm vcpus=1,memory=1G --policy strict
expect_fail "bad mode" 2 "--mode 'libxl'" "$XF" plan --topology "$T/two-node.json" --vm vcpus=1,memory=1G --mode libxl
expect_fail "missing file" 2 "cannot open" "$XF" plan --topology "$tmp/nope.json" --vm vcpus=1,memory=1G
expect_fail "not square" 2 "distances[1]: 1 entries, expected 2" "$XF" plan --topology "$tmp/square.json" --vm vcpus=1,memory=1G
expect_fail "cpu node" 2 "cpu_to_node[0] = 3" "$XF" plan --topology "$tmp/cpu.json" --vm vcpus=1,memory=1G
expect_fail "not json" 2 "not JSON" "$XF" plan --topology "$tmp/trunc.json" --vm vcpus=1,memory=1G
expect_fail "stray argument" 2 "'extra'" "$XF" plan --topology "$T/two-node.json" --vm vcpus=1,memory=1G extra
expect_fail "unknown flag" 2 "'--frob'" "$XF" plan --topology "$T/two-node.json" --vm vcpus=1,memory=1G --frob

# A plan that cannot place says why with the numbers, in the table too.
expect_match "no fit numbers" "$("$XF" plan --topology "$T/linear-4.json" --vm vcpus=4,memory=70000)" \
  "does not fit: needs 70000 MiB, 4 vCPUs, 4 cores; the best node \(0\) has 16384 MiB free, the host 65536 MiB free"
# A host spec is not a snapshot: the error says how to get one, and "-" reads
# it from a pipe (daemon-2node: node 0 has 7872 MiB free for new VMs).
H=${XF_TEST_DATA:-$(dirname "$0")/../data}/hosts/daemon-2node.json
expect_fail "host spec" 2 "is a host spec, not a topology snapshot: plan from \`xenfit host show --host $H --json | xenfit plan --topology - ...\`" \
  "$XF" plan --topology "$H" --vm vcpus=2,memory=4G
out=$("$XF" host show --host "$H" --json | "$XF" plan --topology - --vm vcpus=2,memory=4G --json)
expect_eq "plan from stdin" "$(jq -c '.placements[0] | [.nodes, .memory_mib_per_node, .node_free_mib_after]' <<<"$out")" \
  '[[0],{"0":4096},null]'
expect_eq "free after, from stdin" "$(jq -c '.node_free_mib_after' <<<"$out")" '[3776,7168]'
expect_fail "directory" 2 "'$tmp' is a directory" "$XF" plan --topology "$tmp" --vm vcpus=1,memory=1G
expect_match "plan --help" "$("$XF" plan --help)" "best_effort_hard"
expect_match "help lists plan" "$("$XF" --help)" "plan"

finish
