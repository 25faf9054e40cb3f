/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The toolstack emulator (lib/toolstack/build.c) on the simulator: the order of
 * operations, failures reported with phase and errno, claim fallbacks per
 * policy, the overhead measured before populate, node-exact population.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "xenfit/build.h"
#include "xenfit/error.h"
#include "xenfit/sim.h"
#include "xenfit/units.h"

/* Two nodes of 4 GiB, node claims as XenServer's Xen has them. */
static const char host[] =
    "{\"name\":\"t\",\"nodes\":[{\"memory_mib\":4096,\"cpus\":4,\"cores\":2},"
    "{\"memory_mib\":4096,\"cpus\":4,\"cores\":2}],\"distances\":[[10,21],[21,10]],"
    "\"xen\":{\"node_claims\":true,\"node_claimed_info\":true},"
    "\"dom0\":{\"vcpus\":1,\"memory_mib\":512},"
    "\"truth\":{\"hvm\":{\"domain_pages\":30,\"vcpu_pages\":38,\"extra_guest_pages\":17}}}";

static struct xf_hv *sim(void)
{
    struct xf_hv *hv;
    struct xf_parse_error err;
    if (xf_sim_new_from_json(host, strlen(host), NULL, &hv, &err))
        fail_msg("%s", err.message);
    return hv;
}

/* hvm 1 GiB, 4 vCPUs: xen_max 1025 MiB, shadow ceil((1024 + 2048)/256) = 12 MiB. */
static struct xf_build_spec spec(enum xf_policy policy, struct xf_claim_plan claim, uint64_t mask)
{
    struct xf_build_spec s;
    memset(&s, 0, sizeof(s));
    s.type = XF_DOMAIN_HVM;
    s.vcpus = 4;
    s.max_pages = 1025 * 256;
    s.paging_pool_pages = 12 * 256;
    s.populate_pages = 1024 * 256 + 17;
    s.policy = policy;
    s.placement.claim = claim;
    s.placement.node_mask = mask;
    s.affinity_first = true;
    return s;
}

static void test_build_success_on_one_node(void **state)
{
    struct xf_hv *hv = sim();
    struct xf_claim_plan claim = {XF_CLAIM_NODE, 1, 1024 * 256 + 256, 1024 * 256 + 256};
    struct xf_build_spec s = spec(XF_POLICY_XENFIT, claim, 2);
    struct xf_build *b;
    struct xf_hv_domain_info info;
    struct xf_hv_physinfo pi;
    (void)state;
    assert_int_equal(xf_build_new(hv, &s, &b), 0);
    assert_int_equal(xf_build_run(b), 0);
    const struct xf_build_result *r = xf_build_result(b);
    assert_int_equal(r->phase, XF_BUILD_DONE);
    assert_int_equal(r->claimed, XF_CLAIM_NODE);
    assert_int_equal(r->populated_pages, 1024 * 256 + 17);
    /* All guest pages on node 1: the node claim, populated exact-node. */
    assert_int_equal(r->pages_off_plan, 0);
    assert_int_equal(xf_hv_domain_info(hv, r->domid, &info), 0);
    assert_int_equal(info.pages_per_node[1], 1024 * 256 + 17);
    assert_int_equal(info.outstanding_pages, 0); /* the claim was cancelled */
    assert_false(info.paused);
    /* Overhead measured before populate: 30 + 38 * 4 hidden + 12 MiB pool = 3254. */
    assert_true(r->overhead_known);
    assert_int_equal(r->overhead_pages, 30 + 38 * 4 + 12 * 256);
    assert_int_equal(xf_hv_physinfo(hv, &pi), 0);
    assert_int_equal(pi.outstanding_pages, 0);
    xf_build_free(b);
    xf_hv_free(hv);
}

static void test_build_failure_phase_and_errno(void **state)
{
    static const struct {
        enum xf_sim_op op;
        uint64_t nth;
        enum xf_build_phase phase;
    } faults[] = {
        {XF_SIM_OP_DOMAIN_CREATE, 1, XF_BUILD_CREATE},
        {XF_SIM_OP_SET_MAX_VCPUS, 1, XF_BUILD_MAX_VCPUS},
        {XF_SIM_OP_SET_MAX_PAGES, 1, XF_BUILD_MAX_PAGES},
        {XF_SIM_OP_SET_PAGING_POOL, 1, XF_BUILD_PAGING_POOL},
        {XF_SIM_OP_POPULATE, 3, XF_BUILD_POPULATE},
        {XF_SIM_OP_UNPAUSE, 1, XF_BUILD_UNPAUSE},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
        struct xf_hv *hv = sim();
        struct xf_claim_plan claim = {XF_CLAIM_GLOBAL, 0, 1024 * 256 + 256, 0};
        struct xf_build_spec s = spec(XF_POLICY_XENFIT, claim, 0);
        struct xf_build *b;
        struct xf_hv_physinfo before, after;
        assert_int_equal(xf_hv_physinfo(hv, &before), 0);
        assert_int_equal(xf_sim_inject_fault(hv, faults[i].op, faults[i].nth, -ENOMEM), 0);
        assert_int_equal(xf_build_new(hv, &s, &b), 0);
        assert_int_equal(xf_build_run(b), -ENOMEM);
        const struct xf_build_result *r = xf_build_result(b);
        assert_int_equal(r->err, -ENOMEM);
        assert_int_equal(r->phase, faults[i].phase);
        /* A failed build destroys its domain and leaves no claim behind. */
        assert_int_equal(xf_hv_physinfo(hv, &after), 0);
        assert_int_equal(after.outstanding_pages, 0);
        if (faults[i].phase != XF_BUILD_CREATE) {
            struct xf_hv_domain_info info;
            int gone = xf_hv_domain_info(hv, r->domid, &info);
            assert_true(gone == XF_ESRCH || (gone == 0 && info.dying));
        }
        xf_build_free(b);
        xf_hv_free(hv);
    }
}

static void test_build_claim_fallbacks(void **state)
{
    (void)state;
    /* Node 0 (4 GiB, less what Xen keeps) cannot hold 4095 MiB: ENOMEM on the
     * node claim; the host can. */
    struct xf_claim_plan big = {XF_CLAIM_NODE, 0, 4095 * 256, 4095 * 256};
    struct {
        enum xf_policy policy;
        enum xf_claim_kind claimed;
    } cases[] = {
        {XF_POLICY_XENFIT, XF_CLAIM_GLOBAL},     /* ENOMEM on a node: try globally */
        {XF_POLICY_XAPI6869, XF_CLAIM_GLOBAL},   /* ENOMEM: globally */
        {XF_POLICY_XAPI202602, XF_CLAIM_GLOBAL}, /* any error: globally */
        {XF_POLICY_PRE6869, XF_CLAIM_NONE},      /* any error: unclaimed */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct xf_hv *hv = sim();
        struct xf_build_spec s = spec(cases[i].policy, big, 1);
        struct xf_build *b;
        s.max_pages = 4100 * 256;
        s.populate_pages = 1024 * 256;
        assert_int_equal(xf_build_new(hv, &s, &b), 0);
        assert_int_equal(xf_build_run(b), 0);
        assert_int_equal(xf_build_result(b)->node_claim_err, -ENOMEM);
        assert_int_equal(xf_build_result(b)->claimed, cases[i].claimed);
        /* xen-api sets no soft affinity after a node-claim ENOMEM (every
         * version's numa_placement); xenfit set its affinity first. */
        assert_int_equal(xf_build_result(b)->node_mask,
                         cases[i].policy == XF_POLICY_XENFIT ? 1 : 0);
        xf_build_free(b);
        xf_hv_free(hv);
    }
    /* xenfit reports a node-claim error that is not about space. */
    struct xf_hv *hv = sim();
    struct xf_claim_plan ok = {XF_CLAIM_NODE, 0, 1024 * 256, 1024 * 256};
    struct xf_build_spec s = spec(XF_POLICY_XENFIT, ok, 1);
    struct xf_build *b;
    assert_int_equal(xf_sim_inject_fault(hv, XF_SIM_OP_CLAIM, 1, -EINVAL), 0);
    assert_int_equal(xf_build_new(hv, &s, &b), 0);
    assert_int_equal(xf_build_run(b), -EINVAL);
    assert_int_equal(xf_build_result(b)->phase, XF_BUILD_PLACE_CLAIM);
    xf_build_free(b);
    xf_hv_free(hv);
}

/*
 * xen-api built for a Xen without node claims: its claim binding raises ENOSYS
 * for every claim (xenctrlext_stubs.c stub_xenctrlext_domain_claim_pages,
 * without XEN_DOMCTL_NUMA_OP_GET_NODE_PAGES). What each version does then.
 */
static void test_build_xapi_without_node_claims(void **state)
{
    struct xf_claim_plan node = {XF_CLAIM_NODE, 0, 1024 * 256, 1024 * 256};
    struct xf_claim_plan global = {XF_CLAIM_GLOBAL, 0, 1024 * 256, 0};
    struct {
        enum xf_policy policy;
        struct xf_claim_plan claim;
        int err;
        uint64_t mask;
    } cases[] = {
        /* 1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7: numa_placement lets the
         * ENOSYS escape to build_pre's log_reraise: the build fails, and no
         * affinity was set. */
        {XF_POLICY_XAPI6869, node, -ENOSYS, 0},
        /* ...and the global claim fails the build the same way. */
        {XF_POLICY_XAPI6869, global, -ENOSYS, 0},
        /* 7fb8485a7322e1a2123beb2658cb3e51d2246cbb: soft affinity on the
         * planned node, then the global claim's ENOSYS builds unclaimed. */
        {XF_POLICY_XAPI202602, node, 0, 1},
        {XF_POLICY_XAPI202602, global, 0, 0},
        /* 87178fcaebf9d4f9fcfe14c053fea9460e651c93: unclaimed, no affinity. */
        {XF_POLICY_PRE6869, node, 0, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct xf_hv *hv = sim();
        struct xf_build_spec s = spec(cases[i].policy, cases[i].claim, 1);
        struct xf_build *b;
        s.affinity_first = false;
        s.claims_enosys = true;
        assert_int_equal(xf_build_new(hv, &s, &b), 0);
        assert_int_equal(xf_build_run(b), cases[i].err);
        assert_int_equal(xf_build_result(b)->claimed, XF_CLAIM_NONE);
        assert_int_equal(xf_build_result(b)->node_mask, cases[i].mask);
        if (cases[i].err)
            assert_int_equal(xf_build_result(b)->phase, XF_BUILD_PLACE_CLAIM);
        xf_build_free(b);
        xf_hv_free(hv);
    }
    /* With node claims, a successful node claim sets the affinity (all
     * versions) and the populate is node-exact. */
    struct xf_hv *hv = sim();
    struct xf_build_spec s = spec(XF_POLICY_XAPI6869, node, 1);
    struct xf_build *b;
    s.affinity_first = false;
    assert_int_equal(xf_build_new(hv, &s, &b), 0);
    assert_int_equal(xf_build_run(b), 0);
    assert_int_equal(xf_build_result(b)->claimed, XF_CLAIM_NODE);
    assert_int_equal(xf_build_result(b)->node_mask, 1);
    assert_int_equal(xf_build_result(b)->pages_off_plan, 0);
    xf_build_free(b);
    xf_hv_free(hv);
}

static int build_logs;
static void count_log(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
    build_logs++;
}

/* build_pre's wait_xen_free_mem (domain.ml, 1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7):
 * physinfo free_pages must cover required_host_free_mib, else
 * Not_enough_memory before anything but the domain is allocated. */
static void test_build_xapi_free_check(void **state)
{
    (void)state;
    for (enum xf_policy p = XF_POLICY_PRE6869; p <= XF_POLICY_XAPI6869; p++) {
        struct xf_hv *hv = sim();
        struct xf_hv_physinfo pi;
        struct xf_build_spec s = spec(p, (struct xf_claim_plan){0}, 0);
        struct xf_build *b;
        assert_int_equal(xf_hv_physinfo(hv, &pi), 0);
        s.affinity_first = false;
        s.free_check_pages = pi.free_pages + 1;
        s.log = count_log;
        build_logs = 0;
        assert_int_equal(xf_build_new(hv, &s, &b), 0);
        assert_int_equal(xf_build_run(b), XF_ENOFIT);
        assert_int_equal(xf_build_result(b)->phase, XF_BUILD_FREE_CHECK);
        assert_int_equal(xf_build_result(b)->populated_pages, 0);
        /* free_found_pages is what the check saw: less the domain's own pages. */
        assert_true(xf_build_result(b)->free_found_pages < pi.free_pages);
        /* One line at 0 s since PR 6869; none before it. */
        assert_int_equal(build_logs, p == XF_POLICY_PRE6869 ? 0 : 1);
        xf_build_free(b);
        /* What is free once the domain exists (its 30 hidden pages and the
         * 256-page initial pool of this host's truth) passes. */
        assert_int_equal(xf_hv_physinfo(hv, &pi), 0);
        s.free_check_pages = pi.free_pages - 30 - 256;
        assert_int_equal(xf_build_new(hv, &s, &b), 0);
        assert_int_equal(xf_build_run(b), 0);
        xf_build_free(b);
        xf_hv_free(hv);
    }
}

static void test_build_bad_spec(void **state)
{
    struct xf_hv *hv = sim();
    struct xf_build_spec s = spec(XF_POLICY_XENFIT, (struct xf_claim_plan){0}, 0);
    struct xf_build *b = NULL;
    (void)state;
    s.vcpus = 0;
    assert_int_equal(xf_build_new(hv, &s, &b), XF_EINVAL);
    assert_null(b);
    assert_string_equal(xf_build_phase_name(XF_BUILD_POPULATE), "populate");
    xf_hv_free(hv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_success_on_one_node),
        cmocka_unit_test(test_build_failure_phase_and_errno),
        cmocka_unit_test(test_build_claim_fallbacks),
        cmocka_unit_test(test_build_xapi_without_node_claims),
        cmocka_unit_test(test_build_xapi_free_check),
        cmocka_unit_test(test_build_bad_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
