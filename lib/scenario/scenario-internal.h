/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Shared state of the scenario runner's files (not installed).
 */
#ifndef XENFIT_SCENARIO_INTERNAL_H
#define XENFIT_SCENARIO_INTERNAL_H

#include "xenfit/admit.h"
#include "xenfit/build.h"
#include "xenfit/calibrate.h"
#include "xenfit/host.h"
#include "xenfit/ledger.h"
#include "xenfit/planner.h"
#include "xenfit/scenario.h"
#include "xenfit/topology.h"
#include "xenfit/wait.h"

/* Per VM instance, beside its result in the report. */
struct xf__scn_vm {
    size_t def; /* index into the run's defs */
    xf_domid_t domid;
    bool running;
    struct xf_plan plan; /* xenfit: the committed live placement */
    bool committed;
    uint64_t planned_nodes;
};

struct xf__scn_run {
    const struct xf_scenario *s;
    struct xf_scn_options o;
    struct xf_hv *hv;
    struct xf_ledger *ledger;
    struct xf_topology *topo;
    struct xf_planner *planner; /* xenfit mode */
    struct xf_planner *xo;      /* xenopsd mode, for the xapi policies */
    struct xf_calib_online *calib;
    struct xf_host_params hp;
    struct xf_scn_report *rep; /* rep->vms parallel to vs */
    struct xf__scn_vm *vs;
    size_t cap;
    struct xf_scn_vm_def *defs; /* the scenario's, then fill instances */
    size_t nr_defs, cap_defs;
    uint64_t node_capacity_pages; /* the largest node's free memory at boot */
    uint64_t epoch;               /* groups run so far (seeds their scheduler) */
    uint32_t nr_dying;            /* dying domains at the last accounting */
    /* xenfit: builds in flight whose overhead is not measured yet, per domain
     * type and vCPU count (XF_VCPUS_MAX + 1 per type). */
    uint16_t *probing;
    uint32_t dist_scratch[XF_MAX_NODES * XF_MAX_NODES];
};

enum { XF__SCN_ADMIT, XF__SCN_WAIT, XF__SCN_BUILD, XF__SCN_DONE };

/* How a VM arrives: started, migrated in, or resumed from a suspend image. */
enum xf__scn_arrival { XF__SCN_START, XF__SCN_MIGRATE, XF__SCN_RESUME };

struct xf__scn_task {
    struct xf__scn_run *run;
    size_t vm; /* index into rep->vms / vs */
    enum xf__scn_arrival arrival;
    bool migration; /* arrival is XF__SCN_MIGRATE or XF__SCN_RESUME */
    int phase;
    struct xf_admission adm;
    struct xf_memory_config build_mc; /* what the builder is given (pv_in_pvh: its target) */
    uint64_t res_id;
    bool has_res;
    bool waited;
    bool wait_for_node;
    uint32_t node_waits;
    uint64_t wait_start_ns;
    struct xf_wait wait;
    struct xf_build *build;
    uint64_t populate_pages;
    bool overhead_seen;
    bool claim_recorded;
    bool probing; /* counted in run->probing until its overhead is measured */
    bool counted; /* in totals.requested */
};

static inline const struct xf_scn_vm_def *xf__scn_def(const struct xf__scn_run *run, size_t vm)
{
    return &run->defs[run->vs[vm].def];
}

/* Admission for a VM definition against the run's state now (no side effects
 * but the planner's node free memory). */
int xf__scn_account(struct xf__scn_run *run, struct xf_host_free *ret);
int xf__scn_admit_against(struct xf__scn_run *run, const struct xf_scn_vm_def *d,
                          enum xf__scn_arrival arrival, const struct xf_host_free *f,
                          struct xf_admission *ret);
int xf__scn_admit_check(struct xf__scn_run *run, const struct xf_scn_vm_def *d,
                        enum xf__scn_arrival arrival, struct xf_admission *ret);

/* What an arriving VM holds on its source (migration) or in its suspend
 * image (resume), KiB; 0 for a start. */
static inline uint64_t xf__scn_source_kib(const struct xf_scn_vm_def *d,
                                          enum xf__scn_arrival arrival)
{
    return arrival == XF__SCN_MIGRATE  ? d->source_total_kib
           : arrival == XF__SCN_RESUME ? d->suspend_kib
                                       : 0;
}

int xf__scn_boot_step(void *ctx, struct xf_hv *hv, uint64_t *ret_sleep_ns);
void xf__scn_log(struct xf__scn_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
