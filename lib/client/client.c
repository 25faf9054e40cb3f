/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * A small blocking client for xenfitd (include/xenfit/client.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "xenfit/client.h"

struct xfd_client {
    int fd;
    struct xfd_buf in;  /* received, not yet consumed */
    struct xfd_buf out; /* the request being sent */
    long next_id;
};

int xfd_client_connect(const char *path, int timeout_ms, struct xfd_client **ret)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct xfd_client *c;
    int fd, r;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (timeout_ms > 0) {
        struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    c->fd = fd;
    c->next_id = 1;
    *ret = c;
    return 0;
}

void xfd_client_close(struct xfd_client *c)
{
    if (!c)
        return;
    close(c->fd);
    xfd_buf_free(&c->in);
    xfd_buf_free(&c->out);
    free(c);
}

int xfd_client_fd(const struct xfd_client *c)
{
    return c->fd;
}

int xfd_client_send(struct xfd_client *c, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fill(struct xfd_client *c)
{
    ssize_t n;
    if (xfd_buf_reserve(&c->in, 16384) < 0)
        return -ENOMEM;
    do
        n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN ? -ETIMEDOUT : -errno;
    if (n == 0)
        return -ECONNRESET;
    c->in.len += (size_t)n;
    return 0;
}

/* Finds the end of the response head; 0 if not yet complete. */
static size_t head_end(const char *p, size_t len)
{
    for (size_t i = 3; i < len; i++)
        if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r')
            return i + 1;
    return 0;
}

/* The status of a head that starts "HTTP/1.x NNN" (RFC 9112, status-line). */
static int status_of(const char *p, int *ret_status)
{
    if (strncmp(p, "HTTP/1.", 7) != 0 || !p[7] || p[8] != ' ')
        return -EPROTO;
    p += 9;
    for (int i = 0; i < 3; i++)
        if (p[i] < '0' || p[i] > '9')
            return -EPROTO;
    *ret_status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    return 0;
}

int xfd_client_read_response(struct xfd_client *c, int *ret_status, char **ret_body,
                             size_t *ret_len)
{
    size_t hlen, clen = 0;
    bool have_len = false;
    int status, r;
    char *body;

    while ((hlen = head_end(c->in.p, c->in.len)) == 0)
        if ((r = fill(c)) < 0)
            return r;
    if ((r = status_of(c->in.p, &status)) < 0)
        return r;
    for (const char *l = memchr(c->in.p, '\n', hlen); l && l < c->in.p + hlen;
         l = memchr(l + 1, '\n', (size_t)(c->in.p + hlen - l - 1))) {
        if (strncasecmp(l + 1, "content-length:", 15) == 0) {
            char *end;
            unsigned long long v = strtoull(l + 16, &end, 10);
            if (end == l + 16)
                return -EPROTO;
            clen = (size_t)v;
            have_len = true;
        }
    }
    if (!have_len || clen > (64u << 20))
        return -EPROTO;
    while (c->in.len < hlen + clen)
        if ((r = fill(c)) < 0)
            return r;
    body = malloc(clen + 1);
    if (!body)
        return -ENOMEM;
    memcpy(body, c->in.p + hlen, clen);
    body[clen] = '\0';
    xfd_buf_consume(&c->in, hlen + clen);
    *ret_status = status;
    *ret_body = body;
    *ret_len = clen;
    return 0;
}

int xfd_client_raw(struct xfd_client *c, const void *data, size_t len, int *ret_status,
                   char **ret_body, size_t *ret_len)
{
    int r = xfd_client_send(c, data, len);
    if (r < 0)
        return r;
    return xfd_client_read_response(c, ret_status, ret_body, ret_len);
}

int xfd_client_call(struct xfd_client *c, const char *method, json_t *params, json_t **ret_result,
                    json_t **ret_error)
{
    json_t *req = json_pack("{sssosi}", "method", method, "params", params ? params : json_array(),
                            "id", (int)c->next_id++);
    char head[160], *text = NULL, *body = NULL;
    size_t blen = 0, req_len;
    json_t *resp = NULL, *result, *error;
    int status, r;

    if (!req)
        return -ENOMEM;
    text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text)
        return -ENOMEM;
    /* One write for head and body: the server sees the request whole. */
    req_len = strlen(text);
    snprintf(head, sizeof(head), "POST / HTTP/1.1\r\nHost: xenfitd\r\nContent-Length: %zu\r\n\r\n",
             req_len);
    c->out.len = 0;
    if (xfd_buf_addstr(&c->out, head) < 0 || xfd_buf_add(&c->out, text, req_len) < 0) {
        r = -ENOMEM;
        goto out;
    }
    if ((r = xfd_client_send(c, c->out.p, c->out.len)) < 0 ||
        (r = xfd_client_read_response(c, &status, &body, &blen)) < 0)
        goto out;
    resp = json_loadb(body, blen, 0, NULL);
    result = json_object_get(resp, "result");
    error = json_object_get(resp, "error");
    /* A JSON-RPC error is the answer whatever the HTTP status (xenfitd's
     * refusals carry one); a result only with 200. */
    if (!json_is_object(resp) || !result || !error || (status != 200 && json_is_null(error))) {
        r = -EPROTO;
        goto out;
    }
    if (!json_is_null(error)) {
        *ret_error = json_incref(error);
        r = 1;
    } else {
        *ret_result = json_incref(result);
        r = 0;
    }
out:
    free(text);
    free(body);
    json_decref(resp);
    return r;
}

char *xfd_client_error_text(const json_t *error)
{
    char *s = NULL, *arg = NULL;
    if (json_is_string(error))
        return strdup(json_string_value(error));
    if (json_is_array(error) && json_array_size(error) == 2 &&
        json_is_string(json_array_get(error, 0))) {
        const json_t *a = json_array_get(error, 1);
        arg = json_is_string(a) ? strdup(json_string_value(a))
                                : json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
        if (arg && asprintf(&s, "%s: %s", json_string_value(json_array_get(error, 0)), arg) < 0)
            s = NULL;
        free(arg);
        return s;
    }
    return json_dumps(error, JSON_COMPACT | JSON_ENCODE_ANY);
}
