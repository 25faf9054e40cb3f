/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The xenfitd client commands: `xenfit status` (the host as the daemon sees
 * it: xl info -n numbers and the ledger), `xenfit reserve` (an amount of KiB
 * as squeezed's reserve_memory, or a VM spec with its NUMA placement and
 * claim plan, or an incoming migration) and `xenfit reservations` (the
 * ledger). They talk JSON-RPC over the daemon's Unix socket with the shared
 * client (include/xenfit/client.h); docs/daemon.md describes the methods.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xenfit/client.h"
#include "xenfit/model.h"
#include "xenfit/units.h"

#define DBG "xenfit-cli"

static json_int_t num(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* --- xenfit status --------------------------------------------------------- */

void xf_usage_status(void)
{
    printf("Usage: xenfit status [--socket PATH] [--json]\n\n"
           "Asks xenfitd for the host's memory: what xl info -n shows (total, free and\n"
           "claimed memory, per node memsize, memfree, claimed) and xenfit's ledger: the\n"
           "memory free for a new VM, host-wide and per node, the reservations pending,\n"
           "transferred and settled.\n\n"
           "  --socket PATH   xenfitd's socket (default $XENFITD_SOCKET or %s)\n"
           "  --json          the reply of xenfit.host_status as it is (docs/daemon.md)\n",
           XFD_CLIENT_SOCKET_DEFAULT);
}

enum { OPT_SOCKET = 300, OPT_JSON, OPT_KIB, OPT_HARD, OPT_SESSION };

static int common_opts(const char *cmd, int argc, char **argv, const char **socket, bool *json)
{
    static const struct option opts[] = {{"socket", required_argument, NULL, OPT_SOCKET},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == OPT_SOCKET)
            *socket = optarg;
        else if (c == OPT_JSON)
            *json = true;
        else
            return xf_cli_bad_option(cmd, argc, argv);
    }
    if (optind < argc)
        return xf_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return 0;
}

int xf_cmd_status(int argc, char **argv)
{
    const char *path = xf_cli_socket_default();
    bool json = false;
    json_t *st = NULL, *nodes, *n, *res;
    size_t i;
    int r;

    if ((r = common_opts("status", argc, argv, &path, &json)) ||
        (r = xf_cli_rpc("status", path, "xenfit.host_status", json_pack("[s]", DBG), &st)))
        return r;
    if (json)
        return xf_cli_print_json(st);
    res = json_object_get(st, "reservations");
    printf("%-22s : %s (backend %s)\n", "host", json_string_value(json_object_get(st, "host")),
           json_string_value(json_object_get(st, "backend")));
    printf("%-22s : %lld MiB\n", "total_memory", (long long)num(st, "total_mib"));
    printf("%-22s : %lld MiB\n", "free_memory", (long long)num(st, "free_mib"));
    printf("%-22s : %lld MiB\n", "outstanding_claims",
           (long long)num(st, "outstanding_claims_mib"));
    printf("%-22s : %lld KiB\n", "low_mem_reserve", (long long)num(st, "low_mem_reserve_kib"));
    printf("%-22s : %lld KiB\n", "free_for_new_vms", (long long)num(st, "free_for_new_vm_kib"));
    printf("%-22s : %lld KiB\n", "reserved_not_yet_used", (long long)num(st, "pending_kib"));
    printf("%-22s : %lld pending, %lld transferred, %lld settled\n", "reservations",
           (long long)num(res, "pending"), (long long)num(res, "transferred"),
           (long long)num(res, "settled"));
    printf("%-22s : %lld (%lld dying)\n", "domains", (long long)num(st, "domains"),
           (long long)num(st, "dying_domains"));
    printf("node:  memsize  memfree  claimed  dma_free   free_for_new_vms     reserved_here\n");
    nodes = json_object_get(st, "nodes");
    json_array_foreach(nodes, i, n)
    {
        printf("%4lld: %8lld %8lld %8lld %9lld %14lld KiB %13lld KiB\n", (long long)num(n, "node"),
               (long long)num(n, "memsize_mib"), (long long)num(n, "memfree_mib"),
               (long long)num(n, "claimed_mib"), (long long)num(n, "dma_free_mib"),
               (long long)num(n, "free_for_new_vm_kib"), (long long)num(n, "placed_kib"));
    }
    printf("(memsize, memfree, claimed and dma_free in MiB)\n");
    json_decref(st);
    return XF_EXIT_OK;
}

/* --- xenfit reserve -------------------------------------------------------- */

void xf_usage_reserve(void)
{
    printf("Usage: xenfit reserve --kib N [--session NAME] [--socket PATH] [--json]\n"
           "       xenfit reserve --type T --static-max SIZE --vcpus N [--target SIZE]\n"
           "                      [--video SIZE] [--shadow-multiplier X] [--hard-affinity]\n"
           "                      [--memory-total-source SIZE] [--session NAME]\n"
           "                      [--socket PATH] [--json]\n\n"
           "Reserves host memory with xenfitd and prints the reservation id. With --kib,\n"
           "an amount as squeezed's reserve_memory does; with a VM spec (the flags of\n"
           "`xenfit footprint`), the VM's footprint with its NUMA placement and the claim\n"
           "its builder should make, in one atomic step; with --memory-total-source, an\n"
           "incoming migration that claims exactly the source's memory. A refusal prints\n"
           "HOST_NOT_ENOUGH_FREE_MEMORY with the numbers and exits 1.\n\n"
           "The reservation is pending until a domain takes it (squeezed's\n"
           "transfer_reservation_to_domain) and expires after the daemon's TTL.\n\n"
           "  --kib N                  an amount in KiB\n"
           "  --type, --static-max, --target, --vcpus, --video, --shadow-multiplier\n"
           "                           the VM, as for `xenfit footprint`; --static-max and\n"
           "                           --target in whole MiB (the daemon's unit)\n"
           "  --hard-affinity          the VM pins its vCPUs: no NUMA placement\n"
           "  --memory-total-source SIZE  the memory the VM had on its source host\n"
           "  --session NAME           the session (squeezed's service name; default %s)\n"
           "  --socket PATH            xenfitd's socket (default $XENFITD_SOCKET or %s)\n"
           "  --json                   the daemon's reply as it is\n",
           DBG, XFD_CLIENT_SOCKET_DEFAULT);
}

static void print_vm_reservation(const json_t *res)
{
    const json_t *claim = json_object_get(res, "claim"), *place = json_object_get(res, "placement");
    const char *kind = json_string_value(json_object_get(claim, "kind"));
    char *nodes = json_dumps(json_object_get(res, "node_mib"), JSON_COMPACT | JSON_ENCODE_ANY);

    printf("%s\n", json_string_value(json_object_get(res, "reservation_id")));
    printf("  footprint %lld MiB (%lld KiB reserved), placement %s, MiB per node %s\n",
           (long long)num(res, "footprint_mib"), (long long)num(res, "kib"),
           json_string_value(json_object_get(place, "outcome")), nodes ? nodes : "{}");
    if (kind && strcmp(kind, "node") == 0)
        printf("  claim: node %lld, %lld pages (fall back to a global claim of %lld pages)\n",
               (long long)num(claim, "node"), (long long)num(claim, "pages"),
               (long long)num(claim, "global_pages"));
    else if (kind && strcmp(kind, "global") == 0)
        printf("  claim: global, %lld pages\n", (long long)num(claim, "pages"));
    else
        printf("  claim: none\n");
    free(nodes);
}

/* squeezed's reserve_memory of an amount. */
static int reserve_kib(const char *path, const char *session, uint64_t kib, bool json)
{
    json_t *res = NULL;
    int r = xf_cli_rpc("reserve", path, "reserve_memory",
                       json_pack("[ssI]", DBG, session, (json_int_t)kib), &res);
    if (r)
        return r;
    if (json)
        return xf_cli_print_json(res);
    printf("%s\n", json_string_value(res));
    json_decref(res);
    return XF_EXIT_OK;
}

int xf_cmd_reserve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"json", no_argument, NULL, OPT_JSON},
        {"kib", required_argument, NULL, OPT_KIB},
        {"hard-affinity", no_argument, NULL, OPT_HARD},
        {"session", required_argument, NULL, OPT_SESSION},
        XF_CLI_VM_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *path = xf_cli_socket_default(), *session = DBG;
    uint64_t kib = 0, nodes = 0;
    bool json = false, have_kib = false, hard = false;
    struct xf_cli_vm v;
    json_t *vm, *res = NULL;
    int c, r;

    xf_cli_vm_init(&v);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (xf_cli_vm_option("reserve", c, optarg, &v, &r)) {
            if (r)
                return r;
            continue;
        }
        switch (c) {
        case OPT_SOCKET:
            path = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_KIB:
            if ((r = xf_cli_parse_uint("reserve", "--kib", optarg, 0,
                                       XF_MEMORY_MAX_BYTES / XF_BYTES_PER_KIB, &kib)))
                return r;
            have_kib = true;
            break;
        case OPT_HARD:
            hard = true;
            break;
        case OPT_SESSION:
            session = optarg;
            break;
        default:
            return xf_cli_bad_option("reserve", argc, argv);
        }
    }
    if (optind < argc)
        return xf_cli_usage_error("reserve", "unexpected argument '%s'", argv[optind]);
    if (have_kib) {
        if (v.have_type || v.static_max_arg || v.have_vcpus || v.target_arg || v.migration ||
            v.xl_path)
            return xf_cli_usage_error("reserve", "--kib reserves an amount: no VM flags with it");
        return reserve_kib(path, session, kib, json);
    }
    if (!v.have_type && !v.xl_path)
        return xf_cli_usage_error("reserve", "give --kib N, or a VM with --type, --static-max "
                                             "and --vcpus, or --xl-config FILE");
    if ((r = xf_cli_vm_finish("reserve", &v)) ||
        (r = xf_cli_xl_nodes_daemon("reserve", v.xl, path, &nodes)) ||
        !(vm = xf_cli_vm_json("reserve", &v, hard, nodes, &r)))
        return r;
    if (v.xl && v.xl->name[0]) /* a label for xenfitd's records */
        json_object_set_new(vm, "name", json_string(v.xl->name));
    if (v.migration)
        r = xf_cli_rpc("reserve", path, "xenfit.reserve_migration",
                       json_pack("[ssoI]", DBG, session, vm, (json_int_t)v.source_total_kib), &res);
    else
        r = xf_cli_rpc("reserve", path, "xenfit.reserve_vm", json_pack("[sso]", DBG, session, vm),
                       &res);
    if (r)
        return r;
    if (json)
        return xf_cli_print_json(res);
    print_vm_reservation(res);
    json_decref(res);
    return XF_EXIT_OK;
}

/* --- xenfit reservations --------------------------------------------------- */

void xf_usage_reservations(void)
{
    printf("Usage: xenfit reservations [--socket PATH] [--json]\n\n"
           "Lists xenfitd's reservations: id, session, kind (amount, vm, migration), state\n"
           "(pending, transferred, settled), domain, size, NUMA nodes, claim, and the\n"
           "seconds a pending one has left before it expires.\n\n"
           "  --socket PATH   xenfitd's socket (default $XENFITD_SOCKET or %s)\n"
           "  --json          the reply of xenfit.list_reservations as it is\n",
           XFD_CLIENT_SOCKET_DEFAULT);
}

int xf_cmd_reservations(int argc, char **argv)
{
    const char *path = xf_cli_socket_default();
    bool json = false;
    json_t *list = NULL, *r;
    size_t i;
    int rc;

    if ((rc = common_opts("reservations", argc, argv, &path, &json)) ||
        (rc = xf_cli_rpc("reservations", path, "xenfit.list_reservations", json_pack("[s]", DBG),
                         &list)))
        return rc;
    if (json)
        return xf_cli_print_json(list);
    printf("%-36s  %-12s %-9s %-11s %6s %12s  %-7s %-6s %s\n", "id", "session", "kind", "state",
           "domain", "KiB", "nodes", "claim", "expires");
    json_array_foreach(list, i, r)
    {
        json_t *dom = json_object_get(r, "domid"), *exp = json_object_get(r, "expires_in_s");
        char domain[16] = "-", expires[24] = "-";
        char *nodes = json_dumps(json_object_get(r, "nodes"), JSON_COMPACT | JSON_ENCODE_ANY);
        if (json_is_integer(dom))
            snprintf(domain, sizeof(domain), "%lld", (long long)json_integer_value(dom));
        if (json_is_integer(exp))
            snprintf(expires, sizeof(expires), "in %llds", (long long)json_integer_value(exp));
        printf("%-36s  %-12.12s %-9s %-11s %6s %12lld  %-7s %-6s %s\n",
               json_string_value(json_object_get(r, "reservation_id")),
               json_string_value(json_object_get(r, "session")),
               json_string_value(json_object_get(r, "kind")),
               json_string_value(json_object_get(r, "state")), domain, (long long)num(r, "kib"),
               nodes ? nodes : "[]",
               json_string_value(json_object_get(json_object_get(r, "claim"), "kind")), expires);
        free(nodes);
    }
    printf("%zu reservation%s\n", json_array_size(list), json_array_size(list) == 1 ? "" : "s");
    json_decref(list);
    return XF_EXIT_OK;
}

/* --- xenfit calibration ---------------------------------------------------- */

void xf_usage_calibration(void)
{
    printf("Usage: xenfit calibration [show] [--socket PATH] [--json]\n"
           "       xenfit calibration reset TYPE|all [--socket PATH] [--json]\n\n"
           "Shows what xenfitd learned from observed builds: per domain type and vCPU\n"
           "count, the largest overhead a build needed beyond the model's fixed terms\n"
           "(needed_pages) and what admission now charges there (charged_pages, never\n"
           "below xen-api's 38 pages per vCPU). `reset` forgets what was learned for\n"
           "one type (hvm, pvh, pv, pv_in_pvh) or all: admissions of that type are sized\n"
           "with xen-api's model again until a build is observed. The reset is durable.\n\n"
           "  --socket PATH   xenfitd's socket (default $XENFITD_SOCKET or %s)\n"
           "  --json          the reply of xenfit.calibration (or _reset) as it is\n",
           XFD_CLIENT_SOCKET_DEFAULT);
}

static int calibration_show(const char *path, bool json)
{
    json_t *res = NULL, *rows, *row;
    size_t i;
    int r = xf_cli_rpc("calibration", path, "xenfit.calibration", json_pack("[s]", DBG), &res);

    if (r)
        return r;
    if (json)
        return xf_cli_print_json(res);
    rows = json_object_get(res, "rows");
    printf("%-10s %6s %13s %14s\n", "type", "vcpus", "needed_pages", "charged_pages");
    json_array_foreach(rows, i, row)
    {
        printf("%-10s %6lld %13lld %14lld\n", json_string_value(json_object_get(row, "type")),
               (long long)num(row, "vcpus"), (long long)num(row, "needed_pages"),
               (long long)num(row, "charged_pages"));
    }
    printf("%zu row%s learned\n", json_array_size(rows), json_array_size(rows) == 1 ? "" : "s");
    json_decref(res);
    return XF_EXIT_OK;
}

int xf_cmd_calibration(int argc, char **argv)
{
    const char *path = xf_cli_socket_default(), *action = "show", *type = NULL;
    bool json = false;
    json_t *res = NULL;
    int r;

    /* The action and its argument come first: `calibration reset hvm --json`. */
    if (argc > 1 && argv[1][0] != '-') {
        action = argv[1];
        argc--;
        argv++;
        if (strcmp(action, "reset") == 0) {
            if (argc < 2 || argv[1][0] == '-')
                return xf_cli_usage_error("calibration", "reset needs a type: hvm, pvh, pv, "
                                                         "pv_in_pvh or all");
            type = argv[1];
            argc--;
            argv++;
        } else if (strcmp(action, "show") != 0) {
            return xf_cli_usage_error("calibration", "unknown action '%s' (show or reset)", action);
        }
    }
    if ((r = common_opts("calibration", argc, argv, &path, &json)))
        return r;
    if (!type)
        return calibration_show(path, json);
    if ((r = xf_cli_rpc("calibration", path, "xenfit.calibration_reset",
                        json_pack("[ss]", DBG, type), &res)))
        return r;
    if (json)
        return xf_cli_print_json(res);
    printf("calibration of %s reset: %lld row%s forgotten\n", type, (long long)num(res, "removed"),
           num(res, "removed") == 1 ? "" : "s");
    json_decref(res);
    return XF_EXIT_OK;
}
