/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Internals of the real-Xen backend (lib/hv/xen): the instance, with the
 * record of what it populated in each domain (xen-calc.h), and the
 * operations xen.c and xen-mem.c share.
 */
#ifndef XENFIT_HV_XEN_INTERNAL_H
#define XENFIT_HV_XEN_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <xenctrl.h>

#include "xen-calc.h"
#include "xenfit/hv.h"

struct xs_handle;

struct xf_hv_xen {
    struct xf_hv hv;       /* first: the interface header */
    struct xs_handle *xsh; /* xenstore, opened by the first balloon operation */
    xc_interface *xch;
    xentoollog_logger logger; /* a silent one: the library never prints */
    uint32_t caps;
    uint32_t physcaps;                 /* XEN_SYSCTL_PHYSCAP_* of the host */
    uint64_t online_nodes;             /* bit per node online at open */
    uint32_t dma_bits;                 /* Xen's DMA width; 0: no DMA zone or unknown */
    uint64_t low_mem_virq_limit_pages; /* low_mem_virq_limit= or Xen's 64 MiB default */
    bool low_mem_virq_assumed;         /* the command line could not be read */
    struct xf_xen_dom *doms;
    uint32_t n_doms;
    uint32_t cap_doms;
};

/* The backend's operations (name "xen"), listed by xf_hv_backends(). */
extern const struct xf_hv_ops xf__xen_ops;

static inline struct xf_hv_xen *xf__xen(struct xf_hv *hv)
{
    return (struct xf_hv_xen *)hv;
}

/* -errno of the libxenctrl call that just failed (-EIO if it left errno 0).
 * Inline, and tested for sign after the negation, so that the static
 * analyzer sees the result is negative (it cannot derive -e < 0 from e > 0). */
static inline int xf__xen_errno(void)
{
    int r = -errno;
    return r < 0 ? r : -EIO;
}

/* XEN_DOMCTL_getdomaininfo of one domain: 0, -ESRCH if there is none. */
int xf__xen_getinfo(struct xf_hv_xen *x, xf_domid_t domid, xc_domaininfo_t *ret);

/* The record of `domid`, created empty when `create`; NULL if absent (or on
 * allocation failure when creating: then *ret_err is XF_ENOMEM). */
struct xf_xen_dom *xf__xen_dom(struct xf_hv_xen *x, xf_domid_t domid, bool create, int *ret_err);
/* Forgets a domain's record (it was destroyed). */
void xf__xen_dom_forget(struct xf_hv_xen *x, xf_domid_t domid);
void xf__xen_doms_free(struct xf_hv_xen *x);

/* Memory operations (xen-mem.c). */
int xf__xen_set_max_pages(struct xf_hv *hv, xf_domid_t domid, uint64_t pages);
int xf__xen_set_paging_pool(struct xf_hv *hv, xf_domid_t domid, uint64_t pages);
int xf__xen_paging_pool(struct xf_hv_xen *x, xf_domid_t domid, uint64_t *ret_pages);
int xf__xen_claim(struct xf_hv *hv, xf_domid_t domid, uint32_t node, uint64_t pages);
int xf__xen_populate(struct xf_hv *hv, xf_domid_t domid, const struct xf_hv_populate *req,
                     uint64_t *ret_done);
int xf__xen_decrease(struct xf_hv *hv, xf_domid_t domid, uint64_t pages);
int xf__xen_set_node_affinity(struct xf_hv *hv, xf_domid_t domid, uint64_t node_mask);
int xf__xen_node_affinity(struct xf_hv_xen *x, xf_domid_t domid, uint64_t *ret_mask);

/* Ballooning over xenstore (xen-balloon.c, with libxenstore only). */
#ifdef HAVE_LIBXENSTORE
int xf__xen_balloon_info(struct xf_hv *hv, xf_domid_t domid, struct xf_hv_balloon *ret);
int xf__xen_set_balloon_target(struct xf_hv *hv, xf_domid_t domid, uint64_t target_kib);
int xf__xen_set_memory_offset(struct xf_hv *hv, xf_domid_t domid, int64_t offset_kib);
int xf__xen_set_uncooperative(struct xf_hv *hv, xf_domid_t domid, bool uncooperative);
void xf__xen_balloon_close(struct xf_hv_xen *x);
#endif

#endif
