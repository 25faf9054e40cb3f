/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Pool planning (include/xenfit/pool.h): a host for one VM, an evacuation,
 * an HA plan. All three pack VMs onto hosts whose free memory is copied into
 * host states and changed step by step, so that each step is checked against
 * the pool as it will be when the step runs: a destination loses the VM's
 * whole need (max(footprint, source): the migration holds the source's memory
 * there while the source still holds it) and its source gets the VM's memory
 * back only after the step. A VM fits a host when the need fits the host's
 * free memory and a NUMA plan (xf_plan_numa, the per-host planner) fits its
 * nodes; when no node set fits but the host does, it is interleaved, as
 * xenopsd starts a VM without affinity when placement fails.
 *
 * Packing is best fit decreasing (the biggest VM first, onto the host it
 * leaves the least free memory on, NUMA-placed hosts before interleaved
 * ones), which differs from binpack.ml's biggest-bin rule (lib/core/binpack.c)
 * on purpose: it keeps big hosts for big VMs. When a VM is left over, a
 * depth-first search with a work budget tries the other hosts in the same
 * order, skipping hosts in the same state as one already tried.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/pool.h"

/* Host tries (a fit check each) the search may make before it settles for
 * the greedy answer: about 0.1 s of work. */
#define SEARCH_BUDGET 100000u
/* Subsets examined when looking for the smallest blocking set of VMs. */
#define BLOCKING_BUDGET 1024u
/* Failing failure sets examined for the smallest blocking set. */
#define BLOCKING_CASES 4u

void xf_pool_free(struct xf_pool *pool)
{
    if (!pool)
        return;
    for (uint32_t i = 0; i < pool->nr_hosts; i++)
        xf_topology_free(pool->hosts[i].topo);
    xf__free(pool->hosts);
    xf__free(pool->vms);
    xf__free(pool->host_names);
    xf__free(pool->vm_names);
    xf__free(pool);
}

static int lookup(const struct xf_pool_name *names, uint32_t n, const char *name, uint32_t *ret)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(names[mid].name, name);
        if (c == 0) {
            /* The first of equal names: the lowest index. */
            while (mid > 0 && !strcmp(names[mid - 1].name, name))
                mid--;
            *ret = names[mid].index;
            return 0;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return XF_ENOENT;
}

int xf_pool_host_index(const struct xf_pool *pool, const char *name, uint32_t *ret)
{
    if (pool->host_names)
        return lookup(pool->host_names, pool->nr_hosts, name, ret);
    for (uint32_t i = 0; i < pool->nr_hosts; i++)
        if (!strcmp(pool->hosts[i].name, name)) {
            *ret = i;
            return 0;
        }
    return XF_ENOENT;
}

int xf_pool_vm_index(const struct xf_pool *pool, const char *name, uint32_t *ret)
{
    if (pool->vm_names)
        return lookup(pool->vm_names, pool->nr_vms, name, ret);
    for (uint32_t i = 0; i < pool->nr_vms; i++)
        if (!strcmp(pool->vms[i].name, name)) {
            *ret = i;
            return 0;
        }
    return XF_ENOENT;
}

uint64_t xf_pool_vm_need_mib(const struct xf_pool_vm *vm)
{
    if (vm->host == XF_POOL_NO_HOST)
        return vm->footprint_mib;
    return vm->source_mib > vm->footprint_mib ? vm->source_mib : vm->footprint_mib;
}

void xf_pool_states(const struct xf_pool *pool, struct xf_pool_host_state *ret)
{
    for (uint32_t h = 0; h < pool->nr_hosts; h++) {
        ret[h].free_mib = pool->hosts[h].free_mib;
        memcpy(ret[h].node_free_mib, pool->hosts[h].node_free_mib, sizeof(ret[h].node_free_mib));
    }
}

const char *xf_pool_verdict_name(enum xf_pool_verdict_kind kind)
{
    switch (kind) {
    case XF_POOL_CHOSEN:
        return "chosen";
    case XF_POOL_CURRENT:
        return "current";
    case XF_POOL_NO_MEMORY:
        return "no_memory";
    case XF_POOL_NO_NODES:
        return "no_nodes";
    case XF_POOL_WORSE:
        return "worse";
    }
    return "unknown";
}

/* ---- one VM on one host ---- */

/* Whether `need` MiB of `vm` fits host `h` in state `st`: the target, and
 * for a NUMA fit the plan (ret_plan may be NULL when only the fit matters,
 * but the plan is computed anyway: its per-node split is applied). */
static bool fit_on(const struct xf_pool *pool, const struct xf_pool_host_state *st, uint32_t h,
                   const struct xf_pool_vm *vm, uint64_t need, struct xf_pool_target *ret,
                   struct xf_plan *ret_plan)
{
    const struct xf_pool_host *host = &pool->hosts[h];
    uint64_t node_free[XF_MAX_NODES] = {0};
    struct xf_numa_request req = {.memory_mib = need,
                                  .vcpus = vm->vcpus,
                                  .cores = XF_CORES_FROM_POLICY,
                                  .policy = pool->policy};

    if (st->free_mib < need)
        return false;
    *ret = (struct xf_pool_target){.host = h, .need_mib = need, .free_before_mib = st->free_mib};
    for (uint32_t n = 0; n < host->nr_nodes; n++)
        node_free[n] = st->node_free_mib[n] < st->free_mib ? st->node_free_mib[n] : st->free_mib;
    if (xf_plan_numa(host->topo, XF_PLANNER_XENFIT, node_free, NULL, &req, ret_plan) == 0 &&
        ret_plan->outcome == XF_PLAN_NODES) {
        ret->numa = true;
        ret->node_mask = ret_plan->node_mask;
        ret->nr_nodes = ret_plan->nr_nodes;
        ret->max_distance = ret_plan->max_distance;
    }
    return true;
}

/* Takes `need` MiB from a host state: from the plan's nodes, or, interleaved,
 * from every node in proportion to its free memory. */
static void take(const struct xf_pool *pool, struct xf_pool_host_state *st,
                 const struct xf_pool_target *t, const uint64_t *node_mib)
{
    uint32_t nr = pool->hosts[t->host].nr_nodes;
    st->free_mib -= t->need_mib;
    if (t->numa) {
        uint32_t k = 0;
        for (uint32_t n = 0; n < nr; n++)
            if (t->node_mask & (UINT64_C(1) << n)) {
                uint64_t m = node_mib[k++];
                st->node_free_mib[n] = st->node_free_mib[n] > m ? st->node_free_mib[n] - m : 0;
            }
        return;
    }
    uint64_t total = 0, left = t->need_mib;
    for (uint32_t n = 0; n < nr; n++)
        total += st->node_free_mib[n];
    for (uint32_t n = 0; n < nr && total; n++) {
        uint64_t m = (uint64_t)((unsigned __int128)t->need_mib * st->node_free_mib[n] / total);
        if (m > left)
            m = left;
        st->node_free_mib[n] -= m;
        left -= m;
    }
    for (uint32_t n = 0; n < nr && left; n++) {
        uint64_t m = st->node_free_mib[n] < left ? st->node_free_mib[n] : left;
        st->node_free_mib[n] -= m;
        left -= m;
    }
}

/* The source gets the VM's memory back, spread evenly over the nodes it is
 * on (all of its host's when unknown). */
static void give_back(const struct xf_pool *pool, struct xf_pool_host_state *st,
                      const struct xf_pool_vm *vm)
{
    uint32_t nr = pool->hosts[vm->host].nr_nodes, count = 0;
    uint64_t mask = vm->node_mask ? vm->node_mask : ~UINT64_C(0);
    st->free_mib += vm->source_mib;
    for (uint32_t n = 0; n < nr; n++)
        count += (uint32_t)((mask >> n) & 1);
    for (uint32_t n = 0, k = 0; n < nr; n++)
        if ((mask >> n) & 1) {
            st->node_free_mib[n] += vm->source_mib / count + (k < vm->source_mib % count);
            k++;
        }
}

/* ---- packing ---- */

struct pack {
    const struct xf_pool *pool;
    struct xf_pool_host_state *st; /* every host's, changed as VMs are placed */
    const uint32_t *hosts;         /* the destinations */
    uint32_t nr_hosts;
    const uint32_t *vms; /* in packing order */
    const uint64_t *need;
    uint32_t nr_vms;
    struct xf_pool_target *targets; /* per VM of vms[] */
    uint64_t (*node_mib)[XF_MAX_NODES];
    uint32_t placed;
    uint64_t budget;
    uint32_t *cand;      /* scratch: nr_hosts */
    uint64_t (*keys)[2]; /* scratch: nr_hosts */
    uint32_t *stack;     /* the search's candidates: nr_vms x nr_hosts */
};

static int by_free_then_host(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b; /* {free_mib, host} pairs */
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* Candidate hosts for need, by least free memory left, then host order. */
static uint32_t candidates(struct pack *p, uint64_t need)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->nr_hosts; i++) {
        uint32_t h = p->hosts[i];
        if (p->st[h].free_mib < need)
            continue;
        p->keys[n][0] = p->st[h].free_mib;
        p->keys[n][1] = h;
        n++;
    }
    qsort(p->keys, n, sizeof(*p->keys), by_free_then_host);
    for (uint32_t i = 0; i < n; i++)
        p->cand[i] = (uint32_t)p->keys[i][1];
    return n;
}

static void record(struct pack *p, uint32_t k, const struct xf_pool_target *t,
                   const struct xf_plan *plan)
{
    uint32_t j = 0;
    p->targets[k] = *t;
    if (t->numa)
        for (uint32_t n = 0; n < XF_MAX_NODES; n++)
            if (t->node_mask & (UINT64_C(1) << n))
                p->node_mib[k][j++] = plan->memory_mib_per_node[n];
    take(p->pool, &p->st[t->host], t, p->node_mib[k]);
}

/* Places vms[k] greedily: the first NUMA fit among the candidates, else the
 * first host fit. Returns true if placed. */
static bool place_greedy(struct pack *p, uint32_t k, struct xf_plan *plan)
{
    const struct xf_pool_vm *vm = &p->pool->vms[p->vms[k]];
    uint32_t n = candidates(p, p->need[k]);
    struct xf_pool_target t, first = {0};
    bool have_first = false;

    for (uint32_t i = 0; i < n; i++) {
        if (!fit_on(p->pool, &p->st[p->cand[i]], p->cand[i], vm, p->need[k], &t, plan))
            continue;
        if (t.numa) {
            record(p, k, &t, plan);
            return true;
        }
        if (!have_first) {
            first = t;
            have_first = true;
        }
    }
    if (have_first)
        record(p, k, &first, plan);
    return have_first;
}

static bool same_state(const struct xf_pool *pool, const struct xf_pool_host_state *a, uint32_t ha,
                       const struct xf_pool_host_state *b, uint32_t hb)
{
    return pool->hosts[ha].topo == pool->hosts[hb].topo && a->free_mib == b->free_mib &&
           !memcmp(a->node_free_mib, b->node_free_mib,
                   pool->hosts[ha].nr_nodes * sizeof(a->node_free_mib[0]));
}

/* Depth-first: places vms[k..] or returns false (budget spent or no way).
 * `rest` is their total need. */
static bool search(struct pack *p, uint32_t k, uint64_t rest)
{
    const struct xf_pool_vm *vm;
    struct xf_pool_target t;
    struct xf_pool_host_state saved;
    struct xf_plan plan;
    uint64_t total = 0;
    uint32_t *cand, n;

    if (k == p->nr_vms)
        return true;
    if (p->budget == 0)
        return false;
    p->budget--;
    for (uint32_t i = 0; i < p->nr_hosts; i++)
        total += p->st[p->hosts[i]].free_mib;
    if (total < rest)
        return false;
    vm = &p->pool->vms[p->vms[k]];
    n = candidates(p, p->need[k]);
    /* This depth's own copy: deeper levels reuse p->cand. */
    cand = &p->stack[(size_t)k * p->nr_hosts];
    memcpy(cand, p->cand, n * sizeof(*cand));
    /* NUMA fits first, then interleaved ones, as the greedy rule. */
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < n; i++) {
            uint32_t h = cand[i];
            bool dup = false;
            for (uint32_t j = 0; j < i && !dup; j++)
                dup = same_state(p->pool, &p->st[cand[j]], cand[j], &p->st[h], h);
            if (dup)
                continue;
            /* The budget counts host tries, the search's unit of work. */
            if (p->budget == 0)
                return false;
            p->budget--;
            if (!fit_on(p->pool, &p->st[h], h, vm, p->need[k], &t, &plan) || t.numa != (pass == 0))
                continue;
            saved = p->st[h];
            record(p, k, &t, &plan);
            if (search(p, k + 1, rest - p->need[k]))
                return true;
            p->st[h] = saved;
            if (p->budget == 0)
                return false;
        }
    return false;
}

static int by_need_desc(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b; /* {need, index} pairs */
    if (x[0] != y[0])
        return x[0] < y[0] ? 1 : -1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

void xf_pool_plan_done(struct xf_pool_plan *p)
{
    if (!p)
        return;
    xf__free(p->steps);
    xf__free(p->refused);
    xf__free(p->node_mib);
    memset(p, 0, sizeof(*p));
}

static void restore(struct xf_pool_host_state *st, const struct xf_pool_host_state *saved,
                    const uint32_t *hosts, uint32_t nr_hosts)
{
    for (uint32_t i = 0; i < nr_hosts; i++)
        st[hosts[i]] = saved[i];
}

/*
 * Packs `vms` (need from the pool: migration or start) onto `hosts` starting
 * from states `st` (changed: the plan applied). from_host: the source of
 * every VM (a migration) or XF_POOL_NO_HOST (a restart). ret: the plan.
 * `search_budget` 0: greedy only.
 */
static int pack(const struct xf_pool *pool, struct xf_pool_host_state *st, const uint32_t *vms,
                uint32_t nr_vms, bool restart, const uint32_t *hosts, uint32_t nr_hosts,
                uint64_t search_budget, struct xf_pool_plan *ret)
{
    struct pack p = {.pool = pool, .st = st, .hosts = hosts, .nr_hosts = nr_hosts};
    uint64_t(*order)[2] = xf__calloc(nr_vms ? nr_vms : 1, sizeof(*order));
    uint32_t *sorted = xf__calloc(nr_vms ? nr_vms : 1, sizeof(*sorted));
    uint64_t *need = xf__calloc(nr_vms ? nr_vms : 1, sizeof(*need));
    struct xf_pool_host_state *saved = NULL;
    struct xf_plan *plan = xf__malloc(sizeof(*plan));
    bool *ok = xf__calloc(nr_vms ? nr_vms : 1, sizeof(*ok));
    uint64_t rest = 0;
    uint32_t nr_numa = 0;
    int r = XF_ENOMEM;

    memset(ret, 0, sizeof(*ret));
    p.targets = xf__calloc(nr_vms ? nr_vms : 1, sizeof(*p.targets));
    p.node_mib = xf__calloc(nr_vms ? nr_vms : 1, sizeof(*p.node_mib));
    p.cand = xf__calloc(nr_hosts ? nr_hosts : 1, sizeof(*p.cand));
    p.keys = xf__calloc(nr_hosts ? nr_hosts : 1, sizeof(*p.keys));
    if (!order || !sorted || !need || !plan || !ok || !p.targets || !p.node_mib || !p.cand ||
        !p.keys)
        goto out;
    for (uint32_t i = 0; i < nr_vms; i++) {
        const struct xf_pool_vm *vm = &pool->vms[vms[i]];
        order[i][0] = restart ? vm->footprint_mib : xf_pool_vm_need_mib(vm);
        order[i][1] = vms[i];
    }
    qsort(order, nr_vms, sizeof(*order), by_need_desc);
    for (uint32_t i = 0; i < nr_vms; i++) {
        sorted[i] = (uint32_t)order[i][1];
        need[i] = order[i][0];
        rest += need[i];
    }
    p.vms = sorted;
    p.need = need;
    p.nr_vms = nr_vms;
    if (search_budget) {
        /* Only the destinations change while packing: keep theirs. */
        saved = xf__calloc(nr_hosts ? nr_hosts : 1, sizeof(*saved));
        if (!saved)
            goto out;
        for (uint32_t i = 0; i < nr_hosts; i++)
            saved[i] = st[hosts[i]];
    }
    for (uint32_t k = 0; k < nr_vms; k++)
        if ((ok[k] = place_greedy(&p, k, plan)))
            p.placed++;
    if (p.placed < nr_vms && search_budget) {
        if (!(p.stack = xf__calloc((size_t)nr_vms * (nr_hosts ? nr_hosts : 1), sizeof(uint32_t))))
            goto out;
        restore(st, saved, hosts, nr_hosts);
        p.budget = search_budget;
        ret->searched = true;
        if (search(&p, 0, rest)) {
            for (uint32_t k = 0; k < nr_vms; k++)
                ok[k] = true;
            p.placed = nr_vms;
        } else {
            /* Back to the greedy answer, with its refusals. */
            restore(st, saved, hosts, nr_hosts);
            p.placed = 0;
            for (uint32_t k = 0; k < nr_vms; k++)
                if ((ok[k] = place_greedy(&p, k, plan)))
                    p.placed++;
        }
    }
    for (uint32_t k = 0; k < nr_vms; k++)
        if (ok[k] && p.targets[k].numa)
            nr_numa += p.targets[k].nr_nodes;
    ret->steps = xf__calloc(p.placed ? p.placed : 1, sizeof(*ret->steps));
    ret->refused = xf__calloc(nr_vms - p.placed ? nr_vms - p.placed : 1, sizeof(*ret->refused));
    ret->node_mib = xf__calloc(nr_numa ? nr_numa : 1, sizeof(*ret->node_mib));
    if (!ret->steps || !ret->refused || !ret->node_mib)
        goto out;
    for (uint32_t k = 0; k < nr_vms; k++) {
        const struct xf_pool_vm *vm = &pool->vms[sorted[k]];
        if (ok[k]) {
            struct xf_pool_step *s = &ret->steps[ret->nr_steps++];
            s->vm = sorted[k];
            s->from = restart ? XF_POOL_NO_HOST : vm->host;
            s->to = p.targets[k];
            s->node_mib_at = ret->nr_node_mib;
            if (s->to.numa) {
                memcpy(&ret->node_mib[ret->nr_node_mib], p.node_mib[k],
                       s->to.nr_nodes * sizeof(uint64_t));
                ret->nr_node_mib += s->to.nr_nodes;
            }
        } else {
            struct xf_pool_refusal *f = &ret->refused[ret->nr_refused++];
            f->vm = sorted[k];
            f->need_mib = need[k];
            f->best_host = XF_POOL_NO_HOST;
            for (uint32_t i = 0; i < nr_hosts; i++)
                if (f->best_host == XF_POOL_NO_HOST || st[hosts[i]].free_mib > f->best_free_mib) {
                    f->best_host = hosts[i];
                    f->best_free_mib = st[hosts[i]].free_mib;
                }
        }
    }
    /* The source of a migration gets its memory back after its step. */
    if (!restart)
        for (uint32_t i = 0; i < ret->nr_steps; i++)
            give_back(pool, &st[ret->steps[i].from], &pool->vms[ret->steps[i].vm]);
    ret->complete = ret->nr_refused == 0;
    r = 0;
out:
    if (r < 0)
        xf_pool_plan_done(ret);
    xf__free(order);
    xf__free(sorted);
    xf__free(need);
    xf__free(saved);
    xf__free(plan);
    xf__free(ok);
    xf__free(p.targets);
    xf__free(p.node_mib);
    xf__free(p.cand);
    xf__free(p.keys);
    xf__free(p.stack);
    return r;
}

/* ---- evacuation ---- */

int xf_pool_evacuate(const struct xf_pool *pool, uint32_t host, struct xf_pool_plan *ret)
{
    struct xf_pool_host_state *st;
    uint32_t *vms, *hosts, nr_vms = 0, nr_hosts = 0;
    int r = XF_ENOMEM;

    if (!pool || host >= pool->nr_hosts || !ret)
        return XF_EINVAL;
    st = xf__calloc(pool->nr_hosts, sizeof(*st));
    vms = xf__calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(*vms));
    hosts = xf__calloc(pool->nr_hosts, sizeof(*hosts));
    if (!st || !vms || !hosts)
        goto out;
    xf_pool_states(pool, st);
    for (uint32_t i = 0; i < pool->nr_vms; i++)
        if (pool->vms[i].host == host)
            vms[nr_vms++] = i;
    for (uint32_t h = 0; h < pool->nr_hosts; h++)
        if (h != host)
            hosts[nr_hosts++] = h;
    r = pack(pool, st, vms, nr_vms, false, hosts, nr_hosts, SEARCH_BUDGET, ret);
out:
    xf__free(st);
    xf__free(vms);
    xf__free(hosts);
    return r;
}

/* ---- replay ---- */

uint32_t xf_pool_replay(const struct xf_pool *pool, struct xf_pool_host_state *states,
                        const struct xf_pool_plan *plan)
{
    for (uint32_t i = 0; i < plan->nr_steps; i++) {
        const struct xf_pool_step *s = &plan->steps[i];
        struct xf_pool_host_state *d = &states[s->to.host];
        const uint64_t *node_mib = &plan->node_mib[s->node_mib_at];
        if (s->to.host >= pool->nr_hosts || d->free_mib < s->to.need_mib)
            return i;
        if (s->to.numa) {
            uint32_t k = 0;
            for (uint32_t n = 0; n < pool->hosts[s->to.host].nr_nodes; n++)
                if ((s->to.node_mask >> n) & 1) {
                    if (d->node_free_mib[n] < node_mib[k])
                        return i;
                    k++;
                }
        }
        take(pool, d, &s->to, node_mib);
        if (s->from != XF_POOL_NO_HOST)
            give_back(pool, &states[s->from], &pool->vms[s->vm]);
    }
    return plan->nr_steps;
}

/* ---- one VM ---- */

void xf_pool_placement_done(struct xf_pool_placement *p)
{
    if (!p)
        return;
    xf__free(p->verdicts);
    p->verdicts = NULL;
    p->nr_verdicts = 0;
}

/* The rank of a fitting verdict: lower is better. */
static int better(const struct xf_pool_verdict *a, const struct xf_pool_verdict *b)
{
    if (a->numa != b->numa)
        return a->numa ? -1 : 1;
    if (a->numa && a->nr_nodes != b->nr_nodes)
        return a->nr_nodes < b->nr_nodes ? -1 : 1;
    if (a->numa && a->max_distance != b->max_distance)
        return a->max_distance < b->max_distance ? -1 : 1;
    if (a->left_mib != b->left_mib)
        return a->left_mib > b->left_mib ? -1 : 1;
    return (a->host > b->host) - (a->host < b->host);
}

/* Hosts that fit first (by rank), then those short of memory, the VM's own last. */
static int verdict_group(enum xf_pool_verdict_kind kind)
{
    switch (kind) {
    case XF_POOL_CHOSEN:
    case XF_POOL_WORSE:
    case XF_POOL_NO_NODES:
        return 0;
    case XF_POOL_NO_MEMORY:
        return 1;
    case XF_POOL_CURRENT:
        return 2;
    }
    return 3;
}

static int by_verdict(const void *a, const void *b)
{
    const struct xf_pool_verdict *x = a, *y = b;
    int gx = verdict_group(x->kind), gy = verdict_group(y->kind);
    if (gx != gy)
        return gx < gy ? -1 : 1;
    if (gx == 0)
        return better(x, y);
    return (x->host > y->host) - (x->host < y->host);
}

int xf_pool_place(const struct xf_pool *pool, uint32_t vm, struct xf_pool_placement *ret)
{
    const struct xf_pool_vm *v;
    struct xf_pool_verdict *verdicts;
    struct xf_plan *plan;
    struct xf_pool_host_state st;
    uint64_t need;
    int best = -1;

    if (!pool || vm >= pool->nr_vms || !ret)
        return XF_EINVAL;
    v = &pool->vms[vm];
    need = xf_pool_vm_need_mib(v);
    verdicts = xf__calloc(pool->nr_hosts, sizeof(*verdicts));
    plan = xf__malloc(sizeof(*plan));
    if (!verdicts || !plan) {
        xf__free(verdicts);
        xf__free(plan);
        return XF_ENOMEM;
    }
    memset(ret, 0, sizeof(*ret));
    for (uint32_t h = 0; h < pool->nr_hosts; h++) {
        struct xf_pool_verdict *d = &verdicts[h];
        struct xf_pool_target t;
        st.free_mib = pool->hosts[h].free_mib;
        memcpy(st.node_free_mib, pool->hosts[h].node_free_mib, sizeof(st.node_free_mib));
        *d = (struct xf_pool_verdict){.host = h, .need_mib = need, .free_mib = st.free_mib};
        for (uint32_t n = 0; n < pool->hosts[h].nr_nodes; n++)
            if (st.node_free_mib[n] > d->best_node_mib)
                d->best_node_mib = st.node_free_mib[n];
        if (h == v->host) {
            d->kind = XF_POOL_CURRENT;
            continue;
        }
        if (!fit_on(pool, &st, h, v, need, &t, plan)) {
            d->kind = XF_POOL_NO_MEMORY;
            continue;
        }
        d->kind = XF_POOL_WORSE;
        d->numa = t.numa;
        d->nr_nodes = t.numa ? t.nr_nodes : pool->hosts[h].nr_nodes;
        d->max_distance = t.numa ? t.max_distance : 0;
        d->left_mib = st.free_mib - need;
        if (best < 0 || better(d, &verdicts[best]) < 0) {
            best = (int)h;
            ret->target = t;
            ret->plan = *plan;
        }
    }
    if (best >= 0) {
        verdicts[best].kind = XF_POOL_CHOSEN;
        ret->fits = true;
    }
    /* Hosts that fit only interleaved lost for their nodes. */
    for (uint32_t h = 0; h < pool->nr_hosts; h++)
        if (verdicts[h].kind == XF_POOL_WORSE && !verdicts[h].numa && best >= 0 &&
            verdicts[best].numa)
            verdicts[h].kind = XF_POOL_NO_NODES;
    qsort(verdicts, pool->nr_hosts, sizeof(*verdicts), by_verdict);
    ret->verdicts = verdicts;
    ret->nr_verdicts = pool->nr_hosts;
    xf__free(plan);
    return 0;
}

/* ---- HA ---- */

void xf_pool_ha_done(struct xf_pool_ha *ha)
{
    if (!ha)
        return;
    for (size_t i = 0; i < ha->nr_cases; i++) {
        xf__free(ha->cases[i].failed);
        xf_pool_plan_done(&ha->cases[i].plan);
    }
    xf__free(ha->cases);
    xf__free(ha->blocking_vms);
    memset(ha, 0, sizeof(*ha));
}

/* Drops the cases kept so far (their plans and failure sets). */
static void clear_cases(struct xf_pool_ha *ha)
{
    for (size_t i = 0; i < ha->nr_cases; i++) {
        xf__free(ha->cases[i].failed);
        xf_pool_plan_done(&ha->cases[i].plan);
    }
    ha->nr_cases = 0;
}

/* C(n, r), saturating at UINT64_MAX. */
static uint64_t binomial(uint32_t n, uint32_t r)
{
    uint64_t c = 1;
    if (r > n)
        return 0;
    for (uint32_t i = 1; i <= r; i++) {
        unsigned __int128 x = (unsigned __int128)c * (n - r + i) / i;
        if (x > UINT64_MAX)
            return UINT64_MAX;
        c = (uint64_t)x;
    }
    return c;
}

/* The pool's own free memory back on `hosts` (the others are not touched). */
static void reset_states(const struct xf_pool *pool, struct xf_pool_host_state *st,
                         const uint32_t *hosts, uint32_t nr_hosts)
{
    for (uint32_t i = 0; i < nr_hosts; i++) {
        const struct xf_pool_host *h = &pool->hosts[hosts[i]];
        st[hosts[i]].free_mib = h->free_mib;
        memcpy(st[hosts[i]].node_free_mib, h->node_free_mib,
               h->nr_nodes * sizeof(h->node_free_mib[0]));
    }
}

/* Whether `vms` all restart on `hosts` from the pool's states (search included). */
static int restartable(const struct xf_pool *pool, const uint32_t *vms, uint32_t nr_vms,
                       const uint32_t *hosts, uint32_t nr_hosts, struct xf_pool_host_state *st,
                       bool *ret)
{
    struct xf_pool_plan plan;
    int r;
    reset_states(pool, st, hosts, nr_hosts);
    if ((r = pack(pool, st, vms, nr_vms, true, hosts, nr_hosts, SEARCH_BUDGET / 64, &plan)) < 0)
        return r;
    *ret = plan.complete;
    xf_pool_plan_done(&plan);
    return 0;
}

/*
 * The smallest subset of `vms` that cannot restart on `hosts`: by size, each
 * size's subsets in order, while the budget lasts (then proven smallest);
 * past it, the whole set minimised by dropping each VM the rest still fails
 * without. ret_set: at least nr_vms entries.
 */
static int blocking_set(const struct xf_pool *pool, const uint32_t *vms, uint32_t nr_vms,
                        const uint32_t *hosts, uint32_t nr_hosts, struct xf_pool_host_state *st,
                        uint32_t *ret_set, uint32_t *ret_n, bool *ret_smallest)
{
    uint32_t idx[64], sub[64];
    uint64_t budget = BLOCKING_BUDGET;
    bool ok;
    int r;

    for (uint32_t k = 1; k <= nr_vms && k <= 64; k++) {
        if (binomial(nr_vms, k) > budget)
            break;
        budget -= binomial(nr_vms, k);
        for (uint32_t i = 0; i < k; i++)
            idx[i] = i;
        for (;;) {
            for (uint32_t i = 0; i < k; i++)
                sub[i] = vms[idx[i]];
            if ((r = restartable(pool, sub, k, hosts, nr_hosts, st, &ok)) < 0)
                return r;
            if (!ok) {
                memcpy(ret_set, sub, k * sizeof(*sub));
                *ret_n = k;
                *ret_smallest = true;
                return 0;
            }
            /* Next combination in lexicographic order. */
            int i = (int)k - 1;
            while (i >= 0 && idx[i] == nr_vms - k + (uint32_t)i)
                i--;
            if (i < 0)
                break;
            idx[i]++;
            for (uint32_t j = (uint32_t)i + 1; j < k; j++)
                idx[j] = idx[j - 1] + 1;
        }
    }
    /* Minimise: drop every VM the others still fail without. */
    memcpy(ret_set, vms, nr_vms * sizeof(*vms));
    *ret_n = nr_vms;
    for (uint32_t i = 0; i < *ret_n;) {
        uint32_t keep = ret_set[i];
        memmove(&ret_set[i], &ret_set[i + 1], (*ret_n - i - 1) * sizeof(*ret_set));
        if ((r = restartable(pool, ret_set, *ret_n - 1, hosts, nr_hosts, st, &ok)) < 0)
            return r;
        if (!ok) {
            (*ret_n)--;
            continue;
        }
        memmove(&ret_set[i + 1], &ret_set[i], (*ret_n - i - 1) * sizeof(*ret_set));
        ret_set[i] = keep;
        i++;
    }
    *ret_smallest = false;
    return 0;
}

int xf_pool_ha_plan(const struct xf_pool *pool, const struct xf_pool_ha_options *opts,
                    struct xf_pool_ha *ret)
{
    uint32_t shard = opts && opts->shard_hosts ? opts->shard_hosts : (pool ? pool->nr_hosts : 0);
    uint64_t max_cases = opts && opts->max_cases ? opts->max_cases : 1000000, total = 0;
    uint32_t n_fail = opts ? opts->failures : 0;
    struct xf_pool_host_state *st = NULL;
    uint32_t *vms = NULL, *hosts = NULL, *failed = NULL, *set = NULL, *first = NULL,
             *by_host = NULL;
    size_t cap = 0, failing = 0;
    int r = XF_ENOMEM;

    if (!pool || !opts || !ret || n_fail == 0 || n_fail > 64)
        return XF_EINVAL;
    memset(ret, 0, sizeof(*ret));
    for (uint32_t s0 = 0; s0 < pool->nr_hosts; s0 += shard) {
        uint32_t size = pool->nr_hosts - s0 < shard ? pool->nr_hosts - s0 : shard;
        if (n_fail >= size)
            return XF_EINVAL;
        total += binomial(size, n_fail);
        if (total > max_cases)
            return XF_ERANGE;
    }
    st = xf__calloc(pool->nr_hosts, sizeof(*st));
    vms = xf__calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(*vms));
    hosts = xf__calloc(pool->nr_hosts, sizeof(*hosts));
    failed = xf__calloc(n_fail, sizeof(*failed));
    set = xf__calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(*set));
    first = xf__calloc(pool->nr_hosts + 1, sizeof(*first));
    by_host = xf__calloc(pool->nr_vms ? pool->nr_vms : 1, sizeof(*by_host));
    if (!st || !vms || !hosts || !failed || !set || !first || !by_host)
        goto fail;
    /* The protected VMs of each host: by_host[first[h] .. first[h + 1]). */
    for (uint32_t v = 0; v < pool->nr_vms; v++)
        if (pool->vms[v].protect && pool->vms[v].host != XF_POOL_NO_HOST)
            first[pool->vms[v].host + 1]++;
    for (uint32_t h = 0; h < pool->nr_hosts; h++)
        first[h + 1] += first[h];
    /* hosts[] counts each host's VMs placed so far (a scratch until the loop). */
    for (uint32_t v = 0; v < pool->nr_vms; v++) {
        uint32_t h = pool->vms[v].host;
        if (pool->vms[v].protect && h != XF_POOL_NO_HOST)
            by_host[first[h] + hosts[h]++] = v;
    }
    ret->possible = true;
    for (uint32_t s0 = 0; s0 < pool->nr_hosts; s0 += shard) {
        uint32_t size = pool->nr_hosts - s0 < shard ? pool->nr_hosts - s0 : shard;
        uint32_t idx[64];
        for (uint32_t i = 0; i < n_fail; i++)
            idx[i] = i;
        for (;;) {
            uint32_t nr_vms = 0, nr_hosts = 0;
            struct xf_pool_plan plan;
            struct xf_pool_ha_case *c;
            bool set_failed;
            for (uint32_t i = 0; i < n_fail; i++)
                failed[i] = s0 + idx[i];
            for (uint32_t h = s0, i = 0; h < s0 + size; h++) {
                if (i < n_fail && failed[i] == h) {
                    i++;
                    continue;
                }
                hosts[nr_hosts++] = h;
            }
            for (uint32_t i = 0; i < n_fail; i++)
                for (uint32_t k = first[failed[i]]; k < first[failed[i] + 1]; k++)
                    vms[nr_vms++] = by_host[k];
            reset_states(pool, st, hosts, nr_hosts);
            if ((r = pack(pool, st, vms, nr_vms, true, hosts, nr_hosts, SEARCH_BUDGET / 16,
                          &plan)) < 0)
                goto fail;
            set_failed = !plan.complete;
            if (set_failed && ret->possible) {
                /* The first failing set: from now on only failing sets count. */
                clear_cases(ret);
                ret->possible = false;
            }
            if (!set_failed && !ret->possible) {
                xf_pool_plan_done(&plan);
                goto next;
            }
            if (set_failed) {
                uint32_t nb = 0;
                bool smallest = false;
                if ((r = blocking_set(pool, vms, nr_vms, hosts, nr_hosts, st, set, &nb,
                                      &smallest)) < 0) {
                    xf_pool_plan_done(&plan);
                    goto fail;
                }
                if (ret->blocking_vms && nb >= ret->nr_blocking) {
                    xf_pool_plan_done(&plan);
                    goto next;
                }
                /* A smaller blocking set: it and its failure set are the answer. */
                xf__free(ret->blocking_vms);
                if (!(ret->blocking_vms = xf__calloc(nb ? nb : 1, sizeof(uint32_t)))) {
                    xf_pool_plan_done(&plan);
                    goto fail;
                }
                memcpy(ret->blocking_vms, set, nb * sizeof(*set));
                ret->nr_blocking = nb;
                ret->blocking_smallest = smallest;
                clear_cases(ret);
            }
            if (ret->nr_cases == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                void *grown = xf__reallocarray(ret->cases, ncap, sizeof(*ret->cases));
                if (!grown) {
                    xf_pool_plan_done(&plan);
                    goto fail;
                }
                ret->cases = grown;
                cap = ncap;
            }
            c = &ret->cases[ret->nr_cases];
            if (!(c->failed = xf__calloc(n_fail, sizeof(*c->failed)))) {
                xf_pool_plan_done(&plan);
                goto fail;
            }
            memcpy(c->failed, failed, n_fail * sizeof(*failed));
            c->plan = plan;
            ret->nr_cases++;
        next:
            if (set_failed && ++failing >= BLOCKING_CASES)
                goto done;
            {
                int i = (int)n_fail - 1;
                while (i >= 0 && idx[i] == size - n_fail + (uint32_t)i)
                    i--;
                if (i < 0)
                    break;
                idx[i]++;
                for (uint32_t j = (uint32_t)i + 1; j < n_fail; j++)
                    idx[j] = idx[j - 1] + 1;
            }
        }
    }
done:
    r = 0;
    goto out;
fail:
    xf_pool_ha_done(ret);
out:
    xf__free(st);
    xf__free(vms);
    xf__free(hosts);
    xf__free(failed);
    xf__free(set);
    xf__free(first);
    xf__free(by_host);
    return r;
}
