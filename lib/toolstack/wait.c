/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Waiting for freed memory (include/xenfit/wait.h).
 */
#include <stdio.h>
#include <string.h>

#include "xenfit/error.h"
#include "xenfit/units.h"
#include "xenfit/wait.h"

void xf_wait_init(struct xf_wait *w, const struct xf_wait_params *p)
{
    memset(w, 0, sizeof(*w));
    w->p = *p;
    if (!w->p.timeout_ns)
        w->p.timeout_ns = XF_WAIT_TIMEOUT_NS_DEFAULT;
    if (!w->p.first_ns)
        w->p.first_ns = XF_WAIT_FIRST_NS_DEFAULT;
    if (!w->p.max_step_ns)
        w->p.max_step_ns = XF_WAIT_MAX_STEP_NS_DEFAULT;
    w->interval_ns = w->p.first_ns;
}

static int default_available(const struct xf_wait *w, struct xf_hv *hv, uint64_t *ret)
{
    struct xf_hv_physinfo pi;
    uint64_t used;
    int r = xf_hv_physinfo(hv, &pi);
    if (r < 0)
        return r;
    used = pi.outstanding_pages + w->p.reserve_pages;
    *ret = pi.free_pages > used ? pi.free_pages - used : 0;
    return 0;
}

static void log_check(struct xf_wait *w, const char *what)
{
    char msg[200];
    if (!w->p.log)
        return;
    snprintf(msg, sizeof(msg),
             "wait for free memory: %s: check %u after %llu ms: %llu MiB free, %llu MiB needed",
             what, w->checks, (unsigned long long)(w->waited_ns / 1000000),
             (unsigned long long)xf_mib_of_pages_free(w->last_available_pages),
             (unsigned long long)xf_mib_of_pages_used(w->p.needed_pages));
    w->p.log(w->p.log_ctx, msg);
    w->logs++;
}

bool xf_wait_xapi_logs(bool log_at_zero, uint64_t seconds)
{
    if (seconds == 0)
        return log_at_zero;
    return (seconds & (seconds - 1)) == 0;
}

#define NS_PER_S UINT64_C(1000000000)

/* domain.ml wait_xen_free_mem (87178fcaebf9d4f9fcfe14c053fea9460e651c93 and
 * 1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7): check, log on the schedule,
 * then: enough -> true; scrub_pages = 0 -> false at once; waited the maximum
 * -> false; else sleep one second and check again. */
static int xapi_step(struct xf_wait *w, struct xf_hv *hv, uint64_t avail, uint64_t *ret_sleep_ns)
{
    struct xf_hv_physinfo pi;
    uint64_t seconds = w->waited_ns / NS_PER_S;
    int r = xf_hv_physinfo(hv, &pi);
    if (r < 0)
        return r;
    if (xf_wait_xapi_logs(w->p.xapi_log_at_zero, seconds))
        log_check(w, avail >= w->p.needed_pages ? "enough" : "waiting");
    if (avail >= w->p.needed_pages)
        return 0;
    if (pi.scrub_pages == 0)
        return XF_ENOFIT;
    if (w->waited_ns >= w->p.timeout_ns)
        return XF_ENOFIT;
    *ret_sleep_ns = NS_PER_S;
    return 1;
}

int xf_wait_step(struct xf_wait *w, struct xf_hv *hv, uint64_t *ret_sleep_ns)
{
    uint64_t now = xf_hv_now_ns(hv), avail;
    int r;

    if (!w->started) {
        w->started = true;
        w->start_ns = now;
    }
    w->waited_ns = now - w->start_ns;
    r = w->p.available ? w->p.available(w->p.available_ctx, hv, &avail)
                       : default_available(w, hv, &avail);
    if (r < 0)
        return r;
    w->last_available_pages = avail;
    w->checks++;
    if (w->p.xapi_schedule)
        return xapi_step(w, hv, avail, ret_sleep_ns);
    if (avail >= w->p.needed_pages) {
        if (w->checks > 1)
            log_check(w, "enough");
        return 0;
    }
    /* The first check always, then the 2nd, 4th, 8th, ... */
    if ((w->checks & (w->checks - 1)) == 0)
        log_check(w, "waiting");
    if (w->waited_ns >= w->p.timeout_ns) {
        log_check(w, "giving up");
        return XF_ENOFIT;
    }
    uint64_t sleep = w->interval_ns;
    if (w->waited_ns + sleep > w->p.timeout_ns)
        sleep = w->p.timeout_ns - w->waited_ns;
    *ret_sleep_ns = sleep;
    w->interval_ns *= 2;
    if (w->interval_ns > w->p.max_step_ns)
        w->interval_ns = w->p.max_step_ns;
    return 1;
}

int xf_wait_free_memory(struct xf_hv *hv, struct xf_wait *w)
{
    for (;;) {
        uint64_t sleep_ns = 0;
        int r = xf_wait_step(w, hv, &sleep_ns);
        if (r != 1)
            return r;
        r = xf_hv_sleep_ns(hv, sleep_ns);
        if (r < 0)
            return r;
    }
}
