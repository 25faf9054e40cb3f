/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The harness of xenfitd's integration tests: runs the real xenfitd binary
 * (XFD_BINARY) with the simulator on tests/data/hosts/daemon-2node.json, a
 * temporary socket and a temporary state directory, and talks to it with
 * the shared client (include/xenfit/client.h).
 *
 * The test host, worked out from its spec (and checked by `xenfit host
 * show`): free 15296 MiB = 3915776 pages; the low-memory limit 64 MiB;
 * free for new VMs 15232 MiB = 15597568 KiB; per node, node 0 8128 MiB
 * free less its 256 MiB DMA zone = 7872 MiB, node 1 8192 - 1024 (dom0) =
 * 7168 MiB. The initial free memory is free + dom0 = 16320 MiB.
 */
#ifndef XENFIT_TEST_DAEMON_HARNESS_H
#define XENFIT_TEST_DAEMON_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "xenfit/client.h"

#define TD_HOST_FREE_KIB  UINT64_C(15597568)    /* 15232 MiB */
#define TD_NODE0_FREE_KIB UINT64_C(8060928)     /* 7872 MiB */
#define TD_NODE1_FREE_KIB UINT64_C(7340032)     /* 7168 MiB */
#define TD_INITIAL_FREE_B UINT64_C(17112760320) /* 16320 MiB */
#define TD_DOM0_BYTES     UINT64_C(1073741824)

struct td {
    char dir[64];
    char sock[128];
    char state[128];
    char log[128];
    char notify[96]; /* the sd_notify socket ($NOTIFY_SOCKET) */
    pid_t pid;
    unsigned long nofile; /* when set, the daemon's open-files limit (soft and hard) */
};

/* Makes the temporary directory. Returns 0 or -1. */
int td_init(struct td *d);

/* Starts xenfitd (extra: NULL-terminated flags, may be NULL) and waits up to
 * 10 s for its READY=1 on a notify socket of the test's (sd_notify(3),
 * $NOTIFY_SOCKET). Returns 0, or -1 (the log is printed). */
int td_start(struct td *d, char *const *extra);

/* Sends a signal and reaps the daemon. Returns its wait status. */
int td_signal(struct td *d, int sig);

/* Stops a running daemon (aborting the test if it does not exit 0: the
 * sanitizers' reports count) and removes the directory. */
void td_done(struct td *d);

/* A new client connection (5 s timeouts), NULL on failure. */
struct xfd_client *td_connect(const struct td *d);

/* Calls a method: params is a json_pack() format for the params array and
 * its values. Returns 0 and *ret_result, 1 and *ret_error, or -errno. */
int td_call(struct xfd_client *c, json_t **ret, const char *method, const char *fmt, ...);

/* Sends raw bytes on a fresh connection and reads one response.
 * Returns the HTTP status (body in *ret_body, free it) or -errno. */
int td_raw(const struct td *d, const void *data, size_t len, char **ret_body);

/* Moves the daemon's clocks `ms` ahead (xenfit.sim_advance_time): the
 * time a TTL or a timeout needs passes at once. The connection itself ages
 * too: one idle for longer than --idle-timeout is then closed. Returns 0 or
 * a negative error. */
int td_advance(struct xfd_client *c, long ms);

/* The compact JSON text of a value (free it). */
char *td_text(const json_t *v);

/* Whether s looks like the daemon's reservation ids (a UUID). */
bool td_is_uuid(const char *s);

#endif
