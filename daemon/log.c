/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's log (daemon/log.h).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum xfd_log_level current = XFD_LOG_INFO;
static bool journal;

void xfd_log_set_level(enum xfd_log_level level)
{
    current = level;
}

enum xfd_log_level xfd_log_get_level(void)
{
    return current;
}

int xfd_log_parse_level(const char *s, enum xfd_log_level *ret)
{
    static const struct {
        const char *name;
        enum xfd_log_level level;
    } names[] = {{"error", XFD_LOG_ERROR},
                 {"warning", XFD_LOG_WARNING},
                 {"info", XFD_LOG_INFO},
                 {"debug", XFD_LOG_DEBUG}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0) {
            *ret = names[i].level;
            return 0;
        }
    return -1;
}

void xfd_log_init(void)
{
    /* systemd sets JOURNAL_STREAM=device:inode of the stream it connected
     * to stderr (systemd.exec(5)): then the journal adds the time itself. */
    const char *js = getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev, ino;
    /* NOLINTNEXTLINE(cert-err34-c): a value sscanf got wrong only fails the match */
    if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0)
        journal = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static const char *level_name(enum xfd_log_level level)
{
    switch (level) {
    case XFD_LOG_ERROR:
        return "error";
    case XFD_LOG_WARNING:
        return "warning";
    case XFD_LOG_INFO:
        return "info";
    case XFD_LOG_DEBUG:
        return "debug";
    }
    return "?";
}

void xfd_log(enum xfd_log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (level > current)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (journal) {
        fprintf(stderr, "<%d>%s\n", (int)level, msg);
    } else {
        struct timespec ts;
        struct tm tm;
        char when[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ld xenfitd[%d] %s: %s\n", when, ts.tv_nsec / 1000000L, (int)getpid(),
                level_name(level), msg);
    }
}
