/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Helpers shared by the hypervisor-interface tests (tests/hv/): reading a
 * host spec from the source tree and booting the simulator from it, and
 * the few xf_hv_* sequences every test repeats. Header-only, static.
 */
#ifndef XENFIT_TESTS_HV_TEST_H
#define XENFIT_TESTS_HV_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/sim.h"

/* Reads a whole file; NULL on error. The caller frees. */
static inline char *hvt_read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

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

/* Boots the simulator from hosts/<name> (or any path containing a '/'). */
static inline int hvt_sim_open(const char *name, const struct xf_sim_options *opts,
                               struct xf_hv **ret)
{
    char path[512];
    struct xf_parse_error err;
    size_t len = 0;
    char *buf;
    int r;

    if (strchr(name, '/'))
        snprintf(path, sizeof(path), "%s", name);
    else
        snprintf(path, sizeof(path), "%s/hosts/%s", XF_SOURCE_DIR, name);
    buf = hvt_read_file(path, &len);
    if (!buf) {
        fprintf(stderr, "cannot read %s\n", path);
        return XF_EIO;
    }
    r = xf_sim_new_from_json(buf, len, opts, ret, &err);
    if (r == XF_EBADSPEC)
        fprintf(stderr, "%s: %s\n", path, err.message);
    free(buf);
    return r;
}

/* Boots the simulator from a spec in a string. */
static inline int hvt_sim_json(const char *json, const struct xf_sim_options *opts,
                               struct xf_hv **ret)
{
    struct xf_parse_error err;
    int r = xf_sim_new_from_json(json, strlen(json), opts, ret, &err);
    if (r == XF_EBADSPEC)
        fprintf(stderr, "spec: %s\n", err.message);
    return r;
}

#endif
