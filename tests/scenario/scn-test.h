/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Helpers for the scenario tests: load a scenario file with its host spec
 * from the source tree, run it under a policy.
 */
#ifndef XENFIT_SCN_TEST_H
#define XENFIT_SCN_TEST_H

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenfit/error.h"
#include "xenfit/scenario.h"

static inline int scn_test_read(const char *path, char **ret_buf, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    long len;
    char *buf;
    if (!f) {
        int r = -errno;
        return r < 0 ? r : -EIO; /* tested after negating: the analyzer sees a failure */
    }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        return XF_EIO;
    }
    fclose(f);
    buf[len] = '\0';
    *ret_buf = buf;
    *ret_len = (size_t)len;
    return 0;
}

/* Host files are named relative to the scenarios/ folder, as shipped. */
static inline int scn_test_load(void *ctx, const char *path, char **ret_buf, size_t *ret_len)
{
    char full[PATH_MAX];
    (void)ctx;
    snprintf(full, sizeof(full), "%s/scenarios/%s", XF_SOURCE_DIR, path);
    return scn_test_read(full, ret_buf, ret_len);
}

static inline struct xf_scenario *scn_test_parse_text(const char *text)
{
    struct xf_scenario *s = NULL;
    struct xf_parse_error err = {0};
    int r = xf_scenario_parse(text, strlen(text), scn_test_load, NULL, &s, &err);
    if (r != 0) {
        fprintf(stderr, "scenario: %s (%d)\n%s\n", err.message, r, text);
        return NULL;
    }
    return s;
}

static inline struct xf_scenario *scn_test_parse_file(const char *name)
{
    char path[PATH_MAX], *buf = NULL;
    size_t len;
    struct xf_scenario *s;
    snprintf(path, sizeof(path), "%s/scenarios/%s", XF_SOURCE_DIR, name);
    if (scn_test_read(path, &buf, &len) != 0)
        return NULL;
    s = scn_test_parse_text(buf);
    free(buf);
    return s;
}

static inline struct xf_scn_report *scn_test_run(const struct xf_scenario *s, enum xf_policy p,
                                                 uint64_t seed)
{
    struct xf_scn_options o = {.policy = p, .seed = seed};
    struct xf_scn_report *r = NULL;
    if (xf_scenario_run(s, &o, &r) != 0)
        return NULL;
    return r;
}

/* The VM of that name; a test that names a VM the report lacks fails. */
static inline const struct xf_scn_vm_result *scn_test_vm(const struct xf_scn_report *r,
                                                         const char *name)
{
    static const struct xf_scn_vm_result missing = {.name = "(missing)"};
    for (size_t i = 0; i < r->nr_vms; i++)
        if (strcmp(r->vms[i].name, name) == 0)
            return &r->vms[i];
    fprintf(stderr, "no VM '%s' in the report\n", name);
    return &missing; /* outcome NOT_RUN: every assertion on it fails */
}

#endif
