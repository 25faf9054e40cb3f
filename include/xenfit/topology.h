/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * A host's NUMA topology snapshot, as the placement planner sees it: the SLIT
 * distance matrix, which node each logical CPU belongs to, the physical cores
 * per node and the memory each node has free for new VMs. Loading a snapshot
 * validates the SLIT the way xenopsd does (ocaml/xenopsd/lib/topology.ml,
 * NUMA.make): unreachable nodes are left out, a malformed matrix turns NUMA
 * placement off (the snapshot still loads, and says why), and nodes without
 * CPUs are accepted. It also computes, once per topology, the candidate node
 * sets the planner searches (include/xenfit/planner.h): up to
 * XF_TOPOLOGY_EXHAUSTIVE_NODES reachable nodes every non-empty set of mutually
 * reachable nodes, sorted by (maximum pairwise distance, average distance) and
 * grouped into tiers of equal distance; above that, the distance thresholds
 * and per-threshold neighbourhoods the planner's bounded clique search uses.
 * The JSON form is documented in docs/topology.md.
 *
 * A topology is immutable once built and may be shared by any number of
 * planners (and threads); it must outlive them.
 */
#ifndef XENFIT_TOPOLOGY_H
#define XENFIT_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Xen's MAX_NUMNODES on x86 is 64: node sets fit in a uint64_t. The same
 * definition as in xenfit/hv.h (an identical redefinition is valid C). */
#define XF_MAX_NODES 64u

/* Logical CPUs a snapshot may describe (x86 Xen's NR_CPUS is at most 4096). */
#define XF_MAX_CPUS      4096u
#define XF_CPU_SET_WORDS (XF_MAX_CPUS / 64u)

/* Up to this many reachable nodes every candidate set is enumerated. */
#define XF_TOPOLOGY_EXHAUSTIVE_NODES 16u

/* The local distance of a node to itself in a valid SLIT (ACPI 6.x, 5.2.17). */
#define XF_SLIT_LOCAL 10u

/* Distances the SLIT may use to say "unreachable": ACPI's 0xFF, and Xen's
 * XEN_INVALID_NODE_DIST (~0U) which the OCaml bindings also see as -1. */
#define XF_SLIT_UNREACHABLE_U8  255
#define XF_SLIT_UNREACHABLE_U32 INT64_C(4294967295)

/* The largest distance accepted (xenopsd and the ACPI SLIT stop at 254;
 * synthetic matrices such as 10 + 11*|i-j| on 64 nodes go further). */
#define XF_SLIT_MAX_DISTANCE 65535u

/* What xf_topology_distance() returns for an unreachable pair. */
#define XF_TOPOLOGY_UNREACHABLE UINT32_MAX

/* A node's free memory is at most this (4 PiB): sums stay far from overflow. */
#define XF_NODE_FREE_MIB_MAX (UINT64_C(1) << 32)

/* A CPU mapped to this node (or to -1 in JSON) is offline and ignored, as
 * Xen's cputopoinfo reports XEN_INVALID_NODE_ID for it. */
#define XF_CPU_OFFLINE UINT32_MAX

/* The raw snapshot, as a backend reads it from the hypervisor. */
struct xf_topology_spec {
    uint32_t nr_nodes;
    const int64_t *distances; /* nr_nodes * nr_nodes, row i = from node i */
    uint32_t nr_cpus;
    const uint32_t *cpu_to_node;   /* nr_cpus entries; XF_CPU_OFFLINE allowed */
    const uint32_t *node_cores;    /* physical cores per node */
    const uint64_t *node_free_mib; /* memory free for new VMs per node */
};

/* Whether NUMA placement is possible on this topology. */
enum xf_numa_status {
    XF_NUMA_ON = 0,
    XF_NUMA_OFF_SLIT_INVALID, /* diagonal != 10, an entry < 10 or > XF_SLIT_MAX_DISTANCE */
    XF_NUMA_OFF_NO_REACHABLE, /* every node is unreachable */
    XF_NUMA_OFF_NO_CPUS,      /* no reachable node has a CPU */
};

/* One precomputed candidate set (see xf_topology_candidate). */
struct xf_topology_candidate {
    uint64_t nodes;        /* bit per node */
    uint32_t max_distance; /* the largest distance between two of its nodes (10 alone) */
    uint32_t distance_sum; /* over every ordered pair, each node with itself included */
    double avg_distance;   /* distance_sum / |nodes|^2, xenopsd's "average" */
    uint32_t tier;         /* index of its (max, avg) tier, 0 the best */
    uint32_t cpus;
    uint32_t cores;
};

struct xf_topology;

/*
 * Builds a topology from a raw snapshot. Returns 0 and a new topology (free it
 * with xf_topology_free), XF_EBADTOPO if the snapshot is malformed (no nodes,
 * more than XF_MAX_NODES nodes or XF_MAX_CPUS CPUs, a CPU on a node that does
 * not exist, more cores than CPUs on a node, free memory above
 * XF_NODE_FREE_MIB_MAX), or XF_ENOMEM. On XF_EBADTOPO a message naming the
 * offending field is written to errbuf when it is not NULL. An invalid SLIT is
 * not an error: the topology loads with NUMA placement off.
 */
int xf_topology_new(const struct xf_topology_spec *spec, char *errbuf, size_t errlen,
                    struct xf_topology **ret);

/*
 * Parses the JSON snapshot in buf[0..len) (docs/topology.md) and builds a
 * topology. Returns as xf_topology_new, plus XF_EPARSE for text that is not
 * JSON or a field of the wrong type; errbuf names the field (or the line and
 * column of a syntax error).
 */
int xf_topology_new_from_json(const char *buf, size_t len, char *errbuf, size_t errlen,
                              struct xf_topology **ret);

/* Frees a topology; accepts NULL. Planners made from it must be freed first. */
void xf_topology_free(struct xf_topology *topo);

uint32_t xf_topology_nr_nodes(const struct xf_topology *topo);
uint32_t xf_topology_nr_cpus(const struct xf_topology *topo);

/* The nodes placement may use: those whose own distance is 10 (a bit each). */
uint64_t xf_topology_reachable(const struct xf_topology *topo);

/* XF_NUMA_ON, or why placement is off; the reason is a static-lifetime
 * sentence inside the topology ("" when on), naming the offending entry. */
enum xf_numa_status xf_topology_numa_status(const struct xf_topology *topo);
const char *xf_topology_numa_reason(const struct xf_topology *topo);

/* The SLIT distance from node i to node j, XF_TOPOLOGY_UNREACHABLE for an
 * unreachable pair or when the SLIT is invalid; 0 for a node out of range. */
uint32_t xf_topology_distance(const struct xf_topology *topo, uint32_t i, uint32_t j);

/* Per node: online CPUs, physical cores, and free memory in the snapshot
 * (0 for a node out of range). */
uint32_t xf_topology_node_cpus(const struct xf_topology *topo, uint32_t node);
uint32_t xf_topology_node_cores(const struct xf_topology *topo, uint32_t node);
uint64_t xf_topology_node_free_mib(const struct xf_topology *topo, uint32_t node);

/* The node of a logical CPU, XF_CPU_OFFLINE for an offline or unknown CPU. */
uint32_t xf_topology_cpu_node(const struct xf_topology *topo, uint32_t cpu);

/*
 * The precomputed candidate sets, in planning order (by maximum distance, then
 * average distance, then xenopsd's generation order: ascending node bitmask).
 * There are none when NUMA is off or above XF_TOPOLOGY_EXHAUSTIVE_NODES
 * reachable nodes. xf_topology_candidate returns 0, or XF_ERANGE for an index
 * past the end.
 */
size_t xf_topology_nr_candidates(const struct xf_topology *topo);
size_t xf_topology_nr_tiers(const struct xf_topology *topo);
int xf_topology_candidate(const struct xf_topology *topo, size_t index,
                          struct xf_topology_candidate *ret);

#endif
