/*++
 * NAME
 *	test_store_damage 1
 * SUMMARY
 *	unit tests for a damaged LMDB state store (issue 17)
 * DESCRIPTION
 *	Each case builds a real store of a few thousand records, damages a
 *	copy of data.mdb the way a tester did (truncated to 20 KiB, emptied,
 *	a few bytes changed in every page, a garbage meta page) and opens it:
 *	the open must detect the damage without the test process dying, fail
 *	under STORE_DAMAGE_REFUSE, and under STORE_DAMAGE_RESET move the files
 *	aside and start empty with a notice. A file truncated under an open
 *	store faults in its map: store_fault_dir() must recognise the address
 *	(that case runs in a child, whose status the parent checks). Separate
 *	from test_store.c, which is about a sound store.
 *--*/

/* System library. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

/* Application. */
#include "state/store.h"

#define RECORDS 2000 /* about 250 KiB of data.mdb: 60 pages */

struct fixture {
    char dir[64];
    struct store *st;
    struct tp_error err;
};

/* put_n - update callback: a record with updated = *arg */
static int put_n(struct fb_record *rec, bool found, void *arg)
{
    (void) found;
    rec->best_level = FB_LEVEL_TLS;
    rec->best_version = TLS_V_TLS12;
    rec->updated = rec->last_tls = *(const int *) arg;
    return STORE_WRITE;
}

/* setup - a store of RECORDS records, closed */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    char key[64];

    snprintf(f->dir, sizeof(f->dir), "%s/test_damage.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL || (f->st = store_open_lmdb(f->dir, 0, STORE_DAMAGE_REFUSE, &f->err)) == NULL)
        return -1;
    for (int i = 0; i < RECORDS; i++) {
        snprintf(key, sizeof(key), "client_domain:host%05d.example", i);
        if (store_update(f->st, key, put_n, &i, &f->err) != STORE_WRITE)
            return -1;
    }
    store_close(f->st);
    f->st = NULL;
    *state = f;
    return 0;
}

/* teardown - close and remove the directory with whatever is in it */
static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[512];
    struct dirent *e;
    DIR *d;

    store_close(f->st);
    if ((d = opendir(f->dir)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            snprintf(path, sizeof(path), "%s/%s", f->dir, e->d_name);
            if (e->d_name[0] != '.')
                unlink(path);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* data_path - dir/data.mdb */
static const char *data_path(const struct fixture *f)
{
    static char path[128];

    snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
    return path;
}

/* damage - change data.mdb: truncate to len (or keep it when len < 0), then xor bytes */
static void damage(const struct fixture *f, off_t len, void (*flip)(unsigned char *, size_t))
{
    struct stat sb;
    unsigned char *buf;
    int fd = open(data_path(f), O_RDWR);

    assert_true(fd >= 0);
    if (len >= 0)
        assert_int_equal(ftruncate(fd, len), 0);
    if (flip) {
        assert_int_equal(fstat(fd, &sb), 0);
        assert_non_null(buf = malloc((size_t) sb.st_size));
        assert_int_equal(pread(fd, buf, (size_t) sb.st_size, 0), sb.st_size);
        flip(buf, (size_t) sb.st_size);
        assert_int_equal(pwrite(fd, buf, (size_t) sb.st_size, 0), sb.st_size);
        free(buf);
    }
    close(fd);
}

/* flip_pages - a few bytes in every page after the two meta pages */
static void flip_pages(unsigned char *buf, size_t len)
{
    for (size_t p = 2 * 4096; p + 4096 <= len; p += 4096) {
        buf[p + 10] ^= 0xff; /* the page's flags: leaf, branch, overflow */
        buf[p + 13] ^= 0x5a; /* where its free space begins */
        buf[p + 2048] ^= 0xff;
    }
}

/* flip_meta - garbage over meta page 0's magic, version and map address */
static void flip_meta(unsigned char *buf, size_t len)
{
    assert_true(len > 48);
    memset(buf + 16, 0xa5, 24);
}

/* exists - a file in the fixture's directory whose name starts with prefix */
static bool exists(const struct fixture *f, const char *prefix)
{
    struct dirent *e;
    bool found = false;
    DIR *d = opendir(f->dir);

    assert_non_null(d);
    while (!found && (e = readdir(d)) != NULL)
        found = strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return found;
}

/* expect_damage - refused with why, then reset: moved aside, empty, a notice */
static void expect_damage(struct fixture *f, const char *why)
{
    struct fb_record rec;

    assert_null(store_open_lmdb(f->dir, 0, STORE_DAMAGE_REFUSE, &f->err));
    if (strstr(f->err.msg, why) == NULL || strstr(f->err.msg, "is damaged") == NULL)
        fail_msg("refused: \"%s\", expected \"%s\"", f->err.msg, why);
    assert_non_null(strstr(f->err.msg, "left as it is: move data.mdb and lock.mdb away"));
    assert_false(exists(f, "data.mdb.damaged-")); /* refused: left in place */

    f->st = store_open_lmdb(f->dir, 0, STORE_DAMAGE_RESET, &f->err);
    assert_non_null(f->st);
    if (strstr(f->err.msg, why) == NULL ||
        strstr(f->err.msg, "moved data.mdb to data.mdb.damaged-") == NULL ||
        strstr(f->err.msg, "lock.mdb to lock.mdb.damaged-") == NULL ||
        strstr(f->err.msg, "empty store") == NULL)
        fail_msg("reset notice: \"%s\"", f->err.msg);
    assert_true(exists(f, "data.mdb.damaged-"));
    assert_true(exists(f, "lock.mdb.damaged-"));
    assert_int_equal(store_get(f->st, "client_domain:host00001.example", &rec, &f->err), 0);
    assert_int_equal(store_update(f->st, "client_domain:new.example", put_n, &(int){7}, &f->err),
                     STORE_WRITE);

    /* The new store is sound: the next start says nothing. */
    store_close(f->st);
    f->st = store_open_lmdb(f->dir, 0, STORE_DAMAGE_RESET, &f->err);
    assert_non_null(f->st);
    assert_string_equal(f->err.msg, "");
    assert_int_equal(store_get(f->st, "client_domain:new.example", &rec, &f->err), 1);
}

/* test_sound - an intact store opens without a notice, records kept */
static void test_sound(void **state)
{
    struct fixture *f = *state;
    struct fb_record rec;

    f->st = store_open_lmdb(f->dir, 0, STORE_DAMAGE_RESET, &f->err);
    assert_non_null(f->st);
    assert_string_equal(f->err.msg, "");
    assert_int_equal(store_get(f->st, "client_domain:host01999.example", &rec, &f->err), 1);
    assert_int_equal(rec.updated, 1999);
    assert_false(exists(f, "data.mdb.damaged-"));
}

/* test_first_start - no directory, or no file in it: created quietly */
static void test_first_start(void **state)
{
    struct fixture *f = *state;
    char sub[128];

    snprintf(sub, sizeof(sub), "%s/new", f->dir);
    f->st = store_open_lmdb(sub, 0, STORE_DAMAGE_REFUSE, &f->err);
    assert_non_null(f->st);
    assert_string_equal(f->err.msg, "");
    store_close(f->st);
    f->st = NULL;
    snprintf(sub, sizeof(sub), "%s/new/data.mdb", f->dir);
    unlink(sub);
    snprintf(sub, sizeof(sub), "%s/new/lock.mdb", f->dir);
    unlink(sub);
    snprintf(sub, sizeof(sub), "%s/new", f->dir);
    rmdir(sub);
}

/* test_truncated - 20 KiB left of 250: the meta page knows better */
static void test_truncated(void **state)
{
    damage(*state, 20 << 10, NULL);
    expect_damage(*state, "data.mdb is 20480 bytes, shorter than the 2");
}

/* test_empty - a 0-byte data.mdb that existed is damage, not a first start */
static void test_empty(void **state)
{
    damage(*state, 0, NULL);
    expect_damage(*state, "data.mdb is empty (0 bytes)");
}

/* test_flipped - bytes changed in every page: found by the walk, in a child */
static void test_flipped(void **state)
{
    damage(*state, -1, flip_pages);
    expect_damage(*state, "reading every record");
}

/* test_meta_garbage - garbage over the first meta page */
static void test_meta_garbage(void **state)
{
    damage(*state, -1, flip_meta);
    expect_damage(*state, "meta page 0 is not an LMDB meta page");
}

static struct fixture *faulting; /* for on_bus */

/* on_bus - the child's SIGBUS handler: exit 42 if the fault was in the store's map */
static void on_bus(int sig, siginfo_t *si, void *uc)
{
    const char *dir = store_fault_dir(si->si_addr);

    (void) sig, (void) uc;
    _exit(dir && strcmp(dir, faulting->dir) == 0 ? 42 : 43);
}

/* test_truncated_while_open - the fault is recognised as the store's */
static void test_truncated_while_open(void **state)
{
    struct fixture *f = faulting = *state;
    struct sigaction sa = {.sa_sigaction = on_bus, .sa_flags = SA_SIGINFO};
    struct fb_record rec;
    int status;
    pid_t pid;

    f->st = store_open_lmdb(f->dir, 0, STORE_DAMAGE_REFUSE, &f->err);
    assert_non_null(f->st);
    assert_null(store_fault_dir(&rec)); /* not in the map */
    if ((pid = fork()) == 0) {
        sigemptyset(&sa.sa_mask);
        sigaction(SIGBUS, &sa, NULL);
        damage(f, 8192, NULL);
        store_get(f->st, "client_domain:host01999.example", &rec, &f->err);
        _exit(0); /* no fault: the test fails */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 42)
        fail_msg("child: exited %d, signal %d; expected exit 42",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    store_close(f->st);
    f->st = NULL;
    expect_damage(f, "shorter than");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* main - run every case */
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_sound),        T(test_first_start),          T(test_truncated), T(test_empty), T(test_flipped),
        T(test_meta_garbage), T(test_truncated_while_open),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
