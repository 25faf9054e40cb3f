#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# The Debian packages: `dpkg-buildpackage -us -uc -b` on a copy of the source
# builds libxenfit1, libxenfit-dev, xenfit and xenfitd; lintian reports no
# error or warning; the .debs unpacked (dpkg -x) into an empty tree give a
# working `xenfit --version`, a xenfitd that the installed xenfit talks to
# (reserve, status), the unit and config where the unit says, and a program
# built against libxenfit-dev with pkg-config that runs on libxenfit1.
# Skips (77) without dpkg-buildpackage, debhelper or lintian.
# Usage: test-deb.sh SOURCE_DIR
set -u
SRC=$1
. "$(dirname "$0")/../cli/lib.sh"
for tool in dpkg-buildpackage dh lintian; do
  if ! command -v $tool >/dev/null; then
    echo "SKIP: $tool is not installed (Debian packages dpkg-dev, debhelper, lintian)" >&2
    exit 77
  fi
done

tmp=$(mktemp -d /tmp/xf-deb-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/src"
# The working tree as it is (committed or not), without build trees.
(cd "$SRC" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$tmp/src"
if ! (cd "$tmp/src" && DEB_BUILD_OPTIONS="parallel=2" dpkg-buildpackage -us -uc -b) \
  >"$tmp/build.log" 2>&1; then
  tail -40 "$tmp/build.log" >&2
  echo "FAIL: dpkg-buildpackage" >&2
  exit 1
fi
v=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
for p in libxenfit1 libxenfit-dev xenfit xenfitd; do
  expect_eq "built $p" "$(test -f "$tmp/${p}_${v}_$arch.deb" && echo yes)" yes
done
lint=$(lintian --fail-on none "$tmp"/*.changes 2>&1 | grep -E '^(E|W): ')
lintian --fail-on none "$tmp"/*.changes 2>&1 | sed 's/^/lintian: /' # the rest, for the log
expect_eq "lintian: no error or warning" "$lint" ""

root=$tmp/root
for d in "$tmp"/*.deb; do dpkg -x "$d" "$root"; done
expect_match "xenfit --version" "$("$root/usr/bin/xenfit" --version)" "^xenfit $v"
unit=$root/lib/systemd/system/xenfitd.service
expect_match "unit's ExecStart" "$(grep '^ExecStart=' "$unit")" \
  '^ExecStart=/usr/sbin/xenfitd --backend xen --config /etc/xenfitd.conf$'
expect_eq "config" "$(test -f "$root/etc/xenfitd.conf" && echo yes)" yes
expect_eq "config is a conffile" "$(dpkg-deb -I "$tmp/xenfitd_${v}_$arch.deb" conffiles)" \
  /etc/xenfitd.conf

# The daemon round trip, both programs from the packages.
mkfifo "$tmp/ready"
"$root/usr/sbin/xenfitd" --config "$root/etc/xenfitd.conf" --backend sim \
  --host "$SRC/tests/data/hosts/daemon-2node.json" --state-dir "$tmp/state" --socket "$tmp/s" \
  2>"$tmp/log" &
pid=$!
for _ in $(seq 50); do [ -S "$tmp/s" ] && break; sleep 0.1; done
export XENFITD_SOCKET=$tmp/s
expect_match "reserve" "$("$root/usr/bin/xenfit" reserve --kib 1048576)" '^[0-9a-f]{8}-'
expect_eq "status: 1 GiB less free" \
  "$("$root/usr/bin/xenfit" status --json | jq .free_for_new_vm_kib)" $((15597568 - 1048576))
kill $pid
wait $pid 2>/dev/null
pid=

# A program against libxenfit-dev (pkg-config, headers) and libxenfit1.
cat >"$tmp/prog.c" <<'C'
#include <stdio.h>
#include "xenfit/error.h"
int main(void) { puts(xf_strerror(XF_ENOFIT)); return 0; }
C
libdir=$(dirname "$(find "$root/usr/lib" -name xenfit.pc)")
flags=$(PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_PATH=$libdir pkg-config --cflags --libs xenfit)
expect_match "pkg-config" "$flags" "-I$root/usr/include"
if cc -o "$tmp/prog" "$tmp/prog.c" $flags 2>"$tmp/cc.log"; then
  expect_eq "runs on libxenfit1" "$(LD_LIBRARY_PATH=$(dirname "$libdir") "$tmp/prog")" \
    "not enough free memory"
  expect_match "linked to the shared library" "$(LD_LIBRARY_PATH=$(dirname "$libdir") ldd "$tmp/prog")" \
    'libxenfit\.so\.1 => '"$root"
else
  cat "$tmp/cc.log" >&2
  expect_eq "builds against libxenfit-dev" failed ok
fi
finish
