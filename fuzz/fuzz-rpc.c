/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * libFuzzer target for xenfitd's request path: the HTTP framing
 * (daemon/http.c) and the JSON-RPC decoding and dispatch (daemon/rpc.c) down
 * to every method and the engine, on a fresh simulated host per input (so
 * any crash reproduces from its input alone). The first byte picks the
 * mode: even, the rest is a byte stream from a client (requests are framed,
 * answered and consumed one after another, as the event loop does); odd,
 * the rest is one request body. The engine's journal is drained into a
 * checker that verifies each change names a reservation the engine holds,
 * and every response must be one JSON object in ocaml-rpc's shape (rpc.h):
 * {"result", "error", "id"} with one of result and error null, or
 * {"jsonrpc": "2.0", "result" or "error", "id"}; a body that starts with '<'
 * is XML-RPC (daemon/xmlrpc.h) and its answer must decode with xenfitd's own
 * XML-RPC decoder into a Status struct whose failure is a constructor name
 * or [name, argument].
 *
 * Build and run: docs/daemon.md, "Fuzzing".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "rpc.h"
#include "xmlrpc.h"
#include "xenfit/sim.h"

/* The test host of tests/daemon (tests/data/hosts/daemon-2node.json). */
static const char HOST[] =
    "{\"name\": \"fuzz\", \"nodes\": [{\"memory_mib\": 8192, \"cpus\": 4, \"cores\": 4},"
    "{\"memory_mib\": 8192, \"cpus\": 4, \"cores\": 4}], \"distances\": [[10, 20], [20, 10]],"
    "\"xen\": {\"claim_semantics\": \"4.22\", \"node_claims\": true, \"reserved_mib\": 64,"
    "\"dma_mib\": 256, \"low_mem_virq_limit_mib\": 64},"
    "\"dom0\": {\"vcpus\": 2, \"memory_mib\": 1024, \"node_mib\": [0, 1024]}}";

static uint64_t fake_now = 1000000000000ull;

static uint64_t now_ns(void)
{
    return fake_now += 1000000; /* 1 ms per call: TTLs can pass within an input */
}

static int check_change(void *ctx, const struct xf_engine_change *c)
{
    struct xf_engine *e = ctx;
    if (c->kind == XF_CHANGE_RESV_PUT && (!c->resv || xf_engine_find(e, c->id) != c->resv))
        abort();
    if (c->kind == XF_CHANGE_RESV_DEL && xf_engine_find(e, c->id))
        abort();
    return 0;
}

/* The response's shape, whatever the request was: aborts if it is wrong. */
static void check_response(const struct xfd_buf *out)
{
    json_t *resp = json_loadb(out->p, out->len, JSON_REJECT_DUPLICATES, NULL);
    json_t *result = json_object_get(resp, "result"), *error = json_object_get(resp, "error");
    json_t *id = json_object_get(resp, "id"), *v2 = json_object_get(resp, "jsonrpc");

    if (!json_is_object(resp) || !id ||
        (!json_is_null(id) && !json_is_integer(id) && !json_is_string(id)))
        abort();
    if (v2) {
        /* V2: exactly one of result and error; an error is never null. */
        if (!json_is_string(v2) || strcmp(json_string_value(v2), "2.0") != 0 ||
            json_object_size(resp) != 3 || (result == NULL) == (error == NULL) ||
            json_is_null(error))
            abort();
    } else if (json_object_size(resp) != 3 || !result || !error || /* V1: one of them null */
               (!json_is_null(result) && !json_is_null(error))) {
        abort();
    }
    /* The error is a constructor name, or [name, argument]. */
    if (error && !json_is_null(error) && !json_is_string(error) &&
        !(json_is_array(error) && json_array_size(error) == 2 &&
          json_is_string(json_array_get(error, 0))))
        abort();
    json_decref(resp);
}

/* An XML-RPC answer: a well-formed methodResponse, a failure in the
 * interface's shape. Aborts if it is wrong. */
static void check_xml_response(const struct xfd_buf *out)
{
    char err[XFD_XMLRPC_ERRLEN];
    json_t *v = NULL;
    bool ok = false;

    if (xfd_xmlrpc_decode_response(out->p, out->len, &ok, &v, err, sizeof(err)) != 0)
        abort();
    if (!ok && !json_is_string(v) &&
        !(json_is_array(v) && json_array_size(v) == 2 && json_is_string(json_array_get(v, 0))))
        abort();
    json_decref(v);
}

static void serve_body(struct xfd_ctx *ctx, const char *body, size_t len, struct xfd_buf *out)
{
    out->len = 0;
    if (xfd_rpc_handle(ctx, body, len, out) < 0)
        return;
    if (xfd_xmlrpc_is_xml(body, len))
        check_xml_response(out);
    else
        check_response(out);
    if (xf_engine_flush_changes(ctx->engine, check_change, ctx->engine) < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xf_engine_params p;
    struct xfd_ctx ctx;
    struct xfd_buf out = {0}, resp = {0};
    struct xf_hv *hv = NULL;
    const char *in;
    size_t len;

    if (size < 1)
        return 0;
    xfd_log_set_level(XFD_LOG_ERROR);
    if (xf_sim_new_from_json(HOST, sizeof(HOST) - 1, NULL, &hv, NULL) < 0)
        abort();
    memset(&ctx, 0, sizeof(ctx));
    xf_engine_params_init(&p, hv);
    p.ttl_ns = UINT64_C(50) * 1000000; /* 50 calls */
    p.id_salt = UINT64_C(0x0123456789abcdef);
    if (xf_engine_new(hv, &p, &ctx.engine) < 0)
        abort();
    ctx.now_ns = now_ns;
    xfd_events_init(&ctx.events);
    ctx.sim_methods = true;
    ctx.info.version = "fuzz";
    ctx.info.backend = "sim";
    ctx.info.host_name = "fuzz";
    in = (const char *)data + 1;
    len = size - 1;
    if (data[0] & 1) {
        serve_body(&ctx, in, len, &out);
    } else {
        struct xfd_http_limits lim = {.max_header = 1024, .max_body = 4096};
        size_t used = 0;
        while (used < len) {
            struct xfd_http_request req;
            struct xfd_http_error err;
            int r = xfd_http_parse(in + used, len - used, &lim, &req, &err);
            if (r == XFD_HTTP_NEED_MORE)
                break;
            if (r == XFD_HTTP_BAD) {
                out.len = 0;
                if (xfd_rpc_error_body(&out, err.detail) == 0)
                    (void)xfd_http_respond(&resp, err.status, false, out.p, out.len);
                break;
            }
            if (req.header_len + req.body_len > len - used)
                abort(); /* the parser claimed bytes that are not there */
            serve_body(&ctx, req.body, req.body_len, &out);
            (void)xfd_http_respond(&resp, 200, req.keep_alive, out.p, out.len);
            used += req.header_len + req.body_len;
        }
    }
    /* Every state the requests left must sweep cleanly. */
    (void)xf_engine_sweep(ctx.engine, now_ns(), NULL);
    (void)xf_engine_flush_changes(ctx.engine, check_change, ctx.engine);
    xfd_buf_free(&out);
    xfd_buf_free(&resp);
    xf_engine_free(ctx.engine);
    xfd_events_done(&ctx.events);
    xf_hv_free(hv);
    return 0;
}
