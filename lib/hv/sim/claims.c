/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Claims, exactly as Xen stakes and consumes them.
 *
 * XENMEM_claim_pages (xen/common/memory.c, do_memory_op): an unknown domid
 * is -EINVAL (rcu_lock_domain_by_id() fails), so is a dying domain (since
 * "xen/domain: Disallow XENMEM_claim_pages on dying domains"). Then
 * domain_set_outstanding_pages() (xen/common/page_alloc.c): `pages` is the
 * domain's total target; 0 cancels and always succeeds; -EINVAL while a
 * claim is active, or for pages <= tot_pages or > max_pages; -ENOMEM when
 * pages - tot_pages > total_avail_pages - outstanding_claims.
 *
 * Node claims (the per-NUMA-node claims series used by XenServer, "xen/
 * page_alloc: Implement per-NUMA-node outstanding claims"): a node that is
 * not online is -ENOENT, a node claim of 0 pages -EINVAL, and the claim
 * must also fit the node: per_node_avail_pages - per_node_outstanding_claims.
 * Without the capability a node claim is -ENOSYS, as the libxenctrl backend
 * reports on an upstream Xen. Xen 4.17.7 still accepts a claim on a dying
 * domain (the fix went to 4.19.5, 4.20.3, 4.21.1 and 4.22): so does the
 * 4.17 mode (measured in the real-Xen tier, docs/real-xen.md).
 *
 * Consumption under 4.22 semantics is in heap.c (alloc_heap_pages). Under
 * 4.17 semantics domain_adjust_tot_pages() consumes when pages are assigned
 * and, while a claim is active, raises it by the pages a domain frees.
 */
#include "sim-internal.h"
#include "xenfit/error.h"

void xf__sim_claim_cancel(struct xf_sim *s, struct sim_domain *d)
{
    s->outstanding -= d->outstanding;
    if (d->claim_node != XF_NODE_ANY)
        s->nodes[d->claim_node].claimed -= d->outstanding;
    d->outstanding = 0;
    d->claim_node = XF_NODE_ANY;
}

static int stake(struct xf_sim *s, struct sim_domain *d, uint32_t node, uint64_t pages)
{
    uint64_t claim, avail;

    if (node != XF_NODE_ANY && (node >= XF_MAX_NODES || !((s->online_mask >> node) & 1u)))
        return XF_ENOENT;
    if (pages == 0 && node != XF_NODE_ANY)
        return XF_EINVAL;
    if (pages == 0) {
        xf__sim_claim_cancel(s, d);
        return 0;
    }
    if (d->outstanding)
        return XF_EINVAL;
    if (pages <= d->tot_pages || pages > d->max_pages)
        return XF_EINVAL;
    claim = pages - d->tot_pages;
    avail = s->total_avail > s->outstanding ? s->total_avail - s->outstanding : 0;
    if (claim > avail)
        return XF_ENOMEM;
    if (node != XF_NODE_ANY) {
        const struct sim_node *n = &s->nodes[node];
        avail = n->avail > n->claimed ? n->avail - n->claimed : 0;
        if (claim > avail)
            return XF_ENOMEM;
        s->nodes[node].claimed += claim;
        d->claim_node = node;
    }
    d->outstanding = claim;
    s->outstanding += claim;
    return 0;
}

int xf__sim_claim(struct xf_hv *hv, xf_domid_t domid, uint32_t node, uint64_t pages)
{
    struct xf_sim *s = xf__sim_of(hv);
    struct sim_domain *d;
    int r = xf__sim_enter(s, XF_SIM_OP_CLAIM);

    if (r == 0) {
        d = xf__sim_domain_get(s, domid);
        if (node != XF_NODE_ANY && !(s->caps & XF_HV_CAP_NODE_CLAIMS))
            r = XF_ENOSYS; /* upstream: no node argument at all (real-Xen tier) */
        else if (!d || (d->dying && !(s->caps & XF_HV_CAP_CLAIM_DYING_OK)))
            r = XF_EINVAL; /* 4.17.x never got "Disallow claims on dying domains" */
        else
            r = stake(s, d, node, pages);
    }
    xf__sim_advance(s, s->spec.timing.hypercall_ns);
    return r;
}

void xf__sim_claim_on_assign(struct xf_sim *s, struct sim_domain *d, uint64_t pages)
{
    uint64_t c;

    if (s->spec.claim_semantics != XF_SIM_CLAIMS_4_17 || !d->outstanding)
        return;
    c = d->outstanding < pages ? d->outstanding : pages;
    d->outstanding -= c;
    s->outstanding -= c;
}

void xf__sim_claim_on_free(struct xf_sim *s, struct sim_domain *d, uint64_t pages)
{
    if (s->spec.claim_semantics != XF_SIM_CLAIMS_4_17 || !d->outstanding)
        return;
    d->outstanding += pages;
    s->outstanding += pages;
}
