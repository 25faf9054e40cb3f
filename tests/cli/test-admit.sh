#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# CLI tests of `xenfit admit` on simulated hosts.
set -u
XF=${1:?usage: test-admit.sh XENFIT_BINARY}
SRC=$(cd "${XF_SOURCE_DIR:-$(dirname "$0")/../..}" && pwd)
. "$(dirname "$0")/lib.sh"
H4=$SRC/hosts/2socket-4node.json
H1=$SRC/hosts/1node.json

# hvm 8 GiB, 4 vCPUs: footprint = 8192 + 1 + 1 + ceil((1024 + 16384)/256) = 68 + 1 = 8263 MiB.
# Node 1 has the most memory left after it (65024 MiB free; node 0 loses its DMA zone).
out=$("$XF" admit --host "$H4" --type hvm --static-max 8G --vcpus 4 --json)
expect_eq "admitted" "$(jq -c '[.admitted, .footprint_mib, .nodes, .memory_mib_per_node]' <<<"$out")" \
  '[true,8263,[1],{"1":8263}]'
# A node claim of the build start plus 1 MiB of firmware room: (8192 + 1) * 256.
expect_eq "claim" "$(jq -c '.claim | [.kind, .node, .pages, .global_pages]' <<<"$out")" '["node",1,2097408,2097408]'
expect_eq "node free" "$(jq -c .node_free_mib <<<"$out")" '[63460,65024,65024,56832]'
# Too big: refused with the numbers, exit 1. 60900 MiB free less the 64 MiB reserve.
out=$("$XF" admit --host "$H1" --type hvm --static-max 70G --vcpus 4 --json)
status=$?
expect_eq "refused status" "$status" 1
expect_eq "refused" "$(jq -r .reason <<<"$out")" \
  "HOST_NOT_ENOUGH_FREE_MEMORY: needs 72247 MiB, the host has 60836 MiB free for a new VM"
# xapi-6869 decides the claim at build time, and has its own model: pv 2 GiB, 2 vCPUs
# = 2048 + 0 + 1 + ceil((512 + 4096)/256) = 18 + ceil(76/256) = 1 -> 2068 MiB.
out=$("$XF" admit --host "$H4" --type pv --static-max 2G --vcpus 2 --policy xapi-6869 --json)
expect_eq "xapi-6869" "$(jq -c '[.admitted, .footprint_mib, .claim.kind]' <<<"$out")" '[true,2068,"none"]'
# Migration: the source's exact memory is claimed (3584 MiB = 917504 pages).
out=$("$XF" admit --host "$H1" --type hvm --static-max 8G --target 2G --vcpus 2 \
  --memory-total-source 3584M --numa-policy any --json)
expect_eq "migration" "$(jq -c '[.footprint_mib, .claim.kind, .claim.pages]' <<<"$out")" '[3653,"global",917504]'
expect_match "table" "$("$XF" admit --host "$H4" --type hvm --static-max 8G --vcpus 4)" "plan +node 1: 8263 MiB"

expect_fail "no host" 2 "backend 'sim' needs a host spec (--host SPEC.json)" "$XF" admit --type hvm --static-max 1G --vcpus 1
expect_fail "bad backend" 2 "'kvm'" "$XF" admit --backend kvm --type hvm --static-max 1G --vcpus 1
expect_fail "bad policy" 2 "'xapi'" "$XF" admit --host "$H1" --type hvm --static-max 1G --vcpus 1 --policy xapi
expect_fail "bad vm" 2 "--target '2G' is above --static-max '1G'" "$XF" admit --host "$H1" --type hvm --static-max 1G --target 2G --vcpus 1
expect_fail "missing" 2 "--static-max is required" "$XF" admit --host "$H1" --type hvm
expect_match "help" "$("$XF" admit --help)" "HOST_NOT_ENOUGH_FREE_MEMORY"
finish
