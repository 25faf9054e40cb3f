/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The real-Xen backend's balloon operations (xenfit/hv.h, "Ballooning"):
 * squeezed's xenstore keys under /local/domain/<domid> (xen-api e2ee48d6883e
 * ocaml/squeezed/src/squeeze_xen.ml: _feature_balloon "/control/
 * feature-balloon", _target "/memory/target", _dynamic_min
 * "/memory/dynamic-min", _dynamic_max "/memory/dynamic-max", _memory_offset
 * "/memory/memory-offset"), read and written with libxenstore. The handle
 * is opened at the first balloon operation, so that a backend used only
 * for placement never needs xenstored. maxmem goes through
 * xf_hv_set_max_pages (XEN_DOMCTL_max_mem), per-domain pages through
 * domain_info. Run against real guests' balloon drivers on Xen 4.17 by the
 * real-Xen tier (tests/xen/dom0/80-balloon.sh, docs/real-xen.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "xen-internal.h"
#include "xenfit/error.h"

static int handle(struct xf_hv_xen *x, struct xs_handle **ret)
{
    if (!x->xsh) {
        x->xsh = xs_open(0);
        if (!x->xsh)
            return xf__xen_errno();
    }
    *ret = x->xsh;
    return 0;
}

/* Reads /local/domain/<domid><key> as a decimal integer: 0 and *ret_present
 * false when the key is absent; -EPROTO for a value that is no number. */
static int read_i64(struct xs_handle *xsh, xf_domid_t domid, const char *key, int64_t *ret,
                    bool *ret_present)
{
    char path[96], *v, *end;
    unsigned int len = 0;
    long long n;

    snprintf(path, sizeof(path), "/local/domain/%u%s", domid, key);
    v = xs_read(xsh, XBT_NULL, path, &len);
    if (!v) {
        if (errno == ENOENT) {
            *ret_present = false;
            return 0;
        }
        return xf__xen_errno();
    }
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || end == v || *end != '\0') {
        free(v);
        return -EPROTO;
    }
    free(v);
    *ret = (int64_t)n;
    *ret_present = true;
    return 0;
}

static bool exists(struct xs_handle *xsh, xf_domid_t domid, const char *key)
{
    char path[96], *v;
    unsigned int len = 0;

    snprintf(path, sizeof(path), "/local/domain/%u%s", domid, key);
    v = xs_read(xsh, XBT_NULL, path, &len);
    free(v);
    return v != NULL;
}

/*
 * Writes /local/domain/<domid><key> only while the domain's directory is
 * there (squeeze_xen.ml write_noexn: a transaction that reads the directory
 * first, "Fail if the directory has been deleted"). libxl removes a domain's
 * directory before it destroys the domain (libxl_domain.c devices_destroy_cb,
 * then xc_domain_destroy), and Xen's domain_info still answers in between:
 * a plain write there would recreate /local/domain/<domid> for a domain that
 * is going, a node nobody removes until the domid is reused. -ESRCH when the
 * directory is gone; a transaction that races another writer is retried.
 */
static int write_key(struct xs_handle *xsh, xf_domid_t domid, const char *key, const char *value,
                     unsigned int len)
{
    char dir[32], path[96], *v;
    unsigned int dlen = 0;

    snprintf(dir, sizeof(dir), "/local/domain/%u", domid);
    snprintf(path, sizeof(path), "%s%s", dir, key);
    for (int tries = 0;; tries++) {
        xs_transaction_t t = xs_transaction_start(xsh);
        int r = 0;

        if (t == XBT_NULL)
            return xf__xen_errno();
        v = xs_read(xsh, t, dir, &dlen);
        if (!v)
            r = errno == ENOENT ? -ESRCH : xf__xen_errno();
        else if (!xs_write(xsh, t, path, value, len))
            r = xf__xen_errno();
        free(v);
        if (r < 0) {
            xs_transaction_end(xsh, t, true);
            return r;
        }
        if (xs_transaction_end(xsh, t, false))
            return 0;
        if (errno != EAGAIN || tries >= 16)
            return xf__xen_errno();
    }
}

static int write_i64(struct xs_handle *xsh, xf_domid_t domid, const char *key, int64_t value)
{
    char text[32];
    int n = snprintf(text, sizeof(text), "%" PRId64, value);

    return write_key(xsh, domid, key, text, (unsigned int)n);
}

/* The domain exists (-ESRCH if not), and the xenstore handle. */
static int enter(struct xf_hv *hv, xf_domid_t domid, struct xs_handle **ret)
{
    struct xf_hv_xen *x = xf__xen(hv);
    xc_domaininfo_t info;
    int r = xf__xen_getinfo(x, domid, &info);

    return r < 0 ? r : handle(x, ret);
}

int xf__xen_balloon_info(struct xf_hv *hv, xf_domid_t domid, struct xf_hv_balloon *ret)
{
    struct xs_handle *xsh;
    int64_t target = 0, dmin = 0, dmax = 0, offset = 0;
    bool has_target = false, has_min = false, has_max = false, has_offset = false;
    int r = enter(hv, domid, &xsh);

    if (r == 0)
        r = read_i64(xsh, domid, "/memory/target", &target, &has_target);
    if (r == 0 && !has_target)
        r = XF_ENOENT; /* no memory keys: not a domain a balloon toolstack manages */
    if (r == 0)
        r = read_i64(xsh, domid, "/memory/dynamic-min", &dmin, &has_min);
    if (r == 0)
        r = read_i64(xsh, domid, "/memory/dynamic-max", &dmax, &has_max);
    if (r == 0)
        r = read_i64(xsh, domid, "/memory/memory-offset", &offset, &has_offset);
    if (r < 0)
        return r;
    if (target < 0 || dmin < 0 || dmax < 0)
        return -EPROTO;
    memset(ret, 0, sizeof(*ret));
    ret->feature_balloon = exists(xsh, domid, "/control/feature-balloon");
    ret->target_kib = (uint64_t)target;
    ret->has_dynamic_range = has_min && has_max;
    ret->dynamic_min_kib = has_min ? (uint64_t)dmin : 0;
    ret->dynamic_max_kib = has_max ? (uint64_t)dmax : 0;
    ret->has_memory_offset = has_offset;
    ret->memory_offset_kib = offset;
    ret->uncooperative = exists(xsh, domid, "/memory/uncooperative");
    return 0;
}

int xf__xen_set_balloon_target(struct xf_hv *hv, xf_domid_t domid, uint64_t target_kib)
{
    struct xs_handle *xsh;
    int r = enter(hv, domid, &xsh);

    if (r == 0 && target_kib > (uint64_t)INT64_MAX)
        r = XF_EINVAL;
    return r < 0 ? r : write_i64(xsh, domid, "/memory/target", (int64_t)target_kib);
}

int xf__xen_set_memory_offset(struct xf_hv *hv, xf_domid_t domid, int64_t offset_kib)
{
    struct xs_handle *xsh;
    int r = enter(hv, domid, &xsh);

    return r < 0 ? r : write_i64(xsh, domid, "/memory/memory-offset", offset_kib);
}

/* squeeze_xen.ml set_uncooperative_noexn: the key written empty, or removed. */
int xf__xen_set_uncooperative(struct xf_hv *hv, xf_domid_t domid, bool uncooperative)
{
    struct xs_handle *xsh;
    char path[96];
    int r = enter(hv, domid, &xsh);

    if (r < 0)
        return r;
    if (uncooperative)
        return write_key(xsh, domid, "/memory/uncooperative", "", 0);
    snprintf(path, sizeof(path), "/local/domain/%u/memory/uncooperative", domid);
    if (!xs_rm(xsh, XBT_NULL, path) && errno != ENOENT)
        return xf__xen_errno();
    return 0;
}

void xf__xen_balloon_close(struct xf_hv_xen *x)
{
    if (x->xsh)
        xs_close(x->xsh);
    x->xsh = NULL;
}
