/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The id map (idmap.h): linear probing over a power-of-two table, at most
 * half full; deletion shifts the following entries of the cluster back, so
 * that a lookup stops at the first empty slot and no tombstone ever builds
 * up (Knuth, TAOCP vol. 3, 6.4, Algorithm R).
 */
#include <stdbool.h>
#include <string.h>

#include "idmap.h"
#include "internal.h"
#include "xenfit/error.h"

/* A 64-bit mix (splitmix64's finaliser): sequential ids spread evenly. */
static size_t slot_of(uint64_t key, size_t cap)
{
    key ^= key >> 30;
    key *= UINT64_C(0xbf58476d1ce4e5b9);
    key ^= key >> 27;
    key *= UINT64_C(0x94d049bb133111eb);
    key ^= key >> 31;
    return (size_t)key & (cap - 1);
}

void xf__idmap_init(struct xf__idmap *m)
{
    memset(m, 0, sizeof(*m));
}

void xf__idmap_done(struct xf__idmap *m)
{
    xf__free(m->keys);
    xf__free(m->vals);
    xf__idmap_init(m);
}

size_t xf__idmap_get(const struct xf__idmap *m, uint64_t key)
{
    if (m->cap == 0 || key == 0)
        return XF__IDMAP_NONE;
    for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key)
            return m->vals[i];
        if (m->keys[i] == 0)
            return XF__IDMAP_NONE;
    }
}

static void insert(uint64_t *keys, size_t *vals, size_t cap, uint64_t key, size_t val)
{
    size_t i = slot_of(key, cap);
    while (keys[i] != 0 && keys[i] != key)
        i = (i + 1) & (cap - 1);
    keys[i] = key;
    vals[i] = val;
}

int xf__idmap_reserve(struct xf__idmap *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 16;
    uint64_t *keys;
    size_t *vals;

    while (cap / 2 < n) {
        if (cap > SIZE_MAX / 4)
            return XF_ENOMEM;
        cap *= 2;
    }
    if (cap == m->cap)
        return 0;
    keys = xf__calloc(cap, sizeof(*keys));
    vals = xf__calloc(cap, sizeof(*vals));
    if (!keys || !vals) {
        xf__free(keys);
        xf__free(vals);
        return XF_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i])
            insert(keys, vals, cap, m->keys[i], m->vals[i]);
    xf__free(m->keys);
    xf__free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

int xf__idmap_put(struct xf__idmap *m, uint64_t key, size_t val)
{
    int r;
    if (key == 0)
        return XF_EINVAL;
    if (xf__idmap_get(m, key) == XF__IDMAP_NONE) {
        if ((r = xf__idmap_reserve(m, m->n + 1)) < 0)
            return r;
        m->n++;
    }
    insert(m->keys, m->vals, m->cap, key, val);
    return 0;
}

void xf__idmap_del(struct xf__idmap *m, uint64_t key)
{
    size_t mask = m->cap - 1, i, j;

    if (m->cap == 0 || key == 0)
        return;
    for (i = slot_of(key, m->cap); m->keys[i] != key; i = (i + 1) & mask)
        if (m->keys[i] == 0)
            return;
    m->n--;
    /* Shift back every entry of the cluster after i that may move to i. */
    for (j = (i + 1) & mask; m->keys[j] != 0; j = (j + 1) & mask) {
        size_t home = slot_of(m->keys[j], m->cap);
        /* The entry at j may fill the hole at i if its home is not in the
         * cyclic range (i, j]. */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        i = j;
    }
    m->keys[i] = 0;
}
