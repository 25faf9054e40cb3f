/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Pool planning (lib/core/pool.c, pool-json.c, binpack.c) on hand-worked
 * pools, each plan also executed on simulated hosts (lib/scenario/pool-run.c):
 * the figures read from host_status (squeezed's 72 MiB, reservations in
 * flight), a host choice with its losers' numbers, an evacuation where
 * binpack.ml's biggest-bin rule leaves a VM out and best fit does not, the
 * migration that needs the source's memory (xen-orchestra #10260), HA plans
 * and the smallest set of VMs that makes one impossible, binpack.ml's
 * heuristic choice, and refusals of bad input naming the value.
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

#include "fail-alloc.h"
#include "xenfit/error.h"
#include "xenfit/pool.h"
#include "xenfit/scenario.h"

/* A host_status object: xenfit sees `free` MiB (squeezed's 72 MiB and the
 * reservations in flight are added to free_kib), nodes with the given free
 * memory and 4 CPUs each. */
static void host(char *buf, size_t len, const char *name, uint64_t free_mib, uint64_t pending_mib,
                 int nr_nodes, const uint64_t *node_mib)
{
    size_t at =
        (size_t)snprintf(buf, len,
                         "{\"name\":\"%s\",\"status\":{\"host\":\"%s\",\"free_kib\":%" PRIu64
                         ",\"pending_kib\":%" PRIu64 ","
                         "\"low_mem_reserve_kib\":65536,\"nodes\":[",
                         name, name, (uint64_t)((free_mib + pending_mib + 72) * 1024),
                         (uint64_t)(pending_mib * 1024));
    for (int n = 0; n < nr_nodes; n++)
        at += (size_t)snprintf(buf + at, len - at,
                               "%s{\"node\":%d,\"free_for_new_vm_kib\":%" PRIu64
                               ",\"cpus\":[%d,%d,%d,%d]}",
                               n ? "," : "", n, (uint64_t)(node_mib[n] * 1024), 4 * n, 4 * n + 1,
                               4 * n + 2, 4 * n + 3);
    snprintf(buf + at, len - at, "]}}");
}

static struct xf_pool *parse(const char *json)
{
    struct xf_pool *pool = NULL;
    char err[256] = "";
    int r = xf_pool_new_from_json(json, strlen(json), err, sizeof(err), &pool);
    if (r < 0)
        fail_msg("parse: %s", err);
    return pool;
}

/* h0 (to empty) holds 6000, 5000, 5000 MiB VMs; h1 has 10000 MiB free on
 * two nodes of 5000, h2 6000 on two of 3000. */
static const char *bfd_json(void)
{
    static char json[8192];
    char a[1024], b[1024], c[1024];
    const uint64_t n0[] = {20000, 20000}, n1[] = {5000, 5000}, n2[] = {3000, 3000};
    host(a, sizeof(a), "h0", 40000, 0, 2, n0);
    host(b, sizeof(b), "h1", 10000, 0, 2, n1);
    host(c, sizeof(c), "h2", 6000, 0, 2, n2);
    snprintf(json, sizeof(json),
             "{\"hosts\":[%s,%s,%s],\"vms\":["
             "{\"name\":\"big\",\"host\":\"h0\",\"footprint_mib\":6000,\"vcpus\":2},"
             "{\"name\":\"m1\",\"host\":\"h0\",\"footprint_mib\":5000,\"vcpus\":2},"
             "{\"name\":\"m2\",\"host\":\"h0\",\"footprint_mib\":5000,\"vcpus\":2,"
             "\"protected\":true}]}",
             a, b, c);
    return json;
}

static struct xf_pool *bfd_pool(void)
{
    return parse(bfd_json());
}

static void test_pool_parse_figures(void **state)
{
    (void)state;
    struct xf_pool *pool;
    char json[4096], a[1024];
    const uint64_t n[] = {3000, 9000};
    uint32_t i;
    host(a, sizeof(a), "h0", 8000, 1000, 2, n);
    snprintf(json, sizeof(json),
             "{\"hosts\":[%s],\"vms\":[{\"name\":\"v\",\"host\":\"h0\",\"footprint_mib\":100,"
             "\"source_mib\":300,\"xapi_mib\":50,\"nodes\":[1],\"protected\":true}]}",
             a);
    pool = parse(json);
    assert_int_equal(pool->hosts[0].keep_mib, 72);
    assert_int_equal(pool->hosts[0].pending_mib, 1000);
    assert_int_equal(pool->hosts[0].free_mib, 8000);
    /* binpack does not see the reservation in flight. */
    assert_int_equal(pool->hosts[0].binpack_free_mib, 9000);
    /* A node's figure is capped by the host's. */
    assert_int_equal(pool->hosts[0].node_free_mib[0], 3000);
    assert_int_equal(pool->hosts[0].node_free_mib[1], 8000);
    assert_int_equal(pool->vms[0].node_mask, 2);
    assert_true(pool->vms[0].protect);
    assert_int_equal(xf_pool_vm_need_mib(&pool->vms[0]), 300);
    assert_int_equal(xf_pool_vm_index(pool, "v", &i), 0);
    assert_int_equal(xf_pool_host_index(pool, "nope", &i), XF_ENOENT);
    xf_pool_free(pool);
}

static void expect_refused(const char *json, int code, const char *needle)
{
    struct xf_pool *pool = NULL;
    char err[256] = "";
    assert_int_equal(xf_pool_new_from_json(json, strlen(json), err, sizeof(err), &pool), code);
    assert_null(pool);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not name \"%s\"", err, needle);
}

static void test_pool_parse_refusals(void **state)
{
    (void)state;
    char json[4096], a[1024];
    const uint64_t n[] = {3000};
    host(a, sizeof(a), "h0", 8000, 0, 1, n);
    snprintf(json, sizeof(json),
             "{\"hosts\":[%s],\"vms\":[{\"name\":\"v\",\"host\":\"h9\",\"footprint_mib\":1}]}", a);
    expect_refused(json, XF_EINVAL, "vms[0].host: \"h9\"");
    snprintf(json, sizeof(json), "{\"hosts\":[%s],\"vms\":[{\"name\":\"v\",\"footprint_mib\":-5}]}",
             a);
    expect_refused(json, XF_EINVAL, "vms[0].footprint_mib: -5");
    snprintf(json, sizeof(json),
             "{\"hosts\":[%s],\"vms\":[{\"name\":\"v\",\"footprint_mib\":1},"
             "{\"name\":\"v\",\"footprint_mib\":2}]}",
             a);
    expect_refused(json, XF_EINVAL, "vms[1].name: \"v\" is also vms[0]");
    snprintf(json, sizeof(json), "{\"hosts\":[%s,%s]}", a, a);
    expect_refused(json, XF_EINVAL, "\"h0\" is also hosts[0]");
    expect_refused("{\"hosts\":[{\"name\":\"x\",\"status\":{\"free_kib\":1}}]}", XF_EPARSE,
                   "hosts[0].status.nodes");
    expect_refused("{\"hosts\":[{\"name\":\"x\",\"status\":{\"free_kib\":\"a\"}}]}", XF_EPARSE,
                   "hosts[0].status.free_kib: expected an integer");
    expect_refused("{\"hosts\":[", XF_EPARSE, "line 1");
    snprintf(json, sizeof(json), "{\"hosts\":[%s],\"numa_policy\":\"best\"}", a);
    expect_refused(json, XF_EINVAL, "numa_policy: best");
}

/* The migration needs the VM's source memory (6144 MiB) on the destination:
 * h1 (5000 free, where binpack's dynamic_min figure of 2048 fits) loses with
 * its numbers, h2 wins on one node. */
static void test_pool_place_reasons(void **state)
{
    (void)state;
    char json[8192], a[1024], b[1024], c[1024];
    const uint64_t n0[] = {8000}, n1[] = {2500, 2500}, n2[] = {7000, 1000};
    struct xf_pool_placement p;
    struct xf_pool *pool;
    host(a, sizeof(a), "h0", 8000, 0, 1, n0);
    host(b, sizeof(b), "h1", 5000, 0, 2, n1);
    host(c, sizeof(c), "h2", 8000, 0, 2, n2);
    snprintf(json, sizeof(json),
             "{\"hosts\":[%s,%s,%s],\"vms\":[{\"name\":\"v\",\"host\":\"h0\",\"footprint_mib\":"
             "4096,\"source_mib\":6144,\"xapi_mib\":2048,\"vcpus\":2}]}",
             a, b, c);
    pool = parse(json);
    assert_int_equal(xf_pool_place(pool, 0, &p), 0);
    assert_true(p.fits);
    assert_int_equal(p.target.host, 2);
    assert_true(p.target.numa);
    assert_int_equal(p.target.node_mask, 1);
    assert_int_equal(p.plan.memory_mib_per_node[0], 6144);
    assert_int_equal(p.nr_verdicts, 3);
    assert_int_equal(p.verdicts[0].host, 2);
    assert_int_equal(p.verdicts[0].kind, XF_POOL_CHOSEN);
    assert_int_equal(p.verdicts[0].left_mib, 8000 - 6144);
    assert_int_equal(p.verdicts[1].host, 1);
    assert_int_equal(p.verdicts[1].kind, XF_POOL_NO_MEMORY);
    assert_int_equal(p.verdicts[1].need_mib, 6144);
    assert_int_equal(p.verdicts[1].free_mib, 5000);
    assert_int_equal(p.verdicts[1].best_node_mib, 2500);
    assert_int_equal(p.verdicts[2].kind, XF_POOL_CURRENT);
    xf_pool_placement_done(&p);
    xf_pool_free(pool);
}

/* One node set beats an interleave on a host with more memory left. */
static void test_pool_place_prefers_nodes(void **state)
{
    (void)state;
    char json[8192], a[1024], b[1024];
    const uint64_t n0[] = {3000, 3000}, n1[] = {5000, 1000};
    struct xf_pool_placement p;
    struct xf_pool *pool;
    host(a, sizeof(a), "wide", 6000, 0, 2, n0);
    host(b, sizeof(b), "deep", 5000, 0, 2, n1);
    snprintf(json, sizeof(json),
             "{\"hosts\":[%s,%s],\"vms\":[{\"name\":\"v\",\"footprint_mib\":4000}]}", a, b);
    pool = parse(json);
    assert_int_equal(xf_pool_place(pool, 0, &p), 0);
    assert_int_equal(p.target.host, 1);
    assert_int_equal(p.target.nr_nodes, 1);
    /* wide fits on its two nodes (distance 20): it lost on nodes, not memory. */
    assert_int_equal(p.verdicts[1].host, 0);
    assert_int_equal(p.verdicts[1].kind, XF_POOL_WORSE);
    assert_int_equal(p.verdicts[1].nr_nodes, 2);
    assert_int_equal(p.verdicts[1].max_distance, 20);
    assert_int_equal(p.verdicts[1].left_mib, 2000);
    xf_pool_placement_done(&p);
    xf_pool_free(pool);
}

static void run_clean(const struct xf_pool *pool, const struct xf_pool_plan *plan,
                      uint32_t want_failed)
{
    struct xf_pool_run *run;
    struct xf_pool_run_result res;
    assert_int_equal(xf_pool_run_new(pool, &run), 0);
    assert_int_equal(xf_pool_run_plan(run, plan, &res), 0);
    if (res.steps_failed != want_failed)
        fail_msg("%u steps failed, want %u: %s", res.steps_failed, want_failed, res.reason);
    xf_pool_run_free(run);
}

static void test_pool_evacuate_best_fit(void **state)
{
    (void)state;
    struct xf_pool *pool = bfd_pool();
    struct xf_pool_plan plan, bp;
    struct xf_pool_host_state st[3];

    assert_int_equal(xf_pool_evacuate(pool, 0, &plan), 0);
    assert_true(plan.complete);
    assert_int_equal(plan.nr_steps, 3);
    /* Biggest first, each onto the host it leaves the least on. */
    assert_int_equal(plan.steps[0].vm, 0);
    assert_int_equal(plan.steps[0].to.host, 2);
    assert_int_equal(plan.steps[0].to.free_before_mib, 6000);
    assert_int_equal(plan.steps[1].to.host, 1);
    assert_true(plan.steps[1].to.numa);
    assert_int_equal(plan.steps[1].to.nr_nodes, 1);
    assert_int_equal(plan.steps[2].to.host, 1);
    assert_int_equal(plan.steps[2].to.free_before_mib, 5000);
    xf_pool_states(pool, st);
    assert_int_equal(xf_pool_replay(pool, st, &plan), 3);
    assert_int_equal(st[1].free_mib, 0);
    assert_int_equal(st[0].free_mib, 40000 + 16000);
    run_clean(pool, &plan, 0);

    /* binpack.ml: 6000 into the biggest bin (h1, 4000 left), 5000 into h2
     * (1000 left), the last 5000 fits neither: left out. */
    assert_int_equal(xf_binpack_evacuate(pool, 0, &bp), 0);
    assert_false(bp.complete);
    assert_int_equal(bp.nr_steps, 2);
    assert_int_equal(bp.nr_refused, 1);
    assert_int_equal(bp.refused[0].vm, 2);
    xf_pool_plan_done(&bp);
    xf_pool_plan_done(&plan);
    xf_pool_free(pool);
}

/* xen-orchestra #10260: binpack counts the VM at dynamic_min (xapi_mib) and
 * h1 free without its reservation in flight; both of its steps fail on the
 * simulated hosts; xenfit refuses the one VM that cannot move, with numbers. */
static void test_pool_evacuate_source_memory(void **state)
{
    (void)state;
    char json[8192], a[1024], b[1024], c[1024];
    const uint64_t n0[] = {1000}, n1[] = {3000, 3000}, n2[] = {2000, 2000};
    struct xf_pool_plan plan, bp;
    struct xf_pool *pool;
    host(a, sizeof(a), "src", 1000, 0, 1, n0);
    host(b, sizeof(b), "h1", 6000, 2000, 2, n1);
    host(c, sizeof(c), "h2", 4000, 0, 2, n2);
    snprintf(json, sizeof(json),
             "{\"hosts\":[%s,%s,%s],\"vms\":["
             "{\"name\":\"db\",\"host\":\"src\",\"footprint_mib\":3000,\"source_mib\":7000,"
             "\"xapi_mib\":3000},"
             "{\"name\":\"web\",\"host\":\"src\",\"footprint_mib\":3500,\"source_mib\":3500,"
             "\"xapi_mib\":2000}]}",
             a, b, c);
    pool = parse(json);
    assert_int_equal(xf_pool_evacuate(pool, 0, &plan), 0);
    assert_false(plan.complete);
    assert_int_equal(plan.nr_refused, 1);
    assert_int_equal(plan.refused[0].vm, 0);
    assert_int_equal(plan.refused[0].need_mib, 7000);
    assert_int_equal(plan.refused[0].best_host, 1);
    assert_int_equal(plan.refused[0].best_free_mib, 6000);
    assert_int_equal(plan.nr_steps, 1);
    assert_int_equal(plan.steps[0].to.host, 2);
    run_clean(pool, &plan, 0);

    /* binpack: db (3000) into h1 (8000 as xapi sees it), web (2000) into h1
     * too (5000 left): db needs 7000 of h1's real 6000, then web fits. */
    assert_int_equal(xf_binpack_evacuate(pool, 0, &bp), 0);
    assert_true(bp.complete);
    assert_int_equal(bp.nr_steps, 2);
    assert_int_equal(bp.steps[0].to.host, 1);
    assert_int_equal(bp.steps[1].to.host, 1);
    run_clean(pool, &bp, 1);
    xf_pool_plan_done(&bp);
    xf_pool_plan_done(&plan);
    xf_pool_free(pool);
}

static void test_pool_ha(void **state)
{
    (void)state;
    char json[8192], a[1024], b[1024], c[1024];
    const uint64_t n[] = {4000, 4000};
    struct xf_pool_ha_options o = {.failures = 1};
    struct xf_pool_ha ha;
    struct xf_pool *pool;
    bool exhaustive = false;
    host(a, sizeof(a), "h0", 8000, 0, 2, n);
    host(b, sizeof(b), "h1", 8000, 0, 2, n);
    host(c, sizeof(c), "h2", 8000, 0, 2, n);
    snprintf(json, sizeof(json),
             "{\"hosts\":[%s,%s,%s],\"vms\":["
             "{\"name\":\"a\",\"host\":\"h0\",\"footprint_mib\":6000,\"protected\":true},"
             "{\"name\":\"b\",\"host\":\"h0\",\"footprint_mib\":6000,\"protected\":true},"
             "{\"name\":\"c\",\"host\":\"h1\",\"footprint_mib\":3000,\"protected\":true},"
             "{\"name\":\"u\",\"host\":\"h2\",\"footprint_mib\":9000}]}",
             a, b, c);
    pool = parse(json);
    assert_int_equal(xf_pool_ha_plan(pool, &o, &ha), 0);
    assert_true(ha.possible);
    assert_int_equal(ha.nr_cases, 3);
    /* h0 fails: a and b restart one on each of h1 and h2. */
    assert_int_equal(ha.cases[0].failed[0], 0);
    assert_int_equal(ha.cases[0].plan.nr_steps, 2);
    assert_int_not_equal(ha.cases[0].plan.steps[0].to.host, ha.cases[0].plan.steps[1].to.host);
    assert_int_equal(ha.cases[0].plan.steps[0].from, XF_POOL_NO_HOST);
    /* h2 fails: u is not protected, nothing to restart. */
    assert_int_equal(ha.cases[2].plan.nr_steps, 0);
    xf_pool_ha_done(&ha);
    assert_int_equal(xf_binpack_ha_possible(pool, 1, &exhaustive), 1);
    assert_true(exhaustive);

    /* Two failures: h0 and h1 leave a, b, c for h2's 8000 MiB; the smallest
     * set that cannot restart is {a, b} (12000 MiB). */
    o.failures = 2;
    assert_int_equal(xf_pool_ha_plan(pool, &o, &ha), 0);
    assert_false(ha.possible);
    assert_int_equal(ha.nr_blocking, 2);
    assert_true(ha.blocking_smallest);
    assert_int_equal(ha.blocking_vms[0] + ha.blocking_vms[1], 1);
    assert_int_equal(ha.nr_cases, 1);
    assert_int_equal(ha.cases[0].failed[0], 0);
    assert_int_equal(ha.cases[0].failed[1], 1);
    xf_pool_ha_done(&ha);
    o.failures = 3;
    assert_int_equal(xf_pool_ha_plan(pool, &o, &ha), XF_EINVAL);
    o.failures = 1;
    o.max_cases = 2;
    assert_int_equal(xf_pool_ha_plan(pool, &o, &ha), XF_ERANGE);
    xf_pool_free(pool);
}

/* Every allocation of parsing and planning failed in turn: XF_ENOMEM (or a
 * plan), never a crash, and nothing left allocated. */
static void test_pool_out_of_memory(void **state)
{
    (void)state;
    const char *json = bfd_json();
    for (fail_at = 0;; fail_at++) {
        struct xf_pool *pool = NULL;
        struct xf_pool_plan plan;
        struct xf_pool_placement place;
        struct xf_pool_ha ha;
        struct xf_pool_ha_options o = {.failures = 1};
        bool exhaustive;
        int r;

        alloc_count = 0;
        live = 0;
        assert_int_equal(fail_alloc_install(), 0);
        r = xf_pool_new_from_json(json, strlen(json), NULL, 0, &pool);
        if (r == 0) {
            r = xf_pool_evacuate(pool, 0, &plan);
            assert_true(r == 0 || r == XF_ENOMEM);
            if (r == 0)
                xf_pool_plan_done(&plan);
            r = xf_pool_place(pool, 0, &place);
            assert_true(r == 0 || r == XF_ENOMEM);
            if (r == 0)
                xf_pool_placement_done(&place);
            r = xf_pool_ha_plan(pool, &o, &ha);
            assert_true(r == 0 || r == XF_ENOMEM);
            if (r == 0)
                xf_pool_ha_done(&ha);
            r = xf_binpack_evacuate(pool, 0, &plan);
            assert_true(r == 0 || r == XF_ENOMEM);
            if (r == 0)
                xf_pool_plan_done(&plan);
            r = xf_binpack_ha_possible(pool, 1, &exhaustive);
            assert_true(r >= 0 || r == XF_ENOMEM);
            xf_pool_free(pool);
        } else {
            assert_int_equal(r, XF_ENOMEM);
            assert_null(pool);
        }
        xf_reset_allocator();
        assert_int_equal(live, 0);
        if (alloc_count <= fail_at)
            break; /* nothing failed: every allocation has had its turn */
    }
    assert_true(fail_at > 20);
}

/* binpack.ml choose_heuristic: C(n,r) * r! < 3500 and n <= 32. */
static void test_pool_binpack_heuristic(void **state)
{
    (void)state;
    assert_true(xf_binpack_exhaustive(16, 1));
    assert_true(xf_binpack_exhaustive(32, 2));  /* 496 * 2 = 992 */
    assert_false(xf_binpack_exhaustive(32, 3)); /* 4960 * 6 */
    assert_true(xf_binpack_exhaustive(16, 3));  /* 560 * 6 = 3360 */
    assert_false(xf_binpack_exhaustive(17, 3)); /* 680 * 6 = 4080 */
    assert_false(xf_binpack_exhaustive(33, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_parse_figures),
        cmocka_unit_test(test_pool_parse_refusals),
        cmocka_unit_test(test_pool_place_reasons),
        cmocka_unit_test(test_pool_place_prefers_nodes),
        cmocka_unit_test(test_pool_evacuate_best_fit),
        cmocka_unit_test(test_pool_evacuate_source_memory),
        cmocka_unit_test(test_pool_ha),
        cmocka_unit_test(test_pool_binpack_heuristic),
        cmocka_unit_test(test_pool_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
