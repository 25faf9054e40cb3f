/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Leak sweeping and reconciling: pending reservations expire after the TTL
 * (2 s here); a transfer to a domain that never appears is dropped a TTL
 * later; a reservation whose domain exists is kept, settles once the domain
 * is built and runs, and is dropped when the domain dies; a login drops only
 * that session's pending reservations; after a restart the ledger is
 * reconciled with the (simulated, hence rebooted) host. Domains are made in
 * the simulator with xenfit.sim_domain_create; sweeps are run on demand
 * (xenfit.sweep) except in the test of the periodic sweep. Time passes by
 * xenfit.sim_advance_time (td_advance), never by sleeping: the periodic
 * sweep's interval (30 s) and the TTLs are far beyond the tests' real time.
 *
 * Numbers (harness.h): 15597568 KiB free for new VMs. A simulated domain of
 * 262144 KiB (65536 pages) is a PVH domain, which the simulator's truth
 * profile gives 16 hidden pages and the 256-page HAP pool a new domain has
 * (docs/host-spec.md): it takes 65808 pages = 263232 KiB in all.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "harness-cmocka.h"

struct fx {
    struct td d;
    struct xfd_client *c;
};

static int start(void **state, char *const *extra)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (!f || td_init(&f->d) < 0 || td_start(&f->d, extra) < 0 || !(f->c = td_connect(&f->d)))
        return -1;
    *state = f;
    return 0;
}

static int setup_on_demand(void **state)
{
    static char *const extra[] = {"--reservation-ttl", "2", "--sweep-interval", "3600000", NULL};
    return start(state, extra);
}

static int setup_restart(void **state)
{
    static char *const extra[] = {"--sweep-interval", "3600000", NULL};
    return start(state, extra);
}

static int setup_periodic(void **state)
{
    static char *const extra[] = {"--reservation-ttl", "1", "--sweep-interval", "30000", NULL};
    return start(state, extra);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    xfd_client_close(f->c);
    td_done(&f->d);
    free(f);
    return 0;
}

static char *reserve(struct xfd_client *c, const char *session, json_int_t kib)
{
    json_t *r = td_ok(c, "reserve_memory", json_pack("[ssI]", "t", session, kib));
    char *id = strdup(json_string_value(r));
    json_decref(r);
    return id;
}

static void transfer(struct xfd_client *c, const char *session, const char *id, json_int_t domid)
{
    json_decref(
        td_ok(c, "transfer_reservation_to_domain", json_pack("[sssI]", "t", session, id, domid)));
}

static json_int_t sim_domain(struct xfd_client *c, json_int_t kib, bool running)
{
    json_t *r = td_ok(c, "xenfit.sim_domain_create", json_pack("[sIb]", "t", kib, running));
    json_int_t domid = json_integer_value(r);
    json_decref(r);
    return domid;
}

/* Runs a sweep and checks its counts. */
static void sweep(struct xfd_client *c, int expired, int died, int settled)
{
    json_t *r = td_ok(c, "xenfit.sweep", json_pack("[s]", "t"));
    char want[128], *t = td_text(r);
    snprintf(want, sizeof(want), "{\"expired\":%d,\"died\":%d,\"settled\":%d}", expired, died,
             settled);
    assert_string_equal(t, want);
    free(t);
    json_decref(r);
}

static json_int_t status(struct xfd_client *c, const char *key)
{
    json_t *st = td_ok(c, "xenfit.host_status", json_pack("[s]", "t"));
    json_int_t v = json_integer_value(json_object_get(st, key));
    json_decref(st);
    return v;
}

static const char *state_of(struct xfd_client *c, const char *id, char *buf, size_t len)
{
    json_t *list = td_ok(c, "xenfit.list_reservations", json_pack("[s]", "t")), *item;
    size_t i;
    snprintf(buf, len, "gone");
    json_array_foreach(list, i, item)
    {
        if (strcmp(json_string_value(json_object_get(item, "reservation_id")), id) == 0)
            snprintf(buf, len, "%s", json_string_value(json_object_get(item, "state")));
    }
    json_decref(list);
    return buf;
}

static void test_daemon_sweep_ttl_and_never_seen_domains(void **state)
{
    struct fx *f = *state;
    char buf[32];

    char *pending = reserve(f->c, "xenopsd", 4096);
    char *orphan = reserve(f->c, "xenopsd", 8192);
    transfer(f->c, "xenopsd", orphan, 4000); /* no such domain */
    sweep(f->c, 0, 0, 0);
    /* Half the TTL (2 s): both are kept. */
    assert_int_equal(td_advance(f->c, 1000), 0);
    sweep(f->c, 0, 0, 0);
    assert_int_equal(td_advance(f->c, 1200), 0);
    /* Past the TTL: the pending one expired, the orphan's domain never came. */
    sweep(f->c, 1, 1, 0);
    assert_string_equal(state_of(f->c, pending, buf, sizeof(buf)), "gone");
    assert_string_equal(state_of(f->c, orphan, buf, sizeof(buf)), "gone");
    assert_int_equal(status(f->c, "free_for_new_vm_kib"), TD_HOST_FREE_KIB);
    free(pending);
    free(orphan);
}

static void test_daemon_sweep_settles_and_drops_dead_domains(void **state)
{
    struct fx *f = *state;
    char buf[32];

    /* A: 512 MiB for a paused domain that took 256 MiB so far (building). */
    char *a = reserve(f->c, "xenopsd", 524288);
    json_int_t da = sim_domain(f->c, 262144, false);
    transfer(f->c, "xenopsd", a, da);
    /* B: 512 MiB for a domain that was built (took 256 MiB) and runs. */
    char *b = reserve(f->c, "xenopsd", 524288);
    json_int_t db = sim_domain(f->c, 262144, true);
    transfer(f->c, "xenopsd", b, db);
    sweep(f->c, 0, 0, 1);
    assert_string_equal(state_of(f->c, a, buf, sizeof(buf)), "transferred");
    assert_string_equal(state_of(f->c, b, buf, sizeof(buf)), "settled");
    /* Past the TTL neither goes: their domains exist. */
    assert_int_equal(td_advance(f->c, 2200), 0);
    sweep(f->c, 0, 0, 0);
    /* Only A's unseen part is pending: 131072 pages less its domain's 65536
     * and 256 of pool = 65280 pages = 261120 KiB; the domains hold 2 x 263232
     * KiB: 15597568 - 261120 - 526464 = 14809984 KiB. */
    assert_int_equal(status(f->c, "pending_kib"), 261120);
    assert_int_equal(status(f->c, "free_for_new_vm_kib"), 14809984);
    /* A settled reservation still answers squeezed's query and delete. */
    char want[64];
    json_t *q = td_ok(f->c, "query_reservation_of_domain", json_pack("[ssI]", "t", "x", db));
    snprintf(want, sizeof(want), "%s", b);
    assert_string_equal(json_string_value(q), want);
    json_decref(q);
    /* A's domain dies: its reservation goes with it. */
    json_decref(td_ok(f->c, "xenfit.sim_domain_destroy", json_pack("[sI]", "t", da)));
    sweep(f->c, 0, 1, 0);
    assert_string_equal(state_of(f->c, a, buf, sizeof(buf)), "gone");
    json_decref(td_ok(f->c, "delete_reservation", json_pack("[sss]", "t", "xenopsd", b)));
    json_decref(td_ok(f->c, "xenfit.sim_domain_destroy", json_pack("[sI]", "t", db)));
    assert_int_equal(status(f->c, "free_for_new_vm_kib"), TD_HOST_FREE_KIB);
    free(a);
    free(b);
}

static void test_daemon_login_drops_only_its_session(void **state)
{
    struct fx *f = *state;
    char buf[32];
    char *mine = reserve(f->c, "xenopsd", 4096), *theirs = reserve(f->c, "other", 4096);
    json_decref(td_ok(f->c, "login", json_pack("[ss]", "t", "xenopsd")));
    assert_string_equal(state_of(f->c, mine, buf, sizeof(buf)), "gone");
    assert_string_equal(state_of(f->c, theirs, buf, sizeof(buf)), "pending");
    free(mine);
    free(theirs);
}

static void test_daemon_restart_reconciles_with_the_host(void **state)
{
    struct fx *f = *state;
    static char *const extra[] = {"--sweep-interval", "3600000", NULL};
    char buf[32];

    char *a = reserve(f->c, "xenopsd", 524288);
    json_int_t da = sim_domain(f->c, 262144, false);
    transfer(f->c, "xenopsd", a, da);
    sweep(f->c, 0, 0, 0); /* A's domain is seen */
    char *b = reserve(f->c, "xenopsd", 4096);
    xfd_client_close(f->c);
    assert_true(WIFSIGNALED(td_signal(&f->d, SIGKILL)));
    /* The simulated host restarts empty: A's domain died with it; B is kept
     * (pending, within its 600 s TTL). */
    assert_int_equal(td_start(&f->d, extra), 0);
    assert_non_null(f->c = td_connect(&f->d));
    assert_string_equal(state_of(f->c, a, buf, sizeof(buf)), "gone");
    assert_string_equal(state_of(f->c, b, buf, sizeof(buf)), "pending");
    assert_int_equal(status(f->c, "free_for_new_vm_kib"), TD_HOST_FREE_KIB - 4096);
    free(a);
    free(b);
}

static void test_daemon_periodic_sweep_expires(void **state)
{
    struct fx *f = *state;
    char buf[32];
    char *id = reserve(f->c, "xenopsd", 4096);
    /* TTL 1 s, a sweep every 30 s. Past the TTL it stays until a sweep
     * runs; the daemon runs one by itself once 30 s have passed, before it
     * serves the next request. */
    assert_int_equal(td_advance(f->c, 20000), 0);
    assert_string_equal(state_of(f->c, id, buf, sizeof(buf)), "pending");
    assert_int_equal(td_advance(f->c, 10000), 0);
    assert_string_equal(state_of(f->c, id, buf, sizeof(buf)), "gone");
    json_t *e = NULL;
    char want[128];
    assert_int_equal(
        td_call(f->c, &e, "transfer_reservation_to_domain", "[sssi]", "t", "xenopsd", id, 3), 1);
    char *t = td_text(e);
    snprintf(want, sizeof(want), "[\"Unknown_reservation\",\"%s\"]", id);
    assert_string_equal(t, want);
    free(t);
    json_decref(e);
    free(id);
}

static void test_daemon_sim_advance_time_only_forward(void **state)
{
    struct fx *f = *state;
    json_t *r = NULL;
    char *t;

    /* The total so far comes back; going back is refused, changing nothing. */
    assert_int_equal(td_call(f->c, &r, "xenfit.sim_advance_time", "[si]", "t", 2200), 0);
    assert_int_equal(json_integer_value(r), 2200);
    json_decref(r);
    assert_int_equal(td_call(f->c, &r, "xenfit.sim_advance_time", "[si]", "t", -1), 1);
    t = td_text(r);
    assert_string_equal(t, "[\"Invalid_argument\",\"xenfit.sim_advance_time: parameter 2 (ms) "
                           "must be 0 or more, up to 100 years in all; time does not go back\"]");
    free(t);
    json_decref(r);
    assert_int_equal(td_call(f->c, &r, "xenfit.sim_advance_time", "[ss]", "t", "800"), 0);
    assert_int_equal(json_integer_value(r), 3000);
    json_decref(r);
    /* 100 years in all at most (36600 days of 86400000 ms). */
    assert_int_equal(
        td_call(f->c, &r, "xenfit.sim_advance_time", "[sI]", "t", (json_int_t)3162240000000 - 2999),
        1);
    json_decref(r);
    assert_int_equal(
        td_call(f->c, &r, "xenfit.sim_advance_time", "[sI]", "t", (json_int_t)3162240000000 - 3000),
        0);
    assert_int_equal(json_integer_value(r), 3162240000000);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_daemon_sweep_ttl_and_never_seen_domains,
                                        setup_on_demand, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_sweep_settles_and_drops_dead_domains,
                                        setup_on_demand, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_login_drops_only_its_session, setup_on_demand,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_daemon_restart_reconciles_with_the_host, setup_restart,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_daemon_periodic_sweep_expires, setup_periodic,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_daemon_sim_advance_time_only_forward, setup_on_demand,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
