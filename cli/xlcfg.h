/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xl domain configuration files (xl.cfg(5)) as xenfit reads them: the
 * settings that decide a domain's memory and placement, with the meaning xl
 * and libxl 4.17 give them. Two readers of the file's syntax sit behind one
 * small interface (struct xf_xl_source, the accessors libxlutil offers): xl's
 * own parser, libxlutil (libxlutil.h from libxen-dev: xlu_cfg_readfile,
 * xlu_cfg_get_long, ...), used whenever xenfit is built with it; and a strict
 * reader of the same grammar (tools/libs/util/libxlu_cfg_l.l and
 * libxlu_cfg_y.y at Xen RELEASE-4.17.7, 9373a593c5a6) for builds without it.
 * The settings are interpreted once, above both (xlcfg.c), following
 * tools/xl/xl_parse.c parse_config_data and tools/libs/light/libxl_create.c
 * libxl__domain_build_info_setdefault at that commit.
 */
#ifndef XENFIT_CLI_XLCFG_H
#define XENFIT_CLI_XLCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenfit/model.h"

/* The accessors of a parsed file, as libxlutil's: 0, ESRCH (not set),
 * EINVAL (a list where a value is wanted, or the reverse, or not a number),
 * ERANGE (a number out of range). They are positive errno values, as
 * libxlutil returns them. An accessor that fails writes why (file, line,
 * setting and value) into src->err. */
struct xf_xl_source;
struct xf_xl_source_ops {
    int (*get_string)(struct xf_xl_source *src, const char *key, const char **ret);
    int (*get_long)(struct xf_xl_source *src, const char *key, long *ret);
    /* A list's length; its items as strings (NULL for an item that is itself
     * a list, as xlu_cfg_get_listitem). */
    int (*get_list)(struct xf_xl_source *src, const char *key, int *ret_n);
    const char *(*list_item)(struct xf_xl_source *src, const char *key, int i);
    void (*free)(struct xf_xl_source *src);
};

struct xf_xl_source {
    const struct xf_xl_source_ops *ops;
    char path[256];
    char err[512];
};

/* Reads `path` with the built-in reader. Returns 0 and a source (free with
 * xf_xl_source_free), or a negative errno with a message naming the file,
 * the line and the offending text in err (XF_EPARSE-like syntax errors are
 * -EINVAL). */
int xf_xl_source_builtin(const char *path, struct xf_xl_source **ret, char *err, size_t errlen);
/* The same with libxlutil; -ENOSYS when xenfit was built without it. */
int xf_xl_source_xlu(const char *path, struct xf_xl_source **ret, char *err, size_t errlen);
void xf_xl_source_free(struct xf_xl_source *src);
/* "libxlutil" or "built-in": the reader xf_xl_config_read uses. */
const char *xf_xl_reader_name(void);

/* The most vCPU affinity strings kept (one per vCPU for a list form). */
#define XF_XL_AFFINITY_MAX 64u

/* An xl config's text, NUL-terminated (at most 1 MiB: xl configs are a few
 * hundred bytes); both readers use it. 0, or -errno with the error naming
 * the file in err (a directory is -EISDIR). */
int xf_xl_read_file(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen);

/* A vCPU affinity as written (cpus= or cpus_soft=): one string for every
 * vCPU, or a list with one per vCPU (xl_parse.c parse_vcpu_affinity). */
struct xf_xl_affinity {
    bool given;
    bool list;
    unsigned n;                         /* strings kept */
    char spec[XF_XL_AFFINITY_MAX][128]; /* parse_cpurange syntax */
};

/* What xenfit takes from an xl config, with libxl's defaults applied. */
struct xf_xl_config {
    char name[128];           /* "" when not given */
    char type_name[8];        /* "pv", "pvh", "hvm": libxl's type */
    struct xf_vm_memory vm;   /* the model's inputs (below) */
    uint64_t memory_mib;      /* target_memkb / 1024 */
    uint64_t maxmem_mib;      /* max_memkb / 1024 */
    uint32_t vcpus;           /* vCPUs online at boot (avail_vcpus) */
    uint32_t max_vcpus;       /* maxvcpus: the vCPUs Xen allocates */
    bool shadow_given;        /* shadow_memory= */
    uint64_t shadow_mib;      /* as given; else libxl's default */
    uint64_t video_mib;       /* videoram, libxl's default for the VGA */
    const char *device_model; /* "qemu-xen", "qemu-xen-traditional" or "none" (PV, PVH) */
    bool pvshim;              /* PVH with pvshim=1: xenfit's pv_in_pvh */
    struct xf_xl_affinity cpus, cpus_soft;
};

/*
 * Interprets a parsed file. vm is: type hvm, pvh, pv (pv_in_pvh for a PVH
 * with pvshim), static max = maxmem, target = memory, vCPUs = maxvcpus,
 * video = videoram (HVM), shadow multiplier 1.0, or the one that makes the
 * model's shadow term at least shadow_memory= when that is larger. Returns
 * 0, or -EINVAL with a message naming the setting and its value.
 */
int xf_xl_config_from(struct xf_xl_source *src, struct xf_xl_config *ret, char *err, size_t errlen);

/* Reads and interprets a file with the reader this build has. */
int xf_xl_config_read(const char *path, struct xf_xl_config *ret, char *err, size_t errlen);

/*
 * The NUMA nodes an affinity's CPUs are on (xl_parse.c update_cpumap_range:
 * "all", "N", "A-B", "node:N", "nodes:A-B", each optionally "^" to remove),
 * given the host's CPU-to-node map. Returns 0 and the node mask (0 when the
 * affinity is not given), or -EINVAL naming the item (a malformed range, a
 * CPU or node the host does not have, an empty set).
 */
int xf_xl_affinity_nodes(const struct xf_xl_affinity *a, const uint32_t *cpu_to_node,
                         uint32_t nr_cpus, uint32_t nr_nodes, uint64_t *ret_nodes, char *err,
                         size_t errlen);

/*
 * The nodes a domain's memory goes to when its vCPUs have the affinities of
 * the config: Xen's domain_update_node_aff (xen/common/sched/core.c, 4.17)
 * takes the union of the vCPUs' hard affinities, intersects it with the
 * union of their soft ones, falls back to the hard set when that is empty,
 * and sets the node affinity to those CPUs' nodes; the allocator takes
 * memory from them first (xen/common/page_alloc.c, get_free_buddy). libxl
 * runs its own NUMA placement only when neither affinity is given
 * (libxl_dom.c libxl__build_pre, and xl_parse.c parse_vcpu_affinity turns
 * it off for cpus_soft=): with cpus= alone it still places, and sets a node
 * affinity that may exclude the pinned CPUs' nodes. Returns 0 and the node
 * mask (0: neither given), or -EINVAL naming the affinity.
 */
int xf_xl_config_nodes(const struct xf_xl_config *c, const uint32_t *cpu_to_node, uint32_t nr_cpus,
                       uint32_t nr_nodes, uint64_t *ret_nodes, char *err, size_t errlen);

#endif
