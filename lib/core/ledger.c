/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The reservation ledger (include/xenfit/ledger.h): an array with
 * swap-removal. A host holds at most a few hundred live reservations, so a
 * scan is as fast as any index and keeps the structure trivially correct.
 */
#include <string.h>
#include <sys/types.h>

#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/ledger.h"

struct xf_ledger {
    struct xf_reservation *r;
    size_t n, cap;
    uint64_t next_id;
};

int xf_ledger_new(struct xf_ledger **ret)
{
    struct xf_ledger *l = xf__calloc(1, sizeof(*l));
    if (!l)
        return XF_ENOMEM;
    l->next_id = 1;
    *ret = l;
    return 0;
}

void xf_ledger_free(struct xf_ledger *l)
{
    if (!l)
        return;
    xf__free(l->r);
    xf__free(l);
}

static ssize_t index_of(const struct xf_ledger *l, uint64_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->r[i].id == id)
            return (ssize_t)i;
    return -1;
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
    struct xf_reservation *nr = xf__grow(l->r, l->n, &l->cap, 16, sizeof(*nr));

    if (!nr)
        return XF_ENOMEM;
    l->r = nr;
    l->r[l->n] = *r;
    l->r[l->n].owner[XF_OWNER_MAX - 1] = '\0';
    l->n++;
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
    l->r[i].domid = domid;
    l->r[i].expires_ns = 0;
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
    l->r[i] = l->r[l->n - 1];
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
    if (domid == XF_DOMID_NONE)
        return NULL;
    for (size_t i = 0; i < l->n; i++)
        if (l->r[i].domid == domid)
            return &l->r[i];
    return NULL;
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
