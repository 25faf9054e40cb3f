/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfit admit: one admission decision against a host as it is now (the
 * simulator booted from a spec, or the Xen host this runs on), without a
 * daemon: would this VM fit, where, what would be reserved and claimed; or
 * why not, in numbers. xenfitd makes the same decision with its ledger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xenfit/admit.h"
#include "xenfit/error.h"
#include "xenfit/host.h"
#include "xenfit/hv.h"
#include "xenfit/units.h"

static const char *const CMD = "admit";

void xf_usage_admit(void)
{
    printf("Usage: xenfit admit [--backend sim|xen] [--host SPEC.json] --type T --static-max SIZE\n"
           "                    [--target SIZE] --vcpus N [--video SIZE] [--shadow-multiplier X]\n"
           "                    [--memory-total-source SIZE] [--policy P] [--numa-policy P]\n"
           "                    [--hard-affinity] [--json] [--bytes]\n"
           "       xenfit admit ... --xl-config VM.cfg   (the VM of an xl domain config)\n"
           "       xenfit admit --socket PATH VM [--hard-affinity] [--json]   (ask xenfitd)\n\n"
           "Decides whether a VM fits on the host now, as the admission of xenfitd would\n"
           "with no reservations pending: the footprint (the calibrated model starts from\n"
           "xen-api's), the host's and each node's memory free for a new VM (free pages less\n"
           "claims, the low-memory reserve and the DMA zone), the NUMA plan and the claim\n"
           "to make; or HOST_NOT_ENOUGH_FREE_MEMORY with the numbers.\n\n"
           "  --backend B         sim (default; needs --host) or xen (the host this runs on)\n"
           "  --host SPEC.json    a simulated host (docs/host-spec.md)\n"
           "  --type ... --memory-total-source   the VM, as for xenfit footprint\n"
           "  --policy P          xenfit (default), xapi-2026.02, xapi-6869 or xapi-pre-6869\n"
           "  --numa-policy P     best_effort (default), best_effort_hard, prio_mem_only, any\n"
           "  --xl-config FILE    the VM of an xl config (type, memory, maxmem, vcpus,\n"
           "                      maxvcpus, videoram, shadow_memory as xl and libxl 4.17\n"
           "                      read them); cpus=/cpus_soft= restrict it to their nodes\n"
           "  --socket PATH       decide with xenfitd's ledger (xenfit.admit_vm): pending\n"
           "                      reservations count; nothing is reserved\n"
           "  --hard-affinity     the VM pins its vCPUs: no NUMA placement\n"
           "  --json              {admitted, footprint_mib, host_free_mib, node_free_mib,\n"
           "                       nodes, memory_mib_per_node, claim, reason, ...}\n"
           "  --bytes             sizes in exact bytes, not MiB\n\n"
           "Exit status: 0 admitted, 1 refused, 2 bad input.\n");
}

enum {
    OPT_BACKEND = 256,
    OPT_HOST,
    OPT_SOCKET,
    OPT_POLICY,
    OPT_NUMA,
    OPT_HARD,
    OPT_JSON,
    OPT_BYTES,
};

static const struct option options[] = {
    XF_CLI_VM_OPTIONS,
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"host", required_argument, NULL, OPT_HOST},
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"numa-policy", required_argument, NULL, OPT_NUMA},
    {"hard-affinity", no_argument, NULL, OPT_HARD},
    {"json", no_argument, NULL, OPT_JSON},
    {"bytes", no_argument, NULL, OPT_BYTES},
    {NULL, 0, NULL, 0},
};

static json_t *nodes_json(uint64_t mask)
{
    json_t *a = json_array();
    for (unsigned n = 0; a && n < 64; n++)
        if (mask & (UINT64_C(1) << n))
            json_array_append_new(a, json_integer(n));
    return a;
}

/* Pages as the screen shows sizes (xf_cli_size_kib). */
static const char *pages_size(char *buf, size_t len, uint64_t pages, bool used)
{
    return xf_cli_size_kib(buf, len, xf_kib_of_pages(pages), used);
}

static int report(const struct xf_admission *a, const struct xf_host_free *f, uint32_t nr_nodes,
                  bool json)
{
    char b[32];

    if (json) {
        json_t *o = json_object(), *nf = json_array(), *nfp = json_array(), *per = json_object();
        if (!o || !nf || !nfp || !per)
            return xf_cli_failure(CMD, "out of memory");
        for (uint32_t n = 0; n < nr_nodes; n++) {
            json_array_append_new(
                nf, json_integer((json_int_t)xf_mib_of_pages_free(f->node_free_pages[n])));
            json_array_append_new(nfp, json_integer((json_int_t)f->node_free_pages[n]));
            if (a->placed && a->plan.memory_mib_per_node[n]) {
                char key[12];
                snprintf(key, sizeof(key), "%u", n);
                json_object_set_new(per, key,
                                    json_integer((json_int_t)a->plan.memory_mib_per_node[n]));
            }
        }
        json_object_set_new(o, "admitted", json_boolean(a->admitted));
        json_object_set_new(o, "footprint_mib",
                            json_integer((json_int_t)xf_mib_of_pages_used(a->footprint_pages)));
        json_object_set_new(o, "footprint_pages", json_integer((json_int_t)a->footprint_pages));
        json_object_set_new(o, "host_free_mib",
                            json_integer((json_int_t)xf_mib_of_pages_free(f->host_free_pages)));
        json_object_set_new(o, "node_free_mib", nf);
        /* The exact figures beside the rounded ones. */
        json_object_set_new(o, "host_free_pages", json_integer((json_int_t)f->host_free_pages));
        json_object_set_new(o, "node_free_pages", nfp);
        json_object_set_new(o, "placed", json_boolean(a->placed));
        json_object_set_new(o, "nodes", nodes_json(a->placed ? a->plan.node_mask : 0));
        json_object_set_new(o, "memory_mib_per_node", per);
        json_object_set_new(o, "claim",
                            json_pack("{sssIsIsI}", "kind", xf_claim_kind_name(a->claim.kind),
                                      "node", (json_int_t)a->claim.node, "pages",
                                      (json_int_t)a->claim.pages, "global_pages",
                                      (json_int_t)a->claim.global_pages));
        json_object_set_new(o, "build_claim_pages",
                            json_integer((json_int_t)a->mc.build_claim_pages));
        if (!a->admitted) {
            json_object_set_new(o, "needed_mib", json_integer((json_int_t)a->needed_mib));
            json_object_set_new(o, "available_mib", json_integer((json_int_t)a->available_mib));
            json_object_set_new(o, "reason", json_string(a->reason));
        }
        int r = xf_cli_print_json(o);
        return r ? r : (a->admitted ? XF_EXIT_OK : XF_EXIT_FAILURE);
    }
    printf("%-22s %s\n", "admitted", a->admitted ? "yes" : "no");
    printf("%-22s %s\n", "footprint", pages_size(b, sizeof(b), a->footprint_pages, true));
    printf("%-22s %s\n", "host free for new VMs",
           pages_size(b, sizeof(b), f->host_free_pages, false));
    for (uint32_t n = 0; n < nr_nodes; n++)
        printf("  node %-3u free         %s%s\n", n,
               pages_size(b, sizeof(b), f->node_free_pages[n], false),
               a->placed && a->plan.memory_mib_per_node[n] ? "  <- planned" : "");
    if (!a->admitted) {
        printf("%-22s %s\n", "reason", a->reason);
        return XF_EXIT_FAILURE;
    }
    if (a->placed)
        for (uint32_t n = 0; n < nr_nodes; n++)
            if (a->plan.memory_mib_per_node[n])
                printf("%-22s node %u: %s\n", "plan", n,
                       xf_cli_size_kib(b, sizeof(b), a->plan.memory_mib_per_node[n] * 1024, true));
    printf("%-22s %s", "claim", xf_claim_kind_name(a->claim.kind));
    if (a->claim.kind == XF_CLAIM_NODE)
        printf(" on node %u", a->claim.node);
    /* Claims count pages (XENMEM_claim_pages): --json has them. */
    if (a->claim.kind != XF_CLAIM_NONE)
        printf(", %s", pages_size(b, sizeof(b), a->claim.pages, true));
    if (a->claim.global_pages)
        printf(" (global fallback %s)", pages_size(b, sizeof(b), a->claim.global_pages, true));
    printf("\n");
    return XF_EXIT_OK;
}

/* What the command line asks for. */
struct admit_args {
    struct xf_admit_request req;
    struct xf_admit_params params;
    const char *backend, *host, *socket;
    bool policy_given, numa_given;
    bool json;
    struct xf_cli_vm vm; /* as given, for the daemon's VM object */
};

static int admit_option(void *ctx, int opt, const char *arg)
{
    struct admit_args *args = ctx;

    switch (opt) {
    case OPT_BACKEND:
        args->backend = arg;
        return 0;
    case OPT_HOST:
        args->host = arg;
        return 0;
    case OPT_SOCKET:
        args->socket = arg;
        return 0;
    case OPT_POLICY:
        args->policy_given = true;
        if (xf_policy_parse(arg, &args->params.policy) < 0)
            return xf_cli_usage_error(
                CMD, "--policy '%s': expected xenfit, xapi-2026.02, xapi-6869 or xapi-pre-6869",
                arg);
        return 0;
    case OPT_NUMA:
        args->numa_given = true;
        if (xf_numa_policy_parse(arg, &args->params.numa_policy) < 0)
            return xf_cli_usage_error(CMD,
                                      "--numa-policy '%s': expected best_effort, "
                                      "best_effort_hard, prio_mem_only or any",
                                      arg);
        return 0;
    case OPT_HARD:
        args->req.hard_affinity = true;
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

/* Parses the command line into *args: 0, or the exit status of a usage error
 * (already reported). */
static int parse_args(int argc, char **argv, struct admit_args *args)
{
    struct xf_cli_vm v;
    int status;

    *args = (struct admit_args){
        .params = {.policy = XF_POLICY_XENFIT, .numa_policy = XF_NUMA_POLICY_BEST_EFFORT},
        .backend = "sim",
    };
    if ((status = xf_cli_vm_parse(CMD, argc, argv, options, admit_option, args, &v)))
        return status;
    if (args->socket && (args->host || strcmp(args->backend, "sim") != 0 || args->policy_given ||
                         args->numa_given || v.migration))
        return xf_cli_usage_error(CMD, "--socket asks xenfitd, which has its own host, policy and "
                                       "NUMA policy: no --host, --backend, --policy, "
                                       "--numa-policy or --memory-total-source with it");
    args->vm = v;
    args->req.vm = v.vm;
    args->req.migration = v.migration;
    args->req.source_total_kib = v.source_total_kib;
    args->params.coeffs = xf_admit_default_coeffs(args->params.policy);
    return 0;
}

int xf_cli_admit_local(const char *cmd, struct xf_hv *hv, const struct xf_admit_params *params,
                       const struct xf_admit_request *request, const struct xf_xl_config *xl,
                       struct xf_admission *ret, struct xf_host_free *ret_free,
                       uint32_t *ret_nr_nodes)
{
    struct xf_host_snapshot snap;
    struct xf_host_params hp;
    struct xf_topology *topo = NULL;
    struct xf_planner *planner = NULL;
    struct xf_admit_request req = *request;
    int r, status = 0;

    xf_admit_host_params(params->policy, &hp);
    /* xapi's policies hold back their own constant reserve; xenfit's, the
     * host's low-memory limit and DMA zone, as xenfitd does. */
    r = params->policy == XF_POLICY_XENFIT ? xf_host_params_read(hv, &hp) : 0;
    if (r != 0)
        return xf_cli_failure(cmd, "reading the host: %s (%s)", xf_strerror(r), xf_err_name(r));
    r = xf_host_snapshot_read(hv, &snap);
    if (r != 0)
        return xf_cli_failure(cmd, "reading the host: %s (%s)", xf_strerror(r), xf_err_name(r));
    if (params->policy != XF_POLICY_XENFIT)
        for (uint32_t n = 0; n < snap.nr_nodes; n++)
            snap.nodes[n].dma_free_pages = 0;
    r = xf_host_free_for_new_vm(&snap, NULL, &hp, ret_free);
    if (r == 0 && params->policy == XF_POLICY_XENFIT &&
        (r = xf_topology_read(hv, &topo, NULL)) == 0)
        r = xf_planner_new(topo, XF_PLANNER_XENFIT, &planner);
    if (r == 0 && xl)
        status = xf_cli_xl_nodes(cmd, xl, topo, &req.nodes_allowed);
    if (r == 0 && status == 0)
        r = xf_admit(params, &req, ret_free, planner, ret);
    if (r != 0)
        status = xf_cli_failure(cmd, "%s (%s)", xf_strerror(r), xf_err_name(r));
    *ret_nr_nodes = snap.nr_nodes;
    xf_planner_free(planner);
    xf_topology_free(topo);
    xf_host_snapshot_done(&snap);
    return status;
}

/* Decides against the host behind hv as it is now, and reports the decision;
 * returns the exit status. */
static int admit_on(struct xf_hv *hv, const struct admit_args *args)
{
    struct xf_host_free f;
    struct xf_admission a;
    uint32_t nr_nodes = 0;
    int status;

    memset(&a, 0, sizeof(a));
    memset(&f, 0, sizeof(f));
    status = xf_cli_admit_local(CMD, hv, &args->params, &args->req, args->vm.xl, &a, &f, &nr_nodes);
    return status ? status : report(&a, &f, nr_nodes, args->json);
}

static uint64_t mib_of_kib(const json_t *o, const char *key)
{
    return (uint64_t)json_integer_value(json_object_get(o, key)) / 1024u;
}

/* xenfitd's answer (xenfit.admit_vm) in the same shape as a local decision:
 * text, or --json with the same keys (MiB rounded down from the daemon's KiB). */
static int report_daemon(json_t *res, bool json)
{
    bool admitted = json_is_true(json_object_get(res, "admitted"));
    json_t *nf = json_array(), *claim = json_object_get(res, "claim"), *v;
    json_t *per = json_object_get(res, "node_mib");
    const char *kind = json_string_value(json_object_get(claim, "kind")), *key;
    size_t i;

    json_array_foreach(json_object_get(res, "node_free_for_new_vm_kib"), i, v)
        json_array_append_new(nf, json_integer(json_integer_value(v) / 1024));
    if (json) {
        json_t *o =
            json_pack("{sb sO sI sO sb sO sO sO}", "admitted", admitted, "footprint_mib",
                      json_object_get(res, "footprint_mib"), "host_free_mib",
                      (json_int_t)mib_of_kib(res, "free_for_new_vm_kib"), "node_free_mib", nf,
                      "placed", json_array_size(json_object_get(res, "nodes")) > 0, "nodes",
                      json_object_get(res, "nodes"), "memory_mib_per_node", per, "claim", claim);
        json_decref(nf);
        if (!o) {
            json_decref(res);
            return xf_cli_failure(CMD, "out of memory");
        }
        json_object_set(o, "reservation_kib", json_object_get(res, "kib"));
        json_object_set_new(o, "source", json_string("xenfitd"));
        if (!admitted) {
            json_object_set_new(o, "needed_mib",
                                json_integer((json_int_t)mib_of_kib(res, "needed_kib")));
            json_object_set_new(o, "available_mib",
                                json_integer((json_int_t)mib_of_kib(res, "available_kib")));
            json_object_set(o, "reason", json_object_get(res, "reason"));
        }
        json_decref(res);
        int r = xf_cli_print_json(o);
        return r ? r : (admitted ? XF_EXIT_OK : XF_EXIT_FAILURE);
    }
    printf("%-22s %s (xenfitd, pending reservations counted)\n", "admitted",
           admitted ? "yes" : "no");
    printf("%-22s %lld MiB\n", "footprint",
           (long long)json_integer_value(json_object_get(res, "footprint_mib")));
    printf("%-22s %llu MiB\n", "host free for new VMs",
           (unsigned long long)mib_of_kib(res, "free_for_new_vm_kib"));
    json_array_foreach(nf, i, v)
    {
        char k[24];
        snprintf(k, sizeof(k), "%zu", i);
        printf("  node %-3zu free         %lld MiB%s\n", i, (long long)json_integer_value(v),
               json_object_get(per, k) ? "  <- planned" : "");
    }
    json_decref(nf);
    if (!admitted) {
        printf("%-22s %s\n", "reason", json_string_value(json_object_get(res, "reason")));
        json_decref(res);
        return XF_EXIT_FAILURE;
    }
    json_object_foreach(per, key, v)
        printf("%-22s node %s: %lld MiB\n", "plan", key, (long long)json_integer_value(v));
    printf("%-22s %s", "claim", kind ? kind : "none");
    if (kind && strcmp(kind, "node") == 0)
        printf(" on node %lld", (long long)json_integer_value(json_object_get(claim, "node")));
    if (kind && strcmp(kind, "none") != 0)
        printf(", %lld pages", (long long)json_integer_value(json_object_get(claim, "pages")));
    if (json_integer_value(json_object_get(claim, "global_pages")))
        printf(" (global fallback %lld pages)",
               (long long)json_integer_value(json_object_get(claim, "global_pages")));
    printf("\n");
    json_decref(res);
    return XF_EXIT_OK;
}

/* Asks xenfitd (xenfit.admit_vm): its ledger's pending reservations count. */
static int admit_by_daemon(const struct admit_args *args)
{
    json_t *vm, *res = NULL;
    uint64_t nodes = 0;
    int status;

    if ((status = xf_cli_xl_nodes_daemon(CMD, args->vm.xl, args->socket, &nodes)) ||
        !(vm = xf_cli_vm_json(CMD, &args->vm, args->req.hard_affinity, nodes, &status)))
        return status;
    if ((status = xf_cli_rpc(CMD, args->socket, "xenfit.admit_vm",
                             json_pack("[so]", "xenfit-cli", vm), &res)))
        return status;
    return report_daemon(res, args->json);
}

int xf_cmd_admit(int argc, char **argv)
{
    struct admit_args args;
    struct xf_hv *hv = NULL;
    int status;

    if ((status = parse_args(argc, argv, &args)))
        return status;
    if (args.socket)
        return admit_by_daemon(&args);
    if ((status = xf_cli_open_backend(CMD, args.backend, args.host, &hv)))
        return status;
    status = admit_on(hv, &args);
    xf_hv_free(hv);
    return status;
}
