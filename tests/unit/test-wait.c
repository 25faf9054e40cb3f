/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Waiting for freed memory (lib/toolstack/wait.c) on the simulator: backoff,
 * logging at the 1st, 2nd, 4th, 8th... check, the 64 s bound, the numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xenfit/error.h"
#include "xenfit/sim.h"
#include "xenfit/units.h"
#include "xenfit/wait.h"

/* 4 GiB on one node; dom0 1 GiB; a destroyed domain returns 128 MiB/s. */
static const char host[] =
    "{\"name\":\"t\",\"nodes\":[{\"memory_mib\":4096,\"cpus\":4,\"cores\":2}],"
    "\"dom0\":{\"vcpus\":1,\"memory_mib\":1024},"
    "\"timing\":{\"release_mib_per_s\":128}}";

static struct xf_hv *sim(void)
{
    struct xf_hv *hv;
    struct xf_parse_error err;
    int r = xf_sim_new_from_json(host, strlen(host), NULL, &hv, &err);
    if (r)
        fail_msg("%s", err.message);
    return hv;
}

static int logs;
static char last_log[256];
static void log_fn(void *ctx, const char *msg)
{
    (void)ctx;
    logs++;
    snprintf(last_log, sizeof(last_log), "%s", msg);
}

static uint64_t free_pages(struct xf_hv *hv)
{
    struct xf_hv_physinfo pi;
    assert_int_equal(xf_hv_physinfo(hv, &pi), 0);
    return pi.free_pages - pi.outstanding_pages;
}

static xf_domid_t big_domain(struct xf_hv *hv, uint64_t pages)
{
    xf_domid_t d;
    uint64_t done = 0;
    struct xf_hv_populate req = {.nr_extents = pages / 512, .order = 9, .node = XF_NODE_ANY};
    assert_int_equal(xf_hv_domain_create(hv, XF_DOMAIN_PV, &d), 0);
    assert_int_equal(xf_hv_set_max_vcpus(hv, d, 1), 0);
    assert_int_equal(xf_hv_set_max_pages(hv, d, pages + 256), 0);
    assert_int_equal(xf_hv_populate(hv, d, &req, &done), 0);
    return d;
}

static void test_wait_until_released(void **state)
{
    struct xf_hv *hv = sim();
    struct xf_wait w;
    uint64_t before, need;
    (void)state;
    /* A 2 GiB domain is destroyed; we need 2 GiB back beyond what is free now.
     * At 128 MiB/s that takes 16 s: the checks at 0, 0.1, 0.3, 0.7, 1.5, 3.1,
     * 6.3, 10.3, 14.3 s see too little, the one at 18.3 s enough (backoff
     * doubles from 100 ms and is capped at 4 s). */
    xf_domid_t d = big_domain(hv, 2048 * 256);
    before = free_pages(hv);
    need = before + 2048 * 256 - 1024; /* almost all of it back */
    assert_int_equal(xf_hv_destroy(hv, d), 0);
    struct xf_wait_params p = {.needed_pages = need, .log = log_fn};
    logs = 0;
    xf_wait_init(&w, &p);
    assert_int_equal(xf_wait_free_memory(hv, &w), 0);
    assert_int_equal(w.checks, 10);
    assert_true(w.waited_ns >= UINT64_C(16) * 1000000000u);
    assert_true(w.waited_ns < UINT64_C(19) * 1000000000u);
    /* Logged at checks 1, 2, 4, 8 and when enough: 5 lines. */
    assert_int_equal(logs, 5);
    assert_non_null(strstr(last_log, "enough"));
    xf_hv_free(hv);
}

static void test_wait_gives_up_with_numbers(void **state)
{
    struct xf_hv *hv = sim();
    struct xf_wait w;
    uint64_t avail;
    (void)state;
    avail = free_pages(hv);
    struct xf_wait_params p = {.needed_pages = avail + 256, .log = log_fn}; /* 1 MiB too many */
    logs = 0;
    xf_wait_init(&w, &p);
    uint64_t t0 = xf_hv_now_ns(hv);
    assert_int_equal(xf_wait_free_memory(hv, &w), XF_ENOFIT);
    /* The 64 s bound of simulated time (plus the microseconds the simulator
     * charges for each physinfo call), then the numbers. */
    assert_true(xf_hv_now_ns(hv) - t0 >= UINT64_C(64) * 1000000000u);
    assert_true(xf_hv_now_ns(hv) - t0 < UINT64_C(64) * 1000000000u + 1000000u);
    assert_int_equal(w.last_available_pages, avail);
    assert_non_null(strstr(last_log, "giving up"));
    char want[64];
    snprintf(want, sizeof(want), "%llu MiB free, %llu MiB needed",
             (unsigned long long)xf_mib_of_pages_free(avail),
             (unsigned long long)xf_mib_of_pages_used(avail + 256));
    assert_non_null(strstr(last_log, want));
    xf_hv_free(hv);
}

static void test_wait_reserve_counts(void **state)
{
    struct xf_hv *hv = sim();
    struct xf_wait w;
    uint64_t avail;
    (void)state;
    avail = free_pages(hv);
    /* Enough at once, unless the 64 MiB reserve is held back. */
    struct xf_wait_params p = {.needed_pages = avail - 1000, .timeout_ns = 1000000000u};
    xf_wait_init(&w, &p);
    assert_int_equal(xf_wait_free_memory(hv, &w), 0);
    assert_int_equal(w.checks, 1);
    p.reserve_pages = 64 * 256;
    xf_wait_init(&w, &p);
    assert_int_equal(xf_wait_free_memory(hv, &w), XF_ENOFIT);
    xf_hv_free(hv);
}

/* xen-api's wait_xen_free_mem (domain.ml): one check a second, logged at
 * 1, 2, 4 ... 64 s, and at 0 s on every call since PR 6869
 * (1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7; the parent,
 * 87178fcaebf9d4f9fcfe14c053fea9460e651c93, logged only at powers of two);
 * it returns false at once when physinfo scrub_pages is 0. */
static void test_wait_xapi_schedule(void **state)
{
    struct xf_hv *hv = sim();
    struct xf_wait w;
    uint64_t sleep_ns = 0;
    (void)state;
    assert_true(xf_wait_xapi_logs(true, 0));
    assert_false(xf_wait_xapi_logs(false, 0));
    assert_true(xf_wait_xapi_logs(false, 1));
    assert_true(xf_wait_xapi_logs(false, 2));
    assert_false(xf_wait_xapi_logs(true, 3));
    assert_true(xf_wait_xapi_logs(true, 64));
    assert_false(xf_wait_xapi_logs(true, 63));
    /* A domain is returning 2 GiB at 128 MiB/s, but scrub_pages is 0 (as on
     * Xen): xen-api gives up on the first check, without sleeping. xenfit's
     * own schedule (test_wait_until_released) waits for it. */
    xf_domid_t d = big_domain(hv, 2048 * 256);
    uint64_t before = free_pages(hv);
    assert_int_equal(xf_hv_destroy(hv, d), 0);
    struct xf_wait_params p = {.needed_pages = before + 1024 * 256,
                               .log = log_fn,
                               .xapi_schedule = true,
                               .xapi_log_at_zero = true};
    logs = 0;
    xf_wait_init(&w, &p);
    uint64_t t0 = xf_hv_now_ns(hv);
    assert_int_equal(xf_wait_step(&w, hv, &sleep_ns), XF_ENOFIT);
    assert_int_equal(sleep_ns, 0);
    assert_int_equal(w.checks, 1);
    assert_int_equal(logs, 1); /* the 0 s line */
    assert_non_null(strstr(last_log, "check 1 after 0 ms"));
    /* Pre-6869: not even that line. */
    p.xapi_log_at_zero = false;
    logs = 0;
    xf_wait_init(&w, &p);
    assert_int_equal(xf_wait_free_memory(hv, &w), XF_ENOFIT);
    assert_int_equal(logs, 0);
    assert_true(xf_hv_now_ns(hv) - t0 < 1000000000u);
    xf_hv_free(hv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_xapi_schedule),
        cmocka_unit_test(test_wait_until_released),
        cmocka_unit_test(test_wait_gives_up_with_numbers),
        cmocka_unit_test(test_wait_reserve_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
