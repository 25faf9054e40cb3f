/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Admission (lib/core/admit.c): yes or no with numbers, per policy; placement and
 * claim decided at admission for xenfit only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "xenfit/admit.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

#define MIB(x) ((uint64_t)(x)*1048576u)

/* hvm, 4096 MiB, 4 vCPUs: footprint 4135 MiB (xen-api), 4134 (pre-6869). */
static const struct xf_admit_request hvm4g = {
    .vm = {XF_DOMAIN_HVM, MIB(4096), MIB(4096), 0, 4, 1.0},
};

static struct xf_host_free host_with(uint64_t host_mib, uint64_t n0_mib, uint64_t n1_mib)
{
    struct xf_host_free f;
    memset(&f, 0, sizeof(f));
    f.host_free_pages = xf_pages_of_mib(host_mib);
    f.node_free_pages[0] = xf_pages_of_mib(n0_mib);
    f.node_free_pages[1] = xf_pages_of_mib(n1_mib);
    return f;
}

static struct xf_topology *two_nodes(void)
{
    static const int64_t dist[] = {10, 21, 21, 10};
    static const uint32_t cpu_to_node[] = {0, 0, 0, 0, 1, 1, 1, 1};
    static const uint32_t cores[] = {4, 4};
    static const uint64_t free_mib[] = {8192, 8192};
    struct xf_topology_spec ts = {2, dist, 8, cpu_to_node, cores, free_mib};
    struct xf_topology *t;
    assert_int_equal(xf_topology_new(&ts, NULL, 0, &t), 0);
    return t;
}

static void test_admit_refuses_with_numbers(void **state)
{
    struct xf_admit_params p = {XF_POLICY_XAPI6869, xf_xapi_coeffs, XF_NUMA_POLICY_BEST_EFFORT};
    struct xf_host_free f = host_with(4134, 0, 0);
    struct xf_admission a;
    (void)state;
    assert_int_equal(xf_admit(&p, &hvm4g, &f, NULL, &a), 0);
    assert_false(a.admitted);
    assert_int_equal(a.needed_mib, 4135);
    assert_int_equal(a.available_mib, 4134);
    assert_int_equal(a.node, -1);
    assert_non_null(strstr(a.reason, "HOST_NOT_ENOUGH_FREE_MEMORY: needs 4135 MiB"));
    assert_non_null(strstr(a.reason, "4134 MiB free"));
    /* One MiB more and it fits; pre-6869's model needs one MiB less (no 38-page term). */
    f = host_with(4135, 0, 0);
    assert_int_equal(xf_admit(&p, &hvm4g, &f, NULL, &a), 0);
    assert_true(a.admitted);
    assert_int_equal(a.footprint_pages, 4135 * 256);
    p.policy = XF_POLICY_PRE6869;
    p.coeffs = xf_admit_default_coeffs(XF_POLICY_PRE6869);
    f = host_with(4134, 0, 0);
    assert_int_equal(xf_admit(&p, &hvm4g, &f, NULL, &a), 0);
    assert_true(a.admitted);
    assert_int_equal(a.footprint_pages, 4134 * 256);
    /* xapi policies decide placement and claims at build time. */
    assert_false(a.placed);
    assert_int_equal(a.claim.kind, XF_CLAIM_NONE);
}

static void test_admit_policy_reserves(void **state)
{
    struct xf_host_params hp;
    (void)state;
    /* squeeze_xen.ml target_host_free_mem_kib = low_mem_emergency_pool +
     * extra_mem_to_keep (8 MiB), held back by xapi through memory_server.ml
     * get_host_reserved_memory and dbsync_slave.ml's host memory_overhead:
     * 1 + 8 MiB at 87178fcaebf9d4f9fcfe14c053fea9460e651c93, 64 + 8 MiB at
     * 1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7. */
    xf_admit_host_params(XF_POLICY_PRE6869, &hp);
    assert_int_equal(hp.low_mem_reserve_pages, 9 * 256);
    assert_true(hp.ignore_outstanding_claims);
    xf_admit_host_params(XF_POLICY_XAPI6869, &hp);
    assert_int_equal(hp.low_mem_reserve_pages, 72 * 256);
    assert_true(hp.ignore_outstanding_claims);
    xf_admit_host_params(XF_POLICY_XAPI202602, &hp);
    assert_int_equal(hp.low_mem_reserve_pages, 72 * 256);
    assert_true(hp.ignore_outstanding_claims);
    /* xenfit: Xen's low_mem_virq_limit, and outstanding claims subtracted. */
    xf_admit_host_params(XF_POLICY_XENFIT, &hp);
    assert_int_equal(hp.low_mem_reserve_pages, 64 * 256);
    assert_false(hp.ignore_outstanding_claims);
    assert_int_equal(xf_admit_default_coeffs(XF_POLICY_PRE6869).per_vcpu_pages, 0);
    assert_int_equal(xf_admit_default_coeffs(XF_POLICY_XAPI6869).per_vcpu_pages, 38);
}

static void test_admit_xenfit_places_and_claims(void **state)
{
    struct xf_topology *topo = two_nodes();
    struct xf_planner *pl;
    struct xf_admit_params p = {XF_POLICY_XENFIT, xf_xapi_coeffs, XF_NUMA_POLICY_BEST_EFFORT};
    struct xf_host_free f = host_with(20000, 5000, 9000);
    struct xf_admission a;
    (void)state;
    assert_int_equal(xf_planner_new(topo, XF_PLANNER_XENFIT, &pl), 0);
    assert_int_equal(xf_admit(&p, &hvm4g, &f, pl, &a), 0);
    assert_true(a.admitted);
    assert_true(a.placed);
    /* Both nodes fit 4135 MiB; xenfit balances on memory left: node 1. */
    assert_int_equal(a.plan.node_mask, 2);
    assert_int_equal(a.plan.memory_mib_per_node[1], 4135);
    /* A single-node plan: a node claim of the build start plus the 1 MiB of
     * firmware room (4096 * 256 + 256), falling back to the same globally. */
    assert_int_equal(a.claim.kind, XF_CLAIM_NODE);
    assert_int_equal(a.claim.node, 1);
    assert_int_equal(a.claim.pages, 1048576 + 256);
    assert_int_equal(a.claim.global_pages, 1048576 + 256);
    /* Nothing was committed: planning again gives the same answer. */
    assert_int_equal(xf_planner_node_live_placements(pl, 1), 0);

    /* Neither node fits alone, the host does: admitted, spread over both,
     * with a global claim. */
    f = host_with(20000, 3000, 3000);
    assert_int_equal(xf_admit(&p, &hvm4g, &f, pl, &a), 0);
    assert_true(a.admitted);
    assert_int_equal(a.plan.node_mask, 3);
    assert_int_equal(a.plan.memory_mib_per_node[0] + a.plan.memory_mib_per_node[1], 4135);
    assert_int_equal(a.claim.kind, XF_CLAIM_GLOBAL);

    /* Placement off ("any") still claims, globally: claims never mix. */
    p.numa_policy = XF_NUMA_POLICY_ANY;
    f = host_with(20000, 9000, 9000);
    assert_int_equal(xf_admit(&p, &hvm4g, &f, pl, &a), 0);
    assert_false(a.placed);
    assert_int_equal(a.claim.kind, XF_CLAIM_GLOBAL);
    /* A VM with hard affinity is not NUMA-placed either. */
    struct xf_admit_request pinned = hvm4g;
    pinned.hard_affinity = true;
    p.numa_policy = XF_NUMA_POLICY_BEST_EFFORT;
    assert_int_equal(xf_admit(&p, &pinned, &f, pl, &a), 0);
    assert_false(a.placed);
    assert_int_equal(a.claim.kind, XF_CLAIM_GLOBAL);
    xf_planner_free(pl);
    xf_topology_free(topo);
}

/* Admission as a pure function of the placement state (the engine's way):
 * with equal memory on both nodes the live placements decide, and nothing
 * the caller passed changes. */
static void test_admit_on_topology_balances_on_counts(void **state)
{
    struct xf_topology *topo = two_nodes();
    struct xf_admit_params p = {XF_POLICY_XENFIT, xf_xapi_coeffs, XF_NUMA_POLICY_BEST_EFFORT};
    struct xf_host_free f = host_with(20000, 9000, 9000);
    struct xf_placement_counts counts;
    struct xf_admission a;
    (void)state;
    memset(&counts, 0, sizeof(counts));
    assert_int_equal(xf_admit_on_topology(&p, &hvm4g, &f, topo, NULL, &a), 0);
    assert_true(a.placed);
    assert_int_equal(a.plan.node_mask, 1); /* a tie in everything: the lowest node */
    counts.live[0] = 1;
    assert_int_equal(xf_admit_on_topology(&p, &hvm4g, &f, topo, &counts, &a), 0);
    assert_int_equal(a.plan.node_mask, 2); /* node 0 already has a live VM */
    assert_int_equal(a.claim.node, 1);
    assert_int_equal(counts.live[0], 1);
    assert_int_equal(counts.live[1], 0);
    /* No topology: admitted on the host's memory, not placed. */
    assert_int_equal(xf_admit_on_topology(&p, &hvm4g, &f, NULL, &counts, &a), 0);
    assert_true(a.admitted);
    assert_false(a.placed);
    xf_topology_free(topo);
}

/* Pinned vCPUs (xl's cpus=): placed on the nodes of their CPUs only, even
 * when another node has more free memory; refused with those nodes' numbers
 * when they are short, though the host as a whole has room (admitting it
 * unplaced would let Xen put its memory elsewhere). 4 vCPUs pinned to node
 * 1's CPUs need not find 4 cores there: memory alone decides. */
static void test_admit_pinned_nodes_only(void **state)
{
    struct xf_topology *topo = two_nodes();
    struct xf_admit_params p = {XF_POLICY_XENFIT, xf_xapi_coeffs, XF_NUMA_POLICY_BEST_EFFORT};
    struct xf_admit_request pinned = hvm4g;
    struct xf_host_free f = host_with(20000, 9000, 5000);
    struct xf_admission a;
    (void)state;
    pinned.vm.vcpus = 8; /* more than node 1's 4 CPUs */
    pinned.nodes_allowed = 2;
    assert_int_equal(xf_admit_on_topology(&p, &pinned, &f, topo, NULL, &a), 0);
    assert_true(a.admitted);
    assert_true(a.placed);
    assert_int_equal(a.plan.node_mask, 2);
    /* 4096 + 1 + 1 + shadow ceil((256*8 + 2*4096)/256) = 40 + ceil(38*8/256) = 2 */
    assert_int_equal(a.plan.memory_mib_per_node[1], 4140);
    assert_int_equal(a.claim.node, 1);
    /* Unpinned, the same VM goes to node 0 (more free). */
    pinned.nodes_allowed = 0;
    pinned.vm.vcpus = 4;
    assert_int_equal(xf_admit_on_topology(&p, &pinned, &f, topo, NULL, &a), 0);
    assert_int_equal(a.plan.node_mask, 1);
    /* Node 1 has 4000 MiB: refused, with node 1's numbers. */
    f = host_with(20000, 9000, 4000);
    pinned.nodes_allowed = 2;
    assert_int_equal(xf_admit_on_topology(&p, &pinned, &f, topo, NULL, &a), 0);
    assert_false(a.admitted);
    assert_int_equal(a.needed_mib, 4135);
    assert_int_equal(a.available_mib, 4000);
    assert_int_equal(a.node, 1);
    assert_string_equal(a.reason, "HOST_NOT_ENOUGH_FREE_MEMORY: needs 4135 MiB on the node of its "
                                  "pinned CPUs (1), which has 4000 MiB free for a new VM");
    /* Pinned to both nodes: split over them is fine (4000 + 9000). */
    pinned.nodes_allowed = 3;
    f = host_with(20000, 3000, 4000);
    assert_int_equal(xf_admit_on_topology(&p, &pinned, &f, topo, NULL, &a), 0);
    assert_true(a.admitted);
    assert_int_equal(a.plan.node_mask, 3);
    f = host_with(20000, 2000, 2000);
    assert_int_equal(xf_admit_on_topology(&p, &pinned, &f, topo, NULL, &a), 0);
    assert_false(a.admitted);
    assert_int_equal(a.node, -1);
    assert_string_equal(a.reason, "HOST_NOT_ENOUGH_FREE_MEMORY: needs 4135 MiB on the nodes of "
                                  "its pinned CPUs (0,1), which have 4000 MiB free for a new VM");
    xf_topology_free(topo);
}

/* Pinned to many nodes of a 64-node host: runs of three or more nodes print
 * as ranges, pairs as two nodes, and a list too long for the reason ends in
 * "..." so the numbers after it survive (the reason holds 256 bytes). */
static void test_admit_pinned_many_nodes_reason(void **state)
{
    enum { N = 64 };
    static int64_t dist[N * N];
    static uint32_t cpu_to_node[N];
    static uint32_t cores[N];
    static uint64_t free_mib[N];
    struct xf_admit_params p = {XF_POLICY_XENFIT, xf_xapi_coeffs, XF_NUMA_POLICY_BEST_EFFORT};
    struct xf_admit_request big = hvm4g;
    struct xf_host_free f;
    struct xf_admission a;
    struct xf_topology *topo;
    (void)state;
    for (uint32_t i = 0; i < N; i++) {
        for (uint32_t j = 0; j < N; j++)
            dist[i * N + j] = i == j ? 10 : 20;
        cpu_to_node[i] = i;
        cores[i] = 1;
        free_mib[i] = 100;
    }
    struct xf_topology_spec ts = {N, dist, N, cpu_to_node, cores, free_mib};
    assert_int_equal(xf_topology_new(&ts, NULL, 0, &topo), 0);
    memset(&f, 0, sizeof(f));
    f.host_free_pages = xf_pages_of_mib(100 * N);
    for (uint32_t i = 0; i < N; i++)
        f.node_free_pages[i] = xf_pages_of_mib(100);
    big.vm.vcpus = 1;
    /* Nodes 0-3, 8, 9 and 20: 700 MiB, short of 4132. */
    big.nodes_allowed = 0xfULL | 0x300ULL | 1ULL << 20;
    assert_int_equal(xf_admit_on_topology(&p, &big, &f, topo, NULL, &a), 0);
    assert_false(a.admitted);
    assert_int_equal(a.needed_mib, 4132);
    assert_int_equal(a.available_mib, 700);
    assert_string_equal(a.reason, "HOST_NOT_ENOUGH_FREE_MEMORY: needs 4132 MiB on the nodes of its "
                                  "pinned CPUs (0-3,8,9,20), which have 700 MiB free for a new VM");
    /* Every other node: 32 nodes, 3200 MiB, listed whole. */
    big.nodes_allowed = 0x5555555555555555ULL;
    assert_int_equal(xf_admit_on_topology(&p, &big, &f, topo, NULL, &a), 0);
    assert_false(a.admitted);
    assert_int_equal(a.available_mib, 3200);
    assert_string_equal(a.reason,
                        "HOST_NOT_ENOUGH_FREE_MEMORY: needs 4132 MiB on the nodes of its "
                        "pinned CPUs (0,2,4,6,8,10,12,14,16,18,20,22,24,26,28,30,32,34,36,"
                        "38,40,42,44,46,48,50,52,54,56,58,60,62), which have 3200 MiB "
                        "free for a new VM");
    /* Two of every three nodes, 43 of them (4300 MiB: enough memory, so
     * ask for more): the list is cut, the numbers after it kept. */
    big.nodes_allowed = 0xDB6DB6DB6DB6DB6DULL;
    big.vm.static_max_bytes = big.vm.target_bytes = MIB(6000);
    assert_int_equal(xf_admit_on_topology(&p, &big, &f, topo, NULL, &a), 0);
    assert_false(a.admitted);
    assert_int_equal(a.available_mib, 4300);
    assert_non_null(strstr(a.reason, "pinned CPUs (0,2,3,5,6,8,9,11,12,"));
    assert_non_null(strstr(a.reason, "...), which have 4300 MiB free for a new VM"));
    assert_true(strlen(a.reason) < sizeof(a.reason) - 1);
    xf_topology_free(topo);
}

static void test_admit_migration_uses_source_memory(void **state)
{
    /* hvm, static max 8 GiB, target 2 GiB, 2 vCPUs: xen-api footprint =
     * 2048 + 1 + 1 + ceil((512 + 16384)/256) = 66 + ceil(76/256) = 1 -> 2117 MiB.
     * The source really holds 3584 MiB = 3670016 KiB: xenfit reserves
     * 3584 + overhead 69 = 3653 MiB. So does xapi: squeezed reserves
     * memory_limit + overhead, memory_limit = max(memory_actual, target)
     * (xenops_server_xen.ml VM.create_exn and VM.get_state at
     * 1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7). */
    struct xf_admit_request mig = {
        .vm = {XF_DOMAIN_HVM, MIB(8192), MIB(2048), 0, 2, 1.0},
        .migration = true,
        .source_total_kib = 3584 * 1024,
    };
    struct xf_admit_params p = {XF_POLICY_XAPI6869, xf_xapi_coeffs, XF_NUMA_POLICY_ANY};
    struct xf_host_free f = host_with(3000, 0, 0);
    struct xf_admission a;
    (void)state;
    for (enum xf_policy x = XF_POLICY_PRE6869; x <= XF_POLICY_XAPI202602; x++) {
        p.policy = x;
        p.coeffs = xf_admit_default_coeffs(x);
        assert_int_equal(xf_admit(&p, &mig, &f, NULL, &a), 0);
        assert_false(a.admitted);
        /* pre-6869's model has no 38-page term: its overhead is 68 MiB. */
        assert_int_equal(a.needed_mib, x == XF_POLICY_PRE6869 ? 3652 : 3653);
    }
    p.policy = XF_POLICY_XAPI6869;
    p.coeffs = xf_xapi_coeffs;
    /* A source that holds less than the target: memory_limit is the target. */
    struct xf_admit_request small = mig;
    small.source_total_kib = 1024 * 1024;
    f = host_with(100000, 0, 0);
    assert_int_equal(xf_admit(&p, &small, &f, NULL, &a), 0);
    assert_int_equal(a.footprint_pages, (2048 + 69) * 256);
    /* A resume: squeezed reserves the stored suspend_memory_bytes (VM.create_exn,
     * "using stored suspend_memory_bytes"), 1024 + 69, but xapi's start check
     * of the VM (dynamic_min 2048 + 69) is the larger. A 3584 MiB image wins. */
    small.resume = true;
    assert_int_equal(xf_admit(&p, &small, &f, NULL, &a), 0);
    assert_int_equal(a.footprint_pages, (2048 + 69) * 256);
    small.source_total_kib = 3584 * 1024;
    assert_int_equal(xf_admit(&p, &small, &f, NULL, &a), 0);
    assert_int_equal(a.footprint_pages, (3584 + 69) * 256);
    f = host_with(3000, 0, 0);
    p.policy = XF_POLICY_XENFIT;
    assert_int_equal(xf_admit(&p, &mig, &f, NULL, &a), 0);
    assert_false(a.admitted);
    assert_int_equal(a.needed_mib, 3653);
    assert_int_equal(a.available_mib, 3000);
    f = host_with(3653, 0, 0);
    assert_int_equal(xf_admit(&p, &mig, &f, NULL, &a), 0);
    assert_true(a.admitted);
    /* The claim is exactly the source's memory: 917504 pages. */
    assert_int_equal(a.claim.kind, XF_CLAIM_GLOBAL);
    assert_int_equal(a.claim.pages, 917504);
    /* A malformed request is an error, not a refusal. */
    mig.source_total_kib = 0;
    assert_int_equal(xf_admit(&p, &mig, &f, NULL, &a), XF_EBADSIZE);
    struct xf_admit_request bad = hvm4g;
    bad.vm.vcpus = 0;
    assert_int_equal(xf_admit(&p, &bad, &f, NULL, &a), XF_EBADVCPUS);
}

static void test_admit_pv_in_pvh_from_static_max(void **state)
{
    /* xapi sizes pv_in_pvh from static max (assert_enough_memory_available):
     * static 1000, target 500, 1 vCPU: shim(1000) = 34; shadow pages = 256 + 2000
     * -> 9 MiB; overhead = 1 + 1 + 9 + 1 + 34 = 46; footprint = 1000 + 46. */
    struct xf_admit_request r = {.vm = {XF_DOMAIN_PV_IN_PVH, MIB(1000), MIB(500), 0, 1, 1.0}};
    struct xf_admit_params p = {XF_POLICY_XAPI6869, xf_xapi_coeffs, XF_NUMA_POLICY_ANY};
    struct xf_host_free f = host_with(100000, 0, 0);
    struct xf_admission a;
    (void)state;
    assert_int_equal(xf_admit(&p, &r, &f, NULL, &a), 0);
    assert_int_equal(a.footprint_pages, 1046 * 256);
}

/* xapi admits a PVH VM with its shadow multiplier (memory_check.ml
 * vm_compute_required_memory at 1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7),
 * though xenopsd builds it with 1.0 (xenops_server_xen.ml VM.build_domain_exn);
 * xenfit sizes what will be built. pvh 4 GiB, 4 vCPUs, multiplier 2.0:
 * pool 36 MiB * 2 = 72; xapi 4096 + 1 + 1 + 72 + 1 = 4171, xenfit 4135. */
static void test_admit_pvh_multiplier(void **state)
{
    struct xf_admit_request r = {.vm = {XF_DOMAIN_PVH, MIB(4096), MIB(4096), 0, 4, 2.0}};
    struct xf_admit_params p = {XF_POLICY_XAPI6869, xf_xapi_coeffs, XF_NUMA_POLICY_ANY};
    struct xf_host_free f = host_with(100000, 0, 0);
    struct xf_admission a;
    (void)state;
    assert_int_equal(xf_admit(&p, &r, &f, NULL, &a), 0);
    assert_int_equal(a.footprint_pages, 4171 * 256);
    p.policy = XF_POLICY_XENFIT;
    assert_int_equal(xf_admit(&p, &r, &f, NULL, &a), 0);
    assert_int_equal(a.footprint_pages, 4135 * 256);
    assert_int_equal(a.mc.shadow_mib, 36);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admit_refuses_with_numbers),
        cmocka_unit_test(test_admit_policy_reserves),
        cmocka_unit_test(test_admit_xenfit_places_and_claims),
        cmocka_unit_test(test_admit_on_topology_balances_on_counts),
        cmocka_unit_test(test_admit_pinned_nodes_only),
        cmocka_unit_test(test_admit_pinned_many_nodes_reason),
        cmocka_unit_test(test_admit_migration_uses_source_memory),
        cmocka_unit_test(test_admit_pv_in_pvh_from_static_max),
        cmocka_unit_test(test_admit_pvh_multiplier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
