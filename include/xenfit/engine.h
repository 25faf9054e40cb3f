/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The host engine: one host's memory ledger and the decisions made against
 * it, as a long-running service (xenfitd) needs them. It joins a hypervisor
 * backend, the reservation ledger, the NUMA topology and planner, the online
 * calibrator and the accounting parameters, and offers squeezed's operations
 * (reserve an amount or a range of KiB, transfer to a domain, delete, query)
 * next to xenfit's own (reserve for a VM spec with its NUMA plan and claim
 * plan, reserve for an incoming migration with the source's exact memory,
 * host status, record an observed build, sweep, reconcile).
 *
 * Every reserve is one atomic decision: read the host, compute what is free
 * for a new VM with the ledger (include/xenfit/host.h), admit, record. The
 * engine is not thread-safe: its owner serialises calls (xenfitd handles one
 * request at a time), which is what makes admission and reservation atomic
 * under any number of clients. It reads the hypervisor through the xf_hv_*
 * wrappers only, never does file or socket I/O, never prints, and never reads
 * a clock: callers pass the time (any clock that survives a restart of the
 * caller, e.g. CLOCK_REALTIME, if reservations are persisted).
 *
 * Persistence is the owner's: every change to a reservation or to the
 * calibrator is journalled, and xf_engine_flush_changes() hands the journal
 * over (what to write or delete), so that nothing a sweep or a login drops
 * can be forgotten. xf_engine_restore() and xf_engine_restore_observation()
 * reload what was written.
 *
 * A reservation's life (DESIGN.md section 5):
 *   pending      made, not yet tied to a domain; expires after the TTL, and
 *                its owner's next login drops it (squeezed's rule);
 *   transferred  tied to a domain; counts the part of its memory the domain
 *                has not taken yet; dropped when the domain dies;
 *   settled      its domain is built and running (unpaused, no claim left)
 *                or has taken all of it: it counts nothing any more and its
 *                NUMA placement is released, but it stays queryable and
 *                deletable (xenopsd queries and deletes it after the build)
 *                until deleted or its domain dies.
 * A transfer to a domain the hypervisor has never shown is kept for one TTL
 * from the transfer (a toolstack may transfer just before creating), then
 * dropped as a leak.
 */
#ifndef XENFIT_ENGINE_H
#define XENFIT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenfit/admit.h"
#include "xenfit/calibrate.h"
#include "xenfit/claims.h"
#include "xenfit/host.h"
#include "xenfit/hv.h"
#include "xenfit/ledger.h"
#include "xenfit/planner.h"
#include "xenfit/squeeze.h"

/* A reservation id in text: a UUID (36 characters) and the NUL. */
#define XF_ENGINE_ID_LEN 37

/* The largest amount one reservation may hold: the model's limit, in KiB. */
#define XF_ENGINE_MAX_KIB (XF_MEMORY_MAX_BYTES / 1024u)

/* The default time an untransferred reservation lives: 10 minutes. */
#define XF_ENGINE_TTL_NS_DEFAULT (UINT64_C(600) * 1000000000u)

enum xf_resv_kind {
    XF_RESV_AMOUNT,    /* squeezed's reserve_memory / reserve_memory_range */
    XF_RESV_VM,        /* a VM spec: NUMA plan and claim plan */
    XF_RESV_MIGRATION, /* an incoming VM: the source's exact memory */
};

enum xf_resv_state {
    XF_RESV_PENDING,
    XF_RESV_TRANSFERRED,
    XF_RESV_SETTLED,
};

/* "amount", "vm", "migration"; "pending", "transferred", "settled". */
const char *xf_resv_kind_name(enum xf_resv_kind k);
const char *xf_resv_state_name(enum xf_resv_state s);

/* One reservation as the engine keeps it (and its owner persists it). */
struct xf_engine_resv {
    uint64_t id;              /* never reused; the text form is xf_engine_id_format */
    char owner[XF_OWNER_MAX]; /* the session (squeezed: the service name) */
    enum xf_resv_kind kind;
    enum xf_resv_state state;
    xf_domid_t domid;     /* XF_DOMID_NONE while pending */
    uint64_t kib;         /* the amount granted, KiB (what squeezed reports) */
    uint64_t total_pages; /* the same in pages (rounded up) */
    uint64_t node_mask;   /* NUMA placement: nodes holding node_pages (0: none) */
    uint64_t node_pages[XF_MAX_NODES];
    struct xf_claim_plan claim; /* what the builder should claim (kind none: amounts) */
    uint64_t created_ns;
    uint64_t expires_ns;     /* pending: when it expires (0: never) */
    uint64_t transferred_ns; /* when it was last transferred (0: never) */
    bool domain_seen;        /* its domain has existed since the transfer */
};

struct xf_engine_params {
    enum xf_numa_policy numa_policy; /* default XF_NUMA_POLICY_BEST_EFFORT */
    uint64_t ttl_ns;                 /* pending reservations expire; 0: never */
    struct xf_host_params host;      /* low-memory reserve, DMA zone */
    uint64_t id_salt;                /* the first 64 bits of every id (the caller's random) */
    /* Pending (untransferred) reservations at most, per session and in all
     * (0: no limit); XF_ENGINE_MAX_PENDING_*_DEFAULT. A client that reserves
     * and never transfers cannot grow the ledger (and its cost) unbounded. */
    size_t max_pending_per_owner;
    size_t max_pending;
    /* Ballooning (squeezed's job; xf_engine_squeeze). Off: no domain is
     * ever ballooned, reserves see only free memory. */
    bool balloon;
    /* Kept free above the low-memory reserve when squeezing and balancing:
     * squeezed's extra_mem_to_keep, XF_SQUEEZE_EXTRA_KEEP_KIB. */
    uint64_t squeeze_keep_kib;
    /* Time between two looks at the balloons (squeezed: 1 s), and the most
     * one squeeze may take before it gives up with XF_ETIMEDOUT (squeezed
     * has no bound; 0: none). Backend time (xf_hv_sleep_ns). */
    uint64_t squeeze_wait_ns;
    uint64_t squeeze_max_ns;
};

#define XF_ENGINE_SQUEEZE_MAX_NS_DEFAULT (UINT64_C(300) * 1000000000u)

#define XF_ENGINE_MAX_PENDING_PER_OWNER_DEFAULT 10000u
#define XF_ENGINE_MAX_PENDING_DEFAULT           100000u

/*
 * Defaults for a backend: best_effort placement, XF_ENGINE_TTL_NS_DEFAULT,
 * the XF_ENGINE_MAX_PENDING_*_DEFAULT limits,
 * the host's low-memory limit and DMA zone as the backend reports them
 * (xf_host_params_read: for the simulator, its spec's, as the scenario
 * runner uses them; else Xen's 64 MiB default), id_salt 0 (set it). `hv`
 * may be NULL for the plain defaults.
 */
void xf_engine_params_init(struct xf_engine_params *p, struct xf_hv *hv);

struct xf_engine;

/*
 * An engine over `hv`, which it borrows (it must outlive the engine). Reads
 * the host's topology once (numainfo, cputopo) for the planner. Returns 0,
 * XF_EINVAL for an unknown NUMA policy, the backend's error, XF_EBADTOPO,
 * XF_ENOMEM. Free with xf_engine_free (accepts NULL).
 */
int xf_engine_new(struct xf_hv *hv, const struct xf_engine_params *p, struct xf_engine **ret);
void xf_engine_free(struct xf_engine *e);

/*
 * Rebases every reservation's times to `now_ns` (the caller's clock changed:
 * a new boot, or another clock): created and transferred now, a pending
 * one expiring a whole TTL from now. Journalled. Returns 0 and the number of
 * reservations, or XF_ENOMEM.
 */
int xf_engine_rebase_times(struct xf_engine *e, uint64_t now_ns, size_t *ret_n);

/* Pending reservations held by `owner` (NULL: by all). */
size_t xf_engine_pending_count(const struct xf_engine *e, const char *owner);

const struct xf_engine_params *xf_engine_params(const struct xf_engine *e);
struct xf_hv *xf_engine_hv(const struct xf_engine *e);
/* The topology the engine plans on, read once at xf_engine_new (valid while
 * the engine lives). */
const struct xf_topology *xf_engine_topology(const struct xf_engine *e);

/* --- Reservation ids ------------------------------------------------------ */

/* The text id of reservation `id`: a version-4-shaped UUID whose first 64 bits
 * are the engine's salt and whose last 62 bits are the id. */
void xf_engine_id_format(const struct xf_engine *e, uint64_t id, char out[XF_ENGINE_ID_LEN]);

/* Parses a text id of this engine. Returns 0, or XF_EUNKNOWN_RESERVATION for
 * anything else (another salt, not a UUID). */
int xf_engine_id_parse(const struct xf_engine *e, const char *text, uint64_t *ret_id);

/* --- Reserving ------------------------------------------------------------ */

/* The answer to a reserve: granted, or refused with numbers. */
struct xf_engine_outcome {
    bool granted;
    uint64_t id;  /* granted: the reservation */
    uint64_t kib; /* granted: the amount held */
    /* VM and migration reservations: the model, NUMA plan and claim plan. */
    struct xf_admission adm;
    /* Refused: what was needed and what was free, where (node -1: the host). */
    uint64_t needed_kib;
    uint64_t available_kib;
    int32_t node;
    char reason[256];
    /* Refused after ballooning: the squeeze's verdict (XF_SQ_CANNOT_FREE,
     * or XF_SQ_REFUSED with the domains in xf_engine_last_squeeze()); 0
     * (XF_SQ_ADJUST) when no squeeze ran or it succeeded. */
    enum xf_sq_result squeeze;
};

/*
 * squeezed's reserve_memory_range (reserve_memory is min == max): grants
 * min(max_kib, free) if that is at least min_kib, where free is the host's
 * memory free for a new VM (include/xenfit/host.h) in KiB, rounded down.
 * With ballooning on and balloonable domains on the host, it first squeezes
 * them as squeezed does (squeeze.ml free_memory / free_memory_range): for
 * min == max until free >= min + squeeze_keep_kib; for a range, aiming at
 * the range's proportional share (xf_sq_range_ideal) and content with min;
 * then free is counted less squeeze_keep_kib. A squeeze that fails is a
 * refusal with ret->squeeze saying which (needed and available are then
 * squeezed's numbers). An
 * amount has no NUMA placement and no claim plan. `owner` is the session
 * (at most XF_OWNER_MAX - 1 bytes). Returns 0 and *ret granted or refused,
 * XF_EBADSIZE for min > max, max 0 or max above XF_ENGINE_MAX_KIB, XF_EINVAL
 * for a bad owner, XF_ELIMIT when the owner or the host holds the most
 * pending reservations allowed (struct xf_engine_params), the backend's
 * error or XF_ENOMEM. The grant is journalled.
 */
int xf_engine_reserve_kib(struct xf_engine *e, const char *owner, uint64_t min_kib,
                          uint64_t max_kib, uint64_t now_ns, struct xf_engine_outcome *ret);

/*
 * Reserves for a VM: admission with the calibrated model (xf_admit, policy
 * xenfit), the NUMA plan for its footprint on the nodes' free memory, and the
 * claim plan, recorded together. A VM refused for memory, with ballooning on
 * and balloonable domains on the host, first has them squeezed for what was
 * needed, on the node the refusal named (or host-wide), and is decided again;
 * a failed squeeze is a refusal with ret->squeeze set. req->migration with req->source_total_kib
 * makes it an incoming migration: the claim is the source's exact memory and
 * the reservation at least that plus the overhead. Returns 0 and *ret
 * granted or refused (a plan that does not fit a node is not a refusal: the
 * VM is admitted unplaced, as xf_admit does), the model's errors for a
 * malformed VM (XF_EBADTYPE, XF_EBADVCPUS, XF_EBADSIZE, XF_ETARGETMAX,
 * XF_EBADMULT, XF_EBADVIDEO), XF_EINVAL, XF_ELIMIT (as above), the
 * backend's error, XF_ENOMEM.
 */
int xf_engine_reserve_vm(struct xf_engine *e, const char *owner, const struct xf_admit_request *req,
                         uint64_t now_ns, struct xf_engine_outcome *ret);

/*
 * The same decision as xf_engine_reserve_vm, against the same host and ledger
 * (pending reservations count), without recording anything: would the VM be
 * granted now, with which NUMA plan and claim, and how much it would hold
 * (ret->kib); or why not, in numbers. ret->id is 0. Returns as
 * xf_engine_reserve_vm, less XF_ELIMIT. Changes nothing, journals nothing.
 */
int xf_engine_admit_vm(struct xf_engine *e, const struct xf_admit_request *req,
                       struct xf_engine_outcome *ret);

/*
 * Ties a reservation of `owner` to a domain (squeezed's
 * transfer_reservation_to_domain). A reservation already on that domain is
 * superseded (dropped), as squeezed's domain key then names the new one.
 * A domain that does not exist yet is accepted, as squeezed accepts it
 * (it writes the domain's xenstore keys whatever the domain): the
 * reservation stays counted in full until the domain appears, and is dropped
 * if it has not appeared one TTL after the transfer (squeezed keeps it
 * until the session deletes it).
 * Returns 0, XF_EUNKNOWN_RESERVATION (no such reservation for this owner),
 * XF_ENOTGUEST for domain 0 or a reserved id (>= XF_DOMID_FIRST_RESERVED),
 * XF_EINVAL for XF_DOMID_NONE.
 */
int xf_engine_transfer(struct xf_engine *e, const char *owner, uint64_t id, xf_domid_t domid,
                       uint64_t now_ns);

/* Deletes a reservation of `owner`. Returns 0 or XF_EUNKNOWN_RESERVATION. */
int xf_engine_delete(struct xf_engine *e, const char *owner, uint64_t id);

/* squeezed's login: drops the owner's pending reservations (journalled).
 * Returns 0 and how many, XF_EINVAL for a bad owner, XF_ENOMEM. */
int xf_engine_login(struct xf_engine *e, const char *owner, size_t *ret_dropped);

/* Lookups. Pointers are valid until the next call that changes the engine. */
const struct xf_engine_resv *xf_engine_find(const struct xf_engine *e, uint64_t id);
const struct xf_engine_resv *xf_engine_find_domain(const struct xf_engine *e, xf_domid_t domid);
size_t xf_engine_count(const struct xf_engine *e);
const struct xf_engine_resv *xf_engine_at(const struct xf_engine *e, size_t i);

/* --- Host ----------------------------------------------------------------- */

struct xf_engine_status {
    struct xf_hv_physinfo phys;
    uint32_t nr_nodes;
    struct xf_node_mem nodes[XF_MAX_NODES];
    struct xf_host_free free; /* for a new VM, host-wide and per node */
    uint64_t dom0_pages;      /* domain 0's tot_pages (0 if not listed) */
    uint32_t nr_domains;
    uint32_t nr_dying;
    size_t nr_pending, nr_transferred, nr_settled;
    uint64_t ledger_pages;               /* reservations the accounting still counts, in all */
    uint64_t placed_pages[XF_MAX_NODES]; /* their NUMA placements, per node */
};

/* Reads the host and the ledger. Returns 0, the backend's error, XF_ENOMEM. */
int xf_engine_status(struct xf_engine *e, struct xf_engine_status *ret);

/* --- Ballooning ----------------------------------------------------------- */

/* At most this many domains are named in one squeeze's report. */
#define XF_ENGINE_SQUEEZE_REPORT_MAX 64u

/* What one domain gave (positive) or took (negative) in a squeeze, KiB. */
struct xf_engine_gave {
    xf_domid_t domid;
    int64_t kib;
    int64_t node_kib[XF_MAX_NODES]; /* where (backends with per-node pages) */
    int64_t target_kib;             /* its balloon target at the end */
};

enum xf_engine_squeeze_kind {
    XF_SQUEEZE_FREE,    /* make free_kib free (reserve_memory), host-wide or on node_mask */
    XF_SQUEEZE_BALANCE, /* give surplus back (balance_memory) */
};

struct xf_engine_squeeze_req {
    enum xf_engine_squeeze_kind kind;
    uint64_t free_kib;  /* XF_SQUEEZE_FREE: wanted free for a new VM, KiB */
    uint64_t aim_kib;   /* the policy's target (>= free_kib; 0: free_kib) */
    uint64_t node_mask; /* 0: host-wide */
};

/* The outcome of a squeeze (squeezed's change_host_free_memory). A balance
 * that leaves memory free with every domain at dynamic_max ends in
 * XF_SQ_CANNOT_FREE, which squeezed's balance_memory catches and logs. */
struct xf_engine_squeeze {
    enum xf_sq_result result; /* XF_SQ_SUCCESS, XF_SQ_CANNOT_FREE, XF_SQ_REFUSED */
    int64_t needed_kib;       /* Cannot_free_this_much_memory (needed, free) */
    int64_t free_kib;
    size_t nr_refused; /* Domains_refused_to_cooperate */
    xf_domid_t refused[XF_ENGINE_SQUEEZE_REPORT_MAX];
    size_t nr_gave; /* domains whose memory changed (the first REPORT_MAX) */
    struct xf_engine_gave gave[XF_ENGINE_SQUEEZE_REPORT_MAX];
    uint64_t node_mask;
    uint64_t iterations;
    uint64_t started_ns, elapsed_ns; /* backend time */
    bool ran;                        /* anything was done (no shortcut) */
};

/*
 * Squeezes the balloonable domains (balloon_info: feature-balloon) until the
 * request holds, as squeezed's change_host_free_memory does (xen-api
 * e2ee48d6883e ocaml/squeezed/lib/squeeze.ml): each iteration reads the
 * host (free memory for a new VM with the ledger, every balloonable
 * domain), decides (xf_squeezer_step), sets maxmem and targets, waits
 * squeeze_wait_ns. A domain with a reservation in the engine is never
 * targeted below that reservation's amount. Blocks for the squeeze's
 * duration (backend time: simulated time for the simulator). Returns 0 and
 * *ret (granted or not: ret->result; also kept for xf_engine_last_squeeze),
 * XF_EINVAL (bad request), XF_ETIMEDOUT after squeeze_max_ns, the backend's
 * error, XF_ENOMEM.
 */
int xf_engine_squeeze(struct xf_engine *e, const struct xf_engine_squeeze_req *req,
                      struct xf_engine_squeeze *ret);

/* squeezed's is_host_memory_unbalanced: would a balance set a new target?
 * Returns 0 and the answer, the backend's error, XF_ENOMEM. */
int xf_engine_unbalanced(struct xf_engine *e, bool *ret);

/* How many balloonable domains the host has now (0: squeezing is moot). */
int xf_engine_balloonable(struct xf_engine *e, size_t *ret);

/* The last squeeze that did something (NULL: none yet). */
const struct xf_engine_squeeze *xf_engine_last_squeeze(const struct xf_engine *e);

/* --- Calibration ---------------------------------------------------------- */

struct xf_engine_observed {
    uint64_t needed_pages;            /* what the calibrated term had to cover */
    bool drift;                       /* more than the model predicted for this type and vCPUs */
    struct xf_overhead_coeffs coeffs; /* now used for this type and vCPU count */
};

/*
 * Records that a domain configured as `vm` took `taken_pages` of host memory
 * in all (its pages, paging pool and hidden hypervisor pages): the next
 * admissions of that type use the raised coefficients. Returns 0 and *ret,
 * the model's errors for a malformed VM, XF_ERANGE for an implausible
 * observation (above xf_calib_plausible_max_pages(), calibrate.h: nothing is
 * recorded), XF_ENOMEM. Journalled.
 */
int xf_engine_observe(struct xf_engine *e, const struct xf_vm_memory *vm, uint64_t taken_pages,
                      struct xf_engine_observed *ret);

/* The coefficients a VM of that type and vCPU count is sized with now. */
struct xf_overhead_coeffs xf_engine_coeffs(const struct xf_engine *e, enum xf_domain_type type,
                                           uint32_t vcpus);

/* --- Sweeping ------------------------------------------------------------- */

struct xf_engine_swept {
    size_t expired; /* pending past their TTL */
    size_t died;    /* their domain died (or a never-seen domain's TTL passed) */
    size_t settled; /* their domain is built and holds its memory */
};

/*
 * Ends what is over: pending reservations past their expiry; transferred or
 * settled reservations whose domain died (it was seen and is now gone or
 * dying, or it was never seen within a TTL of the transfer); and settles
 * transferred reservations whose domain is built. Run periodically and once
 * after a restart of the owner (reconciling the restored ledger with the
 * hypervisor: domain_seen is persisted, so a domain that died meanwhile is
 * recognised). Returns 0 and the counts (ret may be NULL), or the backend's
 * error or XF_ENOMEM (nothing is changed then).
 */
int xf_engine_sweep(struct xf_engine *e, uint64_t now_ns, struct xf_engine_swept *ret);

/* --- Persistence ---------------------------------------------------------- */

/* Re-adds a persisted reservation (its NUMA placement is re-committed).
 * Returns 0, XF_EEXIST (id or domain taken), XF_EINVAL (inconsistent),
 * XF_ENOMEM. Not journalled. */
int xf_engine_restore(struct xf_engine *e, const struct xf_engine_resv *r);

/*
 * Forgets the calibration learned for one domain type, or for all (`all`):
 * admissions of that type are sized with xen-api's coefficients again until
 * a build is observed. Journalled (XF_CHANGE_CALIB_RESET). Returns 0 and the
 * number of rows forgotten, or XF_EINVAL for an unknown type, XF_ENOMEM.
 */
int xf_engine_calib_reset(struct xf_engine *e, enum xf_domain_type type, bool all,
                          size_t *ret_removed);

/*
 * The calibration rows held: the largest need seen per type and vCPU count.
 * Writes up to `max` rows to `out` and returns the number held (which may be
 * more than `max`).
 */
size_t xf_engine_calib_rows(const struct xf_engine *e, struct xf_calib_observation *out,
                            size_t max);

/* Re-records a persisted calibration observation. Not journalled. */
int xf_engine_restore_observation(struct xf_engine *e, const struct xf_calib_observation *o);

enum xf_engine_change_kind {
    XF_CHANGE_RESV_PUT, /* write (insert or replace) change->resv */
    XF_CHANGE_RESV_DEL, /* delete reservation change->id */
    XF_CHANGE_CALIB,    /* write change->obs (the maximum for its type and vCPUs) */
    /* delete the rows of change->obs.type, or of every type when
     * change->calib_all */
    XF_CHANGE_CALIB_RESET,
};

struct xf_engine_change {
    enum xf_engine_change_kind kind;
    uint64_t id;
    const struct xf_engine_resv *resv;
    bool fresh; /* PUT of a reservation never handed over before (an insert) */
    struct xf_calib_observation obs;
    bool calib_all;
};

typedef int (*xf_engine_change_fn)(void *ctx, const struct xf_engine_change *change);

/*
 * Hands every change since the last flush to fn, in order, once per
 * reservation (its final state) and per calibration row. Stops at fn's first
 * negative return and returns it (the journal is kept); returns 0 and clears
 * the journal when all went through. Whether there is anything to flush:
 * xf_engine_has_changes.
 */
int xf_engine_flush_changes(struct xf_engine *e, xf_engine_change_fn fn, void *ctx);
bool xf_engine_has_changes(const struct xf_engine *e);

#endif
