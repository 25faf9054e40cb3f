#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
#
# Boots the test bed built by build.sh under QEMU: the Debian Xen 4.17
# hypervisor on an emulated host with NUMA nodes, the Debian kernel as PV dom0
# from the bed's initramfs with PAYLOAD (a gzipped cpio carrying /xenfit/run)
# appended, and waits until dom0 powers the machine off.
#
# As the shared xenbed recipe found (README.md, "How it boots" and "Why not
# KVM here"): QEMU's multiboot loader takes the gunzipped ELF32 Xen image
# with the kernel and initramfs as modules; only TCG works on these machines
# (their /dev/kvm cannot run a nested hypervisor), and under TCG dom0 needs
# SMAP and SMEP hidden from Xen. The machine type is q35, whose nodes have no
# PCI hole inside them (with "pc" a node's spanned range includes the hole).
# The host is the recipe's (hosts/xenbed-2node.json): 4 GiB in two nodes,
# 4 CPUs, a 1 GiB PV dom0, but with 2 dom0 vCPUs (TCG runs 2 twice as fast
# as 4 on two host cores: dom0 ready after 7.5 s instead of 16 s) and
# bootscrub=false: Xen then does not scrub all free memory at boot, which
# under TCG is 5 s of CPU and makes QEMU touch all 4 GiB (RSS 4.4 GB instead
# of 0.6 GB). Free memory is counted the same either way; freed pages are
# still scrubbed.
#
# Usage: boot.sh BED_DIR PAYLOAD.cpio.gz|- OUT_DIR
#   OUT_DIR/console.log   COM1: Xen's and dom0's console
#   OUT_DIR/channel.log   COM2: what the payload reports (see dom0-init)
# With "-" for the payload, COM1 is this terminal and dom0 gives a shell
# (`exit` powers off; Ctrl-a x quits QEMU).
# Env (defaults): XF_XENBED_MEM_MIB=4096 XF_XENBED_SMP=4 XF_XENBED_NODES=2
#   XF_XENBED_NODE_DIST=21 XF_XENBED_DOM0_MEM=1024M XF_XENBED_DOM0_VCPUS=2
#   XF_XENBED_TIMEOUT=600 (seconds of wall time for the whole run)
#   XF_XENBED_ACCEL=tcg (kvm needs real VT-x/AMD-V) XF_XENBED_XEN_EXTRA=""
# Exit: 0 dom0 powered off normally; 77 no qemu-system-x86_64 (environment);
#   75 the boot stalled before dom0's test runner started (XF_XENBED_UP_TIMEOUT,
#   default 240 s: boot again);
#   124 timed out; 1 dom0 died or never got to power off.
set -euo pipefail

[ $# -eq 3 ] || {
  echo "usage: boot.sh BED_DIR PAYLOAD.cpio.gz|- OUT_DIR" >&2
  exit 2
}
bed=$1 payload=$2 out=$3
mem=${XF_XENBED_MEM_MIB:-4096}
smp=${XF_XENBED_SMP:-4}
nodes=${XF_XENBED_NODES:-2}
dist=${XF_XENBED_NODE_DIST:-21}
dom0_mem=${XF_XENBED_DOM0_MEM:-1024M}
dom0_vcpus=${XF_XENBED_DOM0_VCPUS:-2}
limit=${XF_XENBED_TIMEOUT:-600}
accel=${XF_XENBED_ACCEL:-tcg}

qemu=$(command -v qemu-system-x86_64 || true)
if [ -z "$qemu" ]; then
  echo "### SKIP: qemu-system-x86_64 is not installed (Debian: qemu-system-x86)" >&2
  exit 77
fi
for f in xen vmlinuz dom0.cpio.gz; do
  [ -f "$bed/$f" ] || {
    echo "boot.sh: $bed/$f missing: run build.sh" >&2
    exit 1
  }
done
case "$bed$out" in *,*)
  echo "boot.sh: QEMU's -initrd list cannot take a path with a comma" >&2
  exit 1
  ;;
esac
[ $((smp % nodes)) -eq 0 ] && [ $((mem % nodes)) -eq 0 ] || {
  echo "boot.sh: $smp CPUs and $mem MiB do not split over $nodes nodes" >&2
  exit 1
}

mkdir -p "$out"
rm -f "$out/console.log" "$out/channel.log"
# the kernel unpacks concatenated gzipped cpio archives in order
if [ "$payload" = - ]; then
  cp "$bed/dom0.cpio.gz" "$out/initrd.gz"
else
  cat "$bed/dom0.cpio.gz" "$payload" >"$out/initrd.gz"
fi

numa=()
per_mem=$((mem / nodes)) per_cpu=$((smp / nodes))
for ((n = 0; n < nodes; n++)); do
  numa+=(-object "memory-backend-ram,id=mem$n,size=${per_mem}M"
    -numa "node,nodeid=$n,cpus=$((n * per_cpu))-$(((n + 1) * per_cpu - 1)),memdev=mem$n")
done
for ((a = 0; a < nodes; a++)); do
  for ((b = a + 1; b < nodes; b++)); do
    numa+=(-numa "dist,src=$a,dst=$b,val=$dist")
  done
done

case $accel in
  tcg) accel_args=(-accel tcg,thread=multi -cpu max,-smap,-smep) ;;
  kvm) accel_args=(-accel kvm -cpu host,-arch-capabilities) ;;
  *)
    echo "boot.sh: XF_XENBED_ACCEL must be tcg or kvm" >&2
    exit 2
    ;;
esac

xen_cmd="console=com1 com1=115200,8n1 dom0_mem=$dom0_mem,max:$dom0_mem"
xen_cmd+=" dom0_max_vcpus=$dom0_vcpus loglvl=all guest_loglvl=all bootscrub=false"
xen_cmd+=" ${XF_XENBED_XEN_EXTRA:-}"
dom0_cmd="console=hvc0 earlyprintk=xen rdinit=/init loglevel=4"

machine=(-nodefaults "${accel_args[@]}" -machine q35 -m "$mem" -smp "$smp" "${numa[@]}"
  -display none -no-reboot -kernel "$bed/xen" -append "$xen_cmd"
  -initrd "$bed/vmlinuz $dom0_cmd,$out/initrd.gz")
if [ "$payload" = - ]; then
  nice -n 10 "$qemu" "${machine[@]}" -serial mon:stdio -serial "file:$out/channel.log"
  exit 0
fi
t0=$(date +%s.%N)
rc=0
# nice: the bed shares the machine's cores with builds and other tests
: >"$out/channel.log"
timeout -k 10 "$limit" nice -n 10 "$qemu" "${machine[@]}" \
  -serial "file:$out/console.log" -serial "file:$out/channel.log" </dev/null >"$out/qemu.log" 2>&1 &
qpid=$!
# A watchdog for a boot that stalls before dom0's test runner starts (seen
# once in ~30 TCG boots here, and by the xenbed recipe: the emulated machine
# stops making progress early in dom0's boot). Such a boot is killed and
# reported with exit 75, for the caller to boot again.
up_limit=${XF_XENBED_UP_TIMEOUT:-240}
started=$(date +%s)
while kill -0 "$qpid" 2>/dev/null; do
  if grep -q '^XF-RUN' "$out/channel.log" 2>/dev/null; then
    break
  fi
  if [ $(($(date +%s) - started)) -ge "$up_limit" ]; then
    kill "$qpid" 2>/dev/null
    wait "$qpid" 2>/dev/null
    rm -f "$out/initrd.gz"
    echo "boot.sh: dom0's test runner did not start within ${up_limit}s (a stalled boot); console tail:" >&2
    tr -d '\r' <"$out/console.log" | tail -n 10 >&2
    exit 75
  fi
  sleep 2
done
wait "$qpid" || rc=$?
wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
rm -f "$out/initrd.gz"
echo "$wall" >"$out/wall-seconds"
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  echo "boot.sh: timed out after ${limit}s" >&2
  exit 124
fi
if ! tr -d '\r' <"$out/console.log" | grep -q '^XENBED: powering off'; then
  echo "boot.sh: dom0 did not get to power off (qemu exit $rc, ${wall}s); console tail:" >&2
  tr -d '\r' <"$out/console.log" | tail -n 30 >&2
  cat "$out/qemu.log" >&2
  exit 1
fi
exit 0
