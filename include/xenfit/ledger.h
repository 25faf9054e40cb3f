/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The reservation ledger: xenfit's own promises of host memory, made before
 * a domain exists (squeezed's meaning of "reservation"). A reservation has
 * an id, an owner (the client session that made it), the pages it holds on
 * each NUMA node, and, once transferred, the domain it belongs to. The
 * ledger is plain memory: the daemon persists it, the scenario runner keeps
 * it per run. Not thread-safe: its owner serialises access.
 */
#ifndef XENFIT_LEDGER_H
#define XENFIT_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "xenfit/claims.h"
#include "xenfit/types.h"

#define XF_OWNER_MAX 64 /* bytes, with the terminating NUL */

struct xf_reservation {
    uint64_t id;              /* assigned by the ledger, never reused */
    char owner[XF_OWNER_MAX]; /* session that made it ("" for none) */
    xf_domid_t domid;         /* XF_DOMID_NONE until transferred */
    uint64_t total_pages;     /* what the domain will take, in all */
    uint64_t node_mask;       /* nodes holding node_pages (0: not placed) */
    uint64_t node_pages[XF_MAX_NODES];
    struct xf_claim_plan claim; /* what the builder should claim */
    uint64_t created_ns;
    uint64_t expires_ns; /* 0: never; only while untransferred */
};

struct xf_ledger;

int xf_ledger_new(struct xf_ledger **ret);
void xf_ledger_free(struct xf_ledger *l);

/*
 * Adds a copy of *r with a fresh id (r->id is ignored; a non-zero r->id is
 * kept instead when the ledger is being reloaded, see xf_ledger_restore).
 * The node pages must add up to at most total_pages. Returns 0 and the id,
 * XF_EINVAL for inconsistent pages, XF_ENOMEM.
 */
int xf_ledger_add(struct xf_ledger *l, const struct xf_reservation *r, uint64_t *ret_id);

/* Re-adds a persisted reservation with its own id; later ids continue above
 * it. XF_EEXIST if the id is taken. */
int xf_ledger_restore(struct xf_ledger *l, const struct xf_reservation *r);

/* Ties a reservation to its domain (it no longer expires). XF_EUNKNOWN_RESERVATION;
 * XF_EEXIST if another reservation already holds that domain. */
int xf_ledger_transfer(struct xf_ledger *l, uint64_t id, xf_domid_t domid);

/* Records the claim the builder actually made (after a fallback, say).
 * XF_EUNKNOWN_RESERVATION if there is none. */
int xf_ledger_set_claim(struct xf_ledger *l, uint64_t id, const struct xf_claim_plan *claim);

/* Removes a reservation. XF_EUNKNOWN_RESERVATION if there is none. */
int xf_ledger_delete(struct xf_ledger *l, uint64_t id);

/* The reservation with that id or domain, or NULL. Valid until the next change. */
const struct xf_reservation *xf_ledger_find(const struct xf_ledger *l, uint64_t id);
const struct xf_reservation *xf_ledger_find_domain(const struct xf_ledger *l, xf_domid_t domid);

size_t xf_ledger_count(const struct xf_ledger *l);
/* The i-th reservation (0 <= i < count), in no particular order but this:
 * the first xf_ledger_count_domains() are those tied to a domain. */
const struct xf_reservation *xf_ledger_at(const struct xf_ledger *l, size_t i);
size_t xf_ledger_count_domains(const struct xf_ledger *l);

/* The pages of the reservations not tied to a domain, in all and (when
 * ret_node_pages is not NULL, XF_MAX_NODES entries) per node: kept as they
 * change, so reading them costs nothing however many there are. */
uint64_t xf_ledger_pending_pages(const struct xf_ledger *l, uint64_t *ret_node_pages);

/* Sums over all reservations. */
uint64_t xf_ledger_total_pages(const struct xf_ledger *l);

/*
 * Removes the untransferred reservations of `owner` (squeezed: a client that
 * logs in again loses them) or, with xf_ledger_expire, those whose expiry is
 * at or before now_ns. Each removed id is written to ret_ids (up to max; may
 * be NULL). Returns how many were removed.
 */
size_t xf_ledger_drop_owner(struct xf_ledger *l, const char *owner, uint64_t *ret_ids, size_t max);
size_t xf_ledger_expire(struct xf_ledger *l, uint64_t now_ns, uint64_t *ret_ids, size_t max);

#endif
