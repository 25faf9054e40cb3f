/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Randomized scenarios: many seeded hosts, truth profiles (hidden overheads
 * far from xen-api's numbers), VM mixes, sequential and parallel groups,
 * shutdowns, parallel reboots, migrations and fills to the brim. The xenfit
 * policy must never have a false admit (said yes, then the build failed);
 * the three xapi policies, on the same runs, must show that the runs are
 * hard. All four are reported side by side.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "scn-test.h"
#include "xenfit/units.h"

/* 500 seeded runs take ~5 s; XF_SCENARIO_RUNS overrides (the sanitizer run uses fewer). */
static uint64_t runs(void)
{
    const char *e = getenv("XF_SCENARIO_RUNS");
    uint64_t n = 500;
    if (e && xf_parse_u64(e, &n) == 0 && n > 0)
        return n;
    return 500;
}

static uint64_t rng;
static uint64_t rnd(uint64_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (rng * 0x2545f4914f6cdd1dULL >> 11) % n;
}

struct buf {
    char s[16384];
    size_t n;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, sizeof(b->s) - b->n, fmt, ap);
    va_end(ap);
    assert_true(k >= 0 && (size_t)k < sizeof(b->s) - b->n);
    b->n += (size_t)k;
}

static const char *const hosts[] = {"../hosts/1node.json", "../hosts/2socket-4node.json",
                                    "../hosts/opteron-8node.json", "../hosts/xenbed-2node.json"};
/* Largest VM, in MiB, that makes sense on each. */
static const uint64_t host_vm_mib[] = {8192, 16384, 8192, 768};
static const char *const types[] = {"hvm", "pvh", "pv"};
static const char *const numa[] = {"best_effort", "prio_mem_only", "any", "best_effort"};

/* Writes a random scenario; returns the number of VM groups. */
static void generate(struct buf *b, uint64_t seed)
{
    unsigned h, groups;
    bool has_source[5] = {false};
    bool is_template[5] = {false};

    rng = seed * 0x9e3779b97f4a7c15ULL + 1;
    groups = 2 + (unsigned)rnd(3); /* from the seed: was drawn before seeding */
    h = (unsigned)rnd(4);
    put(b, "{\"name\":\"random-%llu\",\"host\":\"%s\",\"numa_policy\":\"%s\",",
        (unsigned long long)seed, hosts[h], numa[rnd(4)]);
    put(b,
        "\"truth\":{\"hvm\":{\"domain_pages\":%llu,\"vcpu_pages\":%llu,\"extra_guest_pages\":%llu},"
        "\"pvh\":{\"domain_pages\":%llu,\"vcpu_pages\":%llu},"
        "\"pv\":{\"domain_pages\":%llu,\"vcpu_pages\":%llu}},",
        (unsigned long long)rnd(129), (unsigned long long)rnd(301), (unsigned long long)rnd(257),
        (unsigned long long)rnd(129), (unsigned long long)rnd(301), (unsigned long long)rnd(65),
        (unsigned long long)rnd(21));
    static const unsigned rates[] = {64, 1024, 1048576};
    put(b, "\"timing\":{\"release_mib_per_s\":%u},\"vms\":[", rates[rnd(3)]);
    for (unsigned g = 0; g < groups; g++) {
        const char *type = types[rnd(3)];
        uint64_t smax = 128 + rnd(host_vm_mib[h]);
        uint64_t target = smax / 2 + rnd(smax / 2 + 1);
        uint64_t vcpus = 1 + rnd(h == 3 ? 4 : 64);
        unsigned count = (unsigned)rnd(10);
        is_template[g] = count == 0;
        put(b,
            "%s{\"name\":\"g%u\",\"count\":%u,\"type\":\"%s\",\"static_max\":\"%lluM\","
            "\"target\":\"%lluM\",\"vcpus\":%llu",
            g ? "," : "", g, count, type, (unsigned long long)smax, (unsigned long long)target,
            (unsigned long long)vcpus);
        if (rnd(3) == 0 && !is_template[g]) {
            has_source[g] = true;
            uint64_t source = target + rnd(smax - target + 1);
            put(b, ",\"memory_total_source\":\"%lluM\"", (unsigned long long)source);
        }
        put(b, "}");
    }
    put(b, "],\"steps\":[");
    unsigned steps = 3 + (unsigned)rnd(5);
    for (unsigned k = 0; k < steps; k++) {
        unsigned g = (unsigned)rnd(groups);
        const char *sep = k ? "," : "";
        const char *par = rnd(2) ? "true" : "false";
        if (is_template[g]) {
            put(b, "%s{\"fill\":\"g%u\",\"max\":%u,\"brim\":%s}", sep, g, 1 + (unsigned)rnd(20),
                rnd(2) ? "true" : "false");
            continue;
        }
        switch (rnd(6)) {
        case 0:
        case 1:
            put(b, "%s{\"boot\":\"g%u*\",\"parallel\":%s}", sep, g, par);
            break;
        case 2:
            put(b, "%s{\"shutdown\":\"g%u*\"}", sep, g);
            break;
        case 3:
            put(b, "%s{\"reboot\":\"g%u*\",\"parallel\":%s}", sep, g, par);
            break;
        case 4:
            if (has_source[g])
                put(b, "%s{\"migrate_in\":\"g%u*\",\"parallel\":%s}", sep, g, par);
            else
                put(b, "%s{\"boot\":\"g%u*\",\"parallel\":true}", sep, g);
            break;
        default:
            put(b, "%s{\"wait\":\"%ums\"}", sep, (unsigned)rnd(5000));
        }
    }
    put(b, "]}");
}

static void test_scenarios_random_xenfit_never_false_admits(void **state)
{
    /* Per policy, summed over the runs: the same requests for everyone. */
    uint32_t requested[XF_NR_POLICIES] = {0}, booted[XF_NR_POLICIES] = {0},
             refused[XF_NR_POLICIES] = {0}, late[XF_NR_POLICIES] = {0},
             false_admits[XF_NR_POLICIES] = {0}, waits[XF_NR_POLICIES] = {0}, drift = 0;
    const uint64_t nruns = runs();
    (void)state;
    for (uint64_t seed = 1; seed <= nruns; seed++) {
        struct buf b = {.n = 0};
        struct xf_scn_report *rep[XF_NR_POLICIES];
        generate(&b, seed);
        struct xf_scenario *s = scn_test_parse_text(b.s);
        assert_non_null(s);
        for (int p = 0; p < XF_NR_POLICIES; p++) {
            rep[p] = scn_test_run(s, (enum xf_policy)p, seed);
            assert_non_null(rep[p]);
        }
        const struct xf_scn_report *x = rep[XF_POLICY_XENFIT];
        if (x->totals.false_admits != 0) {
            for (size_t i = 0; i < x->nr_vms; i++)
                if (x->vms[i].outcome == XF_SCN_FAILED)
                    print_error("%s: %s\n", x->vms[i].name, x->vms[i].reason);
            fail_msg("seed %llu: xenfit had %u false admits\n%s", (unsigned long long)seed,
                     x->totals.false_admits, b.s);
        }
        drift += x->totals.drift_alarms;
        for (int p = 0; p < XF_NR_POLICIES; p++) {
            requested[p] += rep[p]->totals.requested;
            booted[p] += rep[p]->totals.booted;
            refused[p] += rep[p]->totals.refused;
            late[p] += rep[p]->totals.late_refusals;
            false_admits[p] += rep[p]->totals.false_admits;
            waits[p] += rep[p]->totals.waits;
            xf_scn_report_free(rep[p]);
        }
        xf_scenario_free(s);
    }
    print_message("%llu runs (%u drift alarms for xenfit):\n", (unsigned long long)nruns, drift);
    print_message("%-14s %9s %7s %7s %5s %12s %5s\n", "policy", "requested", "booted", "refused",
                  "late", "false_admits", "waits");
    for (int p = 0; p < XF_NR_POLICIES; p++)
        print_message("%-14s %9u %7u %7u %5u %12u %5u\n", xf_policy_name((enum xf_policy)p),
                      requested[p], booted[p], refused[p], late[p], false_admits[p], waits[p]);
    /* The runs are hard enough to trip the model before PR 6869, and the
     * merge's ENOSYS on hosts without node claims. xapi-2026.02 is only
     * reported: on these runs it has had none (500 seeds: 0). */
    assert_int_equal(false_admits[XF_POLICY_XENFIT], 0);
    assert_true(false_admits[XF_POLICY_XAPI6869] > 0);
    assert_true(false_admits[XF_POLICY_PRE6869] > 0);
    assert_true(booted[XF_POLICY_XENFIT] > 10 * nruns);
    assert_true(drift > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios_random_xenfit_never_false_admits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
