/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's HTTP/1.1 request framing (daemon/http.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

const char *xfd_http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    }
    return "Error";
}

/* Appends the decimal digits of v. */
static int add_uint(struct xfd_buf *out, size_t v)
{
    char digits[24];
    size_t n = sizeof(digits);
    do
        digits[--n] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    return xfd_buf_add(out, digits + n, sizeof(digits) - n);
}

int xfd_http_respond(struct xfd_buf *out, int status, bool keep_alive, const char *body,
                     size_t body_len)
{
    return xfd_http_respond_type(out, status, keep_alive, "application/json", body, body_len);
}

int xfd_http_respond_type(struct xfd_buf *out, int status, bool keep_alive,
                          const char *content_type, const char *body, size_t body_len)
{
    size_t mark = out->len;
    int r;

    /* Assembled by hand: this is on every request's path. */
    if (status == 200)
        r = xfd_buf_addstr(out, "HTTP/1.1 200 OK\r\n");
    else
        r = xfd_buf_printf(out, "HTTP/1.1 %d %s\r\n%s", status, xfd_http_reason(status),
                           status == 405 ? "Allow: POST\r\n" : "");
    if (r == 0)
        r = xfd_buf_printf(out, "Content-Type: %s\r\nContent-Length: ", content_type);
    if (r == 0)
        r = add_uint(out, body_len);
    if (r == 0)
        r = xfd_buf_addstr(out, keep_alive ? "\r\nConnection: keep-alive\r\n\r\n"
                                           : "\r\nConnection: close\r\n\r\n");
    if (r == 0)
        r = xfd_buf_add(out, body, body_len);
    if (r < 0)
        out->len = mark;
    return r;
}

static int bad(struct xfd_http_error *err, int status, const char *detail)
{
    err->status = status;
    snprintf(err->detail, sizeof(err->detail), "%s", detail);
    return XFD_HTTP_BAD;
}

/* One line of the header block: [p, eol) without its CR, next after its LF. */
struct line {
    const char *p;
    size_t len;
    const char *next;
};

static bool next_line(const char *p, const char *end, struct line *ret)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    if (!lf)
        return false;
    ret->p = p;
    ret->len = (size_t)(lf - p);
    if (ret->len && p[ret->len - 1] == '\r')
        ret->len--;
    ret->next = lf + 1;
    return true;
}

/* Whether a comma-separated header value lists `token` (case-insensitive). */
static bool has_token(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token), i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end - start == tl && strncasecmp(v + start, token, tl) == 0)
            return true;
    }
    return false;
}

static bool parse_length(const char *v, size_t n, uint64_t *ret)
{
    uint64_t x = 0;
    if (n == 0 || n > 19)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *ret = x;
    return true;
}

/* Finds the blank line that ends the headers; returns the header length. */
static size_t header_end(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static int request_line(const struct line *l, bool *ret_http11, struct xfd_http_error *err)
{
    const char *sp1 = memchr(l->p, ' ', l->len), *sp2;
    size_t rest;

    if (!sp1 || sp1 == l->p)
        return bad(err, 400, "malformed request line");
    rest = l->len - (size_t)(sp1 + 1 - l->p);
    sp2 = memchr(sp1 + 1, ' ', rest);
    if (!sp2 || sp2 == sp1 + 1)
        return bad(err, 400, "malformed request line");
    for (const char *c = l->p; c < sp1; c++)
        if (*c < 'A' || *c > 'Z')
            return bad(err, 400, "malformed request method");
    size_t vlen = l->len - (size_t)(sp2 + 1 - l->p);
    const char *v = sp2 + 1;
    if (vlen != 8 || strncmp(v, "HTTP/1.", 7) != 0)
        return bad(err, vlen >= 5 && strncmp(v, "HTTP/", 5) == 0 ? 505 : 400,
                   "expected HTTP/1.0 or HTTP/1.1");
    if (v[7] != '0' && v[7] != '1')
        return bad(err, 505, "expected HTTP/1.0 or HTTP/1.1");
    if ((size_t)(sp1 - l->p) != 4 || strncmp(l->p, "POST", 4) != 0)
        return bad(err, 405, "only POST is served (JSON-RPC bodies)");
    *ret_http11 = v[7] == '1';
    return 0;
}

int xfd_http_parse(const char *buf, size_t len, const struct xfd_http_limits *lim,
                   struct xfd_http_request *ret_req, struct xfd_http_error *ret_err)
{
    size_t hlen = header_end(buf, len < lim->max_header + 3 ? len : lim->max_header + 3);
    const char *end, *p = buf;
    struct line l;
    bool http11 = false, have_len = false, conn_close = false, conn_keep = false;
    uint64_t clen = 0;
    int r = 0;

    /* A blank line before the request line (RFC 9112, 2.2, lets a server skip
     * it; JSON-RPC clients never send one) is refused, not guessed at. */
    if (len && (buf[0] == '\r' || buf[0] == '\n'))
        return bad(ret_err, 400, "request starts with a blank line");
    if (hlen == 0) {
        if (len > lim->max_header)
            return bad(ret_err, 431, "request headers longer than the limit");
        /* A request line that cannot be right can be refused early. */
        if (next_line(buf, buf + len, &l) && (r = request_line(&l, &http11, ret_err)) < 0)
            return r;
        return XFD_HTTP_NEED_MORE;
    }
    if (hlen > lim->max_header)
        return bad(ret_err, 431, "request headers longer than the limit");
    end = buf + hlen;
    if (!next_line(p, end, &l) || (r = request_line(&l, &http11, ret_err)) < 0)
        return r < 0 ? r : bad(ret_err, 400, "malformed request line");
    p = l.next;
    while (next_line(p, end, &l) && l.len > 0) {
        const char *colon = memchr(l.p, ':', l.len);
        size_t nlen, vlen;
        const char *v;
        if (!colon || colon == l.p || l.p[0] == ' ' || l.p[0] == '\t')
            return bad(ret_err, 400, "malformed header line");
        nlen = (size_t)(colon - l.p);
        for (size_t i = 0; i < nlen; i++)
            if (l.p[i] == ' ' || l.p[i] == '\t')
                return bad(ret_err, 400, "space in a header name");
        v = colon + 1;
        vlen = l.len - nlen - 1;
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        if (nlen == 14 && strncasecmp(l.p, "content-length", 14) == 0) {
            uint64_t x;
            if (!parse_length(v, vlen, &x))
                return bad(ret_err, 400, "Content-Length is not a number");
            if (have_len && x != clen)
                return bad(ret_err, 400, "conflicting Content-Length headers");
            have_len = true;
            clen = x;
        } else if (nlen == 17 && strncasecmp(l.p, "transfer-encoding", 17) == 0) {
            return bad(ret_err, 501, "Transfer-Encoding is not supported: send Content-Length");
        } else if (nlen == 10 && strncasecmp(l.p, "connection", 10) == 0) {
            conn_close |= has_token(v, vlen, "close");
            conn_keep |= has_token(v, vlen, "keep-alive");
        }
        p = l.next;
    }
    if (!have_len)
        return bad(ret_err, 411, "a POST needs Content-Length");
    if (clen > lim->max_body) {
        ret_err->status = 413;
        snprintf(ret_err->detail, sizeof(ret_err->detail),
                 "request body of %llu bytes is above the limit of %zu bytes",
                 (unsigned long long)clen, lim->max_body);
        return XFD_HTTP_BAD;
    }
    if (len - hlen < clen)
        return XFD_HTTP_NEED_MORE;
    ret_req->header_len = hlen;
    ret_req->body_len = (size_t)clen;
    ret_req->body = buf + hlen;
    ret_req->keep_alive = http11 ? !conn_close : conn_keep && !conn_close;
    return XFD_HTTP_COMPLETE;
}
