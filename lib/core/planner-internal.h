/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The inside of a planner (include/xenfit/planner.h), shared by planner.c
 * (state, plans, the split and the choosers) and planner-search.c (finding
 * the fitting sets of the best distance tier). Not installed.
 */
#ifndef XENFIT_PLANNER_INTERNAL_H
#define XENFIT_PLANNER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "topology-internal.h"
#include "xenfit/planner.h"

struct xf_planner {
    const struct xf_topology *topo;
    enum xf_planner_mode mode;
    uint64_t free_mib[XF_MAX_NODES];
    uint64_t mem_tab[XF__NIBBLES][16]; /* nibble sums of free_mib */
    struct xf_placement_counts counts; /* .total only grows (xenopsd); .live */
};

/* What a request needs from a node set. */
struct xf__need {
    uint64_t mem_mib;
    uint32_t vcpus;
    uint32_t cores;
    uint64_t allowed; /* reachable nodes the request may use */
};

/* The chooser's best set so far among those offered (xf__pick_offer). */
struct xf__pick {
    bool have;
    uint64_t nodes;
    uint64_t min_left; /* xenfit: the least memory a node of the set keeps */
    uint64_t live;     /* xenfit: live placements on the set */
    uint64_t free;     /* xenfit: the set's free memory */
    uint64_t usage;    /* xenopsd: summed placement counters */
};

static inline uint64_t xf__set_free(const struct xf_planner *p, uint64_t nodes)
{
    return xf__nib_sum64((const uint64_t(*)[16])p->mem_tab, nodes);
}

static inline bool xf__set_fits(const struct xf_planner *p, const struct xf__need *need,
                                uint64_t nodes)
{
    const struct xf_topology *t = p->topo;
    return xf__nib_sum32(t->cpu_tab, nodes) >= need->vcpus &&
           xf__nib_sum32(t->core_tab, nodes) >= need->cores &&
           xf__set_free(p, nodes) >= need->mem_mib;
}

/*
 * Splits mem_mib over the nodes of a set in proportion to their free memory,
 * rounding down, then gives the MiB left by rounding one each to the nodes
 * with the largest remainders (ties: more free memory, then the lower node).
 * Every node gets at most its free memory when the set's free memory covers
 * mem_mib (see docs/topology.md). Writes ret_per_node[i] for the set's nodes
 * only.
 */
void xf__split(const uint64_t free_mib[XF_MAX_NODES], uint64_t nodes, uint64_t mem_mib,
               uint64_t ret_per_node[XF_MAX_NODES]);

/* Offers a fitting set to the planner's chooser. */
void xf__pick_offer(const struct xf_planner *p, const struct xf__need *need, struct xf__pick *pk,
                    uint64_t nodes);

/* What the search proves about the best fitting set (max distance, then
 * average distance): none has a max below lb_max, and none with a max up to
 * the plan's an average below lb_avg_num / lb_avg_den. */
struct xf__proof {
    bool exhaustive; /* the plan's tier is proven the best */
    uint32_t lb_max;
    uint64_t lb_avg_num;
    uint64_t lb_avg_den;
};

/*
 * Finds the fitting sets of the best distance tier the planner's mode can
 * see and offers them to the chooser. Returns true if one fits. Fills
 * *ret_proof: exhaustive is false only when the search past
 * XF_TOPOLOGY_EXHAUSTIVE_NODES ran out of budget (then the bounds say how
 * far the plan may be from the best) or, in xenopsd's mode, when no single
 * node fits.
 */
bool xf__plan_search(const struct xf_planner *p, const struct xf__need *need, struct xf__pick *pk,
                     struct xf__proof *ret_proof);

#endif
