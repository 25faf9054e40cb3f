/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The memory model of a Xen domain: how much host memory a VM needs to start
 * and how the toolstack sizes its build, exactly as xen-api computes it after
 * pull request 6869 (ocaml/xapi-idl/memory/memory.ml, Memory_model.full_config;
 * sizes converted as ocaml/xapi/memory_check.ml, vm_compute_required_memory).
 * The only extension is that the per-vCPU and per-domain pages beyond the
 * paging pool are parameters (struct xf_overhead_coeffs) so that a calibrated
 * model can replace xen-api's fixed 38 pages per vCPU.
 */
#ifndef XENFIT_MODEL_H
#define XENFIT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

enum xf_domain_type {
    XF_DOMAIN_HVM,
    XF_DOMAIN_PVH,
    XF_DOMAIN_PV,
    XF_DOMAIN_PV_IN_PVH,
};

/* Limits of the inputs the model accepts (every result then fits in 64 bits). */
#define XF_VCPUS_MAX           4096u
#define XF_MEMORY_MAX_BYTES    (UINT64_C(16) << 40) /* 16 TiB */
#define XF_SHADOW_MULT_MIN     1.0                  /* xapi refuses lower */
#define XF_SHADOW_MULT_MAX     1000.0
#define XF_SHADOW_MULT_DEFAULT 1.0

/* The extra pages per vCPU beyond the paging pool's 256 that xen-api counts
 * since PR 6869 (CA-423172): 294 measured - 256 in the shadow pool. */
#define XF_XAPI_EXTRA_PER_VCPU_PAGES 38u

/* A VM's memory configuration, as xapi has it. */
struct xf_vm_memory {
    enum xf_domain_type type;
    uint64_t static_max_bytes;
    uint64_t target_bytes; /* the memory the VM starts with (dynamic_min by default) */
    uint64_t video_mib;
    uint32_t vcpus;
    double shadow_multiplier; /* ignored (1.0) for pv */
};

/*
 * Host pages a domain needs beyond its own pages and its paging pool:
 * fixed_pages per domain plus per_vcpu_pages per vCPU. xen-api's numbers
 * (fixed 0, 38 per vCPU) are the default; calibration learns others.
 */
struct xf_overhead_coeffs {
    uint64_t fixed_pages;
    uint64_t per_vcpu_pages;
};

extern const struct xf_overhead_coeffs xf_xapi_coeffs;

/* The numbers a toolstack derives for one build (all from the same inputs). */
struct xf_memory_config {
    uint64_t build_max_mib;
    uint64_t build_start_mib;
    uint64_t xen_max_mib;
    uint64_t shadow_mib;
    uint64_t required_host_free_mib; /* the footprint: target + overhead */
    uint64_t overhead_mib;
    uint64_t build_claim_pages;
};

/* "hvm", "pvh", "pv", "pv_in_pvh"; NULL for an unknown type. */
const char *xf_domain_type_name(enum xf_domain_type type);

/* Parses a domain type name. Returns 0 or XF_EBADTYPE. */
int xf_domain_type_parse(const char *name, enum xf_domain_type *ret_type);

/*
 * Checks a VM memory configuration: a known type, 1..XF_VCPUS_MAX vCPUs,
 * 0 < target <= static_max <= XF_MEMORY_MAX_BYTES, video below the target
 * (in MiB), a finite multiplier in [XF_SHADOW_MULT_MIN, XF_SHADOW_MULT_MAX]
 * (not checked for pv). Returns 0 or XF_EBADTYPE, XF_EBADVCPUS, XF_EBADSIZE,
 * XF_ETARGETMAX, XF_EBADVIDEO, XF_EBADMULT.
 */
int xf_vm_memory_check(const struct xf_vm_memory *vm);

/*
 * Computes the memory configuration of a VM. `coeffs` NULL means xen-api's
 * (xf_xapi_coeffs). Returns 0 and writes *ret, or a code of
 * xf_vm_memory_check(), or XF_EOVERFLOW for coefficients so large that a
 * result would not fit in 64 bits.
 */
int xf_vm_footprint(const struct xf_vm_memory *vm, const struct xf_overhead_coeffs *coeffs,
                    struct xf_memory_config *ret);

/*
 * The VM as xenopsd reserves and builds it: a type other than HVM gets shadow
 * multiplier 1.0 (xenops_server_xen.ml, VM.create_exn "| _ -> 1." for
 * squeezed's reservation, VM.build_domain_exn "shadow_multiplier= 1." for
 * PVH and pv_in_pvh, at xen-api 1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7).
 * xapi's own admission (memory_check.ml, vm_compute_required_memory) still
 * uses the VM's multiplier for hvm, pvh and pv_in_pvh: xf_vm_footprint()
 * models memory.ml, which takes whatever multiplier it is given.
 */
struct xf_vm_memory xf_vm_as_xenopsd_builds(const struct xf_vm_memory *vm);

/*
 * The claim for an incoming migration or a resume: exactly the memory the
 * domain had on the source (xenopsd, domain.ml: pages_of_kib_used of
 * memory_total_source). Returns 0, or XF_EBADSIZE for 0 or more than
 * XF_MEMORY_MAX_BYTES.
 */
int xf_migration_claim_pages(uint64_t memory_total_source_kib, uint64_t *ret_pages);

/* The shim size of a pv_in_pvh domain of `mib` MiB (23 + mib/90; 0 otherwise). */
uint64_t xf_shim_mib(enum xf_domain_type type, uint64_t mib);

#endif
