/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The library's allocator, replaceable (as libuv's uv_replace_allocator) so
 * that tests can make the Nth allocation fail and check every constructor
 * unwinds cleanly.
 */
#ifndef XENFIT_ALLOC_H
#define XENFIT_ALLOC_H

#include <stddef.h>

typedef void *(*xf_malloc_fn)(size_t size);
typedef void *(*xf_realloc_fn)(void *ptr, size_t size);
typedef void *(*xf_calloc_fn)(size_t count, size_t size);
typedef void (*xf_free_fn)(void *ptr);

/* Replaces the allocator for all later allocations. Returns 0, or XF_EINVAL if
 * any function is NULL. Not thread-safe: call before using the library. */
int xf_replace_allocator(xf_malloc_fn m, xf_realloc_fn r, xf_calloc_fn c, xf_free_fn f);

/* Restores the C library's allocator. */
void xf_reset_allocator(void);

#endif
