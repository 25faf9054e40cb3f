/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * A small blocking client for xenfitd (and any squeezed-style JSON-RPC over
 * HTTP server on a Unix socket): one keep-alive connection, one call at a
 * time. Used by the xenfit command-line tool, the tests and the benchmark.
 * A call never retries: after a transport error the caller decides (a retried
 * reserve could reserve twice).
 */
#ifndef XENFIT_CLIENT_H
#define XENFIT_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#define XFD_CLIENT_SOCKET_DEFAULT "/run/xenfitd/xenfitd.sock"

struct xfd_client;

/* Connects. timeout_ms bounds every later send and receive (0: none).
 * Returns 0 or -errno (-ENOENT, -ECONNREFUSED, -EACCES, ...). */
int xfd_client_connect(const char *path, int timeout_ms, struct xfd_client **ret);
void xfd_client_close(struct xfd_client *c);

/*
 * Calls `method` with `params` (a JSON array; the reference is stolen).
 * Returns 0 and *ret_result (a new reference) on success, 1 and *ret_error
 * (a new reference: the error value, e.g. ["Unknown_reservation", "..."]) on
 * an RPC error, or a negative errno on a transport or framing failure (-EPROTO
 * for a reply that is not a JSON-RPC response, -ECONNRESET when the server
 * closed the connection).
 */
int xfd_client_call(struct xfd_client *c, const char *method, json_t *params, json_t **ret_result,
                    json_t **ret_error);

/*
 * Sends raw bytes and reads one HTTP response: its status and body
 * (malloc'ed, NUL-terminated; free it). For tests of malformed input.
 * Returns 0 or a negative errno.
 */
int xfd_client_raw(struct xfd_client *c, const void *data, size_t len, int *ret_status,
                   char **ret_body, size_t *ret_len);

/* Reads one HTTP response without sending (after xfd_client_send). */
int xfd_client_send(struct xfd_client *c, const void *data, size_t len);
int xfd_client_read_response(struct xfd_client *c, int *ret_status, char **ret_body,
                             size_t *ret_len);

/* The connection's socket (to half-close it in tests). */
int xfd_client_fd(const struct xfd_client *c);

/* A one-line text of an RPC error value ("Unknown_reservation: <id>"). Free it. */
char *xfd_client_error_text(const json_t *error);

#endif
