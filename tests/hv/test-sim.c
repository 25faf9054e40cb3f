/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The simulator's own rules, with exact numbers: what needs simulator-only
 * control (the spec, simulated time, claim semantics, fault injection, the
 * hidden state) and so cannot be part of the backend contract. The xenbed
 * host (hosts/xenbed-2node.json) boots to the numbers measured on real Xen
 * 4.17; the others are small specs written here, their numbers worked out
 * in the comments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv-test.h"
#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/sim.h"

static const uint64_t BIG = UINT64_C(1) << 40;

static struct xf_hv *open_host(const char *file, int semantics)
{
    struct xf_sim_options o;
    struct xf_hv *hv = NULL;

    xf_sim_options_init(&o);
    o.claim_semantics = semantics;
    assert_int_equal(hvt_sim_open(file, &o, &hv), 0);
    return hv;
}

static struct xf_hv *open_json(const char *json)
{
    struct xf_hv *hv = NULL;
    assert_int_equal(hvt_sim_json(json, NULL, &hv), 0);
    return hv;
}

static struct xf_hv_physinfo phys(struct xf_hv *hv)
{
    struct xf_hv_physinfo p;
    assert_int_equal(xf_hv_physinfo(hv, &p), 0);
    return p;
}

static struct xf_hv_domain_info dinfo(struct xf_hv *hv, xf_domid_t d)
{
    struct xf_hv_domain_info i;
    assert_int_equal(xf_hv_domain_info(hv, d, &i), 0);
    return i;
}

static struct xf_sim_domain_state dstate(struct xf_hv *hv, xf_domid_t d)
{
    struct xf_sim_domain_state s;
    assert_int_equal(xf_sim_domain_state(hv, d, &s), 0);
    return s;
}

static struct xf_sim_node_state nstate(struct xf_hv *hv, uint32_t node)
{
    struct xf_sim_node_state s;
    assert_int_equal(xf_sim_node_state(hv, node, &s), 0);
    return s;
}

static xf_domid_t mkdom(struct xf_hv *hv, enum xf_domain_type type, uint32_t vcpus,
                        uint64_t max_pages)
{
    xf_domid_t d;
    assert_int_equal(xf_hv_domain_create(hv, type, &d), 0);
    assert_int_equal(xf_hv_set_max_vcpus(hv, d, vcpus), 0);
    assert_int_equal(xf_hv_set_max_pages(hv, d, max_pages), 0);
    return d;
}

static int populate(struct xf_hv *hv, xf_domid_t d, uint64_t n, uint32_t order, uint32_t node,
                    bool exact, uint64_t *done)
{
    struct xf_hv_populate req = {
        .nr_extents = n, .order = order, .node = node, .exact_node = exact};
    return xf_hv_populate(hv, d, &req, done);
}

static void populate_ok(struct xf_hv *hv, xf_domid_t d, uint64_t n, uint32_t order, uint32_t node,
                        bool exact)
{
    uint64_t done;
    assert_int_equal(populate(hv, d, n, order, node, exact, &done), 0);
    assert_int_equal(done, n);
}

/* Boot: xenbed's `xenmem phys` and `xl info -n` numbers, exactly. */
static void test_sim_boot_matches_xenbed(void **state)
{
    struct xf_hv *hv = open_host("xenbed-2node.json", XF_SIM_FROM_SPEC);
    struct xf_hv_physinfo p = phys(hv);
    struct xf_node_mem n[XF_MAX_NODES];
    uint32_t dist[XF_MAX_NODES * XF_MAX_NODES], nn, nd;
    xf_domid_t ids[8];
    struct xf_hv_domain_info d0;
    (void)state;

    assert_int_equal(p.total_pages, 1048446); /* 4 GiB - 130 firmware pages */
    assert_int_equal(p.free_pages, 775165);
    assert_int_equal(p.outstanding_pages, 0);
    assert_int_equal(p.nr_nodes, 2);
    assert_int_equal(p.nr_cpus, 4);
    /* xl info: total_memory 4095, free_memory 3027. */
    assert_int_equal(p.total_pages / 256, 4095);
    assert_int_equal((p.free_pages - p.outstanding_pages) / 256, 3027);
    assert_int_equal(xf_hv_numainfo(hv, XF_MAX_NODES, n, dist, &nn), 0);
    assert_int_equal(n[0].memsize_pages, 524288);
    assert_int_equal(n[0].memfree_pages, 445643); /* xl info -n: 1740 */
    assert_int_equal(n[1].memfree_pages, 329522); /* 1287 */
    assert_int_equal(n[0].dma_free_pages, 114432);
    assert_int_equal(n[1].dma_free_pages, 0);
    assert_int_equal(dist[1], 21);
    assert_int_equal(dist[XF_MAX_NODES], 21);
    assert_int_equal(xf_hv_domain_list(hv, 8, ids, &nd), 0);
    assert_int_equal(nd, 1);
    assert_int_equal(ids[0], 0);
    d0 = dinfo(hv, 0);
    assert_int_equal(d0.tot_pages, 262144);
    assert_int_equal(d0.pages_per_node[0], 67378);
    assert_int_equal(d0.pages_per_node[1], 194766);
    assert_int_equal(d0.vcpus, 4);
    assert_false(d0.paused);
    assert_int_equal(xf_sim_low_mem_virq_pages(hv), 16384);
    /* Xen 4.17.7 accepts a claim on a dying domain. */
    assert_int_equal(xf_hv_caps(hv), XF_HV_CAP_SIMULATED | XF_HV_CAP_NODE_DMA_INFO |
                                         XF_HV_CAP_CLAIM_DYING_OK | XF_HV_CAP_DOMAIN_NODE_PAGES);
    xf_hv_free(hv);
}

/* setup_low_mem_virq(): capped by what is available, halved when the
 * default would fire at once, rounded down to a power of two, 1 GiB at most. */
static void test_sim_low_mem_virq_threshold(void **state)
{
    /* 20000 pages, Xen 1000, dom0 9000: 10000 available. The 64 MiB default
     * (16384) is capped to 10000, equal to the available memory, so halved
     * to 5000, then rounded down to 4096. */
    static const char *tiny = "{\"nodes\": [{\"memory_pages\": 20000, \"cpus\": 1}],"
                              " \"xen\": {\"reserved_pages\": 1000, \"dma_pages\": 0},"
                              " \"dom0\": {\"memory_pages\": 9000}}";
    /* An explicit limit is not halved: 10 MiB = 2560 pages -> 2048;
     * 2048 MiB is capped to 1 GiB (262144 pages, a power of two); 0 disables. */
#define LOWMEM_SPEC                                                                                \
    "{\"nodes\": [{\"memory_mib\": 4096, \"cpus\": 1}],"                                           \
    " \"xen\": {\"low_mem_virq_limit_mib\": %d}, \"dom0\": {\"memory_mib\": 512}}"
    static const struct {
        int mib;
        uint64_t pages;
    } cases[] = {{10, 2048}, {2048, 262144}, {0, 0}, {64, 16384}};
    char json[512];
    struct xf_hv *hv;
    (void)state;

    hv = open_json(tiny);
    assert_int_equal(phys(hv).free_pages, 10000);
    assert_int_equal(xf_sim_low_mem_virq_pages(hv), 4096);
    xf_hv_free(hv);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(json, sizeof(json), LOWMEM_SPEC, cases[i].mib);
        hv = open_json(json);
        assert_int_equal(xf_sim_low_mem_virq_pages(hv), cases[i].pages);
        xf_hv_free(hv);
    }
}

/* Hidden pages come from the truth profile and are not in tot_pages: a PV
 * domain with 4 vCPUs costs 21 + 4 * 4 = 37 pages (the real-Xen tier's
 * line over tests/data/xen/pv-overhead-4.17.csv, whose 4-vCPU rows are
 * 28-34); an HVM domain 30 + 8 per vCPU; PVH 16 + 8 per vCPU. A new HVM or
 * PVH domain also has a 256-page paging pool from creation (hap_enable()),
 * a PV one none. */
static void test_sim_hidden_pages_follow_truth(void **state)
{
    struct xf_hv *hv = open_host("xenbed-2node.json", XF_SIM_FROM_SPEC);
    uint64_t f0 = phys(hv).free_pages;
    xf_domid_t pv, hvm, pvh;
    (void)state;

    assert_int_equal(xf_hv_domain_create(hv, XF_DOMAIN_PV, &pv), 0);
    assert_int_equal(phys(hv).free_pages, f0 - 21);
    assert_int_equal(xf_hv_set_max_vcpus(hv, pv, 4), 0);
    assert_int_equal(phys(hv).free_pages, f0 - 37);
    assert_int_equal(dstate(hv, pv).hidden_pages, 37);
    assert_int_equal(dinfo(hv, pv).tot_pages, 0);
    assert_int_equal(dinfo(hv, pv).paging_pool_pages, 0);
    assert_int_equal(xf_hv_set_max_vcpus(hv, pv, 4), XF_EINVAL); /* once */
    hvm = mkdom(hv, XF_DOMAIN_HVM, 2, 1000);
    assert_int_equal(dstate(hv, hvm).hidden_pages, 30 + 2 * 8);
    assert_int_equal(dinfo(hv, hvm).paging_pool_pages, 256);
    pvh = mkdom(hv, XF_DOMAIN_PVH, 3, 1000);
    assert_int_equal(dstate(hv, pvh).hidden_pages, 16 + 3 * 8);
    assert_int_equal(dinfo(hv, pvh).paging_pool_pages, 256);
    /* So far: PV 37, HVM 46 + 256, PVH 40 + 256. */
    assert_int_equal(phys(hv).free_pages, f0 - 37 - 302 - 296);
    /* The paging pool is separate and visible, and set_paging_pool sizes
     * all of it: libxl's 256 per vCPU + 1 per MiB for a 256 MiB PVH guest
     * with 3 vCPUs is 1024 pages, 768 more than the 256 it has. */
    assert_int_equal(xf_hv_set_paging_pool(hv, pvh, 3 * 256 + 256), 0);
    assert_int_equal(dinfo(hv, pvh).paging_pool_pages, 1024);
    assert_int_equal(phys(hv).free_pages, f0 - 37 - 302 - 40 - 1024);
    xf_hv_free(hv);
}

/* d->last_alloc_node starts at 0, so cycle_node() sends a fresh domain's
 * first page to node 1 and then alternates: the 25 hidden pages of a 1-vCPU
 * PV domain (21 + 4) are 13 on node 1 (pages 1, 3, ..., 25) and 12 on node
 * 0, the last on node 1. */
static void test_sim_round_robin_starts_after_node0(void **state)
{
    struct xf_hv *hv = open_host("xenbed-2node.json", XF_SIM_FROM_SPEC);
    xf_domid_t d = mkdom(hv, XF_DOMAIN_PV, 1, BIG);
    struct xf_sim_domain_state s = dstate(hv, d);
    (void)state;

    assert_int_equal(s.hidden_per_node[1], 13);
    assert_int_equal(s.hidden_per_node[0], 12);
    assert_int_equal(s.last_alloc_node, 1);
    populate_ok(hv, d, 3, 0, XF_NODE_ANY, false);
    assert_int_equal(dinfo(hv, d).pages_per_node[0], 2); /* 0, 1, 0 */
    assert_int_equal(dinfo(hv, d).pages_per_node[1], 1);
    xf_hv_free(hv);
}

/* Xen hands out the DMA zone only after every other node's memory is gone
 * (xenbed NUMA finding 3): a domain on node 0 spills to node 1 while node 0
 * still has its whole DMA zone free. */
static void test_sim_dma_zone_used_last(void **state)
{
    struct xf_hv *hv = open_host("xenbed-2node.json", XF_SIM_FROM_SPEC);
    xf_domid_t d = mkdom(hv, XF_DOMAIN_PV, 1, BIG);
    struct xf_sim_stats st;
    struct xf_hv_domain_info i;
    (void)state;

    /* Normal memory left: node 0 445643 - 114432 (DMA) - 12 (hidden) =
     * 331199 = 646 * 512 + 447; node 1 329522 - 13 = 329509. */
    assert_int_equal(nstate(hv, 0).free_pages - nstate(hv, 0).dma_free_pages, 331199);
    assert_int_equal(nstate(hv, 1).free_pages, 329509);
    assert_int_equal(xf_hv_set_node_affinity(hv, d, 0x1), 0);
    populate_ok(hv, d, 646, 9, XF_NODE_ANY, false);
    populate_ok(hv, d, 447 + 10, 0, XF_NODE_ANY, false);
    i = dinfo(hv, d);
    assert_int_equal(i.pages_per_node[0], 331199);
    assert_int_equal(i.pages_per_node[1], 10); /* spilled, DMA zone untouched */
    assert_int_equal(nstate(hv, 0).dma_free_pages, 114432);
    /* Node 1's 329499 left = 643 * 512 + 283, then 5 more: the DMA zone. */
    populate_ok(hv, d, 643, 9, XF_NODE_ANY, false);
    populate_ok(hv, d, 283 + 5, 0, XF_NODE_ANY, false);
    i = dinfo(hv, d);
    assert_int_equal(i.pages_per_node[1], 329509);
    assert_int_equal(i.pages_per_node[0], 331199 + 5);
    assert_int_equal(nstate(hv, 0).dma_free_pages, 114427);
    assert_int_equal(xf_sim_stats(hv, &st), 0);
    assert_int_equal(st.dma_pages_taken, 5);
    /* 10 + 643 + 283 extents went off node 0. */
    assert_int_equal(st.off_node_extents, 10 + 643 + 283);
    /* Freed, the DMA pages go back to the DMA zone: ballooning out 329509 +
     * 3 pages takes node 1's first, then node 0's normal pages (the DMA
     * zone last); destroying returns the rest. */
    assert_int_equal(xf_hv_decrease(hv, d, 329509 + 3), 0);
    assert_int_equal(nstate(hv, 0).dma_free_pages, 114427);
    assert_int_equal(dinfo(hv, d).pages_per_node[0], 331199 + 2);
    assert_int_equal(xf_hv_destroy(hv, d), 0);
    assert_int_equal(xf_hv_sleep_ns(hv, 2000000000), 0);
    assert_int_equal(nstate(hv, 0).dma_free_pages, 114432);
    assert_int_equal(phys(hv).free_pages, 775165);
    xf_hv_free(hv);
}

/* Two 1 GiB nodes; Xen 4096 pages and dom0 65536 on node 0, no DMA zone;
 * destroyed memory returns at once; time costs 1000 ns per call, 100 per
 * extent, 1 per page, 50 per dirty page scrubbed. */
static const char *small2 =
    "{\"nodes\": [{\"memory_mib\": 1024, \"cpus\": 1}, {\"memory_mib\": 1024, \"cpus\": 1}],"
    " \"distances\": [[10, 20], [20, 10]],"
    " \"xen\": {\"reserved_pages\": 4096, \"dma_pages\": 0},"
    " \"dom0\": {\"memory_pages\": 65536, \"node_pages\": [65536, 0]},"
    " \"timing\": {\"release_mib_per_s\": 0, \"hypercall_ns\": 1000, \"extent_ns\": 100,"
    "             \"page_ns\": 1, \"scrub_page_ns\": 50}}";

/* get_free_buddy() looks for clean memory anywhere before dirty memory on
 * the preferred node (an order-0 request takes a dirty page at once), and
 * a dirty allocation costs scrub time. */
static void test_sim_clean_memory_preferred(void **state)
{
    struct xf_hv *hv = open_json(small2);
    xf_domid_t d1, d2;
    uint64_t t0;
    (void)state;

    /* Node 1: 262144 free; d1's 25 hidden pages put 13 there: 262131 left
     * = 511 * 512 + 499. */
    d1 = mkdom(hv, XF_DOMAIN_PV, 1, BIG);
    assert_int_equal(xf_hv_set_node_affinity(hv, d1, 0x2), 0);
    populate_ok(hv, d1, 511, 9, XF_NODE_ANY, false);
    populate_ok(hv, d1, 499, 0, XF_NODE_ANY, false);
    assert_int_equal(dinfo(hv, d1).pages_per_node[0], 0);
    assert_int_equal(nstate(hv, 1).free_pages, 0);
    assert_int_equal(xf_hv_destroy(hv, d1), 0);
    /* Everything back at once, all of it dirty on node 1. */
    assert_int_equal(nstate(hv, 1).free_pages, 262144);
    assert_int_equal(nstate(hv, 1).dirty_pages, 262144);
    assert_int_equal(xf_hv_domain_info(hv, d1, &(struct xf_hv_domain_info){0}), XF_ESRCH);

    d2 = mkdom(hv, XF_DOMAIN_PV, 1, BIG);
    assert_int_equal(xf_hv_set_node_affinity(hv, d2, 0x2), 0);
    /* A 2 MiB extent: node 1 has no clean buddy, node 0 has: node 0. */
    populate_ok(hv, d2, 1, 9, XF_NODE_ANY, false);
    assert_int_equal(dinfo(hv, d2).pages_per_node[0], 512);
    /* A 4 KiB page takes node 1's dirty memory. */
    populate_ok(hv, d2, 1, 0, XF_NODE_ANY, false);
    assert_int_equal(dinfo(hv, d2).pages_per_node[1], 1);
    /* Exact node 1: dirty it is, scrubbed: 1000 + 100 + 512 * 1 + 512 * 50. */
    t0 = xf_hv_now_ns(hv);
    populate_ok(hv, d2, 1, 9, 1, true);
    assert_int_equal(xf_hv_now_ns(hv) - t0, 1000 + 100 + 512 + 512 * 50);
    assert_int_equal(dinfo(hv, d2).pages_per_node[1], 513);
    xf_hv_free(hv);
}

/* Idle scrubbing cleans dirty memory at its rate, per node, and cannot bank
 * idle time: 1 MiB/s is 256 pages/s; operations cost nothing here. */
static void test_sim_idle_scrub(void **state)
{
    static const char *json =
        "{\"nodes\": [{\"memory_mib\": 1024, \"cpus\": 1}],"
        " \"xen\": {\"reserved_pages\": 0, \"dma_pages\": 0}, \"dom0\": {\"memory_mib\": 64},"
        " \"timing\": {\"hypercall_ns\": 0, \"extent_ns\": 0, \"page_ns\": 0,"
        "             \"idle_scrub_mib_per_s\": 1}}";
    struct xf_hv *hv = open_json(json);
    xf_domid_t d = mkdom(hv, XF_DOMAIN_PV, 1, BIG);
    (void)state;

    /* 10 s with nothing dirty: no credit saved for later. */
    assert_int_equal(xf_hv_sleep_ns(hv, 10000000000), 0);
    populate_ok(hv, d, 1000, 0, XF_NODE_ANY, false);
    assert_int_equal(xf_hv_decrease(hv, d, 1000), 0);
    assert_int_equal(nstate(hv, 0).dirty_pages, 1000);
    assert_int_equal(xf_hv_sleep_ns(hv, 1000000000), 0);
    assert_int_equal(nstate(hv, 0).dirty_pages, 1000 - 256);
    assert_int_equal(xf_hv_sleep_ns(hv, 500000000), 0);
    assert_int_equal(nstate(hv, 0).dirty_pages, 1000 - 384);
    assert_int_equal(xf_hv_sleep_ns(hv, 3000000000), 0);
    assert_int_equal(nstate(hv, 0).dirty_pages, 0);
    xf_hv_free(hv);
}

/* 4.17: pages freed while a claim is active raise it again; 4.22: not. */
static void test_sim_claim_semantics_on_free(void **state)
{
    static const struct {
        int semantics;
        uint64_t after;
    } cases[] = {{XF_SIM_CLAIMS_4_17, 950}, {XF_SIM_CLAIMS_4_22, 900}};
    (void)state;

    for (size_t k = 0; k < 2; k++) {
        struct xf_hv *hv = open_host("xenbed-2node.json", cases[k].semantics);
        xf_domid_t d = mkdom(hv, XF_DOMAIN_PV, 1, 4096);
        populate_ok(hv, d, 100, 0, XF_NODE_ANY, false);
        assert_int_equal(xf_hv_claim(hv, d, XF_NODE_ANY, 1000), 0);
        assert_int_equal(dinfo(hv, d).outstanding_pages, 900);
        /* Balloon 50 pages out: 4.17's domain_adjust_tot_pages(d, -50)
         * adds 50 to the outstanding claim (900 + 50). */
        assert_int_equal(xf_hv_decrease(hv, d, 50), 0);
        assert_int_equal(dinfo(hv, d).outstanding_pages, cases[k].after);
        assert_int_equal(phys(hv).outstanding_pages, cases[k].after);
        xf_hv_free(hv);
    }
}

/* 4.22 consumes the claim before assign_pages() checks max_pages, so pages
 * refused there lose their part of the claim; 4.17 consumes only on
 * assignment. Claim 600 on max 600: the first 512-page extent leaves 88;
 * the second consumes those 88 (4.22), then is refused (1024 > 600). */
static void test_sim_claim_lost_on_over_allocation(void **state)
{
    static const struct {
        int semantics;
        uint64_t left;
    } cases[] = {{XF_SIM_CLAIMS_4_22, 0}, {XF_SIM_CLAIMS_4_17, 88}};
    (void)state;

    for (size_t k = 0; k < 2; k++) {
        struct xf_hv *hv = open_host("xenbed-2node.json", cases[k].semantics);
        xf_domid_t d = mkdom(hv, XF_DOMAIN_PV, 1, 600);
        uint64_t done, free1;
        assert_int_equal(xf_hv_claim(hv, d, XF_NODE_ANY, 600), 0);
        populate_ok(hv, d, 1, 9, XF_NODE_ANY, false);
        free1 = phys(hv).free_pages;
        assert_int_equal(populate(hv, d, 1, 9, XF_NODE_ANY, false, &done), XF_ENOMEM);
        assert_int_equal(done, 0);
        assert_int_equal(dinfo(hv, d).outstanding_pages, cases[k].left);
        assert_int_equal(phys(hv).free_pages, free1); /* the pages went back */
        xf_hv_free(hv);
    }
}

/* A node claim is consumed only by allocations on its node; once used up
 * the domain may claim again, globally. */
static void test_sim_node_claim_consumed_on_node_only(void **state)
{
    struct xf_hv *hv = open_host("2socket-4node.json", XF_SIM_FROM_SPEC);
    xf_domid_t d = mkdom(hv, XF_DOMAIN_PV, 1, BIG);
    (void)state;

    assert_int_equal(xf_hv_claim(hv, d, 3, 1000), 0);
    assert_int_equal(dstate(hv, d).claim_node, 3);
    assert_int_equal(nstate(hv, 3).claimed_pages, 1000);
    populate_ok(hv, d, 100, 0, 0, true);
    assert_int_equal(dinfo(hv, d).outstanding_pages, 1000); /* node 0: not consumed */
    populate_ok(hv, d, 100, 0, 3, true);
    assert_int_equal(dinfo(hv, d).outstanding_pages, 900);
    assert_int_equal(nstate(hv, 3).claimed_pages, 900);
    populate_ok(hv, d, 900, 0, 3, true);
    assert_int_equal(dinfo(hv, d).outstanding_pages, 0);
    assert_int_equal(nstate(hv, 3).claimed_pages, 0);
    assert_int_equal(dstate(hv, d).claim_node, XF_NODE_ANY);
    /* tot_pages is 1100 now: a global claim of 1110 leaves 10 outstanding. */
    assert_int_equal(xf_hv_claim(hv, d, XF_NODE_ANY, 1110), 0);
    assert_int_equal(dinfo(hv, d).outstanding_pages, 10);
    assert_int_equal(nstate(hv, 3).claimed_pages, 0);
    xf_hv_free(hv);
}

/* Other allocations skip a node whose unclaimed memory is below the
 * request: with exactly 512 unclaimed pages left, one 2 MiB extent fits and
 * then not one page more. */
static void test_sim_node_claim_skip_threshold(void **state)
{
    struct xf_hv *hv = open_host("2socket-4node.json", XF_SIM_FROM_SPEC);
    xf_domid_t a = mkdom(hv, XF_DOMAIN_PV, 1, BIG), b = mkdom(hv, XF_DOMAIN_PV, 1, BIG);
    uint64_t nf = nstate(hv, 3).free_pages, done;
    (void)state;

    assert_int_equal(xf_hv_claim(hv, a, 3, nf - 512), 0);
    populate_ok(hv, b, 1, 9, 3, true);
    assert_int_equal(populate(hv, b, 1, 0, 3, true, &done), XF_ENOMEM);
    assert_int_equal(nstate(hv, 3).free_pages, nf - 512);
    assert_int_equal(nstate(hv, 3).claimed_pages, nf - 512);
    xf_hv_free(hv);
}

/* Destroy: the main part returns at the release rate, a tail stays held,
 * then the domain and its hidden pages go. Time moves only when slept here
 * (all operation costs 0), so the numbers are exact. */
static void test_sim_destroy_releases_gradually(void **state)
{
    static const char *json =
        "{\"nodes\": [{\"memory_mib\": 4096, \"cpus\": 2}],"
        " \"xen\": {\"reserved_pages\": 10000, \"dma_pages\": 0},"
        " \"dom0\": {\"memory_mib\": 512},"
        " \"timing\": {\"hypercall_ns\": 0, \"extent_ns\": 0, \"page_ns\": 0,"
        "             \"scrub_page_ns\": 0, \"release_mib_per_s\": 1024,"
        "             \"release_tail_pages\": 1000, \"release_tail_ms\": 5000}}";
    struct xf_hv *hv = open_json(json);
    uint64_t f0 = phys(hv).free_pages, f1;
    xf_domid_t d = mkdom(hv, XF_DOMAIN_PV, 1, BIG);
    struct xf_sim_node_state ns;
    (void)state;

    populate_ok(hv, d, 512, 9, XF_NODE_ANY, false); /* 262144 pages */
    f1 = phys(hv).free_pages;
    assert_int_equal(f1, f0 - 262144 - 25); /* and 21 + 4 hidden */
    assert_int_equal(xf_hv_destroy(hv, d), 0);
    assert_int_equal(phys(hv).free_pages, f1); /* nothing yet at t = 0 */
    /* 1024 MiB/s = 262144 pages/s: 0.5 s returns 131072 pages. */
    assert_int_equal(xf_hv_sleep_ns(hv, 500000000), 0);
    assert_int_equal(phys(hv).free_pages, f1 + 131072);
    assert_int_equal(dinfo(hv, d).tot_pages, 131072);
    assert_true(dinfo(hv, d).dying);
    ns = nstate(hv, 0);
    assert_int_equal(ns.dirty_pages, 131072); /* free at once, but dirty */
    /* At 1 s the main part (262144 - 1000 tail) is back; the tail is held. */
    assert_int_equal(xf_hv_sleep_ns(hv, 500000000), 0);
    assert_int_equal(phys(hv).free_pages, f1 + 261144);
    assert_int_equal(dinfo(hv, d).tot_pages, 1000);
    assert_int_equal(dstate(hv, d).release_pending_pages, 1000 + 25);
    /* The main part ended at 261144 / 262144 s = 0.99618530 s; the tail
     * goes 5 s later, at 5.99618530 s: still held at 5.9 s. */
    assert_int_equal(xf_hv_sleep_ns(hv, 4900000000), 0);
    assert_int_equal(dinfo(hv, d).tot_pages, 1000);
    assert_int_equal(xf_hv_sleep_ns(hv, 100000000), 0);
    assert_int_equal(xf_hv_domain_info(hv, d, &(struct xf_hv_domain_info){0}), XF_ESRCH);
    assert_int_equal(phys(hv).free_pages, f0);
    xf_hv_free(hv);
}

/* The Nth call of an operation fails with the injected errno, and nothing
 * else happens; an extent fault cuts a populate short. */
static void test_sim_fault_injection(void **state)
{
    struct xf_hv *hv = open_host("xenbed-2node.json", XF_SIM_FROM_SPEC);
    xf_domid_t d = mkdom(hv, XF_DOMAIN_PV, 1, BIG);
    struct xf_sim_stats st;
    uint64_t done = 99, t0;
    (void)state;

    assert_int_equal(xf_sim_inject_fault(hv, XF_SIM_OP_POPULATE, 2, -ENOMEM), 0);
    populate_ok(hv, d, 1, 0, XF_NODE_ANY, false);
    assert_int_equal(populate(hv, d, 1, 0, XF_NODE_ANY, false, &done), XF_ENOMEM);
    assert_int_equal(done, 0);
    assert_int_equal(dinfo(hv, d).tot_pages, 1);
    populate_ok(hv, d, 1, 0, XF_NODE_ANY, false);
    /* The third extent from now fails: 2 of 5 done. */
    assert_int_equal(xf_sim_inject_fault(hv, XF_SIM_OP_EXTENT, 3, -EIO), 0);
    assert_int_equal(populate(hv, d, 5, 0, XF_NODE_ANY, false, &done), XF_EIO);
    assert_int_equal(done, 2);
    assert_int_equal(dinfo(hv, d).tot_pages, 4);
    assert_int_equal(xf_sim_inject_fault(hv, XF_SIM_OP_CLAIM, 1, -EAGAIN), 0);
    assert_int_equal(xf_hv_claim(hv, d, XF_NODE_ANY, 1000), XF_EAGAIN);
    assert_int_equal(dinfo(hv, d).outstanding_pages, 0);
    assert_int_equal(xf_hv_claim(hv, d, XF_NODE_ANY, 1000), 0);
    /* A failed sleep does not move time. */
    assert_int_equal(xf_sim_inject_fault(hv, XF_SIM_OP_SLEEP, 1, -EINTR), 0);
    t0 = xf_hv_now_ns(hv);
    assert_int_equal(xf_hv_sleep_ns(hv, 1000000), -EINTR);
    assert_int_equal(xf_hv_now_ns(hv), t0);
    assert_int_equal(xf_sim_stats(hv, &st), 0);
    assert_int_equal(st.faults_fired, 4);
    assert_int_equal(st.calls[XF_SIM_OP_POPULATE], 4);
    assert_int_equal(st.calls[XF_SIM_OP_EXTENT], 1 + 1 + 3);
    assert_int_equal(st.calls[XF_SIM_OP_CLAIM], 2);
    /* Bad requests, and the limit of 32 pending faults. */
    assert_int_equal(xf_sim_inject_fault(hv, XF_SIM_OP_CLAIM, 0, -EIO), XF_EINVAL);
    assert_int_equal(xf_sim_inject_fault(hv, XF_SIM_OP_CLAIM, 1, 5), XF_EINVAL);
    assert_int_equal(xf_sim_inject_fault(hv, XF_SIM_OP_COUNT, 1, -EIO), XF_EINVAL);
    for (int i = 0; i < 32; i++)
        assert_int_equal(xf_sim_inject_fault(hv, XF_SIM_OP_DESTROY, 100, -EIO), 0);
    assert_int_equal(xf_sim_inject_fault(hv, XF_SIM_OP_DESTROY, 100, -EIO), XF_ENOSPC);
    xf_sim_clear_faults(hv);
    assert_int_equal(xf_sim_inject_fault(hv, XF_SIM_OP_DESTROY, 100, -EIO), 0);
    xf_hv_free(hv);
}

static void test_sim_op_names(void **state)
{
    enum xf_sim_op op;
    (void)state;

    for (unsigned i = 0; i < XF_SIM_OP_COUNT; i++) {
        assert_non_null(xf_sim_op_name((enum xf_sim_op)i));
        assert_int_equal(xf_sim_op_parse(xf_sim_op_name((enum xf_sim_op)i), &op), 0);
        assert_int_equal(op, i);
    }
    assert_string_equal(xf_sim_op_name(XF_SIM_OP_EXTENT), "extent");
    assert_null(xf_sim_op_name(XF_SIM_OP_COUNT));
    assert_int_equal(xf_sim_op_parse("frob", &op), XF_EINVAL);
}

/* domids: the next free one after the last given, not a freed one. */
static void test_sim_domid_rover(void **state)
{
    struct xf_hv *hv = open_json(small2);
    xf_domid_t a, b, c, d;
    (void)state;

    assert_int_equal(xf_hv_domain_create(hv, XF_DOMAIN_PV, &a), 0);
    assert_int_equal(xf_hv_domain_create(hv, XF_DOMAIN_PV, &b), 0);
    assert_int_equal(xf_hv_destroy(hv, b), 0); /* gone at once here */
    assert_int_equal(xf_hv_domain_create(hv, XF_DOMAIN_PV, &c), 0);
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    assert_int_equal(c, 3);
    assert_int_equal(xf_hv_domain_create(hv, (enum xf_domain_type)9, &d), XF_EINVAL);
    xf_hv_free(hv);
}

/* Every operation costs its time: on the xenbed host's default timing, a
 * populate of 3 clean 2 MiB extents is 2000 + 3 * (200 + 512 * 2) ns. */
static void test_sim_operation_time(void **state)
{
    struct xf_hv *hv = open_host("xenbed-2node.json", XF_SIM_FROM_SPEC);
    xf_domid_t d = mkdom(hv, XF_DOMAIN_PV, 1, BIG);
    uint64_t t0 = xf_hv_now_ns(hv);
    (void)state;

    populate_ok(hv, d, 3, 9, XF_NODE_ANY, false);
    assert_int_equal(xf_hv_now_ns(hv) - t0, 2000 + 3 * (200 + 1024));
    t0 = xf_hv_now_ns(hv);
    assert_int_equal(xf_hv_sleep_ns(hv, 12345), 0);
    assert_int_equal(xf_hv_now_ns(hv) - t0, 12345);
    xf_hv_free(hv);
}

static void test_sim_options(void **state)
{
    struct xf_sim_options o;
    struct xf_hv *hv = NULL;
    (void)state;

    xf_sim_options_init(&o);
    o.node_claims = 1; /* the xenbed spec says 4.17: refused */
    assert_int_equal(hvt_sim_open("xenbed-2node.json", &o, &hv), XF_EINVAL);
    assert_null(hv);
    o.claim_semantics = XF_SIM_CLAIMS_4_22;
    assert_int_equal(hvt_sim_open("xenbed-2node.json", &o, &hv), 0);
    assert_int_equal(xf_hv_caps(hv) & (XF_HV_CAP_NODE_CLAIMS | XF_HV_CAP_NODE_CLAIMED_INFO),
                     XF_HV_CAP_NODE_CLAIMS | XF_HV_CAP_NODE_CLAIMED_INFO);
    assert_int_equal(xf_sim_spec(hv)->claim_semantics, XF_SIM_CLAIMS_4_22);
    xf_hv_free(hv);
}

/* The wrappers: a backend without an operation gives -ENOSYS, a NULL
 * instance -EINVAL; the simulator is among the built backends. */
static const struct xf_hv_ops empty_ops = {.name = "empty"};

static void test_sim_wrappers(void **state)
{
    struct xf_hv empty = {.ops = &empty_ops};
    struct xf_hv_physinfo p;
    struct xf_hv_populate req = {.nr_extents = 1};
    struct xf_sim_truth tr;
    struct xf_sim_stats st;
    const struct xf_hv_ops *const *b = xf_hv_backends();
    uint64_t done = 99;
    bool sim = false;
    (void)state;

    for (; *b; b++)
        sim |= strcmp((*b)->name, "sim") == 0;
    assert_true(sim);
    assert_int_equal(xf_hv_physinfo(&empty, &p), XF_ENOSYS);
    assert_int_equal(xf_hv_populate(&empty, 1, &req, &done), XF_ENOSYS);
    assert_int_equal(done, 0);
    assert_int_equal(xf_hv_claim(NULL, 1, XF_NODE_ANY, 1), XF_EINVAL);
    assert_int_equal(xf_hv_caps(&empty), 0);
    assert_int_equal(xf_hv_now_ns(&empty), 0);
    xf_hv_free(NULL);
    /* Simulator-only functions refuse another backend. */
    assert_false(xf_sim_is(&empty));
    assert_null(xf_sim_spec(&empty));
    assert_int_equal(xf_sim_truth(&empty, XF_DOMAIN_HVM, &tr), XF_EINVAL);
    assert_int_equal(xf_sim_stats(&empty, &st), XF_EINVAL);
    assert_int_equal(xf_sim_inject_fault(&empty, XF_SIM_OP_CLAIM, 1, -EIO), XF_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_boot_matches_xenbed),
        cmocka_unit_test(test_sim_low_mem_virq_threshold),
        cmocka_unit_test(test_sim_hidden_pages_follow_truth),
        cmocka_unit_test(test_sim_round_robin_starts_after_node0),
        cmocka_unit_test(test_sim_dma_zone_used_last),
        cmocka_unit_test(test_sim_clean_memory_preferred),
        cmocka_unit_test(test_sim_idle_scrub),
        cmocka_unit_test(test_sim_claim_semantics_on_free),
        cmocka_unit_test(test_sim_claim_lost_on_over_allocation),
        cmocka_unit_test(test_sim_node_claim_consumed_on_node_only),
        cmocka_unit_test(test_sim_node_claim_skip_threshold),
        cmocka_unit_test(test_sim_destroy_releases_gradually),
        cmocka_unit_test(test_sim_fault_injection),
        cmocka_unit_test(test_sim_op_names),
        cmocka_unit_test(test_sim_domid_rover),
        cmocka_unit_test(test_sim_operation_time),
        cmocka_unit_test(test_sim_options),
        cmocka_unit_test(test_sim_wrappers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
