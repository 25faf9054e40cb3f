/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The metrics listener's GET parser (daemon/web.c) and its latency
 * histogram: what it accepts, what it answers with which status, where
 * each observation lands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "web.h"

static int parse(const char *req, char *path, size_t size, size_t *len)
{
    return xfd_web_parse(req, strlen(req), 8192, path, size, len);
}

static void test_web_parse_get(void **state)
{
    char path[64];
    size_t len = 0;
    static const char req[] = "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\nextra";
    (void)state;
    assert_int_equal(parse(req, path, sizeof(path), &len), XFD_WEB_COMPLETE);
    assert_string_equal(path, "/metrics");
    assert_int_equal(len, strlen(req) - strlen("extra"));
    assert_int_equal(parse("GET / HTTP/1.0\n\n", path, sizeof(path), &len), XFD_WEB_COMPLETE);
    assert_string_equal(path, "/");
    assert_int_equal(len, 16);
}

static void test_web_parse_refusals(void **state)
{
    char path[16];
    size_t len = 0;
    char big[9000];
    (void)state;
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost:", path, sizeof(path), &len),
                     XFD_WEB_NEED_MORE);
    assert_int_equal(parse("POST / HTTP/1.1\r\n\r\n", path, sizeof(path), &len), 405);
    assert_int_equal(parse("GETX / HTTP/1.1\r\n\r\n", path, sizeof(path), &len), 405);
    assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n", path, sizeof(path), &len), 505);
    assert_int_equal(parse("GET /\r\n\r\n", path, sizeof(path), &len), 400);
    assert_int_equal(parse("GET metrics HTTP/1.1\r\n\r\n", path, sizeof(path), &len), 400);
    assert_int_equal(parse("GET /a-path-longer-than-16 HTTP/1.1\r\n\r\n", path, sizeof(path), &len),
                     414);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(parse(big, path, sizeof(path), &len), 431);
}

static void test_web_histogram_buckets(void **state)
{
    struct xfd_histogram h = {0};
    (void)state;
    xfd_histogram_observe(&h, 50000);      /* 50 us: the first bucket (le 5e-05) */
    xfd_histogram_observe(&h, 50001);      /* just over: the second */
    xfd_histogram_observe(&h, 3000000);    /* 3 ms: le 0.005 (the 7th) */
    xfd_histogram_observe(&h, 2000000000); /* 2 s: +Inf */
    assert_int_equal(h.le[0], 1);
    assert_int_equal(h.le[1], 1);
    assert_int_equal(h.le[6], 1);
    assert_int_equal(h.le[XFD_HIST_BUCKETS - 1], 1);
    assert_int_equal(h.count, 4);
    assert_int_equal(h.sum_ns, UINT64_C(2003100001));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_web_parse_get),
        cmocka_unit_test(test_web_parse_refusals),
        cmocka_unit_test(test_web_histogram_buckets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
