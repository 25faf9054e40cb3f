/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Unit conversions and size parsing (include/xenfit/units.h, lib/units.c):
 * every rounding direction at its edges, and overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "xenfit/error.h"
#include "xenfit/units.h"

static void test_units_round_up_and_down(void **state)
{
    (void)state;
    /* 1 MiB + 1 byte: used rounds up to 2 MiB, free down to 1 MiB. */
    assert_int_equal(xf_mib_of_bytes_used(1048577), 2);
    assert_int_equal(xf_mib_of_bytes_free(1048577), 1);
    assert_int_equal(xf_mib_of_bytes_used(1048576), 1);
    assert_int_equal(xf_mib_of_bytes_used(0), 0);
    /* 257 pages = 1 MiB + 1 page. */
    assert_int_equal(xf_mib_of_pages_used(257), 2);
    assert_int_equal(xf_mib_of_pages_free(257), 1);
    assert_int_equal(xf_mib_of_pages_used(256), 1);
    /* 5 KiB = 1.25 pages. */
    assert_int_equal(xf_pages_of_kib_used(5), 2);
    assert_int_equal(xf_pages_of_kib_free(5), 1);
    assert_int_equal(xf_kib_of_bytes_used(1025), 2);
    assert_int_equal(xf_kib_of_bytes_free(1025), 1);
    assert_int_equal(xf_pages_of_bytes_used(4097), 2);
    assert_int_equal(xf_pages_of_bytes_free(4097), 1);
    assert_int_equal(xf_mib_of_kib_used(1025), 2);
    assert_int_equal(xf_mib_of_kib_free(1025), 1);
}

static void test_units_round_up_does_not_overflow(void **state)
{
    (void)state;
    /* (n + d - 1) / d would wrap here; ceil(2^64-1 / 2^20) = 2^44. */
    assert_true(xf_mib_of_bytes_used(UINT64_MAX) == (UINT64_C(1) << 44));
    assert_true(xf_mib_of_pages_used(UINT64_MAX) == (UINT64_C(1) << 56));
}

static void test_units_smaller_units_exact(void **state)
{
    (void)state;
    assert_int_equal(xf_pages_of_mib(3), 768);
    assert_int_equal(xf_kib_of_mib(3), 3072);
    assert_int_equal(xf_kib_of_pages(3), 12);
    assert_int_equal(xf_bytes_of_pages(3), 12288);
    assert_int_equal(xf_bytes_of_kib(3), 3072);
    assert_int_equal(xf_bytes_of_mib(3), 3145728);
}

static void test_units_checked_arithmetic(void **state)
{
    uint64_t r = 7;
    (void)state;
    assert_int_equal(xf_mul_u64(UINT64_C(1) << 32, UINT64_C(1) << 32, &r), XF_EOVERFLOW);
    assert_int_equal(r, 7); /* untouched on failure */
    assert_int_equal(xf_add_u64(UINT64_MAX, 1, &r), XF_EOVERFLOW);
    assert_int_equal(xf_mul_u64(UINT64_C(1) << 31, 4, &r), 0);
    assert_true(r == (UINT64_C(1) << 33));
}

static void test_units_parse_size(void **state)
{
    static const struct {
        const char *s;
        uint64_t bytes;
    } ok[] = {
        {"0", 0},
        {"1", 1048576}, /* bare number: MiB, as in xl configs */
        {"512B", 512},
        {"4K", 4096},
        {"4KiB", 4096},
        {"4kib", 4096},
        {"2M", 2097152},
        {"2MiB", 2097152},
        {"3G", UINT64_C(3221225472)},
        {"1GiB", UINT64_C(1073741824)},
        {"16T", UINT64_C(17592186044416)},
        {"16TiB", UINT64_C(17592186044416)},
        {"15T", UINT64_C(16492674416640)},
    };
    static const char *const bad[] = {"", "-1", "+1", "1.5G", "G", "1X", "1 G", "1GiBs", " 1"};
    uint64_t b;
    (void)state;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(xf_parse_size_bytes(ok[i].s, XF_BYTES_PER_MIB, &b), 0);
        assert_true(b == ok[i].bytes);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(xf_parse_size_bytes(bad[i], XF_BYTES_PER_MIB, &b), XF_EPARSE);
    /* 2^64 bytes = 16 EiB = 16777216 TiB: one past what fits. */
    assert_int_equal(xf_parse_size_bytes("16777216T", 1, &b), XF_EOVERFLOW);
    assert_int_equal(xf_parse_size_bytes("16777215T", 1, &b), 0);
    assert_int_equal(xf_parse_size_bytes("99999999999999999999999999", 1, &b), XF_EOVERFLOW);
}

static void test_units_parse_u64(void **state)
{
    uint64_t v;
    (void)state;
    assert_int_equal(xf_parse_u64("18446744073709551615", &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(xf_parse_u64("18446744073709551616", &v), XF_EOVERFLOW);
    assert_int_equal(xf_parse_u64("12a", &v), XF_EPARSE);
    assert_int_equal(xf_parse_u64("-3", &v), XF_EPARSE);
    assert_int_equal(xf_parse_u64(NULL, &v), XF_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units_round_up_and_down),
        cmocka_unit_test(test_units_round_up_does_not_overflow),
        cmocka_unit_test(test_units_smaller_units_exact),
        cmocka_unit_test(test_units_checked_arithmetic),
        cmocka_unit_test(test_units_parse_size),
        cmocka_unit_test(test_units_parse_u64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
