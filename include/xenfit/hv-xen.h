/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The real-Xen backend of the hypervisor interface (xenfit/hv.h), over
 * libxenctrl: it reads a Xen host (physinfo, numainfo, CPU topology, domains)
 * and builds domains on it (create, claims, populate, max pages, paging pool)
 * through the same hypercalls a toolstack makes. It exists only in builds that
 * found libxenctrl (CMake option XF_WITH_XEN; HAVE_LIBXENCTRL is then defined
 * for code that links libxenfit), and works only in a Xen control domain
 * (dom0) as root.
 *
 * Errors are Xen's: each operation returns 0 or -errno exactly as the
 * hypercall reported it. Where Xen reports none, the backend says what it
 * returns (populate, decrease). Node claims and per-node claimed memory exist
 * only with hypervisor headers that provide them (XenServer's patched Xen:
 * xc_domain_claim_pages_node, xc_numa_meminfo), detected when xenfit is
 * configured; elsewhere a node claim is -ENOSYS and claimed_pages is 0.
 * Per-node pages of a domain are not reported by upstream Xen: 0.
 * docs/real-xen.md describes the backend and the differences from DESIGN.md.
 */
#ifndef XENFIT_HV_XEN_H
#define XENFIT_HV_XEN_H

#include "xenfit/hv.h"

/*
 * Opens the hypervisor this process runs on. Returns 0 and the backend (free
 * with xf_hv_free), or the -errno of xc_interface_open() (-ENOENT or -EACCES:
 * not in a Xen dom0, or not root), the -errno of the first physinfo, or
 * XF_ENOMEM.
 */
int xf_hv_xen_open(struct xf_hv **ret);

#endif
