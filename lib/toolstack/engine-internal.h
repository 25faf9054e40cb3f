/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The host engine's internals (include/xenfit/engine.h), shared by its
 * files: engine.c (lifecycle, ids, lookups, the change journal, restore),
 * reserve.c (reserving, transfer, delete, login) and sweep.c (status,
 * calibration, sweeping).
 */
#ifndef XENFIT_ENGINE_INTERNAL_H
#define XENFIT_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idmap.h"
#include "xenfit/engine.h"
#include "xenfit/topology.h"

struct xf__eng_rec {
    struct xf_engine_resv r;
    bool in_ledger; /* counted by the accounting (pending or transferred) */
    bool counted;   /* its NUMA placement is in the engine's placement counts */
    bool persisted; /* handed to the journal's consumer at least once */
};

struct xf_engine {
    struct xf_hv *hv;
    struct xf_engine_params p;
    struct xf_ledger *ledger;
    struct xf_topology *topo;
    struct xf_placement_counts counts; /* live placements per node (the planner's input) */
    struct xf_calib_online *calib;
    /* The records, in two parts: recs[0, nnp) are transferred or settled
     * (the sweep looks at each every time), recs[nnp, n) pending (it looks
     * at them only when one may have expired). */
    struct xf__eng_rec *recs;
    size_t n, cap, nnp;
    struct xf__idmap by_id;            /* reservation id -> index in recs */
    struct xf__idmap by_domain;        /* domid + 1 -> index in recs */
    struct xf__idmap pending_by_owner; /* owner_key(owner) -> its pending count */
    size_t nr_pending;
    /* No pending reservation expires before this (0: none will); may be
     * early (after removals), never late: the sweep looks at pending ones
     * only once it has passed, and then computes it anew. */
    uint64_t next_expiry_ns;
    uint64_t next_id;
    /* The change journal: reservation ids and calibration rows touched. */
    uint64_t *dirty;
    size_t ndirty, capdirty;
    struct xf_calib_observation *cdirty;
    size_t ncdirty, capcdirty;
    /* The last squeeze that did something (balloon.c). */
    struct xf_engine_squeeze last_squeeze;
    bool has_last_squeeze;
    /* When each balloonable domain was last cooperative (balloon.c:
     * squeeze_xen.ml when_domain_was_last_cooperative), backend time. */
    struct xf__eng_coop *coop;
    size_t ncoop;
};

struct xf__eng_coop {
    xf_domid_t domid;
    uint64_t last_ns;
};

/* balloon.c: the host's memory free for a new VM now, with the ledger
 * (reserve.c's reading, shared). */
int xf__eng_host_free(struct xf_engine *e, struct xf_host_free *ret);
/* squeeze.ml free_memory_range's ideal amount for [min, max] on this host. */
int xf__eng_range_ideal(struct xf_engine *e, uint64_t min_kib, uint64_t max_kib, uint64_t *ret_kib);

/* The record of reservation `id`, or NULL. */
struct xf__eng_rec *xf__eng_rec(struct xf_engine *e, uint64_t id);

/* Adds a record (copying *r, with its id) to the records, the ledger and
 * the placement counts (when pending or transferred; counted when placed). */
int xf__eng_add(struct xf_engine *e, const struct xf_engine_resv *r);

/* Ties a record to a domain in the records' domain index (room for it must
 * have been made with xf__eng_domain_room). */
void xf__eng_set_domain(struct xf_engine *e, struct xf__eng_rec *rec, xf_domid_t domid);
int xf__eng_domain_room(struct xf_engine *e);

/* Marks a pending record transferred (counts, the records' two parts).
 * Returns the record where it now is. */
struct xf__eng_rec *xf__eng_mark_transferred(struct xf_engine *e, struct xf__eng_rec *rec);

/* Whether `owner` may make one more pending reservation (the limits of
 * struct xf_engine_params), with room to count it: 0, XF_ELIMIT, XF_ENOMEM. */
int xf__eng_pending_room(struct xf_engine *e, const char *owner);
/* Counts a pending reservation of `owner` in (add) or out. */
void xf__eng_pending_count(struct xf_engine *e, const char *owner, bool add);

/* Removes a record, from the ledger and the placement counts too; journals it. */
void xf__eng_remove(struct xf_engine *e, struct xf__eng_rec *rec);

/* Takes a record out of the accounting (settled): ledger and placement counts. */
void xf__eng_settle(struct xf_engine *e, struct xf__eng_rec *rec);

/* Makes room in the journal for `more` reservation entries, so that the
 * journalling of a change made next cannot fail. Returns 0 or XF_ENOMEM. */
int xf__eng_journal_room(struct xf_engine *e, size_t more);

/* Journals a change to reservation `id` (room must have been made). */
void xf__eng_touch(struct xf_engine *e, uint64_t id);

/* Journals a calibration row. Returns 0 or XF_ENOMEM. */
int xf__eng_touch_calib(struct xf_engine *e, const struct xf_calib_observation *o);

/* Whether `owner` is a usable session name. */
bool xf__eng_owner_ok(const char *owner);

#endif
