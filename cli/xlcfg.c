/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * What an xl domain configuration means for a domain's memory and placement,
 * as xl and libxl 4.17 decide it (Xen RELEASE-4.17.7, 9373a593c5a6), read
 * through either parser of cli/xlcfg.h. Every rule below names its source:
 *   tools/xl/xl_parse.c        parse_config_data, parse_vcpu_affinity,
 *                              update_cpumap_range, parse_range
 *   tools/libs/light/libxl_create.c
 *                              libxl__domain_build_info_setdefault,
 *                              libxl__domain_config_setdefault,
 *                              libxl__get_required_paging_memory
 * The code is xenfit's; none of it is copied.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenfit/topology.h"
#include "xenfit/units.h"
#include "xlcfg.h"

#define MIB_MAX (XF_MEMORY_MAX_BYTES / XF_BYTES_PER_MIB)

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* A setting's text: 1 and the value, 0 when not set, or -EINVAL (a list). */
static int get_str(struct xf_xl_source *src, const char *key, const char **ret, char *err,
                   size_t errlen)
{
    int r = src->ops->get_string(src, key, ret);
    if (r == ESRCH)
        return 0;
    if (r)
        return fail(err, errlen, "%s", src->err);
    return 1;
}

/* A number of MiB (memory, maxmem, ...): 1 and the value, 0 when not set,
 * -EINVAL for anything xl would not read as a number or that is negative or
 * above 16 TiB. */
static int get_mib(struct xf_xl_source *src, const char *key, uint64_t *ret, char *err,
                   size_t errlen)
{
    long l;
    int r = src->ops->get_long(src, key, &l);

    if (r == ESRCH)
        return 0;
    if (r)
        return fail(err, errlen, "%s", src->err);
    if (l < 0 || (uint64_t)l > MIB_MAX)
        return fail(err, errlen, "%s: %s = %ld: must be between 0 and %llu (MiB)", src->path, key,
                    l, (unsigned long long)MIB_MAX);
    *ret = (uint64_t)l;
    return 1;
}

static int get_count(struct xf_xl_source *src, const char *key, long max, long *ret, char *err,
                     size_t errlen)
{
    int r = src->ops->get_long(src, key, ret);

    if (r == ESRCH)
        return 0;
    if (r)
        return fail(err, errlen, "%s", src->err);
    if (*ret < 0 || *ret > max)
        return fail(err, errlen, "%s: %s = %ld: must be between 0 and %ld", src->path, key, *ret,
                    max);
    return 1;
}

/*
 * type= and the deprecated builder= (parse_config_data): xl compares with
 * strncmp(value, "hvm", strlen(value)), so any prefix of "hvm" (even "")
 * means hvm, then of "pv", then of "pvh"; builder= takes prefixes of "hvm"
 * and "generic" (pv) and must agree with type=. Without either, x86 builds
 * PV.
 */
static int read_type(struct xf_xl_source *src, struct xf_xl_config *c, char *err, size_t errlen)
{
    const char *v, *type = NULL;
    int r;

    if ((r = get_str(src, "type", &v, err, errlen)) < 0)
        return r;
    if (r) {
        size_t n = strlen(v);
        type = strncmp(v, "hvm", n) == 0   ? "hvm"
               : strncmp(v, "pv", n) == 0  ? "pv"
               : strncmp(v, "pvh", n) == 0 ? "pvh"
                                           : NULL;
        if (!type)
            return fail(err, errlen, "%s: type = \"%s\": invalid domain type (hvm, pvh or pv)",
                        src->path, v);
    }
    if ((r = get_str(src, "builder", &v, err, errlen)) < 0)
        return r;
    if (r) {
        size_t n = strlen(v);
        const char *b = strncmp(v, "hvm", n) == 0       ? "hvm"
                        : strncmp(v, "generic", n) == 0 ? "pv"
                                                        : NULL;
        if (!b)
            return fail(err, errlen, "%s: builder = \"%s\": invalid domain type (hvm or generic)",
                        src->path, v);
        if (type && strcmp(type, b) != 0)
            return fail(err, errlen, "%s: contradicting \"builder\" (%s) and \"type\" (%s)",
                        src->path, v, type);
        type = b;
    }
    snprintf(c->type_name, sizeof(c->type_name), "%s", type ? type : "pv");
    return 0;
}

/* cpus= / cpus_soft=: a list (one string per vCPU, the first max_vcpus
 * kept, up to the first item that is not a string: xlu_cfg_get_listitem
 * ends the loop of parse_vcpu_affinity) or one string for every vCPU. */
static int read_affinity(struct xf_xl_source *src, const char *key, uint32_t max_vcpus,
                         struct xf_xl_affinity *a, char *err, size_t errlen)
{
    const char *v;
    int n, r;

    memset(a, 0, sizeof(*a));
    if (src->ops->get_list(src, key, &n) == 0) {
        a->given = a->list = true;
        for (int i = 0; i < n && (uint32_t)i < max_vcpus; i++) {
            if (!(v = src->ops->list_item(src, key, i)))
                break;
            if (a->n == XF_XL_AFFINITY_MAX)
                return fail(err, errlen, "%s: %s: more than %u per-vCPU entries", src->path, key,
                            XF_XL_AFFINITY_MAX);
            if (strlen(v) >= sizeof(a->spec[0]))
                return fail(err, errlen, "%s: %s[%d] = \"%.40s...\": too long", src->path, key, i,
                            v);
            snprintf(a->spec[a->n++], sizeof(a->spec[0]), "%s", v);
        }
        return 0;
    }
    if ((r = get_str(src, key, &v, err, errlen)) <= 0)
        return r;
    if (strlen(v) >= sizeof(a->spec[0]))
        return fail(err, errlen, "%s: %s = \"%.40s...\": too long", src->path, key, v);
    a->given = true;
    a->n = 1;
    snprintf(a->spec[0], sizeof(a->spec[0]), "%s", v);
    return 0;
}

/*
 * videoram= for HVM, as libxl__domain_build_info_setdefault fills and checks
 * it per device model and VGA (xl_parse.c: vga= "stdvga", "cirrus", "none",
 * "qxl", or the older stdvga=0/1; cirrus by default). qemu-xen: cirrus 8 MiB
 * (at least 8), stdvga 16 (at least 16), qxl 128 (at least 128), none 0;
 * qemu-xen-traditional: cirrus 4 (other sizes ignored), stdvga 8 (at least
 * 8), qxl refused, none 0.
 */
static int read_video(struct xf_xl_source *src, struct xf_xl_config *c, char *err, size_t errlen)
{
    const char *vga = "cirrus", *v;
    uint64_t given = 0;
    bool trad = strcmp(c->device_model, "qemu-xen-traditional") == 0;
    long l;
    int r, have;

    if ((r = get_str(src, "vga", &v, err, errlen)) < 0)
        return r;
    if (r) {
        if (strcmp(v, "stdvga") != 0 && strcmp(v, "cirrus") != 0 && strcmp(v, "none") != 0 &&
            strcmp(v, "qxl") != 0)
            return fail(err, errlen, "%s: vga = \"%s\": unknown (stdvga, cirrus, none or qxl)",
                        src->path, v);
        vga = strcmp(v, "stdvga") == 0   ? "stdvga"
              : strcmp(v, "cirrus") == 0 ? "cirrus"
              : strcmp(v, "none") == 0   ? "none"
                                         : "qxl";
    } else if ((r = get_count(src, "stdvga", LONG_MAX, &l, err, errlen)) < 0) {
        return r;
    } else if (r) {
        vga = l ? "stdvga" : "cirrus";
    }
    if ((have = get_mib(src, "videoram", &given, err, errlen)) < 0)
        return have;
    struct {
        const char *vga;
        uint64_t def, min; /* min UINT64_MAX: refused */
        bool fixed;        /* other sizes ignored */
    } const rules[2][4] = {
        {{"cirrus", 8, 8, false},
         {"stdvga", 16, 16, false},
         {"qxl", 128, 128, false},
         {"none", 0, 0, false}},
        {{"cirrus", 4, 0, true},
         {"stdvga", 8, 8, false},
         {"qxl", 0, UINT64_MAX, false},
         {"none", 0, 0, false}},
    };
    for (unsigned i = 0; i < 4; i++) {
        const __typeof__(rules[0][0]) *rule = &rules[trad][i];
        if (strcmp(rule->vga, vga) != 0)
            continue;
        if (rule->min == UINT64_MAX)
            return fail(err, errlen, "%s: vga = \"qxl\" needs device_model_version = \"qemu-xen\"",
                        src->path);
        c->video_mib = have && !rule->fixed ? given : rule->def;
        if (c->video_mib < rule->min)
            return fail(
                err, errlen,
                "%s: videoram = %llu: %s on %s needs at least %llu MiB (libxl refuses less)",
                src->path, (unsigned long long)given, vga, c->device_model,
                (unsigned long long)rule->min);
        return 0;
    }
    return 0;
}

/* device_model_version= and device_model_stubdomain_override= (HVM). */
static int read_device_model(struct xf_xl_source *src, struct xf_xl_config *c, char *err,
                             size_t errlen)
{
    const char *v;
    long stub = 0;
    int r;

    c->device_model = "none";
    if (strcmp(c->type_name, "hvm") != 0)
        return 0;
    if ((r = get_count(src, "device_model_stubdomain_override", LONG_MAX, &stub, err, errlen)) < 0)
        return r;
    if (r && stub)
        return fail(err, errlen,
                    "%s: device_model_stubdomain_override = %ld: a device-model stub domain's "
                    "memory is not modelled by xenfit (not supported)",
                    src->path, stub);
    /* libxl's default is qemu-xen for a domain without a stub domain (it
     * falls back to qemu-xen-traditional only when qemu-xen is not
     * installed, which Debian's xen-utils-4.17 always installs). */
    c->device_model = "qemu-xen";
    if ((r = get_str(src, "device_model_version", &v, err, errlen)) < 0)
        return r;
    if (r) {
        if (strcmp(v, "qemu-xen") == 0)
            c->device_model = "qemu-xen";
        else if (strcmp(v, "qemu-xen-traditional") == 0)
            c->device_model = "qemu-xen-traditional";
        else
            return fail(err, errlen,
                        "%s: device_model_version = \"%s\": unknown (qemu-xen or "
                        "qemu-xen-traditional)",
                        src->path, v);
    }
    return read_video(src, c, err, errlen);
}

/* memory=, maxmem= and their defaults: xl sets maxmem to memory when only
 * memory is given; libxl then gives 32 MiB to a domain with neither and
 * memory = maxmem when only maxmem is given. */
static int read_memory(struct xf_xl_source *src, struct xf_xl_config *c, char *err, size_t errlen)
{
    uint64_t memory = 0, maxmem = 0;
    int have_mem, have_max;

    if ((have_mem = get_mib(src, "memory", &memory, err, errlen)) < 0)
        return have_mem;
    if ((have_max = get_mib(src, "maxmem", &maxmem, err, errlen)) < 0)
        return have_max;
    if (!have_max && have_mem)
        maxmem = memory, have_max = 1;
    if (!have_max)
        maxmem = 32;
    if (!have_mem)
        memory = maxmem;
    if (memory == 0)
        return fail(err, errlen, "%s: memory = 0: a domain needs some memory", src->path);
    if (memory > maxmem)
        return fail(err, errlen,
                    "%s: memory = %llu is above maxmem = %llu: the domain would start above its "
                    "static maximum",
                    src->path, (unsigned long long)memory, (unsigned long long)maxmem);
    c->memory_mib = memory;
    c->maxmem_mib = maxmem;
    return 0;
}

/* vcpus= and maxvcpus=: maxvcpus defaults to vcpus (xl), both to 1 (libxl);
 * maxvcpus below vcpus is refused ("xl: maxvcpus < vcpus"). */
static int read_vcpus(struct xf_xl_source *src, struct xf_xl_config *c, char *err, size_t errlen)
{
    long vcpus = 0, max = 0;
    int r;

    if ((r = get_count(src, "vcpus", XF_VCPUS_MAX, &vcpus, err, errlen)) < 0 ||
        (r = get_count(src, "maxvcpus", XF_VCPUS_MAX, &max, err, errlen)) < 0)
        return r;
    if (max == 0)
        max = vcpus;
    if (max < vcpus)
        return fail(err, errlen, "%s: maxvcpus = %ld is below vcpus = %ld", src->path, max, vcpus);
    if (max == 0)
        max = 1;
    c->vcpus = vcpus ? (uint32_t)vcpus : 1;
    c->max_vcpus = (uint32_t)max;
    return 0;
}

/* The model's inputs. A shadow_memory= above the model's own shadow term
 * becomes the multiplier that reaches it (the model counts 256 pages per
 * vCPU and 2 per MiB, at least libxl's default of 256 per vCPU and 1 per
 * MiB with HAP: libxl__get_required_paging_memory). */
static void to_model(struct xf_xl_config *c)
{
    struct xf_vm_memory *vm = &c->vm;
    uint64_t base_mib;

    vm->type = strcmp(c->type_name, "hvm") == 0   ? XF_DOMAIN_HVM
               : strcmp(c->type_name, "pvh") != 0 ? XF_DOMAIN_PV
               : c->pvshim                        ? XF_DOMAIN_PV_IN_PVH
                                                  : XF_DOMAIN_PVH;
    vm->static_max_bytes = xf_bytes_of_mib(c->maxmem_mib);
    vm->target_bytes = xf_bytes_of_mib(c->memory_mib);
    vm->vcpus = c->max_vcpus;
    vm->video_mib = c->video_mib;
    vm->shadow_multiplier = XF_SHADOW_MULT_DEFAULT;
    base_mib = xf_mib_of_pages_used(256u * (uint64_t)c->max_vcpus + 2u * c->maxmem_mib);
    if (vm->type != XF_DOMAIN_PV && c->shadow_given && c->shadow_mib > base_mib) {
        /* trunc(base * (S + 0.5) / base) = S for any S above base. */
        double m = ((double)c->shadow_mib + 0.5) / (double)base_mib;
        vm->shadow_multiplier = m > XF_SHADOW_MULT_MAX ? XF_SHADOW_MULT_MAX : m;
    }
    if (!c->shadow_given)
        c->shadow_mib = vm->type == XF_DOMAIN_PV
                            ? 0
                            : xf_mib_of_pages_used(256u * (uint64_t)c->max_vcpus + c->maxmem_mib);
}

int xf_xl_config_from(struct xf_xl_source *src, struct xf_xl_config *ret, char *err, size_t errlen)
{
    struct xf_xl_config c;
    const char *v;
    long pvshim = 0;
    int r;

    memset(&c, 0, sizeof(c));
    if ((r = get_str(src, "name", &v, err, errlen)) < 0)
        return r;
    if (r)
        snprintf(c.name, sizeof(c.name), "%s", v);
    if ((r = read_type(src, &c, err, errlen)) < 0 || (r = read_memory(src, &c, err, errlen)) < 0 ||
        (r = read_vcpus(src, &c, err, errlen)) < 0 ||
        (r = read_affinity(src, "cpus", c.max_vcpus, &c.cpus, err, errlen)) < 0 ||
        (r = read_affinity(src, "cpus_soft", c.max_vcpus, &c.cpus_soft, err, errlen)) < 0 ||
        (r = read_device_model(src, &c, err, errlen)) < 0)
        return r;
    if (strcmp(c.type_name, "pvh") == 0 &&
        (r = get_count(src, "pvshim", LONG_MAX, &pvshim, err, errlen)) < 0)
        return r;
    c.pvshim = pvshim != 0;
    if ((r = get_mib(src, "shadow_memory", &c.shadow_mib, err, errlen)) < 0)
        return r;
    c.shadow_given = r > 0;
    to_model(&c);
    if (c.vm.video_mib && c.vm.video_mib >= c.memory_mib)
        return fail(err, errlen, "%s: videoram %llu MiB is not below memory = %llu", src->path,
                    (unsigned long long)c.vm.video_mib, (unsigned long long)c.memory_mib);
    *ret = c;
    return 0;
}

int xf_xl_config_read(const char *path, struct xf_xl_config *ret, char *err, size_t errlen)
{
    struct xf_xl_source *src = NULL;
    int r = xf_xl_source_xlu(path, &src, err, errlen);

    if (r == -ENOSYS)
        r = xf_xl_source_builtin(path, &src, err, errlen);
    if (r < 0)
        return r;
    r = xf_xl_config_from(src, ret, err, errlen);
    xf_xl_source_free(src);
    return r;
}

/* parse_range: "N" or "A-B" in decimal (strtoul), B >= A, nothing after. */
static bool parse_range(const char *s, unsigned long *a, unsigned long *b)
{
    char *end;

    *a = *b = strtoul(s, &end, 10);
    if (end == s || *a == ULONG_MAX)
        return false;
    if (*end == '-') {
        const char *t = end + 1;
        *b = strtoul(t, &end, 10);
        if (end == t || *b == ULONG_MAX || *b < *a)
            return false;
    }
    return *end == '\0';
}

/* One item of parse_cpurange into the CPU set (update_cpumap_range). */
static int cpu_item(const char *item, const uint32_t *cpu_to_node, uint32_t nr_cpus,
                    uint32_t nr_nodes, uint64_t *cpus, char *err, size_t errlen)
{
    const char *s = item;
    bool not = false, nodes = false;
    unsigned long a, b;

    if (*s == '^')
        not = true, s++;
    if (strncmp(s, "node:", 5) == 0)
        nodes = true, s += 5;
    else if (strncmp(s, "nodes:", 6) == 0)
        nodes = true, s += 6;
    if (strcmp(s, "all") == 0) {
        if (not )
            return fail(err, errlen, "'%s': can't combine \"^\" and \"all\"", item);
        for (uint32_t c = 0; c < nr_cpus; c++)
            cpus[c / 64] |= UINT64_C(1) << (c % 64);
        return 0;
    }
    if (!parse_range(s, &a, &b))
        return fail(err, errlen, "'%s': invalid pcpu range", item);
    if (b >= (nodes ? nr_nodes : nr_cpus))
        return fail(err, errlen, "'%s': this host has %s %u..%u", item, nodes ? "nodes" : "CPUs",
                    0u, (nodes ? nr_nodes : nr_cpus) - 1);
    for (uint32_t c = 0; c < nr_cpus; c++) {
        bool in = nodes ? cpu_to_node[c] >= a && cpu_to_node[c] <= b : c >= a && c <= b;
        if (!in)
            continue;
        if (not )
            cpus[c / 64] &= ~(UINT64_C(1) << (c % 64));
        else
            cpus[c / 64] |= UINT64_C(1) << (c % 64);
    }
    return 0;
}

/* The CPUs of an affinity: the union over its vCPUs' strings (Xen's node
 * affinity takes the union of every vCPU's mask). -EINVAL naming the item. */
static int affinity_cpus(const struct xf_xl_affinity *a, const uint32_t *cpu_to_node,
                         uint32_t nr_cpus, uint32_t nr_nodes, uint64_t cpus[XF_CPU_SET_WORDS],
                         char *err, size_t errlen)
{
    for (unsigned i = 0; i < a->n; i++) {
        uint64_t mine[XF_CPU_SET_WORDS] = {0};
        bool any = false;
        char buf[sizeof(a->spec[0])], *save = NULL;
        snprintf(buf, sizeof(buf), "%s", a->spec[i]);
        for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
            char what[200];
            if (cpu_item(item, cpu_to_node, nr_cpus, nr_nodes, mine, what, sizeof(what)) < 0)
                return fail(err, errlen, "\"%s\": %s", a->spec[i], what);
        }
        for (unsigned w = 0; w < XF_CPU_SET_WORDS; w++) {
            any |= mine[w] != 0;
            cpus[w] |= mine[w];
        }
        if (!any)
            return fail(err, errlen, "\"%s\": no CPU of this host", a->spec[i]);
    }
    return 0;
}

static uint64_t nodes_of(const uint64_t cpus[XF_CPU_SET_WORDS], const uint32_t *cpu_to_node,
                         uint32_t nr_cpus, uint32_t nr_nodes)
{
    uint64_t nodes = 0;
    for (uint32_t c = 0; c < nr_cpus; c++)
        if ((cpus[c / 64] >> (c % 64) & 1u) && cpu_to_node[c] < nr_nodes)
            nodes |= UINT64_C(1) << cpu_to_node[c];
    return nodes;
}

int xf_xl_affinity_nodes(const struct xf_xl_affinity *a, const uint32_t *cpu_to_node,
                         uint32_t nr_cpus, uint32_t nr_nodes, uint64_t *ret_nodes, char *err,
                         size_t errlen)
{
    uint64_t cpus[XF_CPU_SET_WORDS] = {0};
    int r;

    if (nr_cpus > XF_MAX_CPUS || nr_nodes > XF_MAX_NODES)
        return fail(err, errlen, "host too large (%u CPUs, %u nodes)", nr_cpus, nr_nodes);
    if (a->given && (r = affinity_cpus(a, cpu_to_node, nr_cpus, nr_nodes, cpus, err, errlen)) < 0)
        return r;
    *ret_nodes = a->given ? nodes_of(cpus, cpu_to_node, nr_cpus, nr_nodes) : 0;
    return 0;
}

int xf_xl_config_nodes(const struct xf_xl_config *c, const uint32_t *cpu_to_node, uint32_t nr_cpus,
                       uint32_t nr_nodes, uint64_t *ret_nodes, char *err, size_t errlen)
{
    uint64_t hard[XF_CPU_SET_WORDS] = {0}, soft[XF_CPU_SET_WORDS] = {0}, both[XF_CPU_SET_WORDS];
    bool narrow = false;
    int r;

    if (nr_cpus > XF_MAX_CPUS || nr_nodes > XF_MAX_NODES)
        return fail(err, errlen, "host too large (%u CPUs, %u nodes)", nr_cpus, nr_nodes);
    if (!c->cpus.given && !c->cpus_soft.given) {
        *ret_nodes = 0;
        return 0;
    }
    for (uint32_t cpu = 0; cpu < nr_cpus; cpu++) {
        hard[cpu / 64] |= c->cpus.given ? 0 : UINT64_C(1) << (cpu % 64);
        soft[cpu / 64] |= c->cpus_soft.given ? 0 : UINT64_C(1) << (cpu % 64);
    }
    if ((r = affinity_cpus(&c->cpus, cpu_to_node, nr_cpus, nr_nodes, hard, err, errlen)) < 0 ||
        (r = affinity_cpus(&c->cpus_soft, cpu_to_node, nr_cpus, nr_nodes, soft, err, errlen)) < 0)
        return r;
    for (unsigned w = 0; w < XF_CPU_SET_WORDS; w++) {
        both[w] = hard[w] & soft[w];
        narrow |= both[w] != 0;
    }
    *ret_nodes = nodes_of(narrow ? both : hard, cpu_to_node, nr_cpus, nr_nodes);
    return 0;
}
