/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The built-in reader of xl configuration files, for builds without
 * libxlutil: the grammar of tools/libs/util/libxlu_cfg_l.l and
 * libxlu_cfg_y.y (Xen RELEASE-4.17.7, 9373a593c5a6), read strictly, and the
 * accessors of libxlu_cfg.c (find, find_atom, xlu_cfg_get_bounded_long,
 * xlu_cfg_get_list, xlu_cfg_get_listitem) with their results. What it
 * follows, token by token:
 *   - identifiers [a-z][._0-9a-z]*, numbers [0-9][0-9a-fx]* (kept as text:
 *     libxlutil stores every atom as a string and reads numbers with
 *     strtol(s, &end, 0), so 0x10 is 16 and 010 is 8);
 *   - strings in '...' or "..." on one line, with xlu__cfgl_dequote's
 *     escapes (\" \' \\ \a \b \f \n \r \t \v; its \x and octal escapes are
 *     refused here: 4.17's NUMERIC_CHAR never accepts two hex digits);
 *   - lists [a, b, [c]], newlines allowed inside, a trailing comma too;
 *   - `key = value`, `key += value` (appends to the previous value of the
 *     key: strings concatenated, lists joined, a mix refused), ended by a
 *     newline or ';' (the last one may end at the end of the file);
 *   - `#` comments to the end of the line; a later setting of a key
 *     replaces an earlier one (find() returns the newest);
 *   - anything else (a '-', '.', '(' ... outside a string) is a lexical
 *     error. The first error fails the file, with its line and text.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xlcfg.h"

struct value {
    bool list;
    char *string;         /* !list */
    struct value **items; /* list */
    int n;
};

struct setting {
    char *name;
    bool add; /* += */
    int line;
    struct value *value;
};

struct builtin {
    struct xf_xl_source src;
    struct setting *settings;
    size_t n, cap;
};

struct lexer {
    const char *p, *end;
    int line;
    const char *path;
    char *err;
    size_t errlen;
};

enum tok { T_EOF, T_IDENT, T_NUMBER, T_STRING, T_NL, T_SEMI, T_COMMA, T_LB, T_RB, T_EQ, T_ADD };

struct token {
    enum tok kind;
    const char *start;
    size_t len;
    int line;
    char *text; /* IDENT, NUMBER, STRING: owned */
};

static void value_free(struct value *v)
{
    if (!v)
        return;
    free(v->string);
    for (int i = 0; i < v->n; i++)
        value_free(v->items[i]);
    free(v->items);
    free(v);
}

static int lex_error(struct lexer *lx, int line, const char *near, size_t len, const char *what)
{
    while (len > 0 && (near[len - 1] == ' ' || near[len - 1] == '\t' || near[len - 1] == '\n'))
        len--;
    snprintf(lx->err, lx->errlen, "%s:%d: config parsing error near `%.*s': %s", lx->path, line,
             (int)(len > 60 ? 60 : len), len ? near : "<newline>", what);
    return -EINVAL;
}

/* Dequotes a string token (xlu__cfgl_dequote). */
static int dequote(struct lexer *lx, const char *s, size_t len, int line, char **ret)
{
    char *out = malloc(len), *q = out;
    const char *p = s + 1, *end = s + len - 1;

    if (!out)
        return -ENOMEM;
    while (p < end) {
        char c = *p++;
        if (c != '\\') {
            *q++ = c;
            continue;
        }
        c = *p++;
        switch (c) {
        case '"':
        case '\'':
        case '\\':
            *q++ = c;
            break;
        case 'a':
            *q++ = '\a';
            break;
        case 'b':
            *q++ = '\b';
            break;
        case 'f':
            *q++ = '\f';
            break;
        case 'n':
            *q++ = '\n';
            break;
        case 'r':
            *q++ = '\r';
            break;
        case 't':
            *q++ = '\t';
            break;
        case 'v':
            *q++ = '\v';
            break;
        default:
            free(out);
            return lex_error(lx, line, s, len,
                             c == 'x' || (c >= '0' && c <= '7')
                                 ? "numerical character escapes in quoted strings are not "
                                   "accepted (xl 4.17 rejects \\x and mis-reads octal)"
                                 : "invalid character after backslash in quoted string");
        }
    }
    *q = '\0';
    *ret = out;
    return 0;
}

static bool is_ident(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (!first && ((c >= '0' && c <= '9') || c == '.' || c == '_'));
}

static int next(struct lexer *lx, struct token *t)
{
    const char *p = lx->p;

    while (p < lx->end && (*p == ' ' || *p == '\t'))
        p++;
    memset(t, 0, sizeof(*t));
    t->start = p;
    t->line = lx->line;
    if (p >= lx->end) {
        t->kind = T_EOF;
        lx->p = p;
        return 0;
    }
    if (*p == '#') {
        while (p < lx->end && *p != '\n')
            p++;
        if (p >= lx->end) {
            /* The lexer's comment rule is `\#.*\n`: xl refuses a comment
             * that ends the file without a newline. */
            return lex_error(lx, lx->line, t->start, (size_t)(p - t->start),
                             "lexical error (a comment must end with a newline)");
        }
    }
    if (*p == '\n') {
        t->kind = T_NL;
        lx->line++;
        lx->p = p + 1;
        return 0;
    }
    if (is_ident(*p, true) || (*p >= '0' && *p <= '9')) {
        bool ident = is_ident(*p, true);
        const char *s = p++;
        while (p < lx->end &&
               (ident ? is_ident(*p, false)
                      : ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == 'x')))
            p++;
        t->kind = ident ? T_IDENT : T_NUMBER;
        t->len = (size_t)(p - s);
        t->text = strndup(s, t->len);
        lx->p = p;
        return t->text ? 0 : -ENOMEM;
    }
    if (*p == '"' || *p == '\'') {
        char q = *p;
        const char *s = p++;
        while (p < lx->end && *p != q && *p != '\n') {
            if (*p == '\\' && p + 1 < lx->end && p[1] != '\n')
                p++;
            p++;
        }
        if (p >= lx->end || *p != q)
            return lex_error(lx, lx->line, s, (size_t)(p - s),
                             "lexical error (a string must end on its line)");
        p++;
        t->kind = T_STRING;
        t->len = (size_t)(p - s);
        lx->p = p;
        return dequote(lx, s, t->len, t->line, &t->text);
    }
    switch (*p) {
    case ',':
        t->kind = T_COMMA;
        break;
    case '[':
        t->kind = T_LB;
        break;
    case ']':
        t->kind = T_RB;
        break;
    case ';':
        t->kind = T_SEMI;
        break;
    case '=':
        t->kind = T_EQ;
        break;
    case '+':
        if (p + 1 < lx->end && p[1] == '=') {
            t->kind = T_ADD;
            t->len = 2;
            lx->p = p + 2;
            return 0;
        }
        /* fall through */
    default: {
        const char *e = p;
        while (e < lx->end && *e != ' ' && *e != '\t' && *e != '\n')
            e++;
        return lex_error(lx, lx->line, p, (size_t)(e - p),
                         strchr("+-.():", *p) ? "lexical error (xl configs are not Python)"
                                              : "lexical error");
    }
    }
    t->len = 1;
    lx->p = p + 1;
    return 0;
}

struct parser {
    struct lexer lx;
    struct token tok;
    struct builtin *b;
};

static int advance(struct parser *ps)
{
    free(ps->tok.text);
    ps->tok.text = NULL;
    return next(&ps->lx, &ps->tok);
}

static int syntax_error(struct parser *ps)
{
    return lex_error(&ps->lx, ps->tok.line, ps->tok.start,
                     ps->tok.kind == T_NL ? 0
                     : ps->tok.len        ? ps->tok.len
                                          : 1,
                     "syntax error");
}

static int skip_newlines(struct parser *ps)
{
    int r = 0;
    while (r == 0 && ps->tok.kind == T_NL)
        r = advance(ps);
    return r;
}

static int list_add(struct value *list, struct value *v)
{
    struct value **items = realloc(list->items, sizeof(struct value *) * (size_t)(list->n + 1));
    if (!items)
        return -ENOMEM;
    list->items = items;
    items[list->n++] = v;
    return 0;
}

static int parse_value(struct parser *ps, struct value **ret, int depth);

/* '[' nlok valuelist ']' with the '[' read. */
static int parse_list(struct parser *ps, struct value *list, int depth)
{
    int r;

    if ((r = advance(ps)) < 0 || (r = skip_newlines(ps)) < 0)
        return r;
    while (ps->tok.kind != T_RB) {
        struct value *v = NULL;
        if ((r = parse_value(ps, &v, depth + 1)) < 0)
            return r;
        if ((r = list_add(list, v)) < 0) {
            value_free(v);
            return r;
        }
        if ((r = skip_newlines(ps)) < 0)
            return r;
        if (ps->tok.kind == T_RB)
            break;
        if (ps->tok.kind != T_COMMA)
            return syntax_error(ps);
        if ((r = advance(ps)) < 0 || (r = skip_newlines(ps)) < 0)
            return r;
    }
    return advance(ps);
}

static int parse_value(struct parser *ps, struct value **ret, int depth)
{
    struct value *v;
    int r;

    if (depth > 64)
        return lex_error(&ps->lx, ps->tok.line, ps->tok.start, 1, "lists nested too deeply");
    if (ps->tok.kind != T_NUMBER && ps->tok.kind != T_STRING && ps->tok.kind != T_LB)
        return syntax_error(ps);
    v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    if (ps->tok.kind == T_LB) {
        v->list = true;
        r = parse_list(ps, v, depth);
    } else {
        v->string = ps->tok.text;
        ps->tok.text = NULL;
        r = advance(ps);
    }
    if (r < 0) {
        value_free(v);
        return r;
    }
    *ret = v;
    return 0;
}

/* The newest setting of a name (find in libxlu_cfg.c). */
static struct setting *find(const struct builtin *b, const char *name)
{
    for (size_t i = b->n; i-- > 0;)
        if (strcmp(b->settings[i].name, name) == 0)
            return &b->settings[i];
    return NULL;
}

/* xlu__cfg_concat_vals: `name += v` joins the previous value into v. */
static int concat(struct parser *ps, const struct setting *prev, struct value *v, int line)
{
    const struct value *pv = prev->value;

    if (!v || !pv)
        return -EINVAL;
    if (pv->list != v->list)
        return lex_error(&ps->lx, line, prev->name, strlen(prev->name),
                         "can't add [list] to \"string\" or vice versa");
    if (!v->list) {
        size_t a = strlen(pv->string), b = strlen(v->string);
        char *s = malloc(a + b + 1);
        if (!s)
            return -ENOMEM;
        memcpy(s, pv->string, a);
        memcpy(s + a, v->string, b + 1);
        free(v->string);
        v->string = s;
        return 0;
    }
    struct value **items = malloc(sizeof(struct value *) * (size_t)(pv->n + v->n + 1));
    if (!items)
        return -ENOMEM;
    /* The previous items are shared: copy them as new values. */
    for (int i = 0; i < pv->n; i++) {
        struct value *c = calloc(1, sizeof(*c));
        if (!c || pv->items[i]->list || !(c->string = strdup(pv->items[i]->string))) {
            /* A nested list appended to: kept simple, refused. */
            for (int j = 0; j < i; j++)
                value_free(items[j]);
            free(c);
            free(items);
            return c ? lex_error(&ps->lx, line, prev->name, strlen(prev->name),
                                 "+= of a list that holds lists is not supported")
                     : -ENOMEM;
        }
        items[i] = c;
    }
    memcpy(items + pv->n, v->items, sizeof(struct value *) * (size_t)v->n);
    free(v->items);
    v->items = items;
    v->n += pv->n;
    return 0;
}

static int store(struct parser *ps, char *name, bool add, struct value *v, int line)
{
    struct builtin *b = ps->b;
    const struct setting *prev = add ? find(b, name) : NULL;
    int r = prev ? concat(ps, prev, v, line) : 0;

    if (r == 0 && b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct setting *s = realloc(b->settings, cap * sizeof(*s));
        if (!s)
            r = -ENOMEM;
        else {
            b->settings = s;
            b->cap = cap;
        }
    }
    if (r < 0) {
        free(name);
        value_free(v);
        return r;
    }
    b->settings[b->n++] = (struct setting){.name = name, .add = add, .line = line, .value = v};
    return 0;
}

/* stmt: IDENT ('=' | '+=') value (NEWLINE | ';' | end of file) | NEWLINE | ';' */
static int parse_file(struct parser *ps)
{
    int r = advance(ps);

    while (r == 0 && ps->tok.kind != T_EOF) {
        char *name;
        bool add;
        int line;
        struct value *v = NULL;

        if (ps->tok.kind == T_NL || ps->tok.kind == T_SEMI) {
            r = advance(ps);
            continue;
        }
        if (ps->tok.kind != T_IDENT)
            return syntax_error(ps);
        name = ps->tok.text;
        ps->tok.text = NULL;
        line = ps->tok.line;
        if ((r = advance(ps)) < 0 || (ps->tok.kind != T_EQ && ps->tok.kind != T_ADD)) {
            free(name);
            return r < 0 ? r : syntax_error(ps);
        }
        add = ps->tok.kind == T_ADD;
        if ((r = advance(ps)) < 0 || (r = parse_value(ps, &v, 0)) < 0) {
            free(name);
            return r;
        }
        if ((r = store(ps, name, add, v, line)) < 0)
            return r;
        if (ps->tok.kind != T_NL && ps->tok.kind != T_SEMI && ps->tok.kind != T_EOF)
            return syntax_error(ps);
    }
    return r;
}

static struct builtin *B(struct xf_xl_source *src)
{
    return (struct builtin *)src;
}

static int find_atom(struct xf_xl_source *src, const char *key, const struct setting **ret)
{
    const struct setting *s = find(B(src), key);
    if (!s)
        return ESRCH;
    if (s->value->list) {
        snprintf(src->err, sizeof(src->err),
                 "%s:%d: parameter `%s' is a list but should be a single value", src->path, s->line,
                 key);
        return EINVAL;
    }
    *ret = s;
    return 0;
}

static int b_get_string(struct xf_xl_source *src, const char *key, const char **ret)
{
    const struct setting *s;
    int r = find_atom(src, key, &s);
    if (r == 0)
        *ret = s->value->string;
    return r;
}

static int b_get_long(struct xf_xl_source *src, const char *key, long *ret)
{
    const struct setting *s;
    char *end;
    long l;
    int r = find_atom(src, key, &s);

    if (r)
        return r;
    if (s->add) {
        snprintf(src->err, sizeof(src->err), "%s:%d: can't use += with numbers for parameter `%s'",
                 src->path, s->line, key);
        return EINVAL;
    }
    errno = 0;
    l = strtol(s->value->string, &end, 0);
    if (errno == ERANGE) {
        snprintf(src->err, sizeof(src->err), "%s:%d: %s = '%s': out of range", src->path, s->line,
                 key, s->value->string);
        return ERANGE;
    }
    if (*end || end == s->value->string) {
        snprintf(src->err, sizeof(src->err),
                 "%s:%d: %s = '%s': not a valid number (xl reads it with strtol, base 0)",
                 src->path, s->line, key, s->value->string);
        return EINVAL;
    }
    *ret = l;
    return 0;
}

static int b_get_list(struct xf_xl_source *src, const char *key, int *ret_n)
{
    const struct setting *s = find(B(src), key);
    if (!s)
        return ESRCH;
    if (!s->value->list)
        return EINVAL;
    *ret_n = s->value->n;
    return 0;
}

static const char *b_list_item(struct xf_xl_source *src, const char *key, int i)
{
    const struct setting *s = find(B(src), key);
    if (!s || !s->value->list || i < 0 || i >= s->value->n || s->value->items[i]->list)
        return NULL;
    return s->value->items[i]->string;
}

static void b_free(struct xf_xl_source *src)
{
    struct builtin *b = B(src);
    for (size_t i = 0; i < b->n; i++) {
        free(b->settings[i].name);
        value_free(b->settings[i].value);
    }
    free(b->settings);
    free(b);
}

static const struct xf_xl_source_ops builtin_ops = {
    .get_string = b_get_string,
    .get_long = b_get_long,
    .get_list = b_get_list,
    .list_item = b_list_item,
    .free = b_free,
};

int xf_xl_read_file(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf;
    size_t len;

    if (!f || fstat(fileno(f), &st) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: unable to open configuration file: %s", path, strerror(e));
        if (f)
            fclose(f);
        return -e;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory, not an xl config", path);
        fclose(f);
        return -EISDIR;
    }
    buf = malloc((1u << 20) + 1);
    if (!buf) {
        fclose(f);
        return -ENOMEM;
    }
    len = fread(buf, 1, 1u << 20, f);
    if (ferror(f) || (len == 1u << 20 && fgetc(f) != EOF)) {
        snprintf(err, errlen, "%s: %s", path,
                 ferror(f) ? "cannot be read" : "is larger than 1 MiB: not an xl config");
        fclose(f);
        free(buf);
        return -EINVAL;
    }
    fclose(f);
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    return 0;
}

int xf_xl_source_builtin(const char *path, struct xf_xl_source **ret, char *err, size_t errlen)
{
    struct builtin *b = calloc(1, sizeof(*b));
    struct parser ps;
    char *text = NULL;
    size_t len = 0;
    int r;

    if (!b)
        return -ENOMEM;
    b->src.ops = &builtin_ops;
    snprintf(b->src.path, sizeof(b->src.path), "%s", path);
    if ((r = xf_xl_read_file(path, &text, &len, err, errlen)) < 0) {
        free(b);
        return r;
    }
    if (!text || memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: holds a NUL byte: not an xl config", path);
        free(text);
        free(b);
        return -EINVAL;
    }
    memset(&ps, 0, sizeof(ps));
    ps.lx = (struct lexer){
        .p = text, .end = text + len, .line = 1, .path = b->src.path, .err = err, .errlen = errlen};
    ps.b = b;
    r = parse_file(&ps);
    free(ps.tok.text);
    free(text);
    if (r < 0) {
        if (r == -ENOMEM)
            snprintf(err, errlen, "%s: out of memory", path);
        b_free(&b->src);
        return r;
    }
    *ret = &b->src;
    return 0;
}

void xf_xl_source_free(struct xf_xl_source *src)
{
    if (src)
        src->ops->free(src);
}
