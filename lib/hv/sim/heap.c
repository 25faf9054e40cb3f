/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The simulator's heap: per-node free pages in a normal and a DMA zone, and
 * the allocation of one extent as Xen does it (xen/common/page_alloc.c):
 *
 * - alloc_domheap_pages() first asks for memory above the DMA zone on every
 *   node, and only then for any zone: the DMA zone is used last (xenbed
 *   NUMA finding 3).
 * - alloc_heap_pages() refuses a request of 2^order pages when
 *   outstanding_claims + request > total_avail_pages, unless the domain's own
 *   outstanding claim covers all of it and the allocation counts towards its
 *   pages (not MEMF_no_refcount: the paging pool and hypervisor-internal
 *   pages never use a claim).
 * - get_free_buddy() starts at the node hint, else cycles from the domain's
 *   last allocation node over its node affinity, then tries the other nodes
 *   unless MEMF_exact_node; it first looks for clean memory (an order-0
 *   request takes a dirty page at once), then for dirty memory, which costs
 *   scrub time. With node claims it skips a node whose unclaimed memory is
 *   too small (the claiming domain may count its own claim on its node).
 * - 4.22 semantics consume min(claim, request) in the same locked region,
 *   and only on the claimed node for a node claim.
 *
 * Memory is counted, not mapped: buddy fragmentation is not modelled.
 */
#include "sim-internal.h"
#include "xenfit/error.h"

static inline uint32_t first_node(uint64_t mask)
{
    return mask ? (uint32_t)__builtin_ctzll(mask) : XF_MAX_NODES;
}

static inline uint32_t next_node(uint32_t node, uint64_t mask)
{
    uint64_t above = node + 1 >= XF_MAX_NODES ? 0 : mask & (~UINT64_C(0) << (node + 1));
    return first_node(above);
}

/* cycle_node(): the next node of the mask after `node`, wrapping. */
static inline uint32_t cycle_node(uint32_t node, uint64_t mask)
{
    uint32_t next = next_node(node, mask);
    return next < XF_MAX_NODES ? next : first_node(mask);
}

static inline bool node_in(uint32_t node, uint64_t mask)
{
    return node < XF_MAX_NODES && (mask >> node) & 1u;
}

/* Can zone z of node n give 2^order pages in this pass? */
static inline bool zone_fits(const struct sim_node *n, int z, uint64_t req, uint32_t order,
                             bool dirty_ok)
{
    uint64_t avail = n->clean[z] + n->dirty[z];
    if (avail < req)
        return false;
    /* Clean buddies sit at the head of Xen's free lists, dirty ones at the
     * tail; an order-0 request takes whatever is at the head. */
    return dirty_ok || order == 0 || n->clean[z] >= req;
}

/* Can online node `node` give 2^order pages in this pass: enough memory
 * that is not claimed (the claiming domain may count its own claim on its
 * node), then a zone up to last_zone that fits? Writes the zone. */
static bool node_gives(const struct xf_sim *s, const struct sim_domain *d,
                       const struct sim_alloc *a, uint32_t node, int last_zone, bool dirty_ok,
                       int *ret_zone)
{
    uint64_t req = UINT64_C(1) << a->order, unclaimed;
    const struct sim_node *n;

    if (!node_in(node, s->online_mask))
        return false;
    n = &s->nodes[node];
    unclaimed = n->avail > n->claimed ? n->avail - n->claimed : 0;
    if (d && d->claim_node == node && a->refcount)
        unclaimed += d->outstanding;
    if (unclaimed < req)
        return false;
    for (int z = SIM_ZONE_NORMAL; z <= last_zone; z++) {
        if (zone_fits(n, z, req, a->order, dirty_ok)) {
            *ret_zone = z;
            return true;
        }
    }
    return false;
}

/* get_free_buddy()'s walk over the nodes: from the first, around `mask`,
 * then once around the online nodes outside it. */
struct walk {
    uint64_t mask;
    uint32_t node, first;
    bool retried;
};

/* Moves the walk to the next node to try; false when it is over. */
static bool walk_next(const struct xf_sim *s, const struct sim_alloc *a, struct walk *w)
{
    if (a->exact && a->node != XF_NODE_ANY)
        return false;
    if (!node_in(w->node, w->mask)) {
        /* A hint outside the mask: continue with the mask's first node. */
        w->first = w->node = first_node(w->mask);
        return w->node < XF_MAX_NODES;
    }
    w->node = cycle_node(w->node, w->mask);
    if (w->node != w->first)
        return true;
    /* All of the mask tried: fall back to the other nodes once. */
    if (a->exact || w->retried)
        return false;
    w->retried = true;
    w->mask = s->online_mask & ~w->mask;
    w->first = w->node = first_node(w->mask);
    return w->node < XF_MAX_NODES;
}

/* get_free_buddy(): returns the node and zone, or false. The walk starts at
 * the node hint, else after the domain's last allocation node, over its node
 * affinity (all online nodes when it has none online). */
static bool find_buddy(const struct xf_sim *s, const struct sim_domain *d,
                       const struct sim_alloc *a, int last_zone, bool dirty_ok, uint32_t *ret_node,
                       int *ret_zone)
{
    struct walk w = {.mask = s->online_mask, .node = a->node};

    if (d && (d->affinity & w.mask))
        w.mask &= d->affinity;
    if (w.node == XF_NODE_ANY)
        w.node = d ? cycle_node(d->last_alloc_node, w.mask) : first_node(w.mask);
    w.first = w.node;
    do {
        if (node_gives(s, d, a, w.node, last_zone, dirty_ok, ret_zone)) {
            *ret_node = w.node;
            return true;
        }
    } while (walk_next(s, a, &w));
    return false;
}

int xf__sim_heap_alloc(struct xf_sim *s, struct sim_domain *d, const struct sim_alloc *a,
                       uint32_t *ret_node, uint64_t *ret_dma)
{
    uint64_t req = UINT64_C(1) << a->order, clean, dirty;
    uint32_t node;
    int zone;
    struct sim_node *n;

    /* The claims gate (alloc_heap_pages). */
    if (s->outstanding + req > s->total_avail && (!a->refcount || !d || d->outstanding < req)) {
        s->stats.gate_refusals++;
        return XF_ENOMEM;
    }
    /* Above the DMA zone first, clean then dirty; then every zone. */
    if (!find_buddy(s, d, a, SIM_ZONE_NORMAL, false, &node, &zone) &&
        !find_buddy(s, d, a, SIM_ZONE_NORMAL, true, &node, &zone) &&
        !find_buddy(s, d, a, SIM_ZONE_DMA, false, &node, &zone) &&
        !find_buddy(s, d, a, SIM_ZONE_DMA, true, &node, &zone))
        return XF_ENOMEM;

    n = &s->nodes[node];
    clean = n->clean[zone] < req ? n->clean[zone] : req;
    dirty = req - clean;
    n->clean[zone] -= clean;
    n->dirty[zone] -= dirty;
    n->avail -= req;
    s->total_avail -= req;
    s->op_cost_ns += dirty * s->spec.timing.scrub_page_ns;
    s->stats.scrubbed_pages += dirty;
    if (zone == SIM_ZONE_DMA)
        s->stats.dma_pages_taken += req;

    if (d && d->outstanding && a->refcount && s->spec.claim_semantics == XF_SIM_CLAIMS_4_22 &&
        (d->claim_node == XF_NODE_ANY || d->claim_node == node)) {
        uint64_t c = d->outstanding < req ? d->outstanding : req;
        s->outstanding -= c;
        d->outstanding -= c;
        if (d->claim_node != XF_NODE_ANY) {
            n->claimed -= c;
            /* The series resets claim_node when the claim is depleted; its
             * test reads d->outstanding_pages before the subtraction, which
             * never fires there, so the intent is followed here. */
            if (d->outstanding == 0)
                d->claim_node = XF_NODE_ANY;
        }
    }
    if (d)
        d->last_alloc_node = node;
    *ret_node = node;
    *ret_dma = zone == SIM_ZONE_DMA ? req : 0;
    return 0;
}

void xf__sim_heap_free(struct xf_sim *s, uint32_t node, uint64_t pages, uint64_t dma, bool dirty)
{
    struct sim_node *n = &s->nodes[node];
    uint64_t *normal = dirty ? &n->dirty[SIM_ZONE_NORMAL] : &n->clean[SIM_ZONE_NORMAL];
    uint64_t *low = dirty ? &n->dirty[SIM_ZONE_DMA] : &n->clean[SIM_ZONE_DMA];

    *normal += pages - dma;
    *low += dma;
    n->avail += pages;
    s->total_avail += pages;
}

static uint64_t *cat_total(struct sim_domain *d, int cat)
{
    return cat == SIM_CAT_GUEST  ? &d->tot_pages
           : cat == SIM_CAT_POOL ? &d->pool_pages
                                 : &d->hidden_pages;
}

uint64_t xf__sim_domain_free(struct xf_sim *s, struct sim_domain *d, int cat, uint64_t pages,
                             bool dirty)
{
    uint64_t left = pages;

    for (uint32_t node = s->spec.nr_nodes; left && node-- > 0;) {
        uint64_t take = d->pages[cat][node] < left ? d->pages[cat][node] : left;
        uint64_t dma = 0;
        if (!take)
            continue;
        if (node == 0) {
            /* The DMA-zone pages go last. */
            uint64_t normal = d->pages[cat][0] - d->dma_pages[cat];
            dma = take > normal ? take - normal : 0;
            d->dma_pages[cat] -= dma;
        }
        d->pages[cat][node] -= take;
        xf__sim_heap_free(s, node, take, dma, dirty);
        left -= take;
    }
    *cat_total(d, cat) -= pages - left;
    return pages - left;
}

int xf__sim_alloc_unclaimed(struct xf_sim *s, struct sim_domain *d, int cat, uint64_t n,
                            bool keep_partial)
{
    const struct sim_alloc a = {.order = 0, .node = XF_NODE_ANY, .refcount = false};
    uint64_t got = 0, dma;
    uint32_t node;
    int r = 0;

    for (; got < n; got++) {
        if ((r = xf__sim_heap_alloc(s, d, &a, &node, &dma)) < 0)
            break;
        d->pages[cat][node]++;
        if (node == 0)
            d->dma_pages[cat] += dma;
    }
    *cat_total(d, cat) += got;
    s->op_cost_ns += got * s->spec.timing.page_ns;
    /* Unwinding: the pages were scrubbed when taken and never used, so they
     * go back clean. */
    if (r < 0 && !keep_partial)
        (void)xf__sim_domain_free(s, d, cat, got, false);
    return r;
}

void xf__sim_idle_scrub(struct xf_sim *s)
{
    uint64_t rate = s->spec.timing.idle_scrub_pages_per_s;
    uint64_t elapsed = s->now_ns - s->last_scrub_ns;

    s->last_scrub_ns = s->now_ns;
    if (!rate || !elapsed)
        return;
    for (uint32_t i = 0; i < s->spec.nr_nodes; i++) {
        struct sim_node *n = &s->nodes[i];
        uint64_t dirty = n->dirty[SIM_ZONE_NORMAL] + n->dirty[SIM_ZONE_DMA], pages;
        if (!dirty) {
            n->scrub_budget_ns = 0; /* an idle scrubber cannot bank time */
            continue;
        }
        n->scrub_budget_ns += elapsed;
        pages = (uint64_t)((unsigned __int128)n->scrub_budget_ns * rate / XF__NS_PER_S);
        if (pages >= dirty) {
            pages = dirty;
            n->scrub_budget_ns = 0;
        } else {
            n->scrub_budget_ns -= (uint64_t)((unsigned __int128)pages * XF__NS_PER_S / rate);
        }
        for (int z = SIM_ZONE_NORMAL; z < SIM_NR_ZONES && pages; z++) {
            uint64_t t = n->dirty[z] < pages ? n->dirty[z] : pages;
            n->dirty[z] -= t;
            n->clean[z] += t;
            pages -= t;
        }
    }
}
