#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# `cmake --install` puts the CLI's man pages and its bash completion where
# man(1) and bash-completion look, under the prefix; the completion installed
# is one bash can load and that completes a command.
set -u
BUILD=${1:?usage: test-install.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cmake --install "$BUILD" --prefix "$tmp/usr" >"$tmp/log" 2>&1
expect_eq "cmake --install" "$?" 0
comp=$tmp/usr/share/bash-completion/completions/xenfit
expect_eq "completion installed" "$(test -f "$comp" && echo yes)" yes
expect_eq "xenfit.1 installed" "$(test -f "$tmp/usr/share/man/man1/xenfit.1" && echo yes)" yes
expect_eq "xenfit-host-spec.5 installed" "$(test -f "$tmp/usr/share/man/man5/xenfit-host-spec.5" && echo yes)" yes
out=$(bash -c '. "$1"; COMP_WORDS=(xenfit trans); COMP_CWORD=1; _xenfit; echo "${COMPREPLY[*]}"' _ "$comp")
expect_eq "installed completion completes" "$out" transfer
finish
