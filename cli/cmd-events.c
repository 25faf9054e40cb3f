/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's build records: `xenfit events` (every build observed or
 * reported and every refused reservation), `xenfit explain
 * RESERVATION|DOMID|NAME` (why did my VM not start?) and `xenfit
 * report-build` (a toolstack script tells xenfitd how a build went). The
 * methods are xenfit.events, xenfit.explain and xenfit.report_build
 * (docs/daemon.md, "Build records").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "xenfit/units.h"

#define DBG "xenfit-cli"

enum {
    OPT_SOCKET = 400,
    OPT_JSON,
    OPT_RESERVATION,
    OPT_DOMID,
    OPT_OUTCOME,
    OPT_ERRNO,
    OPT_TAKEN,
    OPT_MESSAGE,
    OPT_NAME,
    OPT_SESSION,
};

/* --socket and --json, and at most `operands` operands into ops[]. */
static int simple_opts(const char *cmd, int argc, char **argv, const char **socket, bool *json,
                       const char **ops, int operands)
{
    static const struct option opts[] = {{"socket", required_argument, NULL, OPT_SOCKET},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {NULL, 0, NULL, 0}};
    int c, n = 0;

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
    for (; optind < argc; optind++) {
        if (n == operands)
            return xf_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        ops[n++] = argv[optind];
    }
    if (n < operands)
        return xf_cli_usage_error(cmd, "which reservation, domain or VM name? (see --help)");
    return 0;
}

static const char *str(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

/* One line per record: id, time, outcome, who, and the why in numbers. */
static void print_event(const json_t *e)
{
    time_t t = (time_t)json_integer_value(json_object_get(e, "time"));
    struct tm tm;
    char when[32] = "-", domid[16] = "-", why[400] = "";
    const json_t *v;

    if (gmtime_r(&t, &tm))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (json_is_integer(v = json_object_get(e, "domid")))
        snprintf(domid, sizeof(domid), "%lld", (long long)json_integer_value(v));
    if (json_is_string(json_object_get(e, "reason")))
        snprintf(why, sizeof(why), "%s", str(e, "reason", ""));
    else if (json_integer_value(json_object_get(e, "errno")))
        snprintf(why, sizeof(why), "errno %lld (%s)%s%s",
                 (long long)json_integer_value(json_object_get(e, "errno")),
                 strerror((int)json_integer_value(json_object_get(e, "errno"))),
                 json_is_string(json_object_get(e, "message")) ? ": " : "", str(e, "message", ""));
    else if (json_is_integer(json_object_get(e, "taken_kib")))
        snprintf(why, sizeof(why), "took %lld KiB, %lld pages beyond the model%s",
                 (long long)json_integer_value(json_object_get(e, "taken_kib")),
                 (long long)json_integer_value(json_object_get(e, "overhead_pages")),
                 json_is_true(json_object_get(e, "drift")) ? " (DRIFT)" : "");
    else
        snprintf(why, sizeof(why), "%s", str(e, "message", ""));
    printf("%5lld %-20s %-8s %-12.12s %-16.16s %-36s %5s  %s\n",
           (long long)json_integer_value(json_object_get(e, "event_id")), when,
           str(e, "outcome", "?"), str(e, "session", "-"), str(e, "name", "-"),
           str(e, "reservation_id", "-"), domid, why);
}

static void print_header(void)
{
    printf("%5s %-20s %-8s %-12s %-16s %-36s %5s  %s\n", "id", "time (UTC)", "outcome", "session",
           "name", "reservation", "domid", "why");
}

void xf_usage_events(void)
{
    printf("Usage: xenfit events [--socket PATH] [--json]\n\n"
           "Lists xenfitd's build records, oldest first: every build it observed or was\n"
           "told about (xenfit report-build, xenfit xl-create), and every VM reservation it\n"
           "refused, with the numbers: needed and available memory, the plan (nodes, MiB\n"
           "per node), the claim, the errno of a failed build, what a build took and its\n"
           "overhead beyond the model. The newest %u are kept, durably.\n\n"
           "  --socket PATH   xenfitd's socket (default $XENFITD_SOCKET or %s)\n"
           "  --json          the reply of xenfit.events as it is\n",
           10000u, "/run/xenfitd/xenfitd.sock");
}

int xf_cmd_events(int argc, char **argv)
{
    const char *path = xf_cli_socket_default();
    bool json = false;
    json_t *list = NULL, *e;
    size_t i;
    int r;

    if ((r = simple_opts("events", argc, argv, &path, &json, NULL, 0)) ||
        (r = xf_cli_rpc("events", path, "xenfit.events", json_pack("[s]", DBG), &list)))
        return r;
    if (json)
        return xf_cli_print_json(list);
    print_header();
    json_array_foreach(list, i, e) print_event(e);
    printf("%zu record%s\n", json_array_size(list), json_array_size(list) == 1 ? "" : "s");
    json_decref(list);
    return XF_EXIT_OK;
}

void xf_usage_explain(void)
{
    printf("Usage: xenfit explain RESERVATION|DOMID|NAME [--socket PATH] [--json]\n\n"
           "Why did my VM not start? xenfitd's records of one reservation, domain or VM\n"
           "name (xl's name=), its reservation if it still has one, and a one-line\n"
           "summary: the last outcome and its reason in numbers, or its errno.\n\n"
           "  --socket PATH   xenfitd's socket (default $XENFITD_SOCKET or %s)\n"
           "  --json          the reply of xenfit.explain: {what, summary, reservation,\n"
           "                  events}\n",
           "/run/xenfitd/xenfitd.sock");
}

int xf_cmd_explain(int argc, char **argv)
{
    const char *path = xf_cli_socket_default(), *what = NULL;
    bool json = false;
    json_t *res = NULL, *e, *arg;
    uint64_t domid;
    size_t i;
    int r;

    if ((r = simple_opts("explain", argc, argv, &path, &json, &what, 1)))
        return r;
    arg = xf_parse_u64(what, &domid) == 0 && domid < 0x7FF0 ? json_integer((json_int_t)domid)
                                                            : json_string(what);
    if ((r = xf_cli_rpc("explain", path, "xenfit.explain", json_pack("[so]", DBG, arg), &res)))
        return r;
    if (json)
        return xf_cli_print_json(res);
    printf("%s: %s\n", what, str(res, "summary", "?"));
    if (json_is_object(json_object_get(res, "reservation"))) {
        const json_t *rv = json_object_get(res, "reservation");
        char *nodes = json_dumps(json_object_get(rv, "node_mib"), JSON_COMPACT);
        printf("reservation %s: %s, %lld KiB, MiB per node %s\n", str(rv, "reservation_id", "?"),
               str(rv, "state", "?"), (long long)json_integer_value(json_object_get(rv, "kib")),
               nodes ? nodes : "{}");
        free(nodes);
    }
    if (json_array_size(json_object_get(res, "events"))) {
        print_header();
        json_array_foreach(json_object_get(res, "events"), i, e) print_event(e);
    }
    json_decref(res);
    return XF_EXIT_OK;
}

void xf_usage_report_build(void)
{
    printf("Usage: xenfit report-build --outcome built|failed [--reservation ID] [--domid N]\n"
           "                           [--name NAME] [--errno N] [--message TEXT]\n"
           "                           [--taken-kib K VM] [--session NAME] [--socket PATH]\n"
           "                           [--json]\n\n"
           "Tells xenfitd how a build went, for its records (xenfit events, explain): a\n"
           "failure with its errno and message, or a success; with --taken-kib and the VM\n"
           "(the flags of xenfit footprint, or --xl-config) the memory the domain took in\n"
           "all, which also calibrates xenfitd's model (xenfit.observe_build). A failed\n"
           "build's reservation is not released by this: delete it (xl-create does).\n");
}

int xf_cmd_report_build(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"json", no_argument, NULL, OPT_JSON},
        {"reservation", required_argument, NULL, OPT_RESERVATION},
        {"domid", required_argument, NULL, OPT_DOMID},
        {"outcome", required_argument, NULL, OPT_OUTCOME},
        {"errno", required_argument, NULL, OPT_ERRNO},
        {"taken-kib", required_argument, NULL, OPT_TAKEN},
        {"message", required_argument, NULL, OPT_MESSAGE},
        {"name", required_argument, NULL, OPT_NAME},
        {"session", required_argument, NULL, OPT_SESSION},
        XF_CLI_VM_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *path = xf_cli_socket_default(), *session = DBG;
    json_t *rep = json_object(), *res = NULL, *vm;
    bool json = false;
    struct xf_cli_vm v;
    uint64_t n;
    int c, r;

    if (!rep)
        return xf_cli_failure("report-build", "out of memory");
    xf_cli_vm_init(&v);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (xf_cli_vm_option("report-build", c, optarg, &v, &r)) {
            if (r)
                goto fail;
            continue;
        }
        r = 0;
        switch (c) {
        case OPT_SOCKET:
            path = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_SESSION:
            session = optarg;
            break;
        case OPT_RESERVATION:
            json_object_set_new(rep, "reservation_id", json_string(optarg));
            break;
        case OPT_NAME:
            json_object_set_new(rep, "name", json_string(optarg));
            break;
        case OPT_MESSAGE:
            json_object_set_new(rep, "message", json_string(optarg));
            break;
        case OPT_OUTCOME:
            json_object_set_new(rep, "outcome", json_string(optarg));
            break;
        case OPT_DOMID:
            r = xf_cli_parse_uint("report-build", "--domid", optarg, 0, 0x7FEF, &n);
            json_object_set_new(rep, "domid", json_integer((json_int_t)n));
            break;
        case OPT_ERRNO:
            r = xf_cli_parse_uint("report-build", "--errno", optarg, 0, 4095, &n);
            json_object_set_new(rep, "errno", json_integer((json_int_t)n));
            break;
        case OPT_TAKEN:
            r = xf_cli_parse_uint("report-build", "--taken-kib", optarg, 1,
                                  XF_MEMORY_MAX_BYTES / 1024, &n);
            json_object_set_new(rep, "taken_kib", json_integer((json_int_t)n));
            break;
        default:
            r = xf_cli_bad_option("report-build", argc, argv);
        }
        if (r)
            goto fail;
    }
    if (optind < argc) {
        r = xf_cli_usage_error("report-build", "unexpected argument '%s'", argv[optind]);
        goto fail;
    }
    if (v.have_type || v.xl_path) {
        if ((r = xf_cli_vm_finish("report-build", &v)) ||
            !(vm = xf_cli_vm_json("report-build", &v, false, 0, &r)))
            goto fail;
        if (v.xl && v.xl->name[0]) {
            json_object_set_new(vm, "name", json_string(v.xl->name));
            if (!json_object_get(rep, "name"))
                json_object_set_new(rep, "name", json_string(v.xl->name));
        }
        json_object_set_new(rep, "vm", vm);
    }
    if ((r = xf_cli_rpc("report-build", path, "xenfit.report_build",
                        json_pack("[ssO]", DBG, session, rep), &res)))
        goto fail;
    json_decref(rep);
    if (json)
        return xf_cli_print_json(res);
    print_event(res);
    json_decref(res);
    return XF_EXIT_OK;
fail:
    json_decref(rep);
    return r;
}
