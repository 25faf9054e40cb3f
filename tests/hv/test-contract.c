/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The contract of the hypervisor interface (xenfit/hv.h): what every backend
 * does, one test per rule, run against every backend factory listed at the
 * bottom (the simulator in three configurations now; the libxenctrl backend
 * adds its factory there and runs this same file in a real Xen dom0).
 *
 * Tests touch only the xf_hv_* wrappers, never simulator-only controls
 * (those are in test-sim.c), and compute their numbers from what the host
 * reports at the start of the test, so that they hold on any host. A factory
 * states how much the host may change on its own between two calls
 * (noise_pages: 0 for the simulator, so its boundaries are checked exactly).
 *
 * Xen sources for each rule: xen/common/page_alloc.c
 * (domain_set_outstanding_pages, alloc_heap_pages, get_free_buddy) and
 * xen/common/memory.c (XENMEM_claim_pages, populate_physmap).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contract.h"
#include "hv-test.h"
#include "xenfit/error.h"
#include "xenfit/hv.h"
#ifdef HAVE_LIBXENCTRL
#include "xenfit/hv-xen.h"
#endif

/* The backend under test, set by main() for each factory. */
const struct contract_backend *backend;

/* Host free pages when the current test started (teardown waits for them). */
static uint64_t free_at_setup;

static int setup(void **state)
{
    struct ct *t = calloc(1, sizeof(*t));
    struct xf_hv_physinfo p;
    if (!t || backend->open(backend, &t->hv) != 0 || xf_hv_physinfo(t->hv, &p) != 0) {
        if (t && t->hv)
            xf_hv_free(t->hv);
        free(t);
        return -1;
    }
    free_at_setup = p.free_pages;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct ct *t = *state;
    struct xf_hv_domain_info info;

    for (unsigned i = 0; i < t->nr_doms; i++)
        (void)xf_hv_destroy(t->hv, t->doms[i]);
    /* Give a real host its memory back before the next test: on Xen a domain's
     * own pages return 30-250 ms after it has left the domain list (an RCU
     * grace period later), and Xen's pools may keep a few for good. Wait until
     * the free pages are back (but for 8) and stay there for 3 checks. */
    uint64_t keep = backend->release_slack < 8 ? backend->release_slack : 8;
    unsigned settled = 0;
    for (uint64_t waited = 0; waited < backend->release_wait_ns; waited += 100000000) {
        struct xf_hv_physinfo p;
        unsigned left = 0;
        for (unsigned i = 0; i < t->nr_doms; i++)
            left += xf_hv_domain_info(t->hv, t->doms[i], &info) == 0;
        if (!left && xf_hv_physinfo(t->hv, &p) == 0 && p.free_pages + keep >= free_at_setup)
            settled++;
        else
            settled = 0;
        if (settled >= 3 || xf_hv_sleep_ns(t->hv, 100000000) < 0)
            break;
    }
    xf_hv_free(t->hv);
    free(t);
    return 0;
}

/* physinfo, numainfo and cputopo agree with each other. */
static void test_contract_host_queries_agree(void **state)
{
    struct ct *t = *state;
    struct xf_hv_physinfo p = phys(t);
    struct xf_node_mem nodes[XF_MAX_NODES];
    static uint32_t dist[XF_MAX_NODES * XF_MAX_NODES];
    struct xf_hv_cpu_topo *cpus;
    uint64_t sum = 0;
    uint32_t n, nc;

    assert_true(p.nr_nodes >= 1 && p.nr_nodes <= XF_MAX_NODES);
    assert_true(p.free_pages <= p.total_pages);
    assert_int_equal(p.scrub_pages, 0); /* hard-coded 0 in Xen's physinfo */
    assert_int_equal(xf_hv_numainfo(t->hv, XF_MAX_NODES, nodes, dist, &n), 0);
    assert_int_equal(n, p.nr_nodes);
    for (uint32_t i = 0; i < n; i++) {
        assert_true(nodes[i].memfree_pages <= nodes[i].memsize_pages);
        assert_int_equal(dist[i * XF_MAX_NODES + i], 10);
        sum += nodes[i].memfree_pages;
    }
    /* Per-node free pages add up to free_pages (xenbed README). */
    assert_in_range(sum, p.free_pages - backend->noise_pages, p.free_pages + backend->noise_pages);
    /* A short buffer still reports the full count. */
    assert_int_equal(xf_hv_numainfo(t->hv, 0, NULL, NULL, &n), 0);
    assert_int_equal(n, p.nr_nodes);
    assert_int_equal(xf_hv_cputopo(t->hv, 0, NULL, &nc), 0);
    assert_int_equal(nc, p.nr_cpus);
    cpus = calloc(nc, sizeof(*cpus));
    assert_non_null(cpus);
    assert_int_equal(xf_hv_cputopo(t->hv, nc, cpus, &nc), 0);
    for (uint32_t c = 0; c < nc; c++)
        assert_true(cpus[c].node < p.nr_nodes);
    free(cpus);
}

/* A new domain is paused, empty, listed; unpause works once. */
static void test_contract_domain_lifecycle(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = create(t, XF_DOMAIN_PV, 1, 1000), ids[64];
    struct xf_hv_domain_info i = dinfo(t, d);
    uint32_t n;
    bool listed = false, dom0 = false;

    assert_int_equal(i.domid, d);
    assert_int_equal(i.tot_pages, 0);
    assert_int_equal(i.max_pages, 1000);
    assert_int_equal(i.outstanding_pages, 0);
    assert_true(i.paused);
    assert_false(i.dying);
    assert_int_equal(xf_hv_domain_list(t->hv, 64, ids, &n), 0);
    for (uint32_t k = 0; k < n && k < 64; k++) {
        listed |= ids[k] == d;
        dom0 |= ids[k] == 0;
    }
    assert_true(listed && dom0);
    assert_int_equal(xf_hv_unpause(t->hv, d), 0);
    assert_false(dinfo(t, d).paused);
    assert_int_equal(xf_hv_unpause(t->hv, d), XF_EINVAL);
    assert_int_equal(xf_hv_domain_info(t->hv, 0x7FEF, &i), XF_ESRCH);
}

/* Xen's own pages for a domain and its vCPUs are not in tot_pages. */
static void test_contract_hidden_pages_not_in_tot(void **state)
{
    struct ct *t = *state;
    uint64_t before = phys(t).free_pages;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 1000);

    assert_int_equal(dinfo(t, d).tot_pages, 0);
    assert_true(phys(t).free_pages < before - backend->noise_pages);
}

/* The vCPU count is fixed at creation: XEN_DOMCTL_max_vcpus must repeat it
 * (xen/common/domctl.c), and allocates the vCPUs once. */
static void test_contract_vcpus_fixed_at_create(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = create(t, XF_DOMAIN_PV, 4, 4096);
    xf_domid_t nobody;

    assert_int_equal(dinfo(t, d).vcpus, 0);
    assert_int_equal(xf_hv_set_max_vcpus(t->hv, d, 3), XF_EINVAL);
    assert_int_equal(xf_hv_set_max_vcpus(t->hv, d, 4), 0);
    assert_int_equal(dinfo(t, d).vcpus, 4);
    assert_int_equal(xf_hv_domain_create_vcpus(t->hv, XF_DOMAIN_PV, 0, &nobody), XF_EINVAL);
}

/* populate stops at max_pages (assign_pages), reporting the extents done. */
static void test_contract_populate_stops_at_max_pages(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 1000);
    uint64_t done = 99;

    /* 3 extents of 512: the first fits (512 <= 1000), the second not. */
    assert_int_equal(populate(t, d, 3, 9, XF_NODE_ANY, false, &done), XF_ENOMEM);
    assert_int_equal(done, 1);
    assert_int_equal(dinfo(t, d).tot_pages, 512);
    assert_int_equal(populate(t, d, 488, 0, XF_NODE_ANY, false, &done), 0);
    assert_int_equal(populate(t, d, 1, 0, XF_NODE_ANY, false, &done), XF_ENOMEM);
    assert_int_equal(done, 0);
    assert_int_equal(dinfo(t, d).tot_pages, 1000);
    /* An order above Xen's MAX_ORDER (18) is refused. */
    assert_int_equal(populate(t, d, 1, 19, XF_NODE_ANY, false, &done), XF_EINVAL);
}

/* An exact-node request lands on that node only: its free memory drops by
 * the request and the host's by no more. */
static void test_contract_populate_exact_node(void **state)
{
    struct ct *t = *state;
    uint32_t last = nr_nodes(t) - 1;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);
    uint64_t done, f = node_free(t, last), total = phys(t).free_pages;

    assert_int_equal(populate(t, d, 64, 0, last, true, &done), 0);
    expect_node_drop(t, last, f, 64);
    assert_in_range(phys(t).free_pages, total - 64 - backend->noise_pages,
                    total - 64 + backend->noise_pages);
    assert_int_equal(dinfo(t, d).tot_pages, 64);
}

/* A node hint is tried first. */
static void test_contract_populate_node_hint_first(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);
    uint64_t done, f0, f1;

    if (nr_nodes(t) < 2)
        skip();
    f0 = node_free(t, 0);
    f1 = node_free(t, 1);
    assert_int_equal(populate(t, d, 64, 0, 0, false, &done), 0);
    expect_node_drop(t, 0, f0, 64);
    assert_int_equal(populate(t, d, 1, 9, 1, false, &done), 0);
    expect_node_drop(t, 1, f1, 512);
}

/* Without a hint, extents go round-robin over the node affinity. */
static void test_contract_affinity_round_robin(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);
    uint64_t done, f0, f1;

    if (nr_nodes(t) < 2)
        skip();
    assert_int_equal(xf_hv_set_node_affinity(t->hv, d, 0x3), 0);
    assert_int_equal(dinfo(t, d).node_affinity, 0x3);
    /* 4 extents over nodes {0,1}: 2 and 2, whichever comes first. */
    f0 = node_free(t, 0);
    f1 = node_free(t, 1);
    assert_int_equal(populate(t, d, 4, 0, XF_NODE_ANY, false, &done), 0);
    expect_node_drop(t, 0, f0, 2);
    expect_node_drop(t, 1, f1, 2);
    /* An affinity of one node keeps it there. */
    assert_int_equal(xf_hv_set_node_affinity(t->hv, d, 0x2), 0);
    f1 = node_free(t, 1);
    assert_int_equal(populate(t, d, 3, 9, XF_NODE_ANY, false, &done), 0);
    expect_node_drop(t, 1, f1, 3 * 512);
}

/* An affinity with no online node is refused. */
static void test_contract_affinity_needs_online_node(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);
    uint32_t n = nr_nodes(t);

    assert_int_equal(xf_hv_set_node_affinity(t->hv, d, 0), XF_EINVAL);
    if (n < 64)
        assert_int_equal(xf_hv_set_node_affinity(t->hv, d, UINT64_C(1) << n), XF_EINVAL);
}

/* Ballooning down gives pages back at once (dirty, but free). */
static void test_contract_decrease_returns_pages(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);
    uint64_t free1;

    fill(t, d, 100);
    free1 = phys(t).free_pages;
    assert_int_equal(xf_hv_decrease(t->hv, d, 40), 0);
    assert_int_equal(dinfo(t, d).tot_pages, 60);
    assert_in_range(phys(t).free_pages, free1 + 40 - backend->noise_pages,
                    free1 + 40 + backend->noise_pages);
    assert_int_equal(xf_hv_decrease(t->hv, d, 61), XF_EINVAL);
}

/* domain_kill() cancels the claim at once. */
static void test_contract_destroy_cancels_claim(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);
    uint64_t out0 = phys(t).outstanding_pages;

    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 4000), 0);
    assert_int_equal(phys(t).outstanding_pages, out0 + 4000);
    assert_int_equal(xf_hv_destroy(t->hv, d), 0);
    assert_int_equal(phys(t).outstanding_pages, out0);
    assert_int_equal(xf_hv_destroy(t->hv, 0), XF_EINVAL); /* not dom0 */
}

/* A destroyed domain's memory comes back, within a bound, and the domain
 * goes away. */
static void test_contract_destroy_returns_memory(void **state)
{
    struct ct *t = *state;
    uint64_t free0 = phys(t).free_pages, waited = 0;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 1u << 20);
    struct xf_hv_domain_info i;

    fill(t, d, 65536);
    assert_true(phys(t).free_pages < free0 - 65536);
    assert_int_equal(xf_hv_destroy(t->hv, d), 0);
    while (xf_hv_domain_info(t->hv, d, &i) == 0 && waited < backend->release_wait_ns) {
        assert_true(i.dying);
        assert_int_equal(xf_hv_sleep_ns(t->hv, 10000000), 0);
        waited += 10000000;
    }
    assert_int_equal(xf_hv_domain_info(t->hv, d, &i), XF_ESRCH);
    assert_in_range(phys(t).free_pages, free0 - backend->release_slack - backend->noise_pages,
                    free0 + backend->noise_pages);
    assert_int_equal(xf_hv_destroy(t->hv, d), XF_ESRCH);
}

/* The clock moves forward by at least what was slept. */
static void test_contract_sleep_advances_clock(void **state)
{
    struct ct *t = *state;
    uint64_t t0 = xf_hv_now_ns(t->hv);

    assert_int_equal(xf_hv_sleep_ns(t->hv, 1000000), 0);
    assert_true(xf_hv_now_ns(t->hv) >= t0 + 1000000);
}

/* Operations on an unknown domain. */
/* A backend that reports pages per node (XF_HV_CAP_DOMAIN_NODE_PAGES)
 * reports where the pages are: exact-node populates land there, and the
 * nodes add up to tot_pages. One that does not leaves them 0. */
static void test_contract_domain_node_pages(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);
    struct xf_hv_domain_info info;
    uint64_t done, sum = 0;
    uint32_t last = nr_nodes(t) - 1;

    assert_int_equal(populate(t, d, 64, 0, 0, true, &done), 0);
    assert_int_equal(populate(t, d, 32, 0, last, true, &done), 0);
    assert_int_equal(xf_hv_domain_info(t->hv, d, &info), 0);
    for (uint32_t n = 0; n < XF_MAX_NODES; n++)
        sum += info.pages_per_node[n];
    if (!(xf_hv_caps(t->hv) & XF_HV_CAP_DOMAIN_NODE_PAGES)) {
        assert_int_equal(sum, 0);
        return;
    }
    assert_int_equal(sum, info.tot_pages);
    assert_int_equal(info.pages_per_node[last], last ? 32 : 96);
    if (last)
        assert_int_equal(info.pages_per_node[0], 64);
}

static void test_contract_unknown_domain(void **state)
{
    struct ct *t = *state;
    const xf_domid_t nobody = 0x7FEE;
    uint64_t done = 99;

    assert_int_equal(populate(t, nobody, 1, 0, XF_NODE_ANY, false, &done), XF_ESRCH);
    assert_int_equal(done, 0);
    assert_int_equal(xf_hv_set_max_pages(t->hv, nobody, 10), XF_ESRCH);
    assert_int_equal(xf_hv_destroy(t->hv, nobody), XF_ESRCH);
}

/* Ballooning: a domain no toolstack gave memory keys has no balloon
 * (-ENOENT); an unknown one is -ESRCH for reads and writes alike. */
static void test_contract_balloon_keys(void **state)
{
    struct ct *t = *state;
    struct xf_hv_balloon b;
    xf_domid_t d;

    assert_int_equal(xf_hv_balloon_info(t->hv, 0x7FEE, &b), XF_ESRCH);
    assert_int_equal(xf_hv_set_balloon_target(t->hv, 0x7FEE, 1024), XF_ESRCH);
    assert_int_equal(xf_hv_set_memory_offset(t->hv, 0x7FEE, 0), XF_ESRCH);
    assert_int_equal(xf_hv_domain_create(t->hv, XF_DOMAIN_PV, &d), 0);
    assert_int_equal(xf_hv_balloon_info(t->hv, d, &b), XF_ENOENT);
    assert_int_equal(xf_hv_destroy(t->hv, d), 0);
}

/* ---- Backend factories ---- */

static int open_sim(const struct contract_backend *b, struct xf_hv **ret)
{
    struct xf_sim_options o;
    xf_sim_options_init(&o);
    o.claim_semantics = b->claim_semantics;
    o.node_claims = b->node_claims;
    return hvt_sim_open(b->spec, &o, ret);
}

#ifdef HAVE_LIBXENCTRL
static int open_xen(const struct contract_backend *b, struct xf_hv **ret)
{
    (void)b;
    return xf_hv_xen_open(ret);
}
#endif

static const struct contract_backend backends[] = {
    /* The xenbed host as measured, with its Xen 4.17 claim semantics. */
    {"sim-xenbed-4.17", open_sim, "xenbed-2node.json", XF_SIM_FROM_SPEC, XF_SIM_FROM_SPEC, 0, 0,
     UINT64_C(64) * 1000000000},
    /* The same host with 4.22 semantics. */
    {"sim-xenbed-4.22", open_sim, "xenbed-2node.json", XF_SIM_CLAIMS_4_22, XF_SIM_FROM_SPEC, 0, 0,
     UINT64_C(64) * 1000000000},
    /* A 4-node XenServer-like host with node claims. */
    {"sim-4node-node-claims", open_sim, "2socket-4node.json", XF_SIM_FROM_SPEC, XF_SIM_FROM_SPEC, 0,
     0, UINT64_C(64) * 1000000000},
#ifdef HAVE_LIBXENCTRL
    /* Real Xen, run only when named (XF_CONTRACT_BACKEND=xen: the real-Xen
     * tier, in its test bed's quiet dom0, where nothing else moves a page).
     * A destroyed domain leaves Xen's list before its own ~20 pages (struct
     * domain, vCPUs) come back after an RCU grace period
     * (complete_domain_destroy), and early destroys keep a few pages. */
    {"xen", open_xen, NULL, 0, 0, 0, 64, UINT64_C(30) * 1000000000},
#endif
};

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(test_contract_##name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(host_queries_agree),
        T(domain_lifecycle),
        T(hidden_pages_not_in_tot),
        T(vcpus_fixed_at_create),
        T(claim_sets_total_target),
        T(claim_active_einval),
        T(claim_not_above_tot_einval),
        T(claim_above_max_einval),
        T(claim_unknown_or_dying),
        T(claim_enomem_beyond_avail),
        T(claim_zero_cancels),
        T(claim_consumed_by_populate),
        T(gate_refuses_unclaimed),
        T(gate_admits_covered_claimant),
        T(gate_order9_with_511_left),
        T(full_claim_refuses_paging_pool),
        T(full_claim_refuses_vcpus),
        T(populate_stops_at_max_pages),
        T(populate_exact_node),
        T(populate_node_hint_first),
        T(affinity_round_robin),
        T(affinity_needs_online_node),
        T(node_claim_unsupported),
        T(node_claim_enomem_beyond_node),
        T(node_claim_keeps_others_off),
        T(node_claim_arguments),
        T(decrease_returns_pages),
        T(destroy_cancels_claim),
        T(destroy_returns_memory),
        T(sleep_advances_clock),
        T(domain_node_pages),
        T(unknown_domain),
        T(balloon_keys),
    };
#undef T
    const char *only = getenv("XF_CONTRACT_BACKEND");
    int failed = 0;

    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        if (only ? strcmp(only, backends[i].name) != 0 : !backends[i].spec)
            continue; /* a backend without a spec (real Xen) runs only when named */
        backend = &backends[i];
        failed += cmocka_run_group_tests_name(backends[i].name, tests, NULL, NULL);
    }
    return failed;
}
