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
 * 1/(256 * 256) = 2^-16, by at least 2 once scaled. The quotient is taken in
 * double precision (a division is several times slower in 64-bit integers):
 * it is correctly rounded, so equal averages (e.g. 62/4 and 248/16) give equal
 * words above bit 16 and the order is kept, and its error (below 2^-20 scaled,
 * as averages are below 2^16) cannot close a gap of 2, so the floors of
 * different averages still differ. Scaled averages are below 2^33.
 */
#define KEY(word) ((word) >> 16)

/* A max-distance rank that no clique has: at most 1 + 16 * 15 / 2 ranks. */
#define NOT_CLIQUE 255u

static uint64_t sort_word(uint32_t max_rank, uint32_t sum, uint32_t k, uint32_t cmask)
{
    uint64_t avg = (uint64_t)((double)sum / (double)(k * k) * 131072.0);
    return (uint64_t)max_rank << 49 | avg << 16 | cmask;
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

static int build_exhaustive(struct xf_topology *t)
{
    uint32_t nr = t->nr_reachable;
    size_t n_sets = (size_t)1 << nr;
    unsigned node[XF_TOPOLOGY_EXHAUSTIVE_NODES];
    uint64_t expand_lo[256], expand_hi[256];
    uint32_t cpus_lo[256], cpus_hi[256], cores_lo[256], cores_hi[256];
    uint32_t *sum = NULL, *rowsum = NULL;
    uint8_t *maxd = NULL, *rowmax = NULL;
    uint64_t *words = NULL;
    /* 10 and at most 16 * 15 / 2 pairwise maxima; rank[a][b] is dmax's rank. */
    uint32_t rank_value[1 + XF_TOPOLOGY_EXHAUSTIVE_NODES * XF_TOPOLOGY_EXHAUSTIVE_NODES];
    uint8_t rank[XF_TOPOLOGY_EXHAUSTIVE_NODES][XF_TOPOLOGY_EXHAUSTIVE_NODES];
    uint32_t count = 0, pos = 0;
    int r = XF_ENOMEM;

    {
        unsigned c = 0;
        for (uint64_t m = t->reachable; m; m &= m - 1)
            node[c++] = xf__ctz64(m);
    }
    /* A compact mask's two bytes give its nodes, CPUs and cores. */
    for (unsigned v = 0; v < 256; v++) {
        expand_lo[v] = expand_hi[v] = 0;
        cpus_lo[v] = cpus_hi[v] = cores_lo[v] = cores_hi[v] = 0;
        for (unsigned b = 0; b < 8; b++) {
            if (!(v >> b & 1u))
                continue;
            if (b < nr) {
                expand_lo[v] |= UINT64_C(1) << node[b];
                cpus_lo[v] += t->node_cpus[node[b]];
                cores_lo[v] += t->node_cores[node[b]];
            }
            if (b + 8 < nr) {
                expand_hi[v] |= UINT64_C(1) << node[b + 8];
                cpus_hi[v] += t->node_cpus[node[b + 8]];
                cores_hi[v] += t->node_cores[node[b + 8]];
            }
        }
    }
    {
        uint32_t nr_values = distinct_maxima(t, t->reachable, rank_value);
        for (uint32_t a = 0; a < nr; a++)
            for (uint32_t b = 0; b < nr; b++) {
                uint32_t v = t->dmax[node[a]][node[b]], lo = 0, hi = nr_values - 1;
                while (lo < hi) { /* unreachable pairs (dmax 0) never count */
                    uint32_t mid = (lo + hi) / 2;
                    if (rank_value[mid] < v)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                rank[a][b] = (uint8_t)lo;
            }
    }
    /* sum[] and maxd[] by set: the distance sum, and the rank of the max
     * distance or NOT_CLIQUE if two of its nodes cannot reach each other. The
     * candidate array doubles as the sort's buffer. */
    sum = xf__malloc(n_sets * sizeof(*sum));
    maxd = xf__malloc(n_sets);
    rowsum = xf__malloc(n_sets / 2 * sizeof(*rowsum));
    rowmax = xf__malloc(n_sets / 2);
    if (!sum || !maxd || !rowsum || !rowmax)
        goto out;

    /* Set m = {h} + rest with h its highest node: sum(m) = sum(rest) + 10 +
     * sum over rest of d(h,j) + d(j,h), and the same for the max (as a rank)
     * and for "every pair mutually reachable". The row terms are themselves
     * built by removing rest's lowest node. */
    sum[0] = 0;
    maxd[0] = 0;
    for (uint32_t h = 0; h < nr; h++) {
        size_t base = (size_t)1 << h;
        unsigned a = node[h];
        rowsum[0] = 0;
        rowmax[0] = 0; /* the rank of 10 */
        for (size_t rest = 1; rest < base; rest++) {
            size_t p = rest & (rest - 1);
            unsigned l = xf__ctz64(rest), b = node[l];
            rowsum[rest] = rowsum[p] + t->dsym[a][b];
            rowmax[rest] = rowmax[p] > rank[h][l] ? rowmax[p] : rank[h][l];
            if (!(t->adj[a] >> b & 1u))
                rowmax[rest] = NOT_CLIQUE;
        }
        for (size_t rest = 0; rest < base; rest++) {
            size_t m = base | rest;
            sum[m] = sum[rest] + XF_SLIT_LOCAL + rowsum[rest];
            maxd[m] = maxd[rest] > rowmax[rest] ? maxd[rest] : rowmax[rest];
            count += maxd[m] != NOT_CLIQUE;
        }
    }

    words = xf__malloc(count * sizeof(*words));
    t->cands = xf__malloc(count * sizeof(*t->cands));
    if (!words || !t->cands)
        goto out;
    {
        uint8_t bits[256]; /* popcount of a byte: no popcnt instruction assumed */
        bits[0] = 0;
        for (unsigned v = 1; v < 256; v++)
            bits[v] = (uint8_t)(bits[v >> 1] + (v & 1u));
        for (size_t m = 1; m < n_sets; m++)
            if (maxd[m] != NOT_CLIQUE)
                words[pos++] =
                    sort_word(maxd[m], sum[m], bits[m & 255u] + bits[m >> 8], (uint32_t)m);
    }
    _Static_assert(sizeof(struct xf__cand) >= sizeof(uint64_t), "the sort buffer must fit");
    radix_sort(words, (uint64_t *)(void *)t->cands, count);
    t->nr_cands = count;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t m = (uint32_t)(words[i] & 0xFFFFu);
        struct xf__cand *c = &t->cands[i];
        c->nodes = expand_lo[m & 255u] | expand_hi[m >> 8];
        c->cpus = (uint16_t)(cpus_lo[m & 255u] + cpus_hi[m >> 8]);
        c->cores = (uint16_t)(cores_lo[m & 255u] + cores_hi[m >> 8]);
        c->sum = sum[m];
    }
    r = build_tiers(t, words, rank_value);
out:
    xf__free(sum);
    xf__free(words);
    xf__free(maxd);
    xf__free(rowsum);
    xf__free(rowmax);
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
