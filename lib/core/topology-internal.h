/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The inside of a topology (include/xenfit/topology.h), shared by the files
 * that build it (topology.c, topology-sets.c, topology-json.c) and the
 * planner that searches it (planner.c, planner-search.c). Not installed.
 *
 * Node sets are uint64_t bitmasks over the snapshot's node numbers. Sums of a
 * per-node quantity over a set are read from "nibble tables": tab[q][v] is the
 * sum over the nodes 4q+b for the bits b of v, so a set's sum is one lookup per
 * non-zero nibble of its mask (4 for 16 nodes) and changing one node's value
 * rewrites 8 entries.
 */
#ifndef XENFIT_TOPOLOGY_INTERNAL_H
#define XENFIT_TOPOLOGY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenfit/topology.h"

#define XF__NIBBLES (XF_MAX_NODES / 4u)

/* A candidate of the exhaustive list is its mask over the compact
 * (reachable-only) numbering, 2 bytes: 65535 of them fit 32 pages. Its nodes,
 * CPUs and cores come from the two bytes of the mask (struct
 * xf__cand_tables). */
struct xf__cand_tables {
    uint64_t nodes[2][256];
    uint16_t cpus[2][256]; /* a host has at most XF_MAX_CPUS */
    uint16_t cores[2][256];
};

/* A run of candidates with equal (max distance, average distance). */
struct xf__tier {
    uint32_t first;
    uint32_t count;
    uint32_t max_distance;
    uint32_t sum;       /* of its first candidate: avg = sum / k^2 */
    uint16_t max_cpus;  /* over its candidates, to skip it without looking */
    uint16_t max_cores; /* (a host has at most XF_MAX_CPUS) */
    uint8_t k;          /* size of its first candidate */
    uint8_t min_size;   /* of its candidates' node counts */
    uint8_t max_size;
};

/* The tier's average distance, xenopsd's float. */
static inline double xf__tier_avg(const struct xf__tier *tier)
{
    return (double)tier->sum / (double)((uint32_t)tier->k * tier->k);
}

struct xf_topology {
    uint32_t nr_nodes;
    uint32_t nr_cpus;
    uint32_t nr_cpu_words; /* 64-bit words of a CPU bitmap that can be non-zero */
    enum xf_numa_status status;
    char reason[192];

    uint64_t reachable; /* nodes with a local distance of 10 */
    uint32_t nr_reachable;
    uint64_t adj[XF_MAX_NODES]; /* mutually reachable nodes, self included */
    /* dist[i][j]: the SLIT entry, XF_TOPOLOGY_UNREACHABLE if unreachable. */
    uint32_t dist[XF_MAX_NODES][XF_MAX_NODES];
    /* For mutually reachable pairs: d(i,j) + d(j,i), and the larger of the two. */
    uint32_t dsym[XF_MAX_NODES][XF_MAX_NODES];
    uint16_t dmax[XF_MAX_NODES][XF_MAX_NODES];
    uint32_t dsym_min; /* smallest dsym over reachable pairs i != j (20 if none) */

    uint32_t node_cpus[XF_MAX_NODES];
    uint32_t node_cores[XF_MAX_NODES];
    uint64_t node_free_mib[XF_MAX_NODES];
    uint32_t host_cpus; /* over the reachable nodes */
    uint32_t host_cores;
    uint32_t all_cpus; /* every online CPU */
    uint32_t cpu_tab[XF__NIBBLES][16];
    uint32_t core_tab[XF__NIBBLES][16];
    uint32_t *cpu_to_node;   /* nr_cpus */
    uint64_t *node_cpu_bits; /* nr_nodes * nr_cpu_words */

    /* Up to XF_TOPOLOGY_EXHAUSTIVE_NODES reachable nodes: every clique. */
    struct xf__tier *tiers; /* one allocation with ctab and cands */
    uint32_t nr_tiers;
    struct xf__cand_tables *ctab;
    uint16_t *cands;
    uint32_t nr_cands;

    /* Above: distinct pairwise distances (10 first) and, per threshold t and
     * node i, thr_adj[t * 64 + i] = the nodes within thr[t] of i (i included). */
    uint32_t nr_thr;
    bool local_pairs; /* some distinct nodes are 10 apart */
    /* Per node, the others with the same distances to and from every other
     * node, to each other both ways, and the same CPUs and cores: swapping
     * two of them changes no set's distances or resources. */
    uint64_t twins[XF_MAX_NODES];
    uint32_t *thr;
    uint64_t *thr_adj;
};

static inline uint64_t xf__cand_nodes(const struct xf_topology *t, uint16_t c)
{
    return t->ctab->nodes[0][c & 255u] | t->ctab->nodes[1][c >> 8];
}

static inline uint32_t xf__cand_cpus(const struct xf_topology *t, uint16_t c)
{
    return (uint32_t)t->ctab->cpus[0][c & 255u] + t->ctab->cpus[1][c >> 8];
}

static inline uint32_t xf__cand_cores(const struct xf_topology *t, uint16_t c)
{
    return (uint32_t)t->ctab->cores[0][c & 255u] + t->ctab->cores[1][c >> 8];
}

static inline unsigned xf__ctz64(uint64_t m)
{
    return (unsigned)__builtin_ctzll(m);
}

static inline unsigned xf__top64(uint64_t m)
{
    return 63u - (unsigned)__builtin_clzll(m);
}

/* SWAR population count: inline, with or without a popcnt instruction. */
static inline uint32_t xf__popcount64(uint64_t m)
{
    m = m - ((m >> 1) & UINT64_C(0x5555555555555555));
    m = (m & UINT64_C(0x3333333333333333)) + ((m >> 2) & UINT64_C(0x3333333333333333));
    m = (m + (m >> 4)) & UINT64_C(0x0F0F0F0F0F0F0F0F);
    return (uint32_t)((m * UINT64_C(0x0101010101010101)) >> 56);
}

static inline uint64_t xf__nib_sum64(const uint64_t tab[XF__NIBBLES][16], uint64_t m)
{
    uint64_t s = 0;
    while (m) {
        unsigned sh = xf__ctz64(m) & ~3u;
        s += tab[sh >> 2][(m >> sh) & 15u];
        m &= ~(UINT64_C(15) << sh);
    }
    return s;
}

static inline uint32_t xf__nib_sum32(const uint32_t tab[XF__NIBBLES][16], uint64_t m)
{
    uint32_t s = 0;
    while (m) {
        unsigned sh = xf__ctz64(m) & ~3u;
        s += tab[sh >> 2][(m >> sh) & 15u];
        m &= ~(UINT64_C(15) << sh);
    }
    return s;
}

/*
 * xenopsd's tie-break between two node sets of equal summed usage: NUMA.choose
 * folds Stdlib.min over (usage, node list, resource) tuples, and the node list
 * Softaffinity.plan builds is in descending node order, so OCaml's structural
 * compare orders sets by their highest node, then the next, a prefix first.
 * Returns <0, 0, >0.
 */
static inline int xf__xenopsd_set_cmp(uint64_t a, uint64_t b)
{
    while (a && b) {
        unsigned ha = xf__top64(a), hb = xf__top64(b);
        if (ha != hb)
            return ha < hb ? -1 : 1;
        a &= ~(UINT64_C(1) << ha);
        b &= ~(UINT64_C(1) << hb);
    }
    return a ? 1 : (b ? -1 : 0);
}

/* Writes a message to errbuf (if not NULL). */
void xf__topology_message(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes the message and evaluates to err. A macro so that the negative code
 * is visible where it is returned: the static analyzers neither look into
 * another file nor follow a variadic call. */
#define xf__topology_fail(errbuf, errlen, err, ...)                                                \
    (xf__topology_message((errbuf), (errlen), __VA_ARGS__), (err))

/* Builds the exhaustive candidate list or the threshold tables (topology-sets.c).
 * Returns 0 or XF_ENOMEM. */
int xf__topology_build_sets(struct xf_topology *t);
void xf__topology_free_sets(struct xf_topology *t);

#endif
