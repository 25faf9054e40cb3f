/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Build records (daemon/events.h) and the methods that make and read them:
 * xenfit.report_build (a toolstack says how a build went: built, with the
 * memory it took, which also calibrates the model; or failed, with the
 * errno), xenfit.events (every record), xenfit.explain (the records and the
 * reservation of one reservation id, domain or VM name: "why did my VM not
 * start?"). Refused VM reservations and observed builds are recorded by
 * their own methods through xfd_event_refused and xfd_event_observed.
 * Each record carries what was known then: the reservation's plan (nodes,
 * MiB per node) and claim, the numbers of a refusal, the errno of a
 * failure, the memory a build took and the overhead beyond the model.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "native.h"
#include "xenfit/units.h"

/* A new record: its time (wall clock, for people) and kind. */
static json_t *record(const char *kind, const char *outcome, const char *session)
{
    return json_pack("{sI ss ss ss?}", "time", (json_int_t)time(NULL), "kind", kind, "outcome",
                     outcome, "session", session);
}

static void add(struct xfd_call *c, json_t *rec)
{
    if (xfd_events_add(&c->ctx->events, rec) < 0)
        xfd_log(XFD_LOG_WARNING, "%s: out of memory: a build record is lost", c->method);
}

static json_t *vm_json(const struct xf_admit_request *req, const char *name)
{
    json_t *o = json_pack("{sssIsIsIsI}", "type", xf_domain_type_name(req->vm.type),
                          "static_max_mib", (json_int_t)(req->vm.static_max_bytes >> 20),
                          "target_mib", (json_int_t)(req->vm.target_bytes >> 20), "vcpus",
                          (json_int_t)req->vm.vcpus, "video_mib", (json_int_t)req->vm.video_mib);
    if (o && name && name[0])
        json_object_set_new(o, "name", json_string(name));
    return o;
}

void xfd_event_refused(struct xfd_call *c, const char *session, const struct xf_admit_request *req,
                       const char *name, const struct xf_engine_outcome *o)
{
    json_t *rec = record("reserve", "refused", session);

    if (!rec)
        return;
    json_object_set_new(rec, "vm", vm_json(req, name));
    if (name && name[0])
        json_object_set_new(rec, "name", json_string(name));
    json_object_set_new(rec, "needed_kib", xfd_json_u64(o->needed_kib));
    json_object_set_new(rec, "available_kib", xfd_json_u64(o->available_kib));
    json_object_set_new(rec, "node", json_integer(o->node));
    json_object_set_new(rec, "reason", json_string(o->reason));
    add(c, rec);
}

void xfd_event_observed(struct xfd_call *c, const struct xf_admit_request *req, const char *name,
                        uint64_t taken_kib, const struct xf_engine_observed *ob)
{
    json_t *rec = record("observe", "observed", NULL);

    if (!rec)
        return;
    json_object_set_new(rec, "vm", vm_json(req, name));
    if (name && name[0])
        json_object_set_new(rec, "name", json_string(name));
    json_object_set_new(rec, "taken_kib", xfd_json_u64(taken_kib));
    json_object_set_new(rec, "overhead_pages", xfd_json_u64(ob->needed_pages));
    json_object_set_new(rec, "drift", json_boolean(ob->drift));
    add(c, rec);
}

/* The reservation's plan and claim, as list_reservations shows them. */
static void add_reservation(struct xfd_call *c, json_t *rec, const struct xf_engine_resv *r)
{
    json_t *o = xfd_native_resv_json(c->ctx, r);
    static const char *const keys[] = {"kind", "kib", "nodes", "node_mib", "claim", "state"};

    for (size_t i = 0; o && i < sizeof(keys) / sizeof(keys[0]); i++)
        json_object_set(rec,
                        i == 0   ? "reservation_kind"
                        : i == 5 ? "reservation_state"
                                 : keys[i],
                        json_object_get(o, keys[i]));
    json_decref(o);
}

/* xenfit.report_build [dbg, session_id, report]: report is
 * {outcome: "built"|"failed", reservation_id?, domid?, name?, errno?,
 *  taken_kib? (built), vm? (with taken_kib: also observed), message?}. */
static void report_build(struct xfd_call *c)
{
    static const char *const keys[] = {"outcome", "reservation_id", "domid", "name",
                                       "errno",   "taken_kib",      "vm",    "message"};
    json_t *rep = json_array_get(c->params, 2), *v, *rec;
    const char *session, *outcome, *key, *name;
    struct xf_admit_request req;
    bool built;

    if (!xfd_arg_string(c, 1, "session_id", &session))
        return;
    if (!json_is_object(rep)) {
        xfd_fail(c, "Invalid_argument",
                 json_string("xenfit.report_build: parameter 3 (report) "
                             "must be an object"));
        return;
    }
    json_object_foreach(rep, key, v)
    {
        size_t k = 0;
        while (k < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[k], key) != 0)
            k++;
        if (k == sizeof(keys) / sizeof(keys[0])) {
            char msg[200];
            snprintf(msg, sizeof(msg), "xenfit.report_build: report has an unknown member '%s'",
                     key);
            xfd_fail(c, "Invalid_argument", json_string(msg));
            return;
        }
    }
    outcome = json_string_value(json_object_get(rep, "outcome"));
    if (!outcome || (strcmp(outcome, "built") != 0 && strcmp(outcome, "failed") != 0)) {
        xfd_fail(c, "Invalid_argument",
                 json_string("xenfit.report_build: report.outcome must be \"built\" or "
                             "\"failed\""));
        return;
    }
    built = strcmp(outcome, "built") == 0;
    v = json_object_get(rep, "domid");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0 ||
              json_integer_value(v) >= XF_DOMID_FIRST_RESERVED)) {
        xfd_fail(c, "Invalid_argument",
                 json_string("xenfit.report_build: report.domid must be a domain id"));
        return;
    }
    v = json_object_get(rep, "taken_kib");
    if (v && (!json_is_integer(v) || json_integer_value(v) <= 0 || !built ||
              !json_object_get(rep, "vm"))) {
        xfd_fail(c, "Invalid_argument",
                 json_string("xenfit.report_build: report.taken_kib is a positive integer, for "
                             "a built domain, with its vm"));
        return;
    }
    rec = record("build", outcome, session);
    json_object_foreach(rep, key, v) if (strcmp(key, "vm") != 0 && strcmp(key, "outcome") != 0)
        json_object_set(rec, key, v);
    if (json_is_string(json_object_get(rep, "reservation_id"))) {
        uint64_t id;
        const struct xf_engine_resv *r = NULL;
        if (xf_engine_id_parse(c->ctx->engine,
                               json_string_value(json_object_get(rep, "reservation_id")), &id) == 0)
            r = xf_engine_find(c->ctx->engine, id);
        if (r)
            add_reservation(c, rec, r);
        if (r && !built)
            c->ctx->stats.false_admits++; /* admitted, then the build failed */
    }
    if (json_object_get(rep, "vm")) {
        struct xfd_call sub = *c;
        json_t *params = json_pack("[sO]", "", json_object_get(rep, "vm"));
        sub.params = params;
        sub.error = NULL;
        if (!xfd_native_vm_arg(&sub, 1, &req)) {
            c->error = sub.error;
            json_decref(params);
            json_decref(rec);
            return;
        }
        name = xfd_native_vm_name(&sub, 1);
        json_object_set_new(rec, "vm", vm_json(&req, name));
        if (name[0] && !json_object_get(rec, "name"))
            json_object_set_new(rec, "name", json_string(name));
        json_decref(params);
    }
    if ((v = json_object_get(rep, "taken_kib"))) {
        struct xf_engine_observed ob;
        uint64_t taken = (uint64_t)json_integer_value(v);
        int r = xf_engine_observe(c->ctx->engine, &req.vm, xf_pages_of_kib_used(taken), &ob);
        if (r == 0) {
            json_object_set_new(rec, "overhead_pages", xfd_json_u64(ob.needed_pages));
            json_object_set_new(rec, "drift", json_boolean(ob.drift));
            if (ob.drift)
                c->ctx->stats.drift_alarms++;
        } else {
            json_object_set_new(rec, "observe_error", json_string(xf_strerror(r)));
        }
    }
    xfd_log(built ? XFD_LOG_INFO : XFD_LOG_WARNING, "build %s reported by '%s'%s%s", outcome,
            session, json_is_string(json_object_get(rec, "message")) ? ": " : "",
            json_is_string(json_object_get(rec, "message"))
                ? json_string_value(json_object_get(rec, "message"))
                : "");
    json_incref(rec);
    add(c, rec);
    xfd_ok(c, rec);
}

static void events(struct xfd_call *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->ctx->events.n; i++)
        json_array_append(a, c->ctx->events.recs[i]);
    xfd_ok(c, a);
}

/* Whether a record is about `what`: a reservation id, a domid, a name. */
static bool about(const json_t *rec, const char *id, int64_t domid, const char *name)
{
    const json_t *v;
    if (id && (v = json_object_get(rec, "reservation_id")) &&
        strcmp(json_string_value(v) ? json_string_value(v) : "", id) == 0)
        return true;
    if (domid >= 0 && (v = json_object_get(rec, "domid")) && json_integer_value(v) == domid)
        return true;
    return name && (v = json_object_get(rec, "name")) &&
           strcmp(json_string_value(v) ? json_string_value(v) : "", name) == 0;
}

/* xenfit.explain [dbg, what]: what is a reservation id, a domid (integer or
 * decimal string) or a VM name. -> {what, reservation (or null), events,
 * summary}: the summary is the last record's outcome and why. */
static void explain(struct xfd_call *c)
{
    json_t *w = json_array_get(c->params, 1), *evs = json_array(), *last = NULL, *res;
    const struct xf_engine_resv *r = NULL;
    const char *text = json_string_value(w), *id = NULL, *name = NULL;
    int64_t domid = -1;
    uint64_t rid;
    char summary[600];

    if (json_is_integer(w))
        domid = json_integer_value(w);
    else if (!text) {
        json_decref(evs);
        xfd_fail(c, "Invalid_argument",
                 json_string("xenfit.explain: parameter 2 (what) must be a reservation id, a "
                             "domid or a VM name"));
        return;
    } else if (xf_engine_id_parse(c->ctx->engine, text, &rid) == 0) {
        id = text;
        r = xf_engine_find(c->ctx->engine, rid);
    } else if (xf_parse_u64(text, &rid) == 0 && rid < XF_DOMID_FIRST_RESERVED) {
        domid = (int64_t)rid;
    } else {
        name = text;
    }
    if (domid >= 0)
        r = xf_engine_find_domain(c->ctx->engine, (xf_domid_t)domid);
    for (size_t i = 0; i < c->ctx->events.n; i++)
        if (about(c->ctx->events.recs[i], id, domid, name)) {
            json_array_append(evs, c->ctx->events.recs[i]);
            last = c->ctx->events.recs[i];
        }
    if (last) {
        const char *outcome = json_string_value(json_object_get(last, "outcome"));
        const char *why = json_string_value(json_object_get(last, "reason"));
        if (!why)
            why = json_string_value(json_object_get(last, "message"));
        if (json_integer_value(json_object_get(last, "errno")))
            snprintf(summary, sizeof(summary), "%s (errno %lld, %s)%s%s", outcome,
                     (long long)json_integer_value(json_object_get(last, "errno")),
                     strerror((int)json_integer_value(json_object_get(last, "errno"))),
                     why ? ": " : "", why ? why : "");
        else
            snprintf(summary, sizeof(summary), "%s%s%s", outcome, why ? ": " : "", why ? why : "");
    } else if (r) {
        snprintf(summary, sizeof(summary), "reservation %s, no build reported yet",
                 xf_resv_state_name(r->state));
    } else {
        snprintf(summary, sizeof(summary), "xenfitd has no record of %s",
                 text ? text : "that domain");
    }
    res = json_pack("{sOsoss}", "what", w, "events", evs, "summary", summary);
    json_object_set_new(res, "reservation", r ? xfd_native_resv_json(c->ctx, r) : json_null());
    xfd_ok(c, res);
}

const struct xfd_method xfd_build_methods[] = {
    {"xenfit.report_build", 3, "dbg, session_id, report", report_build},
    {"xenfit.events", 1, "dbg", events},
    {"xenfit.explain", 2, "dbg, what", explain},
};
const size_t xfd_nr_build_methods = sizeof(xfd_build_methods) / sizeof(xfd_build_methods[0]);
