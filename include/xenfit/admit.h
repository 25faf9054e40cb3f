/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Admission: does a VM fit on this host now, and if so, what to reserve,
 * where to place it and what to claim. The answer is yes, or no with numbers
 * (needed, available, where) -- xapi's HOST_NOT_ENOUGH_FREE_MEMORY, never an
 * internal error.
 *
 * The four policies of include/xenfit/claims.h differ here too:
 *  - xapi-pre-6869: the model without the per-vCPU term (256 pages per vCPU,
 *    all in the paging pool) against free memory less a 9 MiB reserve; no
 *    placement at admission (xenopsd places at build time, on live memfree).
 *  - xapi-6869, xapi-2026.02: xen-api's model (38 extra pages per vCPU)
 *    against free memory less the 72 MiB reserve; placement at build time.
 *  - The xapi policies do not subtract outstanding claims, and size an
 *    incoming or resumed VM as the larger of xapi's start check and
 *    squeezed's reservation (memory_limit + overhead).
 *  - xenfit: the calibrated model (never below xen-api's) against the same
 *    host figure and against per-node free memory from the ledger, with the
 *    NUMA plan made here, reserved with the VM, and its claim decided here.
 * All three subtract pending reservations (xapi tracks VMs scheduled to start).
 */
#ifndef XENFIT_ADMIT_H
#define XENFIT_ADMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "xenfit/claims.h"
#include "xenfit/host.h"
#include "xenfit/model.h"
#include "xenfit/planner.h"

/*
 * What xapi holds back from host free memory: squeezed's
 * target_host_free_mem_kib = low_mem_emergency_pool + extra_mem_to_keep
 * (squeeze_xen.ml), which memory_server.ml get_host_reserved_memory returns and
 * dbsync_slave.ml adds to the host's memory_overhead. extra_mem_to_keep is
 * 8 MiB; the pool was 1 MiB before PR 6869 (87178fcaebf9d4f9fcfe14c053fea9460e651c93)
 * and 64 MiB, Xen's low_mem_virq_limit, since (1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7,
 * CA-423173): 9 MiB before, 72 MiB after.
 */
#define XF_PRE6869_RESERVE_PAGES  (UINT64_C(9) * 256)
#define XF_XAPI6869_RESERVE_PAGES (UINT64_C(72) * 256)

struct xf_admit_request {
    struct xf_vm_memory vm;
    bool migration;            /* incoming migration or resume */
    bool resume;               /* with migration: a resume from suspend */
    uint64_t source_total_kib; /* with migration: memory_total_source (resume:
                                  the stored suspend memory size) */
    bool hard_affinity;        /* the VM pins its vCPUs: no NUMA placement */
    /* xenfit: the nodes the VM may be placed on (0: any), those of the CPUs
     * its vCPUs are pinned to (xl's cpus=). Unlike hard_affinity (xen-api's
     * rule: a pinned VM is not placed), the VM is placed, on those nodes
     * only; if it fits the host but not them it is refused, with their
     * numbers: admitting it unplaced would let Xen put its memory on other
     * nodes (libxl 4.17 does, docs/real-xen.md). */
    uint64_t nodes_allowed;
};

struct xf_admit_params {
    enum xf_policy policy;
    struct xf_overhead_coeffs coeffs; /* the model's (calibrated for xenfit) */
    enum xf_numa_policy numa_policy;  /* the host's placement policy */
};

struct xf_admission {
    bool admitted;
    struct xf_memory_config mc;
    uint64_t footprint_pages; /* what to reserve: the whole VM */
    bool placed;              /* xenfit: plan holds the NUMA placement */
    struct xf_plan plan;
    struct xf_claim_plan claim; /* xenfit: decided now; others: at build time */
    /* Refused: what was needed and available where (node -1: the host). */
    uint64_t needed_mib;
    uint64_t available_mib;
    int32_t node;
    char reason[256];
};

/*
 * Decides admission. `free` is the host accounting for the policy (for the
 * xapi policies computed with their reserve: see xf_admit_host_params());
 * `planner` (xenfit only; may be NULL for no placement) has its node free
 * memory set from `free` and is planned against but not committed to.
 * Returns 0 and *ret whether or not the VM is admitted, or an error of
 * xf_vm_footprint() / xf_migration_claim_pages() for a malformed request.
 */
int xf_admit(const struct xf_admit_params *params, const struct xf_admit_request *req,
             const struct xf_host_free *free, struct xf_planner *planner, struct xf_admission *ret);

/*
 * The same as a pure function of the placement state: places (xenfit policy,
 * xenfit's planner mode) on `topo` (NULL: no placement) against the node
 * free memory in `free` and the live placements in `counts` (NULL: none), as
 * the host engine does with the counters it owns. Changes nothing. Returns
 * as xf_admit, plus an error of xf_plan_numa.
 */
int xf_admit_on_topology(const struct xf_admit_params *params, const struct xf_admit_request *req,
                         const struct xf_host_free *free, const struct xf_topology *topo,
                         const struct xf_placement_counts *counts, struct xf_admission *ret);

/*
 * The planner's request for a VM admitted with `footprint_mib` under the
 * host's NUMA policy: the footprint, the vCPUs and the policy's cores; a VM
 * restricted to nodes (nodes_allowed, pinned vCPUs) is placed on memory
 * alone (1 vCPU, no cores: pinned vCPUs run where they are pinned). The
 * one rule admission and `xenfit plan --xl-config` share.
 */
struct xf_numa_request xf_admit_numa_request(const struct xf_admit_request *req,
                                             uint64_t footprint_mib, enum xf_numa_policy policy);

/* The host accounting parameters a policy uses: its reserve (above), and for
 * the xapi policies, outstanding claims left in (host.h). */
void xf_admit_host_params(enum xf_policy policy, struct xf_host_params *ret);

/* The model coefficients a policy starts from: {0,0} before PR 6869, else xen-api's. */
struct xf_overhead_coeffs xf_admit_default_coeffs(enum xf_policy policy);

#endif
