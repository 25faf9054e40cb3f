/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfit sim run: runs a scenario (include/xenfit/scenario.h) against the
 * simulator under one policy or all four, and reports each VM's outcome and
 * the totals.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xenfit/error.h"
#include "xenfit/scenario.h"
#include "xenfit/units.h"

static const char *const CMD = "sim";

void xf_usage_sim(void)
{
    printf(
        "Usage: xenfit sim run SCENARIO.json [--policy P|all] [--seed N] [--json] [--verbose]\n\n"
        "Runs a scenario (docs/scenario.md) against the simulated Xen host it names, under\n"
        "one policy or all four side by side, and reports each VM's outcome (booted on\n"
        "which nodes; refused with numbers; failed while building: phase and errno) and\n"
        "the totals: VMs requested, false admits (said yes, then the build failed),\n"
        "refusals, single-node placements among VMs that fit one node, MiB reserved but\n"
        "never used.\n\n"
        "  --policy P   xapi-pre-6869, xapi-6869, xapi-2026.02, xenfit, or all (default all)\n"
        "  --seed N     the scheduler's seed for parallel steps (default 1)\n"
        "  --json       {\"scenario\":..., \"runs\":[{\"policy\", \"totals\", \"vms\"}]}\n"
        "  --verbose    log every admission, wait, boot and failure on stderr\n");
}

static const struct option options[] = {
    {"policy", required_argument, NULL, 'p'},
    {"seed", required_argument, NULL, 's'},
    {"json", no_argument, NULL, 'j'},
    {"verbose", no_argument, NULL, 'v'},
    {NULL, 0, NULL, 0},
};

struct loader {
    char dir[PATH_MAX];
};

static int load_relative(void *ctx, const char *path, char **ret_buf, size_t *ret_len)
{
    const struct loader *l = ctx;
    char full[PATH_MAX * 2];
    FILE *f;
    char *buf;
    long len;

    if (path[0] == '/')
        snprintf(full, sizeof(full), "%s", path);
    else
        snprintf(full, sizeof(full), "%s/%s", l->dir, path);
    f = fopen(full, "rb");
    if (!f)
        return -errno;
    if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || len > (1 << 24) ||
        fseek(f, 0, SEEK_SET) < 0) {
        fclose(f);
        return XF_EIO;
    }
    buf = malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        return buf ? XF_EIO : XF_ENOMEM;
    }
    fclose(f);
    buf[len] = '\0';
    *ret_buf = buf;
    *ret_len = (size_t)len;
    return 0;
}

static void log_stderr(void *ctx, const char *msg)
{
    fprintf(stderr, "[%s] %s\n", (const char *)ctx, msg);
}

static json_t *nodes_json(uint64_t mask)
{
    json_t *a = json_array();
    for (unsigned n = 0; a && n < 64; n++)
        if (mask & (UINT64_C(1) << n))
            json_array_append_new(a, json_integer(n));
    return a;
}

static json_t *report_json(const struct xf_scn_report *r)
{
    const struct xf_scn_totals *t = &r->totals;
    json_t *vms = json_array();
    for (size_t i = 0; vms && i < r->nr_vms; i++) {
        const struct xf_scn_vm_result *v = &r->vms[i];
        json_t *o = json_pack(
            "{sssssosososIsIsbsIsIsI}", "name", v->name, "outcome", xf_scn_outcome_name(v->outcome),
            "nodes", nodes_json(v->nodes), "planned_nodes", nodes_json(v->planned_nodes), "claim",
            json_string(xf_claim_kind_name(v->claim)), "footprint_mib",
            (json_int_t)v->footprint_mib, "taken_mib", (json_int_t)v->taken_mib, "fits_one_node",
            v->fits_one_node, "boots", (json_int_t)v->boots, "false_admits",
            (json_int_t)v->false_admits, "refusals", (json_int_t)v->refusals);
        if (o && v->reason[0])
            json_object_set_new(o, "reason", json_string(v->reason));
        if (o && v->outcome == XF_SCN_FAILED) {
            json_object_set_new(o, "phase", json_string(xf_build_phase_name(v->phase)));
            json_object_set_new(o, "errno", json_string(xf_err_name(v->err)));
        }
        json_array_append_new(vms, o);
    }
    json_t *learned = json_object();
    for (int k = 0; learned && k < 4; k++)
        json_object_set_new(learned, xf_domain_type_name((enum xf_domain_type)k),
                            json_pack("{sIsI}", "fixed_pages",
                                      (json_int_t)r->learned[k].fixed_pages, "per_vcpu_pages",
                                      (json_int_t)r->learned[k].per_vcpu_pages));
    return json_pack(
        "{sssIs{sIsIsIsIsIsIsIsIsIsIsIsIsIsIsI}sosfso}", "policy", xf_policy_name(r->policy),
        "seed", (json_int_t)r->seed, "totals", "requested", (json_int_t)t->requested,
        "requested_fit_one_node", (json_int_t)t->requested_fit_one_node, "admitted",
        (json_int_t)t->admitted, "booted", (json_int_t)t->booted, "refused", (json_int_t)t->refused,
        "late_refusals", (json_int_t)t->late_refusals, "false_admits", (json_int_t)t->false_admits,
        "fit_one_node", (json_int_t)t->fit_one_node, "single_node", (json_int_t)t->single_node,
        "reserved_unused_mib", (json_int_t)t->reserved_unused_mib, "drift_alarms",
        (json_int_t)t->drift_alarms, "waits", (json_int_t)t->waits, "claims_node",
        (json_int_t)t->claims_node, "claims_global", (json_int_t)t->claims_global, "claims_none",
        (json_int_t)t->claims_none, "vms", vms, "sim_seconds", (double)r->sim_time_ns / 1e9,
        "learned_coeffs", learned);
}

static void print_vms(const struct xf_scn_report *r)
{
    printf("%-14s %-8s %-9s %-7s %9s %9s  %s\n", "vm", "outcome", "nodes", "claim", "reserved",
           "taken", "detail");
    for (size_t i = 0; i < r->nr_vms; i++) {
        const struct xf_scn_vm_result *v = &r->vms[i];
        char nodes[XF_NODE_LIST_MAX];
        xf_node_list(v->nodes, nodes, sizeof(nodes));
        printf("%-14s %-8s %-9s %-7s %5llu MiB %5llu MiB  %s\n", v->name,
               xf_scn_outcome_name(v->outcome), nodes, xf_claim_kind_name(v->claim),
               (unsigned long long)v->footprint_mib, (unsigned long long)v->taken_mib, v->reason);
    }
}

static void print_totals_header(void)
{
    printf("%-14s %9s %8s %6s %7s %5s %12s %8s %10s %6s %5s\n", "policy", "requested", "admitted",
           "booted", "refused", "late", "false_admits", "one_node", "unused_MiB", "drift", "waits");
}

static void print_totals(const struct xf_scn_report *r)
{
    const struct xf_scn_totals *t = &r->totals;
    char single[24];
    snprintf(single, sizeof(single), "%u/%u", t->single_node, t->requested_fit_one_node);
    printf("%-14s %9u %8u %6u %7u %5u %12u %8s %10llu %6u %5u\n", xf_policy_name(r->policy),
           t->requested, t->admitted, t->booted, t->refused - t->late_refusals, t->late_refusals,
           t->false_admits, single, (unsigned long long)t->reserved_unused_mib, t->drift_alarms,
           t->waits);
}

int xf_cmd_sim(int argc, char **argv)
{
    struct xf_scenario *s = NULL;
    struct xf_scn_report *reps[XF_NR_POLICIES] = {NULL};
    struct xf_parse_error perr = {0};
    struct loader ld;
    enum xf_policy only = XF_POLICY_XENFIT;
    bool all = true, json = false, verbose = false;
    uint64_t seed = 1;
    char *buf = NULL, pathcopy[PATH_MAX];
    size_t len;
    int c, r, status = XF_EXIT_OK, nrep = 0;

    if (argc < 2 || strcmp(argv[1], "run") != 0)
        return xf_cli_usage_error(CMD,
                                  argc < 2 ? "a subcommand is required: run"
                                           : "unknown subcommand '%s' (expected run)",
                                  argc < 2 ? "" : argv[1]);
    argc--;
    argv++;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (strcmp(optarg, "all") == 0) {
                all = true;
            } else if (xf_policy_parse(optarg, &only) == 0) {
                all = false;
            } else {
                return xf_cli_usage_error(
                    CMD,
                    "--policy '%s': expected xapi-pre-6869, xapi-6869, xapi-2026.02, xenfit or all",
                    optarg);
            }
            break;
        case 's':
            if ((r = xf_cli_parse_uint(CMD, "--seed", optarg, 0, UINT64_MAX, &seed)))
                return r;
            break;
        case 'j':
            json = true;
            break;
        case 'v':
            verbose = true;
            break;
        default:
            return xf_cli_bad_option(CMD, argc, argv);
        }
    }
    if (argc - optind != 1)
        return xf_cli_usage_error(CMD, argc - optind == 0
                                           ? "a SCENARIO.json is required"
                                           : "exactly one SCENARIO.json is expected");
    if ((status = xf_cli_read_file(CMD, argv[optind], &buf, &len)))
        return status;
    snprintf(pathcopy, sizeof(pathcopy), "%s", argv[optind]);
    snprintf(ld.dir, sizeof(ld.dir), "%s", dirname(pathcopy));
    r = xf_scenario_parse(buf, len, load_relative, &ld, &s, &perr);
    free(buf);
    if (r == XF_ENOMEM)
        return xf_cli_failure(CMD, "out of memory");
    if (r < 0)
        return xf_cli_usage_error(CMD, "%s: %s", argv[optind], perr.message);

    for (int p = 0; p < XF_NR_POLICIES; p++) {
        struct xf_scn_options o = {.policy = (enum xf_policy)p, .seed = seed};
        if (!all && (enum xf_policy)p != only)
            continue;
        if (verbose) {
            o.log = log_stderr;
            o.log_ctx = (void *)(uintptr_t)xf_policy_name(o.policy);
        }
        r = xf_scenario_run(s, &o, &reps[nrep]);
        if (r < 0) {
            status = xf_cli_failure(CMD, "%s under %s: %s", argv[optind], xf_policy_name(o.policy),
                                    xf_strerror(r));
            goto out;
        }
        nrep++;
    }

    if (json) {
        json_t *runs = json_array();
        for (int i = 0; runs && i < nrep; i++)
            json_array_append_new(runs, report_json(reps[i]));
        json_t *o = json_pack("{sssssIso}", "scenario", s->name, "description", s->description,
                              "seed", (json_int_t)seed, "runs", runs);
        status = o ? xf_cli_print_json(o) : xf_cli_failure(CMD, "out of memory");
    } else {
        printf("scenario %s: %s\n", s->name, s->description);
        for (int i = 0; i < nrep; i++) {
            printf("\n== %s\n", xf_policy_name(reps[i]->policy));
            print_vms(reps[i]);
        }
        printf("\n");
        print_totals_header();
        for (int i = 0; i < nrep; i++)
            print_totals(reps[i]);
    }
out:
    for (int i = 0; i < XF_NR_POLICIES; i++)
        xf_scn_report_free(reps[i]);
    xf_scenario_free(s);
    return status;
}
