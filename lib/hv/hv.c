/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The one door to a hypervisor backend (xenfit/hv.h): thin wrappers that
 * check the instance and the slot (-ENOSYS for an operation a backend does
 * not have) and call through the vtable, and the list of backends compiled
 * into this build. Nothing else in xenfit calls ops-> directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/sim.h"
#ifdef HAVE_LIBXENCTRL
#include "xenfit/hv-xen.h"
#endif

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

/* --- Opening a backend by name -------------------------------------------- */

static int open_error(struct xf_hv_open_error *err, bool usage, size_t line, int r, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));

static int open_error(struct xf_hv_open_error *err, bool usage, size_t line, int r, const char *fmt,
                      ...)
{
    va_list ap;
    if (err) {
        err->usage = usage;
        err->line = line;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return r;
}

static int open_sim(const char *arg, size_t arg_len, struct xf_hv_open_error *err,
                    struct xf_hv **ret)
{
    struct xf_parse_error perr = {0};
    int r;

    if (!arg)
        return open_error(err, true, 0, XF_EINVAL,
                          "backend 'sim' needs a host spec (--host SPEC.json)");
    r = xf_sim_new_from_json(arg, arg_len, NULL, ret, &perr);
    if (r == XF_EBADSPEC)
        return open_error(err, true, perr.line, r, "%s", perr.message);
    if (r < 0)
        return open_error(err, false, 0, r, "backend 'sim': %s", xf_strerror(r));
    return 0;
}

#ifdef HAVE_LIBXENCTRL
static int open_xen(const char *arg, size_t arg_len, struct xf_hv_open_error *err,
                    struct xf_hv **ret)
{
    int r;

    (void)arg_len;
    if (arg)
        return open_error(err, true, 0, XF_EINVAL,
                          "backend 'xen' reads the host it runs on: it takes no host spec");
    r = xf_hv_xen_open(ret);
    if (r < 0)
        return open_error(err, false, 0, r,
                          "cannot open Xen (libxenctrl): %s (%s); run as root in a Xen dom0",
                          xf_strerror(r), xf_err_name(r));
    return 0;
}
#define XEN_OPEN  open_xen
#define XEN_BUILT "xen, "
#else
#define XEN_OPEN  NULL
#define XEN_BUILT ""
#endif

/* Every backend xenfit knows, built in (open) or not (NULL), in the order of
 * backends[] above. */
static const struct {
    const char *name;
    int (*open)(const char *arg, size_t arg_len, struct xf_hv_open_error *err, struct xf_hv **ret);
    const char *missing; /* why it may be absent from a build */
} openers[] = {
    {"xen", XEN_OPEN, "libxenctrl was not found when xenfit was configured"},
    {"sim", open_sim, NULL},
};

const char *xf_hv_backends_built(void)
{
    return XEN_BUILT "sim";
}

int xf_hv_open(const char *name, const char *arg, size_t arg_len, struct xf_hv_open_error *err,
               struct xf_hv **ret)
{
    if (err)
        memset(err, 0, sizeof(*err));
    if (!name || !ret)
        return open_error(err, true, 0, XF_EINVAL, "no backend named (built in: %s)",
                          xf_hv_backends_built());
    for (size_t i = 0; i < sizeof(openers) / sizeof(openers[0]); i++) {
        if (strcmp(openers[i].name, name) != 0)
            continue;
        if (!openers[i].open)
            return open_error(err, true, 0, XF_EINVAL,
                              "backend '%s': not built in (%s; built in: %s)", name,
                              openers[i].missing, xf_hv_backends_built());
        return openers[i].open(arg, arg_len, err, ret);
    }
    return open_error(err, true, 0, XF_EINVAL, "backend '%s': unknown (built in: %s)", name,
                      xf_hv_backends_built());
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

int xf_hv_host_params(struct xf_hv *hv, struct xf_hv_host_params *ret)
{
    if (!ret)
        return XF_EINVAL;
    HV_CALL(hv, host_params, hv, ret);
}

int xf_hv_balloon_info(struct xf_hv *hv, xf_domid_t domid, struct xf_hv_balloon *ret)
{
    if (!ret)
        return XF_EINVAL;
    HV_CALL(hv, balloon_info, hv, domid, ret);
}

int xf_hv_set_balloon_target(struct xf_hv *hv, xf_domid_t domid, uint64_t target_kib)
{
    HV_CALL(hv, set_balloon_target, hv, domid, target_kib);
}

int xf_hv_set_memory_offset(struct xf_hv *hv, xf_domid_t domid, int64_t offset_kib)
{
    HV_CALL(hv, set_memory_offset, hv, domid, offset_kib);
}

int xf_hv_set_uncooperative(struct xf_hv *hv, xf_domid_t domid, bool uncooperative)
{
    HV_CALL(hv, set_uncooperative, hv, domid, uncooperative);
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
