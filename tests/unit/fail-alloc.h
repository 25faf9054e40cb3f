/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * An allocator for tests that makes the Nth allocation fail and counts the
 * blocks left allocated (include/xenfit/alloc.h): set fail_at (-1: never),
 * reset alloc_count and live, run, check live == 0.
 */
#ifndef XENFIT_TEST_FAIL_ALLOC_H
#define XENFIT_TEST_FAIL_ALLOC_H

#include <stdlib.h>

#include "xenfit/alloc.h"

static long fail_at = -1, alloc_count, live;

static void *fail_malloc(size_t n)
{
    void *p;
    if (alloc_count++ == fail_at)
        return NULL;
    p = malloc(n);
    live += p != NULL;
    return p;
}

static void *fail_calloc(size_t c, size_t n)
{
    void *p;
    if (alloc_count++ == fail_at)
        return NULL;
    p = calloc(c, n);
    live += p != NULL;
    return p;
}

static void *fail_realloc(void *old, size_t n)
{
    void *p;
    if (alloc_count++ == fail_at)
        return NULL;
    p = realloc(old, n);
    live += p != NULL && old == NULL;
    return p;
}

static void fail_free(void *p)
{
    live -= p != NULL;
    free(p);
}

/* Installs it for the library; xf_reset_allocator() removes it. */
static inline int fail_alloc_install(void)
{
    return xf_replace_allocator(fail_malloc, fail_realloc, fail_calloc, fail_free);
}

#endif
