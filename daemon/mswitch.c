/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd on message-switch (daemon/mswitch.h): the client side of the
 * switch's protocol, as squeezed serves its queue through it.
 *
 * The protocol (xen-api e2ee48d6883e, ocaml/message-switch/core/protocol.ml,
 * In.to_request and Out.to_response; served by switch/mswitch.ml,
 * process_request): HTTP/1.1 on the switch's Unix socket, one request per
 * operation, a 200 with the answer as the body:
 *   GET  /login/TOKEN                 names the connection's session
 *   GET  /persistent/QUEUE            creates the queue (if it is not there)
 *   POST /transfer {"from": "N", "timeout": S, "queues": [QUEUE]}
 *        -> {"messages": [[[QUEUE, ID], {"payload": BODY,
 *                           "kind": ["Request", REPLY_QUEUE]}], ...],
 *            "next": "N'"}
 *        blocks up to S seconds for a message with an id above N ("from"
 *        left out: from the start); the reply's "next" is the next "from"
 *   POST /response/REPLY_QUEUE/QUEUE/ID  with the reply as the body
 *   GET  /ack/QUEUE/ID                removes the message from the queue
 * The JSON is ocaml-rpc's ppx_deriving_rpc encoding of In.transfer and
 * Out.transfer: a record is an object, an absent option field is left out,
 * a tuple is an array, a variant with an argument is ["Name", arg], and
 * int64 ids are JSON integers ("from" and "next" are strings). A session
 * without a login gets 404 "Please log in."
 *
 * The server's loop, as Protocol_unix.Server.listen (unix/protocol_unix.ml)
 * runs it for squeezed: login, create the queue, then transfer; for each
 * message, answer a Request by sending the dispatcher's reply to its reply
 * queue as a Response carrying the request's id, then ack the message (a
 * Response found on the queue is acked unanswered, as squeezed's server
 * does). Where xenfitd differs:
 * - one connection instead of two: squeezed's server answers each message
 *   on a thread of its own, xenfitd one message at a time (as its event
 *   loop serves everything), so no transfer is outstanding while it answers;
 * - after a reconnection it transfers from the start again ("from" left
 *   out) instead of from the last "next": a switch that restarted numbers
 *   a queue's messages from 0 again when it had none left (switch/q.ml,
 *   t_of_sexp: next_id is the highest id on the queue + 1), or always when
 *   it kept no state, and a message still on the queue was not acked, so
 *   not (fully) answered. The price: a request
 *   answered whose ack was lost with the connection is answered twice.
 *
 * Threads: the switch's HTTP is blocking (a transfer waits up to 30 s,
 * squeezed's Protocol.timeout), so it runs on a thread of its own; the
 * event loop never waits for the switch. The thread hands each request to
 * the loop through `state` under `lock`: IDLE -> READY (the thread filled
 * `req` and wrote the eventfd) -> TAKEN (the loop is answering into `reply`)
 * -> REPLIED (the loop committed the round, xfd_mswitch_done) -> IDLE (sent
 * and acked). Each side touches the buffers only in its own states. The
 * loop's answer is released only after its round's commit, like a socket's.
 * Stopping sets `stopping`, shuts the connection down (a transfer in
 * progress returns at once) and wakes the thread from any wait.
 *
 * Reconnection: when the switch is not there, closes the connection or
 * answers what is not its protocol, the thread logs it once (then at debug
 * level) and tries again after 0.5 s, doubling to 5 s; the connection that
 * comes back is logged with the number of attempts it took.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "mswitch.h"
#include "rpc.h"
#include "xenfit/client.h"
#include "xenfitd.h"

/* squeezed's long poll (protocol.ml, Protocol.timeout). */
#define TRANSFER_TIMEOUT_S 30
/* How long a reply may take beyond the transfer's own wait. */
#define REPLY_MARGIN_S   15
#define BACKOFF_FIRST_MS 500u
#define BACKOFF_MAX_MS   5000u

enum state { IDLE, READY, TAKEN, REPLIED };

struct xfd_mswitch {
    char path[XFD_SOCKET_PATH_MAX];
    char queue[XFD_MSWITCH_QUEUE_MAX];
    char token[64];
    size_t max_body;
    int event_fd;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* Under lock: */
    enum state state;
    bool stopping;
    int conn_fd; /* the thread's connection, for stop's shutdown(); -1: none */
    /* The handover (see the states above): */
    struct xfd_buf req, reply;
    /* The thread's own: */
    struct xfd_client *conn;
    unsigned failures; /* sessions in a row that served no transfer */
    bool announce;     /* the next connection is news (first, or after an outage) */
};

/* --- The switch's HTTP ------------------------------------------------- */

/* Appends s percent-encoded as one path segment (RFC 3986 pchar kept): a
 * reply queue's name comes from the switch, and '/' in it must stay one
 * segment, as Uri.make in protocol.ml's to_request encodes it. */
static int add_segment(struct xfd_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~:@!$&'()*+,;=", *p);
        char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        if (plain ? xfd_buf_add(b, p, 1) < 0 : xfd_buf_add(b, esc, 3) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* One operation: METHOD path with body (may be NULL), as the switch's own
 * clients send it (protocol.ml, In.headers: content-length, keep-alive).
 * `path` is already encoded. Returns 0 and the 200's body (malloc'ed,
 * NUL-terminated: free it), -EPROTO for another status (logged with
 * what), or a transport error. */
static int op(struct xfd_mswitch *m, const char *method, const char *path, size_t path_len,
              const char *body, size_t body_len, char **ret_body, size_t *ret_len)
{
    struct xfd_buf req = {0};
    char *reply = NULL;
    size_t len = 0;
    int status = 0, r;

    if (xfd_buf_printf(&req,
                       "%s %.*s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: xenfitd\r\n"
                       "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
                       method, (int)path_len, path, body_len) < 0 ||
        (body_len && xfd_buf_add(&req, body, body_len) < 0)) {
        xfd_buf_free(&req);
        return -ENOMEM;
    }
    r = xfd_client_raw(m->conn, req.p, req.len, &status, &reply, &len);
    xfd_buf_free(&req);
    if (r < 0)
        return r;
    if (status != 200) {
        xfd_log(XFD_LOG_WARNING, "message switch: %s %.*s: HTTP %d: %.200s", method, (int)path_len,
                path, status, reply);
        free(reply);
        return -EPROTO;
    }
    *ret_body = reply;
    *ret_len = len;
    return 0;
}

/* An operation whose answer does not matter beyond its 200. */
static int op_simple(struct xfd_mswitch *m, const char *method, const struct xfd_buf *path,
                     const char *body, size_t body_len)
{
    char *reply = NULL;
    size_t len;
    int r = op(m, method, path->p, path->len, body, body_len, &reply, &len);
    free(reply);
    return r;
}

/* --- The handover to the event loop ------------------------------------ */

int xfd_mswitch_fd(const struct xfd_mswitch *m)
{
    return m->event_fd;
}

bool xfd_mswitch_take(struct xfd_mswitch *m, const char **ret_body, size_t *ret_len,
                      struct xfd_buf **ret_reply)
{
    uint64_t n;
    bool ready;

    (void)!read(m->event_fd, &n, sizeof(n)); /* non-blocking: clears it */
    pthread_mutex_lock(&m->lock);
    ready = m->state == READY;
    if (ready)
        m->state = TAKEN;
    pthread_mutex_unlock(&m->lock);
    if (!ready)
        return false;
    m->reply.len = 0;
    *ret_body = m->req.p;
    *ret_len = m->req.len;
    *ret_reply = &m->reply;
    return true;
}

void xfd_mswitch_done(struct xfd_mswitch *m)
{
    pthread_mutex_lock(&m->lock);
    m->state = REPLIED;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

/* Has the loop answer `body`: returns 0 with the answer in m->reply, or
 * -ECANCELED when stopping. */
static int dispatch(struct xfd_mswitch *m, const char *body, size_t len)
{
    uint64_t one = 1;
    int r = 0;

    if (len > m->max_body) {
        char why[160];
        snprintf(why, sizeof(why), "the request's body has %zu bytes, more than --max-body (%zu)",
                 len, m->max_body);
        m->reply.len = 0;
        return xfd_rpc_error_body(&m->reply, why);
    }
    m->req.len = 0;
    if (xfd_buf_add(&m->req, body, len) < 0)
        return -ENOMEM;
    pthread_mutex_lock(&m->lock);
    m->state = READY;
    pthread_mutex_unlock(&m->lock);
    if (write(m->event_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        xfd_log(XFD_LOG_ERROR, "message switch: waking the event loop: %s", strerror(errno));
    pthread_mutex_lock(&m->lock);
    while (m->state != REPLIED && !m->stopping)
        pthread_cond_wait(&m->cond, &m->lock);
    if (m->state == REPLIED)
        m->state = IDLE;
    else
        r = -ECANCELED;
    pthread_mutex_unlock(&m->lock);
    return r;
}

/* --- Serving the queue -------------------------------------------------- */

int xfd_mswitch_classify(json_t *msg, struct xfd_mswitch_msg *ret)
{
    json_t *id = json_array_get(msg, 0), *body = json_array_get(msg, 1);
    json_t *q = json_array_get(id, 0), *n = json_array_get(id, 1);
    json_t *payload = json_object_get(body, "payload"), *kind = json_object_get(body, "kind");
    const char *k = json_string_value(json_array_get(kind, 0));
    struct xfd_mswitch_msg m = {.kind = XFD_MSWITCH_OTHER};

    if (!json_is_array(msg) || json_array_size(id) != 2 || !json_is_string(q) ||
        !json_is_integer(n))
        return -EPROTO;
    m.queue = json_string_value(q);
    m.id = json_integer_value(n);
    /* ppx_deriving_rpc reads a variant's name case-insensitively. */
    if (k && strcasecmp(k, "request") == 0 && json_is_string(json_array_get(kind, 1)) &&
        json_is_string(payload)) {
        m.kind = XFD_MSWITCH_REQUEST;
        m.reply_to = json_string_value(json_array_get(kind, 1));
        m.payload = json_string_value(payload);
        m.payload_len = json_string_length(payload);
    } else if (k && strcasecmp(k, "response") == 0) {
        m.kind = XFD_MSWITCH_RESPONSE;
    }
    *ret = m;
    return 0;
}

/* Answers one message of a transfer: [[QUEUE, ID], {"payload", "kind"}].
 * Returns 0 (answered and acked, or acked unanswerable), or a negative
 * error that ends the session (transport, stopping). */
static int serve_message(struct xfd_mswitch *m, json_t *msg)
{
    struct xfd_mswitch_msg c;
    struct xfd_buf path = {0};
    char *text;
    int r;

    if (xfd_mswitch_classify(msg, &c) < 0) {
        text = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
        xfd_log(XFD_LOG_WARNING,
                "message switch: a message without an id [queue, n], skipped: %.200s",
                text ? text : "?");
        free(text);
        return 0;
    }
    if (xfd_buf_addstr(&path, "/ack/") < 0 || add_segment(&path, c.queue) < 0 ||
        xfd_buf_printf(&path, "/%" PRId64, c.id) < 0) {
        xfd_buf_free(&path);
        return -ENOMEM;
    }
    if (c.kind == XFD_MSWITCH_REQUEST) {
        struct xfd_buf rpath = {0};
        r = dispatch(m, c.payload, c.payload_len);
        if (r == 0 &&
            (xfd_buf_addstr(&rpath, "/response/") < 0 || add_segment(&rpath, c.reply_to) < 0 ||
             xfd_buf_addstr(&rpath, "/") < 0 || add_segment(&rpath, c.queue) < 0 ||
             xfd_buf_printf(&rpath, "/%" PRId64, c.id) < 0))
            r = -ENOMEM;
        if (r == 0)
            r = op_simple(m, "POST", &rpath, m->reply.p, m->reply.len);
        xfd_buf_free(&rpath);
        if (r < 0) {
            xfd_buf_free(&path);
            return r;
        }
        xfd_log(XFD_LOG_DEBUG, "message switch: answered %s/%" PRId64 " to %s", c.queue, c.id,
                c.reply_to);
    } else if (c.kind == XFD_MSWITCH_OTHER) {
        /* Nowhere to answer: a request without a reply queue or payload. */
        text = json_dumps(json_array_get(msg, 1), JSON_COMPACT | JSON_ENCODE_ANY);
        xfd_log(XFD_LOG_WARNING,
                "message switch: message %s/%" PRId64
                " is neither a request with a reply queue nor a response; acked unanswered: "
                "%.200s",
                c.queue, c.id, text ? text : "?");
        free(text);
    }
    r = op_simple(m, "GET", &path, NULL, 0);
    xfd_buf_free(&path);
    return r;
}

/*
 * Copies in[0..len) into out with each byte that is not part of a valid
 * UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF) replaced by U+FFFD. The switch writes a payload's bytes into
 * its JSON as they are (OCaml strings are bytes), and jansson refuses a
 * document that is not UTF-8: without this, one request whose body is not
 * UTF-8 would make every transfer of the queue fail, for ever.
 */
int xfd_mswitch_repair_utf8(const char *in, size_t len, struct xfd_buf *out)
{
    static const char fffd[] = "\xEF\xBF\xBD";
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        size_t n = c < 0x80                 ? 1
                   : c >= 0xC2 && c <= 0xDF ? 2
                   : c >= 0xE0 && c <= 0xEF ? 3
                   : c >= 0xF0 && c <= 0xF4 ? 4
                                            : 0;
        bool ok = n > 0 && i + n <= len;
        for (size_t k = 1; ok && k < n; k++)
            ok = (p[i + k] & 0xC0) == 0x80;
        if (ok && n >= 3) {
            unsigned char d = p[i + 1];
            ok = !(c == 0xE0 && d < 0xA0) && !(c == 0xED && d > 0x9F) && !(c == 0xF0 && d < 0x90) &&
                 !(c == 0xF4 && d > 0x8F);
        }
        if (ok ? xfd_buf_add(out, p + i, n) < 0 : xfd_buf_add(out, fffd, 3) < 0)
            return -ENOMEM;
        i += ok ? n : 1;
    }
    return 0;
}

int xfd_mswitch_parse_transfer(const char *text, size_t len, json_t **ret)
{
    json_error_t jerr;
    json_t *out = json_loadb(text, len, 0, &jerr);

    if (!out && json_error_code(&jerr) == json_error_invalid_utf8) {
        struct xfd_buf fixed = {0};
        if (xfd_mswitch_repair_utf8(text, len, &fixed) < 0) {
            xfd_buf_free(&fixed);
            return -ENOMEM;
        }
        xfd_log(XFD_LOG_WARNING,
                "message switch: a message that is not UTF-8: its bad bytes read as U+FFFD");
        out = json_loadb(fixed.p, fixed.len, 0, &jerr);
        xfd_buf_free(&fixed);
    }
    if (!json_is_array(json_object_get(out, "messages")) ||
        !json_is_string(json_object_get(out, "next"))) {
        json_decref(out);
        return -EPROTO;
    }
    *ret = out;
    return 0;
}

/* One transfer: waits for messages and answers them. Returns 0 and the
 * next "from" in *from (malloc'ed, replacing it), or a negative error. */
static int transfer(struct xfd_mswitch *m, char **from)
{
    json_t *req = json_pack("{sfs[s]}", "timeout", (double)TRANSFER_TIMEOUT_S, "queues", m->queue);
    json_t *out = NULL, *msgs, *next;
    char *text = NULL, *reply = NULL;
    size_t len, i;
    int r;

    if (req && *from)
        json_object_set_new(req, "from", json_string(*from));
    text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text)
        return -ENOMEM;
    r = op(m, "POST", "/transfer", strlen("/transfer"), text, strlen(text), &reply, &len);
    free(text);
    if (r < 0)
        return r;
    if ((r = xfd_mswitch_parse_transfer(reply, len, &out)) < 0) {
        if (r == -EPROTO)
            xfd_log(XFD_LOG_WARNING,
                    "message switch: a transfer's answer is not {\"messages\": [...], "
                    "\"next\": \"N\"}: %.200s",
                    reply);
        free(reply);
        return r;
    }
    free(reply);
    msgs = json_object_get(out, "messages");
    next = json_object_get(out, "next");
    for (i = 0; i < json_array_size(msgs); i++)
        if ((r = serve_message(m, json_array_get(msgs, i))) < 0) {
            json_decref(out);
            return r;
        }
    text = strdup(json_string_value(next));
    json_decref(out);
    if (!text)
        return -ENOMEM;
    free(*from);
    *from = text;
    return 0;
}

static bool stopping(struct xfd_mswitch *m)
{
    pthread_mutex_lock(&m->lock);
    bool s = m->stopping;
    pthread_mutex_unlock(&m->lock);
    return s;
}

static void disconnect(struct xfd_mswitch *m)
{
    pthread_mutex_lock(&m->lock);
    m->conn_fd = -1; /* before close: stop never shuts down a reused descriptor */
    pthread_mutex_unlock(&m->lock);
    xfd_client_close(m->conn);
    m->conn = NULL;
}

/* Logs a failed attempt: the first of a row as a warning, the rest at
 * debug level (a switch that stays away must not flood the journal). */
static void log_failure(struct xfd_mswitch *m, const char *what, int err)
{
    m->failures++;
    xfd_log(m->failures == 1 ? XFD_LOG_WARNING : XFD_LOG_DEBUG,
            "message switch %s: %s: %s; retrying (attempt %u)", m->path, what, strerror(-err),
            m->failures + 1);
}

/* Connects, logs in, creates the queue and serves it until an error or
 * stop. Returns whether a transfer succeeded (then the backoff starts
 * over), after disconnecting. */
static bool session(struct xfd_mswitch *m)
{
    struct xfd_buf path = {0};
    bool served = false;
    char *from = NULL;
    int r;

    r = xfd_client_connect(m->path, (TRANSFER_TIMEOUT_S + REPLY_MARGIN_S) * 1000, &m->conn);
    if (r < 0) {
        log_failure(m, "connecting", r);
        m->announce = true;
        return false;
    }
    pthread_mutex_lock(&m->lock);
    m->conn_fd = xfd_client_fd(m->conn);
    if (m->stopping)
        (void)shutdown(m->conn_fd, SHUT_RDWR);
    pthread_mutex_unlock(&m->lock);
    if ((r = xfd_buf_printf(&path, "/login/%s", m->token)) < 0 ||
        (r = op_simple(m, "GET", &path, NULL, 0)) < 0) {
        log_failure(m, "logging in", r);
        m->announce = true;
        goto out;
    }
    path.len = 0;
    if ((r = xfd_buf_addstr(&path, "/persistent/")) < 0 || (r = add_segment(&path, m->queue)) < 0 ||
        (r = op_simple(m, "GET", &path, NULL, 0)) < 0) {
        log_failure(m, "creating the queue", r);
        m->announce = true;
        goto out;
    }
    /* Said once per outage: a switch that accepts the login and then
     * answers what is not its protocol must not log this every 5 s. */
    if (m->failures)
        xfd_log(m->announce ? XFD_LOG_INFO : XFD_LOG_DEBUG,
                "message switch %s: connected after %u failed attempt%s; serving %s", m->path,
                m->failures, m->failures == 1 ? "" : "s", m->queue);
    else
        xfd_log(m->announce ? XFD_LOG_INFO : XFD_LOG_DEBUG,
                "message switch %s: connected; serving %s", m->path, m->queue);
    m->announce = false;
    while ((r = transfer(m, &from)) == 0) {
        served = true;
        m->failures = 0;
    }
    if (r == -ECANCELED || stopping(m))
        goto out;
    if (served) {
        xfd_log(XFD_LOG_WARNING, "message switch %s: the connection failed: %s; reconnecting",
                m->path, strerror(-r));
        m->announce = true;
    } else {
        log_failure(m, "transferring", r);
    }
out:
    free(from);
    xfd_buf_free(&path);
    disconnect(m);
    return served;
}

static void *run(void *arg)
{
    struct xfd_mswitch *m = arg;
    unsigned backoff_ms = BACKOFF_FIRST_MS;

    while (!stopping(m)) {
        if (session(m))
            backoff_ms = BACKOFF_FIRST_MS; /* it had worked: start over */
        pthread_mutex_lock(&m->lock);
        if (!m->stopping) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += backoff_ms / 1000;
            until.tv_nsec += (long)(backoff_ms % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            while (!m->stopping && pthread_cond_timedwait(&m->cond, &m->lock, &until) == 0)
                ;
        }
        pthread_mutex_unlock(&m->lock);
        backoff_ms = backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2;
    }
    return NULL;
}

int xfd_mswitch_start(const char *path, const char *queue, size_t max_body,
                      struct xfd_mswitch **ret)
{
    struct xfd_mswitch *m = calloc(1, sizeof(*m));
    pthread_condattr_t ca;
    int r;

    if (!m)
        return -ENOMEM;
    snprintf(m->path, sizeof(m->path), "%s", path);
    snprintf(m->queue, sizeof(m->queue), "%s", queue);
    /* squeezed's token is its whoami (protocol_unix.ml): "squeezed:PID". */
    snprintf(m->token, sizeof(m->token), "xenfitd:%d", (int)getpid());
    m->max_body = max_body;
    m->conn_fd = -1;
    m->announce = true;
    m->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m->event_fd < 0) {
        r = -errno;
        free(m);
        return r;
    }
    pthread_mutex_init(&m->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cond, &ca);
    pthread_condattr_destroy(&ca);
    if ((r = pthread_create(&m->thread, NULL, run, m)) != 0) {
        pthread_cond_destroy(&m->cond);
        pthread_mutex_destroy(&m->lock);
        close(m->event_fd);
        free(m);
        return -r;
    }
    *ret = m;
    return 0;
}

void xfd_mswitch_stop(struct xfd_mswitch *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    if (m->conn_fd >= 0)
        (void)shutdown(m->conn_fd, SHUT_RDWR);
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    close(m->event_fd);
    xfd_buf_free(&m->req);
    xfd_buf_free(&m->reply);
    free(m);
}
