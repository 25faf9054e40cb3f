/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's JSON-RPC layer: decoding a request body, dispatching it to a
 * method, encoding the answer, exactly in the shapes xapi-idl's ocaml-rpc
 * uses (src/lib/jsonrpc.ml, rpcmarshal.ml of mirage/ocaml-rpc):
 *
 *   request   {"method": "reserve_memory", "params": ["dbg", "xenopsd", 1024], "id": 7}
 *   success   {"result": "<reservation id>", "error": null, "id": 7}
 *   failure   {"result": null, "error": ["Unknown_reservation", "<id>"], "id": 7}
 *
 * Parameters are positional, in the interface's order. An error is the
 * memory interface's variant (ocaml/xapi-idl/memory/memory_interface.ml,
 * type errors): a constructor without arguments is its name as a string
 * ("No_reservation"), one with arguments a two-element array of the name and
 * the argument (a tuple argument is itself an array). "jsonrpc": "2.0"
 * requests get "jsonrpc": "2.0" answers without the null member, as
 * ocaml-rpc's V2. Anything the interface has no error for (malformed JSON,
 * an unknown method, a wrong number or type of parameters) is
 * ["Internal_error", "<what was wrong>"] with id null when the request had
 * none: ocaml-rpc's server maps its MarshalError the same way.
 *
 * A body whose first non-blank byte is '<' is XML-RPC instead (xmlrpc.h):
 * decoded into the same method and params, dispatched by the same code,
 * answered in ocaml-rpc's XML-RPC response struct.
 *
 * The layer is pure apart from the engine it drives: no sockets, no store;
 * the caller persists the engine's journal. The fuzz target calls it directly.
 */
#ifndef XENFITD_RPC_H
#define XENFITD_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "events.h"
#include "xenfit/engine.h"

/*
 * What get_domain_zero_policy answers (--dom0-policy), in squeezed's terms
 * (xen-api e2ee48d6883e, ocaml/squeezed/src/memory_server.ml,
 * get_domain_zero_policy; the defaults of ocaml/squeezed/lib/squeeze.ml):
 * FIXED is Fixed_size of dom0's memory (squeezed's default,
 * manage-domain-zero=false); AUTO is Auto_balloon (min, max) in bytes, max
 * 0 meaning dom0's memory (squeezed's domain-zero-dynamic-max=auto).
 */
enum xfd_dom0_kind { XFD_DOM0_FIXED, XFD_DOM0_AUTO };
struct xfd_dom0_policy {
    enum xfd_dom0_kind kind;
    uint64_t min_bytes; /* AUTO: squeezed's default domain-zero-dynamic-min, 1 GiB */
    uint64_t max_bytes; /* AUTO: 0 for dom0's memory */
};
#define XFD_DOM0_MIN_DEFAULT_BYTES (UINT64_C(1) << 30)

/* Parses --dom0-policy: "fixed", "auto" or "auto:MIN-MAX" (sizes as
 * xf_parse_size_bytes reads them, a bare number in bytes; MAX may be
 * "auto"). Returns 0 and *ret, or XF_EPARSE with a sentence in why. */
int xfd_dom0_policy_parse(const char *s, struct xfd_dom0_policy *ret, char *why, size_t why_len);

/* What the daemon knows besides the engine, for the informational methods. */
struct xfd_info {
    const char *version;
    const char *backend;         /* "sim" or "xen" */
    const char *host_name;       /* the spec's name, or the hostname */
    uint64_t initial_free_bytes; /* get_host_initial_free_memory */
    uint64_t started_ns;
    struct xfd_dom0_policy dom0_policy;
};

/* Events the methods count for the metrics (docs/daemon.md, "Metrics"). */
struct xfd_stats {
    uint64_t refused_memory; /* reservations refused: not enough free memory */
    uint64_t refused_limit;  /* refused: too many pending (--max-pending...) */
    uint64_t drift_alarms;   /* observed builds that took more than the model said */
    uint64_t false_admits;   /* builds reported failed for a reservation xenfitd granted */
};

struct xfd_ctx {
    struct xf_engine *engine;
    struct xfd_info info;
    uint64_t (*now_ns)(void); /* the clock the reservations' times use */
    /* How far xenfit.sim_advance_time has moved the daemon's clocks (the
     * reservations' and the event loop's) ahead of now_ns: always 0 but with
     * the simulator backend, whose tests use it instead of sleeping. */
    uint64_t clock_skew_ns;
    bool sim_methods;         /* offer xenfit.sim_* (the simulator backend) */
    struct xfd_events events; /* build records (daemon/events.h) */
    uint64_t requests, failures;
    struct xfd_stats stats; /* what GET /metrics counts (web.h) */
};

/* The daemon's time in ns: what TTLs, expiry and sweeps compare with. */
static inline uint64_t xfd_ctx_now_ns(const struct xfd_ctx *ctx)
{
    return ctx->now_ns() + ctx->clock_skew_ns;
}

/* One call being served: the handler sets result or error (new references). */
struct xfd_call {
    struct xfd_ctx *ctx;
    const char *method;
    json_t *params; /* an array, its length checked against the method's */
    json_t *result;
    json_t *error;
};

typedef void (*xfd_method_fn)(struct xfd_call *call);

struct xfd_method {
    const char *name;
    size_t nparams;
    const char *signature; /* "dbg, session_id, size": for arity errors */
    xfd_method_fn fn;
};

/* The tables: squeezed's methods (daemon/methods.c), xenfit's (native.c). */
extern const struct xfd_method xfd_squeezed_methods[];
extern const size_t xfd_nr_squeezed_methods;
extern const struct xfd_method xfd_native_methods[];
extern const size_t xfd_nr_native_methods;

/*
 * Serves one request body: appends the JSON response (no HTTP framing) to
 * out, or the XML-RPC one for an XML body (xfd_xmlrpc_is_xml). Returns 0, or -ENOMEM (out
 * unchanged). Every malformed request gets an error response, never a failure of this function.
 */
int xfd_rpc_handle(struct xfd_ctx *ctx, const char *body, size_t len, struct xfd_buf *out);

/* Calls a method in-process (the live page's view), not counted as a
 * request. Returns 0 and *ret_result (the caller's reference), XF_ENOENT for
 * no such method or a wrong arity, XF_EINVAL when the method failed. */
int xfd_rpc_call(struct xfd_ctx *ctx, const char *method, json_t *params, json_t **ret_result);

/* An error response with id null for a request that could not be framed
 * (HTTP errors): ["Internal_error", message]. Returns 0 or -ENOMEM. */
int xfd_rpc_error_body(struct xfd_buf *out, const char *message);

/* --- For the method handlers ------------------------------------------- */

/* Sets the error ["name", arg] (arg stolen) or "name" when arg is NULL. */
void xfd_fail(struct xfd_call *call, const char *name, json_t *arg);
/* Sets ["Internal_error", message]. */
void xfd_fail_internal(struct xfd_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets the result (stolen). */
void xfd_ok(struct xfd_call *call, json_t *result);

/* Parameter i as a string. On a wrong type sets an Internal_error naming the
 * parameter and returns false. */
bool xfd_arg_string(struct xfd_call *call, size_t i, const char *name, const char **ret);
/* Parameter i as an integer: a JSON integer or a decimal string, as
 * ocaml-rpc's int64_of_rpc accepts. */
bool xfd_arg_int(struct xfd_call *call, size_t i, const char *name, int64_t *ret);
/* Parameter i as a memory size in KiB: an integer in 0..XF_ENGINE_MAX_KIB,
 * else ["Invalid_memory_value", value]. */
bool xfd_arg_kib(struct xfd_call *call, size_t i, const char *name, uint64_t *ret);
/* Parameter i as a domain id: 0 .. 0x7FEF (below Xen's DOMID_FIRST_RESERVED). */
bool xfd_arg_domid(struct xfd_call *call, size_t i, const char *name, xf_domid_t *ret);

/* A JSON integer from an unsigned 64-bit value (saturating at INT64_MAX). */
json_t *xfd_json_u64(uint64_t v);

#endif
