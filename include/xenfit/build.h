/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The toolstack emulator: builds a domain through the hypervisor interface in
 * the order xenopsd and xenguest do (ocaml/xenopsd/xc/domain.ml: make,
 * build_pre; xenguest's populate): create, max vCPUs, max pages = xen_max,
 * paging pool = shadow, place and claim, populate in 2 MiB extents, cancel
 * the claim, run. For the xen-api policies the placement step follows
 * numa_placement exactly: claim first, then soft affinity only where that
 * version set it (xf_claim_sets_affinity). A build is a small state machine so that a scheduler
 * (xf_sim_sched) can interleave many of them; xf_build_run() runs one to the
 * end. Each failure is reported with the phase it happened in and the errno
 * the hypervisor returned; a failed build destroys its domain, as xenopsd
 * cleans up.
 */
#ifndef XENFIT_BUILD_H
#define XENFIT_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "xenfit/claims.h"
#include "xenfit/hv.h"
#include "xenfit/model.h"
#include "xenfit/wait.h"

enum xf_build_phase {
    XF_BUILD_CREATE,
    XF_BUILD_AFFINITY,   /* only with affinity_first: before anything is allocated */
    XF_BUILD_FREE_CHECK, /* only with free_check_pages: xen-api's build_pre check */
    XF_BUILD_MAX_VCPUS,
    XF_BUILD_MAX_PAGES,
    XF_BUILD_PAGING_POOL,
    XF_BUILD_PLACE_CLAIM,
    XF_BUILD_POPULATE,
    XF_BUILD_CANCEL_CLAIM,
    XF_BUILD_UNPAUSE,
    XF_BUILD_DONE,
};

const char *xf_build_phase_name(enum xf_build_phase p);

/* What the placement step decided (by the caller's callback, or fixed). */
struct xf_build_placement {
    uint64_t node_mask;         /* node affinity; 0 = none (Xen interleaves) */
    struct xf_claim_plan claim; /* what to claim */
};

/*
 * Called in the placement phase, after the paging pool is allocated and
 * before anything is populated, as one atomic step (xenopsd holds its
 * numa_mutex across planning and claiming). Returns 0 and *ret, or a
 * negative error that fails the build in XF_BUILD_PLACE_CLAIM.
 */
typedef int (*xf_build_place_fn)(void *ctx, struct xf_hv *hv, xf_domid_t domid,
                                 struct xf_build_placement *ret);

struct xf_build_spec {
    enum xf_domain_type type;
    uint32_t vcpus;
    uint64_t max_pages;         /* xen_max_mib in pages */
    uint64_t paging_pool_pages; /* shadow_mib in pages */
    uint64_t populate_pages;    /* build_start_mib in pages, plus firmware */
    enum xf_policy policy;      /* claim errno classification */
    /* Placement: either fixed here, or from place() when it is not NULL. */
    struct xf_build_placement placement;
    xf_build_place_fn place;
    void *place_ctx;
    uint32_t extents_per_step; /* populate granularity for interleaving; 0: 64 */
    /* Set the fixed placement's node affinity right after create, so that the
     * per-vCPU structures and the paging pool are allocated on the planned
     * node(s) too (xenfit); xenopsd sets it only after the paging pool. */
    bool affinity_first;
    /* xen-api's build_pre opens with wait_xen_free_mem (domain.ml, at
     * 87178fca... and 1c354a4...): physinfo free_pages, claims not
     * subtracted, must cover required_host_free_mib, else Not_enough_memory
     * (XF_ENOFIT here) with nothing allocated but the domain. 0: no check. */
    uint64_t free_check_pages;
    /* xen-api built for a Xen without node claims: its claim binding
     * (xenctrlext_stubs.c stub_xenctrlext_domain_claim_pages, compiled
     * without XEN_DOMCTL_NUMA_OP_GET_NODE_PAGES) raises ENOSYS for every
     * claim, node or global, without reaching Xen. */
    bool claims_enosys;
    xf_wait_log_fn log; /* may be NULL: the free check's log lines */
    void *log_ctx;
};

struct xf_build_result {
    int err;                    /* 0, or the negative errno that failed it */
    enum xf_build_phase phase;  /* XF_BUILD_DONE on success, else where it failed */
    xf_domid_t domid;           /* XF_DOMID_NONE-like UINT32_MAX if never created */
    enum xf_claim_kind claimed; /* the claim that held during populate */
    int node_claim_err;         /* the node claim's errno, if one was tried */
    uint64_t populated_pages;
    uint64_t node_mask;      /* affinity set (xen-api: soft affinity, see claims.h) */
    uint64_t pages_off_plan; /* pages that landed outside node_mask (0 if none set) */
    /* Host pages the create, max-vCPUs and paging-pool steps took (physinfo
     * free before and after each: hidden hypervisor pages plus the pool),
     * known once the build has passed XF_BUILD_PAGING_POOL. Each step is one
     * scheduler step, so parallel builds do not blur it; on real Xen other
     * activity can. */
    uint64_t overhead_pages;
    bool overhead_known;
    uint64_t free_found_pages; /* XF_BUILD_FREE_CHECK: physinfo free at the last check */
};

struct xf_build;

int xf_build_new(struct xf_hv *hv, const struct xf_build_spec *spec, struct xf_build **ret);
void xf_build_free(struct xf_build *b);

/*
 * One step (a scheduler step function: see xf_sim_step_fn). Returns 1 while
 * there is more to do, 0 when the build succeeded, or the negative errno it
 * failed with; xf_build_result() tells the rest.
 */
int xf_build_step(void *build, struct xf_hv *hv, uint64_t *ret_sleep_ns);

/* Runs a build to the end. Returns 0 or its error. */
int xf_build_run(struct xf_build *b);

const struct xf_build_result *xf_build_result(const struct xf_build *b);

#endif
