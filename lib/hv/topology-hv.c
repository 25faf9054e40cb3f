/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * A NUMA topology for the planner, read from a backend: numainfo's distances
 * and free memory, cputopoinfo's CPU-to-node map, and the physical cores per
 * node counted as distinct (socket, core) pairs among each node's CPUs.
 */
#include <string.h>

#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/topology.h"
#include "xenfit/units.h"

#define MAX_CPUS XF_MAX_CPUS

int xf_topology_read(struct xf_hv *hv, struct xf_topology **ret, uint64_t *ret_max_node_free_pages)
{
    struct xf_node_mem nodes[XF_MAX_NODES];
    struct xf_hv_cpu_topo *cpus = NULL;
    uint32_t *raw = NULL, *cpu_to_node = NULL, cores[XF_MAX_NODES];
    int64_t *dist = NULL;
    uint64_t free_mib[XF_MAX_NODES], max_free = 0;
    uint32_t nr_nodes = 0, nr_cpus = 0;
    char errbuf[160];
    int r = XF_ENOMEM;

    raw = xf__calloc(XF_MAX_NODES * XF_MAX_NODES, sizeof(*raw));
    dist = xf__calloc(XF_MAX_NODES * XF_MAX_NODES, sizeof(*dist));
    cpus = xf__calloc(MAX_CPUS, sizeof(*cpus));
    cpu_to_node = xf__calloc(MAX_CPUS, sizeof(*cpu_to_node));
    if (!raw || !dist || !cpus || !cpu_to_node)
        goto out;
    if ((r = xf_hv_numainfo(hv, XF_MAX_NODES, nodes, raw, &nr_nodes)) < 0 ||
        (r = xf_hv_cputopo(hv, MAX_CPUS, cpus, &nr_cpus)) < 0)
        goto out;
    if (nr_nodes == 0 || nr_nodes > XF_MAX_NODES || nr_cpus > MAX_CPUS) {
        r = XF_EBADTOPO;
        goto out;
    }
    for (uint32_t i = 0; i < nr_nodes; i++) {
        for (uint32_t j = 0; j < nr_nodes; j++) {
            uint32_t v = raw[i * XF_MAX_NODES + j];
            dist[i * nr_nodes + j] = v == XF_DIST_UNREACHABLE ? 255 : (int64_t)v;
        }
        free_mib[i] = xf_mib_of_pages_free(nodes[i].memfree_pages);
        if (free_mib[i] > XF_NODE_FREE_MIB_MAX)
            free_mib[i] = XF_NODE_FREE_MIB_MAX;
        if (nodes[i].memfree_pages > max_free)
            max_free = nodes[i].memfree_pages;
        cores[i] = 0;
        for (uint32_t c = 0; c < nr_cpus; c++) {
            uint32_t k;
            if (cpus[c].node != i)
                continue;
            for (k = 0; k < c; k++)
                if (cpus[k].node == i && cpus[k].socket == cpus[c].socket &&
                    cpus[k].core == cpus[c].core)
                    break;
            cores[i] += k == c;
        }
    }
    for (uint32_t c = 0; c < nr_cpus; c++)
        cpu_to_node[c] = cpus[c].node < nr_nodes ? cpus[c].node : XF_CPU_OFFLINE;
    struct xf_topology_spec ts = {.nr_nodes = nr_nodes,
                                  .distances = dist,
                                  .nr_cpus = nr_cpus,
                                  .cpu_to_node = cpu_to_node,
                                  .node_cores = cores,
                                  .node_free_mib = free_mib};
    r = xf_topology_new(&ts, errbuf, sizeof(errbuf), ret);
    if (r == 0 && ret_max_node_free_pages)
        *ret_max_node_free_pages = max_free;
out:
    xf__free(raw);
    xf__free(dist);
    xf__free(cpus);
    xf__free(cpu_to_node);
    return r;
}
