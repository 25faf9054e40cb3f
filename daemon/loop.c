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
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "xenfit/error.h"
#include "xenfitd.h"

/* Stop reading a client whose unsent replies exceed this. */
#define OUT_HIGH   (1u << 20)
#define READ_CHUNK 65536u
#define TICK_MS    200u
#define LISTEN_TAG ((void *)1)
#define SIGNAL_TAG ((void *)2)

struct xfd_conn {
    int fd;
    struct xfd_buf in, out;
    size_t out_off;    /* bytes of out already sent */
    size_t batch_mark; /* out.len when this round's first reply was added */
    bool in_batch;
    bool close_after; /* close once out is sent */
    bool read_eof;
    bool dead;
    uint32_t events;
    uint64_t req_start_ms; /* first byte of a request not yet complete; 0: none */
    uint64_t active_ms;    /* last read or write progress */
    struct xfd_conn *prev, *next, *batch_next;
};

uint64_t xfd_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t xfd_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
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
    srv->nr_conns--;
    xfd_log(XFD_LOG_DEBUG, "connection %d closed (%u open)", c->fd, srv->nr_conns);
    xfd_buf_free(&c->in);
    xfd_buf_free(&c->out);
    free(c);
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
        if (c->close_after) {
            c->dead = true;
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
    if (!xf_engine_has_changes(e) || srv->batch_failed)
        return;
    if (xfd_store_begin(srv->store) < 0 ||
        xf_engine_flush_changes(e, xfd_store_apply, srv->store) < 0) {
        xfd_log(XFD_LOG_ERROR, "writing the state failed: %s", xfd_store_errmsg(srv->store));
        srv->batch_failed = true;
    }
}

static void serve_requests(struct xfd_server *srv, struct xfd_conn *c, uint64_t now)
{
    struct xfd_http_limits lim = {.max_header = srv->cfg.max_header, .max_body = srv->cfg.max_body};
    static struct xfd_buf body; /* reused: one request at a time */
    size_t used = 0;

    while (!c->close_after && used < c->in.len) {
        struct xfd_http_request req;
        struct xfd_http_error err;
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
            xfd_http_respond(&c->out, 200, req.keep_alive, body.p, body.len) < 0) {
            refuse(srv, c, 500, "out of memory", true);
            break;
        }
        persist(srv);
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

static void accept_all(struct xfd_server *srv, uint64_t now)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                               "Connection: close\r\n\r\n";
    for (;;) {
        int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct xfd_conn *c;
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                xfd_log(XFD_LOG_WARNING, "accept: %s", strerror(errno));
            return;
        }
        if (srv->nr_conns >= srv->cfg.max_clients || !(c = calloc(1, sizeof(*c)))) {
            (void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            xfd_log(XFD_LOG_WARNING, "refused a connection: %u open (the limit)", srv->nr_conns);
            /* The rest wait for the next round, after its hang-ups are closed. */
            return;
        }
        c->fd = fd;
        c->active_ms = now;
        c->events = EPOLLIN | EPOLLRDHUP;
        struct epoll_event ev = {.events = c->events, .data.ptr = c};
        if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            close(fd);
            free(c);
            continue;
        }
        c->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = c;
        srv->conns = c;
        srv->nr_conns++;
        xfd_log(XFD_LOG_DEBUG, "connection %d accepted (%u open)", fd, srv->nr_conns);
    }
}

/* Commits the round, then releases its replies (or withdraws them). */
static void end_round(struct xfd_server *srv, uint64_t now)
{
    bool failed = srv->batch_failed;
    struct xfd_conn *c, *next;

    if (!failed && xfd_store_in_txn(srv->store) && xfd_store_commit(srv->store) < 0) {
        xfd_log(XFD_LOG_ERROR, "committing the state failed: %s", xfd_store_errmsg(srv->store));
        failed = true;
    }
    if (failed) {
        xfd_store_rollback(srv->store);
        xfd_log(XFD_LOG_ERROR, "withdrawing this round's replies and reloading the state");
        if (xfd_server_load(srv) < 0)
            srv->stopping = true; /* no consistent state to serve from */
    }
    for (c = srv->batch; c; c = next) {
        next = c->batch_next;
        c->in_batch = false;
        if (failed) {
            c->out.len = c->batch_mark; /* never acknowledged */
            c->dead = true;
        } else {
            flush_out(srv, c, now);
        }
    }
    srv->batch = NULL;
    srv->batch_failed = false;
}

static void reap(struct xfd_server *srv, uint64_t now)
{
    for (struct xfd_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if (!c->dead && c->req_start_ms && now - c->req_start_ms > srv->cfg.client_timeout_ms) {
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
    int r = xf_engine_sweep(srv->ctx.engine, xfd_now_ns(), &sw);
    if (r < 0) {
        xfd_log(XFD_LOG_WARNING, "sweep: reading the hypervisor failed: %s", xf_strerror(r));
        return;
    }
    if (sw.expired || sw.died || sw.settled)
        xfd_log(XFD_LOG_INFO, "sweep: %zu expired, %zu of dead domains dropped, %zu settled",
                sw.expired, sw.died, sw.settled);
    persist(srv);
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
    uint64_t next_reap = 0;

    srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (srv->epoll_fd < 0 || epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->listen_fd, &lev) < 0 ||
        epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->signal_fd, &sev) < 0)
        return -errno;
    srv->next_sweep_ms = xfd_mono_ms() + srv->cfg.sweep_interval_ms;
    while (!srv->stopping) {
        uint64_t now = xfd_mono_ms();
        int timeout = (int)(srv->next_sweep_ms > now ? srv->next_sweep_ms - now : 0);
        if (timeout > (int)TICK_MS)
            timeout = (int)TICK_MS;
        int n = epoll_wait(srv->epoll_fd, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout);
        if (n < 0 && errno != EINTR)
            return -errno;
        now = xfd_mono_ms();
        bool accept_ready = false;
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == LISTEN_TAG) {
                accept_ready = true; /* after this round's hang-ups are closed */
            } else if (tag == SIGNAL_TAG) {
                handle_signal(srv);
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
        if (now >= srv->next_sweep_ms) {
            sweep(srv);
            srv->next_sweep_ms = now + srv->cfg.sweep_interval_ms;
        }
        end_round(srv, now);
        if (now >= next_reap || srv->stopping) {
            reap(srv, now);
            next_reap = now + TICK_MS;
        } else {
            close_dead(srv);
        }
        if (accept_ready && !srv->stopping)
            accept_all(srv, now);
    }
    /* Stopping: every acknowledged change is committed; drop the clients. */
    while (srv->conns)
        conn_close(srv, srv->conns);
    return 0;
}
