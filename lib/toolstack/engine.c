/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The host engine (include/xenfit/engine.h): its lifecycle, the topology it
 * reads from the backend once, reservation ids, the records and their place
 * in the ledger and the placement counts, the change journal and restoring. Records
 * are an array scanned linearly: a host holds at most a few hundred live
 * reservations, and a scan keeps every invariant obvious.
 */
#include <stdio.h>
#include <string.h>

#include "engine-internal.h"
#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

const char *xf_resv_kind_name(enum xf_resv_kind k)
{
    switch (k) {
    case XF_RESV_AMOUNT:
        return "amount";
    case XF_RESV_VM:
        return "vm";
    case XF_RESV_MIGRATION:
        return "migration";
    }
    return NULL;
}

const char *xf_resv_state_name(enum xf_resv_state s)
{
    switch (s) {
    case XF_RESV_PENDING:
        return "pending";
    case XF_RESV_TRANSFERRED:
        return "transferred";
    case XF_RESV_SETTLED:
        return "settled";
    }
    return NULL;
}

void xf_engine_params_init(struct xf_engine_params *p, struct xf_hv *hv)
{
    memset(p, 0, sizeof(*p));
    p->numa_policy = XF_NUMA_POLICY_BEST_EFFORT;
    p->ttl_ns = XF_ENGINE_TTL_NS_DEFAULT;
    p->max_pending_per_owner = XF_ENGINE_MAX_PENDING_PER_OWNER_DEFAULT;
    p->max_pending = XF_ENGINE_MAX_PENDING_DEFAULT;
    p->balloon = true;
    p->squeeze_keep_kib = XF_SQUEEZE_EXTRA_KEEP_KIB;
    p->squeeze_wait_ns = XF_SQUEEZE_WAIT_NS;
    p->squeeze_max_ns = XF_ENGINE_SQUEEZE_MAX_NS_DEFAULT;
    xf_admit_host_params(XF_POLICY_XENFIT, &p->host);
    /* The host's own low-memory limit and DMA zone (xf_hv_host_params);
     * should the backend fail to say, xenfit's defaults stay, as this
     * initialiser cannot fail (both backends answer from what they read
     * when opened). */
    if (hv) {
        struct xf_host_params hp;
        if (xf_host_params_read(hv, &hp) == 0)
            p->host = hp;
    }
}

/* The planner's topology, read once from the backend (xf_topology_read). */
static int build_topology(struct xf_hv *hv, struct xf_topology **ret)
{
    return xf_topology_read(hv, ret, NULL);
}

int xf_engine_new(struct xf_hv *hv, const struct xf_engine_params *p, struct xf_engine **ret)
{
    struct xf_engine *e;
    int r;

    if (!hv || !p || !xf_numa_policy_valid(p->numa_policy))
        return XF_EINVAL;
    e = xf__calloc(1, sizeof(*e));
    if (!e)
        return XF_ENOMEM;
    e->hv = hv;
    e->p = *p;
    e->next_id = 1;
    xf__idmap_init(&e->by_id);
    xf__idmap_init(&e->by_domain);
    xf__idmap_init(&e->pending_by_owner);
    if ((r = xf_ledger_new(&e->ledger)) < 0 || (r = xf_calib_online_new(&e->calib)) < 0 ||
        (r = build_topology(hv, &e->topo)) < 0)
        goto fail;
    *ret = e;
    return 0;
fail:
    xf_engine_free(e);
    return r;
}

void xf_engine_free(struct xf_engine *e)
{
    if (!e)
        return;
    xf_topology_free(e->topo);
    xf_calib_online_free(e->calib);
    xf_ledger_free(e->ledger);
    xf__free(e->recs);
    xf__idmap_done(&e->by_id);
    xf__idmap_done(&e->by_domain);
    xf__idmap_done(&e->pending_by_owner);
    xf__free(e->dirty);
    xf__free(e->cdirty);
    xf__free(e->coop);
    xf__free(e);
}

const struct xf_engine_params *xf_engine_params(const struct xf_engine *e)
{
    return &e->p;
}

struct xf_hv *xf_engine_hv(const struct xf_engine *e)
{
    return e->hv;
}

const struct xf_topology *xf_engine_topology(const struct xf_engine *e)
{
    return e->topo;
}

/* --- Ids ------------------------------------------------------------------- */

#define ID_BITS 62
#define ID_MAX  ((UINT64_C(1) << ID_BITS) - 1)

/* Writes v as n lowercase hex digits. */
static char *hex(char *p, uint64_t v, int n)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = n - 1; i >= 0; i--, v >>= 4)
        p[i] = digits[v & 15];
    return p + n;
}

void xf_engine_id_format(const struct xf_engine *e, uint64_t id, char out[XF_ENGINE_ID_LEN])
{
    uint64_t s = e->p.id_salt;
    char *p = out;
    /* "%08x-%04x-%04x-%04x-%012x", by hand: it is on every reply's path. */
    p = hex(p, s >> 32, 8);
    *p++ = '-';
    p = hex(p, (s >> 16) & 0xffff, 4);
    *p++ = '-';
    p = hex(p, 0x4000 | (s & 0x0fff), 4);
    *p++ = '-';
    p = hex(p, 0x8000 | ((id >> 48) & 0x3fff), 4);
    *p++ = '-';
    p = hex(p, id & UINT64_C(0xffffffffffff), 12);
    *p = '\0';
}

/* Reads `n` hex digits. */
static bool hex_field(const char *s, size_t n, uint64_t *ret)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *ret = v;
    return true;
}

int xf_engine_id_parse(const struct xf_engine *e, const char *text, uint64_t *ret_id)
{
    uint64_t f[5], s = e->p.id_salt, id;
    static const size_t len[5] = {8, 4, 4, 4, 12};
    const char *p = text;

    if (!text || strlen(text) != XF_ENGINE_ID_LEN - 1)
        return XF_EUNKNOWN_RESERVATION;
    for (int i = 0; i < 5; i++) {
        if (!hex_field(p, len[i], &f[i]))
            return XF_EUNKNOWN_RESERVATION;
        p += len[i];
        if (i < 4 && *p++ != '-')
            return XF_EUNKNOWN_RESERVATION;
    }
    if (f[0] != (s >> 32) || f[1] != ((s >> 16) & 0xffff) || f[2] != (0x4000 | (s & 0x0fff)) ||
        (f[3] & 0xc000) != 0x8000)
        return XF_EUNKNOWN_RESERVATION;
    id = (f[3] & 0x3fff) << 48 | f[4];
    if (id == 0)
        return XF_EUNKNOWN_RESERVATION;
    *ret_id = id;
    return 0;
}

/* --- Records --------------------------------------------------------------- */

bool xf__eng_owner_ok(const char *owner)
{
    return owner && strlen(owner) < XF_OWNER_MAX;
}

struct xf__eng_rec *xf__eng_rec(struct xf_engine *e, uint64_t id)
{
    size_t i = xf__idmap_get(&e->by_id, id);
    return i == XF__IDMAP_NONE ? NULL : &e->recs[i];
}

/* Indexes the record at i (the maps have room: xf__eng_add reserves it). */
static void index_at(struct xf_engine *e, size_t i)
{
    (void)xf__idmap_put(&e->by_id, e->recs[i].r.id, i);
    if (e->recs[i].r.domid != XF_DOMID_NONE)
        (void)xf__idmap_put(&e->by_domain, (uint64_t)e->recs[i].r.domid + 1, i);
}

/* A session's key in pending_by_owner: FNV-1a of its name, never 0. Two
 * names with one hash would share a count: a limit then comes a little
 * early for both, nothing worse. */
static uint64_t owner_key(const char *owner)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const unsigned char *p = (const unsigned char *)owner; *p; p++)
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    return h | 1;
}

size_t xf_engine_pending_count(const struct xf_engine *e, const char *owner)
{
    size_t n;
    if (!owner)
        return e->nr_pending;
    n = xf__idmap_get(&e->pending_by_owner, owner_key(owner));
    return n == XF__IDMAP_NONE ? 0 : n;
}

int xf__eng_pending_room(struct xf_engine *e, const char *owner)
{
    size_t mine = xf_engine_pending_count(e, owner);
    if ((e->p.max_pending && e->nr_pending >= e->p.max_pending) ||
        (e->p.max_pending_per_owner && mine >= e->p.max_pending_per_owner))
        return XF_ELIMIT;
    return xf__idmap_reserve(&e->pending_by_owner, e->pending_by_owner.n + 1);
}

void xf__eng_pending_count(struct xf_engine *e, const char *owner, bool add)
{
    uint64_t key = owner_key(owner);
    size_t n = xf__idmap_get(&e->pending_by_owner, key);
    if (n == XF__IDMAP_NONE)
        n = 0;
    if (add) {
        e->nr_pending++;
        (void)xf__idmap_put(&e->pending_by_owner, key, n + 1); /* room: see above */
    } else {
        e->nr_pending--;
        if (n <= 1)
            xf__idmap_del(&e->pending_by_owner, key);
        else
            (void)xf__idmap_put(&e->pending_by_owner, key, n - 1);
    }
}

/* Moves recs[from] to recs[to] (overwriting it) and re-indexes it. */
static void move_rec(struct xf_engine *e, size_t from, size_t to)
{
    if (from == to)
        return;
    e->recs[to] = e->recs[from];
    index_at(e, to);
}

struct xf__eng_rec *xf__eng_mark_transferred(struct xf_engine *e, struct xf__eng_rec *rec)
{
    struct xf__eng_rec t = *rec;
    size_t i = (size_t)(rec - e->recs);
    xf__eng_pending_count(e, t.r.owner, false);
    t.r.state = XF_RESV_TRANSFERRED;
    /* Swap into the first part: the first pending record takes its place. */
    move_rec(e, e->nnp, i);
    e->recs[e->nnp] = t;
    index_at(e, e->nnp);
    return &e->recs[e->nnp++];
}

int xf__eng_domain_room(struct xf_engine *e)
{
    return xf__idmap_reserve(&e->by_domain, e->n + 1);
}

void xf__eng_set_domain(struct xf_engine *e, struct xf__eng_rec *rec, xf_domid_t domid)
{
    if (rec->r.domid != XF_DOMID_NONE)
        xf__idmap_del(&e->by_domain, (uint64_t)rec->r.domid + 1);
    rec->r.domid = domid;
    index_at(e, (size_t)(rec - e->recs));
}

/* The engine owns the placement counters the planner balances on: a placed
 * reservation counts once on each of its nodes while it is pending or
 * transferred. The nodes' free memory is not kept here: every reserve reads
 * it afresh from the host and the ledger (xf_host_free_for_new_vm). */
static void count_placement(struct xf_engine *e, struct xf__eng_rec *rec)
{
    for (uint64_t m = rec->r.node_mask; m; m &= m - 1) {
        unsigned i = (unsigned)__builtin_ctzll(m);
        e->counts.live[i]++;
        e->counts.total[i]++;
    }
    rec->counted = true;
}

static void uncount_placement(struct xf_engine *e, struct xf__eng_rec *rec)
{
    if (!rec->counted)
        return;
    /* Counted on exactly these nodes when added (node_mask never changes),
     * so every live count here is at least 1. */
    for (uint64_t m = rec->r.node_mask; m; m &= m - 1)
        e->counts.live[__builtin_ctzll(m)]--;
    rec->counted = false;
}

static void ledger_record(const struct xf_engine_resv *r, struct xf_reservation *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->id = r->id;
    memcpy(ret->owner, r->owner, sizeof(ret->owner));
    ret->domid = r->domid;
    ret->total_pages = r->total_pages;
    ret->node_mask = r->node_mask;
    memcpy(ret->node_pages, r->node_pages, sizeof(ret->node_pages));
    ret->claim = r->claim;
    ret->created_ns = r->created_ns;
    ret->expires_ns = r->state == XF_RESV_PENDING ? r->expires_ns : 0;
}

int xf__eng_add(struct xf_engine *e, const struct xf_engine_resv *r)
{
    struct xf__eng_rec rec;
    struct xf_reservation lr;
    int err;

    if (r->id == 0 || r->id > ID_MAX || !xf__eng_owner_ok(r->owner) ||
        !xf_resv_kind_name(r->kind) || !xf_resv_state_name(r->state) ||
        (r->state == XF_RESV_PENDING) != (r->domid == XF_DOMID_NONE))
        return XF_EINVAL;
    if (xf__eng_rec(e, r->id) || (r->domid != XF_DOMID_NONE && xf_engine_find_domain(e, r->domid)))
        return XF_EEXIST;
    if (r->node_mask >> (xf_topology_nr_nodes(e->topo) - 1) >> 1)
        return XF_EINVAL; /* a node this host lacks */
    struct xf__eng_rec *nr = xf__grow(e->recs, e->n, &e->cap, 32, sizeof(*nr));
    if (!nr)
        return XF_ENOMEM;
    e->recs = nr;
    if ((err = xf__idmap_reserve(&e->by_id, e->n + 1)) < 0 ||
        (err = xf__idmap_reserve(&e->by_domain, e->n + 1)) < 0 ||
        (r->state == XF_RESV_PENDING &&
         (err = xf__idmap_reserve(&e->pending_by_owner, e->pending_by_owner.n + 1)) < 0))
        return err;
    memset(&rec, 0, sizeof(rec));
    rec.r = *r;
    rec.r.owner[XF_OWNER_MAX - 1] = '\0';
    if (r->state != XF_RESV_SETTLED) {
        ledger_record(r, &lr);
        err = xf_ledger_restore(e->ledger, &lr);
        if (err < 0)
            return err;
        rec.in_ledger = true;
    }
    size_t at;
    if (r->state == XF_RESV_PENDING) {
        at = e->n;
        e->recs[at] = rec;
        index_at(e, at);
    } else {
        /* Into the first part: its first pending record moves to the end. */
        move_rec(e, e->nnp, e->n);
        at = e->nnp++;
        e->recs[at] = rec;
        index_at(e, at);
    }
    e->n++;
    if (r->state != XF_RESV_SETTLED && r->node_mask)
        count_placement(e, &e->recs[at]);
    if (r->state == XF_RESV_PENDING) {
        xf__eng_pending_count(e, rec.r.owner, true);
        if (r->expires_ns && (!e->next_expiry_ns || r->expires_ns < e->next_expiry_ns))
            e->next_expiry_ns = r->expires_ns;
    }
    if (r->id >= e->next_id)
        e->next_id = r->id + 1;
    return 0;
}

void xf__eng_settle(struct xf_engine *e, struct xf__eng_rec *rec)
{
    if (rec->in_ledger)
        (void)xf_ledger_delete(e->ledger, rec->r.id);
    rec->in_ledger = false;
    uncount_placement(e, rec);
    rec->r.state = XF_RESV_SETTLED;
    rec->r.expires_ns = 0;
    xf__eng_touch(e, rec->r.id);
}

void xf__eng_remove(struct xf_engine *e, struct xf__eng_rec *rec)
{
    size_t i = (size_t)(rec - e->recs);
    if (rec->in_ledger)
        (void)xf_ledger_delete(e->ledger, rec->r.id);
    uncount_placement(e, rec);
    xf__eng_touch(e, rec->r.id);
    if (rec->r.state == XF_RESV_PENDING)
        xf__eng_pending_count(e, rec->r.owner, false);
    xf__idmap_del(&e->by_id, rec->r.id);
    if (rec->r.domid != XF_DOMID_NONE)
        xf__idmap_del(&e->by_domain, (uint64_t)rec->r.domid + 1);
    if (i < e->nnp) {
        /* The first part's last fills i, the array's last fills its place. */
        move_rec(e, e->nnp - 1, i);
        move_rec(e, e->n - 1, e->nnp - 1);
        e->nnp--;
    } else {
        move_rec(e, e->n - 1, i);
    }
    e->n--;
}

const struct xf_engine_resv *xf_engine_find(const struct xf_engine *e, uint64_t id)
{
    size_t i = xf__idmap_get(&e->by_id, id);
    return i == XF__IDMAP_NONE ? NULL : &e->recs[i].r;
}

const struct xf_engine_resv *xf_engine_find_domain(const struct xf_engine *e, xf_domid_t domid)
{
    size_t i;
    if (domid == XF_DOMID_NONE)
        return NULL;
    i = xf__idmap_get(&e->by_domain, (uint64_t)domid + 1);
    return i == XF__IDMAP_NONE ? NULL : &e->recs[i].r;
}

size_t xf_engine_count(const struct xf_engine *e)
{
    return e->n;
}

const struct xf_engine_resv *xf_engine_at(const struct xf_engine *e, size_t i)
{
    return i < e->n ? &e->recs[i].r : NULL;
}

/* --- The change journal ---------------------------------------------------- */

int xf__eng_journal_room(struct xf_engine *e, size_t more)
{
    if (more <= e->capdirty - e->ndirty)
        return 0;
    size_t cap = e->capdirty ? e->capdirty : 64;
    while (cap - e->ndirty < more)
        cap *= 2;
    uint64_t *nd = xf__reallocarray(e->dirty, cap, sizeof(*nd));
    if (!nd)
        return XF_ENOMEM;
    e->dirty = nd;
    e->capdirty = cap;
    return 0;
}

void xf__eng_touch(struct xf_engine *e, uint64_t id)
{
    for (size_t i = e->ndirty; i > 0 && i + 8 > e->ndirty; i--)
        if (e->dirty[i - 1] == id)
            return; /* touched just now: once is enough */
    if (e->ndirty < e->capdirty)
        e->dirty[e->ndirty++] = id;
}

int xf__eng_touch_calib(struct xf_engine *e, const struct xf_calib_observation *o)
{
    if (e->ncdirty == e->capcdirty) {
        size_t cap = e->capcdirty ? e->capcdirty * 2 : 16;
        struct xf_calib_observation *nc = xf__reallocarray(e->cdirty, cap, sizeof(*nc));
        if (!nc)
            return XF_ENOMEM;
        e->cdirty = nc;
        e->capcdirty = cap;
    }
    e->cdirty[e->ncdirty++] = *o;
    return 0;
}

bool xf_engine_has_changes(const struct xf_engine *e)
{
    return e->ndirty > 0 || e->ncdirty > 0;
}

/* The maximum need recorded for a type and vCPU count (what to persist). */
static bool calib_row(const struct xf_engine *e, const struct xf_calib_observation *key,
                      struct xf_calib_observation *ret)
{
    size_t n = xf_calib_online_count(e->calib);
    struct xf_calib_observation *all;
    bool found = false;

    if (n == 0)
        return false;
    all = xf__calloc(n, sizeof(*all));
    if (!all)
        return false;
    n = xf_calib_online_export(e->calib, all, n);
    for (size_t i = 0; i < n && !found; i++)
        if (all[i].type == key->type && all[i].vcpus == key->vcpus) {
            *ret = all[i];
            found = true;
        }
    xf__free(all);
    return found;
}

int xf_engine_flush_changes(struct xf_engine *e, xf_engine_change_fn fn, void *ctx)
{
    struct xf_engine_change c;
    int r;

    struct xf__idmap seen;
    xf__idmap_init(&seen);
    /* A round journals a few ids; a sweep that expires thousands would make
     * the scan for duplicates quadratic: index those. */
    if (e->ndirty > 16 && xf__idmap_reserve(&seen, e->ndirty) < 0)
        return XF_ENOMEM;
    for (size_t i = 0; i < e->ndirty; i++) {
        uint64_t id = e->dirty[i];
        bool dup = false;
        if (seen.cap) {
            dup = xf__idmap_get(&seen, id) != XF__IDMAP_NONE;
            (void)xf__idmap_put(&seen, id, i);
        } else {
            for (size_t j = 0; j < i && !dup; j++)
                dup = e->dirty[j] == id;
        }
        if (dup)
            continue;
        struct xf__eng_rec *rec = xf__eng_rec(e, id);
        memset(&c, 0, sizeof(c));
        c.id = id;
        c.resv = rec ? &rec->r : NULL;
        c.kind = rec ? XF_CHANGE_RESV_PUT : XF_CHANGE_RESV_DEL;
        c.fresh = rec && !rec->persisted;
        if ((r = fn(ctx, &c)) < 0) {
            xf__idmap_done(&seen);
            return r;
        }
        if (rec)
            rec->persisted = true;
    }
    xf__idmap_done(&seen);
    for (size_t i = 0; i < e->ncdirty; i++) {
        memset(&c, 0, sizeof(c));
        if (e->cdirty[i].vcpus == 0) {
            /* A reset (xf_engine_calib_reset); needed_pages 1: of every type. */
            c.kind = XF_CHANGE_CALIB_RESET;
            c.obs.type = e->cdirty[i].type;
            c.calib_all = e->cdirty[i].needed_pages == 1;
            if ((r = fn(ctx, &c)) < 0)
                return r;
            continue;
        }
        c.kind = XF_CHANGE_CALIB;
        /* The row's current maximum (an observation below it changes nothing
         * stored, but writing the maximum is always right). */
        if (!calib_row(e, &e->cdirty[i], &c.obs))
            c.obs = e->cdirty[i];
        if ((r = fn(ctx, &c)) < 0)
            return r;
    }
    e->ndirty = 0;
    e->ncdirty = 0;
    return 0;
}

/* --- Restoring ------------------------------------------------------------- */

int xf_engine_restore(struct xf_engine *e, const struct xf_engine_resv *r)
{
    uint64_t sum = 0;
    for (unsigned n = 0; n < XF_MAX_NODES; n++) {
        if (!(r->node_mask >> n & 1)) {
            if (r->node_pages[n])
                return XF_EINVAL;
            continue;
        }
        if (r->node_pages[n] % XF_PAGES_PER_MIB ||
            __builtin_add_overflow(sum, r->node_pages[n], &sum))
            return XF_EINVAL;
    }
    if (sum > r->total_pages || r->kib > XF_ENGINE_MAX_KIB)
        return XF_EINVAL;
    int err = xf__eng_add(e, r);
    if (err == 0)
        xf__eng_rec(e, r->id)->persisted = true; /* it came from the store */
    return err;
}

int xf_engine_calib_reset(struct xf_engine *e, enum xf_domain_type type, bool all,
                          size_t *ret_removed)
{
    /* In the journal, a reset is a row with no vCPUs (never an observation:
     * those have 1 or more); needed_pages 1 marks "every type". */
    struct xf_calib_observation mark = {.type = type, .vcpus = 0, .needed_pages = all};
    int r;

    if (!all && !xf_domain_type_name(type))
        return XF_EINVAL;
    if ((r = xf__eng_touch_calib(e, &mark)) < 0)
        return r;
    *ret_removed = xf_calib_online_reset(e->calib, type, all);
    return 0;
}

size_t xf_engine_calib_rows(const struct xf_engine *e, struct xf_calib_observation *out, size_t max)
{
    size_t n = xf_calib_online_count(e->calib);
    if (out && max)
        (void)xf_calib_online_export(e->calib, out, max);
    return n;
}

int xf_engine_restore_observation(struct xf_engine *e, const struct xf_calib_observation *o)
{
    return xf_calib_online_import(e->calib, o, 1);
}

struct xf_overhead_coeffs xf_engine_coeffs(const struct xf_engine *e, enum xf_domain_type type,
                                           uint32_t vcpus)
{
    return xf_calib_online_coeffs(e->calib, type, vcpus);
}

int xf_engine_rebase_times(struct xf_engine *e, uint64_t now_ns, size_t *ret_n)
{
    uint64_t ttl = e->p.ttl_ns;
    int r = xf__eng_journal_room(e, e->n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < e->n; i++) {
        struct xf_engine_resv *res = &e->recs[i].r;
        res->created_ns = now_ns;
        if (res->state == XF_RESV_PENDING)
            res->expires_ns = !ttl ? 0 : now_ns + ttl < now_ns ? UINT64_MAX : now_ns + ttl;
        else
            res->transferred_ns = now_ns;
        xf__eng_touch(e, res->id);
    }
    e->next_expiry_ns = ttl && e->n ? now_ns : 0; /* the next sweep looks again */
    *ret_n = e->n;
    return 0;
}
