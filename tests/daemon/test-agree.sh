#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# One rule for the memory free for a new VM: `xenfit host show`, `xenfit
# admit` and xenfitd (`xenfit status`) compute it with the same library
# accounting (xf_host_free_for_new_vm), so they agree, host-wide and per node,
# on a host where Xen's low-memory reserve (64 MiB) exceeds the free DMA zone
# (16 MiB): tests/data/hosts/dma16-2node.json. Node 0 has 8128 MiB free,
# 8112 MiB without its DMA zone; the reserve is host-wide, so node 0 keeps
# 8112 (host show used to charge the 48 MiB the DMA zone could not hold to
# node 0 and said 8064). Node 1: 7168. Host: 15296 - 64 = 15232 MiB.
# Usage: test-agree.sh XENFIT XENFITD
set -u
XENFIT=$1
XENFITD=$2
. "$(dirname "$0")/../cli/lib.sh"
HOST=$XF_TEST_DATA/hosts/dma16-2node.json

show=$("$XENFIT" host show --host "$HOST" --json)
expect_eq "host show nodes" "$(jq -c .node_free_mib <<<"$show")" '[8112,7168]'
expect_eq "host show host" "$(jq -c .host_free_mib <<<"$show")" 15232
expect_eq "host show dma" "$(jq -c .node_dma_free_mib <<<"$show")" '[16,0]'
expect_eq "host show reserve" "$(jq -c .low_mem_reserve_mib <<<"$show")" 64

adm=$("$XENFIT" admit --host "$HOST" --type hvm --static-max 1G --vcpus 1 --json)
expect_eq "admit nodes" "$(jq -c .node_free_mib <<<"$adm")" '[8112,7168]'
expect_eq "admit host" "$(jq -c .host_free_mib <<<"$adm")" 15232

dir=$(mktemp -d /tmp/xfd-agree-XXXXXX)
"$XENFITD" --host "$HOST" --state-dir "$dir/state" --socket "$dir/s" 2>"$dir/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -S "$dir/s" ] && break; sleep 0.05; done
st=$("$XENFIT" status --socket "$dir/s" --json)
expect_eq "status host" "$(jq -c .free_for_new_vm_kib <<<"$st")" $((15232 * 1024))
expect_eq "status nodes" "$(jq -c '[.nodes[].free_for_new_vm_kib]' <<<"$st")" \
  "[$((8112 * 1024)),$((7168 * 1024))]"
expect_eq "status reserve" "$(jq -c .low_mem_reserve_kib <<<"$st")" $((64 * 1024))
# The three agree with each other, whatever the numbers.
expect_eq "show = status" "$(jq -c '[.node_free_mib[] * 1024]' <<<"$show")" \
  "$(jq -c '[.nodes[].free_for_new_vm_kib]' <<<"$st")"
expect_eq "show = admit" "$(jq -c .node_free_mib <<<"$show")" "$(jq -c .node_free_mib <<<"$adm")"
finish
