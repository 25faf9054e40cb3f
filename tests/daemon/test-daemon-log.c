/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's log levels (daemon/log.c): the four names parse to their
 * syslog priorities; anything else is XF_EINVAL and leaves the level as it
 * was (links the daemon's code, no daemon).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log.h"
#include "xenfit/error.h"

static void test_daemon_log_level_names(void **state)
{
    enum xfd_log_level level = XFD_LOG_INFO;
    (void)state;
    assert_int_equal(xfd_log_parse_level("error", &level), 0);
    assert_int_equal(level, 3);
    assert_int_equal(xfd_log_parse_level("warning", &level), 0);
    assert_int_equal(level, 4);
    assert_int_equal(xfd_log_parse_level("debug", &level), 0);
    assert_int_equal(level, 7);
    assert_int_equal(xfd_log_parse_level("info", &level), 0);
    assert_int_equal(level, 6);
}

static void test_daemon_log_level_unknown_is_einval(void **state)
{
    enum xfd_log_level level = XFD_LOG_WARNING;
    (void)state;
    assert_int_equal(xfd_log_parse_level("loud", &level), XF_EINVAL);
    assert_int_equal(xfd_log_parse_level("", &level), XF_EINVAL);
    assert_int_equal(xfd_log_parse_level("Info", &level), XF_EINVAL);
    assert_int_equal(level, XFD_LOG_WARNING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daemon_log_level_names),
        cmocka_unit_test(test_daemon_log_level_unknown_is_einval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
