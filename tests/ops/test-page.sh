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

# The screenshot: the bars are drawn in their colours (web-page.c's CSS), and
# the claimed colour nowhere (no node has claims). Kept as ops-page.png in
# the test's working directory for a look.
timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
  --user-data-dir="$dir/chromium" --virtual-time-budget=3000 --window-size=1000,700 \
  --hide-scrollbars --screenshot="$dir/page.png" "http://127.0.0.1:$port/" \
  >/dev/null 2>>"$dir/chromium.log"
cp "$dir/page.png" ops-page.png 2>/dev/null
colours=$(python3 - "$dir/page.png" <<'PY'
# Counts the pixels of each bar colour in an 8-bit RGB(A) PNG (stdlib only).
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
bpp = 3 if ctype == 2 else 4
raw, stride, prev, out = zlib.decompress(idat), w * bpp, bytearray(w * bpp), {}
want = {"used": (0xc0, 0x50, 0x4d), "claimed": (0xf7, 0x96, 0x46), "reserved": (0x80, 0x64, 0xa2),
        "free": (0x9b, 0xbb, 0x59), "dma": (0x4b, 0xac, 0xc6)}
count = dict.fromkeys(want, 0)
rgb = {v: k for k, v in want.items()}
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        k = rgb.get(tuple(line[x:x + 3]))
        if k: count[k] += 1
    prev = line
print(" ".join("%s=%d" % (k, count[k]) for k in want))
PY
)
echo "screenshot: $colours"
px() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$colours"; }
# Each colour has a legend swatch; claimed has nothing else (no node has
# claims), every drawn segment adds a bar's worth to its swatch.
swatch=$(px claimed)
expect_match "screenshot: the claimed swatch only" "$swatch" '^[1-9][0-9]{1,2}$'
for seg in used reserved free dma; do
  expect_eq "screenshot: $seg drawn in a bar" "$(($(px $seg) > 2 * swatch))" 1
done
# Node 0: 4133 of 8192 MiB reserved, 256 DMA: reserved is the widest colour
# after free (node 1 is mostly free).
expect_eq "screenshot: reserved wider than DMA" "$(($(px reserved) > $(px dma)))" 1
finish
