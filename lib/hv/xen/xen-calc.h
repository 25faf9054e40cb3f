/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The real-Xen backend's own arithmetic, apart from libxenctrl so that it is
 * tested on any machine (tests/xen/test-hv-xen-calc.c): Xen's DMA width as
 * a toolstack can work it out, the Xen versions that accept a claim on a
 * dying domain, and the record of the extents the backend populated for a
 * domain. Xen's XENMEM_decrease_reservation names the frames to give back
 * (guest frame numbers, or machine frames for a PV guest), and nothing in
 * libxenctrl lists a domain's frames, so the backend remembers what it
 * allocated itself, and gives back the newest pages first.
 */
#ifndef XENFIT_HV_XEN_CALC_H
#define XENFIT_HV_XEN_CALC_H

#include <stdbool.h>
#include <stdint.h>

#include "xenfit/hv.h"

/* One populated extent: its first frame and its order. */
struct xf_xen_extent {
    uint64_t frame;
    uint32_t order;
};

/* What the backend populated in one domain, in allocation order. */
struct xf_xen_dom {
    xf_domid_t domid;
    uint64_t next_gpfn;  /* where the next extent goes in the guest's physmap */
    uint64_t last_given; /* pages of the last extent already given back */
    bool affinity_set;   /* the backend set the domain's node affinity */
    struct xf_xen_extent *extents;
    uint32_t n_extents;
    uint32_t cap_extents;
};

/*
 * Xen's DMA width (xen/common/page_alloc.c, end_boot_allocator): the
 * dma_bits= option of `cmdline` (Xen's command line; may be NULL), else, on
 * a host with more than one online node, x86's arch_get_dma_bitsize():
 * min(32, flsl(start + spanned / 4 - 1) + 12) of the first node with memory
 * below 4 GiB, taken to be node 0 starting at frame 0 (as on PCs; node
 * starts are not visible to a toolstack), else none (0). Returns 0 and
 * *ret_bits, or XF_ENODATA when it cannot tell (several nodes, node 0
 * without memory).
 */
int xf__xen_dma_bits(const char *cmdline, uint32_t nr_online_nodes, uint64_t node0_spanned_pages,
                     uint32_t *ret_bits);

/*
 * Xen's low_mem_virq_limit= option from `cmdline` (may be NULL), in pages
 * rounded down. Xen reads it with size_param() (xen/common/page_alloc.c,
 * opt_low_mem_virq), that is parse_size_and_unit() (xen/common/kernel.c): a
 * number (simple_strtoull, base 0) and an optional unit T, G, M, K or B
 * (either case); without one the number is in KiB. Returns true and
 * *ret_pages if the option is there and readable; false (and *ret_pages
 * untouched) if absent or malformed, when Xen's default of 64 MiB
 * (DEFAULT_LOW_MEM_VIRQ) applies. The last occurrence wins, as in Xen.
 */
bool xf__xen_low_mem_virq_limit(const char *cmdline, uint64_t *ret_pages);

/*
 * Whether a Xen of this version accepts XENMEM_claim_pages on a dying domain
 * (XF_HV_CAP_CLAIM_DYING_OK): `version` is XENVER_version's (major << 16 |
 * minor), `extra` XENVER_extraversion's (".7", ".5-pre", "-unstable"; may be
 * NULL). The check that refuses it ("xen/domain: Disallow XENMEM_claim_pages
 * on dying domains", xen/common/memory.c, do_memory_op) came with 4.19.5,
 * 4.20.3, 4.21.1 and 4.22.0: a release of a series before its fix accepts.
 * A patch level that cannot be read counts as 0. A distribution that
 * backported the fix is not recognised.
 */
bool xf__xen_claim_dying_ok(uint32_t version, const char *extra);

/* Makes room for `more` extents in d's record, before Xen allocates them, so
 * that what Xen hands out can always be recorded. 0 or XF_ENOMEM. */
int xf__xen_dom_reserve(struct xf_xen_dom *d, uint64_t more);

/* Records an extent (room reserved beforehand). */
void xf__xen_dom_record(struct xf_xen_dom *d, uint64_t frame, uint32_t order);

/* Pages recorded and not given back. */
uint64_t xf__xen_dom_pages(const struct xf_xen_dom *d);

/* The frames of the newest `n` recorded pages (n <= xf__xen_dom_pages()),
 * newest first, into `frames` (may be NULL); with `commit`, also drops them
 * from the record. */
void xf__xen_dom_take(struct xf_xen_dom *d, uint64_t n, uint64_t *frames, bool commit);

/* Frees d's extents (not d). */
void xf__xen_dom_clear(struct xf_xen_dom *d);

#endif
