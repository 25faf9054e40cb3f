/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Pool planning: where in a pool of Xen hosts a VM should go (host and NUMA
 * node(s)), in which order and where a host's VMs should migrate to empty it
 * (evacuation, rolling upgrade), and where protected VMs restart after any N
 * host failures (HA). A pool is a snapshot: each host as xenfitd's
 * xenfit.host_status reports it, and the VMs with their footprints and the
 * memory they hold now (docs/pool.md gives the JSON form). Planning is pure:
 * it never talks to a host; every plan is a list of steps each of which fits
 * at the moment it runs, counted the way the destination will count it:
 *  - a migration needs max(footprint, source) MiB on the destination while
 *    the source still holds the VM (memory_total_source, xen-orchestra
 *    issue #10260), and the source's memory comes back only after the step;
 *  - reservations in flight on a host (pending_kib) are not free;
 *  - squeezed keeps low_mem_emergency_pool + extra_mem_to_keep back from
 *    every host (XF_XAPI6869_RESERVE_PAGES, 72 MiB; more if the host's
 *    low-memory reserve is larger than Xen's 64 MiB default);
 *  - the VM's memory must fit a set of the destination's NUMA nodes
 *    (xf_plan_numa), or, failing that, the host as a whole (interleaved, as
 *    xenopsd falls back to no affinity).
 * Beside it, xf_binpack_* transcribe xapi's planner (ocaml/xapi/binpack.ml,
 * used by xapi_ha_vm_failover.ml) so the two can be compared on one pool.
 */
#ifndef XENFIT_POOL_H
#define XENFIT_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenfit/planner.h"
#include "xenfit/topology.h"
#include "xenfit/types.h"

#define XF_POOL_NAME_LEN 64u
/* Hosts and VMs one pool may describe. */
#define XF_POOL_MAX_HOSTS 65536u
#define XF_POOL_MAX_VMS   (1u << 24)
/* A VM not running anywhere (halted, or to be started). */
#define XF_POOL_NO_HOST UINT32_MAX

struct xf_pool_host {
    char name[XF_POOL_NAME_LEN];
    struct xf_topology *topo; /* owned: distances, CPUs, cores of the host */
    uint32_t nr_nodes;
    /* What a VM may take, for xenfit: free_kib (physinfo free less
     * outstanding claims) less pending_kib less keep_mib; per node, the
     * node's free_for_new_vm_kib (it already subtracts claims, the DMA zone
     * and pending reservations), capped by the host figure. MiB, rounded
     * down. */
    uint64_t free_mib;
    uint64_t node_free_mib[XF_MAX_NODES];
    uint64_t pending_mib; /* reservations in flight (host_status pending_kib) */
    uint64_t keep_mib;    /* what squeezed keeps back on this host */
    /* What xapi's binpack counts for the host: free_kib less keep_mib, with
     * reservations in flight and nodes unseen. */
    uint64_t binpack_free_mib;
};

struct xf_pool_vm {
    char name[XF_POOL_NAME_LEN];
    uint32_t host; /* index of the host it runs on, XF_POOL_NO_HOST if halted */
    /* required_host_free_mib at its current target: what a start needs. */
    uint64_t footprint_mib;
    /* What the running domain holds now (memory_total_source plus its
     * overhead): what a migration holds on the destination and what its
     * source gets back afterwards. 0 for a halted VM. */
    uint64_t source_mib;
    /* What xapi's planner counts for it (xapi_ha_vm_failover.ml vm_memory:
     * vm_compute_start_memory at dynamic_min for HVM and PV): binpack only. */
    uint64_t xapi_mib;
    uint64_t node_mask; /* the nodes its memory is on now (0: all of its host's) */
    uint32_t vcpus;
    bool protect; /* HA: restart it after a host failure */
};

/* A name and its index, sorted by name for lookups. */
struct xf_pool_name {
    const char *name;
    uint32_t index;
};

struct xf_pool {
    struct xf_pool_host *hosts;
    uint32_t nr_hosts;
    struct xf_pool_vm *vms;
    uint32_t nr_vms;
    enum xf_numa_policy policy; /* the pool's NUMA placement policy */
    /* Sorted by name (xf_pool_index_names; NULL: lookups scan). */
    struct xf_pool_name *host_names, *vm_names;
};

/*
 * Parses a pool description (docs/pool.md) in buf[0..len): "hosts" each with
 * its host_status object inline under "status", "vms", optional
 * "numa_policy". Returns 0 and a pool (free with xf_pool_free), XF_EPARSE or
 * XF_EINVAL with errbuf naming the offending value (hosts[1].status.nodes[0]
 * ..., vms[3].host "h9": no such host), XF_EBADTOPO, XF_ENOMEM.
 */
int xf_pool_new_from_json(const char *buf, size_t len, char *errbuf, size_t errlen,
                          struct xf_pool **ret);
void xf_pool_free(struct xf_pool *pool);

/* Index of a host or VM by name; XF_ENOENT if none. */
int xf_pool_host_index(const struct xf_pool *pool, const char *name, uint32_t *ret);
int xf_pool_vm_index(const struct xf_pool *pool, const char *name, uint32_t *ret);

/* What a move of `vm` to another host needs there: a start needs its
 * footprint; a running VM's migration max(footprint, source). */
uint64_t xf_pool_vm_need_mib(const struct xf_pool_vm *vm);

/* A host's free memory as planning goes (a copy a plan mutates). */
struct xf_pool_host_state {
    uint64_t free_mib;
    uint64_t node_free_mib[XF_MAX_NODES];
};

/* Where one VM goes on one host. */
struct xf_pool_target {
    uint32_t host;
    bool numa;          /* placed on node_mask; false: interleaved over the host */
    uint64_t node_mask; /* numa: the plan's nodes */
    uint32_t nr_nodes;
    uint32_t max_distance;    /* numa: the largest SLIT distance between them */
    uint64_t need_mib;        /* what the step needs on the host */
    uint64_t free_before_mib; /* the host's free memory when the step runs */
};

/* How each host fared in xf_pool_place. */
enum xf_pool_verdict_kind {
    XF_POOL_CHOSEN = 0,
    XF_POOL_CURRENT,   /* the VM already runs there */
    XF_POOL_NO_MEMORY, /* the host's free memory is below the need */
    XF_POOL_NO_NODES,  /* the host would do, no node set does (interleaved) */
    XF_POOL_WORSE,     /* it fits, a better host exists */
};

struct xf_pool_verdict {
    uint32_t host;
    enum xf_pool_verdict_kind kind;
    uint64_t need_mib;
    uint64_t free_mib;      /* the host's free memory for the VM */
    uint64_t best_node_mib; /* its node with the most free memory */
    bool numa;
    uint32_t nr_nodes;     /* of the plan, when it fits */
    uint32_t max_distance; /* of the plan, when it fits on nodes */
    uint64_t left_mib;     /* free memory left after it */
};

struct xf_pool_placement {
    bool fits;
    struct xf_pool_target target;
    struct xf_plan plan;              /* target.numa: the NUMA plan (MiB per node, CPUs) */
    struct xf_pool_verdict *verdicts; /* nr_hosts, the chosen first, then by rank */
    uint32_t nr_verdicts;
};

/*
 * The best host and node(s) for `vm` (a start for a halted VM, a migration
 * for a running one, which never stays where it is). The best: a NUMA plan
 * over an interleave, then the fewest nodes, then the smallest maximum
 * distance, then the most memory left (headroom), then the host's order.
 * Returns 0 (fits or not: ret->fits) and fills ret (free the verdicts with
 * xf_pool_placement_done), XF_EINVAL for a VM out of range, XF_ENOMEM.
 */
int xf_pool_place(const struct xf_pool *pool, uint32_t vm, struct xf_pool_placement *ret);
void xf_pool_placement_done(struct xf_pool_placement *p);

/* One step of a plan: a migration (from a host) or a start (from none). */
struct xf_pool_step {
    uint32_t vm;
    uint32_t from; /* XF_POOL_NO_HOST for a restart */
    struct xf_pool_target to;
    /* to.numa: the MiB per node of to.node_mask, in node order, are
     * plan->node_mib[node_mib_at .. node_mib_at + to.nr_nodes). */
    uint32_t node_mib_at;
};

/* A VM a plan cannot move, with the numbers of the host that came closest. */
struct xf_pool_refusal {
    uint32_t vm;
    uint64_t need_mib;
    uint32_t best_host;     /* the host with the most free memory, XF_POOL_NO_HOST if none */
    uint64_t best_free_mib; /* its free memory when the VM's turn came */
};

struct xf_pool_plan {
    bool complete; /* every VM has a step */
    struct xf_pool_step *steps;
    uint32_t nr_steps;
    struct xf_pool_refusal *refused;
    uint32_t nr_refused;
    uint64_t *node_mib; /* see struct xf_pool_step */
    uint32_t nr_node_mib;
    bool searched; /* best-fit failed and the bounded backtracking search ran */
};
void xf_pool_plan_done(struct xf_pool_plan *p);

/*
 * Plans the evacuation of `host`: each VM running there migrates, one after
 * the other, to another host where it fits at its turn (best fit decreasing,
 * then, if some VM is left over, a bounded depth-first search). Returns 0
 * and the plan (complete or with its refusals; free with
 * xf_pool_plan_done), XF_EINVAL for a host out of range, XF_ENOMEM.
 */
int xf_pool_evacuate(const struct xf_pool *pool, uint32_t host, struct xf_pool_plan *ret);

/* One failure set of an HA plan and its restarts. */
struct xf_pool_ha_case {
    uint32_t *failed; /* hosts, nr_failed of them */
    struct xf_pool_plan plan;
};

struct xf_pool_ha_options {
    uint32_t failures;    /* N */
    uint32_t shard_hosts; /* 0: the whole pool; else shards of this many hosts */
    uint64_t max_cases;   /* refuse more failure sets than this (0: 1000000) */
};

struct xf_pool_ha {
    bool possible;
    struct xf_pool_ha_case *cases; /* possible: every failure set; else the failing one */
    size_t nr_cases;
    /* Not possible: the failing set, and the smallest set of protected VMs
     * on it that cannot all restart (proven smallest, or minimal: no VM can
     * be dropped from it, when the search ran out of budget). */
    uint32_t *blocking_vms;
    uint32_t nr_blocking;
    bool blocking_smallest;
};

/*
 * An HA plan: for every set of `failures` hosts (within each shard when
 * sharding), where each protected VM on them restarts (its footprint) on
 * the others. Returns 0 and the plan (free with xf_pool_ha_done), XF_EINVAL
 * for failures 0 or not below the hosts of a shard, XF_ERANGE for more
 * failure sets than max_cases, XF_ENOMEM.
 */
int xf_pool_ha_plan(const struct xf_pool *pool, const struct xf_pool_ha_options *opts,
                    struct xf_pool_ha *ret);
void xf_pool_ha_done(struct xf_pool_ha *ha);

/* The host states of the pool as it is (nr_hosts of them, caller-owned). */
void xf_pool_states(const struct xf_pool *pool, struct xf_pool_host_state *ret);

/*
 * Checks a plan step by step on host states (nr_hosts, changed as the steps
 * run): each step's need must fit its destination's free memory and, for a
 * NUMA step, the plan's nodes; the source gets its memory back after it.
 * Returns the index of the first step that does not fit, or plan->nr_steps.
 */
uint32_t xf_pool_replay(const struct xf_pool *pool, struct xf_pool_host_state *states,
                        const struct xf_pool_plan *plan);

/* ---- xapi's binpack.ml, transcribed (ocaml/xapi/binpack.ml at e2ee48d6883e) ---- */

/* One assignment of a binpack plan: VM -> host. */
struct xf_binpack_pair {
    uint32_t vm;
    uint32_t host;
};

/*
 * binpack.ml biggest_fit_decreasing: things (VMs, xapi_mib) sorted by size
 * descending, bins (hosts, binpack_free_mib) sorted by size descending; each
 * thing goes into the biggest bin if it fits there (the bin shrinks and is
 * re-sorted), else it is left out. `vms`, `hosts`: indices into the pool;
 * `bin_mib`: each bin's size (nr_hosts entries, by pool host index). Writes
 * up to nr_vms pairs, in binpack's mapping order; returns how many, or
 * XF_BINPACK_ENOMEM when its scratch cannot be allocated.
 */
#define XF_BINPACK_ENOMEM UINT32_MAX
uint32_t xf_binpack_bfd(const struct xf_pool *pool, const uint32_t *vms, uint32_t nr_vms,
                        const uint32_t *hosts, uint32_t nr_hosts, const int64_t *bin_mib,
                        struct xf_binpack_pair *ret_pairs);

/* binpack.ml choose_heuristic: exhaustive ("bin_pack_every_combination")
 * when total_hosts <= 32 and C(n,r) * r! < 3500, else approximate. */
bool xf_binpack_exhaustive(uint32_t total_hosts, uint32_t failures);

/*
 * xapi's evacuation plan (xapi_ha_vm_failover.ml compute_evacuation_plan ->
 * get_specific_plan -> pack_failed_vms_onto_live_hosts): the VMs of `host`
 * packed with biggest_fit_decreasing onto the other hosts. Fills ret like
 * xf_pool_evacuate (the steps, in binpack's mapping order, carry need_mib =
 * the VM's real need and free_before_mib = the host's free memory as binpack
 * saw it, no NUMA plan; refused: the VMs binpack leaves out). Returns 0, XF_EINVAL, XF_ENOMEM.
 */
int xf_binpack_evacuate(const struct xf_pool *pool, uint32_t host, struct xf_pool_plan *ret);

/*
 * xapi's restart plan after `failed` fails (xapi_ha_vm_failover.ml
 * compute_restart_plan -> get_specific_plan): its protected VMs packed with
 * biggest_fit_decreasing onto the other hosts; steps are restarts (from
 * XF_POOL_NO_HOST) needing the VM's footprint. Returns as xf_binpack_evacuate.
 */
int xf_binpack_restart(const struct xf_pool *pool, uint32_t failed, struct xf_pool_plan *ret);

/* binpack.ml plan_for_n_failures: plan_always_possible of the heuristic it
 * chooses, over the protected VMs (xapi_mib) and binpack_free_mib. Sets
 * *ret_exhaustive to the heuristic's kind. Returns 1 possible, 0 not,
 * XF_ENOMEM. */
int xf_binpack_ha_possible(const struct xf_pool *pool, uint32_t failures, bool *ret_exhaustive);

const char *xf_pool_verdict_name(enum xf_pool_verdict_kind kind);

#endif
