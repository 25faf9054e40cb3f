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

#include <stdbool.h>
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

/* --- Calibration from observation ---------------------------------------
 *
 * After each build the toolstack compares the host memory the domain really
 * took with the model. What the calibrated term (fixed + per_vcpu * vcpus
 * pages, see struct xf_overhead_coeffs) had to cover is
 *   needed = taken_pages - pages of the footprint computed without that term
 * (floored at 0). An online calibrator keeps, per domain type, the largest
 * `needed` seen at each vCPU count, and its coefficients are the tightest
 * line over those maxima: never below an observation. A request is then
 * sized with the larger of that line and xen-api's (0 + 38 per vCPU), so
 * calibration only ever adds memory. The owner of the calibrator persists
 * its observations (xf_calib_online_export / _import).
 */

struct xf_calib_observation {
    enum xf_domain_type type;
    uint32_t vcpus;
    uint64_t needed_pages;
};

struct xf_calib_online;

int xf_calib_online_new(struct xf_calib_online **ret);
void xf_calib_online_free(struct xf_calib_online *c);

/*
 * The pages the calibrated term had to cover for a domain that took
 * `taken_pages` of host memory (beyond nothing: everything it took, its own
 * pages, paging pool and hidden hypervisor pages). Returns 0, or an error of
 * xf_vm_footprint().
 */
int xf_calib_needed_pages(const struct xf_vm_memory *vm, uint64_t taken_pages,
                          uint64_t *ret_needed);

/*
 * The most hypervisor overhead beyond the model's fixed terms that one real
 * domain build can need: 256 MiB per domain plus 16 MiB per vCPU. Every
 * measurement known is far below it (xen-api PR 6869: 8 pages per vCPU beyond
 * the paging pool; Xen 4.17 PV in the test bed: 21 + 4 per vCPU; the
 * pessimistic simulated hosts: 300 per vCPU), while a size given in the wrong
 * unit (bytes as KiB) is 1024 times the VM and far above it. An observation
 * above it is a caller's mistake, not a Xen that needs more: it would raise
 * every later admission of that shape, persistently.
 */
#define XF_CALIB_PLAUSIBLE_FIXED_PAGES    (UINT64_C(256) * 256)
#define XF_CALIB_PLAUSIBLE_PER_VCPU_PAGES (UINT64_C(16) * 256)

/* XF_CALIB_PLAUSIBLE_FIXED_PAGES + XF_CALIB_PLAUSIBLE_PER_VCPU_PAGES * vcpus. */
uint64_t xf_calib_plausible_max_pages(uint32_t vcpus);

/*
 * Records an observation. Returns 1 when it exceeded what the calibrator
 * predicted for that type and vCPU count before (a drift: the build used
 * more than its admission assumed), 0 when it did not, or XF_EINVAL /
 * XF_ERANGE / XF_ENOMEM. The coefficients are updated either way.
 */
int xf_calib_online_observe(struct xf_calib_online *c, const struct xf_calib_observation *o);

/* Whether a domain of that type and vCPU count has been observed. */
bool xf_calib_online_has(const struct xf_calib_online *c, enum xf_domain_type type, uint32_t vcpus);

/* The coefficients to size a domain of that type and vCPU count with. */
struct xf_overhead_coeffs xf_calib_online_coeffs(const struct xf_calib_online *c,
                                                 enum xf_domain_type type, uint32_t vcpus);

/* Observations held (one per type and vCPU count), for persistence. */
size_t xf_calib_online_count(const struct xf_calib_online *c);
size_t xf_calib_online_export(const struct xf_calib_online *c, struct xf_calib_observation *out,
                              size_t max);
/*
 * Forgets what was learned for one domain type, or for all (`all`): its
 * sizing falls back to xen-api's coefficients until it is observed again.
 * Returns the number of observations (rows) forgotten.
 */
size_t xf_calib_online_reset(struct xf_calib_online *c, enum xf_domain_type type, bool all);

/* Re-records observations (as observe, ignoring drift). */
int xf_calib_online_import(struct xf_calib_online *c, const struct xf_calib_observation *obs,
                           size_t n);

#endif
