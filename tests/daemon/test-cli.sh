#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# xenfit's daemon commands (cli/cmd-daemon.c) against a real xenfitd on the
# simulated test host (tests/data/hosts/daemon-2node.json: 15597568 KiB, 15232
# MiB, free for new VMs; an hvm VM of 4096 MiB with 2 vCPUs has a 4133 MiB footprint,
# placed on node 0 with a node claim of 1048832 pages).
# Usage: test-cli.sh XENFIT XENFITD NOTIFY_RUN
set -u
XENFIT=$1
XENFITD=$2
NOTIFY_RUN=$3
. "$(dirname "$0")/../cli/lib.sh"

dir=$(mktemp -d /tmp/xfd-cli-XXXXXX)
# Up when it says READY=1 (notify-run passes it on through the FIFO).
mkfifo "$dir/ready"
"$NOTIFY_RUN" "$dir/notify" "$XENFITD" --host "$XF_TEST_DATA/hosts/daemon-2node.json" \
  --state-dir "$dir/state" --socket "$dir/s" 2>"$dir/log" >"$dir/ready" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
if ! read -r -t 10 ready <"$dir/ready" || [ "$ready" != READY=1 ]; then
  echo "xenfitd did not get ready:" >&2
  cat "$dir/log" >&2
  exit 1
fi
export XENFITD_SOCKET=$dir/s

out=$("$XENFIT" status)
expect_match "status host" "$out" '^host +: daemon-2node \(backend sim\)'
expect_match "status free" "$out" 'free_for_new_vms +: 15232 MiB'
expect_match "status node 1" "$out" '^ +1: +8192 +7168 +0 +0 +7168 +0$'

id=$("$XENFIT" reserve --kib 1048576)
expect_match "reserve kib" "$id" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
out=$("$XENFIT" reserve --type hvm --static-max 4G --vcpus 2 --session xenopsd)
expect_match "reserve vm footprint" "$out" 'footprint 4133 MiB, reserved 4133 MiB, placement nodes \[0\], MiB per node 0:4133$'
expect_match "reserve vm claim" "$out" 'claim: node 0, 4097 MiB'
json=$("$XENFIT" reserve --json --type hvm --static-max 4096 --vcpus 2 --memory-total-source 4195328K)
expect_match "reserve migration" "$json" '"kind": "migration"'
expect_match "reserve migration footprint" "$json" '"footprint_mib": 4134'

out=$("$XENFIT" status)
# 15597568 - 1048576 - 4232192 - 4233216 KiB = 6083584 KiB = 5941 MiB; the
# three hold 1024 + 4133 + 4134 MiB (their KiB rounded up).
expect_match "status after" "$out" 'free_for_new_vms +: 5941 MiB'
expect_match "status reserved" "$out" 'reserved_not_yet_used +: 9291 MiB'
expect_match "status exact" "$("$XENFIT" status --json)" '"free_for_new_vm_kib": 6083584'
out=$("$XENFIT" reservations)
expect_match "reservations count" "$out" '^3 reservations$'
expect_match "reservations amount" "$out" "^$id  xenfit-cli +amount +pending +- +1024  \[\] +none +in [0-9]+s$"
expect_match "reservations vm" "$out" 'xenopsd +vm +pending +- +4133  \[0\] +node'
# --bytes: exact, from the replies' KiB (6083584 KiB; 4232192 KiB of the VM).
out=$("$XENFIT" status --bytes)
expect_match "status bytes" "$out" 'free_for_new_vms +: 6229590016 B$'
expect_eq "status bytes: no MiB" "$(grep -c ' MiB' <<<"$out")" 0
expect_match "reservations bytes" "$("$XENFIT" reservations --bytes)" 'xenopsd +vm +pending +- +4333764608  \[0\] +node'
expect_fail "release has no sizes" 2 "'--bytes'" "$XENFIT" release "$id" --bytes
n=$("$XENFIT" reservations --json | grep -c '"reservation_id"')
expect_eq "reservations json" "$n" 3

# admit --socket decides against the daemon's ledger (xenfit.admit_vm): the
# three pending reservations count, so a VM that fits the host as it stands
# (admit --host, no ledger) is refused, with the ledger's numbers; and asking
# reserves nothing.
out=$("$XENFIT" admit --host "$XF_TEST_DATA/hosts/daemon-2node.json" --type hvm --static-max 8G --vcpus 2)
expect_match "admit without the ledger" "$out" '^admitted +yes'
out=$("$XENFIT" admit --socket "$dir/s" --type hvm --static-max 8G --vcpus 2)
expect_eq "admit against the ledger: status" "$?" 1
expect_match "admit against the ledger" "$out" \
  "^reason +HOST_NOT_ENOUGH_FREE_MEMORY: needs 8261 MiB, the host has 5941 MiB free for a new VM$"
expect_match "admit against the ledger: nodes" "$out" "^  node 1   free +3034 MiB$"
json=$("$XENFIT" admit --socket "$dir/s" --json --type hvm --static-max 8G --vcpus 2)
expect_eq "admit --json status" "$?" 1
expect_eq "admit --json numbers" "$(jq -c '[.admitted, .needed_mib, .available_mib, .host_free_mib]' <<<"$json")" \
  '[false,8261,5941,5941]'
# 2048 MiB (footprint 2048 + 2 + 18 + 1) fits: node 0 keeps the most after it.
json=$("$XENFIT" admit --socket "$dir/s" --json --type hvm --static-max 2G --vcpus 2)
expect_eq "admit fits" "$(jq -c '[.admitted, .footprint_mib, .nodes, .memory_mib_per_node, .claim.kind, .source]' <<<"$json")" \
  '[true,2069,[0],{"0":2069},"node","xenfitd"]'
# An xl config pinned to node 1's CPUs (cpus = "node:1"; xenfit.host_status
# lists each node's CPUs): placed on node 1, though node 0 keeps more.
json=$("$XENFIT" admit --socket "$dir/s" --json --xl-config "$XF_TEST_DATA/xl/hvm-pinned.cfg")
expect_eq "admit xl pinned" "$(jq -c '[.admitted, .footprint_mib, .nodes]' <<<"$json")" '[true,2087,[1]]'
expect_eq "admit reserves nothing" "$("$XENFIT" reservations --json | jq length)" 3
expect_fail "admit --socket with --host" 2 "no --host, --backend, --policy" \
  "$XENFIT" admit --socket "$dir/s" --host x.json --type hvm --static-max 2G --vcpus 2

expect_fail "refused" 1 "HOST_NOT_ENOUGH_FREE_MEMORY: needs 16517 MiB, the host has 5941 MiB free" \
  "$XENFIT" reserve --type hvm --static-max 16G --vcpus 2
expect_fail "kib too big" 1 "Cannot_free_this_much_memory: [6083585,6083584]" \
  "$XENFIT" reserve --kib 6083585
expect_fail "bad kib" 2 "--kib '-1'" "$XENFIT" reserve --kib -1
# xenfitd refuses 0 KiB (Invalid_memory_value): the CLI says so before sending.
expect_fail "zero kib" 2 "--kib '0': expected an integer in 1..17179869184" "$XENFIT" reserve --kib 0 --socket "$dir/none"
expect_fail "half a MiB" 2 "--static-max '1536K': must be a whole number of MiB" \
  "$XENFIT" reserve --type hvm --static-max 1536K --vcpus 1
expect_fail "kib with vm" 2 "no VM flags" "$XENFIT" reserve --kib 4 --vcpus 2
# The VM flags are footprint's and admit's (cli/vmspec.c): the same checks.
expect_fail "half a MiB target" 2 "--target '1536K': must be a whole number of MiB" \
  "$XENFIT" reserve --type hvm --static-max 4G --target 1536K --vcpus 1
expect_fail "target above max" 2 "--target '8G' is above --static-max '4G'" \
  "$XENFIT" reserve --type hvm --static-max 4G --target 8G --vcpus 1
expect_fail "multiplier range" 2 "--shadow-multiplier '0.5': expected a number in 1.0..1000.0" \
  "$XENFIT" reserve --type hvm --static-max 4G --vcpus 1 --shadow-multiplier 0.5
expect_fail "source zero" 2 "--memory-total-source '0': must be between 1 KiB and 16 TiB" \
  "$XENFIT" reserve --type hvm --static-max 4G --vcpus 1 --memory-total-source 0
# release and transfer (xenfit.transfer refuses a domain that does not exist).
expect_fail "transfer no domain" 1 \
  "xenfit: transfer: Invalid_argument: xenfit.transfer: domain 99 does not exist: nothing to transfer to" \
  "$XENFIT" transfer "$id" 99
expect_match "refused transfer changes nothing" "$("$XENFIT" reservations)" "^$id  xenfit-cli +amount +pending +- "
# The reply itself: Invalid_argument naming the method and the domain.
raw=$(curl -s --unix-socket "$dir/s" -d "{\"method\":\"xenfit.transfer\",\"id\":1,\"params\":[\"t\",\"xenfit-cli\",\"$id\",99]}" http://xenfitd/)
expect_match "xenfit.transfer error" "$raw" '"error":\["Invalid_argument","xenfit.transfer: domain 99 does not exist: nothing to transfer to"\]'
expect_fail "transfer dom0" 2 "DOMID '0': domain 0 is the control domain" "$XENFIT" transfer "$id" 0
expect_fail "transfer bad domid" 2 "DOMID 'x': expected an integer in 1..32751" \
  "$XENFIT" transfer "$id" x
expect_fail "transfer one arg" 2 "give the reservation ID and the DOMID" "$XENFIT" transfer "$id"
expect_fail "release no id" 2 "give the reservation ID" "$XENFIT" release
expect_fail "release extra" 2 "unexpected argument 'b'" "$XENFIT" release a b
domid=$(curl -s --unix-socket "$dir/s" \
  -d '{"method":"xenfit.sim_domain_create","id":1,"params":["t",1024,false]}' http://xenfitd/ |
  sed -n 's/.*"result":\([0-9]*\).*/\1/p')
expect_match "sim domain" "$domid" '^[1-9][0-9]*$'
expect_fail "transfer other session" 1 "Unknown_reservation: $id" \
  "$XENFIT" transfer "$id" "$domid" --session xenopsd
out=$("$XENFIT" transfer "$id" "$domid")
expect_eq "transfer" "$out" "$id transferred to domain $domid (1024 MiB)"
out=$("$XENFIT" reservations)
expect_match "transferred" "$out" "^$id  xenfit-cli +amount +transferred +$domid "
vm=$("$XENFIT" reservations --json | sed -n 's/.*"reservation_id": "\(.*\)",/\1/p' | sed -n 2p)
expect_fail "release other session" 1 "Unknown_reservation: $vm" "$XENFIT" release "$vm"
json=$("$XENFIT" release "$vm" --session xenopsd --json)
expect_match "release json" "$json" '"released": true'
expect_fail "released" 1 "Unknown_reservation: $vm" "$XENFIT" release --session xenopsd "$vm"
out=$("$XENFIT" release "$id")
expect_eq "release transferred" "$out" "released $id"
expect_eq "reservations left" "$("$XENFIT" reservations | tail -n 1)" "1 reservation"
# The daemon's own start-up errors name the cause and exit 1 (bad input: 2).
"$XENFITD" --host "$dir/missing.json" --state-dir "$dir/state2" --socket "$dir/s2" 2>"$dir/err"
expect_eq "missing host spec status" "$?" 1
expect_match "missing host spec message" "$(cat "$dir/err")" \
  "--host '$dir/missing.json': No such file or directory"
"$XENFITD" --host "$XF_TEST_DATA/hosts/daemon-2node.json" --log-level loud 2>"$dir/err"
expect_eq "bad log level status" "$?" 2
expect_match "bad log level message" "$(cat "$dir/err")" "loud.*expected error, warning, info or debug"
expect_fail "no daemon" 1 "cannot reach xenfitd at '$dir/none'" "$XENFIT" status --socket "$dir/none"
finish
