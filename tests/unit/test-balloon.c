/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The host engine's ballooning (lib/toolstack/balloon.c) against the
 * simulator's balloon drivers: reserve_memory squeezing two guests in
 * proportion, a stuck guest worked around, guests that refuse
 * (Domains_refused_to_cooperate), dynamic minimums too high
 * (Cannot_free_this_much_memory), balancing back, a squeeze on one NUMA
 * node, and a reservation's floor. Host: tests/data/hosts/daemon-2node.json
 * (two 8 GiB nodes); guests A on node 0 and B on node 1, 4 GiB each, dynamic
 * range [1 GiB, 6 GiB], drivers at 1 GiB/s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xenfit/engine.h"
#include "xenfit/error.h"
#include "xenfit/sim.h"
#include "xenfit/units.h"

#define GIB_KIB UINT64_C(1048576)

struct fx {
    struct xf_hv *hv;
    struct xf_engine *e;
    xf_domid_t a, b;
};

static struct xf_hv *test_host(void)
{
    char buf[4096];
    FILE *f = fopen(XF_TEST_DATA "/hosts/daemon-2node.json", "r");
    size_t n;
    struct xf_hv *hv;
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_int_equal(xf_sim_new_from_json(buf, n, NULL, &hv, NULL), 0);
    return hv;
}

/* A running PV guest of 4 GiB on one node with a 1 GiB/s driver. */
static xf_domid_t guest(struct xf_hv *hv, uint32_t node, enum xf_sim_balloon_driver drv,
                        uint64_t lie_floor_kib)
{
    struct xf_hv_populate p = {
        .nr_extents = 2048, .order = 9, .node = node, .exact_node = node != XF_NODE_ANY};
    struct xf_sim_balloon b;
    uint64_t done;
    xf_domid_t d;

    assert_int_equal(xf_hv_domain_create(hv, XF_DOMAIN_PV, &d), 0);
    assert_int_equal(xf_hv_set_max_vcpus(hv, d, 1), 0);
    assert_int_equal(xf_hv_set_max_pages(hv, d, xf_pages_of_kib_used(4 * GIB_KIB)), 0);
    if (node != XF_NODE_ANY)
        assert_int_equal(xf_hv_set_node_affinity(hv, d, UINT64_C(1) << node), 0);
    assert_int_equal(xf_hv_populate(hv, d, &p, &done), 0);
    assert_int_equal(xf_hv_unpause(hv, d), 0);
    memset(&b, 0, sizeof(b));
    b.dynamic_min_kib = GIB_KIB;
    b.dynamic_max_kib = 6 * GIB_KIB;
    b.target_kib = 4 * GIB_KIB;
    b.feature_balloon = true;
    b.rate_kib_per_s = GIB_KIB;
    b.driver = drv;
    b.lie_floor_kib = lie_floor_kib;
    assert_int_equal(xf_sim_balloon_setup(hv, d, &b), 0);
    return d;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct xf_engine_params p;
    f->hv = test_host();
    xf_engine_params_init(&p, f->hv);
    p.id_salt = 1;
    if (xf_engine_new(f->hv, &p, &f->e) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    xf_engine_free(f->e);
    xf_hv_free(f->hv);
    free(f);
    return 0;
}

static uint64_t free_kib(struct xf_engine *e)
{
    struct xf_engine_status st;
    assert_int_equal(xf_engine_status(e, &st), 0);
    return xf_kib_of_pages(st.free.host_free_pages);
}

static struct xf_hv_balloon balloon(struct xf_hv *hv, xf_domid_t d)
{
    struct xf_hv_balloon b;
    assert_int_equal(xf_hv_balloon_info(hv, d, &b), 0);
    return b;
}

static uint64_t tot_kib(struct xf_hv *hv, xf_domid_t d)
{
    struct xf_hv_domain_info i;
    assert_int_equal(xf_hv_domain_info(hv, d, &i), 0);
    return xf_kib_of_pages(i.tot_pages);
}

/* squeeze.ml's share for each of the two like guests: surplus = free + 2 *
 * (4 GiB - 1 GiB - 8 KiB) - (R + 8 MiB), gamma = surplus / (2 * 5 GiB),
 * target = 1 GiB + trunc(gamma * 5 GiB) (IEEE doubles, as OCaml). */
static uint64_t share_target(uint64_t free0, uint64_t required_kib)
{
    int64_t surplus =
        (int64_t)free0 + 2 * (int64_t)(3 * GIB_KIB - 8) - (int64_t)required_kib - 8192;
    double gamma = (double)surplus / (double)(10 * GIB_KIB);
    return GIB_KIB + (uint64_t)(gamma * (double)(5 * GIB_KIB));
}

static void test_balloon_reserve_squeezes_in_proportion(void **state)
{
    struct fx *f = *state;
    struct xf_engine_outcome o;
    const struct xf_engine_squeeze *sq;
    uint64_t free0, want, target;
    size_t n = 0;

    f->a = guest(f->hv, 0, XF_SIM_DRIVER_OK, 0);
    f->b = guest(f->hv, 1, XF_SIM_DRIVER_OK, 0);
    assert_int_equal(xf_engine_balloonable(f->e, &n), 0);
    assert_int_equal(n, 2);
    free0 = free_kib(f->e);
    want = free0 + GIB_KIB;
    target = share_target(free0, want);
    /* Near half the range: 1 GiB + ~2.5 GiB. */
    assert_true(target > GIB_KIB + 2617000 && target <= GIB_KIB + 2617336);
    assert_int_equal(xf_engine_reserve_kib(f->e, "xapi", want, want, 0, &o), 0);
    assert_true(o.granted);
    assert_int_equal(o.kib, want);
    assert_int_equal(balloon(f->hv, f->a).target_kib, target);
    assert_int_equal(balloon(f->hv, f->b).target_kib, target);
    assert_int_equal(tot_kib(f->hv, f->a), target);
    sq = xf_engine_last_squeeze(f->e);
    assert_non_null(sq);
    assert_int_equal(sq->result, XF_SQ_SUCCESS);
    assert_int_equal(sq->nr_gave, 2);
    assert_int_equal(sq->gave[0].kib, (int64_t)(4 * GIB_KIB - target));
    /* A's memory sat on node 0: all it gave came from there. */
    assert_int_equal(sq->gave[0].domid, f->a);
    assert_int_equal(sq->gave[0].node_kib[0], sq->gave[0].kib);
    assert_int_equal(sq->gave[0].node_kib[1], 0);
    assert_int_equal(sq->gave[1].node_kib[1], sq->gave[1].kib);
    /* The reservation holds; after it, free for a new VM is what the two
     * gave beyond it, less nothing else. */
    assert_int_equal(free_kib(f->e), free0 + 2 * (4 * GIB_KIB - target) - want);
    assert_true(sq->iterations >= 2);
}

static void test_balloon_stuck_guest_worked_around(void **state)
{
    struct fx *f = *state;
    struct xf_engine_outcome o;
    const struct xf_engine_squeeze *sq;
    uint64_t free0, want, t1;

    f->a = guest(f->hv, 0, XF_SIM_DRIVER_OK, 0);
    f->b = guest(f->hv, 1, XF_SIM_DRIVER_STUCK, 0);
    free0 = free_kib(f->e);
    want = free0 + GIB_KIB;
    t1 = share_target(free0, want);
    assert_int_equal(xf_engine_reserve_kib(f->e, "xapi", want, want, 0, &o), 0);
    assert_true(o.granted);
    sq = xf_engine_last_squeeze(f->e);
    /* B did not move for more than 5 s: inactive, its maxmem (and target)
     * clipped to min(target, actual) = t1. A gave all of it: */
    assert_int_equal(tot_kib(f->hv, f->b), 4 * GIB_KIB);
    assert_int_equal(balloon(f->hv, f->b).target_kib, t1);
    assert_true(sq->elapsed_ns > UINT64_C(5000000000));
    assert_int_equal(sq->nr_gave, 1);
    assert_int_equal(sq->gave[0].domid, f->a);
    assert_true(free_kib(f->e) + want >= free0 + GIB_KIB + 8192 - 8);
    assert_int_equal(sq->gave[0].kib, (int64_t)(4 * GIB_KIB - balloon(f->hv, f->a).target_kib));
}

static void test_balloon_refused_to_cooperate(void **state)
{
    struct fx *f = *state;
    struct xf_engine_outcome o;
    const struct xf_engine_squeeze *sq;
    uint64_t free0;

    /* A stops at 3.5 GiB whatever it is told; B never moves. */
    f->a = guest(f->hv, 0, XF_SIM_DRIVER_LIAR, 3584 * 1024);
    f->b = guest(f->hv, 1, XF_SIM_DRIVER_STUCK, 0);
    free0 = free_kib(f->e);
    assert_int_equal(xf_engine_reserve_kib(f->e, "xapi", free0 + GIB_KIB, free0 + GIB_KIB, 0, &o),
                     0);
    assert_false(o.granted);
    assert_int_equal(o.squeeze, XF_SQ_REFUSED);
    sq = xf_engine_last_squeeze(f->e);
    assert_int_equal(sq->nr_refused, 2);
    assert_int_equal(sq->refused[0], f->a);
    assert_int_equal(sq->refused[1], f->b);
    assert_int_equal(tot_kib(f->hv, f->a), 3584 * 1024);
    assert_int_equal(xf_engine_count(f->e), 0); /* nothing reserved */
}

static void test_balloon_cannot_free_this_much(void **state)
{
    struct fx *f = *state;
    struct xf_engine_outcome o;
    uint64_t free0;

    f->a = guest(f->hv, 0, XF_SIM_DRIVER_OK, 0);
    f->b = guest(f->hv, 1, XF_SIM_DRIVER_OK, 0);
    free0 = free_kib(f->e);
    /* 7 GiB more: at most 2 * 3 GiB can come from the guests. */
    assert_int_equal(
        xf_engine_reserve_kib(f->e, "xapi", free0 + 7 * GIB_KIB, free0 + 7 * GIB_KIB, 0, &o), 0);
    assert_false(o.granted);
    assert_int_equal(o.squeeze, XF_SQ_CANNOT_FREE);
    assert_int_equal(o.needed_kib, free0 + 7 * GIB_KIB);
    /* Both at dynamic_min: free = free0 + 6 GiB, less squeezed's 8 MiB. */
    assert_int_equal(o.available_kib, free0 + 6 * GIB_KIB - 8192);
    assert_int_equal(tot_kib(f->hv, f->a), GIB_KIB);
    assert_int_equal(tot_kib(f->hv, f->b), GIB_KIB);

    /* Balancing gives it back: plenty free, so both up to dynamic_max. */
    {
        struct xf_engine_squeeze_req req = {.kind = XF_SQUEEZE_BALANCE};
        struct xf_engine_squeeze sq;
        bool unbalanced = false;
        assert_int_equal(xf_engine_unbalanced(f->e, &unbalanced), 0);
        assert_true(unbalanced);
        assert_int_equal(xf_engine_squeeze(f->e, &req, &sq), 0);
        /* Both at dynamic_max and memory still free: squeeze.ml's "Failed
         * []", which its balance_memory catches and only logs. */
        assert_int_equal(sq.result, XF_SQ_CANNOT_FREE);
        assert_int_equal(tot_kib(f->hv, f->a), 6 * GIB_KIB);
        assert_int_equal(tot_kib(f->hv, f->b), 6 * GIB_KIB);
        assert_int_equal(sq.gave[0].kib, -(int64_t)(5 * GIB_KIB));
        assert_int_equal(xf_engine_unbalanced(f->e, &unbalanced), 0);
        assert_false(unbalanced);
    }
}

/* Memory wanted on node 1: only B (all on node 1) is squeezed. */
static void test_balloon_numa_node_squeeze(void **state)
{
    struct fx *f = *state;
    struct xf_engine_status st;
    struct xf_engine_squeeze_req req;
    struct xf_engine_squeeze sq;
    uint64_t node1;

    f->a = guest(f->hv, 0, XF_SIM_DRIVER_OK, 0);
    f->b = guest(f->hv, 1, XF_SIM_DRIVER_OK, 0);
    assert_int_equal(xf_engine_status(f->e, &st), 0);
    node1 = xf_kib_of_pages(st.free.node_free_pages[1]);
    memset(&req, 0, sizeof(req));
    req.kind = XF_SQUEEZE_FREE;
    req.free_kib = node1 + GIB_KIB;
    req.node_mask = UINT64_C(1) << 1;
    assert_int_equal(xf_engine_squeeze(f->e, &req, &sq), 0);
    assert_int_equal(sq.result, XF_SQ_SUCCESS);
    assert_int_equal(balloon(f->hv, f->a).target_kib, 4 * GIB_KIB);
    assert_int_equal(tot_kib(f->hv, f->a), 4 * GIB_KIB);
    assert_int_equal(sq.nr_gave, 1);
    assert_int_equal(sq.gave[0].domid, f->b);
    assert_int_equal(sq.gave[0].node_kib[1], sq.gave[0].kib);
    assert_int_equal(xf_engine_status(f->e, &st), 0);
    assert_true(xf_kib_of_pages(st.free.node_free_pages[1]) >= node1 + GIB_KIB + 8192);
    /* B alone: surplus = node1 + 3 GiB - 8 - (node1 + 1 GiB + 8 MiB + the
     * 512 KiB a node squeeze aims above its goal) over its 5 GiB range. */
    {
        double gamma = (double)(2 * GIB_KIB - 8 - 8192 - 512) / (double)(5 * GIB_KIB);
        uint64_t t = GIB_KIB + (uint64_t)(gamma * (double)(5 * GIB_KIB));
        assert_int_equal(balloon(f->hv, f->b).target_kib, t);
    }
}

/* Guests spread over both nodes: a squeeze on node 1 takes from both, in
 * the share of their memory there, and settles. */
static void test_balloon_numa_spread_guests(void **state)
{
    struct fx *f = *state;
    struct xf_engine_status st;
    struct xf_engine_squeeze_req req;
    struct xf_engine_squeeze sq;
    uint64_t node1;

    f->a = guest(f->hv, XF_NODE_ANY, XF_SIM_DRIVER_OK, 0);
    f->b = guest(f->hv, XF_NODE_ANY, XF_SIM_DRIVER_OK, 0);
    assert_int_equal(xf_engine_status(f->e, &st), 0);
    node1 = xf_kib_of_pages(st.free.node_free_pages[1]);
    memset(&req, 0, sizeof(req));
    req.kind = XF_SQUEEZE_FREE;
    req.free_kib = node1 + GIB_KIB;
    req.node_mask = UINT64_C(1) << 1;
    assert_int_equal(xf_engine_squeeze(f->e, &req, &sq), 0);
    assert_int_equal(sq.result, XF_SQ_SUCCESS);
    assert_int_equal(sq.nr_gave, 2);
    assert_true(sq.gave[0].node_kib[1] > 0 && sq.gave[0].node_kib[0] > 0);
    assert_int_equal(xf_engine_status(f->e, &st), 0);
    assert_true(xf_kib_of_pages(st.free.node_free_pages[1]) >= node1 + GIB_KIB + 8192);
}

/* A guest holding a reservation of 3.5 GiB is never targeted below it. */
static void test_balloon_floor_of_reservation(void **state)
{
    struct fx *f = *state;
    struct xf_engine_outcome o;
    uint64_t id, free0;

    f->a = guest(f->hv, 0, XF_SIM_DRIVER_OK, 0);
    f->b = guest(f->hv, 1, XF_SIM_DRIVER_OK, 0);
    /* Reserve from free memory, then settle it on A (xenopsd's build). */
    f->e = f->e;
    assert_int_equal(xf_engine_reserve_kib(f->e, "xapi", 3584 * 1024, 3584 * 1024, 0, &o), 0);
    assert_true(o.granted);
    id = o.id;
    assert_int_equal(xf_engine_transfer(f->e, "xapi", id, f->a, 0), 0);
    free0 = free_kib(f->e);
    assert_int_equal(
        xf_engine_reserve_kib(f->e, "xapi", free0 + 4 * GIB_KIB, free0 + 4 * GIB_KIB, 0, &o), 0);
    assert_false(o.granted);
    assert_int_equal(o.squeeze, XF_SQ_CANNOT_FREE);
    assert_true(tot_kib(f->hv, f->a) >= 3584 * 1024);
    assert_int_equal(balloon(f->hv, f->a).target_kib, 3584 * 1024);
    assert_int_equal(tot_kib(f->hv, f->b), GIB_KIB);
}

/* A VM pinned to node 1 that does not fit there: B (on node 1) is squeezed
 * on node 1 and the VM is granted there; A (node 0) keeps its memory. */
static void test_balloon_vm_reservation_squeezes_its_node(void **state)
{
    struct fx *f = *state;
    struct xf_engine_status st;
    struct xf_engine_outcome o;
    struct xf_admit_request req;
    uint64_t node1_mib;

    f->a = guest(f->hv, 0, XF_SIM_DRIVER_OK, 0);
    f->b = guest(f->hv, 1, XF_SIM_DRIVER_OK, 0);
    assert_int_equal(xf_engine_status(f->e, &st), 0);
    node1_mib = xf_kib_of_pages(st.free.node_free_pages[1]) / 1024;
    memset(&req, 0, sizeof(req));
    req.vm.type = XF_DOMAIN_PVH;
    req.vm.static_max_bytes = (node1_mib + 1024) * 1048576;
    req.vm.target_bytes = req.vm.static_max_bytes;
    req.vm.vcpus = 1;
    req.vm.shadow_multiplier = 1.0;
    req.nodes_allowed = UINT64_C(1) << 1;
    /* Without ballooning: refused on node 1. */
    assert_int_equal(xf_engine_admit_vm(f->e, &req, &o), 0);
    assert_false(o.adm.admitted);
    assert_int_equal(o.adm.node, 1);
    assert_int_equal(xf_engine_reserve_vm(f->e, "xapi", &req, 0, &o), 0);
    assert_true(o.granted);
    assert_true(o.adm.placed);
    assert_int_equal(o.adm.plan.node_mask, UINT64_C(1) << 1);
    assert_int_equal(balloon(f->hv, f->a).target_kib, 4 * GIB_KIB);
    assert_true(tot_kib(f->hv, f->b) < 4 * GIB_KIB - GIB_KIB);
    assert_int_equal(xf_engine_last_squeeze(f->e)->nr_gave, 1);
    assert_int_equal(xf_engine_last_squeeze(f->e)->gave[0].domid, f->b);
}

/* memory/uncooperative (squeeze_xen.ml update_cooperative_flags): written
 * at a look once a domain has been off its target for more than 20 s,
 * removed once it is back on it. */
static void test_balloon_uncooperative_flag(void **state)
{
    struct fx *f = *state;
    size_t n;

    f->a = guest(f->hv, 0, XF_SIM_DRIVER_OK, 0);
    f->b = guest(f->hv, 1, XF_SIM_DRIVER_STUCK, 0);
    /* The first look calibrates memory-offset (0: at rest at its target,
     * as squeezed assumes) and finds both cooperative. */
    assert_int_equal(xf_engine_balloonable(f->e, &n), 0);
    assert_int_equal(balloon(f->hv, f->b).memory_offset_kib, 0);
    assert_int_equal(xf_hv_set_balloon_target(f->hv, f->b, 2 * GIB_KIB), 0);
    assert_int_equal(xf_engine_balloonable(f->e, &n), 0); /* off target from here */
    assert_int_equal(xf_hv_sleep_ns(f->hv, UINT64_C(19) * 1000000000), 0);
    assert_int_equal(xf_engine_balloonable(f->e, &n), 0);
    assert_false(balloon(f->hv, f->b).uncooperative); /* 19 s (and a few us) */
    assert_int_equal(xf_hv_sleep_ns(f->hv, UINT64_C(1100000000)), 0);
    assert_int_equal(xf_engine_balloonable(f->e, &n), 0);
    assert_true(balloon(f->hv, f->b).uncooperative);
    assert_false(balloon(f->hv, f->a).uncooperative);
    /* Its driver fixed, it reaches 2 GiB in 2 s: the flag goes. */
    assert_int_equal(xf_sim_balloon_set_driver(f->hv, f->b, XF_SIM_DRIVER_OK, 0), 0);
    assert_int_equal(xf_hv_sleep_ns(f->hv, UINT64_C(3) * 1000000000), 0);
    assert_int_equal(xf_engine_balloonable(f->e, &n), 0);
    assert_int_equal(tot_kib(f->hv, f->b), 2 * GIB_KIB);
    assert_false(balloon(f->hv, f->b).uncooperative);
}

/* reserve_memory_range: squeezed's proportional share for the range. */
static void test_balloon_range_takes_its_share(void **state)
{
    struct fx *f = *state;
    struct xf_engine_outcome o;
    uint64_t free0;

    f->a = guest(f->hv, 0, XF_SIM_DRIVER_OK, 0);
    f->b = guest(f->hv, 1, XF_SIM_DRIVER_OK, 0);
    free0 = free_kib(f->e);
    /* [free0 + 1 GiB, free0 + 6 GiB]: the range's own share of the
     * surplus, between the two. */
    assert_int_equal(
        xf_engine_reserve_kib(f->e, "xapi", free0 + GIB_KIB, free0 + 6 * GIB_KIB, 0, &o), 0);
    assert_true(o.granted);
    /* squeeze.ml free_memory_range: a pretend domain [min, max] (actual 0:
     * it frees nothing) beside A and B; surplus = free0 + 2 * (3 GiB - 8) -
     * 8 MiB over a total range of 15 GiB; its share min + gamma * 5 GiB is
     * what the squeeze aims at, and what is granted (to the page: A and B
     * reach their targets exactly, 8 KiB inaccuracy each spare at most). */
    {
        int64_t surplus = (int64_t)free0 + 2 * (int64_t)(3 * GIB_KIB - 8) - 8192;
        double gamma = (double)surplus / (double)(15 * GIB_KIB);
        uint64_t ideal = free0 + GIB_KIB + (uint64_t)(gamma * (double)(5 * GIB_KIB));
        assert_true(gamma > 0.5 && gamma < 1.0);
        assert_true(o.kib >= ideal && o.kib <= ideal + 16);
    }
    assert_true(tot_kib(f->hv, f->a) < 4 * GIB_KIB);
    /* Bad range: nothing squeezed, nothing changed. */
    assert_int_equal(xf_engine_reserve_kib(f->e, "xapi", 10, 5, 0, &o), XF_EBADSIZE);
}

/* xenfitd killed in the middle of reserve_memory's squeeze (issue 12): the
 * guests' targets are down, the reservation was never recorded (it is
 * committed, then acknowledged, only after the squeeze). The engine that
 * restarts on the same host (and an empty store) sees the host unbalanced;
 * its start-up balance gives the targets, the pages and the free memory
 * back, and the reservation then succeeds once. */
static void test_balloon_restart_after_crash_mid_squeeze(void **state)
{
    struct fx *f = *state;
    struct xf_engine_squeeze_req bal = {.kind = XF_SQUEEZE_BALANCE};
    struct xf_engine_squeeze_req req;
    struct xf_engine_squeeze sq;
    struct xf_engine_params p;
    struct xf_engine_status st;
    struct xf_engine_outcome o;
    uint64_t ta, tb, free0, want;
    bool unbalanced = true;

    f->a = guest(f->hv, 0, XF_SIM_DRIVER_OK, 0);
    f->b = guest(f->hv, 1, XF_SIM_DRIVER_OK, 0);
    /* Balanced first: the fair share the restart must come back to. */
    assert_int_equal(xf_engine_squeeze(f->e, &bal, &sq), 0);
    assert_int_equal(xf_engine_unbalanced(f->e, &unbalanced), 0);
    assert_false(unbalanced);
    ta = balloon(f->hv, f->a).target_kib;
    tb = balloon(f->hv, f->b).target_kib;
    assert_int_equal(ta, 6 * GIB_KIB); /* 16 GiB host: room for both at dynamic-max */
    assert_int_equal(tb, 6 * GIB_KIB);
    free0 = free_kib(f->e);
    want = free0 + 2 * GIB_KIB;
    /* The squeeze of reserve_memory(want), then the crash: no reservation. */
    memset(&req, 0, sizeof(req));
    req.kind = XF_SQUEEZE_FREE;
    req.free_kib = want;
    assert_int_equal(xf_engine_squeeze(f->e, &req, &sq), 0);
    assert_int_equal(sq.result, XF_SQ_SUCCESS);
    assert_true(balloon(f->hv, f->a).target_kib < ta);
    assert_true(balloon(f->hv, f->b).target_kib < tb);
    assert_true(free_kib(f->e) >= want + 8192);
    xf_engine_free(f->e);
    /* The restart: a new engine on the same host, nothing restored. */
    xf_engine_params_init(&p, f->hv);
    p.id_salt = 1;
    assert_int_equal(xf_engine_new(f->hv, &p, &f->e), 0);
    assert_int_equal(xf_engine_status(f->e, &st), 0);
    assert_int_equal(st.ledger_pages, 0);
    assert_int_equal(xf_engine_unbalanced(f->e, &unbalanced), 0);
    assert_true(unbalanced);
    assert_int_equal(xf_engine_squeeze(f->e, &bal, &sq), 0);
    assert_int_equal(balloon(f->hv, f->a).target_kib, ta);
    assert_int_equal(balloon(f->hv, f->b).target_kib, tb);
    assert_int_equal(tot_kib(f->hv, f->a), ta);
    assert_int_equal(tot_kib(f->hv, f->b), tb);
    assert_int_equal(free_kib(f->e), free0);
    assert_int_equal(xf_engine_unbalanced(f->e, &unbalanced), 0);
    assert_false(unbalanced);
    /* Asked again, the reservation is granted: one reservation, of want. */
    assert_int_equal(xf_engine_reserve_kib(f->e, "xapi", want, want, 0, &o), 0);
    assert_true(o.granted);
    assert_non_null(xf_engine_find(f->e, o.id));
    assert_int_equal(xf_engine_status(f->e, &st), 0);
    assert_int_equal(xf_kib_of_pages(st.ledger_pages), want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_balloon_reserve_squeezes_in_proportion, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_balloon_stuck_guest_worked_around, setup, teardown),
        cmocka_unit_test_setup_teardown(test_balloon_refused_to_cooperate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_balloon_cannot_free_this_much, setup, teardown),
        cmocka_unit_test_setup_teardown(test_balloon_numa_node_squeeze, setup, teardown),
        cmocka_unit_test_setup_teardown(test_balloon_numa_spread_guests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_balloon_floor_of_reservation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_balloon_range_takes_its_share, setup, teardown),
        cmocka_unit_test_setup_teardown(test_balloon_uncooperative_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_balloon_restart_after_crash_mid_squeeze, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_balloon_vm_reservation_squeezes_its_node, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
