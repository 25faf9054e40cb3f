/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Scenarios: a simulated host, a set of VMs and a sequence of steps (boot
 * sequentially or in parallel, fill the host, shut down, reboot in parallel,
 * migrate in with the source's exact memory, resume from a suspend image,
 * destroy, wait), run under one of the four policies of
 * include/xenfit/claims.h against the simulator. The
 * runner plays the toolstack: admission, reservation, placement, claims and
 * the build (include/xenfit/build.h), interleaved by the simulator's seeded
 * scheduler. It reports each VM's outcome and totals: false admits (said yes,
 * then the build failed), refusals, single-node placements among the VMs that
 * fit one node, memory reserved but never used, drift alarms.
 * The file format is docs/scenario.md.
 */
#ifndef XENFIT_SCENARIO_H
#define XENFIT_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenfit/build.h"
#include "xenfit/calibrate.h"
#include "xenfit/claims.h"
#include "xenfit/model.h"
#include "xenfit/planner.h"
#include "xenfit/pool.h"
#include "xenfit/sim.h"

#define XF_SCN_NAME_MAX 48

struct xf_scn_vm_def {
    char name[XF_SCN_NAME_MAX]; /* instance name, or template name for "fill" */
    struct xf_vm_memory vm;
    bool migration;
    uint64_t source_total_kib; /* memory_total_source for migrate_in */
    uint64_t suspend_kib;      /* suspend_memory for resume (xenopsd's
                                  suspend_memory_bytes) */
    bool hard_affinity;
    bool is_template; /* count 0: only instantiated by fill */
};

enum xf_scn_step_kind {
    XF_SCN_BOOT,
    XF_SCN_FILL,
    XF_SCN_SHUTDOWN,
    XF_SCN_REBOOT,
    XF_SCN_MIGRATE_IN,
    XF_SCN_RESUME,
    XF_SCN_WAIT,
};

struct xf_scn_step {
    enum xf_scn_step_kind kind;
    bool parallel;
    size_t *vms; /* indices into the scenario's vms */
    size_t nr_vms;
    uint64_t wait_ns;     /* XF_SCN_WAIT */
    size_t fill_template; /* XF_SCN_FILL */
    uint32_t fill_max;
    bool fill_brim; /* then one more VM, sized to what admission still accepts */
};

struct xf_scenario {
    char name[64];
    char description[512];
    struct xf_sim_spec *spec;
    enum xf_numa_policy numa_policy;
    struct xf_scn_vm_def *vms;
    size_t nr_vms;
    struct xf_scn_step *steps;
    size_t nr_steps;
};

/* Loads a file a scenario names (its host spec); the caller's I/O. Returns 0
 * and a buffer the runner frees with free(), or a negative error. */
typedef int (*xf_scn_load_fn)(void *ctx, const char *path, char **ret_buf, size_t *ret_len);

/*
 * Parses a scenario (docs/scenario.md). A "host" given as a string is loaded
 * with `load` (relative paths are the loader's business). Returns 0 and a new
 * scenario (free with xf_scenario_free), XF_EPARSE / XF_EBADSPEC with *err
 * naming the field, XF_ENOMEM.
 */
int xf_scenario_parse(const char *buf, size_t len, xf_scn_load_fn load, void *load_ctx,
                      struct xf_scenario **ret, struct xf_parse_error *err);
void xf_scenario_free(struct xf_scenario *s);

enum xf_scn_outcome {
    XF_SCN_NOT_RUN,
    XF_SCN_BOOTED,
    XF_SCN_REFUSED,
    XF_SCN_FAILED,
    XF_SCN_STOPPED,
};

const char *xf_scn_outcome_name(enum xf_scn_outcome o);

/* A node set as people read it: "0,2,3", or "-" for none. Writes at most
 * len bytes (XF_NODE_LIST_MAX holds any set of 64 nodes), always terminated. */
#define XF_NODE_LIST_MAX 192
void xf_node_list(uint64_t mask, char *buf, size_t len);

struct xf_scn_vm_result {
    char name[XF_SCN_NAME_MAX];
    enum xf_scn_outcome outcome; /* the last one */
    uint64_t nodes;              /* nodes holding its pages (booted) */
    uint64_t planned_nodes;      /* nodes the placement chose (0: none) */
    enum xf_claim_kind claim;    /* the claim that held while it was built */
    uint64_t footprint_mib;      /* reserved */
    uint64_t taken_mib;          /* host memory it really took (booted) */
    bool fits_one_node;
    int err;                   /* FAILED: the errno */
    enum xf_build_phase phase; /* FAILED: where */
    char reason[256];          /* REFUSED / FAILED: in words, with numbers */
    uint32_t boots, false_admits, refusals;
};

struct xf_scn_totals {
    /* Admission requests (a start, reboot, migration, resume or fill VM),
     * counted once each however long it waited: the same for every policy
     * unless a fill stops at a different VM. */
    uint32_t requested;
    uint32_t requested_fit_one_node; /* ... of VMs that fit one node */
    uint32_t admitted;
    uint32_t booted;
    uint32_t refused;
    /* xenfit: refused at build time, before any guest memory was populated
     * (its claim or hidden allocations found less memory than admission
     * thought); the domain is torn down and the toolstack told
     * HOST_NOT_ENOUGH_FREE_MEMORY, as for any refusal. Included in refused. */
    uint32_t late_refusals;
    uint32_t false_admits;
    uint32_t fit_one_node; /* boots of VMs that fit one node */
    uint32_t single_node;  /* ... that ended on a single node */
    uint64_t reserved_unused_mib;
    uint32_t drift_alarms;
    uint32_t waits; /* admissions that waited for freed memory */
    uint32_t claims_node, claims_global, claims_none;
};

struct xf_scn_report {
    enum xf_policy policy;
    uint64_t seed;
    struct xf_scn_vm_result *vms;
    size_t nr_vms;
    struct xf_scn_totals totals;
    uint64_t sim_time_ns;
    struct xf_overhead_coeffs learned[4]; /* xenfit: the calibrator's line per type */
};

typedef void (*xf_scn_log_fn)(void *ctx, const char *message);

struct xf_scn_options {
    enum xf_policy policy;
    uint64_t seed;
    xf_scn_log_fn log; /* may be NULL */
    void *log_ctx;
};

/*
 * Runs a scenario under one policy on a fresh simulator. Returns 0 and a new
 * report (free with xf_scn_report_free), or XF_ENOMEM / a simulator error
 * that is not a VM's outcome (those are in the report).
 */
int xf_scenario_run(const struct xf_scenario *s, const struct xf_scn_options *opts,
                    struct xf_scn_report **ret);
void xf_scn_report_free(struct xf_scn_report *r);

/*
 * A pool of simulated hosts (one simulator each) that executes pool plans
 * (include/xenfit/pool.h), step by step, as a toolstack would: the
 * destination must have the step's need free (physinfo free less claims less
 * what squeezed keeps), then a domain is created there, claims the need,
 * populates the VM's memory on the planned nodes and the source's domain is
 * destroyed (its memory returns). Each host boots with the pool snapshot's
 * free memory, its reservations in flight held, and a domain per running VM.
 * The simulated hosts have no hidden per-domain cost: the pool's figures
 * already count a VM's overhead (docs/pool.md).
 */
struct xf_pool_run;

/* Boots the pool. Returns 0, XF_EBADSPEC (a host the simulator refuses),
 * XF_ENOMEM, or a simulator error. Free with xf_pool_run_free. */
int xf_pool_run_new(const struct xf_pool *pool, struct xf_pool_run **ret);
void xf_pool_run_free(struct xf_pool_run *run);

/* Hosts that failed (HA): their VMs are gone, they take no step. */
void xf_pool_run_fail_host(struct xf_pool_run *run, uint32_t host);

struct xf_pool_run_result {
    uint32_t steps_ok;
    uint32_t steps_failed;
    uint32_t first_failed; /* index of the first failed step, or nr_steps */
    char reason[256];      /* the first failure, in numbers */
};

/* Runs the plan's steps in order; a failed step leaves its VM where it was
 * and the run goes on. Returns 0 and the result, or XF_ENOMEM / a simulator
 * error that is no step's failure. */
int xf_pool_run_plan(struct xf_pool_run *run, const struct xf_pool_plan *plan,
                     struct xf_pool_run_result *ret);

/* A host's memory free for a new VM in the simulator now (MiB, physinfo free
 * less claims less squeezed's keep), for tests. */
uint64_t xf_pool_run_free_mib(struct xf_pool_run *run, uint32_t host);

#endif
