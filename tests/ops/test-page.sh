#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# xenfitd's live page (GET / on --metrics-socket) in headless Chromium: it
# loads with no external asset, draws a bar per node with the known values of
# the simulated test host (tests/data/hosts/daemon-2node.json: node 0 has 64
# MiB used, 256 MiB free in the DMA zone, and here a VM's 4133 MiB reserved;
# node 1 has dom0's 1024 MiB used), lists the reservations and the recent
# events (a refusal), and keeps refreshing itself (its GET /state.json
# count grows while Chromium's virtual clock runs). Chromium reaches the
# Unix socket through socat on a loopback port. Skips (77) without
# chromium or socat (Debian packages chromium, socat).
# Usage: test-page.sh XENFIT XENFITD NOTIFY_RUN
set -u
XENFIT=$1 XENFITD=$2 NOTIFY_RUN=$3
. "$(dirname "$0")/../cli/lib.sh"
for tool in chromium socat curl; do
  if ! command -v $tool >/dev/null; then
    echo "SKIP: $tool is not installed (scripts/install-deps.sh installs it)" >&2
    exit 77
  fi
done

dir=$(mktemp -d /tmp/xf-page-XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
mkfifo "$dir/ready"
"$NOTIFY_RUN" "$dir/notify" "$XENFITD" --host "$XF_TEST_DATA/hosts/daemon-2node.json" \
  --state-dir "$dir/state" --socket "$dir/s" --metrics-socket "$dir/m" \
  2>"$dir/log" >"$dir/ready" &
pids+=($!)
if ! read -r -t 10 ready <"$dir/ready" || [ "$ready" != READY=1 ]; then
  echo "xenfitd did not get ready:" >&2
  cat "$dir/log" >&2
  exit 1
fi
export XENFITD_SOCKET=$dir/s
"$XENFIT" reserve --kib 1048576 >/dev/null
"$XENFIT" reserve --type hvm --static-max 4G --vcpus 2 >/dev/null
"$XENFIT" reserve --type hvm --static-max 64G --vcpus 2 >/dev/null 2>&1 # refused

# A free loopback port for the bridge: socat exits at once if it is taken.
port=
for _ in 1 2 3 4 5 6 7 8; do
  p=$((20000 + RANDOM % 20000))
  socat TCP-LISTEN:$p,bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:"$dir/m" 2>/dev/null &
  spid=$!
  sleep 0.2
  if kill -0 $spid 2>/dev/null && curl -sf "http://127.0.0.1:$p/metrics" >/dev/null; then
    port=$p
    pids+=($spid)
    break
  fi
  kill $spid 2>/dev/null
done
[ -n "$port" ] || {
  echo "FAIL: no loopback port for socat" >&2
  exit 1
}
refreshes() {
  curl -s "http://127.0.0.1:$port/metrics" |
    awk '$1 == "xenfitd_web_requests_total{path=\"/state.json\"}" { print $2 }'
}

src=$(curl -s "http://127.0.0.1:$port/")
expect_eq "no external assets" "$(grep -ciE '(src|href)=|@import|url\(' <<<"$src")" 0
before=$(refreshes)
dom=$(timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
  --user-data-dir="$dir/chromium" --virtual-time-budget=4000 --dump-dom \
  "http://127.0.0.1:$port/" 2>"$dir/chromium.log")
after=$(refreshes)
expect_match "Chromium drew the page" "$dom" '<span id="updated">[0-9]'
expect_match "host" "$dom" '<span id="host" class="muted">daemon-2node \(backend sim\)</span>'
expect_eq "no fetch error" "$(grep -c '<span id="error"></span>' <<<"$dom")" 1
expect_eq "a bar per node" "$(grep -o 'class="bar"' <<<"$dom" | wc -l)" 2
seg() { # node class: the segment's MiB
  grep -o "id=\"node-$1\".*" <<<"$dom" | grep -o "class=\"$2\" title=\"[^\"]*\" data-mib=\"[0-9-]*\"" |
    head -1 | sed 's/.*data-mib="\(.*\)"/\1/'
}
expect_eq "node 0 used" "$(seg 0 used)" 64
expect_eq "node 0 reserved: the VM" "$(seg 0 reserved)" 4133
expect_eq "node 0 DMA zone" "$(seg 0 dma)" 256
expect_eq "node 1 used: dom0" "$(seg 1 used)" 1024
expect_eq "node 1 free" "$(seg 1 free)" 7168
expect_eq "two reservations listed" "$(grep -o '<tr class="resv">' <<<"$dom" | wc -l)" 2
expect_match "the VM's row" "$dom" '<td>xenfit-cli</td><td>vm</td><td>pending</td><td>-</td><td class="num">4133</td><td>0</td>'
expect_match "the refusal among the events" "$dom" '<li class="info">[^<]*refused: HOST_NOT_ENOUGH_FREE_MEMORY'
expect_match "summary" "$dom" '2 pending, 0 transferred, 0 settled; 1 refused'
expect_match "it refreshed itself (GET /state.json $before -> $after)" "$((after - before))" \
  '^([3-9]|[1-9][0-9]+)$'
finish
