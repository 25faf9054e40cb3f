/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Reading a host snapshot, and the host's accounting parameters, from a
 * backend (include/xenfit/hv.h).
 */
#include <string.h>

#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/hv.h"

#define MAX_DOMAINS 32768u

int xf_host_snapshot_read(struct xf_hv *hv, struct xf_host_snapshot *ret)
{
    struct xf_host_snapshot s;
    struct xf_hv_physinfo pi;
    struct xf_host_domain_state *doms = NULL;
    uint32_t dist[XF_MAX_NODES * XF_MAX_NODES]; /* not needed here, but numainfo fills it */
    xf_domid_t *ids = NULL;
    uint32_t nr_nodes = 0, n = 0, listed = 0;
    int r;

    memset(&s, 0, sizeof(s));
    r = xf_hv_physinfo(hv, &pi);
    if (r == 0)
        r = xf_hv_numainfo(hv, XF_MAX_NODES, s.nodes, dist, &nr_nodes);
    if (r < 0)
        return r;
    s.total_pages = pi.total_pages;
    s.free_pages = pi.free_pages;
    s.outstanding_pages = pi.outstanding_pages;
    s.nr_nodes = nr_nodes;
    s.node_claimed_info = (xf_hv_caps(hv) & XF_HV_CAP_NODE_CLAIMED_INFO) != 0;
    s.node_dma_info = (xf_hv_caps(hv) & XF_HV_CAP_NODE_DMA_INFO) != 0;

    /* The list reports the full count: ask for it first, then read them all
     * (a domain created in between is simply not in this snapshot). */
    r = xf_hv_domain_list(hv, 0, NULL, &n);
    if (r < 0)
        return r;
    if (n > MAX_DOMAINS)
        n = MAX_DOMAINS;
    ids = xf__calloc(n ? n : 1, sizeof(*ids));
    doms = xf__calloc(n ? n : 1, sizeof(*doms));
    if (!ids || !doms) {
        r = XF_ENOMEM;
        goto out;
    }
    r = xf_hv_domain_list(hv, n, ids, &listed);
    if (r < 0)
        goto out;
    if (listed < n)
        n = listed;
    for (uint32_t i = 0; i < n; i++) {
        struct xf_hv_domain_info info;
        r = xf_hv_domain_info(hv, ids[i], &info);
        if (r == XF_ESRCH)
            continue; /* gone since the list was read */
        if (r < 0)
            goto out;
        s.nr_dying += info.dying;
        struct xf_host_domain_state *d = &doms[s.nr_domains++];
        d->domid = info.domid;
        d->tot_pages = info.tot_pages;
        d->paging_pool_pages = info.paging_pool_pages;
        d->outstanding_pages = info.outstanding_pages;
        memcpy(d->pages_per_node, info.pages_per_node, sizeof(d->pages_per_node));
    }
    s.domains = doms;
    doms = NULL;
    *ret = s;
    r = 0;
out:
    xf__free(ids);
    xf__free(doms);
    return r;
}

int xf_host_params_read(struct xf_hv *hv, struct xf_host_params *ret)
{
    struct xf_hv_host_params hp;
    struct xf_host_params p;
    int r = xf_hv_host_params(hv, &hp);

    xf_host_params_init(&p);
    if (r == XF_ENOSYS) {
        *ret = p;
        return 0;
    }
    if (r < 0)
        return r;
    p.low_mem_reserve_pages = hp.low_mem_virq_limit_pages;
    p.dma_zone_pages = hp.dma_zone_pages;
    *ret = p;
    return 0;
}
