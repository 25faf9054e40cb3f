#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# A wall-clock step must not age a reservation (red-team finding: an NTP step
# of 11 minutes expired a reservation 1.5 s old). xenfitd runs under
# libfaketime, which steps CLOCK_REALTIME by +11 minutes while the daemon
# runs (monotonic clocks untouched, as an NTP step leaves them); a pending
# reservation with a 60 s TTL must survive the sweeps that follow.
# Usage: test-clock-step.sh XENFITD
set -u
XENFITD=$1
. "$(dirname "$0")/../cli/lib.sh"

ft=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
if [ ! -e "$ft" ]; then
  echo "SKIP: libfaketime is not installed (scripts/install-deps.sh installs it)"
  exit 77
fi
dir=$(mktemp -d /tmp/xfd-clock-XXXXXX)
echo "+0" >"$dir/ft"
LD_PRELOAD=$ft FAKETIME_TIMESTAMP_FILE=$dir/ft FAKETIME_NO_CACHE=1 \
  FAKETIME_DONT_FAKE_MONOTONIC=1 ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
  "$XENFITD" --host "$XF_TEST_DATA/hosts/daemon-2node.json" --state-dir "$dir/state" \
  --socket "$dir/s" --reservation-ttl 60 --sweep-interval 100 2>"$dir/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
rpc() {
  curl -s --unix-socket "$dir/s" -d "{\"method\":\"$1\",\"params\":$2,\"id\":1}" http://xenfitd/
}
for _ in $(seq 200); do rpc xenfit.host_status '["t"]' 2>/dev/null | grep -q result && break; sleep 0.05; done

out=$(rpc reserve_memory '["t","s",1024]')
expect_match "reserved" "$out" '"result":"[0-9a-f-]{36}"'
before=$(date +%s)
echo "+11m" >"$dir/ft"
sleep 0.5
rpc xenfit.sweep '["t"]' >/dev/null
sleep 0.3
out=$(rpc xenfit.list_reservations '["t"]')
expect_match "survives the step" "$out" '"state":"pending"'
expect_match "still 60 s to live, not 660 s late" "$out" '"expires_in_s":(5[0-9]|60)[,}]'
# The step did reach the daemon: its log's wall-clock times jumped ~11 minutes
# (a refusal is logged, with the time).
rpc reserve_memory '["t","s",1073741824]' >/dev/null
last=$(grep -o '^[0-9T:-]*' "$dir/log" | tail -1)
jump=$(($(date -d "$last" +%s) - before))
if [ "$jump" -ge 600 ]; then passed=$((passed + 1)); else _fail "the clock step did not reach xenfitd (log at +${jump}s)"; fi
finish
