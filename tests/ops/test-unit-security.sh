#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# The installed xenfitd.service is hardened: `systemd-analyze security
# --offline=yes` (systemd 252, Debian 12) scores it 2.0 or lower (the unit
# before hardening scored 8.9), with the settings the daemon's design allows:
# no capabilities, Unix sockets only, no network, only /dev/xen's devices,
# squeezed's socket directory writable. Skips (77) without systemd-analyze.
# Usage: test-unit-security.sh BUILD_DIR UNITDIR
set -u
BUILD=$1 UNITDIR=$2
. "$(dirname "$0")/../cli/lib.sh"
MAX_EXPOSURE=2.0

if ! command -v systemd-analyze >/dev/null ||
  ! systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
  echo "SKIP: systemd-analyze with --offline is not available (Debian package systemd)" >&2
  exit 77
fi
dest=$(mktemp -d /tmp/xf-unit-XXXXXX)
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest cmake --install "$BUILD" >/dev/null || {
  echo "FAIL: cmake --install" >&2
  exit 1
}
unit=$dest$UNITDIR/xenfitd.service
out=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1)
score=$(sed -n 's/.*Overall exposure level for xenfitd.service: \([0-9.]*\).*/\1/p' <<<"$out")
expect_match "systemd-analyze scored it" "$score" '^[0-9]+\.[0-9]$'
echo "exposure: ${score:-?} (at most $MAX_EXPOSURE)"
expect_eq "exposure <= $MAX_EXPOSURE" "$(awk -v s="${score:-99}" -v m=$MAX_EXPOSURE 'BEGIN { print (s <= m) ? "ok" : s }')" ok

setting() { sed -n "s/^$1=//p" "$unit" | paste -sd' '; }
expect_eq "no capabilities" "$(grep -c '^CapabilityBoundingSet=$' "$unit")" 1
expect_eq "Unix sockets only" "$(setting RestrictAddressFamilies)" AF_UNIX
expect_eq "no network" "$(setting PrivateNetwork)" yes
expect_eq "devices: /dev/xen only" "$(setting DeviceAllow)" \
  "/dev/xen/privcmd rw /dev/xen/hypercall rw"
expect_eq "closed device policy" "$(setting DevicePolicy)" closed
expect_match "squeezed's socket directory writable" "$(setting ReadWritePaths)" '(^| )-/var/xapi( |$)'
expect_match "state and runtime writable" "$(setting ReadWritePaths)" \
  '^/var/lib/xenfitd /run/xenfitd '
expect_eq "umask" "$(setting UMask)" 0077
expect_match "a system call filter" "$(setting SystemCallFilter)" '^@system-service ~@privileged$'
# Each of these, if lost, costs exposure the analyzer names: keep them visible.
for s in SystemCallFilter PrivateNetwork CapabilityBoundingSet RestrictAddressFamilies \
  ProtectKernelTunables ProtectKernelModules ProtectKernelLogs DeviceAllow UMask; do
  expect_eq "analyzer: $s not flagged as missing" \
    "$(grep -E "✗ $s=( |$)" <<<"$out" | grep -c 'does not\|no device\|may ')" 0
done
finish
