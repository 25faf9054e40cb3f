# SPDX-License-Identifier: LGPL-2.1-only
#
# xen-sim: the simulator against the real host it models. The simulator's
# spec of this test bed (hosts/xenbed-2node.json, from the xenbed notes'
# measurements) boots in the simulator; its `host show` must describe the
# same machine as the real one: total memory, nodes, their spanned sizes and
# distances, and CPUs exactly; free memory, per node and in the DMA zone,
# within 2% of the host (what the two beds' dom0 differ by: the notes' dom0
# had 4 vCPUs and a 63 MB initramfs, this one 2 and about 30 MB), with the
# differences printed for whoever updates the spec.
. /xenfit/lib.sh

spec=/xenfit/data/xenbed-2node.json
[ -f "$spec" ] || { echo "no $spec in the payload"; exit 77; }
# One jq run per view: the values as key=value pairs.
prog='"total=\(.total_mib) free=\(.free_mib) sizes=\(.node_memsize_mib | map(tostring) | join(","))",
  "dist=\(.distances | map(map(tostring) | join(",")) | join(";")) cpus=\(.cpu_to_node | map(tostring) | join(","))",
  "cores=\(.node_cores | map(tostring) | join(",")) dma0=\(.node_dma_free_mib[0])",
  (range(0; .node_memfree_mib | length) as $n | "free\($n)=\(.node_memfree_mib[$n])")'
real=$(xenfit host show --backend xen --json | jq -r "$prog" | tr '\n' ' ') || fail "host show --backend xen"
sim=$(xenfit host show --host "$spec" --json | jq -r "$prog" | tr '\n' ' ') || fail "host show --host $spec"
note "real:      $real"
note "simulator: $sim"

for key in total sizes dist cpus cores; do
  check "simulator = real: $key" "$(kv $key "$sim")" = "$(kv $key "$real")"
done
tol=$(($(kv total "$real") / 50))
for key in free free0 free1 dma0; do
  a=$(kv $key "$real") b=$(kv $key "$sim")
  d=$((a - b))
  note "$key: real $a MiB, simulator $b MiB, real - simulator = $d MiB"
  check "|real - simulator| of $key (MiB)" "${d#-}" -le "$tol"
done
finish
