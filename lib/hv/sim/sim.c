/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The simulator instance: boot from a spec, the backend vtable, the host
 * queries (XEN_SYSCTL_physinfo, numainfo, cputopoinfo, xen/common/sysctl.c)
 * and the simulator-only inspection functions of xenfit/sim.h.
 *
 * At boot, free RAM is clean (Xen scrubs it while booting, xenbed README),
 * Xen's own memory, the firmware's and dom0's are taken out per node, and
 * node 0 keeps its DMA zone apart. physinfo reports scrub_pages 0 as Xen
 * does (it was never implemented); numainfo reports memsize as the spanned
 * range and memfree ignoring claims (avail_node_heap_pages()).
 */
#include <string.h>

#include "internal.h"
#include "sim-internal.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

static uint32_t sim_caps(struct xf_hv *hv)
{
    return xf__sim_of(hv)->caps;
}

static int sim_physinfo(struct xf_hv *hv, struct xf_hv_physinfo *ret)
{
    struct xf_sim *s = xf__sim_of(hv);
    int r = xf__sim_enter(s, XF_SIM_OP_PHYSINFO);

    if (r == 0)
        *ret = (struct xf_hv_physinfo){
            .total_pages = s->total_pages,
            .free_pages = s->total_avail,
            .scrub_pages = 0,
            .outstanding_pages = s->outstanding,
            .nr_nodes = s->spec.nr_nodes,
            .nr_cpus = s->spec.nr_cpus,
        };
    xf__sim_advance(s, s->spec.timing.hypercall_ns);
    return r;
}

static int sim_numainfo(struct xf_hv *hv, uint32_t max_nodes, struct xf_node_mem *ret_nodes,
                        uint32_t *ret_distances, uint32_t *ret_nr_nodes)
{
    struct xf_sim *s = xf__sim_of(hv);
    uint32_t n = s->spec.nr_nodes < max_nodes ? s->spec.nr_nodes : max_nodes;
    int r = xf__sim_enter(s, XF_SIM_OP_NUMAINFO);

    if (r == 0) {
        for (uint32_t i = 0; i < n; i++) {
            const struct sim_node *node = &s->nodes[i];
            if (ret_nodes)
                ret_nodes[i] = (struct xf_node_mem){
                    .memsize_pages = s->spec.nodes[i].spanned_pages,
                    .memfree_pages = node->avail,
                    .claimed_pages = (s->caps & XF_HV_CAP_NODE_CLAIMED_INFO) ? node->claimed : 0,
                    .dma_free_pages = node->clean[SIM_ZONE_DMA] + node->dirty[SIM_ZONE_DMA],
                };
            if (ret_distances)
                for (uint32_t j = 0; j < n; j++)
                    ret_distances[(size_t)i * max_nodes + j] = s->spec.distances[i][j];
        }
        *ret_nr_nodes = s->spec.nr_nodes;
    }
    xf__sim_advance(s, s->spec.timing.hypercall_ns);
    return r;
}

static int sim_cputopo(struct xf_hv *hv, uint32_t max_cpus, struct xf_hv_cpu_topo *ret_cpus,
                       uint32_t *ret_nr_cpus)
{
    struct xf_sim *s = xf__sim_of(hv);
    uint32_t n = s->spec.nr_cpus < max_cpus ? s->spec.nr_cpus : max_cpus;
    int r = xf__sim_enter(s, XF_SIM_OP_CPUTOPO);

    if (r == 0) {
        if (ret_cpus)
            memcpy(ret_cpus, s->spec.cpus, n * sizeof(*ret_cpus));
        *ret_nr_cpus = s->spec.nr_cpus;
    }
    xf__sim_advance(s, s->spec.timing.hypercall_ns);
    return r;
}

static void sim_free(struct xf_hv *hv)
{
    struct xf_sim *s = xf__sim_of(hv);

    for (uint32_t i = 0; i < s->nr_domains; i++)
        xf__free(s->domains[i]);
    xf__free(s->domains);
    xf__free(s->by_domid);
    xf__free(s);
}

/* From the spec: Xen's configured limit (its 64 MiB default when the spec
 * gives none, as Xen itself) and node 0's DMA zone at boot. */
static int sim_host_params(struct xf_hv *hv, struct xf_hv_host_params *ret)
{
    const struct xf_sim *s = xf__sim_of(hv);

    memset(ret, 0, sizeof(*ret));
    memcpy(ret->name, s->spec.name, sizeof(ret->name));
    ret->name[sizeof(ret->name) - 1] = '\0';
    ret->low_mem_virq_limit_pages = s->spec.low_mem_virq_limit_pages;
    ret->dma_zone_pages = s->spec.nodes[0].dma_pages;
    return 0;
}

const struct xf_hv_ops xf__sim_ops = {
    .name = "sim",
    .caps = sim_caps,
    .physinfo = sim_physinfo,
    .numainfo = sim_numainfo,
    .cputopo = sim_cputopo,
    .domain_list = xf__sim_domain_list,
    .domain_info = xf__sim_domain_info,
    .domain_create = xf__sim_domain_create,
    .domain_create_vcpus = xf__sim_domain_create_vcpus,
    .set_max_vcpus = xf__sim_set_max_vcpus,
    .set_max_pages = xf__sim_set_max_pages,
    .set_paging_pool = xf__sim_set_paging_pool,
    .claim = xf__sim_claim,
    .populate = xf__sim_populate,
    .decrease = xf__sim_decrease,
    .set_node_affinity = xf__sim_set_node_affinity,
    .unpause = xf__sim_unpause,
    .destroy = xf__sim_destroy,
    .host_params = sim_host_params,
    .balloon_info = xf__sim_balloon_info,
    .set_balloon_target = xf__sim_set_balloon_target,
    .set_memory_offset = xf__sim_set_memory_offset,
    .set_uncooperative = xf__sim_set_uncooperative,
    .now_ns = xf__sim_now_ns,
    .sleep_ns = xf__sim_sleep_ns,
    .free = sim_free,
};

/* setup_low_mem_virq() (xen/common/page_alloc.c), run after dom0 is built. */
static uint64_t low_mem_virq_threshold(const struct xf_sim_spec *spec, uint64_t avail_pages)
{
    const uint64_t max_pages = xf_pages_of_mib(1024); /* MAX_LOW_MEM_VIRQ */
    uint64_t th = spec->low_mem_virq_limit_pages;
    unsigned order = 0;

    if (th == 0 && !spec->low_mem_virq_default)
        return 0;
    if (th > avail_pages)
        th = avail_pages;
    if (th > max_pages)
        th = max_pages;
    if (spec->low_mem_virq_default && th == avail_pages)
        th /= 2;
    if (th == 0)
        th = 1;
    while ((UINT64_C(1) << (order + 1)) <= th)
        order++;
    return UINT64_C(1) << order;
}

static int boot(struct xf_sim *s)
{
    const struct xf_sim_spec *spec = &s->spec;
    struct sim_domain *dom0;
    int r;

    s->online_mask = spec->nr_nodes >= 64 ? UINT64_MAX : (UINT64_C(1) << spec->nr_nodes) - 1;
    for (uint32_t i = 0; i < spec->nr_nodes; i++) {
        const struct xf_sim_node_spec *n = &spec->nodes[i];
        uint64_t used = n->firmware_reserved_pages + n->xen_pages + n->dom0_pages + n->dma_pages;
        if (used > n->memory_pages || spec->nr_cpus > XF_SIM_MAX_CPUS)
            return XF_EINVAL; /* not a spec xf_sim_spec_parse() accepts */
    }
    for (uint32_t i = 0; i < spec->nr_nodes; i++) {
        const struct xf_sim_node_spec *n = &spec->nodes[i];
        uint64_t free = n->memory_pages - n->firmware_reserved_pages - n->xen_pages - n->dom0_pages;
        s->total_pages += n->memory_pages - n->firmware_reserved_pages;
        s->nodes[i].clean[SIM_ZONE_DMA] = n->dma_pages;
        s->nodes[i].clean[SIM_ZONE_NORMAL] = free - n->dma_pages;
        s->nodes[i].avail = free;
        s->total_avail += free;
    }
    if ((r = xf__sim_domain_add(s, spec->dom0_type, 0, &dom0)))
        return r;
    for (uint32_t i = 0; i < spec->nr_nodes; i++)
        dom0->pages[SIM_CAT_GUEST][i] = spec->nodes[i].dom0_pages;
    dom0->tot_pages = spec->dom0_memory_pages;
    dom0->max_pages = spec->dom0_memory_pages; /* dom0_mem=X,max:X */
    dom0->vcpus = spec->dom0_vcpus;
    dom0->paused = false;
    s->low_mem_virq_pages = low_mem_virq_threshold(spec, s->total_avail);
    return 0;
}

void xf_sim_options_init(struct xf_sim_options *opts)
{
    opts->claim_semantics = XF_SIM_FROM_SPEC;
    opts->node_claims = XF_SIM_FROM_SPEC;
    opts->node_claimed_info = XF_SIM_FROM_SPEC;
}

int xf_sim_new(const struct xf_sim_spec *spec, const struct xf_sim_options *opts,
               struct xf_hv **ret)
{
    struct xf_sim *s;
    int r;

    if (!spec || spec->nr_nodes == 0 || spec->nr_nodes > XF_MAX_NODES)
        return XF_EINVAL;
    s = xf__calloc(1, sizeof(*s));
    if (!s)
        return XF_ENOMEM;
    s->hv.ops = &xf__sim_ops;
    s->spec = *spec;
    if (opts && opts->claim_semantics != XF_SIM_FROM_SPEC)
        s->spec.claim_semantics = (enum xf_sim_claim_semantics)opts->claim_semantics;
    if (opts && opts->node_claims != XF_SIM_FROM_SPEC)
        s->spec.node_claims = opts->node_claims != 0;
    if (opts && opts->node_claimed_info != XF_SIM_FROM_SPEC)
        s->spec.node_claimed_info = opts->node_claimed_info != 0;
    else if (opts && opts->node_claims != XF_SIM_FROM_SPEC)
        s->spec.node_claimed_info = s->spec.node_claims; /* they come together */
    if ((s->spec.claim_semantics != XF_SIM_CLAIMS_4_22 &&
         s->spec.claim_semantics != XF_SIM_CLAIMS_4_17) ||
        (s->spec.node_claims && s->spec.claim_semantics == XF_SIM_CLAIMS_4_17)) {
        r = XF_EINVAL;
        goto fail;
    }
    s->caps = XF_HV_CAP_SIMULATED | XF_HV_CAP_NODE_DMA_INFO | XF_HV_CAP_DOMAIN_NODE_PAGES;
    if (s->spec.node_claims)
        s->caps |= XF_HV_CAP_NODE_CLAIMS;
    if (s->spec.node_claimed_info)
        s->caps |= XF_HV_CAP_NODE_CLAIMED_INFO;
    if (s->spec.claim_semantics == XF_SIM_CLAIMS_4_17)
        s->caps |= XF_HV_CAP_CLAIM_DYING_OK; /* 4.17.x: no "Disallow claims on dying domains" */
    s->by_domid = xf__calloc(XF_SIM_DOMID_LIMIT, sizeof(struct sim_domain *));
    if (!s->by_domid) {
        r = XF_ENOMEM;
        goto fail;
    }
    if ((r = boot(s)))
        goto fail;
    *ret = &s->hv;
    return 0;
fail:
    sim_free(&s->hv);
    return r;
}

int xf_sim_new_from_json(const char *buf, size_t len, const struct xf_sim_options *opts,
                         struct xf_hv **ret, struct xf_parse_error *err)
{
    struct xf_sim_spec *spec;
    int r = xf_sim_spec_parse(buf, len, &spec, err);

    if (r)
        return r;
    r = xf_sim_new(spec, opts, ret);
    xf_sim_spec_free(spec);
    return r;
}

bool xf_sim_is(const struct xf_hv *hv)
{
    return hv && hv->ops == &xf__sim_ops;
}

const struct xf_sim_spec *xf_sim_spec(const struct xf_hv *hv)
{
    return xf_sim_is(hv) ? &((const struct xf_sim *)hv)->spec : NULL;
}

int xf_sim_truth(const struct xf_hv *hv, enum xf_domain_type type, struct xf_sim_truth *ret)
{
    if (!xf_sim_is(hv))
        return XF_EINVAL;
    if (!xf__sim_type_ok(type))
        return XF_EBADTYPE;
    *ret = ((const struct xf_sim *)hv)->spec.truth[type];
    return 0;
}

uint64_t xf_sim_low_mem_virq_pages(const struct xf_hv *hv)
{
    return xf_sim_is(hv) ? ((const struct xf_sim *)hv)->low_mem_virq_pages : 0;
}

int xf_sim_node_state(const struct xf_hv *hv, uint32_t node, struct xf_sim_node_state *ret)
{
    const struct xf_sim *s = (const struct xf_sim *)hv;
    const struct sim_node *n;

    if (!xf_sim_is(hv) || node >= s->spec.nr_nodes)
        return XF_EINVAL;
    n = &s->nodes[node];
    *ret = (struct xf_sim_node_state){
        .free_pages = n->avail,
        .dirty_pages = n->dirty[SIM_ZONE_NORMAL] + n->dirty[SIM_ZONE_DMA],
        .dma_free_pages = n->clean[SIM_ZONE_DMA] + n->dirty[SIM_ZONE_DMA],
        .claimed_pages = n->claimed,
    };
    return 0;
}

int xf_sim_domain_state(const struct xf_hv *hv, xf_domid_t domid, struct xf_sim_domain_state *ret)
{
    const struct xf_sim *s = (const struct xf_sim *)hv;
    const struct sim_domain *d;

    if (!xf_sim_is(hv))
        return XF_EINVAL;
    d = domid < XF_SIM_DOMID_LIMIT ? s->by_domid[domid] : NULL;
    if (!d)
        return XF_ESRCH;
    memset(ret, 0, sizeof(*ret));
    ret->hidden_pages = d->hidden_pages;
    memcpy(ret->paging_pool_per_node, d->pages[SIM_CAT_POOL], sizeof(ret->paging_pool_per_node));
    memcpy(ret->hidden_per_node, d->pages[SIM_CAT_HIDDEN], sizeof(ret->hidden_per_node));
    ret->claim_node = d->claim_node;
    ret->last_alloc_node = d->last_alloc_node;
    ret->release_pending_pages = d->dying ? d->tot_pages + d->pool_pages + d->hidden_pages : 0;
    return 0;
}

int xf_sim_stats(const struct xf_hv *hv, struct xf_sim_stats *ret)
{
    if (!xf_sim_is(hv))
        return XF_EINVAL;
    *ret = ((const struct xf_sim *)hv)->stats;
    return 0;
}
