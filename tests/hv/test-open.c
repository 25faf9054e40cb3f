/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Opening a backend by name (xf_hv_open, lib/hv/hv.c) and the host
 * parameters a backend reports (xf_hv_host_params, xf_host_params_read):
 * unknown and not-built names are refused naming them and the built ones, a
 * spec is required by the simulator and refused by Xen, and the simulator's
 * parameters are its spec's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv-test.h"
#include "xenfit/error.h"
#include "xenfit/host.h"
#include "xenfit/hv.h"

static char *read_host(const char *name, size_t *ret_len)
{
    char path[512];
    char *buf;
    snprintf(path, sizeof(path), "%s/hosts/%s", XF_TEST_DATA, name);
    buf = test_read_file(path, ret_len);
    assert_non_null(buf);
    return buf;
}

static void test_hv_open_refuses_unknown_names_listing_built(void **state)
{
    struct xf_hv_open_error err;
    struct xf_hv *hv = (struct xf_hv *)0x1;
    char want[128];
    (void)state;
    assert_int_equal(xf_hv_open("kvm", NULL, 0, &err, &hv), XF_EINVAL);
    assert_true(err.usage);
    snprintf(want, sizeof(want), "backend 'kvm': unknown (built in: %s)", xf_hv_backends_built());
    assert_string_equal(err.message, want);
    assert_ptr_equal(hv, (struct xf_hv *)0x1); /* untouched */
    assert_int_equal(xf_hv_open(NULL, NULL, 0, NULL, &hv), XF_EINVAL);
#ifdef HAVE_LIBXENCTRL
    assert_string_equal(xf_hv_backends_built(), "xen, sim");
    /* Xen reads the host it runs on: a spec is a mistake, said before any hypercall. */
    assert_int_equal(xf_hv_open("xen", "{}", 2, &err, &hv), XF_EINVAL);
    assert_true(err.usage);
    assert_non_null(strstr(err.message, "takes no host spec"));
#else
    assert_string_equal(xf_hv_backends_built(), "sim");
    assert_int_equal(xf_hv_open("xen", NULL, 0, &err, &hv), XF_EINVAL);
    assert_true(err.usage);
    assert_non_null(strstr(err.message, "backend 'xen': not built in ("));
    assert_non_null(strstr(err.message, "built in: sim)"));
#endif
    assert_ptr_equal(hv, (struct xf_hv *)0x1);
}

static void test_hv_open_sim_needs_a_valid_spec(void **state)
{
    struct xf_hv_open_error err;
    struct xf_hv *hv = (struct xf_hv *)0x1;
    size_t len;
    char *bad = read_host("bad-syntax.json", &len);
    (void)state;
    assert_int_equal(xf_hv_open("sim", NULL, 0, &err, &hv), XF_EINVAL);
    assert_true(err.usage);
    assert_string_equal(err.message, "backend 'sim' needs a host spec (--host SPEC.json)");
    assert_int_equal(xf_hv_open("sim", bad, len, &err, &hv), XF_EBADSPEC);
    assert_true(err.usage);
    assert_true(err.line > 0);
    assert_true(err.message[0] != '\0');
    assert_ptr_equal(hv, (struct xf_hv *)0x1);
    free(bad);
}

/* dma16-2node: a 16 MiB DMA zone, Xen's low-memory limit not given (64 MiB). */
static void test_hv_open_sim_host_params_from_spec(void **state)
{
    struct xf_hv_host_params hp;
    struct xf_host_params p;
    struct xf_hv *hv = NULL;
    size_t len;
    char *spec = read_host("dma16-2node.json", &len);
    (void)state;
    assert_int_equal(xf_hv_open("sim", spec, len, NULL, &hv), 0);
    assert_int_equal(xf_hv_host_params(hv, &hp), 0);
    assert_string_equal(hp.name, "dma16-2node");
    assert_int_equal(hp.low_mem_virq_limit_pages, 64 * 256);
    assert_false(hp.low_mem_virq_assumed);
    assert_int_equal(hp.dma_zone_pages, 16 * 256);
    assert_int_equal(xf_host_params_read(hv, &p), 0);
    assert_int_equal(p.low_mem_reserve_pages, 64 * 256);
    assert_int_equal(p.dma_zone_pages, 16 * 256);
    assert_int_equal(xf_hv_host_params(hv, NULL), XF_EINVAL);
    xf_hv_free(hv);
    free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hv_open_refuses_unknown_names_listing_built),
        cmocka_unit_test(test_hv_open_sim_needs_a_valid_spec),
        cmocka_unit_test(test_hv_open_sim_host_params_from_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
