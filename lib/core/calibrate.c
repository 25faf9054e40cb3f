/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Fitting the overhead line to measurements (include/xenfit/calibrate.h).
 *
 * The tightest never-underestimating line. For a given integer slope b the
 * least admissible intercept is a(b) = max(0, max_i(y_i - b*v_i)), and the
 * total slack is S(b) = n*a(b) + b*sum(v) - sum(y). a(b) is a maximum of
 * lines in b, so S is convex: the smallest b whose forward difference
 * S(b+1) - S(b) is not negative minimises it, and a binary search finds it.
 * Slopes beyond B = max ceil(y_i/v_i) only grow S (a is then constant), so
 * [0, B] holds the answer. Sums are exact in 128 bits for the row bounds.
 */
#include <csv.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "xenfit/calibrate.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

__extension__ typedef __int128 i128;

struct sums {
    size_t n;
    i128 sum_v, sum_y;
};

static uint64_t intercept_for(const struct xf_calib_point *pts, size_t n, uint64_t b)
{
    i128 a = 0;
    for (size_t i = 0; i < n; i++) {
        i128 need = (i128)pts[i].overhead_pages - (i128)b * pts[i].vcpus;
        if (need > a)
            a = need;
    }
    return (uint64_t)a;
}

static i128 slack_for(const struct xf_calib_point *pts, const struct sums *s, uint64_t b)
{
    uint64_t a = intercept_for(pts, s->n, b);
    return (i128)s->n * a + (i128)b * s->sum_v - s->sum_y;
}

int xf_calib_fit(const struct xf_calib_point *pts, size_t n, struct xf_calib_fit *ret)
{
    struct xf_calib_fit fit = {.rows = n};
    struct sums s = {.n = n};
    uint64_t lo = 0, hi = 0;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, denom;

    if (n == 0)
        return XF_ENODATA;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = pts[i].vcpus, y = pts[i].overhead_pages;
        if (v > XF_VCPUS_MAX || y > XF_CALIB_MAX_OVERHEAD_PAGES)
            return XF_ERANGE;
        s.sum_v += v;
        s.sum_y += y;
        if (v > 0 && xf__div_up(y, v) > hi)
            hi = xf__div_up(y, v);
        sx += (double)v;
        sy += (double)y;
        sxx += (double)v * (double)v;
        sxy += (double)v * (double)y;
    }

    /* Smallest b in [0, hi] with S(b+1) >= S(b); S is convex. */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (slack_for(pts, &s, mid + 1) >= slack_for(pts, &s, mid))
            hi = mid;
        else
            lo = mid + 1;
    }
    fit.per_vcpu_pages = lo;
    fit.fixed_pages = intercept_for(pts, n, lo);
    fit.total_slack_pages = (uint64_t)slack_for(pts, &s, lo);
    fit.extra_per_vcpu_pages = (int64_t)lo - (int64_t)XF_PAGES_PER_MIB;

    denom = (double)n * sxx - sx * sx;
    if (denom != 0) {
        fit.lsq_slope = ((double)n * sxy - sx * sy) / denom;
        fit.lsq_intercept = (sy - fit.lsq_slope * sx) / (double)n;
    } else {
        fit.lsq_slope = 0;
        fit.lsq_intercept = sy / (double)n;
    }
    *ret = fit;
    return 0;
}

struct xf_overhead_coeffs xf_calib_fit_coeffs(const struct xf_calib_fit *fit)
{
    struct xf_overhead_coeffs c = {.fixed_pages = fit->fixed_pages, .per_vcpu_pages = 0};
    if (fit->extra_per_vcpu_pages > 0)
        c.per_vcpu_pages = (uint64_t)fit->extra_per_vcpu_pages;
    return c;
}

/* --- CSV parsing ------------------------------------------------------- */

struct record {
    char **fields;
    size_t n, cap;
    int oom;
};

struct parse_state {
    struct record rec;
    struct xf_calib_table *t;
    size_t cap_rows;
    int col_vcpus, col_overhead, col_series;
    int have_header;
    size_t ncols;
};

static void on_field(void *field, size_t len, void *data)
{
    struct record *rec = data;
    char *copy;

    (void)len;
    if (rec->oom)
        return;
    char **f = xf__grow(rec->fields, rec->n, &rec->cap, 8, sizeof(*f));
    if (!f) {
        rec->oom = 1;
        return;
    }
    rec->fields = f;
    copy = xf__strdup(field ? (const char *)field : "");
    if (!copy) {
        rec->oom = 1;
        return;
    }
    rec->fields[rec->n++] = copy;
}

static void on_record(int c, void *data)
{
    (void)c;
    (void)data;
}

static void record_clear(struct record *rec)
{
    for (size_t i = 0; i < rec->n; i++)
        xf__free(rec->fields[i]);
    rec->n = 0;
}

static void set_error(struct xf_parse_error *err, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct xf_parse_error *err, size_t line, const char *fmt, ...)
{
    va_list ap;
    if (err) {
        err->line = line;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
}

/* Sets the message and evaluates to code: a macro so that the static
 * analyzer, which does not follow a variadic call, sees the failure. */
#define fail(err, line, code, ...) (set_error((err), (line), __VA_ARGS__), (code))

static void trim(char *s)
{
    size_t len = strlen(s), start = 0;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        s[--len] = '\0';
    while (s[start] == ' ' || s[start] == '\t')
        start++;
    memmove(s, s + start, len - start + 1);
}

static int take_header(struct parse_state *st, size_t line, struct xf_parse_error *err)
{
    st->col_vcpus = st->col_overhead = st->col_series = -1;
    for (size_t i = 0; i < st->rec.n; i++) {
        const char *name = st->rec.fields[i];
        int *col = strcmp(name, "vcpus") == 0            ? &st->col_vcpus
                   : strcmp(name, "overhead_pages") == 0 ? &st->col_overhead
                   : strcmp(name, "series") == 0         ? &st->col_series
                                                         : NULL;
        if (!col)
            continue;
        if (*col >= 0)
            return fail(err, line, XF_EPARSE, "header names column '%s' twice", name);
        *col = (int)i;
    }
    if (st->col_vcpus < 0 || st->col_overhead < 0)
        return fail(err, line, XF_EPARSE,
                    "header must name columns 'vcpus' and 'overhead_pages' (missing '%s')",
                    st->col_vcpus < 0 ? "vcpus" : "overhead_pages");
    st->ncols = st->rec.n;
    st->have_header = 1;
    st->t->has_series = st->col_series >= 0;
    return 0;
}

static int take_row(struct parse_state *st, size_t line, struct xf_parse_error *err)
{
    struct xf_calib_table *t = st->t;
    const char *vs, *ys, *series;
    uint64_t v, y;

    if (st->rec.n != st->ncols)
        return fail(err, line, XF_EPARSE, "row has %zu fields, header has %zu", st->rec.n,
                    st->ncols);
    vs = st->rec.fields[st->col_vcpus];
    ys = st->rec.fields[st->col_overhead];
    if (xf_parse_u64(vs, &v) < 0 || v > XF_VCPUS_MAX)
        return fail(err, line, XF_EPARSE, "vcpus '%s' is not an integer in 0..%u", vs,
                    XF_VCPUS_MAX);
    if (xf_parse_u64(ys, &y) < 0 || y > XF_CALIB_MAX_OVERHEAD_PAGES)
        return fail(err, line, XF_EPARSE, "overhead_pages '%s' is not an integer in 0..%llu", ys,
                    (unsigned long long)XF_CALIB_MAX_OVERHEAD_PAGES);
    series = st->col_series >= 0 ? st->rec.fields[st->col_series] : "";
    if (st->col_series >= 0 && (series[0] == '\0' || strcmp(series, "all") == 0))
        return fail(err, line, XF_EPARSE, "series '%s' is empty or the reserved name 'all'",
                    series);

    if (t->n_rows == st->cap_rows) {
        size_t cap = st->cap_rows ? st->cap_rows * 2 : 64;
        struct xf_calib_point *p = xf__reallocarray(t->points, cap, sizeof(*p));
        if (!p)
            return XF_ENOMEM;
        t->points = p;
        char **s = xf__reallocarray(t->series, cap, sizeof(*s));
        if (!s)
            return XF_ENOMEM;
        t->series = s;
        st->cap_rows = cap;
    }
    t->series[t->n_rows] = xf__strdup(series);
    if (!t->series[t->n_rows])
        return XF_ENOMEM;
    t->points[t->n_rows].vcpus = (uint32_t)v;
    t->points[t->n_rows].overhead_pages = y;
    t->n_rows++;
    return 0;
}

static int parse_line(struct parse_state *st, struct csv_parser *p, const char *s, size_t len,
                      size_t line, struct xf_parse_error *err)
{
    int r;

    record_clear(&st->rec);
    if (csv_parse(p, s, len, on_field, on_record, &st->rec) != len ||
        csv_fini(p, on_field, on_record, &st->rec) != 0)
        return fail(err, line, XF_EPARSE, "malformed CSV: %s", csv_strerror(csv_error(p)));
    if (st->rec.oom)
        return XF_ENOMEM;
    for (size_t i = 0; i < st->rec.n; i++)
        trim(st->rec.fields[i]);
    r = st->have_header ? take_row(st, line, err) : take_header(st, line, err);
    return r;
}

static void *csv_realloc(void *ptr, size_t size)
{
    return xf__realloc(ptr, size);
}

int xf_calib_table_parse_csv(const char *buf, size_t len, struct xf_calib_table **ret,
                             struct xf_parse_error *err)
{
    struct parse_state st = {0};
    struct csv_parser p;
    size_t line = 0, pos = 0;
    int r = 0;

    st.t = xf__calloc(1, sizeof(*st.t));
    if (!st.t)
        return XF_ENOMEM;
    if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI) != 0) {
        xf__free(st.t);
        return XF_ENOMEM;
    }
    csv_set_realloc_func(&p, csv_realloc);
    csv_set_free_func(&p, xf__free);

    while (pos < len && r == 0) {
        const char *start = buf + pos, *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos, k = 0;

        pos += n + (nl != NULL);
        line++;
        while (k < n && (start[k] == ' ' || start[k] == '\t' || start[k] == '\r'))
            k++;
        if (k == n || start[k] == '#')
            continue;
        if (memchr(start, '\0', n))
            r = fail(err, line, XF_EPARSE, "line contains a NUL byte");
        else
            r = parse_line(&st, &p, start, n, line, err);
    }
    if (r == 0 && !st.have_header)
        r = fail(err, line, XF_ENODATA, "no header row");
    else if (r == 0 && st.t->n_rows == 0)
        r = fail(err, line, XF_ENODATA, "no data rows");

    record_clear(&st.rec);
    xf__free(st.rec.fields);
    csv_free(&p);
    if (r < 0) {
        xf_calib_table_free(st.t);
        return r;
    }
    *ret = st.t;
    return 0;
}

void xf_calib_table_free(struct xf_calib_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_rows; i++)
        xf__free(t->series[i]);
    xf__free(t->series);
    xf__free(t->points);
    xf__free(t);
}

int xf_calib_fit_table(const struct xf_calib_table *t, struct xf_calib_fit **ret_fits,
                       char ***ret_names, size_t *ret_n)
{
    struct xf_calib_fit *fits = NULL;
    struct xf_calib_point *pts = NULL;
    char **names = NULL;
    size_t nfits = 0;
    int r = XF_ENOMEM;

    /* At most one fit per row plus "all". */
    fits = xf__calloc(t->n_rows + 1, sizeof(*fits));
    names = xf__calloc(t->n_rows + 1, sizeof(*names));
    pts = xf__calloc(t->n_rows, sizeof(*pts));
    if (!fits || !names || !pts)
        goto out;

    for (size_t i = 0; t->has_series && i < t->n_rows; i++) {
        size_t np = 0, j;
        for (j = 0; j < i; j++)
            if (strcmp(t->series[j], t->series[i]) == 0)
                break;
        if (j < i)
            continue; /* fitted already, at its first row */
        for (j = i; j < t->n_rows; j++)
            if (strcmp(t->series[j], t->series[i]) == 0)
                pts[np++] = t->points[j];
        r = xf_calib_fit(pts, np, &fits[nfits]);
        if (r < 0)
            goto out;
        names[nfits] = xf__strdup(t->series[i]);
        if (!names[nfits]) {
            r = XF_ENOMEM;
            goto out;
        }
        nfits++;
    }
    r = xf_calib_fit(t->points, t->n_rows, &fits[nfits]);
    if (r < 0)
        goto out;
    names[nfits] = xf__strdup("all");
    if (!names[nfits]) {
        r = XF_ENOMEM;
        goto out;
    }
    nfits++;

    xf__free(pts);
    *ret_fits = fits;
    *ret_names = names;
    *ret_n = nfits;
    return 0;
out:
    xf__free(pts);
    xf_calib_fits_free(fits, names, nfits);
    return r;
}

void xf_calib_fits_free(struct xf_calib_fit *fits, char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        xf__free(names[i]);
    xf__free(names);
    xf__free(fits);
}
