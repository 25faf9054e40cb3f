/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's event loop: one thread, epoll, like squeezed's single big lock
 * but without the threads. Each request is read, decided and answered to
 * completion before the next, so admission and reservation are one atomic
 * decision however many clients there are.
 *
 * Group commit: every request a round of epoll_wait() delivers is handled,
 * its changes written into one open SQLite transaction and its reply kept
 * back; then the transaction commits and only then are the replies sent. If
 * the commit fails, the round's replies are withdrawn (those connections are
 * closed: nothing was acknowledged) and the engine is rebuilt from the store.
 *
 * Robustness: a request must arrive complete within --client-timeout of its
 * first byte (408 otherwise), idle keep-alive connections close after
 * --idle-timeout, a client that stops reading its replies is dropped after
 * --client-timeout without progress, a half-closed client still gets the
 * replies to what it sent, and connections above --max-clients get a 503.
 *
 * Closing: a connection that is done (refused, or not keep-alive) is shut
 * down for writing and drained until the client closes (or --client-timeout
 * passes): closing a Unix socket with unread input makes the client's read
 * fail with ECONNRESET before it sees the reply. Connections over the limit
 * are served that way too, from a few slots of their own (XFD_REFUSING_MAX).
 * When accept() itself fails for want of descriptors or memory, accepting
 * pauses for ACCEPT_PAUSE_MS instead of spinning on the level-triggered
 * listening socket; log lines about refused connections are rate-limited.
 *
 * The message switch (--message-switch, mswitch.c): its thread hands a
 * request over through an eventfd; the loop answers it in the round like a
 * socket's request, and hands the reply back only after the commit.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "native.h"
#include "xenfit/error.h"
#include "xenfitd.h"
#include "xmlrpc.h"

/* Stop reading a client whose unsent replies exceed this. */
#define OUT_HIGH    (1u << 20)
#define READ_CHUNK  65536u
#define TICK_MS     200u
#define LISTEN_TAG  ((void *)1)
#define SIGNAL_TAG  ((void *)2)
#define METRICS_TAG ((void *)3)
#define MSWITCH_TAG ((void *)4)
/* How long accepting pauses after accept() ran out of descriptors. */
#define ACCEPT_PAUSE_MS 100u
/* At most one line a second about refused connections. */
#define REFUSAL_LOG_MS 1000u

struct xfd_conn {
    int fd;
    struct xfd_buf in, out;
    size_t out_off;    /* bytes of out already sent */
    size_t batch_mark; /* out.len when this round's first reply was added */
    bool in_batch;
    bool close_after; /* close once out is sent */
    bool read_eof;
    bool lingering; /* done: shut down for writing, draining the client's input */
    bool refusing;  /* over the limit: holds one of the refusal slots */
    bool web;       /* on --metrics-socket: GETs (web.h), never in a batch */
    bool dead;
    uint32_t events;
    uint64_t req_start_ms; /* first byte of a request not yet complete; 0: none */
    uint64_t active_ms;    /* last read or write progress */
    struct xfd_conn *prev, *next, *batch_next;
};

uint64_t xfd_now_ns(void)
{
    /* Not CLOCK_REALTIME: an NTP step of 11 minutes expired a reservation
     * 1.5 s old. CLOCK_BOOTTIME only moves forward, counts a suspend too,
     * and restarts with the machine (the store rebases on a new boot). */
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t xfd_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The loop's clock (timeouts, the sweep's period): monotonic, moved ahead
 * with the reservations' clock by xenfit.sim_advance_time. */
static uint64_t loop_ms(const struct xfd_server *srv)
{
    return xfd_mono_ms() + srv->ctx.clock_skew_ns / 1000000u;
}

static void set_events(struct xfd_server *srv, struct xfd_conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (c->events == events || c->dead)
        return;
    if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->events = events;
}

static void conn_close(struct xfd_server *srv, struct xfd_conn *c)
{
    (void)epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (srv->conns == c) /* the head by identity, which the analyzer can follow */
        srv->conns = c->next;
    else
        c->prev->next = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->refusing)
        srv->nr_refusing--;
    else if (c->lingering)
        srv->nr_lingering--;
    else
        srv->nr_conns--;
    xfd_log(XFD_LOG_DEBUG, "connection %d closed (%u open)", c->fd, srv->nr_conns);
    xfd_buf_free(&c->in);
    xfd_buf_free(&c->out);
    free(c);
}

/* The reply is out and nothing more will be: shut down for writing (the
 * client reads EOF after the reply) and read until the client closes, so
 * that the final close() finds no unread input (which would reset the
 * connection under the client's read). */
static void linger(struct xfd_server *srv, struct xfd_conn *c, uint64_t now)
{
    if (c->lingering)
        return;
    /* A client that is done is no longer one of --max-clients: its slot is
     * free for the next one at once. Lingering ones are bounded apart. */
    if (c->read_eof || (!c->refusing && srv->nr_lingering >= XFD_REFUSING_MAX) ||
        shutdown(c->fd, SHUT_WR) < 0) {
        c->dead = true;
        return;
    }
    if (!c->refusing) {
        srv->nr_conns--;
        srv->nr_lingering++;
    }
    c->lingering = true;
    c->active_ms = now;
    xfd_buf_free(&c->in);
    set_events(srv, c, EPOLLIN | EPOLLRDHUP);
}

/* Reads and drops what a lingering client still sends; dead at its EOF. */
static void drain(struct xfd_conn *c)
{
    char sink[4096];
    for (;;) {
        ssize_t n = read(c->fd, sink, sizeof(sink));
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        c->dead = true; /* EOF or an error: nothing left to protect */
        return;
    }
}

/* Sends what may be sent: everything outside this round's held-back replies. */
static void flush_out(struct xfd_server *srv, struct xfd_conn *c, uint64_t now)
{
    size_t limit = c->in_batch ? c->batch_mark : c->out.len;
    while (!c->dead && c->out_off < limit) {
        ssize_t n = send(c->fd, c->out.p + c->out_off, limit - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            c->active_ms = now;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            c->dead = true; /* the client went away: its replies are moot */
        }
    }
    if (c->dead)
        return;
    if (c->out_off == c->out.len) {
        c->out.len = c->out_off = 0;
        limit = 0; /* all sent: nothing to wait for (EPOLLOUT would wake the next round) */
        if (c->close_after) {
            linger(srv, c, now);
            return;
        }
    }
    uint32_t ev = (c->read_eof || c->close_after ? 0u : EPOLLIN | EPOLLRDHUP) |
                  (c->out_off < limit ? EPOLLOUT : 0u);
    if (c->out.len - c->out_off > OUT_HIGH)
        ev &= ~(uint32_t)(EPOLLIN | EPOLLRDHUP); /* back-pressure */
    set_events(srv, c, ev);
}

static void join_batch(struct xfd_server *srv, struct xfd_conn *c)
{
    if (c->in_batch)
        return;
    c->in_batch = true;
    c->batch_mark = c->out.len;
    c->batch_next = srv->batch;
    srv->batch = c;
}

/* An HTTP-level refusal: a JSON-RPC error body, then close. Held back with
 * the round's replies when `held` (it may follow replies of the round). */
static void refuse(struct xfd_server *srv, struct xfd_conn *c, int status, const char *detail,
                   bool held)
{
    struct xfd_buf body = {0};
    if (held)
        join_batch(srv, c);
    if (xfd_rpc_error_body(&body, detail) == 0)
        (void)xfd_http_respond(&c->out, status, false, body.p, body.len);
    xfd_buf_free(&body);
    c->close_after = true;
    c->in.len = 0;
    c->req_start_ms = 0;
    xfd_log(XFD_LOG_INFO, "refused a request with HTTP %d: %s", status, detail);
}

/* Writes the engine's journal into the round's transaction. */
static void persist(struct xfd_server *srv)
{
    struct xf_engine *e = srv->ctx.engine;
    if ((!xf_engine_has_changes(e) && !xfd_events_dirty(&srv->ctx.events)) || srv->batch_failed)
        return;
    if (xfd_store_begin(srv->store) < 0 ||
        xf_engine_flush_changes(e, xfd_store_apply, srv->store) < 0 ||
        xfd_events_flush(&srv->ctx.events, xfd_store_put_event, xfd_store_trim_events, srv->store) <
            0) {
        xfd_log(XFD_LOG_ERROR, "writing the state failed: %s", xfd_store_errmsg(srv->store));
        srv->batch_failed = true;
    }
}

/* A request from the message switch's thread (mswitch.h): answered by the
 * same dispatcher, its changes in this round's transaction, its reply held
 * until end_round() has committed them. */
static void serve_mswitch(struct xfd_server *srv)
{
    struct xfd_buf *reply;
    const char *body;
    size_t len;
    uint64_t t0 = mono_ns();

    if (srv->mswitch_reply || !xfd_mswitch_take(srv->mswitch, &body, &len, &reply))
        return;
    if (xfd_rpc_handle(&srv->ctx, body, len, reply) < 0) {
        reply->len = 0;
        (void)xfd_rpc_error_body(reply, "out of memory");
    }
    persist(srv);
    xfd_histogram_observe(&srv->metrics.handle, mono_ns() - t0);
    srv->mswitch_reply = reply;
}

/* A GET on the metrics socket: answered at once (it changes nothing, so it
 * waits for no commit), then the connection closes. */
static void serve_web(struct xfd_server *srv, struct xfd_conn *c)
{
    char path[256];
    size_t used;
    int r = xfd_web_parse(c->in.p, c->in.len, srv->cfg.max_header, path, sizeof(path), &used);

    if (r == XFD_WEB_NEED_MORE && !c->read_eof)
        return;
    if (r == XFD_WEB_COMPLETE) {
        r = xfd_web_respond(srv, path, &c->out);
    } else if (r != XFD_WEB_NEED_MORE) {
        const char *reason = xfd_http_reason(r);
        r = xfd_web_reply(&c->out, r, "text/plain; charset=utf-8", reason, strlen(reason));
    }
    if (r < 0)
        c->dead = true;
    c->close_after = true;
    c->in.len = 0;
    c->req_start_ms = 0;
}

static void serve_requests(struct xfd_server *srv, struct xfd_conn *c, uint64_t now)
{
    struct xfd_http_limits lim = {.max_header = srv->cfg.max_header, .max_body = srv->cfg.max_body};
    static struct xfd_buf body; /* reused: one request at a time */
    size_t used = 0;

    if (c->web) {
        serve_web(srv, c);
        return;
    }
    while (!c->close_after && used < c->in.len) {
        struct xfd_http_request req;
        struct xfd_http_error err;
        uint64_t t0 = mono_ns();
        int r = xfd_http_parse(c->in.p + used, c->in.len - used, &lim, &req, &err);
        if (r == XFD_HTTP_NEED_MORE)
            break;
        if (r == XFD_HTTP_BAD) {
            refuse(srv, c, err.status, err.detail, true);
            break;
        }
        join_batch(srv, c);
        body.len = 0;
        if (xfd_rpc_handle(&srv->ctx, req.body, req.body_len, &body) < 0 ||
            xfd_http_respond_type(&c->out, 200, req.keep_alive,
                                  xfd_xmlrpc_is_xml(req.body, req.body_len) ? "text/xml"
                                                                            : "application/json",
                                  body.p, body.len) < 0) {
            refuse(srv, c, 500, "out of memory", true);
            break;
        }
        persist(srv);
        xfd_histogram_observe(&srv->metrics.handle, mono_ns() - t0);
        if (!req.keep_alive)
            c->close_after = true;
        used += req.header_len + req.body_len;
    }
    if (body.cap > 65536)
        xfd_buf_free(&body); /* do not keep a large one */
    if (!c->close_after) {
        xfd_buf_consume(&c->in, used);
        if (used)
            c->req_start_ms = c->in.len ? now : 0;
    }
    if (c->read_eof && !c->close_after) {
        /* Half-closed: answer what was asked, then close. */
        if (c->in.len)
            refuse(srv, c, 400, "the connection was closed in the middle of a request", true);
        c->close_after = true;
    }
}

static void on_readable(struct xfd_server *srv, struct xfd_conn *c, uint64_t now)
{
    size_t cap = srv->cfg.max_header + srv->cfg.max_body + 4096, got = 0;

    if (c->lingering) {
        drain(c);
        return;
    }
    while (!c->read_eof && got < READ_CHUNK && c->in.len < cap) {
        size_t room = cap - c->in.len < READ_CHUNK ? cap - c->in.len : READ_CHUNK;
        ssize_t n;
        if (xfd_buf_reserve(&c->in, room) < 0) {
            c->dead = true;
            return;
        }
        n = read(c->fd, c->in.p + c->in.len, room);
        if (n > 0) {
            if (c->in.len == 0)
                c->req_start_ms = now;
            c->in.len += (size_t)n;
            got += (size_t)n;
            c->active_ms = now;
            if ((size_t)n < room)
                break; /* drained for now: epoll says when there is more */
        } else if (n == 0) {
            c->read_eof = true;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else {
            c->dead = true;
            return;
        }
    }
    serve_requests(srv, c, now);
    flush_out(srv, c, now);
}

/* Logs a refused connection, at most once per REFUSAL_LOG_MS, with the
 * number left unsaid since the last line. */
static void log_refusal(struct xfd_server *srv, uint64_t now, const char *why)
{
    if (srv->refusal_logged_ms && now - srv->refusal_logged_ms < REFUSAL_LOG_MS) {
        srv->refusals_unlogged++;
        return;
    }
    if (srv->refusals_unlogged)
        xfd_log(XFD_LOG_WARNING, "refused a connection: %s (and %u more since the last line)", why,
                srv->refusals_unlogged);
    else
        xfd_log(XFD_LOG_WARNING, "refused a connection: %s", why);
    srv->refusals_unlogged = 0;
    srv->refusal_logged_ms = now;
}

/* Stops watching the listening socket until ACCEPT_PAUSE_MS from now. */
static void pause_accepting(struct xfd_server *srv, uint64_t now, int err)
{
    struct epoll_event ev = {.events = 0, .data.ptr = LISTEN_TAG};
    struct epoll_event mev = {.events = 0, .data.ptr = METRICS_TAG};
    char why[128];
    if (srv->metrics_fd >= 0)
        (void)epoll_ctl(srv->epoll_fd, EPOLL_CTL_MOD, srv->metrics_fd, &mev);
    if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_MOD, srv->listen_fd, &ev) == 0)
        srv->accept_resume_ms = now + ACCEPT_PAUSE_MS;
    snprintf(why, sizeof(why), "accept: %s; accepting again in %u ms", strerror(err),
             ACCEPT_PAUSE_MS);
    log_refusal(srv, now, why);
}

static void resume_accepting(struct xfd_server *srv, uint64_t now)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = LISTEN_TAG};
    struct epoll_event mev = {.events = EPOLLIN, .data.ptr = METRICS_TAG};
    if (!srv->accept_resume_ms || now < srv->accept_resume_ms)
        return;
    if (srv->metrics_fd >= 0)
        (void)epoll_ctl(srv->epoll_fd, EPOLL_CTL_MOD, srv->metrics_fd, &mev);
    if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_MOD, srv->listen_fd, &ev) == 0)
        srv->accept_resume_ms = 0;
}

static struct xfd_conn *conn_add(struct xfd_server *srv, int fd, uint64_t now)
{
    struct xfd_conn *c = calloc(1, sizeof(*c));
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
    if (!c)
        return NULL;
    c->fd = fd;
    c->active_ms = now;
    c->events = ev.events;
    ev.data.ptr = c;
    if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        free(c);
        return NULL;
    }
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    return c;
}

/* A connection over --max-clients: a 503 it can read, from a refusal slot
 * (then the connection lingers like any other that is done), or, with the
 * slots taken too, a best-effort 503 and an immediate close. */
static void refuse_busy(struct xfd_server *srv, int fd, uint64_t now)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                               "Connection: close\r\n\r\n";
    struct xfd_conn *c = NULL;
    char why[96];

    if (srv->nr_refusing < XFD_REFUSING_MAX && (c = conn_add(srv, fd, now))) {
        c->refusing = true;
        srv->nr_refusing++;
        if (xfd_buf_add(&c->out, busy, sizeof(busy) - 1) < 0)
            c->dead = true;
        c->close_after = true;
        flush_out(srv, c, now);
    } else {
        (void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(fd);
    }
    snprintf(why, sizeof(why), "%u open (the limit)", srv->nr_conns);
    log_refusal(srv, now, why);
}

/* Accepts on the control socket, or on the metrics socket when `web`. */
static void accept_all(struct xfd_server *srv, bool web, uint64_t now)
{
    for (;;) {
        int fd = accept4(web ? srv->metrics_fd : srv->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct xfd_conn *c;
        if (fd < 0) {
            int err = errno;
            if (err == EINTR || err == ECONNABORTED)
                continue;
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
                pause_accepting(srv, now, err);
            else if (err != EAGAIN && err != EWOULDBLOCK)
                xfd_log(XFD_LOG_WARNING, "accept: %s", strerror(err));
            return;
        }
        if (srv->nr_conns >= srv->cfg.max_clients) {
            /* The rest wait for the next round, after its hang-ups are
             * closed: a client may have closed one (and connected again)
             * while this loop ran, and must not be refused for it. */
            refuse_busy(srv, fd, now);
            return;
        }
        if (!(c = conn_add(srv, fd, now))) {
            refuse_busy(srv, fd, now);
            continue;
        }
        c->web = web;
        srv->nr_conns++;
        xfd_log(XFD_LOG_DEBUG, "connection %d accepted (%u open)", fd, srv->nr_conns);
    }
}

/* Commits the round, then releases its replies (or withdraws them). */
static void end_round(struct xfd_server *srv, uint64_t now)
{
    bool failed = srv->batch_failed;
    struct xfd_conn *c, *next;
    char why[400] = "";

    if (!failed && xfd_store_in_txn(srv->store)) {
        uint64_t t0 = mono_ns();
        if (xfd_store_commit(srv->store) < 0) {
            xfd_log(XFD_LOG_ERROR, "committing the state failed: %s", xfd_store_errmsg(srv->store));
            failed = true;
        } else {
            xfd_histogram_observe(&srv->metrics.commit, mono_ns() - t0);
        }
    }
    if (failed) {
        /* The cause, before the rollback and the reload talk to SQLite. */
        snprintf(why, sizeof(why),
                 "xenfitd could not record this round's changes: %s; nothing was changed, "
                 "try again",
                 xfd_store_errmsg(srv->store));
        xfd_store_rollback(srv->store);
        xfd_log(XFD_LOG_ERROR, "withdrawing this round's replies and reloading the state");
        if (xfd_server_load(srv) < 0)
            srv->stopping = true; /* no consistent state to serve from */
    }
    if (srv->mswitch_reply) {
        if (failed) {
            /* As a socket's: the error that names the cause, not the reply
             * whose changes were rolled back. */
            srv->mswitch_reply->len = 0;
            (void)xfd_rpc_error_body(srv->mswitch_reply, why);
        }
        xfd_mswitch_done(srv->mswitch);
        srv->mswitch_reply = NULL;
    }
    for (c = srv->batch; c; c = next) {
        next = c->batch_next;
        c->in_batch = false;
        if (failed) {
            /* Its replies were never acknowledged: in their place, an error
             * that names the cause (the connection then closes: what else it
             * had sent this round is unanswered). */
            c->out.len = c->batch_mark;
            refuse(srv, c, 200, why, false); /* a JSON-RPC error, as any client expects */
        }
        flush_out(srv, c, now);
    }
    srv->batch = NULL;
    srv->batch_failed = false;
}

static void reap(struct xfd_server *srv, uint64_t now)
{
    for (struct xfd_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if (!c->dead && c->lingering) {
            if (now - c->active_ms > srv->cfg.client_timeout_ms)
                c->dead = true; /* it never closed: stop waiting */
        } else if (!c->dead && c->req_start_ms &&
                   now - c->req_start_ms > srv->cfg.client_timeout_ms) {
            refuse(srv, c, 408, "the request did not arrive in time", false);
            flush_out(srv, c, now);
        } else if (!c->dead &&
                   now - c->active_ms > (c->out.len > c->out_off ? srv->cfg.client_timeout_ms
                                                                 : srv->cfg.idle_timeout_ms)) {
            c->dead = true; /* idle, or not reading its replies */
        }
        if (c->dead)
            conn_close(srv, c);
    }
}

/* Closes the connections found dead this round (not to spin on their
 * hang-up events until the next tick). */
static void close_dead(struct xfd_server *srv)
{
    for (struct xfd_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if (c->dead)
            conn_close(srv, c);
    }
}

static void sweep(struct xfd_server *srv)
{
    struct xf_engine_swept sw;
    int r = xf_engine_sweep(srv->ctx.engine, xfd_ctx_now_ns(&srv->ctx), &sw);
    if (r < 0) {
        xfd_log(XFD_LOG_WARNING, "sweep: reading the hypervisor failed: %s", xf_strerror(r));
        return;
    }
    srv->metrics.expired += sw.expired;
    srv->metrics.died += sw.died;
    srv->metrics.settled += sw.settled;
    if (sw.expired || sw.died || sw.settled)
        xfd_log(XFD_LOG_INFO, "sweep: %zu expired, %zu of dead domains dropped, %zu settled",
                sw.expired, sw.died, sw.settled);
    persist(srv);
}

int xfd_fit_max_clients(unsigned *max_clients)
{
    /* 503 slots, lingering closes, the daemon's own. */
    const rlim_t others = 2 * XFD_REFUSING_MAX + XFD_FD_HEADROOM;
    struct rlimit rl;
    rlim_t want = (rlim_t)*max_clients + others;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 0; /* unknown: leave it as configured */
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        struct rlimit up = rl;
        up.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl = up;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
        return 0;
    if (rl.rlim_cur <= others) {
        xfd_log(XFD_LOG_ERROR,
                "the open-files limit %llu leaves no room for a client (xenfitd keeps %llu "
                "descriptors for itself and its 503 replies): raise LimitNOFILE",
                (unsigned long long)rl.rlim_cur, (unsigned long long)others);
        return XF_ERANGE;
    }
    xfd_log(XFD_LOG_WARNING,
            "--max-clients %u lowered to %llu: open files are limited to %llu (hard limit %llu)",
            *max_clients, (unsigned long long)(rl.rlim_cur - others),
            (unsigned long long)rl.rlim_cur,
            (unsigned long long)(rl.rlim_max == RLIM_INFINITY ? 0 : rl.rlim_max));
    *max_clients = (unsigned)(rl.rlim_cur - others);
    return 0;
}

static int handle_signal(struct xfd_server *srv)
{
    struct signalfd_siginfo si;
    while (read(srv->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            xfd_log(XFD_LOG_INFO, "signal %u: stopping", si.ssi_signo);
            srv->stopping = true;
        } else {
            xfd_log(XFD_LOG_INFO, "signal %u ignored", si.ssi_signo);
        }
    }
    return 0;
}

int xfd_serve(struct xfd_server *srv)
{
    struct epoll_event evs[256];
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = LISTEN_TAG};
    struct epoll_event sev = {.events = EPOLLIN, .data.ptr = SIGNAL_TAG};
    struct epoll_event mev = {.events = EPOLLIN, .data.ptr = METRICS_TAG};
    struct epoll_event wev = {.events = EPOLLIN, .data.ptr = MSWITCH_TAG};
    uint64_t next_reap = 0;

    srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (srv->epoll_fd < 0 || epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->listen_fd, &lev) < 0 ||
        epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->signal_fd, &sev) < 0 ||
        (srv->metrics_fd >= 0 &&
         epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->metrics_fd, &mev) < 0) ||
        (srv->mswitch &&
         epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, xfd_mswitch_fd(srv->mswitch), &wev) < 0))
        return -errno;
    srv->next_sweep_ms = loop_ms(srv) + srv->cfg.sweep_interval_ms;
    /* The first idle balance is due at once, even with no period
     * (--balance-interval 0): targets a squeeze left behind when xenfitd was
     * killed in the middle of it are given back now, not a period later
     * (squeezed waits one, memory_server.ml start_balance_thread). Nothing
     * was promised from them: a reservation is recorded with the group
     * commit and acknowledged only after it, so a crash mid-squeeze leaves
     * none (docs/daemon.md, "Ballooning"). */
    srv->next_balance_ms = loop_ms(srv);
    bool first_balance = true;
    while (!srv->stopping) {
        uint64_t now = loop_ms(srv);
        int timeout = (int)(srv->next_sweep_ms > now ? srv->next_sweep_ms - now : 0);
        if (timeout > (int)TICK_MS)
            timeout = (int)TICK_MS;
        if (srv->accept_resume_ms && srv->accept_resume_ms - now < (uint64_t)timeout)
            timeout = (int)(srv->accept_resume_ms > now ? srv->accept_resume_ms - now : 0);
        int n = epoll_wait(srv->epoll_fd, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout);
        if (n < 0 && errno != EINTR)
            return -errno;
        now = loop_ms(srv);
        /* A due sweep comes before the round's requests: one that follows a
         * request which moved the clock (xenfit.sim_advance_time) already
         * sees its result. */
        if (now >= srv->next_sweep_ms) {
            sweep(srv);
            srv->next_sweep_ms = now + srv->cfg.sweep_interval_ms;
        }
        if ((first_balance || srv->cfg.balance_interval_ms) && now >= srv->next_balance_ms) {
            xfd_balance_idle(srv->ctx.engine, first_balance);
            first_balance = false;
            srv->next_balance_ms = loop_ms(srv) + srv->cfg.balance_interval_ms;
        }
        bool accept_ready = false, metrics_ready = false;
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == LISTEN_TAG) {
                accept_ready = true; /* after this round's hang-ups are closed */
            } else if (tag == METRICS_TAG) {
                metrics_ready = true;
            } else if (tag == SIGNAL_TAG) {
                handle_signal(srv);
            } else if (tag == MSWITCH_TAG) {
                serve_mswitch(srv);
            } else {
                struct xfd_conn *c = tag;
                if (c->dead)
                    continue;
                if (evs[i].events & EPOLLOUT)
                    flush_out(srv, c, now);
                if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                    on_readable(srv, c, now);
            }
        }
        end_round(srv, now);
        if (now >= next_reap || srv->stopping) {
            reap(srv, now);
            next_reap = now + TICK_MS;
        } else {
            close_dead(srv);
        }
        if (accept_ready && !srv->stopping)
            accept_all(srv, false, now);
        if (metrics_ready && !srv->stopping)
            accept_all(srv, true, now);
        resume_accepting(srv, now);
    }
    /* Stopping: every acknowledged change is committed; drop the clients. */
    while (srv->conns)
        conn_close(srv, srv->conns);
    return 0;
}
