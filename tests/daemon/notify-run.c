/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * notify-run: starts a Type=notify service the way systemd does, for the
 * shell tests (the C tests use harness.c). It binds a Unix datagram socket
 * at SOCKET, runs PROGRAM with NOTIFY_SOCKET naming it and waits for
 * READY=1 (sd_notify(3)); then writes "READY=1" and a newline on its
 * stdout and closes it, so that a script reading a FIFO knows the service
 * is up without polling. It stays PROGRAM's parent: SIGTERM and SIGINT are
 * passed on, and it exits with PROGRAM's status (128 + the signal if one
 * ended it). PROGRAM's stdout goes to notify-run's stderr.
 *
 *   notify-run SOCKET PROGRAM [ARG...]
 *
 * Exits 1 without writing READY=1 if PROGRAM ends or stays silent for 10 s
 * (then it is killed).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t child;

static void pass_on(int sig)
{
    if (child > 0)
        kill((pid_t)child, sig);
}

static bool says_ready(const char *msg)
{
    for (const char *p = msg; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, "READY=1", 7) == 0 && (p[7] == '\n' || p[7] == '\0'))
            return true;
    return false;
}

static int exit_status(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct sigaction act = {.sa_handler = pass_on};
    int fd, status;
    pid_t pid;

    if (argc < 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "usage: notify-run SOCKET PROGRAM [ARG...]\n");
        return 2;
    }
    memcpy(sa.sun_path, argv[1], strlen(argv[1]));
    (void)unlink(argv[1]);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        setenv("NOTIFY_SOCKET", argv[1], 1) < 0) {
        perror("notify-run: the notify socket");
        return 1;
    }
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    pid = fork();
    if (pid < 0) {
        perror("notify-run: fork");
        return 1;
    }
    if (pid == 0) {
        dup2(STDERR_FILENO, STDOUT_FILENO); /* not the caller's FIFO */
        execv(argv[2], argv + 2);
        perror("notify-run: exec");
        _exit(127);
    }
    child = pid;
    for (int i = 0; i < 100; i++) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        char msg[256];
        ssize_t len;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "notify-run: %s ended before READY=1\n", argv[2]);
            return 1;
        }
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        if ((len = recv(fd, msg, sizeof(msg) - 1, 0)) < 0)
            continue;
        msg[len] = '\0';
        if (says_ready(msg)) {
            close(fd);
            printf("READY=1\n");
            fclose(stdout);
            while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                    return 1;
            return exit_status(status);
        }
    }
    fprintf(stderr, "notify-run: %s sent no READY=1 within 10 s\n", argv[2]);
    kill(pid, SIGKILL);
    (void)waitpid(pid, &status, 0);
    return 1;
}
