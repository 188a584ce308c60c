/*++
 * NAME
 *	lmdb_check 3
 * SUMMARY
 *	damage checks for the LMDB store, and moving a damaged one aside
 * SYNOPSIS
 *	#include "state/lmdb_check.h"
 *
 *	int	lmdb_check(dir, walk_seconds, why)
 *	int	lmdb_move_aside(dir, moved, len, err)
 *	int	lmdb_check_open(dir, on_damage, err)
 * DESCRIPTION
 *	Two checks, cheapest first.
 *
 *	Meta pages. Pages 0 and 1 of data.mdb are LMDB's meta pages; the one
 *	with the higher transaction id is current. Each records the page
 *	size and the last page in use; LMDB maps the file and follows page
 *	numbers up to that page without comparing them with the file's size,
 *	so a file shorter than (last page + 1) * page size is the SIGBUS the
 *	daemon would die of. Both pages are read with pread(2) and must carry
 *	the meta flag, LMDB's magic number and data version, and a page size
 *	that is a power of two. A 0-byte file is damage too: LMDB would
 *	silently start a new store over it (the learned history gone). Only
 *	a missing file is a first start.
 *
 *	The layout read here is LMDB's on-disk format 1 (lmdb.h's
 *	MDB_DATA_VERSION; the same since LMDB 0.9): a page header of
 *	(size_t page number, u16 pad, u16 flags, u16 lower, u16 upper), then
 *	the meta: u32 magic, u32 version, void *address, size_t map size,
 *	two database records of (u32 pad, u16 flags, u16 depth, 5 size_t),
 *	size_t last page, size_t transaction id. The first record's pad is
 *	the page size. The file is in the host's byte order and word size.
 *
 *	Walk. A child process opens the store read-only and reads every key
 *	and value of every database (the free list, the main database, each
 *	named one), touching every byte, under alarm(walk_seconds). A page
 *	with changed bytes makes LMDB report MDB_CORRUPTED or
 *	MDB_PAGE_NOTFOUND, or makes the child die of a signal: either is
 *	damage, and the daemon is unharmed. A walk that runs out of time
 *	proves nothing either way: the store is opened (the daemon's SIGBUS
 *	guard remains) with a warning. The child takes a reader slot in
 *	lock.mdb like any reader; if it dies, the parent's open clears it.
 * DIAGNOSTICS
 *	What was found, in words an administrator can act on.
 *--*/

/* System library. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Utility library. */
#include <lmdb.h>

/* Application. */
#include "state/lmdb_check.h"

#define META_MAGIC   0xBEEFC0DEu
#define META_VERSION 1    /* MDB_DATA_VERSION */
#define P_META_FLAG  0x08 /* mp_flags of a meta page */
#define PSIZE_MIN    256  /* LMDB's smallest and largest page sizes */
#define PSIZE_MAX    65536
#define WORD         sizeof(size_t)
#define HDR          (WORD + 8) /* page header */
#define OFF_FLAGS    (WORD + 2)
#define OFF_MAGIC    HDR
#define OFF_VERSION  (HDR + 4)
#define OFF_PSIZE    (HDR + 8 + 2 * WORD)             /* first database record's pad */
#define OFF_LAST_PG  (OFF_PSIZE + 2 * (8 + 5 * WORD)) /* after both database records */
#define OFF_TXNID    (OFF_LAST_PG + WORD)
#define META_BYTES   (OFF_TXNID + WORD)

#define EXIT_SOUND   0 /* the child's verdicts; a signal or any other status is damage */
#define EXIT_DAMAGED 3
#define EXIT_CANNOT  4

struct meta {
    size_t psize, last_pg, txnid;
};

/* get_word - a native size_t at p */
static size_t get_word(const unsigned char *p)
{
    size_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/* read_meta - meta page n (at offset off); 0, 1 with why set, -1 on a read error */
static int read_meta(int fd, off_t off, int n, struct meta *m, struct tp_error *why)
{
    unsigned char buf[META_BYTES];
    uint32_t magic, version;
    uint16_t flags;
    ssize_t got = pread(fd, buf, sizeof(buf), off);

    if (got < 0) {
        tp_error_set(why, NULL, 0, "cannot read data.mdb: %s", strerror(errno));
        return -1;
    }
    memcpy(&flags, buf + OFF_FLAGS, sizeof(flags));
    memcpy(&magic, buf + OFF_MAGIC, sizeof(magic));
    memcpy(&version, buf + OFF_VERSION, sizeof(version));
    if ((size_t) got < sizeof(buf) || !(flags & P_META_FLAG) || magic != META_MAGIC) {
        tp_error_set(why, NULL, 0, "meta page %d is not an LMDB meta page", n);
        return 1;
    }
    if (version != META_VERSION) {
        tp_error_set(why, NULL, 0, "meta page %d has data format %u, not %d", n, version, META_VERSION);
        return 1;
    }
    memcpy(&version, buf + OFF_PSIZE, sizeof(version)); /* the page size, a u32 */
    m->psize = version;
    m->last_pg = get_word(buf + OFF_LAST_PG);
    m->txnid = get_word(buf + OFF_TXNID);
    if (m->psize < PSIZE_MIN || m->psize > PSIZE_MAX || (m->psize & (m->psize - 1)) != 0) {
        tp_error_set(why, NULL, 0, "meta page %d records an impossible page size %zu", n, m->psize);
        return 1;
    }
    return 0;
}

/* check_meta - the file against its meta pages: 0 sound, 1 damaged, -1 error */
static int check_meta(int fd, off_t size, struct tp_error *why)
{
    struct meta m[2], *cur;
    int rc;

    if (size == 0) {
        tp_error_set(why, NULL, 0, "data.mdb is empty (0 bytes)");
        return 1;
    }
    if ((rc = read_meta(fd, 0, 0, &m[0], why)) != 0)
        return rc;
    /* Like LMDB: the second meta page is one page (as the first says) further. */
    if ((rc = read_meta(fd, (off_t) m[0].psize, 1, &m[1], why)) != 0)
        return rc;
    cur = m[1].txnid > m[0].txnid ? &m[1] : &m[0];
    if (cur->last_pg < 1 || cur->last_pg >= (size_t) INT64_MAX / cur->psize) {
        tp_error_set(why, NULL, 0, "its meta page records an impossible last page %zu", cur->last_pg);
        return 1;
    }
    if ((uint64_t) size < (uint64_t) (cur->last_pg + 1) * cur->psize) {
        tp_error_set(why, NULL, 0,
                     "data.mdb is %lld bytes, shorter than the %llu bytes its meta page records in use",
                     (long long) size, (unsigned long long) (cur->last_pg + 1) * cur->psize);
        return 1;
    }
    return 0;
}

/* touch - read every byte of v, so that a page beyond the file faults here */
static unsigned touch(const MDB_val *v)
{
    const volatile unsigned char *p = v->mv_data;
    unsigned sum = 0;

    for (size_t i = 0; i < v->mv_size; i++)
        sum += p[i];
    return sum;
}

/* walk_dbi - read every entry of one database; 0 or an LMDB code */
static int walk_dbi(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_cursor *cur;
    MDB_stat st;
    MDB_val k, v;
    size_t n = 0;
    volatile unsigned sum = 0;
    int rc;

    if ((rc = mdb_stat(txn, dbi, &st)) != 0 || (rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        sum += touch(&k) + touch(&v);
        /* Damaged branch pages can lead a cursor round in a circle. */
        if (++n > st.ms_entries) {
            rc = MDB_CORRUPTED;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* walk_named - every named database listed in the main one; 0 or an LMDB code */
static int walk_named(MDB_txn *txn)
{
    MDB_cursor *cur;
    MDB_dbi main_dbi, dbi;
    MDB_val k, v;
    char name[512];
    int rc;

    if ((rc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) != 0 || (rc = walk_dbi(txn, main_dbi)) != 0 ||
        (rc = mdb_cursor_open(txn, main_dbi, &cur)) != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size >= sizeof(name) || memchr(k.mv_data, 0, k.mv_size) != NULL)
            continue; /* not a database name we could have written */
        memcpy(name, k.mv_data, k.mv_size);
        name[k.mv_size] = 0;
        if ((rc = mdb_dbi_open(txn, name, 0, &dbi)) == MDB_INCOMPATIBLE)
            continue; /* a plain key in the main database */
        if (rc != 0 || (rc = walk_dbi(txn, dbi)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* walk_env - open read-only and walk everything; 0 or an LMDB code, *stage set */
static int walk_env(const char *dir, const char **stage)
{
    MDB_env *env;
    MDB_txn *txn;
    int rc;

    *stage = "open";
    if ((rc = mdb_env_create(&env)) != 0)
        return rc;
    if ((rc = mdb_env_set_maxdbs(env, 64)) == 0 &&
        (rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600)) == 0 &&
        (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) == 0) {
        *stage = "read";
        /* dbi 0 is LMDB's free list: damage there would strike the first write. */
        if ((rc = walk_dbi(txn, 0)) == 0)
            rc = walk_named(txn);
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return rc;
}

/* damage_code - an LMDB error that only a damaged file explains */
static bool damage_code(int rc)
{
    /* LMDB's own codes are negative, errno values (ENOMEM, EACCES) positive
       and no finding; of LMDB's, a full reader table is no finding either.
       Cursor stack full, page not found, corrupted: what bad pages give. */
    return rc < 0 && rc != MDB_READERS_FULL && rc != MDB_MAP_RESIZED;
}

/* child - the walk; exits with a verdict and a message on fd */
static void child(const char *dir, unsigned seconds, int fd)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    const char *stage;
    char msg[256];
    sigset_t all;
    int rc, len;

    /* The daemon's handlers (its SIGBUS guard) must not catch the child's faults. */
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGBUS, &dfl, NULL);
    sigaction(SIGSEGV, &dfl, NULL);
    sigaction(SIGALRM, &dfl, NULL);
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, NULL);
    alarm(seconds);
    rc = walk_env(dir, &stage);
    len = snprintf(msg, sizeof(msg), "%s", rc ? mdb_strerror(rc) : "");
    if (len > 0 && write(fd, msg, (size_t) len < sizeof(msg) ? (size_t) len : sizeof(msg) - 1) < 0)
        len = 0;
    if (rc == 0)
        _exit(EXIT_SOUND);
    _exit(damage_code(rc) ? EXIT_DAMAGED : EXIT_CANNOT);
}

/* verdict - what the child's end says; 0 sound (maybe a warning), 1 damaged, -1 cannot tell */
static int verdict(int status, const char *msg, unsigned seconds, struct tp_error *why)
{
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        tp_error_set(why, NULL, 0,
                     "state store: checking data.mdb took more than %u s; opened without the full check",
                     seconds);
        return 0;
    }
    if (WIFSIGNALED(status)) {
        tp_error_set(why, NULL, 0, "reading every record crashed the checking process (signal %d)",
                     WTERMSIG(status));
        return 1;
    }
    switch (WEXITSTATUS(status)) {
    case EXIT_SOUND:
        return 0;
    case EXIT_DAMAGED:
        tp_error_set(why, NULL, 0, "reading every record failed: %s", msg);
        return 1;
    case EXIT_CANNOT:
        tp_error_set(why, NULL, 0, "cannot check data.mdb: %s", msg);
        return -1;
    default: /* a sanitizer's fault handler exits instead of dying of the signal */
        tp_error_set(why, NULL, 0, "reading every record crashed the checking process (status %d)",
                     WEXITSTATUS(status));
        return 1;
    }
}

/* check_walk - the walk in a child process */
static int check_walk(const char *dir, unsigned seconds, struct tp_error *why)
{
    char msg[256];
    size_t have = 0;
    ssize_t got;
    int fds[2], status;
    pid_t pid;

    if (pipe(fds) < 0 || (pid = fork()) < 0) {
        tp_error_set(why, NULL, 0, "cannot check data.mdb: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        child(dir, seconds, fds[1]);
    }
    close(fds[1]);
    /* EOF when the child ends, however it ends: alarm() bounds the wait. */
    while ((got = read(fds[0], msg + have, sizeof(msg) - 1 - have)) > 0 || (got < 0 && errno == EINTR))
        have += got > 0 ? (size_t) got : 0;
    msg[have] = 0;
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            tp_error_set(why, NULL, 0, "cannot check data.mdb: waitpid: %s", strerror(errno));
            return -1;
        }
    return verdict(status, msg, seconds, why);
}

/* lmdb_check - is data.mdb in dir damaged? */
int lmdb_check(const char *dir, unsigned walk_seconds, struct tp_error *why)
{
    char path[1024];
    struct stat sb;
    int fd, rc;

    why->msg[0] = 0;
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno == ENOENT)
            return 0; /* first start: LMDB creates it */
        tp_error_set(why, NULL, 0, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) < 0) {
        tp_error_set(why, NULL, 0, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    rc = check_meta(fd, sb.st_size, why);
    close(fd);
    if (rc != 0)
        return rc;
    return check_walk(dir, walk_seconds, why);
}

/* move_one - rename dir/name to dir/name.damaged-stamp[-N]; 0 absent or moved, -1 error */
static int move_one(const char *dir, const char *name, const char *stamp, char *to, size_t len,
                    struct tp_error *err)
{
    char from[1024], path[1100];
    struct stat sb;

    to[0] = 0;
    snprintf(from, sizeof(from), "%s/%s", dir, name);
    if (lstat(from, &sb) < 0 && errno == ENOENT)
        return 0;
    for (int n = 1; n < 100; n++) {
        if (n == 1)
            snprintf(to, len, "%s.damaged-%s", name, stamp);
        else
            snprintf(to, len, "%s.damaged-%s-%d", name, stamp, n);
        snprintf(path, sizeof(path), "%s/%s", dir, to);
        /* Never over an earlier damaged copy: it may be the evidence. */
        if (lstat(path, &sb) < 0 && errno == ENOENT)
            break;
    }
    if (rename(from, path) < 0) {
        tp_error_set(err, NULL, 0, "cannot move %s to %s: %s", from, path, strerror(errno));
        return -1;
    }
    return 0;
}

/* lmdb_move_aside - keep the damaged files for inspection, out of LMDB's way */
int lmdb_move_aside(const char *dir, char *moved, size_t len, struct tp_error *err)
{
    char stamp[32], data_to[128], lock_to[128];
    time_t now = time(NULL); /* a file name, not a decision: the store may read the clock here */
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    if (move_one(dir, "data.mdb", stamp, data_to, sizeof(data_to), err) < 0 ||
        move_one(dir, "lock.mdb", stamp, lock_to, sizeof(lock_to), err) < 0)
        return -1;
    snprintf(moved, len, "data.mdb to %s%s%s", data_to, lock_to[0] ? ", lock.mdb to " : "", lock_to);
    return 0;
}

/* lmdb_check_open - check, then move aside or refuse as asked */
int lmdb_check_open(const char *dir, enum store_on_damage on_damage, struct tp_error *err)
{
    struct tp_error why, fail;
    char moved[300];
    int rc = lmdb_check(dir, LMDB_CHECK_WALK_SECONDS, &why);

    if (rc == 0) {
        if (why.msg[0])
            tp_error_set(err, NULL, 0, "%s", why.msg);
        return 0;
    }
    if (rc < 0) {
        tp_error_set(err, NULL, 0, "state store %s: %s", dir, why.msg);
        return -1;
    }
    if (on_damage == STORE_DAMAGE_REFUSE) {
        tp_error_set(err, NULL, 0,
                     "state store %s is damaged: %s; left as it is: move data.mdb "
                     "and lock.mdb away or restore them from a backup",
                     dir, why.msg);
        return -1;
    }
    if (lmdb_move_aside(dir, moved, sizeof(moved), &fail) < 0) {
        tp_error_set(err, NULL, 0, "state store %s is damaged: %s; %s", dir, why.msg, fail.msg);
        return -1;
    }
    tp_error_set(err, NULL, 0,
                 "state store %s was damaged: %s; moved %s; starting with an empty store (what the fallback "
                 "rules had learned is lost)",
                 dir, why.msg, moved);
    return 0;
}
