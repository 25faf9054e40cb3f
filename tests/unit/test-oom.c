/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Every allocation failing in turn (include/xenfit/alloc.h): the ledger, the
 * planner, the simulator and a whole scenario run either succeed or return
 * XF_ENOMEM, and leave nothing allocated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fail-alloc.h"
#include "xenfit/alloc.h"
#include "xenfit/error.h"
#include "xenfit/ledger.h"
#include "xenfit/planner.h"
#include "xenfit/scenario.h"
#include "xenfit/sim.h"

/* Runs fn with allocation 0, 1, 2, ... failing until a run makes fewer
 * allocations than the one to fail. fn returns 0 or XF_ENOMEM and frees all;
 * that last run, where nothing failed, must succeed. */
static void every_failure(int (*fn)(void), long min_allocs)
{
    long enomem = 0;
    int r;
    assert_int_equal(fail_alloc_install(), 0);
    for (fail_at = 0;; fail_at++) {
        alloc_count = 0;
        live = 0;
        r = fn();
        if (r != 0 && r != XF_ENOMEM)
            fail_msg("allocation %ld failing gave %s", fail_at, xf_err_name(r));
        enomem += r == XF_ENOMEM;
        if (live != 0)
            fail_msg("allocation %ld failing leaked %ld blocks", fail_at, live);
        if (alloc_count <= fail_at)
            break;
    }
    xf_reset_allocator();
    assert_int_equal(r, 0);
    assert_true(fail_at >= min_allocs);
    assert_true(enomem > 0);
}

static int ledger_ops(void)
{
    struct xf_ledger *l;
    struct xf_reservation r;
    uint64_t id;
    int e = xf_ledger_new(&l);
    if (e)
        return e;
    memset(&r, 0, sizeof(r));
    r.domid = XF_DOMID_NONE;
    r.total_pages = 10;
    for (int i = 0; i < 40 && e == 0; i++)
        e = xf_ledger_add(l, &r, &id);
    xf_ledger_free(l);
    return e;
}

static void test_oom_ledger(void **state)
{
    (void)state;
    every_failure(ledger_ops, 3);
}

static const char host[] =
    "{\"name\":\"t\",\"nodes\":[{\"memory_mib\":4096,\"cpus\":4,\"cores\":2},"
    "{\"memory_mib\":4096,\"cpus\":4,\"cores\":2}],"
    "\"distances\":[[10,21],[21,10]],"
    "\"dom0\":{\"vcpus\":1,\"memory_mib\":512}}";

static int sim_and_planner(void)
{
    struct xf_hv *hv = NULL;
    struct xf_topology *t = NULL;
    struct xf_planner *p = NULL;
    static const char topo[] = "{\"distances\":[[10,21],[21,10]],\"cpu_to_node\":[0,0,1,1],"
                               "\"node_cores\":[2,2],\"node_free_mib\":[4096,4096]}";
    int r = xf_sim_new_from_json(host, strlen(host), NULL, &hv, NULL);
    if (r == 0)
        r = xf_topology_new_from_json(topo, strlen(topo), NULL, 0, &t);
    if (r == 0)
        r = xf_planner_new(t, XF_PLANNER_XENFIT, &p);
    xf_planner_free(p);
    xf_topology_free(t);
    xf_hv_free(hv);
    return r;
}

static void test_oom_sim_and_planner(void **state)
{
    (void)state;
    every_failure(sim_and_planner, 3);
}

static int scenario_run(void)
{
    static const char text[] =
        "{\"name\":\"oom\",\"host\":{\"name\":\"t\",\"nodes\":[{\"memory_mib\":4096,\"cpus\":4,"
        "\"cores\":2},{\"memory_mib\":4096,\"cpus\":4,\"cores\":2}],"
        "\"distances\":[[10,21],[21,10]],\"dom0\":{\"vcpus\":1,\"memory_mib\":512}},"
        "\"vms\":[{\"name\":\"a\",\"count\":3,\"type\":\"hvm\",\"static_max\":\"1G\",\"vcpus\":2},"
        "{\"name\":\"t\",\"count\":0,\"type\":\"pv\",\"static_max\":\"512M\",\"vcpus\":1}],"
        "\"steps\":[{\"boot\":\"a*\",\"parallel\":true},{\"reboot\":\"a1\"},"
        "{\"fill\":\"t\",\"max\":3,\"brim\":true}]}";
    struct xf_scenario *s = NULL;
    struct xf_scn_report *rep = NULL;
    int r = xf_scenario_parse(text, strlen(text), NULL, NULL, &s, NULL);
    if (r == XF_EPARSE)
        return XF_ENOMEM; /* jansson reports its own allocation failures as parse errors */
    for (int p = 0; r == 0 && p < 3; p++) {
        struct xf_scn_options o = {.policy = (enum xf_policy)p, .seed = 1};
        r = xf_scenario_run(s, &o, &rep);
        xf_scn_report_free(rep);
        rep = NULL;
    }
    xf_scenario_free(s);
    return r;
}

static void test_oom_scenario_run(void **state)
{
    (void)state;
    every_failure(scenario_run, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_ledger),
        cmocka_unit_test(test_oom_sim_and_planner),
        cmocka_unit_test(test_oom_scenario_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
