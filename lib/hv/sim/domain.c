/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Simulated domains: creation with the hidden per-domain pages of the truth
 * profile, vCPUs with their hidden per-vCPU pages, max_pages, the paging
 * pool, populate and decrease, node affinity, unpause, and the queries.
 *
 * Xen facts followed (stable-4.17 unless noted):
 * - A new domain is paused, has max_pages 0 and no node affinity of its own
 *   (NODE_MASK_ALL); d->last_alloc_node starts at 0, so its first
 *   affinity-driven allocation goes to the node after 0 (cycle_node()).
 * - The vCPU count given at XEN_DOMCTL_createdomain must be repeated by
 *   XEN_DOMCTL_max_vcpus, which allocates the vCPUs (xen/common/domctl.c).
 *   A domain created without a count accepts any (a simulator convenience;
 *   real Xen gives it one vCPU).
 * - Hypervisor-internal pages (struct domain, vCPUs, HVM state) and the
 *   paging pool (hap_set_allocation(): alloc_domheap_page(d, MEMF_no_owner))
 *   are allocated page by page with the domain's node affinity and are never
 *   claimed (MEMF_no_owner implies MEMF_no_refcount). A pool that cannot
 *   grow fully keeps what it got and fails with -ENOMEM.
 * - populate_physmap (xen/common/memory.c) allocates extent by extent and
 *   stops at the first failure; assign_pages() then refuses pages beyond
 *   max_pages and frees them (under 4.22 semantics the claim they consumed
 *   stays consumed: "Such claimed amount is then lost"). The hypercall
 *   returns the extents done; libxc turns a short count into an error, which
 *   this interface reports as -ENOMEM.
 * - XEN_DOMCTL_max_mem sets max_pages freely, even below tot_pages, and does
 *   not clamp an active claim (xenbed claims-test: "The claim is not clamped
 *   when xl mem-set lowers max_pages").
 */
#include <string.h>

#include "internal.h"
#include "sim-internal.h"
#include "xenfit/error.h"

struct sim_domain *xf__sim_domain_get(struct xf_sim *s, xf_domid_t domid)
{
    return domid < XF_SIM_DOMID_LIMIT ? s->by_domid[domid] : NULL;
}

int xf__sim_domain_add(struct xf_sim *s, enum xf_domain_type type, xf_domid_t domid,
                       struct sim_domain **ret)
{
    struct sim_domain **nd =
        xf__grow(s->domains, s->nr_domains, &s->cap_domains, 16, sizeof(struct sim_domain *));
    struct sim_domain *d;

    if (!nd)
        return XF_ENOMEM;
    s->domains = nd;
    d = xf__calloc(1, sizeof(*d));
    if (!d)
        return XF_ENOMEM;
    d->domid = domid;
    d->type = type;
    d->paused = true;
    d->affinity = UINT64_MAX;
    d->claim_node = XF_NODE_ANY;
    d->dense_index = s->nr_domains;
    s->domains[s->nr_domains++] = d;
    s->by_domid[domid] = d;
    *ret = d;
    return 0;
}

void xf__sim_domain_remove(struct xf_sim *s, struct sim_domain *d)
{
    struct sim_domain *last = s->domains[--s->nr_domains];

    if (d->bal.on)
        s->nr_balloons--;

    s->domains[d->dense_index] = last;
    last->dense_index = d->dense_index;
    s->by_domid[d->domid] = NULL;
    xf__free(d);
}

/* Enters an operation on a live domain: 0 and *ret_d, or an error. */
static int enter_live(struct xf_sim *s, enum xf_sim_op op, xf_domid_t domid,
                      struct sim_domain **ret_d)
{
    int r = xf__sim_enter(s, op);
    struct sim_domain *d;

    if (r)
        return r;
    d = xf__sim_domain_get(s, domid);
    if (!d)
        return XF_ESRCH;
    if (d->dying)
        return XF_EINVAL;
    *ret_d = d;
    return 0;
}

/* Ends an operation: its time passes. */
static int leave(struct xf_sim *s, int r)
{
    xf__sim_advance(s, s->spec.timing.hypercall_ns + s->op_cost_ns);
    return r;
}

int xf__sim_domain_list(struct xf_hv *hv, uint32_t max, xf_domid_t *ret_domids, uint32_t *ret_n)
{
    struct xf_sim *s = xf__sim_of(hv);
    uint32_t n = 0;
    int r = xf__sim_enter(s, XF_SIM_OP_DOMAIN_LIST);

    if (r == 0) {
        for (xf_domid_t id = 0; id < XF_SIM_DOMID_LIMIT && n < s->nr_domains; id++) {
            if (!s->by_domid[id])
                continue;
            if (ret_domids && n < max)
                ret_domids[n] = id;
            n++;
        }
        *ret_n = n;
    }
    return leave(s, r);
}

int xf__sim_domain_info(struct xf_hv *hv, xf_domid_t domid, struct xf_hv_domain_info *ret)
{
    struct xf_sim *s = xf__sim_of(hv);
    struct sim_domain *d = NULL;
    int r = xf__sim_enter(s, XF_SIM_OP_DOMAIN_INFO);

    if (r == 0 && !(d = xf__sim_domain_get(s, domid)))
        r = XF_ESRCH;
    if (r == 0) {
        memset(ret, 0, sizeof(*ret));
        ret->domid = d->domid;
        ret->type = d->type;
        ret->tot_pages = d->tot_pages;
        ret->max_pages = d->max_pages;
        ret->outstanding_pages = d->outstanding;
        ret->paging_pool_pages = d->pool_pages;
        ret->vcpus = d->vcpus;
        ret->dying = d->dying;
        ret->paused = d->paused;
        ret->node_affinity = d->affinity;
        memcpy(ret->pages_per_node, d->pages[SIM_CAT_GUEST], sizeof(ret->pages_per_node));
    }
    return leave(s, r);
}

static int create(struct xf_sim *s, enum xf_domain_type type, uint32_t max_vcpus,
                  xf_domid_t *ret_domid)
{
    struct sim_domain *d;
    xf_domid_t id = s->domid_rover;
    int r = xf__sim_enter(s, XF_SIM_OP_DOMAIN_CREATE);

    if (r)
        return leave(s, r);
    if (!xf__sim_type_ok(type) || max_vcpus > XF_VCPUS_MAX)
        return leave(s, XF_EINVAL);
    /* The next free domid after the last one given, as Xen's rover. */
    for (uint32_t tries = 0;; tries++) {
        if (tries >= XF_SIM_DOMID_LIMIT)
            return leave(s, XF_ENOSPC);
        id = id + 1 >= XF_SIM_DOMID_LIMIT ? 1 : id + 1;
        if (!s->by_domid[id])
            break;
    }
    if ((r = xf__sim_domain_add(s, type, id, &d)))
        return leave(s, r);
    d->max_vcpus = max_vcpus;
    r = xf__sim_alloc_unclaimed(s, d, SIM_CAT_HIDDEN, s->spec.truth[type].domain_pages, false);
    if (r == 0 && s->spec.truth[type].initial_pool_pages) {
        /* hap_enable() gives a new HAP domain its first pool pages. */
        r = xf__sim_alloc_unclaimed(s, d, SIM_CAT_POOL, s->spec.truth[type].initial_pool_pages,
                                    false);
        if (r)
            xf__sim_domain_free(s, d, SIM_CAT_HIDDEN, d->hidden_pages, false);
    }
    if (r) {
        xf__sim_domain_remove(s, d);
        return leave(s, r);
    }
    s->domid_rover = id;
    *ret_domid = id;
    return leave(s, 0);
}

/* Without a count the simulator leaves max_vcpus open, so that any
 * set_max_vcpus is accepted (real Xen gives such a domain one vCPU). */
int xf__sim_domain_create(struct xf_hv *hv, enum xf_domain_type type, xf_domid_t *ret_domid)
{
    return create(xf__sim_of(hv), type, 0, ret_domid);
}

/* XEN_DOMCTL_createdomain with max_vcpus: XEN_DOMCTL_max_vcpus must then
 * repeat the count (xen/common/domctl.c). */
int xf__sim_domain_create_vcpus(struct xf_hv *hv, enum xf_domain_type type, uint32_t max_vcpus,
                                xf_domid_t *ret_domid)
{
    if (max_vcpus == 0) {
        struct xf_sim *s = xf__sim_of(hv);
        int r = xf__sim_enter(s, XF_SIM_OP_DOMAIN_CREATE);
        return leave(s, r ? r : XF_EINVAL);
    }
    return create(xf__sim_of(hv), type, max_vcpus, ret_domid);
}

int xf__sim_set_max_vcpus(struct xf_hv *hv, xf_domid_t domid, uint32_t vcpus)
{
    struct xf_sim *s = xf__sim_of(hv);
    struct sim_domain *d;
    int r = enter_live(s, XF_SIM_OP_SET_MAX_VCPUS, domid, &d);

    if (r)
        return leave(s, r);
    if (vcpus == 0 || vcpus > XF_VCPUS_MAX || d->vcpus || (d->max_vcpus && vcpus != d->max_vcpus))
        return leave(s, XF_EINVAL);
    r = xf__sim_alloc_unclaimed(s, d, SIM_CAT_HIDDEN,
                                (uint64_t)vcpus * s->spec.truth[d->type].vcpu_pages, false);
    if (r == 0)
        d->vcpus = vcpus;
    return leave(s, r);
}

int xf__sim_set_max_pages(struct xf_hv *hv, xf_domid_t domid, uint64_t pages)
{
    struct xf_sim *s = xf__sim_of(hv);
    struct sim_domain *d;
    int r = enter_live(s, XF_SIM_OP_SET_MAX_PAGES, domid, &d);

    if (r == 0)
        d->max_pages = pages;
    return leave(s, r);
}

int xf__sim_set_paging_pool(struct xf_hv *hv, xf_domid_t domid, uint64_t pages)
{
    struct xf_sim *s = xf__sim_of(hv);
    struct sim_domain *d;
    int r = enter_live(s, XF_SIM_OP_SET_PAGING_POOL, domid, &d);

    if (r)
        return leave(s, r);
    if (pages > d->pool_pages)
        r = xf__sim_alloc_unclaimed(s, d, SIM_CAT_POOL, pages - d->pool_pages, true);
    else
        xf__sim_domain_free(s, d, SIM_CAT_POOL, d->pool_pages - pages, true);
    return leave(s, r);
}

/* Was this extent placed where the request pointed? */
static bool on_target(const struct xf_sim *s, const struct sim_domain *d, uint32_t hint,
                      uint32_t node)
{
    if (hint != XF_NODE_ANY)
        return node == hint;
    if (!(d->affinity & s->online_mask))
        return true;
    return (d->affinity >> node) & 1u;
}

int xf__sim_populate(struct xf_hv *hv, xf_domid_t domid, const struct xf_hv_populate *req,
                     uint64_t *ret_done)
{
    struct xf_sim *s = xf__sim_of(hv);
    const struct xf_sim_timing *t = &s->spec.timing;
    struct sim_domain *d;
    struct sim_alloc a;
    uint64_t done = 0, pages, dma;
    uint32_t node;
    int r = enter_live(s, XF_SIM_OP_POPULATE, domid, &d);

    *ret_done = 0;
    if (r)
        return leave(s, r);
    if (req->order > XF_SIM_MAX_ORDER || (req->node != XF_NODE_ANY && req->node >= XF_MAX_NODES))
        return leave(s, XF_EINVAL);
    a = (struct sim_alloc){
        .order = req->order, .node = req->node, .exact = req->exact_node, .refcount = true};
    pages = UINT64_C(1) << req->order;
    for (; done < req->nr_extents; done++) {
        if ((r = xf__sim_enter(s, XF_SIM_OP_EXTENT)) ||
            (r = xf__sim_heap_alloc(s, d, &a, &node, &dma)))
            break;
        if (d->tot_pages + pages > d->max_pages) {
            /* assign_pages(): over max_pages; the pages go back scrubbed. */
            xf__sim_heap_free(s, node, pages, dma, false);
            r = XF_ENOMEM;
            break;
        }
        d->pages[SIM_CAT_GUEST][node] += pages;
        if (node == 0)
            d->dma_pages[SIM_CAT_GUEST] += dma;
        d->tot_pages += pages;
        xf__sim_claim_on_assign(s, d, pages);
        s->stats.extents++;
        if (!on_target(s, d, req->node, node))
            s->stats.off_node_extents++;
        s->op_cost_ns += t->extent_ns + pages * t->page_ns;
    }
    *ret_done = done;
    return leave(s, r);
}

int xf__sim_decrease(struct xf_hv *hv, xf_domid_t domid, uint64_t pages)
{
    struct xf_sim *s = xf__sim_of(hv);
    struct sim_domain *d;
    int r = enter_live(s, XF_SIM_OP_DECREASE, domid, &d);

    if (r)
        return leave(s, r);
    if (pages > d->tot_pages)
        return leave(s, XF_EINVAL);
    xf__sim_domain_free(s, d, SIM_CAT_GUEST, pages, true);
    xf__sim_claim_on_free(s, d, pages);
    return leave(s, 0);
}

int xf__sim_set_node_affinity(struct xf_hv *hv, xf_domid_t domid, uint64_t node_mask)
{
    struct xf_sim *s = xf__sim_of(hv);
    struct sim_domain *d;
    int r = enter_live(s, XF_SIM_OP_SET_NODE_AFFINITY, domid, &d);

    /* domain_set_node_affinity(): a mask without an online node is -EINVAL. */
    if (r == 0 && !(node_mask & s->online_mask))
        r = XF_EINVAL;
    if (r == 0)
        d->affinity = node_mask;
    return leave(s, r);
}

int xf__sim_unpause(struct xf_hv *hv, xf_domid_t domid)
{
    struct xf_sim *s = xf__sim_of(hv);
    struct sim_domain *d;
    int r = enter_live(s, XF_SIM_OP_UNPAUSE, domid, &d);

    /* domain_unpause_by_systemcontroller(): -EINVAL when not paused by it. */
    if (r == 0 && !d->paused)
        r = XF_EINVAL;
    if (r == 0)
        d->paused = false;
    return leave(s, r);
}
