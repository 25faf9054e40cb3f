/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The real-Xen backend's arithmetic (xen-calc.h): no libxenctrl here.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "xen-calc.h"
#include "xenfit/error.h"

#define PAGE_SHIFT 12u

/* Position of the highest bit set, 1-based (Xen's flsl); 0 for 0. */
static uint32_t flsl64(uint64_t v)
{
    return v ? 64u - (uint32_t)__builtin_clzll(v) : 0;
}

/* The value of Xen's dma_bits= option, 0 if absent or malformed. Xen reads
 * it with simple_strtoul (so 0x.. works too) from a space-separated list. */
static uint32_t option_dma_bits(const char *cmdline)
{
    static const char opt[] = "dma_bits=";

    for (const char *p = cmdline ? strstr(cmdline, opt) : NULL; p; p = strstr(p + 1, opt)) {
        if (p == cmdline || p[-1] == ' ') {
            char *end;
            unsigned long v = strtoul(p + sizeof(opt) - 1, &end, 0);
            return (*end == '\0' || *end == ' ') && v <= 64 ? (uint32_t)v : 0;
        }
    }
    return 0;
}

int xf__xen_dma_bits(const char *cmdline, uint32_t nr_online_nodes, uint64_t node0_spanned_pages,
                     uint32_t *ret_bits)
{
    uint32_t bits = option_dma_bits(cmdline);

    if (bits == 0 && nr_online_nodes > 1) {
        if (node0_spanned_pages == 0)
            return XF_ENODATA;
        bits = flsl64(node0_spanned_pages / 4 - 1) + PAGE_SHIFT;
        if (bits > 32)
            bits = 32;
    }
    *ret_bits = bits;
    return 0;
}

bool xf__xen_low_mem_virq_limit(const char *cmdline, uint64_t *ret_pages)
{
    static const char opt[] = "low_mem_virq_limit=";
    bool found = false;
    uint64_t pages = 0;

    for (const char *p = cmdline ? strstr(cmdline, opt) : NULL; p; p = strstr(p + 1, opt)) {
        const char *v = p + sizeof(opt) - 1;
        unsigned shift = 10; /* no unit: KiB */
        char *end;
        unsigned long long n;

        if (p != cmdline && p[-1] != ' ')
            continue;
        if (*v < '0' || *v > '9')
            continue;
        n = strtoull(v, &end, 0);
        switch (*end) {
        case 'T':
        case 't':
            shift = 40;
            end++;
            break;
        case 'G':
        case 'g':
            shift = 30;
            end++;
            break;
        case 'M':
        case 'm':
            shift = 20;
            end++;
            break;
        case 'K':
        case 'k':
            end++;
            break;
        case 'B':
        case 'b':
            shift = 0;
            end++;
            break;
        default:
            break;
        }
        if ((*end != '\0' && *end != ' ') || n > (UINT64_MAX >> shift))
            continue;
        pages = (uint64_t)(n << shift) >> PAGE_SHIFT;
        found = true;
    }
    if (found)
        *ret_pages = pages;
    return found;
}

bool xf__xen_claim_dying_ok(uint32_t version, const char *extra)
{
    /* The first release of each series with the check. */
    static const struct {
        uint32_t minor, patch;
    } fixed[] = {{19, 5}, {20, 3}, {21, 1}};
    uint32_t major = version >> 16, minor = version & 0xFFFFu, patch = 0;

    if (major != 4)
        return major < 4;
    if (minor < 19 || minor >= 22)
        return minor < 19;
    /* ".N" then anything: the N of 4.x.N. */
    if (extra && extra[0] == '.')
        for (const char *p = extra + 1; *p >= '0' && *p <= '9' && patch < 100000; p++)
            patch = patch * 10 + (uint32_t)(*p - '0');
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (fixed[i].minor == minor)
            return patch < fixed[i].patch;
    return true;
}

int xf__xen_dom_reserve(struct xf_xen_dom *d, uint64_t more)
{
    uint64_t want = (uint64_t)d->n_extents + more;
    struct xf_xen_extent *e;
    uint32_t cap;

    if (want <= d->cap_extents)
        return 0;
    if (want > UINT32_MAX / 2)
        return XF_ENOMEM;
    cap = d->cap_extents ? d->cap_extents : 64;
    while (cap < want)
        cap *= 2;
    e = xf__reallocarray(d->extents, cap, sizeof(*e));
    if (!e)
        return XF_ENOMEM;
    d->extents = e;
    d->cap_extents = cap;
    return 0;
}

void xf__xen_dom_record(struct xf_xen_dom *d, uint64_t frame, uint32_t order)
{
    d->extents[d->n_extents].frame = frame;
    d->extents[d->n_extents].order = order;
    d->n_extents++;
}

uint64_t xf__xen_dom_pages(const struct xf_xen_dom *d)
{
    uint64_t pages = 0;

    for (uint32_t i = 0; i < d->n_extents; i++)
        pages += UINT64_C(1) << d->extents[i].order;
    return pages - d->last_given;
}

void xf__xen_dom_take(struct xf_xen_dom *d, uint64_t n, uint64_t *frames, bool commit)
{
    uint32_t e = d->n_extents;
    uint64_t given = d->last_given, out = 0;

    while (out < n && e > 0) {
        const struct xf_xen_extent *ext = &d->extents[e - 1];
        uint64_t left = (UINT64_C(1) << ext->order) - given;

        /* The extent's pages from its last one down. */
        while (left > 0 && out < n) {
            if (frames)
                frames[out] = ext->frame + left - 1;
            left--, out++, given++;
        }
        if (left == 0) {
            e--;
            given = 0;
        }
    }
    if (commit) {
        d->n_extents = e;
        d->last_given = given;
    }
}

void xf__xen_dom_clear(struct xf_xen_dom *d)
{
    xf__free(d->extents);
    d->extents = NULL;
    d->n_extents = d->cap_extents = 0;
    d->last_given = 0;
}
