/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's durable state: a SQLite database in the state directory
 * (xenfitd.db, WAL mode) holding the reservations, the calibration
 * observations and a few facts (meta): the reservation-id salt, the host's
 * initial free memory and the boot it was measured in. The daemon writes
 * the engine's journal into one transaction per event-loop batch and commits
 * it before any reply of the batch is sent (group commit), so an
 * acknowledged reservation is on disk whatever happens next.
 *
 * synchronous=NORMAL (the default) makes a commit a write() to the WAL: it
 * survives the daemon being killed at any moment (the data is in the
 * kernel), not a power loss. synchronous=FULL adds an fsync of the WAL per
 * commit, which survives power loss too, at the cost of a disk flush per
 * batch. A lock file (xenfitd.lock, flock) keeps a second daemon off the
 * same state.
 */
#ifndef XENFITD_STORE_H
#define XENFITD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "xenfit/engine.h"

enum xfd_sync {
    XFD_SYNC_NORMAL,
    XFD_SYNC_FULL,
};

struct xfd_store;

/*
 * Opens (creating) the state in `dir` (created with mode 0700 if missing).
 * Returns 0 and the store, or -errno / -EIO with a message in err: the
 * directory cannot be made, another daemon holds the lock (-EBUSY), the
 * database cannot be opened or has a newer schema, or the state is damaged
 * (-EUCLEAN: tables lost, integrity check failed, committed changes missing
 * against the mark kept beside it; see store.c).
 */
/* Registers (once) the VFS that writes each commit's WAL frames in one
 * system call (store-vfs.c) and returns its name, or NULL if SQLite has no
 * default VFS. */
const char *xfd_store_vfs_register(void);

int xfd_store_open(const char *dir, enum xfd_sync sync, struct xfd_store **ret, char *err,
                   size_t errlen);
void xfd_store_close(struct xfd_store *s);

/*
 * Moves a damaged state aside (xenfitd.db, its WAL and shared memory, the
 * mark), renamed with a suffix ".damaged-TIME" written to ret_suffix, so
 * that the next xfd_store_open() begins empty. Returns 0 or -errno.
 */
int xfd_store_move_aside(const char *dir, char *ret_suffix, size_t len);

/* Meta values (text). get: 0 and a copy in buf, -ENOENT, -EIO. */
int xfd_store_meta_get(struct xfd_store *s, const char *key, char *buf, size_t len);
int xfd_store_meta_set(struct xfd_store *s, const char *key, const char *value);

/* Loads everything into a fresh engine (xf_engine_restore*). Returns 0 and
 * the counts, or -EIO / the engine's error (with a message in err). */
int xfd_store_load(struct xfd_store *s, struct xf_engine *e, size_t *ret_resv, size_t *ret_calib,
                   char *err, size_t errlen);

/* Transactions. begin is idempotent within a batch (in_txn tells). */
int xfd_store_begin(struct xfd_store *s);
int xfd_store_commit(struct xfd_store *s);
void xfd_store_rollback(struct xfd_store *s);
bool xfd_store_in_txn(const struct xfd_store *s);

/* Writes the engine's journal (xf_engine_flush_changes callback; ctx is the
 * store). Returns 0 or -EIO. */
int xfd_store_apply(void *ctx, const struct xf_engine_change *change);

/* Build records (daemon/events.h): writing one (xfd_events_flush's put;
 * ctx is the store), dropping those below an id, loading them all. 0 or
 * -EIO / -ENOMEM. */
int xfd_store_put_event(void *ctx, uint64_t id, const json_t *rec);
int xfd_store_trim_events(void *ctx, uint64_t below_id);
int xfd_store_load_events(struct xfd_store *s, struct xfd_events *ev, size_t *ret_n, char *err,
                          size_t errlen);

/* The last SQLite error message. */
const char *xfd_store_errmsg(const struct xfd_store *s);

#endif
