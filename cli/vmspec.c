/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The options that describe a VM's memory (--type, --static-max, --target,
 * --vcpus, --video, --shadow-multiplier, --memory-total-source), shared by
 * the commands that take one (footprint, admit): parsing, defaults and the
 * model's checks, each error naming the offending value; and the option loop
 * of those commands.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

void xf_cli_vm_init(struct xf_cli_vm *v)
{
    *v = (struct xf_cli_vm){.vm = {.shadow_multiplier = XF_SHADOW_MULT_DEFAULT}, .video_arg = "0"};
}

int xf_cli_vm_option(const char *cmd, int opt, const char *arg, struct xf_cli_vm *v,
                     int *ret_status)
{
    uint64_t n;
    char *end;

    *ret_status = 0;
    switch (opt) {
    case XF_CLI_OPT_TYPE:
        if (xf_domain_type_parse(arg, &v->vm.type) < 0)
            *ret_status = xf_cli_usage_error(
                cmd, "--type '%s': unknown domain type (hvm, pvh, pv or pv_in_pvh)", arg);
        v->have_type = true;
        return 1;
    case XF_CLI_OPT_STATIC_MAX:
        *ret_status = xf_cli_parse_size(cmd, "--static-max", arg, &v->vm.static_max_bytes);
        v->static_max_arg = arg;
        return 1;
    case XF_CLI_OPT_TARGET:
        *ret_status = xf_cli_parse_size(cmd, "--target", arg, &v->vm.target_bytes);
        v->target_arg = arg;
        return 1;
    case XF_CLI_OPT_VCPUS:
        *ret_status = xf_cli_parse_uint(cmd, "--vcpus", arg, 1, XF_VCPUS_MAX, &n);
        v->vm.vcpus = (uint32_t)n;
        v->have_vcpus = true;
        return 1;
    case XF_CLI_OPT_VIDEO:
        *ret_status = xf_cli_parse_size(cmd, "--video", arg, &n);
        v->vm.video_mib = xf_mib_of_bytes_used(n);
        v->video_arg = arg;
        return 1;
    case XF_CLI_OPT_MULT:
        errno = 0;
        v->vm.shadow_multiplier = strtod(arg, &end);
        if (end == arg || *end != '\0' || errno != 0 || !isfinite(v->vm.shadow_multiplier) ||
            v->vm.shadow_multiplier < XF_SHADOW_MULT_MIN ||
            v->vm.shadow_multiplier > XF_SHADOW_MULT_MAX)
            *ret_status =
                xf_cli_usage_error(cmd, "--shadow-multiplier '%s': expected a number in %.1f..%.1f",
                                   arg, XF_SHADOW_MULT_MIN, XF_SHADOW_MULT_MAX);
        return 1;
    case XF_CLI_OPT_XL:
        v->xl_path = arg;
        return 1;
    case XF_CLI_OPT_SOURCE:
        *ret_status = xf_cli_parse_size(cmd, "--memory-total-source", arg, &n);
        if (*ret_status == 0 && (n == 0 || n > XF_MEMORY_MAX_BYTES))
            *ret_status = xf_cli_usage_error(
                cmd, "--memory-total-source '%s': must be between 1 KiB and 16 TiB", arg);
        v->migration = true;
        v->source_total_kib = xf_kib_of_bytes_used(n);
        return 1;
    default:
        return 0;
    }
}

/* --xl-config: the VM as xl and libxl 4.17 would build it (cli/xlcfg.h). */
static int vm_from_xl(const char *cmd, struct xf_cli_vm *v)
{
    static struct xf_xl_config xl;
    static char max_arg[32], target_arg[32], video_arg[32];
    char err[600];

    if (v->have_type || v->static_max_arg || v->target_arg || v->have_vcpus ||
        strcmp(v->video_arg, "0") != 0 || v->vm.shadow_multiplier != XF_SHADOW_MULT_DEFAULT)
        return xf_cli_usage_error(cmd,
                                  "--xl-config '%s' gives the VM: no --type, --static-max, "
                                  "--target, --vcpus, --video or --shadow-multiplier with it",
                                  v->xl_path);
    if (xf_xl_config_read(v->xl_path, &xl, err, sizeof(err)) < 0)
        return xf_cli_usage_error(cmd, "%s", err);
    v->vm = xl.vm;
    v->have_type = v->have_vcpus = true;
    snprintf(max_arg, sizeof(max_arg), "maxmem=%llu", (unsigned long long)xl.maxmem_mib);
    snprintf(target_arg, sizeof(target_arg), "memory=%llu", (unsigned long long)xl.memory_mib);
    snprintf(video_arg, sizeof(video_arg), "videoram=%llu", (unsigned long long)xl.video_mib);
    v->static_max_arg = max_arg;
    v->target_arg = target_arg;
    v->video_arg = video_arg;
    v->xl = &xl;
    return 0;
}

int xf_cli_vm_finish(const char *cmd, struct xf_cli_vm *v)
{
    const struct xf_vm_memory *vm = &v->vm;
    int r;

    if (v->xl_path && !v->xl && (r = vm_from_xl(cmd, v)))
        return r;
    if (!v->have_type)
        return xf_cli_usage_error(cmd, "--type is required (hvm, pvh, pv or pv_in_pvh)");
    if (!v->static_max_arg)
        return xf_cli_usage_error(cmd, "--static-max is required");
    if (!v->have_vcpus)
        return xf_cli_usage_error(cmd, "--vcpus is required");
    if (!v->target_arg) {
        v->vm.target_bytes = v->vm.static_max_bytes;
        v->target_arg = v->static_max_arg;
    }
    switch ((r = xf_vm_memory_check(vm))) {
    case 0:
        return 0;
    case XF_EBADSIZE:
        if (vm->static_max_bytes == 0 || vm->static_max_bytes > XF_MEMORY_MAX_BYTES)
            return xf_cli_usage_error(cmd, "--static-max '%s': must be between 1 byte and 16 TiB",
                                      v->static_max_arg);
        return xf_cli_usage_error(cmd, "--target '%s': must be at least 1 byte", v->target_arg);
    case XF_ETARGETMAX:
        return xf_cli_usage_error(cmd, "--target '%s' is above --static-max '%s'", v->target_arg,
                                  v->static_max_arg);
    case XF_EBADVIDEO:
        return xf_cli_usage_error(cmd, "--video '%s' (%llu MiB) is not below the target (%llu MiB)",
                                  v->video_arg, (unsigned long long)vm->video_mib,
                                  (unsigned long long)xf_mib_of_bytes_used(vm->target_bytes));
    default:
        return xf_cli_usage_error(cmd, "%s", xf_strerror(r));
    }
}

int xf_cli_vm_parse(const char *cmd, int argc, char **argv, const struct option *options,
                    xf_cli_option_fn other, void *ctx, struct xf_cli_vm *v)
{
    int c, status;

    xf_cli_vm_init(v);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c == '?' || c == ':')
            return xf_cli_bad_option(cmd, argc, argv);
        if (!xf_cli_vm_option(cmd, c, optarg, v, &status))
            status = other(ctx, c, optarg);
        if (status)
            return status;
    }
    if (optind < argc)
        return xf_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return xf_cli_vm_finish(cmd, v);
}
