/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfit calibrate: fits the overhead line to a measurement table
 * (include/xenfit/calibrate.h) per series and for all rows.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xenfit/calibrate.h"
#include "xenfit/error.h"

static const char *const CMD = "calibrate";

void xf_usage_calibrate(void)
{
    printf("Usage: xenfit calibrate FILE.csv [--json]\n\n"
           "Fits, for each series of a measurement table and for all its rows together\n"
           "(series \"all\"), the tightest line  fixed_pages + per_vcpu_pages * vcpus  with\n"
           "non-negative integer coefficients that never underestimates a row and has the\n"
           "least total slack. Also prints the least-squares line (for information) and\n"
           "extra_per_vcpu_pages = per_vcpu_pages - 256, the per-vCPU pages beyond the\n"
           "paging pool: the value for 'xenfit footprint --per-vcpu-pages'.\n\n"
           "FILE.csv: a header row with columns vcpus and overhead_pages (host pages a\n"
           "domain took beyond its own pages), optionally series; other columns are\n"
           "ignored; lines starting with '#' are comments. A line needs rows at two vCPU\n"
           "counts or more: a table all at one count is refused (exit 2); a series all\n"
           "at one count is left out, with a note (its rows count in \"all\"). FILE \"-\"\n"
           "reads stdin.\n\n"
           "  --json   {\"fits\":[{series, rows, fixed_pages, per_vcpu_pages,\n"
           "           extra_per_vcpu_pages, total_slack_pages, lsq_slope, lsq_intercept}]}\n");
}

static const struct option options[] = {
    {"json", no_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

/* The rows of series `name` (NULL: every row): true if they are all at one
 * vCPU count, with how many there are and that count. */
static bool one_count(const struct xf_calib_table *t, const char *name, size_t *ret_rows,
                      uint32_t *ret_vcpus)
{
    size_t rows = 0;
    uint32_t vcpus = 0;

    for (size_t k = 0; k < t->n_rows; k++) {
        if (name && strcmp(t->series[k], name) != 0)
            continue;
        if (rows++ && t->points[k].vcpus != vcpus)
            return false;
        vcpus = t->points[k].vcpus;
    }
    *ret_rows = rows;
    *ret_vcpus = vcpus;
    return true;
}

/* A row is the first of its series when no earlier row has its name. */
static bool first_of_series(const struct xf_calib_table *t, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (strcmp(t->series[k], t->series[i]) == 0)
            return false;
    return true;
}

/*
 * A line fixed + per_vcpu * vcpus is known only from rows at two vCPU counts
 * or more: from one count the fit puts everything in `fixed` and reports
 * per_vcpu 0 (extra -256), which reads as a measurement. A whole table at one
 * count is refused (the usage error, returned); a series at one count is
 * left out of the fits with a note on stderr (its rows still count in
 * "all").
 */
static int check_fittable(const char *path, const struct xf_calib_table *t)
{
    size_t rows;
    uint32_t vcpus;

    if (one_count(t, NULL, &rows, &vcpus))
        return xf_cli_usage_error(CMD,
                                  "%s: the table has %zu row%s, all at %u vCPUs: cannot fit a "
                                  "per-vCPU line; measure at two or more vCPU counts",
                                  path, rows, rows == 1 ? "" : "s", vcpus);
    for (size_t i = 0; t->has_series && i < t->n_rows; i++)
        if (first_of_series(t, i) && one_count(t, t->series[i], &rows, &vcpus))
            fprintf(stderr,
                    "xenfit: calibrate: %s: series '%s' has %zu row%s, all at %u vCPUs: no "
                    "per-vCPU line of its own (left out; its rows count in 'all')\n",
                    path, t->series[i], rows, rows == 1 ? "" : "s", vcpus);
    return 0;
}

/* Whether series `name` has rows at two vCPU counts or more ("all": the
 * whole table, which check_fittable requires). */
static bool fittable(const struct xf_calib_table *t, const char *name)
{
    size_t rows;
    uint32_t vcpus;

    return strcmp(name, "all") == 0 || !one_count(t, name, &rows, &vcpus);
}

static json_t *fit_json(const char *name, const struct xf_calib_fit *f)
{
    return json_pack("{sssIsIsIsIsIsfsf}", "series", name, "rows", (json_int_t)f->rows,
                     "fixed_pages", (json_int_t)f->fixed_pages, "per_vcpu_pages",
                     (json_int_t)f->per_vcpu_pages, "extra_per_vcpu_pages",
                     (json_int_t)f->extra_per_vcpu_pages, "total_slack_pages",
                     (json_int_t)f->total_slack_pages, "lsq_slope", f->lsq_slope, "lsq_intercept",
                     f->lsq_intercept);
}

int xf_cmd_calibrate(int argc, char **argv)
{
    struct xf_calib_table *table = NULL;
    struct xf_calib_fit *fits = NULL;
    struct xf_parse_error perr = {0};
    char **names = NULL, *buf = NULL;
    size_t len, nfits = 0;
    bool json = false, *shown = NULL;
    int c, r, status;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c != 'j')
            return xf_cli_bad_option(CMD, argc, argv);
        json = true;
    }
    if (argc - optind != 1)
        return xf_cli_usage_error(CMD, argc - optind == 0 ? "a FILE.csv is required"
                                                          : "exactly one FILE.csv is expected");
    if ((status = xf_cli_read_file(CMD, argv[optind], &buf, &len)))
        return status;

    r = xf_calib_table_parse_csv(buf, len, &table, &perr);
    free(buf);
    if (r == XF_ENOMEM)
        return xf_cli_failure(CMD, "out of memory");
    if (r < 0)
        return xf_cli_usage_error(CMD, "%s:%zu: %s", argv[optind], perr.line, perr.message);
    if ((status = check_fittable(argv[optind], table))) {
        xf_calib_table_free(table);
        return status;
    }
    r = xf_calib_fit_table(table, &fits, &names, &nfits);
    if (r < 0) {
        xf_calib_table_free(table);
        return xf_cli_failure(CMD, "%s", xf_strerror(r));
    }
    if (!(shown = calloc(nfits + 1, sizeof(*shown)))) {
        xf_calib_table_free(table);
        xf_calib_fits_free(fits, names, nfits);
        return xf_cli_failure(CMD, "out of memory");
    }
    /* Only the series with a line of their own, in order. */
    for (size_t i = 0; i < nfits; i++)
        shown[i] = fittable(table, names[i]);
    xf_calib_table_free(table);

    status = XF_EXIT_OK;
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < nfits; i++)
            if (shown[i] && json_array_append_new(arr, fit_json(names[i], &fits[i])) < 0) {
                json_decref(arr);
                arr = NULL;
            }
        json_t *o = arr ? json_pack("{so}", "fits", arr) : NULL;
        status = o ? xf_cli_print_json(o) : xf_cli_failure(CMD, "out of memory");
    } else {
        printf("%-20s %6s %8s %9s %6s %12s %10s %10s\n", "series", "rows", "fixed", "per_vcpu",
               "extra", "total_slack", "lsq_slope", "lsq_icept");
        for (size_t i = 0; i < nfits; i++)
            if (shown[i])
                printf("%-20s %6zu %8llu %9llu %6lld %12llu %10.3f %10.3f\n", names[i],
                       fits[i].rows, (unsigned long long)fits[i].fixed_pages,
                       (unsigned long long)fits[i].per_vcpu_pages,
                       (long long)fits[i].extra_per_vcpu_pages,
                       (unsigned long long)fits[i].total_slack_pages, fits[i].lsq_slope,
                       fits[i].lsq_intercept);
        printf("(pages; the line fixed + per_vcpu * vcpus never underestimates a row;\n"
               " extra = per_vcpu - 256, the pages per vCPU beyond the paging pool)\n");
    }
    xf_calib_fits_free(fits, names, nfits);
    free(shown);
    return status;
}
