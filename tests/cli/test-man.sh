#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# The man pages: xenfit(1) and xenfit-host-spec(5) render without a warning
# at 80 columns; xenfit(1) documents every command `xenfit --help` lists and
# refers to xenfitd(8); xenfit-host-spec(5) is what scripts/host-spec-man.py
# makes of docs/host-spec.md (when python3 is there to run it).
set -u
XF=${1:?usage: test-man.sh XENFIT_BINARY}
SRC=$(cd "${XF_SOURCE_DIR:-$(dirname "$0")/../..}" && pwd)
. "$(dirname "$0")/lib.sh"
command -v man >/dev/null || { echo "no man(1): skipped"; exit 77; }

for page in "$SRC/docs/xenfit.1" "$SRC/docs/xenfit-host-spec.5"; do
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
  expect_eq "$(basename "$page") renders without warnings" "$warnings" ""
  width=$(MANWIDTH=80 man -l "$page" 2>/dev/null | awk '{ if (length > w) w = length } END { print w + 0 }')
  expect_match "$(basename "$page") rendered" "$width" '^[1-9][0-9]*$'
done

text=$(MANWIDTH=80 man -l "$SRC/docs/xenfit.1" 2>/dev/null)
for cmd in $("$XF" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/^Commands:/ {print $1}'); do
  case $cmd in host) cmd="host show" ;; sim) cmd="sim run" ;; esac
  expect_eq "xenfit(1) has a section for $cmd" "$(grep -c "^   $cmd\$" <<<"$text")" 1
  expect_match "xenfit(1) synopsis has $cmd" "$text" "^       xenfit $cmd( |\$)"
done
expect_match "SEE ALSO xenfitd(8)" "$(sed -n '/^SEE ALSO/,$p' <<<"$text")" 'xenfitd\(8\)'
expect_match "SEE ALSO xenfit-host-spec(5)" "$(sed -n '/^SEE ALSO/,$p' <<<"$text")" 'xenfit-host-spec\(5\)'
expect_match "sizes documented" "$text" '4GB is 4096 MiB'

spec=$(MANWIDTH=80 man -l "$SRC/docs/xenfit-host-spec.5" 2>/dev/null)
for key in name nodes distances xen dom0 truth timing memory_mib claim_semantics low_mem_virq_limit_mib; do
  expect_match "xenfit-host-spec(5) documents $key" "$spec" "^ +$key( |\$)"
done
if command -v python3 >/dev/null; then
  expect_eq "xenfit-host-spec.5 is up to date (scripts/host-spec-man.py)" \
    "$(python3 "$SRC/scripts/host-spec-man.py" "$SRC/docs/host-spec.md")" "$(cat "$SRC/docs/xenfit-host-spec.5")"
fi
finish
