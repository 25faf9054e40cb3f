/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfit's one error table. Every function of libxenfit that can fail returns
 * 0 or a negative code from this table. Codes that mirror errno values are the
 * negated errno (so a hypervisor backend can pass Xen's -errno straight
 * through); codes specific to xenfit live below XF__ERR_BASE. xf_strerror()
 * and xf_err_name() are driven by the same table, so a code cannot exist
 * without a name and a message.
 */
#ifndef XENFIT_ERROR_H
#define XENFIT_ERROR_H

#include <errno.h>

#define XF__ERR_BASE (-4000)

/* XX(name, value, message) */
#define XF_ERRNO_MAP(XX)                                                                           \
    XX(EPERM, -EPERM, "operation not permitted")                                                   \
    XX(ENOENT, -ENOENT, "no such object")                                                          \
    XX(ESRCH, -ESRCH, "no such domain")                                                            \
    XX(EIO, -EIO, "input/output error")                                                            \
    XX(EAGAIN, -EAGAIN, "resource temporarily unavailable")                                        \
    XX(ENOMEM, -ENOMEM, "not enough memory")                                                       \
    XX(EACCES, -EACCES, "permission denied")                                                       \
    XX(EBUSY, -EBUSY, "resource busy")                                                             \
    XX(EEXIST, -EEXIST, "object already exists")                                                   \
    XX(EINVAL, -EINVAL, "invalid argument")                                                        \
    XX(ENOSPC, -ENOSPC, "no space left")                                                           \
    XX(ERANGE, -ERANGE, "value out of range")                                                      \
    XX(ENOSYS, -ENOSYS, "function not implemented")                                                \
    XX(EOVERFLOW, -EOVERFLOW, "value too large for its type")                                      \
    XX(EOPNOTSUPP, -EOPNOTSUPP, "operation not supported")                                         \
    XX(ETIMEDOUT, -ETIMEDOUT, "timed out")                                                         \
    XX(EPROTO, -EPROTO, "protocol error")                                                          \
    XX(EBADTYPE, XF__ERR_BASE - 1, "unknown domain type")                                          \
    XX(EBADVCPUS, XF__ERR_BASE - 2, "vCPU count out of range")                                     \
    XX(EBADSIZE, XF__ERR_BASE - 3, "memory size out of range")                                     \
    XX(ETARGETMAX, XF__ERR_BASE - 4, "target above static maximum")                                \
    XX(EBADMULT, XF__ERR_BASE - 5, "shadow multiplier out of range")                               \
    XX(EBADVIDEO, XF__ERR_BASE - 6, "video memory not below target")                               \
    XX(ENODATA, XF__ERR_BASE - 7, "no data")                                                       \
    XX(EPARSE, XF__ERR_BASE - 8, "malformed input")                                                \
    XX(EBADTOPO, XF__ERR_BASE - 9, "invalid topology")                                             \
    XX(ENOFIT, XF__ERR_BASE - 10, "not enough free memory")                                        \
    XX(ECLAIM, XF__ERR_BASE - 11, "claim refused")                                                 \
    XX(EBUILD, XF__ERR_BASE - 12, "domain build failed")                                           \
    XX(EUNKNOWN_RESERVATION, XF__ERR_BASE - 13, "unknown reservation")                             \
    XX(ESTATE, XF__ERR_BASE - 14, "operation not valid in this state")                             \
    XX(EBADSPEC, XF__ERR_BASE - 15, "invalid host specification")                                  \
    XX(ENOTGUEST, XF__ERR_BASE - 16, "not a guest domain")                                         \
    XX(ELIMIT, XF__ERR_BASE - 17, "too many pending reservations")

enum xf_errno {
#define XF__ERR_ENUM(name, value, msg) XF_##name = (value),
    XF_ERRNO_MAP(XF__ERR_ENUM)
#undef XF__ERR_ENUM
};

/*
 * The message for an error code, e.g. "not enough free memory". Accepts any
 * negative errno too (falls back to a generic text). Never returns NULL; the
 * string is static.
 */
const char *xf_strerror(int err);

/* The symbolic name of an error code, e.g. "XF_NOFIT" or "XF_ENOMEM". Static. */
const char *xf_err_name(int err);

#endif
