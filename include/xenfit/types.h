/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The few types and limits every layer shares: a domain id, the node limit
 * and the per-node memory figures a host reports. They belong to the core
 * (include/xenfit/host.h, ledger.h and the planner use them); the hypervisor
 * interface (hv.h) fills them, so no core header needs to include hv.h.
 */
#ifndef XENFIT_TYPES_H
#define XENFIT_TYPES_H

#include <stdint.h>

/* Xen's MAX_NUMNODES on x86 is 64: node sets fit in a uint64_t. */
#define XF_MAX_NODES 64u
/* No particular node: a global claim, or population by the domain's affinity. */
#define XF_NODE_ANY UINT32_MAX
/* A distance for nodes with no path between them (SLIT 255 and its kin). */
#define XF_DIST_UNREACHABLE UINT32_MAX

typedef uint32_t xf_domid_t;
/* A reservation not yet transferred to a domain; a domain never created. */
#define XF_DOMID_NONE UINT32_MAX
/* Xen's first reserved domain id (DOMID_FIRST_RESERVED, xen/include/public/xen.h):
 * DOMID_SELF, DOMID_IO, DOMID_XEN, ... name no guest. */
#define XF_DOMID_FIRST_RESERVED UINT32_C(0x7FF0)

/* One NUMA node's memory, as XEN_SYSCTL_numainfo reports it. memsize is the
 * node's spanned range. */
struct xf_node_mem {
    uint64_t memsize_pages;
    uint64_t memfree_pages; /* ignores claims */
    uint64_t claimed_pages; /* 0 unless the hypervisor reports it per node */
    /* Free pages of Xen's DMA zone on this node, which domain allocations
     * take only after every other node's memory (XEN_SYSCTL_availheap below
     * the DMA width); 0 unless the hypervisor reports it. */
    uint64_t dma_free_pages;
};

#endif
