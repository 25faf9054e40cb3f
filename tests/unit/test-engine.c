/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The host engine (lib/toolstack/): ids, reserving and refusing with exact
 * numbers, the session rules, the change journal, restoring, sweeping and
 * calibration, on the simulated test host tests/data/hosts/daemon-2node.json:
 * 15232 MiB = 3899392 pages free for new VMs, node 0 7872 MiB (8128 free
 * less its 256 MiB DMA zone), node 1 7168 MiB.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fail-alloc.h"
#include "xenfit/alloc.h"
#include "xenfit/engine.h"
#include "xenfit/error.h"
#include "xenfit/sim.h"
#include "xenfit/units.h"

#define HOST_FREE_KIB UINT64_C(15597568)
#define MIB(x)        ((uint64_t)(x)*1048576u)

struct fx {
    struct xf_hv *hv;
    struct xf_engine *e;
};

static struct xf_hv *test_host(void)
{
    char buf[4096];
    FILE *f = fopen(XF_TEST_DATA "/hosts/daemon-2node.json", "r");
    size_t n;
    struct xf_hv *hv;
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_int_equal(xf_sim_new_from_json(buf, n, NULL, &hv, NULL), 0);
    return hv;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct xf_engine_params p;
    f->hv = test_host();
    xf_engine_params_init(&p, f->hv);
    p.ttl_ns = 1000;
    p.id_salt = UINT64_C(0xfeedfacecafebeef);
    if (xf_engine_new(f->hv, &p, &f->e) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    xf_engine_free(f->e);
    xf_hv_free(f->hv);
    free(f);
    return 0;
}

static uint64_t host_free_kib(struct xf_engine *e)
{
    struct xf_engine_status st;
    assert_int_equal(xf_engine_status(e, &st), 0);
    return xf_kib_of_pages(st.free.host_free_pages);
}

static uint64_t reserve(struct xf_engine *e, const char *owner, uint64_t kib, uint64_t now)
{
    struct xf_engine_outcome o;
    assert_int_equal(xf_engine_reserve_kib(e, owner, kib, kib, now, &o), 0);
    assert_true(o.granted);
    assert_int_equal(o.kib, kib);
    return o.id;
}

static void test_engine_ids(void **state)
{
    struct fx *f = *state;
    char text[XF_ENGINE_ID_LEN];
    uint64_t id;

    /* Salt feedfacecafebeef: time_low feedface, time_mid cafe, version 4 and
     * the salt's low 12 bits (eef), variant 8 with id bits 48..61. */
    xf_engine_id_format(f->e, UINT64_C(0x123456789abc), text);
    assert_string_equal(text, "feedface-cafe-4eef-8000-123456789abc");
    xf_engine_id_format(f->e, (UINT64_C(1) << 62) - 1, text);
    assert_string_equal(text, "feedface-cafe-4eef-bfff-ffffffffffff");
    assert_int_equal(xf_engine_id_parse(f->e, text, &id), 0);
    assert_true(id == (UINT64_C(1) << 62) - 1);
    assert_int_equal(xf_engine_id_parse(f->e, "FEEDFACE-CAFE-4EEF-8000-00000000002A", &id), 0);
    assert_int_equal(id, 42);
    id = 7;
    assert_int_equal(xf_engine_id_parse(f->e, "feedface-cafe-4eef-8000-000000000000", &id),
                     XF_EUNKNOWN_RESERVATION); /* id 0 */
    assert_int_equal(xf_engine_id_parse(f->e, "00000000-cafe-4eef-8000-000000000001", &id),
                     XF_EUNKNOWN_RESERVATION); /* another salt */
    assert_int_equal(xf_engine_id_parse(f->e, "feedface-cafe-4eef-c000-000000000001", &id),
                     XF_EUNKNOWN_RESERVATION); /* not the variant */
    assert_int_equal(xf_engine_id_parse(f->e, "feedface-cafe-4eef-8000-00000000001", &id),
                     XF_EUNKNOWN_RESERVATION); /* short */
    assert_int_equal(xf_engine_id_parse(f->e, "feedface+cafe-4eef-8000-000000000001", &id),
                     XF_EUNKNOWN_RESERVATION);
    assert_int_equal(xf_engine_id_parse(f->e, "feedface-cafe-4eef-8000-00000000000g", &id),
                     XF_EUNKNOWN_RESERVATION);
    assert_int_equal(id, 7); /* untouched */
}

static void test_engine_reserve_kib_fills_exactly_and_refuses(void **state)
{
    struct fx *f = *state;
    struct xf_engine_outcome o;

    assert_int_equal(host_free_kib(f->e), HOST_FREE_KIB);
    /* A range takes what there is: 2 GiB of [1 KiB, 2 GiB]... */
    assert_int_equal(xf_engine_reserve_kib(f->e, "a", 1, 2097152, 0, &o), 0);
    assert_true(o.granted && o.kib == 2097152 && o.id == 1);
    /* ...and the rest of [1 KiB, 1 TiB]; then nothing is left. */
    assert_int_equal(xf_engine_reserve_kib(f->e, "a", 1, UINT64_C(1) << 30, 0, &o), 0);
    assert_true(o.granted && o.kib == HOST_FREE_KIB - 2097152 && o.id == 2);
    assert_int_equal(host_free_kib(f->e), 0);
    assert_int_equal(xf_engine_reserve_kib(f->e, "a", 4, 4, 0, &o), 0);
    assert_false(o.granted);
    assert_int_equal(o.needed_kib, 4);
    assert_int_equal(o.available_kib, 0);
    assert_int_equal(o.node, -1);
    assert_string_equal(o.reason, "HOST_NOT_ENOUGH_FREE_MEMORY: needs 4 KiB, the host has 0 KiB "
                                  "free for a new VM");
    assert_int_equal(xf_engine_count(f->e), 2);
    /* Bad requests change nothing. */
    assert_int_equal(xf_engine_reserve_kib(f->e, "a", 5, 4, 0, &o), XF_EBADSIZE);
    assert_int_equal(xf_engine_reserve_kib(f->e, "a", 0, XF_ENGINE_MAX_KIB + 1, 0, &o),
                     XF_EBADSIZE);
    char longname[XF_OWNER_MAX + 1];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[XF_OWNER_MAX] = '\0';
    assert_int_equal(xf_engine_reserve_kib(f->e, longname, 0, 0, 0, &o), XF_EINVAL);
    assert_int_equal(xf_engine_delete(f->e, "a", 1), 0);
    assert_int_equal(host_free_kib(f->e), 2097152);
    /* A KiB amount that is not whole pages holds whole pages: 5 KiB = 2 pages. */
    assert_int_equal(xf_engine_reserve_kib(f->e, "a", 5, 5, 0, &o), 0);
    assert_int_equal(xf_engine_find(f->e, o.id)->total_pages, 2);
    assert_int_equal(host_free_kib(f->e), 2097152 - 8);
}

static void test_engine_sessions_transfer_and_supersede(void **state)
{
    struct fx *f = *state;
    uint64_t a = reserve(f->e, "xenopsd", 1024, 0), b = reserve(f->e, "xenopsd", 2048, 0);
    size_t dropped = 99;

    assert_int_equal(xf_engine_transfer(f->e, "xapi", a, 5, 0), XF_EUNKNOWN_RESERVATION);
    assert_int_equal(xf_engine_delete(f->e, "xapi", a), XF_EUNKNOWN_RESERVATION);
    assert_int_equal(xf_engine_transfer(f->e, "xenopsd", a, XF_DOMID_NONE, 0), XF_EINVAL);
    assert_int_equal(xf_engine_transfer(f->e, "xenopsd", a, 5, 10), 0);
    const struct xf_engine_resv *r = xf_engine_find_domain(f->e, 5);
    assert_non_null(r);
    assert_int_equal(r->id, a);
    assert_int_equal(r->state, XF_RESV_TRANSFERRED);
    assert_int_equal(r->expires_ns, 0);
    assert_int_equal(r->transferred_ns, 10);
    assert_false(r->domain_seen); /* no domain 5 in the simulator */
    /* b on the same domain supersedes a (squeezed's domain key names b). */
    assert_int_equal(xf_engine_transfer(f->e, "xenopsd", b, 5, 11), 0);
    assert_int_equal(xf_engine_find_domain(f->e, 5)->id, b);
    assert_null(xf_engine_find(f->e, a));
    /* login drops the session's pending reservations only. */
    uint64_t c = reserve(f->e, "xenopsd", 4096, 0), d = reserve(f->e, "xapi", 4096, 0);
    assert_int_equal(xf_engine_login(f->e, "xenopsd", &dropped), 0);
    assert_int_equal(dropped, 1);
    assert_null(xf_engine_find(f->e, c));
    assert_non_null(xf_engine_find(f->e, b));
    assert_non_null(xf_engine_find(f->e, d));
    assert_int_equal(host_free_kib(f->e), HOST_FREE_KIB - 2048 - 4096);
}

struct seen {
    int puts, dels, calibs, resets;
    uint64_t last_put, last_del;
    bool last_reset_all;
    int fail_at;
};

static int record_change(void *ctx, const struct xf_engine_change *c)
{
    struct seen *s = ctx;
    if (s->fail_at && s->puts + s->dels + s->calibs + 1 == s->fail_at)
        return XF_EIO;
    switch (c->kind) {
    case XF_CHANGE_RESV_PUT:
        s->puts++;
        s->last_put = c->id;
        assert_int_equal(c->resv->id, c->id);
        break;
    case XF_CHANGE_RESV_DEL:
        s->dels++;
        s->last_del = c->id;
        break;
    case XF_CHANGE_CALIB:
        s->calibs++;
        break;
    case XF_CHANGE_CALIB_RESET:
        s->resets++;
        s->last_reset_all = c->calib_all;
        break;
    }
    return 0;
}

static void test_engine_journal(void **state)
{
    struct fx *f = *state;
    struct seen s = {0};

    assert_false(xf_engine_has_changes(f->e));
    uint64_t a = reserve(f->e, "s", 1024, 0), b = reserve(f->e, "s", 1024, 0);
    assert_int_equal(xf_engine_transfer(f->e, "s", a, 3, 0), 0);
    assert_int_equal(xf_engine_delete(f->e, "s", b), 0);
    assert_true(xf_engine_has_changes(f->e));
    /* A failing writer keeps the journal: the same changes come again. */
    s.fail_at = 2;
    assert_int_equal(xf_engine_flush_changes(f->e, record_change, &s), XF_EIO);
    assert_true(xf_engine_has_changes(f->e));
    memset(&s, 0, sizeof(s));
    /* Once per reservation, in its final state: a written, b deleted. */
    assert_int_equal(xf_engine_flush_changes(f->e, record_change, &s), 0);
    assert_int_equal(s.puts, 1);
    assert_int_equal(s.last_put, a);
    assert_int_equal(s.dels, 1);
    assert_int_equal(s.last_del, b);
    assert_false(xf_engine_has_changes(f->e));
}

static void test_engine_restore(void **state)
{
    struct fx *f = *state;
    struct xf_engine_resv r;
    uint64_t id;

    memset(&r, 0, sizeof(r));
    r.id = 40;
    snprintf(r.owner, sizeof(r.owner), "xenopsd");
    r.kind = XF_RESV_VM;
    r.state = XF_RESV_TRANSFERRED;
    r.domid = 12;
    r.kib = 4096 * 1024;
    r.total_pages = xf_pages_of_mib(4096);
    r.node_mask = 2;
    r.node_pages[1] = xf_pages_of_mib(4096);
    assert_int_equal(xf_engine_restore(f->e, &r), 0);
    /* Counted host-wide and on node 1: 7168 - 4096 = 3072 MiB left there. */
    struct xf_engine_status st;
    assert_int_equal(xf_engine_status(f->e, &st), 0);
    assert_int_equal(xf_kib_of_pages(st.free.host_free_pages), HOST_FREE_KIB - 4194304);
    assert_int_equal(xf_mib_of_pages_free(st.free.node_free_pages[1]), 3072);
    assert_int_equal(st.placed_pages[1], xf_pages_of_mib(4096));
    /* The same id or domain again; pages that are not whole MiB per node. */
    assert_int_equal(xf_engine_restore(f->e, &r), XF_EEXIST);
    r.id = 41;
    assert_int_equal(xf_engine_restore(f->e, &r), XF_EEXIST);
    r.domid = 13;
    r.node_pages[1] += 1;
    assert_int_equal(xf_engine_restore(f->e, &r), XF_EINVAL);
    r.node_pages[1] -= 1;
    r.state = XF_RESV_PENDING; /* pending with a domain */
    assert_int_equal(xf_engine_restore(f->e, &r), XF_EINVAL);
    /* New ids continue above the restored ones. */
    id = reserve(f->e, "s", 4, 0);
    assert_int_equal(id, 41);
}

static void test_engine_sweep(void **state)
{
    struct fx *f = *state;
    struct xf_hv *hv = f->hv;
    struct xf_engine_swept sw;
    xf_domid_t dom;
    uint64_t done = 0;

    /* TTL 1000 ns: reserved at 0, it expires at 1000 exactly. */
    uint64_t a = reserve(f->e, "s", 1024, 0);
    uint64_t orphan = reserve(f->e, "s", 1024, 0);
    assert_int_equal(xf_engine_transfer(f->e, "s", orphan, 4000, 500), 0);
    assert_int_equal(xf_engine_sweep(f->e, 999, &sw), 0);
    assert_true(sw.expired == 0 && sw.died == 0 && sw.settled == 0);
    assert_int_equal(xf_engine_sweep(f->e, 1000, &sw), 0);
    assert_int_equal(sw.expired, 1);
    assert_null(xf_engine_find(f->e, a));
    /* The orphan's domain never appeared: dropped a TTL after the transfer. */
    assert_int_equal(xf_engine_sweep(f->e, 1500, &sw), 0);
    assert_int_equal(sw.died, 1);
    assert_null(xf_engine_find(f->e, orphan));
    /* A domain that runs with all its memory settles; when it dies, the
     * reservation goes. */
    uint64_t b = reserve(f->e, "s", 4096, 2000);
    assert_int_equal(xf_hv_domain_create(hv, XF_DOMAIN_PVH, &dom), 0);
    assert_int_equal(xf_hv_set_max_pages(hv, dom, 1024), 0);
    struct xf_hv_populate req = {.nr_extents = 1024, .order = 0, .node = XF_NODE_ANY};
    assert_int_equal(xf_hv_populate(hv, dom, &req, &done), 0);
    assert_int_equal(xf_engine_transfer(f->e, "s", b, dom, 2000), 0);
    assert_true(xf_engine_find(f->e, b)->domain_seen);
    assert_int_equal(xf_engine_sweep(f->e, 2001, &sw), 0);
    assert_int_equal(sw.settled, 1); /* tot_pages 1024 covers its 1024 pages */
    assert_int_equal(xf_engine_find(f->e, b)->state, XF_RESV_SETTLED);
    assert_int_equal(xf_engine_sweep(f->e, 99999, &sw), 0);
    assert_true(sw.expired == 0 && sw.died == 0 && sw.settled == 0);
    assert_int_equal(xf_hv_destroy(hv, dom), 0);
    assert_int_equal(xf_engine_sweep(f->e, 100000, &sw), 0);
    assert_int_equal(sw.died, 1);
    assert_int_equal(xf_engine_count(f->e), 0);
}

static void test_engine_reserve_vm_and_observe(void **state)
{
    struct fx *f = *state;
    struct xf_admit_request req = {.vm = {XF_DOMAIN_HVM, MIB(4096), MIB(4096), 0, 2, 1.0}};
    struct xf_engine_outcome o;
    struct xf_engine_observed ob;

    /* Footprint 4133 MiB, on node 0 (7872 - 4133 left > 7168 - 4133), a node
     * claim of min(xen_max 4097, build start 4096 + 1) MiB = 1048832 pages. */
    assert_int_equal(xf_engine_reserve_vm(f->e, "s", &req, 0, &o), 0);
    assert_true(o.granted);
    assert_int_equal(o.kib, 4133 * 1024);
    const struct xf_engine_resv *r = xf_engine_find(f->e, o.id);
    assert_int_equal(r->kind, XF_RESV_VM);
    assert_int_equal(r->node_mask, 1);
    assert_int_equal(r->node_pages[0], xf_pages_of_mib(4133));
    assert_int_equal(r->claim.kind, XF_CLAIM_NODE);
    assert_int_equal(r->claim.pages, 1048832);
    /* 600 pages beyond the model's 4132 MiB without the calibrated term. */
    assert_int_equal(xf_engine_observe(f->e, &req.vm, xf_pages_of_mib(4132) + 600, &ob), 0);
    assert_true(ob.drift);
    assert_int_equal(ob.needed_pages, 600);
    assert_int_equal(xf_engine_coeffs(f->e, XF_DOMAIN_HVM, 2).fixed_pages, 600);
    assert_int_equal(xf_engine_reserve_vm(f->e, "s", &req, 0, &o), 0);
    assert_int_equal(o.kib, 4135 * 1024);
    /* A malformed VM is an error, not a refusal. */
    req.vm.vcpus = 0;
    assert_int_equal(xf_engine_reserve_vm(f->e, "s", &req, 0, &o), XF_EBADVCPUS);
}

/* The sweep looks at pending reservations only once the earliest may have
 * expired, and must still expire each one exactly when its time comes,
 * whatever order they were made and removed in. TTL 1000 ns. */
static void test_engine_sweep_expiry_order(void **state)
{
    struct fx *f = *state;
    struct xf_engine_swept sw;
    uint64_t a = reserve(f->e, "s", 1024, 300); /* expires at 1300 */
    uint64_t b = reserve(f->e, "s", 1024, 100); /* 1100 */
    uint64_t c = reserve(f->e, "s", 1024, 200); /* 1200 */
    uint64_t d = reserve(f->e, "s", 1024, 50);  /* 1050, deleted before */

    assert_int_equal(xf_engine_delete(f->e, "s", d), 0);
    assert_int_equal(xf_engine_sweep(f->e, 1099, &sw), 0); /* due (1050), none left */
    assert_int_equal(sw.expired, 0);
    assert_int_equal(xf_engine_sweep(f->e, 1100, &sw), 0);
    assert_int_equal(sw.expired, 1);
    assert_null(xf_engine_find(f->e, b));
    assert_int_equal(xf_engine_sweep(f->e, 1199, &sw), 0);
    assert_int_equal(sw.expired, 0);
    uint64_t e2 = reserve(f->e, "s", 1024, 150); /* 1150: earlier than c */
    assert_int_equal(xf_engine_sweep(f->e, 1199, &sw), 0);
    assert_int_equal(sw.expired, 1);
    assert_null(xf_engine_find(f->e, e2));
    assert_int_equal(xf_engine_sweep(f->e, 1250, &sw), 0);
    assert_int_equal(sw.expired, 1);
    assert_null(xf_engine_find(f->e, c));
    assert_non_null(xf_engine_find(f->e, a));
    assert_int_equal(xf_engine_sweep(f->e, 1300, &sw), 0);
    assert_int_equal(sw.expired, 1);
    assert_int_equal(xf_engine_count(f->e), 0);
}

/* A long random sequence of reserves, transfers (to domains that do not
 * exist: they stay counted), deletes, logins and sweeps, against a naive
 * model: every id and domain is found where the model says, the pending
 * counts per session are right, and the records stay in their two parts
 * (transferred first, then pending). TTL 1000 ns. */
#define EMODEL_MAX 1500
static struct {
    uint64_t id;
    int owner;
    xf_domid_t domid;
    uint64_t expires;
    bool live;
} emodel[EMODEL_MAX];

static void engine_check(struct xf_engine *e, size_t nm)
{
    size_t nlive = 0, pending[3] = {0};
    bool in_pending_part = false;
    for (size_t i = 0; i < nm; i++) {
        const struct xf_engine_resv *r = xf_engine_find(e, emodel[i].id);
        if (!emodel[i].live) {
            assert_null(r);
            continue;
        }
        nlive++;
        assert_non_null(r);
        assert_int_equal(r->domid, emodel[i].domid);
        if (emodel[i].domid == XF_DOMID_NONE)
            pending[emodel[i].owner]++;
        else
            assert_ptr_equal(xf_engine_find_domain(e, emodel[i].domid), r);
    }
    assert_int_equal(xf_engine_count(e), nlive);
    assert_int_equal(xf_engine_pending_count(e, NULL), pending[0] + pending[1] + pending[2]);
    assert_int_equal(xf_engine_pending_count(e, "s1"), pending[1]);
    for (size_t i = 0; i < xf_engine_count(e); i++) {
        bool p = xf_engine_at(e, i)->state == XF_RESV_PENDING;
        assert_true(p || !in_pending_part);
        in_pending_part = in_pending_part || p;
    }
}

static void test_engine_records_match_a_naive_model(void **state)
{
    struct fx *f = *state;
    uint64_t seed = 88172645463325252u, now = 0;
    size_t nm = 0, dropped;
    struct xf_engine_swept sw;
    char owner[8];

    for (int step = 0; step < 6000; step++) {
        uint64_t x;
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        x = seed;
        size_t k = nm ? (size_t)((x >> 20) % nm) : 0;
        int who = (int)((x >> 8) % 3);
        snprintf(owner, sizeof(owner), "s%d", who);
        now += (x >> 40) % 7;
        switch (x % 6) {
        case 0:
        case 1:
            if (nm == EMODEL_MAX)
                break;
            emodel[nm].id = reserve(f->e, owner, 4, now);
            emodel[nm].owner = who;
            emodel[nm].domid = XF_DOMID_NONE;
            emodel[nm].expires = now + 1000;
            emodel[nm++].live = true;
            break;
        case 2: { /* transfer to a domain nobody holds, far above the sim's */
            xf_domid_t dom = 20000 + (xf_domid_t)((x >> 24) % 4000);
            if (!nm || !emodel[k].live || xf_engine_find_domain(f->e, dom))
                break;
            snprintf(owner, sizeof(owner), "s%d", emodel[k].owner);
            assert_int_equal(xf_engine_transfer(f->e, owner, emodel[k].id, dom, now), 0);
            emodel[k].domid = dom;
            emodel[k].expires = now + 1000; /* a TTL to appear */
            break;
        }
        case 3:
            if (!nm || !emodel[k].live)
                break;
            snprintf(owner, sizeof(owner), "s%d", emodel[k].owner);
            assert_int_equal(xf_engine_delete(f->e, owner, emodel[k].id), 0);
            emodel[k].live = false;
            break;
        case 4: {
            size_t want = 0;
            if ((x >> 30) % 8)
                break; /* logins are rare */
            for (size_t i = 0; i < nm; i++)
                if (emodel[i].live && emodel[i].owner == who && emodel[i].domid == XF_DOMID_NONE) {
                    emodel[i].live = false;
                    want++;
                }
            assert_int_equal(xf_engine_login(f->e, owner, &dropped), 0);
            assert_int_equal(dropped, want);
            break;
        }
        default: {
            size_t want = 0;
            assert_int_equal(xf_engine_sweep(f->e, now, &sw), 0);
            for (size_t i = 0; i < nm; i++)
                if (emodel[i].live && emodel[i].expires <= now) {
                    emodel[i].live = false; /* expired, or never appeared */
                    want++;
                }
            assert_int_equal(sw.expired + sw.died, want);
            break;
        }
        }
        if (step % 50 == 0)
            engine_check(f->e, nm);
    }
    engine_check(f->e, nm);
}

/* An implausible observation is refused and records nothing; a reset forgets
 * what was learned, in memory and in the journal. */
static void test_engine_calibration_bounds_and_reset(void **state)
{
    struct fx *f = *state;
    struct xf_vm_memory vm = {XF_DOMAIN_HVM, MIB(4096), MIB(4096), 0, 2, 1.0};
    struct xf_engine_outcome o;
    struct xf_engine_observed ob;
    struct xf_calib_observation rows[4];
    struct seen seen = {0};
    size_t removed = 99;

    /* 256 MiB + 2 x 16 MiB = 73728 pages is the most; one more is refused. */
    assert_int_equal(xf_engine_observe(f->e, &vm, xf_pages_of_mib(4132) + 73729, &ob), XF_ERANGE);
    assert_int_equal(xf_engine_calib_rows(f->e, rows, 4), 0);
    assert_int_equal(xf_engine_observe(f->e, &vm, xf_pages_of_mib(4132) + 73728, &ob), 0);
    assert_int_equal(xf_engine_observe(f->e, &vm, xf_pages_of_mib(4132) + 600, &ob), 0);
    assert_int_equal(xf_engine_calib_rows(f->e, rows, 4), 1);
    assert_int_equal(rows[0].needed_pages, 73728);
    assert_int_equal(xf_engine_reserve_vm(f->e, "s", &(struct xf_admit_request){.vm = vm}, 0, &o),
                     0);
    assert_int_equal(o.kib, (4132 + 288) * 1024);

    assert_int_equal(xf_engine_calib_reset(f->e, XF_DOMAIN_PV, false, &removed), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(xf_engine_calib_reset(f->e, XF_DOMAIN_HVM, false, &removed), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(xf_engine_calib_rows(f->e, rows, 4), 0);
    /* xen-api's coefficients again: 4133 MiB. */
    assert_int_equal(xf_engine_coeffs(f->e, XF_DOMAIN_HVM, 2).per_vcpu_pages, 38);
    assert_int_equal(xf_engine_reserve_vm(f->e, "s", &(struct xf_admit_request){.vm = vm}, 0, &o),
                     0);
    assert_int_equal(o.kib, 4133 * 1024);
    assert_int_equal(xf_engine_calib_reset(f->e, (enum xf_domain_type)9, false, &removed),
                     XF_EINVAL);
    assert_int_equal(xf_engine_calib_reset(f->e, (enum xf_domain_type)9, true, &removed), 0);
    /* The journal: two observations, then the two resets of one type and
     * the reset of every type, in order. */
    assert_int_equal(xf_engine_flush_changes(f->e, record_change, &seen), 0);
    assert_int_equal(seen.calibs, 2);
    assert_int_equal(seen.resets, 3);
    assert_true(seen.last_reset_all);
}

/* The Nth allocation fails: the constructor unwinds, leaving nothing
 * allocated, and reports it. */
static void test_engine_new_under_allocation_failure(void **state)
{
    struct xf_hv *hv = test_host();
    struct xf_engine_params p;
    struct xf_engine *e = NULL;
    int r;
    (void)state;
    xf_engine_params_init(&p, hv);
    for (fail_at = 0;; fail_at++) {
        alloc_count = 0;
        live = 0;
        e = (struct xf_engine *)0x1;
        assert_int_equal(fail_alloc_install(), 0);
        r = xf_engine_new(hv, &p, &e);
        xf_reset_allocator();
        if (r == 0)
            break;
        assert_int_equal(r, XF_ENOMEM);
        assert_ptr_equal(e, (struct xf_engine *)0x1);
        assert_int_equal(live, 0);
    }
    assert_true(fail_at >= 5);
    xf_engine_free(e);
    xf_hv_free(hv);
}

/* Every policy of enum xf_numa_policy opens an engine; any other value is
 * refused before anything is allocated or read. */
static void test_engine_new_rejects_unknown_numa_policy(void **state)
{
    struct xf_hv *hv = test_host();
    struct xf_engine_params p;
    struct xf_engine *e = (struct xf_engine *)0x1;
    (void)state;
    xf_engine_params_init(&p, hv);
    p.numa_policy = (enum xf_numa_policy)(XF_NUMA_POLICY_PRIO_MEM_ONLY + 1);
    assert_int_equal(xf_engine_new(hv, &p, &e), XF_EINVAL);
    assert_ptr_equal(e, (struct xf_engine *)0x1);
    p.numa_policy = (enum xf_numa_policy) - 1;
    assert_int_equal(xf_engine_new(hv, &p, &e), XF_EINVAL);
    p.numa_policy = XF_NUMA_POLICY_PRIO_MEM_ONLY;
    assert_int_equal(xf_engine_new(hv, &p, &e), 0);
    assert_int_equal(xf_engine_params(e)->numa_policy, XF_NUMA_POLICY_PRIO_MEM_ONLY);
    xf_engine_free(e);
    xf_hv_free(hv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_engine_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_reserve_kib_fills_exactly_and_refuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_engine_sessions_transfer_and_supersede, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_engine_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_calibration_bounds_and_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_sweep_expiry_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_records_match_a_naive_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_reserve_vm_and_observe, setup, teardown),
        cmocka_unit_test(test_engine_new_under_allocation_failure),
        cmocka_unit_test(test_engine_new_rejects_unknown_numa_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
