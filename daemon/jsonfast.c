/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * A fast path for parsing JSON-RPC requests (daemon/jsonfast.h). Profiling
 * xenfitd under its benchmark showed jansson's json_loadb() taking 44% of the
 * daemon's time for requests of ~100 bytes; this parser handles the plain
 * subset every client sends (ASCII strings without escapes, integers, true,
 * false, null, shallow arrays and objects) in one pass and builds the same
 * jansson values. Anything else -- an escape, a non-ASCII byte, a real
 * number, a long integer, a duplicate key, deep nesting, any syntax error --
 * makes it give up, and the caller parses with jansson, which then decides
 * (and words the error). So the accepted language and every error message
 * stay jansson's.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "jsonfast.h"

#define MAX_DEPTH  8
#define MAX_DIGITS 18 /* always fits in a json_int_t */

struct parser {
    const char *p, *end;
};

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* A string of printable ASCII without escapes: its bytes [start, len). */
static bool plain_string(struct parser *ps, const char **ret, size_t *ret_len)
{
    const char *s = ++ps->p; /* after the quote */
    while (ps->p < ps->end) {
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            *ret = s;
            *ret_len = (size_t)(ps->p - s);
            ps->p++;
            return true;
        }
        if (c < 0x20 || c >= 0x80 || c == '\\')
            return false;
        ps->p++;
    }
    return false;
}

static json_t *value(struct parser *ps, int depth);

static json_t *integer(struct parser *ps)
{
    bool neg = *ps->p == '-';
    json_int_t v = 0;
    int digits = 0;

    if (neg)
        ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
        return NULL;
    if (*ps->p == '0' && ps->p + 1 < ps->end && ps->p[1] >= '0' && ps->p[1] <= '9')
        return NULL; /* a leading zero: jansson's to refuse */
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        if (++digits > MAX_DIGITS)
            return NULL;
        v = v * 10 + (*ps->p++ - '0');
    }
    if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E'))
        return NULL; /* a real number */
    return json_integer(neg ? -v : v);
}

static json_t *literal(struct parser *ps, const char *word, json_t *v)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return NULL;
    ps->p += n;
    return v;
}

static json_t *array(struct parser *ps, int depth)
{
    json_t *a = json_array();
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return a;
    }
    while (a) {
        json_t *v = value(ps, depth + 1);
        if (!v || json_array_append_new(a, v) < 0)
            break;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            return a;
        }
        break;
    }
    json_decref(a);
    return NULL;
}

static json_t *object(struct parser *ps, int depth)
{
    json_t *o = json_object();
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return o;
    }
    while (o) {
        const char *key;
        size_t klen;
        json_t *v;
        if (ps->p >= ps->end || *ps->p != '"' || !plain_string(ps, &key, &klen))
            break;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':')
            break;
        ps->p++;
        if (!(v = value(ps, depth + 1)))
            break;
        /* A duplicate key is jansson's to refuse (JSON_REJECT_DUPLICATES). */
        if (json_object_getn(o, key, klen) || json_object_setn_new_nocheck(o, key, klen, v) < 0) {
            json_decref(v);
            break;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            return o;
        }
        break;
    }
    json_decref(o);
    return NULL;
}

static json_t *value(struct parser *ps, int depth)
{
    const char *s;
    size_t n;

    if (depth > MAX_DEPTH)
        return NULL;
    skip_ws(ps);
    if (ps->p >= ps->end)
        return NULL;
    switch (*ps->p) {
    case '{':
        return object(ps, depth);
    case '[':
        return array(ps, depth);
    case '"':
        return plain_string(ps, &s, &n) ? json_stringn_nocheck(s, n) : NULL;
    case 't':
        return literal(ps, "true", json_true());
    case 'f':
        return literal(ps, "false", json_false());
    case 'n':
        return literal(ps, "null", json_null());
    default:
        return integer(ps);
    }
}

json_t *xfd_json_fast(const char *buf, size_t len)
{
    struct parser ps = {buf, buf + len};
    json_t *v;

    skip_ws(&ps);
    if (ps.p >= ps.end || *ps.p != '{')
        return NULL;
    v = value(&ps, 0);
    if (!v)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        json_decref(v); /* trailing bytes: jansson's "end of file expected" */
        return NULL;
    }
    return v;
}

void xfd_json_request_done(struct xfd_json_request *r)
{
    json_decref(r->method);
    json_decref(r->params);
    json_decref(r->id);
    json_decref(r->jsonrpc);
    memset(r, 0, sizeof(*r));
}

/* The member a key names, or NULL for any other key. */
static json_t **member(struct xfd_json_request *r, const char *key, size_t n)
{
    if (n == 6 && memcmp(key, "method", 6) == 0)
        return &r->method;
    if (n == 6 && memcmp(key, "params", 6) == 0)
        return &r->params;
    if (n == 2 && memcmp(key, "id", 2) == 0)
        return &r->id;
    if (n == 7 && memcmp(key, "jsonrpc", 7) == 0)
        return &r->jsonrpc;
    return NULL;
}

bool xfd_json_fast_request(const char *buf, size_t len, struct xfd_json_request *ret)
{
    struct parser ps = {buf, buf + len};
    struct xfd_json_request r = {0};

    skip_ws(&ps);
    if (ps.p >= ps.end || *ps.p != '{')
        return false;
    ps.p++;
    skip_ws(&ps);
    if (ps.p < ps.end && *ps.p == '}') {
        ps.p++;
        goto end;
    }
    for (;;) {
        const char *key;
        size_t klen;
        json_t **slot;
        if (ps.p >= ps.end || *ps.p != '"' || !plain_string(&ps, &key, &klen) ||
            !(slot = member(&r, key, klen)) || *slot)
            goto fail; /* another key (jansson ignores it), or a duplicate */
        skip_ws(&ps);
        if (ps.p >= ps.end || *ps.p != ':')
            goto fail;
        ps.p++;
        if (!(*slot = value(&ps, 1)))
            goto fail;
        skip_ws(&ps);
        if (ps.p < ps.end && *ps.p == ',') {
            ps.p++;
            skip_ws(&ps);
            continue;
        }
        if (ps.p < ps.end && *ps.p == '}') {
            ps.p++;
            break;
        }
        goto fail;
    }
end:
    skip_ws(&ps);
    if (ps.p != ps.end)
        goto fail;
    *ret = r;
    return true;
fail:
    xfd_json_request_done(&r);
    return false;
}
