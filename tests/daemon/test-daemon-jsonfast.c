/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The fast JSON-RPC parser (daemon/jsonfast.c) against jansson: for every
 * input it either gives up or builds exactly what json_loadb() with
 * JSON_REJECT_DUPLICATES builds, and it never accepts what jansson refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jsonfast.h"

/* Checks one input; returns whether the fast path took it. */
static bool same_as_jansson(const char *text)
{
    json_t *fast = xfd_json_fast(text, strlen(text));
    json_t *slow = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES, NULL);
    bool took = fast != NULL;
    if (fast) {
        assert_non_null(slow);
        assert_true(json_equal(fast, slow));
    }
    json_decref(fast);
    json_decref(slow);
    return took;
}

static void test_jsonfast_takes_the_plain_requests(void **state)
{
    (void)state;
    assert_true(same_as_jansson("{\"method\":\"reserve_memory\",\"params\":[\"d\",\"s\",1024],"
                                "\"id\":7}"));
    assert_true(
        same_as_jansson(" \r\n\t{ \"method\" : \"x\" , \"params\" : [ ] , \"id\" : null } "));
    assert_true(same_as_jansson("{\"a\":[true,false,null,-0,-12,0,{},[],{\"b\":[1]}]}"));
    assert_true(same_as_jansson("{\"n\":999999999999999999}")); /* 18 digits */
    assert_true(same_as_jansson("{}"));
    /* The values are right, not just equal to themselves. */
    json_t *v = xfd_json_fast("{\"k\":-42,\"s\":\"a b\"}", 19);
    assert_int_equal(json_integer_value(json_object_get(v, "k")), -42);
    assert_string_equal(json_string_value(json_object_get(v, "s")), "a b");
    json_decref(v);
}

static void test_jsonfast_request_members(void **state)
{
    static const char req[] = " {\"id\":\"x\",\"params\":[\"d\",7],\"method\":\"login\"} ";
    struct xfd_json_request r;
    (void)state;
    assert_true(xfd_json_fast_request(req, strlen(req), &r));
    assert_string_equal(json_string_value(r.method), "login");
    assert_int_equal(json_array_size(r.params), 2);
    assert_int_equal(json_integer_value(json_array_get(r.params, 1)), 7);
    assert_string_equal(json_string_value(r.id), "x");
    assert_null(r.jsonrpc);
    xfd_json_request_done(&r);
    assert_true(xfd_json_fast_request("{}", 2, &r));
    assert_null(r.method);
    xfd_json_request_done(&r);
    /* Another key, a duplicate, trailing bytes: jansson's to judge. */
    assert_false(xfd_json_fast_request("{\"method\":\"a\",\"x\":1}", 20, &r));
    assert_false(xfd_json_fast_request("{\"id\":1,\"id\":2}", 15, &r));
    assert_false(xfd_json_fast_request("{\"id\":1} 2", 10, &r));
    assert_false(xfd_json_fast_request("[1]", 3, &r));
}

static void test_jsonfast_gives_up_on_the_rest(void **state)
{
    static const char *const rest[] = {
        "{\"s\":\"a\\\"b\"}",   /* an escape */
        "{\"s\":\"\xc3\xa9\"}", /* non-ASCII (valid UTF-8) */
        "{\"s\":\"\xff\"}",     /* invalid UTF-8: jansson refuses */
        "{\"n\":1.5}",
        "{\"n\":1e3}",
        "{\"n\":1E3}",                  /* reals */
        "{\"n\":9999999999999999999}",  /* 19 digits */
        "{\"n\":99999999999999999999}", /* too big for jansson too */
        "{\"n\":01}",
        "{\"n\":-}",
        "{\"n\":+1}",
        "{\"n\":.5}",
        "{\"a\":1,\"a\":2}", /* duplicate: jansson refuses */
        "{\"a\":1} x",
        "{\"a\":1}{}",
        "{\"a\":1,}",
        "{,}",
        "{\"a\"1}",
        "{\"a\":[1,]}",
        "[1]",
        "\"x\"",
        "1",
        "",
        "   ",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"s\":\"\t\"}",
        "{\"a\":[[[[[[[[[[1]]]]]]]]]]}", /* deeper than the fast path goes */
        "{\"a\":1",
        "{\"a\":\"unterminated}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
        assert_false(same_as_jansson(rest[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonfast_takes_the_plain_requests),
        cmocka_unit_test(test_jsonfast_request_members),
        cmocka_unit_test(test_jsonfast_gives_up_on_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
