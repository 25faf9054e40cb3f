# SPDX-License-Identifier: LGPL-2.1-only
#
# xen-balloon: xenfitd's ballooning (squeezed's job) against real guests'
# balloon drivers on Xen 4.17. Running PV guests with the bed's Debian
# kernel (its Xen balloon driver is built in, CONFIG_XEN_BALLOON=y), 256 MiB
# each (xl memory = maxmem), given squeezed's keys by dom0: memory/dynamic-min
# 128 MiB, memory/dynamic-max 256 MiB (xenopsd writes these) and
# control/feature-balloon (Linux's driver never writes it; on XenServer the
# guest agent does once it sees the driver). xl itself writes memory/target
# and memory/static-max. xenfitd --backend xen, ballooning on, idle balance off
# (each squeeze is asked for explicitly), then:
#  1. a filler reservation leaves only a little free, and reserve_memory of
#     120 MiB more than that succeeds by ballooning the guests down: their
#     tot_pages fall, and Xen's free pages rise by at least what the squeeze
#     needed and by what they gave;
#  2. both reservations deleted, balance_memory: targets back at 256 MiB and
#     tot_pages back;
#  3. a stuck guest: g2 paused (`xl pause`, its driver cannot run) but still
#     advertising the driver; a reservation that needs more than g1 can give
#     fails with ["Domains_refused_to_cooperate", [g2's domid]], g1 at its
#     dynamic-min and g2 untouched;
#  4. a running guest that cannot give: bg3's kernel booted with 150 MiB of
#     its RAM reserved (memmap=), so its driver finds only the few free pages
#     it has; a reservation needing 100 MiB of it alone is refused with
#     ["Domains_refused_to_cooperate", [bg3's domid]], bg3 having given some.
# xf-test-timeout: 480
. /xenfit/lib.sh

dir=/tmp/balloon
sock=$dir/xenfitd.sock
out=$XF_OUT/balloon.txt
mkdir -p "$dir"
mem=256
dmin_kib=131072
dmax_kib=262144
: >"$out"
rec() { echo "$*" | tee -a "$out"; }

# 1 vCPU each: booting under TCG is the slow part; both boot at once.
# bg3: a running guest whose driver cannot find the pages (phase 4): its
# kernel is told that 150 MiB of its RAM is reserved (memmap=150M$100M), so
# those pages stay populated in Xen but never reach its page allocator.
guest_cfg bg3 1 "$mem" "maxmem = $mem" \
  'extra = "console=hvc0 quiet loglevel=3 memmap=150M$100M"' >/tmp/bg3.cfg
for g in bg1 bg2; do guest_cfg "$g" 1 "$mem" "maxmem = $mem" >"/tmp/$g.cfg"; done
start_guests 200 bg1 bg2 bg3
id1=$(xl domid bg1 2>/dev/null)
id2=$(xl domid bg2 2>/dev/null)
[ -n "$id1" ] && [ -n "$id2" ] || {
  fail "guests not created"
  finish
}
secs=$boot_secs
id3=$(xl domid bg3 2>/dev/null)
note "guests bg1 (domid $id1), bg2 (domid $id2), bg3 (domid $id3): $booted of 3 up after $secs s"
for g in bg1 bg2 bg3; do note "$g: $(grep -m 1 'xenbed guest up' "/var/log/xen/console/guest-$g.log")"; done
check "the guests booted" "$booted" = 3
[ "$booted" = 3 ] || finish

for id in $id1 $id2; do
  fb=$(xs "$id" control/feature-balloon) || fb="(absent)"
  rec "domid $id booted: control/feature-balloon $fb (the guest's own)"
  rec "domid $id as xl left it: memory/target $(xs "$id" memory/target), memory/static-max $(xs "$id" memory/static-max), max_pages $(kv max_pages "$(probe dom "$id")")"
  balloonable "$id" "$dmin_kib" "$dmax_kib"
done

rpc() { probe rpc "$sock" "$1" "$2"; }

xenfitd --backend xen --balloon on --balance-interval 0 --state-dir "$dir/state" \
  --socket "$sock" --log-level info >>"$dir/log" 2>&1 &
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
sess=$(rpc login '["balloon","xen-balloon-test"]' | jq -r .result)
check "login" "$sess" != null

ffree() { xenfit status --socket "$sock" --json | jq .free_for_new_vm_kib; }

# --- 1. a reservation that needs the guests' memory ------------------------------
p1=$(dom_pages "$id1")
p2=$(dom_pages "$id2")
rec "before: bg1 tot_pages $p1 target $(dom_target "$id1") KiB; bg2 tot_pages $p2 target $(dom_target "$id2") KiB"
f=$(ffree)
filler=$((f - 32768))
r=$(rpc reserve_memory "[\"f1\",\"$sess\",$filler]")
r0=$(echo "$r" | jq -r .result)
check "filler reservation of $filler KiB" "$(echo "$r" | jq -c .error)" = null
free_left=$(ffree)
want=$((free_left + 122880)) # 120 MiB more than is free: squeeze 128 MiB with the 8 kept
xen0=$(stable_free)
xlf0=$(xl info | awk '/^free_memory/ { print $3 }')
rec "free for a new VM after the filler: $free_left KiB; Xen free $xen0 pages (xl info free_memory $xlf0 MiB)"
t=$(up)
r=$(rpc reserve_memory "[\"r1\",\"$sess\",$want]")
secs=$(awk -v a="$t" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
r1=$(echo "$r" | jq -r .result)
rec "reserve_memory $want KiB: $r (${secs} s)"
check "the reservation that needs the guests' memory succeeds" "$(echo "$r" | jq -c .error)" = null
last=$(rpc xenfit.last_squeeze '["l1"]' | jq -c .result)
rec "xenfit.last_squeeze: $last"
q1=$(dom_pages "$id1")
q2=$(dom_pages "$id2")
xen1=$(stable_free)
xlf1=$(xl info | awk '/^free_memory/ { print $3 }')
for id in $id1 $id2; do
  rec "after: domid $id tot_pages $(dom_pages "$id") max_pages $(kv max_pages "$(probe dom "$id")") memory/target $(dom_target "$id") memory-offset $(xs "$id" memory/memory-offset) KiB"
done
rec "Xen free $xen1 pages (xl info free_memory $xlf1 MiB): rose $((xen1 - xen0)) pages"
xl list | tee -a "$out"
need=$(((want + 8192 - free_left) / 4))
gave=$((p1 - q1 + p2 - q2))
check "squeeze result" "$(echo "$last" | jq -r .result)" = success
check "bg1 ballooned down (pages)" "$q1" -lt "$p1"
check "bg2 ballooned down (pages)" "$q2" -lt "$p2"
check "bg1 still at or above dynamic-min" "$q1" -ge $((dmin_kib / 4 - 64))
check "the guests gave what the squeeze needed ($need pages)" "$gave" -ge $((need - 256))
check "Xen's free pages rose by what they gave ($gave)" $((xen1 - xen0)) -ge $((gave - 256))
check "... and by what the reservation needed ($need)" $((xen1 - xen0)) -ge $((need - 256))
check "targets followed: bg1's actual at its target" "$(((q1 * 4 - $(dom_target "$id1")) / 1024))" = 0
check "... bg2's" "$(((q2 * 4 - $(dom_target "$id2")) / 1024))" = 0
check "the squeeze reports both guests" "$(echo "$last" | jq '.gave | length')" = 2

# --- 2. deleted, balanced: back up ------------------------------------------------
for id in $r1 $r0; do
  r=$(rpc delete_reservation "[\"d\",\"$sess\",\"$id\"]")
  check "delete $id" "$(echo "$r" | jq -c .error)" = null
done
t=$(up)
r=$(rpc balance_memory '["b1"]')
check "balance_memory" "$(echo "$r" | jq -c .error)" = null
wait_pages "$id1" "$p1" 60 || true
wait_pages "$id2" "$p2" 60 || true
secs=$(awk -v a="$t" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
b1=$(dom_pages "$id1")
b2=$(dom_pages "$id2")
xen2=$(stable_free)
rec "after balance_memory (${secs} s): bg1 tot_pages $b1 target $(dom_target "$id1") KiB; bg2 tot_pages $b2 target $(dom_target "$id2") KiB; Xen free $xen2 pages"
rec "xenfit.last_squeeze: $(rpc xenfit.last_squeeze '["l2"]' | jq -c .result)"
check "bg1's target back at dynamic-max" "$(dom_target "$id1")" = "$dmax_kib"
check "bg2's target back at dynamic-max" "$(dom_target "$id2")" = "$dmax_kib"
check "bg1 ballooned back up (within 64 pages of $p1)" "$b1" -ge $((p1 - 64))
check "bg2 ballooned back up (within 64 pages of $p2)" "$b2" -ge $((p2 - 64))
check "Xen's free pages fell back" $((xen1 - xen2)) -ge $((gave - 256))

# --- 3. a stuck guest -------------------------------------------------------------
xl pause bg2
f=$(ffree)
filler=$((f - 32768))
r=$(rpc reserve_memory "[\"f2\",\"$sess\",$filler]")
check "filler again" "$(echo "$r" | jq -c .error)" = null
free_left=$(ffree)
# 200 MiB more than is free: bg1 can give 128 MiB at most, bg2 must give too.
want=$((free_left + 204800))
s1=$(dom_pages "$id1")
s2=$(dom_pages "$id2")
t=$(up)
r=$(rpc reserve_memory "[\"r2\",\"$sess\",$want]")
secs=$(awk -v a="$t" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
rec "bg2 paused; reserve_memory $want KiB: $r (${secs} s)"
last=$(rpc xenfit.last_squeeze '["l3"]' | jq -c .result)
rec "xenfit.last_squeeze: $last"
e1=$(dom_pages "$id1")
e2=$(dom_pages "$id2")
rec "bg1 tot_pages $s1 -> $e1 (target $(dom_target "$id1") KiB); bg2 tot_pages $s2 -> $e2 (target $(dom_target "$id2") KiB)"
check "refused, naming the stuck guest only" "$(echo "$r" | jq -c .error)" = "[\"Domains_refused_to_cooperate\",[$id2]]"
check "last squeeze: refused [$id2]" "$(echo "$last" | jq -c .refused)" = "[$id2]"
check "bg1 gave all it could (at dynamic-min, within 64 pages)" "$e1" -le $((dmin_kib / 4 + 64))
check "bg2 did not move" "$e2" = "$s2"
check "no reservation r2" "$(xenfit reservations --socket "$sock" --json | jq length)" = 1
xl unpause bg2

# --- 4. a running guest whose driver cannot give the pages -----------------------
# bg1 and bg2 go (so that bg2, once unpaused, does not balloon down meanwhile);
# bg3 alone is balloonable: of the 100 MiB asked its driver finds only what
# its page allocator has free.
destroy_guest bg1
destroy_guest bg2
xenstore-write "/local/domain/$id3/memory/dynamic-min" "$dmin_kib" \
  "/local/domain/$id3/memory/dynamic-max" "$dmax_kib" "/local/domain/$id3/control/feature-balloon" 1 ||
  fail "xenstore-write for domid $id3"
r=$(rpc delete_reservation "[\"d\",\"$sess\",\"$(xenfit reservations --socket "$sock" --json | jq -r '.[0].reservation_id')\"]")
check "filler deleted" "$(echo "$r" | jq -c .error)" = null
f=$(ffree)
r=$(rpc reserve_memory "[\"f3\",\"$sess\",$((f - 32768))]")
check "filler again" "$(echo "$r" | jq -c .error)" = null
free_left=$(ffree)
want=$((free_left + 94208)) # 100 MiB to free with the 8 kept
s3=$(dom_pages "$id3")
t=$(up)
r=$(rpc reserve_memory "[\"r3\",\"$sess\",$want]")
secs=$(awk -v a="$t" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
rec "bg3 (memmap=150M\$100M): $(grep -m 1 'xenbed guest up' /var/log/xen/console/guest-bg3.log)"
rec "bg3 running, alone balloonable; reserve_memory $want KiB: $r (${secs} s)"
last=$(rpc xenfit.last_squeeze '["l4"]' | jq -c .result)
rec "xenfit.last_squeeze: $last"
e3=$(dom_pages "$id3")
rec "bg3 tot_pages $s3 -> $e3 (target $(dom_target "$id3") KiB)"
check "refused, naming the running guest that could not give" "$(echo "$r" | jq -c .error)" = "[\"Domains_refused_to_cooperate\",[$id3]]"
check "bg3 gave some pages" "$e3" -lt "$s3"
check "... but not down to its target" $((e3 * 4)) -gt "$(dom_target "$id3")"

kill "$pid"
wait "$pid" 2>/dev/null
grep -i -E 'squeez|balanc|refus' "$dir/log" | tail -n 20 | sed 's/^/  log: /'
destroy_guest bg3
finish
