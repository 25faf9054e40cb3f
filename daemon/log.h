/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's log: one line per message on stderr, where systemd's journal
 * picks it up. Lines carry a syslog priority prefix ("<3>" ... "<7>", see
 * sd-daemon(3)) when stderr is the journal, else the level's name.
 */
#ifndef XENFITD_LOG_H
#define XENFITD_LOG_H

#include <stddef.h>

enum xfd_log_level {
    XFD_LOG_ERROR = 3,
    XFD_LOG_WARNING = 4,
    XFD_LOG_INFO = 6,
    XFD_LOG_DEBUG = 7,
};

/* Messages above this level are dropped (default XFD_LOG_INFO). */
void xfd_log_set_level(enum xfd_log_level level);
enum xfd_log_level xfd_log_get_level(void);

/* Parses "error", "warning", "info", "debug". Returns 0, or XF_EINVAL for
 * any other text (*ret unchanged). */
int xfd_log_parse_level(const char *s, enum xfd_log_level *ret);

/*
 * Copies `in` to `out` (at most size - 1 bytes and a NUL) with every control
 * character escaped (\\n, \\r, \\t, \\xNN) and a backslash doubled, so a
 * logged string can neither start a forged line nor pass for an escape.
 * Truncates before an escape that would not fit. Returns the length written.
 */
size_t xfd_log_escape(const char *in, char *out, size_t size);

/* Whether stderr is the journal (JOURNAL_STREAM names it): use prefixes. */
void xfd_log_init(void);

void xfd_log(enum xfd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last XFD_LOG_RECENT lines logged at info or above, for the live page
 * (GET /): the message as logged (escaped), truncated to fit. */
#define XFD_LOG_RECENT 32u
struct xfd_log_event {
    long long wall_s; /* CLOCK_REALTIME seconds */
    enum xfd_log_level level;
    char msg[240];
};

/* Copies up to max of them into out, newest first. Returns how many. */
size_t xfd_log_recent(struct xfd_log_event *out, size_t max);

/* "error", "warning", "info", "debug". */
const char *xfd_log_level_name(enum xfd_log_level level);

#endif
