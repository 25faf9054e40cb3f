# SPDX-License-Identifier: LGPL-2.1-only
#
# xen-xl-create: `xenfit xl-create` on real Xen 4.17, against xenfitd
# --backend xen, side by side with plain `xl create`.
#  1. Two PV guests created in parallel, each sized to fit one node but not
#     both on one: xenfitd reserves them one after the other (each sees the
#     other's reservation), so they are planned on different nodes, and Xen's
#     own per-node page counts (the 'u' debug key, through `xenfit domains`)
#     show each guest's memory on its planned node. Neither build fails.
#  2. A third of the same size does not fit: refused with the numbers, and
#     xl is never run (no such domain afterwards).
#  3. The same two guests with plain `xl create`, in parallel: where libxl's
#     own placement put their memory, recorded (for docs/real-xen.md).
#  4. A guest pinned to node 1's CPUs: plain xl create (recorded) and xenfit
#     xl-create, whose memory must be on node 1.
. /xenfit/lib.sh

dir=/tmp/xlcreate
sock=$dir/xenfitd.sock
out=$XF_OUT/xl-create-compare.txt
mkdir -p "$dir"
xenfitd --backend xen --state-dir "$dir/state" --socket "$sock" --log-level warning \
  >>"$dir/log" 2>&1 &
pid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do
  sleep 0.2
  i=$((i + 1))
done
[ -S "$sock" ] || {
  fail "xenfitd did not open $sock: $(tail -n 5 "$dir/log" | tr '\n' ' ')"
  finish
}

st=$(xenfit status --socket "$sock" --json)
f0=$(($(echo "$st" | jq '.nodes[0].free_for_new_vm_kib') / 1024))
f1=$(($(echo "$st" | jq '.nodes[1].free_for_new_vm_kib') / 1024))
small=$f0
[ "$f1" -lt "$small" ] && small=$f1
# Each guest fits the smaller node with 64 MiB to spare; two do not fit one.
m=$((small - 64 - 8))
note "free for new VMs: node 0 $f0 MiB, node 1 $f1 MiB; guests of $m MiB"
check "two guests do not fit one node" $((2 * m)) -gt "$f0"
check "... nor the other" $((2 * m)) -gt "$f1"
for g in g1 g2 g3 p1 p2 p3; do guest_cfg "$g" 2 "$m" >"/tmp/$g.cfg"; done

# Pages per node of a guest: "n0 n1" from Xen's dump (xenfit domains).
node_pages() {
  id=$(xl domid "$1" 2>/dev/null) || return 1
  xenfit domains --backend xen --json |
    jq -r --argjson id "$id" '.[] | select(.domid == $id) | "\(.tot_pages) \(.pages_per_node["0"]) \(.pages_per_node["1"])"'
}

# 1. two xl-creates at once
xenfit xl-create /tmp/g1.cfg --socket "$sock" -- -q -p >"$dir/g1.out" 2>&1 &
p1=$!
xenfit xl-create /tmp/g2.cfg --socket "$sock" -- -q -p >"$dir/g2.out" 2>&1 &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
check "g1 created" "$r1" = 0
check "g2 created" "$r2" = 0
note "g1: $(cat "$dir/g1.out")"
note "g2: $(cat "$dir/g2.out")"
touch /tmp/xf-guests-built
planned=""
{
  echo "xenfit xl-create, two PV guests of $m MiB (2 vCPUs) in parallel;"
  echo "node free for new VMs before: node 0 $f0 MiB, node 1 $f1 MiB"
  echo "guest tot_pages node0_pages node1_pages planned_node"
} >"$out"
for g in g1 g2; do
  node=$(sed -n 's/.*NUMA plan {"\([0-9]\)":.*/\1/p' "$dir/$g.out")
  pages=$(node_pages "$g") || {
    fail "$g: no domain"
    continue
  }
  set -- $pages
  tot=$1
  on=$2
  [ "$node" = 1 ] && on=$3
  echo "$g $pages $node" >>"$out"
  check "$g: planned on one node" "$node" != ""
  check "$g: Xen reports its pages per node" "$2" != null
  # Every page on the planned node but a few (the domain's first pages
  # come before its vCPUs' affinity is set: allow 1%).
  check "$g: memory on its planned node $node ($on of $tot pages)" $((on * 100)) -ge $((tot * 99))
  planned="$planned$node"
done
check "g1 and g2 on different nodes" "$planned" != "00"
check "... really" "$planned" != "11"

# 2. the third: refused before xl runs
xenfit xl-create /tmp/g3.cfg --socket "$sock" -- -q -p >"$dir/g3.out" 2>&1
check "g3 refused" "$?" = 1
note "g3: $(cat "$dir/g3.out")"
case $(cat "$dir/g3.out") in
  *"HOST_NOT_ENOUGH_FREE_MEMORY: needs "*" MiB, the host has "*" MiB free for a new VM; xl was not run"*)
    check "g3 refused with the numbers" yes = yes ;;
  *) fail "g3: refusal without numbers: $(cat "$dir/g3.out")" ;;
esac
xl domid g3 >/dev/null 2>&1
check "g3 never created" "$?" != 0
echo "g3 refused: $(cat "$dir/g3.out")" >>"$out"
ev=$(xenfit events --socket "$sock" --json)
check "two builds and a refusal recorded" "$(echo "$ev" | jq -c '[.[] | .outcome] | sort')" = '["built","built","refused"]'
res=$(xenfit reservations --socket "$sock" --json)
check "nothing pending" "$(echo "$res" | jq '[.[] | select(.state == "pending")] | length')" = 0

# 3. plain xl create, the same guests, in parallel
before=$(stable_free)
destroy_guest g1
destroy_guest g2
probe wait-free "$((before + 2 * m * 256 - 2048))" 20 >/dev/null
{
  echo
  echo "plain xl create, the same two guests in parallel (libxl's placement):"
  echo "guest tot_pages node0_pages node1_pages"
} >>"$out"
xl create -q -p /tmp/p1.cfg >"$dir/p1.out" 2>&1 &
q1=$!
xl create -q -p /tmp/p2.cfg >"$dir/p2.out" 2>&1 &
q2=$!
wait $q1
s1=$?
wait $q2
s2=$?
for g in p1 p2; do
  pages=$(node_pages "$g") || pages="not created: $(tr '\n' ' ' <"$dir/$g.out")"
  echo "$g $pages" >>"$out"
done
xl create -q -p /tmp/p3.cfg >"$dir/p3.out" 2>&1
s3=$?
echo "p3 (the third): xl create exited $s3: $(tr '\n' ' ' <"$dir/p3.out")" >>"$out"
note "plain xl create exited $s1 $s2 (third: $s3)"
for g in p1 p2 p3; do destroy_guest "$g"; done

# 4. Pinned vCPUs (cpus = "node:1") while node 0 has more free memory (a
#    filler guest soft-affine to node 1 takes 400 MiB there): libxl 4.17
#    still runs its own placement (only a soft affinity stops it,
#    libxl_dom.c libxl__build_pre) and may put the memory on node 0, away
#    from the CPUs; xenfit xl-create keeps it on node 1.
guest_cfg filler 1 400 'cpus_soft = "node:1"' >/tmp/filler.cfg
xl create -q -p /tmp/filler.cfg >"$dir/filler.out" 2>&1 || fail "filler: $(cat "$dir/filler.out")"
guest_cfg h1 2 500 'cpus = "node:1"' >/tmp/h1.cfg
guest_cfg h2 2 500 'cpus = "node:1"' >/tmp/h2.cfg
xl create -q -p /tmp/h1.cfg >"$dir/h1.out" 2>&1 || fail "h1: $(cat "$dir/h1.out")"
{
  echo
  echo "pinned vCPUs (cpus = \"node:1\"), 500 MiB, node 1 holding a 400 MiB filler:"
  echo "guest tot_pages node0_pages node1_pages"
  echo "filler $(node_pages filler)"
  echo "h1 (plain xl create) $(node_pages h1)"
} >>"$out"
destroy_guest h1
xenfit xl-create /tmp/h2.cfg --socket "$sock" -- -q -p >"$dir/h2.out" 2>&1
check "h2 created" "$?" = 0
set -- $(node_pages h2)
echo "h2 (xenfit xl-create) $*" >>"$out"
check "h2: memory on the pinned CPUs' node 1 ($3 of $1 pages)" $(($3 * 100)) -ge $(($1 * 99))
cat "$out"
for g in h2 filler; do destroy_guest "$g"; done
kill "$pid"
wait "$pid" 2>/dev/null
finish
