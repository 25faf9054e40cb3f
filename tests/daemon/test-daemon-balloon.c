/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd ballooning through squeezed's methods (docs/daemon.md,
 * "Ballooning"), the real daemon on the simulator: two guests of 4 GiB with
 * balloon drivers (dynamic range [1 GiB, 6 GiB], 1 GiB/s) made with
 * xenfit.sim_domain_create and xenfit.sim_balloon. reserve_memory squeezes
 * them, a reserve beyond their minimums is Cannot_free_this_much_memory with
 * squeezed's numbers, stuck drivers are Domains_refused_to_cooperate with
 * their domids, balance_memory gives the memory back in proportion, the idle
 * balance runs by itself, a squeeze on one node frees memory there, and
 * get_diagnostics and xenfit.last_squeeze say who gave what.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

#include <cmocka.h>

#include "harness-cmocka.h"

#define GIB UINT64_C(1048576) /* KiB */

struct fx {
    struct td d;
    struct xfd_client *c;
    json_int_t a, b;
};

static int start(void **state, char *const *extra)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (!f || td_init(&f->d) < 0 || td_start(&f->d, extra) < 0 || !(f->c = td_connect(&f->d)))
        return -1;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    char *const extra[] = {"--balance-interval", "0", NULL};
    return start(state, extra);
}

static int setup_idle(void **state)
{
    char *const extra[] = {"--balance-interval", "100", NULL};
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

/* Calls, expects an error, returns its text. */
static char *error_text(struct xfd_client *c, const char *method, json_t *params)
{
    json_t *res = NULL, *err = NULL;
    char *t;
    assert_int_not_equal(xfd_client_call(c, method, params, &res, &err), 0);
    assert_non_null(err);
    t = td_text(err);
    json_decref(err);
    json_decref(res);
    return t;
}

static json_int_t guest(struct fx *f, const char *driver)
{
    json_t *r = td_ok(f->c, "xenfit.sim_domain_create", json_pack("[sIb]", "t", 4 * GIB, 1));
    json_int_t d = json_integer_value(r);
    json_decref(r);
    json_decref(
        td_ok(f->c, "xenfit.sim_balloon",
              json_pack("[sI{sIsIsIsIss}]", "t", d, "dynamic_min_kib", GIB, "dynamic_max_kib",
                        6 * GIB, "target_kib", 4 * GIB, "rate_kib_per_s", GIB, "driver", driver)));
    return d;
}

static json_int_t free_kib(struct fx *f, int node)
{
    json_t *st = td_ok(f->c, "xenfit.host_status", json_pack("[s]", "t"));
    json_t *o = node < 0 ? st : json_array_get(json_object_get(st, "nodes"), (size_t)node);
    json_int_t x = json_integer_value(json_object_get(o, "free_for_new_vm_kib"));
    json_decref(st);
    return x;
}

static json_t *last_squeeze(struct fx *f)
{
    return td_ok(f->c, "xenfit.last_squeeze", json_pack("[s]", "t"));
}

static json_int_t gave(const json_t *sq, json_int_t domid, const char *key)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(sq, "gave"), i, g)
    {
        if (json_integer_value(json_object_get(g, "domid")) == domid)
            return json_integer_value(json_object_get(g, key));
    }
    return -1;
}

static void test_daemon_balloon_reserve_cannot_free_balance(void **state)
{
    struct fx *f = *state;
    json_t *r, *sq;
    json_int_t f0;
    char *t, want[160];

    f->a = guest(f, "ok");
    f->b = guest(f, "ok");
    f0 = free_kib(f, -1);
    /* No squeeze yet. */
    r = last_squeeze(f);
    assert_true(json_is_null(r));
    json_decref(r);

    /* 1 GiB more than free: the two give 1 GiB + 8 MiB between them. */
    r = td_ok(f->c, "reserve_memory", json_pack("[ssI]", "t", "xenopsd", f0 + (json_int_t)GIB));
    assert_true(td_is_uuid(json_string_value(r)));
    json_decref(r);
    sq = last_squeeze(f);
    assert_string_equal(json_string_value(json_object_get(sq, "result")), "success");
    assert_int_equal(json_array_size(json_object_get(sq, "gave")), 2);
    assert_true(gave(sq, f->a, "kib") + gave(sq, f->b, "kib") >= (json_int_t)GIB + 8192);
    assert_true(gave(sq, f->a, "kib") + gave(sq, f->b, "kib") <= (json_int_t)GIB + 8192 + 64);
    json_decref(sq);
    /* The reservation holds it; free is what the squeeze left over. */
    assert_true(free_kib(f, -1) >= 8192 && free_kib(f, -1) <= 8192 + 64);

    /* 6 GiB more: the guests can give 5 GiB more at most (both to 1 GiB):
     * squeezed's (needed, free), free less its 8 MiB. */
    t = error_text(f->c, "reserve_memory",
                   json_pack("[ssI]", "t", "xenopsd", (json_int_t)(6 * GIB)));
    snprintf(want, sizeof(want), "[\"Cannot_free_this_much_memory\",[%llu,%llu]]",
             (unsigned long long)(6 * GIB), (unsigned long long)(5 * GIB - 8192));
    assert_string_equal(t, want);
    free(t);

    /* balance_memory: 5 GiB free, aim 8 MiB. The first look gives both
     * 1 GiB + (5 GiB - 8 MiB) / 2; once they are above their minimum each
     * counts 2 x 4 KiB of inaccuracy (squeeze.ml min_freeable), so the
     * targets settle at 1 GiB + (5 GiB - 8 MiB - 16 KiB) / 2 = 3665912. */
    r = td_ok(f->c, "balance_memory", json_pack("[s]", "t"));
    assert_true(json_is_null(r));
    json_decref(r);
    sq = last_squeeze(f);
    assert_string_equal(json_string_value(json_object_get(sq, "result")), "success");
    assert_int_equal(gave(sq, f->a, "target_kib"), 3665912);
    assert_int_equal(gave(sq, f->b, "target_kib"), 3665912);
    assert_int_equal(gave(sq, f->a, "kib"), -(3665912 - (json_int_t)GIB));
    json_decref(sq);
    assert_int_equal(free_kib(f, -1), 8192 + 16);

    /* get_diagnostics says who gave (or took) what. */
    r = td_ok(f->c, "get_diagnostics", json_pack("[s]", "t"));
    snprintf(want, sizeof(want), "domain %lld took %lld KiB (target 3665912)", (long long)f->a,
             (long long)(3665912 - GIB));
    assert_non_null(strstr(json_string_value(r), "last squeeze: success"));
    assert_non_null(strstr(json_string_value(r), want));
    json_decref(r);
}

static void test_daemon_balloon_refused_to_cooperate(void **state)
{
    struct fx *f = *state;
    json_int_t f0;
    char *t, want[120];

    f->a = guest(f, "stuck");
    f->b = guest(f, "stuck");
    f0 = free_kib(f, -1);
    t = error_text(
        f->c, "reserve_memory_range",
        json_pack("[ssII]", "t", "xenopsd", f0 + (json_int_t)GIB, f0 + 2 * (json_int_t)GIB));
    snprintf(want, sizeof(want), "[\"Domains_refused_to_cooperate\",[%lld,%lld]]", (long long)f->a,
             (long long)f->b);
    assert_string_equal(t, want);
    free(t);
    /* Nothing was reserved. */
    assert_int_equal(free_kib(f, -1), f0);

    /* The same over XML-RPC, as xenopsd posts it: ocaml-rpc's failure with
     * the domids as an array. */
    {
        char body[512], req[768], *reply = NULL, xml[300];
        int n = snprintf(body, sizeof(body),
                         "<?xml version=\"1.0\"?><methodCall><methodName>reserve_memory"
                         "</methodName><params><param><value>t</value></param><param><value>"
                         "xenopsd</value></param><param><value><i4>%lld</i4></value></param>"
                         "</params></methodCall>",
                         (long long)(f0 + (json_int_t)GIB));
        int m = snprintf(req, sizeof(req),
                         "POST /var/xapi/memory HTTP/1.1\r\nUser-agent: xenopsd\r\n"
                         "content-length: %d\r\n\r\n%s",
                         n, body);
        assert_int_equal(td_raw(&f->d, req, (size_t)m, &reply), 200);
        snprintf(xml, sizeof(xml),
                 "<value>Domains_refused_to_cooperate</value><value><array><data>"
                 "<value>%lld</value><value>%lld</value></data></array></value>",
                 (long long)f->a, (long long)f->b);
        assert_non_null(strstr(reply, "<name>Status</name><value>Failure</value>"));
        assert_non_null(strstr(reply, xml));
        free(reply);
    }
}

/* Free memory on node 1 only (xenfit.squeeze): the guests' pages sit on
 * both nodes (the simulator's round robin), so both give, from node 1. */
static void test_daemon_balloon_squeeze_on_a_node(void **state)
{
    struct fx *f = *state;
    json_t *sq, *g;
    json_int_t n1, n0;
    size_t i;
    char *t;

    f->a = guest(f, "ok");
    f->b = guest(f, "ok");
    n0 = free_kib(f, 0);
    n1 = free_kib(f, 1);
    sq = td_ok(f->c, "xenfit.squeeze", json_pack("[sI[i]]", "t", n1 + (json_int_t)GIB, 1));
    assert_string_equal(json_string_value(json_object_get(sq, "result")), "success");
    json_array_foreach(json_object_get(sq, "gave"), i, g)
    {
        json_int_t on1 = json_integer_value(json_object_get(json_object_get(g, "node_kib"), "1"));
        assert_true(on1 > 0);
    }
    json_decref(sq);
    assert_true(free_kib(f, 1) >= n1 + (json_int_t)GIB + 8192);
    assert_true(free_kib(f, 0) > n0); /* their node-0 pages went too, in proportion */
    /* Bad input names the value; nothing is squeezed. */
    t = error_text(f->c, "xenfit.squeeze", json_pack("[sI[i]]", "t", (json_int_t)GIB, 7));
    assert_non_null(strstr(t, "entry 1 is not a node of this host (0 to 1)"));
    free(t);
    t = error_text(f->c, "xenfit.sim_balloon",
                   json_pack("[sI{sIsIsI}]", "t", f->a, "dynamic_min_kib", 2 * GIB,
                             "dynamic_max_kib", GIB, "target_kib", GIB));
    assert_non_null(strstr(t, "dynamic_min_kib 2097152 <= target_kib 1048576 <= dynamic_max_kib "
                              "1048576 does not hold"));
    free(t);
}

/* squeezed's balance thread: with memory free and guests below their
 * dynamic_max, the idle balance raises them without being asked. */
static void test_daemon_balloon_idle_balance(void **state)
{
    struct fx *f = *state;
    json_t *sq = NULL;

    f->a = guest(f, "ok");
    for (int i = 0; i < 100; i++) {
        struct timespec ts = {0, 50000000};
        json_decref(sq);
        sq = last_squeeze(f);
        if (!json_is_null(sq))
            break;
        nanosleep(&ts, NULL);
    }
    assert_false(json_is_null(sq));
    /* Plenty free: to dynamic_max, every domain at its top: squeezed's
     * "Failed []", which its balance catches. */
    assert_int_equal(gave(sq, f->a, "target_kib"), 6 * (json_int_t)GIB);
    assert_int_equal(gave(sq, f->a, "kib"), -2 * (json_int_t)GIB);
    json_decref(sq);
}

/* Runs xenfitd with one bad option: exit 2 and a message naming it. */
static void expect_usage(const char *opt, const char *value, const char *want)
{
    char out[1024];
    size_t n = 0;
    ssize_t got;
    int fds[2], st;
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        execl(XFD_BINARY, XFD_BINARY, opt, value, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    while (n < sizeof(out) - 1 && (got = read(fds[0], out + n, sizeof(out) - 1 - n)) > 0)
        n += (size_t)got;
    out[n] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 2);
    if (!strstr(out, want))
        print_error("got: %s\n", out);
    assert_non_null(strstr(out, want));
}

static void test_daemon_balloon_bad_options(void **state)
{
    (void)state;
    expect_usage("--balloon", "maybe", "--balloon 'maybe': must be on or off");
    expect_usage("--balance-interval", "3600001",
                 "--balance-interval '3600001': expected an integer in 0..3600000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_daemon_balloon_reserve_cannot_free_balance, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_daemon_balloon_refused_to_cooperate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_balloon_squeeze_on_a_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_balloon_idle_balance, setup_idle, teardown),
        cmocka_unit_test(test_daemon_balloon_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
