/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xf-xenprobe: the real-Xen tier's window on the hypervisor, in pages, for
 * the shell tests that run in the test bed's dom0 (tests/xen/dom0/). It
 * reads and acts only through xenfit's real-Xen backend and the xf_hv_*
 * wrappers, so every number it prints has gone through the backend under
 * test. Output is one line of key=value pairs, for the shell to pick apart.
 *
 *   xf-xenprobe phys                 host: physinfo and per-node numainfo
 *   xf-xenprobe dom DOMID            one domain's information
 *   xf-xenprobe claim DOMID PAGES [NODE]   XENMEM_claim_pages (0 cancels)
 *   xf-xenprobe maxpages DOMID PAGES XEN_DOMCTL_max_mem
 *   xf-xenprobe stable-free [READS]  free_pages once READS (3) reads 100 ms
 *                                    apart agree (at most 20 s)
 *   xf-xenprobe wait-gone DOMID [S]  waits (up to S = 30 s) until the
 *                                    domain no longer exists
 *   xf-xenprobe wait-free PAGES [S]  waits (up to S = 10 s) until free_pages
 *                                    is at least PAGES; prints it (exit 1 if not)
 *   xf-xenprobe create TYPE VCPUS MAXPAGES   an empty paused domain (hvm/pvh/pv)
 *                                    with its vCPUs; prints its domid
 *   xf-xenprobe pool DOMID PAGES     sizes the paging pool
 *   xf-xenprobe populate DOMID PAGES 4 KiB pages into the domain
 *   xf-xenprobe destroy DOMID
 *   xf-xenprobe rpc SOCKET METHOD PARAMS   one JSON-RPC call to xenfitd
 *                                    (PARAMS a JSON array); prints
 *                                    {"result": .., "error": ..} on one line
 *
 * Exit status: 0, 1 when the operation failed (the line says rc= and the
 * error's name), 2 for bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xenfit/client.h"
#include "xenfit/error.h"
#include "xenfit/hv-xen.h"
#include "xenfit/hv.h"
#include "xenfit/units.h"

#define MS 1000000u

static int usage(void)
{
    fprintf(stderr, "usage: xf-xenprobe phys | dom DOMID | claim DOMID PAGES [NODE] |\n"
                    "       maxpages DOMID PAGES | stable-free [READS] | wait-gone DOMID [S] |\n"
                    "       wait-free PAGES [S] | create TYPE VCPUS MAXPAGES | pool DOMID PAGES |\n"
                    "       populate DOMID PAGES | destroy DOMID | rpc SOCKET METHOD PARAMS\n");
    return 2;
}

static int fail(const char *what, int r)
{
    printf("%s rc=%d err=%s\n", what, r, xf_err_name(r));
    return 1;
}

static int arg_u64(const char *s, uint64_t *ret)
{
    return xf_parse_u64(s, ret) == 0 ? 0 : -1;
}

static int cmd_phys(struct xf_hv *hv)
{
    struct xf_hv_physinfo p;
    static struct xf_node_mem nodes[XF_MAX_NODES];
    static uint32_t dist[XF_MAX_NODES * XF_MAX_NODES];
    uint32_t n;
    int r;

    if ((r = xf_hv_physinfo(hv, &p)) < 0)
        return fail("physinfo", r);
    if ((r = xf_hv_numainfo(hv, XF_MAX_NODES, nodes, dist, &n)) < 0)
        return fail("numainfo", r);
    printf("total_pages=%llu free_pages=%llu outstanding_pages=%llu scrub_pages=%llu "
           "nr_nodes=%u nr_cpus=%u caps=0x%x",
           (unsigned long long)p.total_pages, (unsigned long long)p.free_pages,
           (unsigned long long)p.outstanding_pages, (unsigned long long)p.scrub_pages, p.nr_nodes,
           p.nr_cpus, xf_hv_caps(hv));
    for (uint32_t i = 0; i < n && i < XF_MAX_NODES; i++) {
        printf(" node%u_size=%llu node%u_free=%llu node%u_claimed=%llu node%u_dma_free=%llu", i,
               (unsigned long long)nodes[i].memsize_pages, i,
               (unsigned long long)nodes[i].memfree_pages, i,
               (unsigned long long)nodes[i].claimed_pages, i,
               (unsigned long long)nodes[i].dma_free_pages);
        printf(" node%u_dist=", i);
        for (uint32_t j = 0; j < n && j < XF_MAX_NODES; j++)
            printf(j ? ",%u" : "%u", dist[(size_t)i * XF_MAX_NODES + j]);
    }
    printf("\n");
    return 0;
}

static int cmd_dom(struct xf_hv *hv, xf_domid_t domid)
{
    struct xf_hv_domain_info d;
    int r = xf_hv_domain_info(hv, domid, &d);

    if (r < 0)
        return fail("dom", r);
    printf("domid=%u type=%s tot_pages=%llu max_pages=%llu outstanding_pages=%llu "
           "paging_pool_pages=%llu vcpus=%u paused=%d dying=%d node_affinity=0x%llx\n",
           d.domid, xf_domain_type_name(d.type), (unsigned long long)d.tot_pages,
           (unsigned long long)d.max_pages, (unsigned long long)d.outstanding_pages,
           (unsigned long long)d.paging_pool_pages, d.vcpus, d.paused, d.dying,
           (unsigned long long)d.node_affinity);
    return 0;
}

static int cmd_stable_free(struct xf_hv *hv, uint64_t reads)
{
    struct xf_hv_physinfo p;
    uint64_t last = UINT64_MAX, same = 0;
    int r;

    for (unsigned tries = 0; tries < 200; tries++) {
        if ((r = xf_hv_physinfo(hv, &p)) < 0)
            return fail("physinfo", r);
        same = p.free_pages == last ? same + 1 : 1;
        last = p.free_pages;
        if (same >= reads) {
            printf("free_pages=%llu outstanding_pages=%llu\n", (unsigned long long)p.free_pages,
                   (unsigned long long)p.outstanding_pages);
            return 0;
        }
        (void)xf_hv_sleep_ns(hv, 100 * MS);
    }
    return fail("stable-free", XF_ETIMEDOUT);
}

static int cmd_wait_gone(struct xf_hv *hv, xf_domid_t domid, uint64_t seconds)
{
    struct xf_hv_domain_info d;
    uint64_t start = xf_hv_now_ns(hv);
    int r;

    while ((r = xf_hv_domain_info(hv, domid, &d)) == 0) {
        if (xf_hv_now_ns(hv) - start > seconds * 1000 * MS)
            return fail("wait-gone", XF_ETIMEDOUT);
        (void)xf_hv_sleep_ns(hv, 50 * MS);
    }
    if (r != XF_ESRCH)
        return fail("wait-gone", r);
    printf("gone_after_ms=%llu\n", (unsigned long long)((xf_hv_now_ns(hv) - start) / MS));
    return 0;
}

/* A destroyed domain's own pages (struct domain, vCPUs) come back after it
 * has left Xen's list, once an RCU grace period has passed. */
static int cmd_wait_free(struct xf_hv *hv, uint64_t pages, uint64_t seconds)
{
    struct xf_hv_physinfo p;
    uint64_t start = xf_hv_now_ns(hv);
    int r;

    for (;;) {
        if ((r = xf_hv_physinfo(hv, &p)) < 0)
            return fail("physinfo", r);
        if (p.free_pages >= pages) {
            printf("free_pages=%llu waited_ms=%llu\n", (unsigned long long)p.free_pages,
                   (unsigned long long)((xf_hv_now_ns(hv) - start) / MS));
            return 0;
        }
        if (xf_hv_now_ns(hv) - start > seconds * 1000 * MS) {
            printf("free_pages=%llu short=%llu\n", (unsigned long long)p.free_pages,
                   (unsigned long long)(pages - p.free_pages));
            return 1;
        }
        (void)xf_hv_sleep_ns(hv, 50 * MS);
    }
}

static int cmd_create(struct xf_hv *hv, const char *type_name, uint64_t vcpus, uint64_t max)
{
    enum xf_domain_type type;
    xf_domid_t d;
    int r;

    if (xf_domain_type_parse(type_name, &type) < 0 || vcpus == 0 || vcpus > XF_VCPUS_MAX)
        return usage();
    if ((r = xf_hv_domain_create_vcpus(hv, type, (uint32_t)vcpus, &d)) < 0)
        return fail("create", r);
    if ((r = xf_hv_set_max_vcpus(hv, d, (uint32_t)vcpus)) < 0 ||
        (r = xf_hv_set_max_pages(hv, d, max)) < 0) {
        (void)xf_hv_destroy(hv, d);
        return fail("create", r);
    }
    printf("domid=%u\n", d);
    return 0;
}

static int cmd_populate(struct xf_hv *hv, xf_domid_t d, uint64_t pages)
{
    struct xf_hv_populate big = {.nr_extents = pages / 512, .order = 9, .node = XF_NODE_ANY};
    struct xf_hv_populate small = {.nr_extents = pages % 512, .order = 0, .node = XF_NODE_ANY};
    uint64_t done = 0, done_small = 0;
    int r;

    if ((r = xf_hv_populate(hv, d, &big, &done)) < 0 ||
        (r = xf_hv_populate(hv, d, &small, &done_small)) < 0) {
        uint64_t total = done * 512 + done_small;
        printf("populate rc=%d err=%s pages=%llu\n", r, xf_err_name(r), (unsigned long long)total);
        return 1;
    }
    printf("populate rc=0 pages=%llu\n", (unsigned long long)pages);
    return 0;
}

/* rc=0 or the error, as one line; the exit status. */
static int report(const char *what, int r)
{
    if (r < 0)
        return fail(what, r);
    printf("%s rc=0\n", what);
    return 0;
}

/* One call to xenfitd, its answer as JSON (squeezed's errors as they are). */
static int cmd_rpc(const char *path, const char *method, const char *params_text)
{
    json_error_t jerr;
    json_t *params = json_loads(params_text, 0, &jerr), *result = NULL, *error = NULL, *out;
    struct xfd_client *c = NULL;
    char *text;
    int r;

    if (!json_is_array(params)) {
        json_decref(params);
        return usage();
    }
    if ((r = xfd_client_connect(path, 600000, &c)) < 0) {
        json_decref(params);
        return fail("rpc", r);
    }
    r = xfd_client_call(c, method, params, &result, &error);
    xfd_client_close(c);
    if (r < 0)
        return fail("rpc", r);
    out = json_pack("{s:o*,s:o*}", "result", result ? result : json_null(), "error",
                    error ? error : json_null());
    text = out ? json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(out);
    if (!text)
        return fail("rpc", XF_ENOMEM);
    printf("%s\n", text);
    free(text);
    return r == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct xf_hv *hv = NULL;
    uint64_t a = 0, b = 0, c = XF_NODE_ANY;
    int r, status;

    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "rpc") == 0)
        return argc == 5 ? cmd_rpc(argv[2], argv[3], argv[4]) : usage();
    if ((r = xf_hv_xen_open(&hv)) < 0) {
        fprintf(stderr, "xf-xenprobe: cannot open Xen: %s\n", xf_strerror(r));
        return 1;
    }
    if (strcmp(argv[1], "phys") == 0 && argc == 2) {
        status = cmd_phys(hv);
    } else if (strcmp(argv[1], "dom") == 0 && argc == 3 && arg_u64(argv[2], &a) == 0) {
        status = cmd_dom(hv, (xf_domid_t)a);
    } else if (strcmp(argv[1], "claim") == 0 && (argc == 4 || argc == 5) &&
               arg_u64(argv[2], &a) == 0 && arg_u64(argv[3], &b) == 0 &&
               (argc == 4 || arg_u64(argv[4], &c) == 0)) {
        status = report("claim", xf_hv_claim(hv, (xf_domid_t)a, (uint32_t)c, b));
    } else if (strcmp(argv[1], "maxpages") == 0 && argc == 4 && arg_u64(argv[2], &a) == 0 &&
               arg_u64(argv[3], &b) == 0) {
        status = report("maxpages", xf_hv_set_max_pages(hv, (xf_domid_t)a, b));
    } else if (strcmp(argv[1], "stable-free") == 0 && argc <= 3 &&
               (argc == 2 || arg_u64(argv[2], &a) == 0)) {
        status = cmd_stable_free(hv, argc == 3 && a ? a : 3);
    } else if (strcmp(argv[1], "wait-gone") == 0 && (argc == 3 || argc == 4) &&
               arg_u64(argv[2], &a) == 0 && (argc == 3 || arg_u64(argv[3], &b) == 0)) {
        status = cmd_wait_gone(hv, (xf_domid_t)a, argc == 4 ? b : 30);
    } else if (strcmp(argv[1], "wait-free") == 0 && (argc == 3 || argc == 4) &&
               arg_u64(argv[2], &a) == 0 && (argc == 3 || arg_u64(argv[3], &b) == 0)) {
        status = cmd_wait_free(hv, a, argc == 4 ? b : 10);
    } else if (strcmp(argv[1], "create") == 0 && argc == 5 && arg_u64(argv[3], &a) == 0 &&
               arg_u64(argv[4], &b) == 0) {
        status = cmd_create(hv, argv[2], a, b);
    } else if (strcmp(argv[1], "pool") == 0 && argc == 4 && arg_u64(argv[2], &a) == 0 &&
               arg_u64(argv[3], &b) == 0) {
        status = report("pool", xf_hv_set_paging_pool(hv, (xf_domid_t)a, b));
    } else if (strcmp(argv[1], "populate") == 0 && argc == 4 && arg_u64(argv[2], &a) == 0 &&
               arg_u64(argv[3], &b) == 0) {
        status = cmd_populate(hv, (xf_domid_t)a, b);
    } else if (strcmp(argv[1], "destroy") == 0 && argc == 3 && arg_u64(argv[2], &a) == 0) {
        status = report("destroy", xf_hv_destroy(hv, (xf_domid_t)a));
    } else {
        status = usage();
    }
    xf_hv_free(hv);
    return status;
}
