#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# scripts/demo.sh builds every program README.md's commands then run from
# build/cli and build/daemon (the benchmarks, build/bench, need the full
# build the README gives for them). Before, the README's daemon step failed
# after the demo: xenfitd was not built.
# Usage: test-demo-targets.sh SOURCE_DIR
set -u
SRC=$1
. "$(dirname "$0")/../cli/lib.sh"

targets=$(sed -n 's/^cmake --build .* --target \([^>]*\)>.*/\1/p' "$SRC/scripts/demo.sh")
expect_match "demo.sh builds named targets" "$targets" '^xenfit '
used=$(grep -oE '(^|[ `])build/(cli|daemon)/[a-z-]+' "$SRC/README.md" | sed 's|.*/||' | sort -u)
expect_match "README runs the daemon" "$used" '^xenfitd$'
for prog in $used; do
  expect_eq "demo.sh builds $prog" "$(tr ' ' '\n' <<<"$targets" | grep -cx "$prog")" 1
done
finish
