/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's JSON-RPC layer (daemon/rpc.h): decode, dispatch, encode.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "native.h"
#include "rpc.h"
#include "xenfit/error.h"
#include "xenfit/units.h"
#include "xmlrpc.h"

/* Xen's DOMID_FIRST_RESERVED (xen/include/public/xen.h). */
#define DOMID_FIRST_RESERVED 0x7FF0

json_t *xfd_json_u64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

void xfd_fail(struct xfd_call *call, const char *name, json_t *arg)
{
    json_decref(call->error);
    if (arg)
        call->error = json_pack("[so]", name, arg);
    else
        call->error = json_string(name);
}

void xfd_fail_internal(struct xfd_call *call, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    xfd_fail(call, "Internal_error", json_string(msg));
}

void xfd_ok(struct xfd_call *call, json_t *result)
{
    json_decref(call->result);
    call->result = result ? result : json_null();
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

bool xfd_arg_string(struct xfd_call *call, size_t i, const char *name, const char **ret)
{
    json_t *v = json_array_get(call->params, i);
    if (!json_is_string(v)) {
        xfd_fail_internal(call, "%s: parameter %zu (%s) must be a string, not %s", call->method,
                          i + 1, name, v ? type_name(v) : "missing");
        return false;
    }
    *ret = json_string_value(v);
    return true;
}

/* A decimal integer in a string, with an optional sign (OCaml's Int64.of_string
 * also takes 0x, 0o, 0b and underscores: not needed by any client). */
static bool parse_i64(const char *s, int64_t *ret)
{
    bool neg = *s == '-';
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (lim - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

bool xfd_arg_int(struct xfd_call *call, size_t i, const char *name, int64_t *ret)
{
    json_t *v = json_array_get(call->params, i);
    if (json_is_integer(v)) {
        *ret = json_integer_value(v);
        return true;
    }
    if (json_is_string(v) && parse_i64(json_string_value(v), ret))
        return true;
    xfd_fail_internal(call, "%s: parameter %zu (%s) must be an integer, not %s", call->method,
                      i + 1, name, v ? type_name(v) : "missing");
    return false;
}

bool xfd_arg_kib(struct xfd_call *call, size_t i, const char *name, uint64_t *ret)
{
    int64_t v;
    if (!xfd_arg_int(call, i, name, &v))
        return false;
    /* squeezed refuses negative sizes (memory_server.ml, reserve_memory);
     * xenfit also sizes above the model's 16 TiB. */
    if (v < 0 || (uint64_t)v > XF_ENGINE_MAX_KIB) {
        xfd_fail(call, "Invalid_memory_value", json_integer(v));
        return false;
    }
    *ret = (uint64_t)v;
    return true;
}

bool xfd_arg_domid(struct xfd_call *call, size_t i, const char *name, xf_domid_t *ret)
{
    int64_t v;
    if (!xfd_arg_int(call, i, name, &v))
        return false;
    if (v < 0 || v >= DOMID_FIRST_RESERVED) {
        xfd_fail_internal(call, "%s: parameter %zu (%s) %" PRId64 " is not a domain id (0..%d)",
                          call->method, i + 1, name, v, DOMID_FIRST_RESERVED - 1);
        return false;
    }
    *ret = (xf_domid_t)v;
    return true;
}

static const struct xfd_method *find_method(const struct xfd_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < xfd_nr_squeezed_methods; i++)
        if (strcmp(xfd_squeezed_methods[i].name, name) == 0)
            return &xfd_squeezed_methods[i];
    for (size_t i = 0; i < xfd_nr_native_methods; i++) {
        const struct xfd_method *m = &xfd_native_methods[i];
        if (strcmp(m->name, name) == 0) {
            if (!ctx->sim_methods && strncmp(name, "xenfit.sim_", 11) == 0)
                return NULL;
            return m;
        }
    }
    for (size_t i = 0; i < xfd_nr_build_methods; i++)
        if (strcmp(xfd_build_methods[i].name, name) == 0)
            return &xfd_build_methods[i];
    for (size_t i = 0; i < xfd_nr_balloon_methods; i++) {
        const struct xfd_method *m = &xfd_balloon_methods[i];
        if (strcmp(m->name, name) == 0)
            return !ctx->sim_methods && strncmp(name, "xenfit.sim_", 11) == 0 ? NULL : m;
    }
    return NULL;
}

/* Appends a JSON value, compact, keys in insertion order. */
static int dump(struct xfd_buf *out, const json_t *v)
{
    const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
    size_t room, n;

    if (xfd_buf_reserve(out, 256) < 0)
        return -ENOMEM;
    room = out->cap - out->len;
    n = json_dumpb(v, out->p + out->len, room, flags);
    if (n == 0)
        return -ENOMEM;
    if (n > room) {
        if (xfd_buf_reserve(out, n) < 0)
            return -ENOMEM;
        n = json_dumpb(v, out->p + out->len, n, flags);
        if (n == 0)
            return -ENOMEM;
    }
    out->len += n;
    return 0;
}

static json_t *or_null(json_t *v)
{
    return v ? v : json_null();
}

/*
 * The response object in ocaml-rpc's shapes (rpc.h), members in the order
 * its encoder writes them (jansson keeps insertion order): V1 {"result",
 * "error", "id"}, V2 {"jsonrpc", "result" or "error", "id"}. Appended to out
 * compactly; out's bytes are unchanged on failure.
 */
static int respond(struct xfd_buf *out, bool v2, json_t *id, json_t *result, json_t *error)
{
    json_t *resp;
    int r;

    if (v2)
        resp = json_pack("{sssOsO}", "jsonrpc", "2.0", error ? "error" : "result",
                         error ? error : or_null(result), "id", or_null(id));
    else
        resp = json_pack("{sOsOsO}", "result", or_null(error ? NULL : result), "error",
                         or_null(error), "id", or_null(id));
    r = resp ? dump(out, resp) : -ENOMEM;
    json_decref(resp);
    return r;
}

int xfd_rpc_error_body(struct xfd_buf *out, const char *message)
{
    json_t *err = json_pack("[ss]", "Internal_error", message);
    int r = err ? respond(out, false, NULL, NULL, err) : -ENOMEM;
    json_decref(err);
    return r;
}

/* A failure that happened before dispatch: Internal_error, request id if known. */
static int malformed(struct xfd_ctx *ctx, struct xfd_buf *out, bool v2, json_t *id, const char *fmt,
                     ...) __attribute__((format(printf, 5, 6)));
static int malformed(struct xfd_ctx *ctx, struct xfd_buf *out, bool v2, json_t *id, const char *fmt,
                     ...)
{
    char msg[512];
    va_list ap;
    json_t *err;
    int r;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctx->failures++;
    xfd_log(XFD_LOG_INFO, "rejected request: %s", msg);
    err = json_pack("[ss]", "Internal_error", msg);
    r = err ? respond(out, v2, id, NULL, err) : -ENOMEM;
    json_decref(err);
    return r;
}

/* A request's members (new references; NULL when absent). */
struct request {
    json_t *method, *params, *id, *jsonrpc;
};

static void request_done(struct request *r)
{
    json_decref(r->method);
    json_decref(r->params);
    json_decref(r->id);
    json_decref(r->jsonrpc);
}

/* Parses the body (jansson, duplicate keys refused) into its members.
 * Returns 1, or what malformed() returns after answering the error. */
static int decode(struct xfd_ctx *ctx, const char *body, size_t len, struct xfd_buf *out,
                  struct request *ret)
{
    json_error_t jerr;
    json_t *req;
    int r;

    req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req)
        return malformed(ctx, out, false, NULL, "malformed JSON at line %d, column %d: %s",
                         jerr.line, jerr.column, jerr.text);
    if (!json_is_object(req)) {
        r = malformed(ctx, out, false, NULL, "the request is %s, not a JSON-RPC object",
                      type_name(req));
        json_decref(req);
        return r;
    }
    ret->method = json_incref(json_object_get(req, "method"));
    ret->params = json_incref(json_object_get(req, "params"));
    ret->id = json_incref(json_object_get(req, "id"));
    ret->jsonrpc = json_incref(json_object_get(req, "jsonrpc"));
    json_decref(req);
    return 1;
}

int xfd_rpc_call(struct xfd_ctx *ctx, const char *method, json_t *params, json_t **ret_result)
{
    const struct xfd_method *m = find_method(ctx, method);
    struct xfd_call call = {.ctx = ctx, .params = params};

    if (!m || json_array_size(params) != m->nparams)
        return XF_ENOENT;
    call.method = m->name;
    m->fn(&call);
    json_decref(call.error);
    if (!call.result || call.error) {
        json_decref(call.result);
        return XF_EINVAL;
    }
    *ret_result = call.result;
    return 0;
}

/* Why a call could not be dispatched: an Internal_error, counted and logged
 * as the malformed requests are. Returns the error value or NULL (ENOMEM). */
static json_t *refuse(struct xfd_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static json_t *refuse(struct xfd_ctx *ctx, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctx->failures++;
    xfd_log(XFD_LOG_INFO, "rejected request: %s", msg);
    return json_pack("[ss]", "Internal_error", msg);
}

/*
 * Runs a decoded call, whichever encoding it came in: finds the method,
 * checks the arity, calls it. Returns 0 with exactly one of *ret_result and
 * *ret_error set (new references), or -ENOMEM.
 */
static int dispatch(struct xfd_ctx *ctx, const char *method, json_t *params, json_t **ret_result,
                    json_t **ret_error)
{
    const struct xfd_method *m = find_method(ctx, method);
    struct xfd_call call = {.ctx = ctx, .params = params};

    if (!m) {
        *ret_error = refuse(ctx, "unknown method '%s'", method);
        return *ret_error ? 0 : -ENOMEM;
    }
    if (json_array_size(params) != m->nparams) {
        *ret_error = refuse(ctx, "%s expects %zu parameter%s (%s), got %zu", m->name, m->nparams,
                            m->nparams == 1 ? "" : "s", m->signature, json_array_size(params));
        return *ret_error ? 0 : -ENOMEM;
    }
    call.method = m->name;
    m->fn(&call);
    if (!call.result && !call.error)
        xfd_fail(&call, "Unknown_error", NULL);
    if (call.error) {
        ctx->failures++;
        json_decref(call.result);
        call.result = NULL;
    }
    if (!call.result && !call.error)
        return -ENOMEM;
    *ret_result = call.result;
    *ret_error = call.error;
    return 0;
}

/*
 * An XML-RPC body (xmlrpc.h): decoded into the method and params the JSON
 * path dispatches, answered in ocaml-rpc's Xmlrpc.string_of_response. XML-RPC
 * has no id: ocaml-rpc's Xmlrpc.call_of_string makes a call that is not a
 * notification, and squeezed's server (xapi-idl lib/xcp_service.ml,
 * http_handler) runs it and answers; so does this. A body that does not
 * decode is answered Failure ["Internal_error", "<what was wrong>"], which
 * xenopsd's client raises as Memory_interface's Internal_error (squeezed's
 * own http_handler would raise and drop the connection).
 */
static int handle_xml(struct xfd_ctx *ctx, const char *body, size_t len, struct xfd_buf *out)
{
    char msg[XFD_XMLRPC_ERRLEN];
    char *method = NULL;
    json_t *params = NULL, *result = NULL, *error = NULL;
    int r;

    ctx->requests++;
    r = xfd_xmlrpc_decode_call(body, len, &method, &params, msg, sizeof(msg));
    if (r == XF_EPARSE) {
        error = refuse(ctx, "%s", msg);
        r = error ? 0 : -ENOMEM;
    } else if (r == 0) {
        r = dispatch(ctx, method, params, &result, &error);
    }
    if (r == 0)
        r = xfd_xmlrpc_encode_response(out, error == NULL, error ? error : result);
    free(method);
    json_decref(params);
    json_decref(result);
    json_decref(error);
    return r < 0 ? -ENOMEM : 0;
}

int xfd_rpc_handle(struct xfd_ctx *ctx, const char *body, size_t len, struct xfd_buf *out)
{
    struct request req = {0};
    json_t *id, *params, *result = NULL, *error = NULL;
    const char *method;
    bool v2;
    int r;

    if (xfd_xmlrpc_is_xml(body, len))
        return handle_xml(ctx, body, len, out);
    ctx->requests++;
    if ((r = decode(ctx, body, len, out, &req)) <= 0)
        return r;
    id = req.id;
    if (id && !json_is_integer(id) && !json_is_string(id) && !json_is_null(id))
        id = NULL; /* ocaml-rpc: "Invalid field 'id'"; answered with id null */
    if (req.jsonrpc &&
        !(json_is_string(req.jsonrpc) && strcmp(json_string_value(req.jsonrpc), "2.0") == 0)) {
        r = malformed(ctx, out, false, id, "invalid field 'jsonrpc' (only \"2.0\" is known)");
        goto out;
    }
    v2 = req.jsonrpc != NULL;
    if (!json_is_string(req.method)) {
        r = malformed(ctx, out, v2, id, "the request has no method name (a string)");
        goto out;
    }
    method = json_string_value(req.method);
    if (!req.params && v2)
        req.params = json_array(); /* V2 allows none; the arity check refuses it */
    params = req.params;
    if (!json_is_array(params)) {
        r = malformed(ctx, out, v2, id, "%s: params must be an array (positional parameters)",
                      method);
        goto out;
    }
    if ((r = dispatch(ctx, method, params, &result, &error)) == 0)
        r = respond(out, v2, id, result, error);
    json_decref(result);
    json_decref(error);
out:
    request_done(&req);
    return r;
}
