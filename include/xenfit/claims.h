/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Claim policy: what a build claims from Xen (XENMEM_claim_pages), what to do
 * when a claim fails, and whether the vCPUs then get soft affinity (which is
 * what steers Xen's allocations to a node: a domain's node affinity follows
 * its vCPUs' soft affinity). Four styles, side by side; every xen-api fact is
 * cited with its file, function and commit (docs/scenario.md has the table):
 *
 *  - XF_POLICY_PRE6869: xenopsd before PR 6869, at the merge's parent
 *    87178fcaebf9d4f9fcfe14c053fea9460e651c93 (domain.ml numa_placement,
 *    build_pre): a node claim of xen_max_mib when the plan is one node; on
 *    success soft affinity; any error, or any other plan: unclaimed and no
 *    affinity. Claims and unclaimed builds mix.
 *  - XF_POLICY_XAPI6869: exactly the merge commit
 *    1c354a4bb05b2b3b3b9dd50bcdc756ed89127eb7 (domain.ml numa_placement,
 *    build_pre): a node claim of build_claim_pages on a single-node plan;
 *    soft affinity only if it succeeds; ENOMEM falls back to a global claim
 *    of the same pages; any other error fails the build (log_reraise). A
 *    multi-node or failed plan makes the global claim; any error of the
 *    global claim fails the build. Placement "any" or hard affinity: nothing.
 *  - XF_POLICY_XAPI202602: the merge plus PR 6867 (node free memory net of
 *    per-node claimed, 6a2e5ac13d2bb59a11de464e6b3b9cdf6e2fcf5e) and commit
 *    7fb8485a7322e1a2123beb2658cb3e51d2246cbb (CA-423668): a node claim's
 *    ENOMEM falls back to the global claim without affinity; any other error
 *    sets soft affinity and falls back to the global claim; a global ENOMEM
 *    fails the build, any other global error builds unclaimed.
 *  - XF_POLICY_XENFIT: DESIGN.md section 3: as PR 6869, but every build
 *    claims (placement on or off, so claims never mix), the claim also covers
 *    the builder's additions to the build start (firmware and special pages,
 *    within the 1 MiB of xen_max beyond static max: min(xen_max, build_start
 *    + 1 MiB)) so nothing populated is left unclaimed, a node claim falls
 *    back to a global one only on ENOMEM (space) or ENOSYS/EOPNOTSUPP/EPERM
 *    (no node claims in this Xen); any other node-claim error is reported.
 *
 * An incoming migration or resume claims exactly the source's memory
 * (xf_migration_claim_pages) in every style that claims, except pre-6869,
 * which claims xen_max. The paging pool is never claimed: it is allocated
 * before the claim is made.
 */
#ifndef XENFIT_CLAIMS_H
#define XENFIT_CLAIMS_H

#include <stdbool.h>
#include <stdint.h>

#include "xenfit/model.h"

enum xf_policy {
    XF_POLICY_PRE6869,
    XF_POLICY_XAPI6869,
    XF_POLICY_XAPI202602,
    XF_POLICY_XENFIT,
};

#define XF_NR_POLICIES 4

/* "xapi-pre-6869", "xapi-6869", "xapi-2026.02", "xenfit"; NULL for an
 * unknown policy. */
const char *xf_policy_name(enum xf_policy p);
int xf_policy_parse(const char *name, enum xf_policy *ret);

/* Whether the policy emulates xen-api (any but XF_POLICY_XENFIT). */
bool xf_policy_is_xapi(enum xf_policy p);

enum xf_claim_kind {
    XF_CLAIM_NONE,   /* build unclaimed */
    XF_CLAIM_NODE,   /* claim on one NUMA node (patched Xen) */
    XF_CLAIM_GLOBAL, /* host-wide claim */
};

const char *xf_claim_kind_name(enum xf_claim_kind k);

struct xf_claim_plan {
    enum xf_claim_kind kind;
    uint32_t node;         /* for XF_CLAIM_NODE */
    uint64_t pages;        /* the claim's target: the domain's total pages */
    uint64_t global_pages; /* a global claim to fall back to; 0: none */
};

/* What the caller knows when it plans the claim. */
struct xf_claim_input {
    enum xf_policy policy;
    bool numa_placement_on;   /* NUMA placement enabled (policy other than any) */
    uint32_t plan_nodes;      /* nodes in the placement plan; 0 = no plan */
    uint32_t plan_first_node; /* the node when plan_nodes == 1 */
    const struct xf_memory_config *mc;
    bool migration;              /* incoming migration or resume */
    uint64_t source_total_pages; /* with migration: the source's memory */
};

/* Decides the claim. Returns 0 and *ret, or XF_EINVAL for an unknown policy
 * or a migration without source pages. */
int xf_claim_plan_for(const struct xf_claim_input *in, struct xf_claim_plan *ret);

/* What to do after a claim returned `err` (0 or a negative errno). */
enum xf_claim_next {
    XF_CLAIM_NEXT_DONE,      /* claimed: build */
    XF_CLAIM_NEXT_GLOBAL,    /* node claim failed: try the global claim */
    XF_CLAIM_NEXT_UNCLAIMED, /* build without a claim */
    XF_CLAIM_NEXT_FAIL,      /* hard failure: report it */
};

const char *xf_claim_next_name(enum xf_claim_next n);

/* The errno classification of each style (see the file comment). */
enum xf_claim_next xf_claim_classify(enum xf_policy policy, enum xf_claim_kind kind, int err);

/*
 * xen-api: whether numa_placement sets the vCPUs' soft affinity to the planned
 * node after its node claim returned `err` (0 or a negative errno): after a
 * success in every xen-api version; after a non-ENOMEM error only since
 * 7fb8485a73 (XF_POLICY_XAPI202602). At 1c354a4 such an error fails the
 * build; before it, any error left the domain without affinity. xenfit sets
 * its node affinity itself, before allocating: always true for it.
 */
bool xf_claim_sets_affinity(enum xf_policy policy, int err);

/*
 * xen-api: a node's free memory as numa_placement plans on it: numainfo
 * memfree at 1c354a4 and before; memfree - claimed (floored at 0) since PR
 * 6867 (domain.ml node_mem_claimable_for_new_vm), in XF_POLICY_XAPI202602.
 */
uint64_t xf_xapi_node_free_pages(enum xf_policy policy, uint64_t memfree_pages,
                                 uint64_t claimed_pages);

#endif
