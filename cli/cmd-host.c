/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfit host show: what `xl info` and `xl info -n` print for a host, read
 * through the hypervisor interface from a backend (xf_hv_open: the simulator
 * booted from a host spec, --host SPEC.json, or --backend xen). --json prints the topology
 * snapshot the NUMA planner reads (distances, cpu_to_node, node_cores,
 * node_free_mib) with the numbers behind it.
 *
 * Memory free for new VMs comes from the library's accounting
 * (xf_host_free_for_new_vm, include/xenfit/host.h), as `xenfit admit` and
 * xenfitd compute it: per node, memfree - claimed - free DMA-zone memory,
 * capped by the host figure; host-wide, free_pages - outstanding claims -
 * Xen's low-memory reserve. MiB round down ("free").
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xenfit/error.h"
#include "xenfit/host.h"
#include "xenfit/hv.h"
#include "xenfit/topology.h"
#include "xenfit/units.h"

static const char *const CMD = "host";

void xf_usage_host(void)
{
    printf("Usage: xenfit host show --host SPEC.json [--backend sim] [--json]\n"
           "       xenfit host show --backend xen [--json]   (as root in a Xen dom0)\n\n"
           "Prints what `xl info` and `xl info -n` would print for the host: total, free\n"
           "and claimed memory, the CPU topology, and per node memsize, memfree, claimed\n"
           "and distances, in MiB (free_memory = (free_pages - outstanding) / 256, rounded\n"
           "down, as xl does). Then xenfit's own numbers: the DMA zone and the memory free\n"
           "for new VMs per node.\n\n"
           "  --host SPEC.json   a host spec (docs/host-spec.md); the simulator boots it\n"
           "  --backend NAME     the hypervisor backend: sim (default), or xen, the host\n"
           "                     this runs on (only in builds with libxenctrl)\n"
           "  --json             the topology snapshot for the NUMA planner:\n"
           "                     distances, cpu_to_node, node_cores, node_free_mib, plus\n"
           "                     name, backend, total_mib, free_mib, outstanding_claims_mib,\n"
           "                     low_mem_reserve_mib, host_free_mib, node_memsize_mib,\n"
           "                     node_memfree_mib, node_claimed_mib, node_dma_free_mib\n\n"
           "A malformed or inconsistent spec is refused naming the field (exit 2).\n");
}

/* Everything `host show` prints, read from a backend. */
struct host_view {
    char name[64];
    const char *backend;
    struct xf_hv_physinfo phys;
    uint32_t nr_nodes, nr_cpus;
    struct xf_node_mem nodes[XF_MAX_NODES];
    uint32_t dist[XF_MAX_NODES * XF_MAX_NODES];
    struct xf_hv_cpu_topo *cpus;
    uint64_t reserve_pages;
    uint64_t node_free_pages[XF_MAX_NODES];
    uint32_t node_cores[XF_MAX_NODES];
    uint64_t host_free_pages;
};

static uint64_t sub0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* What `xl info` shows: physinfo, numainfo and the CPU map, as reported. */
static int read_raw(struct xf_hv *hv, struct host_view *v)
{
    uint32_t n;
    int r;

    if ((r = xf_hv_physinfo(hv, &v->phys)) ||
        (r = xf_hv_numainfo(hv, XF_MAX_NODES, v->nodes, v->dist, &v->nr_nodes)))
        return xf_cli_failure(CMD, "reading the host: %s", xf_strerror(r));
    if (v->nr_nodes > XF_MAX_NODES)
        return xf_cli_failure(CMD, "%u nodes: more than %u", v->nr_nodes, XF_MAX_NODES);
    if ((r = xf_hv_cputopo(hv, 0, NULL, &v->nr_cpus)))
        return xf_cli_failure(CMD, "reading the CPU topology: %s", xf_strerror(r));
    v->cpus = calloc(v->nr_cpus ? v->nr_cpus : 1, sizeof(*v->cpus));
    if (!v->cpus)
        return xf_cli_failure(CMD, "out of memory");
    if ((r = xf_hv_cputopo(hv, v->nr_cpus, v->cpus, &n)) || n != v->nr_cpus)
        return xf_cli_failure(CMD, "reading the CPU topology: %s", xf_strerror(r ? r : XF_EPROTO));
    return 0;
}

/*
 * xenfit's own numbers, with the library's rules, so that `host show`,
 * `admit` and xenfitd cannot disagree: the host parameters the backend
 * reports (xf_host_params_read), the memory free for a new VM host-wide and
 * per node (xf_host_free_for_new_vm; no reservations here), and the cores per
 * node as the planner counts them (xf_topology_read).
 */
static int read_accounting(struct xf_hv *hv, struct host_view *v)
{
    struct xf_hv_host_params hvp;
    struct xf_host_snapshot snap;
    struct xf_host_params hp;
    struct xf_host_free f;
    struct xf_topology *topo = NULL;
    int r;

    r = xf_hv_host_params(hv, &hvp);
    if (r == 0)
        memcpy(v->name, hvp.name, sizeof(v->name));
    else if (r != XF_ENOSYS)
        return xf_cli_failure(CMD, "reading the host's parameters: %s", xf_strerror(r));
    if ((r = xf_host_params_read(hv, &hp)))
        return xf_cli_failure(CMD, "reading the host's parameters: %s", xf_strerror(r));
    if ((r = xf_host_snapshot_read(hv, &snap)))
        return xf_cli_failure(CMD, "reading the host: %s", xf_strerror(r));
    r = xf_host_free_for_new_vm(&snap, NULL, &hp, &f);
    xf_host_snapshot_done(&snap);
    if (r)
        return xf_cli_failure(CMD, "accounting the host: %s", xf_strerror(r));
    if ((r = xf_topology_read(hv, &topo, NULL)))
        return xf_cli_failure(CMD, "reading the topology: %s", xf_strerror(r));
    v->reserve_pages = f.reserve_pages;
    v->host_free_pages = f.host_free_pages;
    for (uint32_t i = 0; i < v->nr_nodes; i++) {
        v->node_free_pages[i] = f.node_free_pages[i];
        v->node_cores[i] = xf_topology_node_cores(topo, i);
    }
    xf_topology_free(topo);
    return 0;
}

static int read_view(struct xf_hv *hv, struct host_view *v)
{
    int r = read_raw(hv, v);
    return r ? r : read_accounting(hv, v);
}

static uint64_t mib(uint64_t pages)
{
    return xf_mib_of_pages_free(pages);
}

static void print_text(const struct host_view *v)
{
    uint32_t sockets = 0, max_threads = 0, cores_socket0 = 0;

    for (uint32_t c = 0; c < v->nr_cpus; c++) {
        uint32_t threads = 0;
        if (v->cpus[c].socket + 1 > sockets)
            sockets = v->cpus[c].socket + 1;
        for (uint32_t k = 0; k < v->nr_cpus; k++)
            threads += v->cpus[k].socket == v->cpus[c].socket && v->cpus[k].core == v->cpus[c].core;
        if (threads > max_threads)
            max_threads = threads;
        if (v->cpus[c].socket == 0 && v->cpus[c].core + 1 > cores_socket0)
            cores_socket0 = v->cpus[c].core + 1;
    }
    printf("host                   : %s\n", v->name[0] ? v->name : "(unnamed)");
    printf("backend                : %s\n", v->backend);
    printf("nr_cpus                : %u\n", v->phys.nr_cpus);
    printf("nr_nodes               : %u\n", v->phys.nr_nodes);
    printf("cores_per_socket       : %u\n", cores_socket0);
    printf("threads_per_core       : %u\n", max_threads);
    printf("total_memory           : %llu\n", (unsigned long long)mib(v->phys.total_pages));
    printf("free_memory            : %llu\n",
           (unsigned long long)mib(sub0(v->phys.free_pages, v->phys.outstanding_pages)));
    printf("outstanding_claims     : %llu\n", (unsigned long long)mib(v->phys.outstanding_pages));
    printf("cpu_topology           :\n");
    printf("cpu:    core    socket     node\n");
    for (uint32_t c = 0; c < v->nr_cpus; c++)
        printf("%3u:    %4u     %4u     %4u\n", c, v->cpus[c].core, v->cpus[c].socket,
               v->cpus[c].node);
    printf("numa_info              :\n");
    printf("node:    memsize    memfree    claimed    distances\n");
    for (uint32_t i = 0; i < v->nr_nodes; i++) {
        printf("%4u:    %6llu     %6llu     %6llu      ", i,
               (unsigned long long)mib(v->nodes[i].memsize_pages),
               (unsigned long long)mib(v->nodes[i].memfree_pages),
               (unsigned long long)mib(v->nodes[i].claimed_pages));
        for (uint32_t j = 0; j < v->nr_nodes; j++)
            printf(j ? ",%d" : "%d", (int)v->dist[(size_t)i * XF_MAX_NODES + j]);
        printf("\n");
    }
    printf("xenfit                 :\n");
    printf("low_mem_reserve        : %llu\n", (unsigned long long)mib(v->reserve_pages));
    printf("free_for_new_vms       : %llu\n", (unsigned long long)mib(v->host_free_pages));
    printf("node:   dma_free    free_for_new_vms    cores\n");
    for (uint32_t i = 0; i < v->nr_nodes; i++)
        printf("%4u:     %6llu              %6llu     %4u\n", i,
               (unsigned long long)mib(v->nodes[i].dma_free_pages),
               (unsigned long long)mib(v->node_free_pages[i]), v->node_cores[i]);
}

static json_t *node_array(const struct host_view *v, size_t offset)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < v->nr_nodes; i++) {
        const uint64_t *p = (const uint64_t *)((const char *)&v->nodes[i] + offset);
        json_array_append_new(a, json_integer((json_int_t)mib(*p)));
    }
    return a;
}

static int print_json(const struct host_view *v)
{
    json_t *o = json_object(), *dist = json_array(), *c2n = json_array(), *cores = json_array(),
           *nfree = json_array();

    for (uint32_t i = 0; i < v->nr_nodes; i++) {
        json_t *row = json_array();
        for (uint32_t j = 0; j < v->nr_nodes; j++) {
            uint32_t d = v->dist[(size_t)i * XF_MAX_NODES + j];
            json_array_append_new(row, json_integer(d == XF_DIST_UNREACHABLE ? 255 : d));
        }
        json_array_append_new(dist, row);
        json_array_append_new(cores, json_integer(v->node_cores[i]));
        json_array_append_new(nfree, json_integer((json_int_t)mib(v->node_free_pages[i])));
    }
    for (uint32_t c = 0; c < v->nr_cpus; c++)
        json_array_append_new(c2n, json_integer(v->cpus[c].node));
    json_object_set_new(o, "distances", dist);
    json_object_set_new(o, "cpu_to_node", c2n);
    json_object_set_new(o, "node_cores", cores);
    json_object_set_new(o, "node_free_mib", nfree);
    json_object_set_new(o, "name", json_string(v->name));
    json_object_set_new(o, "backend", json_string(v->backend));
    json_object_set_new(o, "total_mib", json_integer((json_int_t)mib(v->phys.total_pages)));
    json_object_set_new(
        o, "free_mib",
        json_integer((json_int_t)mib(sub0(v->phys.free_pages, v->phys.outstanding_pages))));
    json_object_set_new(o, "outstanding_claims_mib",
                        json_integer((json_int_t)mib(v->phys.outstanding_pages)));
    json_object_set_new(o, "low_mem_reserve_mib", json_integer((json_int_t)mib(v->reserve_pages)));
    json_object_set_new(o, "host_free_mib", json_integer((json_int_t)mib(v->host_free_pages)));
    json_object_set_new(o, "node_memsize_mib",
                        node_array(v, offsetof(struct xf_node_mem, memsize_pages)));
    json_object_set_new(o, "node_memfree_mib",
                        node_array(v, offsetof(struct xf_node_mem, memfree_pages)));
    json_object_set_new(o, "node_claimed_mib",
                        node_array(v, offsetof(struct xf_node_mem, claimed_pages)));
    json_object_set_new(o, "node_dma_free_mib",
                        node_array(v, offsetof(struct xf_node_mem, dma_free_pages)));
    return xf_cli_print_json(o);
}

enum { OPT_HOST = 256, OPT_BACKEND, OPT_JSON };

static const struct option options[] = {
    {"host", required_argument, NULL, OPT_HOST},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

int xf_cmd_host(int argc, char **argv)
{
    const char *spec_path = NULL, *backend = "sim";
    struct host_view *v = NULL;
    struct xf_hv *hv = NULL;
    bool json = false;
    int c, r;

    if (argc < 2 || strcmp(argv[1], "show") != 0)
        return xf_cli_usage_error(CMD, "expected 'show' (see 'xenfit host --help')%s%s%s",
                                  argc >= 2 ? ", got '" : "", argc >= 2 ? argv[1] : "",
                                  argc >= 2 ? "'" : "");
    argc--;
    argv++;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_HOST:
            spec_path = optarg;
            break;
        case OPT_BACKEND:
            backend = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        default:
            return xf_cli_bad_option(CMD, argc, argv);
        }
    }
    if (optind < argc)
        return xf_cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if ((r = xf_cli_open_backend(CMD, backend, spec_path, &hv)))
        return r;
    v = calloc(1, sizeof(*v));
    if (!v) {
        r = xf_cli_failure(CMD, "out of memory");
        goto out;
    }
    v->backend = backend;
    if ((r = read_view(hv, v)))
        goto out;
    if (json)
        r = print_json(v);
    else {
        print_text(v);
        r = XF_EXIT_OK;
    }
out:
    if (v)
        free(v->cpus);
    free(v);
    xf_hv_free(hv);
    return r;
}
