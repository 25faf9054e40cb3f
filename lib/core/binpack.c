/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xapi's pool planner, transcribed from its algorithm so that xenfit's plans
 * can be compared with it on the same pools (include/xenfit/pool.h). Source:
 * xen-api ocaml/xapi/binpack.ml at commit e2ee48d6883e (functions
 * biggest_fit_decreasing, choose_heuristic, plan_always_possible,
 * simulate_failure, simulate_failure_approximation,
 * plan_trivially_never_possible) and ocaml/xapi/xapi_ha_vm_failover.ml at
 * the same commit (compute_evacuation_plan: host_free_memory from
 * host_compute_free_memory_with_maximum_compression, vm_memory at
 * Dynamic_min for HVM and PV; get_specific_plan ->
 * pack_failed_vms_onto_live_hosts). Sizes are what xapi counts: a VM's
 * xapi_mib, a host's binpack_free_mib; NUMA nodes, reservations in flight and
 * the migration's need for the source's memory are not seen, as in xapi.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/pool.h"

struct item {
    int64_t size;
    uint32_t id;
    uint32_t seq; /* input order: List.sort is stable */
};

/* binpack.ml less_than: descending by size; List.sort is a stable merge
 * sort, so equal sizes keep their input order. */
static int less_than(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

uint32_t xf_binpack_bfd(const struct xf_pool *pool, const uint32_t *vms, uint32_t nr_vms,
                        const uint32_t *hosts, uint32_t nr_hosts, const int64_t *bin_mib,
                        struct xf_binpack_pair *ret_pairs)
{
    struct item *things = xf__calloc(nr_vms ? nr_vms : 1, sizeof(*things));
    struct item *bins = xf__calloc(nr_hosts ? nr_hosts : 1, sizeof(*bins));
    uint32_t n = 0, seq = 0;

    if (!things || !bins) {
        xf__free(things);
        xf__free(bins);
        return XF_BINPACK_ENOMEM;
    }
    for (uint32_t i = 0; i < nr_vms; i++)
        things[i] = (struct item){(int64_t)pool->vms[vms[i]].xapi_mib, vms[i], i};
    for (uint32_t i = 0; i < nr_hosts; i++)
        bins[i] = (struct item){bin_mib[hosts[i]], hosts[i], seq++};
    qsort(things, nr_vms, sizeof(*things), less_than);
    qsort(bins, nr_hosts, sizeof(*bins), less_than);
    for (uint32_t i = 0; i < nr_vms && nr_hosts; i++) {
        /* allocate_one: only the first (biggest) bin is tried. */
        int64_t remaining = bins[0].size - things[i].size;
        struct item b;
        uint32_t j;
        if (remaining < 0)
            continue; /* leave it out */
        ret_pairs[n++] = (struct xf_binpack_pair){things[i].id, bins[0].id};
        /* insert less_than (id, remaining) rest: before the first x with
         * compare elt x <= 0, i.e. before the first bin not bigger. */
        b = (struct item){remaining, bins[0].id, bins[0].seq};
        for (j = 1; j < nr_hosts && bins[j].size > remaining; j++)
            bins[j - 1] = bins[j];
        bins[j - 1] = b;
    }
    xf__free(things);
    xf__free(bins);
    /* binpack.ml builds the mapping by consing: the last allocation first. */
    for (uint32_t i = 0; i < n / 2; i++) {
        struct xf_binpack_pair t = ret_pairs[i];
        ret_pairs[i] = ret_pairs[n - 1 - i];
        ret_pairs[n - 1 - i] = t;
    }
    return n;
}

bool xf_binpack_exhaustive(uint32_t total_hosts, uint32_t failures)
{
    /* choose_heuristic: n > 32 -> approximate; binomial n r ** factorial r
     * < 3500 -> every combination (Overflow -> approximate). */
    unsigned __int128 c = 1;
    if (total_hosts > 32)
        return false;
    for (uint32_t i = 1; i <= failures; i++) {
        c = c * (total_hosts - failures + i) / i;
        if (c >= 3500)
            return false;
    }
    for (uint32_t i = 2; i <= failures; i++) {
        c *= i;
        if (c >= 3500)
            return false;
    }
    return c < 3500;
}

/* The VMs of `host` (protected ones only, for a restart) packed by
 * biggest_fit_decreasing onto the other hosts. */
static int binpack_plan(const struct xf_pool *pool, uint32_t host, bool restart,
                        struct xf_pool_plan *ret)
{
    uint32_t *vms, *hosts, nr_vms = 0, nr_hosts = 0, n;
    int64_t *bins;
    struct xf_binpack_pair *pairs;
    bool *planned;
    int r = XF_ENOMEM;

    if (!pool || host >= pool->nr_hosts || !ret)
        return XF_EINVAL;
    memset(ret, 0, sizeof(*ret));
    vms = xf__calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(*vms));
    hosts = xf__calloc(pool->nr_hosts, sizeof(*hosts));
    bins = xf__calloc(pool->nr_hosts, sizeof(*bins));
    pairs = xf__calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(*pairs));
    planned = xf__calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(*planned));
    if (!vms || !hosts || !bins || !pairs || !planned)
        goto out;
    for (uint32_t i = 0; i < pool->nr_vms; i++)
        if (pool->vms[i].host == host && (!restart || pool->vms[i].protect))
            vms[nr_vms++] = i;
    for (uint32_t h = 0; h < pool->nr_hosts; h++) {
        bins[h] = (int64_t)pool->hosts[h].binpack_free_mib;
        if (h != host)
            hosts[nr_hosts++] = h;
    }
    n = xf_binpack_bfd(pool, vms, nr_vms, hosts, nr_hosts, bins, pairs);
    if (n == XF_BINPACK_ENOMEM)
        goto out;
    ret->steps = xf__calloc(n ? n : 1, sizeof(*ret->steps));
    ret->refused = xf__calloc(nr_vms - n ? nr_vms - n : 1, sizeof(*ret->refused));
    ret->node_mib = xf__calloc(1, sizeof(*ret->node_mib));
    if (!ret->steps || !ret->refused || !ret->node_mib) {
        xf_pool_plan_done(ret);
        goto out;
    }
    /* xapi migrates in the plan's order (host.evacuate); steps carry the
     * VM's real need so that they can be replayed and executed. */
    for (uint32_t i = 0; i < n; i++) {
        const struct xf_pool_vm *vm = &pool->vms[pairs[i].vm];
        ret->steps[i] = (struct xf_pool_step){
            .vm = pairs[i].vm,
            .from = restart ? XF_POOL_NO_HOST : host,
            .to = {.host = pairs[i].host,
                   .need_mib = restart ? vm->footprint_mib : xf_pool_vm_need_mib(vm)},
        };
        planned[pairs[i].vm] = true;
    }
    ret->nr_steps = n;
    /* What binpack saw free on each step's host when it chose it: replay
     * its allocations (the mapping's reverse) on xapi's figures. */
    for (uint32_t i = n; i-- > 0;) {
        struct xf_pool_step *s = &ret->steps[i];
        s->to.free_before_mib = bins[s->to.host] > 0 ? (uint64_t)bins[s->to.host] : 0;
        bins[s->to.host] -= (int64_t)pool->vms[s->vm].xapi_mib;
    }
    for (uint32_t i = 0; i < nr_vms; i++)
        if (!planned[vms[i]])
            ret->refused[ret->nr_refused++] = (struct xf_pool_refusal){
                .vm = vms[i], .need_mib = pool->vms[vms[i]].xapi_mib, .best_host = XF_POOL_NO_HOST};
    ret->complete = ret->nr_refused == 0;
    r = 0;
out:
    xf__free(vms);
    xf__free(hosts);
    xf__free(bins);
    xf__free(pairs);
    xf__free(planned);
    return r;
}

int xf_binpack_evacuate(const struct xf_pool *pool, uint32_t host, struct xf_pool_plan *ret)
{
    return binpack_plan(pool, host, false, ret);
}

int xf_binpack_restart(const struct xf_pool *pool, uint32_t failed, struct xf_pool_plan *ret)
{
    return binpack_plan(pool, failed, true, ret);
}

/* The configuration binpack.ml plans on: live hosts and their free memory,
 * protected VMs and their placement. */
struct config {
    const struct xf_pool *pool;
    uint32_t *hosts; /* live */
    uint32_t nr_hosts;
    int64_t *free;       /* by pool host index */
    uint32_t *placement; /* by pool VM index: host, or XF_POOL_NO_HOST */
    uint32_t *vms;       /* protected and running */
    uint32_t nr_vms;
};

/* simulate_failure: the dead host's VMs packed onto the rest; 1, 0 (Stop)
 * if one is left out, or XF_ENOMEM. Changes c. */
static int simulate_failure(struct config *c, uint32_t dead, uint32_t *scratch,
                            struct xf_binpack_pair *pairs)
{
    uint32_t nr_failed = 0, n;
    for (uint32_t i = 0; i < c->nr_vms; i++)
        if (c->placement[c->vms[i]] == dead)
            scratch[nr_failed++] = c->vms[i];
    for (uint32_t i = 0, j = 0; i < c->nr_hosts; i++)
        if (c->hosts[i] != dead)
            c->hosts[j++] = c->hosts[i];
    c->nr_hosts--;
    n = xf_binpack_bfd(c->pool, scratch, nr_failed, c->hosts, c->nr_hosts, c->free, pairs);
    if (n == XF_BINPACK_ENOMEM)
        return XF_ENOMEM;
    if (n != nr_failed)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        c->free[pairs[i].host] -= (int64_t)c->pool->vms[pairs[i].vm].xapi_mib;
        c->placement[pairs[i].vm] = pairs[i].host;
    }
    return 1;
}

static uint32_t count_on(const struct config *c, uint32_t host)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->nr_vms; i++)
        n += c->placement[c->vms[i]] == host;
    return n;
}

static int desc_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

/* simulate_failure_approximation: every VM as big as the biggest, the
 * biggest hosts fail, the hosts with the most VMs fail. 1 possible, 0 not
 * (Stop), XF_ENOMEM. */
static int approximation(const struct config *c, uint32_t r)
{
    int64_t max_vm = 0, *cap = xf__calloc(c->nr_hosts, sizeof(*cap)), left = 0, moved = 0;
    int64_t *per = xf__calloc(c->nr_hosts, sizeof(*per));
    int ok;
    if (!cap || !per) {
        xf__free(cap);
        xf__free(per);
        return XF_ENOMEM;
    }
    for (uint32_t i = 0; i < c->nr_vms; i++)
        if ((int64_t)c->pool->vms[c->vms[i]].xapi_mib > max_vm)
            max_vm = (int64_t)c->pool->vms[c->vms[i]].xapi_mib;
    for (uint32_t i = 0; i < c->nr_hosts; i++) {
        /* Int64.div (an OCaml Division_by_zero for max_vm 0: no VMs, never reached). */
        cap[i] = max_vm ? c->free[c->hosts[i]] / max_vm : 0;
        per[i] = count_on(c, c->hosts[i]);
    }
    qsort(cap, c->nr_hosts, sizeof(*cap), desc_i64);
    qsort(per, c->nr_hosts, sizeof(*per), desc_i64);
    for (uint32_t i = r; i < c->nr_hosts; i++)
        left += cap[i];
    for (uint32_t i = 0; i < r && i < c->nr_hosts; i++)
        moved += per[i];
    ok = moved <= left ? 1 : 0;
    xf__free(cap);
    xf__free(per);
    return ok;
}

/* Heap's algorithm over the failure order: each permutation of `set`
 * simulated from the start configuration. 1 every order has a plan, 0 not,
 * XF_ENOMEM. */
static int every_order(struct config *start, struct config *work, uint32_t *set, uint32_t r,
                       uint32_t *scratch, struct xf_binpack_pair *pairs)
{
    uint32_t c[64] = {0}, i = 1;
    const struct xf_pool *pool = start->pool;
    for (;;) {
        int ok = 1;
        memcpy(work->hosts, start->hosts, start->nr_hosts * sizeof(uint32_t));
        work->nr_hosts = start->nr_hosts;
        memcpy(work->free, start->free, pool->nr_hosts * sizeof(int64_t));
        memcpy(work->placement, start->placement, pool->nr_vms * sizeof(uint32_t));
        for (uint32_t k = 0; k < r && ok == 1; k++)
            ok = simulate_failure(work, set[k], scratch, pairs);
        if (ok != 1)
            return ok;
        while (i < r && c[i] >= i) {
            c[i] = 0;
            i++;
        }
        if (i >= r)
            return 1;
        uint32_t j = i % 2 ? c[i] : 0, t = set[j];
        set[j] = set[i];
        set[i] = t;
        c[i]++;
        i = 1;
    }
}

int xf_binpack_ha_possible(const struct xf_pool *pool, uint32_t failures, bool *ret_exhaustive)
{
    struct config start = {.pool = pool}, work = {.pool = pool};
    uint32_t *scratch, idx[64], set[64];
    struct xf_binpack_pair *pairs;
    bool exhaustive = xf_binpack_exhaustive(pool->nr_hosts, failures), ok = true;
    int r = XF_ENOMEM;

    if (failures > 64)
        return XF_EINVAL;
    start.hosts = xf__calloc(pool->nr_hosts, sizeof(uint32_t));
    start.free = xf__calloc(pool->nr_hosts, sizeof(int64_t));
    start.placement = xf__calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(uint32_t));
    start.vms = xf__calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(uint32_t));
    work.hosts = xf__calloc(pool->nr_hosts, sizeof(uint32_t));
    work.free = xf__calloc(pool->nr_hosts, sizeof(int64_t));
    work.placement = xf__calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(uint32_t));
    work.vms = start.vms;
    scratch = xf__calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(uint32_t));
    pairs = xf__calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(*pairs));
    if (!start.hosts || !start.free || !start.placement || !start.vms || !work.hosts ||
        !work.free || !work.placement || !scratch || !pairs)
        goto out;
    for (uint32_t h = 0; h < pool->nr_hosts; h++) {
        start.hosts[h] = h;
        start.free[h] = (int64_t)pool->hosts[h].binpack_free_mib;
    }
    start.nr_hosts = pool->nr_hosts;
    for (uint32_t v = 0; v < pool->nr_vms; v++) {
        start.placement[v] = pool->vms[v].host;
        if (pool->vms[v].protect && pool->vms[v].host != XF_POOL_NO_HOST)
            start.vms[start.nr_vms++] = v;
    }
    work.nr_vms = start.nr_vms;
    /* plan_trivially_never_possible */
    if (pool->nr_hosts < failures || (pool->nr_hosts == failures && start.nr_vms)) {
        ok = false;
    } else if (!exhaustive) {
        int a = start.nr_vms ? approximation(&start, failures) : 1;
        if (a < 0)
            goto out;
        ok = a == 1;
    } else if (failures > 0) {
        /* choose hosts r, every permutation of each. */
        for (uint32_t i = 0; i < failures; i++)
            idx[i] = i;
        for (;;) {
            for (uint32_t i = 0; i < failures; i++)
                set[i] = idx[i];
            int e = every_order(&start, &work, set, failures, scratch, pairs);
            if (e < 0)
                goto out;
            if (!(ok = e == 1))
                break;
            int i = (int)failures - 1;
            while (i >= 0 && idx[i] == pool->nr_hosts - failures + (uint32_t)i)
                i--;
            if (i < 0)
                break;
            idx[i]++;
            for (uint32_t j = (uint32_t)i + 1; j < failures; j++)
                idx[j] = idx[j - 1] + 1;
        }
    }
    *ret_exhaustive = exhaustive;
    r = ok ? 1 : 0;
out:
    xf__free(start.hosts);
    xf__free(start.free);
    xf__free(start.placement);
    xf__free(start.vms);
    xf__free(work.hosts);
    xf__free(work.free);
    xf__free(work.placement);
    xf__free(scratch);
    xf__free(pairs);
    return r;
}
