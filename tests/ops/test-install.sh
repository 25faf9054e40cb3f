#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-only
# `cmake --install` (into a DESTDIR) gives a unit whose paths are the ones
# installed: ExecStart is the installed xenfitd, --config the installed
# commented config; the installed daemon starts from that config, and from
# no config at all (the defaults); a bad config line exits 2, which the unit
# does not restart (RestartPreventExitStatus=2); a reinstall keeps an edited
# config.
# Usage: test-install.sh BUILD_DIR SBINDIR CONFIG_FILE UNITDIR NOTIFY_RUN
set -u
BUILD=$1 SBINDIR=$2 CONF=$3 UNITDIR=$4 NOTIFY_RUN=$5
. "$(dirname "$0")/../cli/lib.sh"

dest=$(mktemp -d /tmp/xf-install-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dest"' EXIT
if ! DESTDIR=$dest cmake --install "$BUILD" >"$dest.log" 2>&1; then
  cat "$dest.log" >&2
  rm -f "$dest.log"
  echo "FAIL: cmake --install" >&2
  exit 1
fi
rm -f "$dest.log"

unit=$dest$UNITDIR/xenfitd.service
expect_eq "unit installed" "$(test -f "$unit" && echo yes)" yes
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
read -r -a argv <<<"$exec_start"
expect_eq "ExecStart is the installed daemon" "${argv[0]}" "$SBINDIR/xenfitd"
expect_eq "the daemon is there" "$(test -x "$dest${argv[0]}" && echo yes)" yes
expect_match "ExecStart names the installed config" "$exec_start" "--config $CONF( |$)"
expect_eq "config installed" "$(test -f "$dest$CONF" && echo yes)" yes
expect_eq "config is all comments" "$(grep -cv '^#' "$dest$CONF")" 0
expect_match "config documents every key" "$(cat "$dest$CONF")" '^# sweep-interval=1000'
expect_eq "exit 2 not restarted" "$(grep -c '^RestartPreventExitStatus=2$' "$unit")" 1
expect_eq "no @VAR@ left" "$(grep -cE '@[A-Z_]+@' "$unit")" 0

# start DESCRIPTION CONFIG: the installed daemon on the simulator, with the
# unit's --config replaced by CONFIG; "ready" once it says READY=1.
start() {
  local dir=$dest/run-$1
  mkdir -p "$dir"
  mkfifo "$dir/ready"
  "$NOTIFY_RUN" "$dir/notify" "$dest${argv[0]}" --config "$2" --backend sim \
    --host "$XF_TEST_DATA/hosts/daemon-2node.json" --state-dir "$dir/state" \
    --socket "$dir/s" 2>"$dir/log" >"$dir/ready" &
  pid=$!
  local ready=
  read -r -t 10 ready <"$dir/ready"
  kill $pid 2>/dev/null
  wait $pid 2>/dev/null
  pid=
  echo "$ready"
}
expect_eq "starts with the installed config" "$(start conf "$dest$CONF")" READY=1
expect_eq "starts without a config" "$(start none "$dest/nonexistent.conf")" READY=1
expect_match "says the defaults are used" "$(cat "$dest/run-none/log")" \
  "--config '$dest/nonexistent.conf' does not exist: using the defaults"

# The shipped lines, uncommented as they are (values with their comments).
sed -e 's/^# \(log-level=\)/\1/' -e 's/^# \(reservation-ttl=\)/\1/' "$dest$CONF" >"$dest/edited.conf"
expect_eq "two lines uncommented" "$(grep -c '^[a-z]' "$dest/edited.conf")" 2
expect_eq "starts with lines uncommented" "$(start edited "$dest/edited.conf")" READY=1
printf 'max-clients=0\n' >"$dest/bad.conf"
expect_fail "bad config exits 2" 2 "bad.conf:1: max-clients '0'" \
  "$dest${argv[0]}" --config "$dest/bad.conf" --backend sim --host /dev/null
mkdir "$dest/dir.conf"
expect_fail "unreadable config exits 2" 2 "dir.conf': cannot open it" \
  "$dest${argv[0]}" --config "$dest/dir.conf" --backend sim --host /dev/null

echo "log-level=debug" >>"$dest$CONF"
DESTDIR=$dest cmake --install "$BUILD" >/dev/null 2>&1
expect_eq "reinstall keeps an edited config" "$(tail -n1 "$dest$CONF")" log-level=debug
finish
