/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The nodes a VM from an xl config may be placed on, from its cpus= and
 * cpus_soft= (xf_xl_config_nodes) and the host's CPU-to-node map: a
 * topology read from a backend, or the CPUs xenfitd lists per node
 * (xenfit.host_status).
 */
#include <stdlib.h>

#include "cli.h"
#include "xenfit/topology.h"

int xf_cli_xl_nodes(const char *cmd, const struct xf_xl_config *xl, const struct xf_topology *topo,
                    uint64_t *ret_nodes)
{
    uint32_t nr_cpus = topo ? xf_topology_nr_cpus(topo) : 0;
    uint32_t *map;
    char err[400];
    int r;

    *ret_nodes = 0;
    if (!xl || (!xl->cpus.given && !xl->cpus_soft.given))
        return 0;
    if (!topo)
        return xf_cli_failure(cmd, "the host's topology is unknown: cannot place a VM with cpus=");
    map = calloc(nr_cpus ? nr_cpus : 1, sizeof(*map));
    if (!map)
        return xf_cli_failure(cmd, "out of memory");
    for (uint32_t c = 0; c < nr_cpus; c++)
        map[c] = xf_topology_cpu_node(topo, c);
    r = xf_xl_config_nodes(xl, map, nr_cpus, xf_topology_nr_nodes(topo), ret_nodes, err,
                           sizeof(err));
    free(map);
    if (r < 0)
        return xf_cli_usage_error(cmd, "%s: %s", xl->name[0] ? xl->name : "xl config", err);
    return 0;
}

int xf_cli_xl_nodes_daemon(const char *cmd, const struct xf_xl_config *xl, const char *socket,
                           uint64_t *ret_nodes)
{
    json_t *st = NULL, *node, *cpu;
    uint32_t map[XF_MAX_CPUS], nr_cpus = 0, nr_nodes;
    size_t i, j;
    char err[400];
    int r;

    *ret_nodes = 0;
    if (!xl || (!xl->cpus.given && !xl->cpus_soft.given))
        return 0;
    if ((r = xf_cli_rpc(cmd, socket, "xenfit.host_status", json_pack("[s]", "xenfit-cli"), &st)))
        return r;
    nr_nodes = (uint32_t)json_array_size(json_object_get(st, "nodes"));
    for (i = 0; i < XF_MAX_CPUS; i++)
        map[i] = XF_CPU_OFFLINE;
    json_array_foreach(json_object_get(st, "nodes"), i, node)
    {
        json_array_foreach(json_object_get(node, "cpus"), j, cpu)
        {
            json_int_t c = json_integer_value(cpu);
            if (c >= 0 && c < (json_int_t)XF_MAX_CPUS) {
                map[c] = (uint32_t)i;
                nr_cpus = (uint32_t)c + 1 > nr_cpus ? (uint32_t)c + 1 : nr_cpus;
            }
        }
    }
    json_decref(st);
    r = xf_xl_config_nodes(xl, map, nr_cpus, nr_nodes, ret_nodes, err, sizeof(err));
    if (r < 0)
        return xf_cli_usage_error(cmd, "%s: %s", xl->name[0] ? xl->name : "xl config", err);
    return 0;
}
