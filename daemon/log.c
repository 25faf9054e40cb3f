/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's log (daemon/log.h).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xenfit/error.h"

static enum xfd_log_level current = XFD_LOG_INFO;
static bool journal;
static struct xfd_log_event recent[XFD_LOG_RECENT];
static size_t recent_next, recent_count;
/* The message switch's thread (mswitch.c) logs too: one line at a time,
 * and the recent lines' ring is shared. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

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
    return XF_EINVAL;
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

const char *xfd_log_level_name(enum xfd_log_level level)
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

size_t xfd_log_escape(const char *in, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (size == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        char esc[4];
        size_t n = 0;
        if (*p == '\\') {
            esc[n++] = '\\';
            esc[n++] = '\\';
        } else if (*p == '\n' || *p == '\r' || *p == '\t') {
            esc[n++] = '\\';
            esc[n++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
        } else if (*p < 0x20 || *p == 0x7f) {
            esc[n++] = '\\';
            esc[n++] = 'x';
            esc[n++] = hex[*p >> 4];
            esc[n++] = hex[*p & 15];
        } else {
            esc[n++] = (char)*p;
        }
        if (o + n >= size)
            break; /* truncated whole: never half an escape */
        memcpy(out + o, esc, n);
        o += n;
    }
    out[o] = '\0';
    return o;
}

void xfd_log(enum xfd_log_level level, const char *fmt, ...)
{
    char raw[1024], msg[2048];
    va_list ap;

    if (level > current)
        return;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    /* Whatever a client sent (a method or session name) may be in the
     * message: one message is one line, with no control character that a
     * terminal or a log reader would act on. */
    size_t len = xfd_log_escape(raw, msg, sizeof(msg));
    pthread_mutex_lock(&log_lock);
    if (level <= XFD_LOG_INFO) {
        struct xfd_log_event *ev = &recent[recent_next];
        ev->wall_s = (long long)time(NULL);
        ev->level = level;
        size_t n = len < sizeof(ev->msg) - 1 ? len : sizeof(ev->msg) - 1;
        /* ASCII only: a client's bytes must not make the page's JSON invalid
         * (nor a truncation cut a UTF-8 sequence). */
        for (size_t i = 0; i < n; i++)
            ev->msg[i] = (unsigned char)msg[i] < 0x80 ? msg[i] : '?';
        ev->msg[n] = '\0';
        recent_next = (recent_next + 1) % XFD_LOG_RECENT;
        if (recent_count < XFD_LOG_RECENT)
            recent_count++;
    }
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
                xfd_log_level_name(level), msg);
    }
    pthread_mutex_unlock(&log_lock);
}

size_t xfd_log_recent(struct xfd_log_event *out, size_t max)
{
    pthread_mutex_lock(&log_lock);
    size_t n = recent_count < max ? recent_count : max;
    for (size_t i = 0; i < n; i++)
        out[i] = recent[(recent_next + XFD_LOG_RECENT - 1 - i) % XFD_LOG_RECENT];
    pthread_mutex_unlock(&log_lock);
    return n;
}
