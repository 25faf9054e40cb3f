/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Benchmark of the NUMA planner against a straightforward baseline written
 * here the way xenopsd works (ocaml/xenopsd/lib/topology.ml and
 * softaffinity.ml): at load, every non-empty subset of the reachable nodes
 * with its max and average distance recomputed pair by pair, sorted once;
 * per request, walk them in order re-summing each candidate's memory, CPUs and
 * cores, keep the fitting ones of the first distance and choose the least
 * used. Above 16 nodes the baseline, like xenopsd, has single nodes only.
 *
 * Topologies: 2, 4, 8, 16, 32 and 64 nodes, distances 10 + 11|i-j|, 8 CPUs,
 * 8 cores and 16 GiB per node. Requests: 8 vCPUs / 8 GiB (one node) and
 * 20 vCPUs / 40 GiB (three nodes), best_effort. Prints medians (load: of 15
 * loads; plan: of 15 batches, per call) and the ratio baseline / xenfit.
 * Not a test: run it by hand (build/bench/bench-planner [--quick]).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xenfit/planner.h"
#include "xenfit/topology.h"

#define NODE_CPUS 8u
#define NODE_MIB  16384u

static volatile uint64_t sink;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

struct host {
    uint32_t n;
    int64_t dist[64 * 64];
    uint32_t cpu_to_node[64 * NODE_CPUS];
    uint32_t cores[64];
    uint64_t free_mib[64];
};

static void make_host(struct host *h, uint32_t n)
{
    h->n = n;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j < n; j++)
            h->dist[i * n + j] = 10 + 11 * (int64_t)(i > j ? i - j : j - i);
        h->cores[i] = NODE_CPUS;
        h->free_mib[i] = NODE_MIB;
    }
    for (uint32_t c = 0; c < n * NODE_CPUS; c++)
        h->cpu_to_node[c] = c / NODE_CPUS;
}

/* ---- the baseline ---- */

struct base_cand {
    uint32_t max;
    double avg;
    uint64_t nodes;
};

struct baseline {
    const struct host *h;
    size_t n;
    struct base_cand *c;
    uint32_t usage[64];
};

static int base_cmp(const void *a, const void *b)
{
    const struct base_cand *x = a, *y = b;
    if (x->max != y->max)
        return x->max < y->max ? -1 : 1;
    if (x->avg != y->avg)
        return x->avg < y->avg ? -1 : 1;
    return x->nodes < y->nodes ? -1 : 1; /* stable: generation order */
}

static struct baseline *baseline_load(const struct host *h)
{
    struct baseline *b = calloc(1, sizeof(*b));
    if (!b)
        abort();
    b->h = h;
    if (h->n > 16) { /* NUMA.gen_candidates: single nodes only */
        b->c = calloc(h->n, sizeof(*b->c));
        if (!b->c)
            abort();
        for (uint32_t i = 0; i < h->n; i++)
            b->c[b->n++] = (struct base_cand){10, 10.0, UINT64_C(1) << i};
        return b;
    }
    size_t total = ((size_t)1 << h->n) - 1;
    b->c = calloc(total, sizeof(*b->c));
    if (!b->c)
        abort();
    for (uint64_t s = 1; s <= total; s++) {
        uint32_t max = 0, count = 0;
        uint64_t sum = 0;
        for (uint32_t i = 0; i < h->n; i++)
            for (uint32_t j = 0; j < h->n; j++)
                if ((s >> i & 1) && (s >> j & 1)) {
                    uint32_t d = (uint32_t)h->dist[i * h->n + j];
                    max = d > max ? d : max;
                    sum += d;
                    count++;
                }
        b->c[b->n++] = (struct base_cand){max, (double)sum / count, s};
    }
    qsort(b->c, b->n, sizeof(*b->c), base_cmp);
    return b;
}

static void baseline_free(struct baseline *b)
{
    free(b->c);
    free(b);
}

/* Softaffinity.plan + NUMA.choose; returns the chosen set or 0. */
static uint64_t baseline_plan(const struct baseline *b, uint64_t mem, uint32_t vcpus,
                              uint32_t cores)
{
    const struct host *h = b->h;
    bool started = false;
    double first = 0;
    uint64_t best = 0;
    uint32_t best_usage = UINT32_MAX;

    for (size_t k = 0; k < b->n; k++) {
        const struct base_cand *c = &b->c[k];
        uint64_t m = 0;
        uint32_t cpus = 0, co = 0, usage = 0;
        for (uint32_t i = 0; i < h->n; i++)
            if (c->nodes >> i & 1) {
                m += h->free_mib[i];
                cpus += NODE_CPUS;
                co += h->cores[i];
                usage += b->usage[i];
            }
        if (m < mem || cpus < vcpus || co < cores)
            continue;
        if (!started) {
            started = true;
            first = c->avg;
        } else if (fabs(c->avg - first) >= 1e-3) {
            break;
        }
        if (usage < best_usage) {
            best_usage = usage;
            best = c->nodes;
        }
    }
    return best;
}

/* ---- measuring ---- */

#define RUNS 15

static struct xf_topology *load(const struct host *h)
{
    const struct xf_topology_spec spec = {h->n,           h->dist,  h->n * NODE_CPUS,
                                          h->cpu_to_node, h->cores, h->free_mib};
    struct xf_topology *t = NULL;
    if (xf_topology_new(&spec, NULL, 0, &t) != 0)
        abort();
    return t;
}

static double time_load_xenfit(const struct host *h, int runs)
{
    double v[RUNS];
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        struct xf_topology *t = load(h);
        v[r] = now_s() - t0;
        xf_topology_free(t);
    }
    return median(v, runs);
}

static double time_load_baseline(const struct host *h, int runs)
{
    double v[RUNS];
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        struct baseline *b = baseline_load(h);
        v[r] = now_s() - t0;
        baseline_free(b);
    }
    return median(v, runs);
}

/* Per-call median over batches sized to take about 2 ms each. */
static double time_plan_xenfit(const struct xf_planner *p, const struct xf_numa_request *req,
                               int runs, struct xf_plan *ret)
{
    double v[RUNS];
    long batch = 1;
    for (;;) {
        double t0 = now_s();
        for (long i = 0; i < batch; i++) {
            xf_planner_plan(p, req, ret);
            sink += ret->node_mask;
        }
        if (now_s() - t0 > 2e-3 || batch > (1L << 24))
            break;
        batch *= 2;
    }
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        for (long i = 0; i < batch; i++) {
            xf_planner_plan(p, req, ret);
            sink += ret->node_mask;
        }
        v[r] = (now_s() - t0) / (double)batch;
    }
    return median(v, runs);
}

static double time_plan_baseline(const struct baseline *b, uint64_t mem, uint32_t vcpus,
                                 uint32_t cores, int runs, uint64_t *ret)
{
    double v[RUNS];
    long batch = 1;
    for (;;) {
        double t0 = now_s();
        for (long i = 0; i < batch; i++)
            sink += *ret = baseline_plan(b, mem, vcpus, cores);
        if (now_s() - t0 > 2e-3 || batch > (1L << 24))
            break;
        batch *= 2;
    }
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        for (long i = 0; i < batch; i++)
            sink += *ret = baseline_plan(b, mem, vcpus, cores);
        v[r] = (now_s() - t0) / (double)batch;
    }
    return median(v, runs);
}

static void print_time(double s)
{
    if (s < 1e-6)
        printf(" %9.3f us", s * 1e6);
    else if (s < 1e-3)
        printf(" %9.2f us", s * 1e6);
    else
        printf(" %9.2f ms", s * 1e3);
}

int main(int argc, char **argv)
{
    static const uint32_t sizes[] = {2, 4, 8, 16, 32, 64};
    static const struct {
        const char *name;
        uint64_t mem_mib;
        uint32_t vcpus;
    } reqs[] = {{"1-node 8vCPU/8GiB", 8192, 8}, {"3-node 20vCPU/40GiB", 40960, 20}};
    int runs = argc > 1 && strcmp(argv[1], "--quick") == 0 ? 5 : RUNS;
    static struct host h;

    printf("NUMA planner: xenfit vs a xenopsd-style baseline (medians; 10+11|i-j|, %u CPUs, "
           "%u cores, %u MiB per node)\n\n",
           NODE_CPUS, NODE_CPUS, NODE_MIB);
    printf("%-5s %-22s %12s %12s %9s   %s\n", "nodes", "what", "baseline", "xenfit", "ratio",
           "plan (xenfit / baseline)");
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        uint32_t n = sizes[s];
        make_host(&h, n);
        double lb = time_load_baseline(&h, runs), lx = time_load_xenfit(&h, runs);
        printf("%-5u %-22s", n, "topology load");
        print_time(lb);
        print_time(lx);
        printf(" %9.1f\n", lb / lx);

        struct xf_topology *t = load(&h);
        struct xf_planner *p = NULL;
        struct baseline *b = baseline_load(&h);
        if (xf_planner_new(t, XF_PLANNER_XENFIT, &p) != 0)
            abort();
        for (size_t r = 0; r < sizeof(reqs) / sizeof(reqs[0]); r++) {
            const struct xf_numa_request req = {reqs[r].mem_mib, reqs[r].vcpus,
                                                XF_CORES_FROM_POLICY, XF_NUMA_POLICY_BEST_EFFORT,
                                                0};
            struct xf_plan plan;
            uint64_t bnodes = 0;
            double tx = time_plan_xenfit(p, &req, runs, &plan);
            double tb =
                time_plan_baseline(b, reqs[r].mem_mib, reqs[r].vcpus, reqs[r].vcpus, runs, &bnodes);
            printf("%-5u %-22s", n, reqs[r].name);
            print_time(tb);
            print_time(tx);
            printf(" %9.1f   %s nodes %#llx / %s %#llx\n", tb / tx, plan.fits ? "fits" : "no fit",
                   (unsigned long long)plan.node_mask, bnodes ? "fits" : "no fit",
                   (unsigned long long)bnodes);
        }
        baseline_free(b);
        xf_planner_free(p);
        xf_topology_free(t);
    }
    return sink == 42 ? 1 : 0;
}
