/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xl configuration files read by xl's own parser, libxlutil (libxlutil.h,
 * libxen-dev): xlu_cfg_init, xlu_cfg_readfile and the xlu_cfg_get_*
 * accessors. libxlutil writes its diagnostics ("FILE:LINE: ...") to a
 * stream given at xlu_cfg_init; they are kept in memory and become the
 * message of the failing call, with the offending value added. Built only
 * when CMake finds libxlutil (HAVE_LIBXLUTIL); otherwise every call answers
 * -ENOSYS and the built-in reader (xlcfg-read.c) is used.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg.h"

#ifdef HAVE_LIBXLUTIL
#include <libxlutil.h>

struct xlu {
    struct xf_xl_source src;
    XLU_Config *cfg;
    FILE *report; /* libxlutil's diagnostics, into buf */
    char *buf;
    size_t len;
};

static struct xlu *X(struct xf_xl_source *src)
{
    return (struct xlu *)src;
}

/* libxlutil's last diagnostics (without the trailing newline), then `what`. */
static void take_report(struct xlu *x, const char *key, const char *what)
{
    const char *text;
    size_t n;

    fflush(x->report);
    text = x->buf ? x->buf : "";
    n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        n--;
    if (n) {
        /* One line: libxlutil's lines joined with "; ". */
        size_t at = 0;
        for (size_t i = 0; i < n && at + 3 < sizeof(x->src.err); i++) {
            if (text[i] == '\n') {
                x->src.err[at++] = ';';
                x->src.err[at++] = ' ';
            } else {
                x->src.err[at++] = text[i];
            }
        }
        x->src.err[at] = '\0';
        snprintf(x->src.err + at, sizeof(x->src.err) - at, "%s", what);
    } else
        snprintf(x->src.err, sizeof(x->src.err), "%s: %s%s", x->src.path, key, what);
    /* Start the next diagnostics afresh. */
    rewind(x->report);
    if (x->buf)
        x->buf[0] = '\0';
}

static int x_get_string(struct xf_xl_source *src, const char *key, const char **ret)
{
    int r = xlu_cfg_get_string(X(src)->cfg, key, ret, 0);
    if (r && r != ESRCH)
        take_report(X(src), key, "");
    return r;
}

static int x_get_long(struct xf_xl_source *src, const char *key, long *ret)
{
    const char *text = NULL;
    char what[200] = "";
    int r = xlu_cfg_get_long(X(src)->cfg, key, ret, 0);

    if (r == 0 || r == ESRCH)
        return r;
    if (xlu_cfg_get_string(X(src)->cfg, key, &text, 1) == 0)
        snprintf(what, sizeof(what), " (%s = '%.120s')", key, text);
    take_report(X(src), key, what);
    return r;
}

static int x_get_list(struct xf_xl_source *src, const char *key, int *ret_n)
{
    XLU_ConfigList *list;
    return xlu_cfg_get_list(X(src)->cfg, key, &list, ret_n, 1);
}

static const char *x_list_item(struct xf_xl_source *src, const char *key, int i)
{
    XLU_ConfigList *list;
    int n;
    if (xlu_cfg_get_list(X(src)->cfg, key, &list, &n, 1))
        return NULL;
    return xlu_cfg_get_listitem(list, i);
}

static void x_free(struct xf_xl_source *src)
{
    struct xlu *x = X(src);
    xlu_cfg_destroy(x->cfg);
    if (x->report)
        fclose(x->report);
    free(x->buf);
    free(x);
}

static const struct xf_xl_source_ops xlu_ops = {
    .get_string = x_get_string,
    .get_long = x_get_long,
    .get_list = x_get_list,
    .list_item = x_list_item,
    .free = x_free,
};

int xf_xl_source_xlu(const char *path, struct xf_xl_source **ret, char *err, size_t errlen)
{
    struct xlu *x;
    char *data = NULL;
    size_t len = 0;
    int r;

    /* Read here, parsed from memory (xlu_cfg_readdata): libxlutil's own
     * open reports a failure with a stale errno ("Success"), and its flex
     * scanner exits the process when given a directory. */
    if ((r = xf_xl_read_file(path, &data, &len, err, errlen)) < 0)
        return r;
    if (!(x = calloc(1, sizeof(*x)))) {
        free(data);
        return -ENOMEM;
    }
    x->src.ops = &xlu_ops;
    snprintf(x->src.path, sizeof(x->src.path), "%s", path);
    x->report = open_memstream(&x->buf, &x->len);
    if (!x->report || !(x->cfg = xlu_cfg_init(x->report, path))) {
        free(data);
        x_free(&x->src);
        return -ENOMEM;
    }
    r = xlu_cfg_readdata(x->cfg, data, (int)len);
    free(data);
    if (r) {
        take_report(x, "", "");
        snprintf(err, errlen, "%s", x->src.err[0] ? x->src.err : strerror(r));
        x_free(&x->src);
        return -r;
    }
    *ret = &x->src;
    return 0;
}

const char *xf_xl_reader_name(void)
{
    return "libxlutil";
}

#else

int xf_xl_source_xlu(const char *path, struct xf_xl_source **ret, char *err, size_t errlen)
{
    (void)ret;
    snprintf(err, errlen, "%s: xenfit was built without libxlutil", path);
    return -ENOSYS;
}

const char *xf_xl_reader_name(void)
{
    return "built-in";
}

#endif
