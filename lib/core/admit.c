/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Admission (include/xenfit/admit.h).
 */
#include <stdio.h>
#include <string.h>

#include "xenfit/admit.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

void xf_admit_host_params(enum xf_policy policy, struct xf_host_params *ret)
{
    xf_host_params_init(ret);
    if (!xf_policy_is_xapi(policy))
        return;
    ret->ignore_outstanding_claims = true;
    ret->low_mem_reserve_pages =
        policy == XF_POLICY_PRE6869 ? XF_PRE6869_RESERVE_PAGES : XF_XAPI6869_RESERVE_PAGES;
}

struct xf_overhead_coeffs xf_admit_default_coeffs(enum xf_policy policy)
{
    struct xf_overhead_coeffs none = {0, 0};
    return policy == XF_POLICY_PRE6869 ? none : xf_xapi_coeffs;
}

static void refuse(struct xf_admission *a, uint64_t needed_mib, uint64_t available_mib,
                   int32_t node, const char *why)
{
    a->admitted = false;
    a->needed_mib = needed_mib;
    a->available_mib = available_mib;
    a->node = node;
    if (node < 0)
        snprintf(a->reason, sizeof(a->reason),
                 "HOST_NOT_ENOUGH_FREE_MEMORY: needs %llu MiB, the host has %llu MiB free for a "
                 "new VM%s%s",
                 (unsigned long long)needed_mib, (unsigned long long)available_mib,
                 why[0] ? ": " : "", why);
    else
        snprintf(a->reason, sizeof(a->reason),
                 "HOST_NOT_ENOUGH_FREE_MEMORY: needs %llu MiB, node %d has %llu MiB%s%s",
                 (unsigned long long)needed_mib, node, (unsigned long long)available_mib,
                 why[0] ? ": " : "", why);
}

/* A VM restricted to the nodes of its pinned CPUs that does not fit them:
 * the numbers are those nodes' (node: the one node, or -1 for several). */
static void refuse_pinned(struct xf_admission *a, uint64_t allowed)
{
    const struct xf_nofit *nf = &a->plan.nofit;
    /* The nodes, runs of three or more as ranges ("0-3,8,9"); a list that would not leave the
     * sentence its numbers ends in "..." (the reason holds 256 bytes). */
    char list[96] = "";
    size_t at = 0;

    for (uint64_t m = allowed; m;) {
        int first = __builtin_ctzll(m), last = first;
        while (last < 63 && (m >> (last + 1)) & 1)
            last++;
        m &= last == 63 ? 0 : ~0ULL << (last + 1);
        char run[16];
        int n = last == first       ? snprintf(run, sizeof(run), "%d", first)
                : last == first + 1 ? snprintf(run, sizeof(run), "%d,%d", first, last)
                                    : snprintf(run, sizeof(run), "%d-%d", first, last);
        if (at + (at ? 1 : 0) + (size_t)n + 4 > sizeof(list)) {
            memcpy(list + at, "...", 4);
            break;
        }
        at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", at ? "," : "", run);
    }
    a->admitted = false;
    a->needed_mib = nf->memory_mib_needed;
    a->available_mib = nf->host_free_mib;
    a->node = allowed && (allowed & (allowed - 1)) == 0 ? (int32_t)nf->best_node : -1;
    snprintf(a->reason, sizeof(a->reason),
             "HOST_NOT_ENOUGH_FREE_MEMORY: needs %llu MiB on the node%s of its pinned CPUs (%s), "
             "which %s %llu MiB free for a new VM",
             (unsigned long long)nf->memory_mib_needed, a->node < 0 ? "s" : "", list,
             a->node < 0 ? "have" : "has", (unsigned long long)nf->host_free_mib);
}

/* Each node's free memory for the planner, in MiB rounded down ("free"),
 * clamped to what a planner can hold. */
static void node_free_mib_of(const struct xf_host_free *free, uint32_t nr_nodes,
                             uint64_t ret[XF_MAX_NODES])
{
    for (uint32_t n = 0; n < nr_nodes && n < XF_MAX_NODES; n++) {
        uint64_t mib = xf_mib_of_pages_free(free->node_free_pages[n]);
        ret[n] = mib > XF_NODE_FREE_MIB_MAX ? XF_NODE_FREE_MIB_MAX : mib;
    }
}

/* Admission, placing (xenfit policy) with `mode` on `topo` (NULL: no
 * placement) against the accounting's node free memory and `counts`. When it
 * places, `sync` (may be NULL) takes the node figures the plan saw, so that a
 * caller's later commit to it is checked against them. */
static int admit(const struct xf_admit_params *params, const struct xf_admit_request *req,
                 const struct xf_host_free *free, const struct xf_topology *topo,
                 enum xf_planner_mode mode, const struct xf_placement_counts *counts,
                 struct xf_planner *sync, struct xf_admission *ret)
{
    struct xf_admission a;
    struct xf_claim_input ci;
    struct xf_vm_memory vm = req->vm;
    uint64_t source_pages = 0, host_free_mib;
    int r;

    memset(&a, 0, sizeof(a));
    a.node = -1;
    /* xapi sizes a starting VM from dynamic_min, a pv_in_pvh one from its
     * static max (ocaml/xapi/xapi_vm_helpers.ml, assert_enough_memory_available),
     * with the VM's shadow multiplier for hvm, pvh and pv_in_pvh
     * (memory_check.ml vm_compute_required_memory); xenfit does the same but
     * takes the multiplier xenopsd builds with (1.0 but for HVM). */
    if (vm.type == XF_DOMAIN_PV_IN_PVH && xf_vm_memory_check(&vm) == 0)
        vm.target_bytes = vm.static_max_bytes;
    if (!xf_policy_is_xapi(params->policy))
        vm = xf_vm_as_xenopsd_builds(&vm);
    r = xf_vm_footprint(&vm, &params->coeffs, &a.mc);
    if (r < 0)
        return r;
    a.footprint_pages = xf_pages_of_mib(a.mc.required_host_free_mib);
    if (req->migration) {
        r = xf_migration_claim_pages(req->source_total_kib, &source_pages);
        if (r < 0)
            return r;
        uint64_t with_overhead = source_pages + xf_pages_of_mib(a.mc.overhead_mib);
        if (xf_policy_is_xapi(params->policy)) {
            /* squeezed reserves memory_limit + overhead for an incoming VM
             * (xenops_server_xen.ml VM.create_exn: min = max = the
             * memory_upper_bound; the overhead from compute_overhead, with
             * multiplier 1.0 but for HVM), before and after PR 6869. On a
             * migration memory_limit is max(memory_actual, maxmem - offset)
             * on the source (VM.get_state), and squeezed keeps maxmem at the
             * target (squeeze_xen.ml make_host): max(source, target). A
             * resume uses the stored suspend_memory_bytes. Failing,
             * Cannot_free_this_much_memory is HOST_NOT_ENOUGH_FREE_MEMORY
             * (xapi_xenops.ml). Before that xapi checks the VM as a start
             * (xapi_vm_migrate.ml assert_can_boot_here; a resume's host is
             * chosen by message_forwarding.ml forward_to_suitable_host):
             * the larger of the two decides. */
            struct xf_vm_memory built = xf_vm_as_xenopsd_builds(&req->vm);
            struct xf_memory_config sq;
            r = xf_vm_footprint(&built, &params->coeffs, &sq);
            if (r < 0)
                return r;
            uint64_t limit = source_pages;
            uint64_t target_pages = xf_pages_of_bytes_used(req->vm.target_bytes);
            if (!req->resume && target_pages > limit)
                limit = target_pages;
            uint64_t reserved = limit + xf_pages_of_mib(sq.overhead_mib);
            if (reserved > a.footprint_pages)
                a.footprint_pages = reserved;
        } else if (with_overhead > a.footprint_pages) {
            /* xenfit reserves what the VM holds on its source (or held when
             * suspended), plus the overhead around the guest's own pages. */
            a.footprint_pages = with_overhead;
        }
    }
    host_free_mib = xf_mib_of_pages_free(free->host_free_pages);

    if (a.footprint_pages > free->host_free_pages) {
        refuse(&a, xf_mib_of_pages_used(a.footprint_pages), host_free_mib, -1, "");
        *ret = a;
        return 0;
    }
    a.admitted = true;

    if (params->policy != XF_POLICY_XENFIT) {
        /* xenopsd places and claims at build time. */
        *ret = a;
        return 0;
    }

    bool numa_on = params->numa_policy != XF_NUMA_POLICY_ANY && !req->hard_affinity;
    if (numa_on && topo) {
        struct xf_numa_request nr = xf_admit_numa_request(
            req, xf_mib_of_pages_used(a.footprint_pages), params->numa_policy);
        uint64_t node_free_mib[XF_MAX_NODES] = {0};
        node_free_mib_of(free, xf_topology_nr_nodes(topo), node_free_mib);
        for (uint32_t n = 0; sync && n < xf_topology_nr_nodes(topo); n++)
            if ((r = xf_planner_set_node_free(sync, n, node_free_mib[n])) < 0)
                return r;
        r = xf_plan_numa(topo, mode, node_free_mib, counts, &nr, &a.plan);
        if (r < 0)
            return r;
        a.placed = a.plan.outcome == XF_PLAN_NODES;
        if (!a.placed && req->nodes_allowed && a.plan.outcome == XF_PLAN_NO_FIT) {
            refuse_pinned(&a, req->nodes_allowed & xf_topology_reachable(topo));
            *ret = a;
            return 0;
        }
    }

    memset(&ci, 0, sizeof(ci));
    ci.policy = params->policy;
    ci.numa_placement_on = a.placed;
    ci.plan_nodes = a.placed ? a.plan.nr_nodes : 0;
    ci.plan_first_node = a.placed ? (uint32_t)__builtin_ctzll(a.plan.node_mask) : 0;
    ci.mc = &a.mc;
    ci.migration = req->migration;
    ci.source_total_pages = source_pages;
    r = xf_claim_plan_for(&ci, &a.claim);
    if (r < 0)
        return r;
    *ret = a;
    return 0;
}

struct xf_numa_request xf_admit_numa_request(const struct xf_admit_request *req,
                                             uint64_t footprint_mib, enum xf_numa_policy policy)
{
    struct xf_numa_request nr = {
        .memory_mib = footprint_mib,
        .vcpus = req->vm.vcpus,
        .cores = XF_CORES_FROM_POLICY,
        .policy = policy,
        .nodes_allowed = req->nodes_allowed,
    };
    /* Pinned vCPUs run where they are pinned, however many CPUs those nodes
     * have: the nodes are chosen for memory alone. */
    if (req->nodes_allowed) {
        nr.vcpus = 1;
        nr.cores = 0;
    }
    return nr;
}

int xf_admit_on_topology(const struct xf_admit_params *params, const struct xf_admit_request *req,
                         const struct xf_host_free *free, const struct xf_topology *topo,
                         const struct xf_placement_counts *counts, struct xf_admission *ret)
{
    return admit(params, req, free, topo, XF_PLANNER_XENFIT, counts, NULL, ret);
}

int xf_admit(const struct xf_admit_params *params, const struct xf_admit_request *req,
             const struct xf_host_free *free, struct xf_planner *planner, struct xf_admission *ret)
{
    if (!planner)
        return admit(params, req, free, NULL, XF_PLANNER_XENFIT, NULL, NULL, ret);
    return admit(params, req, free, xf_planner_topology(planner), xf_planner_mode(planner),
                 xf_planner_counts(planner), planner, ret);
}
