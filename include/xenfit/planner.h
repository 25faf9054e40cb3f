/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The NUMA placement planner: given a topology (include/xenfit/topology.h),
 * the live per-node state a planner keeps, and a VM's request, choose the
 * node(s) whose memory and CPUs the VM should use, how many MiB go on each,
 * and the CPU set for its vCPUs' affinity; or say, in numbers, why nothing
 * fits. It reimplements xenopsd's Topology and Softaffinity modules
 * (ocaml/xenopsd/lib/topology.ml, softaffinity.ml: Softaffinity.plan,
 * NUMA.choose) and goes past them: it balances on the memory each node has
 * left rather than on a counter that only grows, it accounts for plans not yet
 * visible in the hypervisor (commit / release), splits a multi-node VM's
 * memory per node, and finds multi-node plans above 16 nodes.
 *
 * Planning is a pure function of (topology, node free memory, placements per
 * node, request): xf_plan_numa. A struct xf_planner is a convenience that
 * keeps that state for a caller placing VMs one after another (the scenario
 * runner, `xenfit plan`): the memory each node has free for new VMs and, per
 * node, the number of placements made. Planning with it is a pure query
 * (const planner, no allocation); committing a plan subtracts its
 * memory and counts it, releasing it gives both back. Callers serialise access
 * to one planner (the admission module keeps one per host under its lock).
 * docs/topology.md describes the policies, modes, the split rule and limits.
 */
#ifndef XENFIT_PLANNER_H
#define XENFIT_PLANNER_H

#include <stdbool.h>
#include <stdint.h>

#include "xenfit/topology.h"

/* Host.numa_affinity_policy in xen-api (xenops_server.ml,
 * affinity_of_numa_affinity_policy and cores_of_numa_affinity_policy). */
enum xf_numa_policy {
    XF_NUMA_POLICY_ANY = 0,          /* no placement: Xen interleaves over every node */
    XF_NUMA_POLICY_BEST_EFFORT,      /* soft affinity, physical cores >= vCPUs */
    XF_NUMA_POLICY_BEST_EFFORT_HARD, /* the same, as hard affinity */
    XF_NUMA_POLICY_PRIO_MEM_ONLY,    /* soft affinity, no cores requirement */
};

/* How the planner chooses among the fitting sets of the best distance tier. */
enum xf_planner_mode {
    /* Balance on live state: the set whose nodes keep the most memory after
     * the VM (the largest minimum left), then the fewest live placements, then
     * the most free memory, then xenopsd's order. */
    XF_PLANNER_XENFIT = 0,
    /* Reproduce xenopsd: the least summed per-node placement counter (which
     * only grows), then OCaml's ordering of the node lists; single nodes only
     * above 16 reachable nodes, exactly as NUMA.gen_candidates. */
    XF_PLANNER_XENOPSD,
};

/* The request's cores field takes the policy's default (vCPUs for the
 * best_effort policies, 0 otherwise). */
#define XF_CORES_FROM_POLICY UINT32_MAX

/* A VM's request. */
struct xf_numa_request {
    uint64_t memory_mib; /* 1 .. XF_NODE_FREE_MIB_MAX * XF_MAX_NODES */
    uint32_t vcpus;      /* 1 .. XF_MAX_CPUS */
    uint32_t cores;      /* physical cores wanted, or XF_CORES_FROM_POLICY */
    enum xf_numa_policy policy;
    /* The nodes the plan may use (a bit each; 0: every reachable node). A
     * VM whose vCPUs are pinned (xl's cpus=) may only be placed on the nodes
     * of its CPUs: Xen's allocator takes memory from the domain's node
     * affinity first (xen/common/page_alloc.c, get_free_buddy), and memory
     * away from the pinned CPUs is what the pinning is meant to avoid. A
     * request that does not fit them is NO_FIT, its numbers over them. */
    uint64_t nodes_allowed;
};

enum xf_plan_outcome {
    XF_PLAN_NODES = 0,  /* placed on plan.node_mask */
    XF_PLAN_INTERLEAVE, /* policy any: no affinity, memory over every node */
    XF_PLAN_NO_FIT,     /* nothing fits: see plan.nofit and plan.reason */
    XF_PLAN_NUMA_OFF,   /* the topology does not allow placement: plan.reason */
};

enum xf_affinity {
    XF_AFFINITY_NONE = 0,
    XF_AFFINITY_SOFT,
    XF_AFFINITY_HARD,
};

/* Which resources a request exceeds (bits of xf_nofit.exceeded). */
enum {
    XF_NOFIT_MEMORY = 1u << 0, /* more than the whole host's free memory */
    XF_NOFIT_CPUS = 1u << 1,   /* more vCPUs than the host's CPUs */
    XF_NOFIT_CORES = 1u << 2,  /* more cores wanted than the host has */
    /* The host as a whole would do, but no set of mutually reachable nodes does. */
    XF_NOFIT_TOPOLOGY = 1u << 3,
};

/* Why a request does not fit, in numbers (over the reachable nodes). */
struct xf_nofit {
    uint32_t exceeded; /* XF_NOFIT_* bits */
    uint64_t memory_mib_needed;
    uint32_t best_node; /* the node with the most free memory */
    uint64_t best_node_free_mib;
    uint64_t host_free_mib;
    uint32_t vcpus;
    uint32_t host_cpus;
    uint32_t cores_needed;
    uint32_t host_cores;
};

#define XF_PLAN_REASON_LEN 384

struct xf_plan {
    enum xf_plan_outcome outcome;
    bool fits; /* outcome is XF_PLAN_NODES or XF_PLAN_INTERLEAVE */
    enum xf_numa_policy policy;
    enum xf_affinity affinity; /* how the vCPUs should be pinned to cpus */
    uint64_t memory_mib;       /* the request's */
    uint32_t vcpus;
    uint32_t cores;     /* the cores requirement actually applied */
    uint64_t node_mask; /* bit per node */
    uint32_t nr_nodes;
    /* Per node, sums to memory_mib and is <= that node's free memory. */
    uint64_t memory_mib_per_node[XF_MAX_NODES];
    uint64_t cpus[XF_CPU_SET_WORDS]; /* bit per logical CPU: the nodes' CPUs */
    uint32_t nr_cpus;
    uint32_t cores_available; /* physical cores of the chosen nodes */
    bool has_distances;       /* false for an interleave over unreachable pairs */
    uint32_t max_distance;
    double avg_distance;             /* over ordered pairs, self included (xenopsd) */
    bool exhaustive;                 /* the tier is proven the best (always up to 16 nodes) */
    struct xf_nofit nofit;           /* outcome XF_PLAN_NO_FIT */
    char reason[XF_PLAN_REASON_LEN]; /* outcome NO_FIT or NUMA_OFF: a sentence */
    /*
     * When the plan fits but is not proven the best (!exhaustive: the search
     * past 16 nodes stopped at its work budget), how far from the best it
     * may be, in the planner's score -- the max distance first, then the
     * average: no fitting set has a max distance below max_distance -
     * gap_max_distance, and none whose max distance is at most the plan's
     * has an average below avg_distance - gap_avg_distance. Both 0 for a
     * proven plan. (After every other field: callers built against the
     * older struct keep their meaning.)
     */
    uint32_t gap_max_distance;
    double gap_avg_distance;
};

/* The placements per node a plan balances on, besides free memory. Whoever
 * makes placements owns them (the host engine; a struct xf_planner keeps its
 * own). */
struct xf_placement_counts {
    uint64_t total[XF_MAX_NODES]; /* every placement (xenopsd's NUMA.node_usage, only grows) */
    uint64_t live[XF_MAX_NODES];  /* committed and not released: xenfit's mode */
};

/*
 * The planner as a pure function: plans one VM on `topo` given each node's
 * memory free for new VMs (node_free_mib[0 .. nr_nodes), MiB) and its
 * placements (`counts`; NULL for none). Changes nothing, allocates nothing.
 * Returns 0 and the plan, whether or not it fits (ret_plan->outcome);
 * XF_EINVAL for a request out of range (as xf_planner_plan), a bad mode or a
 * NULL argument; XF_ERANGE for a node's free memory above
 * XF_NODE_FREE_MIB_MAX. xf_planner_plan gives the same plan for a planner in
 * the same state.
 */
int xf_plan_numa(const struct xf_topology *topo, enum xf_planner_mode mode,
                 const uint64_t node_free_mib[XF_MAX_NODES],
                 const struct xf_placement_counts *counts, const struct xf_numa_request *req,
                 struct xf_plan *ret_plan);

struct xf_planner;

/*
 * A planner over `topo` (which must outlive it) starting from the snapshot's
 * free memory and zero placements. Returns 0, XF_EINVAL for a bad mode, or
 * XF_ENOMEM. Free it with xf_planner_free (accepts NULL).
 */
int xf_planner_new(const struct xf_topology *topo, enum xf_planner_mode mode,
                   struct xf_planner **ret);
void xf_planner_free(struct xf_planner *planner);

const struct xf_topology *xf_planner_topology(const struct xf_planner *planner);
enum xf_planner_mode xf_planner_mode(const struct xf_planner *planner);

/*
 * Plans one VM against the planner's current state, changing nothing. Returns
 * 0 and the plan, whether or not it fits (see ret_plan->outcome), or XF_EINVAL
 * for a request out of range (memory 0, vCPUs 0 or above XF_MAX_CPUS, an
 * unknown policy). The caller owns ret_plan; nothing is allocated.
 */
int xf_planner_plan(const struct xf_planner *planner, const struct xf_numa_request *req,
                    struct xf_plan *ret_plan);

/*
 * Records a fitting plan: subtracts its memory from each node and counts one
 * placement on each of its nodes. Returns 0; XF_EINVAL for a plan that does
 * not fit or names a node this topology lacks; XF_ENOFIT, changing nothing,
 * if a node no longer has the plan's memory free (the state moved since the
 * plan was made).
 */
int xf_planner_commit(struct xf_planner *planner, const struct xf_plan *plan);

/*
 * Undoes a committed plan (its reservation ended): gives its memory back and
 * removes its live placements. xenopsd's counters only grow, so the xenopsd
 * mode's counters keep counting it. Returns 0, XF_EINVAL as for commit, or
 * XF_EOVERFLOW if a node's memory would exceed XF_NODE_FREE_MIB_MAX.
 */
int xf_planner_release(struct xf_planner *planner, const struct xf_plan *plan);

/* Plans and, if the plan fits, commits it. Returns as xf_planner_plan. */
int xf_planner_place(struct xf_planner *planner, const struct xf_numa_request *req,
                     struct xf_plan *ret_plan);

/*
 * Sets a node's free memory from outside (a fresh reading from the
 * hypervisor). Returns 0, XF_EINVAL for a node out of range, or XF_ERANGE
 * above XF_NODE_FREE_MIB_MAX.
 */
int xf_planner_set_node_free(struct xf_planner *planner, uint32_t node, uint64_t free_mib);

/* The planner's placement counters (valid while the planner lives). */
const struct xf_placement_counts *xf_planner_counts(const struct xf_planner *planner);

/* A node's free memory, and its placement counters: every placement ever
 * committed (xenopsd's NUMA.node_usage) and those not yet released. 0 for a
 * node out of range. */
uint64_t xf_planner_node_free(const struct xf_planner *planner, uint32_t node);
uint64_t xf_planner_node_placements(const struct xf_planner *planner, uint32_t node);
uint64_t xf_planner_node_live_placements(const struct xf_planner *planner, uint32_t node);

/* Names for output and parsing: "any", "best_effort", "best_effort_hard",
 * "prio_mem_only"; "xenfit", "xenopsd"; "soft", "hard", "none". Parsers
 * return 0 or XF_EINVAL. */
const char *xf_numa_policy_name(enum xf_numa_policy policy);
/* Whether `policy` is one of enum xf_numa_policy (xf_numa_policy_name gives
 * "unknown", never NULL, for any other value). */
bool xf_numa_policy_valid(enum xf_numa_policy policy);
int xf_numa_policy_parse(const char *s, enum xf_numa_policy *ret);
const char *xf_planner_mode_name(enum xf_planner_mode mode);
int xf_planner_mode_parse(const char *s, enum xf_planner_mode *ret);
const char *xf_affinity_name(enum xf_affinity affinity);

#endif
