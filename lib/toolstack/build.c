/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The toolstack emulator (include/xenfit/build.h).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "xenfit/build.h"
#include "xenfit/error.h"

#define EXTENT_ORDER     9u /* 2 MiB, as xenguest populates */
#define EXTENT_PAGES     (UINT64_C(1) << EXTENT_ORDER)
#define DEFAULT_PER_STEP 64u

struct xf_build {
    struct xf_hv *hv;
    struct xf_build_spec spec;
    struct xf_build_result res;
    bool claimed;    /* a claim is active and must be cancelled */
    bool measure_ok; /* every overhead measurement so far worked */
    uint32_t claim_node;
    struct xf_wait free_wait; /* XF_BUILD_FREE_CHECK */
    bool free_wait_started;
};

static const char *const phase_names[] = {
    [XF_BUILD_CREATE] = "create",
    [XF_BUILD_AFFINITY] = "affinity",
    [XF_BUILD_FREE_CHECK] = "free_check",
    [XF_BUILD_MAX_VCPUS] = "max_vcpus",
    [XF_BUILD_MAX_PAGES] = "max_pages",
    [XF_BUILD_PAGING_POOL] = "paging_pool",
    [XF_BUILD_PLACE_CLAIM] = "place_claim",
    [XF_BUILD_POPULATE] = "populate",
    [XF_BUILD_CANCEL_CLAIM] = "cancel_claim",
    [XF_BUILD_UNPAUSE] = "unpause",
    [XF_BUILD_DONE] = "done",
};

const char *xf_build_phase_name(enum xf_build_phase p)
{
    if ((unsigned)p >= XF_ARRAY_SIZE(phase_names))
        return "?";
    return phase_names[p];
}

int xf_build_new(struct xf_hv *hv, const struct xf_build_spec *spec, struct xf_build **ret)
{
    struct xf_build *b;

    if (!hv || spec->vcpus == 0 || spec->max_pages == 0)
        return XF_EINVAL;
    b = xf__calloc(1, sizeof(*b));
    if (!b)
        return XF_ENOMEM;
    b->hv = hv;
    b->spec = *spec;
    if (b->spec.extents_per_step == 0)
        b->spec.extents_per_step = DEFAULT_PER_STEP;
    b->res.phase = XF_BUILD_CREATE;
    b->res.domid = UINT32_MAX;
    b->res.claimed = XF_CLAIM_NONE;
    *ret = b;
    return 0;
}

void xf_build_free(struct xf_build *b)
{
    xf__free(b);
}

const struct xf_build_result *xf_build_result(const struct xf_build *b)
{
    return &b->res;
}

/* A failed build: record where, and tear the domain down as xenopsd does. */
static int fail(struct xf_build *b, int err)
{
    b->res.err = err;
    if (b->res.domid != UINT32_MAX)
        (void)xf_hv_destroy(b->hv, b->res.domid);
    return err;
}

static int set_affinity(struct xf_build *b, uint64_t mask)
{
    int r = xf_hv_set_node_affinity(b->hv, b->res.domid, mask);
    if (r == 0)
        b->res.node_mask = mask;
    return r;
}

static int claim(struct xf_build *b, uint32_t node, uint64_t pages)
{
    /* xen-api without node claims never reaches Xen (build.h claims_enosys). */
    if (b->spec.claims_enosys)
        return -ENOSYS;
    return xf_hv_claim(b->hv, b->res.domid, node, pages);
}

static int place_and_claim(struct xf_build *b)
{
    struct xf_build_placement pl = b->spec.placement;
    xf_domid_t d = b->res.domid;
    bool xapi = xf_policy_is_xapi(b->spec.policy);
    int r;

    if (b->spec.place) {
        r = b->spec.place(b->spec.place_ctx, b->hv, d, &pl);
        if (r < 0)
            return r;
    }
    /* xenfit sets its affinity before claiming (or already did, right after
     * create); xen-api decides after the node claim (below). */
    if (!xapi && pl.node_mask && !(b->spec.affinity_first && pl.node_mask == b->res.node_mask)) {
        r = set_affinity(b, pl.node_mask);
        if (r < 0)
            return r;
    }
    if (pl.claim.kind == XF_CLAIM_NONE)
        return 0;

    enum xf_claim_kind kind = pl.claim.kind;
    uint64_t pages = pl.claim.pages;
    uint32_t node = kind == XF_CLAIM_NODE ? pl.claim.node : XF_NODE_ANY;
    for (;;) {
        r = claim(b, node, pages);
        if (kind == XF_CLAIM_NODE) {
            b->res.node_claim_err = r;
            /* domain.ml numa_placement: set_vcpu_affinity after the node
             * claim, only where that version does (claims.h). */
            if (xapi && pl.node_mask && xf_claim_sets_affinity(b->spec.policy, r)) {
                int ar = set_affinity(b, pl.node_mask);
                if (ar < 0)
                    return ar;
            }
        }
        switch (xf_claim_classify(b->spec.policy, kind, r)) {
        case XF_CLAIM_NEXT_DONE:
            b->claimed = true;
            b->res.claimed = kind;
            b->claim_node = node;
            return 0;
        case XF_CLAIM_NEXT_GLOBAL:
            if (kind != XF_CLAIM_NODE || pl.claim.global_pages == 0)
                return 0; /* nothing to fall back to: unclaimed */
            kind = XF_CLAIM_GLOBAL;
            node = XF_NODE_ANY;
            pages = pl.claim.global_pages;
            continue;
        case XF_CLAIM_NEXT_UNCLAIMED:
            return 0;
        case XF_CLAIM_NEXT_FAIL:
        default:
            return r < 0 ? r : XF_ECLAIM;
        }
    }
}

/* xen-api's wait_xen_free_mem compares physinfo free_pages alone. */
static int physinfo_free(void *ctx, struct xf_hv *hv, uint64_t *ret_pages)
{
    struct xf_hv_physinfo pi;
    int r = xf_hv_physinfo(hv, &pi);
    (void)ctx;
    if (r < 0)
        return r;
    *ret_pages = pi.free_pages;
    return 0;
}

/* XF_BUILD_FREE_CHECK: 0 when enough is free, 1 to sleep and check again,
 * XF_ENOFIT (Not_enough_memory) or a backend error. */
static int free_check(struct xf_build *b, uint64_t *ret_sleep_ns)
{
    if (!b->free_wait_started) {
        struct xf_wait_params wp = {.needed_pages = b->spec.free_check_pages,
                                    .available = physinfo_free,
                                    .log = b->spec.log,
                                    .log_ctx = b->spec.log_ctx,
                                    .xapi_schedule = true,
                                    .xapi_log_at_zero = b->spec.policy != XF_POLICY_PRE6869};
        xf_wait_init(&b->free_wait, &wp);
        b->free_wait_started = true;
    }
    int r = xf_wait_step(&b->free_wait, b->hv, ret_sleep_ns);
    b->res.free_found_pages = b->free_wait.last_available_pages;
    return r;
}

static int populate_some(struct xf_build *b)
{
    uint64_t left = b->spec.populate_pages - b->res.populated_pages;
    struct xf_hv_populate req = {.node = XF_NODE_ANY};

    /* A claim on one node means xenopsd passed -mem_pnode, and xenguest
     * populates with XENMEMF_exact_node there (libxc xc_dom_x86.c meminit):
     * the node's own memory, dirty or not, rather than clean memory elsewhere. */
    if (b->res.claimed == XF_CLAIM_NODE) {
        req.node = b->claim_node;
        req.exact_node = true;
    }
    uint64_t done = 0;
    int r;

    if (left >= EXTENT_PAGES) {
        uint64_t n = left / EXTENT_PAGES;
        req.order = EXTENT_ORDER;
        req.nr_extents = n < b->spec.extents_per_step ? n : b->spec.extents_per_step;
    } else {
        req.order = 0;
        req.nr_extents = left;
    }
    r = xf_hv_populate(b->hv, b->res.domid, &req, &done);
    b->res.populated_pages += done << req.order;
    return r;
}

static void count_off_plan(struct xf_build *b)
{
    struct xf_hv_domain_info info;
    if (!b->res.node_mask || xf_hv_domain_info(b->hv, b->res.domid, &info) < 0)
        return;
    for (unsigned n = 0; n < XF_MAX_NODES; n++)
        if (!(b->res.node_mask & (UINT64_C(1) << n)))
            b->res.pages_off_plan += info.pages_per_node[n];
}

static bool measures(enum xf_build_phase p)
{
    return p == XF_BUILD_CREATE || p == XF_BUILD_AFFINITY || p == XF_BUILD_MAX_VCPUS ||
           p == XF_BUILD_PAGING_POOL;
}

static uint64_t free_pages(struct xf_hv *hv, bool *ok)
{
    struct xf_hv_physinfo pi;
    if (xf_hv_physinfo(hv, &pi) < 0) {
        *ok = false;
        return 0;
    }
    return pi.free_pages;
}

/* NOLINTNEXTLINE(readability-non-const-parameter): the scheduler's step signature */
int xf_build_step(void *build, struct xf_hv *hv, uint64_t *ret_sleep_ns)
{
    struct xf_build *b = build;
    const struct xf_build_spec *s = &b->spec;
    bool ok = true;
    uint64_t before = 0;
    int r = 0;

    (void)hv;
    if (measures(b->res.phase))
        before = free_pages(b->hv, &ok);
    switch (b->res.phase) {
    case XF_BUILD_CREATE:
        /* Since Xen 4.12 the vCPU count is fixed at creation (max_vcpus in
         * xen_domctl_createdomain); max_vcpus must then repeat it. */
        r = xf_hv_domain_create_vcpus(b->hv, s->type, s->vcpus, &b->res.domid);
        if (r < 0)
            b->res.domid = UINT32_MAX;
        break;
    case XF_BUILD_AFFINITY:
        /* xenfit only: xenopsd sets affinity after the pool (claims.h). */
        if (s->affinity_first && !s->place && s->placement.node_mask &&
            !xf_policy_is_xapi(s->policy)) {
            r = xf_hv_set_node_affinity(b->hv, b->res.domid, s->placement.node_mask);
            if (r == 0)
                b->res.node_mask = s->placement.node_mask;
        }
        break;
    case XF_BUILD_FREE_CHECK:
        if (s->free_check_pages) {
            r = free_check(b, ret_sleep_ns);
            if (r == 1)
                return 1; /* xen-api polls once a second */
        }
        break;
    case XF_BUILD_MAX_VCPUS:
        r = xf_hv_set_max_vcpus(b->hv, b->res.domid, s->vcpus);
        break;
    case XF_BUILD_MAX_PAGES:
        r = xf_hv_set_max_pages(b->hv, b->res.domid, s->max_pages);
        break;
    case XF_BUILD_PAGING_POOL:
        /* A PV domain has no paging pool until it needs shadow mode (for
         * log-dirty migration); Xen refuses to size one (EOPNOTSUPP, seen in
         * the real-Xen tier). xen-api still counts shadow_mib for it. */
        if (s->type != XF_DOMAIN_PV)
            r = xf_hv_set_paging_pool(b->hv, b->res.domid, s->paging_pool_pages);
        break;
    case XF_BUILD_PLACE_CLAIM:
        r = place_and_claim(b);
        break;
    case XF_BUILD_POPULATE:
        if (b->res.populated_pages < s->populate_pages) {
            r = populate_some(b);
            if (r == 0 && b->res.populated_pages < s->populate_pages)
                return 1; /* more extents to go: stay in this phase */
        }
        break;
    case XF_BUILD_CANCEL_CLAIM:
        if (b->claimed) {
            r = xf_hv_claim(b->hv, b->res.domid, XF_NODE_ANY, 0);
            if (r == 0)
                b->claimed = false;
        }
        break;
    case XF_BUILD_UNPAUSE:
        r = xf_hv_unpause(b->hv, b->res.domid);
        if (r == 0)
            count_off_plan(b);
        break;
    case XF_BUILD_DONE:
        return b->res.err;
    }
    if (r < 0)
        return fail(b, r);
    if (measures(b->res.phase)) {
        uint64_t after = free_pages(b->hv, &ok);
        if (b->res.phase == XF_BUILD_CREATE)
            b->measure_ok = ok;
        b->measure_ok = b->measure_ok && ok && after <= before;
        if (b->measure_ok)
            b->res.overhead_pages += before - after;
        if (b->res.phase == XF_BUILD_PAGING_POOL)
            b->res.overhead_known = b->measure_ok;
    }
    b->res.phase++;
    return b->res.phase == XF_BUILD_DONE ? 0 : 1;
}

int xf_build_run(struct xf_build *b)
{
    int r;
    do {
        uint64_t sleep_ns = 0;
        r = xf_build_step(b, b->hv, &sleep_ns);
        if (r == 1 && sleep_ns) {
            int sr = xf_hv_sleep_ns(b->hv, sleep_ns);
            if (sr < 0)
                return sr;
        }
    } while (r == 1);
    return r;
}
