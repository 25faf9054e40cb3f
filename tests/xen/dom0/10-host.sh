# SPDX-License-Identifier: LGPL-2.1-only
#
# xen-host: `xenfit host show --backend xen` on a real dom0 says what `xl info`
# says (total, free and claimed memory, nodes, per-node memsize and memfree,
# distances, CPUs), its physinfo and numainfo agree with each other (per-node
# free pages add up to free_pages), and its per-node DMA-zone free memory is
# what Xen's own heap dump (debug key H) shows below the DMA width Xen printed
# at boot.
. /xenfit/lib.sh

json=$(xenfit host show --backend xen --json) || fail "xenfit host show --backend xen --json exited $?"
xenfit host show --backend xen >/tmp/host.txt || fail "xenfit host show --backend xen exited $?"
sed 's/^/  | /' /tmp/host.txt
info=$(xl info)
xlv() { echo "$info" | sed -n "s/^$1 *: *//p"; }
# Every value needed, in one jq run (a process start costs ~0.5 s under TCG).
vals=$(echo "$json" | jq -r '"backend=\(.backend) total=\(.total_mib) free=\(.free_mib)",
  "outstanding=\(.outstanding_claims_mib) nodes=\(.node_memsize_mib | length)",
  "cpus=\(.cpu_to_node | length) dma0=\(.node_dma_free_mib[0])",
  (range(0; .node_memsize_mib | length) as $n |
   "size\($n)=\(.node_memsize_mib[$n]) free\($n)=\(.node_memfree_mib[$n]) dist\($n)=\(.distances[$n] | map(tostring) | join(","))")' | tr '\n' ' ')
j() { kv "$1" "$vals"; }

check "backend" "$(j backend)" = xen
check "total_mib = xl total_memory" "$(j total)" = "$(xlv total_memory)"
check "free_mib = xl free_memory" "$(j free)" = "$(xlv free_memory)"
check "outstanding_claims_mib = xl outstanding_claims" "$(j outstanding)" = \
  "$(xlv outstanding_claims)"
nodes=$(xlv nr_nodes)
check "nodes" "$(j nodes)" = "$nodes"
check "cpus" "$(j cpus)" = "$(xlv nr_cpus)"

# xl info -n: "node: memsize memfree distances" rows
xl info -n | sed -n '/^numa_info/,/^xen_major/p' | awk '$1 ~ /^[0-9]+:$/ { sub(":", "", $1); print $1, $2, $3, $4 }' >/tmp/numa.txt
while read -r n size free dist; do
  check "node $n memsize_mib" "$(j size$n)" = "$size"
  check "node $n memfree_mib" "$(j free$n)" = "$free"
  check "node $n distances" "$(j dist$n)" = "$dist"
done </tmp/numa.txt

# physinfo and numainfo, read together through the backend
p=$(probe phys)
echo "  probe: $p"
sum=0 n=0
while [ "$n" -lt "$(kv nr_nodes "$p")" ]; do
  sum=$((sum + $(kv node${n}_free "$p")))
  n=$((n + 1))
done
check "sum of node free pages = free_pages" "$sum" = "$(kv free_pages "$p")"
check "scrub_pages" "$(kv scrub_pages "$p")" = 0

# The DMA zone. Xen prints its width at boot; debug key H dumps each
# node's free pages per zone, zone z holding frames of bit width z (frames in
# [2^(z-1), 2^z)); the DMA zone is zones 1 .. width - 12.
width=$(xl dmesg | sed -n 's/.*Domain heap initialised DMA width \([0-9]*\) bits.*/\1/p' | head -n 1)
if [ -z "$width" ]; then
  fail "no 'DMA width' line in xl dmesg"
else
  note "Xen's DMA width: $width bits (zones 1..$((width - 12)))"
  xl dmesg -c >/dev/null
  xl debug-keys H
  p=$(probe phys)
  xl dmesg | tr -d '\r' | sed -n 's/.*heap\[node=\([0-9]*\)\]\[zone=\([0-9]*\)\] -> \([0-9]*\) pages.*/\1 \2 \3/p' >/tmp/heap.txt
  n=0
  while [ "$n" -lt "$(kv nr_nodes "$p")" ]; do
    dma=$(awk -v n="$n" -v hi="$((width - 12))" '$1 == n && $2 >= 1 && $2 <= hi { s += $3 } END { print s + 0 }' /tmp/heap.txt)
    all=$(awk -v n="$n" '$1 == n { s += $3 } END { print s + 0 }' /tmp/heap.txt)
    check "node $n DMA free pages (backend = debug key H)" "$(kv node${n}_dma_free "$p")" = "$dma"
    check "node $n free pages (backend = debug key H)" "$(kv node${n}_free "$p")" = "$all"
    n=$((n + 1))
  done
  check "xenfit node_dma_free_mib[0]" "$(j dma0)" = \
    "$(($(kv node0_dma_free "$p") / 256))"
fi
finish
