/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Waiting for freed memory. After a domain is destroyed Xen returns its
 * memory gradually (and dom0 may hold the last pages a while), so a build
 * that needs that memory polls with backoff up to a bound: xen-api waits up
 * to 64 s (xenopsd wait_xen_free_mem), always logging the first check and
 * then at exponentially spaced checks (1st, 2nd, 4th, 8th, ...), and fails
 * with the numbers. Time is the backend's: simulated for the simulator.
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
};

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
