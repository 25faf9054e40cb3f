/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The hypervisor interface: the hypercall-level operations a Xen toolstack
 * uses to learn a host's memory and build domains, behind one const vtable
 * per backend (struct xf_hv_ops, as curl's struct Curl_ssl). Backends: the
 * simulator (lib/hv/sim, always built) and real Xen over libxenctrl
 * (lib/hv/xen, built only when libxenctrl is found).
 *
 * Callers use the xf_hv_* wrappers, never ops-> directly. Every operation
 * returns 0 or a negative errno exactly as Xen would (-EINVAL, -ENOMEM,
 * -ESRCH, -EOPNOTSUPP, -ENOSYS, ...). Sizes are in 4 KiB pages. A backend
 * that lacks an operation returns -ENOSYS (the wrapper does so for a NULL
 * slot). The contract every backend meets is tests/hv/test-contract.c.
 */
#ifndef XENFIT_HV_H
#define XENFIT_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenfit/host.h"
#include "xenfit/model.h"
#include "xenfit/types.h"

/* Capabilities a caller can test (xf_hv_caps). */
enum {
    XF_HV_CAP_NODE_CLAIMS = 1u << 0,       /* claim on one node (XenServer's patched Xen) */
    XF_HV_CAP_NODE_CLAIMED_INFO = 1u << 1, /* numainfo reports per-node claimed pages */
    XF_HV_CAP_SIMULATED = 1u << 2,         /* simulated time; xf_hv_sleep advances it */
    XF_HV_CAP_NODE_DMA_INFO = 1u << 3,     /* numainfo reports free DMA-zone pages */
    /* A claim on a dying domain is accepted (and leaked once the domain is
     * gone): Xen before "Disallow XENMEM_claim_pages on dying domains"
     * (4.19.5, 4.20.3, 4.21.1, 4.22), e.g. 4.17.7. Without it: -EINVAL. */
    XF_HV_CAP_CLAIM_DYING_OK = 1u << 4,
    /* domain_info reports pages_per_node (the simulator). Upstream Xen's
     * getdomaininfo does not; only its 'u' debug key prints them
     * (xen/arch/x86/numa.c, dump_numa: "Domain N (total: T):", "Node i: n"). */
    XF_HV_CAP_DOMAIN_NODE_PAGES = 1u << 5,
};

/* XEN_SYSCTL_physinfo. free_pages counts dirty pages and ignores claims. */
struct xf_hv_physinfo {
    uint64_t total_pages;
    uint64_t free_pages;
    uint64_t scrub_pages; /* always 0 on Xen: never implemented */
    uint64_t outstanding_pages;
    uint32_t nr_nodes;
    uint32_t nr_cpus;
};

/* XEN_SYSCTL_cputopoinfo, per logical CPU. */
struct xf_hv_cpu_topo {
    uint32_t core;
    uint32_t socket;
    uint32_t node;
};

/* XEN_DOMCTL_getdomaininfo plus the paging pool and per-node pages. */
struct xf_hv_domain_info {
    xf_domid_t domid;
    enum xf_domain_type type;
    uint64_t tot_pages;
    uint64_t max_pages;
    uint64_t outstanding_pages;
    uint64_t paging_pool_pages;
    uint32_t vcpus;
    bool dying;
    bool paused;
    uint64_t node_affinity; /* bit per node; all ones = no affinity set */
    uint64_t pages_per_node[XF_MAX_NODES];
};

struct xf_hv_populate {
    uint64_t nr_extents;
    uint32_t order;  /* 0 = 4 KiB, 9 = 2 MiB, 18 = 1 GiB */
    uint32_t node;   /* XF_NODE_ANY: the domain's node affinity */
    bool exact_node; /* MEMF_exact_node: fail rather than use another node */
};

/*
 * What a toolstack must know of a host that no hypercall reports: Xen's
 * boot-time settings and a name to show. See xf_hv_host_params().
 */
struct xf_hv_host_params {
    char name[64]; /* for display: the spec's name, or dom0's host name; "" if none */
    /* Xen's low_mem_virq_limit (xen/common/page_alloc.c, opt_low_mem_virq),
     * the setting, not setup_low_mem_virq()'s rounded threshold: 0 when it is
     * disabled; Xen's default (64 MiB) when not given on Xen's command line. */
    uint64_t low_mem_virq_limit_pages;
    bool low_mem_virq_assumed; /* the backend could not read it: the default */
    /* Xen's DMA zone on node 0 as free at boot (memory below the DMA width),
     * for backends that do not report the free zone per node; 0: unknown. */
    uint64_t dma_zone_pages;
};

/*
 * A domain's balloon as xenstore shows it to a toolstack (squeezed's keys,
 * xen-api e2ee48d6883e ocaml/squeezed/src/squeeze_xen.ml: control/
 * feature-balloon, memory/target, memory/dynamic-min, memory/dynamic-max,
 * memory/memory-offset), KiB.
 */
struct xf_hv_balloon {
    bool feature_balloon; /* the guest's balloon driver is up */
    uint64_t target_kib;
    uint64_t dynamic_min_kib;
    uint64_t dynamic_max_kib;
    bool has_dynamic_range; /* both dynamic keys present */
    bool has_memory_offset;
    int64_t memory_offset_kib;
    bool uncooperative;
    /* memory/uncooperative is present (written by the squeezer) */ /* tot_pages - target once
                                                                       booted (squeezed
                                                                       calibrates it) */
};

struct xf_hv;

struct xf_hv_ops {
    const char *name;
    uint32_t (*caps)(struct xf_hv *hv);
    int (*physinfo)(struct xf_hv *hv, struct xf_hv_physinfo *ret);
    /* Fills up to max_nodes nodes and a max_nodes x max_nodes distance matrix
     * (row-major, from node i to node j; XF_DIST_UNREACHABLE where none). */
    int (*numainfo)(struct xf_hv *hv, uint32_t max_nodes, struct xf_node_mem *ret_nodes,
                    uint32_t *ret_distances, uint32_t *ret_nr_nodes);
    int (*cputopo)(struct xf_hv *hv, uint32_t max_cpus, struct xf_hv_cpu_topo *ret_cpus,
                   uint32_t *ret_nr_cpus);
    int (*domain_list)(struct xf_hv *hv, uint32_t max, xf_domid_t *ret_domids, uint32_t *ret_n);
    int (*domain_info)(struct xf_hv *hv, xf_domid_t domid, struct xf_hv_domain_info *ret);
    int (*domain_create)(struct xf_hv *hv, enum xf_domain_type type, xf_domid_t *ret_domid);
    /* Optional (NULL: domain_create is used): create with room for max_vcpus. */
    int (*domain_create_vcpus)(struct xf_hv *hv, enum xf_domain_type type, uint32_t max_vcpus,
                               xf_domid_t *ret_domid);
    int (*set_max_vcpus)(struct xf_hv *hv, xf_domid_t domid, uint32_t vcpus);
    int (*set_max_pages)(struct xf_hv *hv, xf_domid_t domid, uint64_t pages);
    int (*set_paging_pool)(struct xf_hv *hv, xf_domid_t domid, uint64_t pages);
    int (*claim)(struct xf_hv *hv, xf_domid_t domid, uint32_t node, uint64_t pages);
    int (*populate)(struct xf_hv *hv, xf_domid_t domid, const struct xf_hv_populate *req,
                    uint64_t *ret_done);
    int (*decrease)(struct xf_hv *hv, xf_domid_t domid, uint64_t pages);
    int (*set_node_affinity)(struct xf_hv *hv, xf_domid_t domid, uint64_t node_mask);
    int (*unpause)(struct xf_hv *hv, xf_domid_t domid);
    int (*destroy)(struct xf_hv *hv, xf_domid_t domid);
    int (*host_params)(struct xf_hv *hv, struct xf_hv_host_params *ret);
    /* Ballooning (xenstore): read a domain's balloon keys, write its target
     * and its memory-offset. */
    int (*balloon_info)(struct xf_hv *hv, xf_domid_t domid, struct xf_hv_balloon *ret);
    int (*set_balloon_target)(struct xf_hv *hv, xf_domid_t domid, uint64_t target_kib);
    int (*set_memory_offset)(struct xf_hv *hv, xf_domid_t domid, int64_t offset_kib);
    int (*set_uncooperative)(struct xf_hv *hv, xf_domid_t domid, bool uncooperative);
    uint64_t (*now_ns)(struct xf_hv *hv);
    int (*sleep_ns)(struct xf_hv *hv, uint64_t ns);
    void (*free)(struct xf_hv *hv);
};

/* Every backend instance starts with this header. */
struct xf_hv {
    const struct xf_hv_ops *ops;
};

/* Backends compiled into this build, in order of preference. */
const struct xf_hv_ops *const *xf_hv_backends(void);

/* Why xf_hv_open failed, in words for a user. */
struct xf_hv_open_error {
    bool usage;        /* the request was wrong (backend name, spec), not the host */
    size_t line;       /* a host spec's JSON syntax error: its line; else 0 */
    char message[320]; /* names the backend and the offending value */
};

/*
 * Opens a backend by name: "sim", the simulator booted from a host spec
 * (docs/host-spec.md) given as JSON text in arg[0..arg_len); "xen", the Xen
 * host this process runs on (as root in dom0; builds with libxenctrl only),
 * which takes no spec (arg NULL). The one place that knows which backends
 * this build has. Returns 0 and the backend (free with xf_hv_free), or with
 * *err filled (err may be NULL): XF_EINVAL (usage) for an unknown name, a
 * backend not built in (the message lists those built), a spec missing or
 * given where none is taken; XF_EBADSPEC (usage) for a spec the simulator
 * refuses; XF_ENOMEM; the backend's own error opening the host (e.g. -ENOENT
 * or -EACCES from xc_interface_open outside a dom0 or as non-root).
 */
int xf_hv_open(const char *name, const char *arg, size_t arg_len, struct xf_hv_open_error *err,
               struct xf_hv **ret);

/* The names of the backends built in, ", "-separated ("xen, sim"). */
const char *xf_hv_backends_built(void);

uint32_t xf_hv_caps(struct xf_hv *hv);
int xf_hv_physinfo(struct xf_hv *hv, struct xf_hv_physinfo *ret);
/* The three lists below write at most `max` entries (an array may be NULL)
 * and set the count to the full number, which may exceed `max`. */
int xf_hv_numainfo(struct xf_hv *hv, uint32_t max_nodes, struct xf_node_mem *ret_nodes,
                   uint32_t *ret_distances, uint32_t *ret_nr_nodes);
int xf_hv_cputopo(struct xf_hv *hv, uint32_t max_cpus, struct xf_hv_cpu_topo *ret_cpus,
                  uint32_t *ret_nr_cpus);
int xf_hv_domain_list(struct xf_hv *hv, uint32_t max, xf_domid_t *ret_domids, uint32_t *ret_n);
int xf_hv_domain_info(struct xf_hv *hv, xf_domid_t domid, struct xf_hv_domain_info *ret);
/* Creates a paused, empty domain of that type (XEN_DOMCTL_createdomain). */
int xf_hv_domain_create(struct xf_hv *hv, enum xf_domain_type type, xf_domid_t *ret_domid);
/* The same with room for `max_vcpus` vCPUs. Real Xen fixes the count at
 * XEN_DOMCTL_createdomain (since 4.12) and XEN_DOMCTL_max_vcpus must then
 * repeat it, else EINVAL (xen/common/domctl.c), so there xf_hv_domain_create
 * gives one vCPU. A backend without the slot creates as xf_hv_domain_create. */
int xf_hv_domain_create_vcpus(struct xf_hv *hv, enum xf_domain_type type, uint32_t max_vcpus,
                              xf_domid_t *ret_domid);
/* XEN_DOMCTL_max_vcpus: allocates the per-vCPU hypervisor structures. */
int xf_hv_set_max_vcpus(struct xf_hv *hv, xf_domid_t domid, uint32_t vcpus);
int xf_hv_set_max_pages(struct xf_hv *hv, xf_domid_t domid, uint64_t pages);
/* Sizes the shadow/HAP paging pool (always unclaimed memory). */
int xf_hv_set_paging_pool(struct xf_hv *hv, xf_domid_t domid, uint64_t pages);
/* XENMEM_claim_pages: `pages` is the domain's total target; 0 cancels.
 * node XF_NODE_ANY is a global claim; a node needs XF_HV_CAP_NODE_CLAIMS
 * (else -ENOSYS). An unknown domain is -EINVAL here, as in Xen (not -ESRCH);
 * so is a dying one, unless XF_HV_CAP_CLAIM_DYING_OK. */
int xf_hv_claim(struct xf_hv *hv, xf_domid_t domid, uint32_t node, uint64_t pages);
/* XENMEM_populate_physmap. On failure returns the errno and, unlike other
 * operations, still writes *ret_done: the extents allocated before it. */
int xf_hv_populate(struct xf_hv *hv, xf_domid_t domid, const struct xf_hv_populate *req,
                   uint64_t *ret_done);
/* XENMEM_decrease_reservation: the domain gives back `pages` (ballooning). */
int xf_hv_decrease(struct xf_hv *hv, xf_domid_t domid, uint64_t pages);
int xf_hv_set_node_affinity(struct xf_hv *hv, xf_domid_t domid, uint64_t node_mask);
int xf_hv_unpause(struct xf_hv *hv, xf_domid_t domid);
int xf_hv_destroy(struct xf_hv *hv, xf_domid_t domid);
/*
 * The host's parameters no hypercall reports (struct xf_hv_host_params).
 * Returns 0, or -ENOSYS for a backend without the operation.
 */
int xf_hv_host_params(struct xf_hv *hv, struct xf_hv_host_params *ret);
/*
 * Ballooning. A domain is balloonable when balloon_info says
 * feature_balloon; whoever balloons it lists domains with
 * xf_hv_domain_list, reads each one's balloon here and its pages per node
 * with xf_hv_domain_info (XF_HV_CAP_DOMAIN_NODE_PAGES), sets its target here
 * and its maxmem with xf_hv_set_max_pages. balloon_info returns 0, -ESRCH
 * for no such domain, -ENOENT for a domain without memory keys (not managed
 * by a toolstack that balloons). set_balloon_target writes memory/target (the
 * guest's driver then moves towards target + memory-offset), set_memory_offset
 * memory/memory-offset; both -ESRCH for no such domain, or one going away
 * (on Xen: whose xenstore directory is gone; nothing is written then, as
 * squeezed's write_noexn). -ENOSYS from a backend without them.
 */
int xf_hv_balloon_info(struct xf_hv *hv, xf_domid_t domid, struct xf_hv_balloon *ret);
int xf_hv_set_balloon_target(struct xf_hv *hv, xf_domid_t domid, uint64_t target_kib);
int xf_hv_set_memory_offset(struct xf_hv *hv, xf_domid_t domid, int64_t offset_kib);
/* Writes (true) or removes (false) memory/uncooperative: squeezed's flag for
 * monitoring, squeeze_xen.ml update_cooperative_flags. -ESRCH, -ENOSYS. */
int xf_hv_set_uncooperative(struct xf_hv *hv, xf_domid_t domid, bool uncooperative);
/* The backend's clock: simulated time for the simulator, CLOCK_MONOTONIC for Xen. */
uint64_t xf_hv_now_ns(struct xf_hv *hv);
int xf_hv_sleep_ns(struct xf_hv *hv, uint64_t ns);
/* Frees a backend instance; accepts NULL. */
void xf_hv_free(struct xf_hv *hv);

/*
 * Readers: the core's inputs, taken from a backend (lib/hv/snapshot.c,
 * lib/hv/topology-hv.c). The core's accounting and planner never call a
 * backend; these are the only bridge.
 *
 * xf_host_snapshot_read reads physinfo, numainfo and every domain's info.
 * It allocates the domain array: release it with xf_host_snapshot_done()
 * (host.h). Returns 0 or the backend's error / XF_ENOMEM.
 */
int xf_host_snapshot_read(struct xf_hv *hv, struct xf_host_snapshot *ret);

/*
 * The host accounting parameters (host.h) of xenfit's policy for a backend's
 * host, from xf_hv_host_params(): Xen's low_mem_virq_limit as the low-memory
 * reserve and node 0's DMA zone. A backend without the operation (-ENOSYS)
 * gets xf_host_params_init()'s defaults (Xen's 64 MiB default). Returns 0 or
 * the backend's other error.
 */
int xf_host_params_read(struct xf_hv *hv, struct xf_host_params *ret);

/*
 * Reads a NUMA topology for the planner from a backend (numainfo distances and
 * free memory, the CPU map, cores per node as distinct socket/core pairs).
 * Returns 0 and a new topology (xf_topology_free), and optionally the largest
 * node's free pages; the backend's error, XF_EBADTOPO or XF_ENOMEM.
 */
struct xf_topology;
int xf_topology_read(struct xf_hv *hv, struct xf_topology **ret, uint64_t *ret_max_node_free_pages);

#endif
