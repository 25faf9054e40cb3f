/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfit footprint: the memory configuration xen-api derives for a VM
 * (include/xenfit/model.h), as a table or as JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xenfit/error.h"
#include "xenfit/model.h"
#include "xenfit/units.h"

static const char *const CMD = "footprint";

void xf_usage_footprint(void)
{
    printf("Usage: xenfit footprint --type hvm|pvh|pv|pv_in_pvh --static-max SIZE --target SIZE\n"
           "                        --vcpus N [--video SIZE] [--shadow-multiplier X]\n"
           "                        [--memory-total-source SIZE] [--fixed-pages N]\n"
           "                        [--per-vcpu-pages N] [--json] [--bytes]\n"
           "       xenfit footprint --xl-config VM.cfg [...]   (the VM of an xl domain config)\n\n"
           "Prints the host memory a VM needs and how its build is sized, exactly as\n"
           "xen-api computes it after its pull request 6869 (Memory_model.full_config).\n\n"
           "  --type T                 domain type: hvm, pvh, pv or pv_in_pvh\n"
           "  --static-max SIZE        the VM's static maximum memory\n"
           "  --target SIZE            the memory it starts with (default: static max)\n"
           "  --vcpus N                vCPUs (1..%u)\n"
           "  --video SIZE             video memory (default 0)\n"
           "  --shadow-multiplier X    HVM shadow multiplier, %.1f..%.1f (default 1.0; pv ignores "
           "it)\n"
           "  --memory-total-source SIZE\n"
           "                           incoming migration or resume: claim exactly this much,\n"
           "                           the memory the domain had on its source\n"
           "  --xl-config FILE         the VM of an xl config instead (xenfit(1), xl configs)\n"
           "  --fixed-pages N          calibrated model: pages per domain beyond the pool (default "
           "0)\n"
           "  --per-vcpu-pages N       calibrated model: pages per vCPU beyond the 256 of the\n"
           "                           paging pool (default %u, xen-api's)\n"
           "  --json                   one JSON object: build_max_mib, build_start_mib,\n"
           "                           xen_max_mib, shadow_mib, required_host_free_mib,\n"
           "                           overhead_mib, build_claim_pages\n"
           "  --bytes                  sizes in bytes (the model's MiB x 1048576; the claim\n"
           "                           in 4 KiB pages x 4096), not MiB\n\n"
           "SIZE is an integer with an optional binary unit B, K/KiB, M/MiB, G/GiB, T/TiB;\n"
           "KB, MB, GB, TB mean the same (4GB = 4096 MiB); a bare number is MiB, as in xl\n"
           "configs; a fraction (1.5G) is refused: write 1536M. See xenfit(1), SIZES.\n",
           XF_VCPUS_MAX, XF_SHADOW_MULT_MIN, XF_SHADOW_MULT_MAX, XF_XAPI_EXTRA_PER_VCPU_PAGES);
}

enum {
    OPT_FIXED = 256,
    OPT_PER_VCPU,
    OPT_JSON,
    OPT_BYTES,
};

static const struct option options[] = {
    XF_CLI_VM_OPTIONS,
    {"fixed-pages", required_argument, NULL, OPT_FIXED},
    {"per-vcpu-pages", required_argument, NULL, OPT_PER_VCPU},
    {"json", no_argument, NULL, OPT_JSON},
    {"bytes", no_argument, NULL, OPT_BYTES},
    {NULL, 0, NULL, 0},
};

struct footprint_args {
    struct xf_overhead_coeffs coeffs;
    bool json;
};

static int footprint_option(void *ctx, int opt, const char *arg)
{
    struct footprint_args *args = ctx;
    uint64_t n;
    int r;

    switch (opt) {
    case OPT_FIXED:
        if ((r = xf_cli_parse_uint(CMD, "--fixed-pages", arg, 0, UINT32_MAX, &n)))
            return r;
        args->coeffs.fixed_pages = n;
        return 0;
    case OPT_PER_VCPU:
        if ((r = xf_cli_parse_uint(CMD, "--per-vcpu-pages", arg, 0, UINT32_MAX, &n)))
            return r;
        args->coeffs.per_vcpu_pages = n;
        return 0;
    case OPT_JSON:
        args->json = true;
        return 0;
    case OPT_BYTES:
        xf_cli_bytes = true;
        return 0;
    default:
        return xf_cli_usage_error(CMD, "option %d not handled", opt); /* a missing case */
    }
}

/* One row of the human output: a name and a size in the screen's unit. */
static void row(const char *name, uint64_t kib, const char *note)
{
    char b[32];
    printf("%-24s %22s%s\n", name, xf_cli_size_kib(b, sizeof(b), kib, true), note);
}

int xf_cmd_footprint(int argc, char **argv)
{
    char b[2][32];
    struct footprint_args args = {.coeffs = xf_xapi_coeffs};
    struct xf_cli_vm v;
    struct xf_memory_config mc;
    int r, status;

    if ((status = xf_cli_vm_parse(CMD, argc, argv, options, footprint_option, &args, &v)))
        return status;
    const struct xf_vm_memory vm = v.vm;
    r = xf_vm_footprint(&vm, &args.coeffs, &mc);
    if (r < 0)
        return xf_cli_usage_error(CMD, "%s", xf_strerror(r));
    if (v.migration) {
        r = xf_migration_claim_pages(v.source_total_kib, &mc.build_claim_pages);
        if (r < 0)
            return xf_cli_usage_error(CMD, "--memory-total-source: %s", xf_strerror(r));
    }

    if (args.json) {
        json_t *o = json_pack("{sIsIsIsIsIsIsI}", "build_max_mib", (json_int_t)mc.build_max_mib,
                              "build_start_mib", (json_int_t)mc.build_start_mib, "xen_max_mib",
                              (json_int_t)mc.xen_max_mib, "shadow_mib", (json_int_t)mc.shadow_mib,
                              "required_host_free_mib", (json_int_t)mc.required_host_free_mib,
                              "overhead_mib", (json_int_t)mc.overhead_mib, "build_claim_pages",
                              (json_int_t)mc.build_claim_pages);
        if (!o)
            return xf_cli_failure(CMD, "out of memory");
        return xf_cli_print_json(o);
    }

    /* One unit on the screen: the model's MiB (or bytes); the claim, which
     * XENMEM_claim_pages counts in pages, as its size (--json: the pages). */
    printf("%-24s %s, %u vCPU%s, static max %s, target %s\n", "domain",
           xf_domain_type_name(vm.type), vm.vcpus, vm.vcpus == 1 ? "" : "s",
           xf_cli_size_kib(b[0], sizeof(b[0]), xf_kib_of_bytes_used(vm.static_max_bytes), true),
           xf_cli_size_kib(b[1], sizeof(b[1]), xf_kib_of_bytes_used(vm.target_bytes), true));
    row("build_max", mc.build_max_mib * 1024, "");
    row("build_start", mc.build_start_mib * 1024, "");
    row("xen_max", mc.xen_max_mib * 1024, "");
    row("shadow", mc.shadow_mib * 1024, "");
    row("overhead", mc.overhead_mib * 1024, "");
    row("required_host_free", mc.required_host_free_mib * 1024,
        "   (host free memory needed to start)");
    row("build_claim", xf_kib_of_pages(mc.build_claim_pages),
        v.migration ? "   (exact source memory)" : "   (build start, no overhead)");
    return XF_EXIT_OK;
}
