/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * A growable byte buffer for xenfitd's connections, responses and client:
 * bytes in p[0..len), room up to cap. Appending grows it (doubling); a
 * failed growth leaves it unchanged and returns -ENOMEM.
 */
#ifndef XENFITD_BUF_H
#define XENFITD_BUF_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct xfd_buf {
    char *p;
    size_t len, cap;
};

static inline int xfd_buf_reserve(struct xfd_buf *b, size_t more)
{
    size_t cap;
    char *np;
    if (b->cap - b->len >= more)
        return 0;
    if (more > ((size_t)1 << 30) - b->len)
        return -ENOMEM;
    cap = b->cap ? b->cap : 256;
    while (cap - b->len < more)
        cap *= 2;
    np = realloc(b->p, cap);
    if (!np)
        return -ENOMEM;
    b->p = np;
    b->cap = cap;
    return 0;
}

static inline int xfd_buf_add(struct xfd_buf *b, const void *data, size_t n)
{
    int r = xfd_buf_reserve(b, n);
    if (r < 0)
        return r;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

static inline int xfd_buf_addstr(struct xfd_buf *b, const char *s)
{
    return xfd_buf_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static inline int xfd_buf_printf(struct xfd_buf *b,
                                                                       const char *fmt, ...)
{
    va_list ap;
    int n;
    for (int pass = 0; pass < 2; pass++) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return -EINVAL;
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return 0;
        }
        if (xfd_buf_reserve(b, (size_t)n + 1) < 0)
            return -ENOMEM;
    }
    return -ENOMEM;
}

/* Drops the first n bytes. */
static inline void xfd_buf_consume(struct xfd_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static inline void xfd_buf_free(struct xfd_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

#endif
