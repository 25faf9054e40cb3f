/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The replaceable allocator behind every allocation of libxenfit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "xenfit/alloc.h"
#include "xenfit/error.h"

static struct {
    xf_malloc_fn malloc;
    xf_realloc_fn realloc;
    xf_calloc_fn calloc;
    xf_free_fn free;
} allocator = {malloc, realloc, calloc, free};

int xf_replace_allocator(xf_malloc_fn m, xf_realloc_fn r, xf_calloc_fn c, xf_free_fn f)
{
    if (!m || !r || !c || !f)
        return XF_EINVAL;
    allocator.malloc = m;
    allocator.realloc = r;
    allocator.calloc = c;
    allocator.free = f;
    return 0;
}

void xf_reset_allocator(void)
{
    allocator.malloc = malloc;
    allocator.realloc = realloc;
    allocator.calloc = calloc;
    allocator.free = free;
}

void *xf__malloc(size_t size)
{
    return allocator.malloc(size ? size : 1);
}

void *xf__calloc(size_t count, size_t size)
{
    return allocator.calloc(count ? count : 1, size ? size : 1);
}

void *xf__realloc(void *ptr, size_t size)
{
    return allocator.realloc(ptr, size ? size : 1);
}

void *xf__reallocarray(void *ptr, size_t count, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(count, size, &bytes))
        return NULL;
    return xf__realloc(ptr, bytes);
}

void *xf__grow(void *ptr, size_t n, size_t *cap, size_t first, size_t size)
{
    size_t want;
    void *p;

    if (n < *cap)
        return ptr;
    if (*cap > SIZE_MAX / 2)
        return NULL;
    want = *cap ? *cap * 2 : first;
    p = xf__reallocarray(ptr, want, size);
    if (p)
        *cap = want;
    return p;
}

void xf__free(void *ptr)
{
    if (ptr)
        allocator.free(ptr);
}

char *xf__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xf__malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}
