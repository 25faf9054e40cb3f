# SPDX-License-Identifier: LGPL-2.1-only
#
# xen-libxl: what xenfit's accounting assumes about domains built by libxl
# (xl create), and claims as the rest of the toolstack sees them:
#  - a PV guest of M MiB has tot_pages = M * 256 exactly and max_pages =
#    M * 256 + 256 (libxl's 1 MiB slack), so a claim for more than its memory
#    is EINVAL until max_pages is raised;
#  - a claim made through the backend is outstanding host-wide: xl info's
#    outstanding_claims and `xl claims` show it, and free_memory is
#    (free_pages - outstanding) / 256;
#  - the guest kernel really boots in this bed (unpaused, it reports its
#    vCPUs and memory on its console), and running adds no pages to it.
. /xenfit/lib.sh

mem=128
id=$(build_pv libxl1 1 $mem) || { fail "xl create"; finish; }
d=$(probe dom "$id")
echo "  $d"
check "tot_pages = memory * 256" "$(kv tot_pages "$d")" = $((mem * 256))
check "max_pages = memory * 256 + 256" "$(kv max_pages "$d")" = $((mem * 256 + 256))
check "type" "$(kv type "$d")" = pv
check "paused" "$(kv paused "$d")" = 1

# A claim for 1 GiB total: above max_pages (33024) -> EINVAL.
target=262144
r=$(probe claim "$id" $target)
check "claim above max_pages" "$(kv err "$r")" = XF_EINVAL
probe maxpages "$id" $((target + 256)) >/dev/null
r=$(probe claim "$id" $target)
check "claim after raising max_pages" "$(kv rc "$r")" = 0
out=$((target - mem * 256)) # 229376 pages = 896 MiB outstanding
d=$(probe dom "$id")
p=$(probe phys)
check "domain outstanding" "$(kv outstanding_pages "$d")" = $out
check "host outstanding" "$(kv outstanding_pages "$p")" = $out
info=$(xl info)
xlv() { echo "$info" | sed -n "s/^$1 *: *//p"; }
check "xl info outstanding_claims (MiB)" "$(xlv outstanding_claims)" = $((out / 256))
check "xl info free_memory = (free - outstanding) / 256" "$(xlv free_memory)" = \
  $((($(kv free_pages "$p") - out) / 256))
claims=$(xl claims | awk '$1 == "libxl1" { print $NF }')
check "xl claims shows the claim (MiB)" "$claims" = $((out / 256))
r=$(probe claim "$id" 0)
check "cancel" "$(kv outstanding_pages "$(probe dom "$id")")" = 0

# Run it: the guest prints "xenbed guest up: <cpus> cpus, MemTotal: ... kB".
xl unpause libxl1
t0=$(up)
log=/var/log/xen/console/guest-libxl1.log
line=""
while awk -v a="$t0" -v b="$(up)" 'BEGIN { exit !(b - a < 120) }'; do
  line=$(grep -m 1 'xenbed guest up' "$log" 2>/dev/null) && break
  sleep 1
done
note "guest console after $(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.0f", b - a }') s: $line"
check "guest booted" "$(echo "$line" | grep -c 'guest up: 1 cpus')" = 1
d=$(probe dom "$id")
check "running guest's tot_pages" "$(kv tot_pages "$d")" = $((mem * 256))
destroy_guest libxl1
finish
