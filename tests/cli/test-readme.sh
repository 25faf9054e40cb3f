#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# README.md's results table is the demo's own output (scripts/demo-table.sh),
# copied by scripts/readme-table.sh: it must match what this build prints, and
# the copying script must replace exactly the block between the markers.
set -u
XF=${1:?usage: test-readme.sh XENFIT_BINARY}
SRC=$(cd "${XF_SOURCE_DIR:-$(dirname "$0")/../..}" && pwd)
. "$(dirname "$0")/lib.sh"

table=$("$SRC/scripts/demo-table.sh" "$XF")
in_readme=$(sed -n '/^<!-- demo-table:begin -->$/,/^<!-- demo-table:end -->$/p' "$SRC/README.md")
expect_eq "README table is the demo's (run scripts/readme-table.sh)" "$in_readme" "$table"
expect_match "four policies per scenario" "$table" "^\|  \| xapi-2026\.02 \| "
expect_match "columns defined" "$table" "^- \*\*late refusal\*\*: "

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'before\n<!-- demo-table:begin -->\nold\n<!-- demo-table:end -->\nafter\n' >"$tmp/README.md"
printf 'noise\n<!-- demo-table:begin -->\nnew 1\nnew 2\n<!-- demo-table:end -->\nmore noise\n' >"$tmp/demo.txt"
XF_README="$tmp/README.md" "$SRC/scripts/readme-table.sh" "$tmp/demo.txt" >/dev/null
expect_eq "block replaced" "$(cat "$tmp/README.md")" \
  "$(printf 'before\n<!-- demo-table:begin -->\nnew 1\nnew 2\n<!-- demo-table:end -->\nafter')"
printf 'no table\n' >"$tmp/empty.txt"
expect_fail "no table in the demo output" 1 "no table" \
  env XF_README="$tmp/README.md" "$SRC/scripts/readme-table.sh" "$tmp/empty.txt"
finish
