/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The squeeze: squeezed's ballooning decision (xen-api commit e2ee48d6883e,
 * ocaml/squeezed/lib/squeeze.ml, modules Stuckness_monitor, Proportional and
 * Squeezer.one_iteration), as a pure function of a view of the host. Given
 * the balloonable domains (dynamic_min, target, dynamic_max, memory_actual,
 * maxmem) and the host's free memory, one iteration says which balloon
 * targets to set (decreases before increases, so that free memory never
 * overshoots), what each domain's maxmem should be, and whether the goal is
 * reached or cannot be: Cannot_free_this_much_memory(needed, free) or
 * Domains_refused_to_cooperate(domids). Whoever owns a backend runs the loop
 * (lib/toolstack/balloon.c: set targets, wait 1 s, look again).
 *
 * Sizes are KiB in int64_t, as squeezed computes them: the algorithm works
 * with differences that may be negative (free memory net of reservations, a
 * domain above its target). Time is nanoseconds of the caller's clock.
 *
 * What xenfit adds, each off unless asked for:
 * - a floor per domain (what its own reservation promised): the domain is
 *   treated as if its dynamic_min were max(dynamic_min, min(floor,
 *   dynamic_max)), so no target is ever set below it;
 * - a node mask: free memory is counted on those NUMA nodes only, and each
 *   domain counts for the share of its memory that sits there (its pages per
 *   node); a domain with nothing there keeps its target. With every domain
 *   wholly on the mask this is squeezed's policy exactly.
 */
#ifndef XENFIT_SQUEEZE_H
#define XENFIT_SQUEEZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenfit/types.h"

/* squeeze.ml Stuckness_monitor.assume_balloon_driver_stuck_after = 5 s. */
#define XF_SQUEEZE_STUCK_AFTER_NS (UINT64_C(5) * 1000000000u)
/* squeeze_xen.ml free_memory_tolerance_kib = 512 ("No need to be too exact"). */
#define XF_SQUEEZE_TOLERANCE_KIB 512
/* squeeze_xen.ml make_host: inaccuracy_kib = 4 for every domain. */
#define XF_SQUEEZE_INACCURACY_KIB 4
/* squeeze_xen.ml extra_mem_to_keep = 8 MiB, kept free above the low-memory
 * pool when balancing. */
#define XF_SQUEEZE_EXTRA_KEEP_KIB 8192
/* squeeze_xen.ml update_cooperative_flags: a domain neither at its target
 * nor unable to balloon for more than 20 s gets memory/uncooperative. It is
 * a flag for monitoring only: the squeeze itself uses the 5 s rule. */
#define XF_SQUEEZE_UNCOOPERATIVE_NS (UINT64_C(20) * 1000000000u)
/* squeeze.ml change_host_free_memory: io.wait 1. between iterations. */
#define XF_SQUEEZE_WAIT_NS UINT64_C(1000000000)

/* One domain as the squeeze sees it (squeeze.ml, type domain). */
struct xf_sq_domain {
    xf_domid_t domid;
    bool can_balloon; /* advertised control/feature-balloon */
    int64_t dynamic_min_kib;
    int64_t target_kib; /* memory/target */
    int64_t dynamic_max_kib;
    int64_t memory_actual_kib; /* tot_pages less the memory-offset */
    int64_t memory_max_kib;    /* maxmem less Xen's offset */
    int64_t inaccuracy_kib;    /* XF_SQUEEZE_INACCURACY_KIB */
    int64_t floor_kib;         /* xenfit: never targeted below (0: none) */
    /* xenfit: where memory_actual sits, KiB per node (all 0: unknown). */
    int64_t node_kib[XF_MAX_NODES];
};

/* The host (squeeze.ml, type host): free memory net of reservations. */
struct xf_sq_host {
    const struct xf_sq_domain *domains;
    size_t nr_domains;
    int64_t free_kib;
    int64_t node_free_kib[XF_MAX_NODES]; /* used with a node mask */
};

enum xf_sq_success {
    XF_SQ_AT_LEAST, /* free >= at_least_kib (reserve_memory) */
    XF_SQ_BALANCED, /* free - target_kib < tolerance_kib (balance_memory) */
};

/* What to aim for. */
struct xf_sq_goal {
    int64_t target_kib; /* host_target_kib: the free memory the policy aims at */
    enum xf_sq_success success;
    int64_t at_least_kib;
    int64_t tolerance_kib;
    uint64_t node_mask; /* 0: host-wide (squeezed); else these nodes */
};

enum xf_sq_result {
    XF_SQ_ADJUST,      /* set the targets marked, wait, look again */
    XF_SQ_SUCCESS,     /* enough memory is free */
    XF_SQ_CANNOT_FREE, /* Cannot_free_this_much_memory */
    XF_SQ_REFUSED,     /* Domains_refused_to_cooperate: the stuck ones */
};

/* One iteration's word on one domain (same index as the host's domains). */
struct xf_sq_dom_step {
    bool set_target;        /* in this phase's actions */
    int64_t new_target_kib; /* when set_target */
    int64_t maxmem_kib;     /* the maxmem it should have now (can_balloon only) */
    bool set_maxmem;        /* can_balloon: maxmem_kib applies */
    bool active;            /* balloons and is not stuck */
    bool declared_inactive; /* became inactive in this iteration */
    bool stuck;             /* blamed in XF_SQ_REFUSED */
};

struct xf_sq_step {
    enum xf_sq_result result;
    bool allocation_phase;         /* the targets set are increases */
    int64_t max_possible_free_kib; /* if every active domain went to its minimum */
    size_t nr_stuck;
};

/* squeeze.ml has_hit_target: |actual - target| <= inaccuracy. */
bool xf_sq_has_hit_target(int64_t inaccuracy_kib, int64_t actual_kib, int64_t target_kib);

/* The domain's minimum as the squeeze uses it: dynamic_min raised to its
 * floor, never above dynamic_max. */
int64_t xf_sq_effective_min(const struct xf_sq_domain *d);

/*
 * squeeze.ml Proportional.compute_target_adjustments over every domain of
 * the host (or those with memory on goal->node_mask): gamma = surplus /
 * total range clamped to [0, 1], target = min + gamma * range. Writes one
 * target per domain to ret_targets (the domain's own target where it takes
 * no part) and returns 0, XF_EINVAL for a NULL argument.
 */
int xf_sq_proportional(const struct xf_sq_host *host, const struct xf_sq_goal *goal,
                       int64_t *ret_targets);

/* The state kept between iterations (squeeze.ml Squeezer.t): per domain,
 * the last memory_actual and when it last made progress. */
struct xf_squeezer;

/* A squeezer that declares a driver stuck after stuck_after_ns (0: the
 * default XF_SQUEEZE_STUCK_AFTER_NS). Returns 0, XF_ENOMEM. Free with
 * xf_squeezer_free (accepts NULL). */
int xf_squeezer_new(uint64_t stuck_after_ns, struct xf_squeezer **ret);
void xf_squeezer_free(struct xf_squeezer *sq);

/*
 * squeeze.ml Squeezer.one_iteration plus the maxmem rule of
 * change_host_free_memory: updates the stuckness monitor with the host seen
 * at now_ns, then decides. ret_doms has host->nr_domains entries. Returns 0,
 * XF_EINVAL (a NULL argument, a domain with dynamic_min above dynamic_max or
 * a negative size: nothing is changed), XF_ENOMEM.
 */
int xf_squeezer_step(struct xf_squeezer *sq, const struct xf_sq_host *host,
                     const struct xf_sq_goal *goal, uint64_t now_ns,
                     struct xf_sq_dom_step *ret_doms, struct xf_sq_step *ret);

/*
 * squeeze.ml change_host_free_memory's shortcut: nothing to do when the goal
 * is not the balance target, free memory already covers its aim (target_kib,
 * squeezed's required_mem_kib) and every balloonable domain is at its target.
 */
bool xf_sq_already_done(const struct xf_sq_host *host, const struct xf_sq_goal *goal);

/*
 * squeeze.ml free_memory_range: the ideal amount for a reservation of [min,
 * max] KiB: a pretend domain with that dynamic range takes its proportional
 * share of the surplus over target_kib. Returns 0 and that amount (within
 * [min, max]), XF_EINVAL (min above max, a negative min, a bad host),
 * XF_ENOMEM.
 */
int xf_sq_range_ideal(const struct xf_sq_host *host, int64_t target_kib, int64_t min_kib,
                      int64_t max_kib, int64_t *ret_kib);

#endif
