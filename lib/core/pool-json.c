/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The pool description (docs/pool.md) turned into a struct xf_pool: each
 * host's xenfit.host_status object gives its free memory, reservations in
 * flight, low-memory reserve and per-node figures (CPUs, and, where the
 * daemon reports them, cores and SLIT distances); the VMs give their
 * footprints and current memory. Every refusal names the value at fault by
 * its path in the document (hosts[2].status.nodes[1].free_for_new_vm_kib).
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "xenfit/admit.h"
#include "xenfit/error.h"
#include "xenfit/host.h"
#include "xenfit/pool.h"

/* What squeezed keeps above Xen's low-memory reserve: extra_mem_to_keep
 * (squeeze_xen.ml), the 8 MiB between XF_XAPI6869_RESERVE_PAGES (72 MiB)
 * and Xen's 64 MiB default, so the two stay one rule. */
#define EXTRA_MEM_TO_KEEP_PAGES (XF_XAPI6869_RESERVE_PAGES - XF_LOW_MEM_RESERVE_PAGES_DEFAULT)

static void message(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void message(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (errbuf && errlen) {
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
}

/* Writes the message and gives the error code. */
#define fail(errbuf, errlen, err, ...) (message((errbuf), (errlen), __VA_ARGS__), (err))

/* A non-negative integer member; absent: *ret = dflt (required: an error). */
static int get_u64(const json_t *o, const char *key, bool required, uint64_t dflt, uint64_t max,
                   const char *path, char *errbuf, size_t errlen, uint64_t *ret)
{
    const json_t *v = json_object_get(o, key);
    *ret = dflt;
    if (!v) {
        if (required)
            return fail(errbuf, errlen, XF_EPARSE, "%s.%s: missing", path, key);
        *ret = dflt;
        return 0;
    }
    if (!json_is_integer(v))
        return fail(errbuf, errlen, XF_EPARSE, "%s.%s: expected an integer", path, key);
    if (json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
        return fail(errbuf, errlen, XF_EINVAL, "%s.%s: %lld is out of range (0..%llu)", path, key,
                    (long long)json_integer_value(v), (unsigned long long)max);
    *ret = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_name(const json_t *o, const char *key, const char *path, char *errbuf, size_t errlen,
                    char ret[XF_POOL_NAME_LEN])
{
    const json_t *v = json_object_get(o, key);
    const char *s;
    if (!v)
        return fail(errbuf, errlen, XF_EPARSE, "%s.%s: missing", path, key);
    if (!json_is_string(v))
        return fail(errbuf, errlen, XF_EPARSE, "%s.%s: expected a string", path, key);
    s = json_string_value(v);
    if (!*s || strlen(s) >= XF_POOL_NAME_LEN)
        return fail(errbuf, errlen, XF_EINVAL, "%s.%s: \"%s\" must be 1..%u characters", path, key,
                    s, XF_POOL_NAME_LEN - 1);
    memcpy(ret, s, strlen(s) + 1);
    return 0;
}

#define KIB_MAX (UINT64_C(1) << 52)

/* The topology of a host from its status nodes: CPUs from "cpus", cores
 * from "cores" (default: one per CPU), distances from "distances" (default:
 * 10 to itself, 20 to others, as a two-socket SLIT). */
static int parse_topology(const json_t *nodes, const char *path, struct xf_pool_host *h,
                          char *errbuf, size_t errlen)
{
    size_t n = json_array_size(nodes), nr_cpus = 0, i, j;
    int64_t *dist = NULL;
    uint32_t *cpu_node = NULL, cores[XF_MAX_NODES];
    struct xf_topology_spec spec;
    char terr[160];
    int r;

    for (i = 0; i < n; i++) {
        const json_t *cpus = json_object_get(json_array_get(nodes, i), "cpus");
        for (j = 0; j < json_array_size(cpus); j++) {
            const json_t *c = json_array_get(cpus, j);
            if (!json_is_integer(c) || json_integer_value(c) < 0 ||
                json_integer_value(c) >= (json_int_t)XF_MAX_CPUS)
                return fail(errbuf, errlen, XF_EINVAL,
                            "%s.nodes[%zu].cpus[%zu]: expected a CPU number 0..%u", path, i, j,
                            XF_MAX_CPUS - 1);
            if ((size_t)json_integer_value(c) + 1 > nr_cpus)
                nr_cpus = (size_t)json_integer_value(c) + 1;
        }
    }
    if (nr_cpus == 0)
        return fail(errbuf, errlen, XF_EINVAL, "%s.nodes: no node lists a CPU (\"cpus\")", path);
    dist = xf__calloc(n * n, sizeof(*dist));
    cpu_node = xf__calloc(nr_cpus, sizeof(*cpu_node));
    if (!dist || !cpu_node) {
        r = XF_ENOMEM;
        goto out;
    }
    for (i = 0; i < nr_cpus; i++)
        cpu_node[i] = XF_CPU_OFFLINE;
    for (i = 0; i < n; i++) {
        const json_t *node = json_array_get(nodes, i), *cpus = json_object_get(node, "cpus"),
                     *d = json_object_get(node, "distances");
        char npath[96];
        uint64_t c;
        snprintf(npath, sizeof(npath), "%s.nodes[%zu]", path, i);
        for (j = 0; j < json_array_size(cpus); j++)
            cpu_node[json_integer_value(json_array_get(cpus, j))] = (uint32_t)i;
        if ((r = get_u64(node, "cores", false, json_array_size(cpus), XF_MAX_CPUS, npath, errbuf,
                         errlen, &c)) < 0)
            goto out;
        cores[i] = (uint32_t)c;
        if (d && (!json_is_array(d) || json_array_size(d) != n)) {
            r = fail(errbuf, errlen, XF_EINVAL, "%s.distances: expected an array of %zu numbers",
                     npath, n);
            goto out;
        }
        for (j = 0; j < n; j++) {
            const json_t *e = d ? json_array_get(d, j) : NULL;
            if (e && !json_is_integer(e)) {
                r = fail(errbuf, errlen, XF_EPARSE, "%s.distances[%zu]: expected an integer", npath,
                         j);
                goto out;
            }
            dist[i * n + j] = e ? json_integer_value(e) : (i == j ? 10 : 20);
        }
    }
    spec = (struct xf_topology_spec){.nr_nodes = (uint32_t)n,
                                     .distances = dist,
                                     .nr_cpus = (uint32_t)nr_cpus,
                                     .cpu_to_node = cpu_node,
                                     .node_cores = cores,
                                     .node_free_mib = h->node_free_mib};
    r = xf_topology_new(&spec, terr, sizeof(terr), &h->topo);
    if (r == XF_EBADTOPO)
        r = fail(errbuf, errlen, r, "%s: %s", path, terr);
out:
    xf__free(dist);
    xf__free(cpu_node);
    return r;
}

static int parse_host(const json_t *o, size_t index, struct xf_pool_host *h, char *errbuf,
                      size_t errlen)
{
    char path[48], spath[64];
    const json_t *st, *nodes;
    uint64_t free_kib, pending_kib, reserve_kib, keep_kib;
    int r;

    snprintf(path, sizeof(path), "hosts[%zu]", index);
    snprintf(spath, sizeof(spath), "%s.status", path);
    if (!json_is_object(o))
        return fail(errbuf, errlen, XF_EPARSE, "%s: expected an object", path);
    st = json_object_get(o, "status");
    if (!json_is_object(st))
        return fail(errbuf, errlen, XF_EPARSE,
                    "%s.status: missing (the host's xenfit.host_status object)", path);
    if (get_name(o, "name", path, errbuf, errlen, h->name) < 0 &&
        (r = get_name(st, "host", spath, errbuf, errlen, h->name)) < 0)
        return r;
    if ((r = get_u64(st, "free_kib", true, 0, KIB_MAX, spath, errbuf, errlen, &free_kib)) < 0 ||
        (r = get_u64(st, "pending_kib", false, 0, KIB_MAX, spath, errbuf, errlen, &pending_kib)) <
            0 ||
        (r = get_u64(st, "low_mem_reserve_kib", false, XF_LOW_MEM_RESERVE_PAGES_DEFAULT * 4,
                     KIB_MAX, spath, errbuf, errlen, &reserve_kib)) < 0)
        return r;
    /* squeezed's keep: the pool plus extra_mem_to_keep, at least 72 MiB. */
    keep_kib = reserve_kib + EXTRA_MEM_TO_KEEP_PAGES * 4;
    if (keep_kib < XF_XAPI6869_RESERVE_PAGES * 4)
        keep_kib = XF_XAPI6869_RESERVE_PAGES * 4;
    h->keep_mib = (keep_kib + 1023) / 1024;
    h->pending_mib = (pending_kib + 1023) / 1024;
    h->free_mib =
        free_kib > pending_kib + keep_kib ? (free_kib - pending_kib - keep_kib) / 1024 : 0;
    h->binpack_free_mib = free_kib > keep_kib ? (free_kib - keep_kib) / 1024 : 0;
    nodes = json_object_get(st, "nodes");
    if (!json_is_array(nodes) || json_array_size(nodes) == 0 ||
        json_array_size(nodes) > XF_MAX_NODES)
        return fail(errbuf, errlen, XF_EPARSE, "%s.nodes: expected an array of 1..%u nodes", spath,
                    XF_MAX_NODES);
    h->nr_nodes = (uint32_t)json_array_size(nodes);
    for (uint32_t n = 0; n < h->nr_nodes; n++) {
        const json_t *node = json_array_get(nodes, n);
        char npath[96];
        uint64_t kib;
        snprintf(npath, sizeof(npath), "%s.nodes[%u]", spath, n);
        if (!json_is_object(node))
            return fail(errbuf, errlen, XF_EPARSE, "%s: expected an object", npath);
        if ((r = get_u64(node, "free_for_new_vm_kib", true, 0, KIB_MAX, npath, errbuf, errlen,
                         &kib)) < 0)
            return r;
        h->node_free_mib[n] = kib / 1024 < h->free_mib ? kib / 1024 : h->free_mib;
    }
    return parse_topology(nodes, spath, h, errbuf, errlen);
}

static int parse_vm(const json_t *o, size_t index, const struct xf_pool *pool,
                    struct xf_pool_vm *vm, char *errbuf, size_t errlen)
{
    char path[48];
    const json_t *host, *nodes, *prot;
    uint64_t v;
    int r;

    snprintf(path, sizeof(path), "vms[%zu]", index);
    if (!json_is_object(o))
        return fail(errbuf, errlen, XF_EPARSE, "%s: expected an object", path);
    if ((r = get_name(o, "name", path, errbuf, errlen, vm->name)) < 0)
        return r;
    vm->host = XF_POOL_NO_HOST;
    host = json_object_get(o, "host");
    if (host && !json_is_null(host)) {
        if (!json_is_string(host))
            return fail(errbuf, errlen, XF_EPARSE, "%s.host: expected a host name", path);
        if (xf_pool_host_index(pool, json_string_value(host), &vm->host) < 0)
            return fail(errbuf, errlen, XF_EINVAL, "%s.host: \"%s\" is not a host of the pool",
                        path, json_string_value(host));
    }
    if ((r = get_u64(o, "footprint_mib", true, 0, XF_NODE_FREE_MIB_MAX, path, errbuf, errlen,
                     &vm->footprint_mib)) < 0)
        return r;
    if (vm->footprint_mib == 0)
        return fail(errbuf, errlen, XF_EINVAL, "%s.footprint_mib: 0 (a VM needs memory)", path);
    if ((r = get_u64(o, "source_mib", false, vm->host == XF_POOL_NO_HOST ? 0 : vm->footprint_mib,
                     XF_NODE_FREE_MIB_MAX, path, errbuf, errlen, &vm->source_mib)) < 0 ||
        (r = get_u64(o, "xapi_mib", false, vm->footprint_mib, XF_NODE_FREE_MIB_MAX, path, errbuf,
                     errlen, &vm->xapi_mib)) < 0 ||
        (r = get_u64(o, "vcpus", false, 1, XF_MAX_CPUS, path, errbuf, errlen, &v)) < 0)
        return r;
    if (vm->host == XF_POOL_NO_HOST && vm->source_mib)
        return fail(errbuf, errlen, XF_EINVAL,
                    "%s.source_mib: %llu for a VM on no host (a halted VM holds nothing)", path,
                    (unsigned long long)vm->source_mib);
    if (v == 0)
        return fail(errbuf, errlen, XF_EINVAL, "%s.vcpus: 0 (1..%u)", path, XF_MAX_CPUS);
    vm->vcpus = (uint32_t)v;
    prot = json_object_get(o, "protected");
    if (prot && !json_is_boolean(prot))
        return fail(errbuf, errlen, XF_EPARSE, "%s.protected: expected true or false", path);
    vm->protect = json_is_true(prot);
    nodes = json_object_get(o, "nodes");
    if (nodes) {
        size_t i;
        const json_t *n;
        if (!json_is_array(nodes) || vm->host == XF_POOL_NO_HOST)
            return fail(errbuf, errlen, XF_EINVAL,
                        "%s.nodes: expected an array of nodes of the VM's host", path);
        json_array_foreach(nodes, i, n)
        {
            if (!json_is_integer(n) || json_integer_value(n) < 0 ||
                json_integer_value(n) >= (json_int_t)pool->hosts[vm->host].nr_nodes)
                return fail(errbuf, errlen, XF_EINVAL,
                            "%s.nodes[%zu]: not a node of host \"%s\" (0..%u)", path, i,
                            pool->hosts[vm->host].name, pool->hosts[vm->host].nr_nodes - 1);
            vm->node_mask |= UINT64_C(1) << json_integer_value(n);
        }
    }
    return 0;
}

/* Name lookups: the hosts (or VMs) sorted by name, so that a pool of 100000
 * VMs parses in n log n. */
static int by_name(const void *a, const void *b)
{
    const struct xf_pool_name *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Sorts the host (or VM) names into pool->host_names (vm_names) and refuses
 * a name given twice. */
static int index_names(struct xf_pool *pool, bool hosts, char *errbuf, size_t errlen)
{
    uint32_t n = hosts ? pool->nr_hosts : pool->nr_vms;
    struct xf_pool_name *names = n ? xf__calloc(n, sizeof(*names)) : NULL;
    if (n && !names)
        return XF_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        names[i] = (struct xf_pool_name){hosts ? pool->hosts[i].name : pool->vms[i].name, i};
    if (n)
        qsort(names, n, sizeof(*names), by_name);
    if (hosts)
        pool->host_names = names;
    else
        pool->vm_names = names;
    for (uint32_t i = 1; i < n; i++)
        if (!strcmp(names[i - 1].name, names[i].name))
            return fail(errbuf, errlen, XF_EINVAL, "%s[%u].name: \"%s\" is also %s[%u]",
                        hosts ? "hosts" : "vms", names[i].index, names[i].name,
                        hosts ? "hosts" : "vms", names[i - 1].index);
    return 0;
}

int xf_pool_new_from_json(const char *buf, size_t len, char *errbuf, size_t errlen,
                          struct xf_pool **ret)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    const json_t *hosts, *vms, *pol;
    struct xf_pool *pool = NULL;
    int r;

    if (!root)
        return fail(errbuf, errlen, XF_EPARSE, "line %d column %d: %s", jerr.line, jerr.column,
                    jerr.text);
    hosts = json_object_get(root, "hosts");
    vms = json_object_get(root, "vms");
    if (!json_is_array(hosts) || json_array_size(hosts) == 0 ||
        json_array_size(hosts) > XF_POOL_MAX_HOSTS) {
        r = fail(errbuf, errlen, XF_EPARSE, "hosts: expected an array of 1..%u hosts",
                 XF_POOL_MAX_HOSTS);
        goto out;
    }
    if (vms && (!json_is_array(vms) || json_array_size(vms) > XF_POOL_MAX_VMS)) {
        r = fail(errbuf, errlen, XF_EPARSE, "vms: expected an array of at most %u VMs",
                 XF_POOL_MAX_VMS);
        goto out;
    }
    if (!(pool = xf__calloc(1, sizeof(*pool))) ||
        !(pool->hosts = xf__calloc(json_array_size(hosts), sizeof(*pool->hosts))) ||
        (json_array_size(vms) &&
         !(pool->vms = xf__calloc(json_array_size(vms), sizeof(*pool->vms))))) {
        r = XF_ENOMEM;
        goto out;
    }
    pool->policy = XF_NUMA_POLICY_BEST_EFFORT;
    pol = json_object_get(root, "numa_policy");
    if (pol &&
        (!json_is_string(pol) || xf_numa_policy_parse(json_string_value(pol), &pool->policy) < 0)) {
        r = fail(errbuf, errlen, XF_EINVAL,
                 "numa_policy: %s is not any, best_effort, best_effort_hard or prio_mem_only",
                 json_is_string(pol) ? json_string_value(pol) : "(not a string)");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(hosts); i++) {
        pool->nr_hosts = (uint32_t)i + 1; /* freed with its topology on error */
        if ((r = parse_host(json_array_get(hosts, i), i, &pool->hosts[i], errbuf, errlen)) < 0)
            goto out;
    }
    if ((r = index_names(pool, true, errbuf, errlen)) < 0)
        goto out;
    for (size_t i = 0; i < json_array_size(vms); i++) {
        if ((r = parse_vm(json_array_get(vms, i), i, pool, &pool->vms[i], errbuf, errlen)) < 0)
            goto out;
        pool->nr_vms = (uint32_t)i + 1;
    }
    if ((r = index_names(pool, false, errbuf, errlen)) < 0)
        goto out;
    *ret = pool;
    pool = NULL;
    r = 0;
out:
    xf_pool_free(pool);
    json_decref(root);
    return r;
}
