/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Durability: clients reserve, transfer and delete as fast as they can; the
 * daemon is killed with SIGKILL in the middle of the storm and restarted on
 * the same state. Every acknowledged reservation must be there as it was
 * acknowledged (amount, session, domain) and nothing else may be, except
 * what the one request each client had in flight may have done: a reserve
 * in flight may exist (with that client's session and size), a delete in
 * flight may have happened, a transfer in flight may have happened. Three
 * rounds, killed after a different number of acknowledgements each.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

#define CLIENTS 16
#define MAXRES  4096

static struct td D;
static atomic_int acks;

enum op { NONE, RESERVE, TRANSFER, DELETE };

struct resv {
    char id[40];
    long long kib;
    int domid; /* -1: pending */
};

struct client {
    int index, round;
    unsigned seed;
    struct resv live[MAXRES];
    int n;
    /* The request in flight when the daemon died. */
    enum op inflight;
    long long inflight_kib;
    char inflight_id[40];
    int inflight_domid;
    char error[200];
};

static struct client cls[CLIENTS];

static unsigned next_rand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static void *client_main(void *arg)
{
    struct client *cl = arg;
    struct xfd_client *c = td_connect(&D);
    char session[16];

    snprintf(session, sizeof(session), "k%d", cl->index);
    if (!c)
        return NULL; /* the daemon may already be gone */
    for (;;) {
        unsigned x = next_rand(&cl->seed);
        json_t *v = NULL;
        int r;
        if (cl->n > 0 && x % 4 == 0) {
            int k = (int)(x % (unsigned)cl->n);
            cl->inflight = DELETE;
            snprintf(cl->inflight_id, sizeof(cl->inflight_id), "%s", cl->live[k].id);
            r = td_call(c, &v, "delete_reservation", "[sss]", "t", session, cl->live[k].id);
            if (r == 0)
                cl->live[k] = cl->live[--cl->n];
        } else if (cl->n > 0 && x % 4 == 1 && cl->live[x % (unsigned)cl->n].domid < 0) {
            int k = (int)(x % (unsigned)cl->n);
            int domid = 1 + cl->index * 2000 + (int)(x % 2000);
            cl->inflight = TRANSFER;
            cl->inflight_domid = domid;
            snprintf(cl->inflight_id, sizeof(cl->inflight_id), "%s", cl->live[k].id);
            r = td_call(c, &v, "transfer_reservation_to_domain", "[sssi]", "t", session,
                        cl->live[k].id, domid);
            if (r == 0) {
                /* A domid taken by an earlier reservation of ours supersedes it. */
                for (int j = 0; j < cl->n; j++)
                    if (j != k && cl->live[j].domid == domid) {
                        cl->live[j] = cl->live[--cl->n];
                        if (k == cl->n)
                            k = j;
                        break;
                    }
                cl->live[k].domid = domid;
            }
        } else if (cl->n < MAXRES) {
            long long kib = 4 * (1 + (long long)(x % 512)); /* small: the host never fills */
            cl->inflight = RESERVE;
            cl->inflight_kib = kib;
            r = td_call(c, &v, "reserve_memory", "[ssI]", "t", session, (json_int_t)kib);
            if (r == 0) {
                struct resv *rv = &cl->live[cl->n++];
                snprintf(rv->id, sizeof(rv->id), "%s", json_string_value(v));
                rv->kib = kib;
                rv->domid = -1;
            }
        } else {
            break;
        }
        json_decref(v);
        if (r < 0)
            break; /* the daemon died: this request is the one in flight */
        if (r == 1) {
            snprintf(cl->error, sizeof(cl->error), "client %d: an RPC error in the storm",
                     cl->index);
            break;
        }
        cl->inflight = NONE;
        atomic_fetch_add(&acks, 1);
    }
    xfd_client_close(c);
    return NULL;
}

/* The client index of session "k<i>". */
static int client_of(const char *session)
{
    char *end;
    long k = strtol(session + 1, &end, 10);
    assert_true(session[0] == 'k' && *end == '\0' && k >= 0 && k < CLIENTS);
    return (int)k;
}

static bool listed(json_t *list, const char *id)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        if (strcmp(json_string_value(json_object_get(item, "reservation_id")), id) == 0)
            return true;
    }
    return false;
}

static struct resv *find_live(struct client *cl, const char *id)
{
    for (int i = 0; i < cl->n; i++)
        if (strcmp(cl->live[i].id, id) == 0)
            return &cl->live[i];
    return NULL;
}

/* Checks the restarted daemon's reservations against the clients' view. */
static void check_after_restart(void)
{
    struct xfd_client *c = td_connect(&D);
    json_t *list = NULL, *st = NULL, *item;
    int found[CLIENTS] = {0}, extra_reserves[CLIENTS] = {0};
    long long sum = 0;
    size_t i;

    assert_non_null(c);
    assert_int_equal(td_call(c, &list, "xenfit.list_reservations", "[s]", "t"), 0);
    json_array_foreach(list, i, item)
    {
        const char *id = json_string_value(json_object_get(item, "reservation_id"));
        const char *session = json_string_value(json_object_get(item, "session"));
        long long kib = json_integer_value(json_object_get(item, "kib"));
        json_t *dom = json_object_get(item, "domid");
        int k = client_of(session);
        struct client *cl = &cls[k];
        struct resv *rv = find_live(cl, id);
        sum += kib;
        if (rv) {
            found[k]++;
            assert_int_equal(kib, rv->kib);
            bool transfer_inflight = cl->inflight == TRANSFER && strcmp(cl->inflight_id, id) == 0;
            if (rv->domid >= 0)
                assert_int_equal(json_integer_value(dom), rv->domid);
            else if (!transfer_inflight)
                assert_true(json_is_null(dom));
            else
                assert_true(json_is_null(dom) || json_integer_value(dom) == cl->inflight_domid);
        } else {
            /* Not acknowledged: only the reserve in flight may be there. */
            assert_int_equal(cl->inflight, RESERVE);
            assert_int_equal(kib, cl->inflight_kib);
            assert_true(json_is_null(dom));
            assert_int_equal(++extra_reserves[k], 1);
        }
    }
    for (int k = 0; k < CLIENTS; k++) {
        int missing = cls[k].n - found[k];
        /* Only the reservation a delete in flight named may be missing, or
         * one superseded by a transfer in flight to its domain. */
        if (missing) {
            assert_int_equal(missing, 1);
            assert_true(cls[k].inflight == DELETE || cls[k].inflight == TRANSFER);
            if (cls[k].inflight == DELETE)
                assert_false(listed(list, cls[k].inflight_id));
        }
    }
    /* The accounting agrees: what is free is the host less what is held. */
    assert_int_equal(td_call(c, &st, "xenfit.host_status", "[s]", "t"), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "free_for_new_vm_kib")),
                     (long long)TD_HOST_FREE_KIB - sum);
    print_message("round: %zu reservations after the restart\n", json_array_size(list));
    json_decref(st);
    json_decref(list);
    xfd_client_close(c);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void test_daemon_kill9_keeps_every_acknowledged_reservation(void **state)
{
    static const int kill_after[] = {300, 1500, 4000};
    pthread_t th[CLIENTS];
    (void)state;

    assert_int_equal(td_init(&D), 0);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(td_start(&D, NULL), 0);
        atomic_store(&acks, 0);
        for (int i = 0; i < CLIENTS; i++) {
            /* Each round continues from what the last restart showed. */
            cls[i].index = i;
            cls[i].round = round;
            cls[i].seed = 104729u * (unsigned)(i + 1) + (unsigned)round;
            cls[i].inflight = NONE;
            assert_int_equal(pthread_create(&th[i], NULL, client_main, &cls[i]), 0);
        }
        for (int w = 0; w < 2000 && atomic_load(&acks) < kill_after[round]; w++)
            sleep_ms(2);
        int status = td_signal(&D, SIGKILL);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        for (int i = 0; i < CLIENTS; i++)
            pthread_join(th[i], NULL);
        for (int i = 0; i < CLIENTS; i++) {
            if (cls[i].error[0])
                print_error("%s\n", cls[i].error);
            assert_string_equal(cls[i].error, "");
        }
        print_message("round %d: killed after %d acknowledgements\n", round, atomic_load(&acks));
        assert_int_equal(td_start(&D, NULL), 0);
        check_after_restart();
        /* The next round's clients start from the acknowledged state: drop
         * what the check allowed to differ (in flight) by re-reading. */
        struct xfd_client *c = td_connect(&D);
        json_t *list = NULL, *item;
        size_t i;
        assert_int_equal(td_call(c, &list, "xenfit.list_reservations", "[s]", "t"), 0);
        for (int k = 0; k < CLIENTS; k++)
            cls[k].n = 0;
        json_array_foreach(list, i, item)
        {
            const char *session = json_string_value(json_object_get(item, "session"));
            struct client *cl = &cls[client_of(session)];
            struct resv *rv = &cl->live[cl->n++];
            json_t *dom = json_object_get(item, "domid");
            snprintf(rv->id, sizeof(rv->id), "%s",
                     json_string_value(json_object_get(item, "reservation_id")));
            rv->kib = json_integer_value(json_object_get(item, "kib"));
            rv->domid = json_is_null(dom) ? -1 : (int)json_integer_value(dom);
        }
        json_decref(list);
        xfd_client_close(c);
        assert_int_equal(td_signal(&D, SIGTERM), 0);
    }
    td_done(&D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daemon_kill9_keeps_every_acknowledged_reservation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
