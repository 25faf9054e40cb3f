#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# One rule for the memory free for a new VM: `xenfit host show`, `xenfit
# admit` and xenfitd (`xenfit status`) compute it with the same library
# accounting (xf_host_free_for_new_vm), so they agree, host-wide and per node,
# on a host where Xen's low-memory reserve (64 MiB) exceeds the free DMA zone
# (16 MiB): tests/data/hosts/dma16-2node.json. Node 0 has 8128 MiB free,
# 8112 MiB without its DMA zone; the reserve is host-wide, so node 0 keeps
# 8112 (host show used to charge the 48 MiB the DMA zone could not hold to
# node 0 and said 8064). Node 1: 7168. Host: 15296 - 64 = 15232 MiB. And on
# the same host booted with low_mem_virq_limit=128M (dma16-2node-limit128).
# Usage: test-agree.sh XENFIT XENFITD
set -u
XENFIT=$1
XENFITD=$2
. "$(dirname "$0")/../cli/lib.sh"
# agree HOST NODE0_MIB NODE1_MIB HOST_MIB RESERVE_MIB: the three say so.
agree() {
  local host=$XF_TEST_DATA/hosts/$1 n0=$2 n1=$3 hf=$4 res=$5 show adm st dir pid
  show=$("$XENFIT" host show --host "$host" --json)
  expect_eq "$1: host show nodes" "$(jq -c .node_free_mib <<<"$show")" "[$n0,$n1]"
  expect_eq "$1: host show host" "$(jq -c .host_free_mib <<<"$show")" "$hf"
  expect_eq "$1: host show dma" "$(jq -c .node_dma_free_mib <<<"$show")" '[16,0]'
  expect_eq "$1: host show reserve" "$(jq -c .low_mem_reserve_mib <<<"$show")" "$res"

  adm=$("$XENFIT" admit --host "$host" --type hvm --static-max 1G --vcpus 1 --json)
  expect_eq "$1: admit nodes" "$(jq -c .node_free_mib <<<"$adm")" "[$n0,$n1]"
  expect_eq "$1: admit host" "$(jq -c .host_free_mib <<<"$adm")" "$hf"

  dir=$(mktemp -d /tmp/xfd-agree-XXXXXX)
  "$XENFITD" --host "$host" --state-dir "$dir/state" --socket "$dir/s" 2>"$dir/log" &
  pid=$!
  for _ in $(seq 100); do [ -S "$dir/s" ] && break; sleep 0.05; done
  st=$("$XENFIT" status --socket "$dir/s" --json)
  kill $pid 2>/dev/null
  wait $pid 2>/dev/null
  rm -rf "$dir"
  expect_eq "$1: status host" "$(jq -c .free_for_new_vm_kib <<<"$st")" $((hf * 1024))
  expect_eq "$1: status nodes" "$(jq -c '[.nodes[].free_for_new_vm_kib]' <<<"$st")" \
    "[$((n0 * 1024)),$((n1 * 1024))]"
  expect_eq "$1: status reserve" "$(jq -c .low_mem_reserve_kib <<<"$st")" $((res * 1024))
  # The three agree with each other, whatever the numbers.
  expect_eq "$1: show = status" "$(jq -c '[.node_free_mib[] * 1024]' <<<"$show")" \
    "$(jq -c '[.nodes[].free_for_new_vm_kib]' <<<"$st")"
  expect_eq "$1: show = admit" "$(jq -c .node_free_mib <<<"$show")" \
    "$(jq -c .node_free_mib <<<"$adm")"
}

agree dma16-2node.json 8112 7168 15232 64
# Xen's limit given at boot (128 MiB): the host's own, in all three (admit
# used to hold back Xen's 64 MiB default whatever the host's limit).
agree dma16-2node-limit128.json 8112 7168 15168 128
finish
