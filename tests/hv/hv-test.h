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

#include "test-file.h"
#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/sim.h"

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
    buf = test_read_file(path, &len);
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
