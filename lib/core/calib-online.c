/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Calibration from observation (include/xenfit/calibrate.h, second half):
 * per domain type, the largest need seen at each vCPU count, and the
 * tightest never-underestimating line over them (xf_calib_fit).
 */
#include <string.h>

#include "internal.h"
#include "xenfit/calibrate.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

#define N_TYPES 4

struct per_type {
    struct xf_calib_point *pts; /* one per vCPU count, the maximum need */
    size_t n, cap;
    struct xf_overhead_coeffs fit; /* valid when n > 0 */
};

struct xf_calib_online {
    struct per_type t[N_TYPES];
};

int xf_calib_online_new(struct xf_calib_online **ret)
{
    struct xf_calib_online *c = xf__calloc(1, sizeof(*c));
    if (!c)
        return XF_ENOMEM;
    *ret = c;
    return 0;
}

void xf_calib_online_free(struct xf_calib_online *c)
{
    if (!c)
        return;
    for (int i = 0; i < N_TYPES; i++)
        xf__free(c->t[i].pts);
    xf__free(c);
}

int xf_calib_needed_pages(const struct xf_vm_memory *vm, uint64_t taken_pages, uint64_t *ret_needed)
{
    static const struct xf_overhead_coeffs none = {0, 0};
    struct xf_memory_config mc;
    uint64_t base;
    int r = xf_vm_footprint(vm, &none, &mc);
    if (r < 0)
        return r;
    base = xf_pages_of_mib(mc.required_host_free_mib);
    *ret_needed = taken_pages > base ? taken_pages - base : 0;
    return 0;
}

uint64_t xf_calib_plausible_max_pages(uint32_t vcpus)
{
    return XF_CALIB_PLAUSIBLE_FIXED_PAGES + XF_CALIB_PLAUSIBLE_PER_VCPU_PAGES * vcpus;
}

/* The calibrated term in pages as the model charges it: rounded up to MiB. */
static uint64_t charged_pages(struct xf_overhead_coeffs c, uint32_t vcpus)
{
    return xf_pages_of_mib(xf_mib_of_pages_used(c.fixed_pages + c.per_vcpu_pages * vcpus));
}

struct xf_overhead_coeffs xf_calib_online_coeffs(const struct xf_calib_online *c,
                                                 enum xf_domain_type type, uint32_t vcpus)
{
    struct xf_overhead_coeffs best = xf_xapi_coeffs;
    if ((unsigned)type < N_TYPES && c->t[type].n > 0) {
        struct xf_overhead_coeffs fit = c->t[type].fit;
        if (fit.fixed_pages + fit.per_vcpu_pages * vcpus >
            best.fixed_pages + best.per_vcpu_pages * vcpus)
            best = fit;
    }
    return best;
}

static int record(struct xf_calib_online *c, const struct xf_calib_observation *o)
{
    struct per_type *t = &c->t[o->type];
    struct xf_calib_fit fit;
    size_t i;
    int r;

    for (i = 0; i < t->n; i++)
        if (t->pts[i].vcpus == o->vcpus)
            break;
    if (i < t->n) {
        if (t->pts[i].overhead_pages >= o->needed_pages)
            return 0; /* nothing new */
        t->pts[i].overhead_pages = o->needed_pages;
    } else {
        struct xf_calib_point *p = xf__grow(t->pts, t->n, &t->cap, 8, sizeof(*p));
        if (!p)
            return XF_ENOMEM;
        t->pts = p;
        t->pts[t->n].vcpus = o->vcpus;
        t->pts[t->n].overhead_pages = o->needed_pages;
        t->n++;
    }
    r = xf_calib_fit(t->pts, t->n, &fit);
    if (r < 0)
        return r; /* bounds were checked: cannot happen */
    t->fit.fixed_pages = fit.fixed_pages;
    t->fit.per_vcpu_pages = fit.per_vcpu_pages;
    return 0;
}

static int check_obs(const struct xf_calib_observation *o)
{
    if ((unsigned)o->type >= N_TYPES)
        return XF_EINVAL;
    if (o->vcpus < 1 || o->vcpus > XF_VCPUS_MAX || o->needed_pages > XF_CALIB_MAX_OVERHEAD_PAGES)
        return XF_ERANGE;
    return 0;
}

int xf_calib_online_observe(struct xf_calib_online *c, const struct xf_calib_observation *o)
{
    struct xf_overhead_coeffs before;
    int r = check_obs(o);
    if (r < 0)
        return r;
    before = xf_calib_online_coeffs(c, o->type, o->vcpus);
    r = record(c, o);
    if (r < 0)
        return r;
    return o->needed_pages > charged_pages(before, o->vcpus) ? 1 : 0;
}

bool xf_calib_online_has(const struct xf_calib_online *c, enum xf_domain_type type, uint32_t vcpus)
{
    if ((unsigned)type >= N_TYPES)
        return false;
    for (size_t i = 0; i < c->t[type].n; i++)
        if (c->t[type].pts[i].vcpus == vcpus)
            return true;
    return false;
}

size_t xf_calib_online_count(const struct xf_calib_online *c)
{
    size_t n = 0;
    for (int i = 0; i < N_TYPES; i++)
        n += c->t[i].n;
    return n;
}

size_t xf_calib_online_export(const struct xf_calib_online *c, struct xf_calib_observation *out,
                              size_t max)
{
    size_t k = 0;
    for (int i = 0; i < N_TYPES; i++)
        for (size_t j = 0; j < c->t[i].n && k < max; j++, k++) {
            out[k].type = (enum xf_domain_type)i;
            out[k].vcpus = c->t[i].pts[j].vcpus;
            out[k].needed_pages = c->t[i].pts[j].overhead_pages;
        }
    return k;
}

size_t xf_calib_online_reset(struct xf_calib_online *c, enum xf_domain_type type, bool all)
{
    size_t n = 0;
    for (int i = 0; i < N_TYPES; i++) {
        if (!all && i != (int)type)
            continue;
        n += c->t[i].n;
        c->t[i].n = 0; /* the points' storage is kept for the next observations */
    }
    return n;
}

int xf_calib_online_import(struct xf_calib_online *c, const struct xf_calib_observation *obs,
                           size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int r = check_obs(&obs[i]);
        if (r == 0)
            r = record(c, &obs[i]);
        if (r < 0)
            return r;
    }
    return 0;
}
