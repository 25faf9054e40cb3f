/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfit: the command-line tool. Dispatches to one command group per file;
 * the table below is the only list of commands.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct xf_cli_command commands[] = {
    {"footprint", "host memory a VM needs, as xen-api computes it", xf_cmd_footprint,
     xf_usage_footprint},
    {"calibrate", "fit the per-vCPU overhead line to measurements", xf_cmd_calibrate,
     xf_usage_calibrate},
    {"admit", "decide whether a VM fits on a host now, where, and what to claim", xf_cmd_admit,
     xf_usage_admit},
    {"sim", "run scenarios against the simulated Xen host", xf_cmd_sim, xf_usage_sim},
    {"plan", "choose the NUMA node(s) for VMs on a host topology", xf_cmd_plan, xf_usage_plan},
    {"domains", "the host's domains: memory, claims, pages per NUMA node", xf_cmd_domains,
     xf_usage_domains},
    {"pool", "place a VM, plan an evacuation or HA failover across a pool", xf_cmd_pool,
     xf_usage_pool},
    {"host", "what xl info would show for a host (spec or backend)", xf_cmd_host, xf_usage_host},
    {"status", "the host's memory and ledger, from xenfitd", xf_cmd_status, xf_usage_status},
    {"reserve", "reserve memory (KiB, a VM or a migration) with xenfitd", xf_cmd_reserve,
     xf_usage_reserve},
    {"reservations", "list xenfitd's reservations", xf_cmd_reservations, xf_usage_reservations},
    {"calibration", "show or reset what xenfitd learned from observed builds", xf_cmd_calibration,
     xf_usage_calibration},
    {"release", "delete a reservation made with xenfitd", xf_cmd_release, xf_usage_release},
    {"transfer", "tie a reservation to a domain that exists", xf_cmd_transfer, xf_usage_transfer},
    {"top", "xenfitd's live view in the terminal, every second", xf_cmd_top, xf_usage_top},
    {"events", "xenfitd's build records: builds observed, reported, refused", xf_cmd_events,
     xf_usage_events},
    {"explain", "why a reservation, domain or VM did or did not start", xf_cmd_explain,
     xf_usage_explain},
    {"xl-create", "xl create with xenfit's reservation, NUMA plan and records", xf_cmd_xl_create,
     xf_usage_xl_create},
    {"report-build", "tell xenfitd how a build went (recorded, calibrates)", xf_cmd_report_build,
     xf_usage_report_build},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out, "Usage: xenfit COMMAND [OPTIONS]\n"
                 "       xenfit --version | --help | help COMMAND\n\n"
                 "Host-memory and NUMA placement engine for Xen.\n\nCommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nEvery command takes --help; most take --json. Exit status: 0 success,\n"
                 "1 the operation failed, 2 bad input or usage. See xenfit(1).\n");
}

static const struct xf_cli_command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const struct xf_cli_command *cmd;

    if (argc < 2) {
        usage(stderr);
        return XF_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("xenfit %s\n", XENFIT_VERSION);
        return XF_EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return XF_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return XF_EXIT_OK;
        }
        cmd = find(argv[2]);
        if (!cmd) {
            fprintf(stderr, "xenfit: unknown command '%s' (see 'xenfit --help')\n", argv[2]);
            return XF_EXIT_USAGE;
        }
        cmd->usage();
        return XF_EXIT_OK;
    }
    cmd = find(argv[1]);
    if (!cmd) {
        fprintf(stderr, "xenfit: unknown command '%s' (see 'xenfit --help')\n", argv[1]);
        return XF_EXIT_USAGE;
    }
    if (xf_cli_wants_help(argc - 1, argv + 1)) {
        cmd->usage();
        return XF_EXIT_OK;
    }
    return cmd->run(argc - 1, argv + 1);
}
