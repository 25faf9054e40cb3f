/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The simulator's host spec (lib/hv/sim/spec.c, spec-check.c): every
 * malformed fixture in tests/data/hosts/ is refused naming its field; the
 * shipped hosts parse; defaults are computed as docs/host-spec.md says,
 * worked out here by hand; every allocation failing in turn unwinds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fail-alloc.h"
#include "hv-test.h"
#include "xenfit/alloc.h"
#include "xenfit/error.h"
#include "xenfit/sim.h"

static int parse_file(const char *name, struct xf_sim_spec **ret, struct xf_parse_error *err)
{
    char path[512];
    size_t len = 0;
    char *buf;
    int r;

    snprintf(path, sizeof(path), "%s/hosts/%s", XF_TEST_DATA, name);
    buf = test_read_file(path, &len);
    assert_non_null(buf);
    r = xf_sim_spec_parse(buf, len, ret, err);
    free(buf);
    return r;
}

static void test_sim_spec_malformed_refused_naming_field(void **state)
{
    static const struct {
        const char *file;
        const char *message; /* a substring of the message */
        size_t line;
    } cases[] = {
        {"bad-cpu-two-nodes.json", "nodes[1].cpus[0]: CPU 1 is also on node 0", 0},
        {"bad-slit-not-square.json", "distances[1]: must be a row of 2 distances", 0},
        {"bad-slit-rows.json", "distances: must be 2 rows of 2", 0},
        {"bad-slit-missing.json", "distances: required for 2 nodes", 0},
        {"bad-negative-memory.json", "nodes[0].memory_mib: must not be negative (got -5)", 0},
        {"bad-fractional-memory.json", "nodes[0].memory_mib: must be a non-negative integer", 0},
        {"bad-unknown-key.json", "nodes[0].colour: unknown key", 0},
        {"bad-unknown-top-key.json", "hypervisor: unknown key", 0},
        {"bad-both-units.json", "nodes[0].memory_mib: give memory_mib or memory_pages", 0},
        {"bad-syntax.json", "not valid JSON", 2},
        {"bad-duplicate-key.json", "duplicate object key", 1},
        {"bad-cpu-gap.json", "nodes: CPU 1 is on no node", 0},
        {"bad-cores.json", "nodes[0].cores: 3 cores do not divide the node's 4 CPUs", 0},
        {"bad-dom0-too-big.json", "dom0.memory_mib: 1048576 pages do not fit", 0},
        {"bad-dom0-split.json", "dom0.node_mib: adds up to 51200 pages, dom0 has 65536", 0},
        {"bad-dma-too-big.json", "xen.dma_mib: 256000 pages of free DMA zone", 0},
        {"bad-node-claims-417.json", "xen.node_claims: node claims need claim_semantics", 0},
        {"bad-claim-semantics.json", "xen.claim_semantics: must be \"4.22\" or \"4.17\"", 0},
        {"bad-spanned.json", "nodes[0].spanned_mib: the spanned range (131072 pages)", 0},
        {"bad-distance-range.json", "distances[0][1]: 256 is too large (at most 255)", 0},
        {"bad-truth-type.json", "truth.xen: unknown key", 0},
        {"bad-no-dom0.json", "dom0: required", 0},
        {"bad-no-cpus.json", "nodes: the host has no CPU", 0},
        {"bad-not-object.json", "must be a JSON object", 0},
        {"bad-dom0-type.json", "dom0.type: must be \"pv\", \"pvh\", \"hvm\" or \"pv_in_pvh\"", 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct xf_sim_spec *spec = NULL;
        struct xf_parse_error err;
        int r = parse_file(cases[i].file, &spec, &err);
        if (r != XF_EBADSPEC || !strstr(err.message, cases[i].message) || err.line != cases[i].line)
            fail_msg("%s: r=%d line=%zu message '%s', want line %zu and '%s'", cases[i].file, r,
                     err.line, err.message, cases[i].line, cases[i].message);
        assert_null(spec);
    }
}

static void test_sim_spec_shipped_hosts_parse(void **state)
{
    static const struct {
        const char *file;
        uint32_t nodes, cpus;
    } hosts[] = {
        {"xenbed-2node.json", 2, 4},   {"1node.json", 1, 16},    {"2socket-4node.json", 4, 64},
        {"opteron-8node.json", 8, 64}, {"32node.json", 32, 512},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        struct xf_hv *hv = NULL;
        assert_int_equal(hvt_sim_open(hosts[i].file, NULL, &hv), 0);
        assert_int_equal(xf_sim_spec(hv)->nr_nodes, hosts[i].nodes);
        assert_int_equal(xf_sim_spec(hv)->nr_cpus, hosts[i].cpus);
        xf_hv_free(hv);
    }
}

/* The xenbed spec as measured: every field where the README puts it. */
static void test_sim_spec_xenbed_fields(void **state)
{
    struct xf_hv *hv = NULL;
    const struct xf_sim_spec *s;
    (void)state;

    assert_int_equal(hvt_sim_open("xenbed-2node.json", NULL, &hv), 0);
    s = xf_sim_spec(hv);
    assert_string_equal(s->name, "xenbed-2node");
    assert_int_equal(s->nodes[0].memory_pages, 524288);
    assert_int_equal(s->nodes[0].spanned_pages, 524288);
    assert_int_equal(s->nodes[0].firmware_reserved_pages, 130);
    assert_int_equal(s->nodes[0].xen_pages, 11137);
    assert_int_equal(s->nodes[1].xen_pages, 0);
    assert_int_equal(s->nodes[0].dom0_pages, 67378);
    assert_int_equal(s->nodes[1].dom0_pages, 194766);
    assert_int_equal(s->nodes[0].dma_pages, 114432);
    assert_int_equal(s->dom0_memory_pages, 262144);
    assert_int_equal(s->dom0_vcpus, 4);
    assert_int_equal(s->dom0_type, XF_DOMAIN_PV);
    assert_int_equal(s->claim_semantics, XF_SIM_CLAIMS_4_17);
    assert_false(s->node_claims);
    assert_int_equal(s->distances[0][1], 21);
    assert_int_equal(s->cpus[3].node, 1);
    assert_int_equal(s->cpus[3].core, 1);
    assert_int_equal(s->cpus[3].socket, 1);
    xf_hv_free(hv);
}

/* Defaults computed from other fields, by hand:
 * - Xen: each node the frame table of its 2 GiB (524288 / 128 = 4096
 *   pages), node 0 also the 2945 fixed pages: 7041 and 4096.
 * - dom0 (1024 MiB = 262144 pages) from the last node down: node 1 has
 *   524288 - 4096 = 520192 free, so all of it there.
 * - DMA zone: node 0 spans 524288 pages, a quarter is 131072, fls(131071)
 *   = 17, 17 + 12 = 29 bits: 131072 pages, less Xen's 7041 = 124031.
 * - CPUs by count: node 0 gets 0-1, node 1 gets 2-5 (the next ids); 4
 *   CPUs on 2 cores: threads 2 and 3 share core 0, 4 and 5 core 1; socket =
 *   node index by default.
 * - dom0 vCPUs: one per CPU, 6. Truth and timing: the documented defaults
 *   (PV: 21 + 4 per vCPU, the line `xenfit calibrate` fits over every row
 *   of tests/data/xen/pv-overhead-4.17.csv; it was 16 + 3 before).
 */
static void test_sim_spec_defaults(void **state)
{
    static const char *json =
        "{\"nodes\": [{\"memory_mib\": 2048, \"cpus\": 2},"
        "             {\"memory_mib\": 2048, \"cpus\": 4, \"cores\": 2}],"
        " \"distances\": [[10, 20], [20, 10]], \"dom0\": {\"memory_mib\": 1024}}";
    struct xf_sim_spec *s;
    struct xf_parse_error err;
    (void)state;

    assert_int_equal(xf_sim_spec_parse(json, strlen(json), &s, &err), 0);
    assert_int_equal(s->nodes[0].xen_pages, 7041);
    assert_int_equal(s->nodes[1].xen_pages, 4096);
    assert_int_equal(s->nodes[0].dom0_pages, 0);
    assert_int_equal(s->nodes[1].dom0_pages, 262144);
    assert_int_equal(s->nodes[0].dma_pages, 124031);
    assert_int_equal(s->nr_cpus, 6);
    assert_int_equal(s->cpus[1].node, 0);
    assert_int_equal(s->cpus[1].core, 1);
    assert_int_equal(s->cpus[2].node, 1);
    assert_int_equal(s->cpus[3].core, 0);
    assert_int_equal(s->cpus[4].core, 1);
    assert_int_equal(s->cpus[5].socket, 1);
    assert_int_equal(s->dom0_vcpus, 6);
    assert_int_equal(s->claim_semantics, XF_SIM_CLAIMS_4_22);
    assert_int_equal(s->truth[XF_DOMAIN_HVM].domain_pages, 30);
    assert_int_equal(s->truth[XF_DOMAIN_HVM].vcpu_pages, 8);
    assert_int_equal(s->truth[XF_DOMAIN_PV].domain_pages, 21);
    assert_int_equal(s->truth[XF_DOMAIN_PV].vcpu_pages, 4);
    assert_int_equal(s->truth[XF_DOMAIN_PVH].extra_guest_pages, 17);
    assert_int_equal(s->truth[XF_DOMAIN_PV].max_pages_slack_pages, 256);
    assert_int_equal(s->timing.release_pages_per_s, 2048 * 256);
    assert_int_equal(s->low_mem_virq_limit_pages, 64 * 256);
    assert_true(s->low_mem_virq_default);
    xf_sim_spec_free(s);
}

/* Keys of every section, in both units, override the defaults. */
static void test_sim_spec_overrides(void **state)
{
    static const char *json =
        "{\"name\": \"x\", \"description\": \"d\","
        " \"nodes\": [{\"memory_pages\": 300000, \"spanned_mib\": 2048, \"cpus\": [1, 0],"
        "              \"firmware_reserved_mib\": 1, \"socket\": 3}],"
        " \"xen\": {\"claim_semantics\": \"4.22\", \"node_claims\": true,"
        "          \"node_claimed_info\": false, \"low_mem_virq_limit_mib\": 32,"
        "          \"reserved_mib\": 40, \"dma_pages\": 1000},"
        " \"dom0\": {\"type\": \"pvh\", \"vcpus\": 1, \"memory_pages\": 5000,"
        "           \"node_pages\": [5000]},"
        " \"truth\": {\"hvm\": {\"domain_pages\": 1, \"vcpu_pages\": 38,"
        "                     \"extra_guest_pages\": 2, \"max_pages_slack_pages\": 3,"
        "                     \"initial_pool_pages\": 4}},"
        " \"timing\": {\"hypercall_ns\": 1, \"extent_ns\": 2, \"page_ns\": 3,"
        "             \"scrub_page_ns\": 4, \"release_mib_per_s\": 5,"
        "             \"release_tail_pages\": 6, \"release_tail_ms\": 7,"
        "             \"idle_scrub_mib_per_s\": 8}}";
    struct xf_sim_spec *s;
    struct xf_parse_error err;
    (void)state;

    if (xf_sim_spec_parse(json, strlen(json), &s, &err))
        fail_msg("%s", err.message);
    assert_int_equal(s->nodes[0].memory_pages, 300000);
    assert_int_equal(s->nodes[0].spanned_pages, 524288);
    assert_int_equal(s->nodes[0].firmware_reserved_pages, 256);
    assert_int_equal(s->nodes[0].xen_pages, 40 * 256);
    assert_int_equal(s->nodes[0].dma_pages, 1000);
    assert_int_equal(s->cpus[0].socket, 3);
    assert_true(s->node_claims);
    assert_false(s->node_claimed_info);
    assert_int_equal(s->low_mem_virq_limit_pages, 32 * 256);
    assert_false(s->low_mem_virq_default);
    assert_int_equal(s->dom0_type, XF_DOMAIN_PVH);
    assert_int_equal(s->truth[XF_DOMAIN_HVM].vcpu_pages, 38);
    assert_int_equal(s->truth[XF_DOMAIN_HVM].max_pages_slack_pages, 3);
    assert_int_equal(s->truth[XF_DOMAIN_HVM].initial_pool_pages, 4);
    /* Untouched defaults. */
    assert_int_equal(s->truth[XF_DOMAIN_PVH].initial_pool_pages, 256);
    assert_int_equal(s->truth[XF_DOMAIN_PV].vcpu_pages, 4);
    assert_int_equal(s->timing.release_pages_per_s, 5 * 256);
    assert_int_equal(s->timing.release_tail_pages, 6);
    assert_int_equal(s->timing.release_tail_ns, 7000000);
    assert_int_equal(s->timing.idle_scrub_pages_per_s, 8 * 256);
    assert_int_equal(s->timing.scrub_page_ns, 4);
    xf_sim_spec_free(s);
}

static uint64_t free_pages(struct xf_hv *hv)
{
    struct xf_hv_physinfo p;
    assert_int_equal(xf_hv_physinfo(hv, &p), 0);
    return p.free_pages;
}

static uint64_t pool_pages(struct xf_hv *hv, xf_domid_t d)
{
    struct xf_hv_domain_info i;
    assert_int_equal(xf_hv_domain_info(hv, d, &i), 0);
    return i.paging_pool_pages;
}

static uint32_t nr_domains(struct xf_hv *hv)
{
    uint32_t n;
    assert_int_equal(xf_hv_domain_list(hv, 0, NULL, &n), 0);
    return n;
}

/* truth.<type>.initial_pool_pages: the paging pool a new domain already has
 * (Xen's hap_enable() gives a HAP domain 256 pages at creation, measured in
 * the real-Xen tier). Defaults 256 for hvm, pvh and pv_in_pvh, 0 for pv.
 * On a 1 GiB node with a 256 MiB dom0 (196608 pages free), with pvh's set
 * to 512 and hvm's to 0:
 * - a PVH domain takes 16 hidden + 512 pool pages at creation;
 *   set_paging_pool then sizes the whole pool: 1024 takes 512 more, 100
 *   gives 924 back;
 * - an HVM domain takes its 30 hidden pages and has no pool;
 * - with all but 100 pages claimed by a PV domain, a new PVH domain gets
 *   its 16 hidden pages, not its 512-page pool (pool pages use no claim):
 *   creation fails with -ENOMEM and gives back what it took. */
static void test_sim_spec_initial_pool_pages(void **state)
{
    static const char *minimal = "{\"nodes\": [{\"memory_mib\": 1024, \"cpus\": 2}],"
                                 " \"dom0\": {\"memory_mib\": 256}}";
    static const char *json =
        "{\"nodes\": [{\"memory_mib\": 1024, \"cpus\": 2}],"
        " \"xen\": {\"reserved_pages\": 0, \"dma_pages\": 0}, \"dom0\": {\"memory_mib\": 256},"
        " \"truth\": {\"pvh\": {\"initial_pool_pages\": 512},"
        "            \"hvm\": {\"initial_pool_pages\": 0}}}";
    static const char *negative = "{\"nodes\": [{\"memory_mib\": 1024, \"cpus\": 2}],"
                                  " \"dom0\": {\"memory_mib\": 256},"
                                  " \"truth\": {\"pvh\": {\"initial_pool_pages\": -1}}}";
    struct xf_sim_spec *spec;
    struct xf_parse_error err;
    struct xf_sim_truth tr;
    struct xf_hv *hv = NULL;
    xf_domid_t pvh, hvm, pv, nobody = 0;
    uint64_t f;
    (void)state;

    assert_int_equal(xf_sim_spec_parse(minimal, strlen(minimal), &spec, &err), 0);
    assert_int_equal(spec->truth[XF_DOMAIN_HVM].initial_pool_pages, 256);
    assert_int_equal(spec->truth[XF_DOMAIN_PVH].initial_pool_pages, 256);
    assert_int_equal(spec->truth[XF_DOMAIN_PV_IN_PVH].initial_pool_pages, 256);
    assert_int_equal(spec->truth[XF_DOMAIN_PV].initial_pool_pages, 0);
    xf_sim_spec_free(spec);
    assert_int_equal(xf_sim_spec_parse(negative, strlen(negative), &spec, &err), XF_EBADSPEC);
    assert_non_null(strstr(err.message, "truth.pvh.initial_pool_pages"));

    assert_int_equal(hvt_sim_json(json, NULL, &hv), 0);
    assert_int_equal(xf_sim_truth(hv, XF_DOMAIN_PVH, &tr), 0);
    assert_int_equal(tr.initial_pool_pages, 512);
    assert_int_equal(tr.domain_pages, 16); /* the rest of pvh's profile: defaults */
    f = free_pages(hv);
    assert_int_equal(f, 196608);
    assert_int_equal(xf_hv_domain_create(hv, XF_DOMAIN_PVH, &pvh), 0);
    assert_int_equal(pool_pages(hv, pvh), 512);
    assert_int_equal(free_pages(hv), f - 16 - 512);
    assert_int_equal(xf_hv_set_paging_pool(hv, pvh, 1024), 0);
    assert_int_equal(pool_pages(hv, pvh), 1024);
    assert_int_equal(free_pages(hv), f - 16 - 1024);
    assert_int_equal(xf_hv_set_paging_pool(hv, pvh, 100), 0);
    assert_int_equal(pool_pages(hv, pvh), 100);
    assert_int_equal(free_pages(hv), f - 16 - 100);
    assert_int_equal(xf_hv_destroy(hv, pvh), 0);
    assert_int_equal(xf_hv_sleep_ns(hv, 1000000000), 0); /* 2 GiB/s: all back */
    assert_int_equal(free_pages(hv), f);

    assert_int_equal(xf_hv_domain_create(hv, XF_DOMAIN_HVM, &hvm), 0);
    assert_int_equal(pool_pages(hv, hvm), 0);
    assert_int_equal(free_pages(hv), f - 30);

    /* PV: 21 + 4 hidden; 196608 - 30 - 25 = 196553 free, claim all but 100. */
    assert_int_equal(xf_hv_domain_create(hv, XF_DOMAIN_PV, &pv), 0);
    assert_int_equal(xf_hv_set_max_vcpus(hv, pv, 1), 0);
    assert_int_equal(pool_pages(hv, pv), 0);
    assert_int_equal(xf_hv_set_max_pages(hv, pv, 1u << 20), 0);
    f = free_pages(hv);
    assert_int_equal(f, 196553);
    assert_int_equal(xf_hv_claim(hv, pv, XF_NODE_ANY, f - 100), 0);
    assert_int_equal(nr_domains(hv), 3);
    assert_int_equal(xf_hv_domain_create(hv, XF_DOMAIN_PVH, &nobody), XF_ENOMEM);
    assert_int_equal(nobody, 0);
    assert_int_equal(nr_domains(hv), 3);
    assert_int_equal(free_pages(hv), f);
    xf_hv_free(hv);
}

/* Unreachable distances (SLIT 0xFF) come out as XF_DIST_UNREACHABLE. */
static void test_sim_spec_unreachable_distance(void **state)
{
    static const char *json =
        "{\"nodes\": [{\"memory_mib\": 1024, \"cpus\": 1}, {\"memory_mib\": 1024}],"
        " \"distances\": [[10, 255], [255, 10]], \"dom0\": {\"memory_mib\": 256}}";
    struct xf_sim_spec *s;
    (void)state;

    assert_int_equal(xf_sim_spec_parse(json, strlen(json), &s, NULL), 0);
    assert_int_equal(s->distances[0][1], XF_DIST_UNREACHABLE);
    assert_int_equal(s->nodes[1].nr_cpus, 0); /* a memory-only node is fine */
    xf_sim_spec_free(s);
}

/* Allocation failure: every allocation of parse + new failing in turn
 * unwinds and leaves nothing allocated. */
static void test_sim_spec_allocation_failure(void **state)
{
    char path[512];
    size_t len = 0;
    char *buf;
    long allocs, first_ok;
    int r;
    (void)state;

    snprintf(path, sizeof(path), "%s/hosts/xenbed-2node.json", XF_SOURCE_DIR);
    buf = test_read_file(path, &len);
    assert_non_null(buf);
    assert_int_equal(fail_alloc_install(), 0);
    for (fail_at = 0;; fail_at++) {
        struct xf_hv *hv = NULL;
        alloc_count = 0;
        live = 0;
        r = xf_sim_new_from_json(buf, len, NULL, &hv, NULL);
        if (r == 0) {
            allocs = alloc_count;
            xf_hv_free(hv);
            assert_int_equal(live, 0);
            break;
        }
        assert_int_equal(r, XF_ENOMEM);
        assert_null(hv);
        assert_int_equal(live, 0);
    }
    first_ok = fail_at;
    fail_at = -1;
    xf_reset_allocator();
    /* Six allocations: spec, CPU map, instance, domid table, domain array, dom0. */
    assert_int_equal(allocs, 6);
    assert_int_equal(first_ok, 6);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_spec_malformed_refused_naming_field),
        cmocka_unit_test(test_sim_spec_shipped_hosts_parse),
        cmocka_unit_test(test_sim_spec_xenbed_fields),
        cmocka_unit_test(test_sim_spec_defaults),
        cmocka_unit_test(test_sim_spec_overrides),
        cmocka_unit_test(test_sim_spec_initial_pool_pages),
        cmocka_unit_test(test_sim_spec_unreachable_distance),
        cmocka_unit_test(test_sim_spec_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
