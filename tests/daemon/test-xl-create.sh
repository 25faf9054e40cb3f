#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# `xenfit xl-create` on the simulator, with a fake xl (tests/daemon/fake-xl)
# that builds the domain inside xenfitd's simulated host. The host
# (tests/data/hosts/daemon-2node.json): node 0 8128 MiB free (8112 without
# its DMA zone), node 1 7168, 15232 MiB free for a new VM. A pv VM of 6000
# MiB with 2 vCPUs has a footprint of 6000 + 1 + ceil((512 + 12000)/256) =
# 49 + 1 = 6051 MiB. Every error path leaves nothing reserved.
set -u
XENFIT=$1
XENFITD=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../cli/lib.sh"
dir=$(mktemp -d /tmp/xfd-xlc-XXXXXX)
export FAKE_XL_DIR=$dir
XL=$HERE/fake-xl
# No periodic sweep during the test: the fake domains run holding 1 MiB, so a
# sweep would settle their reservations (built: running, no claim left) and
# the free figures below would depend on how long the test took.
"$XENFITD" --host "$XF_TEST_DATA/hosts/daemon-2node.json" --state-dir "$dir/state" \
  --socket "$dir/s" --sweep-interval 3600000 2>"$dir/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 200); do "$XENFIT" status --socket "$dir/s" >/dev/null 2>&1 && break; sleep 0.05; done
export XENFITD_SOCKET=$dir/s
pending() { "$XENFIT" reservations --json | jq '[.[] | select(.state == "pending")] | length'; }
vm() { # vm NAME MEMORY [extra line]
  printf 'name = "%s"\ntype = "pv"\nmemory = %s\nvcpus = 2\n%s\n' "$1" "$2" "${3:-}" >"$dir/$1.in.cfg"
}

# Pinned to node 1's CPUs (cpus = "node:1"): the plan stays on node 1 (the
# copy of the config gets cpus_soft = "node:1" after the user's cpus=); a
# pinned VM bigger than node 1 (7200 MiB: footprint 7200 + 1 + ceil((512 +
# 14400)/256) = 59, + 1 = 7261 MiB) is refused with node 1's numbers, though the host
# has room. (Done first: the fake xl builds domains wherever the simulator
# puts them, so what a node has left later depends on the builds' order.)
vm p 512 'cpus = "node:1"'
"$XENFIT" xl-create "$dir/p.in.cfg" --xl "$XL" >/dev/null 2>&1
expect_eq "pinned created" "$?" 0
expect_eq "pinned plan" "$(grep '^cpus' "$dir/p.cfg" | tr '\n' ' ')" 'cpus = "node:1" cpus_soft = "node:1" '
vm q 7200 'cpus = "node:1"'
expect_fail "pinned refused" 1 "needs 7261 MiB on the node of its pinned CPUs (1), which has" \
  "$XENFIT" xl-create "$dir/q.in.cfg" --xl "$XL"

# Two at once, each sized to fit one node: each sees the other's
# reservation, so they land on different nodes.
vm a 6000
vm b 6000
"$XENFIT" xl-create "$dir/a.in.cfg" --xl "$XL" >"$dir/a.out" 2>&1 &
pa=$!
"$XENFIT" xl-create "$dir/b.in.cfg" --xl "$XL" >"$dir/b.out" 2>&1 &
pb=$!
wait $pa
expect_eq "a created" "$?" 0
wait $pb
expect_eq "b created" "$?" 0
soft=$(grep -h '^cpus_soft' "$dir/a.cfg" "$dir/b.cfg" | sort | tr '\n' ' ')
expect_eq "one node each" "$soft" 'cpus_soft = "node:0" cpus_soft = "node:1" '
expect_match "a says so" "$(cat "$dir/a.out")" '^a: domain [0-9]+ created, NUMA plan \{"[01]":6051\}, reservation '
json=$("$XENFIT" reservations --json)
expect_eq "both tied to their domains" \
  "$(jq -c '[.[] | [(.state != "pending"), (.domid != null)]] | unique' <<<"$json")" '[[true,true]]'
expect_eq "nothing pending" "$(pending)" 0
# The third does not fit: refused with the numbers, xl not run. 15232 - 520
# (p) - 2 x 6051 = 2610 MiB, less the fake domains' hidden hypervisor pages
# (the simulator's truth, outside every reservation): 2609.
vm c 6000
before=$(wc -l <"$dir/calls")
expect_fail "third refused" 1 \
  "c: HOST_NOT_ENOUGH_FREE_MEMORY: needs 6051 MiB, the host has 2609 MiB free for a new VM; xl was not run" \
  "$XENFIT" xl-create "$dir/c.in.cfg" --xl "$XL"
expect_eq "xl not run" "$(wc -l <"$dir/calls")" "$before"
expect_match "refusal recorded" "$("$XENFIT" explain c)" \
  '^c: refused: HOST_NOT_ENOUGH_FREE_MEMORY: needs 6051 MiB, the host has [0-9]+ MiB free for a new VM$'

# xl fails: the reservation is released and the failure recorded.
vm d 512
FAKE_XL_FAIL=3 "$XENFIT" xl-create "$dir/d.in.cfg" --xl "$XL" 2>"$dir/err"
expect_eq "xl fails: status" "$?" 1
expect_match "xl fails: message" "$(cat "$dir/err")" '^xenfit: xl-create: d: xl create exited 3; its reservation was released$'
expect_eq "xl fails: nothing pending" "$(pending)" 0
expect_match "xl fails: recorded" "$("$XENFIT" explain d)" '^d: failed: xl create exited 3$'
# The domain cannot be found after xl: released too.
FAKE_XL_NO_DOMID=1 "$XENFIT" xl-create "$dir/d.in.cfg" --xl "$XL" 2>"$dir/err"
expect_eq "no domid: status" "$?" 1
expect_eq "no domid: nothing pending" "$(pending)" 0
# xl missing: refused before anything is reserved.
expect_fail "xl missing" 1 "xl not found: '$dir/no-xl' is not executable; nothing was reserved" \
  "$XENFIT" xl-create "$dir/d.in.cfg" --xl "$dir/no-xl"
expect_fail "xl not on PATH" 1 "xl not found: 'no-such-xl' is not on PATH" \
  "$XENFIT" xl-create "$dir/d.in.cfg" --xl no-such-xl
expect_eq "xl missing: nothing pending" "$(pending)" 0
# The daemon named is down: nothing reserved, xl not run.
before=$(wc -l <"$dir/calls")
expect_fail "daemon down" 1 "cannot reach xenfitd at '$dir/down'" \
  "$XENFIT" xl-create "$dir/d.in.cfg" --xl "$XL" --socket "$dir/down"
expect_eq "daemon down: xl not run" "$(wc -l <"$dir/calls")" "$before"
# Unreadable configs: exit 2, nothing reserved, xl not run.
expect_fail "config missing" 2 "$dir/none.cfg" "$XENFIT" xl-create "$dir/none.cfg" --xl "$XL"
printf 'name = "e"\nmemory = 5x\n' >"$dir/e.in.cfg"
expect_fail "config bad" 2 "$dir/e.in.cfg:2:" "$XENFIT" xl-create "$dir/e.in.cfg" --xl "$XL"
printf 'memory = 512\n' >"$dir/noname.cfg"
expect_fail "config without name" 2 "no name=" "$XENFIT" xl-create "$dir/noname.cfg" --xl "$XL"
expect_fail "overrides refused" 2 "'memory=9000' is not passed on" \
  "$XENFIT" xl-create "$dir/d.in.cfg" --xl "$XL" -- memory=9000
expect_eq "bad input: nothing pending" "$(pending)" 0
expect_eq "bad input: xl not run" "$(wc -l <"$dir/calls")" "$before"

# Without a daemon (--local, or none on the default socket): decided
# locally, nothing to reserve. 1024 + 1 + ceil((512 + 2048)/256) = 10, + 1.
vm l 1024
out=$(XENFITD_SOCKET=$dir/nothing "$XENFIT" xl-create "$dir/l.in.cfg" --xl "$XL" \
  --local --backend sim --host "$XF_TEST_DATA/hosts/daemon-2node.json")
expect_match "local" "$out" '^l: domain 42 created, NUMA plan \{"0":1036\} \(no xenfitd: decided locally\)$'
out=$(XENFITD_SOCKET=$dir/nothing "$XENFIT" xl-create "$dir/l.in.cfg" --xl "$XL" \
  --backend sim --host "$XF_TEST_DATA/hosts/daemon-2node.json")
expect_match "no daemon: local" "$out" 'decided locally'
finish
