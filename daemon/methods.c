/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * squeezed's methods (ocaml/xapi-idl/memory/memory_interface.ml, module API;
 * the behaviour of ocaml/squeezed/src/memory_server.ml), with squeezed's
 * parameter order, result shapes and error encodings. Sizes are KiB, except
 * get_host_initial_free_memory and get_domain_zero_policy, which squeezed
 * answers in bytes. Ballooning follows squeezed's squeeze (the engine's
 * xf_engine_squeeze, lib/toolstack/balloon.c). Where xenfitd differs (a
 * stricter reading of bad input), docs/daemon.md says so.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "native.h"
#include "rpc.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

static struct xf_engine *E(struct xfd_call *c)
{
    return c->ctx->engine;
}

static uint64_t now(struct xfd_call *c)
{
    return xfd_ctx_now_ns(c->ctx);
}

/* A session (squeezed: the service name) that the ledger can hold. */
static bool session_arg(struct xfd_call *c, size_t i, const char *name, const char **ret)
{
    if (!xfd_arg_string(c, i, name, ret))
        return false;
    if (strlen(*ret) >= XF_OWNER_MAX) {
        xfd_fail_internal(c, "%s: parameter %zu (%s) is longer than %u bytes", c->method, i + 1,
                          name, XF_OWNER_MAX - 1);
        return false;
    }
    return true;
}

static json_t *id_json(struct xfd_call *c, uint64_t id)
{
    char text[XF_ENGINE_ID_LEN];
    xf_engine_id_format(E(c), id, text);
    return json_string(text);
}

/* Maps an engine error that the interface has no variant for. */
static void engine_error(struct xfd_call *c, int err)
{
    xfd_fail_internal(c, "%s: %s (%s)", c->method, xf_strerror(err), xf_err_name(err));
}

void xfd_fail_limit(struct xfd_call *c, const char *session)
{
    const struct xf_engine_params *p = xf_engine_params(E(c));
    c->ctx->stats.refused_limit++;
    xfd_fail_internal(c,
                      "%s: too many pending reservations: session '%s' holds %zu (at most %zu, "
                      "--max-pending-per-session), the host %zu (at most %zu, --max-pending); "
                      "transfer or delete some first",
                      c->method, session, xf_engine_pending_count(E(c), session),
                      p->max_pending_per_owner, xf_engine_pending_count(E(c), NULL),
                      p->max_pending);
}

static void get_diagnostics(struct xfd_call *c)
{
    struct xf_engine_status st;
    char buf[2048], squeeze[1024];
    int r = xf_engine_status(E(c), &st);
    const struct xfd_info *in = &c->ctx->info;

    if (r < 0) {
        engine_error(c, r);
        return;
    }
    /* Who gave what in the last squeeze (squeezed answers "diagnostics not
     * yet available"). */
    xfd_squeeze_text(xf_engine_last_squeeze(E(c)), squeeze, sizeof(squeeze));
    snprintf(buf, sizeof(buf),
             "xenfitd %s on %s (backend %s), up %" PRIu64 " s; %" PRIu64 " requests, %" PRIu64
             " failed\n"
             "host: %" PRIu64 " MiB total, %" PRIu64 " MiB free, %" PRIu64 " MiB claimed, %" PRIu64
             " MiB free for a new VM\n"
             "reservations: %zu pending, %zu transferred, %zu settled; the ledger holds %" PRIu64
             " MiB\n%s",
             in->version, in->host_name, in->backend,
             (now(c) - in->started_ns) / UINT64_C(1000000000), c->ctx->requests, c->ctx->failures,
             xf_mib_of_pages_free(st.phys.total_pages), xf_mib_of_pages_free(st.phys.free_pages),
             xf_mib_of_pages_used(st.phys.outstanding_pages),
             xf_mib_of_pages_free(st.free.host_free_pages), st.nr_pending, st.nr_transferred,
             st.nr_settled, xf_mib_of_pages_used(st.ledger_pages), squeeze);
    xfd_ok(c, json_string(buf));
}

static void login(struct xfd_call *c)
{
    const char *service;
    size_t dropped = 0;
    int r;

    if (!session_arg(c, 1, "service_name", &service))
        return;
    /* squeezed: "Any reservations previously made with the specified service
     * name not yet associated with a domain will be removed"; the session
     * is the service name. */
    if ((r = xf_engine_login(E(c), service, &dropped)) < 0) {
        engine_error(c, r);
        return;
    }
    if (dropped)
        xfd_log(XFD_LOG_INFO, "login of '%s': dropped %zu untransferred reservation%s", service,
                dropped, dropped == 1 ? "" : "s");
    xfd_ok(c, json_string(service));
}

/* Reserves [min, max] KiB; the result is the id, or the id and the amount. */
static void reserve(struct xfd_call *c, uint64_t min_kib, uint64_t max_kib, bool range,
                    const char *session)
{
    struct xf_engine_outcome o;
    int r = xf_engine_reserve_kib(E(c), session, min_kib, max_kib, now(c), &o);

    if (r == XF_EBADSIZE) {
        /* min above max (the range itself is the bad value), or nothing. */
        xfd_fail(c, "Invalid_memory_value", xfd_json_u64(max_kib == 0 ? 0 : min_kib));
        return;
    }
    if (r == XF_ELIMIT) {
        xfd_fail_limit(c, session);
        return;
    }
    if (r < 0) {
        engine_error(c, r);
        return;
    }
    if (!o.granted) {
        c->ctx->stats.refused_memory++;
        xfd_log(XFD_LOG_INFO, "%s for '%s' refused: %s", c->method, session, o.reason);
        if (o.squeeze == XF_SQ_REFUSED) {
            /* memory_interface.ml Domains_refused_to_cooperate of int list. */
            const struct xf_engine_squeeze *sq = xf_engine_last_squeeze(E(c));
            json_t *ids = json_array();
            for (size_t i = 0; sq && i < sq->nr_refused; i++)
                json_array_append_new(ids, json_integer(sq->refused[i]));
            xfd_fail(c, "Domains_refused_to_cooperate", ids);
            return;
        }
        xfd_fail(c, "Cannot_free_this_much_memory",
                 json_pack("[oo]", xfd_json_u64(o.needed_kib), xfd_json_u64(o.available_kib)));
        return;
    }
    if (range)
        xfd_ok(c, json_pack("[oo]", id_json(c, o.id), xfd_json_u64(o.kib)));
    else
        xfd_ok(c, id_json(c, o.id));
}

static void reserve_memory(struct xfd_call *c)
{
    const char *session;
    uint64_t kib;
    if (session_arg(c, 1, "session_id", &session) && xfd_arg_kib(c, 2, "size", &kib))
        reserve(c, kib, kib, false, session);
}

static void reserve_memory_range(struct xfd_call *c)
{
    const char *session;
    uint64_t min, max;
    if (session_arg(c, 1, "session_id", &session) && xfd_arg_kib(c, 2, "min", &min) &&
        xfd_arg_kib(c, 3, "max", &max))
        reserve(c, min, max, true, session);
}

/* The reservation named by parameter i, or Unknown_reservation. */
static bool reservation_arg(struct xfd_call *c, size_t i, uint64_t *ret_id, const char **ret_text)
{
    if (!xfd_arg_string(c, i, "reservation_id", ret_text))
        return false;
    if (xf_engine_id_parse(E(c), *ret_text, ret_id) < 0) {
        xfd_fail(c, "Unknown_reservation", json_string(*ret_text));
        return false;
    }
    return true;
}

static void delete_reservation(struct xfd_call *c)
{
    const char *session, *text;
    uint64_t id;
    int r;

    if (!session_arg(c, 1, "session_id", &session) || !reservation_arg(c, 2, &id, &text))
        return;
    r = xf_engine_delete(E(c), session, id);
    if (r == XF_EUNKNOWN_RESERVATION)
        xfd_fail(c, "Unknown_reservation", json_string(text));
    else if (r < 0)
        engine_error(c, r);
    else
        xfd_ok(c, NULL);
}

static void transfer_reservation_to_domain(struct xfd_call *c)
{
    const char *session, *text;
    uint64_t id;
    xf_domid_t domid;
    int r;

    if (!session_arg(c, 1, "session_id", &session) || !reservation_arg(c, 2, &id, &text) ||
        !xfd_arg_domid(c, 3, "domid", &domid))
        return;
    r = xf_engine_transfer(E(c), session, id, domid, now(c));
    if (r == XF_EUNKNOWN_RESERVATION)
        xfd_fail(c, "Unknown_reservation", json_string(text));
    else if (r == XF_ENOTGUEST)
        xfd_fail_internal(c,
                          "%s: domain %" PRIu32 " is not a guest (the control domain or a "
                          "reserved id): a reservation is never settled on it",
                          c->method, domid);
    else if (r < 0)
        engine_error(c, r);
    else
        xfd_ok(c, NULL);
}

static void query_reservation_of_domain(struct xfd_call *c)
{
    const char *session;
    xf_domid_t domid;
    const struct xf_engine_resv *r;

    /* squeezed ignores the session here (it reads the domain's key). */
    if (!session_arg(c, 1, "session_id", &session) || !xfd_arg_domid(c, 2, "domid", &domid))
        return;
    r = xf_engine_find_domain(E(c), domid);
    if (!r)
        xfd_fail(c, "No_reservation", NULL);
    else
        xfd_ok(c, id_json(c, r->id));
}

static void balance_memory(struct xfd_call *c)
{
    struct xf_engine_squeeze_req req = {.kind = XF_SQUEEZE_BALANCE};
    struct xf_engine_squeeze sq;
    int r;

    /* squeeze.ml balance_memory catches every exception and returns unit:
     * a balance that cannot do more is no error to the caller. */
    if (xf_engine_params(E(c))->balloon && (r = xf_engine_squeeze(E(c), &req, &sq)) < 0)
        xfd_log(XFD_LOG_WARNING, "balance_memory: %s", xf_strerror(r));
    xfd_ok(c, NULL);
}

static void get_host_reserved_memory(struct xfd_call *c)
{
    /* The memory kept free of every domain and reservation, KiB: Xen's
     * low_mem_virq_limit (squeezed: target_host_free_mem_kib). */
    xfd_ok(c, xfd_json_u64(xf_kib_of_pages(xf_engine_params(E(c))->host.low_mem_reserve_pages)));
}

static void get_host_initial_free_memory(struct xfd_call *c)
{
    xfd_ok(c, xfd_json_u64(c->ctx->info.initial_free_bytes));
}

int xfd_dom0_policy_parse(const char *s, struct xfd_dom0_policy *ret, char *why, size_t why_len)
{
    struct xfd_dom0_policy p = {.kind = XFD_DOM0_AUTO, .min_bytes = XFD_DOM0_MIN_DEFAULT_BYTES};
    char min[64];
    const char *dash;

    if (strcmp(s, "fixed") == 0 || strcmp(s, "auto") == 0) {
        p.kind = s[0] == 'f' ? XFD_DOM0_FIXED : XFD_DOM0_AUTO;
        *ret = p;
        return 0;
    }
    if (strncmp(s, "auto:", 5) != 0 || !(dash = strchr(s + 5, '-'))) {
        snprintf(why, why_len, "expected fixed, auto or auto:MIN-MAX");
        return XF_EPARSE;
    }
    if ((size_t)(dash - (s + 5)) >= sizeof(min) ||
        (snprintf(min, sizeof(min), "%.*s", (int)(dash - (s + 5)), s + 5),
         xf_parse_size_bytes(min, 1, &p.min_bytes) < 0)) {
        snprintf(why, why_len, "MIN '%.*s' is not a size (bytes, or with a unit such as 1GiB)",
                 (int)(dash - (s + 5)) < 40 ? (int)(dash - (s + 5)) : 40, s + 5);
        return XF_EPARSE;
    }
    if (strcmp(dash + 1, "auto") == 0) {
        p.max_bytes = 0;
    } else if (xf_parse_size_bytes(dash + 1, 1, &p.max_bytes) < 0) {
        snprintf(why, why_len,
                 "MAX '%.40s' is not a size (bytes, or with a unit such as 4GiB) "
                 "nor auto",
                 dash + 1);
        return XF_EPARSE;
    } else if (p.max_bytes == 0) {
        snprintf(why, why_len, "MAX 0: dom0 needs memory (auto means dom0's own)");
        return XF_EPARSE;
    } else if (p.max_bytes < p.min_bytes) {
        snprintf(why, why_len, "MAX %" PRIu64 " bytes is below MIN %" PRIu64 " bytes", p.max_bytes,
                 p.min_bytes);
        return XF_EPARSE;
    }
    *ret = p;
    return 0;
}

/* squeezed's answer (xen-api e2ee48d6883e, ocaml/squeezed/src/memory_server.ml,
 * get_domain_zero_policy): Fixed_size of dom0's memory in bytes unless it
 * manages dom0, else Auto_balloon (domain-zero-dynamic-min, -max or dom0's
 * memory). Encoded as ocaml-rpc writes the variant domain_zero_policy of
 * ocaml/xapi-idl/memory/memory_interface.ml: ["Fixed_size", n] and
 * ["Auto_balloon", [min, max]] (xapi-idl's lib_test vectors
 * get_domain_zero_policy.response.0 and .1). "dom0's memory" is what the
 * backend reports as dom0's pages, squeezed's get_total_memory_from_xen
 * (domain_getinfo 0, total_memory_pages). xenfitd reports the policy (xapi
 * sets dom0's memory constraints from it, create_misc.ml) but never
 * balloons dom0 itself. */
static void get_domain_zero_policy(struct xfd_call *c)
{
    const struct xfd_dom0_policy *p = &c->ctx->info.dom0_policy;
    struct xf_engine_status st;
    uint64_t dom0_bytes;
    int r = xf_engine_status(E(c), &st);
    if (r < 0) {
        engine_error(c, r);
        return;
    }
    dom0_bytes = xf_bytes_of_pages(st.dom0_pages);
    if (p->kind == XFD_DOM0_FIXED)
        xfd_ok(c, json_pack("[so]", "Fixed_size", xfd_json_u64(dom0_bytes)));
    else
        xfd_ok(c, json_pack("[s[oo]]", "Auto_balloon", xfd_json_u64(p->min_bytes),
                            xfd_json_u64(p->max_bytes ? p->max_bytes : dom0_bytes)));
}

const struct xfd_method xfd_squeezed_methods[] = {
    {"get_diagnostics", 1, "dbg", get_diagnostics},
    {"login", 2, "dbg, service_name", login},
    {"reserve_memory", 3, "dbg, session_id, size", reserve_memory},
    {"reserve_memory_range", 4, "dbg, session_id, min, max", reserve_memory_range},
    {"delete_reservation", 3, "dbg, session_id, reservation_id", delete_reservation},
    {"transfer_reservation_to_domain", 4, "dbg, session_id, reservation_id, domid",
     transfer_reservation_to_domain},
    {"query_reservation_of_domain", 3, "dbg, session_id, domid", query_reservation_of_domain},
    {"balance_memory", 1, "dbg", balance_memory},
    {"get_host_reserved_memory", 1, "dbg", get_host_reserved_memory},
    {"get_host_initial_free_memory", 1, "dbg", get_host_initial_free_memory},
    {"get_domain_zero_policy", 1, "dbg", get_domain_zero_policy},
};
const size_t xfd_nr_squeezed_methods =
    sizeof(xfd_squeezed_methods) / sizeof(xfd_squeezed_methods[0]);
