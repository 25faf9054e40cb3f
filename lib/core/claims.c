/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Claim policy and errno classification (include/xenfit/claims.h).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "xenfit/claims.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

static const char *const policy_names[] = {
    [XF_POLICY_PRE6869] = "xapi-pre-6869",
    [XF_POLICY_XAPI6869] = "xapi-6869",
    [XF_POLICY_XAPI202602] = "xapi-2026.02",
    [XF_POLICY_XENFIT] = "xenfit",
};

const char *xf_policy_name(enum xf_policy p)
{
    if ((unsigned)p >= XF_ARRAY_SIZE(policy_names))
        return NULL;
    return policy_names[p];
}

int xf_policy_parse(const char *name, enum xf_policy *ret)
{
    for (unsigned i = 0; name && i < XF_ARRAY_SIZE(policy_names); i++) {
        if (strcmp(name, policy_names[i]) == 0) {
            *ret = (enum xf_policy)i;
            return 0;
        }
    }
    return XF_EINVAL;
}

bool xf_policy_is_xapi(enum xf_policy p)
{
    return p != XF_POLICY_XENFIT;
}

const char *xf_claim_kind_name(enum xf_claim_kind k)
{
    switch (k) {
    case XF_CLAIM_NONE:
        return "none";
    case XF_CLAIM_NODE:
        return "node";
    case XF_CLAIM_GLOBAL:
        return "global";
    }
    return "?";
}

const char *xf_claim_next_name(enum xf_claim_next n)
{
    switch (n) {
    case XF_CLAIM_NEXT_DONE:
        return "claimed";
    case XF_CLAIM_NEXT_GLOBAL:
        return "fall back to a global claim";
    case XF_CLAIM_NEXT_UNCLAIMED:
        return "build unclaimed";
    case XF_CLAIM_NEXT_FAIL:
        return "fail";
    }
    return "?";
}

/* PR 6869's shape: a node claim on a single-node plan, with the same pages
 * globally to fall back to; otherwise a global claim. */
static struct xf_claim_plan node_or_global(const struct xf_claim_input *in, uint64_t pages)
{
    struct xf_claim_plan p = {.kind = XF_CLAIM_GLOBAL, .pages = pages};
    if (in->numa_placement_on && in->plan_nodes == 1) {
        p.kind = XF_CLAIM_NODE;
        p.node = in->plan_first_node;
        p.global_pages = pages;
    }
    return p;
}

int xf_claim_plan_for(const struct xf_claim_input *in, struct xf_claim_plan *ret)
{
    struct xf_claim_plan p = {.kind = XF_CLAIM_NONE};
    uint64_t pages;

    if (!in->mc || (in->migration && in->source_total_pages == 0))
        return XF_EINVAL;
    /* PR 6869: claim what is left to allocate, the build start (the paging
     * pool is already allocated); a migration claims the source's memory. */
    pages = in->migration ? in->source_total_pages : in->mc->build_claim_pages;

    switch (in->policy) {
    case XF_POLICY_PRE6869:
        /* Before PR 6869 the claim was xen_max_mib, and only for a single-node
         * plan (domain.ml build_pre and numa_placement at
         * 87178fcaebf9d4f9fcfe14c053fea9460e651c93: numa_placement is given
         * "~memory:(Int64.mul memory.xen_max_mib 1048576L)"); there was no
         * memory_total_source, so a migration claimed the same. */
        if (in->numa_placement_on && in->plan_nodes == 1) {
            p.kind = XF_CLAIM_NODE;
            p.node = in->plan_first_node;
            p.pages = xf_pages_of_mib(in->mc->xen_max_mib);
        }
        break;
    case XF_POLICY_XAPI6869:
    case XF_POLICY_XAPI202602:
        /* domain.ml build_pre at 1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7:
         * placement "any" or hard affinity: no claims at all; otherwise the
         * node claim of numa_placement, or the global claim. */
        if (!in->numa_placement_on)
            break;
        p = node_or_global(in, pages);
        break;
    case XF_POLICY_XENFIT:
        /* Every build claims, so claimed builds never meet unclaimed ones.
         * Beyond PR 6869, the claim also covers the room the model keeps
         * inside xen_max for what the builder adds to the build start
         * (firmware, special pages: extra_internal, up to 1 MiB), so that
         * nothing the builder populates is left to the unclaimed gate. */
        if (!in->migration) {
            uint64_t room = xf_pages_of_mib(in->mc->xen_max_mib);
            uint64_t want = pages + XF_PAGES_PER_MIB;
            if (room > pages)
                pages = want < room ? want : room;
        }
        p = node_or_global(in, pages);
        break;
    default:
        return XF_EINVAL;
    }
    *ret = p;
    return 0;
}

static bool lacks_node_claims(int err)
{
    return err == -ENOSYS || err == -EOPNOTSUPP || err == -EPERM;
}

enum xf_claim_next xf_claim_classify(enum xf_policy policy, enum xf_claim_kind kind, int err)
{
    if (err == 0)
        return XF_CLAIM_NEXT_DONE;
    if (kind == XF_CLAIM_NODE) {
        switch (policy) {
        case XF_POLICY_PRE6869:
            /* domain.ml numa_placement at 87178fcaebf9d4f9fcfe14c053fea9460e651c93:
             * "Unix_error (errno, _) -> ... won't be hosted in a single NUMA
             * node": None, and build_pre builds unclaimed. */
            return XF_CLAIM_NEXT_UNCLAIMED;
        case XF_POLICY_XAPI6869:
            /* domain.ml numa_placement at 1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7
             * catches only "Unix_error ((Unix.ENOMEM as errno), _)"; anything
             * else (ENOSYS when xen-api is built for a Xen without node
             * claims) escapes to build_pre's log_reraise "NUMA placement":
             * Domain_build_pre_failed. */
            return err == -ENOMEM ? XF_CLAIM_NEXT_GLOBAL : XF_CLAIM_NEXT_FAIL;
        case XF_POLICY_XAPI202602:
            /* numa_placement at 7fb8485a7322e1a2123beb2658cb3e51d2246cbb:
             * "Error (Unix.ENOMEM, _) -> None" and "Error (err, fn) -> ...
             * None": both go on to build_pre's global claim. */
            return XF_CLAIM_NEXT_GLOBAL;
        case XF_POLICY_XENFIT:
        default:
            if (err == -ENOMEM || lacks_node_claims(err))
                return XF_CLAIM_NEXT_GLOBAL;
            return XF_CLAIM_NEXT_FAIL;
        }
    }
    if (kind == XF_CLAIM_GLOBAL) {
        /* At 1c354a4 build_pre calls the global claim inside log_reraise:
         * any error is Domain_build_pre_failed ("A failure here is a hard
         * failure"). */
        if (policy == XF_POLICY_XAPI6869 || err == -ENOMEM)
            return XF_CLAIM_NEXT_FAIL;
        /* 7fb8485a73 (and xenfit): ENOMEM is unlikely to succeed later, a
         * hard failure; anything else (ENOSYS, EINVAL, ...) continues "as if
         * NUMA placement was disabled". */
        return XF_CLAIM_NEXT_UNCLAIMED;
    }
    return XF_CLAIM_NEXT_UNCLAIMED;
}

bool xf_claim_sets_affinity(enum xf_policy policy, int err)
{
    switch (policy) {
    case XF_POLICY_PRE6869:
    case XF_POLICY_XAPI6869:
        /* numa_placement (87178fca..., 1c354a4...): set_vcpu_affinity runs
         * after a successful domain_claim_pages only; the Not_available
         * branch that also sets it is dead code (xenctrlext_stubs.c never
         * raises Not_available: it raises Unix_error ENOSYS). */
        return err == 0;
    case XF_POLICY_XAPI202602:
        /* numa_placement at 7fb8485a73: "Ok () -> set_vcpu_affinity" and
         * "Error (err, fn) -> ... set_vcpu_affinity" for any err but ENOMEM. */
        return err != -ENOMEM;
    case XF_POLICY_XENFIT:
    default:
        return true;
    }
}

uint64_t xf_xapi_node_free_pages(enum xf_policy policy, uint64_t memfree_pages,
                                 uint64_t claimed_pages)
{
    /* PR 6867 (6a2e5ac13d2bb59a11de464e6b3b9cdf6e2fcf5e), domain.ml
     * node_mem_claimable_for_new_vm: "Int64.sub m.free m.claimed". At
     * 1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7 and before, numa_placement
     * used "(numainfo xcext).memory" memfree as it is. */
    if (policy != XF_POLICY_XAPI202602)
        return memfree_pages;
    return memfree_pages > claimed_pages ? memfree_pages - claimed_pages : 0;
}
