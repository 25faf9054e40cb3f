/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The squeeze (lib/core/squeeze.c), modelled on squeezed's own simulation
 * (xen-api e2ee48d6883e, ocaml/squeezed/test/squeeze_test.ml): balloon
 * drivers that move at a rate per second and stop within their inaccuracy,
 * one with a hidden lower limit, one stuck, one stuck intermittently; the
 * loop of change_host_free_memory (set maxmem and targets, wait 0.1 s of
 * simulated time, look again); and squeezed's scenarios with its numbers.
 * Beyond squeezed: the NUMA node mask and the reservation floor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "xenfit/error.h"
#include "xenfit/squeeze.h"

#define NS_PER_TICK UINT64_C(100000000) /* squeeze_test.ml: time = i / 10 */
#define MAX_TICKS   20000

enum vm_kind { VM_IDEAL, VM_LIMIT, VM_UPPER, VM_STUCK, VM_INTERMITTENT };

struct vm {
    struct xf_sq_domain d;
    enum vm_kind kind;
    int64_t rate_kib_per_s;
    int64_t limit_kib;
    double interval_s;
    double last_s;
};

static struct vm vm_make(xf_domid_t id, int64_t min, int64_t target, int64_t max, int64_t actual,
                         int64_t inaccuracy, enum vm_kind kind, int64_t rate)
{
    struct vm v;
    memset(&v, 0, sizeof(v));
    v.d.domid = id;
    v.d.can_balloon = true;
    v.d.dynamic_min_kib = min;
    v.d.target_kib = target;
    v.d.dynamic_max_kib = max;
    v.d.memory_actual_kib = actual;
    v.d.memory_max_kib = actual;
    v.d.inaccuracy_kib = inaccuracy;
    v.kind = kind;
    v.rate_kib_per_s = rate;
    return v;
}

/* squeeze_test.ml compute_memory_actual_delta. */
static int64_t ideal_delta(const struct vm *v, double dt)
{
    int64_t max_change = (int64_t)(dt * (double)v->rate_kib_per_s);
    int64_t vector = v->d.memory_actual_kib > v->d.target_kib ? -1 : 1;
    int64_t distance = (v->d.target_kib - v->d.memory_actual_kib) * vector;
    int64_t d1 = distance - v->d.inaccuracy_kib > 0 ? distance - v->d.inaccuracy_kib : 0;
    return (d1 < max_change ? d1 : max_change) * vector;
}

static int64_t vm_delta(struct vm *v, double now_s)
{
    double dt = now_s - v->last_s;
    int64_t delta = 0, proposed;

    switch (v->kind) {
    case VM_IDEAL:
        delta = ideal_delta(v, dt);
        break;
    case VM_LIMIT: /* a hidden lower limit: idealised_vm_with_limit */
        delta = ideal_delta(v, dt);
        proposed = v->d.memory_actual_kib + delta;
        if (!(proposed > v->d.memory_actual_kib || proposed > v->limit_kib))
            delta = v->limit_kib - v->d.memory_actual_kib;
        break;
    case VM_UPPER: /* idealised_vm_with_upper_limit */
        delta = ideal_delta(v, dt);
        proposed = v->d.memory_actual_kib + delta;
        if (proposed >= v->limit_kib)
            delta = v->limit_kib - v->d.memory_actual_kib;
        break;
    case VM_STUCK:
        break;
    case VM_INTERMITTENT: {
        /* Stuck every other interval: moves only across a free interval. */
        long a = (long)(v->last_s / v->interval_s), b = (long)(now_s / v->interval_s);
        if (a % 2 == 0 && b % 2 == 0)
            delta = ideal_delta(v, dt);
        break;
    }
    }
    v->d.memory_actual_kib += delta;
    v->last_s = now_s;
    return delta;
}

struct run {
    enum xf_sq_result result;
    int64_t free_kib;
    int64_t min_free_kib; /* the lowest free memory seen: overshoot shows here */
    size_t ticks;         /* iterations taken */
    size_t end_tick;      /* the clock when it ended */
    xf_domid_t stuck[8];
    size_t nr_stuck;
    bool increase_while_freeing; /* a target raised while another went down */
};

/* squeeze_test.ml execute_action: maxmem first when raising. */
static void execute(struct vm *v, int64_t kib)
{
    if (kib > v->d.memory_max_kib) {
        v->d.memory_max_kib = kib;
        v->d.target_kib = kib;
    } else {
        v->d.target_kib = kib;
        v->d.memory_max_kib = kib;
    }
}

/* squeeze.ml change_host_free_memory over the simulated VMs. */
static void run_from(size_t start, struct vm *vms, size_t n, int64_t *free_kib,
                     const struct xf_sq_goal *goal, struct run *out)
{
    struct xf_squeezer *sq;
    struct xf_sq_domain doms[8];
    struct xf_sq_dom_step ds[8];
    struct xf_sq_step st;
    struct xf_sq_host h;
    size_t i = start;

    memset(out, 0, sizeof(*out));
    out->min_free_kib = *free_kib;
    assert_int_equal(xf_squeezer_new(0, &sq), 0);
    for (;; i++) {
        assert_true(i - start < MAX_TICKS);
        for (size_t k = 0; k < n; k++)
            doms[k] = vms[k].d;
        memset(&h, 0, sizeof(h));
        h.domains = doms;
        h.nr_domains = n;
        h.free_kib = *free_kib;
        assert_int_equal(xf_squeezer_step(sq, &h, goal, i * NS_PER_TICK, ds, &st), 0);
        for (size_t k = 0; k < n; k++)
            if (ds[k].set_maxmem)
                execute(&vms[k], ds[k].maxmem_kib);
        if (st.result != XF_SQ_ADJUST)
            break;
        {
            bool down = false, up = false;
            for (size_t k = 0; k < n; k++) {
                if (!ds[k].set_target)
                    continue;
                if (ds[k].new_target_kib < doms[k].target_kib)
                    down = true;
                if (ds[k].new_target_kib > doms[k].target_kib)
                    up = true;
                execute(&vms[k], ds[k].new_target_kib);
                /* The maxmem never stays above the target it was given. */
                assert_true(vms[k].d.memory_max_kib == ds[k].new_target_kib);
            }
            if (down && up)
                out->increase_while_freeing = true;
        }
        /* wait: time passes; drivers move; allocation never exceeds free. */
        for (size_t k = 0; k < n; k++) {
            int64_t delta = vm_delta(&vms[k], (double)(i + 1) / 10.0);
            assert_true(delta <= *free_kib);
            *free_kib -= delta;
            if (*free_kib < out->min_free_kib)
                out->min_free_kib = *free_kib;
        }
    }
    out->result = st.result;
    out->free_kib = *free_kib;
    out->ticks = i - start;
    out->end_tick = i;
    for (size_t k = 0; k < n; k++)
        if (ds[k].stuck && out->nr_stuck < 8)
            out->stuck[out->nr_stuck++] = doms[k].domid;
    xf_squeezer_free(sq);
}

static void run(struct vm *vms, size_t n, int64_t *free_kib, const struct xf_sq_goal *goal,
                struct run *out)
{
    run_from(0, vms, n, free_kib, goal, out);
}

static struct xf_sq_goal free_goal(int64_t kib)
{
    struct xf_sq_goal g;
    memset(&g, 0, sizeof(g));
    g.target_kib = kib;
    g.success = XF_SQ_AT_LEAST;
    g.at_least_kib = kib;
    return g;
}

/* scenario_e's numbers, worked in its comment: 3000 KiB of surplus over
 * dynamic_min, 1000 for the host, gamma = 2000 / 8000 = 0.25: domain 0 to
 * 5000 + 500 and domain 1 to 5000 + 1500. */
static void test_squeeze_proportional_targets(void **state)
{
    struct vm v[2] = {vm_make(0, 5000, 7000, 7000, 7000, 0, VM_STUCK, 0),
                      vm_make(1, 5000, 6000, 11000, 6000, 0, VM_IDEAL, 100)};
    struct xf_sq_domain d[2] = {v[0].d, v[1].d};
    struct xf_sq_host h = {.domains = d, .nr_domains = 2, .free_kib = 0};
    struct xf_sq_goal g = free_goal(1000);
    int64_t t[2];
    (void)state;
    assert_int_equal(xf_sq_proportional(&h, &g, t), 0);
    assert_int_equal(t[0], 5500);
    assert_int_equal(t[1], 6500);
    /* Plenty free: gamma clamps to 1, everyone at dynamic_max. */
    h.free_kib = 100000;
    assert_int_equal(xf_sq_proportional(&h, &g, t), 0);
    assert_int_equal(t[0], 7000);
    assert_int_equal(t[1], 11000);
    /* gamma = 1000 / 3000 truncated per domain: 666 and 2000 over min. */
    h.free_kib = -2000 + 1000;
    d[0].dynamic_max_kib = 6000;
    d[1].dynamic_max_kib = 7000;
    assert_int_equal(xf_sq_proportional(&h, &g, t), 0);
    assert_int_equal(t[0], 5000 + 333);
    assert_int_equal(t[1], 5000 + 666);
}

/* Two phases: in scenario_e the first iteration lowers domain 0 and leaves
 * domain 1's increase for later; maxmem follows the new target. */
static void test_squeeze_two_phase_first_step(void **state)
{
    struct vm v[2] = {vm_make(0, 5000, 7000, 7000, 7000, 0, VM_STUCK, 0),
                      vm_make(1, 5000, 6000, 11000, 6000, 0, VM_IDEAL, 100)};
    struct xf_sq_domain d[2] = {v[0].d, v[1].d};
    struct xf_sq_host h = {.domains = d, .nr_domains = 2, .free_kib = 0};
    struct xf_sq_goal g = free_goal(1000);
    struct xf_sq_dom_step ds[2];
    struct xf_sq_step st;
    struct xf_squeezer *sq;
    (void)state;
    assert_int_equal(xf_squeezer_new(0, &sq), 0);
    assert_int_equal(xf_squeezer_step(sq, &h, &g, 0, ds, &st), 0);
    assert_int_equal(st.result, XF_SQ_ADJUST);
    assert_false(st.allocation_phase);
    assert_true(ds[0].set_target);
    assert_int_equal(ds[0].new_target_kib, 5500);
    assert_int_equal(ds[0].maxmem_kib, 5500);
    assert_false(ds[1].set_target);
    assert_int_equal(ds[1].maxmem_kib, 6000); /* its target, not 6500 */
    assert_int_equal(st.max_possible_free_kib, 3000);
    xf_squeezer_free(sq);
}

/* scenario_e: domain 0 never moves; after 5 s it is inactive and domain 1
 * frees the 1000 KiB instead of growing. Free memory never goes below 0
 * (no overshoot) and no increase is set while something is freeing. */
static void test_squeeze_stuck_domain_worked_around(void **state)
{
    struct vm v[2] = {vm_make(0, 5000, 7000, 7000, 7000, 0, VM_STUCK, 0),
                      vm_make(1, 5000, 6000, 11000, 6000, 0, VM_IDEAL, 100)};
    struct xf_sq_goal g = free_goal(1000);
    int64_t free_kib = 0;
    struct run r;
    (void)state;
    run(v, 2, &free_kib, &g, &r);
    assert_int_equal(r.result, XF_SQ_SUCCESS);
    assert_int_equal(r.free_kib, 1000);
    assert_int_equal(r.min_free_kib, 0);
    assert_false(r.increase_while_freeing);
    assert_int_equal(v[1].d.target_kib, 5000);
    assert_int_equal(v[1].d.memory_actual_kib, 5000);
    /* Declared inactive: maxmem (and target) min(target 5500, actual 7000). */
    assert_int_equal(v[0].d.memory_max_kib, 5500);
    assert_int_equal(v[0].d.memory_actual_kib, 7000);
    /* Stuck after more than 5 s without progress: 51 ticks at least. */
    assert_true(r.ticks > 50);
}

/* scenario_c: the dynamic_mins leave only 1000 KiB to free. */
static void test_squeeze_cannot_free_this_much(void **state)
{
    struct vm v[2] = {vm_make(0, 1000, 1500, 2000, 1500, 0, VM_IDEAL, 100),
                      vm_make(1, 2000, 2500, 3000, 2500, 0, VM_IDEAL, 100)};
    struct xf_sq_goal g = free_goal(1500);
    int64_t free_kib = 0;
    struct run r;
    (void)state;
    run(v, 2, &free_kib, &g, &r);
    assert_int_equal(r.result, XF_SQ_CANNOT_FREE);
    assert_int_equal(r.free_kib, 1000);
    assert_int_equal(r.nr_stuck, 0);
    assert_int_equal(v[0].d.memory_actual_kib, 1000);
    assert_int_equal(v[1].d.memory_actual_kib, 2000);
}

/* scenario_d: domain 1 claims to balloon but stops at 2250 (a driver that
 * never reaches its target): Domains_refused_to_cooperate [1]. */
static void test_squeeze_never_reaches_target(void **state)
{
    struct vm v[2] = {vm_make(0, 1000, 1500, 2000, 1500, 0, VM_IDEAL, 100),
                      vm_make(1, 2000, 2500, 3000, 2500, 0, VM_LIMIT, 100)};
    struct xf_sq_goal g = free_goal(1000);
    int64_t free_kib = 0;
    struct run r;
    (void)state;
    v[1].limit_kib = 2250;
    run(v, 2, &free_kib, &g, &r);
    assert_int_equal(r.result, XF_SQ_REFUSED);
    assert_int_equal(r.nr_stuck, 1);
    assert_int_equal(r.stuck[0], 1);
    assert_int_equal(v[1].d.memory_actual_kib, 2250);
    assert_int_equal(v[0].d.memory_actual_kib, 1000);
    assert_int_equal(r.free_kib, 750);
}

/* scenario_a and scenario_b: drivers that pause for a while (0.25 s, 1.5 s,
 * 3 s: all under 5 s) or have a hidden limit still get there. */
static void test_squeeze_too_slow_domains_succeed(void **state)
{
    struct vm a[2] = {vm_make(0, 1000, 1500, 2000, 1500, 4, VM_LIMIT, 100),
                      vm_make(1, 2500, 3500, 4500, 3500, 4, VM_INTERMITTENT, 500)};
    struct vm b[2] = {vm_make(1, 500, 3500, 4500, 3500, 4, VM_INTERMITTENT, 100),
                      vm_make(0, 500, 1500, 2500, 1500, 4, VM_INTERMITTENT, 100)};
    struct xf_sq_goal g = free_goal(1000);
    int64_t free_kib = 0;
    struct run r;
    (void)state;
    a[0].limit_kib = 1250;
    a[1].interval_s = 0.25;
    run(a, 2, &free_kib, &g, &r);
    assert_int_equal(r.result, XF_SQ_SUCCESS);
    assert_true(r.free_kib >= 1000);
    assert_int_equal(a[0].d.memory_actual_kib, 1250); /* its hidden limit */

    b[0].interval_s = 3.0;
    b[1].interval_s = 1.5;
    free_kib = 0;
    run(b, 2, &free_kib, &g, &r);
    assert_int_equal(r.result, XF_SQ_SUCCESS);
    assert_true(r.free_kib >= 1000);
    assert_false(r.increase_while_freeing);
}

/* A driver slower than any deadline but always moving is never stuck:
 * 10 KiB/s over 1000 KiB takes about 100 s, and succeeds. */
static void test_squeeze_slow_but_steady_is_not_stuck(void **state)
{
    struct vm v[1] = {vm_make(3, 1000, 3000, 3000, 3000, 4, VM_IDEAL, 10)};
    struct xf_sq_goal g = free_goal(1000);
    int64_t free_kib = 0;
    struct run r;
    (void)state;
    run(v, 1, &free_kib, &g, &r);
    assert_int_equal(r.result, XF_SQ_SUCCESS);
    assert_int_equal(r.nr_stuck, 0);
    /* gamma = (2000 - 8 - 1000) / 2000: target 1000 + 992 = 1992; it stops
     * within its inaccuracy, at 1996. */
    assert_int_equal(v[0].d.target_kib, 1992);
    assert_int_equal(v[0].d.memory_actual_kib, 1996);
    assert_int_equal(r.free_kib, 1004);
    assert_true(r.ticks >= 1000); /* >= 100 s of 0.1 s ticks */
}

/* scenario_h, as squeezed runs it: free 0 KiB more than nothing (both
 * domains grow; domain 0 cannot pass 1500 and is left behind), use 500 KiB,
 * then balance to at most 32 KiB free: domain 1 takes up the slack. */
static void test_squeeze_balance_gives_memory_back(void **state)
{
    struct vm v[2] = {vm_make(0, 1000, 1500, 2000, 1500, 4, VM_UPPER, 100),
                      vm_make(1, 1000, 1500, 2000, 1500, 4, VM_IDEAL, 100)};
    struct xf_sq_goal g = free_goal(0);
    int64_t free_kib = 1000;
    struct run r;
    (void)state;
    v[0].limit_kib = 1500;
    run(v, 2, &free_kib, &g, &r);
    assert_int_equal(r.result, XF_SQ_SUCCESS);
    assert_int_equal(v[0].d.memory_actual_kib, 1500);
    assert_int_equal(v[1].d.memory_actual_kib, 1996);
    assert_int_equal(r.free_kib, 504);
    free_kib -= 500;
    memset(&g, 0, sizeof(g));
    g.success = XF_SQ_BALANCED;
    g.tolerance_kib = 33; /* squeeze_test.ml: x <= 32 */
    run_from(r.end_tick + 1, v, 2, &free_kib, &g, &r);
    assert_int_equal(r.result, XF_SQ_SUCCESS);
    assert_true(r.free_kib <= 32 && r.free_kib >= 0);
    assert_int_equal(v[0].d.memory_actual_kib, 1500);
    assert_int_equal(r.min_free_kib, 4);
}

/* NUMA: free memory on node 1 only. Domain 0 lives on node 0 and keeps its
 * target; domain 1 (all on node 1) and domain 2 (half on node 1) give it.
 * Node 1 has 0 free; the goal is 3000 KiB there, aimed at with 512 KiB to
 * spare (the tolerance). Shares: 1 and 0.5, so max free = 4000 * 1 +
 * 4000 * 0.5 = 6000 (inaccuracy 0), surplus 6000 - 3512 = 2488, weighted
 * range 4000 + 2000 = 6000: gamma 0.41466..., targets 1000 + 1658. */
static void test_squeeze_numa_frees_on_the_node(void **state)
{
    struct vm v[3] = {vm_make(0, 1000, 5000, 5000, 5000, 0, VM_IDEAL, 1000),
                      vm_make(1, 1000, 5000, 5000, 5000, 0, VM_IDEAL, 1000),
                      vm_make(2, 1000, 5000, 5000, 5000, 0, VM_IDEAL, 1000)};
    struct xf_sq_domain d[3];
    struct xf_sq_host h;
    struct xf_sq_goal g = free_goal(3000);
    struct xf_sq_dom_step ds[3];
    struct xf_sq_step st;
    struct xf_squeezer *sq;
    (void)state;
    v[0].d.node_kib[0] = 5000;
    v[1].d.node_kib[1] = 5000;
    v[2].d.node_kib[0] = 2500;
    v[2].d.node_kib[1] = 2500;
    for (int i = 0; i < 3; i++)
        d[i] = v[i].d;
    memset(&h, 0, sizeof(h));
    h.domains = d;
    h.nr_domains = 3;
    h.free_kib = 100000; /* plenty host-wide: a host-wide squeeze does nothing */
    h.node_free_kib[0] = 100000;
    g.node_mask = 1u << 1;
    assert_int_equal(xf_squeezer_new(0, &sq), 0);
    assert_int_equal(xf_squeezer_step(sq, &h, &g, 0, ds, &st), 0);
    assert_int_equal(st.result, XF_SQ_ADJUST);
    assert_false(ds[0].set_target);
    assert_int_equal(ds[0].maxmem_kib, 5000);
    assert_true(ds[1].set_target && ds[2].set_target);
    assert_int_equal(ds[1].new_target_kib, 2658);
    assert_int_equal(ds[2].new_target_kib, 2658);
    assert_int_equal(st.max_possible_free_kib, 6000);
    /* At their targets node 1 has 2342 + 1171 free: success, the planned
     * targets kept. */
    d[1].target_kib = d[2].target_kib = 2658;
    d[1].memory_actual_kib = d[2].memory_actual_kib = 2658;
    d[1].node_kib[1] = 2658;
    d[2].node_kib[0] = d[2].node_kib[1] = 1329;
    h.node_free_kib[1] = 3513;
    assert_int_equal(xf_squeezer_step(sq, &h, &g, 1000, ds, &st), 0);
    assert_int_equal(st.result, XF_SQ_SUCCESS);
    /* Host-wide the same host would give everyone dynamic_max. */
    g.node_mask = 0;
    assert_int_equal(xf_squeezer_step(sq, &h, &g, 2000, ds, &st), 0);
    assert_int_equal(st.result, XF_SQ_ADJUST);
    assert_true(st.allocation_phase);
    assert_int_equal(ds[1].new_target_kib, 5000);
    xf_squeezer_free(sq);
}

/* A domain whose reservation promised it 4000 KiB is never targeted below,
 * even with dynamic_min 1000: the squeeze fails rather than break it. */
static void test_squeeze_floor_of_reservation(void **state)
{
    struct vm v[1] = {vm_make(5, 1000, 5000, 5000, 5000, 0, VM_IDEAL, 1000)};
    struct xf_sq_goal g = free_goal(3000);
    int64_t free_kib = 0, ideal;
    struct run r;
    struct xf_sq_host h;
    (void)state;
    v[0].d.floor_kib = 4000;
    assert_int_equal(xf_sq_effective_min(&v[0].d), 4000);
    run(v, 1, &free_kib, &g, &r);
    assert_int_equal(r.result, XF_SQ_CANNOT_FREE);
    assert_int_equal(v[0].d.memory_actual_kib, 4000);
    assert_int_equal(r.free_kib, 1000);
    /* A floor above dynamic_max is capped there. */
    v[0].d.floor_kib = 9000;
    assert_int_equal(xf_sq_effective_min(&v[0].d), 5000);
    /* free_memory_range: a pretend [2000, 6000] next to one domain [1000,
     * 5000] at 5000, 0 free, target 0: surplus 4000 - 8 = 3992... with
     * inaccuracy 0 here: 4000 over a range of 8000, gamma 0.5: 2000 + 2000. */
    v[0].d.floor_kib = 0;
    memset(&h, 0, sizeof(h));
    h.domains = &v[0].d;
    h.nr_domains = 1;
    v[0].d.memory_actual_kib = 5000;
    assert_int_equal(xf_sq_range_ideal(&h, 0, 2000, 6000, &ideal), 0);
    assert_int_equal(ideal, 4000);
    assert_int_equal(xf_sq_range_ideal(&h, 0, 6000, 2000, &ideal), XF_EINVAL);
}

static void test_squeeze_bad_input_changes_nothing(void **state)
{
    struct xf_sq_domain d[1];
    struct xf_sq_host h;
    struct xf_sq_goal g = free_goal(1);
    struct xf_sq_dom_step ds[1];
    struct xf_sq_step st;
    struct xf_squeezer *sq;
    int64_t t[1] = {77};
    (void)state;
    memset(d, 0, sizeof(d));
    d[0].dynamic_min_kib = 2000;
    d[0].dynamic_max_kib = 1000;
    memset(&h, 0, sizeof(h));
    h.domains = d;
    h.nr_domains = 1;
    assert_int_equal(xf_sq_proportional(&h, &g, t), XF_EINVAL);
    assert_int_equal(t[0], 77);
    assert_int_equal(xf_squeezer_new(0, &sq), 0);
    st.result = XF_SQ_SUCCESS;
    assert_int_equal(xf_squeezer_step(sq, &h, &g, 0, ds, &st), XF_EINVAL);
    assert_int_equal(st.result, XF_SQ_SUCCESS);
    assert_int_equal(xf_squeezer_step(NULL, &h, &g, 0, ds, &st), XF_EINVAL);
    xf_squeezer_free(sq);
    xf_squeezer_free(NULL);
}

/* The shortcut: enough free and everyone at target: no iteration. */
static void test_squeeze_already_done(void **state)
{
    struct vm v = vm_make(1, 1000, 2000, 3000, 2002, 4, VM_IDEAL, 1);
    struct xf_sq_host h = {.domains = &v.d, .nr_domains = 1, .free_kib = 500};
    struct xf_sq_goal g = free_goal(500);
    (void)state;
    assert_true(xf_sq_already_done(&h, &g));
    v.d.memory_actual_kib = 2005; /* off target by more than 4 KiB */
    assert_false(xf_sq_already_done(&h, &g));
    v.d.memory_actual_kib = 2000;
    h.free_kib = 499;
    assert_false(xf_sq_already_done(&h, &g));
    /* A range aims above what would do (free_memory_range): not done until
     * free covers the aim. */
    h.free_kib = 600;
    g.target_kib = 700;
    assert_false(xf_sq_already_done(&h, &g));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_squeeze_proportional_targets),
        cmocka_unit_test(test_squeeze_two_phase_first_step),
        cmocka_unit_test(test_squeeze_stuck_domain_worked_around),
        cmocka_unit_test(test_squeeze_cannot_free_this_much),
        cmocka_unit_test(test_squeeze_never_reaches_target),
        cmocka_unit_test(test_squeeze_too_slow_domains_succeed),
        cmocka_unit_test(test_squeeze_slow_but_steady_is_not_stuck),
        cmocka_unit_test(test_squeeze_balance_gives_memory_back),
        cmocka_unit_test(test_squeeze_numa_frees_on_the_node),
        cmocka_unit_test(test_squeeze_floor_of_reservation),
        cmocka_unit_test(test_squeeze_bad_input_changes_nothing),
        cmocka_unit_test(test_squeeze_already_done),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
