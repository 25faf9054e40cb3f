/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The candidate node sets of a topology, computed once when it loads.
 *
 * Up to XF_TOPOLOGY_EXHAUSTIVE_NODES reachable nodes: every non-empty set of
 * mutually reachable nodes, with its maximum and summed pairwise distance
 * (xenopsd's NUMA.node_distances: every ordered pair, each node with itself
 * included, so avg = sum / k^2), sorted by (max, avg) and, among equals, in
 * xenopsd's generation order (ascending bitmask, seq_all_subsets) exactly as
 * its stable Array.fast_sort leaves them (NUMA.gen_candidates). Sums come from
 * a dynamic programme over bitmasks (each set = a smaller set + its highest
 * node) and the sort is an LSD radix sort over a 48-bit key, so a 16-node
 * topology (65535 sets) loads in about a millisecond where xenopsd's sort of
 * float tuples takes hundreds. Equal keys form the tiers the planner walks.
 *
 * Above that: the distinct pairwise distances (the thresholds) and, for each,
 * every node's neighbourhood within it, which bound the planner's clique
 * search (planner-search.c).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "topology-internal.h"
#include "xenfit/error.h"

/*
 * Each candidate is sorted as one 64-bit word: the rank of its max distance
 * among the topology's distinct pairwise maxima (bits 49..56), its average
 * distance scaled by 2^17 and rounded down (bits 16..48), its bitmask over the
 * compact (reachable-only) numbering (bits 0..15). Averages are sum / k^2
 * with k <= 16, so two different averages differ by at least
 * 1/(256 * 256) = 2^-16, by at least 2 once scaled: the floors of different
 * averages differ, and equal averages (e.g. 62/4 and 248/16) give equal
 * floors, so comparing words compares averages exactly. The floor is exact
 * integer arithmetic (avg_scaled below), with no rounding to reason about.
 * Averages are at most XF_SLIT_MAX_DISTANCE < 2^16: scaled, below 2^33.
 */
#define KEY(word) ((word) >> 16)

/* A max-distance rank that no clique has: at most 1 + 16 * 15 / 2 ranks. */
#define NOT_CLIQUE 255u

__extension__ typedef unsigned __int128 u128;

/* floor(2^64 / k^2) + 1 for k = 1..16: a division by k^2 as a multiplication
 * (a 64-bit division costs several times more, on 65535 sets per load). */
static void avg_reciprocals(u128 ret[XF_TOPOLOGY_EXHAUSTIVE_NODES + 1])
{
    ret[0] = 0;
    for (uint32_t k = 1; k <= XF_TOPOLOGY_EXHAUSTIVE_NODES; k++)
        ret[k] = ((u128)1 << 64) / (k * k) + 1;
}

/*
 * floor(sum * 2^17 / k^2), exactly: with x = sum * 2^17 < 2^41 and
 * recip = 2^64 / d + e (0 < e <= 1, d = k^2), x * recip / 2^64 = x / d + err
 * with 0 < err <= x / 2^64 < 2^-23, and the fractional part of x / d is at
 * most 1 - 1/d <= 1 - 2^-8, so adding err never reaches the next integer.
 */
static uint64_t avg_scaled(uint32_t sum, u128 recip)
{
    return (uint64_t)(((u128)((uint64_t)sum << 17) * recip) >> 64);
}

static uint64_t sort_word(uint32_t max_rank, uint32_t sum, u128 recip, uint32_t cmask)
{
    return (uint64_t)max_rank << 49 | avg_scaled(sum, recip) << 16 | cmask;
}

/* Stable LSD radix sort on bits 16..63, 8 bits a pass, skipping the passes
 * where every word has the same digit; one read of the data counts the digits
 * of every pass. The words arrive in ascending bitmask order (xenopsd's
 * generation order), which stability keeps among equal keys, so bits 0..15
 * need no pass. Sorts a[] using tmp[]. */
static void radix_sort(uint64_t *a, uint64_t *tmp, size_t n)
{
    enum { PASSES = 6 };
    size_t count[PASSES][256];

    memset(count, 0, sizeof(count));
    for (size_t i = 0; i < n; i++)
        for (unsigned p = 0; p < PASSES; p++)
            count[p][(a[i] >> (16 + 8 * p)) & 255u]++;
    for (unsigned p = 0; p < PASSES; p++) {
        unsigned shift = 16 + 8 * p;
        size_t pos = 0;
        if (count[p][(a[0] >> shift) & 255u] == n)
            continue;
        for (unsigned d = 0; d < 256; d++) {
            size_t c = count[p][d];
            count[p][d] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[p][(a[i] >> shift) & 255u]++] = a[i];
        memcpy(a, tmp, n * sizeof(*a));
    }
}

static int build_tiers(struct xf_topology *t, const uint64_t *words, const uint32_t *rank_value)
{
    uint32_t nr_tiers = 0;

    for (uint32_t i = 0; i < t->nr_cands; i++)
        if (i == 0 || KEY(words[i]) != KEY(words[i - 1]))
            nr_tiers++;
    t->tiers = xf__calloc(nr_tiers, sizeof(*t->tiers));
    if (!t->tiers)
        return XF_ENOMEM;
    t->nr_tiers = nr_tiers;
    struct xf__tier *tier = NULL;
    for (uint32_t i = 0; i < t->nr_cands; i++) {
        struct xf__cand *c = &t->cands[i];
        uint32_t k = xf__popcount64(c->nodes);
        if (i == 0 || KEY(words[i]) != KEY(words[i - 1])) {
            tier = tier ? tier + 1 : t->tiers;
            tier->first = i;
            tier->max_distance = rank_value[words[i] >> 49];
            tier->sum = c->sum;
            tier->k = k;
            tier->avg = (double)c->sum / (double)(k * k);
        }
        tier->count++;
        if (c->cpus > tier->max_cpus)
            tier->max_cpus = c->cpus;
        if (c->cores > tier->max_cores)
            tier->max_cores = c->cores;
        if (k > tier->max_size)
            tier->max_size = k;
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The distinct values of 10 and dmax over pairs of `nodes` (any order), sorted
 * into values[]; returns how many. values[] holds 1 + nr * nr entries. */
static uint32_t distinct_maxima(const struct xf_topology *t, uint64_t nodes, uint32_t *values)
{
    uint32_t nr = 0, distinct = 0;

    values[nr++] = XF_SLIT_LOCAL;
    for (uint64_t m = nodes; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        for (uint64_t a = t->adj[i] & nodes & (m - 1); a; a &= a - 1)
            values[nr++] = t->dmax[i][xf__ctz64(a)];
    }
    qsort(values, nr, sizeof(*values), cmp_u32);
    for (uint32_t i = 0; i < nr; i++)
        if (i == 0 || values[i] != values[distinct - 1])
            values[distinct++] = values[i];
    return distinct;
}

/* What building the exhaustive candidates needs besides the topology. */
struct exhaustive {
    uint32_t nr; /* reachable nodes, numbered compactly 0..nr-1 */
    unsigned node[XF_TOPOLOGY_EXHAUSTIVE_NODES];
    /* A compact mask's two bytes give its nodes, CPUs and cores. */
    uint64_t expand_lo[256], expand_hi[256];
    uint32_t cpus_lo[256], cpus_hi[256], cores_lo[256], cores_hi[256];
    /* 10 and at most 16 * 15 / 2 pairwise maxima; rank[a][b] is dmax's rank. */
    uint32_t rank_value[1 + XF_TOPOLOGY_EXHAUSTIVE_NODES * XF_TOPOLOGY_EXHAUSTIVE_NODES];
    uint8_t rank[XF_TOPOLOGY_EXHAUSTIVE_NODES][XF_TOPOLOGY_EXHAUSTIVE_NODES];
    /* By compact set: the distance sum, and the rank of the max distance or
     * NOT_CLIQUE if two of its nodes cannot reach each other. */
    uint32_t *sum;
    uint8_t *maxd;
    uint32_t nr_cliques;
};

static void compact_numbering(const struct xf_topology *t, struct exhaustive *x)
{
    x->nr = 0;
    for (uint64_t m = t->reachable; m; m &= m - 1)
        x->node[x->nr++] = xf__ctz64(m);
}

static void byte_tables(const struct xf_topology *t, struct exhaustive *x)
{
    for (unsigned v = 0; v < 256; v++) {
        x->expand_lo[v] = x->expand_hi[v] = 0;
        x->cpus_lo[v] = x->cpus_hi[v] = x->cores_lo[v] = x->cores_hi[v] = 0;
        for (unsigned b = 0; b < 8; b++) {
            if (!(v >> b & 1u))
                continue;
            if (b < x->nr) {
                x->expand_lo[v] |= UINT64_C(1) << x->node[b];
                x->cpus_lo[v] += t->node_cpus[x->node[b]];
                x->cores_lo[v] += t->node_cores[x->node[b]];
            }
            if (b + 8 < x->nr) {
                x->expand_hi[v] |= UINT64_C(1) << x->node[b + 8];
                x->cpus_hi[v] += t->node_cpus[x->node[b + 8]];
                x->cores_hi[v] += t->node_cores[x->node[b + 8]];
            }
        }
    }
}

/* rank[a][b]: dmax's rank among the distinct maxima (unreachable pairs,
 * dmax 0, never count: the clique test excludes them). */
static void rank_table(const struct xf_topology *t, struct exhaustive *x)
{
    uint32_t nr_values = distinct_maxima(t, t->reachable, x->rank_value);

    for (uint32_t a = 0; a < x->nr; a++)
        for (uint32_t b = 0; b < x->nr; b++) {
            uint32_t v = t->dmax[x->node[a]][x->node[b]], lo = 0, hi = nr_values - 1;
            while (lo < hi) {
                uint32_t mid = (lo + hi) / 2;
                if (x->rank_value[mid] < v)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            x->rank[a][b] = (uint8_t)lo;
        }
}

/*
 * sum[] and maxd[] for every set, by dynamic programming. Set m = {h} + rest
 * with h its highest node: sum(m) = sum(rest) + 10 + sum over rest of
 * d(h,j) + d(j,h), and the same for the max (as a rank) and for "every pair
 * mutually reachable". The row terms are themselves built by removing rest's
 * lowest node. Returns 0 or XF_ENOMEM.
 */
static int set_sums(const struct xf_topology *t, struct exhaustive *x)
{
    size_t n_sets = (size_t)1 << x->nr;
    uint32_t *rowsum = xf__malloc(n_sets / 2 * sizeof(*rowsum));
    uint8_t *rowmax = xf__malloc(n_sets / 2);
    int r = XF_ENOMEM;

    x->sum = xf__malloc(n_sets * sizeof(*x->sum));
    x->maxd = xf__malloc(n_sets);
    if (!x->sum || !x->maxd || !rowsum || !rowmax)
        goto out;
    x->sum[0] = 0;
    x->maxd[0] = 0;
    x->nr_cliques = 0;
    for (uint32_t h = 0; h < x->nr; h++) {
        size_t base = (size_t)1 << h;
        unsigned a = x->node[h];
        rowsum[0] = 0;
        rowmax[0] = 0; /* the rank of 10 */
        for (size_t rest = 1; rest < base; rest++) {
            size_t p = rest & (rest - 1);
            unsigned l = xf__ctz64(rest), b = x->node[l];
            rowsum[rest] = rowsum[p] + t->dsym[a][b];
            rowmax[rest] = rowmax[p] > x->rank[h][l] ? rowmax[p] : x->rank[h][l];
            if (!(t->adj[a] >> b & 1u))
                rowmax[rest] = NOT_CLIQUE;
        }
        for (size_t rest = 0; rest < base; rest++) {
            size_t m = base | rest;
            x->sum[m] = x->sum[rest] + XF_SLIT_LOCAL + rowsum[rest];
            x->maxd[m] = x->maxd[rest] > rowmax[rest] ? x->maxd[rest] : rowmax[rest];
            x->nr_cliques += x->maxd[m] != NOT_CLIQUE;
        }
    }
    r = 0;
out:
    xf__free(rowsum);
    xf__free(rowmax);
    return r;
}

/* The sort words of the cliques, in ascending compact-mask order
 * (xenopsd's generation order); words[] holds x->nr_cliques. */
static void clique_words(const struct exhaustive *x, uint64_t *words)
{
    size_t n_sets = (size_t)1 << x->nr, pos = 0;
    uint8_t bits[256]; /* popcount of a byte: no popcnt instruction assumed */
    u128 recip[XF_TOPOLOGY_EXHAUSTIVE_NODES + 1];

    avg_reciprocals(recip);
    bits[0] = 0;
    for (unsigned v = 1; v < 256; v++)
        bits[v] = (uint8_t)(bits[v >> 1] + (v & 1u));
    for (size_t m = 1; m < n_sets; m++)
        if (x->maxd[m] != NOT_CLIQUE)
            words[pos++] =
                sort_word(x->maxd[m], x->sum[m], recip[bits[m & 255u] + bits[m >> 8]], (uint32_t)m);
}

/* The candidates from the sorted words. */
static void fill_candidates(struct xf_topology *t, const struct exhaustive *x,
                            const uint64_t *words, uint32_t count)
{
    t->nr_cands = count;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t m = (uint32_t)(words[i] & 0xFFFFu);
        struct xf__cand *c = &t->cands[i];
        c->nodes = x->expand_lo[m & 255u] | x->expand_hi[m >> 8];
        c->cpus = (uint16_t)(x->cpus_lo[m & 255u] + x->cpus_hi[m >> 8]);
        c->cores = (uint16_t)(x->cores_lo[m & 255u] + x->cores_hi[m >> 8]);
        c->sum = x->sum[m];
    }
}

static int build_exhaustive(struct xf_topology *t)
{
    struct exhaustive x;
    uint64_t *words = NULL;
    int r;

    compact_numbering(t, &x);
    byte_tables(t, &x);
    rank_table(t, &x);
    x.sum = NULL;
    x.maxd = NULL;
    if ((r = set_sums(t, &x)) < 0)
        goto out;
    r = XF_ENOMEM;
    words = xf__malloc(x.nr_cliques * sizeof(*words));
    t->cands = xf__malloc(x.nr_cliques * sizeof(*t->cands));
    if (!words || !t->cands)
        goto out;
    clique_words(&x, words);
    /* The candidate array doubles as the sort's buffer. */
    _Static_assert(sizeof(struct xf__cand) >= sizeof(uint64_t), "the sort buffer must fit");
    radix_sort(words, (uint64_t *)(void *)t->cands, x.nr_cliques);
    fill_candidates(t, &x, words, x.nr_cliques);
    r = build_tiers(t, words, x.rank_value);
out:
    xf__free(x.sum);
    xf__free(x.maxd);
    xf__free(words);
    return r;
}

static int build_thresholds(struct xf_topology *t)
{
    uint32_t distinct;

    t->thr = xf__calloc(1 + (size_t)t->nr_reachable * t->nr_reachable, sizeof(*t->thr));
    if (!t->thr)
        return XF_ENOMEM;
    distinct = distinct_maxima(t, t->reachable, t->thr);
    t->nr_thr = distinct;
    /* Two distinct nodes 10 apart make a set as good as a single node. */
    for (uint64_t m = t->reachable; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        for (uint64_t a = t->adj[i] & ~(UINT64_C(1) << i); a; a &= a - 1)
            if (t->dmax[i][xf__ctz64(a)] == XF_SLIT_LOCAL)
                t->local_pairs = true;
    }
    t->thr_adj = xf__calloc((size_t)distinct * XF_MAX_NODES, sizeof(*t->thr_adj));
    t->thr_cpus = xf__calloc((size_t)distinct * XF_MAX_NODES, sizeof(*t->thr_cpus));
    t->thr_cores = xf__calloc((size_t)distinct * XF_MAX_NODES, sizeof(*t->thr_cores));
    if (!t->thr_adj || !t->thr_cpus || !t->thr_cores)
        return XF_ENOMEM;
    for (uint32_t k = 0; k < t->nr_thr; k++) {
        for (uint64_t m = t->reachable; m; m &= m - 1) {
            unsigned i = xf__ctz64(m);
            uint64_t nb = 0;
            size_t at = (size_t)k * XF_MAX_NODES + i;
            for (uint64_t a = t->adj[i]; a; a &= a - 1) {
                unsigned j = xf__ctz64(a);
                if (t->dmax[i][j] <= t->thr[k])
                    nb |= UINT64_C(1) << j;
            }
            t->thr_adj[at] = nb;
            t->thr_cpus[at] = xf__nib_sum32(t->cpu_tab, nb);
            t->thr_cores[at] = xf__nib_sum32(t->core_tab, nb);
        }
    }
    return 0;
}

int xf__topology_build_sets(struct xf_topology *t)
{
    if (t->nr_reachable <= XF_TOPOLOGY_EXHAUSTIVE_NODES)
        return build_exhaustive(t);
    return build_thresholds(t);
}

void xf__topology_free_sets(struct xf_topology *t)
{
    xf__free(t->cands);
    xf__free(t->tiers);
    xf__free(t->thr);
    xf__free(t->thr_adj);
    xf__free(t->thr_cpus);
    xf__free(t->thr_cores);
}
