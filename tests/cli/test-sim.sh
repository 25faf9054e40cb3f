#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# CLI tests of `xenfit sim run`: JSON shape, one policy or all, errors.
set -u
XF=${1:?usage: test-sim.sh XENFIT_BINARY}
SRC=$(cd "${XF_SOURCE_DIR:-$(dirname "$0")/../..}" && pwd)
. "$(dirname "$0")/lib.sh"

out=$("$XF" sim run "$SRC/scenarios/quicktest-fill.json" --json)
expect_eq "policies" "$(jq -c '[.runs[].policy]' <<<"$out")" '["xapi-pre-6869","xapi-6869","xapi-2026.02","xenfit"]'
expect_eq "totals keys" "$(jq -c '.runs[0].totals | keys' <<<"$out")" \
  '["admitted","booted","claims_global","claims_node","claims_none","drift_alarms","false_admits","fit_one_node","late_refusals","refused","requested","requested_fit_one_node","reserved_unused_mib","single_node","waits"]'
expect_eq "false admits" "$(jq -c '[.runs[].totals.false_admits]' <<<"$out")" '[0,0,0,0]'
expect_eq "same requests" "$(jq -c '[.runs[].totals.requested]' <<<"$out")" '[16,16,16,16]'
drift=$("$XF" sim run "$SRC/scenarios/newer-xen-drift.json" --json)
expect_eq "failed vm" "$(jq -r '.runs[0].vms[] | select(.outcome=="failed") | "\(.name) \(.phase) \(.errno)"' <<<"$drift")" "vm-14 populate XF_ENOMEM"
expect_match "refusal reason" "$(jq -r '.runs[3].vms[] | select(.outcome=="refused") | .reason' <<<"$out")" \
  "^HOST_NOT_ENOUGH_FREE_MEMORY: needs 4167 MiB, the host has [0-9]+ MiB free"
one=$("$XF" sim run "$SRC/scenarios/parallel-boot-32.json" --policy xenfit --json)
expect_eq "one policy" "$(jq '.runs | length' <<<"$one")" 1
expect_eq "single node" "$(jq '.runs[0].totals | "\(.single_node)/\(.requested_fit_one_node)"' <<<"$one")" '"32/32"'
# The same seed gives the same run; the table ends with the totals.
a=$("$XF" sim run "$SRC/scenarios/parallel-reboot-claims.json" --seed 9 --json | md5sum)
b=$("$XF" sim run "$SRC/scenarios/parallel-reboot-claims.json" --seed 9 --json | md5sum)
expect_eq "deterministic" "$a" "$b"
expect_match "table" "$("$XF" sim run "$SRC/scenarios/quicktest-fill.json")" "^xenfit +16 +15 +15 +1 +0 +0 "
# Node sets are lists, never masks.
expect_match "node list" "$("$XF" sim run "$SRC/scenarios/parallel-boot-32.json" --policy xenfit --verbose 2>&1 >/dev/null)" "on nodes [0-3] \\(planned [0-3],"
expect_match "verbose" "$("$XF" sim run "$SRC/scenarios/newer-xen-drift.json" --policy xenfit --verbose 2>&1 >/dev/null)" "DRIFT"

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo '{"host":"nope.json","vms":[{"name":"a","type":"hvm","static_max":"1G","vcpus":1}],"steps":[{"boot":"a"}]}' >"$tmp/s.json"
expect_fail "missing host" 2 "cannot load 'nope.json'" "$XF" sim run "$tmp/s.json"
echo '{"host":"'$SRC'/hosts/1node.json","vms":[{"name":"a","type":"hvm","static_max":"1G","vcpus":0}],"steps":[{"boot":"a"}]}' >"$tmp/v.json"
expect_fail "bad vcpus" 2 "vms[0].vcpus" "$XF" sim run "$tmp/v.json"
echo '{"host":{"nodes":[{"memory_mib":-1,"cpus":2}]},"vms":[{"name":"a","type":"hvm","static_max":"1G","vcpus":1}],"steps":[{"boot":"a"}]}' >"$tmp/h.json"
expect_fail "bad host" 2 "nodes[0].memory_mib" "$XF" sim run "$tmp/h.json"
expect_fail "bad policy" 2 "'xapi'" "$XF" sim run "$SRC/scenarios/quicktest-fill.json" --policy xapi
expect_fail "no subcommand" 2 "run" "$XF" sim
expect_fail "unknown subcommand" 2 "'walk'" "$XF" sim walk x.json
expect_fail "no file" 2 "SCENARIO.json is required" "$XF" sim run
expect_fail "unknown flag" 2 "'--fast'" "$XF" sim run "$SRC/scenarios/quicktest-fill.json" --fast
expect_match "help" "$("$XF" sim --help)" "false admits"
finish
