/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * `xenfit top`: xenfitd's live view in a terminal, redrawn every second with
 * curses: a bar per NUMA node (used, claimed, reserved but not yet held,
 * free, free in the DMA zone), the host's totals and the reservations. The
 * same numbers as xenfitd's live page (docs/daemon.md, "Metrics and the live
 * page"), read from the control socket with xenfit.host_status and
 * xenfit.list_reservations. `--once` prints one frame as plain text (for
 * scripts and tests). Sizes in MiB.
 */
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "xenfit/client.h"

#define DBG       "xenfit-top"
#define BAR_WIDTH 50
#define MAX_LINES 200
#define LINE_MAX_ 160

/* A frame: lines of text; bar cells are these characters (coloured by curses). */
enum { CELL_USED = '#', CELL_CLAIMED = 'c', CELL_RESERVED = 'r', CELL_FREE = '.', CELL_DMA = 'd' };

struct frame {
    char lines[MAX_LINES][LINE_MAX_];
    int n;
};

__attribute__((format(printf, 2, 3))) static void add(struct frame *f, const char *fmt, ...)
{
    va_list ap;
    if (f->n >= MAX_LINES)
        return;
    va_start(ap, fmt);
    vsnprintf(f->lines[f->n++], LINE_MAX_, fmt, ap);
    va_end(ap);
}

static long long num(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

/* One call on a fresh connection. Returns 0 and *ret, or writes why. */
static int call(const char *path, const char *method, json_t **ret, char *why, size_t size)
{
    struct xfd_client *c = NULL;
    json_t *error = NULL;
    int r = xfd_client_connect(path, 5000, &c);

    if (r < 0) {
        snprintf(why, size, "cannot reach xenfitd at '%s': %s", path, strerror(-r));
        return r;
    }
    r = xfd_client_call(c, method, json_pack("[s]", DBG), ret, &error);
    xfd_client_close(c);
    if (r == 1) {
        char *text = xfd_client_error_text(error);
        snprintf(why, size, "%s: %s", method, text ? text : "error");
        free(text);
        json_decref(error);
        return -EPROTO;
    }
    if (r < 0)
        snprintf(why, size, "xenfitd at '%s': %s", path, strerror(-r));
    return r;
}

static void bar(char *out, long long size, const long long parts[5])
{
    static const char cells[5] = {CELL_USED, CELL_CLAIMED, CELL_RESERVED, CELL_FREE, CELL_DMA};
    int at = 0;
    for (int i = 0; i < 5; i++) {
        int w = size > 0 && parts[i] > 0 ? (int)((parts[i] * BAR_WIDTH + size / 2) / size) : 0;
        for (int k = 0; k < w && at < BAR_WIDTH; k++)
            out[at++] = cells[i];
    }
    while (at < BAR_WIDTH)
        out[at++] = ' ';
    out[at] = '\0';
}

/* Reads the daemon and lays out a frame. Returns 0, or writes why. */
static int build(const char *path, struct frame *f, char *why, size_t size)
{
    json_t *st = NULL, *list = NULL, *n, *v;
    size_t i;
    char when[16];
    time_t now = time(NULL);
    struct tm tm;

    if (call(path, "xenfit.host_status", &st, why, size) < 0 ||
        call(path, "xenfit.list_reservations", &list, why, size) < 0) {
        json_decref(st);
        return -1;
    }
    localtime_r(&now, &tm);
    strftime(when, sizeof(when), "%H:%M:%S", &tm);
    f->n = 0;
    add(f, "xenfit top - %s (backend %s) - %s - q quits",
        json_string_value(json_object_get(st, "host")),
        json_string_value(json_object_get(st, "backend")), when);
    add(f,
        "host: %lld MiB, %lld free, %lld for new VMs; reservations %lld pending, %lld "
        "transferred, %lld settled",
        num(st, "total_mib"), num(st, "free_mib"), num(st, "free_for_new_vm_kib") / 1024,
        num(json_object_get(st, "reservations"), "pending"),
        num(json_object_get(st, "reservations"), "transferred"),
        num(json_object_get(st, "reservations"), "settled"));
    add(f, "%s", "");
    json_array_foreach(json_object_get(st, "nodes"), i, n)
    {
        long long memsize = num(n, "memsize_mib"), memfree = num(n, "memfree_mib");
        long long claimed = num(n, "claimed_mib"), pending = num(n, "pending_kib") / 1024;
        long long free_ = memfree - claimed - pending, dma = num(n, "dma_free_mib");
        long long parts[5];
        char cells[BAR_WIDTH + 1];
        if (free_ < 0)
            free_ = 0;
        if (dma > free_)
            dma = free_;
        parts[0] = memsize - memfree;
        parts[1] = claimed;
        parts[2] = pending;
        parts[3] = free_ - dma;
        parts[4] = dma;
        bar(cells, memsize, parts);
        add(f, "node %lld [%s] %lld MiB", num(n, "node"), cells, memsize);
        add(f,
            "  used %lld, claimed %lld, reserved %lld (not yet held %lld), free %lld, DMA "
            "zone %lld; %lld for a new VM",
            parts[0], claimed, num(n, "placed_kib") / 1024, pending, memfree, dma,
            num(n, "free_for_new_vm_kib") / 1024);
    }
    add(f, "legend: %c used  %c claimed  %c reserved, not yet held  %c free  %c DMA zone",
        CELL_USED, CELL_CLAIMED, CELL_RESERVED, CELL_FREE, CELL_DMA);
    add(f, "%s", "");
    add(f, "%zu reservation%s", json_array_size(list), json_array_size(list) == 1 ? "" : "s");
    if (json_array_size(list))
        add(f, "%-36s  %-14s %-9s %-11s %6s %8s  %s", "id", "session", "kind", "state", "domain",
            "MiB", "nodes");
    json_array_foreach(list, i, v)
    {
        const json_t *nodes = json_object_get(v, "nodes"), *x;
        const json_t *domid = json_object_get(v, "domid");
        char dom[16] = "-", where[64] = "";
        size_t k, len = 0;
        if (json_is_integer(domid))
            snprintf(dom, sizeof(dom), "%lld", (long long)json_integer_value(domid));
        json_array_foreach(nodes, k, x)
        {
            int w = snprintf(where + len, sizeof(where) - len, "%s%lld", k ? "," : "",
                             (long long)json_integer_value(x));
            if (w < 0 || (size_t)w >= sizeof(where) - len)
                break;
            len += (size_t)w;
        }
        add(f, "%-36s  %-14.14s %-9s %-11s %6s %8lld  %s",
            json_string_value(json_object_get(v, "reservation_id")),
            json_string_value(json_object_get(v, "session")),
            json_string_value(json_object_get(v, "kind")),
            json_string_value(json_object_get(v, "state")), dom, num(v, "kib") / 1024,
            len ? where : "-");
    }
    json_decref(st);
    json_decref(list);
    return 0;
}

static short cell_color(char c)
{
    switch (c) {
    case CELL_USED:
        return 1;
    case CELL_CLAIMED:
        return 2;
    case CELL_RESERVED:
        return 3;
    case CELL_FREE:
        return 4;
    case CELL_DMA:
        return 5;
    }
    return 0;
}

static void draw(const struct frame *f, const char *why)
{
    int rows = LINES, cols = COLS;
    erase();
    for (int i = 0; i < f->n && i < rows - 1; i++) {
        const char *s = f->lines[i], *open = strchr(s, '[');
        bool is_bar = strncmp(s, "node ", 5) == 0 && open;
        for (int x = 0; s[x] && x < cols; x++) {
            bool in_bar = is_bar && s + x > open && s + x <= open + BAR_WIDTH;
            short pair = in_bar ? cell_color(s[x]) : 0;
            if (pair && has_colors())
                attron(COLOR_PAIR(pair));
            mvaddch(i, x, (chtype)(unsigned char)(pair && has_colors() ? ' ' : s[x]));
            if (pair && has_colors())
                attroff(COLOR_PAIR(pair));
        }
    }
    if (why)
        mvaddnstr(rows - 1, 0, why, cols);
    refresh();
}

static int run_curses(const char *path)
{
    struct frame *f = calloc(1, sizeof(*f));
    char why[300];
    int ch;

    if (!f)
        return xf_cli_failure("top", "out of memory");
    if (!initscr()) {
        free(f);
        return xf_cli_failure("top", "cannot start curses (is TERM set?)");
    }
    cbreak();
    noecho();
    curs_set(0);
    timeout(1000);
    if (has_colors()) {
        start_color();
        init_pair(1, COLOR_BLACK, COLOR_RED);
        init_pair(2, COLOR_BLACK, COLOR_YELLOW);
        init_pair(3, COLOR_BLACK, COLOR_MAGENTA);
        init_pair(4, COLOR_BLACK, COLOR_GREEN);
        init_pair(5, COLOR_BLACK, COLOR_CYAN);
    }
    do {
        /* A daemon that went away: the last frame stays, with why. */
        draw(f, build(path, f, why, sizeof(why)) == 0 ? NULL : why);
        ch = getch();
    } while (ch != 'q' && ch != 'Q');
    endwin();
    free(f);
    return XF_EXIT_OK;
}

void xf_usage_top(void)
{
    printf("Usage: xenfit top [--socket PATH] [--once]\n\n"
           "xenfitd's live view, redrawn every second (q quits): a bar per NUMA node\n"
           "(%c used, %c claimed, %c reserved but not yet held, %c free, %c free in the DMA\n"
           "zone), the host's totals and the reservations. Sizes in MiB.\n\n"
           "  --socket PATH   xenfitd's socket (default $XENFITD_SOCKET or %s)\n"
           "  --once          print one frame as text and exit\n",
           CELL_USED, CELL_CLAIMED, CELL_RESERVED, CELL_FREE, CELL_DMA, XFD_CLIENT_SOCKET_DEFAULT);
}

int xf_cmd_top(int argc, char **argv)
{
    enum { OPT_SOCKET = 300, OPT_ONCE };
    static const struct option opts[] = {{"socket", required_argument, NULL, OPT_SOCKET},
                                         {"once", no_argument, NULL, OPT_ONCE},
                                         {NULL, 0, NULL, 0}};
    const char *env = getenv("XENFITD_SOCKET");
    const char *path = env && *env ? env : XFD_CLIENT_SOCKET_DEFAULT;
    bool once = false;
    struct frame *f;
    char why[300];
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == OPT_SOCKET)
            path = optarg;
        else if (c == OPT_ONCE)
            once = true;
        else
            return xf_cli_bad_option("top", argc, argv);
    }
    if (optind < argc)
        return xf_cli_usage_error("top", "unexpected argument '%s'", argv[optind]);
    if (!once)
        return run_curses(path);
    if (!(f = calloc(1, sizeof(*f))))
        return xf_cli_failure("top", "out of memory");
    if (build(path, f, why, sizeof(why)) < 0) {
        free(f);
        return xf_cli_failure("top", "%s", why);
    }
    for (int i = 0; i < f->n; i++)
        puts(f->lines[i]);
    free(f);
    return XF_EXIT_OK;
}
