/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The host spec's defaults that depend on other fields, and its checks
 * across fields: CPU topology (every CPU on exactly one node, cores dividing
 * CPUs), each node's boot memory fitting in its RAM, Xen's own memory and
 * DMA zone sized as Xen sizes them when the spec does not say, dom0 placed
 * mostly on the last node (xenbed: dom0's 1 GiB came 763 MiB from node 1).
 * The sources of every default are in docs/host-spec.md.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim-internal.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

#define SPEC_UNSET UINT64_MAX

/* Xen's own memory beyond the frame table on the xenbed host: 11137 pages
 * measured, less 8192 of frame table for 4 GiB (32-byte struct page_info per
 * 4 KiB page, i.e. 1/128 of the spanned memory). */
#define XEN_FIXED_PAGES 2945u
#define FRAME_TABLE_DIV 128u

void xf__sim_parse_message(struct xf_parse_error *err, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
}

void xf__sim_truth_defaults(struct xf_sim_truth truth[4])
{
    /* HVM: xen-api PR 6869, 30 pages at 0 vCPUs and 264 per vCPU (AMD and
     * Intel agree), of which 256 are the paging pool's per-vCPU share.
     * PV: the real-Xen tier's table (tests/data/xen/pv-overhead-4.17.csv),
     * whose tightest line over every row is 21 + 4 per vCPU (xenbed's recipe
     * first measured about 16 + 3).
     * A new HAP domain (HVM, PVH, pv_in_pvh) already has a 256-page paging
     * pool (hap_enable(), measured in the real-Xen tier); the toolstack's
     * set_paging_pool then sizes the whole pool.
     * PVH and pv_in_pvh: xenbed, 16 + 264 per vCPU + 1 per MiB, the pool
     * being 256 per vCPU + 1 per MiB. PV: no pool.
     * Extra guest pages: PVH tot_pages = memory*256 + 17 (xenbed); HVM and
     * pv_in_pvh use the same libxc HVM-container builder (assumed equal); PV
     * tot_pages = memory*256 exactly. Slack: libxl's LIBXL_MAXMEM_CONSTANT,
     * 1 MiB (xenbed: max_pages = memory + 256). */
    truth[XF_DOMAIN_HVM] = (struct xf_sim_truth){30, 8, 17, 256, 256};
    truth[XF_DOMAIN_PVH] = (struct xf_sim_truth){16, 8, 17, 256, 256};
    truth[XF_DOMAIN_PV] = (struct xf_sim_truth){21, 4, 0, 256, 0};
    truth[XF_DOMAIN_PV_IN_PVH] = (struct xf_sim_truth){16, 8, 17, 256, 256};
}

void xf__sim_timing_defaults(struct xf_sim_timing *t)
{
    /* Assumptions, not measurements (docs/host-spec.md): a dom0 hypercall
     * costs microseconds; clearing a 4 KiB page takes ~250 ns; a destroyed
     * domain returns 2 GiB/s, so 64 GiB in 32 s, inside xen-api's 64 s wait. */
    *t = (struct xf_sim_timing){
        .hypercall_ns = 2000,
        .extent_ns = 200,
        .page_ns = 2,
        .scrub_page_ns = 250,
        .release_pages_per_s = UINT64_C(2048) * XF_PAGES_PER_MIB,
        .release_tail_pages = 0,
        .release_tail_ns = 0,
        .idle_scrub_pages_per_s = 0,
    };
}

static unsigned fls64(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

/* arch_get_dma_bitsize() (xen/arch/x86/numa.c): min(32, the bits covering
 * the first quarter of the lowest node). Node 0 starts at pfn 0 here. */
static uint64_t dma_zone_pages(const struct xf_sim_node_spec *n0)
{
    uint64_t quarter = n0->spanned_pages / 4;
    unsigned bits = quarter ? fls64(quarter - 1) + XF_PAGE_SHIFT : XF_PAGE_SHIFT;

    if (bits > 32)
        bits = 32;
    return UINT64_C(1) << (bits - XF_PAGE_SHIFT);
}

static int build_topology(struct xf_sim_spec *spec, struct xf_parse_error *err)
{
    uint32_t socket_cores[XF_SIM_MAX_CPUS] = {0};

    /* The parser marks CPUs it has not seen with node UINT32_MAX. */
    for (uint32_t c = 0; c < spec->nr_cpus; c++)
        if (spec->cpus[c].node >= spec->nr_nodes)
            return xf__sim_parse_fail(err, "nodes: CPU %u is on no node (CPU ids must be 0..%u)", c,
                                      spec->nr_cpus - 1);
    for (uint32_t i = 0; i < spec->nr_nodes; i++) {
        struct xf_sim_node_spec *n = &spec->nodes[i];
        if (n->nr_cores == UINT32_MAX)
            n->nr_cores = n->nr_cpus;
        if (n->nr_cpus == 0 && n->nr_cores != 0)
            return xf__sim_parse_fail(err, "nodes[%u].cores: %u cores on a node without CPUs", i,
                                      n->nr_cores);
        if (n->nr_cpus && (n->nr_cores == 0 || n->nr_cpus % n->nr_cores != 0))
            return xf__sim_parse_fail(err,
                                      "nodes[%u].cores: %u cores do not divide the node's %u "
                                      "CPUs evenly",
                                      i, n->nr_cores, n->nr_cpus);
    }
    /* Sibling threads are adjacent CPU ids, as Xen usually enumerates them;
     * core ids count within a socket, over its nodes in order. */
    for (uint32_t i = 0; i < spec->nr_nodes; i++) {
        struct xf_sim_node_spec *n = &spec->nodes[i];
        uint32_t k = 0, threads = n->nr_cores ? n->nr_cpus / n->nr_cores : 1;
        for (uint32_t c = 0; c < spec->nr_cpus; c++) {
            if (spec->cpus[c].node != i)
                continue;
            spec->cpus[c].socket = n->socket;
            spec->cpus[c].core = socket_cores[n->socket] + k / threads;
            k++;
        }
        socket_cores[n->socket] += n->nr_cores;
    }
    return 0;
}

/* Free RAM of a node before dom0 and the DMA zone are taken out. */
static uint64_t boot_free(const struct xf_sim_node_spec *n)
{
    uint64_t used = n->firmware_reserved_pages + n->xen_pages;
    return n->memory_pages > used ? n->memory_pages - used : 0;
}

static int place_memory(struct xf_sim_spec *spec, struct xf_parse_error *err)
{
    uint32_t xen_node = UINT32_MAX;
    uint64_t left;

    for (uint32_t i = 0; i < spec->nr_nodes; i++) {
        struct xf_sim_node_spec *n = &spec->nodes[i];
        if (n->spanned_pages == SPEC_UNSET)
            n->spanned_pages = n->memory_pages;
        if (n->spanned_pages < n->memory_pages)
            return xf__sim_parse_fail(err,
                                      "nodes[%u].spanned_mib: the spanned range (%llu pages) is "
                                      "smaller than the node's memory (%llu pages)",
                                      i, (unsigned long long)n->spanned_pages,
                                      (unsigned long long)n->memory_pages);
        if (n->firmware_reserved_pages > n->memory_pages)
            return xf__sim_parse_fail(err,
                                      "nodes[%u].firmware_reserved_mib: more than the node's "
                                      "memory",
                                      i);
        if (n->xen_pages == SPEC_UNSET)
            xen_node = i;
    }
    /* Xen's own memory, when not given: each node holds the frame table of
     * its own range (1/128 of it), and the reserved node also the rest
     * measured on xenbed. */
    if (xen_node != UINT32_MAX)
        for (uint32_t i = 0; i < spec->nr_nodes; i++)
            spec->nodes[i].xen_pages = spec->nodes[i].spanned_pages / FRAME_TABLE_DIV +
                                       (i == xen_node ? XEN_FIXED_PAGES : 0);
    for (uint32_t i = 0; i < spec->nr_nodes; i++) {
        const struct xf_sim_node_spec *n = &spec->nodes[i];
        if (n->firmware_reserved_pages + n->xen_pages > n->memory_pages)
            return xf__sim_parse_fail(err,
                                      "xen.reserved_mib: Xen's %llu pages do not fit on node %u "
                                      "(%llu pages of RAM, %llu kept by firmware)",
                                      (unsigned long long)n->xen_pages, i,
                                      (unsigned long long)n->memory_pages,
                                      (unsigned long long)n->firmware_reserved_pages);
    }
    /* dom0: as given, or from the last node down. */
    if (spec->nodes[0].dom0_pages == SPEC_UNSET) {
        left = spec->dom0_memory_pages;
        for (uint32_t i = spec->nr_nodes; i-- > 0;) {
            uint64_t take = boot_free(&spec->nodes[i]);
            if (take > left)
                take = left;
            spec->nodes[i].dom0_pages = take;
            left -= take;
        }
        if (left)
            return xf__sim_parse_fail(err,
                                      "dom0.memory_mib: %llu pages do not fit in the host's free "
                                      "memory at boot",
                                      (unsigned long long)spec->dom0_memory_pages);
    }
    for (uint32_t i = 0; i < spec->nr_nodes; i++)
        if (spec->nodes[i].dom0_pages > boot_free(&spec->nodes[i]))
            return xf__sim_parse_fail(err,
                                      "dom0.node_pages[%u]: %llu pages do not fit on node %u "
                                      "(%llu free at boot)",
                                      i, (unsigned long long)spec->nodes[i].dom0_pages, i,
                                      (unsigned long long)boot_free(&spec->nodes[i]));
    /* The DMA zone: given as free memory at boot, or estimated as the zone
     * Xen would choose less what Xen and the firmware keep on node 0. */
    struct xf_sim_node_spec *n0 = &spec->nodes[0];
    left = boot_free(n0) - n0->dom0_pages;
    if (n0->dma_pages == SPEC_UNSET) {
        uint64_t zone = dma_zone_pages(n0), used = n0->firmware_reserved_pages + n0->xen_pages;
        if (zone > n0->memory_pages)
            zone = n0->memory_pages;
        n0->dma_pages = zone > used ? zone - used : 0;
        if (n0->dma_pages > left)
            n0->dma_pages = left;
    }
    if (n0->dma_pages > left)
        return xf__sim_parse_fail(err,
                                  "xen.dma_mib: %llu pages of free DMA zone but node 0 has only "
                                  "%llu free at boot",
                                  (unsigned long long)n0->dma_pages, (unsigned long long)left);
    return 0;
}

int xf__sim_spec_finish(struct xf_sim_spec *spec, struct xf_parse_error *err)
{
    int r;

    if (spec->nr_nodes == 0 || spec->nr_nodes > XF_MAX_NODES)
        return xf__sim_parse_fail(err, "nodes: 1 to %u nodes", XF_MAX_NODES);
    if (spec->nr_cpus == 0)
        return xf__sim_parse_fail(err, "nodes: the host has no CPU (give each node its cpus)");
    if ((r = build_topology(spec, err)) || (r = place_memory(spec, err)))
        return r;
    if (spec->dom0_vcpus == 0)
        spec->dom0_vcpus = spec->nr_cpus;
    if (spec->node_claims && spec->claim_semantics == XF_SIM_CLAIMS_4_17)
        return xf__sim_parse_fail(err, "xen.node_claims: node claims need claim_semantics "
                                       "\"4.22\" (the series builds on 4.22's consumption)");
    return 0;
}
