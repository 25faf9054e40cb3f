# SPDX-License-Identifier: LGPL-2.1-only
#
# xen-admit: xenfit's admission against the real host (xenfit admit
# --backend xen, the xenfit policy, no reservations pending).
#  1. For PV guests of several sizes, the footprint admission reserves is
#     never below what the guest really took (host free pages before minus
#     after), and the slack is printed.
#  2. Fill the real host by admission: ask for one more 256 MiB, 2-vCPU PV
#     guest and build it while the answer is yes; no build may fail, and the
#     last answer is HOST_NOT_ENOUGH_FREE_MEMORY with the numbers. Then a
#     last guest sized to what admission still accepts (the brim), if it is
#     at least the 96 MiB the guest kernel needs: it must build too.
# Guests are built with xl (libxl's own claim_mode), paused.
. /xenfit/lib.sh

admit() { # admit VCPUS MEMORY_MIB -> the JSON answer
  xenfit admit --backend xen --type pv --static-max "$2" --vcpus "$1" --json
}

# 1. footprint >= took
for vm in 1,128 4,256 16,512 32,256; do
  v=${vm%,*} m=${vm#*,}
  a=$(admit "$v" "$m")
  fp=$(echo "$a" | jq .footprint_pages)
  [ "$(echo "$a" | jq .admitted)" = true ] || fail "pv${v}v${m}m: not admitted on an empty host: $a"
  r=$(measure_pv "adm$v-$m" "$v" "$m") || {
    fail "adm$v-$m: build failed"
    continue
  }
  took=$(kv took "$r")
  check "pv ${v} vCPUs ${m} MiB: admission reserves $fp pages >= took $took (slack $((fp - took)))" "$fp" -ge "$took"
  destroy_guest "adm$v-$m" "$(kv before "$r")"
done

# 2. fill by admission
built=0 i=0 last=""
while [ $i -lt 64 ]; do
  i=$((i + 1))
  last=$(admit 2 256)
  [ "$(echo "$last" | jq .admitted)" = true ] || break
  if build_pv "fill$i" 2 256 >/dev/null; then
    built=$((built + 1))
  else
    fail "fill$i: admitted, then the build failed: $(tr '\n' ' ' </tmp/fill$i.create.log)"
  fi
done
note "built $built guests of 256 MiB by admission; the last answer: $(echo "$last" | jq -c '{admitted, footprint_mib, host_free_mib, reason}')"
check "the host took several guests" "$built" -ge 3
check "the fill ended on a refusal" "$(echo "$last" | jq -r .admitted)" = false
case $(echo "$last" | jq -r .reason) in
  "HOST_NOT_ENOUGH_FREE_MEMORY: needs "*" MiB, the host has "*" MiB free for a new VM") check "refusal names the numbers" yes = yes ;;
  *) fail "refusal without numbers: $(echo "$last" | jq -r .reason)" ;;
esac

# The brim: the largest PV guest admission still accepts (8 MiB steps down).
free=$(echo "$last" | jq .host_free_mib)
m=$((free - 4))
while [ "$m" -ge 96 ]; do
  [ "$(admit 1 "$m" | jq .admitted)" = true ] && break
  m=$((m - 8))
done
if [ "$m" -ge 96 ]; then
  if build_pv brim 1 "$m" >/dev/null; then
    check "the brim guest of $m MiB (admitted with $free MiB free) built" ok = ok
  else
    fail "brim: $m MiB admitted, then the build failed: $(tr '\n' ' ' </tmp/brim.create.log)"
  fi
else
  note "less than 96 MiB left ($free MiB): no brim guest (the guest kernel needs 96 MiB)"
fi

for d in $(xl list | awk 'NR > 2 { print $1 }'); do xl destroy "$d" 2>/dev/null; done
finish
