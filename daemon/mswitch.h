/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd as a server on message-switch (--message-switch): squeezed's
 * queue, org.xen.xapi.memory, where xenopsd's Memory_client sends its
 * JSON-RPC calls by default (use_switch=true). mswitch.c explains the
 * protocol and the design: one thread does the switch's blocking HTTP and
 * hands each request to the event loop, which answers it as it answers
 * the sockets' requests (same dispatcher, same group commit) and hands the
 * reply back.
 *
 * The loop's side, per request:
 *   1. xfd_mswitch_fd() is readable (an eventfd): call xfd_mswitch_take();
 *   2. it returns the request's body and a buffer for the reply: fill it;
 *   3. after the round's commit, xfd_mswitch_done() sends it.
 * Between take and done the thread touches neither buffer.
 */
#ifndef XENFITD_MSWITCH_H
#define XENFITD_MSWITCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct xfd_mswitch;

/*
 * Starts serving `queue` on the switch listening at `path`. Requests whose
 * body exceeds max_body get an error reply without reaching the loop. The
 * thread connects (and reconnects, with backoff, logged) on its own: a
 * switch that is not there yet is not an error here. Returns 0 and *ret, or
 * -errno (no thread was started).
 */
int xfd_mswitch_start(const char *path, const char *queue, size_t max_body,
                      struct xfd_mswitch **ret);

/* The descriptor to watch for reading (level-triggered; cleared by take). */
int xfd_mswitch_fd(const struct xfd_mswitch *m);

/*
 * Takes the request that waits, if any: true and its body (not
 * NUL-terminated, valid until done) and the reply buffer, emptied. false
 * when none waits.
 */
bool xfd_mswitch_take(struct xfd_mswitch *m, const char **ret_body, size_t *ret_len,
                      struct xfd_buf **ret_reply);

/* The reply is in the buffer take gave: the thread sends it and acks. */
void xfd_mswitch_done(struct xfd_mswitch *m);

/* Stops the thread (waking it from a transfer or a backoff), joins it and
 * frees everything. A request taken and not done is not answered; one not
 * acked stays on the switch's queue. Accepts NULL. */
void xfd_mswitch_stop(struct xfd_mswitch *m);

/* --- The pure parts, for the fuzz target (fuzz/fuzz-mswitch.c) --------- */

/* One message of a transfer, as xenfitd reads it (pointers into the JSON). */
struct xfd_mswitch_msg {
    enum { XFD_MSWITCH_REQUEST, XFD_MSWITCH_RESPONSE, XFD_MSWITCH_OTHER } kind;
    const char *queue; /* its id: [queue, id] */
    int64_t id;
    const char *reply_to; /* REQUEST only, as payload */
    const char *payload;
    size_t payload_len;
};

/*
 * Parses a transfer's answer (bytes that are not UTF-8 read as U+FFFD).
 * Returns 0 and *ret (an object with "messages", an array, and "next", a
 * string; the caller's reference), -EPROTO for anything else, or -ENOMEM.
 */
int xfd_mswitch_parse_transfer(const char *text, size_t len, json_t **ret);

/* Reads one element of "messages": [[QUEUE, ID], {"payload", "kind"}].
 * Returns 0 and *ret, or -EPROTO when it has no usable id (it cannot even
 * be acked). A message neither a request with a reply queue and a payload
 * nor a response is XFD_MSWITCH_OTHER. */
int xfd_mswitch_classify(json_t *msg, struct xfd_mswitch_msg *ret);

/* Appends in[0..len) to out with every byte outside a valid UTF-8 sequence
 * replaced by U+FFFD. Returns 0 or -ENOMEM. */
int xfd_mswitch_repair_utf8(const char *in, size_t len, struct xfd_buf *out);

#endif
