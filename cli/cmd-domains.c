/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfit domains: the host's domains as an operator looks at them -- memory
 * (tot_pages), Xen's memory outside tot_pages that Xen reports (the paging
 * pool), outstanding claims, and pages per NUMA node. The backend reports
 * pages per node when it can (XF_HV_CAP_DOMAIN_NODE_PAGES: the simulator);
 * upstream Xen's getdomaininfo does not, so on real Xen they come from Xen's
 * 'u' debug key, which prints them to the console ring (xen/arch/x86/numa.c
 * dump_numa at RELEASE-4.17.7: "Memory location of each domain:", then per
 * domain "Domain N (total: T):" and "    Node i: n"): `xl debug-keys u`, then
 * the last such block of `xl dmesg`. Without xl, or when its output has no
 * block for a domain, the pages per node are "unknown" (null), never
 * guessed. The rest of a domain's hypervisor overhead (per-vCPU and
 * per-domain structures) is not reported by Xen at all: it is measured only
 * when a build is observed (xenfitd's build records, `xenfit events`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "xenfit/error.h"
#include "xenfit/hv.h"
#include "xenfit/units.h"

static const char *const CMD = "domains";

#define MAX_DOMAINS 4096u

void xf_usage_domains(void)
{
    printf("Usage: xenfit domains [--backend sim|xen] [--host SPEC.json] [--xl PATH]\n"
           "                      [--node-pages auto|backend|xl] [--json]\n\n"
           "Lists the host's domains: memory (tot_pages), the paging pool (Xen memory\n"
           "outside tot_pages that Xen reports), outstanding claims, max_pages, vCPUs,\n"
           "state, node affinity, and pages per NUMA node.\n\n"
           "  --backend, --host  as for xenfit host show\n"
           "  --node-pages SRC   where pages per node come from: the backend where it\n"
           "                     reports them (the simulator), else Xen's 'u' debug key\n"
           "                     through xl (auto, the default); backend or xl alone\n"
           "  --xl PATH          the xl to run (default: xl on PATH)\n"
           "  --json             [{domid, type, tot_pages, memory_kib, max_pages,\n"
           "                      outstanding_pages, paging_pool_pages, vcpus, paused,\n"
           "                      dying, node_affinity, pages_per_node, node_pages_source}]\n\n"
           "pages_per_node is null (\"unknown\" in the table) when neither source has it.\n");
}

enum { OPT_BACKEND = 256, OPT_HOST, OPT_XL, OPT_NODE_PAGES, OPT_JSON };

/* Pages per node parsed from Xen's 'u' debug key output. */
struct node_pages {
    xf_domid_t domid;
    uint64_t pages[XF_MAX_NODES];
    uint32_t nr;
};

/* Runs `xl ARGS...` with stdout into a buffer (stderr discarded). Returns
 * 0 and the output (caller frees), or -errno / -ECHILD (xl failed). */
static int run_xl(const char *xl, const char *a1, const char *a2, char **ret)
{
    int fds[2];
    pid_t pid;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int status;

    if (pipe(fds) < 0)
        return -errno;
    pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return -e;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        if (freopen("/dev/null", "w", stderr) == NULL)
            _exit(127);
        execlp(xl, xl, a1, a2, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        if (cap - len < 4096) {
            char *n = cap < (64u << 20) ? realloc(buf, cap ? cap * 2 : 65536) : NULL;
            if (!n)
                break;
            buf = n;
            cap = cap ? cap * 2 : 65536;
        }
        ssize_t got = read(fds[0], buf + len, cap - len - 1);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!buf || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(buf);
        return !buf ? -ENOMEM : -ECHILD;
    }
    buf[len] = '\0';
    *ret = buf;
    return 0;
}

/* The last "Memory location of each domain:" block of `xl dmesg`. Returns
 * the number of domains parsed into out[0..max). */
static size_t parse_dump_numa(const char *text, struct node_pages *out, size_t max)
{
    const char *p = NULL, *q = text;
    size_t n = 0;

    if (!text)
        return 0;
    while ((q = strstr(q, "Memory location of each domain:")) != NULL)
        p = q++;
    if (!p)
        return 0;
    for (p = strchr(p, '\n'); p && *++p;) {
        const char *eol = strchr(p, '\n'), *d = strstr(p, "Domain "), *nd = strstr(p, "Node ");
        unsigned long a, b;
        char *end;
        if (!eol)
            eol = p + strlen(p);
        if (d && d < eol && strstr(d, "(total:")) {
            a = strtoul(d + 7, &end, 10);
            if (end == d + 7 || n == max)
                break;
            memset(&out[n], 0, sizeof(out[n]));
            out[n++].domid = (xf_domid_t)a;
        } else if (nd && nd < eol && n > 0) {
            a = strtoul(nd + 5, &end, 10);
            if (end == nd + 5 || *end != ':' || a >= XF_MAX_NODES)
                break;
            b = strtoul(end + 1, &end, 10);
            out[n - 1].pages[a] = b;
            out[n - 1].nr = (uint32_t)a + 1 > out[n - 1].nr ? (uint32_t)a + 1 : out[n - 1].nr;
        } else if (strstr(p, "vnodes") == NULL && strstr(p, "pnode") == NULL &&
                   strstr(p, "vcpus") == NULL && n > 0) {
            break; /* the block has ended */
        }
        p = *eol ? eol : NULL;
    }
    return n;
}

struct domains_args {
    const char *backend, *host, *xl, *source;
    bool json;
};

static int parse_args(int argc, char **argv, struct domains_args *a)
{
    static const struct option opts[] = {
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"host", required_argument, NULL, OPT_HOST},
        {"xl", required_argument, NULL, OPT_XL},
        {"node-pages", required_argument, NULL, OPT_NODE_PAGES},
        {"json", no_argument, NULL, OPT_JSON},
        {NULL, 0, NULL, 0},
    };
    int c;

    *a = (struct domains_args){.backend = "sim", .xl = "xl", .source = "auto"};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_BACKEND:
            a->backend = optarg;
            break;
        case OPT_HOST:
            a->host = optarg;
            break;
        case OPT_XL:
            a->xl = optarg;
            break;
        case OPT_NODE_PAGES:
            if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "backend") != 0 &&
                strcmp(optarg, "xl") != 0)
                return xf_cli_usage_error(CMD, "--node-pages '%s': expected auto, backend or xl",
                                          optarg);
            a->source = optarg;
            break;
        case OPT_JSON:
            a->json = true;
            break;
        default:
            return xf_cli_bad_option(CMD, argc, argv);
        }
    }
    if (optind < argc)
        return xf_cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    return 0;
}

/* One domain as --json shows it; per-node pages from `np` (NULL: unknown). */
static json_t *domain_json(const struct xf_hv_domain_info *d, uint32_t nr_nodes, const uint64_t *np,
                           const char *source)
{
    json_t *o =
        json_pack("{sIss sI sI sI sI sI sI sb sb}", "domid", (json_int_t)d->domid, "type",
                  xf_domain_type_name(d->type), "tot_pages", (json_int_t)d->tot_pages, "memory_kib",
                  (json_int_t)xf_kib_of_pages(d->tot_pages), "max_pages", (json_int_t)d->max_pages,
                  "outstanding_pages", (json_int_t)d->outstanding_pages, "paging_pool_pages",
                  (json_int_t)d->paging_pool_pages, "vcpus", (json_int_t)d->vcpus, "paused",
                  d->paused, "dying", d->dying);
    json_t *aff = json_array(), *per = np ? json_object() : json_null();
    uint64_t all = nr_nodes >= 64 ? UINT64_MAX : (UINT64_C(1) << nr_nodes) - 1;

    if (!o)
        return NULL;
    if ((d->node_affinity & all) == all)
        json_decref(aff), aff = json_string("all");
    else
        for (uint32_t n = 0; n < nr_nodes; n++)
            if (d->node_affinity >> n & 1u)
                json_array_append_new(aff, json_integer(n));
    for (uint32_t n = 0; np && n < nr_nodes; n++) {
        char key[12];
        snprintf(key, sizeof(key), "%u", n);
        json_object_set_new(per, key, json_integer((json_int_t)np[n]));
    }
    json_object_set_new(o, "node_affinity", aff);
    json_object_set_new(o, "pages_per_node", per);
    json_object_set_new(o, "node_pages_source", np ? json_string(source) : json_null());
    return o;
}

static void print_row(const json_t *d, uint32_t nr_nodes)
{
    const json_t *per = json_object_get(d, "pages_per_node");
    char nodes[256] = "unknown";
    size_t at = 0;

    for (uint32_t n = 0; json_is_object(per) && n < nr_nodes && at < sizeof(nodes); n++) {
        char key[12];
        snprintf(key, sizeof(key), "%u", n);
        at += (size_t)snprintf(nodes + at, sizeof(nodes) - at, "%s%u:%lld", at ? " " : "", n,
                               (long long)json_integer_value(json_object_get(per, key)));
    }
    printf("%5lld %-9s %10lld %10lld %10lld %9lld %5lld %-6s %s\n",
           (long long)json_integer_value(json_object_get(d, "domid")),
           json_string_value(json_object_get(d, "type")),
           (long long)json_integer_value(json_object_get(d, "memory_kib")),
           (long long)json_integer_value(json_object_get(d, "paging_pool_pages")),
           (long long)json_integer_value(json_object_get(d, "outstanding_pages")),
           (long long)json_integer_value(json_object_get(d, "max_pages")),
           (long long)json_integer_value(json_object_get(d, "vcpus")),
           json_is_true(json_object_get(d, "dying"))    ? "dying"
           : json_is_true(json_object_get(d, "paused")) ? "paused"
                                                        : "run",
           nodes);
}

/* Lists the domains of hv into a JSON array. 0 or an exit status. */
static int list(struct xf_hv *hv, const struct domains_args *a, json_t **ret, uint32_t *ret_nodes)
{
    xf_domid_t *ids = calloc(MAX_DOMAINS, sizeof(*ids));
    struct node_pages *xlp = NULL;
    struct xf_hv_physinfo phys;
    bool from_backend =
        strcmp(a->source, "xl") != 0 && (xf_hv_caps(hv) & XF_HV_CAP_DOMAIN_NODE_PAGES);
    size_t nr_xl = 0;
    uint32_t n = 0;
    json_t *arr = json_array();
    char *text = NULL;
    int r;

    if (!ids || !arr) {
        free(ids);
        json_decref(arr);
        return xf_cli_failure(CMD, "out of memory");
    }
    if ((r = xf_hv_physinfo(hv, &phys)) < 0 ||
        (r = xf_hv_domain_list(hv, MAX_DOMAINS, ids, &n)) < 0) {
        free(ids);
        json_decref(arr);
        return xf_cli_failure(CMD, "reading the host: %s (%s)", xf_strerror(r), xf_err_name(r));
    }
    if (!from_backend && strcmp(a->source, "backend") != 0 &&
        run_xl(a->xl, "debug-keys", "u", &text) == 0) {
        free(text);
        text = NULL;
        if (run_xl(a->xl, "dmesg", NULL, &text) == 0 &&
            (xlp = calloc(MAX_DOMAINS, sizeof(*xlp))) != NULL)
            nr_xl = parse_dump_numa(text, xlp, MAX_DOMAINS);
        free(text);
    }
    for (uint32_t i = 0; i < n && i < MAX_DOMAINS; i++) {
        struct xf_hv_domain_info d;
        const uint64_t *np = NULL;
        if (xf_hv_domain_info(hv, ids[i], &d) < 0)
            continue; /* gone since the list */
        if (from_backend)
            np = d.pages_per_node;
        for (size_t k = 0; !np && k < nr_xl; k++)
            if (xlp[k].domid == d.domid)
                np = xlp[k].pages;
        json_array_append_new(
            arr, domain_json(&d, phys.nr_nodes, np, from_backend ? "backend" : "xl debug-keys u"));
    }
    free(xlp);
    free(ids);
    *ret = arr;
    *ret_nodes = phys.nr_nodes;
    return 0;
}

int xf_cmd_domains(int argc, char **argv)
{
    struct domains_args a;
    struct xf_hv *hv = NULL;
    json_t *arr = NULL, *d;
    uint32_t nr_nodes = 0;
    size_t i;
    int r;

    if ((r = parse_args(argc, argv, &a)) || (r = xf_cli_open_backend(CMD, a.backend, a.host, &hv)))
        return r;
    r = list(hv, &a, &arr, &nr_nodes);
    xf_hv_free(hv);
    if (r)
        return r;
    if (a.json)
        return xf_cli_print_json(arr);
    printf("%5s %-9s %10s %10s %10s %9s %5s %-6s %s\n", "domid", "type", "memory_KiB", "pool_pages",
           "claimed", "max_pages", "vcpus", "state", "pages per node");
    json_array_foreach(arr, i, d) print_row(d, nr_nodes);
    json_decref(arr);
    return XF_EXIT_OK;
}
