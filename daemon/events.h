/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's build records ("events"): every build it observed or was told
 * about, and every reservation it refused, each a JSON object (docs/daemon.md,
 * "Build records"), so that "why did my VM not start?" has an answer. They
 * are kept in memory (the newest XFD_EVENTS_MAX) and written to the state
 * (table builds) in the round that made them, before any reply of the round
 * is sent: an answered report is on disk, as a reservation is. The method
 * handlers add; the event loop flushes; the store loads them at start.
 */
#ifndef XENFITD_EVENTS_H
#define XENFITD_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XFD_EVENTS_MAX 10000u

struct xfd_events {
    json_t **recs; /* oldest first; each has "event_id" */
    size_t n, cap;
    uint64_t next_id;
    size_t unflushed; /* recs[n - unflushed ..] are not written yet */
};

void xfd_events_init(struct xfd_events *ev);
void xfd_events_done(struct xfd_events *ev);

/* Adds a record (stolen), numbering it ("event_id") and dropping the oldest
 * beyond XFD_EVENTS_MAX. Returns 0 or -ENOMEM (rec released). */
int xfd_events_add(struct xfd_events *ev, json_t *rec);

/* Re-adds a stored record with its id (not to be written again). */
int xfd_events_restore(struct xfd_events *ev, uint64_t id, json_t *rec);

/* Writes the records not yet written through put(ctx, id, record), then
 * trims what is past XFD_EVENTS_MAX (trim(ctx, below_id)). 0 or put's error
 * (the records stay unwritten). */
typedef int (*xfd_event_put_fn)(void *ctx, uint64_t id, const json_t *rec);
typedef int (*xfd_event_trim_fn)(void *ctx, uint64_t below_id);
int xfd_events_flush(struct xfd_events *ev, xfd_event_put_fn put, xfd_event_trim_fn trim,
                     void *ctx);
bool xfd_events_dirty(const struct xfd_events *ev);

#endif
