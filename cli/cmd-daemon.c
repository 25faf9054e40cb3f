/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The xenfitd client commands: `xenfit status` (the host as the daemon sees
 * it: xl info -n numbers and the ledger), `xenfit reserve` (an amount of KiB
 * as squeezed's reserve_memory, or a VM spec with its NUMA placement and
 * claim plan, or an incoming migration) and `xenfit reservations` (the
 * ledger). They talk JSON-RPC over the daemon's Unix socket with the shared
 * client (include/xenfit/client.h); docs/daemon.md describes the methods.
 * `xenfit release` and `xenfit transfer` end or hand over a reservation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xenfit/client.h"
#include "xenfit/model.h"
#include "xenfit/types.h"
#include "xenfit/units.h"

#define DBG "xenfit-cli"

static json_int_t num(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* A KiB member as the screen shows it (xf_cli_size_kib); "?" when absent. */
static const char *size_of(char *buf, size_t len, const json_t *o, const char *key, bool used)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        snprintf(buf, len, "?");
        return buf;
    }
    return xf_cli_size_kib(buf, len, (uint64_t)json_integer_value(v), used);
}

/* A KiB member in the screen's unit, for a table whose header or note gives
 * the unit once: MiB (rounded as xf_cli_size_kib does), or bytes. */
static unsigned long long in_unit(const json_t *o, const char *key, bool used)
{
    json_int_t kib = num(o, key);
    uint64_t k = kib > 0 ? (uint64_t)kib : 0;

    if (xf_cli_bytes)
        return k * XF_BYTES_PER_KIB;
    return used ? xf_mib_of_kib_used(k) : xf_mib_of_kib_free(k);
}

/* A JSON array of node numbers as "[0, 2]" (at most 64 nodes). */
static const char *node_list(const json_t *nodes, char *buf, size_t len)
{
    size_t i, off = 0;
    const json_t *n;

    snprintf(buf, len, "[");
    off = strlen(buf);
    json_array_foreach(nodes, i, n)
    {
        int k = snprintf(buf + off, len - off, "%s%lld", i ? ", " : "",
                         (long long)json_integer_value(n));
        if (k < 0 || (size_t)k >= len - off)
            break;
        off += (size_t)k;
    }
    if (off + 2 <= len)
        snprintf(buf + off, len - off, "]");
    return buf;
}

/* {"0": 4232192, "1": 10240} (KiB) as "0:4133,1:10" in the screen's unit,
 * as `xenfit plan` prints MiB per node. */
static const char *node_size_list(json_t *node_kib, char *buf, size_t len)
{
    const char *key;
    const json_t *v;
    size_t off = 0;

    buf[0] = '\0';
    json_object_foreach(node_kib, key, v)
    {
        json_int_t kib = json_integer_value(v);
        uint64_t k_ = kib > 0 ? (uint64_t)kib : 0;
        int k = snprintf(
            buf + off, len - off, "%s%s:%llu", off ? "," : "", key,
            (unsigned long long)(xf_cli_bytes ? k_ * XF_BYTES_PER_KIB : xf_mib_of_kib_used(k_)));
        if (k < 0 || (size_t)k >= len - off)
            break;
        off += (size_t)k;
    }
    if (!buf[0])
        snprintf(buf, len, "-");
    return buf;
}

/* --- xenfit status --------------------------------------------------------- */

void xf_usage_status(void)
{
    printf("Usage: xenfit status [--socket PATH] [--json] [--bytes]\n\n"
           "Asks xenfitd for the host's memory: what xl info -n shows (total, free and\n"
           "claimed memory, per node memsize, memfree, claimed) and xenfit's ledger: the\n"
           "memory free for a new VM, host-wide and per node, the reservations pending,\n"
           "transferred and settled.\n\n"
           "  --socket PATH   xenfitd's socket (default $XENFITD_SOCKET or %s)\n"
           "  --json          the reply of xenfit.host_status as it is (docs/daemon.md)\n"
           "  --bytes         sizes in exact bytes (default: MiB)\n",
           XFD_CLIENT_SOCKET_DEFAULT);
}

enum { OPT_SOCKET = 300, OPT_JSON, OPT_KIB, OPT_HARD, OPT_SESSION, OPT_BYTES };

/* --socket, --json, and --bytes where the command prints sizes (`sizes`). */
static int common_opts(const char *cmd, int argc, char **argv, bool sizes, const char **socket,
                       bool *json)
{
    static const struct option opts[] = {{"socket", required_argument, NULL, OPT_SOCKET},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"bytes", no_argument, NULL, OPT_BYTES},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == OPT_SOCKET)
            *socket = optarg;
        else if (c == OPT_JSON)
            *json = true;
        else if (c == OPT_BYTES && sizes)
            xf_cli_bytes = true;
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
    int w; /* the width of a size column */
    char b[32];
    size_t i;
    int r;

    if ((r = common_opts("status", argc, argv, true, &path, &json)) ||
        (r = xf_cli_rpc("status", path, "xenfit.host_status", json_pack("[s]", DBG), &st)))
        return r;
    if (json)
        return xf_cli_print_json(st);
    res = json_object_get(st, "reservations");
    printf("%-22s : %s (backend %s)\n", "host", json_string_value(json_object_get(st, "host")),
           json_string_value(json_object_get(st, "backend")));
    printf("%-22s : %s\n", "total_memory", size_of(b, sizeof(b), st, "total_kib", false));
    printf("%-22s : %s\n", "free_memory", size_of(b, sizeof(b), st, "free_kib", false));
    printf("%-22s : %s\n", "outstanding_claims",
           size_of(b, sizeof(b), st, "outstanding_claims_kib", true));
    printf("%-22s : %s\n", "low_mem_reserve",
           size_of(b, sizeof(b), st, "low_mem_reserve_kib", true));
    printf("%-22s : %s\n", "free_for_new_vms",
           size_of(b, sizeof(b), st, "free_for_new_vm_kib", false));
    printf("%-22s : %s\n", "reserved_not_yet_used", size_of(b, sizeof(b), st, "pending_kib", true));
    printf("%-22s : %lld pending, %lld transferred, %lld settled\n", "reservations",
           (long long)num(res, "pending"), (long long)num(res, "transferred"),
           (long long)num(res, "settled"));
    printf("%-22s : %lld (%lld dying)\n", "domains", (long long)num(st, "domains"),
           (long long)num(st, "dying_domains"));
    /* A table: the unit once, in the note below it. */
    w = xf_cli_bytes ? 14 : 8;
    printf("node: %*s %*s %*s %*s %17s %14s\n", w, "memsize", w, "memfree", w, "claimed", w + 1,
           "dma_free", "free_for_new_vms", "reserved_here");
    nodes = json_object_get(st, "nodes");
    json_array_foreach(nodes, i, n)
    {
        printf("%4lld: %*llu %*llu %*llu %*llu %17llu %14llu\n", (long long)num(n, "node"), w,
               in_unit(n, "memsize_kib", false), w, in_unit(n, "memfree_kib", false), w,
               in_unit(n, "claimed_kib", true), w + 1, in_unit(n, "dma_free_kib", false),
               in_unit(n, "free_for_new_vm_kib", false), in_unit(n, "placed_kib", true));
    }
    if (xf_cli_bytes)
        printf("(bytes, exact)\n");
    else
        printf("(MiB: free rounded down, reserved up; --bytes or --json for exact values)\n");
    json_decref(st);
    return XF_EXIT_OK;
}

/* --- xenfit reserve -------------------------------------------------------- */

void xf_usage_reserve(void)
{
    printf("Usage: xenfit reserve --kib N [--session NAME] [--socket PATH] [--json] [--bytes]\n"
           "       xenfit reserve --type T --static-max SIZE --vcpus N [--target SIZE]\n"
           "                      [--video SIZE] [--shadow-multiplier X] [--hard-affinity]\n"
           "                      [--memory-total-source SIZE] [--session NAME]\n"
           "                      [--socket PATH] [--json]\n"
           "       xenfit reserve --xl-config VM.cfg [--session NAME] [--socket PATH] [--json]\n\n"
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
           "  --xl-config FILE         the VM of an xl config instead (xenfit(1), xl configs)\n"
           "  --hard-affinity          the VM pins its vCPUs: no NUMA placement\n"
           "  --memory-total-source SIZE  the memory the VM had on its source host\n"
           "  --session NAME           the session (squeezed's service name; default %s)\n"
           "  --socket PATH            xenfitd's socket (default $XENFITD_SOCKET or %s)\n"
           "  --json                   the daemon's reply as it is\n"
           "  --bytes                  sizes in exact bytes (default: MiB)\n",
           DBG, XFD_CLIENT_SOCKET_DEFAULT);
}

/* A member counting 4 KiB pages, in KiB. */
static uint64_t pages_kib(const json_t *o, const char *key)
{
    json_int_t pages = num(o, key);
    return pages > 0 ? xf_kib_of_pages((uint64_t)pages) : 0;
}

static void print_vm_reservation(const json_t *res)
{
    const json_t *claim = json_object_get(res, "claim"), *place = json_object_get(res, "placement");
    const char *kind = json_string_value(json_object_get(claim, "kind"));
    char nodes[XF_MAX_NODES * 5 + 4], node_size[XF_MAX_NODES * 24 + 2], b[4][32];
    json_int_t footprint_mib = num(res, "footprint_mib");

    printf("%s\n", json_string_value(json_object_get(res, "reservation_id")));
    printf("  footprint %s, reserved %s, placement %s %s, %s per node %s\n",
           xf_cli_size_kib(b[0], 32, footprint_mib > 0 ? (uint64_t)footprint_mib * 1024 : 0, true),
           size_of(b[1], 32, res, "kib", true),
           json_string_value(json_object_get(place, "outcome")),
           node_list(json_object_get(place, "nodes"), nodes, sizeof(nodes)), xf_cli_unit(),
           node_size_list(json_object_get(res, "node_kib"), node_size, sizeof(node_size)));
    /* Claims count pages (XENMEM_claim_pages); the screen shows their size,
     * --json the pages. */
    if (kind && strcmp(kind, "node") == 0)
        printf("  claim: node %lld, %s (fall back to a global claim of %s)\n",
               (long long)num(claim, "node"),
               xf_cli_size_kib(b[2], 32, pages_kib(claim, "pages"), true),
               xf_cli_size_kib(b[3], 32, pages_kib(claim, "global_pages"), true));
    else if (kind && strcmp(kind, "global") == 0)
        printf("  claim: global, %s\n", xf_cli_size_kib(b[2], 32, pages_kib(claim, "pages"), true));
    else
        printf("  claim: none\n");
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
        {"bytes", no_argument, NULL, OPT_BYTES},
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
            if ((r = xf_cli_parse_uint("reserve", "--kib", optarg, 1,
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
        case OPT_BYTES:
            xf_cli_bytes = true;
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
    printf("Usage: xenfit reservations [--socket PATH] [--json] [--bytes]\n\n"
           "Lists xenfitd's reservations: id, session, kind (amount, vm, migration), state\n"
           "(pending, transferred, settled), domain, size, NUMA nodes, claim, and the\n"
           "seconds a pending one has left before it expires.\n\n"
           "  --socket PATH   xenfitd's socket (default $XENFITD_SOCKET or %s)\n"
           "  --json          the reply of xenfit.list_reservations as it is\n"
           "  --bytes         sizes in exact bytes (default: MiB)\n",
           XFD_CLIENT_SOCKET_DEFAULT);
}

int xf_cmd_reservations(int argc, char **argv)
{
    const char *path = xf_cli_socket_default();
    bool json = false;
    json_t *list = NULL, *r;
    size_t i;
    int rc;

    if ((rc = common_opts("reservations", argc, argv, true, &path, &json)) ||
        (rc = xf_cli_rpc("reservations", path, "xenfit.list_reservations", json_pack("[s]", DBG),
                         &list)))
        return rc;
    if (json)
        return xf_cli_print_json(list);
    printf("%-36s  %-12s %-9s %-11s %6s %*s  %-7s %-6s %s\n", "id", "session", "kind", "state",
           "domain", xf_cli_bytes ? 13 : 9, xf_cli_unit(), "nodes", "claim", "expires");
    json_array_foreach(list, i, r)
    {
        json_t *dom = json_object_get(r, "domid"), *exp = json_object_get(r, "expires_in_s");
        char domain[16] = "-", expires[24] = "-", nodes[XF_MAX_NODES * 5 + 4];
        if (json_is_integer(dom))
            snprintf(domain, sizeof(domain), "%lld", (long long)json_integer_value(dom));
        if (json_is_integer(exp))
            snprintf(expires, sizeof(expires), "in %llds", (long long)json_integer_value(exp));
        printf("%-36s  %-12.12s %-9s %-11s %6s %*llu  %-7s %-6s %s\n",
               json_string_value(json_object_get(r, "reservation_id")),
               json_string_value(json_object_get(r, "session")),
               json_string_value(json_object_get(r, "kind")),
               json_string_value(json_object_get(r, "state")), domain, xf_cli_bytes ? 13 : 9,
               in_unit(r, "kib", true),
               node_list(json_object_get(r, "nodes"), nodes, sizeof(nodes)),
               json_string_value(json_object_get(json_object_get(r, "claim"), "kind")), expires);
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
    if ((r = common_opts("calibration", argc, argv, false, &path, &json)))
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

/* --- xenfit release, xenfit transfer -------------------------------------- */

void xf_usage_release(void)
{
    printf("Usage: xenfit release ID [--session NAME] [--socket PATH] [--json]\n\n"
           "Deletes a reservation of the session (squeezed's delete_reservation): its\n"
           "memory is free for others at once. A reservation already transferred to a\n"
           "domain is released too. An id the session does not hold is an error (exit 1).\n\n"
           "  --session NAME   the session that made it (default %s, as `xenfit reserve`)\n"
           "  --socket PATH    xenfitd's socket (default $XENFITD_SOCKET or %s)\n"
           "  --json           {\"reservation_id\": ID, \"released\": true}\n",
           DBG, XFD_CLIENT_SOCKET_DEFAULT);
}

void xf_usage_transfer(void)
{
    printf("Usage: xenfit transfer ID DOMID [--session NAME] [--socket PATH] [--json] [--bytes]\n\n"
           "Ties a reservation to a domain that exists (xenfitd's xenfit.transfer): it no\n"
           "longer expires, and is settled once the domain is built. A domain the\n"
           "hypervisor does not have, a dying one, or domain 0 is refused. (squeezed's\n"
           "transfer_reservation_to_domain, which toolstacks call, also accepts a domain\n"
           "about to be created.)\n\n"
           "  --session NAME   the session that made it (default %s, as `xenfit reserve`)\n"
           "  --socket PATH    xenfitd's socket (default $XENFITD_SOCKET or %s)\n"
           "  --json           the reservation after the transfer, as `reservations --json`\n"
           "  --bytes          its size in exact bytes (default: MiB)\n",
           DBG, XFD_CLIENT_SOCKET_DEFAULT);
}

/* Options and exactly `nargs` operands (into ret_args) for release and transfer. */
static int id_opts(const char *cmd, int argc, char **argv, int nargs, const char **ret_args,
                   bool sizes, const char **socket, const char **session, bool *json)
{
    static const struct option opts[] = {{"socket", required_argument, NULL, OPT_SOCKET},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"session", required_argument, NULL, OPT_SESSION},
                                         {"bytes", no_argument, NULL, OPT_BYTES},
                                         {NULL, 0, NULL, 0}};
    int c, n = 0;
    optind = 1;
    opterr = 0;
    /* "+": operands and options in any order, parsed one at a time. */
    for (;;) {
        while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
            if (c == OPT_SOCKET)
                *socket = optarg;
            else if (c == OPT_JSON)
                *json = true;
            else if (c == OPT_SESSION)
                *session = optarg;
            else if (c == OPT_BYTES && sizes)
                xf_cli_bytes = true;
            else
                return xf_cli_bad_option(cmd, argc, argv);
        }
        if (optind >= argc)
            break;
        if (n == nargs)
            return xf_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        ret_args[n++] = argv[optind++];
    }
    if (n < nargs)
        return xf_cli_usage_error(
            cmd, "%s (see 'xenfit %s --help')",
            nargs == 1 ? "give the reservation ID" : "give the reservation ID and the DOMID", cmd);
    if (**session == '\0')
        return xf_cli_usage_error(cmd, "--session '': the session name is empty");
    return 0;
}

int xf_cmd_release(int argc, char **argv)
{
    const char *path = xf_cli_socket_default(), *session = DBG, *id = NULL;
    bool json = false;
    json_t *res = NULL;
    int r;

    if ((r = id_opts("release", argc, argv, 1, &id, false, &path, &session, &json)) ||
        (r = xf_cli_rpc("release", path, "delete_reservation", json_pack("[sss]", DBG, session, id),
                        &res)))
        return r;
    json_decref(res);
    if (json)
        return xf_cli_print_json(json_pack("{sssb}", "reservation_id", id, "released", true));
    printf("released %s\n", id);
    return XF_EXIT_OK;
}

int xf_cmd_transfer(int argc, char **argv)
{
    const char *path = xf_cli_socket_default(), *session = DBG, *args[2] = {NULL, NULL};
    char b[32];
    bool json = false;
    json_t *res = NULL;
    uint64_t domid;
    int r;

    if ((r = id_opts("transfer", argc, argv, 2, args, true, &path, &session, &json)))
        return r;
    if (xf_parse_u64(args[1], &domid) == 0 && domid == 0)
        return xf_cli_usage_error("transfer", "DOMID '0': domain 0 is the control domain; a "
                                              "reservation is never transferred to it");
    if ((r = xf_cli_parse_uint("transfer", "DOMID", args[1], 1, XF_DOMID_FIRST_RESERVED - 1,
                               &domid)) ||
        (r = xf_cli_rpc("transfer", path, "xenfit.transfer",
                        json_pack("[sssI]", DBG, session, args[0], (json_int_t)domid), &res)))
        return r;
    if (json)
        return xf_cli_print_json(res);
    printf("%s transferred to domain %llu (%s)\n", args[0], (unsigned long long)domid,
           size_of(b, sizeof(b), res, "kib", true));
    json_decref(res);
    return XF_EXIT_OK;
}
