/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Topology snapshots: validation of the raw snapshot, the SLIT rules of
 * xenopsd's NUMA.make (ocaml/xenopsd/lib/topology.ml) with the ACPI
 * encodings of "unreachable", the per-node CPU and core tables, and the
 * accessors. The candidate sets are built by topology-sets.c, the JSON form
 * is parsed by topology-json.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "topology-internal.h"
#include "xenfit/error.h"
#include "xenfit/topology.h"

void xf__topology_message(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (errbuf && errlen) {
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
}

/*
 * ACPI's SLIT marks an unreachable pair with 0xFF; Xen's numainfo reports
 * XEN_INVALID_NODE_DIST (~0U) for nodes without memory, which xenopsd's
 * bindings may also see as -1 (topology.ml, NUMA.is_unreachable). xenopsd
 * treats every value above 0xFF or below 0 as unreachable and 0xFF itself as a
 * distance; xenfit follows ACPI for 0xFF, accepts larger distances (up to
 * XF_SLIT_MAX_DISTANCE: synthetic matrices such as xenopsd's own test's
 * 10 + 11*|i-j| on 32 and 64 nodes reach 703) and calls anything else invalid
 * rather than guess.
 */
static bool is_unreachable(int64_t d)
{
    return d == XF_SLIT_UNREACHABLE_U8 || d == XF_SLIT_UNREACHABLE_U32 || d == -1;
}

/* Checks the matrix as NUMA.make's numa_matrix_is_reasonable does (every
 * row, reachable or not); on failure says which entry. */
static bool slit_valid(const struct xf_topology_spec *spec, char *reason, size_t len)
{
    uint32_t n = spec->nr_nodes;

    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j < n; j++) {
            int64_t d = spec->distances[(size_t)i * n + j];
            if (is_unreachable(d))
                continue;
            if (i == j && d != XF_SLIT_LOCAL) {
                snprintf(reason, len,
                         "the SLIT is invalid: distances[%u][%u] = %lld, a node's distance to "
                         "itself must be 10",
                         i, j, (long long)d);
                return false;
            }
            if (d < XF_SLIT_LOCAL) {
                snprintf(reason, len, "the SLIT is invalid: distances[%u][%u] = %lld is below 10",
                         i, j, (long long)d);
                return false;
            }
            if (d > XF_SLIT_MAX_DISTANCE) {
                snprintf(reason, len,
                         "the SLIT is invalid: distances[%u][%u] = %lld is above %u (255, "
                         "4294967295 and -1 mean unreachable)",
                         i, j, (long long)d, XF_SLIT_MAX_DISTANCE);
                return false;
            }
        }
    }
    return true;
}

static int check_spec(const struct xf_topology_spec *spec, char *errbuf, size_t errlen)
{
    uint32_t n = spec->nr_nodes;
    uint32_t cpus[XF_MAX_NODES] = {0};

    if (n == 0)
        return xf__topology_fail(errbuf, errlen, XF_EBADTOPO, "distances: no nodes");
    if (n > XF_MAX_NODES)
        return xf__topology_fail(errbuf, errlen, XF_EBADTOPO,
                                 "distances: %u nodes, at most %u are supported", n, XF_MAX_NODES);
    if (!spec->distances || !spec->node_cores || !spec->node_free_mib ||
        (spec->nr_cpus && !spec->cpu_to_node))
        return xf__topology_fail(errbuf, errlen, XF_EINVAL, "topology: missing array");
    if (spec->nr_cpus > XF_MAX_CPUS)
        return xf__topology_fail(errbuf, errlen, XF_EBADTOPO,
                                 "cpu_to_node: %u CPUs, at most %u are supported", spec->nr_cpus,
                                 XF_MAX_CPUS);
    for (uint32_t c = 0; c < spec->nr_cpus; c++) {
        uint32_t node = spec->cpu_to_node[c];
        if (node == XF_CPU_OFFLINE)
            continue;
        if (node >= n)
            return xf__topology_fail(errbuf, errlen, XF_EBADTOPO,
                                     "cpu_to_node[%u] = %u: there are only %u nodes", c, node, n);
        cpus[node]++;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (spec->node_cores[i] > cpus[i])
            return xf__topology_fail(errbuf, errlen, XF_EBADTOPO,
                                     "node_cores[%u] = %u: the node has only %u CPUs", i,
                                     spec->node_cores[i], cpus[i]);
        if (spec->node_free_mib[i] > XF_NODE_FREE_MIB_MAX)
            return xf__topology_fail(errbuf, errlen, XF_EBADTOPO,
                                     "node_free_mib[%u] = %llu: above the limit of %llu MiB", i,
                                     (unsigned long long)spec->node_free_mib[i],
                                     (unsigned long long)XF_NODE_FREE_MIB_MAX);
    }
    return 0;
}

/* Fills the distance tables, the reachable set and the NUMA status. */
static void load_distances(struct xf_topology *t, const struct xf_topology_spec *spec)
{
    uint32_t n = t->nr_nodes;
    bool valid = slit_valid(spec, t->reason, sizeof(t->reason));

    t->dsym_min = 2 * XF_SLIT_LOCAL;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++) {
            int64_t d = spec->distances[(size_t)i * n + j];
            t->dist[i][j] = valid && !is_unreachable(d) ? (uint32_t)d : XF_TOPOLOGY_UNREACHABLE;
        }
    if (!valid) {
        t->status = XF_NUMA_OFF_SLIT_INVALID;
        return;
    }
    /* NUMA.gen_candidates keeps the nodes whose own distance is reachable. */
    for (uint32_t i = 0; i < n; i++)
        if (t->dist[i][i] == XF_SLIT_LOCAL)
            t->reachable |= UINT64_C(1) << i;
    t->nr_reachable = xf__popcount64(t->reachable);
    bool first = true;
    for (uint64_t m = t->reachable; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        for (uint64_t r = t->reachable; r; r &= r - 1) {
            unsigned j = xf__ctz64(r);
            if (t->dist[i][j] == XF_TOPOLOGY_UNREACHABLE ||
                t->dist[j][i] == XF_TOPOLOGY_UNREACHABLE)
                continue;
            t->adj[i] |= UINT64_C(1) << j;
            t->dsym[i][j] = t->dist[i][j] + t->dist[j][i];
            t->dmax[i][j] =
                (uint16_t)(t->dist[i][j] > t->dist[j][i] ? t->dist[i][j] : t->dist[j][i]);
            if (i != j && (first || t->dsym[i][j] < t->dsym_min)) {
                t->dsym_min = t->dsym[i][j];
                first = false;
            }
        }
    }
    if (t->nr_reachable == 0) {
        t->status = XF_NUMA_OFF_NO_REACHABLE;
        snprintf(t->reason, sizeof(t->reason),
                 "every node is unreachable in the SLIT (its distance to itself is 255, "
                 "4294967295 or -1)");
    }
}

/* CPUs and cores per node, the nibble tables, the per-node CPU bitmaps. */
static int load_cpus(struct xf_topology *t, const struct xf_topology_spec *spec)
{
    uint32_t n = t->nr_nodes;

    t->nr_cpu_words = (spec->nr_cpus + 63u) / 64u;
    t->cpu_to_node = xf__calloc(spec->nr_cpus, sizeof(*t->cpu_to_node));
    t->node_cpu_bits =
        xf__calloc((size_t)n * (t->nr_cpu_words ? t->nr_cpu_words : 1), sizeof(*t->node_cpu_bits));
    if (!t->cpu_to_node || !t->node_cpu_bits)
        return XF_ENOMEM;
    for (uint32_t c = 0; c < spec->nr_cpus; c++) {
        uint32_t node = spec->cpu_to_node[c];
        t->cpu_to_node[c] = node;
        if (node == XF_CPU_OFFLINE)
            continue;
        t->node_cpus[node]++;
        t->all_cpus++;
        t->node_cpu_bits[(size_t)node * t->nr_cpu_words + c / 64u] |= UINT64_C(1) << (c % 64u);
    }
    for (uint32_t i = 0; i < n; i++) {
        t->node_cores[i] = spec->node_cores[i];
        t->node_free_mib[i] = spec->node_free_mib[i];
        if (!(t->reachable >> i & 1u))
            continue;
        t->host_cpus += t->node_cpus[i];
        t->host_cores += t->node_cores[i];
    }
    /* Nibble tables over the reachable nodes only: an unreachable node
     * contributes nothing to a set's resources (NUMA.make drops its CPUs). */
    for (unsigned q = 0; q < XF__NIBBLES; q++)
        for (unsigned v = 0; v < 16; v++)
            for (unsigned b = 0; b < 4; b++) {
                unsigned node = 4 * q + b;
                if (!(v >> b & 1u) || node >= n || !(t->reachable >> node & 1u))
                    continue;
                t->cpu_tab[q][v] += t->node_cpus[node];
                t->core_tab[q][v] += t->node_cores[node];
            }
    if (t->status == XF_NUMA_ON && t->host_cpus == 0) {
        t->status = XF_NUMA_OFF_NO_CPUS;
        snprintf(t->reason, sizeof(t->reason), "no reachable node has a CPU");
    }
    return 0;
}

int xf_topology_new(const struct xf_topology_spec *spec, char *errbuf, size_t errlen,
                    struct xf_topology **ret)
{
    struct xf_topology *t;
    int r;

    if (!spec || !ret)
        return XF_EINVAL;
    r = check_spec(spec, errbuf, errlen);
    if (r < 0)
        return r;
    t = xf__calloc(1, sizeof(*t));
    if (!t)
        return XF_ENOMEM;
    t->nr_nodes = spec->nr_nodes;
    t->nr_cpus = spec->nr_cpus;
    t->status = XF_NUMA_ON;
    load_distances(t, spec);
    r = load_cpus(t, spec);
    if (r < 0)
        goto fail;
    if (t->status == XF_NUMA_ON) {
        r = xf__topology_build_sets(t);
        if (r < 0)
            goto fail;
    }
    *ret = t;
    return 0;
fail:
    xf_topology_free(t);
    return r;
}

void xf_topology_free(struct xf_topology *topo)
{
    if (!topo)
        return;
    xf__topology_free_sets(topo);
    xf__free(topo->cpu_to_node);
    xf__free(topo->node_cpu_bits);
    xf__free(topo);
}

uint32_t xf_topology_nr_nodes(const struct xf_topology *topo)
{
    return topo->nr_nodes;
}

uint32_t xf_topology_nr_cpus(const struct xf_topology *topo)
{
    return topo->nr_cpus;
}

uint64_t xf_topology_reachable(const struct xf_topology *topo)
{
    return topo->reachable;
}

enum xf_numa_status xf_topology_numa_status(const struct xf_topology *topo)
{
    return topo->status;
}

const char *xf_topology_numa_reason(const struct xf_topology *topo)
{
    return topo->status == XF_NUMA_ON ? "" : topo->reason;
}

uint32_t xf_topology_distance(const struct xf_topology *topo, uint32_t i, uint32_t j)
{
    if (i >= topo->nr_nodes || j >= topo->nr_nodes)
        return 0;
    return topo->dist[i][j];
}

uint32_t xf_topology_node_cpus(const struct xf_topology *topo, uint32_t node)
{
    return node < topo->nr_nodes ? topo->node_cpus[node] : 0;
}

uint32_t xf_topology_node_cores(const struct xf_topology *topo, uint32_t node)
{
    return node < topo->nr_nodes ? topo->node_cores[node] : 0;
}

uint64_t xf_topology_node_free_mib(const struct xf_topology *topo, uint32_t node)
{
    return node < topo->nr_nodes ? topo->node_free_mib[node] : 0;
}

uint32_t xf_topology_cpu_node(const struct xf_topology *topo, uint32_t cpu)
{
    return cpu < topo->nr_cpus ? topo->cpu_to_node[cpu] : XF_CPU_OFFLINE;
}

size_t xf_topology_nr_candidates(const struct xf_topology *topo)
{
    return topo->nr_cands;
}

size_t xf_topology_nr_tiers(const struct xf_topology *topo)
{
    return topo->nr_tiers;
}

int xf_topology_candidate(const struct xf_topology *topo, size_t index,
                          struct xf_topology_candidate *ret)
{
    const struct xf__tier *tier;
    uint64_t nodes;
    uint32_t k, sum = 0;

    if (index >= topo->nr_cands)
        return XF_ERANGE;
    {
        /* The last tier starting at or before index. */
        size_t lo = 0, hi = topo->nr_tiers - 1;
        while (lo < hi) {
            size_t mid = (lo + hi + 1) / 2;
            if (topo->tiers[mid].first <= index)
                lo = mid;
            else
                hi = mid - 1;
        }
        tier = &topo->tiers[lo];
        ret->tier = (uint32_t)lo;
    }
    nodes = xf__cand_nodes(topo, topo->cands[index]);
    k = xf__popcount64(nodes);
    for (uint64_t m = nodes; m; m &= m - 1)
        for (uint64_t r = nodes; r; r &= r - 1)
            sum += topo->dist[xf__ctz64(m)][xf__ctz64(r)];
    ret->nodes = nodes;
    ret->max_distance = tier->max_distance;
    ret->distance_sum = sum;
    ret->avg_distance = (double)sum / (double)(k * k);
    ret->cpus = xf__cand_cpus(topo, topo->cands[index]);
    ret->cores = xf__cand_cores(topo, topo->cands[index]);
    return 0;
}
