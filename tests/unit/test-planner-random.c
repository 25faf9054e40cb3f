/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Property tests of the planner on random topologies (uniform, clustered and
 * asymmetric SLITs, unreachable nodes and pairs, nodes without CPUs or
 * memory) against reference implementations written here from the matrix
 * alone:
 *  - every plan is feasible: mutually reachable nodes, a split that sums to
 *    the request and fits each node, the nodes' CPUs, enough CPUs and cores,
 *    its distances;
 *  - up to 16 reachable nodes the plan is in the best (max, avg) tier of an
 *    exhaustive search over all subsets, the xenfit choice is the best of
 *    that tier by its rule, and the xenopsd mode gives exactly the set
 *    xenopsd's algorithm gives (sort, filter, take_same_distance, choose)
 *    along whole sequences of placements;
 *  - on 17 to 24 nodes the plan reaches the exhaustive best tier (found here
 *    by enumerating the cliques under each distance threshold) in at least
 *    99% of the cases, and fits whenever anything fits.
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

#include "xenfit/error.h"
#include "xenfit/planner.h"
#include "xenfit/topology.h"

#define BIT(i) (UINT64_C(1) << (i))
#define MAXN   24

/* xorshift64*: the same sequence on every platform. */
static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 33) % n;
}

struct host {
    uint32_t n;
    int64_t d[MAXN][MAXN];
    uint32_t cpus[MAXN];
    uint32_t cores[MAXN];
    uint64_t free_mib[MAXN];
    uint32_t nr_cpus;
    uint32_t cpu_to_node[MAXN * 12];
};

static bool unreachable(int64_t x)
{
    return x == 255 || x == INT64_C(4294967295) || x == -1;
}

static void random_host(struct host *h, uint32_t n)
{
    static const int64_t enc[] = {255, INT64_C(4294967295), -1};
    uint32_t kind = rnd(3), groups = 2 + rnd(5), group[MAXN];
    int64_t between[8][8];

    memset(h, 0, sizeof(*h));
    h->n = n;
    for (uint32_t a = 0; a < 8; a++)
        for (uint32_t b = 0; b <= a; b++)
            between[a][b] = between[b][a] = a == b ? 11 + rnd(6) : 20 + rnd(21);
    for (uint32_t i = 0; i < n; i++)
        group[i] = rnd(groups);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < i; j++) {
            int64_t x = kind == 0 ? 11 + rnd(30) : between[group[i]][group[j]] + rnd(3);
            h->d[i][j] = h->d[j][i] = x;
            if (kind == 2) /* asymmetric */
                h->d[j][i] += rnd(4);
        }
    for (uint32_t i = 0; i < n; i++)
        h->d[i][i] = 10;
    /* Now and then an unreachable node or pair, in each encoding. */
    for (uint32_t i = 0; i < n; i++) {
        if (rnd(25) == 0)
            for (uint32_t j = 0; j < n; j++)
                h->d[i][j] = h->d[j][i] = enc[rnd(3)];
        for (uint32_t j = 0; j < i; j++)
            if (rnd(60) == 0)
                h->d[i][j] = enc[rnd(3)];
    }
    for (uint32_t i = 0; i < n; i++) {
        h->cpus[i] = rnd(10) == 0 ? 0 : 1 + rnd(12);
        h->cores[i] = rnd(2) ? h->cpus[i] : h->cpus[i] / 2;
        h->free_mib[i] = rnd(10) == 0 ? 0 : rnd(32768);
        for (uint32_t c = 0; c < h->cpus[i]; c++)
            h->cpu_to_node[h->nr_cpus++] = i;
    }
}

static struct xf_topology *load(const struct host *h)
{
    int64_t flat[MAXN * MAXN];
    struct xf_topology *t = NULL;
    char err[256] = "";
    for (uint32_t i = 0; i < h->n; i++)
        for (uint32_t j = 0; j < h->n; j++)
            flat[i * h->n + j] = h->d[i][j];
    const struct xf_topology_spec spec = {h->n,           flat,     h->nr_cpus,
                                          h->cpu_to_node, h->cores, h->free_mib};
    if (xf_topology_new(&spec, err, sizeof(err), &t) != 0)
        fail_msg("random topology: %s", err);
    return t;
}

/* ---- the reference, from the matrix and the planner's current free memory ---- */

struct ref {
    const struct host *h;
    uint64_t free_mib[MAXN];
    uint64_t reach;
    uint64_t adj[MAXN];
    uint64_t mem;
    uint32_t vcpus, cores;
};

static void ref_init(struct ref *r, const struct host *h, const struct xf_planner *p,
                     const struct xf_plan *req)
{
    memset(r, 0, sizeof(*r));
    r->h = h;
    r->mem = req->memory_mib;
    r->vcpus = req->vcpus;
    r->cores = req->cores;
    for (uint32_t i = 0; i < h->n; i++) {
        r->free_mib[i] = xf_planner_node_free(p, i);
        if (h->d[i][i] == 10)
            r->reach |= BIT(i);
    }
    for (uint32_t i = 0; i < h->n; i++)
        for (uint32_t j = 0; j < h->n; j++)
            if ((r->reach >> i & 1) && (r->reach >> j & 1) && !unreachable(h->d[i][j]) &&
                !unreachable(h->d[j][i]))
                r->adj[i] |= BIT(j);
}

static bool ref_fits(const struct ref *r, uint64_t s)
{
    uint64_t mem = 0;
    uint32_t cpus = 0, cores = 0;
    for (uint32_t i = 0; i < r->h->n; i++)
        if (s >> i & 1) {
            mem += r->free_mib[i];
            cpus += r->h->cpus[i];
            cores += r->h->cores[i];
        }
    return mem >= r->mem && cpus >= r->vcpus && cores >= r->cores;
}

static bool ref_clique(const struct ref *r, uint64_t s)
{
    for (uint32_t i = 0; i < r->h->n; i++)
        if ((s >> i & 1) && (s & ~r->adj[i]))
            return false;
    return s != 0;
}

struct tier {
    int64_t max;
    int64_t sum;
    int64_t k;
};

static struct tier ref_tier(const struct host *h, uint64_t s)
{
    struct tier t = {0, 0, __builtin_popcountll(s)};
    for (uint64_t a = s; a; a &= a - 1)
        for (uint64_t b = s; b; b &= b - 1) {
            int64_t x = h->d[__builtin_ctzll(a)][__builtin_ctzll(b)];
            t.sum += x;
            t.max = x > t.max ? x : t.max;
        }
    return t;
}

/* <0 if a is a better tier than b. */
static int tier_cmp(struct tier a, struct tier b)
{
    if (a.max != b.max)
        return a.max < b.max ? -1 : 1;
    int64_t x = a.sum * b.k * b.k, y = b.sum * a.k * a.k;
    return (x > y) - (x < y);
}

/* Every fitting clique of the best tier, by enumerating all subsets. */
static uint32_t ref_best_small(const struct ref *r, uint64_t *sets, uint32_t cap, struct tier *ret)
{
    uint32_t n = 0;
    for (uint64_t s = 1; s < BIT(r->h->n); s++) {
        if ((s & ~r->reach) || !ref_clique(r, s) || !ref_fits(r, s))
            continue;
        struct tier t = ref_tier(r->h, s);
        int c = n ? tier_cmp(t, *ret) : -1;
        if (c < 0) {
            *ret = t;
            n = 0;
        }
        if (c <= 0 && n < cap)
            sets[n++] = s;
    }
    return n;
}

/* The best tier on a larger host: the cliques under each threshold D, in
 * increasing D, cutting a branch only when its nodes and candidates together
 * cannot fit. */
struct enum_ctx {
    const struct ref *r;
    int64_t limit;
    bool have;
    struct tier best;
    uint64_t visits;
};

static void ref_enum(struct enum_ctx *e, uint64_t s, uint64_t cand)
{
    const struct ref *r = e->r;
    e->visits++;
    if (s && ref_fits(r, s)) {
        struct tier t = ref_tier(r->h, s);
        if (!e->have || tier_cmp(t, e->best) < 0)
            e->best = t;
        e->have = true;
    }
    if (!ref_fits(r, s | cand))
        return;
    while (cand) {
        uint32_t j = (uint32_t)__builtin_ctzll(cand);
        cand &= cand - 1;
        uint64_t next = cand;
        for (uint32_t x = 0; x < r->h->n; x++)
            if (next >> x & 1) {
                int64_t dx = r->h->d[x][j] > r->h->d[j][x] ? r->h->d[x][j] : r->h->d[j][x];
                if (!(r->adj[j] >> x & 1) || dx > e->limit)
                    next &= ~BIT(x);
            }
        ref_enum(e, s | BIT(j), next);
    }
}

static bool ref_best_large(const struct ref *r, struct tier *ret)
{
    int64_t limits[MAXN * MAXN + 1];
    uint32_t nl = 0;
    limits[nl++] = 10;
    for (uint32_t i = 0; i < r->h->n; i++)
        for (uint32_t j = 0; j < r->h->n; j++)
            if (i != j && (r->adj[i] >> j & 1))
                limits[nl++] = r->h->d[i][j] > r->h->d[j][i] ? r->h->d[i][j] : r->h->d[j][i];
    for (uint32_t a = 0; a < nl; a++) /* a small selection sort suffices */
        for (uint32_t b = a + 1; b < nl; b++)
            if (limits[b] < limits[a]) {
                int64_t x = limits[a];
                limits[a] = limits[b];
                limits[b] = x;
            }
    for (uint32_t a = 0; a < nl; a++) {
        if (a > 0 && limits[a] == limits[a - 1])
            continue;
        struct enum_ctx e = {.r = r, .limit = limits[a]};
        for (uint32_t s = 0; s < r->h->n; s++) {
            if (!(r->reach >> s & 1))
                continue;
            uint64_t cand = 0;
            for (uint32_t x = s + 1; x < r->h->n; x++) {
                int64_t dx = r->h->d[x][s] > r->h->d[s][x] ? r->h->d[x][s] : r->h->d[s][x];
                if ((r->adj[s] >> x & 1) && dx <= e.limit)
                    cand |= BIT(x);
            }
            ref_enum(&e, BIT(s), cand);
        }
        if (e.have) {
            *ret = e.best;
            return true;
        }
    }
    return false;
}

/* ---- checks ---- */

static void check_feasible(const struct ref *r, const struct xf_topology *t,
                           const struct xf_plan *plan)
{
    const struct host *h = r->h;
    uint64_t sum = 0, cpus[XF_CPU_SET_WORDS] = {0};
    uint32_t ncpus = 0, ncores = 0;

    assert_true(plan->fits);
    assert_int_equal(plan->node_mask & ~r->reach, 0);
    assert_true(ref_clique(r, plan->node_mask));
    for (uint32_t i = 0; i < XF_MAX_NODES; i++) {
        if (!(plan->node_mask >> i & 1)) {
            continue;
        }
        assert_true(plan->memory_mib_per_node[i] <= r->free_mib[i]);
        sum += plan->memory_mib_per_node[i];
        ncpus += h->cpus[i];
        ncores += h->cores[i];
    }
    for (uint32_t c = 0; c < h->nr_cpus; c++)
        if (plan->node_mask >> h->cpu_to_node[c] & 1)
            cpus[c / 64] |= BIT(c % 64);
    assert_int_equal(sum, plan->memory_mib);
    assert_memory_equal(cpus, plan->cpus, sizeof(cpus));
    assert_int_equal(plan->nr_cpus, ncpus);
    assert_true(ncpus >= plan->vcpus);
    assert_true(ncores >= plan->cores);
    struct tier tt = ref_tier(h, plan->node_mask);
    assert_int_equal(plan->max_distance, tt.max);
    assert_true(fabs(plan->avg_distance - (double)tt.sum / (double)(tt.k * tt.k)) < 1e-9);
    (void)t;
}

/* Largest-remainder split, written again; returns the least memory a node of
 * the set keeps. */
static uint64_t ref_min_left(const struct ref *r, uint64_t s)
{
    uint64_t total = 0, share[MAXN], rem[MAXN], given = 0, left = UINT64_MAX;
    bool bumped[MAXN] = {false};
    uint32_t n = r->h->n;
    for (uint32_t i = 0; i < n; i++)
        if (s >> i & 1)
            total += r->free_mib[i];
    for (uint32_t i = 0; i < n; i++)
        if (s >> i & 1) {
            share[i] = r->mem * r->free_mib[i] / total; /* small numbers: no overflow */
            rem[i] = r->mem * r->free_mib[i] % total;
            given += share[i];
        }
    while (given < r->mem) {
        int best = -1;
        for (uint32_t i = 0; i < n; i++)
            if ((s >> i & 1) && !bumped[i] && rem[i] > 0 &&
                (best < 0 || rem[i] > rem[best] ||
                 (rem[i] == rem[best] && r->free_mib[i] > r->free_mib[best])))
                best = (int)i;
        if (best < 0) /* cannot be: the remainders add up to (mem - given) * total */
            break;
        share[best]++;
        bumped[best] = true;
        given++;
    }
    for (uint32_t i = 0; i < n; i++)
        if ((s >> i & 1) && r->free_mib[i] - share[i] < left)
            left = r->free_mib[i] - share[i];
    return left;
}

/* OCaml's compare of the descending node lists: the highest nodes first, a
 * list that ends first is the smaller. */
static int desc_list_cmp(uint64_t a, uint64_t b)
{
    for (;;) {
        if (!a || !b)
            return (a != 0) - (b != 0);
        int ha = 63 - __builtin_clzll(a), hb = 63 - __builtin_clzll(b);
        if (ha != hb)
            return ha < hb ? -1 : 1;
        a &= ~BIT(ha);
        b &= ~BIT(hb);
    }
}

struct xo_item {
    int64_t max;
    double avg;
    uint64_t s;
};

static int xo_cmp(const void *a, const void *b)
{
    const struct xo_item *x = a, *y = b;
    if (x->max != y->max)
        return x->max < y->max ? -1 : 1;
    if (x->avg != y->avg)
        return x->avg < y->avg ? -1 : 1;
    return x->s < y->s ? -1 : 1; /* Array.fast_sort is stable: generation order */
}

/* xenopsd's Softaffinity.plan and NUMA.choose, on float averages. */
static uint64_t ref_xenopsd(const struct ref *r, const uint64_t *usage, struct xo_item *items)
{
    uint32_t n = 0, best_usage = UINT32_MAX;
    uint64_t best = 0;
    for (uint64_t s = 1; s < BIT(r->h->n); s++) {
        if ((s & ~r->reach) || !ref_clique(r, s))
            continue;
        struct tier t = ref_tier(r->h, s);
        items[n].max = t.max;
        items[n].avg = (double)t.sum / (double)(t.k * t.k);
        items[n].s = s;
        n++;
    }
    qsort(items, n, sizeof(*items), xo_cmp);
    double first = 0;
    bool started = false;
    for (uint32_t i = 0; i < n; i++) {
        if (!ref_fits(r, items[i].s))
            continue;
        if (!started) {
            first = items[i].avg;
            started = true;
        } else if (!(fabs(items[i].avg - first) < 1e-3)) {
            break;
        }
        uint32_t u = 0;
        for (uint32_t k = 0; k < r->h->n; k++)
            if (items[i].s >> k & 1)
                u += (uint32_t)usage[k];
        if (u < best_usage || (u == best_usage && desc_list_cmp(items[i].s, best) < 0)) {
            best_usage = u;
            best = items[i].s;
        }
    }
    return best;
}

/* A request for up to about 1/2 of the host (1/divisor with a random divisor
 * up to the node count, or up to `spread` for larger ones). */
static struct xf_numa_request random_request(const struct host *h, uint32_t spread)
{
    uint64_t total = 0;
    uint32_t cpus = 0;
    for (uint32_t i = 0; i < h->n; i++) {
        total += h->free_mib[i];
        cpus += h->cpus[i];
    }
    struct xf_numa_request req = {
        .memory_mib = 1 + rnd((uint32_t)(total / (2 + rnd(spread)) + 1)),
        .vcpus = 1 + rnd(cpus / (1 + rnd(spread)) + 1),
        .cores = XF_CORES_FROM_POLICY,
        .policy = rnd(2) ? XF_NUMA_POLICY_BEST_EFFORT : XF_NUMA_POLICY_PRIO_MEM_ONLY,
    };
    return req;
}

static void test_planner_random_small(void **state)
{
    static struct xo_item items[1u << 16];
    uint32_t fitted = 0, multi = 0;
    (void)state;
    rng_state = 0x9E3779B97F4A7C15u;
    for (int round = 0; round < 400; round++) {
        struct host h;
        random_host(&h, 1 + rnd(12));
        struct xf_topology *t = load(&h);
        struct xf_planner *pf = NULL, *px = NULL;
        assert_int_equal(xf_planner_new(t, XF_PLANNER_XENFIT, &pf), 0);
        assert_int_equal(xf_planner_new(t, XF_PLANNER_XENOPSD, &px), 0);
        for (int vm = 0; vm < 6; vm++) {
            struct xf_numa_request req = random_request(&h, h.n);
            struct xf_plan plan;
            struct ref r;
            uint64_t sets[4096], usage[MAXN];
            struct tier best;

            /* xenfit: in the best tier, and the best of it by its rule. */
            assert_int_equal(xf_planner_plan(pf, &req, &plan), 0);
            ref_init(&r, &h, pf, &plan);
            uint32_t ns = ref_best_small(&r, sets, 4096, &best);
            if (xf_topology_numa_status(t) != XF_NUMA_ON) {
                assert_int_equal(plan.outcome, XF_PLAN_NUMA_OFF);
                break;
            }
            if (ns == 0) {
                assert_int_equal(plan.outcome, XF_PLAN_NO_FIT);
            } else {
                check_feasible(&r, t, &plan);
                assert_int_equal(tier_cmp(ref_tier(&h, plan.node_mask), best), 0);
                uint64_t mine = ref_min_left(&r, plan.node_mask);
                for (uint32_t k = 0; k < ns; k++)
                    assert_true(ref_min_left(&r, sets[k]) <= mine);
                assert_int_equal(xf_planner_commit(pf, &plan), 0);
                fitted++;
                multi += plan.nr_nodes > 1;
            }
            /* xenopsd: exactly xenopsd's set, along the whole sequence. */
            assert_int_equal(xf_planner_plan(px, &req, &plan), 0);
            ref_init(&r, &h, px, &plan);
            for (uint32_t i = 0; i < h.n; i++)
                usage[i] = xf_planner_node_placements(px, i);
            uint64_t want = ref_xenopsd(&r, usage, items);
            assert_int_equal(plan.fits ? plan.node_mask : 0, want);
            if (plan.fits)
                assert_int_equal(xf_planner_commit(px, &plan), 0);
        }
        xf_planner_free(pf);
        xf_planner_free(px);
        xf_topology_free(t);
    }
    /* The generator must exercise both single- and multi-node plans. */
    assert_true(fitted > 800);
    assert_true(multi > 200);
}

static void test_planner_random_sixteen(void **state)
{
    static struct xo_item items[1u << 16];
    (void)state;
    rng_state = 0x1234567u;
    for (int round = 0; round < 6; round++) {
        struct host h;
        random_host(&h, 16);
        struct xf_topology *t = load(&h);
        struct xf_planner *pf = NULL, *px = NULL;
        assert_int_equal(xf_planner_new(t, XF_PLANNER_XENFIT, &pf), 0);
        assert_int_equal(xf_planner_new(t, XF_PLANNER_XENOPSD, &px), 0);
        for (int vm = 0; vm < 4 && xf_topology_numa_status(t) == XF_NUMA_ON; vm++) {
            struct xf_numa_request req = random_request(&h, h.n);
            struct xf_plan plan;
            struct ref r;
            uint64_t sets[1], usage[MAXN] = {0};
            struct tier best;
            assert_int_equal(xf_planner_plan(pf, &req, &plan), 0);
            ref_init(&r, &h, pf, &plan);
            if (plan.fits) {
                check_feasible(&r, t, &plan);
                assert_true(ref_best_small(&r, sets, 1, &best) > 0);
                assert_int_equal(tier_cmp(ref_tier(&h, plan.node_mask), best), 0);
                assert_int_equal(xf_planner_commit(pf, &plan), 0);
            } else {
                assert_int_equal(ref_best_small(&r, sets, 1, &best), 0);
            }
            assert_int_equal(xf_planner_plan(px, &req, &plan), 0);
            ref_init(&r, &h, px, &plan);
            for (uint32_t i = 0; i < h.n; i++)
                usage[i] = xf_planner_node_placements(px, i);
            assert_int_equal(plan.fits ? plan.node_mask : 0, ref_xenopsd(&r, usage, items));
            if (plan.fits)
                assert_int_equal(xf_planner_commit(px, &plan), 0);
        }
        xf_planner_free(pf);
        xf_planner_free(px);
        xf_topology_free(t);
    }
}

static void test_planner_random_large(void **state)
{
    uint32_t cases = 0, hits = 0, fits = 0, multi = 0;
    (void)state;
    rng_state = 0xC0FFEEu;
    for (int round = 0; round < 250; round++) {
        struct host h;
        random_host(&h, 17 + rnd(8));
        struct xf_topology *t = load(&h);
        struct xf_planner *pf = NULL;
        if (xf_topology_numa_status(t) != XF_NUMA_ON) {
            xf_topology_free(t);
            continue;
        }
        assert_int_equal(xf_planner_new(t, XF_PLANNER_XENFIT, &pf), 0);
        for (int vm = 0; vm < 4; vm++) {
            struct xf_numa_request req = random_request(&h, 6);
            struct xf_plan plan;
            struct ref r;
            struct tier best;
            assert_int_equal(xf_planner_plan(pf, &req, &plan), 0);
            ref_init(&r, &h, pf, &plan);
            bool any = ref_best_large(&r, &best);
            cases++;
            if (!any) {
                assert_int_equal(plan.outcome, XF_PLAN_NO_FIT);
                hits++;
                continue;
            }
            if (!plan.fits)
                fail_msg("round %d VM %d: the reference fits, the planner says: %s", round, vm,
                         plan.reason);
            check_feasible(&r, t, &plan);
            fits++;
            multi += plan.nr_nodes > 1;
            int c = tier_cmp(ref_tier(&h, plan.node_mask), best);
            assert_true(c >= 0); /* nothing beats the exhaustive best */
            if (c == 0)
                hits++;
            else
                assert_false(plan.exhaustive); /* a plan claiming the best tier is */
            assert_int_equal(xf_planner_commit(pf, &plan), 0);
        }
        xf_planner_free(pf);
        xf_topology_free(t);
    }
    print_message(
        "17-24 nodes: %u of %u plans in the exhaustive best tier (%u fit, %u multi-node)\n", hits,
        cases, fits, multi);
    assert_true(cases >= 800);
    assert_true(multi >= 150);
    assert_true(hits * 100 >= cases * 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planner_random_small),
        cmocka_unit_test(test_planner_random_sixteen),
        cmocka_unit_test(test_planner_random_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
