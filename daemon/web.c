/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The observability listener's answers (web.h): the GET parser, the
 * Prometheus metrics, the state the live page draws, the page itself
 * (web-page.c). Everything is read from the engine and the counters at the
 * time of the request: nothing here changes the ledger.
 *
 * Units: bytes, as Prometheus' conventions ask (pages x 4096, KiB x 1024);
 * the per-node numbers are the ones xenfit.host_status reports.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "web.h"
#include "xenfit/error.h"
#include "xenfit/units.h"
#include "xenfitd.h"

#define PAGE_BYTES 4096u

/* The upper bounds of the latency buckets, ns; the last bucket is +Inf. */
static const uint64_t bound_ns[XFD_HIST_BUCKETS - 1] = {50000,    100000,    250000,    500000,
                                                        1000000,  2500000,   5000000,   10000000,
                                                        25000000, 100000000, 1000000000};
static const char *const bound_text[XFD_HIST_BUCKETS] = {"5e-05", "0.0001", "0.00025", "0.0005",
                                                         "0.001", "0.0025", "0.005",   "0.01",
                                                         "0.025", "0.1",    "1",       "+Inf"};

void xfd_histogram_observe(struct xfd_histogram *h, uint64_t ns)
{
    unsigned i = 0;
    while (i < XFD_HIST_BUCKETS - 1 && ns > bound_ns[i])
        i++;
    h->le[i]++;
    h->count++;
    h->sum_ns += ns;
}

int xfd_web_parse(const char *buf, size_t len, size_t max_header, char *path, size_t size,
                  size_t *ret_len)
{
    const char *end = NULL, *sp1, *sp2, *eol;
    size_t n;

    for (size_t i = 0; i + 1 < len && i < max_header; i++) {
        if (buf[i] == '\n' &&
            (buf[i + 1] == '\n' || (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n'))) {
            end = buf + i + (buf[i + 1] == '\n' ? 2 : 3);
            break;
        }
    }
    if (!end)
        return len >= max_header ? 431 : XFD_WEB_NEED_MORE;
    eol = memchr(buf, '\n', (size_t)(end - buf));
    sp1 = memchr(buf, ' ', (size_t)(eol - buf));
    sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (!sp1 || !sp2)
        return 400;
    if ((size_t)(sp1 - buf) != 3 || memcmp(buf, "GET", 3) != 0)
        return 405;
    n = (size_t)(eol - sp2 - 1); /* the version, up to the LF */
    if (n && sp2[n] == '\r')
        n--;
    if (n != 8 || (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0 && memcmp(sp2 + 1, "HTTP/1.0", 8) != 0))
        return 505;
    n = (size_t)(sp2 - sp1 - 1);
    if (n == 0 || sp1[1] != '/')
        return 400;
    if (n >= size)
        return 414;
    memcpy(path, sp1 + 1, n);
    path[n] = '\0';
    path[strcspn(path, "?#")] = '\0';
    *ret_len = (size_t)(end - buf);
    return XFD_WEB_COMPLETE;
}

int xfd_web_reply(struct xfd_buf *out, int status, const char *type, const char *body, size_t len)
{
    size_t mark = out->len;
    int r = xfd_buf_printf(out,
                           "HTTP/1.1 %d %s\r\n%sContent-Type: %s\r\nContent-Length: %zu\r\n"
                           "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                           status, xfd_http_reason(status), status == 405 ? "Allow: GET\r\n" : "",
                           type, len);
    if (r == 0)
        r = xfd_buf_add(out, body, len);
    if (r < 0)
        out->len = mark;
    return r;
}

/* A label value with \, " and newlines escaped (the exposition format). */
static int add_label(struct xfd_buf *b, const char *v)
{
    int r = 0;
    for (; *v && r == 0; v++) {
        if (*v == '\\' || *v == '"')
            r = xfd_buf_printf(b, "\\%c", *v);
        else if (*v == '\n')
            r = xfd_buf_addstr(b, "\\n");
        else
            r = xfd_buf_add(b, v, 1);
    }
    return r;
}

static int head(struct xfd_buf *b, const char *name, const char *type, const char *help)
{
    return xfd_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int one(struct xfd_buf *b, const char *name, const char *type, const char *help, uint64_t v)
{
    int r = head(b, name, type, help);
    return r ? r : xfd_buf_printf(b, "%s %" PRIu64 "\n", name, v);
}

/* One series per node: name{node="N"} value. */
static int per_node(struct xfd_buf *b, const char *name, const char *help, uint32_t nr_nodes,
                    const uint64_t *pages, size_t stride)
{
    int r = head(b, name, "gauge", help);
    for (uint32_t n = 0; r == 0 && n < nr_nodes; n++) {
        uint64_t p = *(const uint64_t *)(const void *)((const char *)pages + n * stride);
        r = xfd_buf_printf(b, "%s{node=\"%u\"} %" PRIu64 "\n", name, n, p * PAGE_BYTES);
    }
    return r;
}

static int histogram(struct xfd_buf *b, const char *name, const char *help,
                     const struct xfd_histogram *h)
{
    uint64_t cum = 0;
    int r = head(b, name, "histogram", help);
    for (unsigned i = 0; r == 0 && i < XFD_HIST_BUCKETS; i++) {
        cum += h->le[i];
        r = xfd_buf_printf(b, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name, bound_text[i], cum);
    }
    if (r == 0)
        r = xfd_buf_printf(b, "%s_sum %" PRIu64 ".%09" PRIu64 "\n%s_count %" PRIu64 "\n", name,
                           h->sum_ns / 1000000000u, h->sum_ns % 1000000000u, name, h->count);
    return r;
}

static int metrics(struct xfd_server *srv, struct xfd_buf *b)
{
    static struct xf_engine_status st; /* large; one request at a time */
    const struct xfd_ctx *ctx = &srv->ctx;
    const struct xfd_stats *s = &ctx->stats;
    const struct xfd_metrics *m = &srv->metrics;
    const struct xf_host_free *f = &st.free;
    uint64_t count[3] = {0}, kib[3] = {0};
    static const char *const states[3] = {"pending", "transferred", "settled"};
    int r = xf_engine_status(ctx->engine, &st);

    if (r < 0)
        return r;
    for (size_t i = 0; i < xf_engine_count(ctx->engine); i++) {
        const struct xf_engine_resv *v = xf_engine_at(ctx->engine, i);
        count[v->state]++;
        kib[v->state] += v->kib;
    }
    r = head(b, "xenfitd_info", "gauge", "The daemon: version, backend, host");
    if (r == 0)
        r = xfd_buf_printf(b, "xenfitd_info{version=\"%s\",backend=\"%s\",host=\"",
                           ctx->info.version, ctx->info.backend);
    if (r == 0)
        r = add_label(b, ctx->info.host_name);
    if (r == 0)
        r = xfd_buf_addstr(b, "\"} 1\n");
    if (r == 0)
        r = one(b, "xenfitd_uptime_seconds", "gauge", "Seconds since xenfitd started",
                (xfd_ctx_now_ns(ctx) - ctx->info.started_ns) / 1000000000u);
    if (r == 0)
        r = one(b, "xenfitd_host_total_bytes", "gauge", "Host memory (xl info total_memory)",
                st.phys.total_pages * PAGE_BYTES);
    if (r == 0)
        r = one(b, "xenfitd_host_free_bytes", "gauge",
                "Free host memory less outstanding claims (xl info free_memory)",
                (st.phys.free_pages > st.phys.outstanding_pages
                     ? st.phys.free_pages - st.phys.outstanding_pages
                     : 0) *
                    PAGE_BYTES);
    if (r == 0)
        r = one(b, "xenfitd_host_outstanding_claims_bytes", "gauge",
                "Claimed by domains being built, not yet allocated",
                st.phys.outstanding_pages * PAGE_BYTES);
    if (r == 0)
        r = one(b, "xenfitd_host_free_for_new_vm_bytes", "gauge",
                "What admission offers a new VM (after the reserve and reservations)",
                f->host_free_pages * PAGE_BYTES);
    if (r == 0)
        r = one(b, "xenfitd_host_low_mem_reserve_bytes", "gauge",
                "Kept free for Xen's low-memory limit", f->reserve_pages * PAGE_BYTES);
    if (r == 0)
        r = per_node(b, "xenfitd_node_size_bytes", "A NUMA node's memory", st.nr_nodes,
                     &st.nodes[0].memsize_pages, sizeof(st.nodes[0]));
    if (r == 0)
        r = per_node(b, "xenfitd_node_free_bytes", "A node's free memory (ignores claims)",
                     st.nr_nodes, &st.nodes[0].memfree_pages, sizeof(st.nodes[0]));
    if (r == 0)
        r = per_node(b, "xenfitd_node_claimed_bytes",
                     "A node's outstanding claims (0 unless the hypervisor reports them)",
                     st.nr_nodes, &st.nodes[0].claimed_pages, sizeof(st.nodes[0]));
    if (r == 0)
        r = per_node(b, "xenfitd_node_dma_free_bytes",
                     "Free memory of Xen's DMA zone on the node (taken last)", st.nr_nodes,
                     f->node_dma_pages, sizeof(uint64_t));
    if (r == 0)
        r = per_node(b, "xenfitd_node_reserved_bytes",
                     "Reservations placed on the node (their NUMA placements)", st.nr_nodes,
                     st.placed_pages, sizeof(uint64_t));
    if (r == 0)
        r = per_node(b, "xenfitd_node_pending_bytes",
                     "Placed reservations whose domain does not hold the memory yet", st.nr_nodes,
                     f->node_pending_pages, sizeof(uint64_t));
    if (r == 0)
        r = per_node(b, "xenfitd_node_free_for_new_vm_bytes",
                     "What admission offers a new VM on the node", st.nr_nodes, f->node_free_pages,
                     sizeof(uint64_t));
    if (r == 0)
        r = head(b, "xenfitd_reservations", "gauge", "Reservations in the ledger, by state");
    for (unsigned i = 0; r == 0 && i < 3; i++)
        r = xfd_buf_printf(b, "xenfitd_reservations{state=\"%s\"} %" PRIu64 "\n", states[i],
                           count[i]);
    if (r == 0)
        r = head(b, "xenfitd_reservation_bytes", "gauge",
                 "Memory granted to the reservations, by state");
    for (unsigned i = 0; r == 0 && i < 3; i++)
        r = xfd_buf_printf(b, "xenfitd_reservation_bytes{state=\"%s\"} %" PRIu64 "\n", states[i],
                           kib[i] * 1024u);
    if (r == 0)
        r = head(b, "xenfitd_admission_refusals_total", "counter",
                 "Reservations refused: not enough memory, or too many pending");
    if (r == 0)
        r = xfd_buf_printf(b,
                           "xenfitd_admission_refusals_total{reason=\"memory\"} %" PRIu64 "\n"
                           "xenfitd_admission_refusals_total{reason=\"pending_limit\"} %" PRIu64
                           "\n",
                           s->refused_memory, s->refused_limit);
    if (r == 0)
        r = one(b, "xenfitd_drift_alarms_total", "counter",
                "Observed builds that took more than the model predicted", s->drift_alarms);
    if (r == 0)
        r = one(b, "xenfitd_false_admits_total", "counter",
                "Builds reported failed (xenfit.report_build) for a reservation xenfitd granted",
                s->false_admits);
    if (r == 0)
        r = head(b, "xenfitd_reservations_ended_total", "counter",
                 "Reservations the sweep ended: expired untransferred, or their domain died "
                 "(or was never built)");
    if (r == 0)
        r = xfd_buf_printf(b,
                           "xenfitd_reservations_ended_total{reason=\"expired\"} %" PRIu64 "\n"
                           "xenfitd_reservations_ended_total{reason=\"domain_died\"} %" PRIu64 "\n",
                           m->expired, m->died);
    if (r == 0)
        r = one(b, "xenfitd_reservations_settled_total", "counter",
                "Transferred reservations whose domain was seen built", m->settled);
    if (r == 0)
        r = one(b, "xenfitd_requests_total", "counter", "JSON-RPC requests on the control socket",
                ctx->requests);
    if (r == 0)
        r = one(b, "xenfitd_request_errors_total", "counter",
                "JSON-RPC requests answered with an error", ctx->failures);
    if (r == 0)
        r = head(b, "xenfitd_web_requests_total", "counter",
                 "GETs on the metrics socket: scrapes, the live page's refreshes, others");
    if (r == 0)
        r = xfd_buf_printf(b,
                           "xenfitd_web_requests_total{path=\"/metrics\"} %" PRIu64 "\n"
                           "xenfitd_web_requests_total{path=\"/state.json\"} %" PRIu64 "\n"
                           "xenfitd_web_requests_total{path=\"other\"} %" PRIu64 "\n",
                           m->gets[0], m->gets[1], m->gets[2]);
    if (r == 0)
        r = one(b, "xenfitd_connections", "gauge", "Open client connections", srv->nr_conns);
    if (r == 0)
        r = histogram(b, "xenfitd_request_handle_seconds",
                      "Time to decide a request: parsed to reply written (before the commit)",
                      &m->handle);
    if (r == 0)
        r = histogram(b, "xenfitd_commit_seconds",
                      "Time to commit a round's changes (replies wait for it)", &m->commit);
    return r;
}

/* {"host": host_status, "reservations": [...], "events": [...], "counters"}. */
static int state_json(struct xfd_server *srv, struct xfd_buf *b)
{
    struct xfd_log_event ev[XFD_LOG_RECENT];
    size_t n = xfd_log_recent(ev, XFD_LOG_RECENT);
    json_t *host = NULL, *resv = NULL, *events = json_array(), *o;
    json_t *args = json_pack("[s]", "live page");
    uint64_t refusals;
    char *text;
    int r;

    if ((r = xfd_rpc_call(&srv->ctx, "xenfit.host_status", args, &host)) < 0 ||
        (r = xfd_rpc_call(&srv->ctx, "xenfit.list_reservations", args, &resv)) < 0) {
        json_decref(host);
        json_decref(args);
        json_decref(events);
        return r;
    }
    json_decref(args);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(events,
                              json_pack("{sIssss}", "time", (json_int_t)ev[i].wall_s, "level",
                                        xfd_log_level_name(ev[i].level), "message", ev[i].msg));
    refusals = srv->ctx.stats.refused_memory + srv->ctx.stats.refused_limit;
    o = json_pack("{sososo}", "host", host, "reservations", resv, "events", events);
    json_object_set_new(o, "counters",
                        json_pack("{sIsIsIsI}", "refusals", (json_int_t)refusals, "drift_alarms",
                                  (json_int_t)srv->ctx.stats.drift_alarms, "requests",
                                  (json_int_t)srv->ctx.requests, "errors",
                                  (json_int_t)srv->ctx.failures));
    text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return -ENOMEM;
    r = xfd_buf_addstr(b, text);
    free(text);
    return r;
}

int xfd_web_respond(struct xfd_server *srv, const char *path, struct xfd_buf *out)
{
    struct xfd_buf body = {0};
    const char *type;
    int r;

    if (strcmp(path, "/metrics") == 0) {
        srv->metrics.gets[0]++;
        type = "text/plain; version=0.0.4; charset=utf-8";
        r = metrics(srv, &body);
    } else if (strcmp(path, "/state.json") == 0) {
        srv->metrics.gets[1]++;
        type = "application/json";
        r = state_json(srv, &body);
    } else if (srv->metrics.gets[2]++, strcmp(path, "/") == 0) {
        return xfd_web_reply(out, 200, "text/html; charset=utf-8", xfd_web_page,
                             strlen(xfd_web_page));
    } else {
        static const char nf[] = "not found: GET /metrics, / or /state.json\n";
        return xfd_web_reply(out, 404, "text/plain; charset=utf-8", nf, sizeof(nf) - 1);
    }
    if (r == -ENOMEM) {
        xfd_buf_free(&body);
        return r;
    }
    if (r < 0) {
        char msg[160];
        int len = snprintf(msg, sizeof(msg), "reading the host failed: %s\n", xf_strerror(r));
        xfd_buf_free(&body);
        xfd_log(XFD_LOG_WARNING, "GET %s: %s", path, msg);
        return xfd_web_reply(out, 500, "text/plain; charset=utf-8", msg, (size_t)len);
    }
    r = xfd_web_reply(out, 200, type, body.p ? body.p : "", body.len);
    xfd_buf_free(&body);
    return r;
}
