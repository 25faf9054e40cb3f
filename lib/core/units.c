/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Parsing of sizes and integers as written by people and in xl configs. The
 * conversions themselves are inline in include/xenfit/units.h.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "xenfit/units.h"

int xf_parse_u64(const char *s, uint64_t *ret)
{
    uint64_t v = 0;

    if (!s || !isdigit((unsigned char)*s))
        return XF_EPARSE;
    for (; isdigit((unsigned char)*s); s++) {
        if (xf_mul_u64(v, 10, &v) < 0 || xf_add_u64(v, (uint64_t)(*s - '0'), &v) < 0)
            return XF_EOVERFLOW;
    }
    if (*s != '\0')
        return XF_EPARSE;
    *ret = v;
    return 0;
}

static const struct {
    const char *suffix;
    uint64_t bytes;
} size_units[] = {
    {"B", 1},
    {"K", UINT64_C(1) << 10},
    {"KB", UINT64_C(1) << 10},
    {"KIB", UINT64_C(1) << 10},
    {"M", UINT64_C(1) << 20},
    {"MB", UINT64_C(1) << 20},
    {"MIB", UINT64_C(1) << 20},
    {"G", UINT64_C(1) << 30},
    {"GB", UINT64_C(1) << 30},
    {"GIB", UINT64_C(1) << 30},
    {"T", UINT64_C(1) << 40},
    {"TB", UINT64_C(1) << 40},
    {"TIB", UINT64_C(1) << 40},
};

int xf_parse_size_bytes(const char *s, uint64_t default_unit_bytes, uint64_t *ret_bytes)
{
    char digits[32];
    const char *unit;
    uint64_t n, scale = default_unit_bytes;
    size_t len;
    int r;

    if (!s)
        return XF_EPARSE;
    for (unit = s; isdigit((unsigned char)*unit); unit++)
        ;
    len = (size_t)(unit - s);
    if (len == 0 || len >= sizeof(digits))
        return len == 0 ? XF_EPARSE : XF_EOVERFLOW;
    memcpy(digits, s, len);
    digits[len] = '\0';
    r = xf_parse_u64(digits, &n);
    if (r < 0)
        return r;
    if (*unit != '\0') {
        size_t i;
        for (i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++)
            if (strcasecmp(unit, size_units[i].suffix) == 0)
                break;
        if (i == sizeof(size_units) / sizeof(size_units[0]))
            return XF_EPARSE;
        scale = size_units[i].bytes;
    }
    return xf_mul_u64(n, scale, ret_bytes);
}
