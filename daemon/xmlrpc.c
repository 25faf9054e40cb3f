/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * ocaml-rpc's XML-RPC encoding for xenfitd (daemon/xmlrpc.h). expat parses
 * the document into a small element tree (names, the text directly inside,
 * children); the walkers below read that tree with the rules of ocaml-rpc's
 * Xmlrpc.Parser (mirage/ocaml-rpc src/lib/xmlrpc.ml at 1b9c151f: value,
 * map_tags, empty_tag, basic_types, call_of_string, response_of_input), and
 * every refusal says which element was wrong and why.
 */
#include <errno.h>
#include <expat.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenfit/error.h"
#include "xmlrpc.h"

bool xfd_xmlrpc_is_xml(const char *body, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return c == '<';
    }
    return false;
}

/* --- The element tree ---------------------------------------------------- */

struct node {
    char *name;
    struct xfd_buf text; /* character data directly inside, concatenated */
    struct node *parent, *first, *last, *next;
    size_t nchildren;
};

struct builder {
    XML_Parser parser;
    struct node *root, *cur;
    unsigned depth;
    bool oom;
    const char *refusal; /* why the builder stopped the parser, or NULL */
};

static void node_free(struct node *n)
{
    while (n) {
        struct node *next = n->next;
        node_free(n->first);
        free(n->name);
        xfd_buf_free(&n->text);
        free(n);
        n = next;
    }
}

static void stop(struct builder *b, const char *why)
{
    if (!b->refusal && !b->oom)
        b->refusal = why;
    (void)XML_StopParser(b->parser, XML_FALSE);
}

static void on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    struct builder *b = data;
    struct node *n;

    (void)attrs; /* XML-RPC has none; ocaml-rpc ignores them too */
    if (b->refusal || b->oom)
        return;
    if (++b->depth > XFD_XMLRPC_MAX_DEPTH) {
        stop(b, "elements nested deeper than 64 levels");
        return;
    }
    n = calloc(1, sizeof(*n));
    if (!n || !(n->name = strdup(name))) {
        free(n);
        b->oom = true;
        stop(b, NULL);
        return;
    }
    n->parent = b->cur;
    if (!b->cur) {
        b->root = n;
    } else {
        if (b->cur->last)
            b->cur->last->next = n;
        else
            b->cur->first = n;
        b->cur->last = n;
        b->cur->nchildren++;
    }
    b->cur = n;
}

static void on_end(void *data, const XML_Char *name)
{
    struct builder *b = data;
    (void)name; /* expat has checked that it matches */
    if (b->refusal || b->oom || !b->cur)
        return;
    b->depth--;
    b->cur = b->cur->parent;
}

static void on_text(void *data, const XML_Char *s, int len)
{
    struct builder *b = data;
    if (b->refusal || b->oom || !b->cur || len <= 0)
        return;
    if (xfd_buf_add(&b->cur->text, s, (size_t)len) < 0) {
        b->oom = true;
        stop(b, NULL);
    }
}

static void on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
                       const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    stop(data, "a DOCTYPE is not accepted in an XML-RPC body");
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return XF_EPARSE;
}

/* Parses the document into *ret_root (node_free() it). Returns 0,
 * XF_EPARSE with err, or -ENOMEM. */
static int build(const char *body, size_t len, struct node **ret_root, char *err, size_t errlen)
{
    struct builder b = {0};
    enum XML_Status st;
    int r = 0;

    if (len > (size_t)INT32_MAX)
        return fail(err, errlen, "XML body too large");
    b.parser = XML_ParserCreate("UTF-8");
    if (!b.parser)
        return -ENOMEM;
    XML_SetUserData(b.parser, &b);
    XML_SetElementHandler(b.parser, on_start, on_end);
    XML_SetCharacterDataHandler(b.parser, on_text);
    XML_SetStartDoctypeDeclHandler(b.parser, on_doctype);
    st = XML_Parse(b.parser, body, (int)len, XML_TRUE);
    if (b.oom) {
        r = -ENOMEM;
    } else if (b.refusal) {
        r = fail(err, errlen, "malformed XML-RPC at line %lu: %s",
                 (unsigned long)XML_GetCurrentLineNumber(b.parser), b.refusal);
    } else if (st != XML_STATUS_OK) {
        r = fail(err, errlen, "malformed XML at line %lu, column %lu: %s",
                 (unsigned long)XML_GetCurrentLineNumber(b.parser),
                 (unsigned long)XML_GetCurrentColumnNumber(b.parser) + 1,
                 XML_ErrorString(XML_GetErrorCode(b.parser)));
    }
    XML_ParserFree(b.parser);
    if (r == 0 && !b.root)
        r = fail(err, errlen, "no XML element in the body");
    if (r < 0) {
        node_free(b.root);
        return r;
    }
    *ret_root = b.root;
    return 0;
}

/* --- Reading the tree as ocaml-rpc's Xmlrpc.Parser does ------------------ */

/* ocaml-rpc's Parser.is_empty counts space, tab and LF; expat has already
 * turned CR LF into LF, and a lone CR is as blank. */
static bool blank(const struct node *n)
{
    const struct xfd_buf *t = &n->text;
    for (size_t i = 0; i < t->len; i++)
        if (t->p[i] != ' ' && t->p[i] != '\t' && t->p[i] != '\n' && t->p[i] != '\r')
            return false;
    return true;
}

/* A NUL-terminated copy of a node's text in a stack buffer (for numbers). */
static bool short_text(const struct node *n, char *buf, size_t size)
{
    if (n->text.len >= size)
        return false;
    if (n->text.len)
        memcpy(buf, n->text.p, n->text.len);
    buf[n->text.len] = '\0';
    return true;
}

/* A container (params, array, struct, ...) holds elements and blank text. */
static int container(const struct node *n, char *err, size_t errlen)
{
    if (!n)
        return fail(err, errlen, "an element is missing");
    if (!blank(n))
        return fail(err, errlen, "text inside <%s>, where only elements belong", n->name);
    return 0;
}

/* The only child of n, which must be named `name`. */
static int only_child(const struct node *n, const char *name, const struct node **ret, char *err,
                      size_t errlen)
{
    int r = container(n, err, errlen);
    *ret = NULL;
    if (r < 0 || !n)
        return r < 0 ? r : XF_EPARSE;
    if (n->nchildren != 1 || !n->first || strcmp(n->first->name, name) != 0)
        return fail(err, errlen, "<%s> must hold exactly one <%s>", n->name, name);
    *ret = n->first;
    return 0;
}

/* A leaf's text; a leaf holds no elements. */
static int leaf(const struct node *n, char *err, size_t errlen)
{
    if (n->nchildren)
        return fail(err, errlen, "<%s> holds an element <%s>, where text belongs", n->name,
                    n->first->name);
    return 0;
}

static int value_of(const struct node *n, unsigned depth, json_t **ret, char *err, size_t errlen);

/* Strict decimal int64 with an optional sign (OCaml's Int64.of_string also
 * takes 0x.., 0o.., 0b.. and underscores; ocaml-rpc itself never writes them). */
static bool parse_i64(const char *s, int64_t *ret)
{
    char *end;
    long long v;
    if (!*s || (*s != '-' && *s != '+' && (*s < '0' || *s > '9')))
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *ret = (int64_t)v;
    return true;
}

static int array_of(const struct node *t, unsigned depth, json_t **ret, char *err, size_t errlen)
{
    const struct node *data = NULL;
    json_t *a;
    int r = only_child(t, "data", &data, err, errlen);

    if (r < 0 || !data || (r = container(data, err, errlen)) < 0)
        return r < 0 ? r : XF_EPARSE;
    if (!(a = json_array()))
        return -ENOMEM;
    for (const struct node *c = data->first; c; c = c->next) {
        json_t *v = NULL;
        if (strcmp(c->name, "value") != 0) {
            r = fail(err, errlen, "<data> holds <%s>, not <value>", c->name);
            break;
        }
        if ((r = value_of(c, depth + 1, &v, err, errlen)) < 0)
            break;
        if (json_array_append_new(a, v) < 0) {
            r = -ENOMEM;
            break;
        }
    }
    if (r < 0) {
        json_decref(a);
        return r;
    }
    *ret = a;
    return 0;
}

static int struct_of(const struct node *t, unsigned depth, json_t **ret, char *err, size_t errlen)
{
    json_t *o;
    int r = container(t, err, errlen);

    if (r < 0)
        return r;
    if (!(o = json_object()))
        return -ENOMEM;
    for (const struct node *m = t->first; m && r == 0; m = m->next) {
        const struct node *name = m->first, *val = name ? name->next : NULL;
        char key[256];
        json_t *v = NULL;
        if (strcmp(m->name, "member") != 0) {
            r = fail(err, errlen, "<struct> holds <%s>, not <member>", m->name);
            break;
        }
        if ((r = container(m, err, errlen)) < 0)
            break;
        if (m->nchildren != 2 || !name || !val || strcmp(name->name, "name") != 0 ||
            strcmp(val->name, "value") != 0) {
            r = fail(err, errlen, "a <member> must hold <name> then <value>");
            break;
        }
        if ((r = leaf(name, err, errlen)) < 0)
            break;
        if (!short_text(name, key, sizeof(key)) || strlen(key) != name->text.len) {
            r = fail(err, errlen, "a member <name> longer than 255 bytes or with a NUL");
            break;
        }
        if (json_object_get(o, key)) {
            r = fail(err, errlen, "duplicate struct member '%s'", key);
            break;
        }
        if ((r = value_of(val, depth + 1, &v, err, errlen)) < 0)
            break;
        if (json_object_set_new(o, key, v) < 0)
            r = -ENOMEM;
    }
    if (r < 0) {
        json_decref(o);
        return r;
    }
    *ret = o;
    return 0;
}

/* The typed content of a <value> (Parser.map_tags with basic_types). */
static int typed(const struct node *t, unsigned depth, json_t **ret, char *err, size_t errlen)
{
    const char *tag = t->name;
    char num[64];
    int64_t i;
    double d;
    char *end;

    /* An element with nothing at all inside (Parser.empty_tag). */
    if (t->nchildren == 0 && t->text.len == 0) {
        if (strcmp(tag, "string") == 0 || strcmp(tag, "value") == 0)
            *ret = json_string("");
        else if (strcmp(tag, "array") == 0)
            *ret = json_array();
        else if (strcmp(tag, "struct") == 0)
            *ret = json_object();
        else if (strcmp(tag, "nil") == 0)
            *ret = json_null();
        else
            return fail(err, errlen, "empty <%s>: it needs a value", tag);
        return *ret ? 0 : -ENOMEM;
    }
    if (strcmp(tag, "array") == 0)
        return array_of(t, depth, ret, err, errlen);
    if (strcmp(tag, "struct") == 0)
        return struct_of(t, depth, ret, err, errlen);
    int r = leaf(t, err, errlen);
    if (r < 0)
        return r;
    if (strcmp(tag, "int") == 0 || strcmp(tag, "i4") == 0 || strcmp(tag, "i8") == 0) {
        if (!short_text(t, num, sizeof(num)) || !parse_i64(num, &i))
            return fail(err, errlen, "<%s> '%.40s' is not a 64-bit decimal integer", tag,
                        t->text.len < sizeof(num) ? num : "(too long)");
        *ret = json_integer((json_int_t)i);
    } else if (strcmp(tag, "boolean") == 0) {
        /* Parser.make_bool: "1" is true, anything else false. */
        *ret = json_boolean(t->text.len == 1 && t->text.p[0] == '1');
    } else if (strcmp(tag, "double") == 0) {
        if (!short_text(t, num, sizeof(num)))
            return fail(err, errlen, "<double> longer than 63 bytes");
        errno = 0;
        d = strtod(num, &end);
        if (end == num || *end != '\0' || errno == ERANGE || d != d)
            return fail(err, errlen, "<double> '%s' is not a finite number", num);
        *ret = json_real(d);
    } else if (strcmp(tag, "string") == 0 || strcmp(tag, "dateTime.iso8601") == 0) {
        *ret = json_stringn(t->text.p, t->text.len);
    } else if (strcmp(tag, "base64") == 0) {
        return fail(err, errlen, "<base64> is not supported (no memory method takes it)");
    } else {
        return fail(err, errlen,
                    "unknown value type <%s> (expected int, i4, i8, boolean, double, string, "
                    "dateTime.iso8601, array, struct or nil)",
                    tag);
    }
    return *ret ? 0 : -ENOMEM;
}

/* A <value> element (Parser.value): text alone is a string, whitespace
 * around one typed element is that element's value. */
static int value_of(const struct node *n, unsigned depth, json_t **ret, char *err, size_t errlen)
{
    if (!n)
        return -EINVAL;
    if (depth > XFD_XMLRPC_MAX_DEPTH)
        return fail(err, errlen, "values nested deeper than %u levels", XFD_XMLRPC_MAX_DEPTH);
    if (n->nchildren == 0) {
        *ret = json_stringn(n->text.p ? n->text.p : "", n->text.len);
        return *ret ? 0 : -ENOMEM;
    }
    if (!blank(n))
        return fail(err, errlen, "<value> holds both text and <%s>", n->first->name);
    if (n->nchildren != 1)
        return fail(err, errlen, "<value> holds %zu elements, not one", n->nchildren);
    return typed(n->first, depth, ret, err, errlen);
}

int xfd_xmlrpc_decode_call(const char *body, size_t len, char **ret_method, json_t **ret_params,
                           char *err, size_t errlen)
{
    struct node *root = NULL;
    const struct node *name, *params;
    json_t *list = NULL;
    char *method = NULL;
    int r = build(body, len, &root, err, errlen);

    if (r < 0 || !root) /* build() gives a root whenever it returns 0 */
        return r < 0 ? r : -EINVAL;
    /* call_of_string: methodCall, then methodName and params, in order. */
    if (strcmp(root->name, "methodCall") != 0) {
        r = fail(err, errlen, "the document is <%s>, not an XML-RPC <methodCall>", root->name);
        goto out;
    }
    if ((r = container(root, err, errlen)) < 0)
        goto out;
    name = root->first;
    params = name ? name->next : NULL;
    if (root->nchildren != 2 || !name || !params || strcmp(name->name, "methodName") != 0 ||
        strcmp(params->name, "params") != 0) {
        r = fail(err, errlen, "<methodCall> must hold <methodName> then <params>");
        goto out;
    }
    if ((r = leaf(name, err, errlen)) < 0 || (r = container(params, err, errlen)) < 0)
        goto out;
    if (!(method = strndup(name->text.p ? name->text.p : "", name->text.len)) ||
        !(list = json_array())) {
        r = -ENOMEM;
        goto out;
    }
    for (const struct node *p = params->first; p; p = p->next) {
        const struct node *v = NULL;
        json_t *x = NULL;
        if (strcmp(p->name, "param") != 0) {
            r = fail(err, errlen, "<params> holds <%s>, not <param>", p->name);
            goto out;
        }
        if ((r = only_child(p, "value", &v, err, errlen)) < 0 ||
            (r = value_of(v, 1, &x, err, errlen)) < 0)
            goto out;
        if (json_array_append_new(list, x) < 0) {
            r = -ENOMEM;
            goto out;
        }
    }
    *ret_method = method;
    *ret_params = list;
    method = NULL;
    list = NULL;
out:
    free(method);
    json_decref(list);
    node_free(root);
    return r;
}

static bool is_string(json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

int xfd_xmlrpc_decode_response(const char *body, size_t len, bool *ret_success, json_t **ret_value,
                               char *err, size_t errlen)
{
    struct node *root = NULL;
    const struct node *p = NULL, *v = NULL;
    json_t *val = NULL, *status, *out = NULL;
    bool success = true;
    int r = build(body, len, &root, err, errlen);

    if (r < 0 || !root) /* build() gives a root whenever it returns 0 */
        return r < 0 ? r : -EINVAL;
    if (strcmp(root->name, "methodResponse") != 0) {
        r = fail(err, errlen, "the document is <%s>, not an XML-RPC <methodResponse>", root->name);
        goto out;
    }
    if ((r = container(root, err, errlen)) < 0)
        goto out;
    if (root->nchildren == 1 && strcmp(root->first->name, "fault") == 0) {
        /* response_of_fault: failure ["fault", faultCode, faultString]. */
        if ((r = only_child(root->first, "value", &v, err, errlen)) < 0 ||
            (r = value_of(v, 1, &val, err, errlen)) < 0)
            goto out;
        if (!json_object_get(val, "faultCode") || !json_object_get(val, "faultString")) {
            r = fail(err, errlen, "a <fault> needs a struct with faultCode and faultString");
            goto out;
        }
        out = json_pack("[sOO]", "fault", json_object_get(val, "faultCode"),
                        json_object_get(val, "faultString"));
        success = false;
    } else {
        if ((r = only_child(root, "params", &p, err, errlen)) < 0 ||
            (r = only_child(p, "param", &p, err, errlen)) < 0 ||
            (r = only_child(p, "value", &v, err, errlen)) < 0 ||
            (r = value_of(v, 1, &val, err, errlen)) < 0)
            goto out;
        /* response_of_success: Status/Value, Status/ErrorDescription, else the value. */
        status = json_object_get(val, "Status");
        if (is_string(status, "Success") && json_object_get(val, "Value")) {
            out = json_incref(json_object_get(val, "Value"));
        } else if (is_string(status, "Failure") && json_object_get(val, "ErrorDescription")) {
            out = json_incref(json_object_get(val, "ErrorDescription"));
            success = false;
        } else {
            out = json_incref(val);
        }
    }
    if (!out) {
        r = -ENOMEM;
        goto out;
    }
    *ret_success = success;
    *ret_value = out;
out:
    json_decref(val);
    node_free(root);
    return r;
}

/* --- Writing, as Xmlrpc.add_value does ----------------------------------- */

/* Xmlrpc.encode: the four entities; bytes below 0x20 other than tab, LF and
 * CR are dropped (XML 1.0 cannot carry them). */
static int add_escaped(struct xfd_buf *out, const char *s, size_t n)
{
    size_t run = 0;
    int r = 0;

    for (size_t i = 0; i < n && r == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *ent = NULL;
        if (c == '>')
            ent = "&gt;";
        else if (c == '<')
            ent = "&lt;";
        else if (c == '&')
            ent = "&amp;";
        else if (c == '"')
            ent = "&quot;";
        else if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
            continue;
        r = xfd_buf_add(out, s + run, i - run);
        if (r == 0 && ent)
            r = xfd_buf_addstr(out, ent);
        run = i + 1;
    }
    if (r == 0)
        r = xfd_buf_add(out, s + run, n - run);
    return r;
}

static int add_value(struct xfd_buf *out, json_t *v, unsigned depth)
{
    const char *key;
    json_t *x;
    size_t i;
    int r;

    if (depth > XFD_XMLRPC_MAX_DEPTH)
        return XF_EINVAL;
    switch (json_typeof(v)) {
    case JSON_NULL:
        return xfd_buf_addstr(out, "<value><nil/></value>");
    case JSON_TRUE:
    case JSON_FALSE:
        return xfd_buf_printf(out, "<value><boolean>%d</boolean></value>", json_is_true(v));
    case JSON_INTEGER:
        /* Rpc.Int: untagged, so it reads back as a string (xmlrpc.h). */
        return xfd_buf_printf(out, "<value>%" PRId64 "</value>", (int64_t)json_integer_value(v));
    case JSON_REAL:
        return xfd_buf_printf(out, "<value><double>%.16g</double></value>", json_real_value(v));
    case JSON_STRING:
        r = xfd_buf_addstr(out, "<value>");
        if (r == 0)
            r = add_escaped(out, json_string_value(v), json_string_length(v));
        return r == 0 ? xfd_buf_addstr(out, "</value>") : r;
    case JSON_ARRAY:
        r = xfd_buf_addstr(out, "<value><array><data>");
        json_array_foreach(v, i, x) if (r == 0) r = add_value(out, x, depth + 1);
        return r == 0 ? xfd_buf_addstr(out, "</data></array></value>") : r;
    case JSON_OBJECT:
        r = xfd_buf_addstr(out, "<value><struct>");
        json_object_foreach(v, key, x)
        {
            /* Xmlrpc.add_value writes the name unescaped; escaping changes
             * nothing for the names the memory interface uses. */
            if (r == 0)
                r = xfd_buf_addstr(out, "<member><name>");
            if (r == 0)
                r = add_escaped(out, key, strlen(key));
            if (r == 0)
                r = xfd_buf_addstr(out, "</name>");
            if (r == 0)
                r = add_value(out, x, depth + 1);
            if (r == 0)
                r = xfd_buf_addstr(out, "</member>");
        }
        return r == 0 ? xfd_buf_addstr(out, "</struct></value>") : r;
    }
    return XF_EINVAL;
}

int xfd_xmlrpc_encode_value(struct xfd_buf *out, json_t *v)
{
    size_t mark = out->len;
    int r = add_value(out, v, 0);
    if (r < 0)
        out->len = mark;
    return r;
}

int xfd_xmlrpc_encode_call(struct xfd_buf *out, const char *method, json_t *params)
{
    size_t mark = out->len, i;
    json_t *p;
    int r = xfd_buf_addstr(out, "<?xml version=\"1.0\"?><methodCall><methodName>");

    if (r == 0)
        r = add_escaped(out, method, strlen(method));
    if (r == 0)
        r = xfd_buf_addstr(out, "</methodName><params>");
    json_array_foreach(params, i, p)
    {
        if (r == 0)
            r = xfd_buf_addstr(out, "<param>");
        if (r == 0)
            r = add_value(out, p, 1);
        if (r == 0)
            r = xfd_buf_addstr(out, "</param>");
    }
    if (r == 0)
        r = xfd_buf_addstr(out, "</params></methodCall>");
    if (r < 0)
        out->len = mark;
    return r;
}

int xfd_xmlrpc_encode_response(struct xfd_buf *out, bool success, json_t *value)
{
    size_t mark = out->len;
    /* Xmlrpc.add_response: the Status struct inside one <param>. */
    int r = xfd_buf_printf(out,
                           "<?xml version=\"1.0\"?><methodResponse><params><param><value>"
                           "<struct><member><name>Status</name><value>%s</value></member>"
                           "<member><name>%s</name>",
                           success ? "Success" : "Failure", success ? "Value" : "ErrorDescription");
    if (r == 0)
        r = add_value(out, value, 1);
    if (r == 0)
        r = xfd_buf_addstr(out, "</member></struct></value></param></params></methodResponse>");
    if (r < 0)
        out->len = mark;
    return r;
}
