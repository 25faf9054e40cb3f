/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The core, linked alone: this program is linked from the core's object
 * files only (every one of them, not an archive), with jansson, libcsv and
 * libm. If any core file called into the hypervisor layer, the toolstack or
 * beyond, the link would fail on the undefined symbol: the build, not a
 * reviewer, keeps the core pure. It also answers one real question, so a
 * core that links but does not work fails too: the footprint of a 4 GiB,
 * 4-vCPU HVM guest under xen-api's model (worked out in test-model.c).
 */
#include <stdint.h>
#include <stdio.h>

#include "xenfit/error.h"
#include "xenfit/model.h"

int main(void)
{
    struct xf_vm_memory vm = {
        .type = XF_DOMAIN_HVM,
        .static_max_bytes = UINT64_C(4096) << 20,
        .target_bytes = UINT64_C(4096) << 20,
        .vcpus = 4,
        .video_mib = 8,
        .shadow_multiplier = 1.0,
    };
    struct xf_memory_config cfg;
    int r = xf_vm_footprint(&vm, NULL, &cfg);

    if (r < 0) {
        fprintf(stderr, "core-alone: footprint: %s\n", xf_strerror(r));
        return 1;
    }
    /* overhead = extra internal 1 + external 1 + shadow ceil((256 * 4 + 2 * 4096) / 256) = 36
     * + per vCPU ceil(38 * 4 / 256) = 1: 39 MiB. */
    if (cfg.overhead_mib != 39 || cfg.required_host_free_mib != 4096 + 39) {
        fprintf(stderr, "core-alone: overhead %llu MiB, expected 39\n",
                (unsigned long long)cfg.overhead_mib);
        return 1;
    }
    printf("core-alone: the core links alone; 4 GiB 4-vCPU hvm: overhead %llu MiB\n",
           (unsigned long long)cfg.overhead_mib);
    return 0;
}
