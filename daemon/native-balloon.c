/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Ballooning in xenfitd beyond squeezed's methods (docs/daemon.md,
 * "Ballooning"): what the last squeeze did and who gave what
 * (xenfit.last_squeeze, also in get_diagnostics), a squeeze on chosen NUMA
 * nodes (xenfit.squeeze), a balance that reports (xenfit.balance), the idle
 * balance squeezed runs on a timer, and the simulator's helper that gives a
 * domain a balloon driver (xenfit.sim_balloon).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "native.h"
#include "xenfit/error.h"
#include "xenfit/sim.h"

static const char *result_name(enum xf_sq_result r)
{
    switch (r) {
    case XF_SQ_SUCCESS:
        return "success";
    case XF_SQ_CANNOT_FREE:
        return "Cannot_free_this_much_memory";
    case XF_SQ_REFUSED:
        return "Domains_refused_to_cooperate";
    case XF_SQ_ADJUST:
        break;
    }
    return "none";
}

json_t *xfd_squeeze_json(const struct xf_engine_squeeze *sq)
{
    json_t *o, *gave = json_array(), *refused = json_array(), *nodes = json_array();

    for (unsigned n = 0; n < XF_MAX_NODES; n++)
        if ((sq->node_mask >> n) & 1u)
            json_array_append_new(nodes, json_integer(n));
    for (size_t i = 0; i < sq->nr_refused; i++)
        json_array_append_new(refused, json_integer(sq->refused[i]));
    for (size_t i = 0; i < sq->nr_gave; i++) {
        const struct xf_engine_gave *g = &sq->gave[i];
        json_t *per = json_object();
        char key[16];
        for (unsigned n = 0; n < XF_MAX_NODES; n++) {
            if (!g->node_kib[n])
                continue;
            snprintf(key, sizeof(key), "%u", n);
            json_object_set_new(per, key, json_integer(g->node_kib[n]));
        }
        json_array_append_new(gave, json_pack("{si sI sI so}", "domid", (int)g->domid, "kib",
                                              (json_int_t)g->kib, "target_kib",
                                              (json_int_t)g->target_kib, "node_kib", per));
    }
    o = json_pack("{ss so sI sI so sI sI}", "result", result_name(sq->result), "nodes", nodes,
                  "needed_kib", (json_int_t)sq->needed_kib, "free_kib", (json_int_t)sq->free_kib,
                  "refused", refused, "iterations", (json_int_t)sq->iterations, "elapsed_ms",
                  (json_int_t)(sq->elapsed_ns / 1000000u));
    json_object_set_new(o, "gave", gave);
    return o;
}

void xfd_squeeze_text(const struct xf_engine_squeeze *sq, char *buf, size_t size)
{
    size_t used;

    if (!sq) {
        snprintf(buf, size, "ballooning: no squeeze yet\n");
        return;
    }
    snprintf(buf, size, "last squeeze: %s after %" PRIu64 " iterations, %" PRIu64 " ms;",
             result_name(sq->result), sq->iterations, sq->elapsed_ns / 1000000u);
    for (size_t i = 0; i < sq->nr_gave; i++) {
        used = strlen(buf);
        snprintf(buf + used, size - used, " domain %u %s %" PRId64 " KiB (target %" PRId64 ")",
                 sq->gave[i].domid, sq->gave[i].kib >= 0 ? "gave" : "took",
                 sq->gave[i].kib >= 0 ? sq->gave[i].kib : -sq->gave[i].kib, sq->gave[i].target_kib);
    }
    used = strlen(buf);
    snprintf(buf + used, size - used, "%s\n", sq->nr_gave ? "" : " no domain's memory changed");
}

static void last_squeeze(struct xfd_call *c)
{
    const struct xf_engine_squeeze *sq = xf_engine_last_squeeze(c->ctx->engine);
    xfd_ok(c, sq ? xfd_squeeze_json(sq) : NULL);
}

static void run(struct xfd_call *c, const struct xf_engine_squeeze_req *req)
{
    struct xf_engine_squeeze sq;
    int r;

    if (!xf_engine_params(c->ctx->engine)->balloon) {
        xfd_fail_internal(c, "%s: ballooning is off (--balloon off)", c->method);
        return;
    }
    if ((r = xf_engine_squeeze(c->ctx->engine, req, &sq)) < 0) {
        xfd_fail_internal(c, "%s: %s (%s)", c->method, xf_strerror(r), xf_err_name(r));
        return;
    }
    xfd_ok(c, xfd_squeeze_json(&sq));
}

/* xenfit.squeeze [dbg, kib, nodes]: make kib free for a new VM on the nodes
 * (an empty list: host-wide). */
static void squeeze(struct xfd_call *c)
{
    struct xf_engine_squeeze_req req;
    const struct xf_topology *t = xf_engine_topology(c->ctx->engine);
    json_t *nodes = json_array_get(c->params, 2), *v;
    uint32_t nr_nodes = xf_topology_nr_nodes(t);
    size_t i;

    memset(&req, 0, sizeof(req));
    req.kind = XF_SQUEEZE_FREE;
    if (!xfd_arg_kib(c, 1, "kib", &req.free_kib))
        return;
    if (!json_is_array(nodes)) {
        xfd_fail(c, "Invalid_argument",
                 json_string("xenfit.squeeze: parameter 3 (nodes) must be a list of node numbers"));
        return;
    }
    json_array_foreach(nodes, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) >= (json_int_t)nr_nodes) {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "xenfit.squeeze: parameter 3 (nodes): entry %zu is not a node of this host "
                     "(0 to %u)",
                     i + 1, nr_nodes ? nr_nodes - 1 : 0);
            xfd_fail(c, "Invalid_argument", json_string(msg));
            return;
        }
        req.node_mask |= UINT64_C(1) << json_integer_value(v);
    }
    run(c, &req);
}

static void balance(struct xfd_call *c)
{
    struct xf_engine_squeeze_req req = {.kind = XF_SQUEEZE_BALANCE};
    run(c, &req);
}

static bool u64_field(struct xfd_call *c, json_t *o, const char *key, bool required, uint64_t *ret)
{
    json_t *v = json_object_get(o, key);
    char msg[160];

    if (!v && !required)
        return true;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *ret = (uint64_t)json_integer_value(v);
        return true;
    }
    snprintf(msg, sizeof(msg), "%s: parameter 3: '%s' must be a whole number of 0 or more",
             c->method, key);
    xfd_fail(c, "Invalid_argument", json_string(msg));
    return false;
}

/* xenfit.sim_balloon [dbg, domid, {dynamic_min_kib, dynamic_max_kib,
 * target_kib, rate_kib_per_s, driver: "ok"|"stuck"|"liar", lie_floor_kib,
 * offset_kib}]: the domain gets balloon keys and a driver. */
static void sim_balloon(struct xfd_call *c)
{
    json_t *o = json_array_get(c->params, 2), *drv;
    struct xf_sim_balloon b;
    xf_domid_t domid;
    uint64_t offset = 0;
    const char *d = "ok";
    int r;

    memset(&b, 0, sizeof(b));
    b.feature_balloon = true;
    if (!xfd_arg_domid(c, 1, "domid", &domid))
        return;
    if (!json_is_object(o)) {
        xfd_fail(c, "Invalid_argument",
                 json_string("xenfit.sim_balloon: parameter 3 must be an object"));
        return;
    }
    if (!u64_field(c, o, "dynamic_min_kib", true, &b.dynamic_min_kib) ||
        !u64_field(c, o, "dynamic_max_kib", true, &b.dynamic_max_kib) ||
        !u64_field(c, o, "target_kib", true, &b.target_kib) ||
        !u64_field(c, o, "rate_kib_per_s", false, &b.rate_kib_per_s) ||
        !u64_field(c, o, "lie_floor_kib", false, &b.lie_floor_kib) ||
        !u64_field(c, o, "offset_kib", false, &offset))
        return;
    b.offset_kib = (int64_t)offset;
    drv = json_object_get(o, "driver");
    if (drv)
        d = json_is_string(drv) ? json_string_value(drv) : "";
    if (strcmp(d, "ok") == 0) {
        b.driver = XF_SIM_DRIVER_OK;
    } else if (strcmp(d, "stuck") == 0) {
        b.driver = XF_SIM_DRIVER_STUCK;
    } else if (strcmp(d, "liar") == 0) {
        b.driver = XF_SIM_DRIVER_LIAR;
    } else {
        xfd_fail(c, "Invalid_argument",
                 json_string("xenfit.sim_balloon: parameter 3: 'driver' must be \"ok\", "
                             "\"stuck\" or \"liar\""));
        return;
    }
    r = xf_sim_balloon_setup(xf_engine_hv(c->ctx->engine), domid, &b);
    if (r == XF_EINVAL) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "xenfit.sim_balloon: parameter 3: dynamic_min_kib %" PRIu64
                 " <= target_kib %" PRIu64 " <= dynamic_max_kib %" PRIu64 " does not hold",
                 b.dynamic_min_kib, b.target_kib, b.dynamic_max_kib);
        xfd_fail(c, "Invalid_argument", json_string(msg));
    } else if (r < 0) {
        xfd_fail_internal(c, "%s: domain %u: %s", c->method, domid, xf_strerror(r));
    } else {
        xfd_ok(c, NULL);
    }
}

void xfd_balance_idle(struct xf_engine *e, bool startup)
{
    struct xf_engine_squeeze_req req = {.kind = XF_SQUEEZE_BALANCE};
    struct xf_engine_squeeze sq;
    const char *what = startup ? "start-up balance" : "idle balance";
    bool unbalanced = false;
    char text[1024];
    int r;

    if (!xf_engine_params(e)->balloon)
        return;
    /* squeezed's balance thread (memory_server.ml start_balance_thread):
     * balance only when one iteration would set a new target. */
    if ((r = xf_engine_unbalanced(e, &unbalanced)) < 0) {
        xfd_log(XFD_LOG_WARNING, "%s: reading the host failed: %s", what, xf_strerror(r));
        return;
    }
    if (!unbalanced) {
        if (startup)
            xfd_log(XFD_LOG_INFO, "%s: the host is balanced, no target to change", what);
        return;
    }
    if ((r = xf_engine_squeeze(e, &req, &sq)) < 0) {
        xfd_log(XFD_LOG_WARNING, "%s: %s", what, xf_strerror(r));
        return;
    }
    xfd_squeeze_text(&sq, text, sizeof(text));
    text[strcspn(text, "\n")] = '\0'; /* the log ends the line */
    xfd_log(XFD_LOG_INFO, "%s: %s", what, text);
}

const struct xfd_method xfd_balloon_methods[] = {
    {"xenfit.last_squeeze", 1, "dbg", last_squeeze},
    {"xenfit.squeeze", 3, "dbg, kib, nodes", squeeze},
    {"xenfit.balance", 1, "dbg", balance},
    {"xenfit.sim_balloon", 3, "dbg, domid, balloon", sim_balloon},
};
const size_t xfd_nr_balloon_methods = sizeof(xfd_balloon_methods) / sizeof(xfd_balloon_methods[0]);
