#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# `xenfit admit --xl-config`, `plan --xl-config` and `footprint --xl-config`:
# the VM of an xl domain config (cli/xlcfg.h), placed on the nodes of its
# pinned CPUs. tests/data/xl/hvm-pinned.cfg: hvm, memory 2048 of maxmem
# 4096, 4 maxvcpus, stdvga (16 MiB video), cpus = "node:1". Its footprint
# (xen-api's model, static max 4096, target 2048, 4 vCPUs): 2048 + 1 + 1 +
# ceil((1024 + 8192)/256) = 36 + ceil(152/256) = 1 -> 2087 MiB.
set -u
XF=${1:?usage: test-xlconfig.sh XENFIT_BINARY}
SRC=$(cd "${XF_SOURCE_DIR:-$(dirname "$0")/../..}" && pwd)
. "$(dirname "$0")/lib.sh"
D=$SRC/tests/data/xl
H4=$SRC/hosts/2socket-4node.json
BED=$SRC/hosts/xenbed-2node.json
tmp=$(mktemp -d /tmp/xf-xlcfg-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

out=$("$XF" footprint --xl-config "$D/hvm-pinned.cfg" --json)
expect_eq "footprint" "$(jq -c '[.required_host_free_mib, .build_start_mib]' <<<"$out")" '[2087,2032]'

# 2socket-4node: node 1's CPUs are 16-31 (8 per node... see the spec); the
# pinned VM goes to node 1 although node 2 has as much free.
out=$("$XF" admit --host "$H4" --xl-config "$D/hvm-pinned.cfg" --json)
expect_eq "admit pinned" "$(jq -c '[.admitted, .footprint_mib, .nodes, .claim.node]' <<<"$out")" \
  '[true,2087,[1],1]'
# The bed: node 1 has 1287 MiB free for a new VM: refused, with node 1's numbers.
out=$("$XF" admit --host "$BED" --xl-config "$D/hvm-pinned.cfg")
expect_eq "admit pinned refused: status" "$?" 1
expect_match "admit pinned refused" "$out" \
  "needs 2087 MiB on the node of its pinned CPUs \(1\), which has 1287 MiB free for a new VM"
# Unpinned (cpus= removed), the same VM is still too big for one bed node
# and is split over both (in proportion to their free memory), claimed globally.
grep -v '^cpus' "$D/hvm-pinned.cfg" >"$tmp/free.cfg"
out=$("$XF" admit --host "$BED" --xl-config "$tmp/free.cfg" --json)
expect_eq "admit unpinned" "$(jq -c '[.admitted, .nodes, .claim.kind]' <<<"$out")" '[true,[0,1],"global"]'

# plan: the pinned VM on node 1 of linear-4, then pv-small (520 MiB: 512 +
# 1 + ceil((512 + 1024)/256) = 6 + 1) on its preferred CPUs' nodes.
out=$("$XF" plan --topology "$SRC/tests/data/topologies/linear-4.json" \
  --xl-config "$D/hvm-pinned.cfg" --vm vcpus=2,memory=1G --json)
expect_eq "plan" "$(jq -c '[.placements[] | [.memory_mib, .nodes]]' <<<"$out")" '[[2087,[1]],[1024,[0]]]'

# Bad configs: exit 2, the file and line and value named, nothing else.
printf 'memory = "12x"\n' >"$tmp/bad.cfg"
expect_fail "not a number" 2 "$tmp/bad.cfg:1:" "$XF" admit --host "$BED" --xl-config "$tmp/bad.cfg"
expect_fail "not a number: value" 2 "'12x'" "$XF" admit --host "$BED" --xl-config "$tmp/bad.cfg"
printf 'memory = 512\nmemory = -1\n' >"$tmp/neg.cfg"
expect_fail "lexical" 2 "$tmp/neg.cfg:2:" "$XF" plan --topology "$SRC/tests/data/topologies/linear-4.json" --xl-config "$tmp/neg.cfg"
expect_fail "missing" 2 "$tmp/none.cfg: unable to open configuration file: No such file or directory" \
  "$XF" admit --host "$BED" --xl-config "$tmp/none.cfg"
# libxlutil's own open said "Success" here, and its scanner exited on a directory.
expect_fail "directory" 2 "$tmp: is a directory, not an xl config" \
  "$XF" footprint --xl-config "$tmp"
printf 'memory = 512\ncpus = "node:7"\n' >"$tmp/node7.cfg"
expect_fail "no such node" 2 "'node:7': this host has nodes 0..1" \
  "$XF" admit --host "$BED" --xl-config "$tmp/node7.cfg"
expect_fail "xl-config and --type" 2 "gives the VM" \
  "$XF" admit --host "$BED" --xl-config "$D/pv-small.cfg" --type hvm
finish
