/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * A SQLite VFS that writes a transaction's write-ahead log in one system
 * call (daemon/store.h, xfd_store_vfs_register).
 *
 * SQLite appends a commit to the WAL as a 24-byte header and a page per
 * changed page, each its own write(): two pages and the header of each made
 * four pwrite() calls per request, the largest part of xenfitd's system
 * time. This VFS wraps the default one and, for WAL files only, keeps
 * contiguous writes in a buffer until the write that completes a commit
 * frame (a frame header whose "database size after commit" field, bytes 4
 * to 7, is not zero, then its page), and writes the buffer then, in one call,
 * before that xWrite returns. So a commit is in the kernel when SQLite's
 * COMMIT returns, exactly as before -- the durability of --sync normal and
 * --sync full is unchanged (docs/daemon.md) -- and if that write fails,
 * SQLite sees its commit fail and rolls back. Any other use of the file
 * (read, sync, truncate, size, close) writes the buffer first, and a
 * buffer past 1 MiB (a large transaction spilling pages) is written at
 * once. Other files (the database, its journal) pass through untouched.
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define VFS_NAME   "xenfitd-wal"
#define SPILL_SIZE (1u << 20)

struct wal_file {
    sqlite3_file base;
    sqlite3_file *real; /* the default VFS's file, right after this struct */
    bool wal;
    bool commit_next; /* the next write completes a commit frame */
    char *buf;
    size_t len, cap;
    sqlite3_int64 off; /* file offset of buf[0] */
};

static sqlite3_vfs wal_vfs;
static sqlite3_vfs *real_vfs;

static int flush(struct wal_file *f)
{
    int rc;
    if (!f->len)
        return SQLITE_OK;
    rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->off);
    f->len = 0;
    return rc;
}

static int x_close(sqlite3_file *p)
{
    struct wal_file *f = (struct wal_file *)p;
    int rc = flush(f), rc2 = f->real->pMethods->xClose(f->real);
    free(f->buf);
    f->buf = NULL;
    f->cap = 0;
    return rc != SQLITE_OK ? rc : rc2;
}

static int x_read(sqlite3_file *p, void *buf, int amt, sqlite3_int64 off)
{
    struct wal_file *f = (struct wal_file *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, buf, amt, off);
}

static int x_write(sqlite3_file *p, const void *data, int amt, sqlite3_int64 off)
{
    struct wal_file *f = (struct wal_file *)p;
    const unsigned char *b = data;
    bool completes = f->commit_next;
    int rc;

    if (!f->wal)
        return f->real->pMethods->xWrite(f->real, data, amt, off);
    if (f->len && off != f->off + (sqlite3_int64)f->len && (rc = flush(f)) != SQLITE_OK)
        return rc;
    if (f->len + (size_t)amt > f->cap) {
        size_t cap = f->cap ? f->cap : 16384;
        while (cap < f->len + (size_t)amt)
            cap *= 2;
        char *n = realloc(f->buf, cap);
        if (!n) { /* write through rather than fail */
            if ((rc = flush(f)) != SQLITE_OK)
                return rc;
            return f->real->pMethods->xWrite(f->real, data, amt, off);
        }
        f->buf = n;
        f->cap = cap;
    }
    if (!f->len)
        f->off = off;
    memcpy(f->buf + f->len, data, (size_t)amt);
    f->len += (size_t)amt;
    /* A WAL frame header: page number, then the database size after a
     * commit (0 for the other frames), big-endian (sqlite.org/fileformat2). */
    f->commit_next = amt == 24 && (b[4] | b[5] | b[6] | b[7]) != 0;
    if (completes || f->len >= SPILL_SIZE)
        return flush(f);
    return SQLITE_OK;
}

static int x_truncate(sqlite3_file *p, sqlite3_int64 size)
{
    struct wal_file *f = (struct wal_file *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int x_sync(sqlite3_file *p, int flags)
{
    struct wal_file *f = (struct wal_file *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int x_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
    struct wal_file *f = (struct wal_file *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

/* The rest pass through. */
static int x_lock(sqlite3_file *p, int l)
{
    struct wal_file *f = (struct wal_file *)p;
    return f->real->pMethods->xLock(f->real, l);
}
static int x_unlock(sqlite3_file *p, int l)
{
    struct wal_file *f = (struct wal_file *)p;
    return f->real->pMethods->xUnlock(f->real, l);
}
static int x_check_reserved(sqlite3_file *p, int *out)
{
    struct wal_file *f = (struct wal_file *)p;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}
static int x_file_control(sqlite3_file *p, int op, void *arg)
{
    struct wal_file *f = (struct wal_file *)p;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}
static int x_sector_size(sqlite3_file *p)
{
    struct wal_file *f = (struct wal_file *)p;
    return f->real->pMethods->xSectorSize(f->real);
}
static int x_device(sqlite3_file *p)
{
    struct wal_file *f = (struct wal_file *)p;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}
static int x_shm_map(sqlite3_file *p, int pg, int sz, int ext, void volatile **out)
{
    struct wal_file *f = (struct wal_file *)p;
    return f->real->pMethods->xShmMap(f->real, pg, sz, ext, out);
}
static int x_shm_lock(sqlite3_file *p, int off, int n, int flags)
{
    struct wal_file *f = (struct wal_file *)p;
    return f->real->pMethods->xShmLock(f->real, off, n, flags);
}
static void x_shm_barrier(sqlite3_file *p)
{
    struct wal_file *f = (struct wal_file *)p;
    f->real->pMethods->xShmBarrier(f->real);
}
static int x_shm_unmap(sqlite3_file *p, int del)
{
    struct wal_file *f = (struct wal_file *)p;
    return f->real->pMethods->xShmUnmap(f->real, del);
}
static int x_fetch(sqlite3_file *p, sqlite3_int64 off, int amt, void **out)
{
    struct wal_file *f = (struct wal_file *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, off, amt, out);
}
static int x_unfetch(sqlite3_file *p, sqlite3_int64 off, void *ptr)
{
    struct wal_file *f = (struct wal_file *)p;
    return f->real->pMethods->xUnfetch(f->real, off, ptr);
}

static const sqlite3_io_methods wal_methods = {
    .iVersion = 3,
    .xClose = x_close,
    .xRead = x_read,
    .xWrite = x_write,
    .xTruncate = x_truncate,
    .xSync = x_sync,
    .xFileSize = x_file_size,
    .xLock = x_lock,
    .xUnlock = x_unlock,
    .xCheckReservedLock = x_check_reserved,
    .xFileControl = x_file_control,
    .xSectorSize = x_sector_size,
    .xDeviceCharacteristics = x_device,
    .xShmMap = x_shm_map,
    .xShmLock = x_shm_lock,
    .xShmBarrier = x_shm_barrier,
    .xShmUnmap = x_shm_unmap,
    .xFetch = x_fetch,
    .xUnfetch = x_unfetch,
};

static int x_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *p, int flags,
                  int *out_flags)
{
    struct wal_file *f = (struct wal_file *)p;
    int rc;

    (void)vfs;
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)(f + 1);
    rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods || f->real->pMethods->iVersion < 3) {
        if (rc == SQLITE_OK && f->real->pMethods)
            f->real->pMethods->xClose(f->real);
        f->base.pMethods = NULL;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    f->base.pMethods = &wal_methods;
    return SQLITE_OK;
}

const char *xfd_store_vfs_register(void)
{
    if (!real_vfs) {
        sqlite3_vfs *d = sqlite3_vfs_find(NULL);
        if (!d)
            return NULL;
        wal_vfs = *d;
        wal_vfs.zName = VFS_NAME;
        wal_vfs.szOsFile = (int)sizeof(struct wal_file) + d->szOsFile;
        wal_vfs.xOpen = x_open;
        wal_vfs.pNext = NULL;
        if (sqlite3_vfs_register(&wal_vfs, 0) != SQLITE_OK)
            return NULL;
        real_vfs = d;
    }
    return VFS_NAME;
}
