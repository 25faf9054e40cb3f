/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Opening a hypervisor backend for a command (--backend NAME, --host
 * SPEC.json): the command reads the spec file if one is given, and
 * xf_hv_open() (lib/hv/hv.c), the one place that knows which backends this
 * build has, decides whether the backend takes it.
 */
#include <stdlib.h>

#include "cli.h"
#include "xenfit/error.h"
#include "xenfit/hv.h"

int xf_cli_open_backend(const char *cmd, const char *backend, const char *spec_path,
                        struct xf_hv **ret)
{
    struct xf_hv_open_error err;
    char *buf = NULL;
    size_t len = 0;
    int r;

    if (!backend)
        backend = "sim";
    if (spec_path && (r = xf_cli_read_file(cmd, spec_path, &buf, &len)))
        return r;
    r = xf_hv_open(backend, buf, len, &err, ret);
    free(buf);
    if (r == 0)
        return 0;
    if (spec_path && r == XF_EBADSPEC && err.line)
        return xf_cli_usage_error(cmd, "%s:%zu: %s", spec_path, err.line, err.message);
    if (spec_path && r == XF_EBADSPEC)
        return xf_cli_usage_error(cmd, "%s: %s", spec_path, err.message);
    if (err.usage)
        return xf_cli_usage_error(cmd, "%s", err.message);
    return xf_cli_failure(cmd, "%s", err.message);
}
