/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The planner's choices pinned, so that making it faster cannot change what
 * it chooses (issue 17):
 *  - on the four 16-node shapes of the benchmark (tests/data/topologies:
 *    uniform 10/21, 4x4 10/16/22, linear 10 + 11|i-j|, Opteron-like), both
 *    modes, along one fixed sequence of plans, commits and releases, every
 *    chosen node set equals the one the planner chose before the fast paths
 *    (the tables below were printed by this test, XF_PIN_PRINT=1, on the
 *    planner of commit 35b7116);
 *  - on random topologies of 1 to 16 nodes in random states (free memory
 *    with many ties, live placements), the xenfit mode's choice equals a
 *    reference written here from the public candidate list alone: the first
 *    tier with a fitting set, then the largest memory left on the set's
 *    worst node after the largest-remainder split, the fewest live
 *    placements, the most free memory, the lowest node list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test-file.h"
#include "xenfit/error.h"
#include "xenfit/planner.h"
#include "xenfit/topology.h"

#define BIT(i) (UINT64_C(1) << (i))

static struct xf_topology *load_fixture(const char *name)
{
    char path[512], err[256] = "";
    size_t len;
    struct xf_topology *t = NULL;

    snprintf(path, sizeof(path), "%s/topologies/%s", XF_TEST_DATA, name);
    char *buf = test_read_file(path, &len);
    if (!buf)
        fail_msg("cannot read %s", path);
    if (xf_topology_new_from_json(buf, len, err, sizeof(err), &t) != 0)
        fail_msg("%s: %s", name, err);
    free(buf);
    return t;
}

/* ---- the fixed sequence on the benchmark's shapes ---- */

static const char *const shapes[] = {"uniform-16.json", "grid4x4-16.json", "linear-16.json",
                                     "opteron-16.json"};

/* 16 GiB and 8 CPUs per node: one, two and three nodes by memory or CPUs. */
static const struct xf_numa_request seq_reqs[] = {
    {.memory_mib = 40960,
     .vcpus = 8,
     .cores = XF_CORES_FROM_POLICY,
     .policy = XF_NUMA_POLICY_BEST_EFFORT},
    {.memory_mib = 6144,
     .vcpus = 4,
     .cores = XF_CORES_FROM_POLICY,
     .policy = XF_NUMA_POLICY_BEST_EFFORT},
    {.memory_mib = 20480,
     .vcpus = 8,
     .cores = XF_CORES_FROM_POLICY,
     .policy = XF_NUMA_POLICY_BEST_EFFORT},
    {.memory_mib = 40960,
     .vcpus = 8,
     .cores = XF_CORES_FROM_POLICY,
     .policy = XF_NUMA_POLICY_BEST_EFFORT},
    {.memory_mib = 1000,
     .vcpus = 2,
     .cores = XF_CORES_FROM_POLICY,
     .policy = XF_NUMA_POLICY_PRIO_MEM_ONLY},
    {.memory_mib = 30000,
     .vcpus = 16,
     .cores = XF_CORES_FROM_POLICY,
     .policy = XF_NUMA_POLICY_BEST_EFFORT},
    {.memory_mib = 9000,
     .vcpus = 24,
     .cores = XF_CORES_FROM_POLICY,
     .policy = XF_NUMA_POLICY_PRIO_MEM_ONLY},
    {.memory_mib = 3000, .vcpus = 8, .cores = 4, .policy = XF_NUMA_POLICY_BEST_EFFORT_HARD},
};

#define SEQ_STEPS 40

/* Plans SEQ_STEPS requests in turn, committing each that fits and
 * releasing the oldest live plan every third step; the chosen sets (0: no
 * fit) go to ret_masks. */
static void run_sequence(const struct xf_topology *t, enum xf_planner_mode mode,
                         uint64_t ret_masks[SEQ_STEPS])
{
    static struct xf_plan live[SEQ_STEPS];
    struct xf_planner *p = NULL;
    size_t nr_live = 0, oldest = 0;

    assert_int_equal(xf_planner_new(t, mode, &p), 0);
    for (int s = 0; s < SEQ_STEPS; s++) {
        struct xf_plan plan;
        const struct xf_numa_request *req =
            &seq_reqs[(size_t)s % (sizeof(seq_reqs) / sizeof(seq_reqs[0]))];
        assert_int_equal(xf_planner_plan(p, req, &plan), 0);
        ret_masks[s] = plan.fits ? plan.node_mask : 0;
        if (plan.fits) {
            assert_int_equal(xf_planner_commit(p, &plan), 0);
            live[nr_live++] = plan;
        }
        if (s % 3 == 2 && oldest < nr_live)
            assert_int_equal(xf_planner_release(p, &live[oldest++]), 0);
    }
    xf_planner_free(p);
}

/* [shape][mode][step], printed by XF_PIN_PRINT=1 before the fast paths. */
static const uint64_t pinned[4][2][SEQ_STEPS] = {
    /* uniform-16.json */ {
        {0x7,    0x8,    0x30,   0x7,  0x40,  0x180, 0x608, 0x800,  0x7000, 0x10,
         0x8020, 0x248,  0x1,    0x6,  0xc01, 0x1,   0xc31, 0x8000, 0x180,  0,
         0x80,   0x7788, 0x7fff, 0,    0,     0,     0,     0x7000, 0x800,  0,
         0,      0x10,   0,      0x20, 0,     0,     0x40,  0x248,  0x8060, 0x8000},
        {0x7,  0x8,    0x30,   0x1c0, 0x200,  0xc00,  0x7000, 0x8000, 0x7,    0x8,
         0x30, 0x3200, 0x40,   0x180, 0x4c00, 0x8000, 0x8058, 0x20,   0xc00,  0,
         0x1,  0x7c06, 0xffdf, 0,     0,      0,      0,      0x7,    0x8000, 0,
         0,    0x8,    0,      0x20,  0,      0,      0x200,  0x1210, 0x2180, 0x20},
    },
    /* grid4x4-16.json */
    {
        {0x7,   0x8,    0x30,   0x7,  0x40, 0x300, 0x7000, 0x8,    0xb000, 0x10,
         0xa0,  0xc40,  0x1,    0x6,  0xb0, 0x1,   0x400f, 0x10,   0x300,  0,
         0x100, 0x7f80, 0xffef, 0,    0,    0,     0,      0xb000, 0x8,    0,
         0,     0x10,   0,      0x20, 0,    0,     0x400,  0xf0,   0xe00,  0x800},
        {0x7,  0x8,    0x30,   0x700, 0x40,   0x3000, 0xd000, 0x80,   0x7,    0x800,
         0x30, 0xf0,   0x8,    0x300, 0xe000, 0x400,  0xf08,  0x4000, 0x3000, 0,
         0x1,  0xf002, 0xffdf, 0,     0,      0,      0,      0x7,    0x80,   0,
         0,    0x800,  0,      0x20,  0,      0,      0x40,   0x50,   0xb0,   0x800},
    },
    /* linear-16.json */
    {
        {0x7,    0x8,    0x30,   0x7,  0x40, 0x180,  0xe00, 0x8,    0x7000, 0x10,
         0x60,   0x1e00, 0x1,    0x6,  0x38, 0x8000, 0x7d,  0x8000, 0x180,  0,
         0x8000, 0xbf80, 0xefff, 0,    0,    0,      0,     0x7000, 0x8,    0,
         0,      0x10,   0,      0x20, 0,    0,      0x200, 0xe00,  0x70,   0x40},
        {0x7,  0x8,    0x30,   0x1c0, 0x200, 0xc00,  0x7000, 0x8000, 0x7,    0x8,
         0x30, 0x7800, 0x40,   0x180, 0x700, 0x8000, 0x7e,   0x200,  0xc00,  0,
         0x1,  0xfc00, 0xffff, 0,     0,     0,      0,      0x7,    0x8000, 0,
         0,    0x8,    0,      0x10,  0,     0,      0x20,   0x7000, 0xe0,   0x8},
    },
    /* opteron-16.json */
    {
        {0x13, 0x4,    0x28,   0x13, 0x40, 0x300, 0x1c00, 0x4,    0xa400, 0x8,
         0xa0, 0x5c00, 0x1,    0x12, 0x45, 0x40,  0x5d,   0x20,   0x300,  0,
         0x80, 0xff80, 0xffdf, 0,    0,    0,     0,      0xa400, 0x4,    0,
         0,    0x8,    0,      0x80, 0,    0,     0x4000, 0x5c00, 0xa4,   0x20},
        {0x13, 0x4,    0x28,   0x1300, 0x40,   0xc00,  0xa400, 0x80, 0x13,  0x4000,
         0xc,  0xe4,   0x100,  0x1200, 0x2c00, 0x4000, 0xf500, 0x8,  0xc00, 0,
         0x1,  0xace4, 0xbff7, 0,      0,      0,      0,      0x13, 0x80,  0,
         0,    0x4000, 0,      0x8,    0,      0,      0x8,    0x2c, 0x51,  0x4000},
    },
};

static void test_planner_pin_sixteen(void **state)
{
    bool print = getenv("XF_PIN_PRINT") != NULL;
    (void)state;
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        struct xf_topology *t = load_fixture(shapes[s]);
        if (print)
            printf("    /* %s */ {\n", shapes[s]);
        for (int mode = 0; mode < 2; mode++) {
            uint64_t got[SEQ_STEPS];
            run_sequence(t, (enum xf_planner_mode)mode, got);
            if (print) {
                printf("        {");
                for (int i = 0; i < SEQ_STEPS; i++)
                    printf("%s%#llx", i ? ", " : "", (unsigned long long)got[i]);
                printf("},\n");
                continue;
            }
            for (int i = 0; i < SEQ_STEPS; i++)
                if (got[i] != pinned[s][mode][i])
                    fail_msg("%s, %s mode, step %d: chose %#llx, pinned %#llx", shapes[s],
                             xf_planner_mode_name((enum xf_planner_mode)mode), i,
                             (unsigned long long)got[i], (unsigned long long)pinned[s][mode][i]);
        }
        if (print)
            printf("    },\n");
        xf_topology_free(t);
    }
}

/* ---- random states against a reference chooser ---- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 33) % n;
}

/* A random host of n nodes: uniform, grouped, linear or random symmetric
 * distances; 2 to 8 CPUs per node; free memory from a few values (ties). */
static struct xf_topology *random_topology(uint32_t n)
{
    static int64_t d[16 * 16];
    uint32_t cpu_to_node[16 * 8], cores[16], nr_cpus = 0;
    uint64_t free_mib[16];
    uint32_t kind = rnd(4), group = 2 + rnd(3);
    struct xf_topology *t = NULL;

    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j <= i; j++) {
            int64_t v = 10;
            if (i != j) {
                switch (kind) {
                case 0:
                    v = 21;
                    break;
                case 1:
                    v = i / group == j / group ? 16 : 22;
                    break;
                case 2:
                    v = 10 + 11 * (int64_t)(i - j);
                    break;
                default:
                    v = 12 + rnd(4) * 5;
                }
            }
            d[i * n + j] = d[j * n + i] = v;
        }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = 2 + rnd(7);
        for (uint32_t k = 0; k < c; k++)
            cpu_to_node[nr_cpus++] = i;
        cores[i] = c - rnd(2);
        free_mib[i] = 1024u * (4 + rnd(3) * 6);
    }
    const struct xf_topology_spec spec = {n, d, nr_cpus, cpu_to_node, cores, free_mib};
    assert_int_equal(xf_topology_new(&spec, NULL, 0, &t), 0);
    return t;
}

/* The largest-remainder split of docs/topology.md, written again; returns
 * the least memory a node of the set keeps. */
static uint64_t ref_min_left(const uint64_t *free_mib, uint64_t s, uint64_t mem)
{
    uint64_t total = 0, share[16] = {0}, rem[16] = {0}, given = 0, left = UINT64_MAX;
    bool bumped[16] = {false};

    for (uint32_t i = 0; i < 16; i++)
        if (s >> i & 1)
            total += free_mib[i];
    for (uint32_t i = 0; i < 16; i++)
        if (s >> i & 1) {
            share[i] = mem * free_mib[i] / total;
            rem[i] = mem * free_mib[i] % total;
            given += share[i];
        }
    while (given < mem) {
        int best = -1;
        for (uint32_t i = 0; i < 16; i++)
            if ((s >> i & 1) && !bumped[i] && rem[i] > 0 &&
                (best < 0 || rem[i] > rem[best] ||
                 (rem[i] == rem[best] && free_mib[i] > free_mib[best])))
                best = (int)i;
        if (best < 0)
            break;
        share[best]++;
        bumped[best] = true;
        given++;
    }
    for (uint32_t i = 0; i < 16; i++)
        if ((s >> i & 1) && free_mib[i] - share[i] < left)
            left = free_mib[i] - share[i];
    return left;
}

struct key {
    uint64_t min_left, live, free, nodes;
};

/* Is a better than b by the xenfit rule? Masks compare as xenopsd's
 * descending node lists do: numerically. */
static bool key_better(const struct key *a, const struct key *b)
{
    if (a->min_left != b->min_left)
        return a->min_left > b->min_left;
    if (a->live != b->live)
        return a->live < b->live;
    if (a->free != b->free)
        return a->free > b->free;
    return a->nodes < b->nodes;
}

/* The reference xenfit choice, from xf_topology_candidate() alone; 0 if
 * nothing fits. */
static uint64_t ref_choice(const struct xf_topology *t, const struct xf_planner *p, uint64_t mem,
                           uint32_t vcpus, uint32_t cores)
{
    uint64_t free_mib[16] = {0};
    struct key best = {0};
    bool have = false;
    uint32_t tier = UINT32_MAX;

    for (uint32_t i = 0; i < xf_topology_nr_nodes(t); i++)
        free_mib[i] = xf_planner_node_free(p, i);
    for (size_t k = 0; k < xf_topology_nr_candidates(t); k++) {
        struct xf_topology_candidate c;
        assert_int_equal(xf_topology_candidate(t, k, &c), 0);
        if (have && c.tier != tier)
            break;
        struct key x = {0, 0, 0, c.nodes};
        for (uint32_t i = 0; i < 16; i++)
            if (c.nodes >> i & 1) {
                x.free += free_mib[i];
                x.live += xf_planner_node_live_placements(p, i);
            }
        if (x.free < mem || c.cpus < vcpus || c.cores < cores)
            continue;
        x.min_left = ref_min_left(free_mib, c.nodes, mem);
        if (!have || key_better(&x, &best))
            best = x;
        have = true;
        tier = c.tier;
    }
    return have ? best.nodes : 0;
}

static void test_planner_pin_random_equivalence(void **state)
{
    uint32_t plans = 0, multi = 0;
    (void)state;
    rng_state = 0x5EEDF00Du;
    for (int round = 0; round < 120; round++) {
        uint32_t n = round % 4 == 0 ? 16 : 1 + rnd(14);
        struct xf_topology *t = random_topology(n);
        struct xf_planner *p = NULL;
        struct xf_plan live[24];
        uint32_t nr_live = 0;

        assert_int_equal(xf_planner_new(t, XF_PLANNER_XENFIT, &p), 0);
        for (int step = 0; step < 24; step++) {
            uint32_t nodes = 1 + rnd(n < 4 ? n : 4);
            struct xf_numa_request req = {
                .memory_mib = 1 + rnd(nodes * 16384u),
                .vcpus = 1 + rnd(nodes * 6u),
                .cores = rnd(3) == 0 ? rnd(8) : XF_CORES_FROM_POLICY,
                .policy = rnd(2) ? XF_NUMA_POLICY_BEST_EFFORT : XF_NUMA_POLICY_PRIO_MEM_ONLY,
            };
            uint32_t cores = req.cores != XF_CORES_FROM_POLICY          ? req.cores
                             : req.policy == XF_NUMA_POLICY_BEST_EFFORT ? req.vcpus
                                                                        : 0;
            struct xf_plan plan;
            assert_int_equal(xf_planner_plan(p, &req, &plan), 0);
            uint64_t want = ref_choice(t, p, req.memory_mib, req.vcpus, cores);
            if ((plan.fits ? plan.node_mask : 0) != want)
                fail_msg("round %d (%u nodes) step %d: chose %#llx, the reference %#llx", round, n,
                         step, (unsigned long long)plan.node_mask, (unsigned long long)want);
            plans++;
            multi += plan.fits && plan.nr_nodes > 1;
            if (plan.fits && rnd(3) != 0 && nr_live < 24) {
                assert_int_equal(xf_planner_commit(p, &plan), 0);
                live[nr_live++] = plan;
            }
            if (nr_live && rnd(4) == 0) {
                uint32_t k = rnd(nr_live);
                assert_int_equal(xf_planner_release(p, &live[k]), 0);
                live[k] = live[--nr_live];
            }
        }
        xf_planner_free(p);
        xf_topology_free(t);
    }
    print_message("%u plans compared, %u on several nodes\n", plans, multi);
    assert_true(multi >= plans / 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planner_pin_sixteen),
        cmocka_unit_test(test_planner_pin_random_equivalence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
