/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's configuration: defaults, the key=value file (--config) and the
 * command-line flags, which take the same names (docs/daemon.md, OPTIONS).
 * A value that cannot be used is refused naming the flag or the file and
 * line, with exit status 2. A --config file that does not exist means the
 * defaults (said on stderr); one that cannot be read is an error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xenfit/units.h"
#include "xenfitd.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: xenfitd [--backend sim|xen] [--host SPEC.json] [--state-dir DIR]\n"
            "               [--socket PATH] [--config FILE] [--log-level LEVEL]\n"
            "               [--reservation-ttl SECONDS] [OPTIONS]\n\n"
            "The xenfit host memory daemon: squeezed's protocol, JSON-RPC or XML-RPC (and\n"
            "xenfit's own methods), over HTTP on a Unix socket, with a durable ledger.\n"
            "Runs in the foreground. See xenfitd(8) and docs/daemon.md.\n\n"
            "  --backend sim|xen        hypervisor backend (default sim; xen only in builds\n"
            "                           with libxenctrl, in dom0 as root)\n"
            "  --host SPEC.json         the simulated host (docs/host-spec.md); needed by sim\n"
            "  --state-dir DIR          durable state (default " XFD_STATE_DIR_DEFAULT ")\n"
            "  --socket PATH            the Unix socket (default " XFD_SOCKET_DEFAULT ");\n"
            "                           squeezed's is /var/xapi/memory (XML-RPC, which\n"
            "                           xenopsd sends without the message switch)\n"
            "  --socket-mode OCTAL      its permissions (default 0600)\n"
            "  --metrics-socket PATH    serve GET /metrics (Prometheus) and the live page\n"
            "                           (GET /) on a second Unix socket (default: off)\n"
            "  --metrics-socket-mode OCTAL  its permissions (default 0600)\n"
            "  --config FILE            key=value lines with the flags' names (no dashes)\n"
            "  --log-level LEVEL        error, warning, info (default) or debug\n"
            "  --reservation-ttl S      untransferred reservations expire after S seconds\n"
            "                           (default 600; 0 never)\n"
            "  --sync normal|full       SQLite synchronous mode (default normal: survives a\n"
            "                           crash of xenfitd; full also survives power loss)\n"
            "  --numa-policy P          any, best_effort (default), best_effort_hard,\n"
            "                           prio_mem_only\n"
            "  --max-body BYTES         largest request body (default 65536)\n"
            "  --client-timeout MS      a request must arrive within (default 10000)\n"
            "  --idle-timeout MS        idle connections are closed after (default 60000)\n"
            "  --max-clients N          open connections at most (default 1024)\n"
            "  --sweep-interval MS      expiry and domain checks every (default 1000)\n"
            "  --balloon on|off         squeeze balloonable domains as squeezed does\n"
            "                           (default on)\n"
            "  --balance-interval MS    balance idle memory every (default 10000, squeezed's\n"
            "                           balance-check-interval; 0 never)\n"
            "  --max-pending-per-session N  untransferred reservations a session may hold\n"
            "                           (default 10000; 0 no limit)\n"
            "  --max-pending N          untransferred reservations in all (default 100000;\n"
            "                           0 no limit)\n"
            "  --dom0-policy P          what get_domain_zero_policy answers: fixed (default,\n"
            "                           as squeezed's: dom0's memory), auto (1 GiB to dom0's\n"
            "                           memory) or auto:MIN-MAX (bytes, or with a unit such\n"
            "                           as 2GiB; MAX may be auto); xenfitd never balloons dom0\n"
            "  --message-switch[=PATH]  also serve squeezed's queue on message-switch (what\n"
            "                           xenopsd uses by default) at PATH (default\n"
            "                           " XFD_MSWITCH_PATH_DEFAULT "; off unless given)\n"
            "  --message-switch-queue Q the queue (default " XFD_MSWITCH_QUEUE_DEFAULT ")\n"
            "  --fresh-state            if the state is found damaged, move it aside\n"
            "                           (*.damaged-TIME) and start empty; without it a\n"
            "                           damaged state stops xenfitd (command line only)\n"
            "  --help, --version\n");
}

static void defaults(struct xfd_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->backend, sizeof(c->backend), "sim");
    snprintf(c->state_dir, sizeof(c->state_dir), "%s", XFD_STATE_DIR_DEFAULT);
    snprintf(c->socket_path, sizeof(c->socket_path), "%s", XFD_SOCKET_DEFAULT);
    c->socket_mode = 0600;
    c->metrics_socket_mode = 0600;
    c->log_level = XFD_LOG_INFO;
    c->ttl_s = 600;
    c->sync = XFD_SYNC_NORMAL;
    c->max_body = 64 * 1024;
    c->max_header = 8192;
    c->client_timeout_ms = 10000;
    c->idle_timeout_ms = 60000;
    c->max_clients = 1024;
    c->sweep_interval_ms = 1000;
    c->balloon = true;
    c->balance_interval_ms = 10000; /* squeezed.ml balance_check_interval = 10. */
    c->max_pending_per_session = XF_ENGINE_MAX_PENDING_PER_OWNER_DEFAULT;
    c->max_pending = XF_ENGINE_MAX_PENDING_DEFAULT;
    c->numa_policy = XF_NUMA_POLICY_BEST_EFFORT;
    c->dom0_policy.kind = XFD_DOM0_FIXED;
    c->dom0_policy.min_bytes = XFD_DOM0_MIN_DEFAULT_BYTES;
    snprintf(c->mswitch_queue, sizeof(c->mswitch_queue), "%s", XFD_MSWITCH_QUEUE_DEFAULT);
}

/* A queue name as it goes into message-switch's URLs (/persistent/NAME,
 * /ack/NAME/N): xapi's are dotted names (org.xen.xapi.memory); '/' or '%'
 * or a blank would change the path, so they are refused rather than
 * escaped. */
static bool queue_name_ok(const char *v)
{
    if (!*v || strlen(v) >= XFD_MSWITCH_QUEUE_MAX)
        return false;
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == '_' || *p == ':'))
            return false;
    return true;
}

static int bad(const char *where, const char *name, const char *value, const char *what)
{
    fprintf(stderr, "xenfitd: %s%s '%s': %s\n", where, name, value, what);
    return 2;
}

static int uint_in(const char *where, const char *name, const char *v, uint64_t min, uint64_t max,
                   uint64_t *ret)
{
    char what[96];
    if (xf_parse_u64(v, ret) == 0 && *ret >= min && *ret <= max)
        return 0;
    snprintf(what, sizeof(what), "expected an integer in %llu..%llu", (unsigned long long)min,
             (unsigned long long)max);
    return bad(where, name, v, what);
}

static int copy(const char *where, const char *name, const char *v, char *dst, size_t n)
{
    if (!*v || strlen(v) >= n)
        return bad(where, name, v, "empty or too long");
    snprintf(dst, n, "%s", v);
    return 0;
}

/* Sets one option by name (without dashes). `where` is "--" or "FILE:LINE: ". */
static int set(struct xfd_config *c, const char *where, const char *name, const char *v)
{
    uint64_t x;
    int r;

    if (strcmp(name, "backend") == 0) {
        if (strcmp(v, "sim") != 0 && strcmp(v, "xen") != 0)
            return bad(where, name, v, "expected sim or xen");
        snprintf(c->backend, sizeof(c->backend), "%s", v);
    } else if (strcmp(name, "host") == 0) {
        return copy(where, name, v, c->host_spec, sizeof(c->host_spec));
    } else if (strcmp(name, "state-dir") == 0) {
        return copy(where, name, v, c->state_dir, sizeof(c->state_dir));
    } else if (strcmp(name, "socket") == 0) {
        return copy(where, name, v, c->socket_path, sizeof(c->socket_path));
    } else if (strcmp(name, "metrics-socket") == 0) {
        return copy(where, name, v, c->metrics_socket_path, sizeof(c->metrics_socket_path));
    } else if (strcmp(name, "socket-mode") == 0 || strcmp(name, "metrics-socket-mode") == 0) {
        char *end;
        unsigned long m = strtoul(v, &end, 8);
        if (!*v || *v == '-' || *end || m > 0777)
            return bad(where, name, v, "expected an octal mode such as 0600");
        *(name[0] == 'm' ? &c->metrics_socket_mode : &c->socket_mode) = (unsigned)m;
    } else if (strcmp(name, "log-level") == 0) {
        if (xfd_log_parse_level(v, &c->log_level) < 0)
            return bad(where, name, v, "expected error, warning, info or debug");
    } else if (strcmp(name, "reservation-ttl") == 0) {
        if ((r = uint_in(where, name, v, 0, UINT64_C(1) << 32, &c->ttl_s)))
            return r;
    } else if (strcmp(name, "sync") == 0) {
        if (strcmp(v, "normal") == 0)
            c->sync = XFD_SYNC_NORMAL;
        else if (strcmp(v, "full") == 0)
            c->sync = XFD_SYNC_FULL;
        else
            return bad(where, name, v, "expected normal or full");
    } else if (strcmp(name, "numa-policy") == 0) {
        if (xf_numa_policy_parse(v, &c->numa_policy) < 0)
            return bad(where, name, v,
                       "expected any, best_effort, best_effort_hard or prio_mem_only");
    } else if (strcmp(name, "dom0-policy") == 0) {
        char why[160];
        if (xfd_dom0_policy_parse(v, &c->dom0_policy, why, sizeof(why)) < 0)
            return bad(where, name, v, why);
    } else if (strcmp(name, "message-switch") == 0) {
        /* The flag alone means the default path; the file says a path or off. */
        if (strcmp(v, "off") == 0)
            c->mswitch_path[0] = '\0';
        else if (v[0] != '/')
            return bad(where, name, v, "expected an absolute path to the switch's socket, or off");
        else
            return copy(where, name, v, c->mswitch_path, sizeof(c->mswitch_path));
    } else if (strcmp(name, "message-switch-queue") == 0) {
        if (!queue_name_ok(v))
            return bad(where, name, v,
                       "expected a queue name of letters, digits, '.', '-', '_' or ':' (at most "
                       "255)");
        snprintf(c->mswitch_queue, sizeof(c->mswitch_queue), "%s", v);
    } else if (strcmp(name, "max-body") == 0) {
        if ((r = uint_in(where, name, v, 64, 64u << 20, &x)))
            return r;
        c->max_body = (size_t)x;
    } else if (strcmp(name, "client-timeout") == 0) {
        if ((r = uint_in(where, name, v, 10, 3600000, &x)))
            return r;
        c->client_timeout_ms = (unsigned)x;
    } else if (strcmp(name, "idle-timeout") == 0) {
        if ((r = uint_in(where, name, v, 10, 86400000, &x)))
            return r;
        c->idle_timeout_ms = (unsigned)x;
    } else if (strcmp(name, "max-clients") == 0) {
        if ((r = uint_in(where, name, v, 1, 65536, &x)))
            return r;
        c->max_clients = (unsigned)x;
    } else if (strcmp(name, "max-pending-per-session") == 0) {
        if ((r = uint_in(where, name, v, 0, 1000000, &x)))
            return r;
        c->max_pending_per_session = (size_t)x;
    } else if (strcmp(name, "max-pending") == 0) {
        if ((r = uint_in(where, name, v, 0, 1000000, &x)))
            return r;
        c->max_pending = (size_t)x;
    } else if (strcmp(name, "balloon") == 0) {
        if (strcmp(v, "on") == 0)
            c->balloon = true;
        else if (strcmp(v, "off") == 0)
            c->balloon = false;
        else
            return bad(where, name, v, "must be on or off");
    } else if (strcmp(name, "balance-interval") == 0) {
        if ((r = uint_in(where, name, v, 0, 3600000, &x)))
            return r;
        c->balance_interval_ms = (unsigned)x;
    } else if (strcmp(name, "sweep-interval") == 0) {
        if ((r = uint_in(where, name, v, 10, 3600000, &x)))
            return r;
        c->sweep_interval_ms = (unsigned)x;
    } else {
        fprintf(stderr, "xenfitd: %sunknown option '%s' (see xenfitd --help)\n",
                where[0] == '-' ? "" : where, name);
        return 2;
    }
    return 0;
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int read_file(struct xfd_config *c, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[PATH_MAX + 64], where[PATH_MAX + 32];
    unsigned n = 0;
    struct stat st;
    int r = 0, err;

    if (!f && errno == ENOENT) {
        /* The shipped unit names the config; an operator who deleted it (or
         * never installed one) gets the defaults, not a unit that exits 2
         * and is restarted forever. Said on stderr, where the journal is. */
        fprintf(stderr, "xenfitd: --config '%s' does not exist: using the defaults\n", path);
        return 0;
    }
    err = f ? 0 : errno;
    if (f && fstat(fileno(f), &st) < 0)
        err = errno;
    else if (f && S_ISDIR(st.st_mode))
        err = EISDIR; /* fopen() opens a directory for reading; only reads fail */
    if (err) {
        fprintf(stderr, "xenfitd: --config '%s': cannot open it: %s\n", path, strerror(err));
        if (f)
            fclose(f);
        return 2;
    }
    while (r == 0 && fgets(line, sizeof(line), f)) {
        char *s = trim(line), *eq;
        n++;
        if (!*s || *s == '#')
            continue;
        snprintf(where, sizeof(where), "%s:%u: ", path, n);
        eq = strchr(s, '=');
        if (!eq) {
            fprintf(stderr, "xenfitd: %sexpected key=value\n", where);
            r = 2;
            break;
        }
        *eq = '\0';
        /* A comment after the value, as in the shipped xenfitd.conf: from a
         * '#' that follows a blank. */
        for (char *h = eq + 1; (h = strchr(h, '#')); h++)
            if (h[-1] == ' ' || h[-1] == '\t') {
                *h = '\0';
                break;
            }
        r = set(c, where, trim(s), trim(eq + 1));
    }
    if (r == 0 && ferror(f)) {
        fprintf(stderr, "xenfitd: --config '%s': reading it failed\n", path);
        r = 2;
    }
    fclose(f);
    return r;
}

static const struct option options[] = {
    {"backend", required_argument, NULL, 0},
    {"host", required_argument, NULL, 0},
    {"state-dir", required_argument, NULL, 0},
    {"socket", required_argument, NULL, 0},
    {"socket-mode", required_argument, NULL, 0},
    {"metrics-socket", required_argument, NULL, 0},
    {"metrics-socket-mode", required_argument, NULL, 0},
    {"config", required_argument, NULL, 0},
    {"log-level", required_argument, NULL, 0},
    {"reservation-ttl", required_argument, NULL, 0},
    {"sync", required_argument, NULL, 0},
    {"numa-policy", required_argument, NULL, 0},
    {"max-body", required_argument, NULL, 0},
    {"client-timeout", required_argument, NULL, 0},
    {"idle-timeout", required_argument, NULL, 0},
    {"max-clients", required_argument, NULL, 0},
    {"sweep-interval", required_argument, NULL, 0},
    {"balloon", required_argument, NULL, 0},
    {"balance-interval", required_argument, NULL, 0},
    {"max-pending-per-session", required_argument, NULL, 0},
    {"max-pending", required_argument, NULL, 0},
    {"dom0-policy", required_argument, NULL, 0},
    {"message-switch", optional_argument, NULL, 'M'},
    {"message-switch-queue", required_argument, NULL, 0},
    {"fresh-state", no_argument, NULL, 'F'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

int xfd_config_parse(int argc, char **argv, struct xfd_config *ret)
{
    struct xfd_config c;
    int opt, idx, r;

    defaults(&c);
    /* The file first, whatever its place among the flags: flags override it. */
    for (int i = 1; i < argc; i++) {
        r = 0;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            r = read_file(&c, argv[i + 1]);
        else if (strncmp(argv[i], "--config=", 9) == 0)
            r = read_file(&c, argv[i] + 9);
        if (r)
            return r;
    }
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "hV", options, &idx)) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout);
            return 1;
        case 'V':
            printf("xenfitd %s\n", XENFIT_VERSION);
            return 1;
        case 'F':
            c.fresh_state = true;
            break;
        case 'M':
            if ((r = set(&c, "--", "message-switch", optarg ? optarg : XFD_MSWITCH_PATH_DEFAULT)))
                return r;
            break;
        case 0:
            if (strcmp(options[idx].name, "config") == 0)
                break;
            if ((r = set(&c, "--", options[idx].name, optarg ? optarg : "")))
                return r;
            break;
        default:
            fprintf(stderr, "xenfitd: unknown option or missing value: '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "xenfitd: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (c.metrics_socket_path[0] && strcmp(c.metrics_socket_path, c.socket_path) == 0) {
        fprintf(stderr, "xenfitd: --metrics-socket '%s': the same path as --socket\n",
                c.metrics_socket_path);
        return 2;
    }
    if (strcmp(c.backend, "sim") == 0 && !c.host_spec[0]) {
        fprintf(stderr, "xenfitd: the sim backend needs --host SPEC.json\n");
        return 2;
    }
    *ret = c;
    return 0;
}
