/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfit host show: what `xl info` and `xl info -n` print for a host, read
 * through the hypervisor interface from a backend: today the simulator booted
 * from a host spec (--host SPEC.json); the backend table below is where a
 * real-Xen backend (--backend xen) plugs in. --json prints the topology
 * snapshot the NUMA planner reads (distances, cpu_to_node, node_cores,
 * node_free_mib) with the numbers behind it.
 *
 * Memory free for new VMs, per node: memfree - claimed - free DMA-zone
 * memory (Xen hands the DMA zone out last), and Xen's low-memory reserve
 * (low_mem_virq_limit) counts against the DMA zone first, any remainder
 * against node 0, then node 1, and so on. Host-wide: free_pages -
 * outstanding claims - reserve. MiB round down ("free").
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/sim.h"
#include "xenfit/units.h"
#ifdef HAVE_LIBXENCTRL
#include "xenfit/hv-xen.h"
#endif

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
    const char *name;
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

static int open_sim(const char *spec_path, struct xf_hv **ret)
{
    struct xf_parse_error perr;
    char *buf;
    size_t len;
    int r;

    if (!spec_path)
        return xf_cli_usage_error(CMD, "--host SPEC.json is required");
    if ((r = xf_cli_read_file(CMD, spec_path, &buf, &len)))
        return r;
    r = xf_sim_new_from_json(buf, len, NULL, ret, &perr);
    free(buf);
    if (r == XF_EBADSPEC && perr.line)
        return xf_cli_usage_error(CMD, "%s:%zu: %s", spec_path, perr.line, perr.message);
    if (r == XF_EBADSPEC)
        return xf_cli_usage_error(CMD, "%s: %s", spec_path, perr.message);
    if (r < 0)
        return xf_cli_failure(CMD, "%s: %s", spec_path, xf_strerror(r));
    return 0;
}

#ifdef HAVE_LIBXENCTRL
/* The Xen host this runs on (as root in dom0): no spec. */
static int open_xen(const char *spec_path, struct xf_hv **ret)
{
    int r;

    if (spec_path)
        return xf_cli_usage_error(CMD, "--host '%s': --backend xen reads the host it runs on",
                                  spec_path);
    if ((r = xf_hv_xen_open(ret)) < 0)
        return xf_cli_failure(CMD, "opening Xen: %s (root in a Xen dom0 is needed)",
                              xf_strerror(r));
    return 0;
}
#endif

/* Backends `host show` can open. */
static const struct {
    const char *name;
    int (*open)(const char *spec_path, struct xf_hv **ret);
} openers[] = {
    {"sim", open_sim},
#ifdef HAVE_LIBXENCTRL
    {"xen", open_xen},
#define BACKENDS_BUILT "sim, xen"
#else
#define BACKENDS_BUILT "sim"
#endif
};

static uint64_t sub0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

static void compute_free(struct host_view *v)
{
    uint64_t dma_total = 0, left;

    for (uint32_t i = 0; i < v->nr_nodes; i++) {
        const struct xf_node_mem *n = &v->nodes[i];
        v->node_free_pages[i] = sub0(sub0(n->memfree_pages, n->claimed_pages), n->dma_free_pages);
        dma_total += n->dma_free_pages;
    }
    left = sub0(v->reserve_pages, dma_total);
    for (uint32_t i = 0; i < v->nr_nodes && left; i++) {
        uint64_t take = v->node_free_pages[i] < left ? v->node_free_pages[i] : left;
        v->node_free_pages[i] -= take;
        left -= take;
    }
    v->host_free_pages =
        sub0(sub0(v->phys.free_pages, v->phys.outstanding_pages), v->reserve_pages);
    for (uint32_t c = 0; c < v->nr_cpus; c++) {
        bool seen = false;
        for (uint32_t k = 0; k < c && !seen; k++)
            seen = v->cpus[k].node == v->cpus[c].node && v->cpus[k].socket == v->cpus[c].socket &&
                   v->cpus[k].core == v->cpus[c].core;
        if (!seen && v->cpus[c].node < v->nr_nodes)
            v->node_cores[v->cpus[c].node]++;
    }
}

static int read_view(struct xf_hv *hv, struct host_view *v)
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
    /* Xen's low_mem_virq_limit is not visible through a hypercall: the
     * simulator knows it from its spec; elsewhere assume Xen's default. */
    v->reserve_pages =
        xf_sim_is(hv) ? xf_sim_low_mem_virq_pages(hv) : XF_PAGES_PER_MIB * UINT64_C(64);
    v->name = xf_sim_is(hv) ? xf_sim_spec(hv)->name : "";
    compute_free(v);
    return 0;
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
    size_t which = sizeof(openers) / sizeof(openers[0]);
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
    for (size_t i = 0; i < sizeof(openers) / sizeof(openers[0]); i++)
        if (strcmp(openers[i].name, backend) == 0)
            which = i;
    if (which == sizeof(openers) / sizeof(openers[0]))
        return xf_cli_usage_error(CMD, "--backend '%s': not built in (available: %s)", backend,
                                  BACKENDS_BUILT);
    if ((r = openers[which].open(spec_path, &hv)))
        return r;
    v = calloc(1, sizeof(*v));
    if (!v) {
        r = xf_cli_failure(CMD, "out of memory");
        goto out;
    }
    v->backend = openers[which].name;
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
