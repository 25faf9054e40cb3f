/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Parsing a JSON host spec (docs/host-spec.md) into struct xf_sim_spec.
 * Every key is checked: unknown keys, wrong types, negative or fractional
 * numbers, a CPU on two nodes and a non-square distance matrix are refused
 * with a message that names the field by its path ("nodes[1].cpus[0]").
 * Sizes are given in MiB ("memory_mib") or pages ("memory_pages"), never
 * both. Defaults that depend on other fields, and the checks across fields,
 * are in spec-check.c.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "sim-internal.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

/* Any size above this many pages (4 PiB) is refused: sums stay far from overflow. */
#define SPEC_MAX_PAGES (UINT64_C(1) << 40)
#define SPEC_UNSET     UINT64_MAX

struct path {
    char s[96];
};

/* Sets p to a + b, cut to fit (a path only names a field in a message). */
static const char *path_join(struct path *p, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), cap = sizeof(p->s) - 1;
    char tmp[sizeof(p->s)];

    if (la > cap)
        la = cap;
    if (lb > cap - la)
        lb = cap - la;
    memcpy(tmp, a, la);
    memcpy(tmp + la, b, lb);
    tmp[la + lb] = '\0';
    memcpy(p->s, tmp, la + lb + 1);
    return p->s;
}

static const char *at(struct path *p, const char *parent, const char *key)
{
    char dotted[sizeof(p->s)];

    if (!parent[0])
        return path_join(p, "", key);
    path_join(p, ".", key);
    memcpy(dotted, p->s, sizeof(dotted));
    return path_join(p, parent, dotted);
}

static const char *at_index(struct path *p, const char *parent, size_t i)
{
    char idx[32];

    snprintf(idx, sizeof(idx), "[%zu]", i);
    return path_join(p, parent, idx);
}

/* Refuses keys of obj not in the NULL-terminated list. */
static int check_keys(json_t *obj, const char *path, const char *const *allowed,
                      struct xf_parse_error *err)
{
    const char *key;
    json_t *v;
    struct path p;

    json_object_foreach(obj, key, v)
    {
        bool ok = false;
        (void)v;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0)
                ok = true;
        if (!ok)
            return xf__sim_parse_fail(err, "%s: unknown key", at(&p, path, key));
    }
    return 0;
}

static int need_object(json_t *v, const char *path, struct xf_parse_error *err)
{
    if (!json_is_object(v))
        return xf__sim_parse_fail(err, "%s: must be an object", path);
    return 0;
}

/* A non-negative integer <= max. */
static int as_uint(json_t *v, const char *path, uint64_t max, uint64_t *ret,
                   struct xf_parse_error *err)
{
    json_int_t i;

    if (!json_is_integer(v))
        return xf__sim_parse_fail(err, "%s: must be a non-negative integer", path);
    i = json_integer_value(v);
    if (i < 0)
        return xf__sim_parse_fail(err, "%s: must not be negative (got %lld)", path, (long long)i);
    if ((uint64_t)i > max)
        return xf__sim_parse_fail(err, "%s: %lld is too large (at most %llu)", path, (long long)i,
                                  (unsigned long long)max);
    *ret = (uint64_t)i;
    return 0;
}

/* An optional integer key; *ret is left alone when absent. */
static int opt_uint(json_t *obj, const char *parent, const char *key, uint64_t max, uint64_t *ret,
                    struct xf_parse_error *err)
{
    json_t *v = json_object_get(obj, key);
    struct path p;

    if (!v)
        return 0;
    return as_uint(v, at(&p, parent, key), max, ret, err);
}

static int opt_u32(json_t *obj, const char *parent, const char *key, uint32_t max, uint32_t *ret,
                   struct xf_parse_error *err)
{
    uint64_t v = *ret;
    int r = opt_uint(obj, parent, key, max, &v, err);
    if (r == 0)
        *ret = (uint32_t)v;
    return r;
}

/*
 * A size given as "<base>_mib" or "<base>_pages" (one of them). Returns 0
 * and *ret_pages (untouched when neither is present), or an error.
 */
static int opt_size(json_t *obj, const char *parent, const char *base, uint64_t *ret_pages,
                    struct xf_parse_error *err)
{
    char kmib[48], kpages[48];
    json_t *vm, *vp;
    struct path p;
    uint64_t v;
    int r;

    snprintf(kmib, sizeof(kmib), "%s_mib", base);
    snprintf(kpages, sizeof(kpages), "%s_pages", base);
    vm = json_object_get(obj, kmib);
    vp = json_object_get(obj, kpages);
    if (vm && vp)
        return xf__sim_parse_fail(err, "%s: give %s or %s, not both", at(&p, parent, kmib), kmib,
                                  kpages);
    if (vm) {
        if ((r = as_uint(vm, at(&p, parent, kmib), SPEC_MAX_PAGES / XF_PAGES_PER_MIB, &v, err)))
            return r;
        *ret_pages = xf_pages_of_mib(v);
    } else if (vp) {
        if ((r = as_uint(vp, at(&p, parent, kpages), SPEC_MAX_PAGES, &v, err)))
            return r;
        *ret_pages = v;
    }
    return 0;
}

static int opt_bool(json_t *obj, const char *parent, const char *key, int *ret,
                    struct xf_parse_error *err)
{
    json_t *v = json_object_get(obj, key);
    struct path p;

    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return xf__sim_parse_fail(err, "%s: must be true or false", at(&p, parent, key));
    *ret = json_is_true(v);
    return 0;
}

/* "cpus": an array of CPU ids, or a count (the next ids after all so far). */
static int parse_cpus(json_t *v, const char *path, uint32_t node, uint32_t *next_id, uint8_t *seen,
                      struct xf_sim_spec *spec, struct xf_parse_error *err)
{
    struct path p;
    uint64_t id, n;
    size_t i;
    json_t *e;
    int r;

    if (json_is_integer(v)) {
        if ((r = as_uint(v, path, XF_SIM_MAX_CPUS, &n, err)))
            return r;
        if (*next_id + n > XF_SIM_MAX_CPUS)
            return xf__sim_parse_fail(err, "%s: more than %u CPUs in all", path, XF_SIM_MAX_CPUS);
        for (uint64_t k = 0; k < n; k++) {
            uint32_t c = (uint32_t)(*next_id + k);
            if (seen[c])
                return xf__sim_parse_fail(err, "%s: CPU %u is also on node %u", path, c,
                                          spec->cpus[c].node);
            seen[c] = 1;
            spec->cpus[c].node = node;
        }
        *next_id += (uint32_t)n;
        spec->nodes[node].nr_cpus = (uint32_t)n;
        return 0;
    }
    if (!json_is_array(v))
        return xf__sim_parse_fail(err, "%s: must be an array of CPU ids or a count", path);
    json_array_foreach(v, i, e)
    {
        if ((r = as_uint(e, at_index(&p, path, i), XF_SIM_MAX_CPUS - 1, &id, err)))
            return r;
        if (seen[id])
            return xf__sim_parse_fail(err, "%s: CPU %llu is also on node %u", p.s,
                                      (unsigned long long)id, spec->cpus[id].node);
        seen[id] = 1;
        spec->cpus[id].node = node;
        if (id + 1 > *next_id)
            *next_id = (uint32_t)id + 1;
    }
    spec->nodes[node].nr_cpus = (uint32_t)json_array_size(v);
    return 0;
}

static int parse_nodes(json_t *arr, struct xf_sim_spec *spec, uint8_t *seen,
                       struct xf_parse_error *err)
{
    static const char *const keys[] = {"memory_mib",
                                       "memory_pages",
                                       "spanned_mib",
                                       "spanned_pages",
                                       "firmware_reserved_mib",
                                       "firmware_reserved_pages",
                                       "cpus",
                                       "cores",
                                       "socket",
                                       NULL};
    struct path p, q;
    uint32_t next_id = 0;
    size_t i;
    json_t *o;
    int r;

    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return xf__sim_parse_fail(err, "nodes: must be a non-empty array");
    if (json_array_size(arr) > XF_MAX_NODES)
        return xf__sim_parse_fail(err, "nodes: %zu nodes, at most %u", json_array_size(arr),
                                  XF_MAX_NODES);
    spec->nr_nodes = (uint32_t)json_array_size(arr);
    json_array_foreach(arr, i, o)
    {
        struct xf_sim_node_spec *n = &spec->nodes[i];
        const char *path = at_index(&p, "nodes", i);
        json_t *cpus;

        if ((r = need_object(o, path, err)) || (r = check_keys(o, path, keys, err)))
            return r;
        n->memory_pages = SPEC_UNSET;
        n->spanned_pages = SPEC_UNSET;
        n->nr_cores = UINT32_MAX;
        n->socket = (uint32_t)i;
        if ((r = opt_size(o, path, "memory", &n->memory_pages, err)) ||
            (r = opt_size(o, path, "spanned", &n->spanned_pages, err)) ||
            (r = opt_size(o, path, "firmware_reserved", &n->firmware_reserved_pages, err)) ||
            (r = opt_u32(o, path, "cores", XF_SIM_MAX_CPUS, &n->nr_cores, err)) ||
            (r = opt_u32(o, path, "socket", XF_SIM_MAX_CPUS - 1, &n->socket, err)))
            return r;
        if (n->memory_pages == SPEC_UNSET)
            return xf__sim_parse_fail(err, "%s: memory_mib (or memory_pages) is required",
                                      at(&q, path, "memory_mib"));
        cpus = json_object_get(o, "cpus");
        if (cpus &&
            (r = parse_cpus(cpus, at(&q, path, "cpus"), (uint32_t)i, &next_id, seen, spec, err)))
            return r;
    }
    spec->nr_cpus = next_id;
    return 0;
}

static int parse_distances(json_t *arr, struct xf_sim_spec *spec, struct xf_parse_error *err)
{
    struct path p, q;
    size_t i, j;
    json_t *row, *e;
    uint64_t d;
    int r;

    if (!arr) {
        if (spec->nr_nodes > 1)
            return xf__sim_parse_fail(err, "distances: required for %u nodes", spec->nr_nodes);
        spec->distances[0][0] = 10;
        return 0;
    }
    if (!json_is_array(arr) || json_array_size(arr) != spec->nr_nodes)
        return xf__sim_parse_fail(err,
                                  "distances: must be %u rows of %u (a square matrix, one row "
                                  "per node)",
                                  spec->nr_nodes, spec->nr_nodes);
    json_array_foreach(arr, i, row)
    {
        const char *rpath = at_index(&p, "distances", i);
        if (!json_is_array(row) || json_array_size(row) != spec->nr_nodes)
            return xf__sim_parse_fail(err, "%s: must be a row of %u distances (a square matrix)",
                                      rpath, spec->nr_nodes);
        json_array_foreach(row, j, e)
        {
            if ((r = as_uint(e, at_index(&q, rpath, j), 255, &d, err)))
                return r;
            /* SLIT 0xFF: no path between the nodes. */
            spec->distances[i][j] = d == 255 ? XF_DIST_UNREACHABLE : (uint32_t)d;
        }
    }
    return 0;
}

static int parse_xen(json_t *o, struct xf_sim_spec *spec, struct xf_parse_error *err)
{
    static const char *const keys[] = {"claim_semantics",   "node_claims",
                                       "node_claimed_info", "low_mem_virq_limit_mib",
                                       "reserved_mib",      "reserved_pages",
                                       "reserved_node",     "dma_mib",
                                       "dma_pages",         NULL};
    uint64_t reserved = SPEC_UNSET, dma = SPEC_UNSET, lowmem = SPEC_UNSET;
    uint32_t node = 0;
    int node_claims = 0, claimed_info = -1;
    json_t *sem;
    int r;

    if (o && ((r = need_object(o, "xen", err)) || (r = check_keys(o, "xen", keys, err))))
        return r;
    if (o) {
        if ((r = opt_size(o, "xen", "reserved", &reserved, err)) ||
            (r = opt_size(o, "xen", "dma", &dma, err)) ||
            (r = opt_uint(o, "xen", "low_mem_virq_limit_mib", SPEC_MAX_PAGES / XF_PAGES_PER_MIB,
                          &lowmem, err)) ||
            (r = opt_u32(o, "xen", "reserved_node", XF_MAX_NODES - 1, &node, err)) ||
            (r = opt_bool(o, "xen", "node_claims", &node_claims, err)) ||
            (r = opt_bool(o, "xen", "node_claimed_info", &claimed_info, err)))
            return r;
        sem = json_object_get(o, "claim_semantics");
        if (sem) {
            const char *s = json_string_value(sem);
            if (s && strcmp(s, "4.22") == 0)
                spec->claim_semantics = XF_SIM_CLAIMS_4_22;
            else if (s && strcmp(s, "4.17") == 0)
                spec->claim_semantics = XF_SIM_CLAIMS_4_17;
            else
                return xf__sim_parse_fail(err, "xen.claim_semantics: must be \"4.22\" or \"4.17\"");
        }
    }
    if (node >= spec->nr_nodes)
        return xf__sim_parse_fail(err, "xen.reserved_node: node %u does not exist (%u nodes)", node,
                                  spec->nr_nodes);
    spec->node_claims = node_claims;
    spec->node_claimed_info = claimed_info < 0 ? node_claims : claimed_info;
    spec->low_mem_virq_default = lowmem == SPEC_UNSET;
    spec->low_mem_virq_limit_pages = xf_pages_of_mib(lowmem == SPEC_UNSET ? 64 : lowmem);
    spec->nodes[node].xen_pages = reserved; /* SPEC_UNSET: the default, in spec-check.c */
    spec->nodes[0].dma_pages = dma;
    return 0;
}

static int parse_dom0(json_t *o, struct xf_sim_spec *spec, struct xf_parse_error *err)
{
    static const char *const keys[] = {"type",     "vcpus",      "memory_mib", "memory_pages",
                                       "node_mib", "node_pages", NULL};
    uint64_t total = SPEC_UNSET, sum = 0;
    uint32_t vcpus = 0;
    json_t *t, *split;
    int r;

    if (!o)
        return xf__sim_parse_fail(err, "dom0: required (at least memory_mib)");
    if ((r = need_object(o, "dom0", err)) || (r = check_keys(o, "dom0", keys, err)) ||
        (r = opt_size(o, "dom0", "memory", &total, err)) ||
        (r = opt_u32(o, "dom0", "vcpus", XF_VCPUS_MAX, &vcpus, err)))
        return r;
    if (total == SPEC_UNSET || total == 0)
        return xf__sim_parse_fail(err, "dom0.memory_mib: required, and more than 0");
    if (json_object_get(o, "vcpus") && vcpus == 0)
        return xf__sim_parse_fail(err, "dom0.vcpus: must be at least 1");
    spec->dom0_vcpus = vcpus; /* 0: one per CPU, in spec-check.c */
    spec->dom0_memory_pages = total;
    spec->dom0_type = XF_DOMAIN_PV;
    t = json_object_get(o, "type");
    if (t &&
        (!json_is_string(t) || xf_domain_type_parse(json_string_value(t), &spec->dom0_type) < 0))
        return xf__sim_parse_fail(err,
                                  "dom0.type: must be \"pv\", \"pvh\", \"hvm\" or \"pv_in_pvh\"");
    for (uint32_t i = 0; i < spec->nr_nodes; i++)
        spec->nodes[i].dom0_pages = SPEC_UNSET;
    split = json_object_get(o, "node_mib");
    if (split && json_object_get(o, "node_pages"))
        return xf__sim_parse_fail(err, "dom0.node_mib: give node_mib or node_pages, not both");
    bool in_mib = split != NULL;
    if (!split)
        split = json_object_get(o, "node_pages");
    if (split) {
        const char *path = in_mib ? "dom0.node_mib" : "dom0.node_pages";
        struct path p;
        size_t i;
        json_t *e;
        uint64_t v;
        if (!json_is_array(split) || json_array_size(split) != spec->nr_nodes)
            return xf__sim_parse_fail(err, "%s: must be an array of %u sizes, one per node", path,
                                      spec->nr_nodes);
        json_array_foreach(split, i, e)
        {
            if ((r = as_uint(e, at_index(&p, path, i),
                             in_mib ? SPEC_MAX_PAGES / XF_PAGES_PER_MIB : SPEC_MAX_PAGES, &v, err)))
                return r;
            spec->nodes[i].dom0_pages = in_mib ? xf_pages_of_mib(v) : v;
            sum += spec->nodes[i].dom0_pages;
        }
        if (sum != total)
            return xf__sim_parse_fail(err, "%s: adds up to %llu pages, dom0 has %llu", path,
                                      (unsigned long long)sum, (unsigned long long)total);
    }
    return 0;
}

static int parse_truth(json_t *o, struct xf_sim_spec *spec, struct xf_parse_error *err)
{
    static const char *const types[] = {"hvm", "pvh", "pv", "pv_in_pvh", NULL};
    static const char *const keys[] = {"domain_pages",       "vcpu_pages",
                                       "extra_guest_pages",  "max_pages_slack_pages",
                                       "initial_pool_pages", NULL};
    const char *name;
    json_t *t;
    struct path p;
    int r;

    xf__sim_truth_defaults(spec->truth);
    if (!o)
        return 0;
    if ((r = need_object(o, "truth", err)) || (r = check_keys(o, "truth", types, err)))
        return r;
    json_object_foreach(o, name, t)
    {
        enum xf_domain_type type;
        struct xf_sim_truth *tr;
        const char *path = at(&p, "truth", name);

        if (xf_domain_type_parse(name, &type) < 0) /* cannot be: check_keys passed */
            return xf__sim_parse_fail(err, "%s: unknown domain type", path);
        tr = &spec->truth[type];
        if ((r = need_object(t, path, err)) || (r = check_keys(t, path, keys, err)) ||
            (r = opt_uint(t, path, "domain_pages", SPEC_MAX_PAGES, &tr->domain_pages, err)) ||
            (r = opt_uint(t, path, "vcpu_pages", SPEC_MAX_PAGES, &tr->vcpu_pages, err)) ||
            (r = opt_uint(t, path, "extra_guest_pages", SPEC_MAX_PAGES, &tr->extra_guest_pages,
                          err)) ||
            (r = opt_uint(t, path, "max_pages_slack_pages", SPEC_MAX_PAGES,
                          &tr->max_pages_slack_pages, err)) ||
            (r = opt_uint(t, path, "initial_pool_pages", SPEC_MAX_PAGES, &tr->initial_pool_pages,
                          err)))
            return r;
    }
    return 0;
}

static int parse_timing(json_t *o, struct xf_sim_spec *spec, struct xf_parse_error *err)
{
    static const char *const keys[] = {"hypercall_ns",
                                       "extent_ns",
                                       "page_ns",
                                       "scrub_page_ns",
                                       "release_mib_per_s",
                                       "release_tail_mib",
                                       "release_tail_pages",
                                       "release_tail_ms",
                                       "idle_scrub_mib_per_s",
                                       NULL};
    struct xf_sim_timing *t = &spec->timing;
    const uint64_t max_ns = UINT64_C(1) << 40; /* ~18 minutes per step, far beyond need */
    uint64_t rate = SPEC_UNSET, tail_ms = SPEC_UNSET, scrub = SPEC_UNSET;
    int r;

    xf__sim_timing_defaults(t);
    if (!o)
        return 0;
    if ((r = need_object(o, "timing", err)) || (r = check_keys(o, "timing", keys, err)) ||
        (r = opt_uint(o, "timing", "hypercall_ns", max_ns, &t->hypercall_ns, err)) ||
        (r = opt_uint(o, "timing", "extent_ns", max_ns, &t->extent_ns, err)) ||
        (r = opt_uint(o, "timing", "page_ns", max_ns, &t->page_ns, err)) ||
        (r = opt_uint(o, "timing", "scrub_page_ns", max_ns, &t->scrub_page_ns, err)) ||
        (r = opt_uint(o, "timing", "release_mib_per_s", SPEC_MAX_PAGES / XF_PAGES_PER_MIB, &rate,
                      err)) ||
        (r = opt_size(o, "timing", "release_tail", &t->release_tail_pages, err)) ||
        (r = opt_uint(o, "timing", "release_tail_ms", UINT64_C(1) << 30, &tail_ms, err)) ||
        (r = opt_uint(o, "timing", "idle_scrub_mib_per_s", SPEC_MAX_PAGES / XF_PAGES_PER_MIB,
                      &scrub, err)))
        return r;
    if (rate != SPEC_UNSET)
        t->release_pages_per_s = xf_pages_of_mib(rate);
    if (tail_ms != SPEC_UNSET)
        t->release_tail_ns = tail_ms * UINT64_C(1000000);
    if (scrub != SPEC_UNSET)
        t->idle_scrub_pages_per_s = xf_pages_of_mib(scrub);
    return 0;
}

static int parse_root(json_t *root, struct xf_sim_spec *spec, uint8_t *seen,
                      struct xf_parse_error *err)
{
    static const char *const keys[] = {"name", "description", "nodes",  "distances", "xen",
                                       "dom0", "truth",       "timing", NULL};
    json_t *name;
    int r;

    if (!json_is_object(root))
        return xf__sim_parse_fail(err, "the host spec must be a JSON object");
    if ((r = check_keys(root, "", keys, err)))
        return r;
    name = json_object_get(root, "name");
    if (name) {
        if (!json_is_string(name) || json_string_length(name) >= sizeof(spec->name))
            return xf__sim_parse_fail(err, "name: must be a string of at most %zu bytes",
                                      sizeof(spec->name) - 1);
        memcpy(spec->name, json_string_value(name), json_string_length(name) + 1);
    }
    if (json_object_get(root, "description") &&
        !json_is_string(json_object_get(root, "description")))
        return xf__sim_parse_fail(err, "description: must be a string");
    if (!json_object_get(root, "nodes"))
        return xf__sim_parse_fail(err, "nodes: required");
    if ((r = parse_nodes(json_object_get(root, "nodes"), spec, seen, err)) ||
        (r = parse_distances(json_object_get(root, "distances"), spec, err)) ||
        (r = parse_xen(json_object_get(root, "xen"), spec, err)) ||
        (r = parse_dom0(json_object_get(root, "dom0"), spec, err)) ||
        (r = parse_truth(json_object_get(root, "truth"), spec, err)) ||
        (r = parse_timing(json_object_get(root, "timing"), spec, err)))
        return r;
    return 0;
}

int xf_sim_spec_parse(const char *buf, size_t len, struct xf_sim_spec **ret,
                      struct xf_parse_error *err)
{
    struct xf_parse_error scratch;
    struct xf_sim_spec *spec = NULL;
    uint8_t *seen = NULL;
    json_error_t jerr;
    json_t *root = NULL;
    int r;

    if (!err)
        err = &scratch;
    err->line = 0;
    err->message[0] = '\0';
    if (!buf)
        return xf__sim_parse_fail(err, "no host spec given");
    spec = xf__calloc(1, sizeof(*spec));
    seen = xf__calloc(XF_SIM_MAX_CPUS, 1);
    if (!spec || !seen) {
        r = XF_ENOMEM;
        goto out;
    }
    for (uint32_t c = 0; c < XF_SIM_MAX_CPUS; c++)
        spec->cpus[c].node = UINT32_MAX;
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        r = xf__sim_parse_fail(err, "not valid JSON: %s", jerr.text);
        err->line = jerr.line > 0 ? (size_t)jerr.line : 0;
        goto out;
    }
    if ((r = parse_root(root, spec, seen, err)) || (r = xf__sim_spec_finish(spec, err)))
        goto out;
    *ret = spec;
    spec = NULL;
out:
    json_decref(root);
    xf__free(seen);
    xf__free(spec);
    return r;
}

void xf_sim_spec_free(struct xf_sim_spec *spec)
{
    xf__free(spec);
}
