/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's observability listener (--metrics-socket, off by default): a
 * second Unix socket served by the same event loop, read-only, answering
 * GET /metrics (Prometheus' text exposition format, version 0.0.4), GET /
 * (a live page: plain HTML and JavaScript, no external assets) and GET
 * /state.json (what the page draws). Nothing on it can change the ledger,
 * so it may be opened wider than the control socket (--metrics-socket-mode).
 * Requests are HTTP/1.x GETs without a body; every reply closes the
 * connection.
 */
#ifndef XENFITD_WEB_H
#define XENFITD_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Latency buckets' upper bounds in seconds (le), the last one +Inf. */
#define XFD_HIST_BUCKETS 12u
struct xfd_histogram {
    uint64_t le[XFD_HIST_BUCKETS]; /* observations <= each bound (not cumulated) */
    uint64_t count;
    uint64_t sum_ns;
};

/* Adds one observation of ns nanoseconds. */
void xfd_histogram_observe(struct xfd_histogram *h, uint64_t ns);

/* What the event loop counts (the methods count in struct xfd_stats). */
struct xfd_metrics {
    struct xfd_histogram handle;     /* a request decided: parsed to reply written */
    struct xfd_histogram commit;     /* a round's changes committed to the state */
    uint64_t expired, died, settled; /* reservations the sweep ended or settled */
    uint64_t gets[3];                /* GETs answered: /metrics, /state.json, others */
};

enum {
    XFD_WEB_NEED_MORE = 0,
    XFD_WEB_COMPLETE = 1,
};

/*
 * Parses a GET at the start of buf[0..len) (headers up to max_header bytes).
 * Returns XFD_WEB_COMPLETE with the path (query dropped) in path[0..size)
 * and *ret_len, XFD_WEB_NEED_MORE, or an HTTP status to answer and close
 * with (400, 405, 414, 431, 505).
 */
int xfd_web_parse(const char *buf, size_t len, size_t max_header, char *path, size_t size,
                  size_t *ret_len);

struct xfd_server;

/* Appends the full HTTP response to a GET of `path`: 200 with the metrics,
 * the page or the state, 404 for anything else, 500 when the host cannot
 * be read. Returns 0 or -ENOMEM. */
int xfd_web_respond(struct xfd_server *srv, const char *path, struct xfd_buf *out);

/* Appends an HTTP/1.1 response with this status, type and body that closes
 * the connection. Returns 0 or -ENOMEM. */
int xfd_web_reply(struct xfd_buf *out, int status, const char *type, const char *body, size_t len);

/* The live page (web-page.c). */
extern const char xfd_web_page[];

#endif
