/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Parsing of scenario files (include/xenfit/scenario.h, docs/scenario.md).
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/scenario.h"
#include "xenfit/units.h"

#define MAX_INSTANCES 4096u

static void set_error(struct xf_parse_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(struct xf_parse_error *err, const char *fmt, ...)
{
    va_list ap;
    if (err) {
        err->line = 0;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
}

/* Sets the message and evaluates to XF_EPARSE: a macro so that the static
 * analyzer, which does not follow a variadic call, sees the failure. */
#define fail(err, ...) (set_error((err), __VA_ARGS__), XF_EPARSE)

static int check_keys(json_t *o, const char *path, const char *const *keys,
                      struct xf_parse_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        size_t i;
        for (i = 0; keys[i]; i++)
            if (strcmp(k, keys[i]) == 0)
                break;
        if (!keys[i])
            return fail(err, "%s%s%s: unknown key", path, path[0] ? "." : "", k);
    }
    return 0;
}

/* A size: a string with an optional unit (bare = MiB) or an integer of MiB. */
static int get_size(json_t *v, const char *path, uint64_t *ret, struct xf_parse_error *err)
{
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < 0 || (uint64_t)n > XF_MEMORY_MAX_BYTES / XF_BYTES_PER_MIB)
            return fail(err, "%s: %lld MiB is out of range", path, (long long)n);
        *ret = (uint64_t)n * XF_BYTES_PER_MIB;
        return 0;
    }
    if (!json_is_string(v) || xf_parse_size_bytes(json_string_value(v), XF_BYTES_PER_MIB, ret) < 0)
        return fail(err, "%s: expected a size such as \"4G\" or 4096 (MiB)", path);
    return 0;
}

/* A duration: "5s", "250ms", "2m", or an integer of seconds. */
static int get_duration(json_t *v, const char *path, uint64_t *ret, struct xf_parse_error *err)
{
    uint64_t n, scale = 1000000000u;
    char digits[32];
    const char *s, *unit;

    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 1000000) {
        *ret = (uint64_t)json_integer_value(v) * scale;
        return 0;
    }
    if (!json_is_string(v))
        return fail(err, "%s: expected a duration such as \"5s\"", path);
    s = json_string_value(v);
    for (unit = s; *unit >= '0' && *unit <= '9'; unit++)
        ;
    if (unit == s || (size_t)(unit - s) >= sizeof(digits))
        return fail(err, "%s: '%s' is not a duration", path, s);
    memcpy(digits, s, (size_t)(unit - s));
    digits[unit - s] = '\0';
    if (strcmp(unit, "ms") == 0)
        scale = 1000000u;
    else if (strcmp(unit, "m") == 0)
        scale = UINT64_C(60000000000);
    else if (strcmp(unit, "s") != 0 && unit[0] != '\0')
        return fail(err, "%s: '%s' is not a duration (units ms, s, m)", path, s);
    if (xf_parse_u64(digits, &n) < 0 || n > 1000000)
        return fail(err, "%s: '%s' is out of range", path, s);
    *ret = n * scale;
    return 0;
}

static int parse_vm(json_t *o, const char *path, struct xf_scn_vm_def *d, uint64_t *ret_count,
                    struct xf_parse_error *err)
{
    static const char *const keys[] = {"name",
                                       "count",
                                       "type",
                                       "static_max",
                                       "target",
                                       "vcpus",
                                       "video",
                                       "shadow_multiplier",
                                       "memory_total_source",
                                       "suspend_memory",
                                       "hard_affinity",
                                       NULL};
    char p[96];
    json_t *v;
    uint64_t sz;
    int r;

    if (!json_is_object(o))
        return fail(err, "%s: expected an object", path);
    if ((r = check_keys(o, path, keys, err)))
        return r;
    memset(d, 0, sizeof(*d));
    d->vm.shadow_multiplier = XF_SHADOW_MULT_DEFAULT;

    v = json_object_get(o, "name");
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) >= XF_SCN_NAME_MAX - 6 || strchr(json_string_value(v), '*'))
        return fail(err, "%s.name: expected a name of 1..%d characters without '*'", path,
                    XF_SCN_NAME_MAX - 7);
    memcpy(d->name, json_string_value(v), json_string_length(v) + 1); /* length checked above */

    *ret_count = 1;
    v = json_object_get(o, "count");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > MAX_INSTANCES)
            return fail(err, "%s.count: expected an integer in 0..%u", path, MAX_INSTANCES);
        *ret_count = (uint64_t)json_integer_value(v);
    }
    v = json_object_get(o, "type");
    if (!json_is_string(v) || xf_domain_type_parse(json_string_value(v), &d->vm.type) < 0)
        return fail(err, "%s.type: expected \"hvm\", \"pvh\", \"pv\" or \"pv_in_pvh\"", path);
    snprintf(p, sizeof(p), "%s.static_max", path);
    if (!json_object_get(o, "static_max"))
        return fail(err, "%s: missing", p);
    if ((r = get_size(json_object_get(o, "static_max"), p, &d->vm.static_max_bytes, err)))
        return r;
    d->vm.target_bytes = d->vm.static_max_bytes;
    if ((v = json_object_get(o, "target"))) {
        snprintf(p, sizeof(p), "%s.target", path);
        if ((r = get_size(v, p, &d->vm.target_bytes, err)))
            return r;
    }
    v = json_object_get(o, "vcpus");
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > (json_int_t)XF_VCPUS_MAX)
        return fail(err, "%s.vcpus: expected an integer in 1..%u", path, XF_VCPUS_MAX);
    d->vm.vcpus = (uint32_t)json_integer_value(v);
    if ((v = json_object_get(o, "video"))) {
        snprintf(p, sizeof(p), "%s.video", path);
        if ((r = get_size(v, p, &sz, err)))
            return r;
        d->vm.video_mib = xf_mib_of_bytes_used(sz);
    }
    if ((v = json_object_get(o, "shadow_multiplier"))) {
        if (!json_is_number(v))
            return fail(err, "%s.shadow_multiplier: expected a number", path);
        d->vm.shadow_multiplier = json_number_value(v);
    }
    if ((v = json_object_get(o, "memory_total_source"))) {
        snprintf(p, sizeof(p), "%s.memory_total_source", path);
        if ((r = get_size(v, p, &sz, err)))
            return r;
        d->source_total_kib = xf_kib_of_bytes_used(sz);
        if (d->source_total_kib == 0)
            return fail(err, "%s: must not be 0", p);
    }
    if ((v = json_object_get(o, "suspend_memory"))) {
        snprintf(p, sizeof(p), "%s.suspend_memory", path);
        if ((r = get_size(v, p, &sz, err)))
            return r;
        d->suspend_kib = xf_kib_of_bytes_used(sz);
        if (d->suspend_kib == 0)
            return fail(err, "%s: must not be 0", p);
    }
    if ((v = json_object_get(o, "hard_affinity"))) {
        if (!json_is_boolean(v))
            return fail(err, "%s.hard_affinity: expected true or false", path);
        d->hard_affinity = json_is_true(v);
    }
    r = xf_vm_memory_check(&d->vm);
    if (r < 0)
        return fail(err, "%s: %s", path, xf_strerror(r));
    d->is_template = *ret_count == 0;
    return 0;
}

static int add_vm(struct xf_scenario *s, size_t *cap, const struct xf_scn_vm_def *d)
{
    if (s->nr_vms == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct xf_scn_vm_def *n = xf__reallocarray(s->vms, ncap, sizeof(*n));
        if (!n)
            return XF_ENOMEM;
        s->vms = n;
        *cap = ncap;
    }
    s->vms[s->nr_vms++] = *d;
    return 0;
}

static int parse_vms(json_t *arr, struct xf_scenario *s, struct xf_parse_error *err)
{
    size_t cap = 0, i;
    json_t *o;

    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return fail(err, "vms: expected a non-empty array");
    json_array_foreach(arr, i, o)
    {
        struct xf_scn_vm_def d;
        uint64_t count = 0;
        char path[32];
        int r;
        snprintf(path, sizeof(path), "vms[%zu]", i);
        if ((r = parse_vm(o, path, &d, &count, err)))
            return r;
        if (count <= 1) {
            r = add_vm(s, &cap, &d);
        } else {
            for (uint64_t k = 1; k <= count && r == 0; k++) {
                struct xf_scn_vm_def inst = d;
                /* name is at most XF_SCN_NAME_MAX - 7 characters; k at most 4 digits */
                snprintf(inst.name, sizeof(inst.name), "%.40s%u", d.name, (unsigned)k);
                r = add_vm(s, &cap, &inst);
            }
        }
        if (r < 0)
            return r;
        if (s->nr_vms > MAX_INSTANCES)
            return fail(err, "vms: more than %u VMs", MAX_INSTANCES);
    }
    /* Names must be unique. */
    for (size_t a = 0; a < s->nr_vms; a++)
        for (size_t b = a + 1; b < s->nr_vms; b++)
            if (strcmp(s->vms[a].name, s->vms[b].name) == 0)
                return fail(err, "vms: the name '%s' is used twice", s->vms[a].name);
    return 0;
}

static bool selects(const char *sel, const char *name)
{
    size_t n = strlen(sel);
    if (n > 0 && sel[n - 1] == '*')
        return strncmp(sel, name, n - 1) == 0;
    return strcmp(sel, name) == 0;
}

static int parse_selection(json_t *v, const char *path, const struct xf_scenario *s,
                           struct xf_scn_step *st, struct xf_parse_error *err)
{
    size_t i;
    json_t *e;

    if (json_is_string(v)) {
        json_t *arr = json_pack("[O]", v);
        int r;
        if (!arr)
            return XF_ENOMEM;
        r = parse_selection(arr, path, s, st, err);
        json_decref(arr);
        return r;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(err, "%s: expected a VM name, \"prefix*\", or a list of them", path);
    st->vms = xf__calloc(s->nr_vms, sizeof(*st->vms));
    if (!st->vms)
        return XF_ENOMEM;
    json_array_foreach(v, i, e)
    {
        size_t matched = 0;
        if (!json_is_string(e))
            return fail(err, "%s[%zu]: expected a string", path, i);
        for (size_t k = 0; k < s->nr_vms; k++) {
            if (s->vms[k].is_template || !selects(json_string_value(e), s->vms[k].name))
                continue;
            matched++;
            size_t j;
            for (j = 0; j < st->nr_vms; j++)
                if (st->vms[j] == k)
                    break;
            if (j == st->nr_vms)
                st->vms[st->nr_vms++] = k;
        }
        if (!matched)
            return fail(err, "%s[%zu]: '%s' names no VM", path, i, json_string_value(e));
    }
    return 0;
}

static int parse_step(json_t *o, size_t idx, struct xf_scenario *s, struct xf_scn_step *st,
                      struct xf_parse_error *err)
{
    static const struct {
        const char *key;
        enum xf_scn_step_kind kind;
    } kinds[] = {{"boot", XF_SCN_BOOT},         {"fill", XF_SCN_FILL},
                 {"shutdown", XF_SCN_SHUTDOWN}, {"destroy", XF_SCN_SHUTDOWN},
                 {"reboot", XF_SCN_REBOOT},     {"migrate_in", XF_SCN_MIGRATE_IN},
                 {"resume", XF_SCN_RESUME},     {"wait", XF_SCN_WAIT}};
    static const char *const keys[] = {"boot",   "fill",   "shutdown",   "destroy",
                                       "reboot", "resume", "wait",       "parallel",
                                       "max",    "brim",   "migrate_in", NULL};
    char path[64];
    const char *key = NULL;
    json_t *v, *par;
    int r;

    snprintf(path, sizeof(path), "steps[%zu]", idx);
    if (!json_is_object(o))
        return fail(err, "%s: expected an object", path);
    if ((r = check_keys(o, path, keys, err)))
        return r;
    memset(st, 0, sizeof(*st));
    for (size_t i = 0; i < XF_ARRAY_SIZE(kinds); i++) {
        if (!json_object_get(o, kinds[i].key))
            continue;
        if (key)
            return fail(err, "%s: both '%s' and '%s'; one action per step", path, key,
                        kinds[i].key);
        key = kinds[i].key;
        st->kind = kinds[i].kind;
    }
    if (!key)
        return fail(err,
                    "%s: no action (boot, fill, shutdown, destroy, reboot, migrate_in, resume, "
                    "wait)",
                    path);
    v = json_object_get(o, key);
    snprintf(path, sizeof(path), "steps[%zu].%s", idx, key);
    par = json_object_get(o, "parallel");
    if (par && !json_is_boolean(par))
        return fail(err, "steps[%zu].parallel: expected true or false", idx);
    st->parallel = json_is_true(par); /* false when absent */

    switch (st->kind) {
    case XF_SCN_WAIT:
        return get_duration(v, path, &st->wait_ns, err);
    case XF_SCN_FILL: {
        json_t *max = json_object_get(o, "max");
        size_t k;
        if (!json_is_string(v))
            return fail(err, "%s: expected the name of a VM template (count 0)", path);
        for (k = 0; k < s->nr_vms; k++)
            if (s->vms[k].is_template && strcmp(s->vms[k].name, json_string_value(v)) == 0)
                break;
        if (k == s->nr_vms)
            return fail(err, "%s: '%s' is not a VM template (a vms entry with count 0)", path,
                        json_string_value(v));
        st->fill_template = k;
        st->fill_max = 256;
        if (max) {
            if (!json_is_integer(max) || json_integer_value(max) < 1 ||
                json_integer_value(max) > 1024)
                return fail(err, "steps[%zu].max: expected an integer in 1..1024", idx);
            st->fill_max = (uint32_t)json_integer_value(max);
        }
        json_t *brim = json_object_get(o, "brim");
        if (brim && !json_is_boolean(brim))
            return fail(err, "steps[%zu].brim: expected true or false", idx);
        st->fill_brim = json_is_true(brim);
        return 0;
    }
    default:
        r = parse_selection(v, path, s, st, err);
        if (r == 0 && st->kind == XF_SCN_MIGRATE_IN)
            for (size_t j = 0; j < st->nr_vms; j++)
                if (!s->vms[st->vms[j]].source_total_kib)
                    return fail(err, "%s: VM '%s' has no memory_total_source", path,
                                s->vms[st->vms[j]].name);
        if (r == 0 && st->kind == XF_SCN_RESUME)
            for (size_t j = 0; j < st->nr_vms; j++)
                if (!s->vms[st->vms[j]].suspend_kib)
                    return fail(err, "%s: VM '%s' has no suspend_memory", path,
                                s->vms[st->vms[j]].name);
        return r;
    }
}

static int load_host(json_t *root, xf_scn_load_fn load, void *ctx, struct xf_scenario *s,
                     struct xf_parse_error *err)
{
    json_t *host = json_object_get(root, "host"), *owned = NULL, *v;
    char *text = NULL, *buf = NULL;
    size_t len = 0;
    int r;

    if (json_is_string(host)) {
        json_error_t je;
        if (!load)
            return fail(err, "host: a file name needs a loader");
        r = load(ctx, json_string_value(host), &buf, &len);
        if (r < 0)
            return fail(err, "host: cannot load '%s': %s", json_string_value(host), xf_strerror(r));
        owned = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        free(buf);
        if (!owned)
            return fail(err, "host '%s': line %d: %s", json_string_value(host), je.line, je.text);
        host = owned;
    } else if (json_is_object(host)) {
        owned = json_deep_copy(host);
        if (!owned)
            return XF_ENOMEM;
        host = owned;
    } else {
        return fail(err, "host: expected a host spec object or a file name");
    }
    /* The scenario's "xen" and "truth" override the host's. */
    static const char *const merged[] = {"xen", "truth", "timing"};
    for (size_t i = 0; i < XF_ARRAY_SIZE(merged); i++) {
        if (!(v = json_object_get(root, merged[i])))
            continue;
        if (!json_is_object(v)) {
            json_decref(owned);
            return fail(err, "%s: expected an object", merged[i]);
        }
        json_t *dst = json_object_get(host, merged[i]);
        if (!dst) {
            dst = json_object();
            if (!dst || json_object_set_new(host, merged[i], dst) < 0) {
                json_decref(owned);
                return XF_ENOMEM;
            }
        }
        if (!json_is_object(dst) || json_object_update_recursive(dst, v) < 0) {
            json_decref(owned);
            return fail(err, "%s: cannot merge into the host's", merged[i]);
        }
    }
    text = json_dumps(host, JSON_COMPACT);
    json_decref(owned);
    if (!text)
        return XF_ENOMEM;
    r = xf_sim_spec_parse(text, strlen(text), &s->spec, err);
    free(text);
    if (r < 0 && err) {
        char msg[sizeof(err->message)];
        snprintf(msg, sizeof(msg), "host: %.*s", (int)sizeof(msg) - 7, err->message);
        memcpy(err->message, msg, sizeof(msg));
    }
    return r;
}

int xf_scenario_parse(const char *buf, size_t len, xf_scn_load_fn load, void *load_ctx,
                      struct xf_scenario **ret, struct xf_parse_error *err)
{
    static const char *const keys[] = {"name",   "description", "host", "xen",   "truth",
                                       "timing", "numa_policy", "vms",  "steps", NULL};
    struct xf_scenario *s;
    json_error_t je;
    json_t *root, *v;
    size_t i;
    int r;

    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (err) {
            err->line = (size_t)(je.line > 0 ? je.line : 0);
            snprintf(err->message, sizeof(err->message), "line %d column %d: %s", je.line,
                     je.column, je.text);
        }
        return XF_EPARSE;
    }
    s = xf__calloc(1, sizeof(*s));
    if (!s) {
        json_decref(root);
        return XF_ENOMEM;
    }
    r = json_is_object(root) ? check_keys(root, "", keys, err)
                             : fail(err, "the scenario must be a JSON object");
    if (r)
        goto out;
    v = json_object_get(root, "name");
    if (v && (!json_is_string(v) || json_string_length(v) >= sizeof(s->name))) {
        r = fail(err, "name: expected a string of at most %zu characters", sizeof(s->name) - 1);
        goto out;
    }
    snprintf(s->name, sizeof(s->name), "%s", v ? json_string_value(v) : "scenario");
    v = json_object_get(root, "description");
    if (v && !json_is_string(v)) {
        r = fail(err, "description: expected a string");
        goto out;
    }
    snprintf(s->description, sizeof(s->description), "%s", v ? json_string_value(v) : "");
    s->numa_policy = XF_NUMA_POLICY_BEST_EFFORT;
    v = json_object_get(root, "numa_policy");
    if (v && (!json_is_string(v) || xf_numa_policy_parse(json_string_value(v), &s->numa_policy))) {
        r = fail(err, "numa_policy: expected any, best_effort, best_effort_hard or prio_mem_only");
        goto out;
    }
    if ((r = load_host(root, load, load_ctx, s, err)))
        goto out;
    if ((r = parse_vms(json_object_get(root, "vms"), s, err)))
        goto out;
    v = json_object_get(root, "steps");
    if (!json_is_array(v) || json_array_size(v) == 0) {
        r = fail(err, "steps: expected a non-empty array");
        goto out;
    }
    s->steps = xf__calloc(json_array_size(v), sizeof(*s->steps));
    if (!s->steps) {
        r = XF_ENOMEM;
        goto out;
    }
    json_t *o;
    json_array_foreach(v, i, o)
    {
        r = parse_step(o, i, s, &s->steps[i], err);
        s->nr_steps = i + 1;
        if (r)
            goto out;
    }
out:
    json_decref(root);
    if (r < 0) {
        xf_scenario_free(s);
        return r;
    }
    *ret = s;
    return 0;
}

void xf_scenario_free(struct xf_scenario *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nr_steps; i++)
        xf__free(s->steps[i].vms);
    xf__free(s->steps);
    xf__free(s->vms);
    xf_sim_spec_free(s->spec);
    xf__free(s);
}
