/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Calibration of the per-domain and per-vCPU overhead from measurements.
 *
 * Given rows (vcpus, overhead_pages) -- host pages a domain took beyond its
 * own pages, as in xen-api PR 6869's table -- find the tightest line
 * fixed + per_vcpu * vcpus, with non-negative integer coefficients, that
 * never underestimates a row and has the least total slack over the rows.
 * Among equally tight lines the one with the smallest per_vcpu is taken.
 * The least-squares line is reported alongside, for information only.
 */
#ifndef XENFIT_CALIBRATE_H
#define XENFIT_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

#include "xenfit/model.h"

/* Bounds on one row, which keep every sum exact. */
#define XF_CALIB_MAX_OVERHEAD_PAGES (UINT64_C(1) << 48)

struct xf_calib_point {
    uint32_t vcpus; /* 0..XF_VCPUS_MAX */
    uint64_t overhead_pages;
};

struct xf_calib_fit {
    size_t rows;
    uint64_t fixed_pages;
    uint64_t per_vcpu_pages;
    int64_t extra_per_vcpu_pages; /* per_vcpu_pages - 256: beyond the paging pool */
    uint64_t total_slack_pages;
    double lsq_slope;     /* 0 when all rows have the same vcpus */
    double lsq_intercept; /* the mean then */
};

/*
 * Fits `n` points. Returns 0 and *ret, XF_ENODATA for n == 0, XF_ERANGE for
 * a point outside the bounds above.
 */
int xf_calib_fit(const struct xf_calib_point *pts, size_t n, struct xf_calib_fit *ret);

/*
 * The model coefficients a fit implies for xf_vm_footprint(): the fixed
 * pages, and the per-vCPU pages beyond the 256 of the paging pool (0 if the
 * fit is below 256, as for PV domains which have no paging pool).
 */
struct xf_overhead_coeffs xf_calib_fit_coeffs(const struct xf_calib_fit *fit);

/* A parsed measurement table: rows in file order, with their series. */
struct xf_calib_table {
    size_t n_rows;
    struct xf_calib_point *points;
    char **series; /* per row; "" when the file has no series column */
    int has_series;
};

/* Where parsing stopped: 1-based line and a message naming the value. */
struct xf_parse_error {
    size_t line;
    char message[256];
};

/*
 * Parses a CSV measurement table from memory: a header row naming at least
 * `vcpus` and `overhead_pages` (optionally `series`; other columns are
 * ignored, so xenbed's result files work as they are), lines starting with
 * `#` and blank lines skipped, one record per line. Returns 0 and a new table
 * (free with xf_calib_table_free), XF_EPARSE with *err filled in, XF_ENODATA
 * for a table without rows, XF_ENOMEM.
 */
int xf_calib_table_parse_csv(const char *buf, size_t len, struct xf_calib_table **ret,
                             struct xf_parse_error *err);

void xf_calib_table_free(struct xf_calib_table *t);

/*
 * Fits each series of the table (in order of first appearance) and then all
 * rows together (series "all"). Returns 0 and a new array of *ret_n fits and
 * names (free with xf_calib_fits_free), or an error of xf_calib_fit.
 */
int xf_calib_fit_table(const struct xf_calib_table *t, struct xf_calib_fit **ret_fits,
                       char ***ret_names, size_t *ret_n);

void xf_calib_fits_free(struct xf_calib_fit *fits, char **names, size_t n);

#endif
