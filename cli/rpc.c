/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The xenfit commands' side of xenfitd: the socket to use, one JSON-RPC
 * call with its error printed the way every command prints it, and a VM
 * as the native methods take it (docs/daemon.md, "Native methods").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xenfit/client.h"
#include "xenfit/units.h"

const char *xf_cli_socket_default(void)
{
    const char *env = getenv("XENFITD_SOCKET");
    return env && *env ? env : XFD_CLIENT_SOCKET_DEFAULT;
}

int xf_cli_rpc_try(const char *path, const char *method, json_t *params, json_t **ret_result,
                   json_t **ret_error)
{
    struct xfd_client *c = NULL;
    json_t *result = NULL, *error = NULL;
    int r = xfd_client_connect(path, 30000, &c);

    if (r < 0) {
        json_decref(params);
        return r;
    }
    r = xfd_client_call(c, method, params, &result, &error);
    xfd_client_close(c);
    if (r < 0)
        return r;
    *ret_result = result;
    *ret_error = error;
    return r;
}

int xf_cli_rpc(const char *cmd, const char *path, const char *method, json_t *params, json_t **ret)
{
    json_t *result = NULL, *error = NULL;
    int r = xf_cli_rpc_try(path, method, params, &result, &error);

    if (r < 0)
        return xf_cli_failure(cmd, "cannot reach xenfitd at '%s': %s", path, strerror(-r));
    if (r == 1) {
        json_t *detail = json_array_get(error, 1);
        const char *reason = json_string_value(json_object_get(detail, "reason"));
        char *text = reason ? NULL : xfd_client_error_text(error);
        xf_cli_failure(cmd, "%s", reason ? reason : text ? text : "error");
        free(text);
        json_decref(error);
        return XF_EXIT_FAILURE;
    }
    *ret = result;
    return 0;
}

/* A size of the VM in the daemon's unit (whole MiB: its VM object's
 * *_mib members), or the usage error naming the flag. */
static int whole_mib(const char *cmd, const char *flag, const char *arg, uint64_t bytes,
                     uint64_t *ret)
{
    if (bytes % XF_BYTES_PER_MIB)
        return xf_cli_usage_error(cmd, "%s '%s': must be a whole number of MiB up to 16 TiB", flag,
                                  arg);
    *ret = xf_mib_of_bytes_free(bytes);
    return 0;
}

json_t *xf_cli_vm_json(const char *cmd, const struct xf_cli_vm *v, bool hard,
                       uint64_t nodes_allowed, int *ret_status)
{
    uint64_t static_max_mib = 0, target_mib = 0;
    json_t *vm, *nodes;

    if ((*ret_status = whole_mib(cmd, "--static-max", v->static_max_arg, v->vm.static_max_bytes,
                                 &static_max_mib)) ||
        (*ret_status = whole_mib(cmd, "--target", v->target_arg, v->vm.target_bytes, &target_mib)))
        return NULL;
    vm = json_pack("{sssIsIsIsIsfsb}", "type", xf_domain_type_name(v->vm.type), "static_max_mib",
                   (json_int_t)static_max_mib, "target_mib", (json_int_t)target_mib, "vcpus",
                   (json_int_t)v->vm.vcpus, "video_mib", (json_int_t)v->vm.video_mib,
                   "shadow_multiplier", v->vm.shadow_multiplier, "hard_affinity", hard);
    if (vm && nodes_allowed) {
        nodes = json_array();
        for (uint64_t m = nodes_allowed; m; m &= m - 1)
            json_array_append_new(nodes, json_integer(__builtin_ctzll(m)));
        json_object_set_new(vm, "nodes_allowed", nodes);
    }
    if (!vm)
        *ret_status = xf_cli_failure(cmd, "out of memory");
    return vm;
}
