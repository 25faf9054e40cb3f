/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Benchmark of the simulator (not a test): simulated allocation operations
 * per second on one core, through the public xf_hv_* wrappers, on a 4-node
 * 1 TiB host. Each workload runs 7 times; the median, minimum and maximum
 * rates are printed. Target: >= 1,000,000 operations per second.
 *
 *   populate-4k       populate calls of one 4 KiB extent (a decrease call
 *                     every 4096 pages keeps the domain from filling up)
 *   populate-2m-claim populate calls of one 2 MiB extent, consuming a claim
 *   populate-affinity one 4 KiB extent per call, round-robin over 4 nodes
 *   extents-4k        4 KiB extents inside populate calls of 1024 extents
 *   claim-cancel      a claim and its cancellation (two calls)
 *
 * Usage: bench-sim [ITERATIONS] (default 2,000,000 operations per run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/sim.h"

#define RUNS 7

static const char *spec =
    "{\"name\": \"bench-4node\","
    " \"nodes\": [{\"memory_mib\": 262144, \"cpus\": 16, \"cores\": 8},"
    "             {\"memory_mib\": 262144, \"cpus\": 16, \"cores\": 8},"
    "             {\"memory_mib\": 262144, \"cpus\": 16, \"cores\": 8},"
    "             {\"memory_mib\": 262144, \"cpus\": 16, \"cores\": 8}],"
    " \"distances\": [[10,11,21,21],[11,10,21,21],[21,21,10,11],[21,21,11,10]],"
    " \"xen\": {\"dma_mib\": 2048},"
    " \"dom0\": {\"memory_mib\": 8192}}";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void check(int r, const char *what)
{
    if (r < 0) {
        fprintf(stderr, "bench-sim: %s: %s\n", what, xf_strerror(r));
        exit(1);
    }
}

static struct xf_hv *boot(xf_domid_t *ret_domid)
{
    struct xf_parse_error err;
    struct xf_hv *hv;

    if (xf_sim_new_from_json(spec, strlen(spec), NULL, &hv, &err) < 0) {
        fprintf(stderr, "bench-sim: spec: %s\n", err.message);
        exit(1);
    }
    check(xf_hv_domain_create(hv, XF_DOMAIN_HVM, ret_domid), "create");
    check(xf_hv_set_max_vcpus(hv, *ret_domid, 4), "vcpus");
    check(xf_hv_set_max_pages(hv, *ret_domid, UINT64_C(1) << 30), "max_pages");
    return hv;
}

/* Each workload returns the operations it did. */
static uint64_t populate_4k(struct xf_hv *hv, xf_domid_t d, uint64_t n)
{
    struct xf_hv_populate req = {.nr_extents = 1, .order = 0, .node = XF_NODE_ANY};
    uint64_t done, ops = 0;

    for (uint64_t i = 1; i <= n; i++, ops++) {
        check(xf_hv_populate(hv, d, &req, &done), "populate");
        if (i % 4096 == 0) {
            check(xf_hv_decrease(hv, d, 4096), "decrease");
            ops++;
        }
    }
    return ops;
}

static uint64_t populate_2m_claim(struct xf_hv *hv, xf_domid_t d, uint64_t n)
{
    struct xf_hv_populate req = {.nr_extents = 1, .order = 9, .node = XF_NODE_ANY};
    uint64_t done, ops = 0;

    for (uint64_t i = 0; i < n; i++, ops++) {
        if (i % 256 == 0) {
            struct xf_hv_domain_info info;
            check(xf_hv_domain_info(hv, d, &info), "info");
            check(xf_hv_decrease(hv, d, info.tot_pages), "decrease");
            check(xf_hv_claim(hv, d, XF_NODE_ANY, 0), "cancel");
            check(xf_hv_claim(hv, d, XF_NODE_ANY, 256 * 512), "claim");
            ops += 4;
        }
        check(xf_hv_populate(hv, d, &req, &done), "populate");
    }
    return ops;
}

static uint64_t populate_affinity(struct xf_hv *hv, xf_domid_t d, uint64_t n)
{
    check(xf_hv_set_node_affinity(hv, d, 0xF), "affinity");
    return populate_4k(hv, d, n) + 1;
}

static uint64_t extents_4k(struct xf_hv *hv, xf_domid_t d, uint64_t n)
{
    struct xf_hv_populate req = {.nr_extents = 1024, .order = 0, .node = XF_NODE_ANY};
    uint64_t done, ops = 0;

    while (ops < n) {
        check(xf_hv_populate(hv, d, &req, &done), "populate");
        check(xf_hv_decrease(hv, d, 1024), "decrease");
        ops += 1024;
    }
    return ops;
}

static uint64_t claim_cancel(struct xf_hv *hv, xf_domid_t d, uint64_t n)
{
    uint64_t ops = 0;

    while (ops < n) {
        check(xf_hv_claim(hv, d, XF_NODE_ANY, 1u << 20), "claim");
        check(xf_hv_claim(hv, d, XF_NODE_ANY, 0), "cancel");
        ops += 2;
    }
    return ops;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        uint64_t (*run)(struct xf_hv *hv, xf_domid_t d, uint64_t n);
    } workloads[] = {
        {"populate-4k", populate_4k},
        {"populate-2m-claim", populate_2m_claim},
        {"populate-affinity", populate_affinity},
        {"extents-4k", extents_4k},
        {"claim-cancel", claim_cancel},
    };
    uint64_t n = 2000000;

    if (argc > 1) {
        char *end;
        n = strtoull(argv[1], &end, 10);
        if (*end || n == 0) {
            fprintf(stderr, "usage: bench-sim [ITERATIONS]\n");
            return 2;
        }
    }
    printf("%-20s %14s %14s %14s   (simulated operations per second, %d runs)\n", "workload",
           "median", "min", "max", RUNS);
    for (size_t w = 0; w < sizeof(workloads) / sizeof(workloads[0]); w++) {
        double rate[RUNS];
        for (int k = 0; k < RUNS; k++) {
            xf_domid_t d;
            struct xf_hv *hv = boot(&d);
            double t0 = now_s(), t1;
            uint64_t ops = workloads[w].run(hv, d, n);
            t1 = now_s();
            rate[k] = (double)ops / (t1 - t0);
            xf_hv_free(hv);
        }
        qsort(rate, RUNS, sizeof(rate[0]), cmp_double);
        printf("%-20s %14.0f %14.0f %14.0f\n", workloads[w].name, rate[RUNS / 2], rate[0],
               rate[RUNS - 1]);
    }
    return 0;
}
