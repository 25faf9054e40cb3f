/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The seeded scheduler (lib/hv/sim/sched.c): steps, sleeping tasks and the
 * clock, results, the step limit, allocation failure, and determinism: the
 * same seed replays the same interleaving of parallel builds on the
 * simulator, step for step and page for page; another seed does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "builder.h"
#include "fail-alloc.h"
#include "hv-test.h"
#include "xenfit/alloc.h"
#include "xenfit/error.h"
#include "xenfit/sim.h"

struct counter {
    int left;
    int result;
    uint64_t sleep_ns;
    uint64_t *log; /* wake-up times */
    int nlog;
};

static int count_step(void *ctx, struct xf_hv *hv, uint64_t *ret_sleep_ns)
{
    struct counter *c = ctx;
    if (c->log)
        c->log[c->nlog++] = xf_hv_now_ns(hv);
    *ret_sleep_ns = c->sleep_ns;
    return --c->left > 0 ? 1 : c->result;
}

static struct xf_hv *open_xenbed(void)
{
    struct xf_hv *hv = NULL;
    assert_int_equal(hvt_sim_open("xenbed-2node.json", NULL, &hv), 0);
    return hv;
}

static void test_sim_sched_runs_all_tasks(void **state)
{
    struct xf_hv *hv = open_xenbed();
    struct xf_sim_sched *s;
    struct counter a = {.left = 3}, b = {.left = 5, .result = XF_EIO};
    uint32_t ia, ib;
    int r;
    (void)state;

    assert_int_equal(xf_sim_sched_new(hv, 1, &s), 0);
    assert_int_equal(xf_sim_sched_add(s, count_step, &a, &ia), 0);
    assert_int_equal(xf_sim_sched_add(s, count_step, &b, &ib), 0);
    assert_int_equal(ia, 0);
    assert_int_equal(ib, 1);
    assert_int_equal(xf_sim_sched_result(s, ia, &r), XF_ESTATE);
    assert_int_equal(xf_sim_sched_run(s, 0), 0);
    assert_int_equal(xf_sim_sched_steps(s), 3 + 5);
    assert_int_equal(xf_sim_sched_result(s, ia, &r), 0);
    assert_int_equal(r, 0);
    assert_int_equal(xf_sim_sched_result(s, ib, &r), 0);
    assert_int_equal(r, XF_EIO);
    assert_int_equal(xf_sim_sched_result(s, 2, &r), XF_EINVAL);
    assert_int_equal(xf_sim_sched_add(s, NULL, NULL, &ia), XF_EINVAL);
    xf_sim_sched_free(s);
    xf_hv_free(hv);
}

/* Sleeping tasks wake at their time; when all sleep, the clock jumps to
 * the earliest wake-up. A task sleeping 3 ms per step and one sleeping
 * 5 ms, 3 steps each, from t0: wake-ups at t0, +3, +6 and t0, +5, +10 ms;
 * the run ends at the last step, t0 + 10 ms (the scheduler does not sleep
 * after a task's last step). */
static void test_sim_sched_sleep_advances_clock(void **state)
{
    struct xf_hv *hv = open_xenbed();
    struct xf_sim_sched *s;
    uint64_t la[3], lb[3], t0 = xf_hv_now_ns(hv);
    struct counter a = {.left = 3, .sleep_ns = 3000000, .log = la},
                   b = {.left = 3, .sleep_ns = 5000000, .log = lb};
    uint32_t id;
    (void)state;

    assert_int_equal(xf_sim_sched_new(hv, 7, &s), 0);
    assert_int_equal(xf_sim_sched_add(s, count_step, &a, &id), 0);
    assert_int_equal(xf_sim_sched_add(s, count_step, &b, &id), 0);
    assert_int_equal(xf_sim_sched_run(s, 0), 0);
    assert_int_equal(la[0], t0);
    assert_int_equal(la[1], t0 + 3000000);
    assert_int_equal(la[2], t0 + 6000000);
    assert_int_equal(lb[1], t0 + 5000000);
    assert_int_equal(lb[2], t0 + 10000000);
    assert_int_equal(xf_hv_now_ns(hv), t0 + 10000000);
    xf_sim_sched_free(s);
    xf_hv_free(hv);
}

static void test_sim_sched_step_limit(void **state)
{
    struct xf_hv *hv = open_xenbed();
    struct xf_sim_sched *s;
    struct counter a = {.left = 10};
    uint32_t id;
    (void)state;

    assert_int_equal(xf_sim_sched_new(hv, 1, &s), 0);
    assert_int_equal(xf_sim_sched_add(s, count_step, &a, &id), 0);
    assert_int_equal(xf_sim_sched_run(s, 4), XF_ETIMEDOUT);
    assert_int_equal(a.left, 6);
    assert_int_equal(xf_sim_sched_run(s, 0), 0);
    assert_int_equal(a.left, 0);
    xf_sim_sched_free(s);
    xf_hv_free(hv);
}

/* Four builders of 512 MiB in parallel on the xenbed host; the trace of
 * who stepped when, the clock and every domain's pages per node. */
struct run {
    uint32_t trace[4096];
    size_t len;
    uint64_t now;
    uint64_t pages[4][2];
    uint64_t steps;
};

static void run_builds(uint64_t seed, struct run *out)
{
    struct xf_hv *hv = open_xenbed();
    struct xf_sim_sched *s;
    struct builder b[4];
    uint32_t id;
    int r;

    memset(out, 0, sizeof(*out));
    assert_int_equal(xf_sim_sched_new(hv, seed, &s), 0);
    for (uint32_t i = 0; i < 4; i++) {
        b[i] = (struct builder){.type = XF_DOMAIN_PV,
                                .vcpus = 1 + i,
                                .memory_pages = 131072 + 100 * i,
                                .claim_pages = i % 2 ? 131072 + 100 * i : 0,
                                .claim_node = XF_NODE_ANY,
                                .chunk_extents = 16,
                                .id = i,
                                .trace = out->trace,
                                .trace_len = &out->len,
                                .trace_cap = 4096};
        assert_int_equal(xf_sim_sched_add(s, builder_step, &b[i], &id), 0);
    }
    assert_int_equal(xf_sim_sched_run(s, 0), 0);
    for (uint32_t i = 0; i < 4; i++) {
        struct xf_hv_domain_info info;
        assert_int_equal(xf_sim_sched_result(s, i, &r), 0);
        assert_int_equal(r, 0);
        assert_int_equal(xf_hv_domain_info(hv, b[i].domid, &info), 0);
        assert_int_equal(info.tot_pages, 131072 + 100 * i);
        out->pages[i][0] = info.pages_per_node[0];
        out->pages[i][1] = info.pages_per_node[1];
    }
    out->now = xf_hv_now_ns(hv);
    out->steps = xf_sim_sched_steps(s);
    xf_sim_sched_free(s);
    xf_hv_free(hv);
}

static void test_sim_sched_deterministic(void **state)
{
    static struct run r1, r2, r3;
    (void)state;

    run_builds(42, &r1);
    run_builds(42, &r2);
    assert_int_equal(r1.len, r2.len);
    assert_memory_equal(r1.trace, r2.trace, r1.len * sizeof(r1.trace[0]));
    assert_memory_equal(r1.pages, r2.pages, sizeof(r1.pages));
    assert_int_equal(r1.now, r2.now);
    assert_int_equal(r1.steps, r2.steps);
    /* Each builder takes the same steps whatever the order: 6 setup steps,
     * 16 populate steps of 16 extents (256 extents = 131072 pages) plus one
     * for the remainder when there is one, then extra, cancel, unpause. */
    assert_int_equal(r1.steps, 4 * (6 + 16 + 3) + 3);
    /* Another seed interleaves differently. */
    run_builds(43, &r3);
    assert_int_equal(r3.len, r1.len);
    assert_true(memcmp(r1.trace, r3.trace, r1.len * sizeof(r1.trace[0])) != 0);
}

/* Allocation failure in xf_sim_sched_new and _add unwinds, leaving nothing
 * allocated. */
static void test_sim_sched_allocation_failure(void **state)
{
    struct xf_hv *hv = open_xenbed();
    struct counter c = {.left = 1};
    long allocs, first_ok;
    (void)state;

    assert_int_equal(fail_alloc_install(), 0);
    for (fail_at = 0;; fail_at++) {
        struct xf_sim_sched *s = NULL;
        uint32_t id;
        int r;
        alloc_count = 0;
        live = 0;
        r = xf_sim_sched_new(hv, 1, &s);
        if (r == 0)
            r = xf_sim_sched_add(s, count_step, &c, &id);
        xf_sim_sched_free(s);
        assert_int_equal(live, 0);
        if (r == 0)
            break;
        assert_int_equal(r, XF_ENOMEM);
    }
    allocs = alloc_count;
    first_ok = fail_at;
    fail_at = -1;
    xf_reset_allocator();
    /* The first run to succeed is the first whose failure comes after its
     * last allocation: the scheduler, its task array, its scratch array. */
    assert_int_equal(allocs, 3);
    assert_int_equal(first_ok, 3);
    xf_hv_free(hv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_sched_runs_all_tasks),
        cmocka_unit_test(test_sim_sched_sleep_advances_clock),
        cmocka_unit_test(test_sim_sched_step_limit),
        cmocka_unit_test(test_sim_sched_deterministic),
        cmocka_unit_test(test_sim_sched_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
