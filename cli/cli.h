/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Shared pieces of the xenfit command-line tool: the command table, exit
 * codes, error reporting and option helpers. Each command group lives in its
 * own cmd-*.c file and is listed in main.c.
 */
#ifndef XENFIT_CLI_H
#define XENFIT_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "xenfit/model.h"
#include "xlcfg.h"

/* Exit statuses: 0 success, 1 the operation failed, 2 bad input or usage. */
#define XF_EXIT_OK      0
#define XF_EXIT_FAILURE 1
#define XF_EXIT_USAGE   2

struct xf_cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    void (*usage)(void);
};

/* Prints "xenfit: <cmd>: <message>" on stderr and returns XF_EXIT_USAGE. */
int xf_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "xenfit: <cmd>: <message>" on stderr and returns XF_EXIT_FAILURE. */
int xf_cli_failure(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reports an unknown option or a missing argument after getopt_long()
 * returned '?' or ':'. Returns XF_EXIT_USAGE. */
int xf_cli_bad_option(const char *cmd, int argc, char **argv);

/* Parses a SIZE argument, the one rule of every command: a whole number with
 * an optional binary unit B, K, M, G, T (case-insensitive; KiB and KB, GiB
 * and GB, ... mean the same 1024-based unit: 4GB is 4096 MiB), bare = MiB;
 * a fraction (1.5G) is refused. On error prints a message naming the flag
 * and the value and returns XF_EXIT_USAGE; 0 on success. */
int xf_cli_parse_size(const char *cmd, const char *flag, const char *arg, uint64_t *ret_bytes);

/* Parses an unsigned integer in [min, max]; errors as above. */
int xf_cli_parse_uint(const char *cmd, const char *flag, const char *arg, uint64_t min,
                      uint64_t max, uint64_t *ret);

/* Reads a whole file into memory (NUL-terminated); "-" reads stdin. A
 * directory, a missing or unreadable file: a message naming it and
 * XF_EXIT_USAGE. Caller frees *ret_buf. */
int xf_cli_read_file(const char *cmd, const char *path, char **ret_buf, size_t *ret_len);

/* True when buf holds a host spec (docs/host-spec.md: "nodes" objects)
 * rather than a topology snapshot (docs/topology.md: "cpu_to_node"). */
bool xf_cli_is_host_spec(const char *buf, size_t len);

/* Prints a JSON value on stdout followed by a newline, and releases it. */
int xf_cli_print_json(json_t *value);

/* --bytes: human output prints sizes as exact bytes, not MiB (one unit per
 * screen either way; --json keeps each reply's own exact units). */
extern bool xf_cli_bytes;

/* A size given in KiB as the screen shows it: "N MiB" (rounded down when
 * `used` is false, as free memory is; up when true, as memory taken is), or
 * "N B" exactly under --bytes. Returns buf. */
const char *xf_cli_size_kib(char *buf, size_t len, uint64_t kib, bool used);

/* The unit the screen shows sizes in: "MiB", or "B" under --bytes. */
const char *xf_cli_unit(void);

/* Option table helper: true for "-h" / "--help" anywhere in argv. */
bool xf_cli_wants_help(int argc, char **argv);

/* A VM's memory from the command line (cli/vmspec.c): the option values
 * (use them in the command's struct option table with XF_CLI_VM_OPTIONS),
 * one call per getopt result, and a final check with the model's messages. */
enum {
    XF_CLI_OPT_TYPE = 0x1000,
    XF_CLI_OPT_STATIC_MAX,
    XF_CLI_OPT_TARGET,
    XF_CLI_OPT_VCPUS,
    XF_CLI_OPT_VIDEO,
    XF_CLI_OPT_MULT,
    XF_CLI_OPT_SOURCE,
    XF_CLI_OPT_XL,
};

#define XF_CLI_VM_OPTIONS                                                                          \
    {"type", required_argument, NULL, XF_CLI_OPT_TYPE},                                            \
        {"static-max", required_argument, NULL, XF_CLI_OPT_STATIC_MAX},                            \
        {"target", required_argument, NULL, XF_CLI_OPT_TARGET},                                    \
        {"vcpus", required_argument, NULL, XF_CLI_OPT_VCPUS},                                      \
        {"video", required_argument, NULL, XF_CLI_OPT_VIDEO},                                      \
        {"shadow-multiplier", required_argument, NULL, XF_CLI_OPT_MULT},                           \
        {"xl-config", required_argument, NULL, XF_CLI_OPT_XL},                                     \
    {                                                                                              \
        "memory-total-source", required_argument, NULL, XF_CLI_OPT_SOURCE                          \
    }

struct xf_cli_vm {
    struct xf_vm_memory vm;
    bool have_type, have_vcpus;
    const char *static_max_arg, *target_arg, *video_arg;
    bool migration;                /* --memory-total-source given */
    uint64_t source_total_kib;     /* rounded up to KiB */
    const char *xl_path;           /* --xl-config: the VM is the config's */
    const struct xf_xl_config *xl; /* read by xf_cli_vm_finish (static storage) */
};

void xf_cli_vm_init(struct xf_cli_vm *v);
/* 1 if `opt` is a VM option (*ret_status: 0 or the exit status of its
 * error, already printed), 0 if it is not. */
int xf_cli_vm_option(const char *cmd, int opt, const char *arg, struct xf_cli_vm *v,
                     int *ret_status);
/* Required options, the target's default (static max) and the model's checks;
 * with --xl-config, the VM read from the config (no other VM option).
 * Returns 0 or the exit status of the printed error. */
int xf_cli_vm_finish(const char *cmd, struct xf_cli_vm *v);

/* A command's own option for xf_cli_vm_parse(): 0, or the exit status of the
 * error it printed. */
typedef int (*xf_cli_option_fn)(void *ctx, int opt, const char *arg);

/* The command line of a command that takes a VM (footprint, admit): the VM
 * options into *v, the command's own ones (in `options` too) to other(ctx),
 * no operand, then xf_cli_vm_finish(). Returns 0 or the exit status of the
 * printed error. */
int xf_cli_vm_parse(const char *cmd, int argc, char **argv, const struct option *options,
                    xf_cli_option_fn other, void *ctx, struct xf_cli_vm *v);

struct xf_hv;

/* xenfitd (cli/rpc.c). The socket: $XENFITD_SOCKET, else the default. */
const char *xf_cli_socket_default(void);
/* One call: 0 and the result, 1 and the error (the interface's variant),
 * or -errno when the daemon cannot be reached or answers garbage. Takes
 * params. Prints nothing. */
int xf_cli_rpc_try(const char *path, const char *method, json_t *params, json_t **ret_result,
                   json_t **ret_error);
/* The same, printing a failure ("cannot reach xenfitd at ...", or the
 * error's reason) and returning XF_EXIT_FAILURE; 0 and the result. */
int xf_cli_rpc(const char *cmd, const char *path, const char *method, json_t *params, json_t **ret);
/* A checked VM (xf_cli_vm_finish) as the native methods' VM object, with
 * hard_affinity and nodes_allowed (0: none); NULL and the exit status of
 * the printed error (sizes must be whole MiB). */
json_t *xf_cli_vm_json(const char *cmd, const struct xf_cli_vm *v, bool hard,
                       uint64_t nodes_allowed, int *ret_status);

/* The nodes a VM read from an xl config may be placed on (its pinned or
 * preferred CPUs' nodes, xf_xl_config_nodes), given the host's topology or
 * xenfitd's (xenfit.host_status lists each node's CPUs): 0 when the config
 * pins nothing. Returns 0 or the exit status of the printed error. */
struct xf_topology;
int xf_cli_xl_nodes(const char *cmd, const struct xf_xl_config *xl, const struct xf_topology *topo,
                    uint64_t *ret_nodes);
int xf_cli_xl_nodes_daemon(const char *cmd, const struct xf_xl_config *xl, const char *socket,
                           uint64_t *ret_nodes);

/* One admission against the host behind hv as it is now, without a daemon
 * (cli/cmd-admit.c): `xl` (may be NULL) restricts it to its pinned CPUs'
 * nodes. Returns 0 and the decision with the host's free memory, or the
 * exit status of the printed error. */
struct xf_admission;
struct xf_admit_params;
struct xf_admit_request;
struct xf_host_free;
int xf_cli_admit_local(const char *cmd, struct xf_hv *hv, const struct xf_admit_params *params,
                       const struct xf_admit_request *request, const struct xf_xl_config *xl,
                       struct xf_admission *ret, struct xf_host_free *ret_free,
                       uint32_t *ret_nr_nodes);

/* Command entry points (one per cmd-*.c file). */
int xf_cmd_footprint(int argc, char **argv);
void xf_usage_footprint(void);
int xf_cmd_calibrate(int argc, char **argv);
void xf_usage_calibrate(void);
int xf_cmd_admit(int argc, char **argv);
void xf_usage_admit(void);

/* Opens the backend a command names: "sim" (default) with a host spec, or
 * "xen". Prints the error and returns an exit status; 0 on success. */
int xf_cli_open_backend(const char *cmd, const char *backend, const char *spec_path,
                        struct xf_hv **ret);

int xf_cmd_sim(int argc, char **argv);
void xf_usage_sim(void);
int xf_cmd_plan(int argc, char **argv);
void xf_usage_plan(void);
int xf_cmd_host(int argc, char **argv);
void xf_usage_host(void);
int xf_cmd_status(int argc, char **argv);
void xf_usage_status(void);
int xf_cmd_reserve(int argc, char **argv);
void xf_usage_reserve(void);
int xf_cmd_reservations(int argc, char **argv);
void xf_usage_reservations(void);
int xf_cmd_calibration(int argc, char **argv);
void xf_usage_calibration(void);
int xf_cmd_top(int argc, char **argv); /* cmd-top.c */
void xf_usage_top(void);
int xf_cmd_release(int argc, char **argv);
void xf_usage_release(void);
int xf_cmd_transfer(int argc, char **argv);
void xf_usage_transfer(void);
int xf_cmd_domains(int argc, char **argv);
void xf_usage_domains(void);
int xf_cmd_events(int argc, char **argv);
void xf_usage_events(void);
int xf_cmd_explain(int argc, char **argv);
void xf_usage_explain(void);
int xf_cmd_report_build(int argc, char **argv);
void xf_usage_report_build(void);
int xf_cmd_xl_create(int argc, char **argv);
void xf_usage_xl_create(void);
int xf_cmd_pool(int argc, char **argv); /* cmd-pool.c */
void xf_usage_pool(void);

#endif
