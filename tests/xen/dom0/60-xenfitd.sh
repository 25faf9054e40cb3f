# SPDX-License-Identifier: LGPL-2.1-only
#
# xen-xenfitd: the daemon on a real dom0. xenfitd --backend xen starts, its
# host status is what `xl info` says, a VM reservation takes memory from the
# free figure, and it survives kill -9 and a restart (the ledger is durable
# and reconciled with the real hypervisor on start).
. /xenfit/lib.sh

dir=/tmp/xenfitd
sock=$dir/xenfitd.sock
mkdir -p "$dir"

start() {
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
}

start
st=$(xenfit status --socket "$sock" --json) || fail "xenfit status: $st"
check "backend" "$(echo "$st" | jq -r .backend)" = xen
check "nodes" "$(echo "$st" | jq '.nodes | length')" = 2
total=$(xl info | awk '/^total_memory/ { print $3 }')
check "total memory as xl info" "$(echo "$st" | jq .total_mib)" = "$total"
free0=$(echo "$st" | jq .free_for_new_vm_kib)

r=$(xenfit reserve --socket "$sock" --type pv --static-max 256 --vcpus 2 --json) || fail "reserve: $r"
id=$(echo "$r" | jq -r .reservation_id)
kib=$(echo "$r" | jq .kib)
note "reserved $id: $(echo "$r" | jq -c '{kib, nodes, claim}')"
check "a reservation id" "$id" != null
free1=$(xenfit status --socket "$sock" --json | jq .free_for_new_vm_kib)
# Free memory moves with the host too (dom0, Xen): allow 1 MiB either way.
check "the reservation left the free figure" $((free0 - free1)) -ge $((kib - 1024))
check "... and nothing more" $((free0 - free1)) -le $((kib + 1024))

kill -9 "$pid"
wait "$pid" 2>/dev/null
rm -f "$sock"
start
list=$(xenfit reservations --socket "$sock" --json)
check "the reservation survived kill -9" "$(echo "$list" | jq -r --arg id "$id" '[.[] | select(.reservation_id == $id)] | length')" = 1
check "... and nothing extra" "$(echo "$list" | jq length)" = 1
kill "$pid"
wait "$pid" 2>/dev/null
finish
