#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# Regenerates README.md's results table from the demo's own output: the block
# scripts/demo.sh prints (scripts/demo-table.sh) between
# <!-- demo-table:begin --> and <!-- demo-table:end --> replaces the block
# between the same markers in README.md (XF_README names another file).
# Never type that table by hand; the cli-readme test fails when it is stale.
#
#   scripts/readme-table.sh              # runs scripts/demo.sh
#   scripts/readme-table.sh DEMO.txt     # uses a saved demo output
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
readme=${XF_README:-$top/README.md}
out=$(mktemp)
trap 'rm -f "$out" "$out.block" "$out.new"' EXIT
if [ $# -ge 1 ]; then
  cp "$1" "$out"
else
  "$top/scripts/demo.sh" >"$out"
fi
sed -n '/^<!-- demo-table:begin -->$/,/^<!-- demo-table:end -->$/p' "$out" >"$out.block"
if ! grep -q '^<!-- demo-table:end -->$' "$out.block"; then
  echo "readme-table: the demo printed no table between the markers" >&2
  exit 1
fi
if ! grep -q '^<!-- demo-table:begin -->$' "$readme" || ! grep -q '^<!-- demo-table:end -->$' "$readme"; then
  echo "readme-table: README.md lacks the demo-table markers" >&2
  exit 1
fi
awk -v block="$out.block" '
  /^<!-- demo-table:begin -->$/ { while ((getline line < block) > 0) print line; skip = 1; next }
  /^<!-- demo-table:end -->$/ { skip = 0; next }
  !skip { print }
' "$readme" >"$out.new"
mv "$out.new" "$readme"
echo "README.md: table regenerated from the demo's output"
