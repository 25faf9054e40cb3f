/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Topology snapshots (lib/topology*.c): the SLIT rules (each unreachable
 * encoding, invalid diagonals and entries, nodes without CPUs, nothing
 * reachable), xenopsd's own distance-matrix cases (test_topology.ml,
 * distances_tests), the candidate order and tiers checked against distances
 * recomputed here from the matrix, JSON errors naming their field, and every
 * allocation failing in turn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fail-alloc.h"
#include "test-file.h"

#include "xenfit/alloc.h"
#include "xenfit/error.h"
#include "xenfit/topology.h"

#define U32    INT64_C(4294967295)
#define BIT(i) (UINT64_C(1) << (i))

static char *read_fixture(const char *name, size_t *ret_len)
{
    char path[512];
    char *buf;

    snprintf(path, sizeof(path), "%s/topologies/%s", XF_TEST_DATA, name);
    buf = test_read_file(path, ret_len);
    assert_non_null(buf);
    return buf;
}

static struct xf_topology *load_fixture(const char *name)
{
    size_t len;
    char *buf = read_fixture(name, &len), err[256] = "";
    struct xf_topology *t = NULL;
    int r = xf_topology_new_from_json(buf, len, err, sizeof(err), &t);
    if (r != 0)
        fail_msg("%s: %s (%s)", name, xf_strerror(r), err);
    free(buf);
    return t;
}

/* A topology from a matrix with one CPU and one core per node (as xenopsd's
 * distances_tests: cores_per_numa 1) and 1024 MiB free each. */
static int from_matrix(uint32_t n, const int64_t *d, struct xf_topology **ret)
{
    uint32_t cpu_to_node[XF_MAX_NODES], cores[XF_MAX_NODES];
    uint64_t free_mib[XF_MAX_NODES];
    for (uint32_t i = 0; i < n; i++) {
        cpu_to_node[i] = i;
        cores[i] = 1;
        free_mib[i] = 1024;
    }
    const struct xf_topology_spec spec = {
        .nr_nodes = n,
        .distances = d,
        .nr_cpus = n,
        .cpu_to_node = cpu_to_node,
        .node_cores = cores,
        .node_free_mib = free_mib,
    };
    return xf_topology_new(&spec, NULL, 0, ret);
}

/* Asserts the candidate list is exactly `nodes` with these averages. */
static void assert_candidates(const struct xf_topology *t, size_t n, const uint64_t *nodes,
                              const double *avg)
{
    struct xf_topology_candidate c;
    assert_int_equal(xf_topology_nr_candidates(t), n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(xf_topology_candidate(t, i, &c), 0);
        assert_int_equal(c.nodes, nodes[i]);
        assert_true(c.avg_distance == avg[i]);
    }
    assert_int_equal(xf_topology_candidate(t, n, &c), XF_ERANGE);
}

static void test_topology_issue_example(void **state)
{
    struct xf_topology *t = load_fixture("two-node.json");
    /* {0} and {1} at (10, 10), then {0,1}: (10 + 21 + 21 + 10) / 4 = 15.5. */
    const uint64_t nodes[] = {BIT(0), BIT(1), BIT(0) | BIT(1)};
    const double avg[] = {10.0, 10.0, 15.5};
    struct xf_topology_candidate c;
    (void)state;

    assert_int_equal(xf_topology_nr_nodes(t), 2);
    assert_int_equal(xf_topology_nr_cpus(t), 4);
    assert_int_equal(xf_topology_numa_status(t), XF_NUMA_ON);
    assert_string_equal(xf_topology_numa_reason(t), "");
    assert_int_equal(xf_topology_reachable(t), 3);
    assert_int_equal(xf_topology_distance(t, 0, 1), 21);
    assert_int_equal(xf_topology_distance(t, 1, 1), 10);
    assert_int_equal(xf_topology_distance(t, 2, 0), 0); /* out of range */
    assert_int_equal(xf_topology_node_cpus(t, 1), 2);
    assert_int_equal(xf_topology_node_cores(t, 1), 1);
    assert_int_equal(xf_topology_node_free_mib(t, 0), 16384);
    assert_int_equal(xf_topology_cpu_node(t, 2), 1);
    assert_int_equal(xf_topology_cpu_node(t, 4), XF_CPU_OFFLINE);
    assert_candidates(t, 3, nodes, avg);
    assert_int_equal(xf_topology_nr_tiers(t), 2);
    assert_int_equal(xf_topology_candidate(t, 2, &c), 0);
    assert_int_equal(c.max_distance, 21);
    assert_int_equal(c.distance_sum, 62);
    assert_int_equal(c.tier, 1);
    assert_int_equal(c.cpus, 4);
    assert_int_equal(c.cores, 2);
    xf_topology_free(t);
}

/* xenopsd's distances_tests, with each unreachable encoding in turn. */
static void test_topology_unreachable_encodings(void **state)
{
    const int64_t enc[] = {255, U32, -1};
    (void)state;

    for (size_t e = 0; e < 3; e++) {
        int64_t x = enc[e];
        struct xf_topology *t;
        /* "Last node is unreachable": [(10, [0])]. */
        const int64_t last[] = {10, x, x, x};
        assert_int_equal(from_matrix(2, last, &t), 0);
        assert_int_equal(xf_topology_numa_status(t), XF_NUMA_ON);
        assert_int_equal(xf_topology_reachable(t), BIT(0));
        assert_int_equal(xf_topology_distance(t, 0, 1), XF_TOPOLOGY_UNREACHABLE);
        assert_candidates(t, 1, (const uint64_t[]){BIT(0)}, (const double[]){10.0});
        xf_topology_free(t);

        /* "Node in the middle is unreachable": [(10,[0]); (10,[2]); (15,[0;2])]:
         * (10 + 20 + 20 + 10) / 4 = 15. */
        const int64_t middle[] = {10, x, 20, x, x, x, 20, x, 10};
        assert_int_equal(from_matrix(3, middle, &t), 0);
        assert_int_equal(xf_topology_reachable(t), BIT(0) | BIT(2));
        assert_candidates(t, 3, (const uint64_t[]){BIT(0), BIT(2), BIT(0) | BIT(2)},
                          (const double[]){10.0, 10.0, 15.0});
        xf_topology_free(t);

        /* "The first two nodes are unreachable": [(10, [2])]. */
        const int64_t two[] = {x, x, 20, x, x, x, 10, x, 10};
        assert_int_equal(from_matrix(3, two, &t), 0);
        assert_candidates(t, 1, (const uint64_t[]){BIT(2)}, (const double[]){10.0});
        xf_topology_free(t);

        /* "All nodes are unreachable": placement off, and it says why. */
        const int64_t none[] = {x, x, x, x};
        assert_int_equal(from_matrix(2, none, &t), 0);
        assert_int_equal(xf_topology_numa_status(t), XF_NUMA_OFF_NO_REACHABLE);
        assert_non_null(strstr(xf_topology_numa_reason(t), "every node is unreachable"));
        assert_int_equal(xf_topology_nr_candidates(t), 0);
        xf_topology_free(t);

        /* Two reachable nodes that cannot reach each other: no pair. */
        const int64_t apart[] = {10, x, x, 10};
        assert_int_equal(from_matrix(2, apart, &t), 0);
        assert_int_equal(xf_topology_reachable(t), 3);
        assert_candidates(t, 2, (const uint64_t[]){BIT(0), BIT(1)}, (const double[]){10.0, 10.0});
        xf_topology_free(t);
    }
}

static void test_topology_fixture_with_unreachable_nodes(void **state)
{
    /* Nodes 1 (4294967295), 3 (255) and 4 (-1) are unreachable; 0 and 2 are
     * 20 apart. CPUs on unreachable nodes are not placed on. */
    struct xf_topology *t = load_fixture("unreachable.json");
    struct xf_topology_candidate c;
    (void)state;
    assert_int_equal(xf_topology_numa_status(t), XF_NUMA_ON);
    assert_int_equal(xf_topology_reachable(t), BIT(0) | BIT(2));
    assert_int_equal(xf_topology_nr_candidates(t), 3);
    assert_int_equal(xf_topology_candidate(t, 2, &c), 0);
    assert_int_equal(c.nodes, BIT(0) | BIT(2));
    assert_int_equal(c.cpus, 4); /* 2 on node 0, 2 on node 2 */
    assert_int_equal(c.cores, 4);
    assert_int_equal(xf_topology_node_cpus(t, 1), 1); /* still counted per node */
    xf_topology_free(t);
}

static void test_topology_slit_invalid(void **state)
{
    static const struct {
        int64_t d01, d11;
        const char *says;
    } cases[] = {
        {21, 11, "distances[1][1] = 11"}, /* diagonal other than 10 */
        {21, 0, "distances[1][1] = 0"},   /* diagonal 0 */
        {9, 10, "distances[0][1] = 9 is below 10"},
        {0, 10, "distances[0][1] = 0 is below 10"},
        {-2, 10, "distances[0][1] = -2 is below 10"},
        {65536, 10, "distances[0][1] = 65536 is above 65535"},
        {4294967294, 10, "distances[0][1] = 4294967294 is above"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const int64_t d[] = {10, cases[i].d01, 21, cases[i].d11};
        struct xf_topology *t;
        assert_int_equal(from_matrix(2, d, &t), 0);
        assert_int_equal(xf_topology_numa_status(t), XF_NUMA_OFF_SLIT_INVALID);
        if (!strstr(xf_topology_numa_reason(t), cases[i].says))
            fail_msg("case %zu: '%s' lacks '%s'", i, xf_topology_numa_reason(t), cases[i].says);
        assert_int_equal(xf_topology_reachable(t), 0);
        assert_int_equal(xf_topology_nr_candidates(t), 0);
        assert_int_equal(xf_topology_distance(t, 0, 0), XF_TOPOLOGY_UNREACHABLE);
        assert_int_equal(xf_topology_node_free_mib(t, 1), 1024); /* the rest still loads */
        xf_topology_free(t);
    }
    /* Not invalid: 10 off the diagonal, 254, and large synthetic distances. */
    const int64_t ok[] = {10, 10, 254, 10, 10, 703, 254, 703, 10};
    struct xf_topology *t;
    assert_int_equal(from_matrix(3, ok, &t), 0);
    assert_int_equal(xf_topology_numa_status(t), XF_NUMA_ON);
    assert_int_equal(xf_topology_distance(t, 1, 2), 703);
    xf_topology_free(t);

    t = load_fixture("slit-below-10.json");
    assert_int_equal(xf_topology_numa_status(t), XF_NUMA_OFF_SLIT_INVALID);
    xf_topology_free(t);
    t = load_fixture("slit-bad-diagonal.json");
    assert_int_equal(xf_topology_numa_status(t), XF_NUMA_OFF_SLIT_INVALID);
    xf_topology_free(t);
}

static void test_topology_nodes_without_cpus(void **state)
{
    struct xf_topology *t = load_fixture("memory-only-node.json");
    struct xf_topology_candidate c;
    (void)state;
    assert_int_equal(xf_topology_numa_status(t), XF_NUMA_ON);
    assert_int_equal(xf_topology_node_cpus(t, 2), 0);
    assert_int_equal(xf_topology_node_cores(t, 2), 0);
    /* Singles first: {0}, {1}, {2}; then {0,2} (17: avg 13.5), {0,1} (21:
     * 15.5), {0,1,2} (28: (30 + 2*(21+17+28))/9 = 162/9 = 18), {1,2} (28: 19). */
    const uint64_t nodes[] = {BIT(0),          BIT(1), BIT(2),         BIT(0) | BIT(2),
                              BIT(0) | BIT(1), 7,      BIT(1) | BIT(2)};
    const double avg[] = {10, 10, 10, 13.5, 15.5, 18, 19};
    assert_candidates(t, 7, nodes, avg);
    assert_int_equal(xf_topology_candidate(t, 3, &c), 0);
    assert_int_equal(c.cpus, 4);
    xf_topology_free(t);

    /* Every reachable node without a CPU: placement off. */
    const int64_t d[] = {10, 21, 21, 10};
    const uint32_t cpu_to_node[] = {XF_CPU_OFFLINE, XF_CPU_OFFLINE};
    const uint32_t cores[] = {0, 0};
    const uint64_t free_mib[] = {1024, 1024};
    const struct xf_topology_spec spec = {2, d, 2, cpu_to_node, cores, free_mib};
    assert_int_equal(xf_topology_new(&spec, NULL, 0, &t), 0);
    assert_int_equal(xf_topology_numa_status(t), XF_NUMA_OFF_NO_CPUS);
    assert_string_equal(xf_topology_numa_reason(t), "no reachable node has a CPU");
    assert_int_equal(xf_topology_cpu_node(t, 0), XF_CPU_OFFLINE);
    xf_topology_free(t);
}

/* linear-4 (10 + 11|i-j|), worked by hand. */
static void test_topology_candidate_order(void **state)
{
    struct xf_topology *t = load_fixture("linear-4.json");
    /* Singles (10); adjacent pairs (21: 62/4 = 15.5); consecutive triples
     * (32: (30 + 2*(21+21+32))/9 = 178/9); pairs two apart (32: 84/4 = 21);
     * then max 43: all four ((40 + 2*(21+32+43+21+32+21))/16 = 380/16 = 23.75),
     * {0,1,3} and {0,2,3} ((30 + 2*(21+43+32))/9 = 222/9), {0,3} (106/4). */
    const uint64_t nodes[] = {1, 2, 4, 8, 3, 6, 12, 7, 14, 5, 10, 15, 11, 13, 9};
    const double avg[] = {10,        10, 10, 10,    15.5,      15.5,      15.5, 178.0 / 9,
                          178.0 / 9, 21, 21, 23.75, 222.0 / 9, 222.0 / 9, 26.5};
    const uint32_t tier[] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6};
    const uint32_t maxd[] = {10, 10, 10, 10, 21, 21, 21, 32, 32, 32, 32, 43, 43, 43, 43};
    struct xf_topology_candidate c;
    (void)state;

    assert_candidates(t, 15, nodes, avg);
    assert_int_equal(xf_topology_nr_tiers(t), 7);
    for (size_t i = 0; i < 15; i++) {
        assert_int_equal(xf_topology_candidate(t, i, &c), 0);
        assert_int_equal(c.tier, tier[i]);
        assert_int_equal(c.max_distance, maxd[i]);
        assert_int_equal(c.cpus, 8 * __builtin_popcountll(c.nodes));
    }
    xf_topology_free(t);
}

static void test_topology_opteron_tiers(void **state)
{
    struct xf_topology *t = load_fixture("opteron-8.json");
    struct xf_topology_candidate c;
    size_t i;
    (void)state;
    /* 8 singles; then the 18 pairs at distance 16 (counted by hand from the
     * upper triangle: 4+3+5+2+2+1+1), avg 13; then triangles all at 16,
     * avg (30 + 6*16)/9 = 14. */
    for (i = 0; i < 8; i++) {
        assert_int_equal(xf_topology_candidate(t, i, &c), 0);
        assert_int_equal(c.nodes, BIT(i));
    }
    for (; i < 26; i++) {
        assert_int_equal(xf_topology_candidate(t, i, &c), 0);
        assert_int_equal(__builtin_popcountll(c.nodes), 2);
        assert_int_equal(c.max_distance, 16);
        assert_int_equal(c.tier, 1);
    }
    assert_int_equal(xf_topology_candidate(t, 26, &c), 0);
    assert_int_equal(__builtin_popcountll(c.nodes), 3);
    assert_true(c.avg_distance == 14.0);
    assert_int_equal(c.tier, 2);
    xf_topology_free(t);
}

/* Every clique of a 16-node topology, each checked against its distances
 * recomputed here, in (max, avg, ascending mask) order. */
static void test_topology_sixteen_nodes_exhaustive(void **state)
{
    struct xf_topology *t = load_fixture("linear-16.json");
    struct xf_topology_candidate prev = {0}, c;
    (void)state;

    assert_int_equal(xf_topology_nr_candidates(t), 65535);
    for (size_t i = 0; i < 65535; i++) {
        uint32_t maxd = 0, sum = 0, k = (uint32_t)__builtin_popcountll(0);
        assert_int_equal(xf_topology_candidate(t, i, &c), 0);
        for (int a = 0; a < 16; a++)
            for (int b = 0; b < 16; b++) {
                if (!(c.nodes >> a & 1) || !(c.nodes >> b & 1))
                    continue;
                uint32_t d = (uint32_t)(10 + 11 * abs(a - b));
                sum += d;
                maxd = d > maxd ? d : maxd;
            }
        k = (uint32_t)__builtin_popcountll(c.nodes);
        assert_int_equal(c.max_distance, maxd);
        assert_int_equal(c.distance_sum, sum);
        assert_int_equal(c.cpus, 8 * k);
        if (i > 0) {
            /* (max, avg) non-decreasing; equal keys: ascending masks. */
            uint32_t pk = (uint32_t)__builtin_popcountll(prev.nodes);
            uint64_t lhs = (uint64_t)prev.distance_sum * k * k, rhs = (uint64_t)sum * pk * pk;
            assert_true(prev.max_distance <= maxd);
            if (prev.max_distance == maxd) {
                assert_true(lhs <= rhs);
                if (lhs == rhs) {
                    assert_int_equal(prev.tier, c.tier);
                    assert_true(prev.nodes < c.nodes);
                } else {
                    assert_int_equal(prev.tier + 1, c.tier);
                }
            }
        }
        prev = c;
    }
    xf_topology_free(t);
}

static void test_topology_above_sixteen_nodes(void **state)
{
    struct xf_topology *t = load_fixture("linear-32.json");
    (void)state;
    assert_int_equal(xf_topology_numa_status(t), XF_NUMA_ON);
    assert_int_equal(xf_topology_reachable(t), 0xFFFFFFFFu);
    assert_int_equal(xf_topology_nr_candidates(t), 0);
    assert_int_equal(xf_topology_distance(t, 0, 31), 10 + 11 * 31);
    xf_topology_free(t);
    t = load_fixture("linear-64.json");
    assert_int_equal(xf_topology_reachable(t), UINT64_MAX);
    assert_int_equal(xf_topology_nr_cpus(t), 512);
    xf_topology_free(t);
}

static void test_topology_json_errors(void **state)
{
    static const struct {
        const char *json;
        int err;
        const char *says;
    } cases[] = {
        {"{", XF_EPARSE, "not JSON"},
        {"[1]", XF_EPARSE, "expected a JSON object"},
        {"{\"cpu_to_node\":[],\"node_cores\":[],\"node_free_mib\":[]}", XF_EPARSE,
         "distances: missing"},
        {"{\"distances\":5}", XF_EPARSE, "distances: expected an array"},
        {"{\"distances\":[]}", XF_EBADTOPO, "distances: no nodes"},
        {"{\"distances\":[5]}", XF_EPARSE, "distances[0]: expected an array"},
        {"{\"distances\":[[10,21],[21]]}", XF_EBADTOPO, "distances[1]: 1 entries, expected 2"},
        {"{\"distances\":[[10,2.5],[21,10]]}", XF_EPARSE, "distances[0][1]: expected an integer"},
        {"{\"distances\":[[10]]}", XF_EPARSE, "cpu_to_node: missing"},
        {"{\"distances\":[[10]],\"cpu_to_node\":[0,\"x\"]}", XF_EPARSE,
         "cpu_to_node[1]: expected an integer"},
        {"{\"distances\":[[10]],\"cpu_to_node\":[0,1],\"node_cores\":[1],\"node_free_mib\":[1]}",
         XF_EBADTOPO, "cpu_to_node[1] = 1: there are only 1 nodes"},
        {"{\"distances\":[[10]],\"cpu_to_node\":[0],\"node_free_mib\":[1]}", XF_EPARSE,
         "node_cores: missing"},
        {"{\"distances\":[[10]],\"cpu_to_node\":[0],\"node_cores\":[1,1],\"node_free_mib\":[1]}",
         XF_EBADTOPO, "node_cores: 2 entries, expected 1"},
        {"{\"distances\":[[10]],\"cpu_to_node\":[0],\"node_cores\":[2],\"node_free_mib\":[1]}",
         XF_EBADTOPO, "node_cores[0] = 2: the node has only 1 CPUs"},
        {"{\"distances\":[[10]],\"cpu_to_node\":[0],\"node_cores\":[1],\"node_free_mib\":[-1]}",
         XF_EBADTOPO, "node_free_mib[0] = -1"},
        {"{\"distances\":[[10]],\"cpu_to_node\":[0],\"node_cores\":[1],\"node_free_mib\":[true]}",
         XF_EPARSE, "node_free_mib[0]: expected an integer"},
        {"{\"distances\":[[10]],\"distances\":[[10]]}", XF_EPARSE, "duplicate"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "";
        struct xf_topology *t = (struct xf_topology *)0x1;
        int r =
            xf_topology_new_from_json(cases[i].json, strlen(cases[i].json), err, sizeof(err), &t);
        if (r != cases[i].err || !strstr(err, cases[i].says))
            fail_msg("case %zu: got %s '%s', want %s '%s'", i, xf_err_name(r), err,
                     xf_err_name(cases[i].err), cases[i].says);
        assert_ptr_equal(t, (struct xf_topology *)0x1); /* untouched on failure */
    }

    /* 65 nodes; offline CPUs (-1, 4294967295) accepted; unknown keys ignored. */
    char big[40000];
    size_t at = (size_t)snprintf(big, sizeof(big), "{\"distances\":[");
    for (int i = 0; i < 65; i++) {
        at += (size_t)snprintf(big + at, sizeof(big) - at, "%s[", i ? "," : "");
        for (int j = 0; j < 65; j++)
            at += (size_t)snprintf(big + at, sizeof(big) - at, "%s%d", j ? "," : "",
                                   i == j ? 10 : 20);
        at += (size_t)snprintf(big + at, sizeof(big) - at, "]");
    }
    snprintf(big + at, sizeof(big) - at, "]}");
    char err[256];
    struct xf_topology *t;
    assert_int_equal(xf_topology_new_from_json(big, strlen(big), err, sizeof(err), &t),
                     XF_EBADTOPO);
    assert_non_null(strstr(err, "65 nodes, at most 64"));

    const char *ok = "{\"distances\":[[10]],\"cpu_to_node\":[0,-1,4294967295],"
                     "\"node_cores\":[1],\"node_free_mib\":[7],\"vendor\":\"x\"}";
    assert_int_equal(xf_topology_new_from_json(ok, strlen(ok), NULL, 0, &t), 0);
    assert_int_equal(xf_topology_nr_cpus(t), 3);
    assert_int_equal(xf_topology_node_cpus(t, 0), 1);
    assert_int_equal(xf_topology_cpu_node(t, 1), XF_CPU_OFFLINE);
    assert_int_equal(xf_topology_cpu_node(t, 2), XF_CPU_OFFLINE);
    xf_topology_free(t);
}

static void test_topology_spec_errors(void **state)
{
    const int64_t d[] = {10};
    const uint32_t cpu_to_node[] = {0};
    const uint32_t cores[] = {1};
    const uint64_t too_much[] = {XF_NODE_FREE_MIB_MAX + 1};
    const struct xf_topology_spec spec = {1, d, 1, cpu_to_node, cores, too_much};
    const struct xf_topology_spec none = {0, d, 1, cpu_to_node, cores, too_much};
    struct xf_topology *t;
    char err[128];
    (void)state;
    assert_int_equal(xf_topology_new(&spec, err, sizeof(err), &t), XF_EBADTOPO);
    assert_non_null(strstr(err, "node_free_mib[0] = 4294967297"));
    assert_int_equal(xf_topology_new(&none, err, sizeof(err), &t), XF_EBADTOPO);
    assert_int_equal(xf_topology_new(NULL, err, sizeof(err), &t), XF_EINVAL);
    xf_topology_free(NULL);
}

static void test_topology_every_allocation_failure_unwinds(void **state)
{
    size_t len8, len32;
    char *buf8 = read_fixture("linear-8.json", &len8);
    char *buf32 = read_fixture("linear-32.json", &len32);
    int failures = 0;
    (void)state;

    for (fail_at = 0;; fail_at++) {
        struct xf_topology *a = NULL, *b = NULL;
        int ra, rb;
        alloc_count = 0;
        live = 0;
        assert_int_equal(fail_alloc_install(), 0);
        ra = xf_topology_new_from_json(buf8, len8, NULL, 0, &a);
        rb = ra == 0 ? xf_topology_new_from_json(buf32, len32, NULL, 0, &b) : XF_ENOMEM;
        xf_topology_free(a);
        xf_topology_free(b);
        xf_reset_allocator();
        assert_int_equal(live, 0);
        if (ra == 0 && rb == 0)
            break;
        assert_true(ra == XF_ENOMEM || rb == XF_ENOMEM);
        failures++;
    }
    assert_true(failures >= 10);
    free(buf8);
    free(buf32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topology_issue_example),
        cmocka_unit_test(test_topology_unreachable_encodings),
        cmocka_unit_test(test_topology_fixture_with_unreachable_nodes),
        cmocka_unit_test(test_topology_slit_invalid),
        cmocka_unit_test(test_topology_nodes_without_cpus),
        cmocka_unit_test(test_topology_candidate_order),
        cmocka_unit_test(test_topology_opteron_tiers),
        cmocka_unit_test(test_topology_sixteen_nodes_exhaustive),
        cmocka_unit_test(test_topology_above_sixteen_nodes),
        cmocka_unit_test(test_topology_json_errors),
        cmocka_unit_test(test_topology_spec_errors),
        cmocka_unit_test(test_topology_every_allocation_failure_unwinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
