/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The simulator's test helpers (daemon/native.h): with the simulator
 * backend the host lives inside xenfitd, so a test that wants a domain to
 * exist (to see a reservation settle when its domain is built, or dropped
 * when it dies) asks the daemon to make one; and a test that wants time to
 * pass (a TTL, an idle timeout) moves the daemon's clocks instead of
 * sleeping. Offered only with --backend sim.
 */
#include <stdio.h>

#include "native.h"
#include "xenfit/units.h"

/* Guest pages populated per call, in 4 KiB extents. */
#define CHUNK_PAGES UINT64_C(65536)

void xfd_native_sim_create(struct xfd_call *c)
{
    struct xf_hv *hv = xf_engine_hv(c->ctx->engine);
    json_t *run = json_array_get(c->params, 2);
    uint64_t kib, pages, done_pages = 0;
    xf_domid_t domid;
    int r;

    if (!xfd_arg_kib(c, 1, "kib", &kib))
        return;
    if (!json_is_boolean(run)) {
        xfd_fail(c, "Invalid_argument",
                 json_string("xenfit.sim_domain_create: parameter 3 "
                             "(running) must be true or false"));
        return;
    }
    pages = xf_pages_of_kib_used(kib);
    if ((r = xf_hv_domain_create(hv, XF_DOMAIN_PVH, &domid)) < 0) {
        xfd_fail_internal(c, "%s: domain_create: %s", c->method, xf_strerror(r));
        return;
    }
    r = xf_hv_set_max_pages(hv, domid, pages);
    while (r == 0 && done_pages < pages) {
        uint64_t n = pages - done_pages < CHUNK_PAGES ? pages - done_pages : CHUNK_PAGES, done = 0;
        struct xf_hv_populate req = {.nr_extents = n, .order = 0, .node = XF_NODE_ANY};
        r = xf_hv_populate(hv, domid, &req, &done);
        done_pages += done;
    }
    if (r == 0 && json_is_true(run))
        r = xf_hv_unpause(hv, domid);
    if (r < 0) {
        (void)xf_hv_destroy(hv, domid);
        xfd_fail_internal(c, "%s: populating %llu pages: %s", c->method, (unsigned long long)pages,
                          xf_strerror(r));
        return;
    }
    xfd_ok(c, json_integer(domid));
}

void xfd_native_sim_destroy(struct xfd_call *c)
{
    struct xf_hv *hv = xf_engine_hv(c->ctx->engine);
    struct xf_hv_domain_info info;
    xf_domid_t domid;
    int r;

    if (!xfd_arg_domid(c, 1, "domid", &domid))
        return;
    if ((r = xf_hv_destroy(hv, domid)) < 0) {
        xfd_fail_internal(c, "%s: destroy %u: %s", c->method, domid, xf_strerror(r));
        return;
    }
    /* Let simulated time pass (at most a minute of it) until the memory is
     * back and the domain has left the list. */
    for (int i = 0; i < 600 && xf_hv_domain_info(hv, domid, &info) == 0; i++)
        (void)xf_hv_sleep_ns(hv, UINT64_C(100000000));
    xfd_ok(c, NULL);
}

/* The clocks move at most 100 years in all: far from overflowing the
 * nanoseconds added to the real clock. */
#define SKEW_MAX_MS (UINT64_C(100) * 366 * 24 * 3600 * 1000)

void xfd_native_sim_advance_time(struct xfd_call *c)
{
    int64_t ms;

    if (!xfd_arg_int(c, 1, "ms", &ms))
        return;
    if (ms < 0 || (uint64_t)ms > SKEW_MAX_MS - c->ctx->clock_skew_ns / 1000000u) {
        xfd_fail(c, "Invalid_argument",
                 json_string("xenfit.sim_advance_time: parameter 2 (ms) must be 0 or more, up "
                             "to 100 years in all; time does not go back"));
        return;
    }
    c->ctx->clock_skew_ns += (uint64_t)ms * 1000000u;
    xfd_ok(c, xfd_json_u64(c->ctx->clock_skew_ns / 1000000u));
}
