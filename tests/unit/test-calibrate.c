/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Calibration (lib/core/calibrate.c): the tightest never-underestimating line,
 * checked on hand-worked tables and, for xen-api's reference measurements,
 * against an exhaustive search written here independently; CSV parsing and
 * its errors; every allocation failing in turn.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xenfit/alloc.h"
#include "xenfit/calibrate.h"
#include "xenfit/error.h"
#include "fail-alloc.h"
#include "test-file.h"

/* cmocka 1.1 compares floats only; the fits are doubles. */
#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static void test_calibrate_hand_worked(void **state)
{
    /* Rows (1,10) (2,13) (3,20). Slack S(b) = 3a + 6b - 43 with a the least
     * admissible intercept: b=4: a=max(6,5,8)=8, S=5; b=5: a=max(5,3,5)=5, S=2;
     * b=6: a=max(4,1,2)=4, S=5. So 5 + 5v, slack 2 (line 10,15,20). */
    const struct xf_calib_point pts[] = {{1, 10}, {2, 13}, {3, 20}};
    struct xf_calib_fit f;
    (void)state;
    assert_int_equal(xf_calib_fit(pts, 3, &f), 0);
    assert_int_equal(f.rows, 3);
    assert_int_equal(f.fixed_pages, 5);
    assert_int_equal(f.per_vcpu_pages, 5);
    assert_int_equal(f.total_slack_pages, 2);
    assert_int_equal(f.extra_per_vcpu_pages, 5 - 256);
    /* Least squares: x = 1,2,3, y = 10,13,20: slope = (3*96 - 6*43)/(3*14 - 36) = 30/6 = 5,
     * intercept = (43 - 5*6)/3 = 13/3. */
    assert_near(f.lsq_slope, 5.0, 1e-12);
    assert_near(f.lsq_intercept, 13.0 / 3.0, 1e-12);
}

static void test_calibrate_degenerate(void **state)
{
    const struct xf_calib_point zero[] = {{0, 30}};
    const struct xf_calib_point same_v[] = {{4, 100}, {4, 120}};
    const struct xf_calib_point exact[] = {{1, 294}, {2, 588}, {10, 2940}};
    struct xf_calib_fit f;
    (void)state;
    /* Only a 0-vCPU row: the line is the constant 30. */
    assert_int_equal(xf_calib_fit(zero, 1, &f), 0);
    assert_int_equal(f.fixed_pages, 30);
    assert_int_equal(f.per_vcpu_pages, 0);
    assert_int_equal(f.total_slack_pages, 0);
    /* Same vCPUs twice: S(b) = 2*max(100-4b, 120-4b, 0) + 8b - 220 = 20 for all
     * b <= 30: the smallest slope, 0, with intercept 120. */
    assert_int_equal(xf_calib_fit(same_v, 2, &f), 0);
    assert_int_equal(f.per_vcpu_pages, 0);
    assert_int_equal(f.fixed_pages, 120);
    assert_int_equal(f.total_slack_pages, 20);
    assert_near(f.lsq_slope, 0.0, 0);
    assert_near(f.lsq_intercept, 110.0, 1e-12);
    /* Points on 294v exactly: zero slack. */
    assert_int_equal(xf_calib_fit(exact, 3, &f), 0);
    assert_int_equal(f.fixed_pages, 0);
    assert_int_equal(f.per_vcpu_pages, 294);
    assert_int_equal(f.total_slack_pages, 0);
    assert_int_equal(f.extra_per_vcpu_pages, 38);
    assert_int_equal(xf_calib_fit(exact, 0, &f), XF_ENODATA);
    const struct xf_calib_point too_many_vcpus[] = {{4097, 1}};
    assert_int_equal(xf_calib_fit(too_many_vcpus, 1, &f), XF_ERANGE);
}

/* Exhaustive reference: every slope 0..limit, least intercept, least slack. */
static void brute_force(const struct xf_calib_point *p, size_t n, uint64_t limit, uint64_t *ret_a,
                        uint64_t *ret_b, uint64_t *ret_slack)
{
    uint64_t best = UINT64_MAX;
    for (uint64_t b = 0; b <= limit; b++) {
        int64_t a = 0;
        uint64_t slack = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t need = (int64_t)p[i].overhead_pages - (int64_t)(b * p[i].vcpus);
            if (need > a)
                a = need;
        }
        for (size_t i = 0; i < n; i++)
            slack += (uint64_t)a + b * p[i].vcpus - p[i].overhead_pages;
        if (slack < best) {
            best = slack;
            *ret_a = (uint64_t)a;
            *ret_b = b;
        }
    }
    *ret_slack = best;
}

static void test_calibrate_reference_table(void **state)
{
    struct xf_calib_table *t = NULL;
    struct xf_calib_fit *fits = NULL;
    struct xf_parse_error err;
    char **names = NULL;
    size_t len = 0, nfits = 0;
    char *buf = test_read_file(XF_TEST_DATA "/vcpu-overhead-pages.csv", &len);
    (void)state;

    assert_non_null(buf);

    assert_int_equal(xf_calib_table_parse_csv(buf, len, &t, &err), 0);
    free(buf);
    assert_int_equal(t->n_rows, 47 + 48 + 6);
    assert_true(t->has_series);
    assert_int_equal(xf_calib_fit_table(t, &fits, &names, &nfits), 0);
    assert_int_equal(nfits, 4);
    assert_string_equal(names[0], "absolute-run1");
    assert_string_equal(names[1], "absolute-run2");
    assert_string_equal(names[2], "delta-amd-intel");
    assert_string_equal(names[3], "all");

    for (size_t k = 0; k < nfits; k++) {
        struct xf_calib_point pts[128];
        size_t n = 0;
        uint64_t a, b, slack;
        for (size_t i = 0; i < t->n_rows; i++)
            if (strcmp(names[k], "all") == 0 || strcmp(t->series[i], names[k]) == 0)
                pts[n++] = t->points[i];
        assert_int_equal(fits[k].rows, n);
        brute_force(pts, n, 2000, &a, &b, &slack);
        assert_int_equal(fits[k].fixed_pages, a);
        assert_int_equal(fits[k].per_vcpu_pages, b);
        assert_int_equal(fits[k].total_slack_pages, slack);
        for (size_t i = 0; i < n; i++) /* never underestimates */
            assert_true(fits[k].fixed_pages + fits[k].per_vcpu_pages * pts[i].vcpus >=
                        pts[i].overhead_pages);
    }
    /* The numbers behind the closing note: every series is 264 per vCPU (8 beyond
     * the pool) with 47/48/3 fixed; all rows together 48 + 264v. E.g. run2's row
     * (47, 12456) needs 12456 - 264*47 = 48 fixed. */
    assert_int_equal(fits[1].fixed_pages, 48);
    assert_int_equal(fits[1].per_vcpu_pages, 264);
    assert_int_equal(fits[3].fixed_pages, 48);
    assert_int_equal(fits[3].extra_per_vcpu_pages, 8);
    xf_calib_fits_free(fits, names, nfits);
    xf_calib_table_free(t);
}

static void test_calibrate_random_against_brute_force(void **state)
{
    uint64_t s = 12345;
    (void)state;
    for (int round = 0; round < 300; round++) {
        struct xf_calib_point pts[12];
        size_t n = 1 + (size_t)(round % 12);
        struct xf_calib_fit f;
        uint64_t a, b, slack;
        for (size_t i = 0; i < n; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            pts[i].vcpus = (uint32_t)((s >> 33) % 40);
            pts[i].overhead_pages = (s >> 13) % 9000;
        }
        assert_int_equal(xf_calib_fit(pts, n, &f), 0);
        brute_force(pts, n, 9001, &a, &b, &slack);
        assert_int_equal(f.total_slack_pages, slack);
        assert_int_equal(f.per_vcpu_pages, b); /* smallest slope among the best */
        assert_int_equal(f.fixed_pages, a);
    }
}

static void test_calibrate_csv_errors(void **state)
{
    static const struct {
        const char *csv;
        int want;
        size_t line;
        const char *needle;
    } cases[] = {
        {"vcpus,overhead\n1,2\n", XF_EPARSE, 1, "overhead_pages"},
        {"# c\nvcpus,overhead_pages\n1,2\nx,3\n", XF_EPARSE, 4, "'x'"},
        {"vcpus,overhead_pages\n1,2,3\n", XF_EPARSE, 2, "3 fields"},
        {"series,vcpus,overhead_pages\nall,1,2\n", XF_EPARSE, 2, "'all'"},
        {"vcpus,overhead_pages\n4097,2\n", XF_EPARSE, 2, "'4097'"},
        {"vcpus,overhead_pages\n1,-2\n", XF_EPARSE, 2, "'-2'"},
        {"vcpus,overhead_pages\n1,\"2\n", XF_EPARSE, 2, "malformed"},
        {"vcpus,vcpus,overhead_pages\n", XF_EPARSE, 1, "twice"},
        {"# only comments\n\n", XF_ENODATA, 2, "header"},
        {"vcpus,overhead_pages\n", XF_ENODATA, 1, "no data"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct xf_calib_table *t = (struct xf_calib_table *)0x1;
        struct xf_parse_error err = {0};
        int r = xf_calib_table_parse_csv(cases[i].csv, strlen(cases[i].csv), &t, &err);
        if (r != cases[i].want || err.line != cases[i].line ||
            !strstr(err.message, cases[i].needle))
            fail_msg("case %zu: r=%d line=%zu msg='%s'", i, r, err.line, err.message);
        assert_ptr_equal(t, (struct xf_calib_table *)0x1); /* untouched */
    }
}

static void test_calibrate_csv_extra_columns_and_crlf(void **state)
{
    /* xenbed's result files have many more columns; CRLF and spaces are fine. */
    const char *csv = "vcpus,memory_mib,overhead_pages,guest\r\n"
                      "1, 128 ,19,x\r\n2,128,22,y\r\n4,128,28,z\r\n";
    struct xf_calib_table *t;
    struct xf_calib_fit f;
    (void)state;
    assert_int_equal(xf_calib_table_parse_csv(csv, strlen(csv), &t, NULL), 0);
    assert_int_equal(t->n_rows, 3);
    assert_false(t->has_series);
    assert_int_equal(t->points[2].vcpus, 4);
    assert_int_equal(t->points[2].overhead_pages, 28);
    /* 16 + 3v fits exactly: 19, 22, 28. */
    assert_int_equal(xf_calib_fit(t->points, t->n_rows, &f), 0);
    assert_int_equal(f.fixed_pages, 16);
    assert_int_equal(f.per_vcpu_pages, 3);
    assert_int_equal(f.total_slack_pages, 0);
    struct xf_overhead_coeffs c = xf_calib_fit_coeffs(&f);
    assert_int_equal(c.fixed_pages, 16);
    assert_int_equal(c.per_vcpu_pages, 0); /* below the 256-page pool share: PV */
    xf_calib_table_free(t);
}

static void test_calibrate_every_allocation_failure_unwinds(void **state)
{
    const char *csv = "series,vcpus,overhead_pages\na,1,10\na,2,13\nb,3,20\nb,1,9\n";
    long failures = 0;
    (void)state;
    assert_int_equal(fail_alloc_install(), 0);
    /* Fail allocation 0, 1, 2, ... until a run makes fewer allocations than
     * the one we would fail. Each run must either give the right answer (a
     * failure can be absorbed: libcsv retries a smaller buffer) or XF_ENOMEM,
     * and must leave nothing allocated. */
    for (fail_at = 0;; fail_at++) {
        struct xf_calib_table *t = NULL;
        struct xf_calib_fit *fits = NULL;
        char **names = NULL;
        size_t n = 0;
        alloc_count = 0;
        live = 0;
        int r = xf_calib_table_parse_csv(csv, strlen(csv), &t, NULL);
        if (r == 0) {
            r = xf_calib_fit_table(t, &fits, &names, &n);
            if (r == 0) {
                assert_int_equal(n, 3);
                assert_int_equal(fits[2].per_vcpu_pages, 5); /* all: (1,10)(2,13)(3,20)(1,9) */
                xf_calib_fits_free(fits, names, n);
            }
            xf_calib_table_free(t);
        }
        if (r != 0) {
            assert_int_equal(r, XF_ENOMEM);
            failures++;
        }
        assert_int_equal(live, 0); /* nothing leaked, success or not */
        if (alloc_count <= fail_at)
            break; /* no allocation was failed: the plain run */
    }
    xf_reset_allocator();
    assert_true(fail_at > 20); /* the parse and fit make many allocations */
    assert_true(failures > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calibrate_hand_worked),
        cmocka_unit_test(test_calibrate_degenerate),
        cmocka_unit_test(test_calibrate_reference_table),
        cmocka_unit_test(test_calibrate_random_against_brute_force),
        cmocka_unit_test(test_calibrate_csv_errors),
        cmocka_unit_test(test_calibrate_csv_extra_columns_and_crlf),
        cmocka_unit_test(test_calibrate_every_allocation_failure_unwinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
