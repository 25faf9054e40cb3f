/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * A map from a non-zero 64-bit key (a reservation id, a domain id + 1) to a
 * position in the owner's array: open addressing with linear probing and
 * backward-shift deletion (no tombstones), kept at most half full. The
 * ledger and the host engine index their records with it, so that finding,
 * transferring and removing a reservation is O(1) however many are pending.
 * Internal to libxenfit.
 */
#ifndef XENFIT_IDMAP_H
#define XENFIT_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct xf__idmap {
    uint64_t *keys; /* 0: empty slot */
    size_t *vals;
    size_t cap; /* a power of two, or 0 */
    size_t n;
};

#define XF__IDMAP_NONE ((size_t)-1)

/* An empty map (no allocation until the first put). */
void xf__idmap_init(struct xf__idmap *m);
void xf__idmap_done(struct xf__idmap *m);

/* The value of `key`, or XF__IDMAP_NONE. */
size_t xf__idmap_get(const struct xf__idmap *m, uint64_t key);

/* Sets `key` to `val` (inserting or replacing). Returns 0, or XF_ENOMEM
 * (the map is unchanged) or XF_EINVAL for key 0. */
int xf__idmap_put(struct xf__idmap *m, uint64_t key, size_t val);

/* Removes `key` if present. */
void xf__idmap_del(struct xf__idmap *m, uint64_t key);

/* Makes room for `n` keys in all, so that the puts up to that count cannot
 * fail. Returns 0 or XF_ENOMEM. */
int xf__idmap_reserve(struct xf__idmap *m, size_t n);

#endif
