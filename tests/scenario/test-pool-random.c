/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The property of pool plans (include/xenfit/pool.h) on random pools (fixed
 * seed): every evacuation and every HA restart plan xenfit makes replays on
 * its own model and executes on simulated hosts (one simulator each,
 * lib/scenario/pool-run.c) with no failed step. Beside it, binpack.ml's plans
 * (lib/core/binpack.c) on the same pools are executed too, and the test
 * prints the comparison: plans xenfit finds that binpack does not, binpack's
 * plans that fail a step, and plans binpack finds that xenfit refuses (which
 * must never execute cleanly: xenfit refuses only what cannot move).
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xenfit/error.h"
#include "xenfit/pool.h"
#include "xenfit/scenario.h"
#include "buf.h" /* lib/client: the growable buffer */

/* Pools, half roomy and half tight (see random_pool's callers). */
#define POOLS 40

static uint64_t rng_state;

static uint64_t rnd(uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? rng_state % n : 0;
}

/* Appends to the pool's JSON text; no memory is a failed run. */
#define add(t, ...)                                                                                \
    do {                                                                                           \
        if (xfd_buf_printf((t), __VA_ARGS__) < 0)                                                  \
            abort();                                                                               \
    } while (0)

/* A random pool: 3..8 hosts of 1..4 nodes, 0..10 VMs each; some hosts
 * have reservations in flight; some VMs hold more than their footprint
 * (ballooned above target or mid-migration) and are counted by xapi at
 * dynamic_min. */
static struct xf_pool *random_pool(uint64_t node_unit_mib)
{
    struct xfd_buf t = {0};
    uint32_t nr_hosts = 3 + (uint32_t)rnd(6), vm = 0;
    struct xf_pool *pool = NULL;
    char err[256];
    int r;

    add(&t, "{\"hosts\":[");
    for (uint32_t h = 0; h < nr_hosts; h++) {
        uint32_t nodes = 1 + (uint32_t)rnd(4);
        uint64_t node_mib[4], free_mib = 0, pending = rnd(3) == 0 ? 256 * (1 + rnd(8)) : 0;
        for (uint32_t n = 0; n < nodes; n++) {
            node_mib[n] = node_unit_mib * (1 + rnd(12)) + rnd(node_unit_mib);
            free_mib += node_mib[n];
        }
        add(&t,
            "%s{\"name\":\"h%u\",\"status\":{\"free_kib\":%" PRIu64 ",\"pending_kib\":%" PRIu64 ","
            "\"low_mem_reserve_kib\":65536,\"nodes\":[",
            h ? "," : "", h, (uint64_t)((free_mib + 72) * 1024), (uint64_t)(pending * 1024));
        for (uint32_t n = 0; n < nodes; n++) {
            uint64_t node_free = node_mib[n] > pending ? node_mib[n] - pending : 0;
            add(&t, "%s{\"free_for_new_vm_kib\":%" PRIu64 ",\"cpus\":[%u,%u]}", n ? "," : "",
                (uint64_t)(node_free * 1024), 2 * n, 2 * n + 1);
        }
        add(&t, "]}}");
    }
    add(&t, "],\"vms\":[");
    for (uint32_t h = 0; h < nr_hosts; h++) {
        uint32_t nr = (uint32_t)rnd(11);
        for (uint32_t i = 0; i < nr; i++, vm++) {
            uint64_t fp = 256 + rnd(4096), src = rnd(3) == 0 ? fp + rnd(2048) : fp;
            uint64_t xapi = rnd(2) ? fp / 2 + rnd(fp / 2) : fp;
            add(&t,
                "%s{\"name\":\"v%u\",\"host\":\"h%u\",\"footprint_mib\":%" PRIu64
                ",\"source_mib\":%" PRIu64 ","
                "\"xapi_mib\":%" PRIu64 ",\"vcpus\":%" PRIu64 ",\"protected\":%s}",
                vm ? "," : "", vm, h, (uint64_t)fp, (uint64_t)src, (uint64_t)xapi,
                (uint64_t)(1 + rnd(2)), rnd(2) ? "true" : "false");
        }
    }
    add(&t, "]}");
    r = xf_pool_new_from_json(t.p, t.len, err, sizeof(err), &pool);
    if (r < 0)
        fail_msg("random pool: %s", err);
    xfd_buf_free(&t);
    return pool;
}

static uint32_t run(const struct xf_pool *pool, const struct xf_pool_plan *plan,
                    const uint32_t *failed, uint32_t nr_failed, char *why, size_t len)
{
    struct xf_pool_run *r;
    struct xf_pool_run_result res;
    assert_int_equal(xf_pool_run_new(pool, &r), 0);
    for (uint32_t i = 0; i < nr_failed; i++)
        xf_pool_run_fail_host(r, failed[i]);
    assert_int_equal(xf_pool_run_plan(r, plan, &res), 0);
    snprintf(why, len, "%s", res.reason);
    xf_pool_run_free(r);
    return res.steps_failed;
}

static void test_pool_random_plans_execute(void **state)
{
    (void)state;
    uint64_t xf_only_no_plan = 0;
    uint64_t evacuations = 0, xf_complete = 0, bp_complete = 0, xf_only = 0, bp_only = 0;
    uint64_t bp_plans_failing = 0, bp_failed_steps = 0, bp_clean_xf_refused = 0;
    uint64_t ha_sets = 0, ha_possible = 0, bp_ha_possible = 0, ha_xf_only = 0, ha_bp_only = 0;
    uint64_t steps = 0, bp_ha_failed_steps = 0, bp_ha_failing = 0;
    char why[256];

    rng_state = 0x9e3779b97f4a7c15ull;
    for (int p = 0; p < POOLS; p++) {
        /* Half the pools roomy (1 GiB steps per node), half tight (384 MiB). */
        struct xf_pool *pool = random_pool(p % 2 ? 384 : 1024);
        struct xf_pool_host_state *st = calloc(pool->nr_hosts, sizeof(*st));
        struct xf_pool_ha_options o = {.failures = 1};
        struct xf_pool_ha ha;
        bool exhaustive;
        int bp_ha;

        assert_non_null(st);
        for (uint32_t h = 0; h < pool->nr_hosts; h++) {
            struct xf_pool_plan plan, bp;
            uint32_t f;
            assert_int_equal(xf_pool_evacuate(pool, h, &plan), 0);
            xf_pool_states(pool, st);
            assert_int_equal(xf_pool_replay(pool, st, &plan), plan.nr_steps);
            f = run(pool, &plan, NULL, 0, why, sizeof(why));
            if (f)
                fail_msg("pool %d, evacuating h%u: %u steps failed: %s", p, h, f, why);
            steps += plan.nr_steps;
            assert_int_equal(xf_binpack_evacuate(pool, h, &bp), 0);
            evacuations++;
            xf_complete += plan.complete;
            bp_complete += bp.complete;
            f = run(pool, &bp, NULL, 0, why, sizeof(why));
            bp_failed_steps += f;
            bp_plans_failing += f > 0;
            /* A plan is found when complete and every step runs. */
            xf_only += plan.complete && !(bp.complete && f == 0);
            xf_only_no_plan += plan.complete && !bp.complete;
            bp_only += !plan.complete && bp.complete && f == 0;
            bp_clean_xf_refused += !plan.complete && bp.complete && f == 0;
            xf_pool_plan_done(&plan);
            xf_pool_plan_done(&bp);
        }
        assert_int_equal(xf_pool_ha_plan(pool, &o, &ha), 0);
        bp_ha = xf_binpack_ha_possible(pool, 1, &exhaustive);
        assert_true(bp_ha >= 0);
        ha_sets++;
        ha_possible += ha.possible;
        bp_ha_possible += bp_ha == 1;
        ha_xf_only += ha.possible && bp_ha == 0;
        /* binpack's restart plans, where it says HA is possible: executed. */
        for (uint32_t h = 0; bp_ha == 1 && h < pool->nr_hosts; h++) {
            struct xf_pool_plan bp;
            uint32_t f;
            assert_int_equal(xf_binpack_restart(pool, h, &bp), 0);
            f = run(pool, &bp, &h, 1, why, sizeof(why));
            bp_ha_failed_steps += f;
            bp_ha_failing += f > 0 || !bp.complete;
            xf_pool_plan_done(&bp);
        }
        ha_bp_only += !ha.possible && bp_ha == 1;
        if (ha.possible) {
            assert_int_equal(ha.nr_cases, pool->nr_hosts);
            for (size_t c = 0; c < ha.nr_cases; c++) {
                uint32_t f = run(pool, &ha.cases[c].plan, ha.cases[c].failed, 1, why, sizeof(why));
                if (f)
                    fail_msg("pool %d, h%u failed: %u restarts failed: %s", p,
                             ha.cases[c].failed[0], f, why);
                steps += ha.cases[c].plan.nr_steps;
            }
        } else {
            assert_true(ha.nr_blocking > 0);
        }
        xf_pool_ha_done(&ha);
        free(st);
        xf_pool_free(pool);
    }
    printf("pools %d, evacuations %" PRIu64 " (xenfit complete %" PRIu64
           ", binpack complete %" PRIu64 "), "
           "steps executed %" PRIu64 "\n",
           POOLS, (uint64_t)evacuations, (uint64_t)xf_complete, (uint64_t)bp_complete,
           (uint64_t)steps);
    printf("evacuation plans xenfit finds that binpack does not (or whose steps fail): %" PRIu64
           " (binpack has no plan: %" PRIu64 ", its plan fails a step: %" PRIu64 ")\n",
           (uint64_t)xf_only, (uint64_t)xf_only_no_plan, (uint64_t)(xf_only - xf_only_no_plan));
    printf("binpack plans with a failed step: %" PRIu64 " (%" PRIu64 " failed steps)\n",
           (uint64_t)bp_plans_failing, (uint64_t)bp_failed_steps);
    printf("evacuations binpack executes cleanly that xenfit refuses: %" PRIu64 "\n",
           (uint64_t)bp_only);
    printf("HA --failures 1: xenfit possible %" PRIu64 " of %" PRIu64 ", binpack %" PRIu64
           "; xenfit only %" PRIu64 ", "
           "binpack only %" PRIu64 "\n",
           (uint64_t)ha_possible, (uint64_t)ha_sets, (uint64_t)bp_ha_possible, (uint64_t)ha_xf_only,
           (uint64_t)ha_bp_only);
    printf("binpack HA restart plans (where it says possible) that fail: %" PRIu64 " (%" PRIu64
           " failed "
           "steps)\n",
           (uint64_t)bp_ha_failing, (uint64_t)bp_ha_failed_steps);
    /* The comparison has to show something, or the pools test nothing. */
    assert_true(xf_only > 0);
    assert_true(bp_failed_steps > 0);
    assert_true(bp_ha_failed_steps > 0);
    assert_int_equal(bp_clean_xf_refused, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_random_plans_execute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
