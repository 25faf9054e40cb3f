/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The xen-api memory model (see include/xenfit/model.h). Every formula here
 * is written from ocaml/xapi-idl/memory/memory.ml (Memory_model and its
 * MEMORY_MODEL_DATA modules) and checked against hand-worked tables in
 * tests/unit/test-model.c.
 */
#include <math.h>
#include <string.h>

#include "xenfit/error.h"
#include "xenfit/model.h"
#include "xenfit/units.h"

const struct xf_overhead_coeffs xf_xapi_coeffs = {
    .fixed_pages = 0,
    .per_vcpu_pages = XF_XAPI_EXTRA_PER_VCPU_PAGES,
};

/* Per-type data: memory.ml HVM_memory_model_data (hvm, pvh),
 * Linux_memory_model_data (pv), PVinPVH_memory_model_data. */
struct type_data {
    const char *name;
    uint64_t extra_internal_mib;
    uint64_t extra_external_mib;
    bool has_shim;
    bool uses_multiplier;
};

static const struct type_data type_data[] = {
    [XF_DOMAIN_HVM] = {"hvm", 1, 1, false, true},
    [XF_DOMAIN_PVH] = {"pvh", 1, 1, false, true},
    [XF_DOMAIN_PV] = {"pv", 0, 1, false, false},
    [XF_DOMAIN_PV_IN_PVH] = {"pv_in_pvh", 1, 1, true, true},
};

#define N_TYPES (sizeof(type_data) / sizeof(type_data[0]))

const char *xf_domain_type_name(enum xf_domain_type type)
{
    if ((unsigned)type >= N_TYPES)
        return NULL;
    return type_data[type].name;
}

int xf_domain_type_parse(const char *name, enum xf_domain_type *ret_type)
{
    for (unsigned i = 0; name && i < N_TYPES; i++) {
        if (strcmp(name, type_data[i].name) == 0) {
            *ret_type = (enum xf_domain_type)i;
            return 0;
        }
    }
    return XF_EBADTYPE;
}

uint64_t xf_shim_mib(enum xf_domain_type type, uint64_t mib)
{
    /* memory.ml PVinPVH_memory_model_data.shim_mib: 23 + static_max_mib / 90. */
    if ((unsigned)type >= N_TYPES || !type_data[type].has_shim)
        return 0;
    return 23 + mib / 90;
}

int xf_vm_memory_check(const struct xf_vm_memory *vm)
{
    if ((unsigned)vm->type >= N_TYPES)
        return XF_EBADTYPE;
    if (vm->vcpus < 1 || vm->vcpus > XF_VCPUS_MAX)
        return XF_EBADVCPUS;
    if (vm->static_max_bytes == 0 || vm->static_max_bytes > XF_MEMORY_MAX_BYTES ||
        vm->target_bytes == 0)
        return XF_EBADSIZE;
    if (vm->target_bytes > vm->static_max_bytes)
        return XF_ETARGETMAX;
    if (vm->video_mib >= xf_mib_of_bytes_used(vm->target_bytes))
        return XF_EBADVIDEO;
    if (type_data[vm->type].uses_multiplier &&
        !(isfinite(vm->shadow_multiplier) && vm->shadow_multiplier >= XF_SHADOW_MULT_MIN &&
          vm->shadow_multiplier <= XF_SHADOW_MULT_MAX))
        return XF_EBADMULT;
    return 0;
}

/*
 * memory.ml shadow_mib: one MiB per vCPU, plus one page of p2m and one page
 * of shadow per MiB of static max, rounded up to MiB; then scaled by the
 * multiplier in floating point and truncated (Int64.of_float), at least 1.
 * The double product is the same IEEE operation OCaml performs, so the
 * truncation matches bit for bit. Bounded inputs keep it far below 2^53.
 */
static uint64_t shadow_mib(uint64_t static_max_mib, uint32_t vcpus, double multiplier)
{
    uint64_t pages = 256 * (uint64_t)vcpus + static_max_mib + static_max_mib;
    uint64_t total_mib = xf_mib_of_pages_used(pages);
    uint64_t scaled = (uint64_t)((double)total_mib * multiplier);

    return scaled > 1 ? scaled : 1;
}

int xf_vm_footprint(const struct xf_vm_memory *vm, const struct xf_overhead_coeffs *coeffs,
                    struct xf_memory_config *ret)
{
    const struct type_data *d;
    struct xf_memory_config c;
    uint64_t static_max_mib, target_mib, extra_pages, extra_mib;
    double multiplier;
    int r;

    r = xf_vm_memory_check(vm);
    if (r < 0)
        return r;
    if (!coeffs)
        coeffs = &xf_xapi_coeffs;
    d = &type_data[vm->type];

    /* memory_check.ml: static max from bytes, target via KiB, both rounded up. */
    static_max_mib = xf_mib_of_bytes_used(vm->static_max_bytes);
    target_mib = xf_mib_of_kib_used(xf_kib_of_bytes_used(vm->target_bytes));
    multiplier = d->uses_multiplier ? vm->shadow_multiplier : XF_SHADOW_MULT_DEFAULT;

    /* The calibrated term; xen-api: mib_of_pages_used (38 * vcpus). */
    r = xf_mul_u64(coeffs->per_vcpu_pages, vm->vcpus, &extra_pages);
    if (r == 0)
        r = xf_add_u64(extra_pages, coeffs->fixed_pages, &extra_pages);
    if (r < 0)
        return r;
    extra_mib = xf_mib_of_pages_used(extra_pages);

    c.build_max_mib = static_max_mib - vm->video_mib + xf_shim_mib(vm->type, static_max_mib);
    /* All types can start ballooned down (can_start_ballooned_down = true). */
    c.build_start_mib = target_mib - vm->video_mib + xf_shim_mib(vm->type, target_mib);
    c.xen_max_mib = static_max_mib + d->extra_internal_mib + xf_shim_mib(vm->type, static_max_mib);
    c.shadow_mib = shadow_mib(static_max_mib, vm->vcpus, multiplier);
    c.overhead_mib = d->extra_internal_mib + d->extra_external_mib + c.shadow_mib +
                     xf_shim_mib(vm->type, static_max_mib);
    r = xf_add_u64(c.overhead_mib, extra_mib, &c.overhead_mib);
    if (r == 0)
        r = xf_add_u64(target_mib, c.overhead_mib, &c.required_host_free_mib);
    if (r < 0)
        return r;
    c.build_claim_pages = xf_pages_of_mib(c.build_start_mib);

    *ret = c;
    return 0;
}

struct xf_vm_memory xf_vm_as_xenopsd_builds(const struct xf_vm_memory *vm)
{
    struct xf_vm_memory b = *vm;
    if (b.type != XF_DOMAIN_HVM)
        b.shadow_multiplier = XF_SHADOW_MULT_DEFAULT;
    return b;
}

int xf_migration_claim_pages(uint64_t memory_total_source_kib, uint64_t *ret_pages)
{
    if (memory_total_source_kib == 0 ||
        memory_total_source_kib > XF_MEMORY_MAX_BYTES / XF_BYTES_PER_KIB)
        return XF_EBADSIZE;
    *ret_pages = xf_pages_of_kib_used(memory_total_source_kib);
    return 0;
}
