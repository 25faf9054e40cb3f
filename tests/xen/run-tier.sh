#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
#
# The real-Xen tier, host side (ctest's xen-bed): builds the test bed (bed/
# build.sh, cached), packs xenfit's binaries and the dom0 tests into a payload,
# boots the bed once (bed/boot.sh), and files each test's result under
# RESULTS/tests/ for check.sh, which reports it to ctest as xen-<name>.
#
# Usage: run-tier.sh --source DIR --results DIR (--no-backend |
#          --xenfit PATH [--bin PATH]...) [--mode check|measure] [--only "NAMES"]
#   --bin      another program for dom0's /xenfit/bin (built on this host
#              against libxen-dev 4.17, the bed's Xen)
#   --mode     measure: the larger ground-truth grid (tests/xen/measure-pv-overhead.sh)
#   --only     run only these dom0 tests (names without the NN- prefix)
# Env: XF_XENBED_* of bed/build.sh and bed/boot.sh.
# Exit: 0 the bed ran (each test's own result is in RESULTS/tests/), 77 the
#   machine cannot run the bed (loud message; also in RESULTS/skipped), 1 the
#   bed failed (did not boot, died, or timed out).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir="" results="" xenfit="" mode=check only="" no_backend=0
bins=()
while [ $# -gt 0 ]; do
  case $1 in
    --source) source_dir=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --xenfit) xenfit=$2; shift 2 ;;
    --bin) bins+=("$2"); shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --no-backend) no_backend=1; shift ;;
    *) echo "run-tier.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$source_dir" ] && [ -n "$results" ] || { echo "run-tier.sh: --source and --results are required" >&2; exit 2; }

t0=$(date +%s)
log() { echo "[xen-tier +$(($(date +%s) - t0))s] $*"; }
rm -rf "$results"
mkdir -p "$results/tests" "$results/files"
skip() {
  {
    echo "###########################################################################"
    echo "### SKIPPED: the real-Xen tier (ctest label xen) did not run:"
    echo "###   $*"
    echo "### An environment problem, not a test failure. docs/real-xen.md says"
    echo "### what the machine needs."
    echo "###########################################################################"
  } | tee "$results/skipped" >&2
  exit 77
}

[ "$no_backend" = 0 ] || skip "xenfit was built without libxenctrl (apt-get install libxen-dev; reconfigure)"
[ -n "$xenfit" ] || { echo "run-tier.sh: --xenfit is required" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
for tool in cpio gzip readelf ldconfig objcopy; do
  command -v "$tool" >/dev/null || skip "host tool '$tool' is missing"
done

# --- the bed ------------------------------------------------------------------------
rc=0
bed_out=$(bash "$here/bed/build.sh" 2>"$results/build.log") || rc=$?
cat "$results/build.log" >&2
if [ "$rc" = 77 ]; then
  skip "$(grep -A1 'cannot be built' "$results/build.log" | tail -n 1 | sed 's/^### *//')"
elif [ "$rc" != 0 ]; then
  echo "run-tier.sh: building the bed failed (exit $rc)" >&2
  exit 1
fi
bed=$(echo "$bed_out" | sed -n 's/^XENBED_DIR=//p' | tail -n 1)
[ -f "$bed/complete" ] || { echo "run-tier.sh: no bed in '$bed'" >&2; exit 1; }

# --- the payload: /xenfit in dom0 -------------------------------------------------------
pay=$results/payload/xenfit
mkdir -p "$pay/bin" "$pay/lib" "$pay/tests" "$pay/data"
for b in "$xenfit" "${bins[@]}"; do
  [ -x "$b" ] || { echo "run-tier.sh: no program '$b'" >&2; exit 1; }
  # without debug sections: a smaller initramfs to unpack under TCG
  objcopy --strip-debug "$b" "$pay/bin/$(basename "$b")"
done
# Every library they need must be in the bed, else it comes from this host
# (the same Debian release; the bed carries xenfit's usual ones).
for b in "$pay"/bin/*; do
  for so in $(readelf -d "$b" | awk '/NEEDED/ { gsub(/[][]/, "", $5); print $5 }'); do
    grep -qxF "$so" "$bed/sonames.txt" && continue
    [ -e "$pay/lib/$so" ] && continue
    path=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64/ { print $NF; exit }')
    [ -n "$path" ] || { echo "run-tier.sh: $(basename "$b") needs $so, found neither in the bed nor here" >&2; exit 1; }
    log "adding $so from this host"
    cp -L "$path" "$pay/lib/$so"
  done
done
host_xen=$(dpkg-query -W -f='${Version}' libxen-dev 2>/dev/null || echo unknown)
bed_xen=$(awk '$1 == "xen" { print $2 }' "$bed/versions.txt")
[ "$host_xen" = "$bed_xen" ] || log "NOTE: built against libxen-dev $host_xen, the bed runs Xen $bed_xen"
install -m 0755 "$here/dom0/run" "$pay/run"
install -m 0644 "$here/dom0/lib.sh" "$pay/lib.sh"
install -m 0644 "$here"/dom0/[0-9]*.sh "$pay/tests/"
for f in "$source_dir/tests/data/xen/pv-overhead-4.17.csv" "$source_dir/hosts/xenbed-2node.json"; do
  [ -f "$f" ] && cp "$f" "$pay/data/"
done
{
  echo "XF_MODE=$mode"
  [ -z "$only" ] || echo "XF_ONLY=\"$only\""
  # a test's time limit in dom0: the measure grid builds 32 guests
  if [ "$mode" = measure ]; then echo "XF_TEST_TIMEOUT=1800"; fi
} >"$pay/config"
(cd "$results/payload" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) \
  >"$results/payload.cpio.gz"
log "payload $(du -h "$results/payload.cpio.gz" | cut -f1); bed $bed"

# --- one boot ---------------------------------------------------------------------------
# One bed at a time on this machine: it takes both cores.
exec 8>"$(dirname "$bed")/.boot-lock"
flock -w 900 8 || { echo "run-tier.sh: another bed kept the machine for 15 minutes" >&2; exit 1; }
log "booting Xen under QEMU (TCG); console: $results/boot/console.log"
for attempt in 1 2; do
  rc=0
  XF_XENBED_TIMEOUT=${XF_XENBED_TIMEOUT:-900} bash "$here/bed/boot.sh" "$bed" \
    "$results/payload.cpio.gz" "$results/boot" || rc=$?
  [ "$rc" = 75 ] || break
  log "boot $attempt stalled before dom0's test runner started: booting again"
done
flock -u 8
[ "$rc" = 77 ] && skip "qemu-system-x86_64 cannot run"
# Two stalled emulated boots in a row are the machine's, not a test's.
[ "$rc" = 75 ] && skip "the emulated machine stalled in dom0's boot twice (TCG on a loaded host)"
chan=$results/boot/channel.log

# --- results ----------------------------------------------------------------------------
tr -d '\r' <"$chan" | awk -v dir="$results" '
  /^XF-BEGIN / { name = $2; out = dir "/tests/" name ".log"; printf "" > out; next }
  /^XF-END / { close(out); print $3 > (dir "/tests/" $2 ".rc"); close(dir "/tests/" $2 ".rc");
               print $4 > (dir "/tests/" $2 ".seconds"); close(dir "/tests/" $2 ".seconds");
               name = ""; next }
  /^XF-FILE / { file = dir "/files/" $2; printf "" > file; infile = 1; next }
  /^XF-FILE-END / { close(file); infile = 0; next }
  infile { print > file; next }
  name != "" { print > out }'
echo
printf '%-16s %-8s %s\n' test result seconds
for f in "$results"/tests/*.rc; do
  [ -f "$f" ] || continue
  n=$(basename "$f" .rc)
  case $(cat "$f") in 0) res=passed ;; 77) res=skipped ;; *) res="FAILED($(cat "$f"))" ;; esac
  printf '%-16s %-8s %s\n' "$n" "$res" "$(cat "$results/tests/$n.seconds")"
done
log "boot took $(cat "$results/boot/wall-seconds" 2>/dev/null || echo ?)s"
if [ "$rc" != 0 ] || ! grep -q '^XF-DONE' "$chan"; then
  echo "run-tier.sh: the bed failed (boot.sh exit $rc, runner finished: $(grep -c '^XF-DONE' "$chan"))" >&2
  tr -d '\r' <"$results/boot/console.log" | tail -n 40 >&2
  exit 1
fi
exit 0
