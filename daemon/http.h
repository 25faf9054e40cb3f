/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's HTTP/1.1 request framing: just enough of RFC 9112 for JSON-RPC
 * clients that POST a body with Content-Length (xapi-idl's Xcp_client.http_rpc
 * does exactly that, and squeezed's server, Xcp_service.http_handler, reads
 * exactly that). The parser is incremental and pure: it looks at the bytes
 * received so far and says "need more", "a request of N bytes is here", or
 * "this is an error, answer with status S and close". It never allocates.
 *
 * Accepted: a request line "POST <any target> HTTP/1.0|1.1", header lines
 * ending in CRLF (or a bare LF), Content-Length (required), Connection.
 * Keep-alive is the default for HTTP/1.1 and must be asked for in 1.0.
 * Refused: other methods (405), a missing length (411), Transfer-Encoding
 * (501: chunked bodies are not supported), a body above the limit (413, as
 * soon as Content-Length says so), headers above the limit (431), other
 * versions (505), anything malformed (400).
 */
#ifndef XENFITD_HTTP_H
#define XENFITD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define XFD_HTTP_MAX_HEADER_DEFAULT 8192u
#define XFD_HTTP_MAX_BODY_DEFAULT   (64u * 1024u)

struct xfd_http_limits {
    size_t max_header; /* request line and headers, with the blank line */
    size_t max_body;
};

struct xfd_http_request {
    size_t header_len; /* bytes before the body */
    size_t body_len;
    const char *body; /* inside the parsed buffer */
    bool keep_alive;
};

struct xfd_http_error {
    int status;       /* 400, 405, 411, 413, 431, 501, 505 */
    char detail[160]; /* a sentence for the client */
};

enum {
    XFD_HTTP_NEED_MORE = 0,
    XFD_HTTP_COMPLETE = 1,
    XFD_HTTP_BAD = -1,
};

/*
 * Parses the request at the start of buf[0..len). Returns XFD_HTTP_COMPLETE
 * and *ret_req (the request is header_len + body_len bytes), XFD_HTTP_NEED_MORE
 * (nothing written), or XFD_HTTP_BAD and *ret_err.
 */
int xfd_http_parse(const char *buf, size_t len, const struct xfd_http_limits *lim,
                   struct xfd_http_request *ret_req, struct xfd_http_error *ret_err);

/* "OK", "Bad Request", ... for the statuses above; "Error" otherwise. */
const char *xfd_http_reason(int status);

/* Appends a response: status line, Content-Type: application/json,
 * Content-Length, Connection, then the body. Returns 0 or -ENOMEM. */
int xfd_http_respond(struct xfd_buf *out, int status, bool keep_alive, const char *body,
                     size_t body_len);

/* The same with another Content-Type (text/xml for XML-RPC answers). */
int xfd_http_respond_type(struct xfd_buf *out, int status, bool keep_alive,
                          const char *content_type, const char *body, size_t body_len);

#endif
