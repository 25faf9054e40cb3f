/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The scenario runner's driver: sets up a run (simulator, ledger, topology,
 * planners, calibrator) and executes the steps (include/xenfit/scenario.h).
 */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "internal.h"
#include "scenario-internal.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

/* Adds a VM instance for def index `def`. Returns its index or an error. */
static ssize_t add_instance(struct xf__scn_run *run, size_t def)
{
    struct xf_scn_report *rep = run->rep;
    const struct xf_scn_vm_def *d = &run->defs[def];
    struct xf_memory_config mc;

    if (rep->nr_vms == run->cap) {
        size_t cap = run->cap ? run->cap * 2 : 32;
        struct xf_scn_vm_result *nv = xf__reallocarray(rep->vms, cap, sizeof(*nv));
        if (!nv)
            return XF_ENOMEM;
        rep->vms = nv;
        struct xf__scn_vm *ns = xf__reallocarray(run->vs, cap, sizeof(*ns));
        if (!ns)
            return XF_ENOMEM;
        run->vs = ns;
        run->cap = cap;
    }
    size_t i = rep->nr_vms++;
    memset(&rep->vms[i], 0, sizeof(rep->vms[i]));
    memset(&run->vs[i], 0, sizeof(run->vs[i]));
    snprintf(rep->vms[i].name, sizeof(rep->vms[i].name), "%s", d->name);
    run->vs[i].def = def;
    run->vs[i].domid = UINT32_MAX;
    /* Whether the VM fits one node: xen-api's footprint against the largest
     * node's free memory at boot (the same yardstick for every policy). */
    if (xf_vm_footprint(&d->vm, NULL, &mc) == 0)
        rep->vms[i].fits_one_node =
            xf_pages_of_mib(mc.required_host_free_mib) <= run->node_capacity_pages;
    return (ssize_t)i;
}

static int build_topology(struct xf__scn_run *run)
{
    return xf_topology_read(run->hv, &run->topo, &run->node_capacity_pages);
}

static int run_tasks(struct xf__scn_run *run, const size_t *vms, size_t n, bool parallel,
                     enum xf__scn_arrival arrival)
{
    struct xf__scn_task *tasks = xf__calloc(n ? n : 1, sizeof(*tasks));
    struct xf_sim_sched *sched = NULL;
    int r = 0;

    if (!tasks)
        return XF_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        tasks[i].run = run;
        tasks[i].vm = vms[i];
        tasks[i].arrival = arrival;
        tasks[i].migration = arrival != XF__SCN_START;
        tasks[i].phase = XF__SCN_ADMIT;
    }
    /* A sequential group is a series of one-task runs; a parallel one is
     * interleaved by the seeded scheduler. */
    for (size_t first = 0; first < n && r == 0; first += parallel ? n : 1) {
        size_t last = parallel ? n : first + 1;
        run->epoch++;
        r = xf_sim_sched_new(run->hv, run->o.seed + run->epoch * 7919u, &sched);
        for (size_t i = first; i < last && r == 0; i++) {
            uint32_t id;
            r = xf_sim_sched_add(sched, xf__scn_boot_step, &tasks[i], &id);
        }
        if (r == 0)
            r = xf_sim_sched_run(sched, 0);
        for (size_t i = first; i < last && r == 0; i++) {
            int res = 0;
            if (xf_sim_sched_result(sched, (uint32_t)i - (uint32_t)first, &res) == 0 && res < 0)
                r = res; /* a runner error, not a VM outcome */
        }
        xf_sim_sched_free(sched);
        sched = NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (tasks[i].has_res)
            (void)xf_ledger_delete(run->ledger, tasks[i].res_id);
        xf_build_free(tasks[i].build);
    }
    xf__free(tasks);
    return r;
}

static void shutdown_vm(struct xf__scn_run *run, size_t vm)
{
    struct xf__scn_vm *vs = &run->vs[vm];
    if (!vs->running)
        return;
    (void)xf_hv_destroy(run->hv, vs->domid);
    vs->running = false;
    vs->domid = UINT32_MAX;
    if (vs->committed) {
        (void)xf_planner_release(run->planner, &vs->plan);
        vs->committed = false;
    }
    run->rep->vms[vm].outcome = XF_SCN_STOPPED;
    xf__scn_log(run, "%s: shut down", run->rep->vms[vm].name);
}

static int new_instance(struct xf__scn_run *run, const struct xf_scn_vm_def *from, const char *name,
                        size_t *ret_vm)
{
    struct xf_scn_vm_def inst = *from; /* copy first: from may point into defs */

    if (run->nr_defs == run->cap_defs) {
        size_t cap = run->cap_defs * 2;
        struct xf_scn_vm_def *nd = xf__reallocarray(run->defs, cap, sizeof(*nd));
        if (!nd)
            return XF_ENOMEM;
        run->defs = nd;
        run->cap_defs = cap;
    }
    inst.is_template = false;
    snprintf(inst.name, sizeof(inst.name), "%s", name);
    run->defs[run->nr_defs++] = inst;
    ssize_t vm = add_instance(run, run->nr_defs - 1);
    if (vm < 0)
        return (int)vm;
    *ret_vm = (size_t)vm;
    return 0;
}

/*
 * The largest VM of the template's type and vCPUs (static max = target, in
 * MiB) that the policy admits now: "filling the host to the brim by
 * admission" as xen-api's quicktest does. 0 if none.
 */
static int brim_mib(struct xf__scn_run *run, const struct xf_scn_vm_def *tmpl, uint64_t *ret)
{
    struct xf_scn_vm_def d = *tmpl;
    struct xf_admission adm;
    struct xf_host_free f;
    uint64_t lo = 0, hi = xf_mib_of_bytes_free(XF_MEMORY_MAX_BYTES) / 16; /* 1 TiB */
    int r = xf__scn_account(run, &f); /* one reading: the search is pure */

    if (r < 0)
        return r;
    d.vm.video_mib = 0;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo + 1) / 2;
        d.vm.static_max_bytes = d.vm.target_bytes = xf_bytes_of_mib(mid);
        r = xf__scn_admit_against(run, &d, XF__SCN_START, &f, &adm);
        if (r < 0)
            return r;
        if (adm.admitted)
            lo = mid;
        else
            hi = mid - 1;
    }
    *ret = lo;
    return 0;
}

static int fill(struct xf__scn_run *run, const struct xf_scn_step *st)
{
    char base[XF_SCN_NAME_MAX], name[XF_SCN_NAME_MAX];
    size_t vm;
    int r;

    snprintf(base, sizeof(base), "%.36s", run->defs[st->fill_template].name);
    for (uint32_t k = 1; k <= st->fill_max; k++) {
        snprintf(name, sizeof(name), "%.36s-%u", base, k);
        if ((r = new_instance(run, &run->defs[st->fill_template], name, &vm)) < 0 ||
            (r = run_tasks(run, &vm, 1, false, XF__SCN_START)) < 0)
            return r;
        enum xf_scn_outcome o = run->rep->vms[vm].outcome;
        if (o == XF_SCN_FAILED)
            return 0; /* full the hard way */
        if (o == XF_SCN_REFUSED)
            break;
    }
    if (st->fill_brim) {
        struct xf_scn_vm_def d = run->defs[st->fill_template];
        uint64_t mib = 0;
        if ((r = brim_mib(run, &d, &mib)) < 0)
            return r;
        if (mib == 0)
            return 0;
        d.vm.static_max_bytes = d.vm.target_bytes = xf_bytes_of_mib(mib);
        d.vm.video_mib = 0;
        snprintf(name, sizeof(name), "%.36s-brim", base);
        if ((r = new_instance(run, &d, name, &vm)) < 0 ||
            (r = run_tasks(run, &vm, 1, false, XF__SCN_START)) < 0)
            return r;
    }
    return 0;
}

static int run_step_on(struct xf__scn_run *run, const struct xf_scn_step *st, size_t *vms);

static int run_step(struct xf__scn_run *run, const struct xf_scn_step *st, const size_t *map)
{
    size_t *vms = xf__calloc(st->nr_vms ? st->nr_vms : 1, sizeof(*vms));
    int r;

    if (!vms)
        return XF_ENOMEM;
    for (size_t i = 0; i < st->nr_vms; i++)
        vms[i] = map[st->vms[i]];
    r = run_step_on(run, st, vms);
    xf__free(vms);
    return r;
}

static int run_step_on(struct xf__scn_run *run, const struct xf_scn_step *st, size_t *vms)
{
    switch (st->kind) {
    case XF_SCN_BOOT:
        return run_tasks(run, vms, st->nr_vms, st->parallel, XF__SCN_START);
    case XF_SCN_MIGRATE_IN:
        return run_tasks(run, vms, st->nr_vms, st->parallel, XF__SCN_MIGRATE);
    case XF_SCN_RESUME:
        return run_tasks(run, vms, st->nr_vms, st->parallel, XF__SCN_RESUME);
    case XF_SCN_FILL:
        return fill(run, st);
    case XF_SCN_SHUTDOWN:
        for (size_t i = 0; i < st->nr_vms; i++)
            shutdown_vm(run, vms[i]);
        return 0;
    case XF_SCN_REBOOT: {
        size_t n = 0;
        for (size_t i = 0; i < st->nr_vms; i++)
            if (run->vs[vms[i]].running) {
                shutdown_vm(run, vms[i]);
                vms[n++] = vms[i];
            }
        return run_tasks(run, vms, n, st->parallel, XF__SCN_START);
    }
    case XF_SCN_WAIT:
        return xf_hv_sleep_ns(run->hv, st->wait_ns);
    }
    return XF_EINVAL;
}

static void run_done(struct xf__scn_run *run)
{
    xf_planner_free(run->planner);
    xf_planner_free(run->xo);
    xf_topology_free(run->topo);
    xf_ledger_free(run->ledger);
    xf_calib_online_free(run->calib);
    xf_hv_free(run->hv);
    xf__free(run->vs);
    xf__free(run->defs);
    xf__free(run->probing);
}

int xf_scenario_run(const struct xf_scenario *s, const struct xf_scn_options *opts,
                    struct xf_scn_report **ret)
{
    struct xf__scn_run run;
    size_t *map = NULL;
    int r;

    if (xf_policy_name(opts->policy) == NULL)
        return XF_EINVAL;
    memset(&run, 0, sizeof(run));
    run.s = s;
    run.o = *opts;
    xf_admit_host_params(opts->policy, &run.hp);
    run.rep = xf__calloc(1, sizeof(*run.rep));
    map = xf__calloc(s->nr_vms ? s->nr_vms : 1, sizeof(*map));
    run.cap_defs = s->nr_vms + 16;
    run.defs = xf__calloc(run.cap_defs, sizeof(*run.defs));
    run.probing = xf__calloc(4 * (XF_VCPUS_MAX + 1), sizeof(*run.probing));
    if (!run.rep || !map || !run.defs || !run.probing) {
        r = XF_ENOMEM;
        goto out;
    }
    memcpy(run.defs, s->vms, s->nr_vms * sizeof(*s->vms));
    run.nr_defs = s->nr_vms;
    run.rep->policy = opts->policy;
    run.rep->seed = opts->seed;

    if ((r = xf_sim_new(s->spec, NULL, &run.hv)) < 0 || (r = xf_ledger_new(&run.ledger)) < 0 ||
        (r = xf_calib_online_new(&run.calib)) < 0 || (r = build_topology(&run)) < 0 ||
        (r = xf_planner_new(run.topo, XF_PLANNER_XENFIT, &run.planner)) < 0 ||
        (r = xf_planner_new(run.topo, XF_PLANNER_XENOPSD, &run.xo)) < 0)
        goto out;
    if (opts->policy == XF_POLICY_XENFIT) {
        /* xenfit reads the host's configured limit; xapi assumes Xen's default. */
        if (!s->spec->low_mem_virq_default)
            run.hp.low_mem_reserve_pages = s->spec->low_mem_virq_limit_pages;
        run.hp.dma_zone_pages = s->spec->nodes[0].dma_pages;
    }

    for (size_t i = 0; i < s->nr_vms; i++) {
        if (s->vms[i].is_template)
            continue;
        ssize_t k = add_instance(&run, i);
        if (k < 0) {
            r = (int)k;
            goto out;
        }
        map[i] = (size_t)k;
    }
    for (size_t i = 0; i < s->nr_steps; i++) {
        r = run_step(&run, &s->steps[i], map);
        if (r < 0)
            goto out;
    }
    run.rep->sim_time_ns = xf_hv_now_ns(run.hv);
    for (int t = 0; t < 4; t++)
        run.rep->learned[t] = xf_calib_online_coeffs(run.calib, (enum xf_domain_type)t, 1);
    *ret = run.rep;
    run.rep = NULL;
    r = 0;
out:
    xf_scn_report_free(run.rep);
    xf__free(map);
    run_done(&run);
    return r;
}

void xf_scn_report_free(struct xf_scn_report *r)
{
    if (!r)
        return;
    xf__free(r->vms);
    xf__free(r);
}
