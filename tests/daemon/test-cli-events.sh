#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# xenfitd's build records: a refused reservation, a failed build reported
# with its errno, a built one with the memory it took (which calibrates),
# read back with `xenfit events` and `xenfit explain`, and still there after
# the daemon restarts (tests/data/hosts/daemon-2node.json: 15232 MiB free).
# Usage: test-cli-events.sh XENFIT XENFITD
set -u
XENFIT=$1
XENFITD=$2
. "$(dirname "$0")/../cli/lib.sh"
dir=$(mktemp -d /tmp/xfd-events-XXXXXX)
pid=
start() {
  "$XENFITD" --host "$XF_TEST_DATA/hosts/daemon-2node.json" --state-dir "$dir/state" \
    --socket "$dir/s" 2>>"$dir/log" &
  pid=$!
  for _ in $(seq 200); do "$XENFIT" status --socket "$dir/s" >/dev/null 2>&1 && return; sleep 0.05; done
  echo "xenfitd did not start:" >&2
  cat "$dir/log" >&2
  exit 1
}
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
start
export XENFITD_SOCKET=$dir/s

# A VM too big for the host, named by its xl config: refused, recorded.
printf 'name = "huge"\ntype = "hvm"\nmemory = 16384\nvcpus = 2\n' >"$dir/huge.cfg"
"$XENFIT" reserve --xl-config "$dir/huge.cfg" 2>/dev/null
expect_eq "huge refused" "$?" 1
out=$("$XENFIT" explain huge)
expect_match "explain by name" "$out" \
  '^huge: refused: HOST_NOT_ENOUGH_FREE_MEMORY: needs 16517 MiB, the host has 15232 MiB free for a new VM$'

# pv-small (520 MiB footprint) reserved, then its build reported failed.
id=$("$XENFIT" reserve --xl-config "$XF_TEST_DATA/xl/pv-small.cfg" | head -n 1)
json=$("$XENFIT" report-build --json --reservation "$id" --domid 5 --outcome failed --errno 12 \
  --message "xl create exited 3")
expect_eq "failed record" "$(jq -c '[.outcome, .errno, .domid, .kib, .node_mib, .claim.kind]' <<<"$json")" \
  '["failed",12,5,532480,{"0":520},"node"]'
out=$("$XENFIT" explain "$id")
expect_match "explain failed" "$out" "^$id: failed \(errno 12, Cannot allocate memory\): xl create exited 3$"
expect_match "explain shows the reservation" "$out" "^reservation $id: pending, 532480 KiB"
out=$("$XENFIT" explain 5)
expect_match "explain by domid" "$out" '^5: failed \(errno 12'

# A pv domain of 512 MiB with 2 vCPUs that took 531856 KiB = 132964 pages:
# the model without calibrated terms charges 512 + 1 + ceil((512 + 1024)/256)
# = 519 MiB = 132864 pages, so 100 pages were beyond it.
json=$("$XENFIT" report-build --json --domid 6 --outcome built --taken-kib 531856 \
  --type pv --static-max 512 --vcpus 2 --name small2)
expect_eq "built record" "$(jq -c '[.outcome, .domid, .taken_kib, .name, .overhead_pages]' <<<"$json")" \
  '["built",6,531856,"small2",100]'
expect_fail "bad outcome" 1 "report.outcome must be" "$XENFIT" report-build --outcome maybe
expect_fail "taken without vm" 1 "with its vm" "$XENFIT" report-build --outcome built --taken-kib 5

n=$("$XENFIT" events --json | jq length)
expect_eq "three records" "$n" 3
kill $pid
wait $pid
start
out=$("$XENFIT" events)
expect_match "durable" "$out" '^3 records$'
expect_match "durable refusal" "$out" '^ +1 .* refused +xenfit-cli +huge .*needs 16517 MiB'
expect_match "unknown" "$("$XENFIT" explain nobody)" '^nobody: xenfitd has no record of nobody$'
finish
