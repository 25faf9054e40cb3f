# SPDX-License-Identifier: LGPL-2.1-only
#
# Helpers for the real-Xen tier's tests in dom0 (busybox sh), sourced by each
# tests/xen/dom0/NN-*.sh: reading the probe's key=value lines, checks that
# count failures, PV guests built with xl the way the xenbed recipe does
# (kernel and initramfs of the bed, no disk, no network), and measuring the
# host memory a build took. A test ends with `finish`.

XF_DIR=${XF_DIR:-/xenfit}
XF_OUT=${XF_OUT:-/xenfit/out}
XF_FAILED=0
XF_CHECKS=0

# The value of KEY in a "k=v k=v" line: kv KEY LINE (no process started:
# under TCG every fork costs)
kv() {
  _kv_key=$1
  set -f
  set -- $2
  set +f
  for _kv_pair; do
    case $_kv_pair in "$_kv_key"=*)
      echo "${_kv_pair#*=}"
      return 0
      ;;
    esac
  done
  return 0
}

note() { echo "  $*"; }

# check NAME ACTUAL OP EXPECTED   (OP: = != -le -ge -lt -gt, integers or strings)
check() {
  XF_CHECKS=$((XF_CHECKS + 1))
  case $3 in
    = | !=) [ "$2" "$3" "$4" ] ;;
    *) [ -n "$2" ] && [ -n "$4" ] && [ "$2" "$3" "$4" ] 2>/dev/null ;;
  esac
  if [ $? -eq 0 ]; then
    echo "ok   $1: $2 $3 $4"
  else
    echo "FAIL $1: $2 $3 $4 does not hold"
    XF_FAILED=$((XF_FAILED + 1))
  fi
}

fail() {
  echo "FAIL $*"
  XF_FAILED=$((XF_FAILED + 1))
}

finish() {
  echo "$XF_CHECKS checks, $XF_FAILED failed"
  [ "$XF_FAILED" -eq 0 ]
  exit $?
}

up() {
  read -r _up_s _ </proc/uptime
  echo "$_up_s"
}

probe() { xf-xenprobe "$@"; }

# Host free pages once they hold still.
stable_free() { kv free_pages "$(probe stable-free 3)"; }

# A PV guest's xl config: guest_cfg NAME VCPUS MEMORY_MIB [extra lines...]
guest_cfg() {
  name=$1 vcpus=$2 mem=$3
  shift 3
  cat <<EOF
name = "$name"
type = "pv"
kernel = "/guest/kernel"
ramdisk = "/guest/initrd.gz"
extra = "console=hvc0 quiet loglevel=3"
memory = $mem
vcpus = $vcpus
on_poweroff = "destroy"
on_crash = "destroy"
EOF
  for line in "$@"; do echo "$line"; done
}

# Builds a paused PV guest: build_pv NAME VCPUS MEMORY_MIB; prints its domid.
build_pv() {
  guest_cfg "$1" "$2" "$3" >"/tmp/$1.cfg"
  if ! xl create -q -p "/tmp/$1.cfg" >"/tmp/$1.create.log" 2>&1; then
    echo "xl create $1 failed: $(tr '\n' ' ' <"/tmp/$1.create.log")" >&2
    return 1
  fi
  touch /tmp/xf-guests-built
  xl domid "$1"
}

# Destroys a guest and waits until Xen has let it go: destroy_guest NAME
# [FREE_PAGES]. With FREE_PAGES (host free pages before the guest was built),
# also until they are back but for 16: the domain's own pages return after
# it has left Xen's list (an RCU grace period later), and a measurement that
# starts before would count them twice.
destroy_guest() {
  id=$(xl domid "$1" 2>/dev/null) || return 0
  xl destroy "$1"
  probe wait-gone "$id" 60 >/dev/null
  [ -z "${2:-}" ] || probe wait-free $(($2 - 16)) 10 >/dev/null ||
    echo "  note: after destroying $1, free pages stayed more than 16 below $2"
}

# measure_pv NAME VCPUS MEMORY_MIB: builds the guest paused and prints
#   took=<host pages> tot=<its tot_pages> max=<max_pages> domid=<id>
# where took is host free pages before minus after, both read once stable.
# The guest stays (paused); destroy_guest it.
measure_pv() {
  before=$(stable_free)
  id=$(build_pv "$1" "$2" "$3") || return 1
  after=$(stable_free)
  d=$(probe dom "$id")
  echo "took=$((before - after)) tot=$(kv tot_pages "$d") max=$(kv max_pages "$d") domid=$id before=$before after=$after"
}

# Creates the running PV guests of /tmp/NAME.cfg and waits up to SECS for
# each to print "xenbed guest up" on its console: start_guests SECS NAME...
# Sets booted (how many did) and boot_secs; a failed xl create is a failure.
start_guests() {
  _secs=$1
  shift
  for _g in "$@"; do
    xl create -q "/tmp/$_g.cfg" >"/tmp/$_g.create.log" 2>&1 ||
      fail "xl create $_g: $(cat "/tmp/$_g.create.log")"
  done
  touch /tmp/xf-guests-built
  _t0=$(up)
  booted=0
  while awk -v a="$_t0" -v b="$(up)" -v s="$_secs" 'BEGIN { exit !(b - a < s) }'; do
    booted=0
    for _g in "$@"; do
      grep -q 'xenbed guest up' "/var/log/xen/console/guest-$_g.log" 2>/dev/null &&
        booted=$((booted + 1))
    done
    [ $booted = $# ] && break
    sleep 2
  done
  boot_secs=$(awk -v a="$_t0" -v b="$(up)" 'BEGIN { printf "%.0f", b - a }')
}

# Ballooning (80-balloon.sh, 85-balloon-crash.sh).
# xs DOMID KEY: a key under /local/domain/DOMID; fails when absent.
xs() { xenstore-read "/local/domain/$1/$2" 2>/dev/null; }
# balloonable DOMID DYNAMIC_MIN_KIB DYNAMIC_MAX_KIB: squeezed's keys, as
# xenopsd (the range) and XenServer's guest agent (control/feature-balloon,
# which Linux's driver never writes) would write them.
balloonable() {
  xenstore-write "/local/domain/$1/memory/dynamic-min" "$2" \
    "/local/domain/$1/memory/dynamic-max" "$3" "/local/domain/$1/control/feature-balloon" 1 ||
    fail "xenstore-write for domid $1"
}
dom_pages() { kv tot_pages "$(probe dom "$1")"; }
dom_target() { xs "$1" memory/target; }
# wait_pages DOMID PAGES SECS: until its tot_pages is within 64 of PAGES.
wait_pages() {
  _w=0
  while [ $_w -lt "$3" ]; do
    _p=$(dom_pages "$1")
    [ $((_p - $2)) -le 64 ] && [ $(($2 - _p)) -le 64 ] && return 0
    sleep 1
    _w=$((_w + 1))
  done
  return 1
}
