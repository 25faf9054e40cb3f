/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The error table: every code has a distinct value, a name and a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "xenfit/error.h"

static void test_error_table_complete_and_distinct(void **state)
{
    static const int codes[] = {
#define XX(name, value, msg) (value),
        XF_ERRNO_MAP(XX)
#undef XX
    };
    static const char *const names[] = {
#define XX(name, value, msg) "XF_" #name,
        XF_ERRNO_MAP(XX)
#undef XX
    };
    size_t n = sizeof(codes) / sizeof(codes[0]);
    (void)state;

    for (size_t i = 0; i < n; i++) {
        assert_true(codes[i] < 0);
        assert_string_equal(xf_err_name(codes[i]), names[i]);
        assert_string_not_equal(xf_strerror(codes[i]), "unknown error");
        for (size_t j = i + 1; j < n; j++)
            assert_int_not_equal(codes[i], codes[j]);
    }
}

static void test_error_errno_passthrough(void **state)
{
    (void)state;
    /* A hypervisor's -ENOMEM is XF_ENOMEM, so backends return Xen's errno as is. */
    assert_int_equal(XF_ENOMEM, -ENOMEM);
    assert_int_equal(XF_EINVAL, -EINVAL);
    assert_string_equal(xf_err_name(-ENOMEM), "XF_ENOMEM");
    assert_string_equal(xf_strerror(XF_ENOFIT), "not enough free memory");
    assert_string_equal(xf_err_name(0), "XF_OK");
    assert_string_equal(xf_err_name(-123456), "XF_UNKNOWN");
    assert_string_equal(xf_strerror(-123456), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_table_complete_and_distinct),
        cmocka_unit_test(test_error_errno_passthrough),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
