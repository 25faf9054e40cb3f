/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The reservation ledger (include/xenfit/ledger.h): an array with
 * swap-removal, indexed by id and by domain (idmap.h), kept in two parts:
 * the reservations tied to a domain first ([0, nd)), then the pending ones.
 * The pending part's pages are summed as they change, so host accounting
 * (host.c) reads them in O(1) and walks only the reservations whose domain
 * it must look at: the cost of an admission does not grow with the number
 * of pending reservations (100k in the daemon's scale bench).
 */
#include <string.h>
#include <sys/types.h>

#include "idmap.h"
#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/ledger.h"

struct xf_ledger {
    struct xf_reservation *r;
    size_t n, cap;
    size_t nd; /* r[0..nd) have a domain, r[nd..n) are pending */
    uint64_t next_id;
    struct xf__idmap by_id;     /* id -> index */
    struct xf__idmap by_domain; /* domid + 1 -> index */
    uint64_t pending_pages;     /* sums over r[nd..n) */
    uint64_t pending_node_pages[XF_MAX_NODES];
};

int xf_ledger_new(struct xf_ledger **ret)
{
    struct xf_ledger *l = xf__calloc(1, sizeof(*l));
    if (!l)
        return XF_ENOMEM;
    l->next_id = 1;
    xf__idmap_init(&l->by_id);
    xf__idmap_init(&l->by_domain);
    *ret = l;
    return 0;
}

void xf_ledger_free(struct xf_ledger *l)
{
    if (!l)
        return;
    xf__idmap_done(&l->by_id);
    xf__idmap_done(&l->by_domain);
    xf__free(l->r);
    xf__free(l);
}

static ssize_t index_of(const struct xf_ledger *l, uint64_t id)
{
    size_t i = xf__idmap_get(&l->by_id, id);
    return i == XF__IDMAP_NONE ? -1 : (ssize_t)i;
}

/* Adds or removes a pending reservation's pages to the pending sums. */
static void pending_add(struct xf_ledger *l, const struct xf_reservation *r, bool add)
{
    l->pending_pages = add ? l->pending_pages + r->total_pages : l->pending_pages - r->total_pages;
    for (uint64_t m = r->node_mask; m; m &= m - 1) {
        unsigned n = (unsigned)__builtin_ctzll(m);
        l->pending_node_pages[n] = add ? l->pending_node_pages[n] + r->node_pages[n]
                                       : l->pending_node_pages[n] - r->node_pages[n];
    }
}

/* Puts the reservation now at index i into the indexes (the maps have room:
 * see reserve_room). */
static void index_at(struct xf_ledger *l, size_t i)
{
    (void)xf__idmap_put(&l->by_id, l->r[i].id, i);
    if (l->r[i].domid != XF_DOMID_NONE)
        (void)xf__idmap_put(&l->by_domain, (uint64_t)l->r[i].domid + 1, i);
}

/* Moves r[from] to r[to] (overwriting it) and re-indexes it. */
static void move(struct xf_ledger *l, size_t from, size_t to)
{
    if (from == to)
        return;
    l->r[to] = l->r[from];
    index_at(l, to);
}

/* Room in the array and both maps for one more, so that nothing after it
 * can fail half-way. */
static int reserve_room(struct xf_ledger *l)
{
    struct xf_reservation *nr = xf__grow(l->r, l->n, &l->cap, 16, sizeof(*nr));
    int r;
    if (!nr)
        return XF_ENOMEM;
    l->r = nr;
    if ((r = xf__idmap_reserve(&l->by_id, l->n + 1)) < 0 ||
        (r = xf__idmap_reserve(&l->by_domain, l->n + 1)) < 0)
        return r;
    return 0;
}

static int check(const struct xf_reservation *r)
{
    uint64_t sum = 0;
    for (unsigned n = 0; n < XF_MAX_NODES; n++) {
        if (!(r->node_mask & (UINT64_C(1) << n))) {
            if (r->node_pages[n] != 0)
                return XF_EINVAL;
            continue;
        }
        if (__builtin_add_overflow(sum, r->node_pages[n], &sum))
            return XF_EINVAL;
    }
    return sum <= r->total_pages ? 0 : XF_EINVAL;
}

static int append(struct xf_ledger *l, const struct xf_reservation *r)
{
    int err = reserve_room(l);
    size_t i;
    if (err < 0)
        return err;
    if (r->domid != XF_DOMID_NONE) {
        /* Into the domain part: its first pending one moves to the end. */
        move(l, l->nd, l->n);
        i = l->nd++;
    } else {
        i = l->n;
    }
    l->n++;
    l->r[i] = *r;
    l->r[i].owner[XF_OWNER_MAX - 1] = '\0';
    index_at(l, i);
    if (r->domid == XF_DOMID_NONE)
        pending_add(l, &l->r[i], true);
    return 0;
}

int xf_ledger_add(struct xf_ledger *l, const struct xf_reservation *r, uint64_t *ret_id)
{
    struct xf_reservation copy;
    int err = check(r);
    if (err < 0)
        return err;
    copy = *r;
    copy.id = l->next_id;
    err = append(l, &copy);
    if (err < 0)
        return err;
    l->next_id++;
    *ret_id = copy.id;
    return 0;
}

int xf_ledger_restore(struct xf_ledger *l, const struct xf_reservation *r)
{
    int err = check(r);
    if (err < 0)
        return err;
    if (r->id == 0)
        return XF_EINVAL;
    if (index_of(l, r->id) >= 0 ||
        (r->domid != XF_DOMID_NONE && xf_ledger_find_domain(l, r->domid)))
        return XF_EEXIST;
    err = append(l, r);
    if (err < 0)
        return err;
    if (r->id >= l->next_id)
        l->next_id = r->id + 1;
    return 0;
}

int xf_ledger_transfer(struct xf_ledger *l, uint64_t id, xf_domid_t domid)
{
    ssize_t i = index_of(l, id);
    const struct xf_reservation *other;
    if (i < 0)
        return XF_EUNKNOWN_RESERVATION;
    if (domid == XF_DOMID_NONE)
        return XF_EINVAL;
    other = xf_ledger_find_domain(l, domid);
    if (other && other->id != id)
        return XF_EEXIST;
    if (xf__idmap_reserve(&l->by_domain, l->n) < 0)
        return XF_ENOMEM;
    if (l->r[i].domid == XF_DOMID_NONE) {
        /* From the pending part to the domain part: swap with its first. */
        struct xf_reservation t = l->r[i];
        pending_add(l, &t, false);
        move(l, l->nd, (size_t)i);
        l->r[l->nd] = t;
        i = (ssize_t)l->nd++;
    } else {
        xf__idmap_del(&l->by_domain, (uint64_t)l->r[i].domid + 1);
    }
    l->r[i].domid = domid;
    l->r[i].expires_ns = 0;
    index_at(l, (size_t)i);
    return 0;
}

int xf_ledger_set_claim(struct xf_ledger *l, uint64_t id, const struct xf_claim_plan *claim)
{
    ssize_t i = index_of(l, id);
    if (i < 0)
        return XF_EUNKNOWN_RESERVATION;
    l->r[i].claim = *claim;
    return 0;
}

static void remove_at(struct xf_ledger *l, size_t i)
{
    xf__idmap_del(&l->by_id, l->r[i].id);
    if (i < l->nd) {
        /* The domain part's last fills i, the array's last fills its place. */
        xf__idmap_del(&l->by_domain, (uint64_t)l->r[i].domid + 1);
        move(l, l->nd - 1, i);
        move(l, l->n - 1, l->nd - 1);
        l->nd--;
    } else {
        pending_add(l, &l->r[i], false);
        move(l, l->n - 1, i);
    }
    l->n--;
}

int xf_ledger_delete(struct xf_ledger *l, uint64_t id)
{
    ssize_t i = index_of(l, id);
    if (i < 0)
        return XF_EUNKNOWN_RESERVATION;
    remove_at(l, (size_t)i);
    return 0;
}

const struct xf_reservation *xf_ledger_find(const struct xf_ledger *l, uint64_t id)
{
    ssize_t i = index_of(l, id);
    return i < 0 ? NULL : &l->r[i];
}

const struct xf_reservation *xf_ledger_find_domain(const struct xf_ledger *l, xf_domid_t domid)
{
    size_t i;
    if (domid == XF_DOMID_NONE)
        return NULL;
    i = xf__idmap_get(&l->by_domain, (uint64_t)domid + 1);
    return i == XF__IDMAP_NONE ? NULL : &l->r[i];
}

size_t xf_ledger_count_domains(const struct xf_ledger *l)
{
    return l->nd;
}

uint64_t xf_ledger_pending_pages(const struct xf_ledger *l, uint64_t *ret_node_pages)
{
    if (ret_node_pages)
        memcpy(ret_node_pages, l->pending_node_pages, sizeof(l->pending_node_pages));
    return l->pending_pages;
}

size_t xf_ledger_count(const struct xf_ledger *l)
{
    return l->n;
}

const struct xf_reservation *xf_ledger_at(const struct xf_ledger *l, size_t i)
{
    return i < l->n ? &l->r[i] : NULL;
}

uint64_t xf_ledger_total_pages(const struct xf_ledger *l)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < l->n; i++)
        sum += l->r[i].total_pages;
    return sum;
}

size_t xf_ledger_drop_owner(struct xf_ledger *l, const char *owner, uint64_t *ret_ids, size_t max)
{
    size_t removed = 0;
    for (size_t i = 0; i < l->n;) {
        if (l->r[i].domid == XF_DOMID_NONE && strcmp(l->r[i].owner, owner) == 0) {
            if (ret_ids && removed < max)
                ret_ids[removed] = l->r[i].id;
            removed++;
            remove_at(l, i);
        } else {
            i++;
        }
    }
    return removed;
}

size_t xf_ledger_expire(struct xf_ledger *l, uint64_t now_ns, uint64_t *ret_ids, size_t max)
{
    size_t removed = 0;
    for (size_t i = 0; i < l->n;) {
        const struct xf_reservation *r = &l->r[i];
        if (r->domid == XF_DOMID_NONE && r->expires_ns != 0 && r->expires_ns <= now_ns) {
            if (ret_ids && removed < max)
                ret_ids[removed] = r->id;
            removed++;
            remove_at(l, i);
        } else {
            i++;
        }
    }
    return removed;
}
