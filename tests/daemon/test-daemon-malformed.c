/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Every bad request gets a clear JSON-RPC error and changes nothing:
 * malformed JSON and HTTP, wrong arity and types, absurd sizes, unknown
 * methods, oversized bodies and headers, slow, idle and half-closed clients,
 * too many clients. One daemon for the group, with a short request timeout
 * (--client-timeout 300 ms), an idle timeout that only the daemon's moved
 * clock reaches (--idle-timeout 30 s, xenfit.sim_advance_time) and
 * --max-clients 8.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static struct td D;

static int group_setup(void **state)
{
    static char *const extra[] = {
        "--client-timeout", "300", "--idle-timeout", "30000", "--max-clients", "8", NULL};
    (void)state;
    return td_init(&D) < 0 || td_start(&D, extra) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    td_done(&D);
    return 0;
}

/* POSTs a body on a fresh connection; checks status and the exact reply. */
static void post(const char *body, int want_status, const char *want_reply)
{
    char req[1024], *reply = NULL;
    snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s", strlen(body),
             body);
    assert_int_equal(td_raw(&D, req, strlen(req), &reply), want_status);
    assert_string_equal(reply, want_reply);
    free(reply);
}

/* Sends raw HTTP on a fresh connection; checks status and reply. */
static void raw(const char *req, int want_status, const char *want_reply)
{
    char *reply = NULL;
    assert_int_equal(td_raw(&D, req, strlen(req), &reply), want_status);
    assert_string_equal(reply, want_reply);
    free(reply);
}

/* Reads until EOF or an error: true when the server closed the connection. */
static bool closed_by_server(struct xfd_client *c)
{
    char b[256];
    ssize_t n;
    while ((n = recv(xfd_client_fd(c), b, sizeof(b), 0)) > 0)
        ;
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

#define E(msg) "{\"result\":null,\"error\":[\"Internal_error\",\"" msg "\"],\"id\":null}"

static void test_daemon_bad_json_rpc(void **state)
{
    (void)state;
    post("{bad", 200, E("malformed JSON at line 1, column 4: string or '}' expected near 'bad'"));
    post("[1,2]", 200, E("the request is an array, not a JSON-RPC object"));
    post("{\"params\":[],\"id\":1}", 200,
         "{\"result\":null,\"error\":[\"Internal_error\",\"the request has no method name (a "
         "string)\"],\"id\":1}");
    post("{\"method\":\"login\",\"params\":{\"a\":1},\"id\":2}", 200,
         "{\"result\":null,\"error\":[\"Internal_error\",\"login: params must be an array "
         "(positional parameters)\"],\"id\":2}");
    post("{\"method\":\"shutdown\",\"params\":[],\"id\":3}", 200,
         "{\"result\":null,\"error\":[\"Internal_error\",\"unknown method 'shutdown'\"],\"id\":3}");
    post("{\"method\":\"login\",\"params\":[\"d\"],\"id\":4}", 200,
         "{\"result\":null,\"error\":[\"Internal_error\",\"login expects 2 parameters (dbg, "
         "service_name), got 1\"],\"id\":4}");
    post("{\"method\":\"get_host_reserved_memory\",\"params\":[\"d\",\"x\"],\"id\":5}", 200,
         "{\"result\":null,\"error\":[\"Internal_error\",\"get_host_reserved_memory expects 1 "
         "parameter (dbg), got 2\"],\"id\":5}");
    post("{\"method\":\"reserve_memory\",\"params\":[\"d\",\"s\",\"lots\"],\"id\":6}", 200,
         "{\"result\":null,\"error\":[\"Internal_error\",\"reserve_memory: parameter 3 (size) "
         "must be an integer, not a string\"],\"id\":6}");
    post("{\"method\":\"reserve_memory\",\"params\":[\"d\",\"s\",1.5],\"id\":7}", 200,
         "{\"result\":null,\"error\":[\"Internal_error\",\"reserve_memory: parameter 3 (size) "
         "must be an integer, not a real number\"],\"id\":7}");
    post("{\"method\":\"reserve_memory\",\"params\":[\"d\",7,1],\"id\":8}", 200,
         "{\"result\":null,\"error\":[\"Internal_error\",\"reserve_memory: parameter 2 "
         "(session_id) must be a string, not an integer\"],\"id\":8}");
    post("{\"method\":\"query_reservation_of_domain\",\"params\":[\"d\",\"s\",-1],\"id\":9}", 200,
         "{\"result\":null,\"error\":[\"Internal_error\",\"query_reservation_of_domain: parameter "
         "3 (domid) -1 is not a domain id (0..32751)\"],\"id\":9}");
    /* Beyond 64 bits: not a number JSON can carry here. */
    post("{\"method\":\"reserve_memory\",\"params\":[\"d\",\"s\",99999999999999999999],\"id\":10}",
         200,
         E("malformed JSON at line 1, column 65: too big integer near "
           "'99999999999999999999'"));
    post("{\"method\":\"reserve_memory\",\"params\":[\"d\",\"s\",\"-12\"],\"id\":11}", 200,
         "{\"result\":null,\"error\":[\"Invalid_memory_value\",-12],\"id\":11}");
    post("{\"jsonrpc\":\"1.5\",\"method\":\"login\",\"params\":[\"d\",\"s\"],\"id\":12}", 200,
         "{\"result\":null,\"error\":[\"Internal_error\",\"invalid field 'jsonrpc' (only "
         "\\\"2.0\\\" is known)\"],\"id\":12}");
    post("{\"method\":\"login\",\"params\":[\"d\",\"s\"],\"method\":\"x\",\"id\":13}", 200,
         E("malformed JSON at line 1, column 45: duplicate object key near '\\\"method\\\"'"));
}

static void test_daemon_bad_http(void **state)
{
    (void)state;
    raw("GET / HTTP/1.1\r\n\r\n", 405, E("only POST is served (JSON-RPC bodies)"));
    raw("POST / HTTP/1.1\r\nHost: x\r\n\r\n", 411, E("a POST needs Content-Length"));
    raw("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
        E("Transfer-Encoding is not supported: send Content-Length"));
    raw("POST / HTTP/2.0\r\nContent-Length: 0\r\n\r\n", 505, E("expected HTTP/1.0 or HTTP/1.1"));
    raw("hello\r\n\r\n", 400, E("malformed request line"));
    raw("POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 400, E("Content-Length is not a number"));
    raw("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400,
        E("conflicting Content-Length headers"));
}

static void test_daemon_oversized_body_and_header(void **state)
{
    struct xfd_client *c = td_connect(&D);
    char *reply = NULL, *big;
    size_t len;
    int status;
    (void)state;

    /* The limit is known from Content-Length: refused before any body byte. */
    static const char head[] = "POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n";
    assert_non_null(c);
    assert_int_equal(xfd_client_raw(c, head, strlen(head), &status, &reply, &len), 0);
    assert_int_equal(status, 413);
    assert_string_equal(reply, E("request body of 100000 bytes is above the limit of 65536 bytes"));
    free(reply);
    assert_true(closed_by_server(c));
    xfd_client_close(c);
    /* Headers above 8192 bytes. */
    big = malloc(10000);
    assert_non_null(big);
    len = (size_t)snprintf(big, 10000, "POST / HTTP/1.1\r\nX-Pad: ");
    memset(big + len, 'a', 9000);
    memcpy(big + len + 9000, "\r\n\r\n", 5);
    raw(big, 431, E("request headers longer than the limit"));
    free(big);
}

static void test_daemon_slow_client_times_out_without_blocking_others(void **state)
{
    struct xfd_client *slow = td_connect(&D), *fast = td_connect(&D);
    static const char part[] = "POST / HTTP/1.1\r\nContent-Length: 40\r\n\r\n{\"method\":";
    json_t *r = NULL;
    char *reply = NULL;
    size_t len;
    int status;
    (void)state;

    assert_non_null(slow);
    assert_non_null(fast);
    assert_int_equal(xfd_client_send(slow, part, strlen(part)), 0);
    /* The loop is not stuck on the slow one. */
    assert_int_equal(td_call(fast, &r, "get_host_reserved_memory", "[s]", "d"), 0);
    assert_int_equal(json_integer_value(r), 65536);
    json_decref(r);
    /* 300 ms later (checked every 200 ms) it gets a 408 and is closed. */
    assert_int_equal(xfd_client_read_response(slow, &status, &reply, &len), 0);
    assert_int_equal(status, 408);
    assert_string_equal(reply, E("the request did not arrive in time"));
    free(reply);
    assert_true(closed_by_server(slow));
    xfd_client_close(slow);
    xfd_client_close(fast);
}

static void test_daemon_half_closed_clients(void **state)
{
    static const char body[] = "{\"method\":\"balance_memory\",\"params\":[\"d\"],\"id\":1}";
    struct xfd_client *c;
    char req[256], *reply = NULL;
    size_t len;
    int status;
    (void)state;

    /* A whole request, then shutdown(SHUT_WR): the reply still comes. */
    snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s", strlen(body),
             body);
    assert_non_null(c = td_connect(&D));
    assert_int_equal(xfd_client_send(c, req, strlen(req)), 0);
    assert_int_equal(shutdown(xfd_client_fd(c), SHUT_WR), 0);
    assert_int_equal(xfd_client_read_response(c, &status, &reply, &len), 0);
    assert_int_equal(status, 200);
    assert_string_equal(reply, "{\"result\":null,\"error\":null,\"id\":1}");
    free(reply);
    assert_true(closed_by_server(c));
    xfd_client_close(c);
    /* Half a request, then shutdown: a 400 saying so. */
    assert_non_null(c = td_connect(&D));
    assert_int_equal(xfd_client_send(c, req, 30), 0);
    assert_int_equal(shutdown(xfd_client_fd(c), SHUT_WR), 0);
    assert_int_equal(xfd_client_read_response(c, &status, &reply, &len), 0);
    assert_int_equal(status, 400);
    assert_string_equal(reply, E("the connection was closed in the middle of a request"));
    free(reply);
    xfd_client_close(c);
}

static void test_daemon_keep_alive_pipelining_and_http10(void **state)
{
    static const char b1[] =
        "{\"method\":\"get_host_reserved_memory\",\"params\":[\"d\"],\"id\":1}";
    static const char b2[] = "{\"method\":\"balance_memory\",\"params\":[\"d\"],\"id\":2}";
    struct xfd_client *c = td_connect(&D);
    char req[512], *reply = NULL;
    size_t len;
    int status;
    (void)state;

    /* Two requests in one write: two replies, in order, same connection. */
    snprintf(req, sizeof(req),
             "POST / HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%sPOST / HTTP/1.1\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(b1), b1, strlen(b2), b2);
    assert_non_null(c);
    assert_int_equal(xfd_client_send(c, req, strlen(req)), 0);
    assert_int_equal(xfd_client_read_response(c, &status, &reply, &len), 0);
    assert_string_equal(reply, "{\"result\":65536,\"error\":null,\"id\":1}");
    free(reply);
    assert_int_equal(xfd_client_read_response(c, &status, &reply, &len), 0);
    assert_string_equal(reply, "{\"result\":null,\"error\":null,\"id\":2}");
    free(reply);
    for (int i = 0; i < 200; i++) {
        json_t *r = NULL;
        assert_int_equal(td_call(c, &r, "get_host_reserved_memory", "[s]", "d"), 0);
        json_decref(r);
    }
    xfd_client_close(c);
    /* HTTP/1.0 without keep-alive: one reply, then the server closes. */
    snprintf(req, sizeof(req), "POST / HTTP/1.0\r\nContent-Length: %zu\r\n\r\n%s", strlen(b2), b2);
    assert_non_null(c = td_connect(&D));
    assert_int_equal(xfd_client_send(c, req, strlen(req)), 0);
    assert_int_equal(xfd_client_read_response(c, &status, &reply, &len), 0);
    assert_int_equal(status, 200);
    free(reply);
    assert_true(closed_by_server(c));
    xfd_client_close(c);
}

static void test_daemon_idle_and_too_many_clients(void **state)
{
    struct xfd_client *cs[8], *extra = NULL, *idle, *mover;
    char *reply = NULL;
    size_t len;
    int status;
    (void)state;

    /* An idle connection is closed after 30 s of the daemon's clock (moved
     * on another connection, which is then idle too); the test's real time
     * is far from it, and closed_by_server() gives up after 5 s. */
    assert_non_null(idle = td_connect(&D));
    assert_non_null(mover = td_connect(&D));
    assert_int_equal(td_advance(mover, 31000), 0);
    assert_true(closed_by_server(idle));
    assert_true(closed_by_server(mover));
    xfd_client_close(idle);
    xfd_client_close(mover);
    /* 8 served connections; the ninth gets a 503 and is closed. */
    for (int i = 0; i < 8; i++) {
        json_t *r = NULL;
        assert_non_null(cs[i] = td_connect(&D));
        assert_int_equal(td_call(cs[i], &r, "balance_memory", "[s]", "d"), 0);
        json_decref(r);
    }
    assert_int_equal(xfd_client_connect(D.sock, 2000, &extra), 0);
    assert_int_equal(xfd_client_read_response(extra, &status, &reply, &len), 0);
    assert_int_equal(status, 503);
    free(reply);
    xfd_client_close(extra);
    for (int i = 0; i < 8; i++)
        xfd_client_close(cs[i]);
}

static void test_daemon_bad_requests_changed_nothing(void **state)
{
    struct xfd_client *c = td_connect(&D);
    json_t *r = NULL;
    (void)state;
    assert_non_null(c);
    assert_int_equal(td_call(c, &r, "xenfit.list_reservations", "[s]", "d"), 0);
    assert_int_equal(json_array_size(r), 0);
    json_decref(r);
    assert_int_equal(td_call(c, &r, "xenfit.host_status", "[s]", "d"), 0);
    assert_int_equal(json_integer_value(json_object_get(r, "free_for_new_vm_kib")),
                     TD_HOST_FREE_KIB);
    json_decref(r);
    xfd_client_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daemon_bad_json_rpc),
        cmocka_unit_test(test_daemon_bad_http),
        cmocka_unit_test(test_daemon_oversized_body_and_header),
        cmocka_unit_test(test_daemon_slow_client_times_out_without_blocking_others),
        cmocka_unit_test(test_daemon_half_closed_clients),
        cmocka_unit_test(test_daemon_keep_alive_pipelining_and_http10),
        cmocka_unit_test(test_daemon_idle_and_too_many_clients),
        cmocka_unit_test(test_daemon_bad_requests_changed_nothing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
