/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Host accounting (include/xenfit/host.h).
 */
#include <string.h>

#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/host.h"

static uint64_t sub0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

void xf_host_params_init(struct xf_host_params *p)
{
    memset(p, 0, sizeof(*p));
    p->low_mem_reserve_pages = XF_LOW_MEM_RESERVE_PAGES_DEFAULT;
}

static const struct xf_host_domain_state *find_domain(const struct xf_host_snapshot *s,
                                                      xf_domid_t domid)
{
    if (domid == XF_DOMID_NONE)
        return NULL;
    for (size_t i = 0; i < s->nr_domains; i++)
        if (s->domains[i].domid == domid)
            return &s->domains[i];
    return NULL;
}

uint64_t xf_host_reservation_unseen(const struct xf_reservation *r,
                                    const struct xf_host_domain_state *dom)
{
    if (!dom)
        return r->total_pages;
    return sub0(r->total_pages, dom->tot_pages + dom->paging_pool_pages + dom->outstanding_pages);
}

static uint64_t node_unseen(const struct xf_host_snapshot *s, const struct xf_reservation *r,
                            const struct xf_host_domain_state *dom, unsigned node)
{
    uint64_t want = r->node_pages[node];
    if (!dom)
        return want;
    want = sub0(want, dom->pages_per_node[node]);
    if (s->node_claimed_info && r->claim.kind == XF_CLAIM_NODE && r->claim.node == node)
        want = sub0(want, dom->outstanding_pages);
    return want;
}

/* The unseen part when the host figure leaves outstanding claims in: what the
 * domain has not allocated yet, its claim included. */
static uint64_t unseen_claims_in(const struct xf_reservation *r,
                                 const struct xf_host_domain_state *dom)
{
    if (!dom)
        return r->total_pages;
    return sub0(r->total_pages, dom->tot_pages + dom->paging_pool_pages);
}

int xf_host_free_for_new_vm(const struct xf_host_snapshot *s, const struct xf_ledger *ledger,
                            const struct xf_host_params *p, struct xf_host_free *ret)
{
    struct xf_host_free f;
    size_t ndom = ledger ? xf_ledger_count_domains(ledger) : 0;

    if (s->nr_nodes > XF_MAX_NODES)
        return XF_EINVAL;
    memset(&f, 0, sizeof(f));
    f.reserve_pages = p->low_mem_reserve_pages;
    f.outstanding_pages = p->ignore_outstanding_claims ? 0 : s->outstanding_pages;

    /* Reservations with no domain yet are unseen in full: the ledger keeps
     * their sums. Only those tied to a domain are looked at one by one. */
    if (ledger)
        f.pending_pages = xf_ledger_pending_pages(ledger, f.node_pending_pages);
    for (size_t i = 0; i < ndom; i++) {
        const struct xf_reservation *r = xf_ledger_at(ledger, i);
        const struct xf_host_domain_state *dom = find_domain(s, r->domid);
        f.pending_pages += p->ignore_outstanding_claims ? unseen_claims_in(r, dom)
                                                        : xf_host_reservation_unseen(r, dom);
        for (unsigned n = 0; n < s->nr_nodes; n++)
            if (r->node_mask & (UINT64_C(1) << n))
                f.node_pending_pages[n] += node_unseen(s, r, dom, n);
    }

    f.host_free_pages =
        sub0(sub0(sub0(s->free_pages, f.outstanding_pages), f.reserve_pages), f.pending_pages);
    for (unsigned n = 0; n < s->nr_nodes; n++) {
        uint64_t avail = sub0(s->nodes[n].memfree_pages, s->nodes[n].claimed_pages);
        /* Exact where the backend reports it (0: the zone is exhausted);
         * else assume node 0's whole zone is free: Xen hands it out last. */
        uint64_t dma = s->node_dma_info ? s->nodes[n].dma_free_pages
                       : n == 0         ? p->dma_zone_pages
                                        : 0;
        f.node_dma_pages[n] = dma < avail ? dma : avail;
        avail -= f.node_dma_pages[n];
        avail = sub0(avail, f.node_pending_pages[n]);
        /* A node never offers more than the host has for a new VM. */
        f.node_free_pages[n] = avail < f.host_free_pages ? avail : f.host_free_pages;
    }
    *ret = f;
    return 0;
}

void xf_host_snapshot_done(struct xf_host_snapshot *s)
{
    if (!s)
        return;
    xf__free((void *)(uintptr_t)s->domains);
    s->domains = NULL;
    s->nr_domains = 0;
}
