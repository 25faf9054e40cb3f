/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's own methods (docs/daemon.md, "Native methods"), on the same
 * transport as squeezed's: reserve for a VM spec with its NUMA placement and
 * claim plan in one atomic step, reserve for an incoming migration with the
 * source's exact memory, host status (xl info -n numbers and the ledger),
 * list reservations, record an observed build for calibration, sweep now.
 * Their errors: ["Host_not_enough_free_memory", {needed_kib, available_kib,
 * node, reason}], ["Invalid_memory_value", v], ["Invalid_argument", text],
 * ["Internal_error", text]. The simulator's test helpers are in native-sim.c.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "native.h"
#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/units.h"

#define MIB_MAX (XF_MEMORY_MAX_BYTES / XF_BYTES_PER_MIB)

static void invalid(struct xfd_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void invalid(struct xfd_call *c, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    xfd_fail(c, "Invalid_argument", json_string(msg));
}

/* A size member of the VM object in MiB: Invalid_memory_value when out of range. */
static bool vm_mib(struct xfd_call *c, json_t *o, const char *key, bool required, uint64_t *ret)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        if (required)
            invalid(c, "%s: vm.%s is required", c->method, key);
        return !required;
    }
    if (!json_is_integer(v)) {
        invalid(c, "%s: vm.%s must be an integer (MiB)", c->method, key);
        return false;
    }
    if (json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > MIB_MAX) {
        xfd_fail(c, "Invalid_memory_value", json_integer(json_integer_value(v)));
        return false;
    }
    *ret = (uint64_t)json_integer_value(v);
    return true;
}

/* vm.nodes_allowed: an array of distinct node numbers of this host (absent:
 * any node). */
static bool nodes_arg(struct xfd_call *c, const json_t *a, uint64_t *ret)
{
    const struct xf_topology *t = xf_engine_topology(c->ctx->engine);
    uint32_t nr = t ? xf_topology_nr_nodes(t) : 0;
    uint64_t mask = 0;
    size_t i;
    json_t *v;

    *ret = 0;
    if (!a)
        return true;
    if (!json_is_array(a) || json_array_size(a) == 0) {
        invalid(c, "%s: vm.nodes_allowed must be a non-empty array of node numbers", c->method);
        return false;
    }
    json_array_foreach(a, i, v)
    {
        json_int_t n = json_integer_value(v);
        if (!json_is_integer(v) || n < 0 || n >= (json_int_t)nr || (mask & (UINT64_C(1) << n))) {
            invalid(c, "%s: vm.nodes_allowed[%zu] must be a node of this host (0..%u), once",
                    c->method, i, nr ? nr - 1 : 0);
            return false;
        }
        mask |= UINT64_C(1) << n;
    }
    *ret = mask;
    return true;
}

const char *xfd_native_vm_name(struct xfd_call *c, size_t i)
{
    const char *name = json_string_value(json_object_get(json_array_get(c->params, i), "name"));
    return name ? name : "";
}

bool xfd_native_vm_arg(struct xfd_call *c, size_t i, struct xf_admit_request *ret)
{
    static const char *const keys[] = {"type",          "static_max_mib", "target_mib",
                                       "vcpus",         "video_mib",      "shadow_multiplier",
                                       "hard_affinity", "nodes_allowed",  "name"};
    json_t *o = json_array_get(c->params, i), *v;
    struct xf_admit_request req;
    uint64_t static_max = 0, target = 0;
    const char *key;
    bool have_target;

    if (!json_is_object(o)) {
        invalid(c, "%s: parameter %zu (vm) must be an object", c->method, i + 1);
        return false;
    }
    json_object_foreach(o, key, v)
    {
        size_t k = 0;
        while (k < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[k], key) != 0)
            k++;
        if (k == sizeof(keys) / sizeof(keys[0])) {
            invalid(c, "%s: vm has an unknown member '%s'", c->method, key);
            return false;
        }
    }
    memset(&req, 0, sizeof(req));
    v = json_object_get(o, "type");
    if (!json_is_string(v) || xf_domain_type_parse(json_string_value(v), &req.vm.type) < 0) {
        invalid(c, "%s: vm.type must be one of hvm, pvh, pv, pv_in_pvh", c->method);
        return false;
    }
    have_target = json_object_get(o, "target_mib") != NULL;
    if (!vm_mib(c, o, "static_max_mib", true, &static_max) ||
        !vm_mib(c, o, "target_mib", false, &target) ||
        !vm_mib(c, o, "video_mib", false, &req.vm.video_mib))
        return false;
    req.vm.static_max_bytes = xf_bytes_of_mib(static_max);
    req.vm.target_bytes = xf_bytes_of_mib(have_target ? target : static_max);
    v = json_object_get(o, "vcpus");
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > (json_int_t)XF_VCPUS_MAX) {
        invalid(c, "%s: vm.vcpus must be an integer in 1..%u", c->method, XF_VCPUS_MAX);
        return false;
    }
    req.vm.vcpus = (uint32_t)json_integer_value(v);
    v = json_object_get(o, "shadow_multiplier");
    req.vm.shadow_multiplier = XF_SHADOW_MULT_DEFAULT;
    if (v) {
        if (!json_is_number(v) || !isfinite(json_number_value(v))) {
            invalid(c, "%s: vm.shadow_multiplier must be a number", c->method);
            return false;
        }
        req.vm.shadow_multiplier = json_number_value(v);
    }
    v = json_object_get(o, "hard_affinity");
    if (v && !json_is_boolean(v)) {
        invalid(c, "%s: vm.hard_affinity must be true or false", c->method);
        return false;
    }
    req.hard_affinity = json_is_true(v);
    if (!nodes_arg(c, json_object_get(o, "nodes_allowed"), &req.nodes_allowed))
        return false;
    v = json_object_get(o, "name");
    if (v && (!json_is_string(v) || strlen(json_string_value(v)) > 127)) {
        invalid(c, "%s: vm.name must be a string of at most 127 bytes", c->method);
        return false;
    }
    *ret = req;
    return true;
}

json_t *xfd_native_resv_json(struct xfd_ctx *ctx, const struct xf_engine_resv *r)
{
    char text[XF_ENGINE_ID_LEN];
    json_t *o, *nodes = json_array(), *node_mib = json_object(), *node_kib = json_object(), *claim;
    uint64_t now = xfd_ctx_now_ns(ctx);

    xf_engine_id_format(ctx->engine, r->id, text);
    for (uint64_t m = r->node_mask; m; m &= m - 1) {
        unsigned n = (unsigned)__builtin_ctzll(m);
        char key[8];
        snprintf(key, sizeof(key), "%u", n);
        json_array_append_new(nodes, json_integer(n));
        json_object_set_new(node_mib, key, xfd_json_u64(xf_mib_of_pages_used(r->node_pages[n])));
        json_object_set_new(node_kib, key, xfd_json_u64(xf_kib_of_pages(r->node_pages[n])));
    }
    claim = json_pack("{ss}", "kind", xf_claim_kind_name(r->claim.kind));
    if (r->claim.kind == XF_CLAIM_NODE)
        json_object_set_new(claim, "node", json_integer(r->claim.node));
    if (r->claim.kind != XF_CLAIM_NONE) {
        json_object_set_new(claim, "pages", xfd_json_u64(r->claim.pages));
        json_object_set_new(claim, "global_pages", xfd_json_u64(r->claim.global_pages));
    }
    o = json_pack("{ss ss ss ss}", "reservation_id", text, "session", r->owner, "kind",
                  xf_resv_kind_name(r->kind), "state", xf_resv_state_name(r->state));
    json_object_set_new(o, "domid",
                        r->domid == XF_DOMID_NONE ? json_null() : json_integer(r->domid));
    json_object_set_new(o, "kib", xfd_json_u64(r->kib));
    json_object_set_new(o, "pages", xfd_json_u64(r->total_pages));
    json_object_set_new(o, "nodes", nodes);
    json_object_set_new(o, "node_mib", node_mib);
    json_object_set_new(o, "node_kib", node_kib); /* node_mib, exact */
    json_object_set_new(o, "claim", claim);
    json_object_set_new(o, "created_s", xfd_json_u64(r->created_ns / 1000000000u));
    if (r->state == XF_RESV_PENDING && r->expires_ns)
        json_object_set_new(
            o, "expires_in_s",
            xfd_json_u64(r->expires_ns > now ? (r->expires_ns - now) / 1000000000u : 0));
    else
        json_object_set_new(o, "expires_in_s", json_null());
    json_object_set_new(o, "domain_seen", json_boolean(r->domain_seen));
    return o;
}

static const char *outcome_name(const struct xf_admission *a)
{
    if (!a->placed && a->plan.outcome == XF_PLAN_NODES)
        return "none"; /* not planned: policy any, or hard affinity */
    switch (a->plan.outcome) {
    case XF_PLAN_NODES:
        return "nodes";
    case XF_PLAN_INTERLEAVE:
        return "interleave";
    case XF_PLAN_NO_FIT:
        return "no_fit";
    case XF_PLAN_NUMA_OFF:
        return "numa_off";
    }
    return "?";
}

/* The model, placement and coefficients of a VM decision, added to `res`. */
static void add_decision(struct xfd_call *c, json_t *res, const struct xf_admit_request *req,
                         const struct xf_engine_outcome *o)
{
    const struct xf_memory_config *mc = &o->adm.mc;
    struct xf_overhead_coeffs k = xf_engine_coeffs(c->ctx->engine, req->vm.type, req->vm.vcpus);
    json_t *nodes = json_array();

    json_object_set_new(res, "footprint_mib",
                        xfd_json_u64(xf_mib_of_pages_used(o->adm.footprint_pages)));
    json_object_set_new(
        res, "memory_config",
        json_pack("{sososososososo}", "build_max_mib", xfd_json_u64(mc->build_max_mib),
                  "build_start_mib", xfd_json_u64(mc->build_start_mib), "xen_max_mib",
                  xfd_json_u64(mc->xen_max_mib), "shadow_mib", xfd_json_u64(mc->shadow_mib),
                  "required_host_free_mib", xfd_json_u64(mc->required_host_free_mib),
                  "overhead_mib", xfd_json_u64(mc->overhead_mib), "build_claim_pages",
                  xfd_json_u64(mc->build_claim_pages)));
    for (uint64_t m = o->adm.placed ? o->adm.plan.node_mask : 0; m; m &= m - 1)
        json_array_append_new(nodes, json_integer(__builtin_ctzll(m)));
    json_object_set_new(
        res, "placement",
        json_pack("{ss so ss si ss}", "outcome", outcome_name(&o->adm), "nodes", nodes, "affinity",
                  o->adm.placed ? xf_affinity_name(o->adm.plan.affinity) : "none", "nr_cpus",
                  o->adm.placed ? (int)o->adm.plan.nr_cpus : 0, "reason", o->adm.plan.reason));
    json_object_set_new(res, "coeffs",
                        json_pack("{soso}", "fixed_pages", xfd_json_u64(k.fixed_pages),
                                  "per_vcpu_pages", xfd_json_u64(k.per_vcpu_pages)));
}

/* The refusal of a native reserve: Host_not_enough_free_memory with numbers. */
static void refuse(struct xfd_call *c, const char *session, const struct xf_engine_outcome *o)
{
    xfd_log(XFD_LOG_INFO, "%s for '%s' refused: %s", c->method, session, o->reason);
    xfd_fail(c, "Host_not_enough_free_memory",
             json_pack("{sosososs}", "needed_kib", xfd_json_u64(o->needed_kib), "available_kib",
                       xfd_json_u64(o->available_kib), "node", json_integer(o->node), "reason",
                       o->reason));
}

static void reserve_vm_common(struct xfd_call *c, struct xf_admit_request *req, const char *session)
{
    struct xf_engine_outcome o;
    json_t *res;
    int r = xf_engine_reserve_vm(c->ctx->engine, session, req, xfd_ctx_now_ns(c->ctx), &o);

    if (r == XF_ELIMIT) {
        xfd_fail_limit(c, session);
        return;
    }
    if (r < 0) {
        invalid(c, "%s: %s", c->method, xf_strerror(r));
        return;
    }
    if (!o.granted) {
        c->ctx->stats.refused_memory++;
        xfd_event_refused(c, session, req, xfd_native_vm_name(c, 2), &o);
        refuse(c, session, &o);
        return;
    }
    res = xfd_native_resv_json(c->ctx, xf_engine_find(c->ctx->engine, o.id));
    add_decision(c, res, req, &o);
    xfd_ok(c, res);
}

/* The memory free for a new VM the decision was made against (the same
 * request: nothing can change in between), host-wide and per node, KiB. */
static void add_free(struct xfd_call *c, json_t *res)
{
    struct xf_engine_status st;
    json_t *nodes = json_array();

    if (xf_engine_status(c->ctx->engine, &st) < 0) {
        json_decref(nodes);
        return;
    }
    for (uint32_t n = 0; n < st.nr_nodes; n++)
        json_array_append_new(nodes, xfd_json_u64(xf_kib_of_pages(st.free.node_free_pages[n])));
    json_object_set_new(res, "free_for_new_vm_kib",
                        xfd_json_u64(xf_kib_of_pages(st.free.host_free_pages)));
    json_object_set_new(res, "node_free_for_new_vm_kib", nodes);
}

/* xenfit.admit_vm [dbg, vm]: reserve_vm's decision, against the same ledger
 * (pending reservations count), recorded nowhere. A refusal is an answer
 * here, not an error: {"admitted": false, needed_kib, available_kib, node,
 * reason, ...}. */
static void admit_vm(struct xfd_call *c)
{
    struct xf_admit_request req;
    struct xf_engine_outcome o;
    json_t *res, *nodes, *node_mib;
    int r;

    if (!xfd_native_vm_arg(c, 1, &req))
        return;
    if ((r = xf_engine_admit_vm(c->ctx->engine, &req, &o)) < 0) {
        invalid(c, "%s: %s", c->method, xf_strerror(r));
        return;
    }
    res = json_pack("{sb}", "admitted", o.granted);
    nodes = json_array();
    node_mib = json_object();
    for (uint64_t m = o.adm.placed ? o.adm.plan.node_mask : 0; m; m &= m - 1) {
        unsigned n = (unsigned)__builtin_ctzll(m);
        char key[8];
        snprintf(key, sizeof(key), "%u", n);
        json_array_append_new(nodes, json_integer(n));
        json_object_set_new(node_mib, key, xfd_json_u64(o.adm.plan.memory_mib_per_node[n]));
    }
    json_object_set_new(res, "kib", xfd_json_u64(o.kib));
    json_object_set_new(res, "nodes", nodes);
    json_object_set_new(res, "node_mib", node_mib);
    json_object_set_new(res, "claim",
                        json_pack("{sssisoso}", "kind", xf_claim_kind_name(o.adm.claim.kind),
                                  "node",
                                  o.adm.claim.kind == XF_CLAIM_NODE ? (int)o.adm.claim.node : -1,
                                  "pages", xfd_json_u64(o.adm.claim.pages), "global_pages",
                                  xfd_json_u64(o.adm.claim.global_pages)));
    if (!o.granted) {
        json_object_set_new(res, "needed_kib", xfd_json_u64(o.needed_kib));
        json_object_set_new(res, "available_kib", xfd_json_u64(o.available_kib));
        json_object_set_new(res, "node", json_integer(o.node));
        json_object_set_new(res, "reason", json_string(o.reason));
    }
    add_decision(c, res, &req, &o);
    add_free(c, res);
    xfd_ok(c, res);
}

static void reserve_vm(struct xfd_call *c)
{
    struct xf_admit_request req;
    const char *session;
    if (xfd_arg_string(c, 1, "session_id", &session) && xfd_native_vm_arg(c, 2, &req))
        reserve_vm_common(c, &req, session);
}

static void reserve_migration(struct xfd_call *c)
{
    struct xf_admit_request req;
    const char *session;
    uint64_t source_kib;
    if (!xfd_arg_string(c, 1, "session_id", &session) || !xfd_native_vm_arg(c, 2, &req) ||
        !xfd_arg_kib(c, 3, "memory_total_source_kib", &source_kib))
        return;
    if (source_kib == 0) {
        xfd_fail(c, "Invalid_memory_value", json_integer(0));
        return;
    }
    req.migration = true;
    req.source_total_kib = source_kib;
    reserve_vm_common(c, &req, session);
}

static void list_reservations(struct xfd_call *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < xf_engine_count(c->ctx->engine); i++)
        json_array_append_new(a, xfd_native_resv_json(c->ctx, xf_engine_at(c->ctx->engine, i)));
    xfd_ok(c, a);
}

/* o[key] = pages in KiB, exactly. */
static void set_kib(json_t *o, const char *key, uint64_t pages)
{
    json_object_set_new(o, key, xfd_json_u64(xf_kib_of_pages(pages)));
}

/* The logical CPUs of a node (what `xl info -n` lists as cpu_topology), so
 * that a client can turn a vCPU affinity (xl's cpus=) into nodes. */
static json_t *node_cpus(const struct xf_engine *e, uint32_t node)
{
    const struct xf_topology *t = xf_engine_topology(e);
    json_t *a = json_array();
    for (uint32_t cpu = 0; t && cpu < xf_topology_nr_cpus(t); cpu++)
        if (xf_topology_cpu_node(t, cpu) == node)
            json_array_append_new(a, json_integer(cpu));
    return a;
}

/* node.cores and node.distances (255: unreachable) from the topology. */
static void node_topology(const struct xf_engine *e, uint32_t node, uint32_t nr_nodes, json_t *o)
{
    const struct xf_topology *t = xf_engine_topology(e);
    json_t *row;
    if (!t)
        return;
    row = json_array();
    for (uint32_t j = 0; j < nr_nodes; j++) {
        uint32_t d = xf_topology_distance(t, node, j);
        json_array_append_new(row, json_integer(d > XF_SLIT_MAX_DISTANCE ? 255 : d));
    }
    json_object_set_new(o, "cores", json_integer(xf_topology_node_cores(t, node)));
    json_object_set_new(o, "distances", row);
}

static void host_status(struct xfd_call *c)
{
    struct xf_engine_status st;
    const struct xf_host_free *f = &st.free;
    json_t *o, *nodes = json_array();
    int r = xf_engine_status(c->ctx->engine, &st);

    if (r < 0) {
        xfd_fail_internal(c, "%s: %s", c->method, xf_strerror(r));
        return;
    }
    for (uint32_t n = 0; n < st.nr_nodes; n++) {
        const struct xf_node_mem *ni = &st.nodes[n];
        json_t *node;
        json_array_append_new(
            nodes, node = json_pack(
                       "{si so so so so so so so}", "node", (int)n, "memsize_mib",
                       xfd_json_u64(xf_mib_of_pages_free(ni->memsize_pages)), "memfree_mib",
                       xfd_json_u64(xf_mib_of_pages_free(ni->memfree_pages)), "claimed_mib",
                       xfd_json_u64(xf_mib_of_pages_used(ni->claimed_pages)), "dma_free_mib",
                       xfd_json_u64(xf_mib_of_pages_free(f->node_dma_pages[n])),
                       "free_for_new_vm_kib", xfd_json_u64(xf_kib_of_pages(f->node_free_pages[n])),
                       "pending_kib", xfd_json_u64(xf_kib_of_pages(f->node_pending_pages[n])),
                       "placed_kib", xfd_json_u64(xf_kib_of_pages(st.placed_pages[n]))));
        json_object_set_new(node, "cpus", node_cpus(c->ctx->engine, n));
        /* The node's cores and SLIT row, so that a pool planner (xenfit pool,
         * docs/pool.md) sees the host's topology in its snapshot. */
        node_topology(c->ctx->engine, n, st.nr_nodes, node);
        /* The exact figures beside the *_mib ones (kept for old clients). */
        set_kib(node, "memsize_kib", ni->memsize_pages);
        set_kib(node, "memfree_kib", ni->memfree_pages);
        set_kib(node, "claimed_kib", ni->claimed_pages);
        set_kib(node, "dma_free_kib", f->node_dma_pages[n]);
    }
    o = json_pack("{ss ss}", "backend", c->ctx->info.backend, "host", c->ctx->info.host_name);
    json_object_set_new(o, "total_mib", xfd_json_u64(xf_mib_of_pages_free(st.phys.total_pages)));
    /* As xl info: free_memory = (free_pages - outstanding claims) in MiB. */
    json_object_set_new(
        o, "free_mib",
        xfd_json_u64(xf_mib_of_pages_free(st.phys.free_pages > st.phys.outstanding_pages
                                              ? st.phys.free_pages - st.phys.outstanding_pages
                                              : 0)));
    json_object_set_new(o, "outstanding_claims_mib",
                        xfd_json_u64(xf_mib_of_pages_used(st.phys.outstanding_pages)));
    set_kib(o, "total_kib", st.phys.total_pages);
    set_kib(o, "free_kib",
            st.phys.free_pages > st.phys.outstanding_pages
                ? st.phys.free_pages - st.phys.outstanding_pages
                : 0);
    set_kib(o, "outstanding_claims_kib", st.phys.outstanding_pages);
    json_object_set_new(o, "low_mem_reserve_kib", xfd_json_u64(xf_kib_of_pages(f->reserve_pages)));
    json_object_set_new(o, "free_for_new_vm_kib",
                        xfd_json_u64(xf_kib_of_pages(f->host_free_pages)));
    json_object_set_new(o, "pending_kib", xfd_json_u64(xf_kib_of_pages(f->pending_pages)));
    json_object_set_new(o, "dom0_mib", xfd_json_u64(xf_mib_of_pages_used(st.dom0_pages)));
    set_kib(o, "dom0_kib", st.dom0_pages);
    json_object_set_new(o, "domains", json_integer(st.nr_domains));
    json_object_set_new(o, "dying_domains", json_integer(st.nr_dying));
    json_object_set_new(o, "nodes", nodes);
    json_object_set_new(o, "reservations",
                        json_pack("{sIsIsIso}", "pending", (json_int_t)st.nr_pending, "transferred",
                                  (json_int_t)st.nr_transferred, "settled",
                                  (json_int_t)st.nr_settled, "ledger_kib",
                                  xfd_json_u64(xf_kib_of_pages(st.ledger_pages))));
    xfd_ok(c, o);
}

static void observe_build(struct xfd_call *c)
{
    struct xf_admit_request req;
    struct xf_engine_observed ob;
    uint64_t taken_kib;
    int r;

    if (!xfd_native_vm_arg(c, 1, &req) || !xfd_arg_kib(c, 2, "taken_kib", &taken_kib))
        return;
    r = xf_engine_observe(c->ctx->engine, &req.vm, xf_pages_of_kib_used(taken_kib), &ob);
    if (r == XF_ERANGE) {
        uint64_t needed = 0, most = xf_calib_plausible_max_pages(req.vm.vcpus);
        /* Cannot fail here: the engine has just computed it for this VM. */
        (void)xf_calib_needed_pages(&req.vm, xf_pages_of_kib_used(taken_kib), &needed);
        invalid(c,
                "%s: taken_kib %" PRIu64 " leaves %" PRIu64 " MiB of hypervisor overhead for a %s "
                "VM of %" PRIu64 " MiB with %u vCPUs; at most %" PRIu64 " MiB is plausible "
                "(256 MiB + 16 MiB per vCPU): not recorded (was a size in bytes given as KiB?)",
                c->method, taken_kib, xf_mib_of_pages_used(needed),
                xf_domain_type_name(req.vm.type), req.vm.static_max_bytes >> 20, req.vm.vcpus,
                xf_mib_of_pages_used(most));
        return;
    }
    if (r < 0) {
        invalid(c, "%s: %s", c->method, xf_strerror(r));
        return;
    }
    xfd_event_observed(c, &req, xfd_native_vm_name(c, 1), taken_kib, &ob);
    if (ob.drift)
        c->ctx->stats.drift_alarms++;
    if (ob.drift)
        xfd_log(XFD_LOG_WARNING,
                "DRIFT: a %s domain with %u vCPUs took %" PRIu64
                " pages beyond the model's fixed terms, more than predicted; coefficients now "
                "%" PRIu64 " + %" PRIu64 " per vCPU",
                xf_domain_type_name(req.vm.type), req.vm.vcpus, ob.needed_pages,
                ob.coeffs.fixed_pages, ob.coeffs.per_vcpu_pages);
    xfd_ok(c, json_pack("{sosbs{soso}}", "needed_pages", xfd_json_u64(ob.needed_pages), "drift",
                        ob.drift, "coeffs", "fixed_pages", xfd_json_u64(ob.coeffs.fixed_pages),
                        "per_vcpu_pages", xfd_json_u64(ob.coeffs.per_vcpu_pages)));
}

/* The calibration learned from observed builds: per type and vCPU count the
 * largest need seen, and the coefficients admissions now use there. */
static void calibration(struct xfd_call *c)
{
    size_t n = xf_engine_calib_rows(c->ctx->engine, NULL, 0);
    struct xf_calib_observation *rows = n ? calloc(n, sizeof(*rows)) : NULL;
    json_t *arr = json_array();

    if ((n && !rows) || !arr) {
        free(rows);
        json_decref(arr);
        xfd_fail_internal(c, "%s: out of memory", c->method);
        return;
    }
    n = rows ? xf_engine_calib_rows(c->ctx->engine, rows, n) : 0;
    for (size_t i = 0; i < n; i++) {
        struct xf_overhead_coeffs k = xf_engine_coeffs(c->ctx->engine, rows[i].type, rows[i].vcpus);
        json_array_append_new(
            arr, json_pack("{sssIsosos{soso}}", "type", xf_domain_type_name(rows[i].type), "vcpus",
                           (json_int_t)rows[i].vcpus, "needed_pages",
                           xfd_json_u64(rows[i].needed_pages), "charged_pages",
                           xfd_json_u64(k.fixed_pages + k.per_vcpu_pages * rows[i].vcpus), "coeffs",
                           "fixed_pages", xfd_json_u64(k.fixed_pages), "per_vcpu_pages",
                           xfd_json_u64(k.per_vcpu_pages)));
    }
    free(rows);
    xfd_ok(c, json_pack("{so}", "rows", arr));
}

/* Forgets the calibration of one domain type, or of all ("all"). */
static void calibration_reset(struct xfd_call *c)
{
    enum xf_domain_type type = XF_DOMAIN_HVM;
    const char *name;
    bool all;
    size_t removed;
    int r;

    if (!xfd_arg_string(c, 1, "type", &name))
        return;
    all = strcmp(name, "all") == 0;
    if (!all && xf_domain_type_parse(name, &type) < 0) {
        invalid(c, "%s: type '%s': expected hvm, pvh, pv, pv_in_pvh or all", c->method, name);
        return;
    }
    if ((r = xf_engine_calib_reset(c->ctx->engine, type, all, &removed)) < 0) {
        xfd_fail_internal(c, "%s: %s", c->method, xf_strerror(r));
        return;
    }
    xfd_log(XFD_LOG_WARNING, "calibration of %s reset: %zu row%s forgotten", name, removed,
            removed == 1 ? "" : "s");
    xfd_ok(c, json_pack("{sI}", "removed", (json_int_t)removed));
}

static void sweep(struct xfd_call *c)
{
    struct xf_engine_swept sw;
    int r = xf_engine_sweep(c->ctx->engine, xfd_ctx_now_ns(c->ctx), &sw);
    if (r < 0) {
        xfd_fail_internal(c, "%s: %s", c->method, xf_strerror(r));
        return;
    }
    xfd_ok(c, json_pack("{sIsIsI}", "expired", (json_int_t)sw.expired, "died", (json_int_t)sw.died,
                        "settled", (json_int_t)sw.settled));
}

/* xenfit.transfer [dbg, session_id, reservation_id, domid]: squeezed's
 * transfer_reservation_to_domain for a domain that exists now. squeezed's
 * method accepts a domain the hypervisor has not created yet (daemon/
 * methods.c keeps that); an operator naming a domid by hand wants a typo
 * refused, not a reservation counted in full for a domain that never comes. */
static void transfer(struct xfd_call *c)
{
    struct xf_hv_domain_info info;
    const char *session, *text;
    uint64_t id;
    xf_domid_t domid;
    int r;

    if (!xfd_arg_string(c, 1, "session_id", &session) ||
        !xfd_arg_string(c, 2, "reservation_id", &text) || !xfd_arg_domid(c, 3, "domid", &domid))
        return;
    if (xf_engine_id_parse(c->ctx->engine, text, &id) < 0) {
        xfd_fail(c, "Unknown_reservation", json_string(text));
        return;
    }
    r = xf_hv_domain_info(xf_engine_hv(c->ctx->engine), domid, &info);
    if (r == XF_ESRCH || (r == 0 && info.dying)) {
        invalid(c, "%s: domain %" PRIu32 " does not exist%s: nothing to transfer to", c->method,
                domid, r == 0 ? " (it is dying)" : "");
        return;
    }
    if (r < 0) {
        xfd_fail_internal(c, "%s: domain %" PRIu32 ": %s", c->method, domid, xf_strerror(r));
        return;
    }
    r = xf_engine_transfer(c->ctx->engine, session, id, domid, xfd_ctx_now_ns(c->ctx));
    if (r == XF_EUNKNOWN_RESERVATION)
        xfd_fail(c, "Unknown_reservation", json_string(text));
    else if (r == XF_ENOTGUEST)
        invalid(c, "%s: domain %" PRIu32 " is not a guest (the control domain or a reserved id)",
                c->method, domid);
    else if (r < 0)
        xfd_fail_internal(c, "%s: %s", c->method, xf_strerror(r));
    else
        xfd_ok(c, xfd_native_resv_json(c->ctx, xf_engine_find(c->ctx->engine, id)));
}

const struct xfd_method xfd_native_methods[] = {
    {"xenfit.reserve_vm", 3, "dbg, session_id, vm", reserve_vm},
    {"xenfit.reserve_migration", 4, "dbg, session_id, vm, memory_total_source_kib",
     reserve_migration},
    {"xenfit.admit_vm", 2, "dbg, vm", admit_vm},
    {"xenfit.list_reservations", 1, "dbg", list_reservations},
    {"xenfit.host_status", 1, "dbg", host_status},
    {"xenfit.observe_build", 3, "dbg, vm, taken_kib", observe_build},
    {"xenfit.sweep", 1, "dbg", sweep},
    {"xenfit.calibration", 1, "dbg", calibration},
    {"xenfit.calibration_reset", 2, "dbg, type", calibration_reset},
    {"xenfit.sim_domain_create", 3, "dbg, kib, running", xfd_native_sim_create},
    {"xenfit.sim_domain_destroy", 2, "dbg, domid", xfd_native_sim_destroy},
    {"xenfit.sim_advance_time", 2, "dbg, ms", xfd_native_sim_advance_time},
    {"xenfit.transfer", 4, "dbg, session_id, reservation_id, domid", transfer},
};
const size_t xfd_nr_native_methods = sizeof(xfd_native_methods) / sizeof(xfd_native_methods[0]);
