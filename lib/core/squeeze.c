/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The squeeze (include/xenfit/squeeze.h): squeezed's proportional policy,
 * stuckness monitor and iteration, followed function by function from xen-api
 * commit e2ee48d6883e, ocaml/squeezed/lib/squeeze.ml, with the maxmem rule of
 * its change_host_free_memory. The floating-point steps are squeezed's: gamma
 * is an IEEE double and each share is truncated toward zero
 * (Int64.of_float), so targets match squeezed's to the KiB.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/squeeze.h"

struct sq_watch {
    xf_domid_t domid;
    int64_t last_actual_kib;
    uint64_t last_progress_ns;
    bool stuck;
    bool seen; /* in the host of this iteration */
    /* Its share of memory on the goal's nodes when first seen: kept for
     * the whole squeeze, so that pages moving between nodes by rounding
     * cannot keep changing the targets (which would then never settle). */
    double share;
    /* With a node mask: the target planned for it (see plan_targets). */
    int64_t plan_kib;
    bool planned;
    bool inactive; /* non-active after the previous iteration */
};

struct xf_squeezer {
    uint64_t stuck_after_ns;
    struct sq_watch *w;
    size_t n, cap;
};

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

bool xf_sq_has_hit_target(int64_t inaccuracy_kib, int64_t actual_kib, int64_t target_kib)
{
    int64_t delta = actual_kib - target_kib;
    return (delta < 0 ? -delta : delta) <= inaccuracy_kib;
}

/* squeeze.ml direction_of_actual: 0 on target, -1 "Down" (actual above the
 * target: memory should go), +1 "Up". */
static int direction(const struct xf_sq_domain *d)
{
    if (xf_sq_has_hit_target(d->inaccuracy_kib, d->memory_actual_kib, d->target_kib))
        return 0;
    return d->target_kib > d->memory_actual_kib ? -1 : 1;
}

int64_t xf_sq_effective_min(const struct xf_sq_domain *d)
{
    return max64(d->dynamic_min_kib, min64(d->floor_kib, d->dynamic_max_kib));
}

/* squeeze.ml range: what the target may vary over. */
static int64_t range(const struct xf_sq_domain *d)
{
    return max64(0, d->dynamic_max_kib - xf_sq_effective_min(d));
}

/* squeeze.ml min_freeable: what setting the target to the minimum frees at
 * least, allowing for the driver's inaccuracy both ways. */
static int64_t min_freeable(const struct xf_sq_domain *d)
{
    return max64(0, d->memory_actual_kib - xf_sq_effective_min(d) - 2 * d->inaccuracy_kib);
}

/* The share of a domain's memory on the goal's nodes: 1 host-wide, and 0
 * for a domain whose placement is unknown. */
static double node_share(const struct xf_sq_domain *d, uint64_t node_mask)
{
    int64_t on = 0, all = 0;

    if (!node_mask)
        return 1.0;
    for (unsigned n = 0; n < XF_MAX_NODES; n++) {
        all += d->node_kib[n];
        if ((node_mask >> n) & 1u)
            on += d->node_kib[n];
    }
    return all > 0 ? (double)on / (double)all : 0.0;
}

static int64_t free_of(const struct xf_sq_host *h, uint64_t node_mask)
{
    int64_t f = 0;

    if (!node_mask)
        return h->free_kib;
    for (unsigned n = 0; n < XF_MAX_NODES; n++)
        if ((node_mask >> n) & 1u)
            f += h->node_free_kib[n];
    return f;
}

/* squeeze.ml Proportional.constrain 0. 1.: NaN (0 / 0) is the minimum. */
static double clamp01(double g)
{
    if (isnan(g) || g < 0.0)
        return 0.0;
    return g > 1.0 ? 1.0 : g;
}

/*
 * compute_target_adjustments over the domains picked by `take` (NULL: all):
 * the surplus is what would be free with every domain at its minimum, less
 * the target. With a node mask each domain frees and takes only its share
 * there, so gamma = surplus / sum(share * range); with shares of 1 this is
 * squeezed's formula.
 */
static void proportional(const struct xf_sq_host *h, const bool *take, const double *shares,
                         uint64_t node_mask, int64_t target_kib, int64_t *out)
{
    double maximum_free = (double)free_of(h, node_mask), total_range = 0.0, gamma;
    int64_t maximum_free_kib = free_of(h, node_mask), weighted_range_kib = 0;
    bool weighted = node_mask != 0;

    for (size_t i = 0; i < h->nr_domains; i++) {
        const struct xf_sq_domain *d = &h->domains[i];
        double s;
        if (take && !take[i])
            continue;
        s = shares ? shares[i] : node_share(d, node_mask);
        if (weighted) {
            maximum_free += s * (double)min_freeable(d);
            total_range += s * (double)range(d);
        } else {
            maximum_free_kib += min_freeable(d);
            weighted_range_kib += range(d);
        }
    }
    if (!weighted) {
        /* Exactly squeezed's integer sums, then one division in double. */
        int64_t surplus = max64(0, maximum_free_kib - target_kib);
        /* x / 0. is infinity (gamma 1) or NaN (gamma 0) in OCaml. */
        gamma = weighted_range_kib ? clamp01((double)surplus / (double)weighted_range_kib)
                                   : (surplus > 0 ? 1.0 : 0.0);
    } else {
        double surplus = maximum_free - (double)target_kib;
        if (surplus < 0)
            surplus = 0;
        gamma = total_range > 0 ? clamp01(surplus / total_range) : (surplus > 0 ? 1.0 : 0.0);
    }
    for (size_t i = 0; i < h->nr_domains; i++) {
        const struct xf_sq_domain *d = &h->domains[i];
        bool part = (!take || take[i]) && (shares ? shares[i] : node_share(d, node_mask)) > 0.0;
        out[i] =
            part ? xf_sq_effective_min(d) + (int64_t)(gamma * (double)range(d)) : d->target_kib;
    }
}

static int check_host(const struct xf_sq_host *h)
{
    if (!h || (h->nr_domains && !h->domains))
        return XF_EINVAL;
    for (size_t i = 0; i < h->nr_domains; i++) {
        const struct xf_sq_domain *d = &h->domains[i];
        if (d->dynamic_min_kib < 0 || d->dynamic_min_kib > d->dynamic_max_kib ||
            d->target_kib < 0 || d->memory_actual_kib < 0 || d->inaccuracy_kib < 0 ||
            d->floor_kib < 0)
            return XF_EINVAL;
    }
    return 0;
}

int xf_sq_proportional(const struct xf_sq_host *host, const struct xf_sq_goal *goal,
                       int64_t *ret_targets)
{
    if (!goal || !ret_targets || check_host(host) < 0)
        return XF_EINVAL;
    proportional(host, NULL, NULL, goal->node_mask, goal->target_kib, ret_targets);
    return 0;
}

int xf_squeezer_new(uint64_t stuck_after_ns, struct xf_squeezer **ret)
{
    struct xf_squeezer *sq = xf__calloc(1, sizeof(*sq));

    if (!sq)
        return XF_ENOMEM;
    sq->stuck_after_ns = stuck_after_ns ? stuck_after_ns : XF_SQUEEZE_STUCK_AFTER_NS;
    *ret = sq;
    return 0;
}

void xf_squeezer_free(struct xf_squeezer *sq)
{
    if (!sq)
        return;
    xf__free(sq->w);
    xf__free(sq);
}

static struct sq_watch *watch_of(struct xf_squeezer *sq, xf_domid_t domid)
{
    for (size_t i = 0; i < sq->n; i++)
        if (sq->w[i].domid == domid)
            return &sq->w[i];
    return NULL;
}

/* Room for a watch on every domain of the host, so that the update below
 * cannot fail half-way. */
static int watch_room(struct xf_squeezer *sq, size_t more)
{
    while (sq->cap < sq->n + more) {
        struct sq_watch *w = xf__grow(sq->w, sq->cap, &sq->cap, 16, sizeof(*w));
        if (!w)
            return XF_ENOMEM;
        sq->w = w;
    }
    return 0;
}

/* squeeze.ml Stuckness_monitor.update: a domain moving towards its target
 * makes progress; one with work to do and no progress for longer than
 * stuck_after is stuck. Domains gone from the host are forgotten. */
static void monitor_update(struct xf_squeezer *sq, const struct xf_sq_host *h, uint64_t node_mask,
                           uint64_t now_ns)
{
    for (size_t i = 0; i < sq->n; i++)
        sq->w[i].seen = false;
    for (size_t i = 0; i < h->nr_domains; i++) {
        const struct xf_sq_domain *d = &h->domains[i];
        struct sq_watch *w = watch_of(sq, d->domid);
        int dir = direction(d);
        int64_t delta;
        if (!w) {
            /* New domains are making progress now and are not stuck. */
            w = &sq->w[sq->n++];
            memset(w, 0, sizeof(*w));
            w->domid = d->domid;
            w->last_actual_kib = d->memory_actual_kib;
            w->last_progress_ns = now_ns;
            w->share = node_share(d, node_mask);
        }
        w->seen = true;
        delta = d->memory_actual_kib - w->last_actual_kib;
        w->last_actual_kib = d->memory_actual_kib;
        /* squeeze.ml: (delta > 0 && Down) || (delta < 0 && Up), where Down
         * is target above actual: the balloon moving the right way. */
        if ((delta > 0 && dir == -1) || (delta < 0 && dir == 1)) {
            w->last_progress_ns = now_ns;
            w->stuck = false;
        }
        if (dir != 0 && now_ns > w->last_progress_ns &&
            now_ns - w->last_progress_ns > sq->stuck_after_ns)
            w->stuck = true;
    }
    for (size_t i = 0; i < sq->n;) {
        if (!sq->w[i].seen)
            sq->w[i] = sq->w[--sq->n];
        else
            i++;
    }
}

static bool success_of(const struct xf_sq_goal *g, int64_t free_kib)
{
    if (g->success == XF_SQ_AT_LEAST)
        return free_kib >= g->at_least_kib;
    return free_kib - g->target_kib < g->tolerance_kib;
}

/*
 * The node mask's targets. Host-wide, squeezed recomputes the targets every
 * iteration and they settle because free memory rises exactly as much as the
 * domains give. On a node it rises by what they give there, which follows
 * their share only to the page, and recomputed targets would wander by a few
 * KiB forever (never "no target changes"). So the targets are planned when
 * the squeeze starts and whenever a domain turns active or inactive, aiming
 * XF_SQUEEZE_TOLERANCE_KIB above the goal to absorb that rounding, and
 * planned again once all are reached if the goal is not met and the new plan
 * moves some target by more than its inaccuracy.
 */
static void plan_targets(struct xf_squeezer *sq, const struct xf_sq_host *h,
                         const struct xf_sq_goal *g, const bool *active, const double *shares,
                         bool replan, int64_t *targets)
{
    size_t n = h->nr_domains;
    bool reached = true;

    proportional(h, active, shares, g->node_mask, g->target_kib + XF_SQUEEZE_TOLERANCE_KIB,
                 targets);
    if (!replan) {
        for (size_t i = 0; i < n; i++) {
            const struct xf_sq_domain *d = &h->domains[i];
            if (active[i] &&
                !xf_sq_has_hit_target(d->inaccuracy_kib, d->memory_actual_kib, d->target_kib))
                reached = false;
        }
        if (reached && !success_of(g, free_of(h, g->node_mask))) {
            for (size_t i = 0; i < n; i++) {
                const struct sq_watch *w = watch_of(sq, h->domains[i].domid);
                if (w &&
                    !xf_sq_has_hit_target(h->domains[i].inaccuracy_kib, targets[i], w->plan_kib))
                    replan = true;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct sq_watch *w = watch_of(sq, h->domains[i].domid);
        if (!w)
            continue; /* cannot be: monitor_update watches every domain */
        if (replan || !w->planned) {
            w->plan_kib = targets[i];
            w->planned = true;
        }
        targets[i] = w->plan_kib;
    }
}

bool xf_sq_already_done(const struct xf_sq_host *host, const struct xf_sq_goal *goal)
{
    /* squeezed compares its required_mem_kib, the policy's aim (for a range:
     * the range's share), not what would count as success. */
    int64_t required = goal->target_kib;

    if (goal->success == XF_SQ_BALANCED || required > free_of(host, goal->node_mask))
        return false;
    for (size_t i = 0; i < host->nr_domains; i++) {
        const struct xf_sq_domain *d = &host->domains[i];
        if (d->can_balloon &&
            !xf_sq_has_hit_target(d->inaccuracy_kib, d->memory_actual_kib, d->target_kib))
            return false;
    }
    return true;
}

int xf_squeezer_step(struct xf_squeezer *sq, const struct xf_sq_host *host,
                     const struct xf_sq_goal *goal, uint64_t now_ns,
                     struct xf_sq_dom_step *ret_doms, struct xf_sq_step *ret)
{
    size_t n;
    bool *active = NULL;
    int64_t *targets = NULL;
    double *shares = NULL;
    bool replan = false;
    double max_free;
    bool any_freeing = false, all_reached = true, no_changes = true;
    struct xf_sq_step st;

    if (!sq || !goal || !ret_doms || !ret || check_host(host) < 0)
        return XF_EINVAL;
    n = host->nr_domains;
    active = xf__calloc(n ? n : 1, sizeof(*active));
    targets = xf__calloc(n ? n : 1, sizeof(*targets));
    shares = xf__calloc(n ? n : 1, sizeof(*shares));
    if (!active || !targets || !shares || watch_room(sq, n) < 0) {
        xf__free(active);
        xf__free(targets);
        xf__free(shares);
        return XF_ENOMEM;
    }
    memset(&st, 0, sizeof(st));
    memset(ret_doms, 0, n * sizeof(*ret_doms));

    /* 1. Which domains are still active. */
    monitor_update(sq, host, goal->node_mask, now_ns);
    for (size_t i = 0; i < n; i++) {
        const struct sq_watch *w = watch_of(sq, host->domains[i].domid);
        active[i] = host->domains[i].can_balloon && w && !w->stuck;
        ret_doms[i].active = active[i];
    }
    for (size_t i = 0; i < n; i++) {
        struct sq_watch *w = watch_of(sq, host->domains[i].domid);
        if (!w)
            continue; /* cannot be: monitor_update watches every domain */
        ret_doms[i].declared_inactive = !active[i] && !w->inactive;
        if (w->inactive != !active[i] || !w->planned)
            replan = true;
        w->inactive = !active[i];
    }

    /* 2. The targets the policy wants for the active domains. */
    for (size_t i = 0; i < n; i++) {
        const struct sq_watch *w = watch_of(sq, host->domains[i].domid);
        shares[i] = w ? w->share : 0.0;
    }
    if (!goal->node_mask)
        proportional(host, active, shares, 0, goal->target_kib, targets);
    else
        plan_targets(sq, host, goal, active, shares, replan, targets);
    max_free = (double)free_of(host, goal->node_mask);
    for (size_t i = 0; i < n; i++)
        if (active[i])
            max_free += shares[i] * (double)min_freeable(&host->domains[i]);
    st.max_possible_free_kib = (int64_t)max_free;

    /* Two phases ("Xen heap workaround"): a domain is freeing when its new
     * target is a real decrease from what it holds; while any is freeing,
     * only decreases are set, so free memory never dips below what is
     * already promised. */
    for (size_t i = 0; i < n; i++) {
        const struct xf_sq_domain *d = &host->domains[i];
        if (active[i] && shares[i] > 0.0 &&
            !xf_sq_has_hit_target(d->inaccuracy_kib, d->memory_actual_kib, targets[i]) &&
            targets[i] < d->memory_actual_kib)
            any_freeing = true;
    }
    st.allocation_phase = !any_freeing;
    for (size_t i = 0; i < n; i++) {
        const struct xf_sq_domain *d = &host->domains[i];
        bool freeing;
        if (!active[i] || shares[i] <= 0.0)
            continue;
        freeing = !xf_sq_has_hit_target(d->inaccuracy_kib, d->memory_actual_kib, targets[i]) &&
                  targets[i] < d->memory_actual_kib;
        if (freeing != any_freeing)
            continue;
        ret_doms[i].set_target = true;
        ret_doms[i].new_target_kib = targets[i];
        if (targets[i] != d->target_kib)
            no_changes = false;
    }
    for (size_t i = 0; i < n; i++) {
        const struct xf_sq_domain *d = &host->domains[i];
        if (active[i] &&
            !xf_sq_has_hit_target(d->inaccuracy_kib, d->memory_actual_kib, d->target_kib))
            all_reached = false;
    }

    /* In all cases wait for the targets to be reached and stable; then
     * succeed or fail. */
    if (!all_reached || !no_changes) {
        st.result = XF_SQ_ADJUST;
    } else if (success_of(goal, free_of(host, goal->node_mask))) {
        st.result = XF_SQ_SUCCESS;
    } else {
        /* Blame the domains that could balloon and are not active; none
         * (or only domain 0, CA-75568) means the minimums are too high. */
        bool only_dom0 = true;
        for (size_t i = 0; i < n; i++) {
            if (host->domains[i].can_balloon && !active[i]) {
                ret_doms[i].stuck = true;
                st.nr_stuck++;
                only_dom0 = only_dom0 && host->domains[i].domid == 0;
            }
        }
        st.result = st.nr_stuck && !only_dom0 ? XF_SQ_REFUSED : XF_SQ_CANNOT_FREE;
    }

    /* maxmem (change_host_free_memory): a domain just declared inactive may
     * shrink while nobody looks but never grow: min(target, actual) within
     * [dynamic_min, dynamic_max] (CA-41832); any other its new target or its
     * target. Only domains with a balloon driver have it set: squeeze_xen.ml
     * execute_action leaves a lower maxmem of one without alone. */
    for (size_t i = 0; i < n; i++) {
        const struct xf_sq_domain *d = &host->domains[i];
        if (!d->can_balloon)
            continue;
        ret_doms[i].set_maxmem = true;
        if (ret_doms[i].declared_inactive) {
            int64_t ideal = min64(d->target_kib, d->memory_actual_kib);
            ret_doms[i].maxmem_kib = min64(d->dynamic_max_kib, max64(d->dynamic_min_kib, ideal));
        } else if (st.result == XF_SQ_ADJUST && ret_doms[i].set_target) {
            ret_doms[i].maxmem_kib = ret_doms[i].new_target_kib;
        } else {
            ret_doms[i].maxmem_kib = d->target_kib;
        }
    }
    if (st.result != XF_SQ_ADJUST)
        for (size_t i = 0; i < n; i++)
            ret_doms[i].set_target = false;
    xf__free(active);
    xf__free(targets);
    xf__free(shares);
    *ret = st;
    return 0;
}

int xf_sq_range_ideal(const struct xf_sq_host *host, int64_t target_kib, int64_t min_kib,
                      int64_t max_kib, int64_t *ret_kib)
{
    struct xf_sq_domain *all;
    struct xf_sq_host h;
    int64_t *t;
    size_t n;
    int err;

    if (!ret_kib || min_kib < 0 || min_kib > max_kib || check_host(host) < 0)
        return XF_EINVAL;
    n = host->nr_domains;
    all = xf__calloc(n + 1, sizeof(*all));
    t = xf__calloc(n + 1, sizeof(*t));
    err = all && t ? 0 : XF_ENOMEM;
    if (err == 0) {
        if (n)
            memcpy(all, host->domains, n * sizeof(*all));
        /* squeeze.ml free_memory_range: the pretend domain -1. */
        all[n].domid = XF_DOMID_NONE;
        all[n].can_balloon = true;
        all[n].dynamic_min_kib = min_kib;
        all[n].dynamic_max_kib = max_kib;
        all[n].target_kib = min_kib;
        all[n].inaccuracy_kib = XF_SQUEEZE_INACCURACY_KIB;
        h = *host;
        h.domains = all;
        h.nr_domains = n + 1;
        proportional(&h, NULL, NULL, 0, target_kib, t);
        *ret_kib = t[n];
    }
    xf__free(all);
    xf__free(t);
    return err;
}
