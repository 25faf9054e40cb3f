/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenfitd's durable state in SQLite (daemon/store.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "xenfit/units.h"

#define SCHEMA_VERSION 1

/* Every statement the store runs, prepared once at open (STMT_SQL). */
enum stmt {
    ST_RESV_INSERT,
    ST_RESV_UPDATE,
    ST_RESV_DELETE,
    ST_RESV_ALL,
    ST_CALIB_PUT,
    ST_CALIB_ALL,
    ST_CALIB_RESET,
    ST_BUILD_PUT,
    ST_BUILD_ALL,
    ST_BUILD_TRIM,
    ST_GENERATION,
    ST_GENERATION_NEW,
    ST_META_GET,
    ST_META_SET,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    NR_STMTS
};

struct xfd_store {
    sqlite3 *db;
    int lock_fd;
    bool in_txn;
    /* The first error of the current transaction, kept before a rollback
     * (or SQLite's own, after SQLITE_FULL) replaces SQLite's message. */
    char last_err[256];
    int mark_fd;         /* xenfitd.mark: the generation last committed */
    uint64_t generation; /* commits so far (meta "generation") */
    sqlite3_stmt *st[NR_STMTS];
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS reservations("
    " id INTEGER PRIMARY KEY, owner TEXT NOT NULL, kind INTEGER NOT NULL,"
    " state INTEGER NOT NULL, domid INTEGER NOT NULL, kib INTEGER NOT NULL,"
    " total_pages INTEGER NOT NULL, node_mask INTEGER NOT NULL, node_pages BLOB,"
    " claim_kind INTEGER NOT NULL, claim_node INTEGER NOT NULL, claim_pages INTEGER NOT NULL,"
    " claim_global_pages INTEGER NOT NULL, created_ns INTEGER NOT NULL,"
    " expires_ns INTEGER NOT NULL, transferred_ns INTEGER NOT NULL,"
    " domain_seen INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS calibration("
    " type INTEGER NOT NULL, vcpus INTEGER NOT NULL, needed_pages INTEGER NOT NULL,"
    " PRIMARY KEY(type, vcpus));"
    /* Build records (daemon/events.h), added in place: a state from before
     * them gets the table empty. reservation and domid are the record's, for
     * reading the file with sqlite3. */
    "CREATE TABLE IF NOT EXISTS builds("
    " id INTEGER PRIMARY KEY, reservation TEXT, domid INTEGER, record TEXT NOT NULL);";

static int fail(struct xfd_store *s, int r, char *err, size_t errlen, const char *what)
{
    if (err)
        snprintf(err, errlen, "%s: %s", what, s && s->db ? sqlite3_errmsg(s->db) : strerror(-r));
    return r;
}

/* The SQL of each statement; a reservation's columns are ?1 .. ?17 in the
 * table's order (bind_resv, row_to_resv). */
/* NOLINTBEGIN(bugprone-suspicious-missing-comma): designated entries whose
 * long SQL is split over lines on purpose. */
static const char *const STMT_SQL[] = {
    [ST_RESV_INSERT] = "INSERT OR REPLACE INTO reservations VALUES"
                       "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_RESV_UPDATE] = "UPDATE reservations SET owner = ?2, kind = ?3, state = ?4, domid = ?5,"
                       " kib = ?6, total_pages = ?7, node_mask = ?8, node_pages = ?9,"
                       " claim_kind = ?10, claim_node = ?11, claim_pages = ?12,"
                       " claim_global_pages = ?13, created_ns = ?14, expires_ns = ?15,"
                       " transferred_ns = ?16, domain_seen = ?17 WHERE id = ?1",
    [ST_RESV_DELETE] = "DELETE FROM reservations WHERE id = ?",
    [ST_RESV_ALL] = "SELECT * FROM reservations ORDER BY id",
    [ST_CALIB_PUT] = "INSERT OR REPLACE INTO calibration VALUES(?,?,?)",
    [ST_CALIB_ALL] = "SELECT type, vcpus, needed_pages FROM calibration",
    [ST_CALIB_RESET] = "DELETE FROM calibration WHERE ?1 = -1 OR type = ?1",
    [ST_BUILD_PUT] = "INSERT OR REPLACE INTO builds VALUES(?, ?, ?, ?)",
    [ST_BUILD_ALL] = "SELECT id, record FROM builds ORDER BY id",
    [ST_BUILD_TRIM] = "DELETE FROM builds WHERE id < ?",
    /* An update in place: INSERT OR REPLACE deletes and inserts, and
     * rewrites the key's index page too (one more page per commit). */
    [ST_GENERATION] = "UPDATE meta SET value = ?1 WHERE key = 'generation'",
    [ST_GENERATION_NEW] = "INSERT INTO meta VALUES('generation', ?1)",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?",
    [ST_META_SET] = "INSERT OR REPLACE INTO meta VALUES(?, ?)",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};
/* NOLINTEND(bugprone-suspicious-missing-comma) */
_Static_assert(sizeof(STMT_SQL) / sizeof(STMT_SQL[0]) == NR_STMTS, "one SQL text per statement");

/* Prepares every statement of STMT_SQL (kept for the store's life). */
static int prepare_all(struct xfd_store *s, char *err, size_t errlen)
{
    for (size_t i = 0; i < NR_STMTS; i++)
        if (sqlite3_prepare_v3(s->db, STMT_SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK)
            return fail(s, -EIO, err, errlen, "preparing statements");
    return 0;
}

/* Makes a statement ready for its next use. */
static void reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Runs a statement that returns no rows. 0 or -EIO. */
static int step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    reset(st);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

static int check_schema(struct xfd_store *s, char *err, size_t errlen)
{
    char v[32];
    uint64_t version;
    int r = xfd_store_meta_get(s, "schema_version", v, sizeof(v));
    if (r == -ENOENT) {
        snprintf(v, sizeof(v), "%d", SCHEMA_VERSION);
        return xfd_store_meta_set(s, "schema_version", v);
    }
    if (r < 0)
        return fail(s, r, err, errlen, "reading the schema version");
    if (xf_parse_u64(v, &version) < 0 || version != SCHEMA_VERSION) {
        snprintf(err, errlen, "the state has schema version %s; this xenfitd knows %d", v,
                 SCHEMA_VERSION);
        return -EPROTO;
    }
    return 0;
}

/*
 * Damage. The database alone cannot tell that it lost something: SQLite opens
 * a 0-byte file as an empty database, CREATE TABLE IF NOT EXISTS would bring a
 * dropped table back empty, and a deleted or torn WAL silently takes the
 * database back to its last checkpoint. So the state keeps a mark beside it
 * (xenfitd.mark): the generation (the count of commits) last committed,
 * written after each commit. At start, a state with a mark must have its
 * tables, pass SQLite's quick_check, and hold at least the mark's generation
 * (the mark may lag a commit that a crash cut short, never lead it).
 * Otherwise xenfitd refuses to start (-EUCLEAN) unless told to start fresh.
 */
#define MARK_NAME   "xenfitd.mark"
#define MARK_FORMAT "xenfitd state generation %020" PRIu64 "\n"
#define MARK_LEN    (sizeof("xenfitd state generation ") - 1 + 20 + 1)

/* Reads the mark: 1 and the generation, 0 when there is none, -errno. */
static int read_mark(const char *dir, uint64_t *ret_gen)
{
    char path[4096], buf[128];
    static const char prefix[] = "xenfitd state generation ";
    uint64_t g;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "%s/" MARK_NAME, dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        return -EIO;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    if (strncmp(buf, prefix, sizeof(prefix) - 1) != 0 ||
        xf_parse_u64(buf + sizeof(prefix) - 1, &g) < 0)
        return -EUCLEAN;
    *ret_gen = g;
    return 1;
}

static int write_mark(struct xfd_store *s)
{
    char buf[MARK_LEN + 1];
    int n = snprintf(buf, sizeof(buf), MARK_FORMAT, s->generation);
    if (n != (int)MARK_LEN || pwrite(s->mark_fd, buf, MARK_LEN, 0) != (ssize_t)MARK_LEN)
        return -EIO;
    return 0;
}

static int damaged(char *err, size_t errlen, const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int damaged(char *err, size_t errlen, const char *dir, const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(err, errlen,
             "the state in '%s' is damaged: %s. Refusing to start on it: restore it, or start "
             "with --fresh-state to move it aside (kept as *.damaged-TIME) and begin empty",
             dir, what);
    return -EUCLEAN;
}

/* Before the schema is (re)created: a state that was there keeps its tables. */
static int check_tables(struct xfd_store *s, const char *dir, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    uint64_t mark = 0;
    int n = -1, r = read_mark(dir, &mark);

    if (r == -EUCLEAN)
        return damaged(err, errlen, dir, "its mark (" MARK_NAME ") is unreadable");
    if (r <= 0)
        return r; /* no mark: a new state, or one from before marks */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                           "('meta', 'reservations', 'calibration')",
                           -1, &st, NULL) != SQLITE_OK)
        return damaged(err, errlen, dir, "the database cannot be read (%s)", sqlite3_errmsg(s->db));
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (n != 3)
        return damaged(err, errlen, dir,
                       "the database has %d of its 3 tables, but the mark says %llu changes "
                       "were committed (an emptied or replaced xenfitd.db?)",
                       n < 0 ? 0 : n, (unsigned long long)mark);
    return 0;
}

/* After the schema: integrity, and no committed generation lost. */
static int check_generation(struct xfd_store *s, const char *dir, char *err, size_t errlen)
{
    char path[4096], v[32] = "";
    const unsigned char *ok = NULL;
    sqlite3_stmt *st;
    uint64_t mark = 0;
    int r, has_mark;

    if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        ok = sqlite3_column_text(st, 0);
    if (!ok || strcmp((const char *)ok, "ok") != 0) {
        r = damaged(err, errlen, dir, "SQLite's integrity check fails: %s",
                    ok ? (const char *)ok : sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return r;
    }
    sqlite3_finalize(st);
    if ((r = xfd_store_meta_get(s, "generation", v, sizeof(v))) < 0 && r != -ENOENT)
        return fail(s, r, err, errlen, "reading the generation");
    if (r == 0 && xf_parse_u64(v, &s->generation) < 0)
        return damaged(err, errlen, dir, "its generation '%s' is not a number", v);
    if ((has_mark = read_mark(dir, &mark)) < 0)
        return damaged(err, errlen, dir, "its mark (" MARK_NAME ") is unreadable");
    if (has_mark && s->generation < mark)
        return damaged(err, errlen, dir,
                       "the database holds %llu committed changes but %llu were committed "
                       "(the write-ahead log xenfitd.db-wal was deleted or cut short?)",
                       (unsigned long long)s->generation, (unsigned long long)mark);
    snprintf(path, sizeof(path), "%s/" MARK_NAME, dir);
    s->mark_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->mark_fd < 0 || write_mark(s) < 0) {
        r = s->mark_fd < 0 ? -errno : -EIO;
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(-r));
        return r;
    }
    return 0;
}

int xfd_store_move_aside(const char *dir, char *ret_suffix, size_t len)
{
    static const char *const names[] = {"xenfitd.db", "xenfitd.db-wal", "xenfitd.db-shm",
                                        MARK_NAME};
    char from[4096], to[4200];
    snprintf(ret_suffix, len, ".damaged-%lld", (long long)time(NULL));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(from, sizeof(from), "%s/%s", dir, names[i]);
        snprintf(to, sizeof(to), "%s%s", from, ret_suffix);
        if (rename(from, to) < 0 && errno != ENOENT)
            return -errno;
    }
    return 0;
}

/* Fault injection for the tests: XENFITD_STATE_MAX_PAGES caps the database
 * (PRAGMA max_page_count), so that a write fails with SQLITE_FULL as on a
 * full disk (docs/daemon.md, "Faults"). */
static int limit_pages(struct xfd_store *s, char *err, size_t errlen)
{
    const char *v = getenv("XENFITD_STATE_MAX_PAGES");
    char sql[64];
    uint64_t n;
    if (!v || !*v)
        return 0;
    if (xf_parse_u64(v, &n) < 0 || n == 0 || n > INT32_MAX) {
        snprintf(err, errlen, "XENFITD_STATE_MAX_PAGES '%s': expected a page count", v);
        return -EINVAL;
    }
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%llu", (unsigned long long)n);
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK
               ? 0
               : fail(s, -EIO, err, errlen, "limiting the database");
}

int xfd_store_open(const char *dir, enum xfd_sync sync, struct xfd_store **ret, char *err,
                   size_t errlen)
{
    struct xfd_store *s = calloc(1, sizeof(*s));
    char path[4096];
    int r;

    if (!s)
        return -ENOMEM;
    s->lock_fd = s->mark_fd = -1;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        r = -errno;
        snprintf(err, errlen, "cannot create the state directory '%s': %s", dir, strerror(-r));
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/xenfitd.lock", dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        r = errno == EWOULDBLOCK ? -EBUSY : -errno;
        snprintf(err, errlen, "%s '%s': %s",
                 r == -EBUSY ? "another xenfitd holds the state in" : "cannot lock", dir,
                 r == -EBUSY ? "stop it first" : strerror(-r));
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/xenfitd.db", dir);
    /* One thread uses the connection: no per-call mutex (SQLITE_OPEN_NOMUTEX). */
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        xfd_store_vfs_register()) != SQLITE_OK) {
        r = fail(s, -EIO, err, errlen, "opening the database");
        goto fail;
    }
    (void)chmod(path, 0600);
    sqlite3_busy_timeout(s->db, 1000);
    /* The lock file keeps every other xenfitd away, so SQLite may hold its
     * locks for good (no locking calls per transaction; the WAL index then
     * lives in heap memory, not a shared file). */
    if (sqlite3_exec(s->db, "PRAGMA locking_mode=EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(
            s->db, sync == XFD_SYNC_FULL ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
            NULL, NULL, NULL) != SQLITE_OK) {
        r = fail(s, -EIO, err, errlen, "setting up the database");
        goto fail;
    }
    if ((r = check_tables(s, dir, err, errlen)) < 0)
        goto fail;
    if (sqlite3_exec(s->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        r = fail(s, -EIO, err, errlen, "setting up the database");
        goto fail;
    }
    if ((r = prepare_all(s, err, errlen)) < 0)
        goto fail;
    if ((r = check_schema(s, err, errlen)) < 0 || (r = check_generation(s, dir, err, errlen)) < 0)
        goto fail;
    if ((r = limit_pages(s, err, errlen)) < 0)
        goto fail;
    *ret = s;
    return 0;
fail:
    xfd_store_close(s);
    return r;
}

void xfd_store_close(struct xfd_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < NR_STMTS; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    if (s->mark_fd >= 0)
        close(s->mark_fd);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s);
}

/* The symbolic name of SQLite's primary result codes that a write can
 * meet (sqlite3.h); the message names the cause. */
static const char *rc_name(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
        return "SQLITE_FULL";
    case SQLITE_IOERR:
        return "SQLITE_IOERR";
    case SQLITE_CORRUPT:
        return "SQLITE_CORRUPT";
    case SQLITE_NOTADB:
        return "SQLITE_NOTADB";
    case SQLITE_READONLY:
        return "SQLITE_READONLY";
    case SQLITE_BUSY:
        return "SQLITE_BUSY";
    case SQLITE_LOCKED:
        return "SQLITE_LOCKED";
    case SQLITE_CANTOPEN:
        return "SQLITE_CANTOPEN";
    case SQLITE_NOMEM:
        return "SQLITE_NOMEM";
    case SQLITE_CONSTRAINT:
        return "SQLITE_CONSTRAINT";
    default:
        return "SQLITE_ERROR";
    }
}

/* Keeps SQLite's error of a failed write, unless one is already kept for
 * this transaction (the first error is the cause). Returns r. */
static int note(struct xfd_store *s, int r)
{
    if (r < 0 && !s->last_err[0])
        snprintf(s->last_err, sizeof(s->last_err), "%s (%s)", sqlite3_errmsg(s->db),
                 rc_name(sqlite3_extended_errcode(s->db)));
    return r;
}

const char *xfd_store_errmsg(const struct xfd_store *s)
{
    return s->last_err[0] ? s->last_err : sqlite3_errmsg(s->db);
}

int xfd_store_meta_get(struct xfd_store *s, const char *key, char *buf, size_t len)
{
    sqlite3_stmt *st = s->st[ST_META_GET];
    int r = -ENOENT;

    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    switch (sqlite3_step(st)) {
    case SQLITE_ROW:
        snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
        r = 0;
        break;
    case SQLITE_DONE:
        break;
    default:
        r = -EIO;
    }
    reset(st);
    return r;
}

int xfd_store_meta_set(struct xfd_store *s, const char *key, const char *value)
{
    sqlite3_stmt *st = s->st[ST_META_SET];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    return step_reset(st);
}

bool xfd_store_in_txn(const struct xfd_store *s)
{
    return s->in_txn;
}

int xfd_store_begin(struct xfd_store *s)
{
    if (s->in_txn)
        return 0;
    s->last_err[0] = '\0';
    if (note(s, step_reset(s->st[ST_BEGIN])) < 0)
        return -EIO;
    s->in_txn = true;
    return 0;
}

int xfd_store_commit(struct xfd_store *s)
{
    char gen[24];
    if (!s->in_txn)
        return 0;
    snprintf(gen, sizeof(gen), "%" PRIu64, s->generation + 1);
    sqlite3_bind_text(s->st[ST_GENERATION], 1, gen, -1, SQLITE_TRANSIENT);
    int r = note(s, step_reset(s->st[ST_GENERATION]));
    if (r == 0 && sqlite3_changes(s->db) == 0) { /* the first commit */
        sqlite3_bind_text(s->st[ST_GENERATION_NEW], 1, gen, -1, SQLITE_TRANSIENT);
        r = note(s, step_reset(s->st[ST_GENERATION_NEW]));
    }
    if (r < 0 || note(s, step_reset(s->st[ST_COMMIT])) < 0) {
        xfd_store_rollback(s);
        return -EIO;
    }
    s->in_txn = false;
    s->generation++;
    /* After the commit: the mark may lag the database (a crash right here),
     * never lead it. A failed write only makes the next start check less. */
    (void)write_mark(s);
    return 0;
}

void xfd_store_rollback(struct xfd_store *s)
{
    if (!s->in_txn)
        return;
    /* After SQLITE_FULL (and some I/O errors) SQLite has rolled the
     * transaction back itself: a ROLLBACK then only fails with "no
     * transaction is active" and hides the cause. */
    if (!sqlite3_get_autocommit(s->db))
        (void)step_reset(s->st[ST_ROLLBACK]);
    s->in_txn = false;
}

static int64_t i64(uint64_t v)
{
    return (int64_t)v; /* stored two's complement; read back with u64() */
}

static uint64_t u64(sqlite3_stmt *st, int col)
{
    return (uint64_t)sqlite3_column_int64(st, col);
}

/* Binds a reservation's columns (?1 .. ?17, in the table's order). */
static void bind_resv(sqlite3_stmt *st, const struct xf_engine_resv *r)
{
    uint64_t pages[XF_MAX_NODES];
    int n = 0;

    for (uint64_t m = r->node_mask; m; m &= m - 1)
        pages[n++] = r->node_pages[__builtin_ctzll(m)];
    sqlite3_bind_int64(st, 1, i64(r->id));
    sqlite3_bind_text(st, 2, r->owner, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, (int)r->kind);
    sqlite3_bind_int(st, 4, (int)r->state);
    sqlite3_bind_int64(st, 5, (int64_t)r->domid);
    sqlite3_bind_int64(st, 6, i64(r->kib));
    sqlite3_bind_int64(st, 7, i64(r->total_pages));
    sqlite3_bind_int64(st, 8, i64(r->node_mask));
    if (n)
        sqlite3_bind_blob(st, 9, pages, n * (int)sizeof(pages[0]), SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 9);
    sqlite3_bind_int(st, 10, (int)r->claim.kind);
    sqlite3_bind_int64(st, 11, (int64_t)r->claim.node);
    sqlite3_bind_int64(st, 12, i64(r->claim.pages));
    sqlite3_bind_int64(st, 13, i64(r->claim.global_pages));
    sqlite3_bind_int64(st, 14, i64(r->created_ns));
    sqlite3_bind_int64(st, 15, i64(r->expires_ns));
    sqlite3_bind_int64(st, 16, i64(r->transferred_ns));
    sqlite3_bind_int(st, 17, r->domain_seen);
}

/* A new row is inserted; a known one updated in place (cheaper than
 * REPLACE, which deletes and inserts), or inserted if it is not there. */
static int put_resv(struct xfd_store *s, const struct xf_engine_resv *r, bool fresh)
{
    if (!fresh) {
        bind_resv(s->st[ST_RESV_UPDATE], r);
        if (step_reset(s->st[ST_RESV_UPDATE]) < 0)
            return -EIO;
        if (sqlite3_changes(s->db) == 1)
            return 0;
    }
    bind_resv(s->st[ST_RESV_INSERT], r);
    return step_reset(s->st[ST_RESV_INSERT]);
}

static int apply(struct xfd_store *s, const struct xf_engine_change *c);

int xfd_store_apply(void *ctx, const struct xf_engine_change *c)
{
    struct xfd_store *s = ctx;
    return note(s, apply(s, c));
}

static int apply(struct xfd_store *s, const struct xf_engine_change *c)
{
    switch (c->kind) {
    case XF_CHANGE_RESV_PUT:
        return put_resv(s, c->resv, c->fresh);
    case XF_CHANGE_RESV_DEL:
        sqlite3_bind_int64(s->st[ST_RESV_DELETE], 1, i64(c->id));
        return step_reset(s->st[ST_RESV_DELETE]);
    case XF_CHANGE_CALIB: {
        sqlite3_stmt *st = s->st[ST_CALIB_PUT];
        sqlite3_bind_int(st, 1, (int)c->obs.type);
        sqlite3_bind_int64(st, 2, (int64_t)c->obs.vcpus);
        sqlite3_bind_int64(st, 3, i64(c->obs.needed_pages));
        return step_reset(st);
    }
    case XF_CHANGE_CALIB_RESET:
        /* type -1 matches every row: the reset of every type. */
        sqlite3_bind_int(s->st[ST_CALIB_RESET], 1, c->calib_all ? -1 : (int)c->obs.type);
        return step_reset(s->st[ST_CALIB_RESET]);
    }
    return -EINVAL;
}

static int row_to_resv(sqlite3_stmt *st, struct xf_engine_resv *r)
{
    const void *blob = sqlite3_column_blob(st, 8);
    size_t blen = (size_t)sqlite3_column_bytes(st, 8), k = 0;
    const unsigned char *owner = sqlite3_column_text(st, 1);

    memset(r, 0, sizeof(*r));
    r->id = u64(st, 0);
    snprintf(r->owner, sizeof(r->owner), "%s", owner ? (const char *)owner : "");
    r->kind = (enum xf_resv_kind)sqlite3_column_int(st, 2);
    r->state = (enum xf_resv_state)sqlite3_column_int(st, 3);
    r->domid = (xf_domid_t)sqlite3_column_int64(st, 4);
    r->kib = u64(st, 5);
    r->total_pages = u64(st, 6);
    r->node_mask = u64(st, 7);
    if (blen != (size_t)__builtin_popcountll(r->node_mask) * sizeof(uint64_t))
        return -EINVAL;
    for (uint64_t m = r->node_mask; m; m &= m - 1, k++)
        memcpy(&r->node_pages[__builtin_ctzll(m)], (const char *)blob + k * sizeof(uint64_t),
               sizeof(uint64_t));
    r->claim.kind = (enum xf_claim_kind)sqlite3_column_int(st, 9);
    r->claim.node = (uint32_t)sqlite3_column_int64(st, 10);
    r->claim.pages = u64(st, 11);
    r->claim.global_pages = u64(st, 12);
    r->created_ns = u64(st, 13);
    r->expires_ns = u64(st, 14);
    r->transferred_ns = u64(st, 15);
    r->domain_seen = sqlite3_column_int(st, 16) != 0;
    return 0;
}

int xfd_store_load(struct xfd_store *s, struct xf_engine *e, size_t *ret_resv, size_t *ret_calib,
                   char *err, size_t errlen)
{
    sqlite3_stmt *st = s->st[ST_RESV_ALL];
    size_t nr = 0, nc = 0;
    int r = 0, rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct xf_engine_resv res;
        if ((r = row_to_resv(st, &res)) < 0 || (r = xf_engine_restore(e, &res)) < 0) {
            snprintf(err, errlen, "reservation %llu in the state cannot be restored: %s",
                     (unsigned long long)u64(st, 0), xf_strerror(r));
            goto out;
        }
        nr++;
    }
    if (rc != SQLITE_DONE) {
        r = fail(s, -EIO, err, errlen, "reading reservations");
        goto out;
    }
    reset(st);
    st = s->st[ST_CALIB_ALL];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct xf_calib_observation o = {
            .type = (enum xf_domain_type)sqlite3_column_int(st, 0),
            .vcpus = (uint32_t)sqlite3_column_int64(st, 1),
            .needed_pages = u64(st, 2),
        };
        if ((r = xf_engine_restore_observation(e, &o)) < 0) {
            snprintf(err, errlen, "a calibration row in the state cannot be restored: %s",
                     xf_strerror(r));
            goto out;
        }
        nc++;
    }
    if (rc != SQLITE_DONE) {
        r = fail(s, -EIO, err, errlen, "reading calibration");
        goto out;
    }
    *ret_resv = nr;
    *ret_calib = nc;
    r = 0;
out:
    reset(st);
    return r;
}

int xfd_store_put_event(void *ctx, uint64_t id, const json_t *rec)
{
    struct xfd_store *s = ctx;
    sqlite3_stmt *st = s->st[ST_BUILD_PUT];
    const json_t *domid = json_object_get(rec, "domid");
    char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
    int r;

    if (!text)
        return -ENOMEM;
    sqlite3_bind_int64(st, 1, i64(id));
    if (json_is_string(json_object_get(rec, "reservation_id")))
        sqlite3_bind_text(st, 2, json_string_value(json_object_get(rec, "reservation_id")), -1,
                          SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 2);
    if (json_is_integer(domid))
        sqlite3_bind_int64(st, 3, (int64_t)json_integer_value(domid));
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, text, -1, SQLITE_TRANSIENT);
    free(text);
    r = note(s, step_reset(st));
    return r;
}

int xfd_store_trim_events(void *ctx, uint64_t below_id)
{
    struct xfd_store *s = ctx;
    sqlite3_bind_int64(s->st[ST_BUILD_TRIM], 1, i64(below_id));
    return note(s, step_reset(s->st[ST_BUILD_TRIM]));
}

int xfd_store_load_events(struct xfd_store *s, struct xfd_events *ev, size_t *ret_n, char *err,
                          size_t errlen)
{
    sqlite3_stmt *st = s->st[ST_BUILD_ALL];
    size_t n = 0;
    int rc, r = 0;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(st, 1);
        json_t *rec = text ? json_loads((const char *)text, 0, NULL) : NULL;
        if (!json_is_object(rec)) {
            json_decref(rec);
            snprintf(err, errlen, "build record %llu in the state is not a JSON object",
                     (unsigned long long)u64(st, 0));
            r = -EINVAL;
            goto out;
        }
        if ((r = xfd_events_restore(ev, u64(st, 0), rec)) < 0) {
            snprintf(err, errlen, "out of memory loading build records");
            goto out;
        }
        n++;
    }
    if (rc != SQLITE_DONE)
        r = fail(s, -EIO, err, errlen, "reading build records");
    *ret_n = n;
out:
    reset(st);
    return r;
}
