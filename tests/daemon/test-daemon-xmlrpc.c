/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * squeezed's protocol as XML-RPC (daemon/xmlrpc.h), the form xenopsd's
 * Memory_client sends with use-switch=false, checked against xapi-idl's
 * memory vectors (tests/data/xapi-idl-memory, JSON only) and by hand.
 *
 * What "conformance" means here, and what it does not:
 * - Every request vector is replayed twice, on two daemons started alike:
 *   as its JSON text, and as the XML-RPC call xenfitd's encoder derives from
 *   it (written from ocaml-rpc's Xmlrpc.string_of_call, not produced by
 *   OCaml). The XML answer, decoded, must equal the JSON answer's result or
 *   error, modulo ocaml-rpc's own loss: an integer travels untagged in
 *   XML-RPC and so reads back as its decimal string. Reservation ids differ
 *   between the two daemons and are compared as UUIDs.
 * - Every response vector's value is encoded as ocaml-rpc's
 *   Xmlrpc.string_of_response would write it and decoded back: the same
 *   success or failure and the same value (modulo the integer rule).
 * - Two encodings are compared byte for byte with text worked out by hand
 *   from ocaml-rpc's xmlrpc.ml (add_response, add_value).
 * Not proven: that OCaml's Xmlrpc, fed these bytes, decodes them; no OCaml
 * runs in this test, and no XML vector from xen-api exists to compare with.
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "xenfit/error.h"
#include "xmlrpc.h"

static struct td D_JSON, D_XML;

static int group_setup(void **state)
{
    (void)state;
    if (td_init(&D_JSON) < 0 || td_start(&D_JSON, NULL) < 0)
        return -1;
    return td_init(&D_XML) < 0 || td_start(&D_XML, NULL) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    td_done(&D_XML);
    td_done(&D_JSON);
    return 0;
}

/* POSTs a body framed as xenopsd's client frames it (xapi-idl
 * lib/xcp_client.ml, http_rpc: User-agent and content-length, no
 * Content-Type); returns the HTTP status and the reply body (free it). */
static int post(const struct td *d, const char *body, size_t len, char **ret_reply)
{
    struct xfd_buf req = {0};
    int status;
    assert_int_equal(xfd_buf_printf(&req,
                                    "POST /var/xapi/memory HTTP/1.1\r\nUser-agent: xenopsd\r\n"
                                    "content-length: %zu\r\n\r\n",
                                    len),
                     0);
    assert_int_equal(xfd_buf_add(&req, body, len), 0);
    status = td_raw(d, req.p, req.len, ret_reply);
    xfd_buf_free(&req);
    return status;
}

/* Whether got is want as it comes back through XML-RPC: equal, or an
 * integer's decimal string, or (both) reservation UUIDs; arrays and objects
 * member by member. */
static bool same(json_t *want, json_t *got)
{
    size_t i;
    const char *k;
    json_t *x;

    if (json_is_integer(want) && json_is_string(got)) {
        char digits[32];
        snprintf(digits, sizeof(digits), "%lld", (long long)json_integer_value(want));
        return strcmp(digits, json_string_value(got)) == 0;
    }
    if (json_is_string(want) && json_is_string(got) && td_is_uuid(json_string_value(want)))
        return td_is_uuid(json_string_value(got));
    if (json_is_array(want) && json_is_array(got)) {
        if (json_array_size(want) != json_array_size(got))
            return false;
        json_array_foreach(want, i, x) if (!same(x, json_array_get(got, i))) return false;
        return true;
    }
    if (json_is_object(want) && json_is_object(got)) {
        if (json_object_size(want) != json_object_size(got))
            return false;
        json_object_foreach(want, k, x) if (!same(x, json_object_get(got, k))) return false;
        return true;
    }
    return json_equal(want, got);
}

static json_t *load(const char *path)
{
    json_error_t e;
    json_t *v = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
    if (!v)
        fail_msg("%s: %s", path, e.text);
    return v;
}

static size_t vectors(const char *pattern, glob_t *ret)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/xapi-idl-memory/%s", XF_TEST_DATA, pattern);
    assert_int_equal(glob(path, 0, NULL, ret), 0);
    return ret->gl_pathc;
}

/* Every request vector, as JSON on one daemon and as XML-RPC on the other. */
static void test_xmlrpc_replays_every_request_vector(void **state)
{
    glob_t g;
    size_t n = vectors("requests/*.request.*", &g);
    (void)state;

    assert_int_equal(n, 11); /* the eleven methods of Memory_interface */
    for (size_t i = 0; i < n; i++) {
        json_t *vec = load(g.gl_pathv[i]), *jr, *want, *got = NULL;
        const char *method = json_string_value(json_object_get(vec, "method"));
        struct xfd_buf call = {0};
        char *reply = NULL, err[XFD_XMLRPC_ERRLEN] = "";
        bool ok = false;

        /* The JSON answer. */
        char *text = json_dumps(vec, JSON_COMPACT);
        assert_int_equal(post(&D_JSON, text, strlen(text), &reply), 200);
        free(text);
        jr = json_loads(reply, 0, NULL);
        assert_non_null(jr);
        free(reply);
        /* The XML-RPC answer to the same call. */
        assert_int_equal(xfd_xmlrpc_encode_call(&call, method, json_object_get(vec, "params")), 0);
        assert_int_equal(post(&D_XML, call.p, call.len, &reply), 200);
        assert_int_equal(
            xfd_xmlrpc_decode_response(reply, strlen(reply), &ok, &got, err, sizeof(err)), 0);
        want = json_object_get(jr, json_is_null(json_object_get(jr, "error")) ? "result" : "error");
        if (ok != json_is_null(json_object_get(jr, "error")) || !same(want, got)) {
            char *w = td_text(want), *gt = td_text(got);
            fail_msg("%s: JSON %s %s, XML-RPC %s %s (%s)", g.gl_pathv[i],
                     json_is_null(json_object_get(jr, "error")) ? "success" : "failure", w,
                     ok ? "success" : "failure", gt, reply);
        }
        free(reply);
        json_decref(got);
        json_decref(jr);
        json_decref(vec);
        xfd_buf_free(&call);
    }
    globfree(&g);
}

/* Two answers byte for byte, from ocaml-rpc's Xmlrpc.add_response by hand. */
static void test_xmlrpc_answers_in_ocaml_rpc_bytes(void **state)
{
    static const char delete_call[] =
        "<?xml version=\"1.0\"?><methodCall><methodName>delete_reservation</methodName>"
        "<params><param><value>dbg</value></param><param><value>s</value></param>"
        "<param><value>no-such-id</value></param></params></methodCall>";
    static const char delete_reply[] =
        "<?xml version=\"1.0\"?><methodResponse><params><param><value><struct>"
        "<member><name>Status</name><value>Failure</value></member>"
        "<member><name>ErrorDescription</name><value><array><data>"
        "<value>Unknown_reservation</value><value>no-such-id</value>"
        "</data></array></value></member></struct></value></param></params></methodResponse>";
    /* get_host_initial_free_memory: an int64, untagged (Xmlrpc.add_value, Int). */
    static const char free_call[] =
        "<?xml version='1.0'?>\n<methodCall>\n  <methodName>get_host_initial_free_memory"
        "</methodName>\n  <params>\n    <param><value><string>dbg</string></value></param>\n"
        "  </params>\n</methodCall>\n";
    char want_free[512], *reply = NULL;
    (void)state;

    assert_int_equal(post(&D_XML, delete_call, strlen(delete_call), &reply), 200);
    assert_string_equal(reply, delete_reply);
    free(reply);
    snprintf(want_free, sizeof(want_free),
             "<?xml version=\"1.0\"?><methodResponse><params><param><value><struct>"
             "<member><name>Status</name><value>Success</value></member>"
             "<member><name>Value</name><value>%llu</value></member>"
             "</struct></value></param></params></methodResponse>",
             (unsigned long long)TD_INITIAL_FREE_B);
    assert_int_equal(post(&D_XML, free_call, strlen(free_call), &reply), 200);
    assert_string_equal(reply, want_free);
    free(reply);
}

/* A reservation made, found and deleted over XML-RPC alone, as xenopsd does. */
static void test_xmlrpc_reservation_round_trip(void **state)
{
    struct xfd_buf call = {0};
    char *reply = NULL, err[XFD_XMLRPC_ERRLEN] = "", id[64];
    json_t *params, *got = NULL;
    bool ok = false;
    (void)state;

    params = json_pack("[ssi]", "dbg", "xenopsd", 1048576); /* 1 GiB in KiB */
    assert_int_equal(xfd_xmlrpc_encode_call(&call, "reserve_memory", params), 0);
    json_decref(params);
    assert_int_equal(post(&D_XML, call.p, call.len, &reply), 200);
    assert_int_equal(xfd_xmlrpc_decode_response(reply, strlen(reply), &ok, &got, err, sizeof(err)),
                     0);
    assert_true(ok);
    assert_true(td_is_uuid(json_string_value(got)));
    snprintf(id, sizeof(id), "%s", json_string_value(got));
    json_decref(got);
    free(reply);
    /* Free memory dropped by exactly the reservation. */
    struct xfd_client *c = td_connect(&D_XML);
    json_t *st = NULL;
    assert_non_null(c);
    assert_int_equal(td_call(c, &st, "xenfit.host_status", "[s]", "d"), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "free_for_new_vm_kib")),
                     TD_HOST_FREE_KIB - 1048576);
    json_decref(st);
    /* Deleted by the id the XML answer carried: Success, Value nil. */
    call.len = 0;
    params = json_pack("[sss]", "dbg", "xenopsd", id);
    assert_int_equal(xfd_xmlrpc_encode_call(&call, "delete_reservation", params), 0);
    json_decref(params);
    assert_int_equal(post(&D_XML, call.p, call.len, &reply), 200);
    assert_non_null(strstr(reply, "<name>Value</name><value><nil/></value>"));
    assert_int_equal(xfd_xmlrpc_decode_response(reply, strlen(reply), &ok, &got, err, sizeof(err)),
                     0);
    assert_true(ok);
    assert_true(json_is_null(got));
    json_decref(got);
    free(reply);
    assert_int_equal(td_call(c, &st, "xenfit.host_status", "[s]", "d"), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "free_for_new_vm_kib")),
                     TD_HOST_FREE_KIB);
    json_decref(st);
    xfd_client_close(c);
    xfd_buf_free(&call);
}

/* Every response vector's value, encoded and decoded back. */
static void test_xmlrpc_response_vectors_round_trip(void **state)
{
    glob_t g;
    size_t n = vectors("responses/*.response.*", &g);
    (void)state;

    assert_int_equal(n, 100);
    for (size_t i = 0; i < n; i++) {
        json_t *vec = load(g.gl_pathv[i]), *got = NULL;
        bool success = json_is_null(json_object_get(vec, "error")), ok = !success;
        json_t *v = json_object_get(vec, success ? "result" : "error");
        struct xfd_buf x = {0};
        char err[XFD_XMLRPC_ERRLEN] = "";

        assert_int_equal(xfd_xmlrpc_encode_response(&x, success, v), 0);
        assert_int_equal(xfd_xmlrpc_decode_response(x.p, x.len, &ok, &got, err, sizeof(err)), 0);
        if (ok != success || !same(v, got))
            fail_msg("%s: %.*s decoded as %s", g.gl_pathv[i], (int)x.len, x.p, td_text(got));
        json_decref(got);
        json_decref(vec);
        xfd_buf_free(&x);
    }
    globfree(&g);
}

/* One vector's encoding byte for byte (Cannot_free_this_much_memory [0, 0]). */
static void test_xmlrpc_encodes_a_tuple_error_as_ocaml_rpc(void **state)
{
    json_t *err = json_pack("[s[ii]]", "Cannot_free_this_much_memory", 0, 0);
    struct xfd_buf x = {0};
    (void)state;

    assert_int_equal(xfd_xmlrpc_encode_response(&x, false, err), 0);
    assert_int_equal(xfd_buf_add(&x, "", 1), 0);
    assert_string_equal(
        x.p, "<?xml version=\"1.0\"?><methodResponse><params><param><value><struct>"
             "<member><name>Status</name><value>Failure</value></member>"
             "<member><name>ErrorDescription</name><value><array><data>"
             "<value>Cannot_free_this_much_memory</value><value><array><data>"
             "<value>0</value><value>0</value></data></array></value>"
             "</data></array></value></member></struct></value></param></params></methodResponse>");
    json_decref(err);
    xfd_buf_free(&x);
}

/* The types and whitespace ocaml-rpc's parser takes, and escaping. */
static void test_xmlrpc_decodes_types_and_whitespace(void **state)
{
    static const char body[] =
        "<?xml version=\"1.0\"?>\n<methodCall>\n <methodName>m</methodName>\n <params>\n"
        "  <param><value><i4>-7</i4></value></param>\n"
        "  <param><value>  <int>42</int>  </value></param>\n"
        "  <param><value>  spaced &amp; &lt;kept&gt;  </value></param>\n"
        "  <param><value/></param>\n"
        "  <param><value><string/></value></param>\n"
        "  <param><value><boolean>1</boolean></value></param>\n"
        "  <param><value><boolean>true</boolean></value></param>\n"
        "  <param><value><double>0.5</double></value></param>\n"
        "  <param><value><nil/></value></param>\n"
        "  <param><value><array><data><value>a</value><value><i8>1</i8></value></data>"
        "</array></value></param>\n"
        "  <param><value><struct><member><name>k</name><value><array><data/></array>"
        "</value></member></struct></value></param>\n"
        " </params>\n</methodCall>";
    char *method = NULL, err[XFD_XMLRPC_ERRLEN] = "", *text;
    json_t *params = NULL;
    struct xfd_buf x = {0};
    (void)state;

    assert_int_equal(xfd_xmlrpc_decode_call(body, strlen(body), &method, &params, err, sizeof(err)),
                     0);
    assert_string_equal(method, "m");
    text = td_text(params);
    /* <boolean>true</boolean> is false: Parser.make_bool takes only "1". */
    assert_string_equal(text, "[-7,42,\"  spaced & <kept>  \",\"\",\"\",true,false,0.5,null,"
                              "[\"a\",1],{\"k\":[]}]");
    free(text);
    /* Escaped back as Xmlrpc.encode does; a control byte is dropped. */
    json_t *s = json_string("a\"b<c>&\x01\td");
    assert_int_equal(xfd_xmlrpc_encode_value(&x, s), 0);
    assert_int_equal(xfd_buf_add(&x, "", 1), 0);
    assert_string_equal(x.p, "<value>a&quot;b&lt;c&gt;&amp;\td</value>");
    json_decref(s);
    xfd_buf_free(&x);
    json_decref(params);
    free(method);
}

/* Bad XML: a Failure naming what is wrong, HTTP 200, the daemon unharmed. */
static void test_xmlrpc_bad_xml_gets_a_clear_failure(void **state)
{
    static const struct {
        const char *body, *says;
    } cases[] = {
        {"<methodCall><methodName>x</methodName>", "malformed XML at line 1"},
        {"<methodCall><methodName>a</methodName><params></params></methodCall>trailing",
         "junk after document element"},
        {"<foo/>", "the document is <foo>, not an XML-RPC <methodCall>"},
        {"<methodCall><params/></methodCall>", "<methodCall> must hold <methodName> then"},
        {"<methodCall><methodName>get_diagnostics</methodName><params><param><value><int>12x"
         "</int></value></param></params></methodCall>",
         "<int> '12x' is not a 64-bit decimal integer"},
        {"<methodCall><methodName>m</methodName><params><param><value><float>1</float>"
         "</value></param></params></methodCall>",
         "unknown value type <float>"},
        {"<methodCall><methodName>m</methodName><params>text</params></methodCall>",
         "text inside <params>"},
        {"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><methodCall/>", "a DOCTYPE is not accepted"},
        {"<methodCall><methodName>no_such</methodName><params/></methodCall>",
         "unknown method 'no_such'"},
        {"<methodCall><methodName>reserve_memory</methodName><params><param><value>d</value>"
         "</param></params></methodCall>",
         "reserve_memory expects 3 parameters"},
        {"<methodCall><methodName>m</methodName><params><param><value><struct><member><name>a"
         "</name><value/></member><member><name>a</name><value/></member></struct></value>"
         "</param></params></methodCall>",
         "duplicate struct member 'a'"},
    };
    char deep[2048];
    size_t n = 0, before;
    struct xfd_client *c = td_connect(&D_XML);
    json_t *r = NULL;
    (void)state;

    assert_non_null(c);
    assert_int_equal(td_call(c, &r, "xenfit.list_reservations", "[s]", "d"), 0);
    before = json_array_size(r);
    json_decref(r);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]) + 1; i++) {
        const char *body = i < sizeof(cases) / sizeof(cases[0]) ? cases[i].body : deep;
        const char *says =
            i < sizeof(cases) / sizeof(cases[0]) ? cases[i].says : "deeper than 64 levels";
        char *reply = NULL, err[XFD_XMLRPC_ERRLEN] = "";
        json_t *got = NULL;
        bool ok = true;
        if (body == deep) {
            n = 0;
            for (int d = 0; d < 100; d++)
                n += (size_t)snprintf(deep + n, sizeof(deep) - n, "<a>");
        }
        assert_int_equal(post(&D_XML, body, strlen(body), &reply), 200);
        assert_int_equal(
            xfd_xmlrpc_decode_response(reply, strlen(reply), &ok, &got, err, sizeof(err)), 0);
        assert_false(ok);
        assert_string_equal(json_string_value(json_array_get(got, 0)), "Internal_error");
        if (!strstr(json_string_value(json_array_get(got, 1)), says))
            fail_msg("'%s' answered '%s', not naming '%s'", body,
                     json_string_value(json_array_get(got, 1)), says);
        json_decref(got);
        free(reply);
    }
    /* Nothing was reserved, and the daemon still answers. */
    assert_int_equal(td_call(c, &r, "xenfit.list_reservations", "[s]", "d"), 0);
    assert_int_equal(json_array_size(r), before);
    json_decref(r);
    xfd_client_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xmlrpc_replays_every_request_vector),
        cmocka_unit_test(test_xmlrpc_answers_in_ocaml_rpc_bytes),
        cmocka_unit_test(test_xmlrpc_reservation_round_trip),
        cmocka_unit_test(test_xmlrpc_response_vectors_round_trip),
        cmocka_unit_test(test_xmlrpc_encodes_a_tuple_error_as_ocaml_rpc),
        cmocka_unit_test(test_xmlrpc_decodes_types_and_whitespace),
        cmocka_unit_test(test_xmlrpc_bad_xml_gets_a_clear_failure),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
