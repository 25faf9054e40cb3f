/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The reservation ledger (lib/core/ledger.c).
 */
#include <setjmp.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ledger_lifecycle),
        cmocka_unit_test(test_ledger_rejects_inconsistent_pages),
        cmocka_unit_test(test_ledger_owner_and_expiry),
        cmocka_unit_test(test_ledger_restore_keeps_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
