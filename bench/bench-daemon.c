/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * bench-daemon: xenfitd's throughput and latency over its Unix socket. Each
 * client runs squeezed's cycle for a VM start as fast as it can --
 * reserve_memory, transfer_reservation_to_domain, delete_reservation, each a
 * JSON-RPC call over one keep-alive HTTP connection -- and the benchmark
 * reports cycles per second and the p50 and p99 latency of a whole cycle,
 * with 1, 8 and 32 concurrent clients, as the median of several runs. Every
 * reserve and delete is committed to SQLite before it is answered.
 *
 * By default it starts its own xenfitd (the simulator on hosts/1node.json, a
 * fresh state directory under /tmp); --socket uses a running one instead.
 * The daemon's CPU per cycle is its utime + stime (/proc/PID/stat) over the
 * run divided by the cycles: a figure that holds on a busy machine, unlike
 * cycles/s. --floor starts, in xenfitd's place, a server that answers every
 * request with a canned reply (one epoll_wait, read and send each): the CPU
 * that the same three round trips cost any server on this machine.
 *
 * The clients are lean by default (requests formatted and replies checked as
 * text, as a C toolstack would); --client jansson uses the shared client
 * (lib/client/client.c), whose JSON work then competes with the daemon for the
 * same cores.
 *
 *   bench-daemon [--seconds S] [--runs N] [--clients 1,8,32] [--sync normal|full]
 *                [--client lean|jansson] [--socket PATH] [--daemon PATH] [--host SPEC.json]
 *                [--floor]
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xenfit/client.h"

#define MAX_CLIENTS 256

static const char *socket_path;
static double seconds = 2.0;
static bool lean = true;
static atomic_bool stop;

struct worker {
    int index;
    uint64_t cycles;
    uint64_t *lat_ns; /* per cycle */
    size_t cap;
    int error;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int call(struct xfd_client *c, const char *method, json_t *params, json_t **ret)
{
    json_t *err = NULL;
    int r = xfd_client_call(c, method, params, ret, &err);
    json_decref(err);
    return r;
}

/* The lean client: requests formatted with snprintf, replies checked as
 * text (xenfitd writes {"result":...,"error":null,"id":N}); what a C
 * toolstack on the same host would spend, not a JSON library's cost. */
static int lean_call(struct xfd_client *c, const char *body, char *ret_id, size_t idlen)
{
    char req[512], *reply = NULL;
    size_t len;
    int status, n, r = -1;

    n = snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s", strlen(body),
                 body);
    if (n < 0 || (size_t)n >= sizeof(req) || xfd_client_send(c, req, (size_t)n) < 0 ||
        xfd_client_read_response(c, &status, &reply, &len) < 0)
        return -1;
    if (status == 200 && strncmp(reply, "{\"result\":", 10) == 0 &&
        strstr(reply, ",\"error\":null,")) {
        r = 0;
        if (ret_id) {
            const char *q = reply + 10, *e = q[0] == '"' ? strchr(q + 1, '"') : NULL;
            if (!e || (size_t)(e - q - 1) >= idlen)
                r = -1;
            else
                snprintf(ret_id, idlen, "%.*s", (int)(e - q - 1), q + 1);
        }
    }
    free(reply);
    return r;
}

static int lean_cycle(struct xfd_client *c, const char *session, int domid)
{
    char body[256], id[64];
    snprintf(body, sizeof(body),
             "{\"method\":\"reserve_memory\",\"params\":[\"b\",\"%s\",1024],\"id\":1}", session);
    if (lean_call(c, body, id, sizeof(id)) < 0)
        return -1;
    snprintf(body, sizeof(body),
             "{\"method\":\"transfer_reservation_to_domain\",\"params\":[\"b\",\"%s\",\"%s\",%d],"
             "\"id\":2}",
             session, id, domid);
    if (lean_call(c, body, NULL, 0) < 0)
        return -1;
    snprintf(body, sizeof(body),
             "{\"method\":\"delete_reservation\",\"params\":[\"b\",\"%s\",\"%s\"],\"id\":3}",
             session, id);
    return lean_call(c, body, NULL, 0);
}

/* The shared client (lib/client/client.c): jansson both ways. */
static int jansson_cycle(struct xfd_client *c, const char *session, int domid)
{
    json_t *id = NULL, *r = NULL;
    int err = call(c, "reserve_memory", json_pack("[ssi]", "b", session, 1024), &id) != 0 ||
              call(c, "transfer_reservation_to_domain",
                   json_pack("[ssOi]", "b", session, id, domid), &r) != 0;
    json_decref(r);
    r = NULL;
    if (!err)
        err = call(c, "delete_reservation", json_pack("[ssO]", "b", session, id), &r) != 0;
    json_decref(r);
    json_decref(id);
    return err ? -1 : 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct xfd_client *c;
    char session[16];

    snprintf(session, sizeof(session), "bench%d", w->index);
    if (xfd_client_connect(socket_path, 10000, &c) < 0) {
        w->error = 1;
        return NULL;
    }
    while (!atomic_load(&stop)) {
        uint64_t t0 = mono_ns();
        if ((lean ? lean_cycle : jansson_cycle)(c, session, 1 + w->index) < 0) {
            w->error = 1;
            break;
        }
        if (w->cycles == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 4096;
            uint64_t *n = realloc(w->lat_ns, cap * sizeof(*n));
            if (!n) {
                w->error = 1;
                break;
            }
            w->lat_ns = n;
            w->cap = cap;
        }
        w->lat_ns[w->cycles++] = mono_ns() - t0;
    }
    xfd_client_close(c);
    return NULL;
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

struct result {
    double rate, p50_us, p99_us;
    double cpu_us, client_cpu_us; /* the daemon's and the clients' CPU per cycle */
};

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static pid_t daemon_pid; /* when the benchmark started it */

/* --floor: epoll, one read and one send per request, nothing else. */
static void floor_server(const char *path)
{
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 34\r\n\r\n"
                                "{\"result\":\"1\",\"error\":null,\"id\":1}";
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};

    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    if (l < 0 || ep < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 256) < 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) < 0)
        _exit(1);
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            char buf[65536];
            int fd = evs[i].data.fd;
            if (fd == l) {
                int c = accept4(l, NULL, NULL, SOCK_NONBLOCK);
                struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                if (c >= 0)
                    (void)epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                continue;
            }
            if (read(fd, buf, sizeof(buf)) <= 0) {
                close(fd);
                continue;
            }
            (void)!send(fd, reply, sizeof(reply) - 1, MSG_NOSIGNAL);
        }
    }
}

/* The daemon's CPU time so far (user + system), in clock ticks; 0 unknown. */
static unsigned long long daemon_ticks(void)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;
    size_t n;

    if (daemon_pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)daemon_pid);
    if (!(f = fopen(path, "r")))
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* After the command name's closing parenthesis: state is field 3,
     * utime and stime fields 14 and 15. */
    if (!(p = strrchr(buf, ')')) ||
        /* NOLINTNEXTLINE(cert-err34-c): the kernel's counters, their count checked */
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return ut + st;
}

static int run(int clients, struct result *ret)
{
    static struct worker ws[MAX_CLIENTS];
    pthread_t th[MAX_CLIENTS];
    uint64_t total = 0, t0, t1, *all;
    size_t k = 0;

    atomic_store(&stop, false);
    for (int i = 0; i < clients; i++) {
        free(ws[i].lat_ns);
        memset(&ws[i], 0, sizeof(ws[i]));
        ws[i].index = i;
    }
    unsigned long long ticks0 = daemon_ticks();
    double self0 = self_cpu_s();
    t0 = mono_ns();
    for (int i = 0; i < clients; i++)
        pthread_create(&th[i], NULL, worker_main, &ws[i]);
    struct timespec ts = {.tv_sec = (time_t)seconds,
                          .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    atomic_store(&stop, true);
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    t1 = mono_ns();
    for (int i = 0; i < clients; i++) {
        if (ws[i].error) {
            fprintf(stderr, "bench-daemon: client %d failed\n", i);
            return -1;
        }
        total += ws[i].cycles;
    }
    all = malloc((size_t)(total ? total : 1) * sizeof(*all));
    if (!all)
        return -1;
    for (int i = 0; i < clients; i++)
        for (uint64_t j = 0; j < ws[i].cycles; j++)
            all[k++] = ws[i].lat_ns[j];
    qsort(all, (size_t)total, sizeof(*all), cmp_u64);
    ret->rate = (double)total / ((double)(t1 - t0) / 1e9);
    ret->client_cpu_us = total ? (self_cpu_s() - self0) * 1e6 / (double)total : 0;
    ret->cpu_us = total ? (double)(daemon_ticks() - ticks0) * 1e6 / (double)sysconf(_SC_CLK_TCK) /
                              (double)total
                        : 0;
    uint64_t p50 = total / 2, p99 = total * 99 / 100; /* indices into the sorted latencies */
    ret->p50_us = total ? (double)all[p50] / 1e3 : 0;
    ret->p99_us = total ? (double)all[p99] / 1e3 : 0;
    free(all);
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(int argc, char **argv)
{
    const char *daemon = XFD_BINARY, *host = XF_SOURCE_DIR "/hosts/1node.json", *sync = "normal";
    char clients_arg[64] = "1,8,32", dir[64] = "", sock[128], state[128];
    int runs = 5, status = 0;
    bool floor_mode = false;
    pid_t pid = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(a, "--floor") == 0) {
            floor_mode = true;
            continue;
        }
        if (strcmp(a, "--seconds") == 0 && v) {
            seconds = strtod(v, &end);
        } else if (strcmp(a, "--runs") == 0 && v) {
            runs = (int)strtol(v, &end, 10);
        } else if (strcmp(a, "--clients") == 0 && v) {
            snprintf(clients_arg, sizeof(clients_arg), "%s", v);
        } else if (strcmp(a, "--sync") == 0 && v) {
            sync = v;
        } else if (strcmp(a, "--socket") == 0 && v) {
            socket_path = v;
        } else if (strcmp(a, "--daemon") == 0 && v) {
            daemon = v;
        } else if (strcmp(a, "--host") == 0 && v) {
            host = v;
        } else if (strcmp(a, "--client") == 0 && v &&
                   (strcmp(v, "lean") == 0 || strcmp(v, "jansson") == 0)) {
            lean = strcmp(v, "lean") == 0;
        } else {
            fprintf(stderr, "usage: bench-daemon [--seconds S] [--runs N] [--clients 1,8,32] "
                            "[--sync normal|full] [--client lean|jansson] [--socket PATH]\n"
                            "                    [--daemon PATH] [--host SPEC] [--floor]\n");
            return 2;
        }
        if (end && *end) {
            fprintf(stderr, "bench-daemon: %s '%s': not a number\n", a, v);
            return 2;
        }
        i++;
    }
    if (seconds <= 0 || runs < 1)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    if (!socket_path) {
        snprintf(dir, sizeof(dir), "/tmp/xfd-bench-XXXXXX");
        if (!mkdtemp(dir))
            return 1;
        snprintf(sock, sizeof(sock), "%s/s", dir);
        snprintf(state, sizeof(state), "%s/state", dir);
        socket_path = sock;
        pid = fork();
        daemon_pid = pid;
        if (pid == 0) {
            (void)prctl(PR_SET_PDEATHSIG, SIGTERM); /* not to outlive the benchmark */
            if (floor_mode)
                floor_server(sock);
            execl(daemon, daemon, "--host", host, "--state-dir", state, "--socket", sock, "--sync",
                  sync, "--log-level", "warning", (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 500; i++) {
            struct xfd_client *c;
            if (xfd_client_connect(sock, 1000, &c) == 0) {
                xfd_client_close(c);
                break;
            }
            usleep(10000);
        }
    }
    printf("%s: reserve -> transfer -> delete cycles over %s (synchronous=%s, %s client), "
           "%d runs of %.1f s, medians\n",
           floor_mode ? "floor (canned replies, not xenfitd)" : "xenfitd", socket_path,
           pid && !floor_mode ? sync : "-", lean ? "lean" : "jansson", runs, seconds);
    printf("%8s %12s %10s %10s %18s %18s\n", "clients", "cycles/s", "p50 us", "p99 us",
           "daemon CPU/cycle", "client CPU/cycle");
    for (char *save = NULL, *tok = strtok_r(clients_arg, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *tend;
        long n = strtol(tok, &tend, 10);
        double rate[64], p50[64], p99[64], cpu[64], ccpu[64];
        if (*tend || n < 1 || n > MAX_CLIENTS || runs > 64) {
            status = 2;
            break;
        }
        for (int r = 0; r < runs; r++) {
            struct result res;
            if (run((int)n, &res) < 0) {
                status = 1;
                goto out;
            }
            rate[r] = res.rate;
            p50[r] = res.p50_us;
            p99[r] = res.p99_us;
            cpu[r] = res.cpu_us;
            ccpu[r] = res.client_cpu_us;
        }
        qsort(rate, (size_t)runs, sizeof(double), cmp_double);
        qsort(p50, (size_t)runs, sizeof(double), cmp_double);
        qsort(p99, (size_t)runs, sizeof(double), cmp_double);
        qsort(cpu, (size_t)runs, sizeof(double), cmp_double);
        qsort(ccpu, (size_t)runs, sizeof(double), cmp_double);
        printf("%8ld %12.0f %10.1f %10.1f %15.1f us %15.1f us\n", n, rate[runs / 2], p50[runs / 2],
               p99[runs / 2], cpu[runs / 2], ccpu[runs / 2]);
        fflush(stdout);
    }
out:
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    if (dir[0])
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return status;
}
