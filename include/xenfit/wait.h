/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Waiting for freed memory. After a domain is destroyed Xen returns its
 * memory gradually (and dom0 may hold the last pages a while), so a build
 * that needs that memory polls with backoff up to a bound, and fails with the
 * numbers. Time is the backend's: simulated for the simulator.
 *
 * Two schedules:
 *  - xenfit's own: back-off from 100 ms to 4 s steps, up to 64 s, logging
 *    the 1st, 2nd, 4th, 8th ... check. It waits whenever the caller says
 *    memory is still being returned (dying domains), whatever scrub_pages says.
 *  - xen-api's (xapi_schedule), domain.ml wait_xen_free_mem: one check a
 *    second up to 64 s, logged when the seconds waited are a power of two
 *    (1, 2, 4 ... 64) and, since PR 6869 (1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7),
 *    also at 0 s on every call; it gives up at once when physinfo
 *    scrub_pages is 0, which on Xen it always is ("We'll never have enough
 *    memory"), so in practice it never waits.
 *
 * A wait is a small state machine (xf_wait_step) so a scheduler can
 * interleave it with builds; xf_wait_free_memory() runs one to the end.
 */
#ifndef XENFIT_WAIT_H
#define XENFIT_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "xenfit/hv.h"

#define XF_WAIT_TIMEOUT_NS_DEFAULT  (UINT64_C(64) * 1000000000u)
#define XF_WAIT_FIRST_NS_DEFAULT    (UINT64_C(100) * 1000000u) /* 100 ms */
#define XF_WAIT_MAX_STEP_NS_DEFAULT (UINT64_C(4) * 1000000000u)

/* Computes what is available now (pages). The default (NULL) is
 * physinfo free_pages - outstanding claims - reserve_pages. */
typedef int (*xf_wait_available_fn)(void *ctx, struct xf_hv *hv, uint64_t *ret_pages);
typedef void (*xf_wait_log_fn)(void *ctx, const char *message);

struct xf_wait_params {
    uint64_t needed_pages;
    uint64_t reserve_pages;
    uint64_t timeout_ns;  /* 0: XF_WAIT_TIMEOUT_NS_DEFAULT */
    uint64_t first_ns;    /* first back-off interval; 0: default */
    uint64_t max_step_ns; /* back-off cap; 0: default */
    xf_wait_available_fn available;
    void *available_ctx;
    xf_wait_log_fn log; /* may be NULL */
    void *log_ctx;
    bool xapi_schedule;    /* xen-api's wait_xen_free_mem (see above) */
    bool xapi_log_at_zero; /* with xapi_schedule: PR 6869's log at 0 s */
};

/* xen-api's wait_xen_free_mem: whether the check after `seconds` is logged
 * (memory.ml is_power_of_2, and 0 since PR 6869 when log_at_zero). */
bool xf_wait_xapi_logs(bool log_at_zero, uint64_t seconds);

struct xf_wait {
    struct xf_wait_params p;
    uint64_t start_ns;
    uint64_t interval_ns;
    uint32_t checks;
    uint32_t logs;
    uint64_t last_available_pages;
    uint64_t waited_ns;
    bool started;
};

void xf_wait_init(struct xf_wait *w, const struct xf_wait_params *p);

/*
 * One check. Returns 0 when enough is available, 1 to be called again after
 * *ret_sleep_ns, XF_ENOFIT when the bound has passed (w->last_available_pages
 * and w->p.needed_pages say by how much), or an error of the backend.
 */
int xf_wait_step(struct xf_wait *w, struct xf_hv *hv, uint64_t *ret_sleep_ns);

/* Waits to the end, sleeping with xf_hv_sleep_ns. Returns as xf_wait_step
 * (never 1). */
int xf_wait_free_memory(struct xf_hv *hv, struct xf_wait *w);

#endif
