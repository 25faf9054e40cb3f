#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# xenfitd's metrics (--metrics-socket, GET /metrics): off by default; the
# text exposition format, well formed; the values of known reservations on
# the simulated test host (tests/data/hosts/daemon-2node.json: nodes of 8192
# MiB, node 0 with 8128 MiB free of which 256 MiB in the DMA zone, node 1
# with 7168 MiB free; an hvm VM of 4096 MiB with 2 vCPUs takes 4232192 KiB,
# placed on node 0); refusals, a drift alarm, a reservation settled, two
# expired; the latency histograms count every request.
# Usage: test-metrics.sh XENFIT XENFITD NOTIFY_RUN
set -u
XENFIT=$1 XENFITD=$2 NOTIFY_RUN=$3
. "$(dirname "$0")/../cli/lib.sh"

dir=$(mktemp -d /tmp/xf-metrics-XXXXXX)
pid=
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
trap 'stop; rm -rf "$dir"' EXIT
start() { # extra flags...
  rm -f "$dir/ready"
  mkfifo "$dir/ready"
  "$NOTIFY_RUN" "$dir/notify" "$XENFITD" --host "$XF_TEST_DATA/hosts/daemon-2node.json" \
    --state-dir "$dir/state" --socket "$dir/s" --sweep-interval 50 "$@" \
    2>>"$dir/log" >"$dir/ready" &
  pid=$!
  local ready=
  if ! read -r -t 10 ready <"$dir/ready" || [ "$ready" != READY=1 ]; then
    echo "xenfitd did not get ready:" >&2
    cat "$dir/log" >&2
    exit 1
  fi
}
export XENFITD_SOCKET=$dir/s
rpc() { # method params-json
  curl -s --unix-socket "$dir/s" -d "{\"method\":\"$1\",\"id\":1,\"params\":$2}" http://xenfitd/
}
scrape() { curl -s --unix-socket "$dir/m" http://xenfitd/metrics; }
# value METRICS SERIES: the sample's value (SERIES exactly, labels included).
value() { awk -v s="$2" '$1 == s { print $2 }' <<<"$1"; }

start
expect_eq "off by default: only the control socket" \
  "$(cd "$dir" && find . -type s ! -name notify | sort)" "./s"
stop

start --metrics-socket "$dir/m"
"$XENFIT" reserve --kib 1048576 >/dev/null
"$XENFIT" reserve --type hvm --static-max 4G --vcpus 2 >/dev/null
"$XENFIT" reserve --type hvm --static-max 16G --vcpus 2 >/dev/null 2>&1 # refused: memory
"$XENFIT" reserve --kib 99999999 >/dev/null 2>&1                        # refused: memory
# 600 pages more than the model's 1057792 for this VM: a drift alarm.
out=$(rpc xenfit.observe_build '["t",{"type":"hvm","static_max_mib":4096,"vcpus":2},4233568]')
expect_match "observed drift" "$out" '"drift":true'

m=$(scrape)
# The format: HELP and TYPE before each family, then samples "name{labels} value".
bad=$(awk '
  /^# HELP [a-z_]+ / { next }
  /^# TYPE [a-z_]+ (gauge|counter|histogram)$/ { typed[$3] = 1; next }
  /^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9]+(\.[0-9]+)?$/ {
    name = $1; sub(/\{.*/, "", name); base = name; sub(/_(bucket|sum|count)$/, "", base)
    if (!(name in typed) && !(base in typed)) print "untyped: " $0
    next }
  { print "malformed: " $0 }' <<<"$m")
expect_eq "exposition format" "$bad" ""
expect_eq "node 0 size" "$(value "$m" 'xenfitd_node_size_bytes{node="0"}')" 8589934592
expect_eq "node 1 free (7168 MiB)" "$(value "$m" 'xenfitd_node_free_bytes{node="1"}')" 7516192768
expect_eq "node 0 free (8128 MiB)" "$(value "$m" 'xenfitd_node_free_bytes{node="0"}')" 8522825728
expect_eq "node 0 DMA zone (256 MiB)" "$(value "$m" 'xenfitd_node_dma_free_bytes{node="0"}')" 268435456
expect_eq "node 0 claimed" "$(value "$m" 'xenfitd_node_claimed_bytes{node="0"}')" 0
expect_eq "node 0 reserved: the VM" "$(value "$m" 'xenfitd_node_reserved_bytes{node="0"}')" \
  $((4232192 * 1024))
expect_eq "node 1 reserved" "$(value "$m" 'xenfitd_node_reserved_bytes{node="1"}')" 0
expect_eq "pending" "$(value "$m" 'xenfitd_reservations{state="pending"}')" 2
expect_eq "pending bytes" "$(value "$m" 'xenfitd_reservation_bytes{state="pending"}')" \
  $(((1048576 + 4232192) * 1024))
expect_eq "host free for new VMs" "$(value "$m" xenfitd_host_free_for_new_vm_bytes)" \
  $(((15597568 - 1048576 - 4232192) * 1024))
expect_eq "refused for memory" "$(value "$m" 'xenfitd_admission_refusals_total{reason="memory"}')" 2
expect_eq "drift alarms" "$(value "$m" xenfitd_drift_alarms_total)" 1
expect_eq "requests" "$(value "$m" xenfitd_requests_total)" 5
expect_eq "every request timed" "$(value "$m" xenfitd_request_handle_seconds_count)" 5
expect_eq "+Inf bucket is the count" \
  "$(value "$m" 'xenfitd_request_handle_seconds_bucket{le="+Inf"}')" 5
expect_eq "buckets cumulative" "$(awk '/^xenfitd_request_handle_seconds_bucket/ {
  if ($2 < last) print "decreasing at " $1; last = $2 }' <<<"$m")" ""
expect_match "commits timed" "$(value "$m" xenfitd_commit_seconds_count)" '^[1-9][0-9]*$'
expect_eq "no false admit yet" "$(value "$m" xenfitd_false_admits_total)" 0

# A build reported failed for the VM's reservation is a false admit; one
# without a reservation xenfitd granted is not.
vm_id=$("$XENFIT" reservations --json | jq -r '.[] | select(.kind == "vm") | .reservation_id')
out=$(rpc xenfit.report_build "[\"t\",\"xenfit-cli\",{\"outcome\":\"failed\",\"reservation_id\":\"$vm_id\",\"errno\":12}]")
expect_match "build failure reported" "$out" '"error":null'
rpc xenfit.report_build '["t","xenfit-cli",{"outcome":"failed","errno":12}]' >/dev/null
expect_eq "false admits" "$(value "$(scrape)" xenfitd_false_admits_total)" 1

# The 1 GiB reservation handed to a domain that holds it: settled by the sweep.
id=$("$XENFIT" reservations --json | jq -r '.[] | select(.kind == "amount") | .reservation_id')
domid=$(rpc xenfit.sim_domain_create '["t",1048576,true]' | sed -n 's/.*"result":\([0-9]*\).*/\1/p')
out=$(rpc transfer_reservation_to_domain "[\"t\",\"xenfit-cli\",\"$id\",$domid]")
expect_match "transferred" "$out" '"error":null'
sleep 0.3
m=$(scrape)
expect_eq "settled" "$(value "$m" 'xenfitd_reservations{state="settled"}')" 1
expect_eq "settled by the sweep" "$(value "$m" xenfitd_reservations_settled_total)" 1
# Past the TTL (600 s) the VM's reservation expires.
rpc xenfit.sim_advance_time '["t",601000]' >/dev/null
sleep 0.3
m=$(scrape)
expect_eq "none pending" "$(value "$m" 'xenfitd_reservations{state="pending"}')" 0
expect_eq "expired" "$(value "$m" 'xenfitd_reservations_ended_total{reason="expired"}')" 1
expect_eq "node 0 reserved after expiry" \
  "$(value "$m" 'xenfitd_node_reserved_bytes{node="0"}')" 0

# Only GETs, only the three paths; the control socket serves no metrics.
expect_match "POST refused" "$(curl -si --unix-socket "$dir/m" -d x http://xenfitd/metrics)" \
  '^HTTP/1.1 405 '
expect_match "unknown path" "$(curl -si --unix-socket "$dir/m" http://xenfitd/nope)" \
  '^HTTP/1.1 404 '
expect_match "not on the control socket" "$(curl -si --unix-socket "$dir/s" http://xenfitd/metrics)" \
  '^HTTP/1.1 405 '
expect_match "content type" "$(curl -si --unix-socket "$dir/m" http://xenfitd/metrics)" \
  '^Content-Type: text/plain; version=0.0.4'
stop
expect_eq "metrics socket removed at exit" "$(test -e "$dir/m" && echo there)" ""
expect_fail "same path as --socket" 2 "--metrics-socket '$dir/s': the same path as --socket" \
  "$XENFITD" --host "$XF_TEST_DATA/hosts/daemon-2node.json" --socket "$dir/s" --metrics-socket "$dir/s"
finish
