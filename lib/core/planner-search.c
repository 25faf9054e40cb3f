/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Finding the fitting node sets of the best distance tier for a request.
 *
 * Up to XF_TOPOLOGY_EXHAUSTIVE_NODES reachable nodes the topology holds every
 * candidate set in tier order (topology-sets.c), so the search is xenopsd's
 * Softaffinity.plan walk (filter the fitting candidates, take those of the
 * first distance) without its per-request cost: a tier is skipped unseen when
 * its largest CPU or core count, or the free memory of the best nodes of its
 * largest size, falls short; a candidate is checked with precomputed CPU and
 * core counts and a few table lookups for its free memory. A request that a
 * single node satisfies is answered from the first tier, one check per node.
 * Within the tier, a candidate is offered to the chooser only if bounds say
 * it could beat the pick, and the scan stops once the pick reaches the best
 * any set of the tier could have (offer_tier_xenfit, tier_fits).
 *
 * Above that, xenopsd considers single nodes only (NUMA.gen_candidates), and
 * so does the xenopsd mode. The xenfit mode takes the single nodes when one
 * fits (the best tier unless two nodes are 10 apart), else walks the distinct
 * pairwise distances D in increasing order: the sets whose maximum distance
 * is at most D are the cliques of the graph "distance <= D"; a node can be in
 * a fitting one only if its neighbourhood fits, so nodes are peeled off until
 * every remaining node's neighbourhood (among the remaining) fits, and the
 * first D that keeps any node is found by bisection (peeling is monotone in
 * D). At that D and upwards, a greedy growth from every remaining node (the
 * closest node first) gives a first answer, then a depth-first branch and
 * bound enumerates cliques from each remaining node in order of free memory,
 * extending with the closest nodes first, cutting a branch when its nodes
 * and candidates together cannot fit, or when no fitting extension can reach
 * the best average found so far (a lower bound from the fewest nodes that
 * could make up what is missing, their distances to the set and the smallest
 * pairwise distance). A per-seed lower bound on the average ends the search
 * when a greedy set reaches it; interchangeable nodes (twins: same distances,
 * CPUs, cores and free memory) are explored once. It is exact unless it runs
 * out of its work budget; the plan then says it is not proven best and how
 * far from the best it may be (struct xf__proof), and is still valid.
 */
#include <math.h>
#include <string.h>

#include "planner-internal.h"

/* Work per request past 16 nodes, in candidate steps of one to two ns:
 * with the peeling, greedy growth and bounds around it, a 64-node plan that
 * exhausts it takes about 200 us (bench/bench-planner.c). */
#define BB_BUDGET 80000u
/* Sets of the best tier remembered for the chooser past 16 nodes. */
#define TIE_CAP 64u

static bool fits_sums(const struct xf__need *need, uint64_t mem, uint32_t cpus, uint32_t cores)
{
    return mem >= need->mem_mib && cpus >= need->vcpus && cores >= need->cores;
}

/* ---- up to 16 reachable nodes: the precomputed tiers ---- */

/* Per request, computed when first needed: the reachable nodes' free memory
 * sorted (most first) with its prefix sums, and the prefix sums of the
 * chooser's placement counter sorted (least first). */
struct topk {
    uint64_t over; /* the reachable nodes the request may use */
    bool ready;
    bool counters_ready;
    uint64_t free[XF_TOPOLOGY_EXHAUSTIVE_NODES];       /* most first */
    uint64_t prefix[XF_TOPOLOGY_EXHAUSTIVE_NODES + 1]; /* sum of the k largest free */
    uint64_t low[XF_TOPOLOGY_EXHAUSTIVE_NODES + 1];    /* sum of the k least counters */
};

/* Sorts n values of v into order (descending if desc), insertion sort. */
static void sort_values(uint64_t *v, uint32_t n, bool desc)
{
    for (uint32_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        uint32_t at = i;
        while (at > 0 && (desc ? v[at - 1] < x : v[at - 1] > x)) {
            v[at] = v[at - 1];
            at--;
        }
        v[at] = x;
    }
}

static uint64_t topk_free(const struct xf_planner *p, struct topk *tk, uint32_t k)
{
    if (!tk->ready) {
        uint32_t n = 0;
        for (uint64_t m = tk->over; m; m &= m - 1)
            tk->free[n++] = p->free_mib[xf__ctz64(m)];
        sort_values(tk->free, n, true);
        tk->prefix[0] = 0;
        for (uint32_t i = 0; i < n; i++)
            tk->prefix[i + 1] = tk->prefix[i] + tk->free[i];
        for (uint32_t i = n + 1; i <= XF_TOPOLOGY_EXHAUSTIVE_NODES; i++)
            tk->prefix[i] = tk->prefix[n];
        tk->ready = true;
    }
    return tk->prefix[k];
}

/* The least sum of the mode's placement counter over k reachable nodes. */
static uint64_t least_counters(const struct xf_planner *p, struct topk *tk, uint32_t k)
{
    const uint64_t *counter = p->mode == XF_PLANNER_XENOPSD ? p->counts.total : p->counts.live;

    if (!tk->counters_ready) {
        uint64_t v[XF_TOPOLOGY_EXHAUSTIVE_NODES];
        uint32_t n = 0;
        for (uint64_t m = tk->over; m; m &= m - 1)
            v[n++] = counter[xf__ctz64(m)];
        sort_values(v, n, false);
        tk->low[0] = 0;
        for (uint32_t i = 0; i < n; i++)
            tk->low[i + 1] = tk->low[i] + v[i];
        for (uint32_t i = n + 1; i <= XF_TOPOLOGY_EXHAUSTIVE_NODES; i++)
            tk->low[i] = tk->low[n];
        tk->counters_ready = true;
    }
    return tk->low[k];
}

/*
 * The best the xenfit chooser could see in a tier, over every set size k
 * of the tier that can fit: the memory a set's worst node keeps is at most
 * the average left, floor((sum of the k largest free - memory) / k), and at
 * most the k-th largest free memory; its live placements at least the k
 * least counters; its free memory at most the k largest. A pick that
 * reaches all three cannot be beaten by a later candidate of the tier (a
 * later one has a larger mask, which loses a full tie).
 */
struct ceiling {
    uint64_t min_left, live, free;
};

static struct ceiling tier_ceiling(const struct xf_planner *p, const struct xf__need *need,
                                   const struct xf__tier *tier, struct topk *tk)
{
    struct ceiling c = {0, least_counters(p, tk, tier->min_size), topk_free(p, tk, tier->max_size)};

    for (uint32_t k = tier->min_size; k <= tier->max_size; k++) {
        uint64_t top = topk_free(p, tk, k), left;
        if (top < need->mem_mib)
            continue;
        left = (top - need->mem_mib) / k;
        if (left > tk->free[k - 1])
            left = tk->free[k - 1];
        if (left > c.min_left)
            c.min_left = left;
    }
    return c;
}

/*
 * Whether a fitting set (free memory F, k nodes) cannot beat the xenfit
 * pick, without splitting: the memory its worst node keeps is at most
 * floor((F - mem) / k) and at most ceil((F - mem) * f / F) for its least
 * free node's f (that node's share is at least floor(mem * f / F)). Below
 * the pick's, it loses; equal at best, it loses unless it has fewer live
 * placements, or as many and more free memory (a later candidate of the
 * tier has a larger mask). Multiplications only.
 */
static bool cannot_beat(const struct xf_planner *p, const struct xf__pick *pk, uint64_t nodes,
                        uint64_t F, uint64_t mem, uint32_t k)
{
    __extension__ typedef unsigned __int128 u128;
    uint64_t room = F - mem, fmin = UINT64_MAX, live = 0;
    bool tie_at_best;

    if (room < pk->min_left * k)
        return true;
    for (uint64_t m = nodes; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        if (p->free_mib[i] < fmin)
            fmin = p->free_mib[i];
        live += p->counts.live[i];
    }
    if ((u128)room * fmin <= (u128)pk->min_left * F) {
        if (pk->min_left > 0 && (u128)room * fmin <= (u128)(pk->min_left - 1) * F)
            return true;
        tie_at_best = true;
    } else {
        tie_at_best = room < (pk->min_left + 1) * k;
    }
    return tie_at_best && (live > pk->live || (live == pk->live && F <= pk->free));
}

/* The xenfit chooser over one tier: every fitting candidate that could beat
 * the pick is offered, until the pick reaches the tier's ceiling. */
static bool offer_tier_xenfit(const struct xf_planner *p, const struct xf__need *need,
                              const struct xf__tier *tier, struct topk *tk, struct xf__pick *pk)
{
    const struct xf_topology *t = p->topo;
    const uint16_t *c = t->cands + tier->first;
    const uint16_t *end = c + tier->count;
    struct ceiling ceil = {0};
    bool any = false;

    for (; c < end; c++) {
        uint64_t F, nodes;
        nodes = xf__cand_nodes(t, *c);
        if ((nodes & ~need->allowed) || xf__cand_cpus(t, *c) < need->vcpus ||
            xf__cand_cores(t, *c) < need->cores || (F = xf__set_free(p, nodes)) < need->mem_mib)
            continue;
        if (!any) {
            any = true;
            ceil = tier_ceiling(p, need, tier, tk);
        } else if (cannot_beat(p, pk, nodes, F, need->mem_mib,
                               tier->min_size == tier->max_size ? tier->min_size
                                                                : xf__popcount64(nodes))) {
            continue;
        }
        xf__pick_offer(p, need, pk, nodes);
        if (pk->min_left >= ceil.min_left && pk->live <= ceil.live && pk->free >= ceil.free)
            break;
    }
    return any;
}

/* Whether a tier has a fitting candidate; offers each to the chooser if pk. */
static bool tier_fits(const struct xf_planner *p, const struct xf__need *need,
                      const struct xf__tier *tier, struct topk *tk, struct xf__pick *pk)
{
    const struct xf_topology *t = p->topo;
    const uint16_t *c = t->cands + tier->first;
    const uint16_t *end = c + tier->count;
    bool any = false;
    uint64_t least = 0;

    if (tier->max_cpus < need->vcpus || tier->max_cores < need->cores)
        return false;
    if (tier->max_size > 1 && topk_free(p, tk, tier->max_size) < need->mem_mib)
        return false;
    if (pk && p->mode == XF_PLANNER_XENFIT)
        return offer_tier_xenfit(p, need, tier, tk, pk);
    if (pk)
        least = least_counters(p, tk, tier->min_size);
    for (; c < end; c++) {
        uint64_t nodes = xf__cand_nodes(t, *c);
        /* xenopsd's chooser: once the pick has the least usage any set of
         * the tier can have, only a smaller mask could beat it, and the
         * candidates come in ascending mask order. */
        if (pk && pk->have && pk->usage <= least && nodes > pk->nodes)
            break;
        if ((nodes & ~need->allowed) || xf__cand_cpus(t, *c) < need->vcpus ||
            xf__cand_cores(t, *c) < need->cores || xf__set_free(p, nodes) < need->mem_mib)
            continue;
        if (!pk)
            return true;
        any = true;
        xf__pick_offer(p, need, pk, nodes);
    }
    return any;
}

static bool search_tiers(const struct xf_planner *p, const struct xf__need *need,
                         struct xf__pick *pk)
{
    const struct xf_topology *t = p->topo;
    struct topk tk = {.over = t->reachable & need->allowed};

    for (uint32_t i = 0; i < t->nr_tiers; i++) {
        if (!tier_fits(p, need, &t->tiers[i], &tk, pk))
            continue;
        if (p->mode == XF_PLANNER_XENOPSD) {
            /* Softaffinity.plan's take_same_distance: after the first fitting
             * candidate, keep the fitting ones whose average is within 1e-3 of
             * its average, up to the first fitting one whose is not. */
            double first = xf__tier_avg(&t->tiers[i]);
            for (uint32_t j = i + 1; j < t->nr_tiers; j++) {
                if (fabs(xf__tier_avg(&t->tiers[j]) - first) < 1e-3)
                    tier_fits(p, need, &t->tiers[j], &tk, pk);
                else if (tier_fits(p, need, &t->tiers[j], &tk, NULL))
                    break;
            }
        }
        return true;
    }
    return false;
}

/* ---- past 16 reachable nodes: single nodes (all that xenopsd tries) ---- */

static bool search_singles(const struct xf_planner *p, const struct xf__need *need,
                           struct xf__pick *pk)
{
    const struct xf_topology *t = p->topo;

    for (uint64_t m = t->reachable & need->allowed; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        if (fits_sums(need, p->free_mib[i], t->node_cpus[i], t->node_cores[i]))
            xf__pick_offer(p, need, pk, UINT64_C(1) << i);
    }
    return pk->have;
}

/* ---- past 16 reachable nodes, xenfit mode: cliques by distance threshold ---- */

struct bb {
    const struct xf_planner *p;
    const struct xf_topology *t;
    const struct xf__need *need;
    const uint64_t *adj;   /* thr_adj of the current threshold */
    const uint64_t *twins; /* per node: its interchangeable nodes (twins()) */
    uint64_t budget;
    bool exhausted;
    bool have;
    uint32_t best_max;
    uint32_t best_sum;
    uint32_t best_k;
    uint32_t nr_ties;
    uint64_t ties[TIE_CAP];
};

/* Spends work from the budget; false (and exhausted) once it is gone. */
static bool charge(struct bb *b, uint64_t work)
{
    if (b->budget < work) {
        b->budget = 0;
        b->exhausted = true;
        return false;
    }
    b->budget -= work;
    return true;
}

static bool union_fits(const struct bb *b, uint64_t nodes)
{
    return xf__set_fits(b->p, b->need, nodes);
}

/* The remaining nodes whose neighbourhood (among the remaining) fits. */
static uint64_t peel(const struct bb *b, uint32_t ti)
{
    const uint64_t *adj = b->t->thr_adj + (size_t)ti * XF_MAX_NODES;
    uint64_t alive = b->t->reachable & b->need->allowed, recheck = alive;

    /* A worklist of nodes to look at again: removing a node can only starve
     * its neighbours. */
    while (recheck) {
        unsigned i = xf__ctz64(recheck);
        recheck &= recheck - 1;
        if (!union_fits(b, adj[i] & alive)) {
            alive &= ~(UINT64_C(1) << i);
            recheck |= adj[i] & alive;
        }
    }
    return alive;
}

static void record(struct bb *b, uint64_t set, uint32_t maxd, uint32_t sum, uint32_t k)
{
    uint64_t lhs = (uint64_t)sum * b->best_k * b->best_k;
    uint64_t rhs = (uint64_t)b->best_sum * k * k;

    if (!b->have || maxd < b->best_max || (maxd == b->best_max && lhs < rhs)) {
        b->have = true;
        b->best_max = maxd;
        b->best_sum = sum;
        b->best_k = k;
        b->ties[0] = set;
        b->nr_ties = 1;
    } else if (maxd == b->best_max && lhs == rhs && b->nr_ties < TIE_CAP) {
        for (uint32_t i = 0; i < b->nr_ties; i++)
            if (b->ties[i] == set)
                return; /* greedy found it first */
        b->ties[b->nr_ties++] = set;
    }
}

struct state {
    uint64_t set;
    uint32_t k;
    uint32_t sum;
    uint32_t maxd;
    uint64_t mem;
    uint32_t cpus;
    uint32_t cores;
};

/* Orders candidates: closest to the set first, then most free memory, then
 * the lower node. Returns how many. */
static uint32_t order_cands(const struct bb *b, uint64_t cand, const uint32_t *cd,
                            uint8_t order[XF_MAX_NODES])
{
    const uint64_t *free_mib = b->p->free_mib;
    uint32_t n = 0;

    for (uint64_t m = cand; m; m &= m - 1) {
        uint8_t j = (uint8_t)xf__ctz64(m);
        uint32_t at = n++;
        while (at > 0) {
            uint8_t o = order[at - 1];
            if (cd[o] < cd[j] || (cd[o] == cd[j] && free_mib[o] >= free_mib[j]))
                break;
            order[at] = o;
            at--;
        }
        order[at] = j;
    }
    return n;
}

/*
 * Pruning by the average. A fitting proper superset of the set adds m >= m_min
 * nodes from cand, where m_min is the fewest that could make up its missing
 * memory, CPUs and cores (each new node brings at most the largest amount
 * among cand). Its distance sum is at least sum + 10 m + (the m smallest cd)
 * + m(m-1)/2 * dsym_min: each new node adds itself, its distances to the set,
 * and each new pair at least the smallest pairwise sum. cut_by_average()
 * says whether no such m can reach the best average (or, once the ties are
 * full, only equal it); `smallest` gives the m smallest cd (a bound or the
 * exact prefix of the ordered candidates).
 */
struct ext {
    uint32_t m_min;
    uint32_t n;
    uint32_t cmin;
    bool impossible; /* the set and all its candidates together do not fit */
    uint64_t mem;    /* the candidates' free memory, CPUs and cores */
    uint32_t cpus;
    uint32_t cores;
};

static struct ext extension(const struct bb *b, const struct state *s, uint64_t cand,
                            const uint32_t *cd)
{
    const struct xf_topology *t = b->t;
    const struct xf__need *need = b->need;
    struct ext e = {.m_min = 1, .cmin = UINT32_MAX};
    uint64_t max_free = 0;
    uint32_t max_cpus = 0, max_cores = 0;

    for (uint64_t m = cand; m; m &= m - 1) {
        unsigned j = xf__ctz64(m);
        e.n++;
        e.cmin = cd[j] < e.cmin ? cd[j] : e.cmin;
        max_free = b->p->free_mib[j] > max_free ? b->p->free_mib[j] : max_free;
        max_cpus = t->node_cpus[j] > max_cpus ? t->node_cpus[j] : max_cpus;
        max_cores = t->node_cores[j] > max_cores ? t->node_cores[j] : max_cores;
        e.mem += b->p->free_mib[j];
        e.cpus += t->node_cpus[j];
        e.cores += t->node_cores[j];
    }
    if (!fits_sums(need, s->mem + e.mem, s->cpus + e.cpus, s->cores + e.cores))
        e.impossible = true;
    if (s->mem < need->mem_mib) {
        uint64_t miss = need->mem_mib - s->mem;
        if (!max_free || (miss + max_free - 1) / max_free > e.n)
            e.impossible = true;
        else if ((miss + max_free - 1) / max_free > e.m_min)
            e.m_min = (uint32_t)((miss + max_free - 1) / max_free);
    }
    if (s->cpus < need->vcpus) {
        uint32_t miss = need->vcpus - s->cpus;
        if (!max_cpus || (miss + max_cpus - 1) / max_cpus > e.n)
            e.impossible = true;
        else if ((miss + max_cpus - 1) / max_cpus > e.m_min)
            e.m_min = (miss + max_cpus - 1) / max_cpus;
    }
    if (s->cores < need->cores) {
        uint32_t miss = need->cores - s->cores;
        if (!max_cores || (miss + max_cores - 1) / max_cores > e.n)
            e.impossible = true;
        else if ((miss + max_cores - 1) / max_cores > e.m_min)
            e.m_min = (miss + max_cores - 1) / max_cores;
    }
    return e;
}

/* With `order` NULL the m smallest cd are bounded by m * cmin. */
static bool cut_by_average(const struct bb *b, const struct state *s, const struct ext *e,
                           const uint32_t *cd, const uint8_t *order)
{
    uint64_t bk2 = (uint64_t)b->best_k * b->best_k, smallest = 0;
    bool ties_open = b->nr_ties < TIE_CAP;

    for (uint32_t m = 1; m <= e->n; m++) {
        smallest += order ? cd[order[m - 1]] : e->cmin;
        if (m < e->m_min)
            continue;
        uint64_t lb = s->sum + (uint64_t)m * XF_SLIT_LOCAL + smallest +
                      (uint64_t)m * (m - 1) / 2 * b->t->dsym_min;
        uint64_t lhs = lb * bk2, rhs = (uint64_t)b->best_sum * (s->k + m) * (s->k + m);
        if (lhs < rhs || (lhs == rhs && ties_open))
            return false;
    }
    return true;
}

static struct state grow(const struct bb *b, const struct state *s, unsigned j, const uint32_t *cd,
                         const uint16_t *cm)
{
    const struct xf_topology *t = b->t;
    struct state n = {
        .set = s->set | UINT64_C(1) << j,
        .k = s->k + 1,
        .sum = s->sum + XF_SLIT_LOCAL + cd[j],
        .maxd = s->maxd > cm[j] ? s->maxd : cm[j],
        .mem = s->mem + b->p->free_mib[j],
        .cpus = s->cpus + t->node_cpus[j],
        .cores = s->cores + t->node_cores[j],
    };
    return n;
}

/* cd[x] = sum of dsym to the set, cm[x] = max of dmax to it, for x in cand. */
static void dfs(struct bb *b, const struct state *s, uint64_t cand, const uint32_t *cd,
                const uint16_t *cm)
{
    const struct xf_topology *t = b->t;
    uint8_t order[XF_MAX_NODES];
    uint32_t ncd[XF_MAX_NODES];
    uint16_t ncm[XF_MAX_NODES];
    bool fits;
    uint64_t rest = cand;

    if (!charge(b, 1))
        return;
    fits = fits_sums(b->need, s->mem, s->cpus, s->cores);
    if (fits)
        record(b, s->set, s->maxd, s->sum, s->k);
    if (!cand)
        return;
    struct ext e = extension(b, s, cand, cd);
    if (!charge(b, e.n) || e.impossible || (b->have && cut_by_average(b, s, &e, cd, NULL)))
        return;
    if (!charge(b, (uint64_t)e.n * e.n / 4))
        return;
    uint32_t n = order_cands(b, cand, cd, order);
    e.n = n; /* the same count of cand; tells the analyzer order[0..e.n) is set */
    if (b->have && cut_by_average(b, s, &e, cd, order))
        return;
    for (uint32_t o = 0; o < n; o++) {
        unsigned j = order[o];
        if (!(rest >> j & 1u))
            continue; /* a twin of an earlier sibling */
        /* The later siblings choose among what is left: stop once the set
         * and that cannot fit. */
        if (!fits && !fits_sums(b->need, s->mem + e.mem, s->cpus + e.cpus, s->cores + e.cores))
            return;
        e.mem -= b->p->free_mib[j];
        e.cpus -= t->node_cpus[j];
        e.cores -= t->node_cores[j];
        rest &= ~(UINT64_C(1) << j);
        uint64_t nc = rest & b->adj[j];
        if (!charge(b, 4 + xf__popcount64(nc)))
            return;
        for (uint64_t m = nc; m; m &= m - 1) {
            unsigned x = xf__ctz64(m);
            ncd[x] = cd[x] + t->dsym[x][j];
            ncm[x] = cm[x] > t->dmax[x][j] ? cm[x] : t->dmax[x][j];
        }
        struct state child = grow(b, s, j, cd, cm);
        dfs(b, &child, nc, ncd, ncm);
        if (b->exhausted)
            return;
        if (b->twins[j] & rest) {
            /* A set with a twin y of j but not j is, swapped, one with j
             * but not y, found under j: leave y out of the later siblings. */
            for (uint64_t m = b->twins[j] & rest; m; m &= m - 1) {
                unsigned y = xf__ctz64(m);
                e.mem -= b->p->free_mib[y];
                e.cpus -= t->node_cpus[y];
                e.cores -= t->node_cores[y];
            }
            rest &= ~b->twins[j];
        }
    }
}

/* The seeds in order of free memory (most first), then node number. */
static uint32_t order_seeds(const struct xf_planner *p, uint64_t e, uint8_t order[XF_MAX_NODES])
{
    uint32_t n = 0;

    for (uint64_t m = e; m; m &= m - 1) {
        uint8_t j = (uint8_t)xf__ctz64(m);
        uint32_t at = n++;
        while (at > 0 && p->free_mib[order[at - 1]] < p->free_mib[j]) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = j;
    }
    return n;
}

static void seed_state(const struct bb *b, unsigned s, uint64_t cand, struct state *st,
                       uint32_t *cd, uint16_t *cm)
{
    const struct xf_topology *t = b->t;

    st->set = UINT64_C(1) << s;
    st->k = 1;
    st->sum = XF_SLIT_LOCAL;
    st->maxd = XF_SLIT_LOCAL;
    st->mem = b->p->free_mib[s];
    st->cpus = t->node_cpus[s];
    st->cores = t->node_cores[s];
    for (uint64_t m = cand; m; m &= m - 1) {
        unsigned x = xf__ctz64(m);
        cd[x] = t->dsym[x][s];
        cm[x] = t->dmax[x][s];
    }
}

/* Grows a set greedily from every seed, the closest node first (then the
 * most free memory, then the lower node), until it fits: a first answer that
 * gives the branch and bound an incumbent to cut against, and the answer when
 * the budget runs out. */
/* Grows a set from `seed` greedily among e until it fits or nothing is
 * left; returns whether it fits (the set in *st). */
static bool grow_greedy(const struct bb *b, uint64_t e, unsigned seed, struct state *st)
{
    const struct xf_topology *t = b->t;
    const uint64_t *free_mib = b->p->free_mib;
    uint32_t cd[XF_MAX_NODES];
    uint16_t cm[XF_MAX_NODES];
    uint64_t cand = b->adj[seed] & e & ~(UINT64_C(1) << seed);

    seed_state(b, seed, cand, st, cd, cm);
    while (!fits_sums(b->need, st->mem, st->cpus, st->cores) && cand) {
        unsigned j = xf__ctz64(cand);
        for (uint64_t m = cand & (cand - 1); m; m &= m - 1) {
            unsigned x = xf__ctz64(m);
            if (cd[x] < cd[j] || (cd[x] == cd[j] && free_mib[x] > free_mib[j]))
                j = x;
        }
        *st = grow(b, st, j, cd, cm);
        cand &= b->adj[j] & ~(UINT64_C(1) << j);
        for (uint64_t m = cand; m; m &= m - 1) {
            unsigned x = xf__ctz64(m);
            cd[x] += t->dsym[x][j];
            cm[x] = cm[x] > t->dmax[x][j] ? cm[x] : t->dmax[x][j];
        }
    }
    return fits_sums(b->need, st->mem, st->cpus, st->cores);
}

/* Grows a set greedily from every seed, the closest node first (then the
 * most free memory, then the lower node), until it fits: a first answer that
 * gives the branch and bound an incumbent to cut against, and the answer when
 * the budget runs out. */
static void greedy(struct bb *b, uint64_t e, const uint8_t *seeds, uint32_t nr_seeds)
{
    uint64_t seen = 0;

    for (uint32_t i = 0; i < nr_seeds; i++) {
        struct state st;
        if (seen >> seeds[i] & 1u)
            continue; /* a twin's growth is this one's, swapped */
        seen |= b->twins[seeds[i]];
        if (grow_greedy(b, e, seeds[i], &st))
            record(b, st.set, st.maxd, st.sum, st.k);
    }
}

/* A lower bound, num / den, on the average of any fitting set at the
 * current threshold that contains seed s among the nodes e: as
 * cut_by_average's, with each new node's distances to s at least the
 * smallest. UINT64_MAX / 1 if no fitting set contains s. */
static void seed_bound(const struct bb *b, uint64_t e, unsigned seed, uint64_t *ret_num,
                       uint64_t *ret_den)
{
    uint32_t cd[XF_MAX_NODES];
    uint16_t cm[XF_MAX_NODES];
    struct state st;
    uint64_t cand = b->adj[seed] & e & ~(UINT64_C(1) << seed);

    *ret_num = UINT64_MAX;
    *ret_den = 1;
    seed_state(b, seed, cand, &st, cd, cm);
    if (fits_sums(b->need, st.mem, st.cpus, st.cores)) {
        *ret_num = XF_SLIT_LOCAL;
        return;
    }
    struct ext x = extension(b, &st, cand, cd);
    if (x.impossible)
        return;
    for (uint32_t m = x.m_min; m <= x.n; m++) {
        uint64_t num = st.sum + (uint64_t)m * XF_SLIT_LOCAL + (uint64_t)m * x.cmin +
                       (uint64_t)m * (m - 1) / 2 * b->t->dsym_min;
        uint64_t den = (uint64_t)(1 + m) * (1 + m);
        if (*ret_num == UINT64_MAX || num * *ret_den < *ret_num * den) {
            *ret_num = num;
            *ret_den = den;
        }
    }
}

/* The least seed_bound over the seeds. */
static void threshold_bound(const struct bb *b, uint64_t e, const uint8_t *seeds, uint32_t n,
                            uint64_t *ret_num, uint64_t *ret_den)
{
    *ret_num = UINT64_MAX;
    *ret_den = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t num, den;
        seed_bound(b, e, seeds[i], &num, &den);
        if (num != UINT64_MAX && (*ret_num == UINT64_MAX || num * *ret_den < *ret_num * den)) {
            *ret_num = num;
            *ret_den = den;
        }
    }
}

/* Per node, its twins (topology.twins) with the same free memory now. */
static void request_twins(const struct xf_planner *p, uint64_t ret[XF_MAX_NODES])
{
    const struct xf_topology *t = p->topo;

    for (uint64_t m = t->reachable; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        ret[i] = 0;
        for (uint64_t r = t->twins[i]; r; r &= r - 1)
            if (p->free_mib[xf__ctz64(r)] == p->free_mib[i])
                ret[i] |= UINT64_C(1) << xf__ctz64(r);
    }
}

/* Whether the greedy growth from some node finds a fitting set at
 * threshold ti (it stops at the first). */
static bool greedy_fits(const struct bb *b, uint32_t ti)
{
    struct bb probe = *b;
    uint64_t e = peel(b, ti);

    probe.adj = b->t->thr_adj + (size_t)ti * XF_MAX_NODES;
    for (uint64_t m = e; m; m &= m - 1) {
        struct state st;
        if (grow_greedy(&probe, e, xf__ctz64(m), &st))
            return true;
    }
    return false;
}

/* Out of budget with nothing found below `from`: the first threshold in
 * [from, last] where the greedy growth fits, by bisection (more distance
 * only adds neighbours; at worst it is `last`, and the plan says how far
 * from the best it may be). */
static uint32_t first_greedy_threshold(const struct bb *b, uint32_t from, uint32_t last)
{
    uint32_t lo = from, hi = last;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (greedy_fits(b, mid))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static bool search_cliques(const struct xf_planner *p, const struct xf__need *need,
                           struct xf__pick *pk, struct xf__proof *proof)
{
    const struct xf_topology *t = p->topo;
    uint64_t twins[XF_MAX_NODES] = {0};
    struct bb b = {.p = p, .t = t, .need = need, .budget = BB_BUDGET, .twins = twins};
    uint32_t lo = 0, hi = t->nr_thr - 1;

    proof->exhaustive = true;
    if (!peel(&b, hi))
        return false;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (peel(&b, mid))
            hi = mid;
        else
            lo = mid + 1;
    }
    /* No set with a smaller max fits: peeling keeps every node of one. */
    proof->lb_max = t->thr[lo];
    request_twins(p, twins);
    for (uint32_t ti = lo; ti < t->nr_thr && !b.have; ti++) {
        if (b.exhausted && ti + 1 < t->nr_thr)
            ti = first_greedy_threshold(&b, ti, t->nr_thr - 1);
        uint64_t e = peel(&b, ti), done = 0, lb_num, lb_den;
        uint8_t seeds[XF_MAX_NODES];
        uint32_t cd[XF_MAX_NODES];
        uint16_t cm[XF_MAX_NODES];
        uint32_t n = order_seeds(p, e, seeds);

        b.adj = t->thr_adj + (size_t)ti * XF_MAX_NODES;
        if (!b.exhausted)
            (void)charge(&b, (uint64_t)n * n);
        greedy(&b, e, seeds, n);
        if (b.exhausted && !b.have)
            continue; /* the bound is wanted where a set is found */
        threshold_bound(&b, e, seeds, n, &lb_num, &lb_den);
        proof->lb_avg_num = lb_num;
        proof->lb_avg_den = lb_den;
        /* A greedy set as good as the bound is the best: done. */
        if (b.have && lb_num != UINT64_MAX &&
            (uint64_t)b.best_sum * lb_den <= lb_num * b.best_k * b.best_k)
            break;
        for (uint32_t i = 0; i < n && !b.exhausted; i++) {
            struct state st;
            if (done >> seeds[i] & 1u)
                continue; /* a twin of an earlier seed: its sets were seen */
            uint64_t cand = b.adj[seeds[i]] & e & ~done & ~(UINT64_C(1) << seeds[i]);
            seed_state(&b, seeds[i], cand, &st, cd, cm);
            dfs(&b, &st, cand, cd, cm);
            done |= UINT64_C(1) << seeds[i] | twins[seeds[i]];
        }
        if (b.exhausted)
            proof->exhaustive = false;
    }
    for (uint32_t i = 0; i < b.nr_ties; i++)
        xf__pick_offer(p, need, pk, b.ties[i]);
    return b.have;
}

bool xf__plan_search(const struct xf_planner *p, const struct xf__need *need, struct xf__pick *pk,
                     struct xf__proof *ret_proof)
{
    const struct xf_topology *t = p->topo;

    memset(ret_proof, 0, sizeof(*ret_proof));
    ret_proof->exhaustive = true;
    if (t->nr_reachable <= XF_TOPOLOGY_EXHAUSTIVE_NODES)
        return search_tiers(p, need, pk);
    if (p->mode == XF_PLANNER_XENOPSD) {
        /* A single node (max and average 10) is the best tier there is;
         * when none fits, larger sets were not tried. */
        ret_proof->exhaustive = search_singles(p, need, pk);
        return ret_proof->exhaustive;
    }
    /* Without two nodes 10 apart the single nodes are the best tier alone. */
    if (!t->local_pairs && search_singles(p, need, pk))
        return true;
    return search_cliques(p, need, pk, ret_proof);
}
