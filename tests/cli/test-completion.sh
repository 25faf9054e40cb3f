#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# completion/xenfit.bash: completes the commands `xenfit --help` lists, each
# command's flags as its usage lines give them (both ways: nothing missing,
# nothing made up), and the values of the flags that take a word.
set -u
XF=${1:?usage: test-completion.sh XENFIT_BINARY}
SRC=$(cd "${XF_SOURCE_DIR:-$(dirname "$0")/../..}" && pwd)
. "$(dirname "$0")/lib.sh"
. "$SRC/completion/xenfit.bash"

# complete WORD... : what _xenfit offers for the last word of `xenfit WORD...`.
complete_words() {
  COMP_WORDS=(xenfit "$@")
  COMP_CWORD=$#
  _xenfit
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

expect_eq "complete 'xenfit tr'" "$(complete_words tr)" "transfer"
expect_eq "complete 'xenfit re'" "$(complete_words re)" "release report-build reservations reserve"
commands=$("$XF" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/^Commands:/ {print $1}' | sort)
offered=$(complete_words "" | tr ' ' '\n' | grep -v '^-' | grep -vx help | sort)
expect_eq "every command of --help, and only those" "$offered" "$commands"
expect_match "release and transfer listed" "$(tr '\n' ' ' <<<"$commands")" "release .*transfer"

for cmd in $commands; do
  sub=()
  case $cmd in host) sub=(show) ;; sim) sub=(run) ;; esac
  # The usage lines: from "Usage:" to the first blank line.
  usage=$("$XF" "$cmd" --help | sed -n '1,/^$/p')
  want=$(grep -o -- '--[a-z][a-z-]*' <<<"$usage" | grep -vx -- '--help' | sort -u)
  got=$(complete_words "$cmd" "${sub[@]}" -- | tr ' ' '\n' | sed 's/^--$//' | grep -vx -- '--help' | grep . | sort -u)
  # admit's and footprint's usage name every VM flag; so does reserve's.
  expect_eq "flags of $cmd" "$got" "$want"
done

expect_eq "--type values" "$(complete_words footprint --type "")" "hvm pv pv_in_pvh pvh"
expect_eq "--policy of plan" "$(complete_words plan --policy best)" "best_effort best_effort_hard"
expect_eq "--policy of sim" "$(complete_words sim run x.json --policy xapi-6)" "xapi-6869"
expect_eq "--mode" "$(complete_words plan --mode "")" "xenfit xenopsd"
expect_eq "host show" "$(complete_words host "")" "show"
expect_eq "pool sub-commands" "$(complete_words pool "")" "evacuate ha place"
expect_eq "pool ha flags" "$(complete_words pool ha --s)" "--shard"
expect_eq "calibration reset" "$(complete_words calibration reset p)" "pv pv_in_pvh pvh"
expect_eq "help COMMAND" "$(complete_words help cal)" "calibrate calibration"
expect_eq "transfer flags" "$(complete_words transfer ID --s)" "--session --socket"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
touch "$tmp/spec.json"
expect_eq "--host completes files" "$(complete_words admit --host "$tmp/sp")" "$tmp/spec.json"
expect_eq "no completion of a size" "$(complete_words reserve --static-max "")" ""
finish
