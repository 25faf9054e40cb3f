#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
#
# Builds xenfit's real-Xen test bed from Debian 12 packages, into a cache:
# the Xen 4.17 hypervisor (an ELF32 multiboot image QEMU can load), the Debian
# kernel (used as PV dom0 and as the PV guests' kernel), a dom0 initramfs with
# the Xen 4.17 toolstack (xl, xenstored, xenconsoled) and the libraries
# xenfit's binaries need, and a busybox initramfs for guests.
#
# After the recipe in the team's shared xenbed notes (its README.md, "How it
# boots"), reorganised: no debootstrap and no chroot. The dom0 tree is the
# dependency closure of xen-utils-4.17 (less python3, perl, udev and the
# packaging machinery, which a dom0 that only runs xl never uses), unpacked
# with dpkg-deb, with busybox-static as its userland. That needs no root, is a
# 30 MB tree instead of 150 MB (a faster boot under TCG), and every package is
# the candidate version the host's apt knows, so the tools match the
# hypervisor exactly (both from bookworm-security when it has them).
#
# Usage: build.sh            prints "XENBED_DIR=<dir>" as its last line
# Env:   XF_XENBED_CACHE     cache directory (default /var/cache/xenfit-xenbed
#                            when writable, else $XDG_CACHE_HOME/xenfit-xenbed)
#        XF_XENBED_NO_UPDATE=1  never run apt-get update
# Exit:  0 built or found in the cache; 77 the environment cannot provide the
#        packages (no apt, no candidate, download failed): a skip, not a test
#        failure; 1 anything else.
#
# The cache key is a hash of every package name and version that goes into the
# bed and of the bed's own scripts, so a Debian security update or an edit to
# this directory builds a new bed; the two most recent beds are kept.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
XEN_SERIES=4.17
ROOTS=(
  "xen-utils-$XEN_SERIES" xenstore-utils busybox-static
  # what xenfit's own binaries link to, so they run in dom0 as built
  libjansson4 libcsv3 libcmocka0 libsqlite3-0
  # the dom0 tests read xenfit's JSON with it
  jq
)
# Packages a dom0 that only runs the toolstack does not need. Pruning one
# prunes its dependencies too, unless something kept needs them.
PRUNE='^(python3.*|libpython3.*|perl.*|libperl.*|udev|libudev.*|systemd.*|libsystemd.*|debconf.*|lsb-base|ucf|sysvinit-utils|dpkg|init-system-helpers|coreutils|adduser|passwd|mime-support|media-types|readline-common|tzdata)$'
# Kernel modules dom0 loads (drivers/xen), in load order.
DOM0_MODULES=(xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs)

t0=$(date +%s)
log() { echo "[xenbed-build +$(($(date +%s) - t0))s] $*" >&2; }
skip() {
  {
    echo "###########################################################################"
    echo "### SKIP: the real-Xen test bed cannot be built on this machine:"
    echo "###   $*"
    echo "### This is an environment problem, not a test failure."
    echo "###########################################################################"
  } >&2
  exit 77
}
die() {
  echo "[xenbed-build] ERROR: $*" >&2
  exit 1
}

for tool in apt-get apt-cache dpkg-deb tar cpio gzip awk sha256sum readelf find sort flock; do
  command -v "$tool" >/dev/null 2>&1 || skip "host tool '$tool' is missing"
done

if [ -n "${XF_XENBED_CACHE:-}" ]; then
  cache=$XF_XENBED_CACHE
elif mkdir -p /var/cache/xenfit-xenbed 2>/dev/null && [ -w /var/cache/xenfit-xenbed ]; then
  cache=/var/cache/xenfit-xenbed
else
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/xenfit-xenbed
fi
mkdir -p "$cache"
# One build at a time per cache (several build trees may run the tier).
exec 9>"$cache/.lock"
flock 9

updated=0
apt_update_once() {
  [ "$updated" = 0 ] || return 1
  [ "${XF_XENBED_NO_UPDATE:-0}" = 1 ] && return 1
  [ "$(id -u)" = 0 ] || return 1
  updated=1
  log "apt-get update"
  apt-get update -q >"$cache/apt-update.log" 2>&1
}

# "name version" of each package's candidate, one per line, for the names given.
candidates() {
  apt-cache show --no-all-versions "$@" 2>/dev/null |
    awk '/^Package: /{p=$2} /^Version: /{if (p != "") print p, $2; p=""}'
}

# The dependency closure of ROOTS (Depends and Pre-Depends, first alternative
# of each), less PRUNE; one apt-cache call, the walk in awk.
closure() {
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "${ROOTS[@]}" 2>/dev/null |
    awk -v prune="$PRUNE" -v roots="${ROOTS[*]}" '
      /^[^ ]/ { cur = $1; inalt = 0; next }
      # " |Depends: A" then "  Depends: B" is A | B: take A, skip the rest
      /^ \|(Pre)?Depends: / { if (!inalt && $2 !~ /^</) deps[cur] = deps[cur] " " $2; inalt = 1; next }
      /^  (Pre)?Depends: / { if (!inalt && $2 !~ /^</) deps[cur] = deps[cur] " " $2; inalt = 0; next }
      END {
        n = split(roots, q, " ")
        for (h = 1; h <= n; h++) {
          p = q[h]
          if (p in seen || p ~ prune) continue
          seen[p] = 1; print p
          m = split(deps[p], d, " ")
          for (i = 1; i <= m; i++) q[++n] = d[i]
        }
      }' | sort -u
}

resolve() {
  kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  [ -n "$kpkg" ] || return 1
  mapfile -t pkgs < <(closure)
  [ "${#pkgs[@]}" -gt 5 ] || return 1
  versions=$(candidates "xen-hypervisor-$XEN_SERIES-amd64" "$kpkg" "${pkgs[@]}" | sort -u)
  # every package must have a candidate
  [ "$(echo "$versions" | wc -l)" -eq $((${#pkgs[@]} + 2)) ] || return 1
  xen_version=$(echo "$versions" | awk -v p="xen-hypervisor-$XEN_SERIES-amd64" '$1 == p { print $2 }')
  utils_version=$(echo "$versions" | awk -v p="xen-utils-$XEN_SERIES" '$1 == p { print $2 }')
  [ "$xen_version" = "$utils_version" ] ||
    die "xen-hypervisor ($xen_version) and xen-utils ($utils_version) candidates differ"
}

if ! resolve; then
  apt_update_once || true
  resolve || skip "apt knows no candidate for the bed's packages (xen-hypervisor-$XEN_SERIES-amd64, linux-image-amd64, xen-utils-$XEN_SERIES ...); is this Debian 12 with its main and security archives?"
fi

scripts_hash=$(cat "$here/build.sh" "$here/dom0-init" "$here/guest-init" | sha256sum | cut -c1-16)
key=$( (
  echo "$versions"
  echo "scripts $scripts_hash"
) | sha256sum | cut -c1-16)
bed=$cache/bed-$key
if [ -f "$bed/complete" ]; then
  log "cached: $bed (xen $xen_version, $kpkg)"
  echo "XENBED_DIR=$bed"
  exit 0
fi

log "building $bed: xen $xen_version, kernel $kpkg, ${#pkgs[@]} dom0 packages"
work=$cache/work-$key
rm -rf "$work" "$bed"
mkdir -p "$work/debs" "$work/stage" "$bed.tmp"
trap 'rm -rf "$work" "$bed.tmp"' EXIT
# apt's download sandbox user must be able to write here
chmod 0777 "$work/debs" 2>/dev/null || true

download() {
  (cd "$work/debs" && apt-get download -q -o APT::Sandbox::User=root \
    $(echo "$versions" | awk '{ print $1 "=" $2 }') >"$work/download.log" 2>&1)
}
if ! download; then
  # a stale package list names a version the mirror no longer has
  if apt_update_once && resolve; then
    download || skip "apt-get download failed: $(tail -n 3 "$work/download.log" | tr '\n' ' ')"
  else
    skip "apt-get download failed: $(tail -n 3 "$work/download.log" | tr '\n' ' ')"
  fi
fi
log "downloaded $(du -sh "$work/debs" | cut -f1)"

# --- hypervisor and kernel ------------------------------------------------------
dpkg-deb --fsys-tarfile "$work"/debs/xen-hypervisor-"$XEN_SERIES"-amd64_*.deb |
  tar -xO "./boot/xen-$XEN_SERIES-amd64.gz" | gzip -dc >"$bed.tmp/xen"
dpkg-deb --fsys-tarfile "$work"/debs/"$kpkg"_*.deb |
  tar -x -C "$work/stage" --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/drivers/xen/*' \
    './lib/modules/*/modules.order' './lib/modules/*/modules.builtin'
mv "$work"/stage/boot/vmlinuz-* "$bed.tmp/vmlinuz"
rmdir "$work/stage/boot"
kver=$(basename "$work"/stage/lib/modules/*)
for m in "${DOM0_MODULES[@]}"; do
  [ -n "$(find "$work/stage/lib/modules/$kver" -name "$m.ko")" ] || die "kernel $kver has no $m.ko"
done

# --- dom0 tree ------------------------------------------------------------------
for deb in "$work"/debs/*.deb; do
  case $(basename "$deb") in
    xen-hypervisor-* | linux-image-*) ;;
    *) dpkg-deb -x "$deb" "$work/stage" ;;
  esac
done
st=$work/stage
rm -rf "$st"/usr/share/{doc,man,info,locale,lintian,bug,zoneinfo} "$st/usr/lib/xen-$XEN_SERIES/boot"
# busybox is the shell and userland; its applets never replace a real tool
mkdir -p "$st/bin" "$st/sbin" "$st/usr/bin" "$st/usr/sbin"
for applet in $("$st/bin/busybox" --list); do
  [ -e "$st/bin/$applet" ] || [ -e "$st/sbin/$applet" ] || [ -e "$st/usr/bin/$applet" ] ||
    [ -e "$st/usr/sbin/$applet" ] || ln -s busybox "$st/bin/$applet"
done
mkdir -p "$st"/{dev,proc,sys,run,tmp,root,var/lib/xen,var/log/xen/console,guest,xenfit}
ln -sfn ../run "$st/var/run"
ln -sfn ../run/lock "$st/var/lock"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$st/etc/passwd"
printf 'root:x:0:\n' >"$st/etc/group"
echo xenbed >"$st/etc/hostname"
# dom0's memory is fixed on Xen's command line: xl must never balloon it
xlconf=$st/etc/xen/xl.conf
[ -f "$xlconf" ] || die "xen-utils-common shipped no /etc/xen/xl.conf"
sed -i -e '/^#\?autoballoon=/d' "$xlconf"
echo 'autoballoon="off"' >>"$xlconf"
install -m 0755 "$here/dom0-init" "$st/init"

# every shared library the toolstack needs must be in the tree
find "$st" \( -name '*.so*' -o -name '*.so' \) \( -type f -o -type l \) -printf '%f\n' |
  sort -u >"$bed.tmp/sonames.txt"
missing=""
for exe in "$st/usr/lib/xen-$XEN_SERIES/bin/"{xl,xenstored,xenconsoled,xen-init-dom0} \
  "$st/usr/bin/xenstore-read"; do
  [ -x "$exe" ] || die "the dom0 tree has no $exe"
  for so in $(readelf -d "$exe" | awk '/NEEDED/ { gsub(/[][]/, "", $5); print $5 }'); do
    grep -qxF "$so" "$bed.tmp/sonames.txt" || missing="$missing $(basename "$exe"):$so"
  done
done
[ -z "$missing" ] || die "dom0 tree lacks libraries:$missing"

# --- guest initramfs: static busybox that reports and sleeps ---------------------
g=$work/guest
mkdir -p "$g/bin" "$g/proc" "$g/dev"
cp "$st/bin/busybox" "$g/bin/busybox"
install -m 0755 "$here/guest-init" "$g/init"
(cd "$g" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9) >"$bed.tmp/guest-initrd.gz"
cp "$bed.tmp/guest-initrd.gz" "$st/guest/initrd.gz"
# The guests' kernel as a plain ELF: libxenguest then need not unpack the
# bzImage's xz payload in dom0 userspace, which under TCG takes 9 of the 11 s
# an `xl create -p` costs (measured: 1.4-1.7 s with the ELF, 4.5-4.9 s with a
# gzipped ELF, 10-12.5 s with the bzImage).
xz_at=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bed.tmp/vmlinuz" | head -n 1 | cut -d: -f1 || true)
# (xz stops reading at the end of its stream: tail's SIGPIPE is no failure)
if [ -n "$xz_at" ] && command -v xz >/dev/null &&
  { tail -c +"$((xz_at + 1))" "$bed.tmp/vmlinuz" || true; } |
  xz -dc --single-stream >"$st/guest/vmlinux" 2>/dev/null &&
  [ "$(head -c 4 "$st/guest/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ]; then
  ln -s vmlinux "$st/guest/kernel"
else
  log "cannot unpack the kernel's xz payload; guests boot the bzImage (slower)"
  rm -f "$st/guest/vmlinux"
  cp "$bed.tmp/vmlinuz" "$st/guest/vmlinuz"
  ln -s vmlinuz "$st/guest/kernel"
fi

# --- pack -------------------------------------------------------------------------
{
  echo "xen $xen_version"
  echo "kernel $kpkg $kver"
  echo "scripts $scripts_hash"
  echo "--- dom0 packages"
  echo "$versions"
} >"$bed.tmp/versions.txt"
cp "$bed.tmp/versions.txt" "$st/etc/xenbed-versions"
(cd "$st" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$bed.tmp/dom0.cpio.gz"
log "dom0 tree $(du -sh "$st" | cut -f1) -> dom0.cpio.gz $(du -h "$bed.tmp/dom0.cpio.gz" | cut -f1)"
touch "$bed.tmp/complete"
mv "$bed.tmp" "$bed"
trap - EXIT
rm -rf "$work"

# keep the two most recent beds
ls -1dt "$cache"/bed-* 2>/dev/null | tail -n +3 | xargs -r rm -rf
log "done"
echo "XENBED_DIR=$bed"
