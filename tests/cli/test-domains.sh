#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# `xenfit domains`: the simulator reports pages per node itself; on real Xen
# they come from Xen's 'u' debug key through xl (here a fake xl printing what
# Xen 4.17's dump_numa prints, with the console's "(XEN)" prefixes), and are
# "unknown" when xl cannot give them.
set -u
XF=${1:?usage: test-domains.sh XENFIT_BINARY}
SRC=$(cd "${XF_SOURCE_DIR:-$(dirname "$0")/../..}" && pwd)
. "$(dirname "$0")/lib.sh"
BED=$SRC/hosts/xenbed-2node.json
tmp=$(mktemp -d /tmp/xf-domains-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The bed's dom0: 1 GiB, 67378 pages on node 0 and 194766 on node 1 (the
# simulator's allocator over its spec), 262144 in all.
out=$("$XF" domains --host "$BED" --json)
expect_eq "sim dom0" "$(jq -c '.[0] | [.domid, .tot_pages, .memory_kib, .pages_per_node, .node_pages_source]' <<<"$out")" \
  '[0,262144,1048576,{"0":67378,"1":194766},"backend"]'
expect_eq "sim dom0 adds up" "$(jq '.[0].pages_per_node | add' <<<"$out")" 262144

cat >"$tmp/xl" <<'XL'
#!/bin/sh
case "$1" in
debug-keys) [ "$2" = u ] && exit 0; exit 1 ;;
dmesg) cat <<'LOG'
(XEN) Memory location of each domain:
(XEN) Domain 0 (total: 1):
(XEN)     Node 0: 5
(XEN)     Node 1: 6
(XEN) [   12.345678] 'u' pressed -> dumping numa info (now = 12345)
(XEN) Memory location of each domain:
(XEN) Domain 0 (total: 262144):
(XEN)     Node 0: 100
(XEN)     Node 1: 262044
(XEN) Domain 7 (total: 3):
(XEN)     Node 0: 3
(XEN)     Node 1: 0
(XEN) Xen version 4.17.7
LOG
;;
*) exit 1 ;;
esac
XL
chmod +x "$tmp/xl"
out=$("$XF" domains --host "$BED" --node-pages xl --xl "$tmp/xl" --json)
expect_eq "xl dom0 (the last block)" "$(jq -c '.[0] | [.pages_per_node, .node_pages_source]' <<<"$out")" \
  '[{"0":100,"1":262044},"xl debug-keys u"]'
out=$("$XF" domains --host "$BED" --node-pages xl --xl "$tmp/missing-xl")
expect_match "no xl: unknown" "$out" '^ +0 pv +1048576 +0 +0 +262144 +4 run +unknown$'
out=$("$XF" domains --host "$BED" --node-pages xl --xl /bin/false --json)
expect_eq "xl fails: null" "$(jq -c '.[0] | [.pages_per_node, .node_pages_source]' <<<"$out")" '[null,null]'
expect_fail "bad source" 2 "--node-pages 'numastat'" "$XF" domains --host "$BED" --node-pages numastat
finish
