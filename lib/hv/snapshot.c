/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Reading a host snapshot from a backend (include/xenfit/host.h).
 */
#include <string.h>

#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/host.h"

#define MAX_DOMAINS 32768u

int xf_host_snapshot_read(struct xf_hv *hv, struct xf_host_snapshot *ret)
{
    struct xf_host_snapshot s;
    struct xf_hv_physinfo pi;
    struct xf_host_domain_state *doms = NULL;
    xf_domid_t *ids = NULL;
    uint32_t nr_nodes = 0, n = 0;
    int r;

    memset(&s, 0, sizeof(s));
    r = xf_hv_physinfo(hv, &pi);
    if (r < 0)
        return r;
    ids = xf__calloc(MAX_DOMAINS > XF_MAX_NODES * XF_MAX_NODES ? MAX_DOMAINS
                                                               : XF_MAX_NODES * XF_MAX_NODES,
                     sizeof(*ids));
    if (!ids)
        return XF_ENOMEM;
    /* The distances are not needed here; ids serves as their scratch space. */
    r = xf_hv_numainfo(hv, XF_MAX_NODES, s.nodes, ids, &nr_nodes);
    if (r < 0)
        goto out;
    s.total_pages = pi.total_pages;
    s.free_pages = pi.free_pages;
    s.outstanding_pages = pi.outstanding_pages;
    s.nr_nodes = nr_nodes;
    s.node_claimed_info = (xf_hv_caps(hv) & XF_HV_CAP_NODE_CLAIMED_INFO) != 0;

    r = xf_hv_domain_list(hv, MAX_DOMAINS, ids, &n);
    if (r < 0)
        goto out;
    doms = xf__calloc(n ? n : 1, sizeof(*doms));
    if (!doms) {
        r = XF_ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct xf_hv_domain_info info;
        r = xf_hv_domain_info(hv, ids[i], &info);
        if (r == XF_ESRCH)
            continue; /* gone since the list was read */
        if (r < 0)
            goto out;
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

void xf_host_snapshot_done(struct xf_host_snapshot *s)
{
    if (!s)
        return;
    xf__free((void *)(uintptr_t)s->domains);
    s->domains = NULL;
    s->nr_domains = 0;
}
