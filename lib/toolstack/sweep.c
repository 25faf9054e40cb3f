/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The host engine's upkeep (include/xenfit/engine.h): the host status, the
 * record of observed builds for calibration, and the sweep that ends what is
 * over -- expired pending reservations, reservations of domains that died,
 * and settling those whose domain is built. The sweep reads every domain it
 * needs first and changes nothing if a read fails, so a backend error leaves
 * the ledger as it was.
 */
#include <string.h>

#include "engine-internal.h"
#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

int xf_engine_status(struct xf_engine *e, struct xf_engine_status *ret)
{
    struct xf_engine_status st;
    struct xf_host_snapshot s;
    int r;

    memset(&st, 0, sizeof(st));
    if ((r = xf_hv_physinfo(e->hv, &st.phys)) < 0 || (r = xf_host_snapshot_read(e->hv, &s)) < 0)
        return r;
    r = xf_host_free_for_new_vm(&s, e->ledger, &e->p.host, &st.free);
    if (r == 0) {
        st.nr_nodes = s.nr_nodes;
        memcpy(st.nodes, s.nodes, sizeof(st.nodes));
        st.nr_domains = (uint32_t)s.nr_domains;
        st.nr_dying = s.nr_dying;
        for (size_t i = 0; i < s.nr_domains; i++)
            if (s.domains[i].domid == 0)
                st.dom0_pages = s.domains[i].tot_pages;
    }
    xf_host_snapshot_done(&s);
    if (r < 0)
        return r;
    for (size_t i = 0; i < e->n; i++) {
        const struct xf__eng_rec *rec = &e->recs[i];
        switch (rec->r.state) {
        case XF_RESV_PENDING:
            st.nr_pending++;
            break;
        case XF_RESV_TRANSFERRED:
            st.nr_transferred++;
            break;
        case XF_RESV_SETTLED:
            st.nr_settled++;
            break;
        }
        if (!rec->in_ledger)
            continue;
        st.ledger_pages += rec->r.total_pages;
        for (uint64_t m = rec->r.node_mask; m; m &= m - 1) {
            unsigned n = (unsigned)__builtin_ctzll(m);
            st.placed_pages[n] += rec->r.node_pages[n];
        }
    }
    *ret = st;
    return 0;
}

int xf_engine_observe(struct xf_engine *e, const struct xf_vm_memory *vm, uint64_t taken_pages,
                      struct xf_engine_observed *ret)
{
    struct xf_calib_observation o;
    uint64_t needed;
    int r;

    if ((r = xf_calib_needed_pages(vm, taken_pages, &needed)) < 0)
        return r;
    if (needed > xf_calib_plausible_max_pages(vm->vcpus))
        return XF_ERANGE;
    o.type = vm->type;
    o.vcpus = vm->vcpus;
    o.needed_pages = needed;
    /* Journal first, so that a recorded observation is always persisted. */
    if ((r = xf__eng_touch_calib(e, &o)) < 0)
        return r;
    r = xf_calib_online_observe(e->calib, &o);
    if (r < 0) {
        e->ncdirty--;
        return r;
    }
    ret->needed_pages = needed;
    ret->drift = r == 1;
    ret->coeffs = xf_calib_online_coeffs(e->calib, vm->type, vm->vcpus);
    return 0;
}

/* What the sweep found for one reservation. */
enum verdict {
    KEEP,
    SEEN, /* keep, and its domain has now been seen */
    EXPIRED,
    DIED,
    SETTLE,
};

/* Whether a domain has taken its reservation: it was built and runs (xenopsd
 * unpauses a domain once its build is over, and the builder has cancelled its
 * claim), or it holds at least the reserved pages itself. */
static bool built(const struct xf_hv_domain_info *d, const struct xf_engine_resv *r)
{
    return (!d->paused && d->outstanding_pages == 0 && d->tot_pages > 0) ||
           d->tot_pages + d->paging_pool_pages >= r->total_pages;
}

static int judge(struct xf_engine *e, const struct xf_engine_resv *r, uint64_t now_ns,
                 enum verdict *ret)
{
    struct xf_hv_domain_info d;
    uint64_t ttl = e->p.ttl_ns;
    int err;

    if (r->state == XF_RESV_PENDING) {
        *ret = r->expires_ns && r->expires_ns <= now_ns ? EXPIRED : KEEP;
        return 0;
    }
    err = xf_hv_domain_info(e->hv, r->domid, &d);
    if (err == XF_ESRCH) {
        /* Gone: it died if it was ever there; a domain never seen gets one TTL
         * from the transfer to appear. */
        bool late =
            ttl && r->transferred_ns + ttl > r->transferred_ns && r->transferred_ns + ttl <= now_ns;
        *ret = r->domain_seen || late ? DIED : KEEP;
        return 0;
    }
    if (err < 0)
        return err;
    if (d.dying) {
        *ret = DIED;
        return 0;
    }
    if (r->state == XF_RESV_TRANSFERRED && built(&d, r))
        *ret = SETTLE;
    else
        *ret = r->domain_seen ? KEEP : SEEN;
    return 0;
}

int xf_engine_sweep(struct xf_engine *e, uint64_t now_ns, struct xf_engine_swept *ret)
{
    struct xf_engine_swept sw;
    enum verdict *v = NULL;
    uint64_t *ids = NULL;
    size_t n = e->n;
    int r = 0;

    /* Pending reservations only need a look once one may have expired:
     * with 100k of them and none due, a sweep reads nothing but the
     * reservations tied to domains (bench-daemon-scale). */
    bool expiry_due = e->next_expiry_ns && e->next_expiry_ns <= now_ns;
    uint64_t next_expiry = 0;
    size_t m = 0;

    memset(&sw, 0, sizeof(sw));
    if (!expiry_due)
        n = e->nnp; /* the pending part (the rest) is not due */
    m = n;
    if (m == 0)
        goto done;
    v = xf__calloc(m, sizeof(*v));
    ids = xf__calloc(m, sizeof(*ids));
    if (!v || !ids) {
        r = XF_ENOMEM;
        goto out;
    }
    /* Decide everything first: a backend error changes nothing. */
    for (size_t i = 0, k = 0; i < n; i++) {
        const struct xf_engine_resv *res = &e->recs[i].r;
        ids[k] = res->id;
        if ((r = judge(e, res, now_ns, &v[k])) < 0)
            goto out;
        if (res->state == XF_RESV_PENDING && v[k] == KEEP && res->expires_ns &&
            (!next_expiry || res->expires_ns < next_expiry))
            next_expiry = res->expires_ns;
        k++;
    }
    n = m;
    if ((r = xf__eng_journal_room(e, n)) < 0)
        goto out;
    /* Then act, by id: removals move records around. */
    for (size_t i = 0; i < n; i++) {
        struct xf__eng_rec *rec;
        if (v[i] == KEEP)
            continue; /* most of them: no lookup */
        rec = xf__eng_rec(e, ids[i]);
        switch (v[i]) {
        case KEEP:
            break;
        case SEEN:
            rec->r.domain_seen = true;
            xf__eng_touch(e, ids[i]);
            break;
        case EXPIRED:
            xf__eng_remove(e, rec);
            sw.expired++;
            break;
        case DIED:
            xf__eng_remove(e, rec);
            sw.died++;
            break;
        case SETTLE:
            rec->r.domain_seen = true;
            xf__eng_settle(e, rec);
            sw.settled++;
            break;
        }
    }
done:
    if (expiry_due)
        e->next_expiry_ns = next_expiry;
    if (ret)
        *ret = sw;
    r = 0;
out:
    xf__free(v);
    xf__free(ids);
    return r;
}
