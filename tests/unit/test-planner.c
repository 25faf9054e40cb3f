/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The planner (lib/planner*.c) on hand-worked cases: fitting (memory, CPUs,
 * cores), the per-node split, each policy, NUMA off, the numbers of a request
 * that does not fit, commit and release, both choosers (xenopsd's counter and
 * its tie order; xenfit's memory balance), plans past 16 nodes, the 4-node /
 * 8-VM sequence, and xenopsd's own allocation tests (test_topology.ml,
 * test_allocate) reimplemented on 10 + 11|i-j| matrices and the Opteron SLIT.
 * Random topologies are tested in test-planner-random.c.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fail-alloc.h"
#include "planner-internal.h"
#include "xenfit/alloc.h"
#include "xenfit/error.h"
#include "xenfit/planner.h"
#include "xenfit/topology.h"

#define BIT(i) (UINT64_C(1) << (i))

static const int64_t opteron[8][8] = {
    {10, 16, 16, 22, 16, 22, 16, 22}, {16, 10, 22, 16, 16, 22, 22, 16},
    {16, 22, 10, 16, 16, 16, 16, 16}, {22, 16, 16, 10, 16, 16, 22, 22},
    {16, 16, 16, 16, 10, 16, 16, 22}, {22, 22, 16, 16, 16, 10, 22, 16},
    {16, 22, 16, 22, 16, 22, 10, 16}, {22, 16, 16, 22, 22, 16, 16, 10},
};

/* A topology with cpus CPUs and cores cores on every node, CPUs numbered node
 * by node, free_mib[i] free (or `free1` everywhere if free_mib is NULL), and
 * distances d (or 10 + 11|i-j| if d is NULL). */
static struct xf_topology *make_topology(uint32_t n, const int64_t *d, uint32_t cpus,
                                         uint32_t cores, const uint64_t *free_mib, uint64_t free1)
{
    int64_t dist[XF_MAX_NODES * XF_MAX_NODES];
    uint32_t cpu_to_node[XF_MAX_CPUS], core[XF_MAX_NODES];
    uint64_t fr[XF_MAX_NODES];
    struct xf_topology *t = NULL;
    char err[256] = "";

    for (uint32_t i = 0; i < n; i++) {
        core[i] = cores;
        fr[i] = free_mib ? free_mib[i] : free1;
        for (uint32_t j = 0; j < n; j++)
            dist[i * n + j] = d ? d[i * n + j] : 10 + 11 * (int64_t)(i > j ? i - j : j - i);
    }
    for (uint32_t c = 0; c < n * cpus; c++)
        cpu_to_node[c] = c / cpus;
    const struct xf_topology_spec spec = {n, dist, n * cpus, cpu_to_node, core, fr};
    if (xf_topology_new(&spec, err, sizeof(err), &t) != 0)
        fail_msg("topology: %s", err);
    return t;
}

static struct xf_planner *make_planner(const struct xf_topology *t, enum xf_planner_mode mode)
{
    struct xf_planner *p = NULL;
    assert_int_equal(xf_planner_new(t, mode, &p), 0);
    return p;
}

static struct xf_plan plan_of(const struct xf_planner *p, uint64_t mem, uint32_t vcpus,
                              uint32_t cores, enum xf_numa_policy policy)
{
    struct xf_numa_request req = {mem, vcpus, cores, policy, 0};
    struct xf_plan plan;
    assert_int_equal(xf_planner_plan(p, &req, &plan), 0);
    return plan;
}

static uint32_t count_cpus(const struct xf_plan *plan)
{
    uint32_t n = 0;
    for (uint32_t w = 0; w < XF_CPU_SET_WORDS; w++)
        n += (uint32_t)__builtin_popcountll(plan->cpus[w]);
    return n;
}

static void test_planner_single_node(void **state)
{
    struct xf_topology *t = make_topology(4, NULL, 8, 8, NULL, 16384);
    struct xf_planner *p = make_planner(t, XF_PLANNER_XENFIT);
    (void)state;
    /* 8 vCPUs / 8 GiB fits any node; all equal: the lowest, node 0. */
    struct xf_plan plan = plan_of(p, 8192, 8, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.outcome, XF_PLAN_NODES);
    assert_true(plan.fits);
    assert_int_equal(plan.node_mask, BIT(0));
    assert_int_equal(plan.nr_nodes, 1);
    assert_int_equal(plan.memory_mib_per_node[0], 8192);
    assert_int_equal(plan.cpus[0], 0xFF);
    assert_int_equal(plan.nr_cpus, 8);
    assert_int_equal(plan.cores, 8); /* best_effort: cores = vCPUs */
    assert_int_equal(plan.affinity, XF_AFFINITY_SOFT);
    assert_int_equal(plan.max_distance, 10);
    assert_true(plan.avg_distance == 10.0);
    assert_true(plan.exhaustive);
    /* Node 2 has the most free memory: xenfit picks it. */
    assert_int_equal(xf_planner_set_node_free(p, 2, 16000), 0);
    assert_int_equal(xf_planner_set_node_free(p, 0, 9000), 0);
    assert_int_equal(xf_planner_set_node_free(p, 1, 9000), 0);
    assert_int_equal(xf_planner_set_node_free(p, 3, 15999), 0);
    plan = plan_of(p, 8192, 8, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.node_mask, BIT(2));
    assert_int_equal(plan.cpus[0], UINT64_C(0xFF) << 16);
    xf_planner_free(p);
    xf_topology_free(t);
}

static void test_planner_fitting(void **state)
{
    /* 4 nodes of 8 CPUs, 4 cores (two threads a core), 16 GiB. */
    struct xf_topology *t = make_topology(4, NULL, 8, 4, NULL, 16384);
    struct xf_planner *p = make_planner(t, XF_PLANNER_XENFIT);
    struct xf_plan plan;
    (void)state;
    /* Memory: exactly one node's, then one MiB more (an adjacent pair). */
    plan = plan_of(p, 16384, 4, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.nr_nodes, 1);
    plan = plan_of(p, 16385, 4, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.node_mask, BIT(0) | BIT(1));
    assert_int_equal(plan.max_distance, 21);
    assert_true(plan.avg_distance == 15.5);
    /* CPUs: 9 vCPUs need two nodes even with prio_mem_only. */
    plan = plan_of(p, 1024, 9, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_PRIO_MEM_ONLY);
    assert_int_equal(plan.nr_nodes, 2);
    assert_int_equal(plan.cores, 0);
    /* Cores: best_effort wants 8 cores for 8 vCPUs: two nodes of 4 cores;
     * prio_mem_only does not: one node; an explicit cores=4 also one. */
    plan = plan_of(p, 1024, 8, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.nr_nodes, 2);
    assert_int_equal(plan.cores_available, 8);
    plan = plan_of(p, 1024, 8, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_PRIO_MEM_ONLY);
    assert_int_equal(plan.nr_nodes, 1);
    plan = plan_of(p, 1024, 8, 4, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.nr_nodes, 1);
    assert_int_equal(plan.cores, 4);
    /* 40 GiB / 20 vCPUs: three nodes, consecutive: (32, 178/9). */
    plan = plan_of(p, 40960, 20, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_PRIO_MEM_ONLY);
    assert_int_equal(plan.nr_nodes, 3);
    assert_int_equal(plan.max_distance, 32);
    assert_true(fabs(plan.avg_distance - 178.0 / 9) < 1e-12);
    assert_int_equal(count_cpus(&plan), 24);
    xf_planner_free(p);
    xf_topology_free(t);
}

static void test_planner_split(void **state)
{
    uint64_t free_mib[XF_MAX_NODES] = {10000, 20000, 30000, 16384, 16384, 16384};
    uint64_t share[XF_MAX_NODES];
    (void)state;
    /* 30001 over 10000/20000/30000: exact shares 5000.17, 10000.33, 15000.5;
     * rounded down 30000; remainders (30001 * f mod 60000) 10000, 20000,
     * 30000: the extra MiB goes to node 2. */
    xf__split(free_mib, 7, 30001, share);
    assert_int_equal(share[0], 5000);
    assert_int_equal(share[1], 10000);
    assert_int_equal(share[2], 15001);
    /* 40960 over three equal nodes: 13653.33 each, one extra MiB to the lowest
     * node (equal remainders, equal free). */
    xf__split(free_mib, 7u << 3, 40960, share);
    assert_int_equal(share[3], 13654);
    assert_int_equal(share[4], 13653);
    assert_int_equal(share[5], 13653);
    /* All of it: every node gives exactly its free memory. */
    xf__split(free_mib, 7, 60000, share);
    assert_int_equal(share[0], 10000);
    assert_int_equal(share[1], 20000);
    assert_int_equal(share[2], 30000);
    /* A node with nothing free gets nothing. */
    free_mib[1] = 0;
    xf__split(free_mib, 7, 40000, share);
    assert_int_equal(share[1], 0);
    assert_int_equal(share[0] + share[2], 40000);
    assert_int_equal(share[0], 10000);
    /* Random sets: the split sums to the request and fits every node. */
    srand(4);
    for (int round = 0; round < 20000; round++) {
        uint64_t nodes = 0, total = 0, sum = 0, mem;
        for (uint32_t i = 0; i < XF_MAX_NODES; i++) {
            free_mib[i] = (uint64_t)rand() % (round % 2 ? 7 : 100000);
            if (rand() % 3 == 0) {
                nodes |= BIT(i);
                total += free_mib[i];
            }
        }
        if (total == 0)
            continue;
        mem = 1 + (uint64_t)rand() % total;
        xf__split(free_mib, nodes, mem, share);
        for (uint32_t i = 0; i < XF_MAX_NODES; i++) {
            if (!(nodes >> i & 1u))
                continue;
            assert_true(share[i] <= free_mib[i]);
            sum += share[i];
        }
        assert_int_equal(sum, mem);
    }
}

static void test_planner_policies(void **state)
{
    const uint64_t free_mib[] = {1000, 3000};
    struct xf_topology *t = make_topology(2, NULL, 4, 2, free_mib, 0);
    struct xf_planner *p = make_planner(t, XF_PLANNER_XENFIT);
    struct xf_plan plan;
    (void)state;
    /* any: no placement; memory over every node in proportion (1000:3000). */
    plan = plan_of(p, 2000, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_ANY);
    assert_int_equal(plan.outcome, XF_PLAN_INTERLEAVE);
    assert_true(plan.fits);
    assert_int_equal(plan.affinity, XF_AFFINITY_NONE);
    assert_int_equal(plan.node_mask, 3);
    assert_int_equal(plan.memory_mib_per_node[0], 500);
    assert_int_equal(plan.memory_mib_per_node[1], 1500);
    assert_int_equal(plan.nr_cpus, 8);
    assert_int_equal(plan.cores, 0);
    plan = plan_of(p, 4001, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_ANY);
    assert_int_equal(plan.outcome, XF_PLAN_NO_FIT);
    assert_int_equal(plan.nofit.host_free_mib, 4000);
    /* best_effort: 2 vCPUs want 2 cores: node 1 (more memory left). */
    plan = plan_of(p, 500, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.node_mask, BIT(1));
    assert_int_equal(plan.affinity, XF_AFFINITY_SOFT);
    assert_int_equal(plan.cores, 2);
    plan = plan_of(p, 500, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT_HARD);
    assert_int_equal(plan.node_mask, BIT(1));
    assert_int_equal(plan.affinity, XF_AFFINITY_HARD);
    /* 3 vCPUs: best_effort needs 3 cores (2 per node): both nodes;
     * prio_mem_only fits on one node's 4 CPUs. */
    plan = plan_of(p, 500, 3, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.node_mask, 3);
    plan = plan_of(p, 500, 3, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_PRIO_MEM_ONLY);
    assert_int_equal(plan.node_mask, BIT(1));
    assert_int_equal(plan.affinity, XF_AFFINITY_SOFT);
    xf_planner_free(p);
    xf_topology_free(t);
}

/* nodes_allowed: a plan uses only those nodes, on the exhaustive path (4
 * nodes) and past 16 nodes (32: singles, then the clique search), and a
 * request that does not fit them is NO_FIT with their numbers. */
static void test_planner_nodes_allowed(void **state)
{
    (void)state;
    for (uint32_t n = 4; n <= 32; n += 28) {
        struct xf_topology *t = make_topology(n, NULL, 2, 2, NULL, 1000);
        struct xf_planner *p = make_planner(t, XF_PLANNER_XENFIT);
        struct xf_numa_request req = {800, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT,
                                      BIT(3)};
        struct xf_plan plan;
        assert_int_equal(xf_planner_plan(p, &req, &plan), 0);
        assert_int_equal(plan.outcome, XF_PLAN_NODES);
        assert_int_equal(plan.node_mask, BIT(3));
        /* Two allowed nodes 11 apart (2 and 3): 1500 MiB splits over both. */
        req.memory_mib = 1500;
        req.nodes_allowed = BIT(2) | BIT(3);
        assert_int_equal(xf_planner_plan(p, &req, &plan), 0);
        assert_int_equal(plan.outcome, XF_PLAN_NODES);
        assert_int_equal(plan.node_mask, BIT(2) | BIT(3));
        /* Only node 3: 1000 MiB free there. */
        req.nodes_allowed = BIT(3);
        assert_int_equal(xf_planner_plan(p, &req, &plan), 0);
        assert_int_equal(plan.outcome, XF_PLAN_NO_FIT);
        assert_int_equal(plan.nofit.host_free_mib, 1000);
        assert_int_equal(plan.nofit.best_node, 3);
        assert_non_null(strstr(plan.reason, "the nodes allowed 1000 MiB free"));
        xf_planner_free(p);
        xf_topology_free(t);
    }
}

static void test_planner_bad_requests(void **state)
{
    struct xf_topology *t = make_topology(2, NULL, 4, 2, NULL, 1024);
    struct xf_planner *p = make_planner(t, XF_PLANNER_XENFIT), *q;
    struct xf_plan plan;
    struct xf_numa_request req = {0, 1, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT, 0};
    (void)state;
    plan.node_mask = 77;
    assert_int_equal(xf_planner_plan(p, &req, &plan), XF_EINVAL); /* memory 0 */
    req.memory_mib = 1;
    req.vcpus = 0;
    assert_int_equal(xf_planner_plan(p, &req, &plan), XF_EINVAL);
    req.vcpus = XF_MAX_CPUS + 1;
    assert_int_equal(xf_planner_plan(p, &req, &plan), XF_EINVAL);
    req.vcpus = 1;
    req.policy = (enum xf_numa_policy)9;
    assert_int_equal(xf_planner_plan(p, &req, &plan), XF_EINVAL);
    assert_int_equal(plan.node_mask, 77); /* untouched */
    assert_int_equal(xf_planner_new(t, (enum xf_planner_mode)5, &q), XF_EINVAL);
    assert_int_equal(xf_planner_set_node_free(p, 2, 1), XF_EINVAL);
    assert_int_equal(xf_planner_set_node_free(p, 0, XF_NODE_FREE_MIB_MAX + 1), XF_ERANGE);
    enum xf_numa_policy pol;
    enum xf_planner_mode mode;
    assert_int_equal(xf_numa_policy_parse("best_effort_hard", &pol), 0);
    assert_int_equal(pol, XF_NUMA_POLICY_BEST_EFFORT_HARD);
    assert_int_equal(xf_numa_policy_parse("strict", &pol), XF_EINVAL);
    assert_int_equal(xf_planner_mode_parse("xenopsd", &mode), 0);
    assert_int_equal(mode, XF_PLANNER_XENOPSD);
    assert_string_equal(xf_numa_policy_name(XF_NUMA_POLICY_PRIO_MEM_ONLY), "prio_mem_only");
    assert_true(xf_numa_policy_valid(XF_NUMA_POLICY_ANY));
    assert_true(xf_numa_policy_valid(XF_NUMA_POLICY_PRIO_MEM_ONLY));
    assert_false(xf_numa_policy_valid((enum xf_numa_policy)(XF_NUMA_POLICY_PRIO_MEM_ONLY + 1)));
    assert_string_equal(xf_numa_policy_name((enum xf_numa_policy)9), "unknown");
    assert_string_equal(xf_affinity_name(XF_AFFINITY_HARD), "hard");
    /* The one allocation of a planner failing. */
    q = (struct xf_planner *)0x1;
    fail_at = 0;
    alloc_count = 0;
    assert_int_equal(fail_alloc_install(), 0);
    assert_int_equal(xf_planner_new(t, XF_PLANNER_XENFIT, &q), XF_ENOMEM);
    xf_reset_allocator();
    assert_int_equal(alloc_count, 1);
    assert_ptr_equal(q, (struct xf_planner *)0x1);
    xf_planner_free(p);
    xf_topology_free(t);
}

static void test_planner_numa_off(void **state)
{
    const int64_t bad[] = {10, 21, 21, 11};
    struct xf_topology *t = make_topology(2, bad, 4, 4, NULL, 8192);
    struct xf_planner *p = make_planner(t, XF_PLANNER_XENFIT);
    struct xf_plan plan;
    (void)state;
    plan = plan_of(p, 1024, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.outcome, XF_PLAN_NUMA_OFF);
    assert_false(plan.fits);
    assert_non_null(strstr(plan.reason, "NUMA placement is off"));
    assert_non_null(strstr(plan.reason, "distances[1][1] = 11"));
    assert_int_equal(xf_planner_commit(p, &plan), XF_EINVAL);
    /* any still interleaves; distances are meaningless there. */
    plan = plan_of(p, 1024, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_ANY);
    assert_int_equal(plan.outcome, XF_PLAN_INTERLEAVE);
    assert_false(plan.has_distances);
    assert_int_equal(plan.memory_mib_per_node[0], 512);
    xf_planner_free(p);
    xf_topology_free(t);
}

static void test_planner_nofit_numbers(void **state)
{
    const uint64_t free_mib[] = {1000, 7000, 3000, 5000};
    struct xf_topology *t = make_topology(4, NULL, 8, 4, free_mib, 0);
    struct xf_planner *p = make_planner(t, XF_PLANNER_XENFIT);
    struct xf_plan plan;
    (void)state;
    /* 16001 MiB > 16000 on the host; 33 vCPUs > 32 CPUs; 17 cores > 16. */
    plan = plan_of(p, 16001, 33, 17, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.outcome, XF_PLAN_NO_FIT);
    assert_int_equal(plan.nofit.exceeded, XF_NOFIT_MEMORY | XF_NOFIT_CPUS | XF_NOFIT_CORES);
    assert_int_equal(plan.nofit.memory_mib_needed, 16001);
    assert_int_equal(plan.nofit.best_node, 1);
    assert_int_equal(plan.nofit.best_node_free_mib, 7000);
    assert_int_equal(plan.nofit.host_free_mib, 16000);
    assert_int_equal(plan.nofit.vcpus, 33);
    assert_int_equal(plan.nofit.host_cpus, 32);
    assert_int_equal(plan.nofit.cores_needed, 17);
    assert_int_equal(plan.nofit.host_cores, 16);
    assert_string_equal(plan.reason,
                        "does not fit: needs 16001 MiB, 33 vCPUs, 17 cores; the best node (1) "
                        "has 7000 MiB free, the host 16000 MiB free, 32 CPUs, 16 cores (short "
                        "of memory, CPUs, cores)");
    /* Only the cores are short. */
    plan = plan_of(p, 100, 8, 17, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.nofit.exceeded, XF_NOFIT_CORES);
    assert_non_null(strstr(plan.reason, "(short of cores)"));

    /* Two reachable nodes that cannot reach each other: the host has the
     * memory, no reachable set does. */
    const int64_t apart[] = {10, 255, 255, 10};
    struct xf_topology *t2 = make_topology(2, apart, 4, 4, NULL, 4096);
    struct xf_planner *p2 = make_planner(t2, XF_PLANNER_XENFIT);
    plan = plan_of(p2, 5000, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.outcome, XF_PLAN_NO_FIT);
    assert_int_equal(plan.nofit.exceeded, XF_NOFIT_TOPOLOGY);
    assert_non_null(strstr(plan.reason, "no set of mutually reachable nodes has enough"));
    xf_planner_free(p2);
    xf_topology_free(t2);
    xf_planner_free(p);
    xf_topology_free(t);
}

/* The pure planner: the same plan as a planner holding the same state, the
 * live placements (not the memory) breaking a tie, nothing changed. */
static void test_planner_pure_function_of_state(void **state)
{
    struct xf_topology *t = make_topology(3, NULL, 4, 4, NULL, 10000);
    struct xf_placement_counts counts;
    struct xf_numa_request req = {4000, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT, 0};
    uint64_t free_mib[XF_MAX_NODES] = {8000, 8000, 8000};
    struct xf_plan a, b;
    (void)state;
    memset(&counts, 0, sizeof(counts));
    /* Equal memory, no placements: the lowest node. */
    assert_int_equal(xf_plan_numa(t, XF_PLANNER_XENFIT, free_mib, NULL, &req, &a), 0);
    assert_int_equal(a.node_mask, BIT(0));
    /* One live placement on 0 and on 2: node 1 (the fewest live). */
    counts.live[0] = counts.live[2] = 1;
    assert_int_equal(xf_plan_numa(t, XF_PLANNER_XENFIT, free_mib, &counts, &req, &a), 0);
    assert_int_equal(a.node_mask, BIT(1));
    assert_int_equal(a.memory_mib_per_node[1], 4000);
    assert_int_equal(counts.live[1], 0); /* nothing changed */
    /* xenopsd's mode reads only the totals: 0 and 2 used once, 1 never. */
    counts.total[0] = counts.total[2] = 1;
    counts.live[1] = 5;
    assert_int_equal(xf_plan_numa(t, XF_PLANNER_XENOPSD, free_mib, &counts, &req, &a), 0);
    assert_int_equal(a.node_mask, BIT(1));
    /* The same state through a planner: the same plan, field for field. */
    struct xf_planner *p = make_planner(t, XF_PLANNER_XENFIT);
    struct xf_numa_request big = {12000, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT, 0};
    assert_int_equal(xf_planner_place(p, &req, &a), 0); /* node 0: 6000 left, 1 live */
    for (uint32_t i = 0; i < 3; i++)
        free_mib[i] = xf_planner_node_free(p, i);
    assert_int_equal(xf_planner_plan(p, &big, &a), 0);
    assert_int_equal(xf_plan_numa(t, XF_PLANNER_XENFIT, free_mib, xf_planner_counts(p), &big, &b),
                     0);
    assert_int_equal(b.node_mask, BIT(1) | BIT(2));
    assert_memory_equal(&a, &b, sizeof(a));
    /* Out of range: a node's memory, the mode, the arguments. */
    free_mib[2] = XF_NODE_FREE_MIB_MAX + 1;
    assert_int_equal(xf_plan_numa(t, XF_PLANNER_XENFIT, free_mib, NULL, &req, &a), XF_ERANGE);
    free_mib[2] = 1;
    assert_int_equal(xf_plan_numa(t, (enum xf_planner_mode)7, free_mib, NULL, &req, &a), XF_EINVAL);
    assert_int_equal(xf_plan_numa(NULL, XF_PLANNER_XENFIT, free_mib, NULL, &req, &a), XF_EINVAL);
    assert_int_equal(xf_plan_numa(t, XF_PLANNER_XENFIT, NULL, NULL, &req, &a), XF_EINVAL);
    xf_planner_free(p);
    xf_topology_free(t);
}

static void test_planner_commit_release(void **state)
{
    struct xf_topology *t = make_topology(3, NULL, 4, 4, NULL, 10000);
    struct xf_planner *p = make_planner(t, XF_PLANNER_XENFIT);
    struct xf_plan a, b, c;
    (void)state;
    assert_int_equal(xf_planner_place(p,
                                      &(struct xf_numa_request){6000, 2, XF_CORES_FROM_POLICY,
                                                                XF_NUMA_POLICY_BEST_EFFORT, 0},
                                      &a),
                     0);
    assert_int_equal(a.node_mask, BIT(0));
    assert_int_equal(xf_planner_node_free(p, 0), 4000);
    assert_int_equal(xf_planner_node_placements(p, 0), 1);
    assert_int_equal(xf_planner_node_live_placements(p, 0), 1);
    /* 12000 MiB: {0,1} (4000 + 10000) and {1,2} (20000) are the tier; after
     * the split {1,2} keeps 4000 on each, {0,1} only 571 on node 0
     * (12000 * 4000 / 14000 = 3428.57 -> 3429 there): {1,2}. */
    b = plan_of(p, 12000, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(b.node_mask, BIT(1) | BIT(2));
    assert_int_equal(b.memory_mib_per_node[1], 6000);
    assert_int_equal(xf_planner_commit(p, &b), 0);
    assert_int_equal(xf_planner_node_free(p, 2), 4000);
    /* A stale plan: node 2 was read lower from outside. */
    c = plan_of(p, 4000, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(c.node_mask, BIT(0)); /* 4000 and one live VM on each: the lowest node */
    assert_int_equal(xf_planner_set_node_free(p, 0, 3999), 0);
    assert_int_equal(xf_planner_commit(p, &c), XF_ENOFIT);
    assert_int_equal(xf_planner_node_free(p, 0), 3999); /* unchanged */
    assert_int_equal(xf_planner_node_placements(p, 0), 1);
    /* Release gives everything back; xenopsd's counter keeps counting. */
    assert_int_equal(xf_planner_release(p, &b), 0);
    assert_int_equal(xf_planner_node_free(p, 1), 10000);
    assert_int_equal(xf_planner_node_free(p, 2), 10000);
    assert_int_equal(xf_planner_node_live_placements(p, 1), 0);
    assert_int_equal(xf_planner_node_placements(p, 1), 1);
    assert_int_equal(xf_planner_release(p, &b), XF_EINVAL); /* not committed any more */
    /* Giving back more than a node can hold is refused, changing nothing. */
    assert_int_equal(xf_planner_set_node_free(p, 0, XF_NODE_FREE_MIB_MAX - 5999), 0);
    assert_int_equal(xf_planner_release(p, &a), XF_EOVERFLOW);
    assert_int_equal(xf_planner_node_live_placements(p, 0), 1);
    assert_int_equal(xf_planner_set_node_free(p, 0, 3999), 0);
    assert_int_equal(xf_planner_release(p, &a), 0);
    assert_int_equal(xf_planner_node_free(p, 0), 9999);
    /* A plan that does not fit, or names a node the topology lacks. */
    c = plan_of(p, 1u << 30, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(xf_planner_commit(p, &c), XF_EINVAL);
    a.node_mask = BIT(5);
    assert_int_equal(xf_planner_commit(p, &a), XF_EINVAL);
    xf_planner_free(p);
    xf_topology_free(t);
}

/* The sequence test: 4 nodes, 8 VMs that each fill half a node. */
static void test_planner_sequence_two_per_node(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        struct xf_topology *t = make_topology(4, NULL, 8, 8, NULL, 16384);
        struct xf_planner *p = make_planner(t, (enum xf_planner_mode)mode);
        uint32_t per_node[4] = {0};
        for (int vm = 0; vm < 8; vm++) {
            struct xf_plan plan;
            assert_int_equal(
                xf_planner_place(p,
                                 &(struct xf_numa_request){8192, 4, XF_CORES_FROM_POLICY,
                                                           XF_NUMA_POLICY_BEST_EFFORT, 0},
                                 &plan),
                0);
            assert_true(plan.fits);
            assert_int_equal(plan.nr_nodes, 1);
            /* Both choosers go round the nodes in order: 0 1 2 3 0 1 2 3. */
            assert_int_equal(plan.node_mask, BIT(vm % 4));
            per_node[__builtin_ctzll(plan.node_mask)]++;
        }
        for (uint32_t i = 0; i < 4; i++) {
            assert_int_equal(per_node[i], 2);
            assert_int_equal(xf_planner_node_free(p, i), 0);
        }
        xf_planner_free(p);
        xf_topology_free(t);
    }
}

static void test_planner_xenopsd_chooser(void **state)
{
    struct xf_topology *t = make_topology(4, NULL, 8, 8, NULL, 16384);
    struct xf_planner *x = make_planner(t, XF_PLANNER_XENOPSD);
    struct xf_planner *f = make_planner(t, XF_PLANNER_XENFIT);
    struct xf_plan plan;
    (void)state;
    /* Pairs of the tier {0,1} {1,2} {2,3}, usage 0 each: OCaml compares the
     * descending node lists [1;0] < [2;1] < [3;2]: {0,1}. Then usage is
     * 2, 1, 0: {2,3}. Then 2, 2, 2 again: {0,1}. */
    const struct xf_numa_request pair = {1024, 12, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT,
                                         0};
    assert_int_equal(xf_planner_place(x, &pair, &plan), 0);
    assert_int_equal(plan.node_mask, 3);
    assert_int_equal(xf_planner_place(x, &pair, &plan), 0);
    assert_int_equal(plan.node_mask, 12);
    assert_int_equal(xf_planner_place(x, &pair, &plan), 0);
    assert_int_equal(plan.node_mask, 3);
    assert_int_equal(xf_planner_node_placements(x, 0), 2);

    /* The counter only grows: after a release xenopsd still avoids node 0,
     * although it has the most memory; xenfit takes it. */
    const struct xf_numa_request one = {8000, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT,
                                        0};
    struct xf_plan first;
    assert_int_equal(xf_planner_place(f, &one, &first), 0);
    assert_int_equal(first.node_mask, BIT(0));
    assert_int_equal(xf_planner_release(f, &first), 0);
    struct xf_planner *x2 = make_planner(t, XF_PLANNER_XENOPSD);
    assert_int_equal(xf_planner_place(x2, &one, &first), 0);
    assert_int_equal(xf_planner_release(x2, &first), 0);
    for (uint32_t i = 1; i < 4; i++) {
        assert_int_equal(xf_planner_set_node_free(f, i, 9000), 0);
        assert_int_equal(xf_planner_set_node_free(x2, i, 9000), 0);
    }
    plan = plan_of(f, 8000, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.node_mask, BIT(0));
    plan = plan_of(x2, 8000, 2, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
    assert_int_equal(plan.node_mask, BIT(1));
    xf_planner_free(x);
    xf_planner_free(x2);
    xf_planner_free(f);
    xf_topology_free(t);
}

/* Past 16 nodes: xenfit finds multi-node plans, xenopsd only single nodes. */
static void test_planner_large_hosts(void **state)
{
    (void)state;
    for (uint32_t n = 17; n <= 64; n += 47) {
        struct xf_topology *t = make_topology(n, NULL, 8, 8, NULL, 16384);
        struct xf_planner *f = make_planner(t, XF_PLANNER_XENFIT);
        struct xf_planner *x = make_planner(t, XF_PLANNER_XENOPSD);
        struct xf_plan plan;
        /* Three consecutive nodes: 3 * 8 CPUs >= 20, 48 GiB >= 40 GiB. */
        plan = plan_of(f, 40960, 20, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
        assert_int_equal(plan.outcome, XF_PLAN_NODES);
        assert_int_equal(plan.node_mask, 7);
        assert_int_equal(plan.max_distance, 32);
        assert_true(plan.exhaustive);
        plan = plan_of(x, 40960, 20, XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT);
        assert_int_equal(plan.outcome, XF_PLAN_NO_FIT);
        assert_int_equal(plan.nofit.exceeded, XF_NOFIT_TOPOLOGY);
        assert_non_null(strstr(plan.reason, "single nodes"));
        /* A sequence of them stays valid and spreads over the host. */
        uint64_t used = 0;
        for (uint32_t vm = 0; vm < n / 3; vm++) {
            assert_int_equal(
                xf_planner_place(f,
                                 &(struct xf_numa_request){40960, 20, XF_CORES_FROM_POLICY,
                                                           XF_NUMA_POLICY_BEST_EFFORT, 0},
                                 &plan),
                0);
            assert_true(plan.fits);
            assert_int_equal(plan.nr_nodes, 3);
            assert_int_equal(plan.max_distance, 32);
            assert_int_equal(used & plan.node_mask, 0);
            used |= plan.node_mask;
        }
        xf_planner_free(f);
        xf_planner_free(x);
        xf_topology_free(t);
    }
}

/* ---- xenopsd's test_allocate, reimplemented ---- */

struct cost {
    uint32_t worst;
    uint32_t best;
    double average;
};

/* Access costs of a VM whose vCPUs run on `cpus` and whose memory is on the
 * nodes of those CPUs (as vm_access_costs). */
static struct cost access_costs(const struct xf_topology *t, const uint64_t *cpus)
{
    struct cost c = {0, UINT32_MAX, 0};
    uint64_t nodes = 0;
    uint32_t n = 0, ncpus = 0;
    for (uint32_t cpu = 0; cpu < xf_topology_nr_cpus(t); cpu++)
        if (cpus[cpu / 64] >> (cpu % 64) & 1u)
            nodes |= BIT(xf_topology_cpu_node(t, cpu));
    n = (uint32_t)__builtin_popcountll(nodes);
    for (uint32_t cpu = 0; cpu < xf_topology_nr_cpus(t); cpu++) {
        uint32_t from, sum = 0, worst = 0, best = UINT32_MAX;
        if (!(cpus[cpu / 64] >> (cpu % 64) & 1u))
            continue;
        from = xf_topology_cpu_node(t, cpu);
        for (uint32_t j = 0; j < 64; j++) {
            if (!(nodes >> j & 1u))
                continue;
            uint32_t d = xf_topology_distance(t, from, j);
            sum += d;
            worst = d > worst ? d : worst;
            best = d < best ? d : best;
        }
        c.worst = worst > c.worst ? worst : c.worst;
        c.best = best < c.best ? best : c.best;
        c.average += (double)sum / n;
        ncpus++;
    }
    c.average /= ncpus;
    return c;
}

static void assert_not_worse(struct cost def, struct cost c)
{
    assert_true(c.worst <= def.worst);
    assert_true(c.best <= def.best);
    assert_true(c.average <= def.average + 1e-3);
}

/* cores_per_numa logical CPUs per node, half as many physical cores; VMs of
 * max 2 (cores / vms) vCPUs and mem_mib, no cores requirement. With
 * fixed_memory the nodes' memory is restored after each VM, as xenopsd's test
 * plans against the same 16 GiB every time; otherwise it is committed. */
static void allocate(const int64_t *d, uint32_t numa, uint32_t cores, uint32_t vms,
                     uint64_t mem_mib, enum xf_planner_mode mode, bool fixed_memory)
{
    uint32_t per_node = cores / numa;
    struct xf_topology *t = make_topology(numa, d, per_node, per_node / 2, NULL, 16384);
    struct xf_planner *p = make_planner(t, mode);
    uint32_t vm_cores = cores / vms > 2 ? cores / vms : 2;
    uint64_t all[XF_CPU_SET_WORDS] = {0}, used[XF_CPU_SET_WORDS] = {0}, nodes_used = 0;
    struct cost def_sum = {0, UINT32_MAX, 0}, sum = {0, UINT32_MAX, 0};

    for (uint32_t c = 0; c < cores; c++)
        all[c / 64] |= BIT(c % 64);
    struct cost def = access_costs(t, all);
    for (uint32_t vm = 0; vm < vms; vm++) {
        struct xf_plan plan;
        const struct xf_numa_request req = {mem_mib, vm_cores, 0, XF_NUMA_POLICY_BEST_EFFORT, 0};
        assert_int_equal(xf_planner_place(p, &req, &plan), 0);
        if (!plan.fits)
            fail_msg("%u nodes, VM %u: %s", numa, vm, plan.reason);
        struct cost c = access_costs(t, plan.cpus);
        assert_not_worse(def, c);
        sum.worst = c.worst > sum.worst ? c.worst : sum.worst;
        sum.best = c.best < sum.best ? c.best : sum.best;
        sum.average += c.average;
        def_sum.worst = def.worst;
        def_sum.best = def.best;
        def_sum.average += def.average;
        nodes_used |= plan.node_mask;
        for (uint32_t w = 0; w < XF_CPU_SET_WORDS; w++)
            used[w] |= plan.cpus[w];
        if (fixed_memory)
            for (uint32_t i = 0; i < numa; i++)
                assert_int_equal(xf_planner_set_node_free(p, i, 16384), 0);
    }
    assert_not_worse(def_sum, sum);
    /* Balancing: at least min(vms, nodes) nodes used; all CPUs used. */
    assert_true((uint32_t)__builtin_popcountll(nodes_used) >= (vms < numa ? vms : numa));
    assert_memory_equal(used, all, sizeof(all));
    xf_planner_free(p);
    xf_topology_free(t);
}

static void test_planner_xenopsd_allocation(void **state)
{
    static const struct {
        uint32_t vms, numa, cores;
    } symmetric[] = {{1, 1, 2},   {10, 1, 8},    {1, 2, 4},     {10, 2, 4},   {1, 4, 16},
                     {10, 4, 16}, {40, 16, 256}, {40, 32, 256}, {80, 64, 256}};
    (void)state;
    for (int mode = 0; mode < 2; mode++)
        for (int fixed = 0; fixed < 2; fixed++) {
            for (size_t i = 0; i < sizeof(symmetric) / sizeof(symmetric[0]); i++)
                allocate(NULL, symmetric[i].numa, symmetric[i].cores, symmetric[i].vms, 1024,
                         (enum xf_planner_mode)mode, fixed);
            /* Opteron: 4 logical CPUs per node; 10 VMs of 1 GiB, and 6 VMs of
             * 4/3 of a node (21846 MiB, two nodes each) with fixed memory. */
            allocate(&opteron[0][0], 8, 32, 10, 1024, (enum xf_planner_mode)mode, fixed);
            if (fixed)
                allocate(&opteron[0][0], 8, 32, 6, 21846, (enum xf_planner_mode)mode, true);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planner_single_node),
        cmocka_unit_test(test_planner_fitting),
        cmocka_unit_test(test_planner_split),
        cmocka_unit_test(test_planner_policies),
        cmocka_unit_test(test_planner_bad_requests),
        cmocka_unit_test(test_planner_nodes_allowed),
        cmocka_unit_test(test_planner_numa_off),
        cmocka_unit_test(test_planner_nofit_numbers),
        cmocka_unit_test(test_planner_commit_release),
        cmocka_unit_test(test_planner_pure_function_of_state),
        cmocka_unit_test(test_planner_sequence_two_per_node),
        cmocka_unit_test(test_planner_xenopsd_chooser),
        cmocka_unit_test(test_planner_large_hosts),
        cmocka_unit_test(test_planner_xenopsd_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
