/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Memory units and the only conversions between them. A page is 4096 bytes.
 * Conversions to a larger unit come in two flavours, after xen-api's
 * ocaml/xapi-idl/memory/memory.ml: "_used" rounds up (memory something takes)
 * and "_free" rounds down (memory something may have). The rounding-up
 * division is written so that it cannot overflow. Conversions to a smaller
 * unit multiply and can overflow: the checked variants return XF_EOVERFLOW;
 * the plain ones are for values already known to be small (sizes validated
 * against XF_MEMORY_MAX_BYTES).
 */
#ifndef XENFIT_UNITS_H
#define XENFIT_UNITS_H

#include <stdbool.h>
#include <stdint.h>

#include "xenfit/error.h"

#define XF_PAGE_SHIFT     12
#define XF_BYTES_PER_PAGE UINT64_C(4096)
#define XF_BYTES_PER_KIB  UINT64_C(1024)
#define XF_BYTES_PER_MIB  UINT64_C(1048576)
#define XF_KIB_PER_PAGE   UINT64_C(4)
#define XF_KIB_PER_MIB    UINT64_C(1024)
#define XF_PAGES_PER_MIB  UINT64_C(256)

static inline uint64_t xf__div_up(uint64_t n, uint64_t d)
{
    return n / d + (n % d != 0);
}

/* Larger units, rounding down ("free"). */
static inline uint64_t xf_kib_of_bytes_free(uint64_t b)
{
    return b / XF_BYTES_PER_KIB;
}
static inline uint64_t xf_pages_of_bytes_free(uint64_t b)
{
    return b / XF_BYTES_PER_PAGE;
}
static inline uint64_t xf_mib_of_bytes_free(uint64_t b)
{
    return b / XF_BYTES_PER_MIB;
}
static inline uint64_t xf_pages_of_kib_free(uint64_t k)
{
    return k / XF_KIB_PER_PAGE;
}
static inline uint64_t xf_mib_of_kib_free(uint64_t k)
{
    return k / XF_KIB_PER_MIB;
}
static inline uint64_t xf_mib_of_pages_free(uint64_t p)
{
    return p / XF_PAGES_PER_MIB;
}

/* Larger units, rounding up ("used"). */
static inline uint64_t xf_kib_of_bytes_used(uint64_t b)
{
    return xf__div_up(b, XF_BYTES_PER_KIB);
}
static inline uint64_t xf_pages_of_bytes_used(uint64_t b)
{
    return xf__div_up(b, XF_BYTES_PER_PAGE);
}
static inline uint64_t xf_mib_of_bytes_used(uint64_t b)
{
    return xf__div_up(b, XF_BYTES_PER_MIB);
}
static inline uint64_t xf_pages_of_kib_used(uint64_t k)
{
    return xf__div_up(k, XF_KIB_PER_PAGE);
}
static inline uint64_t xf_mib_of_kib_used(uint64_t k)
{
    return xf__div_up(k, XF_KIB_PER_MIB);
}
static inline uint64_t xf_mib_of_pages_used(uint64_t p)
{
    return xf__div_up(p, XF_PAGES_PER_MIB);
}

/* Smaller units: exact, may overflow. Unchecked: the caller knows it fits. */
static inline uint64_t xf_pages_of_mib(uint64_t m)
{
    return m * XF_PAGES_PER_MIB;
}
static inline uint64_t xf_kib_of_mib(uint64_t m)
{
    return m * XF_KIB_PER_MIB;
}
static inline uint64_t xf_kib_of_pages(uint64_t p)
{
    return p * XF_KIB_PER_PAGE;
}
static inline uint64_t xf_bytes_of_pages(uint64_t p)
{
    return p * XF_BYTES_PER_PAGE;
}
static inline uint64_t xf_bytes_of_kib(uint64_t k)
{
    return k * XF_BYTES_PER_KIB;
}
static inline uint64_t xf_bytes_of_mib(uint64_t m)
{
    return m * XF_BYTES_PER_MIB;
}

/* Checked multiplication and addition: XF_EOVERFLOW instead of wrapping. */
static inline int xf_mul_u64(uint64_t a, uint64_t b, uint64_t *ret)
{
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return XF_EOVERFLOW;
    *ret = r;
    return 0;
}
static inline int xf_add_u64(uint64_t a, uint64_t b, uint64_t *ret)
{
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return XF_EOVERFLOW;
    *ret = r;
    return 0;
}

/*
 * Parses a size: a decimal integer with an optional binary unit, B, K/KiB,
 * M/MiB, G/GiB, T/TiB (case-insensitive; "KB", "MB", ... are accepted as the
 * same binary units). A bare number is in `default_unit_bytes` (1 MiB for xl
 * configs). Returns 0 and the size in bytes, XF_EPARSE for anything else
 * (sign, fraction, empty, junk) or XF_EOVERFLOW if it does not fit in 64 bits.
 */
int xf_parse_size_bytes(const char *s, uint64_t default_unit_bytes, uint64_t *ret_bytes);

/* Parses a plain non-negative decimal integer (no sign, no junk). */
int xf_parse_u64(const char *s, uint64_t *ret);

#endif
