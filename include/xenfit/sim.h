/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The simulator backend of the hypervisor interface (xenfit/hv.h): a
 * deterministic model of how Xen allocates, claims and frees memory on a NUMA
 * host, built from a JSON host spec (docs/host-spec.md). Its numbers come only
 * from the spec and the operations it receives, never from xenfit's memory
 * model. Besides the xf_hv_* operations it offers what only a simulator can:
 * its spec and truth profile, a look at hidden state, fault injection (the Nth
 * call of an operation fails with a chosen errno), and a seeded scheduler that
 * interleaves several builders over simulated time.
 *
 * The Xen rules it follows, from xen/common/page_alloc.c (stable-4.17 and
 * master) and the node-claims series: see lib/hv/sim/ and docs/host-spec.md.
 */
#ifndef XENFIT_SIM_H
#define XENFIT_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenfit/calibrate.h" /* struct xf_parse_error */
#include "xenfit/hv.h"
#include "xenfit/model.h"

#define XF_SIM_MAX_CPUS 4096u
/* Xen's domids: 0 is dom0, DOMID_FIRST_RESERVED (0x7FF0) and above are special. */
#define XF_SIM_DOMID_LIMIT 0x7FF0u
/* x86 MAX_ORDER (CONFIG_PAGEALLOC_MAX_ORDER = 2 * PAGETABLE_ORDER): 1 GiB extents. */
#define XF_SIM_MAX_ORDER 18u

/* How claims are consumed (xen/common/page_alloc.c). */
enum xf_sim_claim_semantics {
    /* Xen 4.22 (and backports): alloc_heap_pages() consumes min(claim,
     * request) under the heap lock; freed pages never raise a claim. */
    XF_SIM_CLAIMS_4_22 = 0,
    /* Xen 4.17-4.20.2: domain_adjust_tot_pages() consumes it once the pages
     * are assigned, and pages freed while a claim is active raise it again.
     * As in 4.17.7, a claim on a dying domain is accepted
     * (XF_HV_CAP_CLAIM_DYING_OK). */
    XF_SIM_CLAIMS_4_17 = 1,
};

/* Hypervisor facts per domain type that a toolstack cannot see directly. */
struct xf_sim_truth {
    uint64_t domain_pages;          /* hidden pages per domain, at domain_create */
    uint64_t vcpu_pages;            /* hidden pages per vCPU, at set_max_vcpus (no pool) */
    uint64_t extra_guest_pages;     /* pages the builder populates beyond build_start */
    uint64_t max_pages_slack_pages; /* libxl: max_pages = memory + this */
    uint64_t initial_pool_pages;    /* paging pool a new domain already has (HAP: 256) */
};

struct xf_sim_node_spec {
    uint64_t memory_pages;            /* RAM on the node */
    uint64_t spanned_pages;           /* numainfo memsize: the spanned range, holes included */
    uint64_t firmware_reserved_pages; /* RAM the firmware keeps: not in total_pages */
    uint64_t xen_pages;               /* Xen's own memory at boot on this node */
    uint64_t dom0_pages;              /* dom0's memory on this node */
    uint64_t dma_pages;               /* free DMA-zone memory at boot (node 0 only) */
    uint32_t socket;
    uint32_t nr_cores;
    uint32_t nr_cpus;
};

struct xf_sim_timing {
    uint64_t hypercall_ns;           /* every operation */
    uint64_t extent_ns;              /* per extent allocated */
    uint64_t page_ns;                /* per page assigned */
    uint64_t scrub_page_ns;          /* per dirty page scrubbed on allocation */
    uint64_t release_pages_per_s;    /* destroy: return rate; 0 = at once */
    uint64_t release_tail_pages;     /* destroy: pages held back after the rest */
    uint64_t release_tail_ns;        /* ... for this long */
    uint64_t idle_scrub_pages_per_s; /* background scrubbing per node; 0 = none */
};

/* A validated host spec. Sizes in pages. */
struct xf_sim_spec {
    char name[64];
    uint32_t nr_nodes;
    uint32_t nr_cpus;
    struct xf_sim_node_spec nodes[XF_MAX_NODES];
    uint32_t distances[XF_MAX_NODES][XF_MAX_NODES]; /* XF_DIST_UNREACHABLE for 255 */
    struct xf_hv_cpu_topo cpus[XF_SIM_MAX_CPUS];
    enum xf_sim_claim_semantics claim_semantics;
    bool node_claims;
    bool node_claimed_info;
    bool low_mem_virq_default; /* the limit was not given: Xen may halve it */
    uint64_t low_mem_virq_limit_pages;
    enum xf_domain_type dom0_type;
    uint32_t dom0_vcpus;
    uint64_t dom0_memory_pages;   /* the sum of the nodes' dom0_pages */
    struct xf_sim_truth truth[4]; /* indexed by enum xf_domain_type */
    struct xf_sim_timing timing;
};

/*
 * Parses and validates a JSON host spec (docs/host-spec.md) from memory.
 * Returns 0 and a new spec (free with xf_sim_spec_free), XF_EBADSPEC with
 * *err naming the offending field (err->line is the JSON line for a syntax
 * error, else 0), XF_ENOMEM. `err` may be NULL.
 */
int xf_sim_spec_parse(const char *buf, size_t len, struct xf_sim_spec **ret,
                      struct xf_parse_error *err);
void xf_sim_spec_free(struct xf_sim_spec *spec);

/* Options that override the spec when the simulator is created. */
enum { XF_SIM_FROM_SPEC = -1 };
struct xf_sim_options {
    int claim_semantics;   /* XF_SIM_FROM_SPEC or enum xf_sim_claim_semantics */
    int node_claims;       /* XF_SIM_FROM_SPEC, 0 or 1 */
    int node_claimed_info; /* XF_SIM_FROM_SPEC (follows an overridden node_claims), 0 or 1 */
};
void xf_sim_options_init(struct xf_sim_options *opts);

/*
 * Creates a simulated host booted as the spec (one from xf_sim_spec_parse,
 * possibly adjusted) says: Xen's memory and dom0 allocated, simulated time
 * 0. `opts` may be NULL. The spec is copied. Returns 0 and the backend (free
 * with xf_hv_free), XF_EINVAL for a spec whose boot memory exceeds a node's
 * RAM or for options it cannot take (node claims with 4.17 claim semantics:
 * the node-claims series sits on top of 4.22's consumption), XF_ENOMEM.
 */
int xf_sim_new(const struct xf_sim_spec *spec, const struct xf_sim_options *opts,
               struct xf_hv **ret);

/* xf_sim_spec_parse() then xf_sim_new(); errors of both. */
int xf_sim_new_from_json(const char *buf, size_t len, const struct xf_sim_options *opts,
                         struct xf_hv **ret, struct xf_parse_error *err);

/* True when `hv` is a simulator instance (the functions below need one). */
bool xf_sim_is(const struct xf_hv *hv);

/* The simulator's (copied, option-adjusted) spec; NULL if `hv` is not one. */
const struct xf_sim_spec *xf_sim_spec(const struct xf_hv *hv);

/* The truth profile of a domain type. XF_EINVAL if not a simulator, XF_EBADTYPE. */
int xf_sim_truth(const struct xf_hv *hv, enum xf_domain_type type, struct xf_sim_truth *ret);

/*
 * Xen's low-memory virq threshold as setup_low_mem_virq() computes it at boot
 * (xen/common/page_alloc.c): the limit capped by the memory available after
 * dom0 and by 1 GiB, halved if the default would fire at once, rounded down
 * to a power of two pages; 0 when the limit is 0 (disabled). Xen only sends
 * VIRQ_ENOMEM to dom0 below it: allocations are never refused for it.
 */
uint64_t xf_sim_low_mem_virq_pages(const struct xf_hv *hv);

struct xf_sim_node_state {
    uint64_t free_pages;     /* = numainfo memfree: clean + dirty, all zones */
    uint64_t dirty_pages;    /* free but not yet scrubbed */
    uint64_t dma_free_pages; /* free in the DMA zone */
    uint64_t claimed_pages;  /* node claims outstanding on it */
};
int xf_sim_node_state(const struct xf_hv *hv, uint32_t node, struct xf_sim_node_state *ret);

struct xf_sim_domain_state {
    uint64_t hidden_pages; /* hypervisor pages not in tot_pages */
    uint64_t paging_pool_per_node[XF_MAX_NODES];
    uint64_t hidden_per_node[XF_MAX_NODES];
    uint32_t claim_node;            /* XF_NODE_ANY: global claim or none */
    uint32_t last_alloc_node;       /* where Xen's round-robin continues from */
    uint64_t release_pending_pages; /* dying: pages not yet returned */
};
/* XF_ESRCH for an unknown (or fully released) domain. */
int xf_sim_domain_state(const struct xf_hv *hv, xf_domid_t domid, struct xf_sim_domain_state *ret);

/* Operations that can be counted and made to fail. */
enum xf_sim_op {
    XF_SIM_OP_PHYSINFO,
    XF_SIM_OP_NUMAINFO,
    XF_SIM_OP_CPUTOPO,
    XF_SIM_OP_DOMAIN_LIST,
    XF_SIM_OP_DOMAIN_INFO,
    XF_SIM_OP_DOMAIN_CREATE,
    XF_SIM_OP_SET_MAX_VCPUS,
    XF_SIM_OP_SET_MAX_PAGES,
    XF_SIM_OP_SET_PAGING_POOL,
    XF_SIM_OP_CLAIM,
    XF_SIM_OP_POPULATE,
    XF_SIM_OP_DECREASE,
    XF_SIM_OP_SET_NODE_AFFINITY,
    XF_SIM_OP_UNPAUSE,
    XF_SIM_OP_DESTROY,
    XF_SIM_OP_SLEEP,
    XF_SIM_OP_EXTENT, /* one extent inside populate: a partial populate */
    XF_SIM_OP_BALLOON_INFO,
    XF_SIM_OP_SET_BALLOON_TARGET,
    XF_SIM_OP_SET_MEMORY_OFFSET,
    XF_SIM_OP_SET_UNCOOPERATIVE,
    XF_SIM_OP_COUNT
};

/* "physinfo", "populate", "extent", ...; NULL for an unknown op. */
const char *xf_sim_op_name(enum xf_sim_op op);
/* Parses an op name. Returns 0 or XF_EINVAL. */
int xf_sim_op_parse(const char *name, enum xf_sim_op *ret);

/*
 * Makes the nth call of `op` from now on (1 = the next) fail with `err` (a
 * negative errno such as -ENOMEM) without any other effect; an extent fault
 * ends its populate with the extents done before it. Up to 32 faults may be
 * pending. Returns 0, XF_EINVAL (not a simulator, unknown op, nth 0, err not
 * negative), XF_ENOSPC (too many pending).
 */
int xf_sim_inject_fault(struct xf_hv *hv, enum xf_sim_op op, uint64_t nth, int err);
void xf_sim_clear_faults(struct xf_hv *hv);

struct xf_sim_stats {
    uint64_t calls[XF_SIM_OP_COUNT]; /* including failed and faulted calls */
    uint64_t faults_fired;
    uint64_t gate_refusals;    /* allocations refused by the claims gate */
    uint64_t extents;          /* extents allocated to guests */
    uint64_t off_node_extents; /* ... not on the hinted/affine node(s) */
    uint64_t dma_pages_taken;  /* pages handed out from the DMA zone */
    uint64_t scrubbed_pages;   /* dirty pages scrubbed on allocation */
};
int xf_sim_stats(const struct xf_hv *hv, struct xf_sim_stats *ret);

/*
 * Balloon drivers. A guest with one advertises control/feature-balloon and
 * has the memory keys a toolstack wrote (target, dynamic-min, dynamic-max);
 * its driver moves tot_pages towards target + offset at rate_kib_per_s while
 * the domain runs (not paused, not dying), giving pages back from the nodes
 * they sit on in proportion and taking new ones as Xen's allocator gives them
 * (its node affinity, the claims gate, max_pages). Drivers:
 *   OK     moves at its rate (a slow driver is one with a low rate);
 *   STUCK  never moves;
 *   LIAR   reads the target it is given but never goes below lie_floor_kib
 *          (squeezed's idealised_vm_with_limit: a target it does not reach).
 * offset_kib is the truth of memory-offset: what the guest holds above its
 * target once at rest (memory-offset in xenstore is written by the toolstack
 * that calibrates it, or set here when offset_known).
 */
enum xf_sim_balloon_driver {
    XF_SIM_DRIVER_OK = 0,
    XF_SIM_DRIVER_STUCK = 1,
    XF_SIM_DRIVER_LIAR = 2,
};

struct xf_sim_balloon {
    uint64_t dynamic_min_kib;
    uint64_t dynamic_max_kib;
    uint64_t target_kib;
    int64_t offset_kib;
    bool offset_known;
    bool feature_balloon;    /* advertised (false: booting, keys only) */
    uint64_t rate_kib_per_s; /* 0: at once */
    enum xf_sim_balloon_driver driver;
    uint64_t lie_floor_kib;
};

/*
 * Gives an existing domain balloon keys and a driver. Returns 0,
 * XF_EINVAL (not a simulator; dynamic_min above dynamic_max; the target
 * outside [dynamic_min, dynamic_max]; an unknown driver), XF_ESRCH (no such
 * live domain). Nothing is changed on error.
 */
int xf_sim_balloon_setup(struct xf_hv *hv, xf_domid_t domid, const struct xf_sim_balloon *b);
/* Changes a ballooning domain's driver (a driver breaking mid-squeeze).
 * Returns 0, XF_EINVAL, XF_ESRCH, XF_ENOENT (no balloon). */
int xf_sim_balloon_set_driver(struct xf_hv *hv, xf_domid_t domid, enum xf_sim_balloon_driver driver,
                              uint64_t lie_floor_kib);

/*
 * A small seeded scheduler that interleaves tasks (e.g. parallel domain
 * builders) over a backend's clock. A task is a step function called with its
 * context; each step does a little work through the xf_hv_* wrappers and
 * returns 1 to be called again, 0 when done, or a negative error (done, with
 * that result). It may set *ret_sleep_ns to sleep that long (simulated time
 * for the simulator) before its next step. The next task to step is drawn
 * with a seeded PRNG among the runnable ones; when all sleep, time advances
 * (xf_hv_sleep_ns) to the earliest wake-up. The same seed and tasks give the
 * same run. Works over any backend.
 */
struct xf_sim_sched;
typedef int (*xf_sim_step_fn)(void *ctx, struct xf_hv *hv, uint64_t *ret_sleep_ns);

int xf_sim_sched_new(struct xf_hv *hv, uint64_t seed, struct xf_sim_sched **ret);
void xf_sim_sched_free(struct xf_sim_sched *s);
/* Adds a task (runnable now). Returns 0 and its id (0, 1, ...), XF_ENOMEM. */
int xf_sim_sched_add(struct xf_sim_sched *s, xf_sim_step_fn step, void *ctx, uint32_t *ret_id);
/*
 * Runs until every task is done. Returns 0, XF_ETIMEDOUT after max_steps
 * steps (0 = no limit) with tasks left, or an error of xf_hv_sleep_ns.
 */
int xf_sim_sched_run(struct xf_sim_sched *s, uint64_t max_steps);
/* A finished task's result (0 or its negative error); XF_ESTATE if not done. */
int xf_sim_sched_result(const struct xf_sim_sched *s, uint32_t id, int *ret_result);
/* Steps taken so far. */
uint64_t xf_sim_sched_steps(const struct xf_sim_sched *s);
/* The next value of the scheduler's PRNG (for tasks that want seeded choices). */
uint64_t xf_sim_sched_random(struct xf_sim_sched *s);

#endif
