/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The candidate node sets of a topology, computed once when it loads.
 *
 * Up to XF_TOPOLOGY_EXHAUSTIVE_NODES reachable nodes: every non-empty set of
 * mutually reachable nodes, with its maximum and summed pairwise distance
 * (xenopsd's NUMA.node_distances: every ordered pair, each node with itself
 * included, so avg = sum / k^2), sorted by (max, avg) and, among equals, in
 * xenopsd's generation order (ascending bitmask, seq_all_subsets) exactly as
 * its stable Array.fast_sort leaves them (NUMA.gen_candidates). Equal keys
 * form the tiers the planner walks.
 *
 * A load must be cheap in a fresh process too, where every page of memory
 * touched for the first time costs a page fault (about 10 us each on the
 * project's virtual machine: 550 faults took a 16-node load from 1.3 ms warm
 * to 7 ms cold). So nothing is kept per set but its 2-byte mask: a set's
 * sum and maximum come from byte tables (the sets within the low and the
 * high 8 nodes, and the pairs across, summed per high byte), and the sort is
 * a counting sort in two passes over the sets: the first counts the sets of
 * each distinct key (a small hash table: a tier per key), the keys are
 * sorted, and the second pass computes each set's key again and writes its
 * mask at its tier's next place, in ascending mask order. The candidates,
 * tiers and byte tables the planner reads are one allocation.
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
 * A set's key is (the rank of its max distance among the topology's distinct
 * pairwise maxima, its size k, its distance sum): at most 255, 16 and
 * 16 * 16 * 65535 < 2^24, 37 bits. Keys of equal max rank and equal average
 * (order_word) make one tier.
 */
#define KEY(max, k, sum) ((uint64_t)(max) << 29 | (uint64_t)(k) << 24 | (sum))
#define KEY_MAX(key)     ((uint32_t)((key) >> 29))
#define KEY_K(key)       ((uint32_t)((key) >> 24) & 31u)
#define KEY_SUM(key)     ((uint32_t)(key)&0xFFFFFFu)

/* A max-distance rank that no clique has: at most 1 + 16 * 15 / 2 ranks. */
#define NOT_CLIQUE 255u

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

/* One distinct key in 8 bytes: the key (41 bits) above 16 bits that hold
 * how many sets have it (pass 1), then its tier (pass 2: at most 65535
 * sets, so at most 65535 of either). 0 is empty: a real key has an
 * average of at least 10. */
typedef uint64_t key_slot;
#define SLOT_KEY(s) ((s) >> 16)
#define SLOT_LOW    UINT64_C(0xFFFF)

/* What building the exhaustive candidates needs besides the topology. */
struct exhaustive {
    uint32_t nr; /* reachable nodes, numbered compactly 0..nr-1 */
    unsigned node[XF_TOPOLOGY_EXHAUSTIVE_NODES];
    /* 10 and at most 16 * 15 / 2 pairwise maxima */
    uint32_t rank_value[1 + XF_TOPOLOGY_EXHAUSTIVE_NODES * XF_TOPOLOGY_EXHAUSTIVE_NODES];
    /* Per byte of a compact mask (lo: nodes 0..7, hi: 8..15): the distance
     * sum within it (10 per node, dsym per pair) and the rank of its max
     * (NOT_CLIQUE if two of its nodes cannot reach each other). */
    uint32_t sum_in[2][256];
    uint8_t max_in[2][256];
    /* For high node 8 + b: its dsym summed over, and the max rank over, the
     * nodes of a low byte. */
    uint32_t row_sum[8][256];
    uint8_t row_max[8][256];
    uint8_t bits[256]; /* popcount of a byte: no popcnt instruction assumed */
    /* The keys, open addressing (a power of two, at most half full). */
    key_slot *slots;
    uint32_t *pos; /* pass 2: per tier, where its next set goes */
    uint32_t nr_slots;
    unsigned slot_shift; /* 64 - log2(nr_slots) */
    uint32_t nr_keys;
    uint32_t nr_cliques;
};

/* The rank of dmax between compact nodes a and b among the distinct maxima,
 * NOT_CLIQUE if they cannot reach each other. */
static uint8_t pair_rank(const struct xf_topology *t, const struct exhaustive *x,
                         uint32_t nr_values, uint32_t a, uint32_t b)
{
    uint32_t v, lo = 0, hi = nr_values - 1;

    if (!(t->adj[x->node[a]] >> x->node[b] & 1u))
        return NOT_CLIQUE;
    v = t->dmax[x->node[a]][x->node[b]];
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (x->rank_value[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint8_t)lo;
}

static void byte_tables(const struct xf_topology *t, struct exhaustive *x)
{
    uint32_t nr_values = distinct_maxima(t, t->reachable, x->rank_value);
    uint8_t rank[XF_TOPOLOGY_EXHAUSTIVE_NODES][XF_TOPOLOGY_EXHAUSTIVE_NODES];

    x->nr = 0;
    for (uint64_t m = t->reachable; m; m &= m - 1)
        x->node[x->nr++] = xf__ctz64(m);
    for (uint32_t a = 0; a < x->nr; a++)
        for (uint32_t b = 0; b < x->nr; b++)
            rank[a][b] = pair_rank(t, x, nr_values, a, b);
    x->bits[0] = 0;
    for (unsigned v = 1; v < 256; v++)
        x->bits[v] = (uint8_t)(x->bits[v >> 1] + (v & 1u));
    for (unsigned half = 0; half < 2; half++) {
        x->sum_in[half][0] = 0;
        x->max_in[half][0] = 0;
        for (unsigned v = 1; v < 256; v++) {
            /* v = its highest node h + the rest */
            unsigned h = 31u - (unsigned)__builtin_clz(v), rest = v & ~(1u << h);
            unsigned a = 8 * half + h;
            uint32_t sum = x->sum_in[half][rest] + XF_SLIT_LOCAL;
            uint8_t max = x->max_in[half][rest];
            if (a >= x->nr) { /* no such node: never part of a mask */
                x->sum_in[half][v] = 0;
                x->max_in[half][v] = NOT_CLIQUE;
                continue;
            }
            for (unsigned r = rest; r; r &= r - 1) {
                unsigned b = 8 * half + (unsigned)__builtin_ctz(r);
                sum += t->dsym[x->node[a]][x->node[b]];
                max = rank[a][b] > max ? rank[a][b] : max;
            }
            x->sum_in[half][v] = sum;
            x->max_in[half][v] = max;
        }
    }
    for (unsigned b = 0; b < 8; b++) {
        x->row_sum[b][0] = 0;
        x->row_max[b][0] = 0;
        for (unsigned v = 1; v < 256; v++) {
            unsigned l = (unsigned)__builtin_ctz(v), rest = v & (v - 1);
            if (8 + b >= x->nr || l >= x->nr) {
                x->row_sum[b][v] = 0;
                x->row_max[b][v] = NOT_CLIQUE;
                continue;
            }
            uint8_t r = rank[8 + b][l];
            x->row_sum[b][v] = x->row_sum[b][rest] + t->dsym[x->node[8 + b]][x->node[l]];
            x->row_max[b][v] = x->row_max[b][rest] > r ? x->row_max[b][rest] : r;
        }
    }
}

static uint32_t slot_of(const struct exhaustive *x, uint64_t key)
{
    /* Fibonacci hashing: the top bits of the product. */
    uint32_t mask = x->nr_slots - 1,
             i = (uint32_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> x->slot_shift);
    while (x->slots[i] != 0 && SLOT_KEY(x->slots[i]) != key)
        i = (i + 1) & mask;
    return i;
}

/* Doubles the key table. Returns 0 or XF_ENOMEM. */
static int grow_slots(struct exhaustive *x)
{
    key_slot *old = x->slots;
    uint32_t nr_old = x->nr_slots;

    x->nr_slots = nr_old ? 2 * nr_old : 1024;
    x->slot_shift = 64u - (unsigned)__builtin_ctz(x->nr_slots);
    x->slots = xf__calloc(x->nr_slots, sizeof(*x->slots));
    if (!x->slots) {
        x->slots = old;
        x->nr_slots = nr_old;
        x->slot_shift = 64u - (unsigned)__builtin_ctz(nr_old ? nr_old : 1);
        return XF_ENOMEM;
    }
    for (uint32_t i = 0; i < nr_old; i++)
        if (old[i])
            x->slots[slot_of(x, SLOT_KEY(old[i]))] = old[i];
    xf__free(old);
    return 0;
}

/* Visits every clique in ascending compact-mask order with its key: pass 1
 * counts (cands NULL), pass 2 places. Returns 0 or XF_ENOMEM (pass 1). */
static int visit_sets(struct exhaustive *x, uint16_t *cands)
{
    /* level[j]: the pairs across for the j highest nodes of hi. Going from
     * hi to hi + 1 keeps the levels of the high nodes they share and adds
     * one: one 256-entry pass per hi, not one per node of it. */
    uint32_t level_sum[9][256];
    uint8_t level_max[9][256];
    unsigned nr_lo = 1u << (x->nr < 8 ? x->nr : 8), nr_hi = x->nr > 8 ? 1u << (x->nr - 8) : 1;

    for (unsigned lo = 0; lo < nr_lo; lo++) {
        level_sum[0][lo] = 0;
        level_max[0][lo] = 0;
    }
    for (unsigned hi = 0; hi < nr_hi; hi++) {
        uint8_t max_hi = x->max_in[1][hi];
        uint32_t sum_hi = x->sum_in[1][hi];
        unsigned depth = (unsigned)x->bits[hi];
        if (hi) {
            /* hi's lowest node b is new; the levels above it are hi - 1's. */
            unsigned b = (unsigned)__builtin_ctz(hi);
            const uint32_t *ps = level_sum[depth - 1], *rs = x->row_sum[b];
            const uint8_t *pm = level_max[depth - 1], *rm = x->row_max[b];
            uint32_t *ns = level_sum[depth];
            uint8_t *nm = level_max[depth];
            for (unsigned lo = 0; lo < nr_lo; lo++) {
                ns[lo] = ps[lo] + rs[lo];
                nm[lo] = pm[lo] > rm[lo] ? pm[lo] : rm[lo];
            }
        }
        if (max_hi == NOT_CLIQUE)
            continue;
        const uint32_t *cross_sum = level_sum[depth];
        const uint8_t *cross_max = level_max[depth];
        for (unsigned lo = hi ? 0 : 1; lo < nr_lo; lo++) {
            uint8_t max = x->max_in[0][lo] > max_hi ? x->max_in[0][lo] : max_hi;
            max = cross_max[lo] > max ? cross_max[lo] : max;
            if (max == NOT_CLIQUE)
                continue;
            uint32_t sum = x->sum_in[0][lo] + sum_hi + cross_sum[lo];
            uint64_t key = KEY(max, x->bits[lo] + x->bits[hi], sum);
            key_slot *k = &x->slots[slot_of(x, key)];
            if (cands) {
                cands[x->pos[*k & SLOT_LOW]++] = (uint16_t)(hi << 8 | lo);
                continue;
            }
            if (*k == 0) {
                if (2 * (x->nr_keys + 1) > x->nr_slots) {
                    if (grow_slots(x) < 0)
                        return XF_ENOMEM;
                    k = &x->slots[slot_of(x, key)];
                }
                *k = key << 16;
                x->nr_keys++;
            }
            (*k)++;
            x->nr_cliques++;
        }
    }
    return 0;
}

/* The distance sum of a compact mask, from the byte tables. */
static uint32_t set_sum(const struct exhaustive *x, uint16_t m)
{
    unsigned lo = m & 255u, hi = m >> 8;
    uint32_t sum = x->sum_in[0][lo] + x->sum_in[1][hi];
    for (unsigned r = hi; r; r &= r - 1)
        sum += x->row_sum[__builtin_ctz(r)][lo];
    return sum;
}

/*
 * A key's place in the planning order as one word: its max rank (bits 41
 * and up) and its average scaled by 2^17 and rounded down, sum * 2^17 / k^2
 * (below 2^24 * 2^17). Averages are sum / k^2 with k <= 16, so two different
 * ones differ by at least 1 / (256 * 256) = 2^-16, by at least 2 once
 * scaled: the floors of different averages differ, and equal averages (62/4
 * and 248/16) give equal floors. Equal words are one tier.
 */
static uint64_t order_word(uint64_t key)
{
    uint64_t k = KEY_K(key);
    return (uint64_t)KEY_MAX(key) << 41 | ((uint64_t)KEY_SUM(key) << 17) / (k * k);
}

/* A distinct key to sort: its order word and its slot. */
struct sorted_key {
    uint64_t word;
    key_slot *slot;
};

static int cmp_sorted_key(const void *a, const void *b)
{
    uint64_t x = ((const struct sorted_key *)a)->word, y = ((const struct sorted_key *)b)->word;
    return (x > y) - (x < y);
}

/* One allocation for the tiers, the byte tables and the candidates. */
static int alloc_sets(struct xf_topology *t, const struct exhaustive *x)
{
    size_t tiers = x->nr_keys * sizeof(struct xf__tier);
    size_t tabs = sizeof(struct xf__cand_tables);
    char *arena = xf__calloc(1, tiers + tabs + (size_t)x->nr_cliques * sizeof(uint16_t));

    if (!arena)
        return XF_ENOMEM;
    t->tiers = (struct xf__tier *)(void *)arena;
    t->ctab = (struct xf__cand_tables *)(void *)(arena + tiers);
    t->cands = (uint16_t *)(void *)(arena + tiers + tabs);
    t->nr_tiers = x->nr_keys;
    t->nr_cands = x->nr_cliques;
    for (unsigned half = 0; half < 2; half++)
        for (unsigned v = 0; v < 256; v++)
            for (unsigned b = 0; b < 8; b++) {
                unsigned a = 8 * half + b;
                if (!(v >> b & 1u) || a >= x->nr)
                    continue;
                t->ctab->nodes[half][v] |= UINT64_C(1) << x->node[a];
                t->ctab->cpus[half][v] =
                    (uint16_t)(t->ctab->cpus[half][v] + t->node_cpus[x->node[a]]);
                t->ctab->cores[half][v] =
                    (uint16_t)(t->ctab->cores[half][v] + t->node_cores[x->node[a]]);
            }
    return 0;
}

static int build_exhaustive(struct xf_topology *t)
{
    struct exhaustive *x = xf__calloc(1, sizeof(*x));
    struct sorted_key *order = NULL;
    uint32_t first = 0, n = 0, nr_tiers = 0;
    int r = XF_ENOMEM;

    if (!x)
        return XF_ENOMEM;
    byte_tables(t, x);
    if (grow_slots(x) < 0 || (r = visit_sets(x, NULL)) < 0)
        goto out;
    r = XF_ENOMEM;
    order = xf__malloc(x->nr_keys * sizeof(*order));
    x->pos = xf__malloc(x->nr_keys * sizeof(*x->pos));
    if (!order || !x->pos || alloc_sets(t, x) < 0)
        goto out;
    for (uint32_t i = 0; i < x->nr_slots; i++)
        if (x->slots[i])
            order[n++] = (struct sorted_key){order_word(SLOT_KEY(x->slots[i])), &x->slots[i]};
    qsort(order, n, sizeof(*order), cmp_sorted_key);
    x->pos[0] = 0;
    for (uint32_t i = 0, tier = 0; i < n; i++) {
        uint64_t key = SLOT_KEY(*order[i].slot);
        if (i > 0 && order[i - 1].word != order[i].word) {
            tier++;
            t->tiers[tier].first = x->pos[tier] = first;
        }
        t->tiers[tier].max_distance = x->rank_value[KEY_MAX(key)];
        t->tiers[tier].count += (uint32_t)(*order[i].slot & SLOT_LOW);
        first += (uint32_t)(*order[i].slot & SLOT_LOW);
        *order[i].slot = (*order[i].slot & ~SLOT_LOW) | tier;
        nr_tiers = tier + 1;
    }
    t->nr_tiers = nr_tiers;
    if ((r = visit_sets(x, t->cands)) < 0)
        goto out;
    for (uint32_t i = 0; i < nr_tiers; i++) {
        struct xf__tier *tier = &t->tiers[i];
        uint16_t m0 = t->cands[tier->first];
        tier->sum = set_sum(x, m0);
        tier->k = (uint8_t)(x->bits[m0 & 255u] + x->bits[m0 >> 8]);
        tier->min_size = tier->k;
        for (uint32_t c = tier->first; c < tier->first + tier->count; c++) {
            uint16_t m = t->cands[c];
            uint16_t cpus = (uint16_t)xf__cand_cpus(t, m), cores = (uint16_t)xf__cand_cores(t, m);
            uint8_t size = (uint8_t)(x->bits[m & 255u] + x->bits[m >> 8]);
            tier->max_cpus = cpus > tier->max_cpus ? cpus : tier->max_cpus;
            tier->max_cores = cores > tier->max_cores ? cores : tier->max_cores;
            tier->min_size = size < tier->min_size ? size : tier->min_size;
            tier->max_size = size > tier->max_size ? size : tier->max_size;
        }
    }
out:
    xf__free(order);
    if (x) {
        xf__free(x->slots);
        xf__free(x->pos);
    }
    xf__free(x);
    return r;
}

/* Whether swapping reachable nodes i and j keeps every distance. */
static bool are_twins(const struct xf_topology *t, unsigned i, unsigned j)
{
    /* dist says unreachable too: equal rows mean equal neighbourhoods. */
    if (t->node_cpus[i] != t->node_cpus[j] || t->node_cores[i] != t->node_cores[j] ||
        t->dist[i][j] != t->dist[j][i])
        return false;
    for (uint64_t m = t->reachable & ~(UINT64_C(1) << i | UINT64_C(1) << j); m; m &= m - 1) {
        unsigned x = xf__ctz64(m);
        if (t->dist[i][x] != t->dist[j][x] || t->dist[x][i] != t->dist[x][j])
            return false;
    }
    return true;
}

static int build_thresholds(struct xf_topology *t)
{
    uint32_t distinct;

    t->thr = xf__calloc(1 + (size_t)t->nr_reachable * t->nr_reachable, sizeof(*t->thr));
    if (!t->thr)
        return XF_ENOMEM;
    distinct = distinct_maxima(t, t->reachable, t->thr);
    t->nr_thr = distinct;
    for (uint64_t m = t->reachable; m; m &= m - 1)
        for (uint64_t r = m & (m - 1); r; r &= r - 1)
            if (are_twins(t, xf__ctz64(m), xf__ctz64(r))) {
                t->twins[xf__ctz64(m)] |= UINT64_C(1) << xf__ctz64(r);
                t->twins[xf__ctz64(r)] |= UINT64_C(1) << xf__ctz64(m);
            }
    /* Two distinct nodes 10 apart make a set as good as a single node. */
    for (uint64_t m = t->reachable; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        for (uint64_t a = t->adj[i] & ~(UINT64_C(1) << i); a; a &= a - 1)
            if (t->dmax[i][xf__ctz64(a)] == XF_SLIT_LOCAL)
                t->local_pairs = true;
    }
    t->thr_adj = xf__calloc((size_t)distinct * XF_MAX_NODES, sizeof(*t->thr_adj));
    if (!t->thr_adj)
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
    xf__free(t->tiers); /* with the candidates and byte tables */
    xf__free(t->thr);
    xf__free(t->thr_adj);
}
