#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# Installs the Debian 12 packages xenfit needs to build, test and demonstrate.
# Idempotent: does nothing (not even apt-get update) when all are present.
# Run as root, or with sudo available.
set -euo pipefail

packages=(
  # toolchain and build
  gcc make cmake pkg-config libc6-dev
  # formatting, the fuzzer's compiler, and the static checks of the test
  # command: clang-tidy (run-clang-tidy) and clang's analyzer (scan-build)
  clang-format clang clang-tidy clang-tools
  # libraries
  libcmocka-dev libjansson-dev libcsv-dev libsqlite3-dev
  # xenfitd parses XML-RPC bodies (xenopsd's use-switch=false client) with expat
  libexpat1-dev
  # xenfit top draws with curses
  libncurses-dev
  # the CLI tests and the demo read JSON with jq; the demo's table uses column
  jq bsdextrautils
  # a daemon test sends raw JSON-RPC over the Unix socket with curl
  curl
  # the man page test renders xenfit(1) and xenfit-host-spec(5) with warnings on
  man-db groff-base
  # the message-switch test's broker and client, and the dom0 policy test
  python3
  # a daemon test steps the wall clock under xenfitd (an NTP step)
  libfaketime
  # a test scores the installed unit's hardening (systemd-analyze security)
  systemd
  # a test loads xenfitd's live page in headless Chromium, through socat
  # (Chromium cannot reach a Unix socket)
  chromium socat
  # a test builds the Debian packages (debian/) and lints them
  dpkg-dev debhelper lintian
  # the real-Xen backend (libxenctrl) and its test tier: Xen 4.17 booted under
  # QEMU from a dom0 initramfs made of Debian packages (tests/xen/)
  libxen-dev qemu-system-x86 cpio xz-utils binutils
)

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != "installed" ]; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
