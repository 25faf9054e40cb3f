/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Simulated balloon drivers (include/xenfit/sim.h, "Balloon drivers"): the
 * xenstore keys a ballooning toolstack reads and writes (xen-api e2ee48d6883e
 * ocaml/squeezed/src/squeeze_xen.ml: control/feature-balloon, memory/target,
 * memory/dynamic-min, memory/dynamic-max, memory/memory-offset) and the
 * guest's driver, which moves tot_pages towards target + offset as time
 * passes.
 *
 * A Linux balloon driver gives pages back with XENMEM_decrease_reservation
 * and takes them with XENMEM_populate_physmap: freed pages return to the
 * heap of the node they sat on (dirty), and new ones come from the
 * allocator with the domain's node affinity, through the claims gate and
 * max_pages like any allocation. The driver runs only while the domain runs.
 */
#include <string.h>

#include "sim-internal.h"
#include "xenfit/error.h"

/* Frees `take` guest pages of d on one node (its DMA-zone pages last). */
static void free_on_node(struct xf_sim *s, struct sim_domain *d, uint32_t node, uint64_t take)
{
    uint64_t dma = 0;

    if (node == 0) {
        uint64_t normal = d->pages[SIM_CAT_GUEST][0] - d->dma_pages[SIM_CAT_GUEST];
        dma = take > normal ? take - normal : 0;
        d->dma_pages[SIM_CAT_GUEST] -= dma;
    }
    d->pages[SIM_CAT_GUEST][node] -= take;
    d->tot_pages -= take;
    xf__sim_heap_free(s, node, take, dma, true);
}

/* Gives back k guest pages, from each node in proportion to what it holds
 * there. */
static void balloon_down(struct xf_sim *s, struct sim_domain *d, uint64_t k)
{
    uint64_t share[XF_MAX_NODES] = {0}, sum = 0, total = d->tot_pages;

    if (k > total)
        k = total;
    if (!k)
        return;
    for (uint32_t n = 0; n < s->spec.nr_nodes; n++) {
        share[n] = (uint64_t)((unsigned __int128)d->pages[SIM_CAT_GUEST][n] * k / total);
        sum += share[n];
    }
    /* The rounding remainder (fewer pages than nodes) one page a node,
     * from a rover, so that no node is favoured over many small steps. */
    for (uint32_t i = 0; sum < k && i < 2 * s->spec.nr_nodes; i++) {
        uint32_t n = d->bal.rover++ % s->spec.nr_nodes;
        if (d->pages[SIM_CAT_GUEST][n] > share[n]) {
            share[n]++;
            sum++;
        }
    }
    for (uint32_t n = 0; sum < k && n < s->spec.nr_nodes; n++) {
        uint64_t room = d->pages[SIM_CAT_GUEST][n] - share[n];
        uint64_t more = room < k - sum ? room : k - sum;
        share[n] += more;
        sum += more;
    }
    for (uint32_t n = 0; n < s->spec.nr_nodes; n++)
        if (share[n])
            free_on_node(s, d, n, share[n]);
    xf__sim_claim_on_free(s, d, k);
}

/* Takes up to k pages; stops at max_pages or when the heap refuses. */
static void balloon_up(struct xf_sim *s, struct sim_domain *d, uint64_t k)
{
    const struct sim_alloc a = {.order = 0, .node = XF_NODE_ANY, .refcount = true};
    uint64_t dma;
    uint32_t node;

    for (uint64_t i = 0; i < k && d->tot_pages < d->max_pages; i++) {
        if (xf__sim_heap_alloc(s, d, &a, &node, &dma) < 0)
            break;
        d->pages[SIM_CAT_GUEST][node]++;
        if (node == 0)
            d->dma_pages[SIM_CAT_GUEST] += dma;
        d->tot_pages++;
        xf__sim_claim_on_assign(s, d, 1);
    }
}

/* The pages the driver is heading for. */
static uint64_t goal_pages(const struct sim_domain *d)
{
    int64_t kib = (int64_t)d->bal.target_kib + d->bal.true_offset_kib;

    if (d->bal.driver == XF_SIM_DRIVER_LIAR && kib < (int64_t)d->bal.lie_floor_kib)
        kib = (int64_t)d->bal.lie_floor_kib;
    return kib > 0 ? (uint64_t)kib / 4u : 0;
}

static void run_one(struct xf_sim *s, struct sim_domain *d)
{
    uint64_t goal, due, rate_pages = d->bal.rate_kib_per_s / 4u;

    if (d->dying || d->paused || !d->bal.feature || d->bal.driver == XF_SIM_DRIVER_STUCK) {
        d->bal.last_ns = s->now_ns; /* a driver that does not run banks no time */
        return;
    }
    goal = goal_pages(d);
    if (goal == d->tot_pages) {
        d->bal.last_ns = s->now_ns;
        return;
    }
    if (rate_pages) {
        unsigned __int128 pages =
            (unsigned __int128)(s->now_ns - d->bal.last_ns) * rate_pages / XF__NS_PER_S;
        due = pages > UINT64_MAX ? UINT64_MAX : (uint64_t)pages;
        if (!due)
            return; /* not a whole page yet: keep the time */
        /* The time those pages took; the rest carries over. */
        d->bal.last_ns += (uint64_t)((unsigned __int128)due * XF__NS_PER_S / rate_pages);
    } else {
        due = UINT64_MAX;
        d->bal.last_ns = s->now_ns;
    }
    if (goal < d->tot_pages)
        balloon_down(s, d, d->tot_pages - goal < due ? d->tot_pages - goal : due);
    else
        balloon_up(s, d, goal - d->tot_pages < due ? goal - d->tot_pages : due);
}

void xf__sim_balloon_run(struct xf_sim *s)
{
    for (uint32_t i = 0; i < s->nr_domains; i++)
        if (s->domains[i]->bal.on)
            run_one(s, s->domains[i]);
}

int xf_sim_balloon_setup(struct xf_hv *hv, xf_domid_t domid, const struct xf_sim_balloon *b)
{
    struct xf_sim *s;
    struct sim_domain *d;

    if (!xf_sim_is(hv) || !b)
        return XF_EINVAL;
    s = xf__sim_of(hv);
    d = xf__sim_domain_get(s, domid);
    if (!d || d->dying)
        return XF_ESRCH;
    if (b->dynamic_min_kib > b->dynamic_max_kib || b->target_kib < b->dynamic_min_kib ||
        b->target_kib > b->dynamic_max_kib || (unsigned)b->driver > XF_SIM_DRIVER_LIAR)
        return XF_EINVAL;
    if (!d->bal.on)
        s->nr_balloons++;
    memset(&d->bal, 0, sizeof(d->bal));
    d->bal.on = true;
    d->bal.feature = b->feature_balloon;
    d->bal.target_kib = b->target_kib;
    d->bal.dyn_min_kib = b->dynamic_min_kib;
    d->bal.dyn_max_kib = b->dynamic_max_kib;
    d->bal.has_offset = b->offset_known;
    d->bal.offset_kib = b->offset_known ? b->offset_kib : 0;
    d->bal.true_offset_kib = b->offset_kib;
    d->bal.rate_kib_per_s = b->rate_kib_per_s;
    d->bal.driver = b->driver;
    d->bal.lie_floor_kib = b->lie_floor_kib;
    d->bal.last_ns = s->now_ns;
    return 0;
}

int xf_sim_balloon_set_driver(struct xf_hv *hv, xf_domid_t domid, enum xf_sim_balloon_driver driver,
                              uint64_t lie_floor_kib)
{
    struct sim_domain *d;

    if (!xf_sim_is(hv) || (unsigned)driver > XF_SIM_DRIVER_LIAR)
        return XF_EINVAL;
    d = xf__sim_domain_get(xf__sim_of(hv), domid);
    if (!d || d->dying)
        return XF_ESRCH;
    if (!d->bal.on)
        return XF_ENOENT;
    d->bal.driver = driver;
    d->bal.lie_floor_kib = lie_floor_kib;
    d->bal.last_ns = xf__sim_of(hv)->now_ns;
    return 0;
}

/* Enters a balloon operation: the domain, or an error. */
static int enter(struct xf_sim *s, enum xf_sim_op op, xf_domid_t domid, struct sim_domain **ret)
{
    int r = xf__sim_enter(s, op);

    if (r)
        return r;
    *ret = xf__sim_domain_get(s, domid);
    return *ret ? 0 : XF_ESRCH;
}

static int leave(struct xf_sim *s, int r)
{
    xf__sim_advance(s, s->spec.timing.hypercall_ns);
    return r;
}

int xf__sim_balloon_info(struct xf_hv *hv, xf_domid_t domid, struct xf_hv_balloon *ret)
{
    struct xf_sim *s = xf__sim_of(hv);
    struct sim_domain *d;
    int r = enter(s, XF_SIM_OP_BALLOON_INFO, domid, &d);

    if (r == 0 && !d->bal.on)
        r = XF_ENOENT;
    if (r == 0) {
        memset(ret, 0, sizeof(*ret));
        ret->feature_balloon = d->bal.feature;
        ret->target_kib = d->bal.target_kib;
        ret->dynamic_min_kib = d->bal.dyn_min_kib;
        ret->dynamic_max_kib = d->bal.dyn_max_kib;
        ret->has_dynamic_range = true;
        ret->has_memory_offset = d->bal.has_offset;
        ret->memory_offset_kib = d->bal.offset_kib;
        ret->uncooperative = d->bal.uncooperative;
    }
    return leave(s, r);
}

int xf__sim_set_balloon_target(struct xf_hv *hv, xf_domid_t domid, uint64_t target_kib)
{
    struct xf_sim *s = xf__sim_of(hv);
    struct sim_domain *d;
    int r = enter(s, XF_SIM_OP_SET_BALLOON_TARGET, domid, &d);

    if (r == 0 && !d->bal.on)
        r = XF_ENOENT;
    if (r == 0) {
        /* The driver starts from now: time before the write is not banked. */
        if (d->bal.target_kib != target_kib)
            d->bal.last_ns = s->now_ns;
        d->bal.target_kib = target_kib;
    }
    return leave(s, r);
}

int xf__sim_set_memory_offset(struct xf_hv *hv, xf_domid_t domid, int64_t offset_kib)
{
    struct xf_sim *s = xf__sim_of(hv);
    struct sim_domain *d;
    int r = enter(s, XF_SIM_OP_SET_MEMORY_OFFSET, domid, &d);

    if (r == 0 && !d->bal.on)
        r = XF_ENOENT;
    if (r == 0) {
        d->bal.has_offset = true;
        d->bal.offset_kib = offset_kib;
    }
    return leave(s, r);
}

int xf__sim_set_uncooperative(struct xf_hv *hv, xf_domid_t domid, bool uncooperative)
{
    struct xf_sim *s = xf__sim_of(hv);
    struct sim_domain *d;
    int r = enter(s, XF_SIM_OP_SET_UNCOOPERATIVE, domid, &d);

    if (r == 0 && !d->bal.on)
        r = XF_ENOENT;
    if (r == 0)
        d->bal.uncooperative = uncooperative;
    return leave(s, r);
}
