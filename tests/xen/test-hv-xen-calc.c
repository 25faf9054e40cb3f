/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The real-Xen backend's arithmetic (lib/hv/xen/xen-calc.c), on any machine:
 * Xen's DMA width as the backend works it out, and the record of populated
 * extents that decrease gives back from. Numbers are worked out by hand in
 * the comments; the width rule is x86's arch_get_dma_bitsize() and the
 * dma_bits= option (xen/arch/x86/numa.c, xen/common/page_alloc.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fail-alloc.h"
#include "hv/xen/xen-calc.h"
#include "xenfit/alloc.h"
#include "xenfit/error.h"

static uint32_t bits(const char *cmdline, uint32_t nodes, uint64_t node0_pages)
{
    uint32_t b = 99;
    assert_int_equal(xf__xen_dma_bits(cmdline, nodes, node0_pages, &b), 0);
    return b;
}

static void test_hv_xen_dma_width_from_node0(void **state)
{
    (void)state;
    /* The test bed: node 0 spans 2 GiB = 524288 pages; 524288 / 4 - 1 =
     * 131071 < 2^17, flsl = 17; 17 + 12 = 29 bits (Xen printed 29). */
    assert_int_equal(bits(NULL, 2, 524288), 29);
    /* 1 GiB: 65535, flsl 16 -> 28. 4 GiB: 262143 -> 18 + 12 = 30. */
    assert_int_equal(bits("", 2, 262144), 28);
    assert_int_equal(bits("", 4, 1048576), 30);
    /* 64 GiB = 16777216 pages: 4194303, flsl 22 -> 34, capped at 32. */
    assert_int_equal(bits("", 2, 16777216), 32);
    /* One node: x86 wants no default DMA zone (arch_want_default_dmazone). */
    assert_int_equal(bits("", 1, 524288), 0);
}

static void test_hv_xen_dma_width_option(void **state)
{
    uint32_t b = 99;
    (void)state;
    assert_int_equal(bits("console=com1 dma_bits=30 loglvl=all", 2, 524288), 30);
    assert_int_equal(bits("dma_bits=0x1f", 2, 524288), 31); /* simple_strtoul */
    assert_int_equal(bits("dma_bits=27", 1, 524288), 27);   /* even on one node */
    /* Not the option, or malformed: the computed width. */
    assert_int_equal(bits("xdma_bits=30", 2, 524288), 29);
    assert_int_equal(bits("dma_bits=30x", 2, 524288), 29);
    assert_int_equal(bits("dma_bits=99", 2, 524288), 29);
    /* Several nodes and node 0 without memory: cannot tell. */
    assert_int_equal(xf__xen_dma_bits("", 2, 0, &b), XF_ENODATA);
    assert_int_equal(b, 99);
}

static void test_hv_xen_record_takes_newest_first(void **state)
{
    struct xf_xen_dom d = {.domid = 7};
    uint64_t f[8];
    (void)state;

    assert_int_equal(xf__xen_dom_reserve(&d, 3), 0);
    assert_int_equal(d.cap_extents, 64);
    xf__xen_dom_record(&d, 1000, 9); /* frames 1000..1511 */
    xf__xen_dom_record(&d, 5000, 0); /* 5000 */
    xf__xen_dom_record(&d, 6000, 1); /* 6000, 6001 */
    assert_int_equal(xf__xen_dom_pages(&d), 512 + 1 + 2);

    /* Newest first, from each extent's last page down; a look changes nothing. */
    xf__xen_dom_take(&d, 4, f, false);
    assert_int_equal(f[0], 6001);
    assert_int_equal(f[1], 6000);
    assert_int_equal(f[2], 5000);
    assert_int_equal(f[3], 1511);
    assert_int_equal(xf__xen_dom_pages(&d), 515);

    /* Giving back 3 drops the two small extents whole. */
    xf__xen_dom_take(&d, 3, NULL, true);
    assert_int_equal(d.n_extents, 1);
    assert_int_equal(d.last_given, 0);
    assert_int_equal(xf__xen_dom_pages(&d), 512);
    /* Then 2 pages of the big one: 1511, 1510; 510 left, next is 1509. */
    xf__xen_dom_take(&d, 2, f, true);
    assert_int_equal(f[0], 1511);
    assert_int_equal(f[1], 1510);
    assert_int_equal(d.last_given, 2);
    assert_int_equal(xf__xen_dom_pages(&d), 510);
    xf__xen_dom_take(&d, 1, f, false);
    assert_int_equal(f[0], 1509);
    /* All of it: the record is empty. */
    xf__xen_dom_take(&d, 510, NULL, true);
    assert_int_equal(xf__xen_dom_pages(&d), 0);
    assert_int_equal(d.n_extents, 0);
    assert_int_equal(d.last_given, 0);
    xf__xen_dom_clear(&d);
    assert_null(d.extents);
}

static void test_hv_xen_record_grows(void **state)
{
    struct xf_xen_dom d = {.domid = 1};
    (void)state;

    for (uint64_t i = 0; i < 200; i++) {
        assert_int_equal(xf__xen_dom_reserve(&d, 1), 0);
        xf__xen_dom_record(&d, 10 * i, 0);
    }
    /* 64 -> 128 -> 256 */
    assert_int_equal(d.cap_extents, 256);
    assert_int_equal(xf__xen_dom_pages(&d), 200);
    assert_int_equal(xf__xen_dom_reserve(&d, UINT32_MAX), XF_ENOMEM);
    assert_int_equal(d.cap_extents, 256);
    xf__xen_dom_clear(&d);
}

/* An allocation failure leaves the record as it was. */
static void test_hv_xen_record_reserve_enomem(void **state)
{
    struct xf_xen_dom d = {.domid = 1};
    (void)state;

    fail_at = 0;
    alloc_count = 0;
    assert_int_equal(fail_alloc_install(), 0);
    assert_int_equal(xf__xen_dom_reserve(&d, 1), XF_ENOMEM);
    xf_reset_allocator();
    assert_int_equal(alloc_count, 1);
    assert_null(d.extents);
    assert_int_equal(d.cap_extents, 0);
    assert_int_equal(xf__xen_dom_reserve(&d, 1), 0);
    xf__xen_dom_clear(&d);
}

/* "Disallow XENMEM_claim_pages on dying domains" is in 4.19.5, 4.20.3, 4.21.1 and
 * 4.22.0: older versions accept such a claim (4.17.7 measured in the tier). */
static void test_hv_xen_claim_dying_ok_by_version(void **state)
{
#define V(a, b) (((uint32_t)(a) << 16) | (b))
    (void)state;
    assert_true(xf__xen_claim_dying_ok(V(4, 17), ".7"));
    assert_true(xf__xen_claim_dying_ok(V(4, 19), ".4"));
    assert_false(xf__xen_claim_dying_ok(V(4, 19), ".5"));
    assert_false(xf__xen_claim_dying_ok(V(4, 19), ".6-pre"));
    assert_true(xf__xen_claim_dying_ok(V(4, 20), ".2"));
    assert_false(xf__xen_claim_dying_ok(V(4, 20), ".3"));
    assert_true(xf__xen_claim_dying_ok(V(4, 21), "-unstable"));
    assert_false(xf__xen_claim_dying_ok(V(4, 21), ".1"));
    assert_false(xf__xen_claim_dying_ok(V(4, 22), ".0"));
    assert_false(xf__xen_claim_dying_ok(V(5, 0), NULL));
#undef V
}

/* low_mem_virq_limit= as Xen's parse_size_and_unit reads it: KiB without a
 * unit, T/G/M/K/B either case, base 0; absent or malformed: not given. */
static void test_hv_xen_low_mem_virq_limit_option(void **state)
{
    uint64_t pages = 7;
    (void)state;
    assert_false(xf__xen_low_mem_virq_limit(NULL, &pages));
    assert_false(xf__xen_low_mem_virq_limit("console=com1 dom0_mem=2G", &pages));
    assert_false(xf__xen_low_mem_virq_limit("low_mem_virq_limit=lots", &pages));
    assert_false(xf__xen_low_mem_virq_limit("xlow_mem_virq_limit=32M", &pages));
    assert_int_equal(pages, 7); /* untouched */
    assert_true(xf__xen_low_mem_virq_limit("console=com1 low_mem_virq_limit=32M", &pages));
    assert_int_equal(pages, 8192);
    assert_true(xf__xen_low_mem_virq_limit("low_mem_virq_limit=65536", &pages)); /* KiB */
    assert_int_equal(pages, 16384);
    assert_true(xf__xen_low_mem_virq_limit("low_mem_virq_limit=1g loglvl=all", &pages));
    assert_int_equal(pages, 262144);
    assert_true(xf__xen_low_mem_virq_limit("low_mem_virq_limit=33554432B", &pages)); /* bytes */
    assert_int_equal(pages, 8192);
    /* Base 0: a hex number eats a 'b' as a digit, so 0x800b is KiB. */
    assert_true(xf__xen_low_mem_virq_limit("low_mem_virq_limit=0x800b", &pages));
    assert_int_equal(pages, 0x800b / 4);
    assert_true(xf__xen_low_mem_virq_limit("low_mem_virq_limit=0", &pages)); /* disabled */
    assert_int_equal(pages, 0);
    assert_true(xf__xen_low_mem_virq_limit("low_mem_virq_limit=8M low_mem_virq_limit=16M", &pages));
    assert_int_equal(pages, 4096); /* the last one wins */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hv_xen_dma_width_from_node0),
        cmocka_unit_test(test_hv_xen_claim_dying_ok_by_version),
        cmocka_unit_test(test_hv_xen_dma_width_option),
        cmocka_unit_test(test_hv_xen_low_mem_virq_limit_option),
        cmocka_unit_test(test_hv_xen_record_takes_newest_first),
        cmocka_unit_test(test_hv_xen_record_grows),
        cmocka_unit_test(test_hv_xen_record_reserve_enomem),
    };
    return cmocka_run_group_tests_name("hv-xen-calc", tests, NULL, NULL);
}
