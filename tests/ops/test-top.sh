#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# `xenfit top` against xenfitd on the simulated test host
# (tests/data/hosts/daemon-2node.json): one frame as text (--once) with the
# known numbers (node 0: the VM's 4133 MiB reserved, 256 MiB DMA zone, 3739
# MiB for a new VM; node 1: dom0's 1024 MiB used), then the curses view in a
# pseudo-terminal (script(1)) for a few refreshes, quit with q.
# Usage: test-top.sh XENFIT XENFITD NOTIFY_RUN
set -u
XENFIT=$1 XENFITD=$2 NOTIFY_RUN=$3
. "$(dirname "$0")/../cli/lib.sh"

dir=$(mktemp -d /tmp/xf-top-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
mkfifo "$dir/ready"
"$NOTIFY_RUN" "$dir/notify" "$XENFITD" --host "$XF_TEST_DATA/hosts/daemon-2node.json" \
  --state-dir "$dir/state" --socket "$dir/s" 2>"$dir/log" >"$dir/ready" &
pid=$!
if ! read -r -t 10 ready <"$dir/ready" || [ "$ready" != READY=1 ]; then
  echo "xenfitd did not get ready:" >&2
  cat "$dir/log" >&2
  exit 1
fi
export XENFITD_SOCKET=$dir/s
"$XENFIT" reserve --kib 1048576 >/dev/null
"$XENFIT" reserve --type hvm --static-max 4G --vcpus 2 >/dev/null

out=$("$XENFIT" top --once)
expect_match "title" "$out" '^xenfit top - daemon-2node \(backend sim\) - '
expect_match "host line" "$out" '^host: 16384 MiB, 15296 free, 10075 for new VMs; reservations 2 pending'
# 50 cells: 4133 of 8192 MiB reserved is 25 cells, the DMA zone's 256 is 2.
expect_match "node 0 bar" "$out" '^node 0 \[r{25}\.{23}dd\] 8192 MiB$'
expect_match "node 0 numbers" "$out" \
  '^  used 64, claimed 0, reserved 4133 \(not yet held 4133\), free 8128, DMA zone 256; 3739 for a new VM$'
expect_match "node 1 bar: dom0" "$out" '^node 1 \[#{6}\.{44}\] 8192 MiB$'
expect_match "rows" "$out" '^2 reservations$'
expect_match "the VM's row" "$out" ' xenfit-cli +vm +pending +- +4133  0$'
expect_fail "bad option" 2 "--bogus" "$XENFIT" top --bogus
expect_fail "no daemon" 1 "cannot reach xenfitd at '$dir/nope'" "$XENFIT" top --once --socket "$dir/nope"

if command -v script >/dev/null; then
  # Two refreshes, then q.
  (sleep 2.5; printf q) | TERM=xterm timeout 20 script -qec "$XENFIT top" "$dir/typescript" \
    >/dev/null 2>&1
  expect_eq "curses view quits on q" $? 0
  screen=$(tr -d '\033' <"$dir/typescript")
  expect_match "curses drew the nodes" "$screen" 'node 1'
  expect_match "curses drew the reservations" "$screen" '2 reservations'
else
  echo "SKIP: the curses view (script(1), Debian package bsdutils, is missing)" >&2
fi
finish
