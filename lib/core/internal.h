/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Internal helpers shared by the library's modules (not installed).
 */
#ifndef XENFIT_INTERNAL_H
#define XENFIT_INTERNAL_H

#include <stddef.h>

void *xf__malloc(size_t size);
void *xf__calloc(size_t count, size_t size);
void *xf__realloc(void *ptr, size_t size);
void *xf__reallocarray(void *ptr, size_t count, size_t size);
/* Room for element n of ptr, an array of *cap elements of `size` bytes:
 * returns ptr when n < *cap, else ptr grown to twice *cap elements (`first`
 * when it has none) and *cap updated. NULL when the allocation fails or the
 * size overflows: ptr, still the caller's, and *cap are then unchanged. */
void *xf__grow(void *ptr, size_t n, size_t *cap, size_t first, size_t size);
void xf__free(void *ptr);
char *xf__strdup(const char *s);

#define XF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
