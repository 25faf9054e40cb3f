/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * bench-daemon-scale: xenfitd with many pending reservations. A red-team
 * run found the sweep quadratic (a linear record lookup per reservation per
 * second): 42% CPU while idle at 30k pending, 822 ms stalls, a 4.5 s
 * restart. This benchmark starts its own xenfitd (the simulator on a host
 * large enough for the reservations), measures squeezed's VM-start cycle
 * (reserve_memory, transfer_reservation_to_domain, delete_reservation) on an
 * empty ledger, then fills it with N pending reservations (10 sessions, the
 * default per-session limit apart) and measures, in the same run:
 *
 *   - the daemon's CPU while idle (the sweep runs every second),
 *   - the same cycle again: p50 and p99 against the empty ledger's,
 *   - the longest gap between replies while it sweeps (a stall),
 *   - the restart: SIGTERM, start again, until it answers.
 *
 * Medians over --runs rounds of each measurement.
 *
 *   bench-daemon-scale [--pending N] [--seconds S] [--runs R] [--daemon PATH]
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xenfit/client.h"

static char dir[64], sock[128], state[128], host[160];
static const char *daemon_path = XFD_BINARY;
static pid_t daemon_pid;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_s(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The daemon's CPU time so far in ns (/proc/PID/schedstat: exact, where
 * /proc/PID/stat counts 10 ms ticks). */
static unsigned long long daemon_cpu_ns(void)
{
    char path[64];
    unsigned long long ns = 0;
    FILE *f;
    snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)daemon_pid);
    if (!(f = fopen(path, "r")))
        return 0;
    char buf[64];
    if (fgets(buf, sizeof(buf), f))
        ns = strtoull(buf, NULL, 10);
    fclose(f);
    return ns;
}

static bool with_limits = true; /* daemons before the pending limits lack the flag */

/* Starts xenfitd and waits until it answers. Returns the seconds it took,
 * or a negative number on failure. */
static double start_daemon(void)
{
    uint64_t t0 = mono_ns();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char log[160];
        int fd;
        snprintf(log, sizeof(log), "%s/xenfitd.log", dir);
        fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        if (with_limits)
            execl(daemon_path, daemon_path, "--host", host, "--state-dir", state, "--socket", sock,
                  "--reservation-ttl", "0", "--max-pending", "200000", (char *)NULL);
        else
            execl(daemon_path, daemon_path, "--host", host, "--state-dir", state, "--socket", sock,
                  "--reservation-ttl", "0", (char *)NULL);
        _exit(127);
    }
    daemon_pid = pid;
    for (int i = 0; i < 60000; i++) {
        struct xfd_client *c;
        int status;
        if (xfd_client_connect(sock, 1000, &c) == 0) {
            xfd_client_close(c);
            return (double)(mono_ns() - t0) / 1e9;
        }
        if (waitpid(pid, &status, WNOHANG) == pid) {
            /* An older xenfitd refuses --max-pending (usage: 2): without it. */
            if (with_limits && WIFEXITED(status) && WEXITSTATUS(status) == 2) {
                with_limits = false;
                return start_daemon();
            }
            return -1;
        }
        sleep_s(0.001);
    }
    return -1;
}

static void stop_daemon(void)
{
    kill(daemon_pid, SIGTERM);
    waitpid(daemon_pid, NULL, 0);
}

static int call(struct xfd_client *c, const char *method, json_t *params, json_t **ret)
{
    json_t *res = NULL, *err = NULL;
    int r = xfd_client_call(c, method, params, &res, &err);
    if (r != 0) {
        char *t = err ? json_dumps(err, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        fprintf(stderr, "bench-daemon-scale: %s failed (%d): %s\n", method, r, t ? t : "");
        free(t);
        json_decref(err);
        return -1;
    }
    if (ret)
        *ret = res;
    else
        json_decref(res);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* squeezed's cycle for `seconds`: p50 and p99 of a cycle, and the longest. */
static int cycles(struct xfd_client *c, double seconds, double *p50, double *p99, double *max)
{
    size_t n = 0, cap = 1 << 16;
    uint64_t *lat = malloc(cap * sizeof(*lat)), end = mono_ns() + (uint64_t)(seconds * 1e9);
    int domid = 1000;
    if (!lat)
        return -1;
    while (mono_ns() < end && n < cap) {
        json_t *id = NULL;
        uint64_t t0 = mono_ns();
        if (call(c, "reserve_memory", json_pack("[ssI]", "b", "cycle", (json_int_t)1024), &id) ||
            call(c, "transfer_reservation_to_domain",
                 json_pack("[sssi]", "b", "cycle", json_string_value(id), domid), NULL) ||
            call(c, "delete_reservation", json_pack("[sss]", "b", "cycle", json_string_value(id)),
                 NULL)) {
            json_decref(id);
            free(lat);
            return -1;
        }
        json_decref(id);
        lat[n++] = mono_ns() - t0;
        domid = domid == 30000 ? 1000 : domid + 1;
    }
    qsort(lat, n, sizeof(*lat), cmp_u64);
    size_t i50 = n / 2, i99 = n * 99 / 100;
    *p50 = (double)lat[i50] / 1e3;
    *p99 = (double)lat[i99] / 1e3;
    *max = (double)lat[n - 1] / 1e3;
    free(lat);
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    long pending = 100000;
    double seconds = 2.0;
    int runs = 3, status = 1;
    struct xfd_client *c = NULL;
    double e50[16], e99[16], f50[16], f99[16], fmax[16], idle[16], restart[16], t;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--pending") == 0 && v)
            pending = strtol(argv[++i], NULL, 10);
        else if (strcmp(a, "--seconds") == 0 && v)
            seconds = strtod(argv[++i], NULL);
        else if (strcmp(a, "--runs") == 0 && v)
            runs = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(a, "--daemon") == 0 && v)
            daemon_path = argv[++i];
        else {
            fprintf(stderr, "usage: bench-daemon-scale [--pending N] [--seconds S] [--runs R] "
                            "[--daemon PATH]\n");
            return 2;
        }
    }
    if (pending < 0 || pending > 100000 || runs < 1 || runs > 16 || !(seconds > 0)) {
        fprintf(stderr, "bench-daemon-scale: --pending 0..100000, --runs 1..16, --seconds > 0\n");
        return 2;
    }
    snprintf(dir, sizeof(dir), "/tmp/xfd-scale-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(sock, sizeof(sock), "%s/s", dir);
    snprintf(state, sizeof(state), "%s/state", dir);
    snprintf(host, sizeof(host), "%s/host.json", dir);
    /* 1 TiB on one node: 100k reservations of 1 MiB fit with room to spare. */
    FILE *f = fopen(host, "w");
    if (!f)
        return 1;
    fprintf(f, "{\"name\": \"scale-1T\", \"nodes\": [{\"memory_mib\": 1048576, \"cpus\": 64}], "
               "\"dom0\": {\"vcpus\": 4, \"memory_mib\": 4096}}\n");
    fclose(f);

    if (start_daemon() < 0 || xfd_client_connect(sock, 30000, &c) < 0) {
        fprintf(stderr, "bench-daemon-scale: xenfitd did not start (log in %s)\n", dir);
        goto out;
    }
    for (int r = 0; r < runs; r++)
        if (cycles(c, seconds, &e50[r], &e99[r], &t) < 0)
            goto out;
    uint64_t t0 = mono_ns();
    for (long i = 0; i < pending; i++) {
        char session[16];
        snprintf(session, sizeof(session), "fill%ld", i / 10000);
        if (call(c, "reserve_memory", json_pack("[ssI]", "b", session, (json_int_t)1024), NULL) < 0)
            goto out;
    }
    double fill_s = (double)(mono_ns() - t0) / 1e9;
    for (int r = 0; r < runs; r++) {
        unsigned long long k0 = daemon_cpu_ns();
        sleep_s(seconds);
        idle[r] = (double)(daemon_cpu_ns() - k0) / 1e9 / seconds * 100.0;
    }
    for (int r = 0; r < runs; r++)
        if (cycles(c, seconds, &f50[r], &f99[r], &fmax[r]) < 0)
            goto out;
    xfd_client_close(c);
    c = NULL;
    for (int r = 0; r < runs; r++) {
        stop_daemon();
        if ((restart[r] = start_daemon()) < 0)
            goto out;
    }
    printf("xenfitd with %ld pending reservations (filled in %.1f s); medians of %d runs of "
           "%.1f s\n",
           pending, fill_s, runs, seconds);
    printf("  idle CPU                      %.3f %%\n", median(idle, runs));
    double m50 = median(e50, runs), m99 = median(e99, runs);
    double n50 = median(f50, runs), n99 = median(f99, runs);
    printf("  cycle p50, empty -> full      %.0f us -> %.0f us (x%.2f)\n", m50, n50, n50 / m50);
    printf("  cycle p99, empty -> full      %.0f us -> %.0f us (x%.2f)\n", m99, n99, n99 / m99);
    printf("  longest cycle, full           %.0f us\n", median(fmax, runs));
    printf("  restart until it answers      %.2f s\n", median(restart, runs));
    status = 0;
out:
    xfd_client_close(c);
    if (daemon_pid > 0)
        stop_daemon();
    if (status == 0)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return status;
}
