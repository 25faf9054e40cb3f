/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Executes pool plans on simulated hosts (include/xenfit/scenario.h,
 * xf_pool_run_*): one simulator per host of the pool, booted so that its free
 * memory is the snapshot's, with every running VM a domain holding its source
 * memory and the reservations in flight held by a domain of their own. A step
 * runs as a migration or start does on Xen: the destination's free memory
 * (physinfo free less claims less squeezed's keep) must cover the need --
 * squeezed refuses the reservation otherwise -- then the new domain claims
 * the need, populates the VM's memory on the planned nodes (2 MiB extents),
 * drops its claim, and the source's domain is destroyed. What a step finds is
 * the simulator's, never the planner's, so a plan that miscounts fails here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/pool.h"
#include "xenfit/scenario.h"
#include "xenfit/sim.h"

#define PAGES_PER_MIB 256u

struct run_host {
    struct xf_hv *hv;
    bool failed;
    uint64_t keep_pages;
};

struct xf_pool_run {
    const struct xf_pool *pool;
    struct run_host *hosts;
    xf_domid_t *domid; /* per VM: its domain on pool->vms[v].host now, or XF_DOMID_NONE */
    uint32_t *where;   /* per VM: the host it runs on now */
};

/* Appends to buf at *at (bounded). */
static void put(char *buf, size_t len, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
    va_list ap;
    if (*at < len) {
        int n;
        va_start(ap, fmt);
        n = vsnprintf(buf + *at, len - *at, fmt, ap);
        va_end(ap);
        if (n > 0)
            *at += (size_t)n;
    }
}

/* Populates `mib` MiB on `node` (XF_NODE_ANY: the affinity) in 2 MiB
 * extents and the odd MiB in 4 KiB pages. */
static int populate(struct xf_hv *hv, xf_domid_t domid, uint32_t node, uint64_t mib)
{
    struct xf_hv_populate big = {.nr_extents = mib / 2, .order = 9, .node = node};
    struct xf_hv_populate small = {
        .nr_extents = (mib % 2) * PAGES_PER_MIB, .order = 0, .node = node};
    uint64_t done;
    int r = 0;
    if (big.nr_extents && (r = xf_hv_populate(hv, domid, &big, &done)) < 0)
        return r;
    if (small.nr_extents)
        r = xf_hv_populate(hv, domid, &small, &done);
    return r;
}

/* A domain holding mib_per_node[n] MiB on each node. */
static int hold(struct xf_hv *hv, uint32_t vcpus, const uint64_t *mib_per_node, uint32_t nr_nodes,
                xf_domid_t *ret)
{
    uint64_t total = 0;
    xf_domid_t d;
    int r;
    for (uint32_t n = 0; n < nr_nodes; n++)
        total += mib_per_node[n];
    if ((r = xf_hv_domain_create_vcpus(hv, XF_DOMAIN_PV, vcpus, &d)) < 0)
        return r;
    if ((r = xf_hv_set_max_pages(hv, d, total * PAGES_PER_MIB + PAGES_PER_MIB)) < 0)
        goto fail;
    for (uint32_t n = 0; n < nr_nodes; n++)
        if (mib_per_node[n] && (r = populate(hv, d, n, mib_per_node[n])) < 0)
            goto fail;
    *ret = d;
    return 0;
fail:
    (void)xf_hv_destroy(hv, d);
    return r;
}

/* The host spec of pool host h: each node's RAM is its share of the free
 * memory (the node figures scaled to the host's), plus what the VMs on it
 * hold there, plus squeezed's keep and the reservations in flight on the
 * node with the most; 1 MiB of dom0 on node 0; no hidden domain costs. */
static int spec_of(const struct xf_pool *pool, uint32_t h, const uint64_t *vm_mib, char **ret)
{
    const struct xf_pool_host *host = &pool->hosts[h];
    uint64_t share[XF_MAX_NODES] = {0}, sum = 0, left = host->free_mib;
    uint32_t big = 0;
    size_t len = 4096 + (size_t)host->nr_nodes * (96 + 8 * host->nr_nodes), at = 0;
    char *buf = malloc(len);
    uint32_t cpu = 0;

    if (!buf)
        return XF_ENOMEM;
    for (uint32_t n = 0; n < host->nr_nodes; n++)
        sum += host->node_free_mib[n];
    for (uint32_t n = 0; n < host->nr_nodes && sum; n++) {
        share[n] = (uint64_t)((unsigned __int128)host->free_mib * host->node_free_mib[n] / sum);
        left -= share[n];
        if (host->node_free_mib[n] > host->node_free_mib[big])
            big = n;
    }
    share[big] += left + host->keep_mib + host->pending_mib;
    share[0] += 1; /* dom0 */
    put(buf, len, &at, "{\"name\":\"%s\",\"nodes\":[", host->name);
    for (uint32_t n = 0; n < host->nr_nodes; n++) {
        uint32_t cpus = xf_topology_node_cpus(host->topo, n);
        uint64_t ram = share[n] + vm_mib[n];
        put(buf, len, &at, "%s{\"memory_mib\":%" PRIu64, n ? "," : "", ram);
        if (cpus) {
            put(buf, len, &at, ",\"cpus\":[");
            for (uint32_t c = 0; c < cpus; c++)
                put(buf, len, &at, "%s%u", c ? "," : "", cpu++);
            put(buf, len, &at, "]");
        }
        put(buf, len, &at, "}");
    }
    put(buf, len, &at, "],\"distances\":[");
    for (uint32_t i = 0; i < host->nr_nodes; i++) {
        put(buf, len, &at, "%s[", i ? "," : "");
        for (uint32_t j = 0; j < host->nr_nodes; j++) {
            uint32_t d = xf_topology_distance(host->topo, i, j);
            put(buf, len, &at, "%s%u", j ? "," : "", d > 254 ? 255u : d);
        }
        put(buf, len, &at, "]");
    }
    put(buf, len, &at,
        "],\"xen\":{\"reserved_mib\":0,\"dma_mib\":0,\"low_mem_virq_limit_mib\":64},"
        "\"dom0\":{\"vcpus\":1,\"memory_mib\":1,\"node_mib\":[1");
    for (uint32_t n = 1; n < host->nr_nodes; n++)
        put(buf, len, &at, ",0");
    put(buf, len, &at,
        "]},\"truth\":{\"pv\":{\"domain_pages\":0,\"vcpu_pages\":0,\"extra_guest_pages\":0,"
        "\"initial_pool_pages\":0}}}");
    if (at >= len) {
        free(buf);
        return XF_ENOMEM;
    }
    *ret = buf;
    return 0;
}

/* A VM's memory per node on its host: source_mib spread evenly over its
 * nodes, as the planner's give_back assumes. */
static void vm_split(const struct xf_pool *pool, const struct xf_pool_vm *vm, uint64_t *ret)
{
    uint32_t nr = pool->hosts[vm->host].nr_nodes, count = 0;
    uint64_t mask = vm->node_mask ? vm->node_mask : ~UINT64_C(0);
    memset(ret, 0, XF_MAX_NODES * sizeof(*ret));
    for (uint32_t n = 0; n < nr; n++)
        count += (uint32_t)((mask >> n) & 1);
    for (uint32_t n = 0, k = 0; n < nr; n++)
        if ((mask >> n) & 1)
            ret[n] = vm->source_mib / count + (k++ < vm->source_mib % count);
}

void xf_pool_run_free(struct xf_pool_run *run)
{
    if (!run)
        return;
    for (uint32_t h = 0; run->hosts && h < run->pool->nr_hosts; h++)
        xf_hv_free(run->hosts[h].hv);
    free(run->hosts);
    free(run->domid);
    free(run->where);
    free(run);
}

int xf_pool_run_new(const struct xf_pool *pool, struct xf_pool_run **ret)
{
    struct xf_pool_run *run = calloc(1, sizeof(*run));
    uint64_t(*vm_mib)[XF_MAX_NODES] = calloc(pool->nr_hosts, sizeof(*vm_mib));
    uint64_t split[XF_MAX_NODES];
    int r = XF_ENOMEM;

    if (!run || !vm_mib)
        goto fail;
    run->pool = pool;
    run->hosts = calloc(pool->nr_hosts, sizeof(*run->hosts));
    run->domid = calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(*run->domid));
    run->where = calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(*run->where));
    if (!run->hosts || !run->domid || !run->where)
        goto fail;
    for (uint32_t v = 0; v < pool->nr_vms; v++) {
        const struct xf_pool_vm *vm = &pool->vms[v];
        run->domid[v] = XF_DOMID_NONE;
        run->where[v] = vm->host;
        if (vm->host == XF_POOL_NO_HOST)
            continue;
        vm_split(pool, vm, split);
        for (uint32_t n = 0; n < pool->hosts[vm->host].nr_nodes; n++)
            vm_mib[vm->host][n] += split[n];
    }
    for (uint32_t h = 0; h < pool->nr_hosts; h++) {
        const struct xf_pool_host *host = &pool->hosts[h];
        uint64_t pending[XF_MAX_NODES] = {0};
        xf_domid_t d;
        char *spec = NULL;
        if ((r = spec_of(pool, h, vm_mib[h], &spec)) < 0)
            goto fail;
        r = xf_sim_new_from_json(spec, strlen(spec), NULL, &run->hosts[h].hv, NULL);
        free(spec);
        if (r < 0)
            goto fail;
        run->hosts[h].keep_pages = host->keep_mib * PAGES_PER_MIB;
        /* The reservations in flight: memory some build is about to take. */
        if (host->pending_mib) {
            uint32_t big = 0;
            for (uint32_t n = 0; n < host->nr_nodes; n++)
                if (host->node_free_mib[n] > host->node_free_mib[big])
                    big = n;
            pending[big] = host->pending_mib;
            if ((r = hold(run->hosts[h].hv, 1, pending, host->nr_nodes, &d)) < 0)
                goto fail;
        }
    }
    for (uint32_t v = 0; v < pool->nr_vms; v++) {
        const struct xf_pool_vm *vm = &pool->vms[v];
        if (vm->host == XF_POOL_NO_HOST || vm->source_mib == 0)
            continue;
        vm_split(pool, vm, split);
        if ((r = hold(run->hosts[vm->host].hv, vm->vcpus, split, pool->hosts[vm->host].nr_nodes,
                      &run->domid[v])) < 0)
            goto fail;
    }
    free(vm_mib);
    *ret = run;
    return 0;
fail:
    free(vm_mib);
    xf_pool_run_free(run);
    return r;
}

void xf_pool_run_fail_host(struct xf_pool_run *run, uint32_t host)
{
    if (host < run->pool->nr_hosts)
        run->hosts[host].failed = true;
    for (uint32_t v = 0; v < run->pool->nr_vms; v++)
        if (run->where[v] == host) {
            run->where[v] = XF_POOL_NO_HOST;
            run->domid[v] = XF_DOMID_NONE;
        }
}

uint64_t xf_pool_run_free_mib(struct xf_pool_run *run, uint32_t host)
{
    struct xf_hv_physinfo pi;
    uint64_t used;
    if (host >= run->pool->nr_hosts || xf_hv_physinfo(run->hosts[host].hv, &pi) < 0)
        return 0;
    used = pi.outstanding_pages + run->hosts[host].keep_pages;
    return pi.free_pages > used ? (pi.free_pages - used) / PAGES_PER_MIB : 0;
}

/* One step. Returns 0 done, 1 failed (reason written), or an error. */
static int run_step(struct xf_pool_run *run, const struct xf_pool_plan *plan, uint32_t i, char *why,
                    size_t len)
{
    const struct xf_pool *pool = run->pool;
    const struct xf_pool_step *s = &plan->steps[i];
    const struct xf_pool_vm *vm = &pool->vms[s->vm];
    struct run_host *dst = &run->hosts[s->to.host];
    bool restart = s->from == XF_POOL_NO_HOST;
    uint64_t mib = restart ? vm->footprint_mib : vm->source_mib, free_mib;
    uint64_t per_node[XF_MAX_NODES] = {0}, placed = 0;
    xf_domid_t d;
    size_t at = 0;
    int r;

    if (dst->failed) {
        put(why, len, &at, "step %u: %s to %s: the host has failed", i + 1, vm->name,
            pool->hosts[s->to.host].name);
        return 1;
    }
    if (!restart && run->where[s->vm] != s->from) {
        put(why, len, &at, "step %u: %s is not on %s", i + 1, vm->name, pool->hosts[s->from].name);
        return 1;
    }
    free_mib = xf_pool_run_free_mib(run, s->to.host);
    if (free_mib < s->to.need_mib) {
        put(why, len, &at,
            "step %u: %s to %s needs %llu MiB there, %llu MiB free (after squeezed's %llu MiB)",
            i + 1, vm->name, pool->hosts[s->to.host].name, (unsigned long long)s->to.need_mib,
            (unsigned long long)free_mib, (unsigned long long)pool->hosts[s->to.host].keep_mib);
        return 1;
    }
    if ((r = xf_hv_domain_create_vcpus(dst->hv, XF_DOMAIN_PV, vm->vcpus, &d)) < 0)
        goto refused;
    if ((r = xf_hv_set_max_pages(dst->hv, d, s->to.need_mib * PAGES_PER_MIB + PAGES_PER_MIB)) < 0 ||
        (r = xf_hv_claim(dst->hv, d, XF_NODE_ANY, s->to.need_mib * PAGES_PER_MIB)) < 0)
        goto destroy;
    if (s->to.numa) {
        const uint64_t *node_mib = &plan->node_mib[s->node_mib_at];
        uint32_t k = 0, last = 0;
        if ((r = xf_hv_set_node_affinity(dst->hv, d, s->to.node_mask)) < 0)
            goto destroy;
        /* The VM's memory split as the plan splits its need. */
        for (uint32_t n = 0; n < XF_MAX_NODES; n++)
            if ((s->to.node_mask >> n) & 1) {
                per_node[n] = s->to.need_mib ? node_mib[k] * mib / s->to.need_mib : 0;
                k++;
                placed += per_node[n];
                last = n;
            }
        per_node[last] += mib - placed;
        for (uint32_t n = 0; n < XF_MAX_NODES; n++)
            if (per_node[n] && (r = populate(dst->hv, d, n, per_node[n])) < 0)
                goto destroy;
    } else if ((r = populate(dst->hv, d, XF_NODE_ANY, mib)) < 0) {
        goto destroy;
    }
    if ((r = xf_hv_claim(dst->hv, d, XF_NODE_ANY, 0)) < 0)
        goto destroy;
    if (!restart) {
        struct run_host *src = &run->hosts[s->from];
        if (run->domid[s->vm] != XF_DOMID_NONE &&
            (r = xf_hv_destroy(src->hv, run->domid[s->vm])) < 0)
            return r;
        /* Let the source return the memory (released at once in these specs). */
        (void)xf_hv_sleep_ns(src->hv, 1000000000ull);
    }
    run->domid[s->vm] = d;
    run->where[s->vm] = s->to.host;
    return 0;
destroy:
    (void)xf_hv_destroy(dst->hv, d);
refused:
    if (r == -ENOMEM || r == -EINVAL || r == -ENOSPC) {
        put(why, len, &at, "step %u: %s to %s: the hypervisor refused (%s) with %llu MiB free",
            i + 1, vm->name, pool->hosts[s->to.host].name, xf_strerror(r),
            (unsigned long long)free_mib);
        return 1;
    }
    return r;
}

int xf_pool_run_plan(struct xf_pool_run *run, const struct xf_pool_plan *plan,
                     struct xf_pool_run_result *ret)
{
    struct xf_pool_run_result res = {.first_failed = plan->nr_steps};
    for (uint32_t i = 0; i < plan->nr_steps; i++) {
        char why[256] = "";
        int r = run_step(run, plan, i, why, sizeof(why));
        if (r < 0)
            return r;
        if (r == 0) {
            res.steps_ok++;
            continue;
        }
        if (res.steps_failed++ == 0) {
            res.first_failed = i;
            snprintf(res.reason, sizeof(res.reason), "%s", why);
        }
    }
    *ret = res;
    return 0;
}
