/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The simulator's internal state, shared by its files (not installed):
 * sim.c (instance, vtable, host queries), spec.c and spec-check.c (host
 * spec), heap.c (per-node heaps and the allocator), claims.c, domain.c,
 * release.c (time, destroy, gradual release), fault.c, sched.c.
 *
 * Memory is counted, not mapped: each node has a normal zone and a DMA zone
 * (node 0 only), each with clean and dirty free pages. Xen's buddy
 * fragmentation is not modelled; an extent of 2^order pages fits a zone
 * holding that many free pages (docs/host-spec.md, "Limits").
 */
#ifndef XENFIT_SIM_INTERNAL_H
#define XENFIT_SIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/sim.h"

#define XF__NS_PER_S UINT64_C(1000000000)

enum { SIM_ZONE_NORMAL = 0, SIM_ZONE_DMA = 1, SIM_NR_ZONES = 2 };

/* What a domain holds, per node: its own pages (tot_pages), its paging
 * pool, and hidden hypervisor pages. */
enum { SIM_CAT_GUEST = 0, SIM_CAT_POOL = 1, SIM_CAT_HIDDEN = 2, SIM_NR_CATS = 3 };

struct sim_node {
    uint64_t clean[SIM_NR_ZONES];
    uint64_t dirty[SIM_NR_ZONES];
    uint64_t avail;           /* Xen's per_node_avail_pages: all zones, clean + dirty */
    uint64_t claimed;         /* per_node_outstanding_claims (node claims) */
    uint64_t scrub_budget_ns; /* idle scrubbing: time not yet turned into pages */
};

/* A guest's balloon keys and driver (balloon.c). */
struct sim_balloon {
    bool on; /* has memory keys */
    bool feature;
    uint64_t target_kib, dyn_min_kib, dyn_max_kib;
    bool has_offset;
    int64_t offset_kib;      /* memory-offset as written in xenstore */
    int64_t true_offset_kib; /* what the guest really holds above its target */
    uint64_t rate_kib_per_s;
    enum xf_sim_balloon_driver driver;
    uint64_t lie_floor_kib;
    uint64_t last_ns;   /* time already turned into pages */
    uint32_t rover;     /* the next node to give a rounding page */
    bool uncooperative; /* memory/uncooperative */
};

struct sim_domain {
    xf_domid_t domid;
    enum xf_domain_type type;
    uint32_t vcpus;
    uint32_t max_vcpus; /* fixed at creation; 0 when created without a count */
    bool dying;
    bool paused;
    uint64_t max_pages;
    uint64_t tot_pages;
    uint64_t pool_pages;
    uint64_t hidden_pages;
    uint64_t outstanding; /* d->outstanding_pages */
    uint32_t claim_node;  /* d->claim_node; XF_NODE_ANY for a global claim */
    uint64_t affinity;    /* as set; UINT64_MAX when none */
    uint32_t last_alloc_node;
    uint64_t pages[SIM_NR_CATS][XF_MAX_NODES];
    uint64_t dma_pages[SIM_NR_CATS]; /* of pages[cat][0], those in the DMA zone */
    /* Release after destroy (release.c). */
    uint64_t destroy_ns;
    uint64_t release_main; /* guest pages beyond the tail, plus the pool */
    uint64_t released;     /* of release_main */
    uint64_t release_tail; /* guest pages held back */
    uint64_t main_done_ns; /* when release_main was all returned */
    uint32_t dense_index;  /* in xf_sim.domains */
    struct sim_balloon bal;
};

struct sim_fault {
    enum xf_sim_op op;
    uint64_t at_call; /* absolute call number of op */
    int err;
};

#define SIM_MAX_FAULTS 32u

struct xf_sim {
    struct xf_hv hv; /* first: the backend header */
    struct xf_sim_spec spec;
    uint32_t caps;
    uint64_t now_ns;
    uint64_t online_mask;
    uint64_t total_pages;
    uint64_t total_avail; /* total_avail_pages */
    uint64_t outstanding; /* outstanding_claims */
    uint64_t low_mem_virq_pages;
    struct sim_node nodes[XF_MAX_NODES];
    /* Domains: by domid for lookup, and a dense array for iteration. */
    struct sim_domain **by_domid; /* XF_SIM_DOMID_LIMIT entries */
    struct sim_domain **domains;
    uint32_t nr_domains;
    size_t cap_domains;
    uint32_t nr_dying;
    uint32_t nr_balloons; /* domains with a balloon driver */
    xf_domid_t domid_rover;
    uint64_t last_scrub_ns;
    uint64_t op_cost_ns; /* time the current operation has cost so far */
    /* Fault injection and counters. */
    struct sim_fault faults[SIM_MAX_FAULTS];
    uint32_t nr_faults;
    struct xf_sim_stats stats;
};

/* The simulator uses nothing of lib/core/model.c, not even its type names. */
static inline bool xf__sim_type_ok(enum xf_domain_type type)
{
    return (unsigned)type <= XF_DOMAIN_PV_IN_PVH;
}

static inline struct xf_sim *xf__sim_of(struct xf_hv *hv)
{
    return (struct xf_sim *)hv;
}

extern const struct xf_hv_ops xf__sim_ops;

/* spec-check.c: defaults that depend on other fields, and validation. */
int xf__sim_spec_finish(struct xf_sim_spec *spec, struct xf_parse_error *err);
void xf__sim_truth_defaults(struct xf_sim_truth truth[4]);
void xf__sim_timing_defaults(struct xf_sim_timing *t);
/* Writes a message naming the field at fault to err (when not NULL). */
void xf__sim_parse_message(struct xf_parse_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes the message and evaluates to XF_EBADSPEC. A macro, not a function
 * returning the code, so that the code is visible where it is returned: the
 * static analyzers neither look into another file nor follow a variadic
 * call, and would otherwise take every refusal for a possible success. */
#define xf__sim_parse_fail(err, ...) (xf__sim_parse_message((err), __VA_ARGS__), XF_EBADSPEC)

/* fault.c: counts a call of op; returns 0 or the injected error. */
int xf__sim_enter(struct xf_sim *s, enum xf_sim_op op);

/* release.c: advances simulated time, then returns released memory. */
void xf__sim_advance(struct xf_sim *s, uint64_t ns);
int xf__sim_destroy(struct xf_hv *hv, xf_domid_t domid);
int xf__sim_sleep_ns(struct xf_hv *hv, uint64_t ns);
uint64_t xf__sim_now_ns(struct xf_hv *hv);

/* heap.c: the allocator. */
struct sim_alloc {
    uint32_t order;
    uint32_t node; /* hint, XF_NODE_ANY for the domain's affinity */
    bool exact;    /* MEMF_exact_node */
    bool refcount; /* counts in tot_pages and may use the claim (!MEMF_no_refcount) */
};
/* Allocates one extent for d from the heap: the claims gate, node choice
 * (get_free_buddy) and, under 4.22 semantics, claim consumption. Does not
 * assign the pages to d. Returns 0 and the node and how many pages came
 * from the DMA zone, or -ENOMEM. Adds scrub time to s->op_cost_ns. */
int xf__sim_heap_alloc(struct xf_sim *s, struct sim_domain *d, const struct sim_alloc *a,
                       uint32_t *ret_node, uint64_t *ret_dma);
/* Returns pages to a node's heap (dma of them to the DMA zone). */
void xf__sim_heap_free(struct xf_sim *s, uint32_t node, uint64_t pages, uint64_t dma, bool dirty);
/* Takes `pages` of category cat from d, nodes from last to first (the DMA
 * zone last), returning them to the heap (dirty, normally). Returns the
 * pages freed. */
uint64_t xf__sim_domain_free(struct xf_sim *s, struct sim_domain *d, int cat, uint64_t pages,
                             bool dirty);
/* Allocates n order-0 pages of category cat (pool or hidden: unclaimed).
 * On failure keeps what it got when keep_partial, else gives it back. */
int xf__sim_alloc_unclaimed(struct xf_sim *s, struct sim_domain *d, int cat, uint64_t n,
                            bool keep_partial);
/* Idle scrubbing of dirty pages up to now. */
void xf__sim_idle_scrub(struct xf_sim *s);

/* claims.c */
int xf__sim_claim(struct xf_hv *hv, xf_domid_t domid, uint32_t node, uint64_t pages);
void xf__sim_claim_cancel(struct xf_sim *s, struct sim_domain *d);
/* 4.17: consumption when pages are assigned, refill when freed. */
void xf__sim_claim_on_assign(struct xf_sim *s, struct sim_domain *d, uint64_t pages);
void xf__sim_claim_on_free(struct xf_sim *s, struct sim_domain *d, uint64_t pages);

/* balloon.c */
void xf__sim_balloon_run(struct xf_sim *s);
int xf__sim_balloon_info(struct xf_hv *hv, xf_domid_t domid, struct xf_hv_balloon *ret);
int xf__sim_set_balloon_target(struct xf_hv *hv, xf_domid_t domid, uint64_t target_kib);
int xf__sim_set_memory_offset(struct xf_hv *hv, xf_domid_t domid, int64_t offset_kib);
int xf__sim_set_uncooperative(struct xf_hv *hv, xf_domid_t domid, bool uncooperative);

/* domain.c */
struct sim_domain *xf__sim_domain_get(struct xf_sim *s, xf_domid_t domid);
int xf__sim_domain_add(struct xf_sim *s, enum xf_domain_type type, xf_domid_t domid,
                       struct sim_domain **ret);
void xf__sim_domain_remove(struct xf_sim *s, struct sim_domain *d);
int xf__sim_domain_list(struct xf_hv *hv, uint32_t max, xf_domid_t *ret_domids, uint32_t *ret_n);
int xf__sim_domain_info(struct xf_hv *hv, xf_domid_t domid, struct xf_hv_domain_info *ret);
int xf__sim_domain_create(struct xf_hv *hv, enum xf_domain_type type, xf_domid_t *ret_domid);
int xf__sim_domain_create_vcpus(struct xf_hv *hv, enum xf_domain_type type, uint32_t max_vcpus,
                                xf_domid_t *ret_domid);
int xf__sim_set_max_vcpus(struct xf_hv *hv, xf_domid_t domid, uint32_t vcpus);
int xf__sim_set_max_pages(struct xf_hv *hv, xf_domid_t domid, uint64_t pages);
int xf__sim_set_paging_pool(struct xf_hv *hv, xf_domid_t domid, uint64_t pages);
int xf__sim_populate(struct xf_hv *hv, xf_domid_t domid, const struct xf_hv_populate *req,
                     uint64_t *ret_done);
int xf__sim_decrease(struct xf_hv *hv, xf_domid_t domid, uint64_t pages);
int xf__sim_set_node_affinity(struct xf_hv *hv, xf_domid_t domid, uint64_t node_mask);
int xf__sim_unpause(struct xf_hv *hv, xf_domid_t domid);

#endif
