/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The host engine's ballooning (include/xenfit/engine.h, "Ballooning"):
 * squeezed's loop around the squeeze (xen-api e2ee48d6883e,
 * ocaml/squeezed/lib/squeeze.ml change_host_free_memory and balance_memory)
 * and its view of a Xen host (ocaml/squeezed/src/squeeze_xen.ml make_host,
 * execute_action, set_maxmem_noexn), over the xf_hv_* operations.
 *
 * The host as squeezed sees it: every domain but domain 0 (squeezed's
 * manage_domain_zero defaults to false) that advertises a balloon driver,
 * with memory_actual = tot_pages less its memory-offset (calibrated, as
 * squeezed does, the first time it is seen with a driver and no offset),
 * memory_max = maxmem less Xen's offset for its type (xapi-idl memory.ml
 * extra_internal_mib: 1 MiB for HVM, PVH and PV-in-PVH, 0 for PV), and
 * inaccuracy 4 KiB. A domain still being built has no driver yet: squeezed
 * counts its initial-reservation in place of its memory; the ledger does that
 * here (a transferred reservation counts what its domain has not taken). Free
 * memory is xenfit's free for a new VM (host.h: net of the low-memory
 * reserve, claims and reservations), and squeezed's extra 8 MiB is
 * squeeze_keep_kib on top.
 */
#include <stdlib.h>
#include <string.h>

#include "engine-internal.h"
#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

/* One balloonable domain and what the backend said of it. */
struct bdom {
    struct xf_sq_domain d;
    enum xf_domain_type type;
    int64_t offset_kib;
    uint64_t max_pages;
    bool uncooperative; /* memory/uncooperative as read */
};

struct bhost {
    struct bdom *doms;
    size_t n, cap;
    struct xf_sq_domain *sq; /* the squeeze's view, same order */
    struct xf_sq_host h;
};

static void bhost_done(struct bhost *b)
{
    xf__free(b->doms);
    xf__free(b->sq);
    memset(b, 0, sizeof(*b));
}

/* xapi-idl memory.ml xen_max_offset_mib (extra_internal_mib), in KiB. */
static int64_t xen_max_offset_kib(enum xf_domain_type type)
{
    return type == XF_DOMAIN_PV ? 0 : 1024;
}

static int64_t kib_of(uint64_t pages)
{
    return (int64_t)xf_kib_of_pages(pages);
}

/* squeeze_xen.ml set_maxmem_noexn: maxmem = Xen's offset + target + the
 * domain's memory-offset, in pages rounded up. */
static int set_maxmem(struct xf_engine *e, const struct bdom *b, int64_t target_kib)
{
    int64_t kib = xen_max_offset_kib(b->type) + target_kib + b->offset_kib;
    return xf_hv_set_max_pages(e->hv, b->d.domid,
                               xf_pages_of_kib_used(kib > 0 ? (uint64_t)kib : 0));
}

/* squeeze_xen.ml execute_action: a raise of maxmem before the target, a
 * lowering after it, so that the target never sits above maxmem. A domain
 * that has gone since the look is no error (squeezed: "_noexn"). */
static int execute(struct xf_engine *e, struct bdom *b, int64_t target_kib)
{
    int r;

    if (target_kib < 0)
        return XF_EINVAL;
    if (target_kib > b->d.memory_max_kib) {
        r = set_maxmem(e, b, target_kib);
        if (r == 0)
            r = xf_hv_set_balloon_target(e->hv, b->d.domid, (uint64_t)target_kib);
    } else {
        r = xf_hv_set_balloon_target(e->hv, b->d.domid, (uint64_t)target_kib);
        if (r == 0)
            r = set_maxmem(e, b, target_kib);
    }
    if (r == 0) {
        b->d.target_kib = target_kib;
        b->d.memory_max_kib = target_kib;
    }
    return r == XF_ESRCH || r == XF_EINVAL ? 0 : r;
}

/* Reads one domain; *ret_keep false when it is not balloonable. */
static int read_domain(struct xf_engine *e, xf_domid_t domid, struct bdom *ret, bool *ret_keep)
{
    struct xf_hv_domain_info di;
    struct xf_hv_balloon bl;
    const struct xf_engine_resv *resv;
    bool node_pages = (xf_hv_caps(e->hv) & XF_HV_CAP_DOMAIN_NODE_PAGES) != 0;
    int r;

    *ret_keep = false;
    r = xf_hv_domain_info(e->hv, domid, &di);
    if (r == XF_ESRCH)
        return 0; /* gone meanwhile */
    if (r < 0)
        return r;
    if (di.dying)
        return 0;
    r = xf_hv_balloon_info(e->hv, domid, &bl);
    if (r == XF_ESRCH || r == XF_ENOENT || r == XF_ENOSYS)
        return 0;
    if (r < 0)
        return r;
    if (!bl.feature_balloon)
        return 0;
    memset(ret, 0, sizeof(*ret));
    ret->uncooperative = bl.uncooperative;
    ret->type = di.type;
    ret->max_pages = di.max_pages;
    if (bl.has_memory_offset) {
        ret->offset_kib = bl.memory_offset_kib;
    } else {
        /* squeeze_xen.ml make_host: once the driver is up, the offset
         * between memory_actual and the target is taken as constant. */
        ret->offset_kib = kib_of(di.tot_pages) - (int64_t)bl.target_kib;
        if ((r = xf_hv_set_memory_offset(e->hv, domid, ret->offset_kib)) < 0 && r != XF_ESRCH)
            return r;
    }
    ret->d.domid = domid;
    ret->d.can_balloon = true;
    ret->d.target_kib = (int64_t)bl.target_kib;
    /* min and max are written separately: both the target while missing. */
    ret->d.dynamic_min_kib = bl.has_dynamic_range ? (int64_t)bl.dynamic_min_kib : ret->d.target_kib;
    ret->d.dynamic_max_kib = bl.has_dynamic_range ? (int64_t)bl.dynamic_max_kib : ret->d.target_kib;
    if (ret->d.dynamic_min_kib > ret->d.dynamic_max_kib)
        return 0; /* keys half-written: not squeezable this time */
    ret->d.memory_actual_kib = kib_of(di.tot_pages) - ret->offset_kib;
    if (ret->d.memory_actual_kib < 0)
        ret->d.memory_actual_kib = 0;
    ret->d.memory_max_kib = kib_of(di.max_pages) - xen_max_offset_kib(di.type);
    if (ret->d.memory_max_kib < 0)
        ret->d.memory_max_kib = 0;
    ret->d.inaccuracy_kib = XF_SQUEEZE_INACCURACY_KIB;
    /* xenfit: never below what its own reservation promised. */
    resv = xf_engine_find_domain(e, domid);
    if (resv)
        ret->d.floor_kib = (int64_t)resv->kib;
    if (node_pages)
        for (unsigned n = 0; n < XF_MAX_NODES; n++)
            ret->d.node_kib[n] = kib_of(di.pages_per_node[n]);
    *ret_keep = true;
    return 0;
}

/*
 * squeeze_xen.ml update_cooperative_table and update_cooperative_flags, run
 * at every look as squeezed runs them in make_host: a domain is cooperative
 * when first seen and whenever it is at its target; memory/uncooperative is
 * written for one that has not been for more than 20 s and removed when it
 * is again. The flag is for monitoring: the squeeze itself uses its own 5 s
 * rule. Domains gone are forgotten.
 */
static int update_cooperative(struct xf_engine *e, struct bhost *b)
{
    uint64_t now = xf_hv_now_ns(e->hv);
    struct xf__eng_coop *next = xf__calloc(b->n ? b->n : 1, sizeof(*next));
    int r;

    if (!next)
        return XF_ENOMEM;
    for (size_t i = 0; i < b->n; i++) {
        const struct xf_sq_domain *d = &b->doms[i].d;
        next[i].domid = d->domid;
        next[i].last_ns = now;
        for (size_t k = 0; k < e->ncoop; k++)
            if (e->coop[k].domid == d->domid)
                next[i].last_ns = e->coop[k].last_ns;
        if (xf_sq_has_hit_target(d->inaccuracy_kib, d->memory_actual_kib, d->target_kib))
            next[i].last_ns = now;
    }
    xf__free(e->coop);
    e->coop = next;
    e->ncoop = b->n;
    for (size_t i = 0; i < b->n; i++) {
        bool flag = now - next[i].last_ns > XF_SQUEEZE_UNCOOPERATIVE_NS;
        if (flag == b->doms[i].uncooperative)
            continue;
        r = xf_hv_set_uncooperative(e->hv, next[i].domid, flag);
        if (r < 0 && r != XF_ESRCH && r != XF_ENOSYS)
            return r;
        b->doms[i].uncooperative = flag;
    }
    return 0;
}

/* squeeze_xen.ml make_host. `keep_kib` is taken off free memory so that the
 * squeeze aims at it on top of xenfit's own reserve. */
static int read_host(struct xf_engine *e, struct bhost *b)
{
    xf_domid_t *ids = NULL;
    uint32_t n = 0, got;
    struct xf_host_free f;
    int r;

    b->n = 0;
    if ((r = xf_hv_domain_list(e->hv, 0, NULL, &n)) < 0)
        return r;
    ids = xf__calloc(n ? n : 1, sizeof(*ids));
    if (!ids)
        return XF_ENOMEM;
    if ((r = xf_hv_domain_list(e->hv, n, ids, &got)) < 0)
        goto out;
    if (got < n)
        n = got;
    for (uint32_t i = 0; i < n; i++) {
        struct bdom d;
        bool keep;
        if (ids[i] == 0 || ids[i] >= XF_DOMID_FIRST_RESERVED)
            continue;
        if ((r = read_domain(e, ids[i], &d, &keep)) < 0)
            goto out;
        if (!keep)
            continue;
        if (b->n == b->cap) {
            struct bdom *nd = xf__grow(b->doms, b->n, &b->cap, 8, sizeof(*nd));
            struct xf_sq_domain *ns;
            if (!nd) {
                r = XF_ENOMEM;
                goto out;
            }
            b->doms = nd;
            ns = xf__reallocarray(b->sq, b->cap, sizeof(*ns));
            if (!ns) {
                r = XF_ENOMEM;
                goto out;
            }
            b->sq = ns;
        }
        b->doms[b->n++] = d;
    }
    /* It is always safe to lower a domain's maxmem towards its target
     * (squeeze_xen.ml make_host, CA-36316). */
    for (size_t i = 0; i < b->n; i++) {
        struct bdom *d = &b->doms[i];
        if (d->d.target_kib < d->d.memory_max_kib) {
            if ((r = set_maxmem(e, d, d->d.target_kib)) < 0 && r != XF_ESRCH)
                goto out;
            d->d.memory_max_kib = d->d.target_kib;
        }
        b->sq[i] = d->d;
    }
    if ((r = update_cooperative(e, b)) < 0 || (r = xf__eng_host_free(e, &f)) < 0)
        goto out;
    memset(&b->h, 0, sizeof(b->h));
    b->h.domains = b->sq;
    b->h.nr_domains = b->n;
    b->h.free_kib = kib_of(f.host_free_pages);
    for (unsigned k = 0; k < XF_MAX_NODES; k++)
        b->h.node_free_kib[k] = kib_of(f.node_free_pages[k]);
    r = 0;
out:
    xf__free(ids);
    return r;
}

/* Where each domain started, to report what it gave. */
struct start {
    xf_domid_t domid;
    int64_t actual_kib;
    int64_t node_kib[XF_MAX_NODES];
};

static void report(const struct start *s, size_t ns, const struct bhost *b,
                   struct xf_engine_squeeze *out)
{
    out->nr_gave = 0;
    for (size_t i = 0; i < ns && out->nr_gave < XF_ENGINE_SQUEEZE_REPORT_MAX; i++) {
        struct xf_engine_gave *g = &out->gave[out->nr_gave];
        const struct bdom *now = NULL;
        for (size_t k = 0; k < b->n; k++)
            if (b->doms[k].d.domid == s[i].domid)
                now = &b->doms[k];
        if (!now || now->d.memory_actual_kib == s[i].actual_kib)
            continue;
        memset(g, 0, sizeof(*g));
        g->domid = s[i].domid;
        g->kib = s[i].actual_kib - now->d.memory_actual_kib;
        g->target_kib = now->d.target_kib;
        for (unsigned n = 0; n < XF_MAX_NODES; n++)
            g->node_kib[n] = s[i].node_kib[n] - now->d.node_kib[n];
        out->nr_gave++;
    }
}

int xf_engine_balloonable(struct xf_engine *e, size_t *ret)
{
    struct bhost b;
    int r;

    memset(&b, 0, sizeof(b));
    r = read_host(e, &b);
    if (r == 0)
        *ret = b.n;
    bhost_done(&b);
    return r;
}

static void goal_of(const struct xf_engine *e, const struct xf_engine_squeeze_req *req,
                    struct xf_sq_goal *g)
{
    int64_t keep = (int64_t)e->p.squeeze_keep_kib;

    memset(g, 0, sizeof(*g));
    g->node_mask = req->node_mask;
    if (req->kind == XF_SQUEEZE_BALANCE) {
        /* squeeze.ml balance_memory: aim at the host target, balanced when
         * within the tolerance above it. */
        g->target_kib = keep;
        g->success = XF_SQ_BALANCED;
        g->tolerance_kib = XF_SQUEEZE_TOLERANCE_KIB;
    } else {
        g->target_kib =
            (int64_t)(req->aim_kib > req->free_kib ? req->aim_kib : req->free_kib) + keep;
        g->success = XF_SQ_AT_LEAST;
        g->at_least_kib = (int64_t)req->free_kib + keep;
    }
}

int xf_engine_squeeze(struct xf_engine *e, const struct xf_engine_squeeze_req *req,
                      struct xf_engine_squeeze *ret)
{
    struct xf_engine_squeeze out;
    struct xf_squeezer *sq = NULL;
    struct xf_sq_dom_step *steps = NULL;
    struct start *starts = NULL;
    size_t nstarts = 0;
    struct bhost b;
    struct xf_sq_goal g;
    int r;

    if (!e || !req || !ret || (req->kind != XF_SQUEEZE_FREE && req->kind != XF_SQUEEZE_BALANCE) ||
        req->free_kib > XF_ENGINE_MAX_KIB || req->aim_kib > XF_ENGINE_MAX_KIB)
        return XF_EINVAL;
    goal_of(e, req, &g);
    memset(&out, 0, sizeof(out));
    memset(&b, 0, sizeof(b));
    out.node_mask = req->node_mask;
    out.started_ns = xf_hv_now_ns(e->hv);
    if ((r = xf_squeezer_new(0, &sq)) < 0)
        return r;
    if ((r = read_host(e, &b)) < 0)
        goto out;
    /* The shortcut of change_host_free_memory. */
    if (xf_sq_already_done(&b.h, &g)) {
        out.result = XF_SQ_SUCCESS;
        goto done;
    }
    out.ran = true;
    starts = xf__calloc(b.n ? b.n : 1, sizeof(*starts));
    if (!starts) {
        r = XF_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < b.n; i++) {
        starts[i].domid = b.doms[i].d.domid;
        starts[i].actual_kib = b.doms[i].d.memory_actual_kib;
        memcpy(starts[i].node_kib, b.doms[i].d.node_kib, sizeof(starts[i].node_kib));
    }
    nstarts = b.n;
    for (;;) {
        struct xf_sq_step st;
        uint64_t now = xf_hv_now_ns(e->hv);

        if (out.iterations && (r = read_host(e, &b)) < 0)
            goto out;
        xf__free(steps);
        steps = xf__calloc(b.n ? b.n : 1, sizeof(*steps));
        if (!steps) {
            r = XF_ENOMEM;
            goto out;
        }
        if ((r = xf_squeezer_step(sq, &b.h, &g, now, steps, &st)) < 0)
            goto out;
        out.iterations++;
        /* squeeze.ml: every domain's maxmem (io.domain_setmaxmem, which is
         * squeeze_xen.ml's execute_action: the target too). */
        for (size_t i = 0; i < b.n; i++)
            if (steps[i].set_maxmem && (r = execute(e, &b.doms[i], steps[i].maxmem_kib)) < 0)
                goto out;
        if (st.result == XF_SQ_SUCCESS)
            break;
        if (st.result == XF_SQ_CANNOT_FREE || st.result == XF_SQ_REFUSED) {
            out.result = st.result;
            /* memory_server.ml wrap: both numbers less the host target. */
            out.needed_kib =
                req->kind == XF_SQUEEZE_FREE ? g.target_kib - (int64_t)e->p.squeeze_keep_kib : 0;
            out.free_kib = (g.node_mask ? 0 : b.h.free_kib) - (int64_t)e->p.squeeze_keep_kib;
            if (g.node_mask)
                for (unsigned n = 0; n < XF_MAX_NODES; n++)
                    if ((g.node_mask >> n) & 1u)
                        out.free_kib += b.h.node_free_kib[n];
            for (size_t i = 0; i < b.n; i++)
                if (steps[i].stuck && out.nr_refused < XF_ENGINE_SQUEEZE_REPORT_MAX)
                    out.refused[out.nr_refused++] = b.doms[i].d.domid;
            goto done;
        }
        for (size_t i = 0; i < b.n; i++)
            if (steps[i].set_target && (r = execute(e, &b.doms[i], steps[i].new_target_kib)) < 0)
                goto out;
        if (e->p.squeeze_max_ns && xf_hv_now_ns(e->hv) - out.started_ns >= e->p.squeeze_max_ns) {
            r = XF_ETIMEDOUT;
            goto out;
        }
        if ((r = xf_hv_sleep_ns(e->hv, e->p.squeeze_wait_ns)) < 0)
            goto out;
    }
    out.result = XF_SQ_SUCCESS;
done:
    /* What each domain gave, from a last look. */
    if (out.ran && (r = read_host(e, &b)) < 0)
        goto out;
    report(starts, nstarts, &b, &out);
    out.elapsed_ns = xf_hv_now_ns(e->hv) - out.started_ns;
    if (out.ran) {
        e->last_squeeze = out;
        e->has_last_squeeze = true;
    }
    *ret = out;
    r = 0;
out:
    xf__free(steps);
    xf__free(starts);
    bhost_done(&b);
    xf_squeezer_free(sq);
    return r;
}

int xf_engine_unbalanced(struct xf_engine *e, bool *ret)
{
    struct xf_engine_squeeze_req req = {.kind = XF_SQUEEZE_BALANCE};
    struct xf_squeezer *sq = NULL;
    struct xf_sq_dom_step *steps = NULL;
    struct xf_sq_step st;
    struct xf_sq_goal g;
    struct bhost b;
    bool any = false;
    int r;

    memset(&b, 0, sizeof(b));
    goal_of(e, &req, &g);
    if ((r = xf_squeezer_new(0, &sq)) < 0)
        return r;
    if ((r = read_host(e, &b)) < 0)
        goto out;
    steps = xf__calloc(b.n ? b.n : 1, sizeof(*steps));
    if (!steps) {
        r = XF_ENOMEM;
        goto out;
    }
    /* squeeze.ml is_host_memory_unbalanced: one iteration with a fresh
     * squeezer; unbalanced when it would set a target that is new. */
    if ((r = xf_squeezer_step(sq, &b.h, &g, xf_hv_now_ns(e->hv), steps, &st)) < 0)
        goto out;
    if (st.result == XF_SQ_ADJUST)
        for (size_t i = 0; i < b.n; i++)
            any = any || (steps[i].set_target && steps[i].new_target_kib != b.sq[i].target_kib);
    *ret = any;
out:
    xf__free(steps);
    bhost_done(&b);
    xf_squeezer_free(sq);
    return r;
}

int xf__eng_range_ideal(struct xf_engine *e, uint64_t min_kib, uint64_t max_kib, uint64_t *ret_kib)
{
    struct bhost b;
    int64_t ideal = 0;
    int r;

    memset(&b, 0, sizeof(b));
    if ((r = read_host(e, &b)) == 0)
        r = xf_sq_range_ideal(&b.h, (int64_t)e->p.squeeze_keep_kib, (int64_t)min_kib,
                              (int64_t)max_kib, &ideal);
    if (r == 0)
        *ret_kib = ideal < (int64_t)min_kib ? min_kib : (uint64_t)ideal;
    bhost_done(&b);
    return r;
}

const struct xf_engine_squeeze *xf_engine_last_squeeze(const struct xf_engine *e)
{
    return e && e->has_last_squeeze ? &e->last_squeeze : NULL;
}
