/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfit footprint: the memory configuration xen-api derives for a VM
 * (include/xenfit/model.h), as a table or as JSON.
 */
#include <errno.h>
#include <math.h>
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
           "                        [--per-vcpu-pages N] [--json]\n\n"
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
           "  --fixed-pages N          calibrated model: pages per domain beyond the pool (default "
           "0)\n"
           "  --per-vcpu-pages N       calibrated model: pages per vCPU beyond the 256 of the\n"
           "                           paging pool (default %u, xen-api's)\n"
           "  --json                   one JSON object: build_max_mib, build_start_mib,\n"
           "                           xen_max_mib, shadow_mib, required_host_free_mib,\n"
           "                           overhead_mib, build_claim_pages\n\n"
           "SIZE is an integer with an optional binary unit B, K/KiB, M/MiB, G/GiB, T/TiB;\n"
           "a bare number is MiB, as in xl configs.\n",
           XF_VCPUS_MAX, XF_SHADOW_MULT_MIN, XF_SHADOW_MULT_MAX, XF_XAPI_EXTRA_PER_VCPU_PAGES);
}

enum {
    OPT_TYPE = 256,
    OPT_STATIC_MAX,
    OPT_TARGET,
    OPT_VCPUS,
    OPT_VIDEO,
    OPT_MULT,
    OPT_SOURCE,
    OPT_FIXED,
    OPT_PER_VCPU,
    OPT_JSON,
};

static const struct option options[] = {
    {"type", required_argument, NULL, OPT_TYPE},
    {"static-max", required_argument, NULL, OPT_STATIC_MAX},
    {"target", required_argument, NULL, OPT_TARGET},
    {"vcpus", required_argument, NULL, OPT_VCPUS},
    {"video", required_argument, NULL, OPT_VIDEO},
    {"shadow-multiplier", required_argument, NULL, OPT_MULT},
    {"memory-total-source", required_argument, NULL, OPT_SOURCE},
    {"fixed-pages", required_argument, NULL, OPT_FIXED},
    {"per-vcpu-pages", required_argument, NULL, OPT_PER_VCPU},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

static int parse_multiplier(const char *arg, double *ret)
{
    char *end;
    double x;

    errno = 0;
    x = strtod(arg, &end);
    if (end == arg || *end != '\0' || errno != 0 || !isfinite(x) || x < XF_SHADOW_MULT_MIN ||
        x > XF_SHADOW_MULT_MAX)
        return xf_cli_usage_error(CMD, "--shadow-multiplier '%s': expected a number in %.1f..%.1f",
                                  arg, XF_SHADOW_MULT_MIN, XF_SHADOW_MULT_MAX);
    *ret = x;
    return 0;
}

static int report_model_error(int r, const struct xf_vm_memory *vm, const char *static_max_arg,
                              const char *target_arg, const char *video_arg)
{
    switch (r) {
    case XF_EBADSIZE:
        if (vm->static_max_bytes == 0 || vm->static_max_bytes > XF_MEMORY_MAX_BYTES)
            return xf_cli_usage_error(CMD, "--static-max '%s': must be between 1 byte and 16 TiB",
                                      static_max_arg);
        return xf_cli_usage_error(CMD, "--target '%s': must be at least 1 byte", target_arg);
    case XF_ETARGETMAX:
        return xf_cli_usage_error(CMD, "--target '%s' is above --static-max '%s'", target_arg,
                                  static_max_arg);
    case XF_EBADVIDEO:
        return xf_cli_usage_error(CMD, "--video '%s' (%llu MiB) is not below the target (%llu MiB)",
                                  video_arg, (unsigned long long)vm->video_mib,
                                  (unsigned long long)xf_mib_of_bytes_used(vm->target_bytes));
    default:
        return xf_cli_usage_error(CMD, "%s", xf_strerror(r));
    }
}

int xf_cmd_footprint(int argc, char **argv)
{
    struct xf_vm_memory vm = {.shadow_multiplier = XF_SHADOW_MULT_DEFAULT};
    struct xf_overhead_coeffs coeffs = xf_xapi_coeffs;
    struct xf_memory_config mc;
    const char *static_max_arg = NULL, *target_arg = NULL, *video_arg = "0";
    uint64_t v, source_bytes = 0;
    bool have_type = false, have_vcpus = false, have_source = false, json = false;
    int c, r;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_TYPE:
            if (xf_domain_type_parse(optarg, &vm.type) < 0)
                return xf_cli_usage_error(
                    CMD, "--type '%s': unknown domain type (hvm, pvh, pv or pv_in_pvh)", optarg);
            have_type = true;
            break;
        case OPT_STATIC_MAX:
            if ((r = xf_cli_parse_size(CMD, "--static-max", optarg, &vm.static_max_bytes)))
                return r;
            static_max_arg = optarg;
            break;
        case OPT_TARGET:
            if ((r = xf_cli_parse_size(CMD, "--target", optarg, &vm.target_bytes)))
                return r;
            target_arg = optarg;
            break;
        case OPT_VCPUS:
            if ((r = xf_cli_parse_uint(CMD, "--vcpus", optarg, 1, XF_VCPUS_MAX, &v)))
                return r;
            vm.vcpus = (uint32_t)v;
            have_vcpus = true;
            break;
        case OPT_VIDEO:
            if ((r = xf_cli_parse_size(CMD, "--video", optarg, &v)))
                return r;
            vm.video_mib = xf_mib_of_bytes_used(v);
            video_arg = optarg;
            break;
        case OPT_MULT:
            if ((r = parse_multiplier(optarg, &vm.shadow_multiplier)))
                return r;
            break;
        case OPT_SOURCE:
            if ((r = xf_cli_parse_size(CMD, "--memory-total-source", optarg, &source_bytes)))
                return r;
            if (source_bytes == 0 || source_bytes > XF_MEMORY_MAX_BYTES)
                return xf_cli_usage_error(
                    CMD, "--memory-total-source '%s': must be between 1 KiB and 16 TiB", optarg);
            have_source = true;
            break;
        case OPT_FIXED:
            if ((r = xf_cli_parse_uint(CMD, "--fixed-pages", optarg, 0, UINT32_MAX, &v)))
                return r;
            coeffs.fixed_pages = v;
            break;
        case OPT_PER_VCPU:
            if ((r = xf_cli_parse_uint(CMD, "--per-vcpu-pages", optarg, 0, UINT32_MAX, &v)))
                return r;
            coeffs.per_vcpu_pages = v;
            break;
        case OPT_JSON:
            json = true;
            break;
        default:
            return xf_cli_bad_option(CMD, argc, argv);
        }
    }
    if (optind < argc)
        return xf_cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!have_type)
        return xf_cli_usage_error(CMD, "--type is required (hvm, pvh, pv or pv_in_pvh)");
    if (!static_max_arg)
        return xf_cli_usage_error(CMD, "--static-max is required");
    if (!have_vcpus)
        return xf_cli_usage_error(CMD, "--vcpus is required");
    if (!target_arg) {
        vm.target_bytes = vm.static_max_bytes;
        target_arg = static_max_arg;
    }

    r = xf_vm_footprint(&vm, &coeffs, &mc);
    if (r < 0)
        return report_model_error(r, &vm, static_max_arg, target_arg, video_arg);
    if (have_source) {
        /* The source reports KiB; a SIZE given in bytes is rounded up to KiB. */
        r = xf_migration_claim_pages(xf_kib_of_bytes_used(source_bytes), &mc.build_claim_pages);
        if (r < 0)
            return xf_cli_usage_error(CMD, "--memory-total-source: %s", xf_strerror(r));
    }

    if (json) {
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

    printf("%-24s %s, %u vCPU%s, static max %llu MiB, target %llu MiB\n", "domain",
           xf_domain_type_name(vm.type), vm.vcpus, vm.vcpus == 1 ? "" : "s",
           (unsigned long long)xf_mib_of_bytes_used(vm.static_max_bytes),
           (unsigned long long)xf_mib_of_bytes_used(vm.target_bytes));
    printf("%-24s %12llu MiB\n", "build_max_mib", (unsigned long long)mc.build_max_mib);
    printf("%-24s %12llu MiB\n", "build_start_mib", (unsigned long long)mc.build_start_mib);
    printf("%-24s %12llu MiB\n", "xen_max_mib", (unsigned long long)mc.xen_max_mib);
    printf("%-24s %12llu MiB\n", "shadow_mib", (unsigned long long)mc.shadow_mib);
    printf("%-24s %12llu MiB\n", "overhead_mib", (unsigned long long)mc.overhead_mib);
    printf("%-24s %12llu MiB   (host free memory needed to start)\n", "required_host_free_mib",
           (unsigned long long)mc.required_host_free_mib);
    printf("%-24s %12llu pages %s\n", "build_claim_pages", (unsigned long long)mc.build_claim_pages,
           have_source ? "(exact source memory)" : "(build start, no overhead)");
    return XF_EXIT_OK;
}
