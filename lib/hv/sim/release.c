/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Simulated time, and the gradual return of a destroyed domain's memory.
 *
 * Time only moves forward: by each operation's cost (hypercall, extents,
 * pages, scrubbing of dirty pages) and by xf_hv_sleep_ns(). Whenever it
 * moves, dying domains give memory back and idle scrubbing runs.
 *
 * Destroy follows domain_kill() (xen/common/domain.c): the domain becomes
 * dying and its claim is cancelled at once (domain_set_outstanding_pages(d,
 * 0)); its pages then return over time, as relinquish_memory() frees them
 * preemptibly and as dom0 drops its last mappings. The main part (guest
 * pages, then the paging pool) returns at timing.release_pages_per_s; a
 * tail of timing.release_tail_pages guest pages stays held for
 * timing.release_tail_ns more (dom0 still mapping pages: qemu, backends),
 * and the hidden hypervisor pages go with it when the domain is finally
 * freed and disappears from the domain list. Freed pages are dirty but
 * count as free at once (physinfo free_pages counts dirty pages).
 */
#include "sim-internal.h"
#include "xenfit/error.h"

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

/* Returns true when the domain is gone. */
static bool release_some(struct xf_sim *s, struct sim_domain *d)
{
    const struct xf_sim_timing *t = &s->spec.timing;

    if (d->released < d->release_main) {
        uint64_t allowed = d->release_main, delta, guest;
        if (t->release_pages_per_s) {
            unsigned __int128 due = (unsigned __int128)(s->now_ns - d->destroy_ns) *
                                    t->release_pages_per_s / XF__NS_PER_S;
            if (due < allowed)
                allowed = (uint64_t)due;
        }
        delta = allowed - d->released;
        guest = d->tot_pages - d->release_tail;
        if (guest > delta)
            guest = delta;
        xf__sim_domain_free(s, d, SIM_CAT_GUEST, guest, true);
        xf__sim_domain_free(s, d, SIM_CAT_POOL, delta - guest, true);
        d->released += delta;
        if (d->released == d->release_main) {
            /* The moment the last page of the main part went back. */
            unsigned __int128 end =
                t->release_pages_per_s
                    ? (unsigned __int128)d->release_main * XF__NS_PER_S / t->release_pages_per_s
                    : 0;
            d->main_done_ns = sat_add(d->destroy_ns, end > UINT64_MAX ? UINT64_MAX : (uint64_t)end);
        }
    }
    if (d->released < d->release_main || s->now_ns < sat_add(d->main_done_ns, t->release_tail_ns))
        return false;
    xf__sim_domain_free(s, d, SIM_CAT_GUEST, d->tot_pages, true);
    xf__sim_domain_free(s, d, SIM_CAT_POOL, d->pool_pages, true);
    xf__sim_domain_free(s, d, SIM_CAT_HIDDEN, d->hidden_pages, true);
    s->nr_dying--;
    xf__sim_domain_remove(s, d);
    return true;
}

void xf__sim_advance(struct xf_sim *s, uint64_t ns)
{
    s->now_ns = sat_add(s->now_ns, ns);
    s->op_cost_ns = 0;
    if (s->nr_dying) {
        for (uint32_t i = 0; i < s->nr_domains;) {
            struct sim_domain *d = s->domains[i];
            /* A removed domain's slot is refilled from the end. */
            if (!d->dying || !release_some(s, d))
                i++;
        }
    }
    xf__sim_idle_scrub(s);
    if (s->nr_balloons)
        xf__sim_balloon_run(s);
}

int xf__sim_destroy(struct xf_hv *hv, xf_domid_t domid)
{
    struct xf_sim *s = xf__sim_of(hv);
    struct sim_domain *d;
    int r = xf__sim_enter(s, XF_SIM_OP_DESTROY);

    if (r == 0) {
        d = xf__sim_domain_get(s, domid);
        if (!d)
            r = XF_ESRCH;
        else if (domid == 0)
            r = XF_EINVAL; /* domain_kill(): a domain cannot kill itself */
        else if (!d->dying) {
            d->dying = true;
            d->paused = true;
            xf__sim_claim_cancel(s, d);
            d->destroy_ns = s->now_ns;
            d->release_tail = s->spec.timing.release_tail_pages < d->tot_pages
                                  ? s->spec.timing.release_tail_pages
                                  : d->tot_pages;
            d->release_main = d->tot_pages - d->release_tail + d->pool_pages;
            d->released = 0;
            d->main_done_ns = d->release_main ? UINT64_MAX : s->now_ns;
            s->nr_dying++;
        }
    }
    /* Releases due at once (rate 0, nothing to return) happen here. */
    xf__sim_advance(s, s->spec.timing.hypercall_ns);
    return r;
}

int xf__sim_sleep_ns(struct xf_hv *hv, uint64_t ns)
{
    struct xf_sim *s = xf__sim_of(hv);
    int r = xf__sim_enter(s, XF_SIM_OP_SLEEP);

    if (r == 0)
        xf__sim_advance(s, ns);
    return r;
}

uint64_t xf__sim_now_ns(struct xf_hv *hv)
{
    return xf__sim_of(hv)->now_ns;
}
