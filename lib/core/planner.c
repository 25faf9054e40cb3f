/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The NUMA placement planner's state and plans: the per-node free memory and
 * placement counters a planner keeps, commit and release, the policies
 * (xen-api's xenops_server.ml, affinity_of_numa_affinity_policy and
 * cores_of_numa_affinity_policy), the two choosers (xenopsd's NUMA.choose in
 * ocaml/xenopsd/lib/topology.ml, and xenfit's balance on the memory left),
 * the per-node split of a VM's memory, and the explanation, in numbers, of a
 * request that does not fit. The search for the best tier is in
 * planner-search.c.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "planner-internal.h"
#include "xenfit/error.h"

static void set_free(struct xf_planner *p, uint32_t node, uint64_t free_mib)
{
    unsigned q = node / 4u, b = node % 4u;

    p->free_mib[node] = free_mib;
    for (unsigned v = 0; v < 16; v++)
        if (v >> b & 1u)
            p->mem_tab[q][v] = p->mem_tab[q][v & ~(1u << b)] + free_mib;
}

int xf_planner_new(const struct xf_topology *topo, enum xf_planner_mode mode,
                   struct xf_planner **ret)
{
    struct xf_planner *p;

    if (!topo || !ret || (mode != XF_PLANNER_XENFIT && mode != XF_PLANNER_XENOPSD))
        return XF_EINVAL;
    p = xf__calloc(1, sizeof(*p));
    if (!p)
        return XF_ENOMEM;
    p->topo = topo;
    p->mode = mode;
    for (uint32_t i = 0; i < topo->nr_nodes; i++)
        set_free(p, i, topo->node_free_mib[i]);
    *ret = p;
    return 0;
}

void xf_planner_free(struct xf_planner *planner)
{
    xf__free(planner);
}

const struct xf_topology *xf_planner_topology(const struct xf_planner *planner)
{
    return planner->topo;
}

enum xf_planner_mode xf_planner_mode(const struct xf_planner *planner)
{
    return planner->mode;
}

void xf__split(const uint64_t free_mib[XF_MAX_NODES], uint64_t nodes, uint64_t mem_mib,
               uint64_t ret_per_node[XF_MAX_NODES])
{
    __extension__ typedef unsigned __int128 u128;
    uint64_t rem[XF_MAX_NODES], total = 0, given = 0;

    if ((nodes & (nodes - 1)) == 0) {
        ret_per_node[xf__ctz64(nodes)] = mem_mib;
        return;
    }
    for (uint64_t m = nodes; m; m &= m - 1)
        total += free_mib[xf__ctz64(m)];
    if (total == 0) {
        for (uint64_t m = nodes; m; m &= m - 1)
            ret_per_node[xf__ctz64(m)] = 0;
        return;
    }
    for (uint64_t m = nodes; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        /* Below 2^32 MiB of VM the product fits 64 bits (a node has at most
         * 2^32 MiB): a 64-bit division, several times cheaper than 128. */
        if (mem_mib < (UINT64_C(1) << 32)) {
            uint64_t x = mem_mib * free_mib[i];
            ret_per_node[i] = x / total;
            rem[i] = x % total;
        } else {
            u128 x = (u128)mem_mib * free_mib[i];
            ret_per_node[i] = (uint64_t)(x / total);
            rem[i] = (uint64_t)(x % total);
        }
        given += ret_per_node[i];
    }
    /* The remainders sum to total * (mem_mib - given) and each is below
     * total, so more than (mem_mib - given) nodes have one: each node gets at
     * most one extra MiB, and only a node whose exact share was above its
     * rounded-down share, hence still within its free memory. */
    uint64_t bumped = 0;
    for (; given < mem_mib; given++) {
        int best = -1;
        for (uint64_t m = nodes & ~bumped; m; m &= m - 1) {
            unsigned i = xf__ctz64(m);
            if (rem[i] == 0)
                continue;
            if (best < 0 || rem[i] > rem[best] ||
                (rem[i] == rem[best] && free_mib[i] > free_mib[best]))
                best = (int)i;
        }
        if (best < 0)
            break; /* the set's free memory does not cover mem_mib */
        ret_per_node[best]++;
        bumped |= UINT64_C(1) << best;
    }
}

/* Is a better than b for xenfit's chooser? */
static bool xenfit_better(const struct xf__pick *a, const struct xf__pick *b)
{
    if (a->min_left != b->min_left)
        return a->min_left > b->min_left;
    if (a->live != b->live)
        return a->live < b->live;
    if (a->free != b->free)
        return a->free > b->free;
    return xf__xenopsd_set_cmp(a->nodes, b->nodes) < 0;
}

void xf__pick_offer(const struct xf_planner *p, const struct xf__need *need, struct xf__pick *pk,
                    uint64_t nodes)
{
    struct xf__pick c = {.have = true, .nodes = nodes};

    if (p->mode == XF_PLANNER_XENOPSD) {
        /* NUMA.choose: the least summed usage; Stdlib.min over the tuples
         * then orders equal usages by the node lists. */
        for (uint64_t m = nodes; m; m &= m - 1)
            c.usage += p->counts.total[xf__ctz64(m)];
        if (!pk->have || c.usage < pk->usage ||
            (c.usage == pk->usage && xf__xenopsd_set_cmp(nodes, pk->nodes) < 0))
            *pk = c;
        return;
    }
    if ((nodes & (nodes - 1)) == 0) {
        unsigned i = xf__ctz64(nodes);
        c.min_left = p->free_mib[i] - need->mem_mib;
        c.live = p->counts.live[i];
        c.free = p->free_mib[i];
    } else {
        uint64_t share[XF_MAX_NODES];
        xf__split(p->free_mib, nodes, need->mem_mib, share);
        c.min_left = UINT64_MAX;
        for (uint64_t m = nodes; m; m &= m - 1) {
            unsigned i = xf__ctz64(m);
            uint64_t left = p->free_mib[i] - share[i];
            if (left < c.min_left)
                c.min_left = left;
            c.live += p->counts.live[i];
            c.free += p->free_mib[i];
        }
    }
    if (!pk->have || xenfit_better(&c, pk))
        *pk = c;
}

/* Fills the plan's nodes, split, CPUs and distances for a set. */
static void fill_nodes(const struct xf_planner *p, struct xf_plan *plan, uint64_t nodes)
{
    const struct xf_topology *t = p->topo;
    uint64_t sum = 0;
    uint32_t max = 0;
    bool reachable = true;

    plan->node_mask = nodes;
    plan->nr_nodes = xf__popcount64(nodes);
    xf__split(p->free_mib, nodes, plan->memory_mib, plan->memory_mib_per_node);
    for (uint64_t m = nodes; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        const uint64_t *bits = t->node_cpu_bits + (size_t)i * t->nr_cpu_words;
        for (uint32_t w = 0; w < t->nr_cpu_words; w++)
            plan->cpus[w] |= bits[w];
        plan->nr_cpus += t->node_cpus[i];
        plan->cores_available += t->node_cores[i];
        for (uint64_t r = nodes; r; r &= r - 1) {
            unsigned j = xf__ctz64(r);
            if (t->dist[i][j] == XF_TOPOLOGY_UNREACHABLE) {
                reachable = false;
                continue;
            }
            sum += t->dist[i][j];
            if (t->dist[i][j] > max)
                max = t->dist[i][j];
        }
    }
    plan->has_distances = reachable;
    if (reachable) {
        plan->max_distance = max;
        plan->avg_distance = (double)sum / ((double)plan->nr_nodes * plan->nr_nodes);
    }
}

/* Why nothing fits, over the nodes `among`, in numbers and in a sentence. */
static void explain_nofit(const struct xf_planner *p, struct xf_plan *plan, uint64_t among,
                          const struct xf__need *need)
{
    const struct xf_topology *t = p->topo;
    struct xf_nofit *nf = &plan->nofit;
    char shortage[160] = "";
    size_t at = 0;

    plan->outcome = XF_PLAN_NO_FIT;
    nf->memory_mib_needed = need->mem_mib;
    nf->vcpus = need->vcpus;
    nf->cores_needed = need->cores;
    for (uint64_t m = among; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        if (m == among || p->free_mib[i] > nf->best_node_free_mib) {
            nf->best_node = i;
            nf->best_node_free_mib = p->free_mib[i];
        }
        nf->host_free_mib += p->free_mib[i];
        nf->host_cpus += t->node_cpus[i];
        nf->host_cores += t->node_cores[i];
    }
    if (need->mem_mib > nf->host_free_mib)
        nf->exceeded |= XF_NOFIT_MEMORY;
    if (need->vcpus > nf->host_cpus)
        nf->exceeded |= XF_NOFIT_CPUS;
    if (need->cores > nf->host_cores)
        nf->exceeded |= XF_NOFIT_CORES;
    if (nf->exceeded == 0)
        nf->exceeded = XF_NOFIT_TOPOLOGY;

    if (nf->exceeded & XF_NOFIT_TOPOLOGY) {
        snprintf(shortage, sizeof(shortage), "%s",
                 p->mode == XF_PLANNER_XENOPSD && t->nr_reachable > XF_TOPOLOGY_EXHAUSTIVE_NODES
                     ? "no single node has enough, and xenopsd's mode tries only single nodes "
                       "above 16 nodes"
                     : "no set of mutually reachable nodes has enough");
    } else {
        static const struct {
            uint32_t bit;
            const char *what;
        } names[] = {
            {XF_NOFIT_MEMORY, "memory"}, {XF_NOFIT_CPUS, "CPUs"}, {XF_NOFIT_CORES, "cores"}};
        at = (size_t)snprintf(shortage, sizeof(shortage), "short of");
        for (size_t k = 0; k < XF_ARRAY_SIZE(names); k++)
            if (nf->exceeded & names[k].bit && at < sizeof(shortage))
                at += (size_t)snprintf(shortage + at, sizeof(shortage) - at, "%s %s",
                                       at > strlen("short of") ? "," : "", names[k].what);
    }
    /* Restricted to some nodes (pinned vCPUs): the numbers are theirs. */
    snprintf(plan->reason, sizeof(plan->reason),
             "does not fit: needs %llu MiB, %u vCPUs, %u cores; the best node (%u) has %llu MiB "
             "free, %s %llu MiB free, %u CPUs, %u cores (%s)",
             (unsigned long long)nf->memory_mib_needed, nf->vcpus, nf->cores_needed, nf->best_node,
             (unsigned long long)nf->best_node_free_mib,
             among == t->reachable ? "the host" : "the nodes allowed",
             (unsigned long long)nf->host_free_mib, nf->host_cpus, nf->host_cores, shortage);
}

/* Policy any: no placement; Xen interleaves the memory over every node. */
static void plan_interleave(const struct xf_planner *p, struct xf_plan *plan,
                            const struct xf__need *need)
{
    const struct xf_topology *t = p->topo;
    uint64_t all = t->nr_nodes == 64 ? UINT64_MAX : (UINT64_C(1) << t->nr_nodes) - 1;
    uint64_t total = 0;

    for (uint32_t i = 0; i < t->nr_nodes; i++)
        total += p->free_mib[i];
    if (total < need->mem_mib) {
        explain_nofit(p, plan, all, need);
        return;
    }
    plan->outcome = XF_PLAN_INTERLEAVE;
    plan->fits = true;
    plan->affinity = XF_AFFINITY_NONE;
    fill_nodes(p, plan, all);
    plan->exhaustive = true;
}

int xf_planner_plan(const struct xf_planner *planner, const struct xf_numa_request *req,
                    struct xf_plan *ret_plan)
{
    const struct xf_topology *t;
    struct xf__need need;
    struct xf__pick pick = {0};
    struct xf__proof proof;

    if (!planner || !req || !ret_plan || req->memory_mib == 0 ||
        req->memory_mib > XF_NODE_FREE_MIB_MAX * XF_MAX_NODES || req->vcpus == 0 ||
        req->vcpus > XF_MAX_CPUS ||
        (req->cores > XF_MAX_CPUS && req->cores != XF_CORES_FROM_POLICY))
        return XF_EINVAL;
    switch (req->policy) {
    case XF_NUMA_POLICY_ANY:
    case XF_NUMA_POLICY_PRIO_MEM_ONLY:
        need.cores = 0;
        break;
    case XF_NUMA_POLICY_BEST_EFFORT:
    case XF_NUMA_POLICY_BEST_EFFORT_HARD:
        need.cores = req->vcpus;
        break;
    default:
        return XF_EINVAL;
    }
    if (req->cores != XF_CORES_FROM_POLICY)
        need.cores = req->cores;
    need.mem_mib = req->memory_mib;
    need.vcpus = req->vcpus;
    need.allowed =
        planner->topo->reachable & (req->nodes_allowed ? req->nodes_allowed : UINT64_MAX);

    t = planner->topo;
    memset(ret_plan, 0, sizeof(*ret_plan));
    ret_plan->policy = req->policy;
    ret_plan->memory_mib = need.mem_mib;
    ret_plan->vcpus = need.vcpus;
    ret_plan->cores = need.cores;
    if (req->policy == XF_NUMA_POLICY_ANY) {
        plan_interleave(planner, ret_plan, &need);
        return 0;
    }
    if (t->status != XF_NUMA_ON) {
        ret_plan->outcome = XF_PLAN_NUMA_OFF;
        snprintf(ret_plan->reason, sizeof(ret_plan->reason), "NUMA placement is off: %s",
                 t->reason);
        return 0;
    }
    proof.exhaustive = true; /* no node allowed: nothing left to search */
    if (!need.allowed || !xf__plan_search(planner, &need, &pick, &proof)) {
        explain_nofit(planner, ret_plan, need.allowed, &need);
        ret_plan->exhaustive = proof.exhaustive;
        return 0;
    }
    ret_plan->outcome = XF_PLAN_NODES;
    ret_plan->fits = true;
    ret_plan->affinity =
        req->policy == XF_NUMA_POLICY_BEST_EFFORT_HARD ? XF_AFFINITY_HARD : XF_AFFINITY_SOFT;
    ret_plan->exhaustive = proof.exhaustive;
    fill_nodes(planner, ret_plan, pick.nodes);
    if (!proof.exhaustive && ret_plan->has_distances) {
        /* How far the best set may be: in max distance, and in average
         * among the sets with a max up to the plan's (docs/topology.md). */
        double lb = proof.lb_avg_num == UINT64_MAX
                        ? ret_plan->avg_distance
                        : (double)proof.lb_avg_num / (double)proof.lb_avg_den;
        ret_plan->gap_max_distance = ret_plan->max_distance - proof.lb_max;
        ret_plan->gap_avg_distance = ret_plan->avg_distance > lb ? ret_plan->avg_distance - lb : 0;
    }
    return 0;
}

int xf_plan_numa(const struct xf_topology *topo, enum xf_planner_mode mode,
                 const uint64_t node_free_mib[XF_MAX_NODES],
                 const struct xf_placement_counts *counts, const struct xf_numa_request *req,
                 struct xf_plan *ret_plan)
{
    struct xf_planner p;

    if (!topo || !node_free_mib || (mode != XF_PLANNER_XENFIT && mode != XF_PLANNER_XENOPSD))
        return XF_EINVAL;
    for (uint32_t i = 0; i < topo->nr_nodes; i++)
        if (node_free_mib[i] > XF_NODE_FREE_MIB_MAX)
            return XF_ERANGE;
    /* A planner on the stack over the given state: the nibble tables that
     * make set sums fast are derived data, rebuilt here (at most 64 x 16
     * additions), so nothing outlives the call. */
    p.topo = topo;
    p.mode = mode;
    memset(p.mem_tab, 0, sizeof(p.mem_tab));
    memset(p.free_mib, 0, sizeof(p.free_mib));
    for (uint32_t i = 0; i < topo->nr_nodes; i++)
        set_free(&p, i, node_free_mib[i]);
    if (counts)
        p.counts = *counts;
    else
        memset(&p.counts, 0, sizeof(p.counts));
    return xf_planner_plan(&p, req, ret_plan);
}

static int check_plan(const struct xf_planner *p, const struct xf_plan *plan)
{
    uint32_t n = p->topo->nr_nodes;
    uint64_t all = n == 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1;
    uint64_t sum = 0;

    if (!plan->fits || (plan->outcome != XF_PLAN_NODES && plan->outcome != XF_PLAN_INTERLEAVE) ||
        plan->node_mask == 0 || (plan->node_mask & ~all))
        return XF_EINVAL;
    for (uint64_t m = plan->node_mask; m; m &= m - 1)
        sum += plan->memory_mib_per_node[xf__ctz64(m)];
    return sum == plan->memory_mib ? 0 : XF_EINVAL;
}

int xf_planner_commit(struct xf_planner *planner, const struct xf_plan *plan)
{
    int r;

    if (!planner || !plan)
        return XF_EINVAL;
    r = check_plan(planner, plan);
    if (r < 0)
        return r;
    for (uint64_t m = plan->node_mask; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        if (plan->memory_mib_per_node[i] > planner->free_mib[i])
            return XF_ENOFIT;
    }
    for (uint64_t m = plan->node_mask; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        set_free(planner, i, planner->free_mib[i] - plan->memory_mib_per_node[i]);
        if (plan->outcome == XF_PLAN_NODES) {
            planner->counts.total[i]++;
            planner->counts.live[i]++;
        }
    }
    return 0;
}

int xf_planner_release(struct xf_planner *planner, const struct xf_plan *plan)
{
    int r;

    if (!planner || !plan)
        return XF_EINVAL;
    r = check_plan(planner, plan);
    if (r < 0)
        return r;
    for (uint64_t m = plan->node_mask; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        if (plan->outcome == XF_PLAN_NODES && planner->counts.live[i] == 0)
            return XF_EINVAL; /* never committed */
        if (plan->memory_mib_per_node[i] > XF_NODE_FREE_MIB_MAX - planner->free_mib[i])
            return XF_EOVERFLOW;
    }
    for (uint64_t m = plan->node_mask; m; m &= m - 1) {
        unsigned i = xf__ctz64(m);
        set_free(planner, i, planner->free_mib[i] + plan->memory_mib_per_node[i]);
        if (plan->outcome == XF_PLAN_NODES)
            planner->counts.live[i]--;
    }
    return 0;
}

int xf_planner_place(struct xf_planner *planner, const struct xf_numa_request *req,
                     struct xf_plan *ret_plan)
{
    int r = xf_planner_plan(planner, req, ret_plan);
    if (r < 0 || !ret_plan->fits)
        return r;
    return xf_planner_commit(planner, ret_plan);
}

int xf_planner_set_node_free(struct xf_planner *planner, uint32_t node, uint64_t free_mib)
{
    if (!planner || node >= planner->topo->nr_nodes)
        return XF_EINVAL;
    if (free_mib > XF_NODE_FREE_MIB_MAX)
        return XF_ERANGE;
    set_free(planner, node, free_mib);
    return 0;
}

const struct xf_placement_counts *xf_planner_counts(const struct xf_planner *planner)
{
    return &planner->counts;
}

uint64_t xf_planner_node_free(const struct xf_planner *planner, uint32_t node)
{
    return node < planner->topo->nr_nodes ? planner->free_mib[node] : 0;
}

uint64_t xf_planner_node_placements(const struct xf_planner *planner, uint32_t node)
{
    return node < planner->topo->nr_nodes ? planner->counts.total[node] : 0;
}

uint64_t xf_planner_node_live_placements(const struct xf_planner *planner, uint32_t node)
{
    return node < planner->topo->nr_nodes ? planner->counts.live[node] : 0;
}

static const char *const policy_names[] = {
    [XF_NUMA_POLICY_ANY] = "any",
    [XF_NUMA_POLICY_BEST_EFFORT] = "best_effort",
    [XF_NUMA_POLICY_BEST_EFFORT_HARD] = "best_effort_hard",
    [XF_NUMA_POLICY_PRIO_MEM_ONLY] = "prio_mem_only",
};

static const char *const mode_names[] = {
    [XF_PLANNER_XENFIT] = "xenfit",
    [XF_PLANNER_XENOPSD] = "xenopsd",
};

/* The index of s in names[0..n), or -1. */
static int name_index(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

const char *xf_numa_policy_name(enum xf_numa_policy policy)
{
    return (unsigned)policy < XF_ARRAY_SIZE(policy_names) ? policy_names[policy] : "unknown";
}

bool xf_numa_policy_valid(enum xf_numa_policy policy)
{
    return (unsigned)policy < XF_ARRAY_SIZE(policy_names);
}

int xf_numa_policy_parse(const char *s, enum xf_numa_policy *ret)
{
    int i = name_index(policy_names, XF_ARRAY_SIZE(policy_names), s);
    if (i < 0)
        return XF_EINVAL;
    *ret = (enum xf_numa_policy)i;
    return 0;
}

const char *xf_planner_mode_name(enum xf_planner_mode mode)
{
    return (unsigned)mode < XF_ARRAY_SIZE(mode_names) ? mode_names[mode] : "unknown";
}

int xf_planner_mode_parse(const char *s, enum xf_planner_mode *ret)
{
    int i = name_index(mode_names, XF_ARRAY_SIZE(mode_names), s);
    if (i < 0)
        return XF_EINVAL;
    *ret = (enum xf_planner_mode)i;
    return 0;
}

const char *xf_affinity_name(enum xf_affinity affinity)
{
    switch (affinity) {
    case XF_AFFINITY_SOFT:
        return "soft";
    case XF_AFFINITY_HARD:
        return "hard";
    default:
        return "none";
    }
}
