/*
 * test_syslog_out - the syslog client: the exact line glibc's syslog(3)
 * writes, and delivery to a socket that goes away and comes back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/syslog_out.h"

struct fcase {
    const char *name;
    int pri, mon, mday, hour, min, sec;
    const char *ident;
    pid_t pid;
    const char *msg;
    size_t size; /* 0: a large buffer */
    const char *want;
};

static const struct fcase cases[] = {
    {"mail.info, one-digit day padded with a space", 22, 11, 3, 7, 5, 9, "tlspolicyd", 4242,
     "event=decision seq=1", 0, "<22>Dec  3 07:05:09 tlspolicyd[4242]: event=decision seq=1"},
    {"two-digit day, local0.warning", 132, 0, 31, 23, 59, 59, "tp", 1, "event=notice message=x", 0,
     "<132>Jan 31 23:59:59 tp[1]: event=notice message=x"},
    {"kern.emerg is <0>", 0, 5, 15, 0, 0, 0, "a", 99999, "m", 0, "<0>Jun 15 00:00:00 a[99999]: m"},
    {"empty message keeps the header", 22, 2, 1, 12, 0, 0, "tlspolicyd", 7, "", 0,
     "<22>Mar  1 12:00:00 tlspolicyd[7]: "},
    {"a short buffer cuts the line", 22, 11, 3, 7, 5, 9, "tlspolicyd", 4242, "event=decision", 12,
     "<22>Dec  3 "},
};

/* test_format - each case */
static void test_format(void **state)
{
    char buf[256];
    size_t i, n;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct fcase *c = &cases[i];
        struct tm tm = {
            .tm_mon = c->mon, .tm_mday = c->mday, .tm_hour = c->hour, .tm_min = c->min, .tm_sec = c->sec};

        n = syslog_out_format(buf, c->size ? c->size : sizeof(buf), c->pri, &tm, c->ident, c->pid, c->msg);
        if (strcmp(buf, c->want) != 0 || n != strlen(c->want))
            fail_msg("%s: got \"%s\" (%zu), want \"%s\"", c->name, buf, n, c->want);
    }
}

/* bind_dgram - a receiving datagram socket at path */
static int bind_dgram(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *) &sun, sizeof(sun)), 0);
    return fd;
}

/* received - the next datagram, after its header */
static void expect_received(int fd, const char *msg)
{
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    const char *body;

    assert_true(n > 0);
    buf[n] = 0;
    assert_true(strncmp(buf, "<22>", 4) == 0);
    body = strstr(buf, "]: ");
    assert_non_null(body);
    assert_string_equal(body + 3, msg);
}

/* test_gone_and_back - the receiver restarts: an error while gone, delivery after */
static void test_gone_and_back(void **state)
{
    char dir[] = "/tmp/test_syslog_out.XXXXXX", path[128];
    struct syslog_out *so;
    int fd;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/log", dir);
    fd = bind_dgram(path);
    assert_non_null(so = syslog_out_new(path));
    assert_int_equal(syslog_out_send(so, 22, "t", "one", true), 0);
    expect_received(fd, "one");

    close(fd);
    unlink(path);
    assert_int_equal(syslog_out_send(so, 22, "t", "lost", true), ENOENT);

    fd = bind_dgram(path);
    assert_int_equal(syslog_out_send(so, 22, "t", "two", false), 0);
    expect_received(fd, "two");

    /* Bound but its reader gone: refused, not blocked. */
    close(fd);
    assert_int_equal(syslog_out_send(so, 22, "t", "refused", true), ECONNREFUSED);
    syslog_out_free(so);
    unlink(path);
    rmdir(dir);
}

/* ms_since - milliseconds from t0 to now */
static long ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* test_full_socket - a reader that never reads: a bounded wait, then EAGAIN */
static void test_full_socket(void **state)
{
    char dir[] = "/tmp/test_syslog_out.XXXXXX", path[128];
    struct syslog_out *so;
    struct timespec t0;
    int fd, err = 0, i;
    long ms;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/log", dir);
    fd = bind_dgram(path);
    assert_non_null(so = syslog_out_new(path));
    for (i = 0; i < 100000 && err == 0; i++)
        err = syslog_out_send(so, 22, "t", "fill", false);
    assert_true(err == EAGAIN || err == EWOULDBLOCK);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(syslog_out_send(so, 22, "t", "patient", true), err);
    ms = ms_since(&t0);
    if (ms < (SYSLOG_OUT_TRIES - 1) * SYSLOG_OUT_WAIT_MS || ms > 1000)
        fail_msg("a patient send to a full socket took %ld ms", ms);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(syslog_out_send(so, 22, "t", "hasty", false), err);
    if ((ms = ms_since(&t0)) >= (SYSLOG_OUT_TRIES - 1) * SYSLOG_OUT_WAIT_MS)
        fail_msg("an impatient send to a full socket took %ld ms", ms);
    syslog_out_free(so);
    close(fd);
    unlink(path);
    rmdir(dir);
}

/* test_stream - a stream socket (EPROTOTYPE for datagrams): each line ends with NUL */
static void test_stream(void **state)
{
    char dir[] = "/tmp/test_syslog_out.XXXXXX", path[100], buf[256];
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct syslog_out *so;
    int lfd, fd;
    ssize_t n;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/log", dir);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    assert_true((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *) &sun, sizeof(sun)), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_non_null(so = syslog_out_new(path));
    assert_int_equal(syslog_out_send(so, 22, "t", "a", true), 0);
    assert_int_equal(syslog_out_send(so, 22, "t", "b", true), 0);
    assert_true((fd = accept(lfd, NULL, NULL)) >= 0);
    syslog_out_free(so); /* the end of the stream ends the read */
    n = recv(fd, buf, sizeof(buf), MSG_WAITALL);
    assert_true(n > 0);
    /* "<22>Mmm dd hh:mm:ss t[PID]: a\0" twice */
    assert_int_equal(buf[n - 1], 0);
    assert_non_null(strstr(buf, "]: a"));
    assert_non_null(strstr(buf + strlen(buf) + 1, "]: b"));
    close(fd);
    close(lfd);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_gone_and_back),
        cmocka_unit_test(test_full_socket),
        cmocka_unit_test(test_stream),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
