/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The one door to a hypervisor backend (xenfit/hv.h): thin wrappers that
 * check the instance and the slot (-ENOSYS for an operation a backend does
 * not have) and call through the vtable, and the list of backends compiled
 * into this build. Nothing else in xenfit calls ops-> directly.
 */
#include <stddef.h>

#include "xenfit/error.h"
#include "xenfit/hv.h"

extern const struct xf_hv_ops xf__sim_ops;
#ifdef HAVE_LIBXENCTRL
extern const struct xf_hv_ops xf__xen_ops;
#endif

static const struct xf_hv_ops *const backends[] = {
#ifdef HAVE_LIBXENCTRL
    &xf__xen_ops,
#endif
    &xf__sim_ops,
    NULL,
};

const struct xf_hv_ops *const *xf_hv_backends(void)
{
    return backends;
}

#define HV_CALL(hv, slot, ...)                                                                     \
    do {                                                                                           \
        if (!(hv) || !(hv)->ops)                                                                   \
            return XF_EINVAL;                                                                      \
        if (!(hv)->ops->slot)                                                                      \
            return XF_ENOSYS;                                                                      \
        return (hv)->ops->slot(__VA_ARGS__);                                                       \
    } while (0)

uint32_t xf_hv_caps(struct xf_hv *hv)
{
    return hv && hv->ops && hv->ops->caps ? hv->ops->caps(hv) : 0;
}

int xf_hv_physinfo(struct xf_hv *hv, struct xf_hv_physinfo *ret)
{
    if (!ret)
        return XF_EINVAL;
    HV_CALL(hv, physinfo, hv, ret);
}

int xf_hv_numainfo(struct xf_hv *hv, uint32_t max_nodes, struct xf_node_mem *ret_nodes,
                   uint32_t *ret_distances, uint32_t *ret_nr_nodes)
{
    if (!ret_nr_nodes)
        return XF_EINVAL;
    HV_CALL(hv, numainfo, hv, max_nodes, ret_nodes, ret_distances, ret_nr_nodes);
}

int xf_hv_cputopo(struct xf_hv *hv, uint32_t max_cpus, struct xf_hv_cpu_topo *ret_cpus,
                  uint32_t *ret_nr_cpus)
{
    if (!ret_nr_cpus)
        return XF_EINVAL;
    HV_CALL(hv, cputopo, hv, max_cpus, ret_cpus, ret_nr_cpus);
}

int xf_hv_domain_list(struct xf_hv *hv, uint32_t max, xf_domid_t *ret_domids, uint32_t *ret_n)
{
    if (!ret_n)
        return XF_EINVAL;
    HV_CALL(hv, domain_list, hv, max, ret_domids, ret_n);
}

int xf_hv_domain_info(struct xf_hv *hv, xf_domid_t domid, struct xf_hv_domain_info *ret)
{
    if (!ret)
        return XF_EINVAL;
    HV_CALL(hv, domain_info, hv, domid, ret);
}

int xf_hv_domain_create(struct xf_hv *hv, enum xf_domain_type type, xf_domid_t *ret_domid)
{
    if (!ret_domid)
        return XF_EINVAL;
    HV_CALL(hv, domain_create, hv, type, ret_domid);
}

int xf_hv_domain_create_vcpus(struct xf_hv *hv, enum xf_domain_type type, uint32_t max_vcpus,
                              xf_domid_t *ret_domid)
{
    if (!ret_domid)
        return XF_EINVAL;
    if (hv && hv->ops && !hv->ops->domain_create_vcpus)
        HV_CALL(hv, domain_create, hv, type, ret_domid);
    HV_CALL(hv, domain_create_vcpus, hv, type, max_vcpus, ret_domid);
}

int xf_hv_set_max_vcpus(struct xf_hv *hv, xf_domid_t domid, uint32_t vcpus)
{
    HV_CALL(hv, set_max_vcpus, hv, domid, vcpus);
}

int xf_hv_set_max_pages(struct xf_hv *hv, xf_domid_t domid, uint64_t pages)
{
    HV_CALL(hv, set_max_pages, hv, domid, pages);
}

int xf_hv_set_paging_pool(struct xf_hv *hv, xf_domid_t domid, uint64_t pages)
{
    HV_CALL(hv, set_paging_pool, hv, domid, pages);
}

int xf_hv_claim(struct xf_hv *hv, xf_domid_t domid, uint32_t node, uint64_t pages)
{
    HV_CALL(hv, claim, hv, domid, node, pages);
}

int xf_hv_populate(struct xf_hv *hv, xf_domid_t domid, const struct xf_hv_populate *req,
                   uint64_t *ret_done)
{
    uint64_t scratch;

    if (!ret_done)
        ret_done = &scratch;
    *ret_done = 0;
    if (!req)
        return XF_EINVAL;
    HV_CALL(hv, populate, hv, domid, req, ret_done);
}

int xf_hv_decrease(struct xf_hv *hv, xf_domid_t domid, uint64_t pages)
{
    HV_CALL(hv, decrease, hv, domid, pages);
}

int xf_hv_set_node_affinity(struct xf_hv *hv, xf_domid_t domid, uint64_t node_mask)
{
    HV_CALL(hv, set_node_affinity, hv, domid, node_mask);
}

int xf_hv_unpause(struct xf_hv *hv, xf_domid_t domid)
{
    HV_CALL(hv, unpause, hv, domid);
}

int xf_hv_destroy(struct xf_hv *hv, xf_domid_t domid)
{
    HV_CALL(hv, destroy, hv, domid);
}

uint64_t xf_hv_now_ns(struct xf_hv *hv)
{
    return hv && hv->ops && hv->ops->now_ns ? hv->ops->now_ns(hv) : 0;
}

int xf_hv_sleep_ns(struct xf_hv *hv, uint64_t ns)
{
    HV_CALL(hv, sleep_ns, hv, ns);
}

void xf_hv_free(struct xf_hv *hv)
{
    if (hv && hv->ops && hv->ops->free)
        hv->ops->free(hv);
}
