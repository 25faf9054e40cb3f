/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Names and messages for the error table in include/xenfit/error.h.
 */
#include "xenfit/error.h"

const char *xf_strerror(int err)
{
    switch (err) {
#define XF__ERR_MSG(name, value, msg)                                                              \
    case (value):                                                                                  \
        return (msg);
        XF_ERRNO_MAP(XF__ERR_MSG)
#undef XF__ERR_MSG
    case 0:
        return "success";
    default:
        return "unknown error";
    }
}

const char *xf_err_name(int err)
{
    switch (err) {
#define XF__ERR_NAME(name, value, msg)                                                             \
    case (value):                                                                                  \
        return "XF_" #name;
        XF_ERRNO_MAP(XF__ERR_NAME)
#undef XF__ERR_NAME
    case 0:
        return "XF_OK";
    default:
        return "XF_UNKNOWN";
    }
}
