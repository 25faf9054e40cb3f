/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * A fast path for parsing JSON-RPC request bodies (daemon/jsonfast.c): the
 * plain subset clients send, built into the same jansson values that
 * json_loadb(buf, len, JSON_REJECT_DUPLICATES) would build.
 */
#ifndef XENFITD_JSONFAST_H
#define XENFITD_JSONFAST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Parses buf[0..len) when it is a JSON object within the subset (see the
 * file comment) and returns a new reference, or NULL when it is not: the
 * caller then parses with jansson, which accepts or refuses it with its own
 * message. Never returns a value jansson would not.
 */
json_t *xfd_json_fast(const char *buf, size_t len);

/* A request object's members (new references; NULL when absent). */
struct xfd_json_request {
    json_t *method, *params, *id, *jsonrpc;
};

/*
 * The same for a whole request, without building the request object: when
 * buf is an object within the subset whose keys are only method, params, id
 * and jsonrpc, fills *ret with what json_object_get() would find in
 * jansson's object and returns true; otherwise false (nothing to free).
 */
bool xfd_json_fast_request(const char *buf, size_t len, struct xfd_json_request *ret);
void xfd_json_request_done(struct xfd_json_request *r);

#endif
