#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-only
# CLI tests of `xenfit footprint`, `--version` and `--help`: the built binary,
# its JSON shape, its error messages and exit statuses.
set -u
XF=${1:?usage: test-footprint.sh XENFIT_BINARY}
. "$(dirname "$0")/lib.sh"

# JSON: exactly the seven keys, integers, values worked out in tests/unit/test-model.c.
out=$("$XF" footprint --type hvm --static-max 4096 --target 4096 --vcpus 4 --json)
expect_eq "json keys" "$(jq -c 'keys_unsorted' <<<"$out")" \
  '["build_max_mib","build_start_mib","xen_max_mib","shadow_mib","required_host_free_mib","overhead_mib","build_claim_pages"]'
expect_eq "json all integers" "$(jq '[.[] | type == "number" and . == floor] | all' <<<"$out")" true
expect_eq "hvm footprint" "$(jq .required_host_free_mib <<<"$out")" 4135
expect_eq "hvm claim" "$(jq .build_claim_pages <<<"$out")" 1048576

# Units: 4G == 4096 == 4096M == 4194304K.
for s in 4G 4GiB 4096M 4194304K 4294967296B; do
  expect_eq "size $s" "$("$XF" footprint --type hvm --static-max $s --vcpus 4 --json | jq .required_host_free_mib)" 4135
done
# pv_in_pvh with a fractional multiplier: 1052 (test-model.c).
expect_eq "pv_in_pvh" "$("$XF" footprint --type pv_in_pvh --static-max 1000 --target 1000 --vcpus 2 --shadow-multiplier 1.5 --json | jq -c '[.build_start_mib,.shadow_mib,.required_host_free_mib]')" "[1034,15,1052]"
# pv ignores the multiplier.
expect_eq "pv multiplier ignored" "$("$XF" footprint --type pv --static-max 1024 --target 512 --vcpus 2 --shadow-multiplier 3 --json | jq .required_host_free_mib)" 524
# Migration: exactly the source's memory, 1048577 KiB -> 262145 pages.
expect_eq "migration claim" "$("$XF" footprint --type hvm --static-max 4096 --vcpus 4 --memory-total-source 1048577K --json | jq .build_claim_pages)" 262145
# Calibrated coefficients: 300 + 4*100 pages -> 3 MiB: 4137.
expect_eq "calibrated" "$("$XF" footprint --type hvm --static-max 4096 --vcpus 4 --fixed-pages 300 --per-vcpu-pages 100 --json | jq .required_host_free_mib)" 4137
# Human table mentions the footprint.
expect_match "table" "$("$XF" footprint --type hvm --static-max 4096 --vcpus 4)" "required_host_free +4135 MiB"
# One unit per screen: the claim as its size (1048576 pages = 4096 MiB), not pages.
expect_match "claim in MiB" "$("$XF" footprint --type hvm --static-max 4096 --vcpus 4)" "build_claim +4096 MiB"
# --bytes: exact bytes; the migration claim of 262145 pages is 1073745920 B.
out=$("$XF" footprint --type hvm --static-max 4096 --vcpus 4 --memory-total-source 1048577K --bytes)
expect_match "bytes: claim" "$out" "build_claim +1073745920 B"
expect_match "bytes: needed" "$out" "required_host_free +4335861760 B"
expect_eq "bytes: no MiB left" "$(grep -c MiB <<<"$out")" 0

# Bad input: one line on stderr naming the value, exit 2, nothing on stdout.
# Sizes: one rule for every command (cli/util.c): binary units, "GB" = "GiB".
expect_eq "4GB is 4 GiB" "$("$XF" footprint --type hvm --static-max 4GB --vcpus 1 --json | jq .build_max_mib)" 4096
expect_eq "4GB = 4GiB" "$("$XF" footprint --type hvm --static-max 4GB --vcpus 1)" \
  "$("$XF" footprint --type hvm --static-max 4GiB --vcpus 1)"
expect_fail "fraction" 2 "--static-max '1.5G': a fraction; sizes are whole numbers of a unit (for 1.5G write 1536M)" \
  "$XF" footprint --type hvm --static-max 1.5G --vcpus 1
expect_fail "junk unit" 2 "--video '4x': not a size" "$XF" footprint --type hvm --static-max 4G --video 4x --vcpus 1
expect_fail "unknown type" 2 "'xen'" "$XF" footprint --type xen --static-max 1 --vcpus 1
expect_fail "zero vcpus" 2 "'0'" "$XF" footprint --type hvm --static-max 1024 --vcpus 0
expect_fail "negative vcpus" 2 "'-1'" "$XF" footprint --type hvm --static-max 1024 --vcpus -1
expect_fail "too many vcpus" 2 "'4097'" "$XF" footprint --type hvm --static-max 1024 --vcpus 4097
expect_fail "target above max" 2 "'2048' is above" "$XF" footprint --type hvm --static-max 1024 --target 2048 --vcpus 1
expect_fail "malformed size" 2 "'12Q'" "$XF" footprint --type hvm --static-max 12Q --vcpus 1
expect_fail "fractional size" 2 "'1.5G'" "$XF" footprint --type hvm --static-max 1.5G --vcpus 1
expect_fail "huge size" 2 "'17T'" "$XF" footprint --type hvm --static-max 17T --vcpus 1
expect_fail "bad multiplier" 2 "'0.5'" "$XF" footprint --type hvm --static-max 1024 --vcpus 1 --shadow-multiplier 0.5
expect_fail "nan multiplier" 2 "'nan'" "$XF" footprint --type hvm --static-max 1024 --vcpus 1 --shadow-multiplier nan
expect_fail "video too big" 2 "'2048'" "$XF" footprint --type hvm --static-max 4096 --target 1024 --vcpus 1 --video 2048
expect_fail "unknown flag" 2 "'--frobnicate'" "$XF" footprint --type hvm --static-max 1024 --vcpus 1 --frobnicate
expect_fail "missing value" 2 "'--vcpus'" "$XF" footprint --type hvm --static-max 1024 --vcpus
expect_fail "missing type" 2 "--type is required" "$XF" footprint --static-max 1024 --vcpus 1
expect_fail "stray argument" 2 "'extra'" "$XF" footprint --type hvm --static-max 1024 --vcpus 1 extra
expect_fail "unknown command" 2 "'frob'" "$XF" frob

# --help and --version.
expect_match "version" "$("$XF" --version)" "^xenfit [0-9]+\.[0-9]+\.[0-9]+$"
expect_match "help lists footprint" "$("$XF" --help)" "footprint"
expect_match "footprint --help" "$("$XF" footprint --help)" "--memory-total-source"
expect_match "help footprint" "$("$XF" help footprint)" "--shadow-multiplier"

finish
