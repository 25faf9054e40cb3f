/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Benchmark of the NUMA planner (issue 17: the hard cases, measured
 * honestly). Every figure is a median; every ratio is of two numbers taken
 * in the same run.
 *
 * The baseline is not xenopsd: it is a C re-creation of xenopsd's algorithm
 * (ocaml/xenopsd/lib/topology.ml and softaffinity.ml), written here the
 * straightforward way xenopsd works -- at load, every non-empty subset of the
 * reachable nodes with its max and average distance recomputed pair by pair,
 * sorted once; per request, walk them in order re-summing each candidate's
 * memory, CPUs and cores, keep the fitting ones of the first distance and
 * choose the least used. Above 16 nodes it has single nodes only, as
 * xenopsd. It is printed as "xenopsd-algorithm (C re-creation)".
 *
 * Sections:
 *  1. 16-node shapes (tests/data/topologies: uniform 10/21, grid 4x4 10/16/22,
 *     linear 10+11|i-j|, Opteron-like; 8 CPUs, 8 cores, 16 GiB per node), a
 *     3-node plan (8 vCPUs, 40 GiB, best_effort) on a fresh host and after
 *     seven placements of 1 to 10 GiB (uneven free memory): the baseline,
 *     xenfit's two modes, the chosen nodes.
 *  2. Topology load of those shapes: warm (in this process) and cold (each
 *     sample a fresh process, posix_spawn of this program with --child-load,
 *     which reads the file, then times the load and counts its minor page
 *     faults).
 *  3. 64 nodes, VMs spanning 10, 15 and 20 nodes (by memory, 8 vCPUs) on
 *     linear, uniform 10/21, grid 8x8 (10/16/22) and 4x16 (10/12/20/30) SLITs,
 *     and on a ring (10 + 6 * ring distance): time, whether the plan is
 *     proven best, and if not the gap bound (max distance / average).
 *  4. The linear SLIT on 2 to 64 nodes: load and 1- and 3-node plans against
 *     the baseline.
 *
 * Not a test: run it by hand (build/bench/bench-planner [--quick]).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* ---- the shapes ---- */

enum shape { LINEAR, UNIFORM, GRID, OPTERON, GRID4x16, RING };
static const char *const shape_names[] = {"linear", "uniform", "grid", "opteron", "4x16", "ring"};
static const char *const shape_files[] = {"linear-16.json", "uniform-16.json", "grid4x4-16.json",
                                          "opteron-16.json"};

static const int64_t opteron8[8][8] = {
    {10, 16, 16, 22, 16, 22, 16, 22}, {16, 10, 22, 16, 16, 22, 22, 16},
    {16, 22, 10, 16, 16, 16, 16, 16}, {22, 16, 16, 10, 16, 16, 22, 22},
    {16, 16, 16, 16, 10, 16, 16, 22}, {22, 22, 16, 16, 16, 10, 22, 16},
    {16, 22, 16, 22, 16, 22, 10, 16}, {22, 16, 16, 22, 22, 16, 16, 10},
};

/* The SLIT entry of a shape on n nodes (the 16-node ones as the fixtures;
 * GRID: groups of 4 up to 16 nodes, of 8 above). */
static int64_t shape_dist(enum shape sh, uint32_t n, uint32_t i, uint32_t j)
{
    uint32_t d = i > j ? i - j : j - i, g = n > 16 ? 8 : 4;
    if (i == j)
        return 10;
    switch (sh) {
    case LINEAR:
        return 10 + 11 * (int64_t)d;
    case UNIFORM:
        return 21;
    case GRID:
        return i / g == j / g ? 16 : 22;
    case OPTERON:
        return opteron8[i % 8][j % 8] + (i / 8 == j / 8 ? 0 : 10);
    case GRID4x16:
        return i / 16 == j / 16 ? (i / 4 == j / 4 ? 12 : 20) : 30;
    case RING:
        return 10 + 6 * (int64_t)(d < n - d ? d : n - d);
    }
    return 10;
}

static void make_shape(struct host *h, enum shape sh, uint32_t n)
{
    make_host(h, n);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++)
            h->dist[i * n + j] = shape_dist(sh, n, i, j);
}

/* ---- cold loads: one fresh process per sample ---- */

static char *read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        *ret_len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* The child: loads the file's topology once, prints "seconds faults". */
static int child_load(const char *path)
{
    size_t len = 0;
    char *buf = read_file(path, &len);
    struct rusage r0, r1;
    struct xf_topology *t = NULL;
    if (!buf)
        return 1;
    getrusage(RUSAGE_SELF, &r0);
    double t0 = now_s();
    int r = xf_topology_new_from_json(buf, len, NULL, 0, &t);
    double t1 = now_s();
    getrusage(RUSAGE_SELF, &r1);
    if (r != 0)
        return 1;
    printf("%.9f %ld\n", t1 - t0, r1.ru_minflt - r0.ru_minflt);
    xf_topology_free(t);
    free(buf);
    return 0;
}

/* Median cold load of a fixture over `runs` fresh processes; *ret_faults the
 * median of their minor faults during the load. */
static double time_load_cold(const char *self, const char *path, int runs, double *ret_faults)
{
    double v[RUNS], f[RUNS];
    char *envp[] = {NULL}; /* the child needs nothing from the environment */
    for (int r = 0; r < runs; r++) {
        int fds[2];
        pid_t pid;
        char out[128] = "";
        posix_spawn_file_actions_t fa;
        char a0[512], a1[] = "--child-load", a2[512];
        char *argv[] = {a0, a1, a2, NULL};
        snprintf(a0, sizeof(a0), "%s", self);
        snprintf(a2, sizeof(a2), "%s", path);
        if (pipe(fds) < 0)
            abort();
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        if (posix_spawn(&pid, self, &fa, NULL, argv, envp) != 0)
            abort();
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        ssize_t n = read(fds[0], out, sizeof(out) - 1);
        close(fds[0]);
        waitpid(pid, NULL, 0);
        char *end = NULL;
        if (n <= 0)
            abort();
        v[r] = strtod(out, &end);
        f[r] = strtod(end, NULL);
    }
    *ret_faults = median(f, runs);
    return median(v, runs);
}

static double time_load_json_warm(const char *buf, size_t len, int runs)
{
    double v[RUNS];
    for (int r = 0; r < runs; r++) {
        struct xf_topology *t = NULL;
        double t0 = now_s();
        if (xf_topology_new_from_json(buf, len, NULL, 0, &t) != 0)
            abort();
        v[r] = now_s() - t0;
        xf_topology_free(t);
    }
    return median(v, runs);
}

/* ---- sections ---- */

#define BASELINE "xenopsd-algorithm (C re-creation)"

static void section_sixteen(int runs)
{
    static struct host h;
    const struct xf_numa_request req = {.memory_mib = 40960,
                                        .vcpus = 8,
                                        .cores = XF_CORES_FROM_POLICY,
                                        .policy = XF_NUMA_POLICY_BEST_EFFORT};

    printf("1. A 3-node plan on 16 nodes: 8 vCPUs, 40 GiB, best_effort (per call; busy = after "
           "seven placements of 1 to 10 GiB)\n\n");
    printf("%-8s %-6s %14s %12s %12s   %s\n", "shape", "state", "baseline*", "xenfit", "xenopsd",
           "nodes (xenfit / xenopsd / baseline)");
    for (enum shape sh = LINEAR; sh <= OPTERON; sh++) {
        make_shape(&h, sh, 16);
        struct xf_topology *t = load(&h);
        for (int busy = 0; busy < 2; busy++) {
            struct xf_planner *p[2] = {NULL, NULL};
            struct xf_plan plan[2];
            double tm[2];
            struct baseline *b = baseline_load(&h);
            for (int m = 0; m < 2; m++) {
                if (xf_planner_new(t, (enum xf_planner_mode)m, &p[m]) != 0)
                    abort();
                for (int i = 0; busy && i < 7; i++) {
                    struct xf_numa_request small = {.memory_mib = 1024 + 1536 * (uint64_t)i,
                                                    .vcpus = 2,
                                                    .cores = XF_CORES_FROM_POLICY,
                                                    .policy = XF_NUMA_POLICY_BEST_EFFORT};
                    struct xf_plan pl;
                    xf_planner_place(p[m], &small, &pl);
                }
                tm[m] = time_plan_xenfit(p[m], &req, runs, &plan[m]);
            }
            /* The baseline on the xenopsd mode's state. */
            for (uint32_t i = 0; i < 16; i++) {
                h.free_mib[i] = xf_planner_node_free(p[1], i);
                b->usage[i] = (uint32_t)xf_planner_node_placements(p[1], i);
            }
            uint64_t bnodes = 0;
            double tb = time_plan_baseline(b, req.memory_mib, req.vcpus, req.vcpus, runs, &bnodes);
            printf("%-8s %-6s", shape_names[sh], busy ? "busy" : "fresh");
            print_time(tb);
            print_time(tm[0]);
            print_time(tm[1]);
            printf("   %#llx / %#llx / %#llx\n", (unsigned long long)plan[0].node_mask,
                   (unsigned long long)plan[1].node_mask, (unsigned long long)bnodes);
            for (uint32_t i = 0; i < 16; i++)
                h.free_mib[i] = NODE_MIB;
            baseline_free(b);
            xf_planner_free(p[0]);
            xf_planner_free(p[1]);
        }
        xf_topology_free(t);
    }
    printf("\n* " BASELINE "\n\n");
}

static void section_load(const char *self, int runs)
{
    printf("2. Topology load, 16 nodes, from JSON (the file read beforehand): warm = in this "
           "process, cold = a fresh process per sample\n\n");
    printf("%-8s %12s %12s %14s\n", "shape", "warm", "cold", "cold faults");
    for (enum shape sh = LINEAR; sh <= OPTERON; sh++) {
        char path[512];
        size_t len = 0;
        double faults = 0;
        snprintf(path, sizeof(path), "%s/tests/data/topologies/%s", XF_SOURCE_DIR, shape_files[sh]);
        char *buf = read_file(path, &len);
        if (!buf) {
            fprintf(stderr, "bench-planner: cannot read %s\n", path);
            exit(1);
        }
        double warm = time_load_json_warm(buf, len, runs);
        double cold = time_load_cold(self, path, runs, &faults);
        printf("%-8s", shape_names[sh]);
        print_time(warm);
        print_time(cold);
        printf(" %14.0f\n", faults);
        free(buf);
    }
    printf("\n");
}

static void section_sixty_four(int runs)
{
    static struct host h;
    static const enum shape shapes[] = {LINEAR, UNIFORM, GRID, GRID4x16, RING};

    printf("3. 64 nodes, VMs spanning 10, 15, 20 nodes (16 GiB each, 8 vCPUs), xenfit mode\n\n");
    printf("%-8s %5s %12s %6s %8s %8s  %s\n", "shape", "nodes", "plan", "found", "max", "avg",
           "proven (else gap: max / avg)");
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        make_shape(&h, shapes[s], 64);
        struct xf_topology *t = load(&h);
        struct xf_planner *p = NULL;
        if (xf_planner_new(t, XF_PLANNER_XENFIT, &p) != 0)
            abort();
        for (uint32_t k = 10; k <= 20; k += 5) {
            const struct xf_numa_request req = {.memory_mib = (uint64_t)NODE_MIB * k - 1000,
                                                .vcpus = 8,
                                                .cores = XF_CORES_FROM_POLICY,
                                                .policy = XF_NUMA_POLICY_BEST_EFFORT};
            struct xf_plan plan;
            double tx = time_plan_xenfit(p, &req, runs, &plan);
            printf("%-8s %5u", shape_names[shapes[s]], k);
            print_time(tx);
            printf(" %6u %8u %8.3f  ", plan.nr_nodes, plan.max_distance, plan.avg_distance);
            if (plan.exhaustive)
                printf("yes\n");
            else
                printf("no: %u / %.3f\n", plan.gap_max_distance, plan.gap_avg_distance);
        }
        xf_planner_free(p);
        xf_topology_free(t);
    }
    printf("\n");
}

static void section_linear(int runs)
{
    static const uint32_t sizes[] = {2, 4, 8, 16, 32, 64};
    static const struct {
        const char *name;
        uint64_t mem_mib;
        uint32_t vcpus;
    } reqs[] = {{"1-node 8vCPU/8GiB", 8192, 8}, {"3-node 20vCPU/40GiB", 40960, 20}};
    static struct host h;

    printf("4. Linear 10+11|i-j| SLIT, %u CPUs, %u cores, %u MiB per node: xenfit vs the " BASELINE
           "\n\n",
           NODE_CPUS, NODE_CPUS, NODE_MIB);
    printf("%-5s %-22s %12s %12s %9s   %s\n", "nodes", "what", "baseline", "xenfit", "ratio",
           "plan (xenfit / baseline)");
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        uint32_t n = sizes[s];
        make_host(&h, n);
        double lb = time_load_baseline(&h, runs), lx = time_load_xenfit(&h, runs);
        printf("%-5u %-22s", n, "topology load (warm)");
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
}

int main(int argc, char **argv)
{
    int runs = RUNS;
    const char *only = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--child-load") == 0 && i + 1 < argc)
            return child_load(argv[i + 1]);
        if (strcmp(argv[i], "--quick") == 0) {
            runs = 5;
        } else if (strcmp(argv[i], "--section") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else {
            fprintf(stderr, "usage: bench-planner [--quick] [--section 1|2|3|4]\n");
            return 2;
        }
    }
    printf("NUMA planner benchmark: medians of %d samples; baseline = " BASELINE "\n\n", runs);
    if (!only || strcmp(only, "1") == 0)
        section_sixteen(runs);
    if (!only || strcmp(only, "2") == 0)
        section_load("/proc/self/exe", runs);
    if (!only || strcmp(only, "3") == 0)
        section_sixty_four(runs);
    if (!only || strcmp(only, "4") == 0)
        section_linear(runs);
    return sink == 42 ? 1 : 0;
}
