/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's methods against the real daemon on the simulator: every squeezed
 * method with its result shape and error encodings, the wire format, and the
 * native methods (NUMA placement, migration, status, calibration). Each test
 * starts a fresh daemon on the test host (harness.h gives its numbers).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness-cmocka.h"

struct fx {
    struct td d;
    struct xfd_client *c;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (!f || td_init(&f->d) < 0 || td_start(&f->d, NULL) < 0 || !(f->c = td_connect(&f->d)))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    xfd_client_close(f->c);
    td_done(&f->d);
    free(f);
    return 0;
}

/* Calls and checks the outcome's JSON text exactly (0: result, 1: error). */
#define EXPECT(c, want_rc, want_text, method, ...)                                                 \
    do {                                                                                           \
        json_t *v_ = NULL;                                                                         \
        assert_int_equal(td_call((c), &v_, (method), __VA_ARGS__), (want_rc));                     \
        char *t_ = td_text(v_);                                                                    \
        assert_string_equal(t_, (want_text));                                                      \
        free(t_);                                                                                  \
        json_decref(v_);                                                                           \
    } while (0)

static char *reserve(struct xfd_client *c, const char *session, json_int_t kib)
{
    json_t *r = td_ok(c, "reserve_memory", json_pack("[ssI]", "t", session, kib));
    assert_true(json_is_string(r));
    char *id = strdup(json_string_value(r));
    assert_true(td_is_uuid(id));
    json_decref(r);
    return id;
}

static json_int_t status_int(struct xfd_client *c, const char *key, int node)
{
    json_t *st = td_ok(c, "xenfit.host_status", json_pack("[s]", "t"));
    json_t *o = node < 0 ? st : json_array_get(json_object_get(st, "nodes"), (size_t)node);
    json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    json_int_t x = json_integer_value(v);
    json_decref(st);
    return x;
}

static void test_daemon_squeezed_reserve_transfer_query_delete(void **state)
{
    struct fx *f = *state;
    char want[200];

    EXPECT(f->c, 0, "\"xenopsd\"", "login", "[ss]", "t", "xenopsd");
    char *id = reserve(f->c, "xenopsd", 1048576);
    EXPECT(f->c, 0, "null", "transfer_reservation_to_domain", "[sssi]", "t", "xenopsd", id, 5);
    snprintf(want, sizeof(want), "\"%s\"", id);
    EXPECT(f->c, 0, want, "query_reservation_of_domain", "[ssi]", "t", "xenopsd", 5);
    /* squeezed ignores the session when querying. */
    EXPECT(f->c, 0, want, "query_reservation_of_domain", "[ssi]", "t", "other", 5);
    EXPECT(f->c, 1, "\"No_reservation\"", "query_reservation_of_domain", "[ssi]", "t", "xenopsd",
           6);
    /* Another session cannot delete or transfer it (squeezed's path is
     * session/reservation): Unknown_reservation, and nothing changes. */
    snprintf(want, sizeof(want), "[\"Unknown_reservation\",\"%s\"]", id);
    EXPECT(f->c, 1, want, "delete_reservation", "[sss]", "t", "other", id);
    EXPECT(f->c, 1, want, "transfer_reservation_to_domain", "[sssi]", "t", "other", id, 7);
    EXPECT(f->c, 0, "null", "delete_reservation", "[sss]", "t", "xenopsd", id);
    EXPECT(f->c, 1, want, "delete_reservation", "[sss]", "t", "xenopsd", id);
    EXPECT(f->c, 1, "\"No_reservation\"", "query_reservation_of_domain", "[ssi]", "t", "xenopsd",
           5);
    /* An id that is no reservation of this daemon at all. */
    EXPECT(f->c, 1, "[\"Unknown_reservation\",\"nonsense\"]", "transfer_reservation_to_domain",
           "[sssi]", "t", "xenopsd", "nonsense", 5);
    EXPECT(f->c, 1, "[\"Unknown_reservation\",\"00000000-0000-4000-8000-000000000001\"]",
           "delete_reservation", "[sss]", "t", "xenopsd", "00000000-0000-4000-8000-000000000001");
    free(id);
}

static void test_daemon_squeezed_sizes_and_refusals(void **state)
{
    struct fx *f = *state;
    json_t *r;

    /* All of the host's 15597568 KiB for new VMs, then not one more KiB. */
    EXPECT(f->c, 1, "[\"Cannot_free_this_much_memory\",[15597569,15597568]]", "reserve_memory",
           "[ssI]", "t", "s", (json_int_t)15597569);
    char *all = reserve(f->c, "s", 15597568);
    EXPECT(f->c, 1, "[\"Cannot_free_this_much_memory\",[1,0]]", "reserve_memory", "[ssI]", "t", "s",
           (json_int_t)1);
    EXPECT(f->c, 0, "null", "delete_reservation", "[sss]", "t", "s", all);
    /* A range gets min(max, free): 2 GiB, then the 13500416 KiB left. */
    r = td_ok(f->c, "reserve_memory_range",
              json_pack("[ssII]", "t", "s", (json_int_t)1024, (json_int_t)2097152));
    assert_true(json_is_array(r) && json_array_size(r) == 2);
    assert_true(td_is_uuid(json_string_value(json_array_get(r, 0))));
    assert_int_equal(json_integer_value(json_array_get(r, 1)), 2097152);
    json_decref(r);
    r = td_ok(f->c, "reserve_memory_range",
              json_pack("[ssII]", "t", "s", (json_int_t)1, (json_int_t)99999999));
    assert_int_equal(json_integer_value(json_array_get(r, 1)), 15597568 - 2097152);
    json_decref(r);
    EXPECT(f->c, 1, "[\"Cannot_free_this_much_memory\",[1,0]]", "reserve_memory_range", "[ssII]",
           "t", "s", (json_int_t)1, (json_int_t)5);
    /* Invalid_memory_value: negative, above 16 TiB (17179869184 KiB), min > max. */
    EXPECT(f->c, 1, "[\"Invalid_memory_value\",-5]", "reserve_memory", "[ssI]", "t", "s",
           (json_int_t)-5);
    EXPECT(f->c, 1, "[\"Invalid_memory_value\",17179869185]", "reserve_memory", "[ssI]", "t", "s",
           (json_int_t)17179869185);
    EXPECT(f->c, 1, "[\"Invalid_memory_value\",-1]", "reserve_memory_range", "[ssII]", "t", "s",
           (json_int_t)-1, (json_int_t)10);
    EXPECT(f->c, 1, "[\"Invalid_memory_value\",-7]", "reserve_memory_range", "[ssII]", "t", "s",
           (json_int_t)1, (json_int_t)-7);
    EXPECT(f->c, 1, "[\"Invalid_memory_value\",10]", "reserve_memory_range", "[ssII]", "t", "s",
           (json_int_t)10, (json_int_t)5);
    /* 0 KiB: squeezed grants an empty reservation; xenfitd refuses it
     * (issue 16: it would hold a ledger entry, and a pending slot, for
     * nothing), with squeezed's error for a bad size. A range up to 0 too. */
    EXPECT(f->c, 1, "[\"Invalid_memory_value\",0]", "reserve_memory", "[ssI]", "t", "s",
           (json_int_t)0);
    EXPECT(f->c, 1, "[\"Invalid_memory_value\",0]", "reserve_memory_range", "[ssII]", "t", "s",
           (json_int_t)0, (json_int_t)0);
    free(all);
}

static void test_daemon_squeezed_host_values(void **state)
{
    struct fx *f = *state;
    json_t *r;

    EXPECT(f->c, 0, "65536", "get_host_reserved_memory", "[s]", "t");
    EXPECT(f->c, 0, "17112760320", "get_host_initial_free_memory", "[s]", "t");
    EXPECT(f->c, 0, "[\"Fixed_size\",1073741824]", "get_domain_zero_policy", "[s]", "t");
    EXPECT(f->c, 0, "null", "balance_memory", "[s]", "t");
    r = td_ok(f->c, "get_diagnostics", json_pack("[s]", "t"));
    assert_true(json_is_string(r));
    assert_non_null(strstr(json_string_value(r), "daemon-2node"));
    assert_non_null(strstr(json_string_value(r), "15232 MiB free for a new VM"));
    json_decref(r);
}

static void test_daemon_squeezed_login_drops_untransferred(void **state)
{
    struct fx *f = *state;
    char want[200];

    char *a = reserve(f->c, "xenopsd", 1024);
    char *b = reserve(f->c, "xenopsd", 2048);
    char *other = reserve(f->c, "xapi", 4096);
    EXPECT(f->c, 0, "null", "transfer_reservation_to_domain", "[sssi]", "t", "xenopsd", b, 9);
    /* free for new VMs: 15597568 - 1024 - 2048 - 4096 */
    assert_int_equal(status_int(f->c, "free_for_new_vm_kib", -1), 15590400);
    EXPECT(f->c, 0, "\"xenopsd\"", "login", "[ss]", "t", "xenopsd");
    snprintf(want, sizeof(want), "[\"Unknown_reservation\",\"%s\"]", a);
    EXPECT(f->c, 1, want, "delete_reservation", "[sss]", "t", "xenopsd", a);
    snprintf(want, sizeof(want), "\"%s\"", b);
    EXPECT(f->c, 0, want, "query_reservation_of_domain", "[ssi]", "t", "xenopsd", 9);
    assert_int_equal(status_int(f->c, "free_for_new_vm_kib", -1), 15591424);
    EXPECT(f->c, 0, "null", "delete_reservation", "[sss]", "t", "xapi", other);
    free(a);
    free(b);
    free(other);
}

static void test_daemon_wire_format(void **state)
{
    struct fx *f = *state;
    static const char v1[] = "{\"method\":\"query_reservation_of_domain\","
                             "\"params\":[\"t\",\"s\",\"42\"],\"id\":\"abc\"}";
    static const char v2[] = "{\"jsonrpc\":\"2.0\",\"method\":\"balance_memory\","
                             "\"params\":[\"t\"],\"id\":3}";
    char req[512], *body = NULL;

    /* An integer may come as a decimal string (ocaml-rpc's int_of_rpc); the
     * id is echoed, strings included. */
    snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s", strlen(v1), v1);
    assert_int_equal(td_raw(&f->d, req, strlen(req), &body), 200);
    assert_string_equal(body, "{\"result\":null,\"error\":\"No_reservation\",\"id\":\"abc\"}");
    free(body);
    /* JSON-RPC 2.0 gets a 2.0 answer without the null member. */
    snprintf(req, sizeof(req), "POST /var/xapi/memory HTTP/1.1\r\ncontent-length: %zu\r\n\r\n%s",
             strlen(v2), v2);
    assert_int_equal(td_raw(&f->d, req, strlen(req), &body), 200);
    assert_string_equal(body, "{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":3}");
    free(body);
}

/* The VM used below: hvm, 4096 MiB, 2 vCPUs. xen-api's model: shadow 34 MiB,
 * overhead 1 + 1 + 34 + ceil(76 pages) 1 = 37 MiB, footprint 4133 MiB =
 * 4232192 KiB; build start 4096 MiB, xen_max 4097 MiB, so xenfit claims
 * min(xen_max, build start + 1 MiB) = 4097 MiB = 1048832 pages. */
static json_t *vm_json(void)
{
    return json_pack("{sssIsI}", "type", "hvm", "static_max_mib", (json_int_t)4096, "vcpus",
                     (json_int_t)2);
}

static void test_daemon_native_reserve_vm_places_and_refuses(void **state)
{
    struct fx *f = *state;
    json_t *r, *claim;

    /* Node 0 keeps 7872 - 4133 = 3739 MiB, node 1 7168 - 4133 = 3035: node 0. */
    r = td_ok(f->c, "xenfit.reserve_vm", json_pack("[sso]", "t", "s", vm_json()));
    assert_int_equal(json_integer_value(json_object_get(r, "kib")), 4232192);
    assert_int_equal(json_integer_value(json_object_get(r, "footprint_mib")), 4133);
    char *mc = td_text(json_object_get(r, "memory_config"));
    assert_string_equal(mc, "{\"build_max_mib\":4096,\"build_start_mib\":4096,\"xen_max_mib\":4097,"
                            "\"shadow_mib\":34,\"required_host_free_mib\":4133,"
                            "\"overhead_mib\":37,\"build_claim_pages\":1048576}");
    free(mc);
    assert_string_equal(json_string_value(json_object_get(r, "kind")), "vm");
    assert_string_equal(json_string_value(json_object_get(r, "state")), "pending");
    char *t = td_text(json_object_get(r, "nodes"));
    assert_string_equal(t, "[0]");
    free(t);
    claim = json_object_get(r, "claim");
    assert_string_equal(json_string_value(json_object_get(claim, "kind")), "node");
    assert_int_equal(json_integer_value(json_object_get(claim, "node")), 0);
    assert_int_equal(json_integer_value(json_object_get(claim, "pages")), 1048832);
    json_decref(r);
    assert_int_equal(status_int(f->c, "free_for_new_vm_kib", 0), (3739 * 1024));
    assert_int_equal(status_int(f->c, "placed_kib", 0), 4232192);
    /* The second goes to node 1 (node 0 has only 3739 MiB left). */
    r = td_ok(f->c, "xenfit.reserve_vm", json_pack("[sso]", "t", "s", vm_json()));
    t = td_text(json_object_get(r, "nodes"));
    assert_string_equal(t, "[1]");
    free(t);
    json_decref(r);
    assert_int_equal(status_int(f->c, "free_for_new_vm_kib", 1), (3035 * 1024));
    /* The third fits no node alone (3739, 3035) but both: split, 4133 MiB in all. */
    r = td_ok(f->c, "xenfit.reserve_vm", json_pack("[sso]", "t", "s", vm_json()));
    t = td_text(json_object_get(r, "nodes"));
    assert_string_equal(t, "[0,1]");
    free(t);
    json_t *per = json_object_get(r, "node_mib");
    assert_int_equal(json_integer_value(json_object_get(per, "0")) +
                         json_integer_value(json_object_get(per, "1")),
                     4133);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "claim"), "kind")),
                        "global");
    json_decref(r);
    /* Host: 15232 - 3 * 4133 = 2833 MiB left: the fourth is refused with numbers. */
    assert_int_equal(status_int(f->c, "free_for_new_vm_kib", -1), 2833 * 1024);
    EXPECT(f->c, 1,
           "[\"Host_not_enough_free_memory\",{\"needed_kib\":4232192,\"available_kib\":2900992,"
           "\"node\":-1,\"reason\":\"HOST_NOT_ENOUGH_FREE_MEMORY: needs 4133 MiB, the host has "
           "2833 MiB free for a new VM\"}]",
           "xenfit.reserve_vm", "[sso]", "t", "s", vm_json());
    /* Bad VM specs: a clear error and nothing reserved. */
    EXPECT(f->c, 1,
           "[\"Invalid_argument\",\"xenfit.reserve_vm: vm.vcpus must be an integer in "
           "1..4096\"]",
           "xenfit.reserve_vm", "[ss{sssIsI}]", "t", "s", "type", "hvm", "static_max_mib",
           (json_int_t)1024, "vcpus", (json_int_t)0);
    EXPECT(f->c, 1, "[\"Invalid_memory_value\",-1]", "xenfit.reserve_vm", "[ss{sssIsI}]", "t", "s",
           "type", "hvm", "static_max_mib", (json_int_t)-1, "vcpus", (json_int_t)1);
    EXPECT(f->c, 1, "[\"Invalid_argument\",\"xenfit.reserve_vm: vm has an unknown member 'cpus'\"]",
           "xenfit.reserve_vm", "[ss{sssIsI}]", "t", "s", "type", "hvm", "static_max_mib",
           (json_int_t)1024, "cpus", (json_int_t)1);
    EXPECT(f->c, 1, "[\"Invalid_argument\",\"xenfit.reserve_vm: target above static maximum\"]",
           "xenfit.reserve_vm", "[ss{sssIsIsI}]", "t", "s", "type", "hvm", "static_max_mib",
           (json_int_t)1024, "target_mib", (json_int_t)2048, "vcpus", (json_int_t)1);
    assert_int_equal(status_int(f->c, "free_for_new_vm_kib", -1), 2833 * 1024);
}

static void test_daemon_native_migration_claims_source_memory(void **state)
{
    struct fx *f = *state;
    /* The source had 4195328 KiB (4097 MiB): the claim is exactly its
     * 1048832 pages and the reservation that plus the 37 MiB of overhead. */
    json_t *r = td_ok(f->c, "xenfit.reserve_migration",
                      json_pack("[ssoI]", "t", "s", vm_json(), (json_int_t)4195328));
    assert_string_equal(json_string_value(json_object_get(r, "kind")), "migration");
    assert_int_equal(json_integer_value(json_object_get(r, "footprint_mib")), 4134);
    assert_int_equal(json_integer_value(json_object_get(r, "kib")), 4134 * 1024);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "claim"), "pages")),
                     1048832);
    json_decref(r);
    EXPECT(f->c, 1, "[\"Invalid_memory_value\",0]", "xenfit.reserve_migration", "[ssoI]", "t", "s",
           vm_json(), (json_int_t)0);
}

static void test_daemon_native_observe_raises_and_persists(void **state)
{
    struct fx *f = *state;
    json_t *r;

    /* Without the calibrated term the VM is 4132 MiB = 1057792 pages; it took
     * 600 pages more, above xen-api's 2 x 38 = 76: a drift, and the term for
     * 2 vCPUs becomes 600 pages (3 MiB), so the footprint is 4135 MiB. */
    EXPECT(f->c, 0,
           "{\"needed_pages\":600,\"drift\":true,\"coeffs\":{\"fixed_pages\":600,"
           "\"per_vcpu_pages\":0}}",
           "xenfit.observe_build", "[soI]", "t", vm_json(), (json_int_t)((1057792 + 600) * 4));
    EXPECT(f->c, 0,
           "{\"needed_pages\":500,\"drift\":false,\"coeffs\":{\"fixed_pages\":600,"
           "\"per_vcpu_pages\":0}}",
           "xenfit.observe_build", "[soI]", "t", vm_json(), (json_int_t)((1057792 + 500) * 4));
    r = td_ok(f->c, "xenfit.reserve_vm", json_pack("[sso]", "t", "s", vm_json()));
    assert_int_equal(json_integer_value(json_object_get(r, "footprint_mib")), 4135);
    json_decref(r);
    /* The observation is durable: a restarted daemon sizes the same. */
    xfd_client_close(f->c);
    assert_int_equal(td_signal(&f->d, SIGTERM), 0);
    assert_int_equal(td_start(&f->d, NULL), 0);
    assert_non_null(f->c = td_connect(&f->d));
    r = td_ok(f->c, "xenfit.reserve_vm", json_pack("[sso]", "t", "s", vm_json()));
    assert_int_equal(json_integer_value(json_object_get(r, "footprint_mib")), 4135);
    json_decref(r);
    /* Both reservations: 2 x 4135 MiB. */
    assert_int_equal(status_int(f->c, "free_for_new_vm_kib", -1), (15232 - 2 * 4135) * 1024);
}

static void test_daemon_restart_keeps_reservations_and_ids(void **state)
{
    struct fx *f = *state;
    char want[200];
    json_t *r;

    char *a = reserve(f->c, "xenopsd", 1000);
    char *b = reserve(f->c, "xenopsd", 3000);
    /* Domain 77 does not exist in the simulator: the transfer is kept (one
     * TTL for the domain to appear) and survives the restart. */
    EXPECT(f->c, 0, "null", "transfer_reservation_to_domain", "[sssi]", "t", "xenopsd", b, 77);
    xfd_client_close(f->c);
    assert_int_equal(td_signal(&f->d, SIGTERM), 0);
    assert_int_equal(td_start(&f->d, NULL), 0);
    assert_non_null(f->c = td_connect(&f->d));
    snprintf(want, sizeof(want), "\"%s\"", b);
    EXPECT(f->c, 0, want, "query_reservation_of_domain", "[ssi]", "t", "x", 77);
    r = td_ok(f->c, "xenfit.list_reservations", json_pack("[s]", "t"));
    assert_int_equal(json_array_size(r), 2);
    json_decref(r);
    assert_int_equal(status_int(f->c, "free_for_new_vm_kib", -1), 15597568 - 4000);
    /* Ids are never reused: the next one is the third. */
    char *c3 = reserve(f->c, "xenopsd", 1);
    assert_string_equal(c3 + 24, "000000000003");
    assert_int_equal(strncmp(c3, a, 24), 0);
    EXPECT(f->c, 0, "null", "delete_reservation", "[sss]", "t", "xenopsd", a);
    free(a);
    free(b);
    free(c3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_daemon_squeezed_reserve_transfer_query_delete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_daemon_squeezed_sizes_and_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_squeezed_host_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_squeezed_login_drops_untransferred, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_daemon_wire_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_native_reserve_vm_places_and_refuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_daemon_native_migration_claims_source_memory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_daemon_native_observe_raises_and_persists, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_daemon_restart_keeps_reservations_and_ids, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
