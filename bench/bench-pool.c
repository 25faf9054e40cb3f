/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Benchmark of pool planning (issue 15). Every time is the median of the
 * samples; memory is counted by a counting allocator (xf_replace_allocator)
 * as the bytes the library holds live.
 *
 *  1. 64 hosts x 100 VMs each (2 NUMA nodes per host): the evacuation plan
 *     of one host (100 VMs onto 63 hosts). Target: <= 50 ms.
 *  2. 1000 hosts x 100 VMs, half of them protected: the HA plan for one
 *     failure, sharded into shards of 64 hosts (1000 failure sets, each
 *     packing a host's protected VMs onto the 63 others of its shard).
 *     Target: <= 1 s. Beside it, one evacuation across the whole pool.
 *  3. Memory: the pool and the peak while planning, in bytes per VM, for
 *     250, 500 and 1000 hosts: linear in hosts x VMs when bytes/VM stays flat.
 *
 * Not a test: run it by hand (build/bench/bench-pool [--quick]).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xenfit/alloc.h"
#include "xenfit/pool.h"
#include "buf.h" /* lib/client: the growable buffer */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- counting allocator: a 16-byte header holds the size ---- */

static size_t live_bytes, peak_bytes;

static void *count_malloc(size_t size)
{
    size_t *p = malloc(size + 16);
    if (!p)
        return NULL;
    *p = size;
    live_bytes += size;
    if (live_bytes > peak_bytes)
        peak_bytes = live_bytes;
    return (char *)p + 16;
}

static void count_free(void *ptr)
{
    size_t *p;
    if (!ptr)
        return;
    p = (size_t *)((char *)ptr - 16);
    live_bytes -= *p;
    free(p);
}

static void *count_calloc(size_t n, size_t size)
{
    void *p;
    if (size && n > SIZE_MAX / size)
        return NULL;
    p = count_malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

static void *count_realloc(void *ptr, size_t size)
{
    void *q;
    size_t old;
    if (!ptr)
        return count_malloc(size);
    old = *(size_t *)((char *)ptr - 16);
    q = count_malloc(size);
    if (!q)
        return NULL;
    memcpy(q, ptr, old < size ? old : size);
    count_free(ptr);
    return q;
}

/* ---- pools ---- */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(uint64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % n;
}

/* Appends to the pool's JSON text; no memory is a failed run. */
#define add(t, ...)                                                                                \
    do {                                                                                           \
        if (xfd_buf_printf((t), __VA_ARGS__) < 0)                                                  \
            abort();                                                                               \
    } while (0)

/* hosts x vms: 2 nodes of 8 CPUs each, 3..11 GiB free per node; VMs of 256
 * to 2047 MiB, a third holding more than their footprint, half protected. */
static struct xf_pool *make_pool_free(uint32_t hosts, uint32_t vms, uint64_t node_min,
                                      uint64_t node_spread, uint64_t vm_min, uint64_t vm_spread);

static struct xf_pool *make_pool(uint32_t hosts, uint32_t vms)
{
    return make_pool_free(hosts, vms, 3072, 8192, 256, 1792);
}

/* As make_pool with each node's free memory in [node_min, node_min + spread). */
static struct xf_pool *make_pool_free(uint32_t hosts, uint32_t vms, uint64_t node_min,
                                      uint64_t node_spread, uint64_t vm_min, uint64_t vm_spread)
{
    struct xfd_buf t = {0};
    struct xf_pool *pool = NULL;
    char err[256];
    add(&t, "{\"hosts\":[");
    for (uint32_t h = 0; h < hosts; h++) {
        uint64_t n0 = node_min + rnd(node_spread), n1 = node_min + rnd(node_spread);
        add(&t,
            "%s{\"name\":\"h%u\",\"status\":{\"free_kib\":%" PRIu64 ",\"pending_kib\":0,\"nodes\":["
            "{\"free_for_new_vm_kib\":%" PRIu64 ",\"cpus\":[0,1,2,3,4,5,6,7]},"
            "{\"free_for_new_vm_kib\":%" PRIu64 ",\"cpus\":[8,9,10,11,12,13,14,15]}]}}",
            h ? "," : "", h, (uint64_t)((n0 + n1 + 72) * 1024), (uint64_t)(n0 * 1024),
            (uint64_t)(n1 * 1024));
    }
    add(&t, "],\"vms\":[");
    for (uint32_t h = 0, v = 0; h < hosts; h++)
        for (uint32_t i = 0; i < vms; i++, v++) {
            uint64_t fp = vm_min + rnd(vm_spread);
            add(&t,
                "%s{\"name\":\"v%u\",\"host\":\"h%u\",\"footprint_mib\":%" PRIu64
                ",\"source_mib\":%" PRIu64 ","
                "\"vcpus\":%" PRIu64 ",\"protected\":%s}",
                v ? "," : "", v, h, (uint64_t)fp, (uint64_t)(rnd(3) ? fp : fp + rnd(512)),
                (uint64_t)(1 + rnd(4)), rnd(2) ? "true" : "false");
        }
    add(&t, "]}");
    if (xf_pool_new_from_json(t.p, t.len, err, sizeof(err), &pool) < 0) {
        fprintf(stderr, "bench-pool: %s\n", err);
        abort();
    }
    xfd_buf_free(&t);
    return pool;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && !strcmp(argv[1], "--quick");
    int samples = quick ? 5 : 21;
    double t[64];
    struct xf_pool *pool;
    struct xf_pool_plan plan;
    struct xf_pool_ha ha;
    struct xf_pool_ha_options o = {.failures = 1, .shard_hosts = 64};

    xf_replace_allocator(count_malloc, count_realloc, count_calloc, count_free);

    /* 1 */
    pool = make_pool(64, 100);
    for (int i = 0; i < samples; i++) {
        double t0 = now_s();
        if (xf_pool_evacuate(pool, (uint32_t)i % 64, &plan) < 0)
            abort();
        t[i] = now_s() - t0;
        if (i == 0)
            printf("64 hosts x 100 VMs: evacuating h0, %u steps, %u refused%s\n", plan.nr_steps,
                   plan.nr_refused, plan.searched ? " (search ran)" : "");
        xf_pool_plan_done(&plan);
    }
    printf("  evacuation plan: median %.2f ms over %d hosts (target <= 50 ms)\n",
           median(t, samples) * 1e3, samples);
    xf_pool_free(pool);
    /* Tight: ~2.1 GiB free per host for ~1.15 GiB x 100 VMs over 63 hosts,
     * so that best fit runs out and the bounded search runs. */
    pool = make_pool_free(64, 100, 900, 300, 256, 1792);
    for (int i = 0; i < samples; i++) {
        double t0 = now_s();
        if (xf_pool_evacuate(pool, (uint32_t)i % 64, &plan) < 0)
            abort();
        t[i] = now_s() - t0;
        if (i < 3)
            printf("  tight pool, evacuating h%d: %u steps, %u refused%s\n", i, plan.nr_steps,
                   plan.nr_refused, plan.searched ? " (search ran)" : "");
        xf_pool_plan_done(&plan);
    }
    printf("  tight evacuation plan: median %.2f ms over %d hosts\n", median(t, samples) * 1e3,
           samples);
    xf_pool_free(pool);
    /* Adversarial: VMs of 470..529 MiB, nodes of 430..579 MiB (two a host):
     * best fit leaves VMs over, and the search spends its whole budget. */
    pool = make_pool_free(64, 100, 430, 150, 470, 60);
    for (int i = 0; i < samples; i++) {
        double t0 = now_s();
        if (xf_pool_evacuate(pool, (uint32_t)i % 64, &plan) < 0)
            abort();
        t[i] = now_s() - t0;
        if (i < 2)
            printf("  adversarial pool, evacuating h%d: %u steps, %u refused%s\n", i, plan.nr_steps,
                   plan.nr_refused, plan.searched ? " (search ran)" : "");
        xf_pool_plan_done(&plan);
    }
    printf("  adversarial evacuation plan: median %.2f ms (the search's budget bounds it)\n",
           median(t, samples) * 1e3);
    xf_pool_free(pool);

    /* 2 */
    pool = make_pool(1000, 100);
    for (int i = 0; i < (quick ? 3 : 7); i++) {
        double t0 = now_s();
        if (xf_pool_ha_plan(pool, &o, &ha) < 0)
            abort();
        t[i] = now_s() - t0;
        if (i == 0)
            printf("1000 hosts x 100 VMs: HA --failures 1 --shard 64: %s, %zu failure sets\n",
                   ha.possible ? "possible" : "not possible", ha.nr_cases);
        xf_pool_ha_done(&ha);
    }
    printf("  sharded HA plan: median %.3f s (target <= 1 s)\n", median(t, quick ? 3 : 7));
    for (int i = 0; i < samples; i++) {
        double t0 = now_s();
        if (xf_pool_evacuate(pool, (uint32_t)(i * 37) % 1000, &plan) < 0)
            abort();
        t[i] = now_s() - t0;
        xf_pool_plan_done(&plan);
    }
    printf("  one evacuation across all 1000 hosts (not sharded): median %.2f ms\n",
           median(t, samples) * 1e3);
    xf_pool_free(pool);

    /* 3 */
    printf("memory (live bytes the library holds):\n");
    for (uint32_t hosts = 250; hosts <= 1000; hosts *= 2) {
        size_t base, held;
        live_bytes = peak_bytes = 0;
        pool = make_pool(hosts, 100);
        held = live_bytes;
        base = live_bytes;
        peak_bytes = live_bytes;
        if (xf_pool_ha_plan(pool, &o, &ha) < 0)
            abort();
        printf("  %4u hosts x 100 VMs: pool %zu bytes = %.0f bytes/VM; HA plan peak +%zu "
               "bytes = %.0f bytes/VM\n",
               hosts, held, (double)held / (hosts * 100.0), peak_bytes - base,
               (double)(peak_bytes - base) / (hosts * 100.0));
        xf_pool_ha_done(&ha);
        xf_pool_free(pool);
    }
    /* The split: the same hosts with twice the VMs. */
    {
        size_t with100, with200;
        live_bytes = 0;
        pool = make_pool(250, 100);
        with100 = live_bytes;
        xf_pool_free(pool);
        live_bytes = 0;
        pool = make_pool(250, 200);
        with200 = live_bytes;
        xf_pool_free(pool);
        printf("  per VM %.0f bytes (250 hosts, 100 -> 200 VMs each), per host %.0f bytes\n",
               (double)(with200 - with100) / 25000.0,
               ((double)with100 - (double)(with200 - with100)) / 250.0);
    }
    xf_reset_allocator();
    return 0;
}
