/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Reading a whole fixture file, for every test that loads one (unit and hv
 * tests alike). Header-only, static.
 */
#ifndef XENFIT_TEST_FILE_H
#define XENFIT_TEST_FILE_H

#include <stdio.h>
#include <stdlib.h>

/* The file at path, NUL-terminated, its length in *ret_len; NULL and 0 if it
 * cannot be read (always written: cmocka's assertions do not tell the static
 * analyzer that a failed one does not return). The caller frees. */
static inline char *test_read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    *ret_len = 0;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        if (buf) {
            buf[n] = '\0';
            *ret_len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

#endif
