#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# CLI tests of `xenfit pool`: on tests/data/pool/ (three hosts as xenfitd
# reported them), the host chosen for a VM and the losers' numbers; the
# evacuation of h1 whose db needs its 7000 MiB of source memory on the
# destination, where binpack.ml's plan (compare) fails a step on the
# simulated hosts and xenfit's (verify) does not; HA with one and two
# failures (the smallest blocking set); snapshots fetched from a running
# xenfitd when its binary is given; bad input: exit 2 naming the value.
set -u
XF=${1:?usage: test-pool.sh XENFIT_BINARY [XENFITD_BINARY]}
XFD=${2:-}
. "$(dirname "$0")/lib.sh"
D=${XF_TEST_DATA:-$(dirname "$0")/../data}
P=$D/pool/pool.json

# h2: free_kib 10174 MiB less its 2048 MiB in flight less squeezed's 72 = 8054.
out=$("$XF" pool place web --pool "$P" --json)
expect_eq "place exit" "$?" 0
expect_eq "place web" "$(jq -c '[.fits,.host,.need_mib,.nodes,.node_mib,.left_mib]' <<<"$out")" \
  '[true,"h2",3500,[0],{"0":3500},4554]'
expect_eq "losers" "$(jq -c '[.hosts[] | [.host,.verdict,.free_mib,.nr_nodes]]' <<<"$out")" \
  '[["h2","chosen",8054,1],["h3","worse",6006,2],["h1","current",4721,0]]'
expect_match "loser reason" "$(jq -r '.hosts[1].reason' <<<"$out")" "fits on 2 nodes \(max distance 20\), 2506 MiB left"
# A start needs the footprint only.
expect_eq "place new" "$("$XF" pool place new --pool "$P" --json | jq -c '[.host,.need_mib]')" '["h2",2500]'
expect_eq "place verify" "$("$XF" pool place web --pool "$P" --verify --json | jq -c '.verify')" \
  '{"steps_ok":1,"steps_failed":0,"first_failure":null}'
expect_match "place human" "$("$XF" pool place web --pool "$P")" "h3 +worse +fits on 2 nodes"

# Evacuating h1: db (7000 MiB held now) onto h2's two nodes, web onto h3.
out=$("$XF" pool evacuate h1 --pool "$P" --json --verify --compare)
expect_eq "evacuate exit" "$?" 0
expect_eq "evacuation" "$(jq -c '[.complete, [.steps[] | [.step,.vm,.from,.to,.need_mib,.free_before_mib,.node_mib]]]' <<<"$out")" \
  '[true,[[1,"db","h1","h2",7000,8054,{"0":3748,"1":3252}],[2,"web","h1","h3",3500,6006,{"0":1962,"1":1538}]]]'
expect_eq "verify" "$(jq -c '.verify' <<<"$out")" '{"steps_ok":2,"steps_failed":0,"first_failure":null}'
# binpack sees h2's 10102 MiB (the reservation in flight unseen) and db at
# 3000: web then db onto h2, and db's step finds 4554 MiB there.
expect_eq "binpack plan" "$(jq -c '[.binpack.complete, [.binpack.steps[] | [.vm,.to,.free_before_mib]]]' <<<"$out")" \
  '[true,[["web","h2",7102],["db","h2",10102]]]'
expect_eq "binpack fails" "$(jq -c '.binpack.verify | [.steps_ok,.steps_failed]' <<<"$out")" '[1,1]'
expect_match "binpack failure" "$(jq -r '.binpack.verify.first_failure' <<<"$out")" \
  "db to h2 needs 7000 MiB there, 4554 MiB free"

# Evacuating h2 (app, 5120 MiB): h1 has 4721, h3 6006.
out=$("$XF" pool evacuate h2 --pool "$P" --json)
expect_eq "evacuate h2" "$(jq -c '[.complete,.steps[0].to]' <<<"$out")" '[true,"h3"]'
# Evacuating h3 (batch, 9216 MiB): nowhere.
out=$("$XF" pool evacuate h3 --pool "$P" --json)
expect_eq "refusal exit" "$?" 1
expect_eq "refusal" "$(jq -c '[.complete, (.refused[0] | .vm,.need_mib,.best_host,.best_free_mib)]' <<<"$out")" \
  '[false,"batch",9216,"h2",8054]'
expect_match "refusal human" "$("$XF" pool evacuate h3 --pool "$P")" \
  "cannot move batch: needs 9216 MiB; the most any host has free at its turn is 8054 MiB \(h2\)"

out=$("$XF" pool ha --failures 1 --pool "$P" --json --verify --compare)
expect_eq "ha 1" "$?" 0
expect_eq "ha 1 plan" "$(jq -c '[.possible, [.cases[] | [.failed, [.restarts[] | [.vm,.to]]]]]' <<<"$out")" \
  '[true,[[["h1"],[["web","h3"],["db","h2"]]],[["h2"],[["app","h3"]]],[["h3"],[]]]]'
expect_eq "ha 1 verify" "$(jq -c '.verify | [.steps_ok,.steps_failed]' <<<"$out")" '[3,0]'
expect_eq "ha 1 binpack" "$(jq -c '.binpack' <<<"$out")" '{"possible":true,"heuristic":"bin_pack_every_combination"}'
out=$("$XF" pool ha --failures 2 --pool "$P" --json)
expect_eq "ha 2 exit" "$?" 1
expect_eq "ha 2 blocking" "$(jq -c '.blocking' <<<"$out")" \
  '{"failed":["h2","h3"],"vms":["app"],"smallest":true,"need_mib":5120}'
expect_eq "ha one shard" "$("$XF" pool ha --failures 1 --shard 3 --pool "$P" --json | jq -c '[.possible,.shard_hosts]')" '[true,3]'

# Bad input: exit 2, one line naming the value, nothing on stdout.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${dpid:-}" ] && kill "$dpid" 2>/dev/null' EXIT
expect_fail "no such VM" 2 "place: no VM 'nope'" "$XF" pool place nope --pool "$P"
expect_fail "no such host" 2 "evacuate: no host 'h9'" "$XF" pool evacuate h9 --pool "$P"
expect_fail "failures" 2 "--failures" "$XF" pool ha --failures 0 --pool "$P"
expect_fail "failures too many" 2 "--failures 3 must be below the hosts of the pool (3)" \
  "$XF" pool ha --failures 3 --pool "$P"
expect_fail "shard too small" 2 "below the hosts of each shard (2, the last shard has fewer)" \
  "$XF" pool ha --failures 1 --shard 2 --pool "$P"
expect_fail "no failures" 2 "ha: --failures N is required" "$XF" pool ha --pool "$P"
expect_fail "no pool" 2 "--pool FILE is required" "$XF" pool place web
expect_fail "bad sub" 2 "expected place, evacuate or ha" "$XF" pool move web
jq '.vms[1].footprint_mib = "big"' "$P" >"$tmp/bad.json"
cp "$D"/pool/h*-status.json "$tmp/"
expect_fail "bad footprint" 2 "vms[1].footprint_mib: expected an integer" "$XF" pool place web --pool "$tmp/bad.json"
jq '.vms[0].host = "h7"' "$P" >"$tmp/bad.json"
expect_fail "bad host" 2 "vms[0].host: \"h7\" is not a host of the pool" "$XF" pool place web --pool "$tmp/bad.json"
jq '.hosts[1].status_file = "missing.json"' "$P" >"$tmp/bad.json"
expect_fail "missing status" 2 "missing.json" "$XF" pool place web --pool "$tmp/bad.json"

# Snapshots from a running xenfitd.
if [ -n "$XFD" ]; then
  SPEC=$D/hosts/daemon-2node.json
  "$XFD" --host "$SPEC" --state-dir "$tmp/state" --socket "$tmp/x.sock" --log-level error &
  dpid=$!
  for _ in $(seq 50); do [ -S "$tmp/x.sock" ] && break; sleep 0.1; done
  jq --arg s "$tmp/x.sock" '.hosts[2] = {"name":"live","socket":$s} | .vms |= map(select(.host != "h3"))' \
    "$P" >"$tmp/live.json"
  # The live host: 15296 MiB free less 72 (node 0 7872 without its DMA
  # zone, node 1 7168): one node for web, the most left.
  out=$("$XF" pool place web --pool "$tmp/live.json" --json)
  expect_eq "live host chosen" "$(jq -c '[.host, .nodes, (.hosts[] | select(.host=="live") | .free_mib)]' <<<"$out")" '["live",[0],15224]'
  # db best fits h2 (1054 MiB left), web then goes to the live host.
  expect_eq "evacuate to live" "$("$XF" pool evacuate h1 --pool "$tmp/live.json" --json --verify | jq -c '[.steps[].to,.verify.steps_failed]')" '["h2","live",0]'
  kill "$dpid"
  wait "$dpid" 2>/dev/null
  dpid=
  expect_fail "socket down" 1 "cannot get xenfit.host_status" "$XF" pool place web --pool "$tmp/live.json"
fi
finish
