/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfit plan: NUMA placement of one or more VMs on a host described by a
 * topology snapshot (docs/topology.md), planned in order, each seeing the
 * memory and placements the previous ones took (include/xenfit/planner.h).
 * Prints a table, or JSON with --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xenfit/admit.h"
#include "xenfit/error.h"
#include "xenfit/planner.h"
#include "xenfit/topology.h"
#include "xenfit/units.h"

static const char *const CMD = "plan";

void xf_usage_plan(void)
{
    printf(
        "Usage: xenfit plan --topology FILE.json --vm vcpus=N,memory=SIZE[,cores=N] [--vm ...]\n"
        "                   [--xl-config VM.cfg ...]\n"
        "                   [--policy any|best_effort|best_effort_hard|prio_mem_only]\n"
        "                   [--mode xenfit|xenopsd] [--json]\n\n"
        "Chooses the NUMA node(s) for each VM, in order: each VM sees the memory and\n"
        "placements of the ones before it. A multi-node plan gives the MiB per node\n"
        "(in proportion to the nodes' free memory) and the CPUs for the vCPUs' affinity.\n\n"
        "  --topology FILE   the host's snapshot: distances, cpu_to_node, node_cores,\n"
        "                    node_free_mib (see docs/topology.md); - reads stdin, so\n"
        "                    `xenfit host show --host SPEC --json | xenfit plan\n"
        "                    --topology - ...` plans on a host spec\n"
        "  --vm SPEC         vcpus=N (1..%u), memory=SIZE, cores=N (physical cores\n"
        "                    wanted; default: the policy's, vCPUs for best_effort*, else 0)\n"
        "  --xl-config FILE  a VM from an xl config: its footprint (xen-api's model of\n"
        "                    memory, maxmem, maxvcpus, videoram, shadow_memory) and\n"
        "                    vCPUs; cpus=/cpus_soft= keep it on their CPUs' nodes.\n"
        "                    --vm and --xl-config VMs are planned in the order given\n"
        "  --policy P        any: no placement, Xen interleaves; best_effort (default):\n"
        "                    soft affinity, cores >= vCPUs; best_effort_hard: the same as\n"
        "                    hard affinity; prio_mem_only: soft, no cores requirement\n"
        "  --mode M          xenfit (default): balance on the memory left on each node;\n"
        "                    xenopsd: xenopsd's choice (least-used counter, single nodes\n"
        "                    only above 16 nodes)\n"
        "  --json            {\"placements\":[{\"fits\":true,\"nodes\":[..],\"cpus\":[..],\n"
        "                    \"memory_mib_per_node\":{\"<node>\":MiB},\"max_distance\":D,\n"
        "                    \"avg_distance\":F,...},{\"fits\":false,\"reason\":\"...\"}],...}\n\n"
        "SIZE is an integer with an optional binary unit B, K, M, G, T (bare = MiB),\n"
        "rounded up to MiB. Exit status: 0 every VM fits, 1 one does not, 2 bad input.\n",
        XF_MAX_CPUS);
}

enum {
    OPT_TOPOLOGY = 256,
    OPT_VM,
    OPT_POLICY,
    OPT_MODE,
    OPT_JSON,
    OPT_XL,
};

static const struct option options[] = {
    {"topology", required_argument, NULL, OPT_TOPOLOGY},
    {"vm", required_argument, NULL, OPT_VM},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"mode", required_argument, NULL, OPT_MODE},
    {"json", no_argument, NULL, OPT_JSON},
    {"xl-config", required_argument, NULL, OPT_XL},
    {NULL, 0, NULL, 0},
};

/* One key=value item of a --vm spec into *req. 0 or an exit status. */
static int parse_vm_item(const char *spec, const char *key, const char *value,
                         struct xf_numa_request *req)
{
    uint64_t v;

    if (strcmp(key, "vcpus") == 0) {
        if (xf_parse_u64(value, &v) < 0 || v < 1 || v > XF_MAX_CPUS)
            return xf_cli_usage_error(CMD, "--vm '%s': vcpus '%s': expected an integer in 1..%u",
                                      spec, value, XF_MAX_CPUS);
        req->vcpus = (uint32_t)v;
    } else if (strcmp(key, "memory") == 0) {
        char flag[160];
        int r;
        snprintf(flag, sizeof(flag), "--vm '%s': memory", spec);
        if ((r = xf_cli_parse_size(CMD, flag, value, &v)))
            return r; /* the one size rule (xf_cli_parse_size): 1.5G refused, named */
        if (v == 0 || xf_mib_of_bytes_used(v) > XF_NODE_FREE_MIB_MAX * XF_MAX_NODES)
            return xf_cli_usage_error(
                CMD, "--vm '%s': memory '%s': expected a size from 1 MiB to %llu TiB", spec, value,
                (unsigned long long)(XF_NODE_FREE_MIB_MAX * XF_MAX_NODES >> 20));
        req->memory_mib = xf_mib_of_bytes_used(v);
    } else if (strcmp(key, "cores") == 0) {
        if (xf_parse_u64(value, &v) < 0 || v > XF_MAX_CPUS)
            return xf_cli_usage_error(CMD, "--vm '%s': cores '%s': expected an integer in 0..%u",
                                      spec, value, XF_MAX_CPUS);
        req->cores = (uint32_t)v;
    } else {
        return xf_cli_usage_error(CMD, "--vm '%s': unknown key '%s' (vcpus, memory, cores)", spec,
                                  key);
    }
    return 0;
}

/* Copies the next ','-separated item of a --vm spec from *p into item[] and
 * advances *p past it. 0 or an exit status (an empty or overlong item). */
static int next_vm_item(const char *spec, const char **p, char *item, size_t size)
{
    const char *end = strchr(*p, ',');
    size_t len = end ? (size_t)(end - *p) : strlen(*p);

    if (len == 0 || len >= size)
        return xf_cli_usage_error(CMD, "--vm '%s': expected key=value items separated by ','",
                                  spec);
    memcpy(item, *p, len);
    item[len] = '\0';
    *p += len + (end ? 1 : 0);
    return 0;
}

/* Parses "vcpus=N,memory=SIZE[,cores=N]". 0 or an exit status. */
static int parse_vm(const char *spec, enum xf_numa_policy policy, struct xf_numa_request *ret)
{
    struct xf_numa_request req = {.cores = XF_CORES_FROM_POLICY, .policy = policy};
    const char *p = spec;
    char item[128];
    int r;

    while (*p) {
        char *eq;
        if ((r = next_vm_item(spec, &p, item, sizeof(item))))
            return r;
        eq = strchr(item, '=');
        if (!eq)
            return xf_cli_usage_error(CMD, "--vm '%s': '%s' is not key=value", spec, item);
        *eq = '\0';
        if ((r = parse_vm_item(spec, item, eq + 1, &req)))
            return r;
    }
    if (req.vcpus == 0 || req.memory_mib == 0)
        return xf_cli_usage_error(CMD, "--vm '%s': vcpus= and memory= are required", spec);
    *ret = req;
    return 0;
}

/* A VM from an xl config: the footprint of xen-api's model, placed as
 * admission places it (xf_admit_numa_request). 0 or an exit status. */
static int xl_vm(const char *path, enum xf_numa_policy policy, const struct xf_topology *topo,
                 struct xf_numa_request *ret)
{
    struct xf_cli_vm v;
    struct xf_admit_request req;
    struct xf_memory_config mc;
    int r;

    xf_cli_vm_init(&v);
    v.xl_path = path;
    if ((r = xf_cli_vm_finish(CMD, &v)))
        return r;
    memset(&req, 0, sizeof(req));
    req.vm = v.vm;
    if ((r = xf_cli_xl_nodes(CMD, v.xl, topo, &req.nodes_allowed)))
        return r;
    if ((r = xf_vm_footprint(&v.vm, NULL, &mc)) < 0)
        return xf_cli_usage_error(CMD, "--xl-config '%s': %s", path, xf_strerror(r));
    *ret = xf_admit_numa_request(&req, mc.required_host_free_mib, policy);
    return 0;
}

static json_t *json_nodes(uint64_t nodes)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < XF_MAX_NODES; i++)
        if (nodes >> i & 1u)
            json_array_append_new(a, json_integer(i));
    return a;
}

static json_t *json_cpus(const struct xf_plan *plan)
{
    json_t *a = json_array();
    for (uint32_t c = 0; a && c < XF_MAX_CPUS; c++)
        if (plan->cpus[c / 64] >> (c % 64) & 1u)
            json_array_append_new(a, json_integer(c));
    return a;
}

static const char *placement_name(enum xf_plan_outcome o)
{
    switch (o) {
    case XF_PLAN_NODES:
        return "nodes";
    case XF_PLAN_INTERLEAVE:
        return "interleave";
    case XF_PLAN_NUMA_OFF:
        return "off";
    default:
        return "none";
    }
}

static json_t *json_plan(size_t index, const struct xf_plan *plan)
{
    json_t *o =
        json_pack("{sIsbsssssIsIsI}", "vm", (json_int_t)index, "fits", plan->fits, "placement",
                  placement_name(plan->outcome), "policy", xf_numa_policy_name(plan->policy),
                  "memory_mib", (json_int_t)plan->memory_mib, "vcpus", (json_int_t)plan->vcpus,
                  "cores", (json_int_t)plan->cores);
    if (!o)
        return NULL;
    if (!plan->fits) {
        json_object_set_new(o, "reason", json_string(plan->reason));
        if (plan->outcome == XF_PLAN_NO_FIT) {
            const struct xf_nofit *nf = &plan->nofit;
            json_object_set_new(
                o, "shortfall",
                json_pack("{sIsIsIsIsIsIsIsIsbsbsbsb}", "memory_mib_needed",
                          (json_int_t)nf->memory_mib_needed, "best_node", (json_int_t)nf->best_node,
                          "best_node_free_mib", (json_int_t)nf->best_node_free_mib, "host_free_mib",
                          (json_int_t)nf->host_free_mib, "vcpus", (json_int_t)nf->vcpus,
                          "host_cpus", (json_int_t)nf->host_cpus, "cores_needed",
                          (json_int_t)nf->cores_needed, "host_cores", (json_int_t)nf->host_cores,
                          "memory", (nf->exceeded & XF_NOFIT_MEMORY) != 0, "cpus",
                          (nf->exceeded & XF_NOFIT_CPUS) != 0, "cores",
                          (nf->exceeded & XF_NOFIT_CORES) != 0, "topology",
                          (nf->exceeded & XF_NOFIT_TOPOLOGY) != 0));
        }
        return o;
    }
    json_t *per_node = json_object();
    for (uint32_t i = 0; per_node && i < XF_MAX_NODES; i++) {
        char key[12];
        if (!(plan->node_mask >> i & 1u))
            continue;
        snprintf(key, sizeof(key), "%u", i);
        json_object_set_new(per_node, key, json_integer((json_int_t)plan->memory_mib_per_node[i]));
    }
    json_object_set_new(o, "affinity", json_string(xf_affinity_name(plan->affinity)));
    json_object_set_new(o, "nodes", json_nodes(plan->node_mask));
    json_object_set_new(o, "cpus", json_cpus(plan));
    json_object_set_new(o, "memory_mib_per_node", per_node);
    json_object_set_new(o, "max_distance",
                        plan->has_distances ? json_integer(plan->max_distance) : json_null());
    json_object_set_new(o, "avg_distance",
                        plan->has_distances ? json_real(plan->avg_distance) : json_null());
    json_object_set_new(o, "cores_available", json_integer(plan->cores_available));
    json_object_set_new(o, "exhaustive", json_boolean(plan->exhaustive));
    /* "proven" says the same as "exhaustive" (kept for older readers); the
     * gap bounds how far the best set may be when it is false. */
    json_object_set_new(o, "proven", json_boolean(plan->exhaustive));
    if (plan->has_distances) {
        json_t *gap = json_object();
        json_object_set_new(gap, "max_distance", json_integer(plan->gap_max_distance));
        json_object_set_new(gap, "avg_distance", json_real(plan->gap_avg_distance));
        json_object_set_new(o, "gap_bound", gap);
    }
    return o;
}

/* "0-7,16-23" into buf. */
static void format_cpus(const struct xf_plan *plan, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (uint32_t c = 0; c < XF_MAX_CPUS && at < len; c++) {
        uint32_t e = c;
        if (!(plan->cpus[c / 64] >> (c % 64) & 1u))
            continue;
        while (e + 1 < XF_MAX_CPUS && plan->cpus[(e + 1) / 64] >> ((e + 1) % 64) & 1u)
            e++;
        at += (size_t)snprintf(buf + at, len - at, e > c ? "%s%u-%u" : "%s%u", at ? "," : "", c, e);
        c = e;
    }
}

static void print_table(const struct xf_planner *planner, const struct xf_plan *plans, size_t n)
{
    const struct xf_topology *topo = xf_planner_topology(planner);
    char cpus[256], split[256];

    if (xf_topology_numa_status(topo) != XF_NUMA_ON)
        printf("NUMA placement is off: %s\n", xf_topology_numa_reason(topo));
    printf("%-3s %6s %10s %-4s %-10s %-24s %-20s %5s %7s\n", "VM", "vCPUs", "memory", "fits",
           "placement", "MiB per node", "CPUs", "max", "avg");
    for (size_t i = 0; i < n; i++) {
        const struct xf_plan *p = &plans[i];
        size_t at = 0;
        split[0] = '\0';
        if (!p->fits) {
            printf("%-3zu %6u %6llu MiB %-4s %-10s %s\n", i, p->vcpus,
                   (unsigned long long)p->memory_mib, "no", placement_name(p->outcome), p->reason);
            continue;
        }
        for (uint32_t k = 0; k < XF_MAX_NODES && at < sizeof(split); k++)
            if (p->node_mask >> k & 1u)
                at += (size_t)snprintf(split + at, sizeof(split) - at, "%s%u:%llu", at ? "," : "",
                                       k, (unsigned long long)p->memory_mib_per_node[k]);
        format_cpus(p, cpus, sizeof(cpus));
        if (p->has_distances && !p->exhaustive)
            printf("%-3zu %6u %6llu MiB %-4s %-10s %-24s %-20s %5u %7.2f  not proven best: the "
                   "best may have a max down to %u, an average down to %.2f\n",
                   i, p->vcpus, (unsigned long long)p->memory_mib, "yes",
                   placement_name(p->outcome), split, cpus, p->max_distance, p->avg_distance,
                   p->max_distance - p->gap_max_distance, p->avg_distance - p->gap_avg_distance);
        else if (p->has_distances)
            printf("%-3zu %6u %6llu MiB %-4s %-10s %-24s %-20s %5u %7.2f\n", i, p->vcpus,
                   (unsigned long long)p->memory_mib, "yes", placement_name(p->outcome), split,
                   cpus, p->max_distance, p->avg_distance);
        else
            printf("%-3zu %6u %6llu MiB %-4s %-10s %-24s %-20s %5s %7s\n", i, p->vcpus,
                   (unsigned long long)p->memory_mib, "yes", placement_name(p->outcome), split,
                   cpus, "-", "-");
    }
}

static int output_json(const struct xf_planner *planner, enum xf_numa_policy policy,
                       const struct xf_plan *plans, size_t n)
{
    const struct xf_topology *topo = xf_planner_topology(planner);
    json_t *root = json_object(), *list = json_array(), *left = json_array();

    if (!root || !list || !left) {
        json_decref(root);
        json_decref(list);
        json_decref(left);
        return xf_cli_failure(CMD, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_plan(i, &plans[i]));
    for (uint32_t i = 0; i < xf_topology_nr_nodes(topo); i++)
        json_array_append_new(left, json_integer((json_int_t)xf_planner_node_free(planner, i)));
    json_object_set_new(root, "placements", list);
    json_object_set_new(root, "numa",
                        json_string(xf_topology_numa_status(topo) == XF_NUMA_ON ? "on" : "off"));
    if (xf_topology_numa_status(topo) != XF_NUMA_ON)
        json_object_set_new(root, "numa_reason", json_string(xf_topology_numa_reason(topo)));
    json_object_set_new(root, "policy", json_string(xf_numa_policy_name(policy)));
    json_object_set_new(root, "mode", json_string(xf_planner_mode_name(xf_planner_mode(planner))));
    json_object_set_new(root, "node_free_mib_after", left);
    return xf_cli_print_json(root);
}

/* The command line of `xenfit plan`. */
struct plan_args {
    enum xf_numa_policy policy;
    enum xf_planner_mode mode;
    const char *topo_path;
    const char **vm_specs; /* argc entries, nr_vms used; "xl:" + a path for --xl-config */
    size_t nr_vms;
    bool *is_xl; /* argc entries: vm_specs[i] is an xl config's path */
    bool json;
};

/* Parses the options into *a (a->vm_specs allocated by the caller for argc
 * entries). 0 or an exit status. */
static int parse_args(int argc, char **argv, struct plan_args *a)
{
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_TOPOLOGY:
            a->topo_path = optarg;
            break;
        case OPT_VM:
            a->vm_specs[a->nr_vms++] = optarg;
            break;
        case OPT_XL:
            a->vm_specs[a->nr_vms] = optarg;
            a->is_xl[a->nr_vms++] = true;
            break;
        case OPT_POLICY:
            if (xf_numa_policy_parse(optarg, &a->policy) < 0)
                return xf_cli_usage_error(CMD,
                                          "--policy '%s': expected any, best_effort, "
                                          "best_effort_hard or prio_mem_only",
                                          optarg);
            break;
        case OPT_MODE:
            if (xf_planner_mode_parse(optarg, &a->mode) < 0)
                return xf_cli_usage_error(CMD, "--mode '%s': expected xenfit or xenopsd", optarg);
            break;
        case OPT_JSON:
            a->json = true;
            break;
        default:
            return xf_cli_bad_option(CMD, argc, argv);
        }
    }
    if (optind < argc)
        return xf_cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!a->topo_path)
        return xf_cli_usage_error(CMD, "--topology is required");
    if (a->nr_vms == 0)
        return xf_cli_usage_error(CMD, "at least one --vm or --xl-config is required");
    return 0;
}

/* Reads and builds the topology snapshot. 0 or an exit status. */
static int load_topology(const char *path, struct xf_topology **ret)
{
    char *buf = NULL, errbuf[256];
    size_t len;
    int r;

    if ((r = xf_cli_read_file(CMD, path, &buf, &len)))
        return r;
    r = xf_topology_new_from_json(buf, len, errbuf, sizeof(errbuf), ret);
    if (r == XF_ENOMEM) {
        free(buf);
        return xf_cli_failure(CMD, "out of memory");
    }
    if (r < 0 && xf_cli_is_host_spec(buf, len))
        r = xf_cli_usage_error(CMD,
                               "--topology '%s' is a host spec, not a topology snapshot: plan "
                               "from `xenfit host show --host %s --json | xenfit plan "
                               "--topology - ...`",
                               path, path);
    else if (r < 0)
        r = xf_cli_usage_error(CMD, "--topology '%s': %s", path, errbuf);
    free(buf);
    return r;
}

/* Places the VMs in order on `planner`. 0 or an exit status; *ret_all_fit. */
static int place_all(struct xf_planner *planner, const struct xf_numa_request *reqs, size_t n,
                     struct xf_plan *plans, bool *ret_all_fit)
{
    bool all_fit = true;

    for (size_t i = 0; i < n; i++) {
        int r = xf_planner_place(planner, &reqs[i], &plans[i]);
        if (r < 0)
            return xf_cli_failure(CMD, "VM %zu: %s", i, xf_strerror(r));
        all_fit = all_fit && plans[i].fits;
    }
    *ret_all_fit = all_fit;
    return 0;
}

int xf_cmd_plan(int argc, char **argv)
{
    struct plan_args a = {.policy = XF_NUMA_POLICY_BEST_EFFORT, .mode = XF_PLANNER_XENFIT};
    struct xf_numa_request *reqs = NULL;
    struct xf_plan *plans = NULL;
    struct xf_topology *topo = NULL;
    struct xf_planner *planner = NULL;
    bool all_fit = false;
    int r;

    a.vm_specs = calloc((size_t)argc, sizeof(*a.vm_specs));
    a.is_xl = calloc((size_t)argc, sizeof(*a.is_xl));
    if (!a.vm_specs || !a.is_xl) {
        free(a.vm_specs);
        free(a.is_xl);
        return xf_cli_failure(CMD, "out of memory");
    }
    if ((r = parse_args(argc, argv, &a)))
        goto out;
    /* parse_args insists on one --vm at least; calloc(0) is no object. */
    reqs = calloc(a.nr_vms ? a.nr_vms : 1, sizeof(*reqs));
    plans = calloc(a.nr_vms ? a.nr_vms : 1, sizeof(*plans));
    if (!reqs || !plans) {
        r = xf_cli_failure(CMD, "out of memory");
        goto out;
    }
    if ((r = load_topology(a.topo_path, &topo)))
        goto out;
    for (size_t i = 0; i < a.nr_vms; i++)
        if ((r = a.is_xl[i] ? xl_vm(a.vm_specs[i], a.policy, topo, &reqs[i])
                            : parse_vm(a.vm_specs[i], a.policy, &reqs[i])))
            goto out;
    if ((r = xf_planner_new(topo, a.mode, &planner)) < 0) {
        r = xf_cli_failure(CMD, "%s", xf_strerror(r));
        goto out;
    }
    if ((r = place_all(planner, reqs, a.nr_vms, plans, &all_fit)))
        goto out;
    if (a.json)
        r = output_json(planner, a.policy, plans, a.nr_vms);
    else
        print_table(planner, plans, a.nr_vms);
    if (r == XF_EXIT_OK && !all_fit)
        r = XF_EXIT_FAILURE;
out:
    xf_planner_free(planner);
    xf_topology_free(topo);
    free(plans);
    free(reqs);
    free(a.vm_specs);
    free(a.is_xl);
    return r;
}
