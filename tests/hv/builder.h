/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * A minimal domain builder for the scheduler and scenario tests: a task for
 * xf_sim_sched that builds one domain the way libxl/xenopsd do, one
 * hypercall per step (create, vCPUs, max_pages, node affinity, paging pool,
 * claim, populate in 2 MiB chunks, extra pages, cancel the claim, unpause).
 * It is not xenfit's toolstack emulator; it only drives the interface.
 * On failure it records where and keeps the domain for inspection.
 */
#ifndef XENFIT_TESTS_BUILDER_H
#define XENFIT_TESTS_BUILDER_H

#include <stdint.h>

#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/sim.h"

enum bstage {
    B_START,
    B_CREATE,
    B_VCPUS,
    B_MAXMEM,
    B_AFFINITY,
    B_POOL,
    B_CLAIM,
    B_POPULATE,
    B_EXTRA,
    B_CANCEL,
    B_UNPAUSE,
    B_DONE,
};

struct builder {
    /* What to build. */
    enum xf_domain_type type;
    uint32_t vcpus;
    uint64_t memory_pages;  /* populated in 2 MiB extents, then 4 KiB */
    uint64_t extra_pages;   /* then these, in 4 KiB pages (firmware, video) */
    uint64_t pool_pages;    /* paging pool, set before the claim */
    uint64_t claim_pages;   /* 0: no claim; else the claim's target */
    uint32_t claim_node;    /* XF_NODE_ANY: a global claim */
    uint64_t affinity;      /* 0: none */
    uint32_t chunk_extents; /* 2 MiB extents per populate step */
    uint64_t start_delay_ns;
    /* What happened. */
    enum bstage stage;
    xf_domid_t domid;
    uint64_t populated;
    enum bstage failed_at;
    int error;
    bool claimed; /* the claim succeeded */
    uint64_t steps;
    /* Shared trace: which builder stepped, in order (for determinism). */
    uint32_t id;
    uint32_t *trace;
    size_t *trace_len;
    size_t trace_cap;
};

static inline int builder_fail(struct builder *b, int r)
{
    b->failed_at = b->stage;
    b->error = r;
    return r;
}

static inline int builder_step(void *ctx, struct xf_hv *hv, uint64_t *ret_sleep_ns)
{
    struct builder *b = ctx;
    uint64_t done, max;
    int r = 0;

    b->steps++;
    if (b->trace && *b->trace_len < b->trace_cap)
        b->trace[(*b->trace_len)++] = b->id;
    switch (b->stage) {
    case B_START:
        b->stage = B_CREATE;
        if (b->start_delay_ns) {
            *ret_sleep_ns = b->start_delay_ns;
            return 1;
        }
        __attribute__((fallthrough));
    case B_CREATE:
        r = xf_hv_domain_create(hv, b->type, &b->domid);
        b->stage = B_VCPUS;
        break;
    case B_VCPUS:
        r = xf_hv_set_max_vcpus(hv, b->domid, b->vcpus);
        b->stage = B_MAXMEM;
        break;
    case B_MAXMEM:
        /* libxl: memory + 1 MiB; a claim above max_pages is EINVAL, so the
         * toolstack raises max_pages to the claim first. */
        max = b->memory_pages + b->extra_pages;
        if (b->claim_pages > max)
            max = b->claim_pages;
        r = xf_hv_set_max_pages(hv, b->domid, max + 256);
        b->stage = B_AFFINITY;
        break;
    case B_AFFINITY:
        if (b->affinity)
            r = xf_hv_set_node_affinity(hv, b->domid, b->affinity);
        b->stage = B_POOL;
        break;
    case B_POOL:
        if (b->pool_pages)
            r = xf_hv_set_paging_pool(hv, b->domid, b->pool_pages);
        b->stage = B_CLAIM;
        break;
    case B_CLAIM:
        if (b->claim_pages) {
            r = xf_hv_claim(hv, b->domid, b->claim_node, b->claim_pages);
            b->claimed = r == 0;
        }
        b->stage = B_POPULATE;
        break;
    case B_POPULATE: {
        uint64_t left = b->memory_pages - b->populated;
        struct xf_hv_populate req = {.node = XF_NODE_ANY};
        if (left >= 512) {
            req.order = 9;
            req.nr_extents = left / 512 < b->chunk_extents ? left / 512 : b->chunk_extents;
        } else {
            req.nr_extents = left;
        }
        r = xf_hv_populate(hv, b->domid, &req, &done);
        b->populated += done << req.order;
        if (r == 0 && b->populated == b->memory_pages)
            b->stage = B_EXTRA;
        return r ? builder_fail(b, r) : 1;
    }
    case B_EXTRA:
        if (b->extra_pages) {
            struct xf_hv_populate req = {.nr_extents = b->extra_pages, .node = XF_NODE_ANY};
            r = xf_hv_populate(hv, b->domid, &req, &done);
        }
        b->stage = B_CANCEL;
        break;
    case B_CANCEL:
        if (b->claim_pages)
            r = xf_hv_claim(hv, b->domid, XF_NODE_ANY, 0);
        b->stage = B_UNPAUSE;
        break;
    case B_UNPAUSE:
        r = xf_hv_unpause(hv, b->domid);
        b->stage = B_DONE;
        return r ? builder_fail(b, r) : 0;
    case B_DONE:
        return 0;
    }
    if (r) {
        b->stage--; /* the stage that failed */
        return builder_fail(b, r);
    }
    return 1;
}

#endif
