/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Helpers shared by the xenfit commands: messages, option parsing, files,
 * JSON output.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "xenfit/error.h"
#include "xenfit/units.h"

__attribute__((format(printf, 2, 0))) static void vreport(const char *cmd, const char *fmt,
                                                          va_list ap)
{
    fprintf(stderr, "xenfit: %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int xf_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return XF_EXIT_USAGE;
}

int xf_cli_failure(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return XF_EXIT_FAILURE;
}

int xf_cli_bad_option(const char *cmd, int argc, char **argv)
{
    const char *opt = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "?";

    if (optopt && strchr(opt, '=') == NULL && opt[0] == '-' && opt[1] != '-' && opt[1] != '\0' &&
        opt[2] != '\0')
        return xf_cli_usage_error(cmd, "unknown option '-%c' (see 'xenfit %s --help')", optopt,
                                  cmd);
    return xf_cli_usage_error(cmd, "unknown option or missing value: '%s' (see 'xenfit %s --help')",
                              opt, cmd);
}

int xf_cli_parse_size(const char *cmd, const char *flag, const char *arg, uint64_t *ret_bytes)
{
    int r = xf_parse_size_bytes(arg, XF_BYTES_PER_MIB, ret_bytes);

    if (r == XF_EOVERFLOW)
        return xf_cli_usage_error(cmd, "%s '%s': size too large", flag, arg);
    if (r < 0 && strchr(arg, '.'))
        return xf_cli_usage_error(cmd,
                                  "%s '%s': a fraction; sizes are whole numbers of a unit "
                                  "(for 1.5G write 1536M)",
                                  flag, arg);
    if (r < 0)
        return xf_cli_usage_error(cmd,
                                  "%s '%s': not a size (an integer with an optional binary unit B, "
                                  "K, M, G, T, also KiB or KB ...; bare = MiB)",
                                  flag, arg);
    return 0;
}

int xf_cli_parse_uint(const char *cmd, const char *flag, const char *arg, uint64_t min,
                      uint64_t max, uint64_t *ret)
{
    uint64_t v;
    if (xf_parse_u64(arg, &v) < 0 || v < min || v > max)
        return xf_cli_usage_error(cmd, "%s '%s': expected an integer in %llu..%llu", flag, arg,
                                  (unsigned long long)min, (unsigned long long)max);
    *ret = v;
    return 0;
}

/* Closes what xf_cli_read_file() opened; stdin stays open. */
static void close_input(FILE *f)
{
    if (f != stdin)
        fclose(f);
}

int xf_cli_read_file(const char *cmd, const char *path, char **ret_buf, size_t *ret_len)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    struct stat st;

    if (!f)
        return xf_cli_usage_error(cmd, "cannot open '%s': %s", path, strerror(errno));
    /* fopen() opens a directory for reading; only the first read fails, with
     * a message ("cannot read") that does not say why. */
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        if (!is_stdin)
            fclose(f);
        return xf_cli_usage_error(cmd, "'%s' is a directory, not a file", path);
    }
    if (is_stdin)
        path = "<stdin>";
    for (;;) {
        if (cap - len < 4096) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nbuf;
            if (ncap > (size_t)1 << 30) {
                free(buf);
                close_input(f);
                return xf_cli_usage_error(cmd, "'%s' is larger than 1 GiB", path);
            }
            nbuf = realloc(buf, ncap);
            if (!nbuf) {
                free(buf);
                close_input(f);
                return xf_cli_failure(cmd, "out of memory reading '%s'", path);
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        int err = errno;
        free(buf);
        close_input(f);
        return xf_cli_usage_error(cmd, "cannot read '%s': %s", path, strerror(err));
    }
    close_input(f);
    buf[len] = '\0';
    *ret_buf = buf;
    *ret_len = len;
    return 0;
}

int xf_cli_print_json(json_t *value)
{
    int r = json_dumpf(value, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(value);
    if (r < 0)
        return XF_EXIT_FAILURE;
    fputc('\n', stdout);
    return XF_EXIT_OK;
}

bool xf_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    }
    return false;
}

bool xf_cli_is_host_spec(const char *buf, size_t len)
{
    json_t *o = json_loadb(buf, len, 0, NULL);
    const json_t *nodes = json_object_get(o, "nodes");
    bool spec = json_is_array(nodes) && json_is_object(json_array_get(nodes, 0)) &&
                !json_object_get(o, "cpu_to_node");
    json_decref(o);
    return spec;
}

bool xf_cli_bytes;

const char *xf_cli_size_kib(char *buf, size_t len, uint64_t kib, bool used)
{
    const uint64_t bytes = kib * XF_BYTES_PER_KIB;

    if (xf_cli_bytes)
        snprintf(buf, len, "%llu B", (unsigned long long)bytes);
    else
        snprintf(buf, len, "%llu MiB",
                 (unsigned long long)(used ? xf_mib_of_kib_used(kib) : xf_mib_of_kib_free(kib)));
    return buf;
}

const char *xf_cli_unit(void)
{
    return xf_cli_bytes ? "B" : "MiB";
}
