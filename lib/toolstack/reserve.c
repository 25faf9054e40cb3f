/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The host engine's reservations (include/xenfit/engine.h): reserving an
 * amount or a range of KiB (squeezed's reserve_memory and
 * reserve_memory_range, ocaml/squeezed/src/memory_server.ml), reserving for
 * a VM or an incoming migration (xf_admit with the calibrated model and the
 * NUMA planner), transferring, deleting and the login rule. Each reserve
 * reads the host once and decides against the ledger in the same call, so
 * two reserves can never both be promised the same memory.
 */
#include <stdio.h>
#include <string.h>

#include "engine-internal.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

/* The host's memory free for a new VM now, with the ledger. */
int xf__eng_host_free(struct xf_engine *e, struct xf_host_free *ret)
{
    struct xf_host_snapshot s;
    int r = xf_host_snapshot_read(e->hv, &s);
    if (r < 0)
        return r;
    r = xf_host_free_for_new_vm(&s, e->ledger, &e->p.host, ret);
    xf_host_snapshot_done(&s);
    return r;
}

/* Records a granted reservation. */
static int grant(struct xf_engine *e, struct xf_engine_resv *r, const char *owner, uint64_t now_ns,
                 uint64_t *ret_id)
{
    int err = xf__eng_journal_room(e, 1);
    if (err < 0 || (err = xf__eng_pending_room(e, owner)) < 0)
        return err;
    r->id = e->next_id;
    snprintf(r->owner, sizeof(r->owner), "%s", owner);
    r->state = XF_RESV_PENDING;
    r->domid = XF_DOMID_NONE;
    r->created_ns = now_ns;
    r->expires_ns = e->p.ttl_ns ? now_ns + e->p.ttl_ns : 0;
    if (r->expires_ns < now_ns)
        r->expires_ns = UINT64_MAX; /* a TTL past the end of time */
    err = xf__eng_add(e, r);
    if (err < 0)
        return err;
    xf__eng_touch(e, r->id);
    *ret_id = r->id;
    return 0;
}

/*
 * Squeezes balloonable domains before a reserve of [min, max] KiB, as
 * squeezed's reserve_memory and reserve_memory_range do
 * (memory_server.ml, squeeze_xen.ml free_memory / free_memory_range). With
 * ballooning off or no balloonable domain, nothing happens and *ret_keep is
 * 0: the reserve sees free memory as it always has. A failed squeeze fills
 * the refusal in *o (o->squeeze not XF_SQ_ADJUST).
 */
static int squeeze_for(struct xf_engine *e, uint64_t min_kib, uint64_t max_kib,
                       struct xf_engine_outcome *o, uint64_t *ret_keep)
{
    struct xf_engine_squeeze_req req;
    struct xf_engine_squeeze sq;
    size_t n = 0;
    int err;

    *ret_keep = 0;
    if (!e->p.balloon)
        return 0;
    if ((err = xf_engine_balloonable(e, &n)) < 0)
        return err;
    if (!n)
        return 0;
    memset(&req, 0, sizeof(req));
    req.kind = XF_SQUEEZE_FREE;
    req.free_kib = min_kib;
    req.aim_kib = min_kib;
    if (min_kib < max_kib && (err = xf__eng_range_ideal(e, min_kib, max_kib, &req.aim_kib)) < 0)
        return err;
    if ((err = xf_engine_squeeze(e, &req, &sq)) < 0)
        return err;
    *ret_keep = e->p.squeeze_keep_kib;
    if (sq.result == XF_SQ_SUCCESS)
        return 0;
    o->granted = false;
    o->squeeze = sq.result;
    o->needed_kib = sq.needed_kib > 0 ? (uint64_t)sq.needed_kib : 0;
    o->available_kib = sq.free_kib > 0 ? (uint64_t)sq.free_kib : 0;
    o->node = -1;
    if (sq.result == XF_SQ_REFUSED)
        snprintf(o->reason, sizeof(o->reason),
                 "%zu balloon driver%s did not reach %s target after %llu iterations",
                 sq.nr_refused, sq.nr_refused == 1 ? "" : "s", sq.nr_refused == 1 ? "its" : "their",
                 (unsigned long long)sq.iterations);
    else
        snprintf(
            o->reason, sizeof(o->reason),
            "HOST_NOT_ENOUGH_FREE_MEMORY: needs %llu KiB, %lld KiB free with every balloonable "
            "domain at its minimum",
            (unsigned long long)o->needed_kib, (long long)sq.free_kib);
    return 0;
}

int xf_engine_reserve_kib(struct xf_engine *e, const char *owner, uint64_t min_kib,
                          uint64_t max_kib, uint64_t now_ns, struct xf_engine_outcome *ret)
{
    struct xf_engine_outcome o;
    struct xf_engine_resv r;
    struct xf_host_free f;
    uint64_t avail_kib, amount, keep_kib = 0;
    int err;

    if (!xf__eng_owner_ok(owner))
        return XF_EINVAL;
    /* Nothing to reserve is a mistake, not a reservation: 0 KiB would hold a
     * ledger entry (and a pending slot) for no memory. */
    if (min_kib > max_kib || max_kib == 0 || max_kib > XF_ENGINE_MAX_KIB)
        return XF_EBADSIZE;
    memset(&o, 0, sizeof(o));
    if ((err = squeeze_for(e, min_kib, max_kib, &o, &keep_kib)) < 0)
        return err;
    if (o.squeeze != XF_SQ_ADJUST) {
        *ret = o;
        return 0;
    }
    if ((err = xf__eng_host_free(e, &f)) < 0)
        return err;
    avail_kib = xf_kib_of_pages(f.host_free_pages);
    avail_kib = avail_kib > keep_kib ? avail_kib - keep_kib : 0;
    /* squeezed's free_memory_range: max min_kib (min usable_free max_kib),
     * refused when usable free is below min_kib (Squeeze.free_memory_range). */
    amount = avail_kib < max_kib ? avail_kib : max_kib;
    if (amount < min_kib) {
        o.granted = false;
        o.needed_kib = min_kib;
        o.available_kib = avail_kib;
        o.node = -1;
        snprintf(o.reason, sizeof(o.reason),
                 "HOST_NOT_ENOUGH_FREE_MEMORY: needs %llu KiB, the host has %llu KiB free for a "
                 "new VM",
                 (unsigned long long)min_kib, (unsigned long long)avail_kib);
        *ret = o;
        return 0;
    }
    memset(&r, 0, sizeof(r));
    r.kind = XF_RESV_AMOUNT;
    r.kib = amount;
    r.total_pages = xf_pages_of_kib_used(amount);
    if ((err = grant(e, &r, owner, now_ns, &o.id)) < 0)
        return err;
    o.granted = true;
    o.kib = amount;
    o.node = -1;
    *ret = o;
    return 0;
}

/* The admission of a VM against the host and the ledger now: the decision
 * xf_engine_reserve_vm records and xf_engine_admit_vm only reports. */
static int decide_vm(struct xf_engine *e, const struct xf_admit_request *req,
                     struct xf_engine_outcome *ret)
{
    struct xf_engine_outcome o;
    struct xf_host_free f;
    struct xf_admit_params ap;
    int err;

    if (!req)
        return XF_EINVAL;
    if ((err = xf_vm_memory_check(&req->vm)) < 0)
        return err;
    if ((err = xf__eng_host_free(e, &f)) < 0)
        return err;
    memset(&o, 0, sizeof(o));
    memset(&ap, 0, sizeof(ap));
    ap.policy = XF_POLICY_XENFIT;
    ap.coeffs = xf_calib_online_coeffs(e->calib, req->vm.type, req->vm.vcpus);
    ap.numa_policy = e->p.numa_policy;
    if ((err = xf_admit_on_topology(&ap, req, &f, e->topo, &e->counts, &o.adm)) < 0)
        return err;
    o.node = -1;
    if (!o.adm.admitted) {
        o.needed_kib = xf_kib_of_mib(o.adm.needed_mib);
        o.available_kib = xf_kib_of_mib(o.adm.available_mib);
        o.node = o.adm.node;
        snprintf(o.reason, sizeof(o.reason), "%s", o.adm.reason);
    }
    *ret = o;
    return 0;
}

/* What a granted VM reservation holds: its plan's pages per node, and in all
 * the footprint or the plan's sum, whichever is larger. */
static void vm_holding(const struct xf_admit_request *req, const struct xf_admission *adm,
                       struct xf_engine_resv *r)
{
    uint64_t node_sum = 0;

    memset(r, 0, sizeof(*r));
    r->kind = req->migration ? XF_RESV_MIGRATION : XF_RESV_VM;
    r->claim = adm->claim;
    if (adm->placed) {
        r->node_mask = adm->plan.node_mask;
        for (uint64_t m = r->node_mask; m; m &= m - 1) {
            unsigned n = (unsigned)__builtin_ctzll(m);
            r->node_pages[n] = xf_pages_of_mib(adm->plan.memory_mib_per_node[n]);
            node_sum += r->node_pages[n];
        }
    }
    /* The plan is in whole MiB of the footprint rounded up: it may exceed
     * the footprint's pages by less than a MiB per node. */
    r->total_pages = adm->footprint_pages > node_sum ? adm->footprint_pages : node_sum;
    r->kib = xf_kib_of_pages(r->total_pages);
}

int xf_engine_admit_vm(struct xf_engine *e, const struct xf_admit_request *req,
                       struct xf_engine_outcome *ret)
{
    struct xf_engine_outcome o;
    struct xf_engine_resv r;
    int err = decide_vm(e, req, &o);

    if (err < 0)
        return err;
    if (o.adm.admitted) {
        vm_holding(req, &o.adm, &r);
        o.granted = true;
        o.kib = r.kib;
    }
    *ret = o;
    return 0;
}

/*
 * A VM refused for memory while balloonable domains could give it: squeeze
 * them for what the admission said was needed, on the node it named (xenfit:
 * the node the VM would go to) or host-wide, then decide again. A failed
 * squeeze leaves the refusal with its verdict in o->squeeze.
 */
static int squeeze_for_vm(struct xf_engine *e, const struct xf_admit_request *req,
                          struct xf_engine_outcome *o)
{
    struct xf_engine_squeeze_req sr;
    struct xf_engine_squeeze sq;
    size_t n = 0;
    int err;

    if (o->adm.admitted || !e->p.balloon)
        return 0;
    if ((err = xf_engine_balloonable(e, &n)) < 0)
        return err;
    if (!n)
        return 0;
    memset(&sr, 0, sizeof(sr));
    sr.kind = XF_SQUEEZE_FREE;
    sr.free_kib = xf_kib_of_mib(o->adm.needed_mib);
    if (o->adm.node >= 0 && (uint32_t)o->adm.node < XF_MAX_NODES)
        sr.node_mask = UINT64_C(1) << o->adm.node;
    if (sr.free_kib > XF_ENGINE_MAX_KIB)
        return 0; /* no squeeze frees that much: the refusal stands */
    if ((err = xf_engine_squeeze(e, &sr, &sq)) < 0)
        return err;
    if (sq.result != XF_SQ_SUCCESS) {
        o->squeeze = sq.result;
        return 0;
    }
    return decide_vm(e, req, o);
}

int xf_engine_reserve_vm(struct xf_engine *e, const char *owner, const struct xf_admit_request *req,
                         uint64_t now_ns, struct xf_engine_outcome *ret)
{
    struct xf_engine_outcome o;
    struct xf_engine_resv r;
    int err;

    if (!xf__eng_owner_ok(owner))
        return XF_EINVAL;
    if ((err = decide_vm(e, req, &o)) < 0 || (err = squeeze_for_vm(e, req, &o)) < 0)
        return err;
    if (!o.adm.admitted) {
        *ret = o;
        return 0;
    }
    vm_holding(req, &o.adm, &r);
    if ((err = grant(e, &r, owner, now_ns, &o.id)) < 0)
        return err;
    o.granted = true;
    o.kib = r.kib;
    *ret = o;
    return 0;
}

/* A reservation of `owner` (squeezed addresses them by session and id). */
static struct xf__eng_rec *owned(struct xf_engine *e, const char *owner, uint64_t id)
{
    struct xf__eng_rec *rec = xf__eng_rec(e, id);
    if (!rec || !owner || strcmp(rec->r.owner, owner) != 0)
        return NULL;
    return rec;
}

int xf_engine_transfer(struct xf_engine *e, const char *owner, uint64_t id, xf_domid_t domid,
                       uint64_t now_ns)
{
    struct xf__eng_rec *rec = owned(e, owner, id);
    struct xf_hv_domain_info info;
    const struct xf_engine_resv *other;
    bool seen;
    int err;

    if (!rec)
        return XF_EUNKNOWN_RESERVATION;
    if (domid == XF_DOMID_NONE)
        return XF_EINVAL;
    /* squeezed would write the reservation under dom0's xenstore keys and
     * then count it as taken by a domain that exists (memory_server.ml
     * transfer_reservation_to_domain, squeezed_state.ml total_reservations):
     * the memory would be settled on the control domain, which never builds
     * from it. A reserved id names no domain at all. */
    if (domid == 0 || domid >= XF_DOMID_FIRST_RESERVED)
        return XF_ENOTGUEST;
    if ((err = xf__eng_journal_room(e, 2)) < 0 || (err = xf__eng_domain_room(e)) < 0)
        return err;
    seen = xf_hv_domain_info(e->hv, domid, &info) == 0 && !info.dying;
    other = xf_engine_find_domain(e, domid);
    if (other && other->id != id) {
        /* squeezed writes the domain's reservation-id key over: the newer
         * reservation names the domain, the older one is superseded. */
        xf__eng_remove(e, xf__eng_rec(e, other->id));
        rec = xf__eng_rec(e, id); /* removal moves records */
    }
    if (rec->in_ledger && (err = xf_ledger_transfer(e->ledger, id, domid)) < 0)
        return err;
    xf__eng_set_domain(e, rec, domid);
    if (rec->r.state == XF_RESV_PENDING)
        rec = xf__eng_mark_transferred(e, rec);
    rec->r.expires_ns = 0;
    rec->r.transferred_ns = now_ns;
    rec->r.domain_seen = seen;
    xf__eng_touch(e, id);
    return 0;
}

int xf_engine_delete(struct xf_engine *e, const char *owner, uint64_t id)
{
    struct xf__eng_rec *rec = owned(e, owner, id);
    int err;

    if (!rec)
        return XF_EUNKNOWN_RESERVATION;
    if ((err = xf__eng_journal_room(e, 1)) < 0)
        return err;
    xf__eng_remove(e, rec);
    return 0;
}

int xf_engine_login(struct xf_engine *e, const char *owner, size_t *ret_dropped)
{
    size_t dropped = 0, mine = 0;
    int err;

    if (!xf__eng_owner_ok(owner))
        return XF_EINVAL;
    for (size_t i = 0; i < e->n; i++)
        mine += e->recs[i].r.state == XF_RESV_PENDING && strcmp(e->recs[i].r.owner, owner) == 0;
    if ((err = xf__eng_journal_room(e, mine)) < 0)
        return err;
    for (size_t i = 0; i < e->n;) {
        struct xf__eng_rec *rec = &e->recs[i];
        if (rec->r.state == XF_RESV_PENDING && strcmp(rec->r.owner, owner) == 0) {
            xf__eng_remove(e, rec); /* moves the last record to i */
            dropped++;
        } else {
            i++;
        }
    }
    *ret_dropped = dropped;
    return 0;
}
