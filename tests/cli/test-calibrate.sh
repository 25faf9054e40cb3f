#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# CLI tests of `xenfit calibrate` on xen-api's reference measurements.
set -u
XF=${1:?usage: test-calibrate.sh XENFIT_BINARY}
DATA=${XF_TEST_DATA:-$(dirname "$0")/../data}
. "$(dirname "$0")/lib.sh"

out=$("$XF" calibrate "$DATA/vcpu-overhead-pages.csv" --json)
expect_eq "fit keys" "$(jq -c '.fits[0] | keys_unsorted' <<<"$out")" \
  '["series","rows","fixed_pages","per_vcpu_pages","extra_per_vcpu_pages","total_slack_pages","lsq_slope","lsq_intercept"]'
expect_eq "series order" "$(jq -c '[.fits[].series]' <<<"$out")" '["absolute-run1","absolute-run2","delta-amd-intel","all"]'
expect_eq "rows" "$(jq -c '[.fits[].rows]' <<<"$out")" '[47,48,6,101]'
# Values derived independently by brute force in tests/unit/test-calibrate.c.
expect_eq "all fit" "$(jq -c '.fits[3] | [.fixed_pages,.per_vcpu_pages,.extra_per_vcpu_pages]' <<<"$out")" '[48,264,8]'
expect_eq "run2 fit" "$(jq -c '.fits[1] | [.fixed_pages,.per_vcpu_pages]' <<<"$out")" '[48,264]'
# The least-squares slope lies near 264-265 pages per vCPU on every series.
expect_eq "lsq slope" "$(jq '[.fits[].lsq_slope | . > 264 and . < 266] | all' <<<"$out")" true
# Never underestimates: check every row in jq against the "all" fit.
fixed=$(jq .fits[3].fixed_pages <<<"$out"); per=$(jq .fits[3].per_vcpu_pages <<<"$out")
under=$(grep -v '^#' "$DATA/vcpu-overhead-pages.csv" | tail -n +2 | awk -F, -v a="$fixed" -v b="$per" '$3 > a + b*$2' | wc -l)
expect_eq "no row underestimated" "$under" 0
expect_match "table" "$("$XF" calibrate "$DATA/vcpu-overhead-pages.csv")" "^all +101 +48 +264 +8 "

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'vcpus,overhead_pages\n1,19\n2,oops\n' >"$tmp/bad.csv"
expect_fail "bad value" 2 "bad.csv:3: overhead_pages 'oops'" "$XF" calibrate "$tmp/bad.csv"
printf 'cpus,overhead_pages\n1,19\n' >"$tmp/hdr.csv"
expect_fail "bad header" 2 "missing 'vcpus'" "$XF" calibrate "$tmp/hdr.csv"
expect_fail "missing file" 2 "cannot open '$tmp/none.csv'" "$XF" calibrate "$tmp/none.csv"
expect_fail "no file" 2 "FILE.csv is required" "$XF" calibrate
expect_fail "two files" 2 "exactly one" "$XF" calibrate a.csv b.csv
expect_fail "unknown flag" 2 "'--fit'" "$XF" calibrate --fit x.csv
# A line needs rows at two vCPU counts: one row used to print "extra -256".
printf 'vcpus,overhead_pages\n2,1000\n' >"$tmp/one.csv"
expect_fail "one row" 2 "one.csv: the table has 1 row, all at 2 vCPUs: cannot fit" \
  "$XF" calibrate "$tmp/one.csv"
printf 'series,vcpus,overhead_pages\na,1,300\na,2,600\nb,4,1200\nb,4,1300\n' >"$tmp/series.csv"
# A series at one count is left out with a note; its rows count in "all"
# (a 1..4 line: 300 + 300 * vcpus covers 1300 at 4 vCPUs only as 300 + 250*4).
out=$("$XF" calibrate "$tmp/series.csv" --json 2>"$tmp/err")
expect_eq "one count in a series: exit 0, fits a and all" "$(jq -c '[.fits[].series]' <<<"$out")" '["a","all"]'
expect_match "one count in a series: the note" "$(cat "$tmp/err")" "series 'b' has 2 rows, all at 4 vCPUs: no per-vCPU line of its own"
expect_eq "all counts b's rows" "$(jq '.fits[] | select(.series == "all") | .rows' <<<"$out")" 4
# "-" reads stdin; a directory is named as one.
expect_match "stdin" "$("$XF" calibrate - <"$DATA/vcpu-overhead-pages.csv")" "^all +101 +48 +264 +8 "
expect_fail "directory" 2 "'$tmp' is a directory" "$XF" calibrate "$tmp"
expect_match "help" "$("$XF" calibrate --help)" "extra_per_vcpu_pages"
finish
