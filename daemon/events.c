/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's build records in memory (daemon/events.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"

void xfd_events_init(struct xfd_events *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->next_id = 1;
}

void xfd_events_done(struct xfd_events *ev)
{
    for (size_t i = 0; i < ev->n; i++)
        json_decref(ev->recs[i]);
    free(ev->recs);
    xfd_events_init(ev);
}

static int push(struct xfd_events *ev, json_t *rec)
{
    if (ev->n == XFD_EVENTS_MAX) {
        json_decref(ev->recs[0]);
        memmove(ev->recs, ev->recs + 1, (ev->n - 1) * sizeof(json_t *));
        ev->n--;
        if (ev->unflushed > ev->n)
            ev->unflushed = ev->n;
    }
    if (ev->n == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 64;
        json_t **recs = realloc(ev->recs, cap * sizeof(json_t *));
        if (!recs) {
            json_decref(rec);
            return -ENOMEM;
        }
        ev->recs = recs;
        ev->cap = cap;
    }
    ev->recs[ev->n++] = rec;
    return 0;
}

int xfd_events_add(struct xfd_events *ev, json_t *rec)
{
    int r;

    if (!rec || json_object_set_new(rec, "event_id", json_integer((json_int_t)ev->next_id)) < 0) {
        json_decref(rec);
        return -ENOMEM;
    }
    if ((r = push(ev, rec)) < 0)
        return r;
    ev->next_id++;
    ev->unflushed++;
    return 0;
}

int xfd_events_restore(struct xfd_events *ev, uint64_t id, json_t *rec)
{
    if (!rec || json_object_set_new(rec, "event_id", json_integer((json_int_t)id)) < 0) {
        json_decref(rec);
        return -ENOMEM;
    }
    if (id >= ev->next_id)
        ev->next_id = id + 1;
    return push(ev, rec);
}

bool xfd_events_dirty(const struct xfd_events *ev)
{
    return ev->unflushed > 0;
}

int xfd_events_flush(struct xfd_events *ev, xfd_event_put_fn put, xfd_event_trim_fn trim, void *ctx)
{
    int r;

    for (size_t i = ev->n - ev->unflushed; i < ev->n; i++) {
        json_int_t id = json_integer_value(json_object_get(ev->recs[i], "event_id"));
        if ((r = put(ctx, (uint64_t)id, ev->recs[i])) < 0)
            return r;
    }
    ev->unflushed = 0;
    if (ev->next_id > XFD_EVENTS_MAX + 1)
        return trim(ctx, ev->next_id - XFD_EVENTS_MAX);
    return 0;
}
