/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Host accounting: from a backend snapshot and xenfit's ledger, the memory
 * free for a new VM on the host and on each NUMA node (DESIGN.md section 2).
 *
 *   host  = free_pages - outstanding_claims - low-memory reserve
 *           - the part of each pending reservation Xen does not see yet
 *   node  = memfree - claimed (where reported) - free DMA-zone memory
 *           - that node's share of pending reservations
 *
 * Xen's physinfo.free_pages counts dirty pages and ignores claims; numainfo
 * memfree ignores claims too. A reservation's unseen part is what its domain
 * has not yet taken or claimed: total - tot_pages - paging pool - outstanding
 * claim, floored at 0 (all of it before the domain exists). On a node, it is
 * what the reservation holds there minus the domain's pages there (and its
 * claim, for a node claim on that node when the hypervisor reports claimed
 * memory per node: only then is that claim already out of the node's figure). Xen keeps its DMA
 * zone (low memory on node 0) for last (xenbed: numa-placement, finding 3), so a guest placed on
 * node 0 cannot count on it: that node's capacity excludes it. The free DMA-zone pages come from
 * the backend where it reports them (snapshot node_dma_info, from XF_HV_CAP_NODE_DMA_INFO; 0 then
 * means an exhausted zone), else the whole zone (dma_zone_pages) is assumed free on node 0, which
 * is what Xen's allocation order makes likely. All subtractions saturate at 0.
 *
 * The low-memory reserve is host-wide, not a node's: Xen never refuses an allocation for it
 * (check_low_mem_virq() in xen/common/page_alloc.c only signals dom0), and xapi holds it back
 * from the host's free memory, not from a node's. So a node offers what Xen would give a guest
 * from it (memfree - claimed - free DMA zone - pending), capped by the host figure, which already
 * holds the reserve back: a VM that fits both leaves the reserve free somewhere on the host.
 * Charging the reserve to particular nodes as well would refuse VMs that leave it intact
 * (docs/topology.md, "Memory free for a new VM").
 */
#ifndef XENFIT_HOST_H
#define XENFIT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenfit/ledger.h"
#include "xenfit/types.h"

/* Xen's low_mem_virq_limit default: 64 MiB (xen/common/page_alloc.c). */
#define XF_LOW_MEM_RESERVE_PAGES_DEFAULT (UINT64_C(64) * 256)

struct xf_host_domain_state {
    xf_domid_t domid;
    uint64_t tot_pages;
    uint64_t paging_pool_pages;
    uint64_t outstanding_pages;
    uint64_t pages_per_node[XF_MAX_NODES];
};

/* What a backend reported at one moment. The caller owns `domains`. */
struct xf_host_snapshot {
    uint64_t total_pages;
    uint64_t free_pages;
    uint64_t outstanding_pages;
    uint32_t nr_nodes;
    struct xf_node_mem nodes[XF_MAX_NODES];
    bool node_claimed_info; /* nodes[].claimed_pages is reported (patched Xen) */
    bool node_dma_info;     /* nodes[].dma_free_pages is reported: 0 is an exhausted zone */
    uint32_t nr_dying;      /* domains still returning their memory */
    const struct xf_host_domain_state *domains;
    size_t nr_domains;
};

struct xf_host_params {
    uint64_t low_mem_reserve_pages; /* XF_LOW_MEM_RESERVE_PAGES_DEFAULT */
    uint64_t dma_zone_pages;        /* Xen's DMA zone on node 0 (0: not counted) */
    /* xen-api's view: host free memory is physinfo free_pages less the
     * reserve, outstanding claims not subtracted (squeezed's make_host sums
     * free_pages and scrub_pages, nothing in xapi, squeezed or xenopsd reads
     * outstanding_pages, at 87178fca..., 1c354a4... and 7fb8485a73...); a
     * pending reservation then counts all its domain has not allocated. */
    bool ignore_outstanding_claims;
};

struct xf_host_free {
    uint64_t host_free_pages; /* for a new VM */
    uint64_t node_free_pages[XF_MAX_NODES];
    /* The parts, for diagnostics. */
    uint64_t reserve_pages;
    uint64_t outstanding_pages;
    uint64_t pending_pages; /* unseen parts of reservations, host-wide */
    uint64_t node_pending_pages[XF_MAX_NODES];
    uint64_t node_dma_pages[XF_MAX_NODES];
};

void xf_host_params_init(struct xf_host_params *p);

/*
 * Computes the free memory for a new VM. `ledger` may be NULL (no pending
 * reservations). Returns 0, or XF_EINVAL for a snapshot with more than
 * XF_MAX_NODES nodes.
 */
int xf_host_free_for_new_vm(const struct xf_host_snapshot *s, const struct xf_ledger *ledger,
                            const struct xf_host_params *p, struct xf_host_free *ret);

/* Releases a snapshot's domain array (xf_host_snapshot_read in hv.h
 * allocates it); accepts a zeroed snapshot. */
void xf_host_snapshot_done(struct xf_host_snapshot *s);

/* The unseen part of one reservation, host-wide (see above). */
uint64_t xf_host_reservation_unseen(const struct xf_reservation *r,
                                    const struct xf_host_domain_state *dom);

#endif
