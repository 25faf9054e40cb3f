/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's pieces that main.c, config.c and loop.c share: the
 * configuration (flags and the key=value file take the same names), and the
 * server the event loop runs.
 */
#ifndef XENFITD_H
#define XENFITD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xenfit/client.h"
#include "log.h"
#include "mswitch.h"
#include "rpc.h"
#include "store.h"
#include "web.h"
#include "xenfit/engine.h"
#include "xenfit/planner.h"

#define XFD_SOCKET_DEFAULT    XFD_CLIENT_SOCKET_DEFAULT
#define XFD_STATE_DIR_DEFAULT "/var/lib/xenfitd"
#define XFD_SOCKET_PATH_MAX   108 /* sizeof(sun_path) */
/* message-switch's socket and squeezed's queue (xen-api e2ee48d6883e:
 * ocaml/xapi-idl/lib/xcp_client.ml, the switch path; memory_interface.ml,
 * queue_name = Xcp_service.common_prefix ^ "memory"). */
#define XFD_MSWITCH_PATH_DEFAULT  "/var/run/message-switch/sock"
#define XFD_MSWITCH_QUEUE_DEFAULT "org.xen.xapi.memory"
#define XFD_MSWITCH_QUEUE_MAX     256

struct xfd_config {
    char backend[8]; /* "sim" or "xen" */
    char host_spec[PATH_MAX];
    char state_dir[PATH_MAX];
    char socket_path[XFD_SOCKET_PATH_MAX];
    unsigned socket_mode;                          /* 0600 */
    char metrics_socket_path[XFD_SOCKET_PATH_MAX]; /* GET /metrics and the page; "": off */
    unsigned metrics_socket_mode;                  /* 0600 */
    enum xfd_log_level log_level;
    uint64_t ttl_s;                 /* --reservation-ttl; 0 never */
    enum xfd_sync sync;             /* --sync normal|full */
    bool fresh_state;               /* --fresh-state: move a damaged state aside */
    size_t max_pending_per_session; /* --max-pending-per-session */
    size_t max_pending;             /* --max-pending */
    size_t max_body;                /* bytes */
    size_t max_header;              /* bytes */
    unsigned client_timeout_ms;     /* a started request must be complete within */
    unsigned idle_timeout_ms;       /* an idle keep-alive connection is closed after */
    unsigned max_clients;
    unsigned sweep_interval_ms;
    enum xf_numa_policy numa_policy;
    bool balloon;                              /* --balloon on|off (default on) */
    unsigned balance_interval_ms;              /* --balance-interval; 0: no idle balance */
    struct xfd_dom0_policy dom0_policy;        /* --dom0-policy (rpc.h) */
    char mswitch_path[XFD_SOCKET_PATH_MAX];    /* --message-switch; "": off */
    char mswitch_queue[XFD_MSWITCH_QUEUE_MAX]; /* --message-switch-queue */
};

/*
 * Fills the configuration from argv (a --config FILE is read first; flags
 * override it). Returns 0 to run, 1 when --help or --version was printed, 2
 * after printing a usage error naming the offending value.
 */
int xfd_config_parse(int argc, char **argv, struct xfd_config *ret);

/* Connections over --max-clients that are answered a readable 503 at once;
 * beyond them, a 503 is sent best-effort and the connection closed. */
#define XFD_REFUSING_MAX 64u
/* Descriptors kept for everything but clients: the state (database, WAL,
 * shared memory), the listening, epoll and signal descriptors, the log,
 * the hypervisor's handles, with room to spare. */
#define XFD_FD_HEADROOM 32u

/*
 * Fits --max-clients to the open-files limit: raises the soft limit towards
 * the hard one as far as max_clients + 2 * XFD_REFUSING_MAX (503 replies and
 * lingering closes) + XFD_FD_HEADROOM
 * needs, and lowers *max_clients if even the hard limit is short (logged).
 * Returns 0, or XF_ERANGE when the limit leaves no room for one client.
 */
int xfd_fit_max_clients(unsigned *max_clients);

/* The server: the event loop's state and what it serves. */
struct xfd_server {
    struct xfd_config cfg;
    struct xf_hv *hv;
    struct xfd_store *store;
    struct xfd_ctx ctx; /* ctx.engine is the engine */
    int listen_fd;
    dev_t socket_dev; /* the socket file bound, removed at exit only if still there */
    ino_t socket_ino;
    int metrics_fd; /* --metrics-socket (web.h); -1: off */
    dev_t metrics_dev;
    ino_t metrics_ino;
    struct xfd_metrics metrics;
    int epoll_fd;
    int signal_fd;
    bool stopping;
    struct xfd_conn *conns;    /* every open connection */
    unsigned nr_conns;         /* ... but those over the limit (at most max_clients) */
    unsigned nr_refusing;      /* over the limit, being told 503 (XFD_REFUSING_MAX) */
    unsigned nr_lingering;     /* done, draining before close (at most XFD_REFUSING_MAX) */
    uint64_t accept_resume_ms; /* accepting paused until then (0: not paused) */
    uint64_t refusal_logged_ms;
    unsigned refusals_unlogged;
    struct xfd_conn *batch; /* connections with replies in this batch */
    bool batch_failed;
    uint64_t next_sweep_ms;
    uint64_t next_balance_ms;
    uint64_t id_salt;
    struct xfd_mswitch *mswitch;   /* --message-switch (mswitch.h); NULL: off */
    struct xfd_buf *mswitch_reply; /* a switch request's reply, held for this round's commit */
};

/* Builds the engine over srv->hv and loads the store into it (also after a
 * failed commit). Returns 0 or a negative error, logged. */
int xfd_server_load(struct xfd_server *srv);

/* Runs the event loop until SIGTERM or SIGINT. Returns 0, or a negative
 * error if the loop itself fails. */
int xfd_serve(struct xfd_server *srv);

/* The clocks: CLOCK_BOOTTIME in ns (the reservations' times: ages that no
 * wall-clock step can change), monotonic ms (the loop's timeouts). */
uint64_t xfd_now_ns(void);
uint64_t xfd_mono_ms(void);

#endif
