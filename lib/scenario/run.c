/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Running a scenario under one policy (include/xenfit/scenario.h). The
 * runner is the toolstack: for each boot it admits (waiting for freed memory
 * when a dying domain still holds some), reserves in the ledger, builds with
 * the toolstack emulator, and settles the reservation; parallel groups are
 * interleaved by the simulator's seeded scheduler, each admission one atomic
 * step (as xapi and xenfitd decide one request at a time).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "scenario-internal.h"
#include "xenfit/admit.h"
#include "xenfit/error.h"
#include "xenfit/host.h"
#include "xenfit/ledger.h"
#include "xenfit/units.h"
#include "xenfit/wait.h"

const char *xf_scn_outcome_name(enum xf_scn_outcome o)
{
    switch (o) {
    case XF_SCN_NOT_RUN:
        return "not_run";
    case XF_SCN_BOOTED:
        return "booted";
    case XF_SCN_REFUSED:
        return "refused";
    case XF_SCN_FAILED:
        return "failed";
    case XF_SCN_STOPPED:
        return "stopped";
    }
    return "?";
}

void xf_node_list(uint64_t mask, char *buf, size_t len)
{
    size_t off = 0;
    if (!len)
        return;
    buf[0] = '\0';
    if (!mask) {
        snprintf(buf, len, "-");
        return;
    }
    for (unsigned n = 0; n < 64 && off < len; n++)
        if (mask & (UINT64_C(1) << n)) {
            int k = snprintf(buf + off, len - off, "%s%u", off ? "," : "", n);
            if (k < 0)
                return;
            off += (size_t)k;
        }
}

void xf__scn_log(struct xf__scn_run *run, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    if (!run->o.log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    run->o.log(run->o.log_ctx, msg);
}

/* The host accounting the run's policy sees now. */
static int account(struct xf__scn_run *run, struct xf_host_free *ret)
{
    struct xf_host_snapshot snap;
    int r = xf_host_snapshot_read(run->hv, &snap);
    if (r < 0)
        return r;
    if (run->o.policy != XF_POLICY_XENFIT)
        for (uint32_t n = 0; n < snap.nr_nodes; n++)
            snap.nodes[n].dma_free_pages = 0; /* xapi knows nothing of the DMA zone */
    r = xf_host_free_for_new_vm(&snap, run->ledger, &run->hp, ret);
    run->nr_dying = snap.nr_dying; /* as of this reading */
    xf_host_snapshot_done(&snap);
    return r;
}

static void wait_log(void *ctx, const char *msg)
{
    struct xf__scn_task *t = ctx;
    xf__scn_log(t->run, "%s: %s", t->run->rep->vms[t->vm].name, msg);
}

/* What a waiting admission watches: the host's free memory for a new VM or,
 * when it waits to be placed on one node, the best node's. */
static int wait_available(void *ctx, struct xf_hv *hv, uint64_t *ret_pages)
{
    struct xf__scn_task *t = ctx;
    struct xf_host_free f;
    uint64_t best = 0;
    int r;
    (void)hv;
    r = account(t->run, &f);
    if (r < 0)
        return r;
    if (!t->wait_for_node) {
        *ret_pages = f.host_free_pages;
        return 0;
    }
    for (uint32_t n = 0; n < xf_topology_nr_nodes(t->run->topo); n++)
        if (f.node_free_pages[n] > best)
            best = f.node_free_pages[n];
    *ret_pages = best;
    return 0;
}

/*
 * Starts (or resumes) waiting for memory that dying domains still hold.
 * xenfit waits up to xen-api's 64 s from the first wait, with its own
 * back-off. The xapi policies follow xen-api's wait_xen_free_mem (domain.ml;
 * include/xenfit/wait.h): it gives up at once when physinfo scrub_pages is 0,
 * which on Xen (and in the simulator) it always is. Returns false when there
 * is nothing to wait for or the bound has passed.
 */
static bool start_wait(struct xf__scn_task *t, struct xf_hv *hv, bool for_node)
{
    uint64_t now = xf_hv_now_ns(hv), spent;
    bool xapi = xf_policy_is_xapi(t->run->o.policy);

    /* run->nr_dying is from the admission that just refused. */
    if (!t->run->nr_dying)
        return false;
    spent = t->waited ? now - t->wait_start_ns : 0;
    if (spent >= XF_WAIT_TIMEOUT_NS_DEFAULT)
        return false;
    struct xf_wait_params wp = {.needed_pages = t->adm.footprint_pages,
                                .timeout_ns = XF_WAIT_TIMEOUT_NS_DEFAULT - spent,
                                .available = wait_available,
                                .available_ctx = t,
                                .log = wait_log,
                                .log_ctx = t,
                                .xapi_schedule = xapi,
                                .xapi_log_at_zero = t->run->o.policy != XF_POLICY_PRE6869};
    t->wait_for_node = for_node;
    xf_wait_init(&t->wait, &wp);
    if (xapi) {
        /* The first check now: it returns at once unless Xen is scrubbing. */
        uint64_t sleep_ns = 0;
        if (xf_wait_step(&t->wait, hv, &sleep_ns) != 1)
            return false;
    }
    if (!t->waited) {
        t->waited = true;
        t->wait_start_ns = now;
        t->run->rep->totals.waits++;
    }
    t->phase = XF__SCN_WAIT;
    return true;
}

int xf__scn_admit_against(struct xf__scn_run *run, const struct xf_scn_vm_def *d,
                          enum xf__scn_arrival arrival, const struct xf_host_free *f,
                          struct xf_admission *ret)
{
    struct xf_admit_params p = {.policy = run->o.policy, .numa_policy = run->s->numa_policy};
    struct xf_admit_request req = {.vm = d->vm,
                                   .migration = arrival != XF__SCN_START,
                                   .resume = arrival == XF__SCN_RESUME,
                                   .source_total_kib = xf__scn_source_kib(d, arrival),
                                   .hard_affinity = d->hard_affinity};
    p.coeffs = run->o.policy == XF_POLICY_XENFIT
                   ? xf_calib_online_coeffs(run->calib, d->vm.type, d->vm.vcpus)
                   : xf_admit_default_coeffs(run->o.policy);
    return xf_admit(&p, &req, f, run->o.policy == XF_POLICY_XENFIT ? run->planner : NULL, ret);
}

int xf__scn_account(struct xf__scn_run *run, struct xf_host_free *ret)
{
    return account(run, ret);
}

int xf__scn_admit_check(struct xf__scn_run *run, const struct xf_scn_vm_def *d,
                        enum xf__scn_arrival arrival, struct xf_admission *ret)
{
    struct xf_host_free f;
    int r = account(run, &f);
    if (r < 0)
        return r;
    return xf__scn_admit_against(run, d, arrival, &f, ret);
}

/* Whether one node could hold the VM once dying domains are gone: its memory
 * fits the largest node, and some node has the CPUs and cores its placement
 * policy asks for. */
static bool node_could_hold(const struct xf__scn_task *t)
{
    const struct xf_topology *topo = t->run->topo;
    const struct xf_plan *pl = &t->adm.plan;

    if (!t->run->rep->vms[t->vm].fits_one_node || pl->outcome == XF_PLAN_INTERLEAVE ||
        pl->outcome == XF_PLAN_NUMA_OFF || !t->adm.placed)
        return false;
    for (uint32_t n = 0; n < xf_topology_nr_nodes(topo); n++)
        if (xf_topology_node_cpus(topo, n) >= pl->vcpus &&
            xf_topology_node_cores(topo, n) >= pl->cores)
            return true;
    return false;
}

static int admit_now(struct xf__scn_task *t)
{
    return xf__scn_admit_check(t->run, xf__scn_def(t->run, t->vm), t->arrival, &t->adm);
}

static void refuse(struct xf__scn_task *t)
{
    struct xf_scn_vm_result *res = &t->run->rep->vms[t->vm];
    res->outcome = XF_SCN_REFUSED;
    res->refusals++;
    res->footprint_mib = xf_mib_of_pages_used(t->adm.footprint_pages);
    snprintf(res->reason, sizeof(res->reason), "%s", t->adm.reason);
    t->run->rep->totals.refused++;
    xf__scn_log(t->run, "%s: refused: %s", res->name, t->adm.reason);
}

static int reserve(struct xf__scn_task *t)
{
    struct xf__scn_run *run = t->run;
    struct xf_reservation r;
    uint64_t node_sum = 0;
    int err;

    memset(&r, 0, sizeof(r));
    snprintf(r.owner, sizeof(r.owner), "scenario");
    r.domid = XF_DOMID_NONE;
    r.claim = t->adm.claim;
    if (t->adm.placed) {
        r.node_mask = t->adm.plan.node_mask;
        for (unsigned n = 0; n < XF_MAX_NODES; n++) {
            r.node_pages[n] = xf_pages_of_mib(t->adm.plan.memory_mib_per_node[n]);
            node_sum += r.node_pages[n];
        }
    }
    r.total_pages = t->adm.footprint_pages > node_sum ? t->adm.footprint_pages : node_sum;
    err = xf_ledger_add(run->ledger, &r, &t->res_id);
    if (err < 0)
        return err;
    t->has_res = true;
    if (t->adm.placed) {
        err = xf_planner_commit(run->planner, &t->adm.plan);
        if (err == 0) {
            struct xf__scn_vm *vs = &run->vs[t->vm];
            vs->plan = t->adm.plan;
            vs->committed = true;
        }
    }
    return 0;
}

/* xenopsd's placement and claim at build time (domain.ml numa_placement,
 * build_pre), for the xapi policies: on live numainfo, no ledger. The build
 * (lib/hv/build.c) then claims and sets soft affinity as that version did. */
static int xapi_place(void *ctx, struct xf_hv *hv, xf_domid_t domid, struct xf_build_placement *ret)
{
    struct xf__scn_task *t = ctx;
    struct xf__scn_run *run = t->run;
    const struct xf_scn_vm_def *d = xf__scn_def(run, t->vm);
    struct xf_node_mem nodes[XF_MAX_NODES];
    uint32_t nr = 0;
    struct xf_claim_input ci;
    struct xf_plan plan;
    bool numa_on = run->s->numa_policy != XF_NUMA_POLICY_ANY && !d->hard_affinity;
    int r;

    (void)domid;
    memset(ret, 0, sizeof(*ret));
    memset(&ci, 0, sizeof(ci));
    r = xf_hv_numainfo(hv, XF_MAX_NODES, nodes, run->dist_scratch, &nr);
    if (r < 0)
        return r;
    ci.policy = run->o.policy;
    ci.numa_placement_on = numa_on;
    ci.mc = &t->build_mc;
    ci.migration = t->migration;
    if (t->migration && (r = xf_migration_claim_pages(xf__scn_source_kib(d, t->arrival),
                                                      &ci.source_total_pages)) < 0)
        return r;
    if (numa_on) {
        for (uint32_t n = 0; n < nr && n < xf_topology_nr_nodes(run->topo); n++) {
            /* PR 6867 in 2026.02 only (claims.h). */
            uint64_t avail = xf_xapi_node_free_pages(run->o.policy, nodes[n].memfree_pages,
                                                     nodes[n].claimed_pages);
            (void)xf_planner_set_node_free(run->xo, n, xf_mib_of_pages_free(avail));
        }
        struct xf_numa_request req = {
            .vcpus = d->vm.vcpus,
            .cores = XF_CORES_FROM_POLICY,
            .policy = run->s->numa_policy,
        };
        /* Before 6869 the request was xen_max_mib; since, the build claim
         * (build_claim_pages, or memory_total_source's pages on arrival). */
        req.memory_mib = run->o.policy == XF_POLICY_PRE6869
                             ? t->build_mc.xen_max_mib
                             : xf_mib_of_pages_used(t->migration ? ci.source_total_pages
                                                                 : t->build_mc.build_claim_pages);
        r = xf_planner_plan(run->xo, &req, &plan);
        if (r == 0 && plan.outcome == XF_PLAN_NODES) {
            (void)xf_planner_commit(run->xo, &plan); /* xenopsd's counters */
            ci.plan_nodes = plan.nr_nodes;
            ci.plan_first_node = (uint32_t)__builtin_ctzll(plan.node_mask);
            run->vs[t->vm].planned_nodes = plan.node_mask;
            /* "Xen only allows a single node when using memory claims, or
             * none at all": a multi-node plan gets neither claim nor
             * affinity (numa_placement, every version). */
            if (plan.nr_nodes == 1)
                ret->node_mask = plan.node_mask;
        }
    }
    return xf_claim_plan_for(&ci, &ret->claim);
}

static void build_log(void *ctx, const char *msg)
{
    struct xf__scn_task *t = ctx;
    xf__scn_log(t->run, "%s: build: %s", t->run->rep->vms[t->vm].name, msg);
}

static int start_build(struct xf__scn_task *t)
{
    struct xf__scn_run *run = t->run;
    const struct xf_scn_vm_def *d = xf__scn_def(run, t->vm);
    struct xf_build_spec bs;
    struct xf_sim_truth truth;
    uint64_t source_pages = 0;
    bool xapi = xf_policy_is_xapi(run->o.policy);

    /* What the builder is given: xenopsd builds from the VM's real target
     * (domain.ml build: memory_target), though xapi admitted a pv_in_pvh VM
     * from its static max, and with shadow multiplier 1.0 for every type but
     * HVM (xf_vm_as_xenopsd_builds). Same coefficients as the admission. */
    {
        struct xf_vm_memory built = xf_vm_as_xenopsd_builds(&d->vm);
        struct xf_overhead_coeffs k =
            run->o.policy == XF_POLICY_XENFIT
                ? xf_calib_online_coeffs(run->calib, d->vm.type, d->vm.vcpus)
                : xf_admit_default_coeffs(run->o.policy);
        int r = xf_vm_footprint(&built, &k, &t->build_mc);
        if (r < 0)
            return r;
    }
    memset(&bs, 0, sizeof(bs));
    bs.type = d->vm.type;
    bs.vcpus = d->vm.vcpus;
    bs.max_pages = xf_pages_of_mib(t->build_mc.xen_max_mib);
    bs.paging_pool_pages = xf_pages_of_mib(t->build_mc.shadow_mib);
    if (t->migration) {
        int r = xf_migration_claim_pages(xf__scn_source_kib(d, t->arrival), &source_pages);
        if (r < 0)
            return r;
        bs.populate_pages = source_pages;
        if (source_pages > bs.max_pages)
            bs.max_pages = source_pages;
    } else {
        /* xenguest populates the build start plus what firmware and video
         * need on this Xen: the simulator's truth, as a real builder's. */
        bs.populate_pages = xf_pages_of_mib(t->build_mc.build_start_mib);
        if (xf_sim_truth(run->hv, d->vm.type, &truth) == 0)
            bs.populate_pages += truth.extra_guest_pages;
    }
    bs.policy = run->o.policy;
    bs.log = build_log;
    bs.log_ctx = t;
    if (run->o.policy == XF_POLICY_XENFIT) {
        bs.placement.node_mask = t->adm.placed ? t->adm.plan.node_mask : 0;
        bs.placement.claim = t->adm.claim;
        bs.affinity_first = true;
        run->vs[t->vm].planned_nodes = bs.placement.node_mask;
    } else {
        bs.place = xapi_place;
        bs.place_ctx = t;
    }
    if (xapi) {
        /* build_pre's wait_xen_free_mem for required_host_free_mib. */
        bs.free_check_pages = xf_pages_of_mib(t->build_mc.required_host_free_mib);
        /* xen-api built for a Xen without node claims (build.h). */
        bs.claims_enosys = !run->s->spec->node_claims;
    }
    t->populate_pages = bs.populate_pages;
    return xf_build_new(run->hv, &bs, &t->build);
}

static uint16_t *probe_slot(struct xf__scn_run *run, const struct xf_scn_vm_def *d)
{
    return &run->probing[(size_t)d->vm.type * (XF_VCPUS_MAX + 1) + d->vm.vcpus];
}

static void probe_done(struct xf__scn_task *t)
{
    if (t->probing) {
        (*probe_slot(t->run, xf__scn_def(t->run, t->vm)))--;
        t->probing = false;
    }
}

/*
 * xenfit: as soon as the build has allocated its hidden pages and its pool
 * (before anything is populated), the domain's whole take is known: that
 * overhead plus what will be populated. Feed it to the calibrator at once,
 * so every later admission (even in this parallel group) uses it.
 */
static void observe_overhead(struct xf__scn_task *t, const struct xf_build_result *br)
{
    struct xf__scn_run *run = t->run;
    const struct xf_scn_vm_def *d = xf__scn_def(run, t->vm);
    struct xf_calib_observation o;
    uint64_t needed;

    struct xf_vm_memory vm = d->vm;

    probe_done(t);
    /* An incoming VM populates its source memory, not its target: size the
     * model's fixed terms for that much, so only the overhead is "needed". */
    if (t->migration) {
        uint64_t bytes = xf_bytes_of_pages(t->populate_pages);
        if (bytes > vm.static_max_bytes)
            return;
        vm.target_bytes = bytes;
    }
    if (xf_calib_needed_pages(&vm, br->overhead_pages + t->populate_pages, &needed) < 0)
        return;
    o.type = d->vm.type;
    o.vcpus = d->vm.vcpus;
    o.needed_pages = needed;
    if (xf_calib_online_observe(run->calib, &o) == 1) {
        run->rep->totals.drift_alarms++;
        xf__scn_log(run,
                    "%s: DRIFT: the domain takes %llu pages beyond the model's fixed terms, more "
                    "than the calibrated model predicted; coefficients raised",
                    run->rep->vms[t->vm].name, (unsigned long long)needed);
    }
}

/* Counts the claim a finished build ended with. */
static void count_claim(struct xf_scn_totals *tot, enum xf_claim_kind claimed)
{
    switch (claimed) {
    case XF_CLAIM_NODE:
        tot->claims_node++;
        break;
    case XF_CLAIM_GLOBAL:
        tot->claims_global++;
        break;
    default:
        tot->claims_none++;
    }
}

/* Gives back a plan committed to the placement counters (a build that did
 * not boot holds nothing). */
static void release_plan(struct xf__scn_run *run, struct xf__scn_vm *vs)
{
    if (!vs->committed)
        return;
    (void)xf_planner_release(run->planner, &vs->plan); /* committed: cannot fail */
    vs->committed = false;
}

/* A booted VM: where its memory ended, what it really took (the simulator's
 * hidden pages included: reporting only, no decision reads them). */
static void record_boot(struct xf__scn_task *t, const struct xf_build_result *br)
{
    struct xf__scn_run *run = t->run;
    struct xf_scn_vm_result *res = &run->rep->vms[t->vm];
    struct xf__scn_vm *vs = &run->vs[t->vm];
    struct xf_hv_domain_info info;
    struct xf_sim_domain_state ss;
    uint64_t taken = 0, mask = 0;

    memset(&info, 0, sizeof(info));
    vs->domid = br->domid;
    vs->running = true;
    res->outcome = XF_SCN_BOOTED;
    res->boots++;
    run->rep->totals.booted++;
    if (xf_hv_domain_info(run->hv, br->domid, &info) == 0) {
        taken = info.tot_pages + info.paging_pool_pages;
        for (unsigned n = 0; n < XF_MAX_NODES; n++)
            if (info.pages_per_node[n])
                mask |= UINT64_C(1) << n;
        if (xf_sim_domain_state(run->hv, br->domid, &ss) == 0)
            taken += ss.hidden_pages;
    }
    res->nodes = mask;
    res->taken_mib = xf_mib_of_pages_used(taken);
    if (t->adm.footprint_pages > taken)
        run->rep->totals.reserved_unused_mib +=
            xf_mib_of_pages_free(t->adm.footprint_pages - taken);
    if (res->fits_one_node) {
        run->rep->totals.fit_one_node++;
        if (__builtin_popcountll(mask) == 1)
            run->rep->totals.single_node++;
    }
    if (run->o.log) {
        char per[160], on[XF_NODE_LIST_MAX], planned[XF_NODE_LIST_MAX];
        size_t off = 0;
        per[0] = '\0';
        for (unsigned n = 0; n < XF_MAX_NODES && off + 24 < sizeof(per); n++)
            if (info.pages_per_node[n])
                off += (size_t)snprintf(
                    per + off, sizeof(per) - off, " n%u:%lluM", n,
                    (unsigned long long)xf_mib_of_pages_used(info.pages_per_node[n]));
        xf__scn_log(run, "%s: guest pages per node:%s", res->name, per);
        xf_node_list(mask, on, sizeof(on));
        xf_node_list(vs->planned_nodes, planned, sizeof(planned));
        xf__scn_log(run,
                    "%s: booted as domain %u on nodes %s (planned %s, %s claim%s%s), "
                    "took %llu MiB",
                    res->name, br->domid, on, planned, xf_claim_kind_name(br->claimed),
                    br->node_claim_err ? ", node claim refused: " : "",
                    br->node_claim_err ? xf_err_name(br->node_claim_err) : "",
                    (unsigned long long)res->taken_mib);
    }
}

/* A build stopped before populating anything and reported as
 * HOST_NOT_ENOUGH_FREE_MEMORY: a (late) refusal, not a failure. */
static void record_late_refusal(struct xf__scn_task *t)
{
    struct xf_scn_vm_result *res = &t->run->rep->vms[t->vm];
    res->outcome = XF_SCN_REFUSED;
    res->refusals++;
    t->run->rep->totals.refused++;
    t->run->rep->totals.late_refusals++;
    release_plan(t->run, &t->run->vs[t->vm]);
    xf__scn_log(t->run, "%s: refused late: %s", res->name, res->reason);
}

/* Admitted, then the build failed: the false admit a toolstack must not have. */
static void record_false_admit(struct xf__scn_task *t, const struct xf_build_result *br, int err)
{
    struct xf_scn_vm_result *res = &t->run->rep->vms[t->vm];
    res->outcome = XF_SCN_FAILED;
    res->false_admits++;
    res->err = err;
    res->phase = br->phase;
    snprintf(res->reason, sizeof(res->reason),
             "admitted, then the build failed in %s: %s (%s) after %llu of %llu MiB",
             xf_build_phase_name(br->phase), xf_err_name(err), xf_strerror(err),
             (unsigned long long)xf_mib_of_pages_free(br->populated_pages),
             (unsigned long long)xf_mib_of_pages_used(t->adm.footprint_pages));
    t->run->rep->totals.false_admits++;
    release_plan(t->run, &t->run->vs[t->vm]);
    xf__scn_log(t->run, "%s: FALSE ADMIT: %s", res->name, res->reason);
}

static void finish_build(struct xf__scn_task *t, int err)
{
    struct xf__scn_run *run = t->run;
    struct xf_scn_vm_result *res = &run->rep->vms[t->vm];
    const struct xf_build_result *br = xf_build_result(t->build);

    probe_done(t);
    res->claim = br->claimed;
    res->planned_nodes = run->vs[t->vm].planned_nodes;
    res->footprint_mib = xf_mib_of_pages_used(t->adm.footprint_pages);
    count_claim(&run->rep->totals, br->claimed);
    if (err == 0) {
        record_boot(t, br);
    } else if (xf_policy_is_xapi(run->o.policy) && err == XF_ENOFIT &&
               br->phase == XF_BUILD_FREE_CHECK) {
        /* xen-api: build_pre's wait_xen_free_mem found less than the VM's
         * footprint free: Not_enough_memory, which xapi reports as
         * HOST_NOT_ENOUGH_FREE_MEMORY (xapi_xenops.ml), nothing populated. */
        snprintf(res->reason, sizeof(res->reason),
                 "HOST_NOT_ENOUGH_FREE_MEMORY at build (Not_enough_memory): needs %llu MiB, "
                 "Xen has %llu MiB free",
                 (unsigned long long)t->build_mc.required_host_free_mib,
                 (unsigned long long)xf_mib_of_pages_free(br->free_found_pages));
        record_late_refusal(t);
    } else if (run->o.policy == XF_POLICY_XENFIT && err == XF_ENOMEM &&
               br->phase <= XF_BUILD_PLACE_CLAIM && br->populated_pages == 0) {
        /* xenfit claims everything it populates, before populating: a build
         * that cannot get its memory stops here, with nothing populated, and
         * is a refusal with numbers, not an internal error. */
        snprintf(res->reason, sizeof(res->reason),
                 "HOST_NOT_ENOUGH_FREE_MEMORY at build (%s: %s): needs %llu MiB, the domain's "
                 "overhead measured %llu pages",
                 xf_build_phase_name(br->phase), xf_err_name(err),
                 (unsigned long long)xf_mib_of_pages_used(t->adm.footprint_pages),
                 (unsigned long long)br->overhead_pages);
        record_late_refusal(t);
    } else {
        record_false_admit(t, br, err);
    }
    /* The domain now holds its memory (or none): the reservation ends. */
    if (t->has_res)
        (void)xf_ledger_delete(run->ledger, t->res_id); /* has_res: it is there */
    t->has_res = false;
}

/* Counts a request once, however often it is re-decided after a wait. */
static void count_request(struct xf__scn_task *t)
{
    if (t->counted)
        return;
    t->counted = true;
    t->run->rep->totals.requested++;
    if (t->run->rep->vms[t->vm].fits_one_node)
        t->run->rep->totals.requested_fit_one_node++;
}

/* xenfit: a size never seen on this host is admitted one at a time until the
 * first one's overhead is measured: a parallel group of a new size must not
 * all be admitted on an unverified model. True when this one must wait. */
static bool wait_for_probe(struct xf__scn_task *t)
{
    const struct xf_scn_vm_def *d = xf__scn_def(t->run, t->vm);
    if (t->run->o.policy != XF_POLICY_XENFIT)
        return false;
    return !xf_calib_online_has(t->run->calib, d->vm.type, d->vm.vcpus) &&
           *probe_slot(t->run, d) > 0;
}

/* Admission for a task: 1 to step again (waiting, or building), 0 when it
 * is over (refused), or a negative error. */
static int admit_step(struct xf__scn_task *t, struct xf_hv *hv, uint64_t *ret_sleep_ns)
{
    int r;

    count_request(t);
    if (wait_for_probe(t)) {
        *ret_sleep_ns = 10000000; /* 10 ms */
        return 1;
    }
    if ((r = admit_now(t)) < 0)
        return r;
    if (!t->adm.admitted) {
        if (start_wait(t, hv, false))
            return 1;
        refuse(t);
        t->phase = XF__SCN_DONE;
        return 0;
    }
    /* xenfit: a VM that fits one node waits for a dying domain's memory
     * rather than being spread over several nodes for good. */
    if (t->run->o.policy == XF_POLICY_XENFIT && t->adm.plan.nr_nodes != 1 && t->node_waits < 8 &&
        node_could_hold(t) && start_wait(t, hv, true)) {
        t->node_waits++; /* bounded: a node may free up yet not suit the plan */
        return 1;
    }
    t->run->rep->totals.admitted++;
    if (t->run->o.policy == XF_POLICY_XENFIT) {
        const struct xf_scn_vm_def *d = xf__scn_def(t->run, t->vm);
        if (!xf_calib_online_has(t->run->calib, d->vm.type, d->vm.vcpus)) {
            (*probe_slot(t->run, d))++;
            t->probing = true;
        }
    }
    r = reserve(t);
    if (r == 0)
        r = start_build(t);
    if (r < 0) {
        probe_done(t); /* or other VMs of its size would wait for it forever */
        return r;
    }
    t->phase = XF__SCN_BUILD;
    return 1;
}

/* While a build runs: record the claim it really holds, its measured
 * overhead, and tie the reservation to its domain. Returns 0 or an error. */
static int track_build(struct xf__scn_task *t)
{
    const struct xf_build_result *br = xf_build_result(t->build);
    int r;

    if (t->has_res && br->phase > XF_BUILD_PLACE_CLAIM && !t->claim_recorded) {
        /* The claim the build really holds (a node claim may have fallen
         * back to a global one): the accounting depends on it. */
        struct xf_claim_plan actual = t->adm.claim;
        actual.kind = br->claimed;
        if ((r = xf_ledger_set_claim(t->run->ledger, t->res_id, &actual)) < 0)
            return r;
        t->claim_recorded = true;
    }
    if (t->run->o.policy == XF_POLICY_XENFIT && br->overhead_known && !t->overhead_seen) {
        t->overhead_seen = true;
        observe_overhead(t, br);
    }
    if (t->has_res && br->domid != XF_DOMID_NONE &&
        !xf_ledger_find_domain(t->run->ledger, br->domid) &&
        (r = xf_ledger_transfer(t->run->ledger, t->res_id, br->domid)) < 0)
        return r;
    return 0;
}

int xf__scn_boot_step(void *ctx, struct xf_hv *hv, uint64_t *ret_sleep_ns)
{
    struct xf__scn_task *t = ctx;
    int r;

    switch (t->phase) {
    case XF__SCN_ADMIT:
        return admit_step(t, hv, ret_sleep_ns);
    case XF__SCN_WAIT:
        r = xf_wait_step(&t->wait, hv, ret_sleep_ns);
        if (r == 1)
            return 1;
        if (r < 0 && r != XF_ENOFIT)
            return r;
        t->phase = XF__SCN_ADMIT; /* re-decide with the memory now free */
        return 1;
    case XF__SCN_BUILD:
        r = xf_build_step(t->build, hv, ret_sleep_ns);
        if (r == 1)
            return (r = track_build(t)) < 0 ? r : 1;
        finish_build(t, r);
        t->phase = XF__SCN_DONE;
        return 0;
    case XF__SCN_DONE:
    default:
        return 0;
    }
}
