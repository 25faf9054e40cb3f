# SPDX-License-Identifier: LGPL-2.1-only
#
# xen-balloon-crash: kill -9 of xenfitd in the middle of a squeeze, on Xen
# 4.17 with real balloon drivers (issue 12). Two running PV guests as in
# 80-balloon.sh (256 MiB, squeezed's keys: dynamic-min 128 MiB, dynamic-max
# 256 MiB, control/feature-balloon). xenfitd --backend xen --balloon on
# --balance-interval 0 on a state dir; a filler reservation (acknowledged,
# so durable) leaves 32 MiB free; then reserve_memory of 120 MiB more than
# that, which must squeeze the guests, and while their targets are down and
# their pages falling, kill -9. xenfitd restarted on the same state dir:
#  - the caller got no answer, and no reservation but the filler exists;
#  - the start-up balance gives the targets back (dynamic-max) and the
#    guests' pages and Xen's free pages return to where they were;
#  - the same reservation then succeeds, once: one more reservation.
# xf-test-timeout: 300
. /xenfit/lib.sh

dir=/tmp/balloon-crash
sock=$dir/xenfitd.sock
out=$XF_OUT/balloon-crash.txt
mkdir -p "$dir"
mem=256
dmin_kib=131072
dmax_kib=262144
: >"$out"
rec() { echo "$*" | tee -a "$out"; }

for g in kc1 kc2; do guest_cfg "$g" 1 "$mem" "maxmem = $mem" >"/tmp/$g.cfg"; done
start_guests 200 kc1 kc2
id1=$(xl domid kc1 2>/dev/null)
id2=$(xl domid kc2 2>/dev/null)
[ -n "$id1" ] && [ -n "$id2" ] || {
  fail "guests not created"
  finish
}
note "guests kc1 (domid $id1), kc2 (domid $id2): $booted of 2 up after $boot_secs s"
check "the guests booted" "$booted" = 2
[ "$booted" = 2 ] || finish

for id in $id1 $id2; do balloonable "$id" "$dmin_kib" "$dmax_kib"; done
rpc() { probe rpc "$sock" "$1" "$2"; }
start_xenfitd() {
  xenfitd --backend xen --balloon on --balance-interval 0 --state-dir "$dir/state" \
    --socket "$sock" --log-level info >>"$dir/log" 2>&1 &
  pid=$!
  _i=0
  while [ ! -S "$sock" ] && [ $_i -lt 100 ]; do
    sleep 0.2
    _i=$((_i + 1))
  done
  [ -S "$sock" ] || {
    fail "xenfitd did not open $sock: $(tail -n 5 "$dir/log" | tr '\n' ' ')"
    finish
  }
}
nresv() { xenfit reservations --socket "$sock" --json | jq length; }
ffree() { xenfit status --socket "$sock" --json | jq .free_for_new_vm_kib; }

start_xenfitd
sess=$(rpc login '["crash","xen-balloon-crash-test"]' | jq -r .result)
check "login" "$sess" = xen-balloon-crash-test
p1=$(dom_pages "$id1")
p2=$(dom_pages "$id2")
f=$(ffree)
filler=$((f - 32768))
r=$(rpc reserve_memory "[\"f1\",\"$sess\",$filler]")
r0=$(echo "$r" | jq -r .result)
check "filler reservation of $filler KiB" "$(echo "$r" | jq -c .error)" = null
free_left=$(ffree)
want=$((free_left + 122880)) # squeezes 128 MiB with the 8 kept
xen0=$(stable_free)
rec "before: kc1 tot_pages $p1, kc2 tot_pages $p2, targets $(dom_target "$id1") $(dom_target "$id2") KiB; free for a new VM $free_left KiB; Xen free $xen0 pages"

# --- the squeeze, killed ------------------------------------------------------------
t=$(up)
rpc reserve_memory "[\"r1\",\"$sess\",$want]" >"$dir/r1.out" 2>&1 &
cpid=$!
# Until both targets are down: the squeeze has set them and waits on the
# guests' drivers (about 4 s in all, docs/real-xen.md); then kill -9.
k1="" k2="" i=0
while [ $i -lt 150 ]; do
  k1=$(dom_target "$id1")
  k2=$(dom_target "$id2")
  [ "$k1" -lt "$dmax_kib" ] && [ "$k2" -lt "$dmax_kib" ] && break
  sleep 0.1
  i=$((i + 1))
done
kill -9 "$pid"
secs=$(awk -v a="$t" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
q1=$(dom_pages "$id1")
q2=$(dom_pages "$id2")
wait "$pid" 2>/dev/null
wait "$cpid" 2>/dev/null
rec "kill -9 after ${secs} s: targets kc1 $k1 KiB, kc2 $k2 KiB; tot_pages kc1 $q1, kc2 $q2"
rec "the caller's answer: $(tr '\n' ' ' <"$dir/r1.out")"
check "kc1's target was down at the kill" "$k1" -lt "$dmax_kib"
check "kc2's target was down at the kill" "$k2" -lt "$dmax_kib"
check "the caller got no answer" "$(grep -c '"result"' "$dir/r1.out")" = 0
# The drivers go on towards the targets the killed squeeze left.
sleep 3
s1=$(dom_pages "$id1")
s2=$(dom_pages "$id2")
xenk=$(stable_free)
rec "3 s later, no xenfitd: targets kc1 $(dom_target "$id1") KiB, kc2 $(dom_target "$id2") KiB; tot_pages kc1 $s1, kc2 $s2; Xen free $xenk pages (+$((xenk - xen0)))"
check "the guests ballooned down (pages given)" $((p1 - s1 + p2 - s2)) -ge 256
check "Xen's free pages rose by what they gave" $((xenk - xen0)) -ge $((p1 - s1 + p2 - s2 - 256))

# --- restart on the same state ------------------------------------------------------
rm -f "$sock"
t=$(up)
start_xenfitd
n=$(nresv)
ids=$(xenfit reservations --socket "$sock" --json | jq -r '.[].reservation_id' | tr '\n' ' ')
rec "restarted: reservations $n ($ids)"
check "only the filler survived (the squeeze's reservation was never promised)" "$n" = 1
check "... and it is the filler" "$ids" = "$r0 "
wait_pages "$id1" "$p1" 60 || true
wait_pages "$id2" "$p2" 60 || true
secs=$(awk -v a="$t" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
b1=$(dom_pages "$id1")
b2=$(dom_pages "$id2")
xen2=$(stable_free)
rec "after the start-up balance (${secs} s): kc1 tot_pages $b1 target $(dom_target "$id1") KiB; kc2 tot_pages $b2 target $(dom_target "$id2") KiB; Xen free $xen2 pages"
check "kc1's target back at dynamic-max" "$(dom_target "$id1")" = "$dmax_kib"
check "kc2's target back at dynamic-max" "$(dom_target "$id2")" = "$dmax_kib"
check "kc1's pages back (within 64 of $p1)" "$b1" -ge $((p1 - 64))
check "kc2's pages back (within 64 of $p2)" "$b2" -ge $((p2 - 64))
check "Xen's free pages back (within 256 of $xen0)" $((xen2 - xen0)) -le 256
check "... from above" $((xen0 - xen2)) -le 256
grep -E 'start-up balance|idle balance|state:' "$dir/log" | tail -n 4 | sed 's/^/  log: /'

# --- the reservation again: once --------------------------------------------------
t=$(up)
r=$(rpc reserve_memory "[\"r2\",\"$sess\",$want]")
secs=$(awk -v a="$t" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
r2=$(echo "$r" | jq -r .result)
rec "reserve_memory $want KiB again: $r (${secs} s); reservations $(nresv)"
check "the reservation succeeds after the restart" "$(echo "$r" | jq -c .error)" = null
check "exactly one more reservation" "$(nresv)" = 2
check "... a new id" "$r2" != "$r0"

kill "$pid"
wait "$pid" 2>/dev/null
destroy_guest kc1
destroy_guest kc2
finish
