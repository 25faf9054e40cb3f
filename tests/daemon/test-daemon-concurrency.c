/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * 64 concurrent clients reserve (amounts and VMs), transfer and release
 * against one daemon while a checker takes atomic snapshots: no snapshot may
 * show the host or a node promised more than it had free. The test host has
 * 15597568 KiB free for new VMs, node 0 8060928 KiB, node 1 7340032 KiB
 * (harness.h); the clients ask for far more, so most of the time the host
 * is full and refusals race with releases.
 *
 * Invariants checked in every snapshot (xenfit.host_status is one atomic
 * reply): pending + free_for_new_vm == 15597568 KiB (nothing is lost or
 * double counted; no domain exists, so every reservation is pending in the
 * accounting), pending <= 15597568, and per node, the VMs placed there
 * (placed_kib) <= that node's free memory. At the end every client deletes
 * what it holds and the host is back to 15597568 KiB exactly.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define CLIENTS 64
#define OPS     120
#define HELD    4

static struct td D;
static atomic_bool stop_checker;

struct client {
    int index;
    unsigned seed;
    char ids[HELD][40];
    int held;
    /* results */
    int granted, refused, deleted, transferred, errors;
    char error[256];
};

static unsigned next_rand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static void fail_with(struct client *cl, const char *what, json_t *v)
{
    char *t = v ? td_text(v) : NULL;
    if (!cl->errors++)
        snprintf(cl->error, sizeof(cl->error), "client %d: %s %s", cl->index, what, t ? t : "");
    free(t);
}

static void *client_main(void *arg)
{
    struct client *cl = arg;
    struct xfd_client *c = td_connect(&D);
    char session[16];
    json_t *v;
    int r;

    snprintf(session, sizeof(session), "c%d", cl->index);
    if (!c) {
        fail_with(cl, "cannot connect", NULL);
        return NULL;
    }
    for (int op = 0; op < OPS; op++) {
        unsigned x = next_rand(&cl->seed);
        v = NULL;
        if (cl->held > 0 && (x % 3 == 0 || cl->held == HELD)) {
            /* Release one (a transferred one too: squeezed's flow). */
            int k = (int)(x % (unsigned)cl->held);
            r = td_call(c, &v, "delete_reservation", "[sss]", "t", session, cl->ids[k]);
            if (r != 0)
                fail_with(cl, "delete", v);
            memmove(cl->ids[k], cl->ids[--cl->held], sizeof(cl->ids[k]));
            cl->deleted++;
        } else if (x % 5 == 0) {
            /* A VM: hvm, 512..2048 MiB, 1-4 vCPUs, placed on a node. */
            json_int_t mib = 512 * (1 + (json_int_t)(x % 4));
            r = td_call(c, &v, "xenfit.reserve_vm", "[ss{sssIsi}]", "t", session, "type", "hvm",
                        "static_max_mib", mib, "vcpus", 1 + (int)(x % 4));
            if (r == 0) {
                snprintf(cl->ids[cl->held++], 40, "%s",
                         json_string_value(json_object_get(v, "reservation_id")));
                cl->granted++;
            } else if (r == 1 && json_is_array(v) &&
                       strcmp(json_string_value(json_array_get(v, 0)),
                              "Host_not_enough_free_memory") == 0) {
                cl->refused++;
            } else {
                fail_with(cl, "reserve_vm", v);
            }
        } else {
            /* An amount: 64 MiB .. 1 GiB, whole pages. */
            json_int_t kib = 65536 * (1 + (json_int_t)(x % 16));
            r = td_call(c, &v, "reserve_memory", "[ssI]", "t", session, kib);
            if (r == 0) {
                snprintf(cl->ids[cl->held++], 40, "%s", json_string_value(v));
                cl->granted++;
                if (x % 7 == 0) {
                    json_t *t = NULL;
                    /* A domain of its own (never created: kept a TTL). */
                    if (td_call(c, &t, "transfer_reservation_to_domain", "[sssi]", "t", session,
                                cl->ids[cl->held - 1], 1000 + cl->index * 100 + op) != 0)
                        fail_with(cl, "transfer", t);
                    json_decref(t);
                    cl->transferred++;
                }
            } else if (r == 1 && json_is_array(v) &&
                       strcmp(json_string_value(json_array_get(v, 0)),
                              "Cannot_free_this_much_memory") == 0) {
                /* [needed, free]: it was refused because it did not fit. */
                json_t *nf = json_array_get(v, 1);
                if (json_integer_value(json_array_get(nf, 0)) <=
                    json_integer_value(json_array_get(nf, 1)))
                    fail_with(cl, "refused though it fit", v);
                cl->refused++;
            } else {
                fail_with(cl, "reserve_memory", v);
            }
        }
        json_decref(v);
        if (cl->errors)
            break;
    }
    while (cl->held > 0) {
        v = NULL;
        if (td_call(c, &v, "delete_reservation", "[sss]", "t", session, cl->ids[--cl->held]) != 0)
            fail_with(cl, "final delete", v);
        json_decref(v);
    }
    xfd_client_close(c);
    return NULL;
}

struct checker {
    int snapshots;
    int full; /* snapshots with less than 1 GiB left */
    char error[256];
};

static json_int_t member(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void *checker_main(void *arg)
{
    struct checker *ck = arg;
    struct xfd_client *c = td_connect(&D);
    static const json_int_t node_free[2] = {TD_NODE0_FREE_KIB, TD_NODE1_FREE_KIB};

    if (!c) {
        snprintf(ck->error, sizeof(ck->error), "checker cannot connect");
        return NULL;
    }
    while (!atomic_load(&stop_checker) && !ck->error[0]) {
        json_t *st = NULL;
        if (td_call(c, &st, "xenfit.host_status", "[s]", "t") != 0) {
            snprintf(ck->error, sizeof(ck->error), "host_status failed");
            json_decref(st);
            break;
        }
        json_int_t pending = member(st, "pending_kib"), freek = member(st, "free_for_new_vm_kib");
        if (pending + freek != (json_int_t)TD_HOST_FREE_KIB ||
            pending > (json_int_t)TD_HOST_FREE_KIB)
            snprintf(ck->error, sizeof(ck->error),
                     "host overbooked or lost: pending %lld + free %lld != %llu",
                     (long long)pending, (long long)freek, (unsigned long long)TD_HOST_FREE_KIB);
        for (size_t n = 0; n < 2; n++) {
            json_t *node = json_array_get(json_object_get(st, "nodes"), n);
            if (member(node, "placed_kib") > node_free[n])
                snprintf(ck->error, sizeof(ck->error), "node %zu overbooked: %lld > %lld KiB", n,
                         (long long)member(node, "placed_kib"), (long long)node_free[n]);
        }
        ck->snapshots++;
        ck->full += freek < 1048576;
        json_decref(st);
    }
    xfd_client_close(c);
    return NULL;
}

static void test_daemon_64_clients_never_overbook(void **state)
{
    static struct client cls[CLIENTS];
    pthread_t th[CLIENTS], ckt;
    struct checker ck = {0};
    int granted = 0, refused = 0, transferred = 0;
    json_t *st = NULL;
    (void)state;

    assert_int_equal(td_init(&D), 0);
    assert_int_equal(td_start(&D, NULL), 0);
    atomic_store(&stop_checker, false);
    assert_int_equal(pthread_create(&ckt, NULL, checker_main, &ck), 0);
    for (int i = 0; i < CLIENTS; i++) {
        cls[i].index = i;
        cls[i].seed = 7919u * (unsigned)i + 1;
        assert_int_equal(pthread_create(&th[i], NULL, client_main, &cls[i]), 0);
    }
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&stop_checker, true);
    pthread_join(ckt, NULL);
    for (int i = 0; i < CLIENTS; i++) {
        if (cls[i].errors)
            print_error("%s\n", cls[i].error);
        assert_int_equal(cls[i].errors, 0);
        granted += cls[i].granted;
        refused += cls[i].refused;
        transferred += cls[i].transferred;
    }
    if (ck.error[0])
        print_error("%s\n", ck.error);
    assert_string_equal(ck.error, "");
    print_message("%d granted, %d refused, %d transferred; %d snapshots (%d nearly full)\n",
                  granted, refused, transferred, ck.snapshots, ck.full);
    /* The run must have filled the host, or it tested nothing. */
    assert_true(refused > 0);
    assert_true(granted > CLIENTS);
    assert_true(ck.snapshots > 0);
    /* Everything released: the host is whole again, the ledger empty. */
    struct xfd_client *c = td_connect(&D);
    assert_non_null(c);
    assert_int_equal(td_call(c, &st, "xenfit.host_status", "[s]", "t"), 0);
    assert_int_equal(member(st, "free_for_new_vm_kib"), TD_HOST_FREE_KIB);
    assert_int_equal(member(st, "pending_kib"), 0);
    json_decref(st);
    assert_int_equal(td_call(c, &st, "xenfit.list_reservations", "[s]", "t"), 0);
    assert_int_equal(json_array_size(st), 0);
    json_decref(st);
    xfd_client_close(c);
    td_done(&D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daemon_64_clients_never_overbook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
