/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Claim policy: what a build claims from Xen (XENMEM_claim_pages) and what
 * to do when a claim fails. Three styles, side by side:
 *
 *  - XF_POLICY_PRE6869: xenopsd before xen-api PR 6869 (ocaml/xenopsd/xc/
 *    domain.ml at 1c354a4^, numa_placement and build_pre): a node claim of
 *    xen_max_mib only when NUMA placement found a single node; any error, or
 *    any other plan, builds unclaimed. Claims and unclaimed builds mix.
 *  - XF_POLICY_XAPI6869: xenopsd after PR 6869 (domain.ml, numa_placement,
 *    build_pre): a node claim of build_claim_pages on a single-node plan; on
 *    any node-claim error, or a multi-node or failed plan, a global claim of
 *    the same pages; a global ENOMEM is a hard failure, other global errors
 *    build unclaimed. With placement off ("any") nothing claims.
 *  - XF_POLICY_XENFIT: DESIGN.md section 3: as PR 6869, but every build
 *    claims (placement on or off, so claims never mix), the claim also covers
 *    the builder's additions to the build start (firmware and special pages,
 *    within the 1 MiB of xen_max beyond static max: min(xen_max, build_start
 *    + 1 MiB)) so nothing populated is left unclaimed, a node claim falls
 *    back to a global one only on ENOMEM (space) or ENOSYS/EOPNOTSUPP/EPERM
 *    (no node claims in this Xen); any other node-claim error is reported.
 *
 * An incoming migration or resume claims exactly the source's memory
 * (xf_migration_claim_pages) in every style that claims. The paging pool is
 * never claimed: it is allocated before the claim is made.
 */
#ifndef XENFIT_CLAIMS_H
#define XENFIT_CLAIMS_H

#include <stdbool.h>
#include <stdint.h>

#include "xenfit/model.h"

enum xf_policy {
    XF_POLICY_PRE6869,
    XF_POLICY_XAPI6869,
    XF_POLICY_XENFIT,
};

/* "xapi-pre-6869", "xapi-6869", "xenfit"; NULL for an unknown policy. */
const char *xf_policy_name(enum xf_policy p);
int xf_policy_parse(const char *name, enum xf_policy *ret);

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

#endif
