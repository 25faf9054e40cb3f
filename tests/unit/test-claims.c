/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Claim policy and errno classification (lib/core/claims.c), per style.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "xenfit/claims.h"
#include "xenfit/error.h"

/* hvm, static max 8192 MiB, target 4096 MiB, 4 vCPUs:
 * xen_max = 8193 MiB; build_start = 4096 MiB -> claim 1048576 pages. */
static const struct xf_memory_config mc = {
    .build_max_mib = 8192,
    .build_start_mib = 4096,
    .xen_max_mib = 8193,
    .shadow_mib = 68,
    .required_host_free_mib = 4167,
    .overhead_mib = 71,
    .build_claim_pages = 1048576,
};

static struct xf_claim_plan plan(enum xf_policy p, bool numa, uint32_t nodes, bool migration)
{
    struct xf_claim_input in = {.policy = p,
                                .numa_placement_on = numa,
                                .plan_nodes = nodes,
                                .plan_first_node = 3,
                                .mc = &mc,
                                .migration = migration,
                                .source_total_pages = migration ? 1050000 : 0};
    struct xf_claim_plan out;
    assert_int_equal(xf_claim_plan_for(&in, &out), 0);
    return out;
}

static void test_claims_pre6869(void **state)
{
    struct xf_claim_plan p;
    (void)state;
    /* Single node: node claim of xen_max_mib = 8193 * 256 = 2097408 pages (over-claims). */
    p = plan(XF_POLICY_PRE6869, true, 1, false);
    assert_int_equal(p.kind, XF_CLAIM_NODE);
    assert_int_equal(p.node, 3);
    assert_int_equal(p.pages, 2097408);
    assert_int_equal(p.global_pages, 0);
    /* Two nodes, or placement off: unclaimed (claims mix with non-claims). */
    assert_int_equal(plan(XF_POLICY_PRE6869, true, 2, false).kind, XF_CLAIM_NONE);
    assert_int_equal(plan(XF_POLICY_PRE6869, false, 1, false).kind, XF_CLAIM_NONE);
    /* Any node-claim error: unclaimed, never a global claim. */
    assert_int_equal(xf_claim_classify(XF_POLICY_PRE6869, XF_CLAIM_NODE, -ENOMEM),
                     XF_CLAIM_NEXT_UNCLAIMED);
    assert_int_equal(xf_claim_classify(XF_POLICY_PRE6869, XF_CLAIM_NODE, -ENOSYS),
                     XF_CLAIM_NEXT_UNCLAIMED);
    assert_int_equal(xf_claim_classify(XF_POLICY_PRE6869, XF_CLAIM_NODE, 0), XF_CLAIM_NEXT_DONE);
}

/* xen-api at the merge of PR 6869, 1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7:
 * domain.ml numa_placement catches only ENOMEM from the node claim; build_pre
 * makes the global claim inside log_reraise. */
static void test_claims_xapi6869(void **state)
{
    struct xf_claim_plan p;
    (void)state;
    /* Single node: node claim of build_start (1048576), global fallback of the same. */
    p = plan(XF_POLICY_XAPI6869, true, 1, false);
    assert_int_equal(p.kind, XF_CLAIM_NODE);
    assert_int_equal(p.pages, 1048576);
    assert_int_equal(p.global_pages, 1048576);
    /* Multi-node or no plan: global claim of build_start. */
    p = plan(XF_POLICY_XAPI6869, true, 0, false);
    assert_int_equal(p.kind, XF_CLAIM_GLOBAL);
    assert_int_equal(p.pages, 1048576);
    p = plan(XF_POLICY_XAPI6869, true, 2, false);
    assert_int_equal(p.kind, XF_CLAIM_GLOBAL);
    /* Placement "any": no claim at all. */
    assert_int_equal(plan(XF_POLICY_XAPI6869, false, 0, false).kind, XF_CLAIM_NONE);
    /* Migration: the source's exact memory. */
    p = plan(XF_POLICY_XAPI6869, true, 2, true);
    assert_int_equal(p.pages, 1050000);
    /* Only ENOMEM from the node claim falls back to the global claim... */
    assert_int_equal(xf_claim_classify(XF_POLICY_XAPI6869, XF_CLAIM_NODE, -ENOMEM),
                     XF_CLAIM_NEXT_GLOBAL);
    /* ...anything else (ENOSYS on a Xen without node claims) fails the build. */
    assert_int_equal(xf_claim_classify(XF_POLICY_XAPI6869, XF_CLAIM_NODE, -ENOSYS),
                     XF_CLAIM_NEXT_FAIL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XAPI6869, XF_CLAIM_NODE, -EINVAL),
                     XF_CLAIM_NEXT_FAIL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XAPI6869, XF_CLAIM_NODE, -EPERM),
                     XF_CLAIM_NEXT_FAIL);
    /* Every global-claim error is a hard failure. */
    assert_int_equal(xf_claim_classify(XF_POLICY_XAPI6869, XF_CLAIM_GLOBAL, -ENOMEM),
                     XF_CLAIM_NEXT_FAIL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XAPI6869, XF_CLAIM_GLOBAL, -ENOSYS),
                     XF_CLAIM_NEXT_FAIL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XAPI6869, XF_CLAIM_GLOBAL, -EINVAL),
                     XF_CLAIM_NEXT_FAIL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XAPI6869, XF_CLAIM_GLOBAL, 0), XF_CLAIM_NEXT_DONE);
}

/* xapi-2026.02: the merge plus 7fb8485a7322e1a2123beb2658cb3e51d2246cbb
 * (CA-423668, domain.ml numa_placement / build_pre on Result values). */
static void test_claims_xapi202602(void **state)
{
    struct xf_claim_plan p;
    (void)state;
    p = plan(XF_POLICY_XAPI202602, true, 1, false);
    assert_int_equal(p.kind, XF_CLAIM_NODE);
    assert_int_equal(p.pages, 1048576);
    assert_int_equal(p.global_pages, 1048576);
    assert_int_equal(plan(XF_POLICY_XAPI202602, false, 1, false).kind, XF_CLAIM_NONE);
    /* Every node-claim error falls back to the global claim. */
    assert_int_equal(xf_claim_classify(XF_POLICY_XAPI202602, XF_CLAIM_NODE, -ENOMEM),
                     XF_CLAIM_NEXT_GLOBAL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XAPI202602, XF_CLAIM_NODE, -ENOSYS),
                     XF_CLAIM_NEXT_GLOBAL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XAPI202602, XF_CLAIM_NODE, -EINVAL),
                     XF_CLAIM_NEXT_GLOBAL);
    /* A global ENOMEM is hard; anything else continues unclaimed. */
    assert_int_equal(xf_claim_classify(XF_POLICY_XAPI202602, XF_CLAIM_GLOBAL, -ENOMEM),
                     XF_CLAIM_NEXT_FAIL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XAPI202602, XF_CLAIM_GLOBAL, -ENOSYS),
                     XF_CLAIM_NEXT_UNCLAIMED);
}

/* Soft affinity after the node claim: numa_placement's set_vcpu_affinity. */
static void test_claims_soft_affinity(void **state)
{
    (void)state;
    /* Pre-6869 (87178fcaebf9d4f9fcfe14c053fea9460e651c93) and the merge
     * (1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7): only after a success. */
    for (enum xf_policy p = XF_POLICY_PRE6869; p <= XF_POLICY_XAPI6869; p++) {
        assert_true(xf_claim_sets_affinity(p, 0));
        assert_false(xf_claim_sets_affinity(p, -ENOMEM));
        assert_false(xf_claim_sets_affinity(p, -ENOSYS));
    }
    /* 7fb8485a73: also after any error but ENOMEM. */
    assert_true(xf_claim_sets_affinity(XF_POLICY_XAPI202602, 0));
    assert_false(xf_claim_sets_affinity(XF_POLICY_XAPI202602, -ENOMEM));
    assert_true(xf_claim_sets_affinity(XF_POLICY_XAPI202602, -ENOSYS));
    assert_true(xf_claim_sets_affinity(XF_POLICY_XENFIT, -ENOMEM));
}

static void test_claims_xenfit(void **state)
{
    struct xf_claim_plan p;
    (void)state;
    /* Always claims: placement off still takes a global claim (never mix).
     * It claims the build start plus the 1 MiB of firmware room inside
     * xen_max: min(8193 * 256, 1048576 + 256) = 1048832. */
    p = plan(XF_POLICY_XENFIT, false, 0, false);
    assert_int_equal(p.kind, XF_CLAIM_GLOBAL);
    assert_int_equal(p.pages, 1048832);
    /* pv at its static max: xen_max = build_start, no room: 1024 * 256 = 262144. */
    struct xf_memory_config pv = mc;
    pv.xen_max_mib = 1024;
    pv.build_start_mib = 1024;
    pv.build_claim_pages = 262144;
    struct xf_claim_input in = {.policy = XF_POLICY_XENFIT, .mc = &pv};
    assert_int_equal(xf_claim_plan_for(&in, &p), 0);
    assert_int_equal(p.pages, 262144);
    p = plan(XF_POLICY_XENFIT, true, 1, true);
    assert_int_equal(p.kind, XF_CLAIM_NODE);
    assert_int_equal(p.node, 3);
    assert_int_equal(p.pages, 1050000);
    assert_int_equal(p.global_pages, 1050000);
    /* Node claim: ENOMEM (no room there) and "no node claims" fall back... */
    assert_int_equal(xf_claim_classify(XF_POLICY_XENFIT, XF_CLAIM_NODE, -ENOMEM),
                     XF_CLAIM_NEXT_GLOBAL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XENFIT, XF_CLAIM_NODE, -ENOSYS),
                     XF_CLAIM_NEXT_GLOBAL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XENFIT, XF_CLAIM_NODE, -EOPNOTSUPP),
                     XF_CLAIM_NEXT_GLOBAL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XENFIT, XF_CLAIM_NODE, -EPERM),
                     XF_CLAIM_NEXT_GLOBAL);
    /* ...anything else is a real error, reported. */
    assert_int_equal(xf_claim_classify(XF_POLICY_XENFIT, XF_CLAIM_NODE, -EINVAL),
                     XF_CLAIM_NEXT_FAIL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XENFIT, XF_CLAIM_NODE, -ESRCH),
                     XF_CLAIM_NEXT_FAIL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XENFIT, XF_CLAIM_GLOBAL, -ENOMEM),
                     XF_CLAIM_NEXT_FAIL);
    assert_int_equal(xf_claim_classify(XF_POLICY_XENFIT, XF_CLAIM_GLOBAL, -ENOSYS),
                     XF_CLAIM_NEXT_UNCLAIMED);
    assert_int_equal(xf_claim_classify(XF_POLICY_XENFIT, XF_CLAIM_GLOBAL, 0), XF_CLAIM_NEXT_DONE);
}

static void test_claims_bad_input_and_names(void **state)
{
    struct xf_claim_input in = {.policy = XF_POLICY_XENFIT, .mc = &mc, .migration = true};
    struct xf_claim_plan p = {.pages = 99};
    enum xf_policy pol;
    (void)state;
    assert_int_equal(xf_claim_plan_for(&in, &p), XF_EINVAL); /* migration without source */
    in.migration = false;
    in.policy = (enum xf_policy)7;
    assert_int_equal(xf_claim_plan_for(&in, &p), XF_EINVAL);
    assert_int_equal(p.pages, 99);
    assert_int_equal(xf_policy_parse("xapi-pre-6869", &pol), 0);
    assert_int_equal(pol, XF_POLICY_PRE6869);
    assert_int_equal(xf_policy_parse("xapi", &pol), XF_EINVAL);
    assert_string_equal(xf_policy_name(XF_POLICY_XAPI6869), "xapi-6869");
    assert_int_equal(xf_policy_parse("xapi-2026.02", &pol), 0);
    assert_int_equal(pol, XF_POLICY_XAPI202602);
    assert_null(xf_policy_name((enum xf_policy)XF_NR_POLICIES));
    assert_true(xf_policy_is_xapi(XF_POLICY_XAPI202602));
    assert_false(xf_policy_is_xapi(XF_POLICY_XENFIT));
    assert_string_equal(xf_claim_kind_name(XF_CLAIM_NODE), "node");
}

/* Node free memory for xen-api's placement: memfree before PR 6867
 * (1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7, numa_placement), memfree - claimed
 * after it (6a2e5ac13d2bb59a11de464e6b3b9cdf6e2fcf5e, node_mem_claimable_for_new_vm). */
static void test_claims_xapi_node_free(void **state)
{
    (void)state;
    assert_int_equal(xf_xapi_node_free_pages(XF_POLICY_PRE6869, 1000, 300), 1000);
    assert_int_equal(xf_xapi_node_free_pages(XF_POLICY_XAPI6869, 1000, 300), 1000);
    assert_int_equal(xf_xapi_node_free_pages(XF_POLICY_XAPI202602, 1000, 300), 700);
    assert_int_equal(xf_xapi_node_free_pages(XF_POLICY_XAPI202602, 300, 1000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims_pre6869),
        cmocka_unit_test(test_claims_xapi6869),
        cmocka_unit_test(test_claims_xapi202602),
        cmocka_unit_test(test_claims_soft_affinity),
        cmocka_unit_test(test_claims_xenfit),
        cmocka_unit_test(test_claims_xapi_node_free),
        cmocka_unit_test(test_claims_bad_input_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
