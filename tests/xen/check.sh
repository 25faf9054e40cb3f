#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
#
# Reports one dom0 test of the real-Xen tier to ctest (xen-<name>): prints
# what the test printed inside the bed and exits with its result, 0 passed,
# 77 skipped (also when the whole tier was skipped: the reason is repeated),
# 1 failed or did not run. run-tier.sh (ctest's xen-bed) filed the results.
# Usage: check.sh RESULTS_DIR NAME
set -uo pipefail
results=$1 name=$2
if [ -f "$results/skipped" ]; then
  cat "$results/skipped"
  exit 77
fi
if [ ! -f "$results/tests/$name.rc" ]; then
  echo "xen-$name did not run in the test bed: see $results/boot/console.log and channel.log"
  exit 1
fi
cat "$results/tests/$name.log"
rc=$(cat "$results/tests/$name.rc")
echo "(in dom0: exit $rc after $(cat "$results/tests/$name.seconds" 2>/dev/null || echo ?) s)"
case $rc in
  0) exit 0 ;;
  77) exit 77 ;;
  *) exit 1 ;;
esac
