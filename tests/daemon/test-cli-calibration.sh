#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# `xenfit calibration` against a real xenfitd on the simulated test host: an
# observed build raises what admission charges, an implausible observation
# is refused, and a reset forgets what was learned, durably (a restarted
# daemon sizes with xen-api's model again).
# Usage: test-cli-calibration.sh XENFIT XENFITD
set -u
XENFIT=$1
XENFITD=$2
. "$(dirname "$0")/../cli/lib.sh"

dir=$(mktemp -d /tmp/xfd-calib-XXXXXX)
pid=
start() {
  "$XENFITD" --host "$XF_TEST_DATA/hosts/daemon-2node.json" --state-dir "$dir/state" \
    --socket "$dir/s" 2>>"$dir/log" &
  pid=$!
  for _ in $(seq 200); do [ -S "$dir/s" ] && "$XENFIT" status >/dev/null 2>&1 && break; sleep 0.05; done
}
stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
trap 'stop; rm -rf "$dir"' EXIT
export XENFITD_SOCKET=$dir/s
start

# One observation through the protocol: a 4096 MiB hvm VM with 2 vCPUs took
# 600 pages beyond the model's 4132 MiB (1057792 pages): (1057792 + 600) x 4 KiB.
obs() {
  curl -s --unix-socket "$dir/s" -d "{\"method\":\"xenfit.observe_build\",\"id\":1,\"params\":[\"t\",{\"type\":\"hvm\",\"static_max_mib\":4096,\"vcpus\":2},$1]}" \
    http://xenfitd/ | grep -c '"error":null'
}
expect_eq "observe" "$(obs $(((1057792 + 600) * 4)))" 1
expect_eq "observe bytes as KiB refused" "$(obs $(((1057792 + 600) * 4 * 1024)))" 0

out=$("$XENFIT" calibration)
expect_match "show row" "$out" '^hvm +2 +600 +600$'
expect_match "show count" "$out" '^1 row learned$'
json=$("$XENFIT" calibration show --json)
expect_match "show json" "$json" '"needed_pages": 600'
out=$("$XENFIT" reserve --type hvm --static-max 4G --vcpus 2)
expect_match "charged after observe" "$out" 'footprint 4135 MiB'

expect_fail "reset without type" 2 "reset needs a type" "$XENFIT" calibration reset
expect_fail "reset bad type" 1 "type 'hvx': expected hvm, pvh, pv, pv_in_pvh or all" \
  "$XENFIT" calibration reset hvx
expect_fail "bad action" 2 "unknown action 'drop'" "$XENFIT" calibration drop
out=$("$XENFIT" calibration reset pv)
expect_eq "reset pv" "$out" "calibration of pv reset: 0 rows forgotten"
out=$("$XENFIT" calibration reset hvm)
expect_eq "reset hvm" "$out" "calibration of hvm reset: 1 row forgotten"

stop
start
out=$("$XENFIT" calibration)
expect_match "reset is durable" "$out" '^0 rows learned$'
out=$("$XENFIT" reserve --type hvm --static-max 4G --vcpus 2)
expect_match "xen-api's model again" "$out" 'footprint 4133 MiB'
finish
