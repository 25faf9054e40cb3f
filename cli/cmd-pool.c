/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfit pool place|evacuate|ha: pool planning (include/xenfit/pool.h) on a
 * pool description (docs/pool.md). This file reads the description, fetches
 * each host's snapshot (a file of xenfit.host_status JSON, or xenfitd's
 * socket) into it, calls the library and prints; with --compare it puts
 * xapi's binpack.ml plan beside xenfit's, with --verify it runs the plans on
 * one simulated host per pool host and says which steps fail.
 */
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xenfit/error.h"
#include "xenfit/pool.h"
#include "xenfit/scenario.h"

#define CMD "pool"

void xf_usage_pool(void)
{
    printf("Usage: xenfit pool place VM --pool FILE [--json]\n"
           "       xenfit pool evacuate HOST --pool FILE [--compare] [--verify] [--json]\n"
           "       xenfit pool ha --failures N --pool FILE [--shard HOSTS] [--compare]\n"
           "                      [--verify] [--json]\n\n"
           "Plans across a pool of hosts, each seen as xenfitd's xenfit.host_status reports\n"
           "it. Every step is checked against the pool as it will be when the step runs:\n"
           "a migration needs max(footprint, source memory) MiB on the destination while\n"
           "the source still holds the VM, reservations in flight are not free, and\n"
           "squeezed keeps 72 MiB back on every host. A VM goes on a set of NUMA nodes\n"
           "of its destination, or interleaved when only the host as a whole has room.\n\n"
           "  place VM        the best host and node(s) for VM (a start if it runs nowhere,\n"
           "                  else a migration), and why each other host lost, in MiB\n"
           "  evacuate HOST   an ordered list of migrations emptying HOST, or the VMs\n"
           "                  that cannot move and why\n"
           "  ha              where every protected VM restarts after any N host failures,\n"
           "                  or the smallest set of VMs that makes it impossible\n"
           "  --pool FILE     the pool description (docs/pool.md): hosts, each with its\n"
           "                  snapshot inline (\"status\"), in a file (\"status_file\", relative\n"
           "                  to FILE) or fetched from xenfitd (\"socket\"); and the VMs\n"
           "  --failures N    host failures to survive (1..63)\n"
           "  --shard HOSTS   plan HA within consecutive shards of HOSTS hosts (large\n"
           "                  pools: a VM restarts inside its shard)\n"
           "  --compare       xapi's plan beside xenfit's: binpack.ml's biggest fit\n"
           "                  decreasing on xapi's figures, and its steps run as --verify\n"
           "  --verify        run the plan on one simulated host per pool host and report\n"
           "                  the steps that fail there\n"
           "  --json          the plan as JSON (docs/pool.md, \"JSON output\")\n\n"
           "Exit status: 0 a plan (place: a host), 1 none (the reasons are printed),\n"
           "2 bad input.\n");
}

enum { OPT_POOL = 0x2000, OPT_FAILURES, OPT_SHARD, OPT_COMPARE, OPT_VERIFY, OPT_JSON };

struct args {
    const char *sub;
    const char *name; /* VM or HOST */
    const char *pool_path;
    uint64_t failures, shard;
    bool compare, verify, json;
};

/* The pool file with every host's "status" filled in. */
static int load_pool(const char *path, struct xf_pool **ret)
{
    char *buf = NULL, *dir_copy = NULL, err[320] = "", *text = NULL;
    size_t len;
    json_error_t jerr;
    json_t *root = NULL, *hosts, *h;
    size_t i;
    int r;

    if ((r = xf_cli_read_file(CMD, path, &buf, &len)) != 0)
        return r;
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        r = xf_cli_usage_error(CMD, "%s: line %d column %d: %s", path, jerr.line, jerr.column,
                               jerr.text);
        goto out;
    }
    dir_copy = strdup(path);
    hosts = json_object_get(root, "hosts");
    json_array_foreach(hosts, i, h)
    {
        const json_t *file = json_object_get(h, "status_file"),
                     *sock = json_object_get(h, "socket");
        json_t *st = NULL;
        if (json_object_get(h, "status"))
            continue;
        if (json_is_string(file)) {
            const char *f = json_string_value(file);
            char full[4096];
            char *sbuf = NULL;
            size_t slen;
            if (f[0] == '/' || !strcmp(path, "-"))
                snprintf(full, sizeof(full), "%s", f);
            else
                snprintf(full, sizeof(full), "%s/%s", dirname(dir_copy), f);
            free(dir_copy);
            dir_copy = strdup(path);
            if ((r = xf_cli_read_file(CMD, full, &sbuf, &slen)) != 0)
                goto out;
            st = json_loadb(sbuf, slen, 0, &jerr);
            free(sbuf);
            if (!st) {
                r = xf_cli_usage_error(CMD, "hosts[%zu].status_file %s: line %d column %d: %s", i,
                                       full, jerr.line, jerr.column, jerr.text);
                goto out;
            }
        } else if (json_is_string(sock)) {
            json_t *error = NULL;
            r = xf_cli_rpc_try(json_string_value(sock), "xenfit.host_status",
                               json_pack("[s]", "xenfit-pool"), &st, &error);
            if (r != 0) {
                json_decref(error);
                r = xf_cli_failure(CMD, "hosts[%zu].socket %s: cannot get xenfit.host_status%s", i,
                                   json_string_value(sock),
                                   r < 0 ? " (is xenfitd running there?)" : "");
                goto out;
            }
        } else {
            continue; /* the library names what is missing */
        }
        json_object_set_new(h, "status", st);
    }
    text = json_dumps(root, JSON_COMPACT);
    if (!text) {
        r = xf_cli_failure(CMD, "out of memory");
        goto out;
    }
    r = xf_pool_new_from_json(text, strlen(text), err, sizeof(err), ret);
    if (r < 0)
        r = r == XF_ENOMEM ? xf_cli_failure(CMD, "out of memory")
                           : xf_cli_usage_error(CMD, "%s: %s", path, err);
out:
    free(text);
    free(dir_copy);
    free(buf);
    json_decref(root);
    return r;
}

/* "0+1" for a node mask. */
static void nodes_text(uint64_t mask, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (uint32_t n = 0; n < 64 && at < len; n++)
        if ((mask >> n) & 1)
            at += (size_t)snprintf(buf + at, len - at, "%s%u", at ? "+" : "", n);
}

static json_t *nodes_json(uint64_t mask)
{
    json_t *a = json_array();
    for (uint32_t n = 0; n < 64; n++)
        if ((mask >> n) & 1)
            json_array_append_new(a, json_integer(n));
    return a;
}

static json_t *step_json(const struct xf_pool *pool, const struct xf_pool_plan *plan,
                         const struct xf_pool_step *s, uint32_t index)
{
    json_t *o =
        json_pack("{sI ss ss sI sI sb}", "step", (json_int_t)index + 1, "vm", pool->vms[s->vm].name,
                  "to", pool->hosts[s->to.host].name, "need_mib", (json_int_t)s->to.need_mib,
                  "free_before_mib", (json_int_t)s->to.free_before_mib, "numa", s->to.numa);
    json_object_set_new(o, "from",
                        s->from == XF_POOL_NO_HOST ? json_null()
                                                   : json_string(pool->hosts[s->from].name));
    if (s->to.numa) {
        json_t *per = json_object();
        uint32_t k = 0;
        for (uint32_t n = 0; n < 64; n++)
            if ((s->to.node_mask >> n) & 1) {
                char key[8];
                snprintf(key, sizeof(key), "%u", n);
                json_object_set_new(per, key,
                                    json_integer((json_int_t)plan->node_mib[s->node_mib_at + k++]));
            }
        json_object_set_new(o, "nodes", nodes_json(s->to.node_mask));
        json_object_set_new(o, "node_mib", per);
        json_object_set_new(o, "max_distance", json_integer(s->to.max_distance));
    }
    return o;
}

static void print_step(const struct xf_pool *pool, const struct xf_pool_plan *plan,
                       const struct xf_pool_step *s, uint32_t index)
{
    char nodes[200];
    printf("  %3u. %-16s %s -> %s  needs %" PRIu64 " MiB of %" PRIu64 " free", index + 1,
           pool->vms[s->vm].name,
           s->from == XF_POOL_NO_HOST ? "(restart)" : pool->hosts[s->from].name,
           pool->hosts[s->to.host].name, s->to.need_mib, s->to.free_before_mib);
    if (s->to.numa) {
        size_t at = 0;
        uint32_t k = 0;
        nodes[0] = 0;
        for (uint32_t n = 0; n < 64 && at < sizeof(nodes); n++)
            if ((s->to.node_mask >> n) & 1)
                at += (size_t)snprintf(nodes + at, sizeof(nodes) - at, "%s%u:%" PRIu64,
                                       at ? " " : "", n, plan->node_mib[s->node_mib_at + k++]);
        printf(", node%s %s\n", s->to.nr_nodes > 1 ? "s" : "", nodes);
    } else {
        printf(", interleaved\n");
    }
}

static void refusal_text(const struct xf_pool *pool, const struct xf_pool_refusal *f, char *buf,
                         size_t len)
{
    if (f->best_host == XF_POOL_NO_HOST)
        snprintf(buf, len, "needs %" PRIu64 " MiB, no other host", f->need_mib);
    else
        snprintf(buf, len,
                 "needs %" PRIu64 " MiB; the most any host has free at its turn is %" PRIu64
                 " MiB (%s)",
                 f->need_mib, f->best_free_mib, pool->hosts[f->best_host].name);
}

static json_t *refused_json(const struct xf_pool *pool, const struct xf_pool_plan *plan)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < plan->nr_refused; i++) {
        const struct xf_pool_refusal *f = &plan->refused[i];
        char why[256];
        refusal_text(pool, f, why, sizeof(why));
        json_array_append_new(a, json_pack("{ss sI so sI ss}", "vm", pool->vms[f->vm].name,
                                           "need_mib", (json_int_t)f->need_mib, "best_host",
                                           f->best_host == XF_POOL_NO_HOST
                                               ? json_null()
                                               : json_string(pool->hosts[f->best_host].name),
                                           "best_free_mib", (json_int_t)f->best_free_mib, "reason",
                                           why));
    }
    return a;
}

static json_t *plan_json(const struct xf_pool *pool, const struct xf_pool_plan *plan)
{
    json_t *steps = json_array();
    for (uint32_t i = 0; i < plan->nr_steps; i++)
        json_array_append_new(steps, step_json(pool, plan, &plan->steps[i], i));
    return json_pack("{sb so so}", "complete", plan->complete, "steps", steps, "refused",
                     refused_json(pool, plan));
}

/* Runs a plan on fresh simulated hosts (the failed ones failed first). */
static int verify(const struct xf_pool *pool, const struct xf_pool_plan *plan,
                  const uint32_t *failed, uint32_t nr_failed, struct xf_pool_run_result *ret)
{
    struct xf_pool_run *run;
    int r = xf_pool_run_new(pool, &run);
    if (r < 0)
        return xf_cli_failure(CMD, "cannot simulate the pool: %s", xf_strerror(r));
    for (uint32_t i = 0; i < nr_failed; i++)
        xf_pool_run_fail_host(run, failed[i]);
    r = xf_pool_run_plan(run, plan, ret);
    xf_pool_run_free(run);
    if (r < 0)
        return xf_cli_failure(CMD, "simulation: %s", xf_strerror(r));
    return 0;
}

static json_t *verify_json(const struct xf_pool_run_result *res)
{
    return json_pack("{sI sI so}", "steps_ok", (json_int_t)res->steps_ok, "steps_failed",
                     (json_int_t)res->steps_failed, "first_failure",
                     res->steps_failed ? json_string(res->reason) : json_null());
}

static const char *verdict_text(const struct xf_pool *pool, const struct xf_pool_verdict *d,
                                char *buf, size_t len)
{
    switch (d->kind) {
    case XF_POOL_CHOSEN:
        snprintf(buf, len, "%" PRIu64 " MiB left of %" PRIu64 " MiB free", d->left_mib,
                 d->free_mib);
        break;
    case XF_POOL_CURRENT:
        snprintf(buf, len, "the VM runs there");
        break;
    case XF_POOL_NO_MEMORY:
        snprintf(buf, len, "needs %" PRIu64 " MiB, the host has %" PRIu64 " MiB free", d->need_mib,
                 d->free_mib);
        break;
    case XF_POOL_NO_NODES:
        snprintf(buf, len,
                 "fits only interleaved over %u nodes: no node set has %" PRIu64
                 " MiB (best node %" PRIu64 " MiB)",
                 d->nr_nodes, d->need_mib, d->best_node_mib);
        break;
    case XF_POOL_WORSE:
        if (d->numa)
            snprintf(buf, len,
                     "fits on %u node%s (max distance %u), %" PRIu64 " MiB left: ranked lower",
                     d->nr_nodes, d->nr_nodes > 1 ? "s" : "", d->max_distance, d->left_mib);
        else
            snprintf(buf, len, "fits interleaved, %" PRIu64 " MiB left: ranked lower", d->left_mib);
        break;
    }
    (void)pool;
    return buf;
}

static int run_place(const struct xf_pool *pool, const struct args *a)
{
    struct xf_pool_run_result res = {0};
    struct xf_pool_placement p;
    uint32_t vm;
    int r;
    char why[256];

    if (xf_pool_vm_index(pool, a->name, &vm) < 0)
        return xf_cli_usage_error(CMD, "place: no VM '%s' in %s", a->name, a->pool_path);
    if ((r = xf_pool_place(pool, vm, &p)) < 0)
        return xf_cli_failure(CMD, "place: %s", xf_strerror(r));
    if (a->verify && p.fits) {
        /* The placement as a one-step plan: a start, or the VM's migration. */
        uint64_t node_mib[XF_MAX_NODES];
        struct xf_pool_step step = {.vm = vm, .from = pool->vms[vm].host, .to = p.target};
        struct xf_pool_plan one = {
            .complete = true, .steps = &step, .nr_steps = 1, .node_mib = node_mib};
        for (uint32_t n = 0; n < XF_MAX_NODES; n++)
            if ((p.target.node_mask >> n) & 1)
                node_mib[one.nr_node_mib++] = p.plan.memory_mib_per_node[n];
        if ((r = verify(pool, &one, NULL, 0, &res)) != 0) {
            xf_pool_placement_done(&p);
            return r;
        }
    }
    if (a->json) {
        json_t *hosts = json_array(), *o;
        for (uint32_t i = 0; i < p.nr_verdicts; i++) {
            const struct xf_pool_verdict *d = &p.verdicts[i];
            json_array_append_new(
                hosts,
                json_pack("{ss ss sI sI sI sb sI sI sI ss}", "host", pool->hosts[d->host].name,
                          "verdict", xf_pool_verdict_name(d->kind), "need_mib",
                          (json_int_t)d->need_mib, "free_mib", (json_int_t)d->free_mib,
                          "best_node_mib", (json_int_t)d->best_node_mib, "numa", d->numa,
                          "nr_nodes", (json_int_t)d->nr_nodes, "max_distance",
                          (json_int_t)d->max_distance, "left_mib", (json_int_t)d->left_mib,
                          "reason", verdict_text(pool, d, why, sizeof(why))));
        }
        o = json_pack("{ss sI sb}", "vm", pool->vms[vm].name, "need_mib",
                      (json_int_t)xf_pool_vm_need_mib(&pool->vms[vm]), "fits", p.fits);
        json_object_set_new(o, "host",
                            p.fits ? json_string(pool->hosts[p.target.host].name) : json_null());
        if (p.fits) {
            json_object_set_new(o, "numa", json_boolean(p.target.numa));
            if (p.target.numa) {
                json_t *per = json_object();
                for (uint32_t n = 0; n < 64; n++)
                    if ((p.target.node_mask >> n) & 1) {
                        char key[8];
                        snprintf(key, sizeof(key), "%u", n);
                        json_object_set_new(
                            per, key, json_integer((json_int_t)p.plan.memory_mib_per_node[n]));
                    }
                json_object_set_new(o, "nodes", nodes_json(p.target.node_mask));
                json_object_set_new(o, "node_mib", per);
                json_object_set_new(o, "max_distance", json_integer(p.target.max_distance));
            }
            json_object_set_new(
                o, "left_mib",
                json_integer((json_int_t)(p.target.free_before_mib - p.target.need_mib)));
        }
        json_object_set_new(o, "hosts", hosts);
        if (a->verify && p.fits)
            json_object_set_new(o, "verify", verify_json(&res));
        xf_cli_print_json(o);
    } else {
        const struct xf_pool_vm *v = &pool->vms[vm];
        char nodes[200];
        printf("VM %s needs %" PRIu64 " MiB (%s; footprint %" PRIu64 " MiB", v->name,
               xf_pool_vm_need_mib(v), v->host == XF_POOL_NO_HOST ? "a start" : "a migration",
               v->footprint_mib);
        if (v->host != XF_POOL_NO_HOST)
            printf(", source %" PRIu64 " MiB on %s", v->source_mib, pool->hosts[v->host].name);
        printf(")\n");
        if (p.fits) {
            nodes_text(p.target.node_mask, nodes, sizeof(nodes));
            printf("best: %s, %s%s\n", pool->hosts[p.target.host].name,
                   p.target.numa ? "node(s) " : "interleaved over every node",
                   p.target.numa ? nodes : "");
        } else {
            printf("no host can take it\n");
        }
        for (uint32_t i = 0; i < p.nr_verdicts; i++)
            printf("  %-16s %-10s %s\n", pool->hosts[p.verdicts[i].host].name,
                   xf_pool_verdict_name(p.verdicts[i].kind),
                   verdict_text(pool, &p.verdicts[i], why, sizeof(why)));
        if (a->verify && p.fits)
            printf("verify: the %s ran on simulated hosts%s%s\n",
                   pool->vms[vm].host == XF_POOL_NO_HOST ? "start" : "migration",
                   res.steps_failed ? " and failed: " : ", no failure", res.reason);
    }
    r = p.fits ? XF_EXIT_OK : XF_EXIT_FAILURE;
    xf_pool_placement_done(&p);
    return r;
}

static int run_evacuate(const struct xf_pool *pool, const struct args *a)
{
    struct xf_pool_plan plan = {0}, bp = {0};
    struct xf_pool_run_result res = {0}, bres = {0};
    uint32_t host;
    int r;

    if (xf_pool_host_index(pool, a->name, &host) < 0)
        return xf_cli_usage_error(CMD, "evacuate: no host '%s' in %s", a->name, a->pool_path);
    if ((r = xf_pool_evacuate(pool, host, &plan)) < 0)
        return xf_cli_failure(CMD, "evacuate: %s", xf_strerror(r));
    if (a->compare && (r = xf_binpack_evacuate(pool, host, &bp)) < 0) {
        r = xf_cli_failure(CMD, "evacuate: %s", xf_strerror(r));
        goto out;
    }
    if ((a->verify && (r = verify(pool, &plan, NULL, 0, &res)) != 0) ||
        (a->compare && (r = verify(pool, &bp, NULL, 0, &bres)) != 0))
        goto out;
    if (a->json) {
        json_t *o = plan_json(pool, &plan);
        json_object_set_new(o, "host", json_string(pool->hosts[host].name));
        json_object_set_new(o, "searched", json_boolean(plan.searched));
        if (a->verify)
            json_object_set_new(o, "verify", verify_json(&res));
        if (a->compare) {
            json_t *b = plan_json(pool, &bp);
            json_object_set_new(b, "verify", verify_json(&bres));
            json_object_set_new(o, "binpack", b);
        }
        xf_cli_print_json(o);
    } else {
        char why[256];
        printf("evacuate %s: %u VM%s, %s\n", pool->hosts[host].name,
               plan.nr_steps + plan.nr_refused, plan.nr_steps + plan.nr_refused == 1 ? "" : "s",
               plan.complete ? "every one moves" : "some cannot move");
        for (uint32_t i = 0; i < plan.nr_steps; i++)
            print_step(pool, &plan, &plan.steps[i], i);
        for (uint32_t i = 0; i < plan.nr_refused; i++) {
            refusal_text(pool, &plan.refused[i], why, sizeof(why));
            printf("  cannot move %s: %s\n", pool->vms[plan.refused[i].vm].name, why);
        }
        if (a->verify)
            printf("verify: %u steps ran on simulated hosts, %u failed%s%s\n", res.steps_ok,
                   res.steps_failed, res.steps_failed ? ": " : "", res.reason);
        if (a->compare) {
            printf("binpack.ml (xapi): %s, %u of %u VMs planned; on simulated hosts %u step%s "
                   "fail%s%s%s\n",
                   bp.complete ? "a plan" : "no plan", bp.nr_steps, bp.nr_steps + bp.nr_refused,
                   bres.steps_failed, bres.steps_failed == 1 ? "" : "s",
                   bres.steps_failed == 1 ? "s" : "", bres.steps_failed ? ": " : "", bres.reason);
        }
    }
    r = plan.complete ? XF_EXIT_OK : XF_EXIT_FAILURE;
out:
    xf_pool_plan_done(&plan);
    xf_pool_plan_done(&bp);
    return r;
}

static json_t *host_names(const struct xf_pool *pool, const uint32_t *hosts, uint32_t n)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(pool->hosts[hosts[i]].name));
    return a;
}

static int run_ha(const struct xf_pool *pool, const struct args *a)
{
    struct xf_pool_ha_options o = {.failures = (uint32_t)a->failures,
                                   .shard_hosts = (uint32_t)a->shard};
    struct xf_pool_ha ha;
    uint32_t n = (uint32_t)a->failures, verify_failed = 0, verify_ok = 0;
    char first[256] = "";
    bool exhaustive = false;
    int bp = -1, r;

    r = xf_pool_ha_plan(pool, &o, &ha);
    if (r == XF_EINVAL)
        return xf_cli_usage_error(
            CMD, "ha: --failures %u must be below the hosts of %s (%u%s)", n,
            a->shard ? "each shard" : "the pool",
            a->shard && a->shard < pool->nr_hosts ? (uint32_t)a->shard : pool->nr_hosts,
            a->shard && pool->nr_hosts % a->shard ? ", the last shard has fewer" : "");
    if (r == XF_ERANGE)
        return xf_cli_usage_error(CMD, "ha: too many failure sets for --failures %u; use --shard",
                                  n);
    if (r < 0)
        return xf_cli_failure(CMD, "ha: %s", xf_strerror(r));
    if (a->compare && (bp = xf_binpack_ha_possible(pool, n, &exhaustive)) < 0) {
        xf_pool_ha_done(&ha);
        return xf_cli_failure(CMD, "ha: %s", xf_strerror(bp));
    }
    if (a->verify && ha.possible)
        for (size_t c = 0; c < ha.nr_cases; c++) {
            struct xf_pool_run_result res = {0};
            if ((r = verify(pool, &ha.cases[c].plan, ha.cases[c].failed, n, &res)) != 0) {
                xf_pool_ha_done(&ha);
                return r;
            }
            verify_ok += res.steps_ok;
            if (res.steps_failed && !verify_failed)
                snprintf(first, sizeof(first), "%s", res.reason);
            verify_failed += res.steps_failed;
        }
    if (a->json) {
        json_t *out = json_pack("{sI sb sI}", "failures", (json_int_t)n, "possible", ha.possible,
                                "shard_hosts", (json_int_t)a->shard);
        json_t *cases = json_array();
        for (size_t c = 0; c < ha.nr_cases; c++) {
            json_t *restarts = json_array();
            for (uint32_t i = 0; i < ha.cases[c].plan.nr_steps; i++)
                json_array_append_new(
                    restarts, step_json(pool, &ha.cases[c].plan, &ha.cases[c].plan.steps[i], i));
            json_array_append_new(cases, json_pack("{so so so}", "failed",
                                                   host_names(pool, ha.cases[c].failed, n),
                                                   "restarts", restarts, "refused",
                                                   refused_json(pool, &ha.cases[c].plan)));
        }
        json_object_set_new(out, "cases", cases);
        if (!ha.possible) {
            json_t *vms = json_array();
            uint64_t total = 0;
            for (uint32_t i = 0; i < ha.nr_blocking; i++) {
                json_array_append_new(vms, json_string(pool->vms[ha.blocking_vms[i]].name));
                total += pool->vms[ha.blocking_vms[i]].footprint_mib;
            }
            json_object_set_new(
                out, "blocking",
                json_pack("{so so sb sI}", "failed", host_names(pool, ha.cases[0].failed, n), "vms",
                          vms, "smallest", ha.blocking_smallest, "need_mib", (json_int_t)total));
        }
        if (a->verify)
            json_object_set_new(out, "verify",
                                json_pack("{sI sI so}", "steps_ok", (json_int_t)verify_ok,
                                          "steps_failed", (json_int_t)verify_failed,
                                          "first_failure",
                                          verify_failed ? json_string(first) : json_null()));
        if (a->compare)
            json_object_set_new(
                out, "binpack",
                json_pack("{sb ss}", "possible", bp == 1, "heuristic",
                          exhaustive ? "bin_pack_every_combination" : "approximate_bin_pack"));
        xf_cli_print_json(out);
    } else if (ha.possible) {
        printf("HA: every protected VM restarts after any %u host failure%s (%zu failure "
               "set%s)\n",
               n, n == 1 ? "" : "s", ha.nr_cases, ha.nr_cases == 1 ? "" : "s");
        for (size_t c = 0; c < ha.nr_cases; c++) {
            printf("if ");
            for (uint32_t i = 0; i < n; i++)
                printf("%s%s", i ? " and " : "", pool->hosts[ha.cases[c].failed[i]].name);
            printf(" fail%s: %u restart%s\n", n == 1 ? "s" : "", ha.cases[c].plan.nr_steps,
                   ha.cases[c].plan.nr_steps == 1 ? "" : "s");
            for (uint32_t i = 0; i < ha.cases[c].plan.nr_steps; i++)
                print_step(pool, &ha.cases[c].plan, &ha.cases[c].plan.steps[i], i);
        }
    } else {
        uint64_t total = 0;
        printf("HA: no plan survives %u host failure%s. If ", n, n == 1 ? "" : "s");
        for (uint32_t i = 0; i < n; i++)
            printf("%s%s", i ? " and " : "", pool->hosts[ha.cases[0].failed[i]].name);
        printf(" fail, these protected VMs cannot all restart (%s set):\n",
               ha.blocking_smallest ? "the smallest" : "a minimal");
        for (uint32_t i = 0; i < ha.nr_blocking; i++) {
            const struct xf_pool_vm *v = &pool->vms[ha.blocking_vms[i]];
            total += v->footprint_mib;
            printf("  %-16s %" PRIu64 " MiB (on %s)\n", v->name, v->footprint_mib,
                   pool->hosts[v->host].name);
        }
        printf("  together %" PRIu64 " MiB\n", total);
    }
    if (!a->json && a->verify && ha.possible)
        printf("verify: %u restarts ran on simulated hosts, %u failed%s%s\n", verify_ok,
               verify_failed, verify_failed ? ": " : "", first);
    if (!a->json && a->compare)
        printf("binpack.ml (xapi, %s): %s\n",
               exhaustive ? "bin_pack_every_combination" : "approximate_bin_pack",
               bp == 1 ? "a plan is always possible" : "no plan");
    r = ha.possible ? XF_EXIT_OK : XF_EXIT_FAILURE;
    xf_pool_ha_done(&ha);
    return r;
}

int xf_cmd_pool(int argc, char **argv)
{
    static const struct option options[] = {
        {"pool", required_argument, NULL, OPT_POOL},
        {"failures", required_argument, NULL, OPT_FAILURES},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"compare", no_argument, NULL, OPT_COMPARE},
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"json", no_argument, NULL, OPT_JSON},
        {NULL, 0, NULL, 0},
    };
    struct args a = {0};
    struct xf_pool *pool = NULL;
    int c, r;

    if (argc < 2 || (strcmp(argv[1], "place") != 0 && strcmp(argv[1], "evacuate") != 0 &&
                     strcmp(argv[1], "ha") != 0))
        return xf_cli_usage_error(
            CMD, "expected place, evacuate or ha (see 'xenfit pool --help')%s%s%s",
            argc >= 2 ? ", got '" : "", argc >= 2 ? argv[1] : "", argc >= 2 ? "'" : "");
    a.sub = argv[1];
    argc--;
    argv++;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_POOL:
            a.pool_path = optarg;
            break;
        case OPT_FAILURES:
            if ((r = xf_cli_parse_uint(CMD, "--failures", optarg, 1, 63, &a.failures)) != 0)
                return r;
            break;
        case OPT_SHARD:
            if ((r = xf_cli_parse_uint(CMD, "--shard", optarg, 2, XF_POOL_MAX_HOSTS, &a.shard)) !=
                0)
                return r;
            break;
        case OPT_COMPARE:
            a.compare = true;
            break;
        case OPT_VERIFY:
            a.verify = true;
            break;
        case OPT_JSON:
            a.json = true;
            break;
        default:
            return xf_cli_bad_option(CMD, argc, argv);
        }
    }
    if (strcmp(a.sub, "ha") != 0) {
        if (optind >= argc)
            return xf_cli_usage_error(CMD, "%s: expected a %s name", a.sub,
                                      strcmp(a.sub, "place") != 0 ? "host" : "VM");
        a.name = argv[optind++];
        if (a.failures || a.shard)
            return xf_cli_usage_error(CMD, "%s: --failures and --shard are for 'pool ha'", a.sub);
    } else if (!a.failures) {
        return xf_cli_usage_error(CMD, "ha: --failures N is required");
    }
    if (optind < argc)
        return xf_cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!a.pool_path)
        return xf_cli_usage_error(CMD, "%s: --pool FILE is required", a.sub);
    if (!strcmp(a.sub, "place") && a.compare)
        return xf_cli_usage_error(CMD, "place: --compare is for evacuate and ha");
    if ((r = load_pool(a.pool_path, &pool)) != 0)
        return r;
    if (!strcmp(a.sub, "place"))
        r = run_place(pool, &a);
    else if (!strcmp(a.sub, "evacuate"))
        r = run_evacuate(pool, &a);
    else
        r = run_ha(pool, &a);
    xf_pool_free(pool);
    return r;
}
