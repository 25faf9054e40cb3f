/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The real-Xen backend (include/xenfit/hv-xen.h): opening libxenctrl, the
 * host's description (physinfo, numainfo, CPU topology), the domain list and
 * domain information, and a domain's life (create, unpause, destroy). The
 * memory operations are in xen-mem.c.
 *
 * Domains are created with the xen_domctl_createdomain that libxl 4.17 fills
 * for an xl guest (tools/libs/light/libxl_create.c, libxl__domain_make;
 * libxl_x86.c, libxl__arch_domain_prepare_config): no IOMMU, 1023 event
 * channels, the hypervisor's default grant and maptrack frames, grant table
 * v2 when the host offers it, HAP for HVM/PVH when the host has it, the
 * emulated devices of each type.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "xen-internal.h"
#include "xenfit/error.h"
#include "xenfit/hv-xen.h"

/* libxl's default b_info->event_channels (libxl_create.c,
 * libxl__domain_build_info_setdefault). */
#define XEN_EVTCHN_PORTS_DEFAULT 1023u
/* Domains read per XEN_SYSCTL_getdomaininfolist. */
#define DOMINFO_BATCH 64u

/* --- a silent logger: libxenctrl would print to stderr otherwise -------------------- */

static void quiet_vmessage(struct xentoollog_logger *logger, xentoollog_level level, int errnoval,
                           const char *context, const char *format, va_list al)
{
    (void)logger, (void)level, (void)errnoval, (void)context, (void)format, (void)al;
}

static void quiet_destroy(struct xentoollog_logger *logger)
{
    (void)logger;
}

/* --- per-domain records --------------------------------------------------------------- */

struct xf_xen_dom *xf__xen_dom(struct xf_hv_xen *x, xf_domid_t domid, bool create, int *ret_err)
{
    struct xf_xen_dom *d;

    for (uint32_t i = 0; i < x->n_doms; i++)
        if (x->doms[i].domid == domid)
            return &x->doms[i];
    if (!create)
        return NULL;
    if (x->n_doms == x->cap_doms) {
        uint32_t cap = x->cap_doms ? 2 * x->cap_doms : 8;
        d = xf__reallocarray(x->doms, cap, sizeof(*d));
        if (!d) {
            *ret_err = XF_ENOMEM;
            return NULL;
        }
        x->doms = d;
        x->cap_doms = cap;
    }
    d = &x->doms[x->n_doms++];
    memset(d, 0, sizeof(*d));
    d->domid = domid;
    return d;
}

void xf__xen_dom_forget(struct xf_hv_xen *x, xf_domid_t domid)
{
    for (uint32_t i = 0; i < x->n_doms; i++)
        if (x->doms[i].domid == domid) {
            xf__xen_dom_clear(&x->doms[i]);
            x->doms[i] = x->doms[--x->n_doms];
            return;
        }
}

void xf__xen_doms_free(struct xf_hv_xen *x)
{
    for (uint32_t i = 0; i < x->n_doms; i++)
        xf__xen_dom_clear(&x->doms[i]);
    xf__free(x->doms);
    x->doms = NULL;
    x->n_doms = x->cap_doms = 0;
}

/* --- host ------------------------------------------------------------------------------- */

static uint32_t xen_caps(struct xf_hv *hv)
{
    return xf__xen(hv)->caps;
}

static int xen_physinfo(struct xf_hv *hv, struct xf_hv_physinfo *ret)
{
    xc_physinfo_t pi;

    memset(&pi, 0, sizeof(pi));
    if (xc_physinfo(xf__xen(hv)->xch, &pi) < 0)
        return xf__xen_errno();
    ret->total_pages = pi.total_pages;
    ret->free_pages = pi.free_pages;
    ret->scrub_pages = pi.scrub_pages;
    ret->outstanding_pages = pi.outstanding_pages;
    ret->nr_nodes = pi.nr_nodes;
    ret->nr_cpus = pi.nr_cpus;
    return 0;
}

/* Per-node claimed pages, where the hypervisor reports them (XenServer's
 * XEN_SYSCTL_numa_meminfo, as xen-api's xenctrlext_stubs.c reads it). */
static int node_claimed(struct xf_hv_xen *x, uint32_t n, uint64_t *ret_claimed)
{
#ifdef HAVE_XC_NUMA_MEMINFO
    xen_sysctl_node_meminfo_t mi[XF_MAX_NODES];
    unsigned int num = XF_MAX_NODES;

    if (!(x->caps & XF_HV_CAP_NODE_CLAIMED_INFO)) {
        memset(ret_claimed, 0, n * sizeof(*ret_claimed));
        return 0;
    }
    memset(mi, 0, sizeof(mi));
    if (xc_numa_meminfo(x->xch, &num, mi) < 0)
        return xf__xen_errno();
    for (uint32_t i = 0; i < n; i++)
        ret_claimed[i] = i < num ? mi[i].claimed >> XC_PAGE_SHIFT : 0;
    return 0;
#else
    (void)x;
    memset(ret_claimed, 0, n * sizeof(*ret_claimed));
    return 0;
#endif
}

/* Free pages of Xen's DMA zone on each node: XEN_SYSCTL_availheap for the
 * zones up to the DMA width, the memory alloc_domheap_pages() hands a domain
 * only when no other zone has any (xen/common/page_alloc.c). */
static int node_dma_free(struct xf_hv_xen *x, uint32_t n, uint64_t *ret_pages)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bytes = 0;
        if (x->dma_bits && xc_availheap(x->xch, 0, (int)x->dma_bits, (int)i, &bytes) < 0)
            return xf__xen_errno();
        ret_pages[i] = bytes >> XC_PAGE_SHIFT;
    }
    return 0;
}

static int xen_numainfo(struct xf_hv *hv, uint32_t max_nodes, struct xf_node_mem *ret_nodes,
                        uint32_t *ret_distances, uint32_t *ret_nr_nodes)
{
    struct xf_hv_xen *x = xf__xen(hv);
    xc_meminfo_t mi[XF_MAX_NODES];
    uint32_t dist[XF_MAX_NODES * XF_MAX_NODES];
    /* Zeroed although the calls below fill the first num entries, all that is
     * read: the analyzer cannot relate min(num, max_nodes) to num. */
    uint64_t claimed[XF_MAX_NODES] = {0}, dma[XF_MAX_NODES] = {0};
    unsigned int num = 0;
    uint32_t n;
    int r;

    /* First the number of nodes (both buffers NULL), then the data. */
    if (xc_numainfo(x->xch, &num, NULL, NULL) < 0)
        return xf__xen_errno();
    if (num == 0 || num > XF_MAX_NODES)
        return -ERANGE;
    if (xc_numainfo(x->xch, &num, mi, dist) < 0)
        return xf__xen_errno();
    if ((r = node_claimed(x, num, claimed)) < 0 || (r = node_dma_free(x, num, dma)) < 0)
        return r;

    n = num < max_nodes ? num : max_nodes;
    for (uint32_t i = 0; i < n; i++) {
        /* An offline node reads XEN_INVALID_MEM_SZ (xen/common/sysctl.c). */
        bool offline = mi[i].memsize == (uint64_t)XEN_INVALID_MEM_SZ;
        if (ret_nodes) {
            ret_nodes[i].memsize_pages = offline ? 0 : mi[i].memsize >> XC_PAGE_SHIFT;
            ret_nodes[i].memfree_pages = offline ? 0 : mi[i].memfree >> XC_PAGE_SHIFT;
            ret_nodes[i].claimed_pages = claimed[i];
            ret_nodes[i].dma_free_pages = dma[i];
        }
        for (uint32_t j = 0; ret_distances && j < n; j++) {
            uint32_t d = dist[i * num + j];
            ret_distances[(size_t)i * max_nodes + j] =
                d == (uint32_t)XEN_INVALID_NODE_DIST ? XF_DIST_UNREACHABLE : d;
        }
    }
    *ret_nr_nodes = num;
    return 0;
}

static int xen_cputopo(struct xf_hv *hv, uint32_t max_cpus, struct xf_hv_cpu_topo *ret_cpus,
                       uint32_t *ret_nr_cpus)
{
    struct xf_hv_xen *x = xf__xen(hv);
    xc_cputopo_t *topo;
    unsigned int num = 0;
    uint32_t n;

    if (xc_cputopoinfo(x->xch, &num, NULL) < 0)
        return xf__xen_errno();
    topo = xf__calloc(num ? num : 1, sizeof(*topo));
    if (!topo)
        return XF_ENOMEM;
    if (xc_cputopoinfo(x->xch, &num, topo) < 0) {
        int r = xf__xen_errno();
        xf__free(topo);
        return r;
    }
    n = num < max_cpus ? num : max_cpus;
    /* Offline CPUs read XEN_INVALID_{CORE,SOCKET,NODE}_ID (~0U), passed on. */
    for (uint32_t i = 0; ret_cpus && i < n; i++) {
        ret_cpus[i].core = topo[i].core;
        ret_cpus[i].socket = topo[i].socket;
        ret_cpus[i].node = topo[i].node;
    }
    xf__free(topo);
    *ret_nr_cpus = num;
    return 0;
}

/* --- domains ---------------------------------------------------------------------------- */

/* Writes up to `max` domids and counts them all, as the simulator does. */
static int xen_domain_list(struct xf_hv *hv, uint32_t max, xf_domid_t *ret_domids, uint32_t *ret_n)
{
    struct xf_hv_xen *x = xf__xen(hv);
    xc_domaininfo_t info[DOMINFO_BATCH];
    uint32_t n = 0, first = 0;
    int got;

    do {
        got = xc_domain_getinfolist(x->xch, first, DOMINFO_BATCH, info);
        if (got < 0)
            return xf__xen_errno();
        for (int i = 0; i < got; i++, n++)
            if (ret_domids && n < max)
                ret_domids[n] = info[i].domain;
        if (got > 0)
            first = (uint32_t)info[got - 1].domain + 1;
    } while (got == (int)DOMINFO_BATCH);
    *ret_n = n;
    return 0;
}

/* One domain's XEN_DOMCTL_getdomaininfo. The sysctl lists from `domid` on, so
 * the first entry is another domain when `domid` does not exist: -ESRCH, as
 * XEN_DOMCTL_getdomaininfo answers for an unknown domain. */
int xf__xen_getinfo(struct xf_hv_xen *x, xf_domid_t domid, xc_domaininfo_t *ret)
{
    int got = xc_domain_getinfolist(x->xch, domid, 1, ret);

    if (got < 0)
        return xf__xen_errno();
    if (got == 0 || ret->domain != domid)
        return -ESRCH;
    return 0;
}

static enum xf_domain_type type_of(const xc_domaininfo_t *di)
{
    if (!(di->flags & XEN_DOMINF_hvm_guest))
        return XF_DOMAIN_PV;
    /* libxl gives PVH guests an emulated LAPIC only, HVM guests the PIC and
     * the rest (libxl__arch_domain_prepare_config). A PV-in-PVH shim domain
     * is a PVH domain to Xen and reads as one. */
    return (di->arch_config.emulation_flags & XEN_X86_EMU_PIC) ? XF_DOMAIN_HVM : XF_DOMAIN_PVH;
}

static int xen_domain_info(struct xf_hv *hv, xf_domid_t domid, struct xf_hv_domain_info *ret)
{
    struct xf_hv_xen *x = xf__xen(hv);
    xc_domaininfo_t di;
    uint64_t pool = 0, affinity = 0;
    int r;

    if ((r = xf__xen_getinfo(x, domid, &di)) < 0)
        return r;
    if ((r = xf__xen_paging_pool(x, domid, &pool)) < 0)
        return r;
    if ((r = xf__xen_node_affinity(x, domid, &affinity)) < 0)
        return r;

    memset(ret, 0, sizeof(*ret));
    ret->domid = domid;
    ret->type = type_of(&di);
    ret->tot_pages = di.tot_pages;
    ret->max_pages = di.max_pages;
    ret->outstanding_pages = di.outstanding_pages;
    ret->paging_pool_pages = pool;
    /* The vCPUs allocated: max_vcpu_id is the last one, or ~0U for none. */
    ret->vcpus = di.max_vcpu_id == XEN_INVALID_MAX_VCPU_ID ? 0 : di.max_vcpu_id + 1;
    ret->dying = (di.flags & XEN_DOMINF_dying) != 0;
    ret->paused = (di.flags & XEN_DOMINF_paused) != 0;
    ret->node_affinity = affinity;
    /* pages_per_node stays 0: upstream Xen does not report it. */
    return 0;
}

static int xen_domain_create_vcpus(struct xf_hv *hv, enum xf_domain_type type, uint32_t max_vcpus,
                                   xf_domid_t *ret_domid)
{
    struct xf_hv_xen *x = xf__xen(hv);
    struct xen_domctl_createdomain config;
    uint32_t domid = 0; /* 0: Xen picks the next free domid */

    memset(&config, 0, sizeof(config));
    switch (type) {
    case XF_DOMAIN_PV:
        config.arch.emulation_flags = 0;
        break;
    case XF_DOMAIN_PVH:
    case XF_DOMAIN_PV_IN_PVH:
        config.flags = XEN_DOMCTL_CDF_hvm;
        config.arch.emulation_flags = XEN_X86_EMU_LAPIC;
        break;
    case XF_DOMAIN_HVM:
        config.flags = XEN_DOMCTL_CDF_hvm;
        config.arch.emulation_flags = XEN_X86_EMU_ALL & ~XEN_X86_EMU_VPCI;
        break;
    default:
        return XF_EBADTYPE;
    }
    if ((config.flags & XEN_DOMCTL_CDF_hvm) && (x->physcaps & XEN_SYSCTL_PHYSCAP_hap))
        config.flags |= XEN_DOMCTL_CDF_hap;
    config.max_vcpus = max_vcpus;
    config.max_evtchn_port = XEN_EVTCHN_PORTS_DEFAULT;
    config.max_grant_frames = -1; /* the hypervisor's default */
    config.max_maptrack_frames = -1;
    config.grant_opts =
        XEN_DOMCTL_GRANT_version((x->physcaps & XEN_SYSCTL_PHYSCAP_gnttab_v2) ? 2 : 1);
    /* A random handle (the domain's UUID, as xl list -l shows it); a zero
     * one works as well if the kernel has no entropy to give. */
    (void)!getrandom(config.handle, sizeof(config.handle), GRND_NONBLOCK);

    if (xc_domain_create(x->xch, &domid, &config) < 0)
        return xf__xen_errno();
    /* A domain id reused from a domain this instance had built. */
    xf__xen_dom_forget(x, domid);
    *ret_domid = domid;
    return 0;
}

/* Xen >= 4.12 fixes max_vcpus at XEN_DOMCTL_createdomain and
 * XEN_DOMCTL_max_vcpus must repeat it (xen/common/domctl.c): without a vCPU
 * count, a domain gets one. Use domain_create_vcpus for more. */
static int xen_domain_create(struct xf_hv *hv, enum xf_domain_type type, xf_domid_t *ret_domid)
{
    return xen_domain_create_vcpus(hv, type, 1, ret_domid);
}

static int xen_set_max_vcpus(struct xf_hv *hv, xf_domid_t domid, uint32_t vcpus)
{
    if (xc_domain_max_vcpus(xf__xen(hv)->xch, domid, vcpus) < 0)
        return xf__xen_errno();
    return 0;
}

static int xen_unpause(struct xf_hv *hv, xf_domid_t domid)
{
    if (xc_domain_unpause(xf__xen(hv)->xch, domid) < 0)
        return xf__xen_errno();
    return 0;
}

static int xen_destroy(struct xf_hv *hv, xf_domid_t domid)
{
    struct xf_hv_xen *x = xf__xen(hv);

    if (xc_domain_destroy(x->xch, domid) < 0)
        return xf__xen_errno();
    xf__xen_dom_forget(x, domid);
    return 0;
}

/* --- time ------------------------------------------------------------------------------- */

static uint64_t xen_now_ns(struct xf_hv *hv)
{
    struct timespec ts;

    (void)hv;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int xen_sleep_ns(struct xf_hv *hv, uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
                          .tv_nsec = (long)(ns % 1000000000u)};

    (void)hv;
    while (nanosleep(&ts, &ts) < 0)
        if (errno != EINTR)
            return xf__xen_errno();
    return 0;
}

/* What a toolstack cannot ask Xen: the low-memory limit from Xen's command
 * line (read at open; the default where it cannot be read), dom0's host name
 * for display. The DMA zone is reported per node (XF_HV_CAP_NODE_DMA_INFO)
 * where the backend knows Xen's DMA width, so dma_zone_pages stays 0. */
static int xen_host_params(struct xf_hv *hv, struct xf_hv_host_params *ret)
{
    struct xf_hv_xen *x = xf__xen(hv);

    memset(ret, 0, sizeof(*ret));
    if (gethostname(ret->name, sizeof(ret->name) - 1) < 0)
        ret->name[0] = '\0';
    ret->low_mem_virq_limit_pages = x->low_mem_virq_limit_pages;
    ret->low_mem_virq_assumed = x->low_mem_virq_assumed;
    return 0;
}

/* --- lifecycle -------------------------------------------------------------------------- */

static void xen_free(struct xf_hv *hv)
{
    struct xf_hv_xen *x = xf__xen(hv);

    if (x->xch)
        xc_interface_close(x->xch);
#ifdef HAVE_LIBXENSTORE
    xf__xen_balloon_close(x);
#endif
    xf__xen_doms_free(x);
    xf__free(x);
}

const struct xf_hv_ops xf__xen_ops = {
    .name = "xen",
    .caps = xen_caps,
    .physinfo = xen_physinfo,
    .numainfo = xen_numainfo,
    .cputopo = xen_cputopo,
    .domain_list = xen_domain_list,
    .domain_info = xen_domain_info,
    .domain_create = xen_domain_create,
    .domain_create_vcpus = xen_domain_create_vcpus,
    .set_max_vcpus = xen_set_max_vcpus,
    .set_max_pages = xf__xen_set_max_pages,
    .set_paging_pool = xf__xen_set_paging_pool,
    .claim = xf__xen_claim,
    .populate = xf__xen_populate,
    .decrease = xf__xen_decrease,
    .set_node_affinity = xf__xen_set_node_affinity,
    .unpause = xen_unpause,
    .destroy = xen_destroy,
    .host_params = xen_host_params,
#ifdef HAVE_LIBXENSTORE
    .balloon_info = xf__xen_balloon_info,
    .set_balloon_target = xf__xen_set_balloon_target,
    .set_memory_offset = xf__xen_set_memory_offset,
    .set_uncooperative = xf__xen_set_uncooperative,
#endif
    .now_ns = xen_now_ns,
    .sleep_ns = xen_sleep_ns,
    .free = xen_free,
};

/* Whether the hypervisor answers XEN_SYSCTL_numa_meminfo (compiled in only
 * with headers that have it; a hypervisor without it says ENOSYS). */
static bool probe_node_claimed_info(struct xf_hv_xen *x)
{
#ifdef HAVE_XC_NUMA_MEMINFO
    unsigned int num = 0;
    return xc_numa_meminfo(x->xch, &num, NULL) == 0;
#else
    (void)x;
    return false;
#endif
}

/* Whether this Xen accepts a claim on a dying domain (xf__xen_claim_dying_ok);
 * a version that cannot be read counts as one that refuses it. */
static bool probe_claim_dying_ok(struct xf_hv_xen *x)
{
    xen_extraversion_t extra;
    int version = xc_version(x->xch, XENVER_version, NULL);

    if (version < 0)
        return false;
    memset(extra, 0, sizeof(extra));
    if (xc_version(x->xch, XENVER_extraversion, &extra) < 0)
        extra[0] = '\0';
    extra[sizeof(extra) - 1] = '\0';
    return xf__xen_claim_dying_ok((uint32_t)version, extra);
}

/* Xen's command line (XENVER_commandline), "" if it cannot be read. */
static void xen_cmdline(struct xf_hv_xen *x, xen_commandline_t *ret)
{
    memset(*ret, 0, sizeof(*ret));
    if (xc_version(x->xch, XENVER_commandline, ret) < 0)
        (*ret)[0] = '\0';
    (*ret)[sizeof(*ret) - 1] = '\0';
}

/* What the toolstack cannot ask Xen but needs: the nodes online (numainfo
 * marks an offline one XEN_INVALID_MEM_SZ; an affinity covering them all is
 * no affinity) and Xen's DMA width (xf__xen_dma_bits). */
static int probe_host(struct xf_hv_xen *x)
{
    xc_meminfo_t mi[XF_MAX_NODES];
    xen_commandline_t cmdline;
    unsigned int num = 0, online = 0;

    if (xc_numainfo(x->xch, &num, NULL, NULL) < 0)
        return xf__xen_errno();
    if (num == 0 || num > XF_MAX_NODES)
        return -ERANGE;
    if (xc_numainfo(x->xch, &num, mi, NULL) < 0)
        return xf__xen_errno();
    for (uint32_t i = 0; i < num; i++)
        if (mi[i].memsize != (uint64_t)XEN_INVALID_MEM_SZ) {
            x->online_nodes |= UINT64_C(1) << i;
            online++;
        }
    xen_cmdline(x, &cmdline);
    /* page_alloc.c: opt_low_mem_virq, DEFAULT_LOW_MEM_VIRQ (64 MiB) when not given. */
    x->low_mem_virq_limit_pages = UINT64_C(64) << (20 - XC_PAGE_SHIFT);
    x->low_mem_virq_assumed = cmdline[0] == '\0';
    (void)xf__xen_low_mem_virq_limit(cmdline, &x->low_mem_virq_limit_pages);
    if (xf__xen_dma_bits(cmdline, online,
                         (x->online_nodes & 1u) ? mi[0].memsize >> XC_PAGE_SHIFT : 0,
                         &x->dma_bits) == 0)
        x->caps |= XF_HV_CAP_NODE_DMA_INFO;
    return 0;
}

int xf_hv_xen_open(struct xf_hv **ret)
{
    struct xf_hv_xen *x;
    xc_physinfo_t pi;
    int r;

    x = xf__calloc(1, sizeof(*x));
    if (!x)
        return XF_ENOMEM;
    x->hv.ops = &xf__xen_ops;
    x->logger.vmessage = quiet_vmessage;
    x->logger.progress = NULL;
    x->logger.destroy = quiet_destroy;
    x->xch = xc_interface_open(&x->logger, &x->logger, 0);
    if (!x->xch) {
        r = xf__xen_errno();
        goto fail;
    }
    memset(&pi, 0, sizeof(pi));
    if (xc_physinfo(x->xch, &pi) < 0) {
        r = xf__xen_errno();
        goto fail;
    }
    x->physcaps = pi.capabilities;
    if ((r = probe_host(x)) < 0)
        goto fail;
#ifdef HAVE_XC_DOMAIN_CLAIM_PAGES_NODE
    x->caps |= XF_HV_CAP_NODE_CLAIMS;
#endif
    if (probe_node_claimed_info(x))
        x->caps |= XF_HV_CAP_NODE_CLAIMED_INFO;
    if (probe_claim_dying_ok(x))
        x->caps |= XF_HV_CAP_CLAIM_DYING_OK;
    *ret = &x->hv;
    return 0;

fail:
    xen_free(&x->hv);
    return r;
}
