/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The xen-api memory model (lib/core/model.c). Expected values are worked out by
 * hand from ocaml/xapi-idl/memory/memory.ml in the comments; property tests
 * then check the model over many generated inputs against a second,
 * deliberately naive transcription in 128-bit arithmetic.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "xenfit/error.h"
#include "xenfit/model.h"
#include "xenfit/units.h"

#define MIB(x) ((uint64_t)(x)*1048576u)

struct model_case {
    const char *what;
    struct xf_vm_memory vm;
    struct xf_overhead_coeffs coeffs;
    struct xf_memory_config want;
};

/* clang-format off */
static const struct model_case cases[] = {
    /* shadow pages = 256*4 + 2*4096 = 9216 -> 36 MiB; extra = ceil(38*4/256) = 1;
     * overhead = 1 + 1 + 36 + 1 = 39; footprint = 4096 + 39 = 4135;
     * xen_max = 4096 + 1; claim = 4096 * 256 = 1048576. */
    {"hvm 4 GiB 4 vCPUs", {XF_DOMAIN_HVM, MIB(4096), MIB(4096), 0, 4, 1.0}, {0, 38},
     {4096, 4096, 4097, 36, 4135, 39, 1048576}},
    /* pvh shares the hvm model: same numbers. */
    {"pvh 4 GiB 4 vCPUs", {XF_DOMAIN_PVH, MIB(4096), MIB(4096), 0, 4, 1.0}, {0, 38},
     {4096, 4096, 4097, 36, 4135, 39, 1048576}},
    /* pv: multiplier 3.0 is ignored (1.0); shadow pages = 512 + 2048 = 2560 -> 10;
     * extra = ceil(76/256) = 1; overhead = 0 + 1 + 10 + 1 = 12; footprint = 512 + 12;
     * build_start = target 512; xen_max = 1024 + 0; claim = 512 * 256 = 131072. */
    {"pv ballooned, multiplier ignored", {XF_DOMAIN_PV, MIB(1024), MIB(512), 0, 2, 3.0}, {0, 38},
     {1024, 512, 1024, 10, 524, 12, 131072}},
    /* pv_in_pvh: shim(1000) = 23 + 1000/90 = 23 + 11 = 34; build_max = build_start =
     * 1000 + 34 = 1034; xen_max = 1000 + 1 + 34 = 1035; shadow pages = 512 + 2000 =
     * 2512 -> 10 MiB, * 1.5 = 15; overhead = 1 + 1 + 15 + 1 + 34 = 52; footprint 1052;
     * claim = 1034 * 256 = 264704. */
    {"pv_in_pvh shim and multiplier", {XF_DOMAIN_PV_IN_PVH, MIB(1000), MIB(1000), 0, 2, 1.5},
     {0, 38}, {1034, 1034, 1035, 15, 1052, 52, 264704}},
    /* Shim division edges: shim(180) = 23 + 2 = 25, shim(90) = 23 + 1 = 24.
     * build_max = 180 + 25 = 205; build_start = 90 + 24 = 114; xen_max = 180 + 1 + 25;
     * shadow pages = 256 + 360 = 616 -> 3 MiB; overhead = 1 + 1 + 3 + 1 + 25 = 31;
     * footprint = 90 + 31 = 121; claim = 114 * 256 = 29184. */
    {"pv_in_pvh shim edges", {XF_DOMAIN_PV_IN_PVH, MIB(180), MIB(90), 0, 1, 1.0}, {0, 38},
     {205, 114, 206, 3, 121, 31, 29184}},
    /* shim(89) = 23 + 0 = 23: build_max 112, build_start 112, xen_max 113;
     * shadow = ceil((256 + 178)/256) = 2; overhead = 1 + 1 + 2 + 1 + 23 = 28. */
    {"pv_in_pvh shim below 90", {XF_DOMAIN_PV_IN_PVH, MIB(89), MIB(89), 0, 1, 1.0}, {0, 38},
     {112, 112, 113, 2, 117, 28, 28672}},
    /* One byte over a MiB counts as 2 MiB: static max = target = 2 MiB;
     * shadow pages = 256 + 4 = 260 -> 2 MiB; overhead = 1 + 1 + 2 + 1 = 5; footprint 7;
     * build_start 2 -> claim 512. */
    {"1 byte over a MiB", {XF_DOMAIN_HVM, MIB(1) + 1, MIB(1) + 1, 0, 1, 1.0}, {0, 38},
     {2, 2, 3, 2, 7, 5, 512}},
    /* Multiplier truncation: shadow pages = 256 + 2048 = 2304 -> 9 MiB; 9 * 1.99 =
     * 17.91 -> 17; overhead = 1 + 1 + 17 + 1 = 20; footprint = 1024 + 20 = 1044. */
    {"multiplier truncates", {XF_DOMAIN_HVM, MIB(1024), MIB(1024), 0, 1, 1.99}, {0, 38},
     {1024, 1024, 1025, 17, 1044, 20, 262144}},
    /* Float as OCaml does it: shadow pages = 512 + 2 * 12544 = 25600 -> 100 MiB, and
     * 100 * 2.3 = 229.99999999999997 in IEEE doubles (Int64.of_float -> 229, where
     * exact decimal arithmetic would say 230). overhead = 1 + 1 + 229 + 1 = 232. */
    {"multiplier in IEEE doubles", {XF_DOMAIN_HVM, MIB(12544), MIB(12544), 0, 2, 2.3}, {0, 38},
     {12544, 12544, 12545, 229, 12776, 232, 3211264}},
    /* Video comes off build max and build start: 2048 - 8, 1024 - 8;
     * shadow pages = 512 + 4096 = 4608 -> 18; overhead = 1 + 1 + 18 + 1 = 21;
     * footprint = 1024 + 21 = 1045; claim = 1016 * 256 = 260096. */
    {"video memory", {XF_DOMAIN_HVM, MIB(2048), MIB(1024), 8, 2, 1.0}, {0, 38},
     {2040, 1016, 2049, 18, 1045, 21, 260096}},
    /* The largest inputs: 16 TiB = 16777216 MiB, 4096 vCPUs, multiplier 1000.
     * shadow pages = 1048576 + 33554432 = 34603008 -> 135168 MiB, * 1000 = 135168000;
     * extra = ceil(38 * 4096 / 256) = 608; overhead = 1 + 1 + 135168000 + 608 =
     * 135168610; footprint = 16777216 + 135168610 = 151945826;
     * claim = 16777216 * 256 = 4294967296. */
    {"largest inputs", {XF_DOMAIN_HVM, MIB(16777216), MIB(16777216), 0, 4096, 1000.0}, {0, 38},
     {16777216, 16777216, 16777217, 135168000, 151945826, 135168610, UINT64_C(4294967296)}},
    /* Before PR 6869 (256 pages per vCPU, all in shadow): extra coefficient 0.
     * hvm 4096/4: overhead = 1 + 1 + 36 + 0 = 38; footprint 4134. */
    {"pre-6869 coefficients", {XF_DOMAIN_HVM, MIB(4096), MIB(4096), 0, 4, 1.0}, {0, 0},
     {4096, 4096, 4097, 36, 4134, 38, 1048576}},
    /* Calibrated: 300 fixed + 100 per vCPU beyond the pool: 300 + 400 = 700 pages ->
     * 3 MiB; overhead = 1 + 1 + 36 + 3 = 41; footprint 4137. */
    {"calibrated coefficients", {XF_DOMAIN_HVM, MIB(4096), MIB(4096), 0, 4, 1.0}, {300, 100},
     {4096, 4096, 4097, 36, 4137, 41, 1048576}},
    /* 7 vCPUs: extra = ceil(266/256) = 2 MiB (the 38-page term crosses a MiB);
     * shadow pages = 1792 + 1024 = 2816 -> 11; overhead = 1 + 1 + 11 + 2 = 15. */
    {"per-vCPU term crosses a MiB", {XF_DOMAIN_HVM, MIB(512), MIB(512), 0, 7, 1.0}, {0, 38},
     {512, 512, 513, 11, 527, 15, 131072}},
    /* Target in KiB rounding: target = 1 MiB - 1 byte -> 1 MiB (via KiB, rounding up);
     * static max 4 MiB; shadow pages = 256 + 8 = 264 -> 2; overhead = 0+1+2+1 = 4 (pv). */
    {"target rounds up", {XF_DOMAIN_PV, MIB(4), MIB(1) - 1, 0, 1, 1.0}, {0, 38},
     {4, 1, 4, 2, 5, 4, 256}},
};
/* clang-format on */

static void test_model_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct model_case *c = &cases[i];
        struct xf_memory_config got;
        int r = xf_vm_footprint(&c->vm, &c->coeffs, &got);
        if (r != 0)
            fail_msg("%s: error %s", c->what, xf_err_name(r));
#define CHECK(field)                                                                               \
    if (got.field != c->want.field)                                                                \
        fail_msg("%s: " #field " = %llu, want %llu", c->what, (unsigned long long)got.field,       \
                 (unsigned long long)c->want.field);
        CHECK(build_max_mib)
        CHECK(build_start_mib)
        CHECK(xen_max_mib)
        CHECK(shadow_mib)
        CHECK(required_host_free_mib)
        CHECK(overhead_mib)
        CHECK(build_claim_pages)
#undef CHECK
    }
}

static void test_model_null_coeffs_are_xapi(void **state)
{
    struct xf_memory_config a, b;
    (void)state;
    assert_int_equal(xf_vm_footprint(&cases[0].vm, NULL, &a), 0);
    assert_int_equal(xf_vm_footprint(&cases[0].vm, &xf_xapi_coeffs, &b), 0);
    assert_int_equal(a.required_host_free_mib, 4135);
    assert_int_equal(b.required_host_free_mib, 4135);
}

static void test_model_rejects_bad_input(void **state)
{
    const struct {
        struct xf_vm_memory vm;
        int want;
    } bad[] = {
        {{XF_DOMAIN_HVM, MIB(1024), MIB(1024), 0, 0, 1.0}, XF_EBADVCPUS},
        {{XF_DOMAIN_HVM, MIB(1024), MIB(1024), 0, 4097, 1.0}, XF_EBADVCPUS},
        {{XF_DOMAIN_HVM, MIB(16777216) + 1, MIB(1024), 0, 1, 1.0}, XF_EBADSIZE},
        {{XF_DOMAIN_HVM, 0, 0, 0, 1, 1.0}, XF_EBADSIZE},
        {{XF_DOMAIN_HVM, MIB(1024), 0, 0, 1, 1.0}, XF_EBADSIZE},
        {{XF_DOMAIN_HVM, MIB(1024), MIB(1024) + 1, 0, 1, 1.0}, XF_ETARGETMAX},
        {{XF_DOMAIN_HVM, MIB(1024), MIB(8), 8, 1, 1.0}, XF_EBADVIDEO},
        {{XF_DOMAIN_HVM, MIB(1024), MIB(1024), 0, 1, 0.5}, XF_EBADMULT},
        {{XF_DOMAIN_HVM, MIB(1024), MIB(1024), 0, 1, NAN}, XF_EBADMULT},
        {{XF_DOMAIN_PVH, MIB(1024), MIB(1024), 0, 1, INFINITY}, XF_EBADMULT},
        {{XF_DOMAIN_PV_IN_PVH, MIB(1024), MIB(1024), 0, 1, 1000.5}, XF_EBADMULT},
        {{(enum xf_domain_type)9, MIB(1024), MIB(1024), 0, 1, 1.0}, XF_EBADTYPE},
    };
    struct xf_memory_config out = {.build_max_mib = 77};
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(xf_vm_footprint(&bad[i].vm, NULL, &out), bad[i].want);
        assert_int_equal(out.build_max_mib, 77); /* untouched */
    }
    /* pv ignores the multiplier entirely, even a NaN. */
    struct xf_vm_memory pv = {XF_DOMAIN_PV, MIB(1024), MIB(1024), 0, 1, NAN};
    assert_int_equal(xf_vm_footprint(&pv, NULL, &out), 0);
    /* Coefficients so large the extra pages overflow. */
    struct xf_overhead_coeffs huge = {0, UINT64_MAX / 2};
    assert_int_equal(xf_vm_footprint(&cases[0].vm, &huge, &out), XF_EOVERFLOW);
}

/* xenopsd reserves and builds every type but HVM with multiplier 1.0
 * (xenops_server_xen.ml VM.create_exn, VM.build_domain_exn, at
 * 1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7); xapi admits with the VM's. */
static void test_model_as_xenopsd_builds(void **state)
{
    struct xf_vm_memory pvh = {XF_DOMAIN_PVH, MIB(4096), MIB(4096), 0, 4, 2.0};
    struct xf_vm_memory pip = {XF_DOMAIN_PV_IN_PVH, MIB(1000), MIB(1000), 0, 2, 1.5};
    struct xf_vm_memory hvm = {XF_DOMAIN_HVM, MIB(4096), MIB(4096), 0, 4, 2.0};
    struct xf_memory_config c;
    (void)state;
    assert_true(xf_vm_as_xenopsd_builds(&pvh).shadow_multiplier == 1.0);
    assert_true(xf_vm_as_xenopsd_builds(&pip).shadow_multiplier == 1.0);
    assert_true(xf_vm_as_xenopsd_builds(&hvm).shadow_multiplier == 2.0);
    /* pvh 4 GiB, 4 vCPUs: 36 MiB of pool at 1.0 (72 at 2.0 is what xapi admits). */
    struct xf_vm_memory b = xf_vm_as_xenopsd_builds(&pvh);
    assert_int_equal(xf_vm_footprint(&b, NULL, &c), 0);
    assert_int_equal(c.shadow_mib, 36);
    assert_int_equal(xf_vm_footprint(&pvh, NULL, &c), 0);
    assert_int_equal(c.shadow_mib, 72);
    /* pv_in_pvh 1000 MiB, 2 vCPUs: 10 MiB at 1.0 (15 at 1.5, the case above). */
    b = xf_vm_as_xenopsd_builds(&pip);
    assert_int_equal(xf_vm_footprint(&b, NULL, &c), 0);
    assert_int_equal(c.shadow_mib, 10);
}

static void test_model_migration_claim(void **state)
{
    uint64_t p = 0;
    (void)state;
    /* 1048577 KiB = 262144.25 pages -> 262145 (pages_of_kib_used). */
    assert_int_equal(xf_migration_claim_pages(1048577, &p), 0);
    assert_int_equal(p, 262145);
    assert_int_equal(xf_migration_claim_pages(4, &p), 0);
    assert_int_equal(p, 1);
    assert_int_equal(xf_migration_claim_pages(0, &p), XF_EBADSIZE);
    assert_int_equal(xf_migration_claim_pages((UINT64_C(16) << 30) + 1, &p), XF_EBADSIZE);
}

static void test_model_type_names(void **state)
{
    enum xf_domain_type t;
    (void)state;
    assert_int_equal(xf_domain_type_parse("pv_in_pvh", &t), 0);
    assert_int_equal(t, XF_DOMAIN_PV_IN_PVH);
    assert_string_equal(xf_domain_type_name(XF_DOMAIN_PVH), "pvh");
    assert_int_equal(xf_domain_type_parse("HVM", &t), XF_EBADTYPE);
    assert_null(xf_domain_type_name((enum xf_domain_type)42));
}

/* --- properties ---------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
    /* xorshift64*: reproducible across runs. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static struct xf_vm_memory random_vm(void)
{
    static const double mults[] = {1.0, 1.5, 2.3, 1.99, 4.0, 1.0000001, 17.25, 1000.0};
    struct xf_vm_memory vm;
    vm.type = (enum xf_domain_type)(rnd() % 4);
    /* A mix of small and huge sizes, in bytes not aligned to MiB. */
    vm.static_max_bytes = 1 + rnd() % (rnd() % 2 ? MIB(65536) : XF_MEMORY_MAX_BYTES);
    vm.target_bytes = 1 + rnd() % vm.static_max_bytes;
    vm.video_mib = 0;
    if (rnd() % 4 == 0 && xf_mib_of_bytes_used(vm.target_bytes) > 16)
        vm.video_mib = rnd() % 16;
    vm.vcpus = (uint32_t)(1 + rnd() % (rnd() % 2 ? 64 : XF_VCPUS_MAX));
    vm.shadow_multiplier = mults[rnd() % 8];
    return vm;
}

__extension__ typedef __int128 i128;

static i128 ceil_div(i128 a, i128 b)
{
    return (a + b - 1) / b;
}

/* A second transcription of memory.ml, straight from its text, in 128 bits. */
static i128 naive_footprint(const struct xf_vm_memory *vm, i128 *ret_start)
{
    i128 smax = ceil_div((i128)vm->static_max_bytes, 1048576);
    i128 target = ceil_div(ceil_div((i128)vm->target_bytes, 1024), 1024);
    int shim = vm->type == XF_DOMAIN_PV_IN_PVH;
    i128 ei = vm->type == XF_DOMAIN_PV ? 0 : 1, ee = 1;
    double m = vm->type == XF_DOMAIN_PV ? 1.0 : vm->shadow_multiplier;
    i128 shadow_total = ceil_div(256 * (i128)vm->vcpus + smax + smax, 256);
    i128 shadow = (i128)(int64_t)((double)(int64_t)shadow_total * m);
    if (shadow < 1)
        shadow = 1;
    i128 overhead =
        ei + ee + shadow + ceil_div(38 * (i128)vm->vcpus, 256) + (shim ? 23 + smax / 90 : 0);
    *ret_start = target - (i128)vm->video_mib + (shim ? 23 + target / 90 : 0);
    return target + overhead;
}

static void test_model_properties(void **state)
{
    (void)state;
    for (int i = 0; i < 200000; i++) {
        struct xf_vm_memory vm = random_vm();
        struct xf_memory_config c, more_vcpus, more_mem, other_mult;
        i128 start;

        assert_int_equal(xf_vm_footprint(&vm, NULL, &c), 0);
        /* Agrees with the naive transcription to the MiB. */
        assert_true((i128)c.required_host_free_mib == naive_footprint(&vm, &start));
        assert_true((i128)c.build_start_mib == start);
        /* The footprint covers the build start; the claim is the build start. */
        assert_true(c.required_host_free_mib >= c.build_start_mib);
        assert_true(c.build_claim_pages == c.build_start_mib * 256);
        assert_true(c.xen_max_mib >= c.build_max_mib);
        assert_true(c.required_host_free_mib ==
                    xf_mib_of_bytes_used(vm.target_bytes) + c.overhead_mib);
        /* Overhead grows with vCPUs and with static max. */
        if (vm.vcpus < XF_VCPUS_MAX) {
            struct xf_vm_memory v2 = vm;
            v2.vcpus++;
            assert_int_equal(xf_vm_footprint(&v2, NULL, &more_vcpus), 0);
            assert_true(more_vcpus.overhead_mib >= c.overhead_mib);
        }
        if (vm.static_max_bytes + MIB(1) <= XF_MEMORY_MAX_BYTES) {
            struct xf_vm_memory v3 = vm;
            v3.static_max_bytes += MIB(1);
            assert_int_equal(xf_vm_footprint(&v3, NULL, &more_mem), 0);
            assert_true(more_mem.overhead_mib >= c.overhead_mib);
        }
        /* pv ignores the multiplier. */
        if (vm.type == XF_DOMAIN_PV) {
            struct xf_vm_memory v4 = vm;
            v4.shadow_multiplier = 7.75;
            assert_int_equal(xf_vm_footprint(&v4, NULL, &other_mult), 0);
            assert_true(other_mult.required_host_free_mib == c.required_host_free_mib);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_table),
        cmocka_unit_test(test_model_null_coeffs_are_xapi),
        cmocka_unit_test(test_model_rejects_bad_input),
        cmocka_unit_test(test_model_migration_claim),
        cmocka_unit_test(test_model_as_xenopsd_builds),
        cmocka_unit_test(test_model_type_names),
        cmocka_unit_test(test_model_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
