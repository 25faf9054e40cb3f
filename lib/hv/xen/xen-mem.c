/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The real-Xen backend's memory operations: max pages, the paging pool,
 * claims, populating and giving back memory, node affinity. Each is one
 * libxenctrl call, with Xen's errno passed on; the rules behind them are
 * Xen's (xen/common/page_alloc.c, domain_set_outstanding_pages; memory.c,
 * populate_physmap; domctl.c, XEN_DOMCTL_max_mem; arch/x86/mm/paging.c,
 * arch_{get,set}_paging_mempool_size) and are what tests/hv/test-contract.c
 * checks against the simulator and, in the real-Xen tier, against Xen.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "xen-internal.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

/* Extents per XENMEM_populate_physmap / decrease_reservation call: 16 KiB of
 * frame numbers, bounced through libxenctrl's hypercall buffers. */
#define MEMOP_BATCH 2048u
/* Frame numbers go between the extent record (uint64_t) and libxenctrl. */
_Static_assert(__builtin_types_compatible_p(xen_pfn_t, uint64_t), "xen_pfn_t is not uint64_t");

/* The largest extent Xen allocates for dom0 on x86: MAX_ORDER
 * (CONFIG_PAGEALLOC_MAX_ORDER, 1 GiB); populate_physmap() does nothing for
 * a larger one (xen/common/memory.c, max_order()). */
#define XEN_X86_MAX_ORDER 18u

int xf__xen_set_max_pages(struct xf_hv *hv, xf_domid_t domid, uint64_t pages)
{
    /* XEN_DOMCTL_max_mem takes KiB and clamps max_pages to what Xen's
     * unsigned int holds; a larger request is passed as the largest KiB. */
    uint64_t kib = pages > UINT64_MAX / XF_KIB_PER_PAGE ? UINT64_MAX : xf_kib_of_pages(pages);

    if (xc_domain_setmaxmem(xf__xen(hv)->xch, domid, kib) < 0)
        return xf__xen_errno();
    return 0;
}

int xf__xen_set_paging_pool(struct xf_hv *hv, xf_domid_t domid, uint64_t pages)
{
    struct xf_hv_xen *x = xf__xen(hv);

#ifdef HAVE_XC_SET_PAGING_MEMPOOL_SIZE
    /* Xen refuses a size that is not a whole number of pages or whose page
     * count does not fit in an unsigned int with EINVAL; so does this. */
    if (pages > (UINT64_MAX >> XC_PAGE_SHIFT))
        return -EINVAL;
    if (xc_set_paging_mempool_size(x->xch, domid, pages << XC_PAGE_SHIFT) < 0)
        return xf__xen_errno();
#else
    /* Before Xen 4.17: the shadow domctl, in MiB. */
    unsigned int mb;
    if (xf_mib_of_pages_used(pages) > UINT32_MAX)
        return -EINVAL;
    mb = (unsigned int)xf_mib_of_pages_used(pages);
    if (xc_shadow_control(x->xch, domid, XEN_DOMCTL_SHADOW_OP_SET_ALLOCATION, &mb, 0) < 0)
        return xf__xen_errno();
#endif
    return 0;
}

int xf__xen_paging_pool(struct xf_hv_xen *x, xf_domid_t domid, uint64_t *ret_pages)
{
#ifdef HAVE_XC_GET_PAGING_MEMPOOL_SIZE
    uint64_t bytes = 0;

    if (xc_get_paging_mempool_size(x->xch, domid, &bytes) < 0) {
        int r = xf__xen_errno();
        /* A PV domain has no paging pool: Xen says EOPNOTSUPP. */
        if (r != -EOPNOTSUPP)
            return r;
        bytes = 0;
    }
    *ret_pages = bytes >> XC_PAGE_SHIFT;
#else
    unsigned int mb = 0;

    if (xc_shadow_control(x->xch, domid, XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION, &mb, 0) < 0) {
        int r = xf__xen_errno();
        if (r != -EOPNOTSUPP && r != -EINVAL)
            return r;
        mb = 0;
    }
    *ret_pages = xf_pages_of_mib(mb);
#endif
    return 0;
}

int xf__xen_claim(struct xf_hv *hv, xf_domid_t domid, uint32_t node, uint64_t pages)
{
    struct xf_hv_xen *x = xf__xen(hv);
    int rc;

    if (pages > ULONG_MAX)
        return -EINVAL;
    if (node == XF_NODE_ANY) {
        /* XENMEMF_claim_pages: a total target; 0 cancels. An unknown domain
         * is EINVAL here, not ESRCH (xen/common/memory.c, do_memory_op). */
        rc = xc_domain_claim_pages(x->xch, domid, (unsigned long)pages);
    } else {
#ifdef HAVE_XC_DOMAIN_CLAIM_PAGES_NODE
        rc = xc_domain_claim_pages_node(x->xch, domid, node, (unsigned long)pages);
#else
        return -ENOSYS;
#endif
    }
    return rc < 0 ? xf__xen_errno() : 0;
}

/* Why Xen allocated fewer extents than asked: no such domain (Xen returns 0
 * extents for an unknown domid), a dying one (assign_pages() refuses it:
 * -EINVAL), else the allocator or max_pages: -ENOMEM. */
static int why_short(struct xf_hv_xen *x, xf_domid_t domid)
{
    xc_domaininfo_t di;
    int r = xf__xen_getinfo(x, domid, &di);

    if (r < 0)
        return r;
    return (di.flags & XEN_DOMINF_dying) ? -EINVAL : -ENOMEM;
}

/*
 * XENMEM_populate_physmap, in batches. Xen answers with the number of
 * extents it allocated and no reason when that is short: the allocator or
 * the claims gate refused (alloc_heap_pages), or max_pages was reached
 * (assign_pages). A short count is returned as -ENOMEM with *ret_done the
 * extents allocated (libxenctrl's _exact variant would say EBUSY), unless the
 * domain is missing (-ESRCH) or dying (-EINVAL). Errors Xen does report
 * (-EINVAL for a bad node) pass on.
 */
int xf__xen_populate(struct xf_hv *hv, xf_domid_t domid, const struct xf_hv_populate *req,
                     uint64_t *ret_done)
{
    struct xf_hv_xen *x = xf__xen(hv);
    struct xf_xen_dom *d;
    xen_pfn_t *frames = NULL;
    unsigned int flags = 0;
    uint64_t done = 0, step;
    int r = 0;

    *ret_done = 0;
    if (req->nr_extents == 0)
        return 0;
    /* Xen would allocate nothing and say nothing: EINVAL, as the simulator. */
    if (req->order > XEN_X86_MAX_ORDER)
        return -EINVAL;
    if (req->node != XF_NODE_ANY) {
        if (req->node >= XF_MAX_NODES)
            return -EINVAL;
        flags |= XENMEMF_node(req->node);
    }
    if (req->exact_node)
        flags |= XENMEMF_exact_node_request;
    d = xf__xen_dom(x, domid, true, &r);
    if (!d)
        return r;
    frames = xf__calloc(MEMOP_BATCH, sizeof(*frames));
    if (!frames)
        return XF_ENOMEM;

    step = UINT64_C(1) << req->order;
    while (done < req->nr_extents) {
        uint64_t left = req->nr_extents - done;
        unsigned long n = left < MEMOP_BATCH ? (unsigned long)left : MEMOP_BATCH;
        /* Extents go one after another in the guest's physmap, aligned to
         * their size; a PV guest gets the machine frames back in place. */
        uint64_t gpfn = (d->next_gpfn + step - 1) & ~(step - 1);
        int got;

        if ((r = xf__xen_dom_reserve(d, n)) < 0)
            break;
        for (unsigned long i = 0; i < n; i++)
            frames[i] = (xen_pfn_t)(gpfn + i * step);
        got = xc_domain_populate_physmap(x->xch, domid, n, req->order, flags, frames);
        if (got < 0) {
            r = xf__xen_errno();
            break;
        }
        for (int i = 0; i < got; i++)
            xf__xen_dom_record(d, frames[i], req->order);
        d->next_gpfn = gpfn + (uint64_t)got * step;
        done += (uint64_t)got;
        if ((unsigned long)got < n) {
            r = -ENOMEM;
            break;
        }
    }
    xf__free(frames);
    *ret_done = done;
    return r == -ENOMEM ? why_short(x, domid) : r;
}

/*
 * XENMEM_decrease_reservation of `pages` single pages, the ones this backend
 * populated last. Xen needs their frame numbers, which only the backend that
 * populated them knows: a domain built by another toolstack, or more pages
 * than this backend populated, is -EINVAL; no such domain, -ESRCH. A short count from Xen (a frame
 * the domain no longer has) is -EINVAL as well, after recording what was
 * given back.
 */
int xf__xen_decrease(struct xf_hv *hv, xf_domid_t domid, uint64_t pages)
{
    struct xf_hv_xen *x = xf__xen(hv);
    struct xf_xen_dom *d = xf__xen_dom(x, domid, false, NULL);
    xc_domaininfo_t di;
    xen_pfn_t *frames;
    int r;

    if ((r = xf__xen_getinfo(x, domid, &di)) < 0)
        return r;
    if (pages == 0)
        return 0;
    if (!d || pages > xf__xen_dom_pages(d))
        return -EINVAL;
    frames = xf__calloc(MEMOP_BATCH, sizeof(*frames));
    if (!frames)
        return XF_ENOMEM;
    while (pages > 0) {
        unsigned long n = pages < MEMOP_BATCH ? (unsigned long)pages : MEMOP_BATCH;
        int got;

        xf__xen_dom_take(d, n, frames, false);
        got = xc_domain_decrease_reservation(x->xch, domid, n, 0, frames);
        if (got < 0) {
            r = xf__xen_errno();
            break;
        }
        xf__xen_dom_take(d, (uint64_t)got, NULL, true);
        pages -= (uint64_t)got;
        if ((unsigned long)got < n) {
            r = -EINVAL;
            break;
        }
    }
    xf__free(frames);
    return r;
}

int xf__xen_set_node_affinity(struct xf_hv *hv, xf_domid_t domid, uint64_t node_mask)
{
    struct xf_hv_xen *x = xf__xen(hv);
    int size = xc_get_nodemap_size(x->xch);
    struct xf_xen_dom *d;
    xc_nodemap_t map;
    int rc, err = 0;

    if (size <= 0)
        return size < 0 ? xf__xen_errno() : -EINVAL;
    map = xc_nodemap_alloc(x->xch); /* zeroed, `size` bytes */
    if (!map)
        return XF_ENOMEM;
    for (uint32_t i = 0; i < XF_MAX_NODES && i < (uint32_t)size * 8u; i++)
        if (node_mask & (UINT64_C(1) << i))
            map[i / 8] |= (uint8_t)(1u << (i % 8));
    /* Xen refuses a set with no online node: EINVAL (domain_set_node_affinity). */
    rc = xc_domain_node_setaffinity(x->xch, domid, map);
    free(map); /* libxenctrl allocated it with the C library */
    if (rc < 0)
        return xf__xen_errno();
    d = xf__xen_dom(x, domid, true, &err);
    if (d)
        d->affinity_set = true;
    return 0;
}

int xf__xen_node_affinity(struct xf_hv_xen *x, xf_domid_t domid, uint64_t *ret_mask)
{
    int size = xc_get_nodemap_size(x->xch);
    struct xf_xen_dom *d;
    xc_nodemap_t map;
    uint64_t mask = 0;
    int rc;

    if (size <= 0)
        return size < 0 ? xf__xen_errno() : -EINVAL;
    map = xc_nodemap_alloc(x->xch);
    if (!map)
        return XF_ENOMEM;
    rc = xc_domain_node_getaffinity(x->xch, domid, map);
    if (rc < 0) {
        rc = xf__xen_errno();
        free(map);
        return rc;
    }
    for (uint32_t i = 0; i < XF_MAX_NODES && i < (uint32_t)size * 8u; i++)
        if (map[i / 8] & (1u << (i % 8)))
            mask |= UINT64_C(1) << i;
    free(map);
    /* Xen computes an automatic affinity from the vCPUs' when none was set,
     * and one that spans every online node constrains nothing: no affinity,
     * unless this backend set it. */
    d = xf__xen_dom(x, domid, false, NULL);
    if ((!d || !d->affinity_set) && (mask & x->online_nodes) == x->online_nodes)
        mask = UINT64_MAX;
    *ret_mask = mask;
    return 0;
}
