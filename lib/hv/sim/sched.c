/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * A seeded task scheduler over a backend's clock (xenfit/sim.h): tasks are
 * step functions; each round one runnable task, drawn with a xoshiro256**
 * PRNG seeded through splitmix64, takes one step. When every task sleeps,
 * the backend's clock is advanced to the earliest wake-up. Nothing depends
 * on wall time or addresses, so a seed and the same tasks replay exactly.
 */
#include "internal.h"
#include "xenfit/error.h"
#include "xenfit/sim.h"

struct sched_task {
    xf_sim_step_fn step;
    void *ctx;
    uint64_t wake_ns;
    bool done;
    int result;
};

struct xf_sim_sched {
    struct xf_hv *hv;
    uint64_t rng[4];
    struct sched_task *tasks;
    uint32_t nr_tasks, cap_tasks, nr_left;
    uint64_t steps;
    uint32_t *runnable; /* scratch, cap_tasks entries */
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t xf_sim_sched_random(struct xf_sim_sched *s)
{
    uint64_t *r = s->rng;
    uint64_t out = rotl(r[1] * 5, 7) * 9, t = r[1] << 17;

    r[2] ^= r[0];
    r[3] ^= r[1];
    r[1] ^= r[2];
    r[0] ^= r[3];
    r[2] ^= t;
    r[3] = rotl(r[3], 45);
    return out;
}

/* Uniform in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 for
 * any task count this will see, and the draw is deterministic anyway). */
static uint32_t draw(struct xf_sim_sched *s, uint32_t n)
{
    return (uint32_t)(((unsigned __int128)xf_sim_sched_random(s) * n) >> 64);
}

int xf_sim_sched_new(struct xf_hv *hv, uint64_t seed, struct xf_sim_sched **ret)
{
    struct xf_sim_sched *s;

    if (!hv)
        return XF_EINVAL;
    s = xf__calloc(1, sizeof(*s));
    if (!s)
        return XF_ENOMEM;
    s->hv = hv;
    for (int i = 0; i < 4; i++)
        s->rng[i] = splitmix64(&seed);
    *ret = s;
    return 0;
}

void xf_sim_sched_free(struct xf_sim_sched *s)
{
    if (!s)
        return;
    xf__free(s->tasks);
    xf__free(s->runnable);
    xf__free(s);
}

int xf_sim_sched_add(struct xf_sim_sched *s, xf_sim_step_fn step, void *ctx, uint32_t *ret_id)
{
    if (!step)
        return XF_EINVAL;
    if (s->nr_tasks == s->cap_tasks) {
        uint32_t cap = s->cap_tasks ? s->cap_tasks * 2 : 8;
        struct sched_task *t = xf__reallocarray(s->tasks, cap, sizeof(*t));
        uint32_t *run;
        if (!t)
            return XF_ENOMEM;
        s->tasks = t;
        run = xf__reallocarray(s->runnable, cap, sizeof(*run));
        if (!run)
            return XF_ENOMEM;
        s->runnable = run;
        s->cap_tasks = cap;
    }
    s->tasks[s->nr_tasks] = (struct sched_task){
        .step = step, .ctx = ctx, .wake_ns = xf_hv_now_ns(s->hv), .done = false};
    *ret_id = s->nr_tasks++;
    s->nr_left++;
    return 0;
}

int xf_sim_sched_run(struct xf_sim_sched *s, uint64_t max_steps)
{
    uint64_t taken = 0;

    while (s->nr_left) {
        uint64_t now = xf_hv_now_ns(s->hv), earliest = UINT64_MAX, sleep_ns = 0;
        uint32_t n = 0;
        struct sched_task *t;
        int r;

        if (max_steps && taken >= max_steps)
            return XF_ETIMEDOUT;
        for (uint32_t i = 0; i < s->nr_tasks; i++) {
            if (s->tasks[i].done)
                continue;
            if (s->tasks[i].wake_ns <= now)
                s->runnable[n++] = i;
            else if (s->tasks[i].wake_ns < earliest)
                earliest = s->tasks[i].wake_ns;
        }
        if (n == 0) {
            if ((r = xf_hv_sleep_ns(s->hv, earliest - now)) < 0)
                return r;
            continue;
        }
        t = &s->tasks[s->runnable[draw(s, n)]];
        r = t->step(t->ctx, s->hv, &sleep_ns);
        taken++;
        s->steps++;
        if (r <= 0) {
            t->done = true;
            t->result = r;
            s->nr_left--;
        } else {
            now = xf_hv_now_ns(s->hv);
            t->wake_ns = now + sleep_ns < now ? UINT64_MAX : now + sleep_ns;
        }
    }
    return 0;
}

int xf_sim_sched_result(const struct xf_sim_sched *s, uint32_t id, int *ret_result)
{
    if (id >= s->nr_tasks)
        return XF_EINVAL;
    if (!s->tasks[id].done)
        return XF_ESTATE;
    *ret_result = s->tasks[id].result;
    return 0;
}

uint64_t xf_sim_sched_steps(const struct xf_sim_sched *s)
{
    return s->steps;
}
