/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The JSON form of a topology snapshot (docs/topology.md), parsed with
 * jansson from a memory buffer into a struct xf_topology_spec. Every error
 * names the field (and index) at fault. Keys other than the four documented
 * ones are ignored, so that producers may add their own.
 */
#include <jansson.h>

#include "internal.h"
#include "topology-internal.h"
#include "xenfit/error.h"
#include "xenfit/topology.h"

struct parsed {
    uint32_t nr_nodes;
    uint32_t nr_cpus;
    int64_t *distances;
    uint32_t *cpu_to_node;
    uint32_t *node_cores;
    uint64_t *node_free_mib;
};

static int get_array(const json_t *root, const char *key, char *errbuf, size_t errlen,
                     const json_t **ret)
{
    const json_t *a = json_object_get(root, key);
    if (!a)
        return xf__topology_fail(errbuf, errlen, XF_EPARSE, "%s: missing", key);
    if (!json_is_array(a))
        return xf__topology_fail(errbuf, errlen, XF_EPARSE, "%s: expected an array", key);
    *ret = a;
    return 0;
}

static int parse_distances(const json_t *root, struct parsed *p, char *errbuf, size_t errlen)
{
    const json_t *rows;
    size_t n;
    int r = get_array(root, "distances", errbuf, errlen, &rows);

    if (r < 0)
        return r;
    n = json_array_size(rows);
    if (n == 0)
        return xf__topology_fail(errbuf, errlen, XF_EBADTOPO, "distances: no nodes");
    if (n > XF_MAX_NODES)
        return xf__topology_fail(errbuf, errlen, XF_EBADTOPO,
                                 "distances: %zu nodes, at most %u are supported", n, XF_MAX_NODES);
    p->nr_nodes = (uint32_t)n;
    p->distances = xf__calloc(n * n, sizeof(*p->distances));
    if (!p->distances)
        return XF_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *row = json_array_get(rows, i);
        if (!json_is_array(row))
            return xf__topology_fail(errbuf, errlen, XF_EPARSE, "distances[%zu]: expected an array",
                                     i);
        if (json_array_size(row) != n)
            return xf__topology_fail(
                errbuf, errlen, XF_EBADTOPO,
                "distances[%zu]: %zu entries, expected %zu (the matrix must be square)", i,
                json_array_size(row), n);
        for (size_t j = 0; j < n; j++) {
            const json_t *v = json_array_get(row, j);
            if (!json_is_integer(v))
                return xf__topology_fail(errbuf, errlen, XF_EPARSE,
                                         "distances[%zu][%zu]: expected an integer", i, j);
            p->distances[i * n + j] = (int64_t)json_integer_value(v);
        }
    }
    return 0;
}

static int parse_cpus(const json_t *root, struct parsed *p, char *errbuf, size_t errlen)
{
    const json_t *a;
    size_t n;
    int r = get_array(root, "cpu_to_node", errbuf, errlen, &a);

    if (r < 0)
        return r;
    n = json_array_size(a);
    if (n > XF_MAX_CPUS)
        return xf__topology_fail(errbuf, errlen, XF_EBADTOPO,
                                 "cpu_to_node: %zu CPUs, at most %u are supported", n, XF_MAX_CPUS);
    p->nr_cpus = (uint32_t)n;
    p->cpu_to_node = xf__calloc(n, sizeof(*p->cpu_to_node));
    if (!p->cpu_to_node)
        return XF_ENOMEM;
    for (size_t c = 0; c < n; c++) {
        const json_t *v = json_array_get(a, c);
        json_int_t node;
        if (!json_is_integer(v))
            return xf__topology_fail(errbuf, errlen, XF_EPARSE,
                                     "cpu_to_node[%zu]: expected an integer", c);
        node = json_integer_value(v);
        /* Xen reports an offline CPU's node as XEN_INVALID_NODE_ID (~0U). */
        if (node == -1 || node == (json_int_t)XF_CPU_OFFLINE) {
            p->cpu_to_node[c] = XF_CPU_OFFLINE;
            continue;
        }
        if (node < 0 || node >= (json_int_t)p->nr_nodes)
            return xf__topology_fail(
                errbuf, errlen, XF_EBADTOPO,
                "cpu_to_node[%zu] = %lld: there are only %u nodes (-1 for offline)", c,
                (long long)node, p->nr_nodes);
        p->cpu_to_node[c] = (uint32_t)node;
    }
    return 0;
}

/* An array of nr_nodes non-negative integers up to max. */
static int parse_per_node(const json_t *root, const char *key, uint32_t nr_nodes, uint64_t max,
                          uint64_t *ret, char *errbuf, size_t errlen)
{
    const json_t *a;
    int r = get_array(root, key, errbuf, errlen, &a);

    if (r < 0)
        return r;
    if (json_array_size(a) != nr_nodes)
        return xf__topology_fail(errbuf, errlen, XF_EBADTOPO,
                                 "%s: %zu entries, expected %u (one per row of distances)", key,
                                 json_array_size(a), nr_nodes);
    for (uint32_t i = 0; i < nr_nodes; i++) {
        const json_t *v = json_array_get(a, i);
        json_int_t x;
        if (!json_is_integer(v))
            return xf__topology_fail(errbuf, errlen, XF_EPARSE, "%s[%u]: expected an integer", key,
                                     i);
        x = json_integer_value(v);
        if (x < 0 || (uint64_t)x > max)
            return xf__topology_fail(errbuf, errlen, XF_EBADTOPO, "%s[%u] = %lld: expected 0..%llu",
                                     key, i, (long long)x, (unsigned long long)max);
        ret[i] = (uint64_t)x;
    }
    return 0;
}

int xf_topology_new_from_json(const char *buf, size_t len, char *errbuf, size_t errlen,
                              struct xf_topology **ret)
{
    struct parsed p = {0};
    uint64_t cores[XF_MAX_NODES];
    uint32_t cores32[XF_MAX_NODES];
    json_error_t jerr;
    json_t *root;
    int r;

    if (!buf || !ret)
        return XF_EINVAL;
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return xf__topology_fail(errbuf, errlen, XF_EPARSE, "not JSON: %s (line %d, column %d)",
                                 jerr.text, jerr.line, jerr.column);
    if (!json_is_object(root)) {
        r = xf__topology_fail(errbuf, errlen, XF_EPARSE, "topology: expected a JSON object");
        goto out;
    }
    r = parse_distances(root, &p, errbuf, errlen);
    if (r < 0)
        goto out;
    r = parse_cpus(root, &p, errbuf, errlen);
    if (r < 0)
        goto out;
    p.node_free_mib = xf__calloc(p.nr_nodes, sizeof(*p.node_free_mib));
    if (!p.node_free_mib) {
        r = XF_ENOMEM;
        goto out;
    }
    r = parse_per_node(root, "node_cores", p.nr_nodes, XF_MAX_CPUS, cores, errbuf, errlen);
    if (r < 0)
        goto out;
    r = parse_per_node(root, "node_free_mib", p.nr_nodes, XF_NODE_FREE_MIB_MAX, p.node_free_mib,
                       errbuf, errlen);
    if (r < 0)
        goto out;
    for (uint32_t i = 0; i < p.nr_nodes; i++)
        cores32[i] = (uint32_t)cores[i];
    {
        const struct xf_topology_spec spec = {
            .nr_nodes = p.nr_nodes,
            .distances = p.distances,
            .nr_cpus = p.nr_cpus,
            .cpu_to_node = p.cpu_to_node,
            .node_cores = cores32,
            .node_free_mib = p.node_free_mib,
        };
        r = xf_topology_new(&spec, errbuf, errlen, ret);
    }
out:
    json_decref(root);
    xf__free(p.distances);
    xf__free(p.cpu_to_node);
    xf__free(p.node_free_mib);
    return r;
}
