/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Opening a hypervisor backend for a command: the simulator booted from a
 * host spec (--host SPEC.json), or the Xen host the command runs on
 * (--backend xen, in builds with libxenctrl).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xenfit/error.h"
#include "xenfit/sim.h"
#ifdef HAVE_LIBXENCTRL
#include "xenfit/hv-xen.h"
#endif

int xf_cli_open_backend(const char *cmd, const char *backend, const char *spec_path,
                        struct xf_hv **ret)
{
    struct xf_parse_error perr = {0};
    char *buf;
    size_t len;
    int r;

    if (!backend || strcmp(backend, "sim") == 0) {
        if (!spec_path)
            return xf_cli_usage_error(cmd, "--host SPEC.json is required with the sim backend");
        if ((r = xf_cli_read_file(cmd, spec_path, &buf, &len)))
            return r;
        r = xf_sim_new_from_json(buf, len, NULL, ret, &perr);
        free(buf);
        if (r == XF_EBADSPEC && perr.line)
            return xf_cli_usage_error(cmd, "%s:%zu: %s", spec_path, perr.line, perr.message);
        if (r == XF_EBADSPEC)
            return xf_cli_usage_error(cmd, "%s: %s", spec_path, perr.message);
        if (r < 0)
            return xf_cli_failure(cmd, "%s: %s", spec_path, xf_strerror(r));
        return 0;
    }
    if (strcmp(backend, "xen") == 0) {
#ifdef HAVE_LIBXENCTRL
        if (spec_path)
            return xf_cli_usage_error(cmd, "--host '%s': --backend xen reads the host it runs on",
                                      spec_path);
        r = xf_hv_xen_open(ret);
        if (r < 0)
            return xf_cli_failure(cmd, "cannot open Xen (libxenctrl): %s (%s); run as root in dom0",
                                  xf_strerror(r), xf_err_name(r));
        return 0;
#else
        return xf_cli_usage_error(cmd,
                                  "--backend 'xen': not built in (no libxenctrl at build time)");
#endif
    }
    return xf_cli_usage_error(cmd, "--backend '%s': unknown (sim or xen)", backend);
}
