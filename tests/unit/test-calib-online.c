/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Calibration from observation (lib/core/calib-online.c): coefficients never
 * below an observation, xen-api's as the floor, drift on the first
 * underestimate, persistence round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "xenfit/calibrate.h"
#include "xenfit/error.h"
#include "xenfit/model.h"

#define MIB(x) ((uint64_t)(x)*1048576u)

static void test_calib_online_needed_pages(void **state)
{
    /* hvm 4096 MiB, 4 vCPUs, coefficients {0,0}: footprint = 4096 + 1 + 1 + 36 = 4134 MiB
     * = 1058304 pages. A domain that took 1058504 pages needed 200 more. */
    struct xf_vm_memory vm = {XF_DOMAIN_HVM, MIB(4096), MIB(4096), 0, 4, 1.0};
    uint64_t need = 7;
    (void)state;
    assert_int_equal(xf_calib_needed_pages(&vm, 1058504, &need), 0);
    assert_int_equal(need, 200);
    assert_int_equal(xf_calib_needed_pages(&vm, 1000, &need), 0);
    assert_int_equal(need, 0);
    vm.vcpus = 0;
    assert_int_equal(xf_calib_needed_pages(&vm, 1000, &need), XF_EBADVCPUS);
}

static void test_calib_online_learns_and_drifts(void **state)
{
    struct xf_calib_online *c;
    struct xf_overhead_coeffs k;
    (void)state;
    assert_int_equal(xf_calib_online_new(&c), 0);
    /* Nothing seen: xen-api's 38 per vCPU. */
    k = xf_calib_online_coeffs(c, XF_DOMAIN_HVM, 4);
    assert_int_equal(k.fixed_pages, 0);
    assert_int_equal(k.per_vcpu_pages, 38);

    /* 4 vCPUs needed 150 pages: the model charges ceil(152/256) MiB = 256 pages,
     * no drift. The tightest line through (4,150) alone is 0 + 38*4 = 152? No:
     * smallest slack with the smallest slope: b = 0, a = 150 (slack 0). At 4 vCPUs
     * 150 < 152, so xen-api's line stays in force there. */
    struct xf_calib_observation o = {XF_DOMAIN_HVM, 4, 150};
    assert_int_equal(xf_calib_online_observe(c, &o), 0);
    k = xf_calib_online_coeffs(c, XF_DOMAIN_HVM, 4);
    assert_int_equal(k.per_vcpu_pages, 38);
    /* ...but at 1 vCPU the fitted constant 150 > 38: it is used. */
    k = xf_calib_online_coeffs(c, XF_DOMAIN_HVM, 1);
    assert_int_equal(k.fixed_pages, 150);
    assert_int_equal(k.per_vcpu_pages, 0);

    /* 8 vCPUs needed 600 pages (a newer Xen: ~75 per vCPU). Charged before:
     * max(38*8 = 304, 150) -> ceil(304/256) = 2 MiB = 512 pages < 600: drift. */
    o.vcpus = 8;
    o.needed_pages = 600;
    assert_int_equal(xf_calib_online_observe(c, &o), 1);
    /* Line over (4,150), (8,600): slack S(b) = 2a + 12b - 750 with
     * a = max(0, 150 - 4b, 600 - 8b): b = 74: a = 8, S = 16 + 888 - 750 = 154;
     * b = 75: a = 0, S = 900 - 750 = 150; b = 76: a = 0, S = 162. So 0 + 75v. */
    k = xf_calib_online_coeffs(c, XF_DOMAIN_HVM, 8);
    assert_int_equal(k.fixed_pages, 0);
    assert_int_equal(k.per_vcpu_pages, 75);
    /* The same again is no drift; other types are unaffected. */
    assert_int_equal(xf_calib_online_observe(c, &o), 0);
    assert_int_equal(xf_calib_online_coeffs(c, XF_DOMAIN_PV, 8).per_vcpu_pages, 38);

    /* Round trip. */
    struct xf_calib_observation out[8];
    size_t n = xf_calib_online_export(c, out, 8);
    assert_int_equal(n, 2);
    assert_int_equal(xf_calib_online_count(c), 2);
    struct xf_calib_online *d;
    assert_int_equal(xf_calib_online_new(&d), 0);
    assert_int_equal(xf_calib_online_import(d, out, n), 0);
    k = xf_calib_online_coeffs(d, XF_DOMAIN_HVM, 8);
    assert_int_equal(k.fixed_pages, 0);
    assert_int_equal(k.per_vcpu_pages, 75);

    o.vcpus = 0;
    assert_int_equal(xf_calib_online_observe(c, &o), XF_ERANGE);
    o.vcpus = 1;
    o.type = (enum xf_domain_type)9;
    assert_int_equal(xf_calib_online_observe(c, &o), XF_EINVAL);
    xf_calib_online_free(c);
    xf_calib_online_free(d);
}

static void test_calib_online_never_below_observation(void **state)
{
    struct xf_calib_online *c;
    uint64_t s = 77;
    (void)state;
    assert_int_equal(xf_calib_online_new(&c), 0);
    struct xf_calib_observation seen[200];
    for (int i = 0; i < 200; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        seen[i].type = XF_DOMAIN_HVM;
        seen[i].vcpus = (uint32_t)(1 + (s >> 40) % 64);
        seen[i].needed_pages = 30 + seen[i].vcpus * 40 + (s >> 20) % 50;
        assert_true(xf_calib_online_observe(c, &seen[i]) >= 0);
        /* Every observation so far is covered by the coefficients in force. */
        for (int j = 0; j <= i; j++) {
            struct xf_overhead_coeffs k = xf_calib_online_coeffs(c, XF_DOMAIN_HVM, seen[j].vcpus);
            assert_true(k.fixed_pages + k.per_vcpu_pages * seen[j].vcpus >= seen[j].needed_pages);
        }
    }
    xf_calib_online_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calib_online_needed_pages),
        cmocka_unit_test(test_calib_online_learns_and_drifts),
        cmocka_unit_test(test_calib_online_never_below_observation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
