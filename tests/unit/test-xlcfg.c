/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The xl config readers (cli/xlcfg.h): libxlutil (where built) and the
 * built-in reader read the same files to the same settings, and refuse the
 * same bad ones, each naming the file and line; and what the settings mean
 * (xl_parse.c parse_config_data, libxl_create.c
 * libxl__domain_build_info_setdefault at Xen RELEASE-4.17.7), with every
 * expected value worked out in the comments.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "xenfit/units.h"
#include "xlcfg.h"

#define DATA XF_TEST_DATA "/xl/"

typedef int (*reader_fn)(const char *, struct xf_xl_source **, char *, size_t);

/* The readers this build has: the built-in one always, libxlutil maybe. */
static reader_fn readers(unsigned i)
{
    char err[64];
    struct xf_xl_source *s = NULL;
    if (i == 0)
        return xf_xl_source_builtin;
    if (i == 1 && xf_xl_source_xlu("/nonexistent", &s, err, sizeof(err)) != -ENOSYS)
        return xf_xl_source_xlu;
    return NULL;
}

static int read_with(reader_fn fn, const char *path, struct xf_xl_config *c, char *err,
                     size_t errlen)
{
    struct xf_xl_source *src = NULL;
    int r = fn(path, &src, err, errlen);
    if (r < 0)
        return r;
    r = xf_xl_config_from(src, c, err, errlen);
    xf_xl_source_free(src);
    return r;
}

/* Writes text to a temporary file; returns its path (static buffer). */
static const char *tmpcfg(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/xf-xlcfg-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* hvm-pinned.cfg: memory 2048 of maxmem 4096, 2 of 4 vCPUs, stdvga on
 * qemu-xen (16 MiB video by default), pinned to node:1. The model: hvm,
 * static max 4 GiB, target 2 GiB, 4 vCPUs (Xen allocates maxvcpus), video
 * 16. libxl's HAP shadow default: 256*4 + 4096 pages = 20 MiB. */
static void test_xlcfg_hvm(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        reader_fn fn = readers(i);
        struct xf_xl_config c = {0};
        char err[512] = "";
        if (!fn)
            continue;
        assert_int_equal(read_with(fn, DATA "hvm-pinned.cfg", &c, err, sizeof(err)), 0);
        assert_string_equal(c.name, "hvm-pinned");
        assert_string_equal(c.type_name, "hvm");
        assert_int_equal(c.vm.type, XF_DOMAIN_HVM);
        assert_int_equal(c.memory_mib, 2048);
        assert_int_equal(c.maxmem_mib, 4096);
        assert_int_equal(c.vm.static_max_bytes, UINT64_C(4096) << 20);
        assert_int_equal(c.vm.target_bytes, UINT64_C(2048) << 20);
        assert_int_equal(c.vcpus, 2);
        assert_int_equal(c.max_vcpus, 4);
        assert_int_equal(c.vm.vcpus, 4);
        assert_int_equal(c.vm.video_mib, 16);
        assert_string_equal(c.device_model, "qemu-xen");
        assert_false(c.shadow_given);
        assert_int_equal(c.shadow_mib, 20);
        assert_true(c.vm.shadow_multiplier == 1.0);
        assert_true(c.cpus.given);
        assert_false(c.cpus.list);
        assert_string_equal(c.cpus.spec[0], "node:1");
        assert_false(c.cpus_soft.given);
    }
}

/* pv-small.cfg: no type (x86: pv), maxmem = memory, maxvcpus = vcpus, no
 * video; cpus_soft as a per-vCPU list. */
static void test_xlcfg_pv_defaults(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        reader_fn fn = readers(i);
        struct xf_xl_config c = {0};
        char err[512] = "";
        if (!fn)
            continue;
        assert_int_equal(read_with(fn, DATA "pv-small.cfg", &c, err, sizeof(err)), 0);
        assert_string_equal(c.type_name, "pv");
        assert_int_equal(c.vm.type, XF_DOMAIN_PV);
        assert_int_equal(c.maxmem_mib, 512);
        assert_int_equal(c.vm.vcpus, 2);
        assert_int_equal(c.vm.video_mib, 0);
        assert_string_equal(c.device_model, "none");
        assert_true(c.cpus_soft.list);
        assert_int_equal(c.cpus_soft.n, 2);
        assert_string_equal(c.cpus_soft.spec[1], "2,^2,3");
    }
}

/* quirks.cfg: builder "h" is a prefix of "hvm" (xl compares with strncmp
 * over the value's length); memory 0x200 is replaced by the later 256 (the
 * newest setting wins); maxmem "01000" is octal 512 (strtol base 0, and a
 * quoted number is a number); shadow_memory 64 MiB is above the model's
 * ceil((256 + 2*512)/256) = 5 MiB, so the multiplier makes the model's term
 * 64; videoram 16 on cirrus/qemu-xen. */
static void test_xlcfg_quirks(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        reader_fn fn = readers(i);
        struct xf_xl_config c = {0};
        struct xf_memory_config mc = {0};
        char err[512] = "";
        if (!fn)
            continue;
        assert_int_equal(read_with(fn, DATA "quirks.cfg", &c, err, sizeof(err)), 0);
        assert_string_equal(c.type_name, "hvm");
        assert_int_equal(c.memory_mib, 256);
        assert_int_equal(c.maxmem_mib, 512);
        assert_int_equal(c.vm.video_mib, 16);
        assert_true(c.shadow_given);
        assert_int_equal(xf_vm_footprint(&c.vm, NULL, &mc), 0);
        assert_int_equal(mc.shadow_mib, 64);
    }
}

/* Bad files: each reader refuses, naming the file and the line (or the
 * setting and its value). */
static void test_xlcfg_refusals(void **state)
{
    static const struct {
        const char *text;
        const char *want; /* in the built-in reader's message */
    } cases[] = {
        {"memory = \"12x\"\n", ":1: memory = '12x': not a valid number"},
        {"name = \"a\"\nmemory = [1]\n", ":2: parameter `memory' is a list"},
        {"memory = -5\n", ":1: config parsing error near `-5'"},
        {"vcpus = 2\nmaxvcpus = 1\n", "maxvcpus = 1 is below vcpus = 2"},
        {"type = \"hvx\"\n", "type = \"hvx\": invalid domain type"},
        {"memory = 512\n# no newline", ":2: config parsing error near `# no newline'"},
        {"type = \"hvm\"\nvga = \"stdvga\"\nvideoram = 8\nmemory=64\n",
         "videoram = 8: stdvga on qemu-xen needs at least 16 MiB"},
        {"memory = 1024\nmaxmem = 512\n", "memory = 1024 is above maxmem = 512"},
        {"type = \"hvm\"\nbuilder = \"generic\"\n", "contradicting \"builder\""},
        {"memory = 99999999999\n", "memory = 99999999999: must be between 0 and 16777216"},
        {"memory += 5\n", "can't use += with numbers"},
        {"x = \"a\"\nx += [\"b\"]\n", "can't add [list] to \"string\""},
        {"type = \"hvm\"\ndevice_model_stubdomain_override = 1\n", "not modelled by xenfit"},
    };
    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const char *path = tmpcfg(cases[k].text);
        for (unsigned i = 0; i < 2; i++) {
            reader_fn fn = readers(i);
            struct xf_xl_config c;
            char err[512] = "";
            if (!fn)
                continue;
            if (read_with(fn, path, &c, err, sizeof(err)) == 0)
                fail_msg("case %zu (%s reader) was accepted", k, i ? "libxlutil" : "built-in");
            assert_non_null(strstr(err, path));
            if (i == 0 && !strstr(err, cases[k].want))
                fail_msg("case %zu: '%s' does not say '%s'", k, err, cases[k].want);
        }
        unlink(path);
    }
}

/* cpus= to nodes (update_cpumap_range): a host of 8 CPUs, 4 per node. */
static void test_xlcfg_affinity_nodes(void **state)
{
    static const uint32_t map[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    static const struct {
        const char *spec;
        uint64_t nodes; /* 0: refused */
    } cases[] = {
        {"all", 3},         {"node:1", 2}, {"nodes:0-1", 3}, {"0-3", 1},      {"3-4", 3},
        {"all,^node:0", 2}, {"5", 2},      {"^all", 0},      {"8", 0},        {"node:2", 0},
        {"4-2", 0},         {"x", 0},      {"0-3,^0-3", 0},  {"node:all", 3},
    };
    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct xf_xl_affinity a = {.given = true, .n = 1};
        uint64_t nodes = 99;
        char err[256] = "";
        snprintf(a.spec[0], sizeof(a.spec[0]), "%s", cases[k].spec);
        int r = xf_xl_affinity_nodes(&a, map, 8, 2, &nodes, err, sizeof(err));
        if (cases[k].nodes) {
            if (r != 0)
                fail_msg("'%s' refused: %s", cases[k].spec, err);
            assert_int_equal(nodes, cases[k].nodes);
        } else {
            if (r == 0)
                fail_msg("'%s' accepted as %llu", cases[k].spec, (unsigned long long)nodes);
            assert_non_null(strstr(err, cases[k].spec));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xlcfg_hvm),
        cmocka_unit_test(test_xlcfg_pv_defaults),
        cmocka_unit_test(test_xlcfg_quirks),
        cmocka_unit_test(test_xlcfg_refusals),
        cmocka_unit_test(test_xlcfg_affinity_nodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
