/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The harness of xenfitd's integration tests (tests/daemon/harness.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

int td_init(struct td *d)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->dir, sizeof(d->dir), "/tmp/xfd-test-XXXXXX");
    if (!mkdtemp(d->dir))
        return -1;
    snprintf(d->sock, sizeof(d->sock), "%s/xenfitd.sock", d->dir);
    snprintf(d->state, sizeof(d->state), "%s/state", d->dir);
    snprintf(d->log, sizeof(d->log), "%s/xenfitd.log", d->dir);
    snprintf(d->notify, sizeof(d->notify), "%s/notify", d->dir);
    d->pid = 0;
    return 0;
}

static void print_log(const struct td *d)
{
    char line[512];
    FILE *f = fopen(d->log, "r");
    if (!f)
        return;
    fprintf(stderr, "--- %s ---\n", d->log);
    while (fgets(line, sizeof(line), f))
        fputs(line, stderr);
    fclose(f);
}

/* The sd_notify(3) socket the daemon reports to ($NOTIFY_SOCKET): a Unix
 * datagram socket, as systemd makes for a Type=notify service. */
static int notify_socket(const struct td *d)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->notify);
    (void)unlink(d->notify);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The environment with NOTIFY_SOCKET set to `assignment` (made before fork:
 * the child only execs). */
static char **notify_env(char *assignment)
{
    size_t n = 0, k = 0;
    char **env;
    while (environ[n])
        n++;
    if (!(env = calloc(n + 2, sizeof(*env))))
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "NOTIFY_SOCKET=", 14) != 0)
            env[k++] = environ[i];
    env[k] = assignment;
    return env;
}

/* Whether a notification datagram carries READY=1 (newline-separated
 * assignments, sd_notify(3)). */
static bool says_ready(const char *msg)
{
    for (const char *p = msg; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, "READY=1", 7) == 0 && (p[7] == '\n' || p[7] == '\0'))
            return true;
    return false;
}

int td_start(struct td *d, char *const *extra)
{
    char *argv[40], assignment[160], **env;
    size_t n = 0;
    pid_t pid;
    int nfd;

    argv[n++] = XFD_BINARY;
    argv[n++] = "--backend";
    argv[n++] = "sim";
    argv[n++] = "--host";
    argv[n++] = XF_TEST_DATA "/hosts/daemon-2node.json";
    argv[n++] = "--state-dir";
    argv[n++] = d->state;
    argv[n++] = "--socket";
    argv[n++] = d->sock;
    for (size_t i = 0; extra && extra[i] && n < 38; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    snprintf(assignment, sizeof(assignment), "NOTIFY_SOCKET=%s", d->notify);
    if ((nfd = notify_socket(d)) < 0)
        return -1;
    if (!(env = notify_env(assignment))) {
        close(nfd);
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        close(nfd);
        free(env);
        return -1;
    }
    if (pid == 0) {
        int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        /* A failed assertion ends the test without its teardown: the daemon
         * must not outlive it, nor hold the test's stdout open. */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (d->nofile) {
            struct rlimit rl = {.rlim_cur = d->nofile, .rlim_max = d->nofile};
            if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                _exit(126);
        }
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execve(argv[0], argv, env);
        _exit(127);
    }
    free(env);
    d->pid = pid;
    /* Ready when it says so (READY=1 once it listens), as systemd waits for
     * a Type=notify service: no polling of the socket file. */
    for (int i = 0; i < 100; i++) {
        struct pollfd pfd = {.fd = nfd, .events = POLLIN};
        char msg[256];
        ssize_t len;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            d->pid = 0;
            close(nfd);
            fprintf(stderr, "xenfitd exited at start (status 0x%x)\n", status);
            print_log(d);
            return -1;
        }
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        len = recv(nfd, msg, sizeof(msg) - 1, 0);
        if (len < 0)
            continue;
        msg[len] = '\0';
        if (says_ready(msg)) {
            close(nfd);
            return 0;
        }
    }
    close(nfd);
    fprintf(stderr, "xenfitd did not send READY=1 within 10 s\n");
    print_log(d);
    td_signal(d, SIGKILL);
    return -1;
}

int td_signal(struct td *d, int sig)
{
    int status = 0;
    if (d->pid <= 0)
        return -1;
    kill(d->pid, sig);
    while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
        ;
    d->pid = 0;
    return status;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void td_done(struct td *d)
{
    if (d->pid > 0) {
        int status = td_signal(d, SIGTERM);
        /* A clean stop exits 0; the sanitizers' reports (leaks included)
         * make it fail, and so must the test. */
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "xenfitd did not stop cleanly (status 0x%x)\n", status);
            print_log(d);
            abort();
        }
    }
    if (getenv("XF_TEST_KEEP")) {
        fprintf(stderr, "kept %s\n", d->dir);
        return;
    }
    if (d->dir[0])
        nftw(d->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct xfd_client *td_connect(const struct td *d)
{
    struct xfd_client *c = NULL;
    return xfd_client_connect(d->sock, 5000, &c) == 0 ? c : NULL;
}

int td_call(struct xfd_client *c, json_t **ret, const char *method, const char *fmt, ...)
{
    json_error_t err;
    json_t *params, *result = NULL, *error = NULL;
    va_list ap;
    int r;

    va_start(ap, fmt);
    params = json_vpack_ex(&err, 0, fmt, ap);
    va_end(ap);
    if (!params) {
        fprintf(stderr, "td_call: bad pack format: %s\n", err.text);
        return -EINVAL;
    }
    r = xfd_client_call(c, method, params, &result, &error);
    if (r == 0)
        *ret = result;
    else if (r == 1)
        *ret = error;
    return r;
}

int td_raw(const struct td *d, const void *data, size_t len, char **ret_body)
{
    struct xfd_client *c = td_connect(d);
    size_t blen;
    int status, r;
    if (!c)
        return -ECONNREFUSED;
    r = xfd_client_raw(c, data, len, &status, ret_body, &blen);
    xfd_client_close(c);
    return r < 0 ? r : status;
}

int td_advance(struct xfd_client *c, long ms)
{
    json_t *r = NULL;
    int rc = td_call(c, &r, "xenfit.sim_advance_time", "[sI]", "t", (json_int_t)ms);
    json_decref(r);
    return rc == 0 ? 0 : rc < 0 ? rc : -EINVAL;
}

char *td_text(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

bool td_is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx";
    if (!s || strlen(s) != sizeof(shape) - 1)
        return false;
    for (size_t i = 0; shape[i]; i++) {
        char c = s[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        if ((shape[i] == '-' && c != '-') || (shape[i] == 'x' && !hex) ||
            (shape[i] == '4' && c != '4') ||
            (shape[i] == 'V' && c != '8' && c != '9' && c != 'a' && c != 'b'))
            return false;
    }
    return true;
}
