/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd: the xenfit host memory daemon. Opens the hypervisor backend and
 * the durable state, rebuilds the ledger and reconciles it with the
 * hypervisor, listens on the Unix socket and runs the event loop (loop.c)
 * until SIGTERM. docs/daemon.md and docs/xenfitd.8 describe it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "xenfit/hv.h"
#include "xenfit/units.h"
#include "xenfitd.h"

/* Reads the host spec file whole. Returns 0 and a malloc'd buffer, or -errno. */
static int read_spec(const char *path, char **ret_buf, size_t *ret_len)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *f = fopen(path, "rb");

    if (!f) {
        int e = errno;
        xfd_log(XFD_LOG_ERROR, "--host '%s': %s", path, strerror(e));
        return -e;
    }
    for (;;) {
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
            if (!nb || cap > (1u << 26)) {
                free(nb ? nb : buf);
                fclose(f);
                xfd_log(XFD_LOG_ERROR, "--host '%s': too large", path);
                return -ENOMEM;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    *ret_buf = buf;
    *ret_len = len;
    return 0;
}

/* Opens the configured backend (xf_hv_open knows which are built) and names
 * the host for the log and `status`: the backend's name for it (the spec's,
 * or dom0's host name), else the backend's. */
static int open_backend(struct xfd_server *srv, const char **ret_name)
{
    static char name[sizeof(((struct xf_hv_host_params *)0)->name)];
    struct xf_hv_open_error err;
    struct xf_hv_host_params hp;
    char *buf = NULL;
    size_t len = 0;
    int r;

    if (srv->cfg.host_spec[0] && (r = read_spec(srv->cfg.host_spec, &buf, &len)) < 0)
        return r;
    r = xf_hv_open(srv->cfg.backend, buf, len, &err, &srv->hv);
    free(buf);
    if (r < 0) {
        if (r == XF_EBADSPEC)
            xfd_log(XFD_LOG_ERROR, "--host '%s': %s: %s", srv->cfg.host_spec, xf_strerror(r),
                    err.message);
        else
            xfd_log(XFD_LOG_ERROR, "%s", err.message);
        return r;
    }
    if (xf_hv_host_params(srv->hv, &hp) == 0 && hp.name[0])
        memcpy(name, hp.name, sizeof(name));
    else
        snprintf(name, sizeof(name), "%s", srv->cfg.backend);
    *ret_name = name;
    return 0;
}

/* The reservation ids' salt: random once, then kept with the state. */
static int id_salt(struct xfd_server *srv)
{
    char text[32];
    int r = xfd_store_meta_get(srv->store, "id_salt", text, sizeof(text));
    if (r == 0) {
        char *end;
        errno = 0;
        srv->id_salt = strtoull(text, &end, 16);
        return errno || *end ? -EPROTO : 0;
    }
    if (r != -ENOENT)
        return r;
    if (getrandom(&srv->id_salt, sizeof(srv->id_salt), 0) != (ssize_t)sizeof(srv->id_salt))
        return -errno;
    snprintf(text, sizeof(text), "%016" PRIx64, srv->id_salt);
    return xfd_store_meta_set(srv->store, "id_salt", text);
}

int xfd_server_load(struct xfd_server *srv)
{
    struct xf_engine_params p;
    size_t nr = 0, nc = 0, ne = 0;
    char err[300];
    int r;

    xf_engine_free(srv->ctx.engine);
    srv->ctx.engine = NULL;
    xf_engine_params_init(&p, srv->hv);
    p.balloon = srv->cfg.balloon;
    p.numa_policy = srv->cfg.numa_policy;
    p.ttl_ns = srv->cfg.ttl_s * UINT64_C(1000000000);
    p.max_pending_per_owner = srv->cfg.max_pending_per_session;
    p.max_pending = srv->cfg.max_pending;
    p.id_salt = srv->id_salt;
    if ((r = xf_engine_new(srv->hv, &p, &srv->ctx.engine)) < 0) {
        xfd_log(XFD_LOG_ERROR, "setting up the engine: %s", xf_strerror(r));
        return r;
    }
    if ((r = xfd_store_load(srv->store, srv->ctx.engine, &nr, &nc, err, sizeof(err))) < 0) {
        xfd_log(XFD_LOG_ERROR, "loading the state: %s", err);
        return r;
    }
    xfd_events_done(&srv->ctx.events);
    if ((r = xfd_store_load_events(srv->store, &srv->ctx.events, &ne, err, sizeof(err))) < 0) {
        xfd_log(XFD_LOG_ERROR, "loading the state: %s", err);
        return r;
    }
    xfd_log(XFD_LOG_INFO,
            "state: %zu reservation%s, %zu calibration row%s and %zu build record%s restored", nr,
            nr == 1 ? "" : "s", nc, nc == 1 ? "" : "s", ne, ne == 1 ? "" : "s");
    return 0;
}

/* This machine's boot id (/proc/sys/kernel/random/boot_id), "" if unknown. */
static void read_boot_id(char *buf, size_t len)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    buf[0] = '\0';
    if (!f)
        return;
    if (!fgets(buf, (int)len, f))
        buf[0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

/*
 * The reservations' times are CLOCK_BOOTTIME nanoseconds (xfd_now_ns): an NTP
 * step cannot age them, but they mean something only within one boot of
 * this machine. A state written in another boot -- or by a xenfitd that kept
 * wall-clock times -- has its times rebased to now: pending reservations get
 * a whole TTL again, transfers a TTL to see their domain (the sweep then
 * drops those of domains that are gone). Recorded in meta "clock".
 */
static int rebase_clock(struct xfd_server *srv, bool *ret_rebased)
{
    char boot[64], want[96], have[96] = "";
    size_t n;
    int r;

    read_boot_id(boot, sizeof(boot));
    snprintf(want, sizeof(want), "boottime:%s", boot);
    *ret_rebased = false;
    r = xfd_store_meta_get(srv->store, "clock", have, sizeof(have));
    if (r < 0 && r != -ENOENT)
        return r;
    if (boot[0] && strcmp(have, want) == 0)
        return 0;
    if ((r = xf_engine_rebase_times(srv->ctx.engine, xfd_ctx_now_ns(&srv->ctx), &n)) < 0)
        return r;
    if (n)
        xfd_log(XFD_LOG_INFO,
                "state: %zu reservation%s from another boot or clock ('%s'): times rebased to now",
                n, n == 1 ? "" : "s", have[0] ? have : "wall clock");
    *ret_rebased = true;
    return 0;
}

/* After a restart: drop what died, settle what was built, expire the old. */
static int reconcile(struct xfd_server *srv)
{
    struct xf_engine_swept sw;
    bool rebased = false;
    int r = rebase_clock(srv, &rebased);
    if (r < 0) {
        xfd_log(XFD_LOG_ERROR, "rebasing the state's times: %s", xf_strerror(r));
        return r;
    }
    r = xf_engine_sweep(srv->ctx.engine, xfd_ctx_now_ns(&srv->ctx), &sw);
    if (r < 0) {
        xfd_log(XFD_LOG_ERROR, "reconciling with the hypervisor: %s", xf_strerror(r));
        return r;
    }
    if ((r = xfd_store_begin(srv->store)) < 0 ||
        (r = xf_engine_flush_changes(srv->ctx.engine, xfd_store_apply, srv->store)) < 0 ||
        (r = xfd_store_commit(srv->store)) < 0) {
        xfd_log(XFD_LOG_ERROR, "writing the state: %s", xfd_store_errmsg(srv->store));
        xfd_store_rollback(srv->store);
        return r;
    }
    if (rebased) {
        char boot[64], want[96];
        read_boot_id(boot, sizeof(boot));
        snprintf(want, sizeof(want), "boottime:%s", boot);
        if ((r = xfd_store_meta_set(srv->store, "clock", want)) < 0) {
            xfd_log(XFD_LOG_ERROR, "writing the state: %s", xfd_store_errmsg(srv->store));
            return r;
        }
    }
    xfd_log(XFD_LOG_INFO,
            "reconciled with the hypervisor: %zu expired, %zu of dead domains dropped, %zu "
            "settled",
            sw.expired, sw.died, sw.settled);
    return 0;
}

/* squeezed's boot-time free memory (memory_server.ml,
 * calculate_boot_time_host_free_memory): free + dom0's memory, in bytes,
 * measured once per host boot (per start of the simulated host). */
static int initial_free(struct xfd_server *srv)
{
    struct xf_engine_status st;
    char boot[64] = "", key[96], text[32];
    int r;

    /* A real host boots with the machine; a simulated one with xenfitd. */
    if (!(xf_hv_caps(srv->hv) & XF_HV_CAP_SIMULATED))
        read_boot_id(boot, sizeof(boot));
    snprintf(key, sizeof(key), "initial_free_bytes:%s", boot);
    if (boot[0] && xfd_store_meta_get(srv->store, key, text, sizeof(text)) == 0 &&
        xf_parse_u64(text, &srv->ctx.info.initial_free_bytes) == 0)
        return 0;
    if ((r = xf_engine_status(srv->ctx.engine, &st)) < 0)
        return r;
    srv->ctx.info.initial_free_bytes = xf_bytes_of_pages(st.phys.free_pages + st.dom0_pages);
    if (!boot[0])
        return 0;
    snprintf(text, sizeof(text), "%" PRIu64, srv->ctx.info.initial_free_bytes);
    return xfd_store_meta_set(srv->store, key, text);
}

/* Listens on the Unix socket `path` with permissions `mode`; *ret_fd, and
 * the socket file's identity for unlink_socket(). */
static int listen_socket(const char *path, unsigned mode, int *ret_fd, dev_t *ret_dev,
                         ino_t *ret_ino)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char dir[XFD_SOCKET_PATH_MAX];
    char *slash;
    struct stat st;
    mode_t old;
    int fd, r;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    snprintf(dir, sizeof(dir), "%s", path);
    if ((slash = strrchr(dir, '/')) && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            xfd_log(XFD_LOG_WARNING, "cannot create '%s': %s", dir, strerror(errno));
    }
    /* Only ever replace a socket: --socket pointed at a regular file (a
     * database, a config) must not delete it. */
    if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        xfd_log(XFD_LOG_ERROR, "'%s' exists and is not a socket: not replacing it", path);
        return -EEXIST;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* A socket file left by a daemon that died: remove it, unless something
     * still answers on it. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN) {
        xfd_log(XFD_LOG_ERROR, "'%s': another server is listening there", path);
        close(fd);
        return -EADDRINUSE;
    }
    close(fd);
    (void)unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    old = umask(0777 & ~(mode_t)mode);
    r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0 || chmod(path, (mode_t)mode) < 0 || listen(fd, 512) < 0) {
        r = -errno;
        xfd_log(XFD_LOG_ERROR, "listening on '%s': %s", path, strerror(-r));
        close(fd);
        return r;
    }
    if (lstat(path, &st) == 0) {
        *ret_dev = st.st_dev;
        *ret_ino = st.st_ino;
    }
    *ret_fd = fd;
    return 0;
}

/* Removes the socket at exit, if it is still the one this daemon bound (not
 * a file someone put there since). */
static void unlink_socket(const char *path, dev_t dev, ino_t ino)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev && st.st_ino == ino)
        (void)unlink(path);
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void notify(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len;
    int fd;

    if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
        return;
    len = strlen(path);
    memcpy(sa.sun_path, path, len);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0';
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    (void)!sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                  (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
    close(fd);
}

static int signals(struct xfd_server *srv)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    signal(SIGPIPE, SIG_IGN);
    srv->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return srv->signal_fd < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
    static struct xfd_server srv;
    const char *host_name = "?";
    char err[400];
    int r;

    r = xfd_config_parse(argc, argv, &srv.cfg);
    if (r)
        return r == 1 ? 0 : 2;
    xfd_log_init();
    xfd_log_set_level(srv.cfg.log_level);
    srv.listen_fd = srv.epoll_fd = srv.signal_fd = srv.metrics_fd = -1;
    srv.ctx.now_ns = xfd_now_ns;
    xfd_events_init(&srv.ctx.events);
    srv.ctx.info.version = XENFIT_VERSION;
    srv.ctx.info.backend = srv.cfg.backend;
    srv.ctx.info.started_ns = xfd_now_ns();
    srv.ctx.info.dom0_policy = srv.cfg.dom0_policy;
    srv.ctx.sim_methods = strcmp(srv.cfg.backend, "sim") == 0;

    if ((r = signals(&srv)) < 0 || (r = open_backend(&srv, &host_name)) < 0)
        goto out;
    srv.ctx.info.host_name = host_name;
    r = xfd_store_open(srv.cfg.state_dir, srv.cfg.sync, &srv.store, err, sizeof(err));
    if (r == -EUCLEAN && srv.cfg.fresh_state) {
        char suffix[64];
        xfd_log(XFD_LOG_ERROR, "state: %s", err);
        if ((r = xfd_store_move_aside(srv.cfg.state_dir, suffix, sizeof(suffix))) < 0) {
            xfd_log(XFD_LOG_ERROR, "state: moving the damaged state aside: %s", strerror(-r));
            goto out;
        }
        xfd_log(XFD_LOG_WARNING,
                "state: --fresh-state: the damaged state is kept as %s/xenfitd.db%s (and its "
                "WAL and mark); starting empty",
                srv.cfg.state_dir, suffix);
        r = xfd_store_open(srv.cfg.state_dir, srv.cfg.sync, &srv.store, err, sizeof(err));
    }
    if (r < 0) {
        xfd_log(XFD_LOG_ERROR, "state: %s", err);
        goto out;
    }
    if ((r = id_salt(&srv)) < 0) {
        xfd_log(XFD_LOG_ERROR, "state: the reservation id salt: %s", strerror(-r));
        goto out;
    }
    if ((r = xfd_server_load(&srv)) < 0 || (r = reconcile(&srv)) < 0)
        goto out;
    if ((r = initial_free(&srv)) < 0) {
        xfd_log(XFD_LOG_ERROR, "measuring the initial free memory: %s", xf_strerror(r));
        goto out;
    }
    if ((r = xfd_fit_max_clients(&srv.cfg.max_clients)) < 0 ||
        (r = listen_socket(srv.cfg.socket_path, srv.cfg.socket_mode, &srv.listen_fd,
                           &srv.socket_dev, &srv.socket_ino)) < 0)
        goto out;
    if (srv.cfg.metrics_socket_path[0] &&
        (r = listen_socket(srv.cfg.metrics_socket_path, srv.cfg.metrics_socket_mode,
                           &srv.metrics_fd, &srv.metrics_dev, &srv.metrics_ino)) < 0)
        goto out;
    if (srv.metrics_fd >= 0)
        xfd_log(XFD_LOG_INFO, "metrics and the live page on %s (GET /metrics, GET /)",
                srv.cfg.metrics_socket_path);
    xfd_log(XFD_LOG_INFO,
            "xenfitd %s: backend %s (host %s), state in %s (synchronous=%s), listening on %s",
            XENFIT_VERSION, srv.cfg.backend, host_name, srv.cfg.state_dir,
            srv.cfg.sync == XFD_SYNC_FULL ? "full" : "normal", srv.cfg.socket_path);
    if (srv.cfg.mswitch_path[0]) {
        if ((r = xfd_mswitch_start(srv.cfg.mswitch_path, srv.cfg.mswitch_queue, srv.cfg.max_body,
                                   &srv.mswitch)) < 0) {
            xfd_log(XFD_LOG_ERROR, "message switch: starting its thread: %s", strerror(-r));
            goto out;
        }
        xfd_log(XFD_LOG_INFO, "serving queue %s on the message switch at %s", srv.cfg.mswitch_queue,
                srv.cfg.mswitch_path);
    }
    notify("READY=1");
    r = xfd_serve(&srv);
    notify("STOPPING=1");
    if (r < 0)
        xfd_log(XFD_LOG_ERROR, "event loop: %s", strerror(-r));
    unlink_socket(srv.cfg.socket_path, srv.socket_dev, srv.socket_ino);
    if (srv.metrics_fd >= 0)
        unlink_socket(srv.cfg.metrics_socket_path, srv.metrics_dev, srv.metrics_ino);
out:
    xfd_mswitch_stop(srv.mswitch); /* before the engine it may be answering for */
    if (srv.listen_fd >= 0)
        close(srv.listen_fd);
    if (srv.metrics_fd >= 0)
        close(srv.metrics_fd);
    if (srv.epoll_fd >= 0)
        close(srv.epoll_fd);
    if (srv.signal_fd >= 0)
        close(srv.signal_fd);
    xf_engine_free(srv.ctx.engine);
    xfd_events_done(&srv.ctx.events);
    xfd_store_close(srv.store);
    xf_hv_free(srv.hv);
    if (r < 0)
        xfd_log(XFD_LOG_ERROR, "stopped on an error");
    else
        xfd_log(XFD_LOG_INFO, "stopped");
    return r < 0 ? 1 : 0;
}
