/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The real-Xen backend against real Xen 4.17, beyond the contract suite
 * (tests/hv/test-contract.c): the facts of Xen that a simulator could get
 * wrong and the backend must pass on. Runs only inside the real-Xen tier's
 * test bed (tests/xen/), as root in a quiet dom0: there no page moves on its
 * own, so free-page differences are exact.
 *
 * Xen sources: xen/common/domctl.c (XEN_DOMCTL_max_vcpus), page_alloc.c
 * (domain_adjust_tot_pages, alloc_domheap_pages), arch/x86/mm/paging.c
 * (arch_{get,set}_paging_mempool_size), arch/x86/numa.c
 * (arch_get_dma_bitsize).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "xenfit/error.h"
#include "xenfit/hv-xen.h"
#include "xenfit/hv.h"

#define MAX_DOMS 8

struct bt {
    struct xf_hv *hv;
    xf_domid_t doms[MAX_DOMS];
    unsigned nr_doms;
    uint64_t free0; /* host free pages when the test started */
};

static uint64_t free_pages_now(struct xf_hv *hv)
{
    struct xf_hv_physinfo p;
    return xf_hv_physinfo(hv, &p) == 0 ? p.free_pages : 0;
}

static int setup(void **state)
{
    struct bt *t = calloc(1, sizeof(*t));
    int r;

    if (!t)
        return -1;
    if ((r = xf_hv_xen_open(&t->hv)) < 0) {
        fprintf(stderr, "xf_hv_xen_open: %s (root in a Xen dom0?)\n", xf_strerror(r));
        free(t);
        return -1;
    }
    t->free0 = free_pages_now(t->hv);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct bt *t = *state;
    struct xf_hv_domain_info info;

    for (unsigned i = 0; i < t->nr_doms; i++)
        (void)xf_hv_destroy(t->hv, t->doms[i]);
    /* Wait (up to 30 s) until Xen has let the domains go and their pages are
     * back, and stay back for 3 checks: a domain's own pages return 30-250 ms
     * after it has left the domain list, an RCU grace period later
     * (complete_domain_destroy), and the next test counts free pages
     * exactly. 8 pages may stay (Xen's pools keep some). */
    for (int tries = 0, settled = 0; tries < 300 && settled < 3; tries++) {
        unsigned left = 0;
        for (unsigned i = 0; i < t->nr_doms; i++)
            left += xf_hv_domain_info(t->hv, t->doms[i], &info) == 0;
        settled = !left && free_pages_now(t->hv) + 8 >= t->free0 ? settled + 1 : 0;
        if (settled < 3)
            (void)xf_hv_sleep_ns(t->hv, 100000000);
    }
    xf_hv_free(t->hv);
    free(t);
    return 0;
}

static xf_domid_t create(struct bt *t, enum xf_domain_type type, uint32_t vcpus, uint64_t max)
{
    xf_domid_t d;

    assert_true(t->nr_doms < MAX_DOMS);
    assert_int_equal(xf_hv_domain_create_vcpus(t->hv, type, vcpus, &d), 0);
    t->doms[t->nr_doms++] = d;
    assert_int_equal(xf_hv_set_max_pages(t->hv, d, max), 0);
    return d;
}

static struct xf_hv_domain_info dinfo(struct bt *t, xf_domid_t d)
{
    struct xf_hv_domain_info i;
    assert_int_equal(xf_hv_domain_info(t->hv, d, &i), 0);
    return i;
}

static uint64_t free_pages(struct bt *t)
{
    struct xf_hv_physinfo p;
    assert_int_equal(xf_hv_physinfo(t->hv, &p), 0);
    return p.free_pages;
}

static int populate(struct bt *t, xf_domid_t d, uint64_t n, uint32_t order, uint32_t node,
                    bool exact, uint64_t *done)
{
    struct xf_hv_populate req = {
        .nr_extents = n, .order = order, .node = node, .exact_node = exact};
    return xf_hv_populate(t->hv, d, &req, done);
}

/* Xen >= 4.12 takes max_vcpus at XEN_DOMCTL_createdomain; XEN_DOMCTL_max_vcpus
 * then allocates them and must repeat the count, else EINVAL. */
static void test_xen_backend_vcpus_fixed_at_create(void **state)
{
    struct bt *t = *state;
    xf_domid_t a = create(t, XF_DOMAIN_PV, 4, 1024), b = create(t, XF_DOMAIN_PV, 1, 1024);
    uint64_t before;

    assert_int_equal(dinfo(t, a).vcpus, 0); /* created, not yet allocated */
    assert_int_equal(xf_hv_set_max_vcpus(t->hv, a, 3), XF_EINVAL);
    before = free_pages(t);
    assert_int_equal(xf_hv_set_max_vcpus(t->hv, a, 4), 0);
    assert_int_equal(dinfo(t, a).vcpus, 4);
    /* The vCPU structures are Xen's pages, outside tot_pages. */
    assert_true(free_pages(t) < before);
    assert_int_equal(dinfo(t, a).tot_pages, 0);
    print_message("4 vCPUs of a PV domain took %llu pages\n",
                  (unsigned long long)(before - free_pages(t)));
    /* xf_hv_domain_create gives one. */
    assert_int_equal(xf_hv_set_max_vcpus(t->hv, b, 2), XF_EINVAL);
    assert_int_equal(xf_hv_set_max_vcpus(t->hv, b, 1), 0);
    assert_int_equal(dinfo(t, b).vcpus, 1);
}

/* A PV domain has no paging pool (EOPNOTSUPP); a PVH one has, sized in pages. */
static void test_xen_backend_paging_pool(void **state)
{
    struct bt *t = *state;
    xf_domid_t pv = create(t, XF_DOMAIN_PV, 1, 1024), pvh;
    uint64_t pool0, before;

    assert_int_equal(xf_hv_set_paging_pool(t->hv, pv, 256), -EOPNOTSUPP);
    assert_int_equal(dinfo(t, pv).paging_pool_pages, 0);

    pvh = create(t, XF_DOMAIN_PVH, 1, 1024);
    assert_int_equal(xf_hv_set_max_vcpus(t->hv, pvh, 1), 0);
    assert_int_equal(dinfo(t, pvh).type, XF_DOMAIN_PVH);
    pool0 = dinfo(t, pvh).paging_pool_pages;
    print_message("a new PVH domain's HAP pool: %llu pages\n", (unsigned long long)pool0);
    before = free_pages(t);
    assert_int_equal(xf_hv_set_paging_pool(t->hv, pvh, pool0 + 512), 0);
    assert_int_equal(dinfo(t, pvh).paging_pool_pages, pool0 + 512);
    assert_int_equal(free_pages(t), before - 512);
    assert_int_equal(dinfo(t, pvh).tot_pages, 0); /* the pool is not the guest's */
    assert_int_equal(xf_hv_set_paging_pool(t->hv, pvh, pool0), 0);
    assert_int_equal(free_pages(t), before);
}

/* Xen 4.17 (domain_adjust_tot_pages): while a claim is active, pages the
 * domain frees raise it again. 4.22 no longer does. */
static void test_xen_backend_claim_raised_by_free(void **state)
{
    struct bt *t = *state;
    xf_domid_t d = create(t, XF_DOMAIN_PV, 1, 8192);
    uint64_t done;

    assert_int_equal(xf_hv_set_max_vcpus(t->hv, d, 1), 0);
    assert_int_equal(xf_hv_claim(t->hv, d, XF_NODE_ANY, 4096), 0);
    assert_int_equal(populate(t, d, 2, 9, XF_NODE_ANY, false, &done), 0);
    assert_int_equal(dinfo(t, d).outstanding_pages, 4096 - 1024);
    assert_int_equal(xf_hv_decrease(t->hv, d, 512), 0);
    assert_int_equal(dinfo(t, d).tot_pages, 512);
    /* 3072 + 512 freed = 3584 */
    assert_int_equal(dinfo(t, d).outstanding_pages, 3584);
    /* Once consumed to 0 it stays 0: freeing does not revive a spent claim. */
    assert_int_equal(populate(t, d, 8, 9, XF_NODE_ANY, false, &done), 0);
    assert_int_equal(dinfo(t, d).outstanding_pages, 0);
    assert_int_equal(xf_hv_decrease(t->hv, d, 100), 0);
    assert_int_equal(dinfo(t, d).outstanding_pages, 0);
}

/* Pages a domain's own extents took come from the node asked for. */
static void test_xen_backend_exact_node_takes_that_node(void **state)
{
    struct bt *t = *state;
    struct xf_node_mem before[XF_MAX_NODES], after[XF_MAX_NODES];
    uint32_t n, last;
    xf_domid_t d = create(t, XF_DOMAIN_PV, 1, 8192);
    uint64_t done;

    assert_int_equal(xf_hv_set_max_vcpus(t->hv, d, 1), 0);
    assert_int_equal(xf_hv_numainfo(t->hv, XF_MAX_NODES, before, NULL, &n), 0);
    if (n < 2)
        skip();
    last = n - 1;
    assert_int_equal(populate(t, d, 4, 9, last, true, &done), 0);
    assert_int_equal(xf_hv_numainfo(t->hv, XF_MAX_NODES, after, NULL, &n), 0);
    assert_int_equal(before[last].memfree_pages - after[last].memfree_pages, 2048);
    assert_int_equal(before[0].memfree_pages, after[0].memfree_pages);
    /* Upstream Xen does not report a domain's pages per node. */
    assert_int_equal(dinfo(t, d).pages_per_node[last], 0);
}

/*
 * The DMA zone: on a host with more than one node, the frames below Xen's
 * DMA width, all on the first node. The test bed's node 0 spans 2 GiB =
 * 524288 pages: width = flsl(524288 / 4 - 1) + 12 = 17 + 12 = 29 bits, so the
 * zone is the first 512 MiB = 131072 pages, a quarter of the node.
 */
static void test_xen_backend_dma_zone_first_node(void **state)
{
    struct bt *t = *state;
    struct xf_node_mem nodes[XF_MAX_NODES];
    uint32_t n;

    assert_true(xf_hv_caps(t->hv) & XF_HV_CAP_NODE_DMA_INFO);
    assert_int_equal(xf_hv_numainfo(t->hv, XF_MAX_NODES, nodes, NULL, &n), 0);
    if (n < 2)
        skip();
    assert_true(nodes[0].dma_free_pages > 0);
    assert_true(nodes[0].dma_free_pages <= nodes[0].memfree_pages);
    assert_true(nodes[0].dma_free_pages <= nodes[0].memsize_pages / 4);
    for (uint32_t i = 1; i < n; i++)
        assert_int_equal(nodes[i].dma_free_pages, 0);
}

/* A node affinity reads back as set; none set reads as all ones. */
static void test_xen_backend_node_affinity(void **state)
{
    struct bt *t = *state;
    xf_domid_t d = create(t, XF_DOMAIN_PV, 1, 1024);

    assert_int_equal(xf_hv_set_max_vcpus(t->hv, d, 1), 0);
    assert_int_equal(dinfo(t, d).node_affinity, UINT64_MAX);
    assert_int_equal(xf_hv_set_node_affinity(t->hv, d, 0x2), 0);
    assert_int_equal(dinfo(t, d).node_affinity, 0x2);
    assert_int_equal(xf_hv_set_node_affinity(t->hv, d, 0), XF_EINVAL);
    assert_int_equal(dinfo(t, d).node_affinity, 0x2);
}

/* decrease needs frames this backend populated: not dom0's; no domain, ESRCH. */
static void test_xen_backend_decrease_own_pages_only(void **state)
{
    struct bt *t = *state;
    uint64_t dom0_tot = dinfo(t, 0).tot_pages;

    assert_int_equal(xf_hv_decrease(t->hv, 0, 1), XF_EINVAL);
    assert_int_equal(dinfo(t, 0).tot_pages, dom0_tot);
    assert_int_equal(xf_hv_decrease(t->hv, 0x7FEE, 1), XF_ESRCH);
}

/* A populate on a domain being destroyed: EINVAL (or ESRCH once it is gone). */
static void test_xen_backend_populate_dying(void **state)
{
    struct bt *t = *state;
    xf_domid_t d = create(t, XF_DOMAIN_PV, 1, 1u << 18);
    uint64_t done = 99;
    int r;

    assert_int_equal(xf_hv_set_max_vcpus(t->hv, d, 1), 0);
    assert_int_equal(populate(t, d, 128, 9, XF_NODE_ANY, false, &done), 0);
    assert_int_equal(xf_hv_destroy(t->hv, d), 0);
    r = populate(t, d, 1, 0, XF_NODE_ANY, false, &done);
    assert_true(r == XF_EINVAL || r == XF_ESRCH);
    assert_int_equal(done, 0);
}

/* libxl removes a domain's xenstore directory before it destroys the domain
 * (libxl_domain.c devices_destroy_cb, then xc_domain_destroy): in between,
 * Xen still knows the domain. A balloon write then must not recreate the
 * directory (squeeze_xen.ml write_noexn): -ESRCH and nothing written, which
 * balloon_info shows (no memory/target: -ENOENT). A domain created through
 * the backend has no xenstore directory at all: the same state. */
static void test_xen_backend_balloon_no_xenstore_dir(void **state)
{
    struct bt *t = *state;
    xf_domid_t d = create(t, XF_DOMAIN_PV, 1, 1024);
    struct xf_hv_balloon b;
    int r = xf_hv_balloon_info(t->hv, d, &b);

    if (r == XF_ENOSYS)
        skip(); /* built without libxenstore */
    assert_int_equal(r, XF_ENOENT);
    assert_int_equal(xf_hv_set_balloon_target(t->hv, d, 4096), XF_ESRCH);
    assert_int_equal(xf_hv_set_memory_offset(t->hv, d, -4), XF_ESRCH);
    assert_int_equal(xf_hv_set_uncooperative(t->hv, d, true), XF_ESRCH);
    assert_int_equal(xf_hv_set_uncooperative(t->hv, d, false), 0);
    assert_int_equal(xf_hv_balloon_info(t->hv, d, &b), XF_ENOENT);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(test_xen_backend_##name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(vcpus_fixed_at_create),      T(paging_pool),         T(claim_raised_by_free),
        T(exact_node_takes_that_node), T(dma_zone_first_node), T(node_affinity),
        T(decrease_own_pages_only),    T(populate_dying),      T(balloon_no_xenstore_dir),
    };
#undef T
    return cmocka_run_group_tests_name("xen-backend", tests, NULL, NULL);
}
