/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The contract suite's shared pieces (tests/hv/test-contract.c runs it,
 * tests/hv/contract-claims.c holds the claim and gate rules): the backend
 * factory, the per-test state and the few xf_hv_* sequences every rule
 * repeats. Header-only helpers; the backend under test is set by main().
 */
#ifndef XENFIT_TESTS_CONTRACT_H
#define XENFIT_TESTS_CONTRACT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "xenfit/error.h"
#include "xenfit/hv.h"

struct contract_backend {
    const char *name;
    int (*open)(const struct contract_backend *b, struct xf_hv **ret);
    const char *spec;         /* simulator factories: hosts/<spec> */
    int claim_semantics;      /* simulator factories: option override */
    int node_claims;          /* simulator factories: option override */
    uint64_t noise_pages;     /* pages the host may take or give on its own between calls */
    uint64_t release_slack;   /* pages a destroyed domain may fail to give back */
    uint64_t release_wait_ns; /* how long destroyed memory may take to return */
};

/* The backend under test (test-contract.c runs the suite once per factory). */
extern const struct contract_backend *backend;

#define MAX_DOMS 16
struct ct {
    struct xf_hv *hv;
    xf_domid_t doms[MAX_DOMS];
    unsigned nr_doms;
};

static inline struct xf_hv_physinfo phys(struct ct *t)
{
    struct xf_hv_physinfo p;
    assert_int_equal(xf_hv_physinfo(t->hv, &p), 0);
    return p;
}

/* Memory a new claim may take: total_avail_pages - outstanding_claims. */
static inline uint64_t host_avail(struct ct *t)
{
    struct xf_hv_physinfo p = phys(t);
    return p.free_pages - p.outstanding_pages;
}

static inline struct xf_hv_domain_info dinfo(struct ct *t, xf_domid_t domid)
{
    struct xf_hv_domain_info d;
    assert_int_equal(xf_hv_domain_info(t->hv, domid, &d), 0);
    return d;
}

static inline uint32_t nr_nodes(struct ct *t)
{
    return phys(t).nr_nodes;
}

static inline struct xf_node_mem node_info(struct ct *t, uint32_t node)
{
    struct xf_node_mem nodes[XF_MAX_NODES];
    uint32_t n;
    assert_int_equal(xf_hv_numainfo(t->hv, XF_MAX_NODES, nodes, NULL, &n), 0);
    assert_true(node < n);
    return nodes[node];
}

/* A new domain with room for `vcpus`, recorded for cleanup, its vCPUs not
 * yet allocated (Xen >= 4.12 fixes the count at creation). */
static inline xf_domid_t create(struct ct *t, enum xf_domain_type type, uint32_t vcpus,
                                uint64_t max_pages)
{
    xf_domid_t d;
    assert_true(t->nr_doms < MAX_DOMS);
    assert_int_equal(xf_hv_domain_create_vcpus(t->hv, type, vcpus, &d), 0);
    t->doms[t->nr_doms++] = d;
    assert_int_equal(xf_hv_set_max_pages(t->hv, d, max_pages), 0);
    return d;
}

static inline xf_domid_t mkdom(struct ct *t, enum xf_domain_type type, uint64_t max_pages)
{
    xf_domid_t d = create(t, type, 1, max_pages);
    assert_int_equal(xf_hv_set_max_vcpus(t->hv, d, 1), 0);
    return d;
}

/* numainfo memfree of a node (upstream Xen reports no pages per node for
 * a domain, so placement is seen in the nodes' free memory). */
static inline uint64_t node_free(struct ct *t, uint32_t node)
{
    return node_info(t, node).memfree_pages;
}

static inline int populate(struct ct *t, xf_domid_t d, uint64_t n, uint32_t order, uint32_t node,
                           bool exact, uint64_t *done)
{
    struct xf_hv_populate req = {
        .nr_extents = n, .order = order, .node = node, .exact_node = exact};
    return xf_hv_populate(t->hv, d, &req, done);
}

/* Populates `pages` pages: 2 MiB extents while there are free 2 MiB
 * chunks (a buddy never spans two nodes or zones), then 4 KiB pages. */
static inline void fill(struct ct *t, xf_domid_t d, uint64_t pages)
{
    uint64_t done = 0;
    int r = populate(t, d, pages / 512, 9, XF_NODE_ANY, false, &done);

    assert_true(r == 0 || r == XF_ENOMEM);
    pages -= done * 512;
    assert_int_equal(populate(t, d, pages, 0, XF_NODE_ANY, false, &done), 0);
    assert_int_equal(done, pages);
}

#define BIG (UINT64_C(1) << 40) /* a max_pages nothing reaches */

/* Asserts that a node's free memory moved by exactly `delta` (+- noise). */
static inline void expect_node_drop(struct ct *t, uint32_t node, uint64_t before, uint64_t delta)
{
    uint64_t now = node_free(t, node), n = backend->noise_pages;
    assert_in_range(now, before - delta - n, before - delta + n);
}

static inline uint64_t node_unclaimed(struct ct *t, uint32_t node)
{
    struct xf_node_mem n = node_info(t, node);
    return n.memfree_pages - n.claimed_pages;
}

/* The claim and gate rules, in contract-claims.c. */
void test_contract_claim_sets_total_target(void **state);
void test_contract_claim_active_einval(void **state);
void test_contract_claim_not_above_tot_einval(void **state);
void test_contract_claim_above_max_einval(void **state);
void test_contract_claim_unknown_or_dying(void **state);
void test_contract_claim_enomem_beyond_avail(void **state);
void test_contract_claim_zero_cancels(void **state);
void test_contract_claim_consumed_by_populate(void **state);
void test_contract_gate_refuses_unclaimed(void **state);
void test_contract_gate_admits_covered_claimant(void **state);
void test_contract_gate_order9_with_511_left(void **state);
void test_contract_full_claim_refuses_paging_pool(void **state);
void test_contract_full_claim_refuses_vcpus(void **state);
void test_contract_node_claim_unsupported(void **state);
void test_contract_node_claim_enomem_beyond_node(void **state);
void test_contract_node_claim_keeps_others_off(void **state);
void test_contract_node_claim_arguments(void **state);

#endif
