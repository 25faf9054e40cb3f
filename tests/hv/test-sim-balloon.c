/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The simulator's balloon drivers (lib/hv/sim/balloon.c) with exact numbers:
 * the rate, pages given back from the nodes they sit on in proportion, a
 * stuck driver, a lying one, max_pages and the heap bounding growth, and
 * the xenstore keys as a toolstack reads and writes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv-test.h"
#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/sim.h"

/* Two 1 GiB nodes; every operation costs 1 us. */
static const char *small2 =
    "{\"nodes\": [{\"memory_mib\": 1024, \"cpus\": 1}, {\"memory_mib\": 1024, \"cpus\": 1}],"
    " \"distances\": [[10, 20], [20, 10]],"
    " \"xen\": {\"reserved_pages\": 4096, \"dma_pages\": 0},"
    " \"dom0\": {\"memory_pages\": 65536, \"node_pages\": [65536, 0]},"
    " \"timing\": {\"release_mib_per_s\": 0, \"hypercall_ns\": 1000, \"extent_ns\": 0,"
    "             \"page_ns\": 0, \"scrub_page_ns\": 0}}";

static struct xf_hv *open_small2(void)
{
    struct xf_hv *hv = NULL;
    assert_int_equal(hvt_sim_json(small2, NULL, &hv), 0);
    return hv;
}

static uint64_t node_free(struct xf_hv *hv, uint32_t node)
{
    struct xf_sim_node_state s;
    assert_int_equal(xf_sim_node_state(hv, node, &s), 0);
    return s.free_pages;
}

static struct xf_hv_domain_info dinfo(struct xf_hv *hv, xf_domid_t d)
{
    struct xf_hv_domain_info i;
    assert_int_equal(xf_hv_domain_info(hv, d, &i), 0);
    return i;
}

/* A running PV guest of 300 MiB: 100 MiB (25600 pages) on node 0, 200 MiB
 * (51200 pages) on node 1, with a driver of 40 MiB/s (10240 pages/s). */
static xf_domid_t running_guest(struct xf_hv *hv, uint64_t max_pages)
{
    struct xf_hv_populate p0 = {.nr_extents = 25600, .order = 0, .node = 0, .exact_node = true};
    struct xf_hv_populate p1 = {.nr_extents = 51200, .order = 0, .node = 1, .exact_node = true};
    struct xf_sim_balloon b;
    uint64_t done;
    xf_domid_t d;

    assert_int_equal(xf_hv_domain_create(hv, XF_DOMAIN_PV, &d), 0);
    assert_int_equal(xf_hv_set_max_vcpus(hv, d, 1), 0);
    assert_int_equal(xf_hv_set_max_pages(hv, d, max_pages), 0);
    assert_int_equal(xf_hv_populate(hv, d, &p0, &done), 0);
    assert_int_equal(xf_hv_populate(hv, d, &p1, &done), 0);
    assert_int_equal(xf_hv_unpause(hv, d), 0);
    memset(&b, 0, sizeof(b));
    b.dynamic_min_kib = 100 * 1024;
    b.dynamic_max_kib = 300 * 1024;
    b.target_kib = 300 * 1024;
    b.feature_balloon = true;
    b.rate_kib_per_s = 40 * 1024;
    assert_int_equal(xf_sim_balloon_setup(hv, d, &b), 0);
    return d;
}

static void test_sim_balloon_down_from_its_nodes(void **state)
{
    struct xf_hv *hv = open_small2();
    xf_domid_t d = running_guest(hv, UINT64_C(1) << 30);
    uint64_t f0 = node_free(hv, 0), f1 = node_free(hv, 1);
    struct xf_hv_balloon b;
    (void)state;

    assert_int_equal(xf_hv_set_balloon_target(hv, d, 200 * 1024), 0);
    assert_int_equal(xf_hv_sleep_ns(hv, 1000000000), 0);
    /* 1 s + 1 us at 10240 pages/s: 10240 pages, a third from node 0
     * (3413.3, the rounding page too: 3414) and two thirds from node 1. */
    assert_int_equal(dinfo(hv, d).tot_pages, 76800 - 10240);
    assert_int_equal(node_free(hv, 0) - f0, 3414);
    assert_int_equal(node_free(hv, 1) - f1, 6826);
    assert_int_equal(xf_hv_sleep_ns(hv, 2000000000), 0);
    /* At its target (200 MiB = 51200 pages) it stops. */
    assert_int_equal(dinfo(hv, d).tot_pages, 51200);
    assert_int_equal(node_free(hv, 0) + node_free(hv, 1) - f0 - f1, 25600);
    assert_int_equal(xf_hv_balloon_info(hv, d, &b), 0);
    assert_true(b.feature_balloon && b.has_dynamic_range);
    assert_int_equal(b.target_kib, 200 * 1024);
    assert_int_equal(b.dynamic_min_kib, 100 * 1024);
    assert_false(b.has_memory_offset);
    xf_hv_free(hv);
}

static void test_sim_balloon_stuck_and_lying_drivers(void **state)
{
    struct xf_hv *hv = open_small2();
    xf_domid_t d = running_guest(hv, UINT64_C(1) << 30);
    (void)state;

    assert_int_equal(xf_sim_balloon_set_driver(hv, d, XF_SIM_DRIVER_STUCK, 0), 0);
    assert_int_equal(xf_hv_set_balloon_target(hv, d, 100 * 1024), 0);
    assert_int_equal(xf_hv_sleep_ns(hv, 10000000000), 0);
    assert_int_equal(dinfo(hv, d).tot_pages, 76800);
    /* A liar reads the target but stops at 250 MiB (64000 pages). */
    assert_int_equal(xf_sim_balloon_set_driver(hv, d, XF_SIM_DRIVER_LIAR, 250 * 1024), 0);
    assert_int_equal(xf_hv_sleep_ns(hv, 10000000000), 0);
    assert_int_equal(dinfo(hv, d).tot_pages, 64000);
    /* Fixed, it goes on to its target: 100 MiB. */
    assert_int_equal(xf_sim_balloon_set_driver(hv, d, XF_SIM_DRIVER_OK, 0), 0);
    assert_int_equal(xf_hv_sleep_ns(hv, 10000000000), 0);
    assert_int_equal(dinfo(hv, d).tot_pages, 25600);
    xf_hv_free(hv);
}

/* Growing: bounded by max_pages (assign_pages), pages from the allocator. */
static void test_sim_balloon_up_bounded_by_max_pages(void **state)
{
    struct xf_hv *hv = open_small2();
    xf_domid_t d = running_guest(hv, 80000);
    uint64_t before = node_free(hv, 0) + node_free(hv, 1);
    struct xf_sim_balloon b;
    (void)state;

    memset(&b, 0, sizeof(b));
    b.dynamic_min_kib = 100 * 1024;
    b.dynamic_max_kib = 400 * 1024;
    b.target_kib = 400 * 1024;
    b.feature_balloon = true;
    b.rate_kib_per_s = 0; /* at once */
    b.offset_kib = 1024;  /* the guest holds 1 MiB above its target */
    assert_int_equal(xf_sim_balloon_setup(hv, d, &b), 0);
    assert_int_equal(xf_hv_sleep_ns(hv, 1000), 0);
    assert_int_equal(dinfo(hv, d).tot_pages, 80000);
    assert_int_equal(before - (node_free(hv, 0) + node_free(hv, 1)), 80000 - 76800);
    /* max_pages up: target 400 MiB + 1 MiB offset = 102656 pages. */
    assert_int_equal(xf_hv_set_max_pages(hv, d, 200000), 0);
    assert_int_equal(xf_hv_sleep_ns(hv, 1000), 0);
    assert_int_equal(dinfo(hv, d).tot_pages, 102656);
    assert_int_equal(xf_hv_set_memory_offset(hv, d, 1024), 0);
    {
        struct xf_hv_balloon info;
        assert_int_equal(xf_hv_balloon_info(hv, d, &info), 0);
        assert_true(info.has_memory_offset);
        assert_int_equal(info.memory_offset_kib, 1024);
    }
    xf_hv_free(hv);
}

static void test_sim_balloon_bad_input(void **state)
{
    struct xf_hv *hv = open_small2();
    xf_domid_t d = running_guest(hv, UINT64_C(1) << 30), plain;
    struct xf_sim_balloon b;
    struct xf_hv_balloon info;
    (void)state;

    memset(&b, 0, sizeof(b));
    b.dynamic_min_kib = 2048;
    b.dynamic_max_kib = 1024;
    b.target_kib = 1024;
    assert_int_equal(xf_sim_balloon_setup(hv, d, &b), XF_EINVAL);
    b.dynamic_min_kib = 512;
    b.target_kib = 4096; /* above dynamic_max */
    assert_int_equal(xf_sim_balloon_setup(hv, d, &b), XF_EINVAL);
    /* Nothing changed. */
    assert_int_equal(xf_hv_balloon_info(hv, d, &info), 0);
    assert_int_equal(info.target_kib, 300 * 1024);
    b.target_kib = 1024;
    assert_int_equal(xf_sim_balloon_setup(hv, 999, &b), XF_ESRCH);
    assert_int_equal(xf_hv_balloon_info(hv, 999, &info), XF_ESRCH);
    assert_int_equal(xf_hv_domain_create(hv, XF_DOMAIN_PV, &plain), 0);
    assert_int_equal(xf_hv_balloon_info(hv, plain, &info), XF_ENOENT);
    assert_int_equal(xf_hv_set_balloon_target(hv, plain, 1024), XF_ENOENT);
    assert_int_equal(xf_sim_balloon_set_driver(hv, plain, XF_SIM_DRIVER_OK, 0), XF_ENOENT);
    xf_hv_free(hv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_balloon_down_from_its_nodes),
        cmocka_unit_test(test_sim_balloon_stuck_and_lying_drivers),
        cmocka_unit_test(test_sim_balloon_up_bounded_by_max_pages),
        cmocka_unit_test(test_sim_balloon_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
