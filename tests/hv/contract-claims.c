/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The contract's claim rules and allocation gate, one test per rule
 * (xen/common/page_alloc.c: domain_set_outstanding_pages, alloc_heap_pages,
 * get_free_buddy; xen/common/memory.c: XENMEM_claim_pages), including node
 * claims where the backend has them. Numbers are computed from what the host
 * reports at the start of each test; run by test-contract.c.
 */
#include "contract.h"

/* The claim is a total target: outstanding = target - tot_pages. */
void test_contract_claim_sets_total_target(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);
    uint64_t out0, free0;

    fill(t, d, 100);
    out0 = phys(t).outstanding_pages;
    free0 = phys(t).free_pages;
    /* 300 total with 100 present: 200 outstanding, host-wide too; free
     * pages are untouched by a claim. */
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 300), 0);
    assert_int_equal(dinfo(t, d).outstanding_pages, 200);
    assert_int_equal(phys(t).outstanding_pages, out0 + 200);
    assert_in_range(phys(t).free_pages, free0 - backend->noise_pages, free0 + backend->noise_pages);
}

/* A second claim while one is active: -EINVAL, the first one stays. */
void test_contract_claim_active_einval(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);

    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 1000), 0);
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 2000), XF_EINVAL);
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 500), XF_EINVAL);
    assert_int_equal(dinfo(t, d).outstanding_pages, 1000);
}

/* A target not above tot_pages: -EINVAL. */
void test_contract_claim_not_above_tot_einval(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);

    fill(t, d, 100);
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 100), XF_EINVAL);
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 99), XF_EINVAL);
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 101), 0);
    assert_int_equal(dinfo(t, d).outstanding_pages, 1);
}

/* A target above max_pages: -EINVAL; exactly max_pages is fine. */
void test_contract_claim_above_max_einval(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);

    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 4097), XF_EINVAL);
    assert_int_equal(dinfo(t, d).outstanding_pages, 0);
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 4096), 0);
    assert_int_equal(dinfo(t, d).outstanding_pages, 4096);
}

/* An unknown domain: -EINVAL (XENMEM_claim_pages: rcu_lock_domain_by_id()
 * fails), not -ESRCH. A dying one: -EINVAL since "xen/domain: Disallow
 * XENMEM_claim_pages on dying domains" (4.19.5, 4.20.3, 4.21.1, 4.22).
 * Before it (XF_HV_CAP_CLAIM_DYING_OK: Xen 4.17.7, the simulator's 4.17
 * semantics) the claim is staked as on a live domain; domain_kill() has
 * already cancelled the claim the domain had, and nothing cancels this one
 * once the domain is gone (the leak that fix closed), so it is cancelled
 * here at once, which 4.17 allows on a dying domain too. */
void test_contract_claim_unknown_or_dying(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);
    struct xf_hv_domain_info i;
    uint64_t out0, tot = 0;
    int r;

    assert_int_equal(xf_hv_claim(t->hv, 0x7FEF, XF_NODE_ANY, 10), XF_EINVAL);
    fill(t, d, 1024);
    assert_int_equal(xf_hv_destroy(t->hv, d), 0);
    out0 = phys(t).outstanding_pages;
    /* Dying, its pages on their way back (tot_pages <= 1024), or gone. */
    r = xf_hv_domain_info(t->hv, d, &i);
    if (r == 0) {
        assert_true(i.dying);
        tot = i.tot_pages;
        assert_true(tot <= 1024);
    } else {
        assert_int_equal(r, XF_ESRCH);
    }
    /* 2048: above what it has, within its max_pages (4096). */
    r = xf_hv_claim(t->hv, d, XF_NODE_ANY, 2048);
    if (!(xf_hv_caps(t->hv) & XF_HV_CAP_CLAIM_DYING_OK)) {
        assert_int_equal(r, XF_EINVAL);
        assert_int_equal(phys(t).outstanding_pages, out0);
        return;
    }
    if (r == XF_EINVAL) {
        /* Only a domain already gone refuses: an unknown domain by then. */
        assert_int_equal(xf_hv_domain_info(t->hv, d, &i), XF_ESRCH);
        assert_int_equal(phys(t).outstanding_pages, out0);
        return;
    }
    assert_int_equal(r, 0);
    /* Staked as 2048 - tot_pages at the claim, tot_pages being at most
     * what it was above (1024 at most) and falling: 1024-2048 pages. 4.17
     * raises it by what the domain frees afterwards, never past 2048. */
    assert_in_range(phys(t).outstanding_pages - out0, 2048 - tot, 2048);
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 0), 0);
    assert_int_equal(phys(t).outstanding_pages, out0);
}

/* -ENOMEM when target - tot_pages > total_avail - outstanding; up to it is fine. */
void test_contract_claim_enomem_beyond_avail(void **state)
{
    struct ct *t = *state;
    const uint64_t noise = backend->noise_pages;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, BIG), other = mkdom(t, XF_DOMAIN_PV, 4096);
    uint64_t avail;

    fill(t, d, 50);
    /* Another claim is subtracted: claim 1000 for `other` first. */
    assert_int_equal(xf_hv_claim(t->hv, other, XF_NODE_ANY, 1000), 0);
    avail = host_avail(t);
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 50 + avail + 1 + noise), XF_ENOMEM);
    assert_int_equal(dinfo(t, d).outstanding_pages, 0);
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 50 + avail - noise), 0);
    assert_int_equal(dinfo(t, d).outstanding_pages, avail - noise);
    assert_in_range(host_avail(t), 0, 2 * noise);
}

/* Claiming 0 cancels, always succeeds, and gives the claim back. */
void test_contract_claim_zero_cancels(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);
    uint64_t out0 = phys(t).outstanding_pages;

    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 0), 0); /* nothing to cancel */
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 3000), 0);
    assert_int_equal(phys(t).outstanding_pages, out0 + 3000);
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 0), 0);
    assert_int_equal(dinfo(t, d).outstanding_pages, 0);
    assert_int_equal(phys(t).outstanding_pages, out0);
    /* Cancelled, a new claim is accepted. */
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 2000), 0);
}

/* The domain's own allocations consume its claim: min(claim, request). */
void test_contract_claim_consumed_by_populate(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);
    uint64_t out0 = phys(t).outstanding_pages, done;

    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 512), 0);
    /* 256 pages: 512 - 256 = 256 left. */
    assert_int_equal(populate(t, d, 256, 0, XF_NODE_ANY, false, &done), 0);
    assert_int_equal(dinfo(t, d).outstanding_pages, 256);
    /* A 512-page extent consumes the 256 left, not more: 0, not negative. */
    assert_int_equal(populate(t, d, 1, 9, XF_NODE_ANY, false, &done), 0);
    assert_int_equal(dinfo(t, d).outstanding_pages, 0);
    assert_int_equal(dinfo(t, d).tot_pages, 768);
    assert_int_equal(phys(t).outstanding_pages, out0);
}

/* Claimed memory is unavailable to an allocation the claim does not cover. */
void test_contract_gate_refuses_unclaimed(void **state)
{
    struct ct *t = *state;
    xf_domid_t a = mkdom(t, XF_DOMAIN_PV, BIG), b = mkdom(t, XF_DOMAIN_PV, 4096);
    uint64_t done = 99, avail = host_avail(t);

    if (backend->noise_pages)
        skip(); /* needs the host to hold still at zero available */
    /* a takes everything: total_avail - outstanding = 0. */
    assert_int_equal(xf_hv_claim(t->hv, a, XF_NODE_ANY, avail), 0);
    assert_int_equal(host_avail(t), 0);
    /* b's single page: outstanding + 1 > total_avail, b has no claim. */
    assert_int_equal(populate(t, b, 1, 0, XF_NODE_ANY, false, &done), XF_ENOMEM);
    assert_int_equal(done, 0);
    assert_int_equal(dinfo(t, b).tot_pages, 0);
    /* Once a cancels, b gets it. */
    assert_int_equal(xf_hv_claim(t->hv, a, XF_NODE_ANY, 0), 0);
    assert_int_equal(populate(t, b, 1, 0, XF_NODE_ANY, false, &done), 0);
    assert_int_equal(dinfo(t, b).tot_pages, 1);
}

/* ... but the claimant whose claim covers the request passes the gate. */
void test_contract_gate_admits_covered_claimant(void **state)
{
    struct ct *t = *state;
    xf_domid_t a = mkdom(t, XF_DOMAIN_PV, BIG);
    uint64_t done, avail = host_avail(t);

    if (backend->noise_pages)
        skip();
    assert_int_equal(xf_hv_claim(t->hv, a, XF_NODE_ANY, avail), 0);
    assert_int_equal(populate(t, a, 2, 9, XF_NODE_ANY, false, &done), 0);
    assert_int_equal(done, 2);
    assert_int_equal(dinfo(t, a).outstanding_pages, avail - 1024);
    assert_int_equal(host_avail(t), 0);
}

/* An order-9 request with 511 claimed pages left is gated (the claim must
 * cover all of it); 511 order-0 requests are not. */
void test_contract_gate_order9_with_511_left(void **state)
{
    struct ct *t = *state;
    xf_domid_t a = mkdom(t, XF_DOMAIN_PV, BIG);
    uint64_t done = 99, avail = host_avail(t);

    if (backend->noise_pages)
        skip();
    assert_true(avail > 1024);
    assert_int_equal(xf_hv_claim(t->hv, a, XF_NODE_ANY, avail), 0);
    fill(t, a, avail - 511);
    assert_int_equal(dinfo(t, a).outstanding_pages, 511);
    /* outstanding (511) + 512 > total_avail (511), and 511 < 512. */
    assert_int_equal(populate(t, a, 1, 9, XF_NODE_ANY, false, &done), XF_ENOMEM);
    assert_int_equal(done, 0);
    assert_int_equal(dinfo(t, a).tot_pages, avail - 511);
    assert_int_equal(dinfo(t, a).outstanding_pages, 511);
    assert_int_equal(populate(t, a, 511, 0, XF_NODE_ANY, false, &done), 0);
    assert_int_equal(dinfo(t, a).outstanding_pages, 0);
    assert_int_equal(dinfo(t, a).tot_pages, avail);
}

/* A fully claimed host refuses to grow the claiming domain's paging pool:
 * the pool is never claimed memory (hap_set_allocation():
 * alloc_domheap_page(d, MEMF_no_owner)). A new HAP domain already has a
 * pool (hap_enable() gives it 256 pages at creation, on Xen 4.17 and in the
 * simulator's default truth), so the rule is measured from the pool the
 * domain has: set_paging_pool sets the whole pool, not an increment. */
void test_contract_full_claim_refuses_paging_pool(void **state)
{
    struct ct *t = *state;
    xf_domid_t a = mkdom(t, XF_DOMAIN_PVH, BIG);
    uint64_t pool0 = dinfo(t, a).paging_pool_pages, free1;

    if (backend->noise_pages)
        skip();
    assert_int_equal(xf_hv_claim(t->hv, a, XF_NODE_ANY, host_avail(t)), 0);
    /* 256 more: the first page already fails the gate (outstanding + 1 >
     * total_avail, and the pool uses no claim); the pool stays as it was. */
    assert_int_equal(xf_hv_set_paging_pool(t->hv, a, pool0 + 256), XF_ENOMEM);
    assert_int_equal(dinfo(t, a).paging_pool_pages, pool0);
    /* The size it has needs no page: accepted even now. */
    assert_int_equal(xf_hv_set_paging_pool(t->hv, a, pool0), 0);
    assert_int_equal(xf_hv_claim(t->hv, a, XF_NODE_ANY, 0), 0);
    /* Without the claim it grows: 256 pages out of the free ones. */
    free1 = phys(t).free_pages;
    assert_int_equal(xf_hv_set_paging_pool(t->hv, a, pool0 + 256), 0);
    assert_int_equal(dinfo(t, a).paging_pool_pages, pool0 + 256);
    assert_int_equal(phys(t).free_pages, free1 - 256);
    /* Shrinking gives pages back at once: 200 of the 256. */
    free1 = phys(t).free_pages;
    assert_int_equal(xf_hv_set_paging_pool(t->hv, a, pool0 + 56), 0);
    assert_int_equal(dinfo(t, a).paging_pool_pages, pool0 + 56);
    assert_int_equal(phys(t).free_pages, free1 + 200);
}

/* ... and the hypervisor's per-vCPU structures too. */
void test_contract_full_claim_refuses_vcpus(void **state)
{
    struct ct *t = *state;
    xf_domid_t a = create(t, XF_DOMAIN_PV, 4, BIG);
    int r;

    if (backend->noise_pages)
        skip();
    assert_int_equal(xf_hv_claim(t->hv, a, XF_NODE_ANY, host_avail(t)), 0);
    r = xf_hv_set_max_vcpus(t->hv, a, 4);
    assert_int_equal(r, XF_ENOMEM);
    assert_int_equal(dinfo(t, a).vcpus, 0);
    assert_int_equal(xf_hv_claim(t->hv, a, XF_NODE_ANY, 0), 0);
    assert_int_equal(xf_hv_set_max_vcpus(t->hv, a, 4), 0);
    assert_int_equal(dinfo(t, a).vcpus, 4);
}

/* Without node claims, a node claim is -ENOSYS: upstream Xen has no node
 * argument to XENMEM_claim_pages, and the libxenctrl backend built without
 * xc_domain_claim_pages_node says so (as xen-api's claim policy expects);
 * nothing is staked, and a global claim still works. */
void test_contract_node_claim_unsupported(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);
    uint64_t out0 = phys(t).outstanding_pages;

    if (xf_hv_caps(t->hv) & XF_HV_CAP_NODE_CLAIMS)
        skip();
    assert_int_equal(xf_hv_claim(t->hv, d, 0, 1000), XF_ENOSYS);
    assert_int_equal(dinfo(t, d).outstanding_pages, 0);
    assert_int_equal(phys(t).outstanding_pages, out0);
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 1000), 0);
    assert_int_equal(dinfo(t, d).outstanding_pages, 1000);
}

/* A node claim must also fit the node: avail - node claims there. */
void test_contract_node_claim_enomem_beyond_node(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, BIG);
    uint32_t last;
    uint64_t nf;

    if (!(xf_hv_caps(t->hv) & XF_HV_CAP_NODE_CLAIMS) || nr_nodes(t) < 2)
        skip();
    last = nr_nodes(t) - 1;
    nf = node_unclaimed(t, last);
    assert_true(nf + 1 + backend->noise_pages <= host_avail(t));
    /* The host has room, the node not. */
    assert_int_equal(xf_hv_claim(t->hv, d, last, nf + 1 + backend->noise_pages), XF_ENOMEM);
    assert_int_equal(dinfo(t, d).outstanding_pages, 0);
    assert_int_equal(xf_hv_claim(t->hv, d, last, nf - backend->noise_pages), 0);
    assert_int_equal(dinfo(t, d).outstanding_pages, nf - backend->noise_pages);
    if (xf_hv_caps(t->hv) & XF_HV_CAP_NODE_CLAIMED_INFO)
        assert_int_equal(node_info(t, last).claimed_pages, nf - backend->noise_pages);
}

/* A node claim keeps other domains' allocations off the node; the claimant
 * still gets its pages there and consumes its claim. */
void test_contract_node_claim_keeps_others_off(void **state)
{
    struct ct *t = *state;
    xf_domid_t a = mkdom(t, XF_DOMAIN_PV, BIG), b = mkdom(t, XF_DOMAIN_PV, 4096);
    uint32_t last;
    uint64_t nf, f, done = 99;

    if (!(xf_hv_caps(t->hv) & XF_HV_CAP_NODE_CLAIMS) || nr_nodes(t) < 2)
        skip();
    last = nr_nodes(t) - 1;
    nf = node_unclaimed(t, last);
    assert_int_equal(xf_hv_claim(t->hv, a, last, nf), 0);
    /* b asks for the node: not exact, it goes elsewhere; exact, it fails. */
    f = node_free(t, last);
    assert_int_equal(populate(t, b, 16, 0, last, false, &done), 0);
    expect_node_drop(t, last, f, 0);
    assert_int_equal(dinfo(t, b).tot_pages, 16);
    assert_int_equal(populate(t, b, 1, 0, last, true, &done), XF_ENOMEM);
    assert_int_equal(done, 0);
    /* a gets its node. */
    assert_int_equal(populate(t, a, 1, 9, last, true, &done), 0);
    expect_node_drop(t, last, f, 512);
    assert_int_equal(dinfo(t, a).outstanding_pages, nf - 512);
}

/* Node claim arguments: an offline node is -ENOENT, a node claim of 0 -EINVAL. */
void test_contract_node_claim_arguments(void **state)
{
    struct ct *t = *state;
    xf_domid_t d = mkdom(t, XF_DOMAIN_PV, 4096);

    if (!(xf_hv_caps(t->hv) & XF_HV_CAP_NODE_CLAIMS) || nr_nodes(t) >= 64)
        skip();
    assert_int_equal(xf_hv_claim(t->hv, d, nr_nodes(t), 1000), XF_ENOENT);
    assert_int_equal(xf_hv_claim(t->hv, d, 0, 0), XF_EINVAL);
    assert_int_equal(xf_hv_claim(t->hv, d, 0, 1000), 0);
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 0), 0);
    assert_int_equal(dinfo(t, d).outstanding_pages, 0);
    if (xf_hv_caps(t->hv) & XF_HV_CAP_NODE_CLAIMED_INFO)
        assert_int_equal(node_info(t, 0).claimed_pages, 0);
}
