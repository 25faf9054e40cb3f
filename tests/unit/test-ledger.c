/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The reservation ledger (lib/core/ledger.c).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "xenfit/error.h"
#include "xenfit/ledger.h"

static struct xf_reservation res(const char *owner, uint64_t total, uint64_t expires)
{
    struct xf_reservation r;
    memset(&r, 0, sizeof(r));
    strncpy(r.owner, owner, sizeof(r.owner) - 1);
    r.domid = XF_DOMID_NONE;
    r.total_pages = total;
    r.node_mask = 1u << 1;
    r.node_pages[1] = total;
    r.expires_ns = expires;
    return r;
}

static void test_ledger_lifecycle(void **state)
{
    struct xf_ledger *l;
    struct xf_reservation r = res("xapi", 1000, 0);
    uint64_t a, b, c;
    (void)state;
    assert_int_equal(xf_ledger_new(&l), 0);
    assert_int_equal(xf_ledger_add(l, &r, &a), 0);
    assert_int_equal(xf_ledger_add(l, &r, &b), 0);
    assert_int_equal(xf_ledger_add(l, &r, &c), 0);
    assert_true(a == 1 && b == 2 && c == 3);
    assert_int_equal(xf_ledger_total_pages(l), 3000);
    assert_int_equal(xf_ledger_transfer(l, b, 7), 0);
    assert_int_equal(xf_ledger_find_domain(l, 7)->id, b);
    /* Another reservation cannot take domain 7. */
    assert_int_equal(xf_ledger_transfer(l, c, 7), XF_EEXIST);
    assert_int_equal(xf_ledger_delete(l, a), 0);
    assert_int_equal(xf_ledger_delete(l, a), XF_EUNKNOWN_RESERVATION);
    assert_null(xf_ledger_find(l, a));
    assert_int_equal(xf_ledger_count(l), 2);
    /* Ids are never reused. */
    assert_int_equal(xf_ledger_add(l, &r, &a), 0);
    assert_int_equal(a, 4);
    assert_int_equal(xf_ledger_transfer(l, 99, 8), XF_EUNKNOWN_RESERVATION);
    xf_ledger_free(l);
    xf_ledger_free(NULL);
}

static void test_ledger_rejects_inconsistent_pages(void **state)
{
    struct xf_ledger *l;
    struct xf_reservation r = res("x", 1000, 0);
    uint64_t id = 42;
    (void)state;
    assert_int_equal(xf_ledger_new(&l), 0);
    r.node_pages[1] = 1001; /* more on the node than in all */
    assert_int_equal(xf_ledger_add(l, &r, &id), XF_EINVAL);
    r.node_pages[1] = 1000;
    r.node_pages[2] = 5; /* pages on a node outside the mask */
    assert_int_equal(xf_ledger_add(l, &r, &id), XF_EINVAL);
    assert_int_equal(id, 42);
    assert_int_equal(xf_ledger_count(l), 0);
    xf_ledger_free(l);
}

static void test_ledger_owner_and_expiry(void **state)
{
    struct xf_ledger *l;
    struct xf_reservation a = res("s1", 10, 100), b = res("s1", 20, 300), c = res("s2", 30, 100);
    uint64_t ia, ib, ic, ids[4];
    (void)state;
    assert_int_equal(xf_ledger_new(&l), 0);
    assert_int_equal(xf_ledger_add(l, &a, &ia), 0);
    assert_int_equal(xf_ledger_add(l, &b, &ib), 0);
    assert_int_equal(xf_ledger_add(l, &c, &ic), 0);
    /* Transferred reservations neither expire nor go with their owner. */
    assert_int_equal(xf_ledger_transfer(l, ib, 5), 0);
    assert_int_equal(xf_ledger_expire(l, 99, ids, 4), 0);
    assert_int_equal(xf_ledger_expire(l, 100, ids, 4), 2); /* a and c */
    assert_true((ids[0] == ia && ids[1] == ic) || (ids[0] == ic && ids[1] == ia));
    assert_int_equal(xf_ledger_count(l), 1);
    assert_int_equal(xf_ledger_add(l, &a, &ia), 0);
    assert_int_equal(xf_ledger_drop_owner(l, "s1", ids, 4), 1);
    assert_int_equal(ids[0], ia);
    assert_non_null(xf_ledger_find(l, ib));
    xf_ledger_free(l);
}

static void test_ledger_restore_keeps_ids(void **state)
{
    struct xf_ledger *l;
    struct xf_reservation r = res("x", 10, 0);
    uint64_t id;
    (void)state;
    assert_int_equal(xf_ledger_new(&l), 0);
    r.id = 41;
    r.domid = 3;
    assert_int_equal(xf_ledger_restore(l, &r), 0);
    assert_int_equal(xf_ledger_restore(l, &r), XF_EEXIST);
    r.id = 0;
    assert_int_equal(xf_ledger_restore(l, &r), XF_EINVAL);
    r.domid = XF_DOMID_NONE;
    assert_int_equal(xf_ledger_add(l, &r, &id), 0);
    assert_int_equal(id, 42); /* continues above the restored id */
    xf_ledger_free(l);
}

/* A naive model of the ledger: every reservation ever made, and whether it
 * is still there. The indexed ledger must agree with it after every step of
 * a long random sequence (adds, transfers, deletes, expiry, logins). */
#define MODEL_MAX 3000
static struct {
    struct xf_reservation r;
    bool live;
} model[MODEL_MAX];
static size_t model_n;

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void check_against_model(const struct xf_ledger *l)
{
    size_t live = 0, doms = 0;
    uint64_t pend = 0, pend_node[XF_MAX_NODES] = {0}, got_node[XF_MAX_NODES];
    for (size_t i = 0; i < model_n; i++) {
        const struct xf_reservation *f = xf_ledger_find(l, model[i].r.id);
        if (!model[i].live) {
            assert_null(f);
            continue;
        }
        live++;
        assert_non_null(f);
        assert_int_equal(f->domid, model[i].r.domid);
        assert_int_equal(f->total_pages, model[i].r.total_pages);
        if (model[i].r.domid != XF_DOMID_NONE) {
            doms++;
            assert_ptr_equal(xf_ledger_find_domain(l, model[i].r.domid), f);
        } else {
            pend += f->total_pages;
            for (unsigned n = 0; n < XF_MAX_NODES; n++)
                pend_node[n] += f->node_pages[n];
        }
    }
    assert_int_equal(xf_ledger_count(l), live);
    assert_int_equal(xf_ledger_count_domains(l), doms);
    for (size_t i = 0; i < xf_ledger_count(l); i++)
        assert_int_equal(xf_ledger_at(l, i)->domid != XF_DOMID_NONE, i < doms);
    assert_int_equal(xf_ledger_pending_pages(l, got_node), pend);
    assert_memory_equal(got_node, pend_node, sizeof(got_node));
}

static void test_ledger_indexes_match_a_naive_model(void **state)
{
    struct xf_ledger *l;
    uint64_t seed = 0x9e3779b97f4a7c15u, id, ids[MODEL_MAX];
    (void)state;
    assert_int_equal(xf_ledger_new(&l), 0);
    model_n = 0;
    for (int step = 0; step < 20000; step++) {
        uint64_t x = rnd(&seed);
        size_t k = model_n ? (size_t)(rnd(&seed) % model_n) : 0;
        switch (x % 8) {
        case 0:
        case 1:
        case 2: { /* add, placed on one or two of four nodes */
            if (model_n == MODEL_MAX)
                break;
            char owner[8];
            snprintf(owner, sizeof(owner), "s%u", (unsigned)(x >> 8) % 3);
            struct xf_reservation r = res(owner, 256 + (x >> 16) % 4096, 1 + (x >> 32) % 1000);
            r.node_pages[1] = 0;
            r.node_mask = (UINT64_C(1) << ((x >> 40) % 4)) | (UINT64_C(1) << ((x >> 44) % 4));
            for (unsigned n = 0; n < 4; n++)
                if (r.node_mask >> n & 1)
                    r.node_pages[n] = r.total_pages / 2;
            assert_int_equal(xf_ledger_add(l, &r, &id), 0);
            r.id = id;
            model[model_n].r = r;
            model[model_n++].live = true;
            break;
        }
        case 3:
        case 4: { /* transfer (or re-transfer) to a domain no other holds */
            xf_domid_t dom = 1 + (xf_domid_t)((x >> 8) % 500);
            const struct xf_reservation *holder;
            if (!model_n || !model[k].live)
                break;
            holder = xf_ledger_find_domain(l, dom);
            if (holder && holder->id != model[k].r.id) {
                assert_int_equal(xf_ledger_transfer(l, model[k].r.id, dom), XF_EEXIST);
                break;
            }
            assert_int_equal(xf_ledger_transfer(l, model[k].r.id, dom), 0);
            model[k].r.domid = dom;
            break;
        }
        case 5:
            if (!model_n)
                break;
            assert_int_equal(xf_ledger_delete(l, model[k].r.id),
                             model[k].live ? 0 : XF_EUNKNOWN_RESERVATION);
            model[k].live = false;
            break;
        case 6: { /* expiry of the pending ones at or before now */
            uint64_t now = (x >> 8) % 60;
            size_t n = xf_ledger_expire(l, now, ids, MODEL_MAX), want = 0;
            for (size_t i = 0; i < model_n; i++)
                if (model[i].live && model[i].r.domid == XF_DOMID_NONE &&
                    model[i].r.expires_ns <= now) {
                    model[i].live = false;
                    want++;
                }
            assert_int_equal(n, want);
            break;
        }
        default: { /* a login drops the session's pending ones */
            char owner[8];
            size_t want = 0;
            snprintf(owner, sizeof(owner), "s%u", (unsigned)(x >> 8) % 3);
            for (size_t i = 0; i < model_n; i++)
                if (model[i].live && model[i].r.domid == XF_DOMID_NONE &&
                    strcmp(model[i].r.owner, owner) == 0) {
                    model[i].live = false;
                    want++;
                }
            assert_int_equal(xf_ledger_drop_owner(l, owner, ids, MODEL_MAX), want);
            break;
        }
        }
        if (step % 97 == 0 || step > 19900)
            check_against_model(l);
    }
    check_against_model(l);
    xf_ledger_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ledger_lifecycle),
        cmocka_unit_test(test_ledger_rejects_inconsistent_pages),
        cmocka_unit_test(test_ledger_owner_and_expiry),
        cmocka_unit_test(test_ledger_restore_keeps_ids),
        cmocka_unit_test(test_ledger_indexes_match_a_naive_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
