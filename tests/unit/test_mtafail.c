/*++
 * NAME
 *	test_mtafail 1
 * SUMMARY
 *	unit tests for the MTA handshake-failure parser and joiner
 * DESCRIPTION
 *	mtafail_parse(): one named case per line shape of Postfix (taken
 *	from a real Postfix 3.7 with OpenSSL 3.0, and the OpenSSL 1.0/1.1
 *	spellings), Sendmail (a real Sendmail 8.17) and Exim, then hostile
 *	lines: bad names and addresses, a HELO that imitates the end of
 *	Exim's line, overlong fields. mtafail_track: the lines of one
 *	failure joined per process, interleaved processes and hosts, the
 *	bound on waiting failures.
 *--*/

/* System library. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Test framework. */
#include <cmocka.h>

/* Application. */
#include "logread/mtafail.h"
#include "logread/prefix.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const kind_names[] = {"NONE", "BAD", "START", "REASON", "LOST", "DONE"};

/* One parser case: a line and what it must give. */
struct pcase {
    const char *name, *line;
    enum mtafail_kind kind;
    const char *mta, *client, *addr, *reason; /* NULL: not checked */
};

/* check_case - parse one line and compare every field given */
static int check_case(const struct pcase *c)
{
    struct prefix_ctx ctx = {2026, 0};
    struct prefix px;
    struct mtafail f;
    enum mtafail_kind k;

    prefix_parse(&ctx, c->line, &px);
    k = mtafail_parse(&px, &f);
    if (k != c->kind) {
        print_error("case \"%s\": kind %s, expected %s\n", c->name, kind_names[k], kind_names[c->kind]);
        return 1;
    }
    if ((c->mta && strcmp(mtafail_mta_name(f.mta), c->mta) != 0) ||
        (c->client && strcmp(f.name, c->client) != 0) || (c->addr && strcmp(f.addr, c->addr) != 0) ||
        (c->reason && strcmp(f.reason, c->reason) != 0)) {
        print_error("case \"%s\": mta %s name \"%s\" addr \"%s\" reason \"%s\"\n", c->name,
                    mtafail_mta_name(f.mta), f.name, f.addr, f.reason);
        return 1;
    }
    return 0;
}

/* run_cases - every case; fails naming each one that broke */
static void run_cases(const struct pcase *v, size_t n)
{
    size_t i;
    int bad = 0;

    for (i = 0; i < n; i++)
        bad += check_case(&v[i]);
    if (bad)
        fail_msg("%d case(s) failed", bad);
}

/* test_postfix - the lines of a real Postfix 3.7 and older spellings */
static void test_postfix(void **state)
{
    static const struct pcase cases[] = {
        {"3.7 SSL_accept",
         "Nov 23 21:10:04 mx postfix/smtpd[5265]: SSL_accept error from localhost[127.0.0.1]: -1",
         MTAFAIL_START, "postfix", "localhost", "127.0.0.1", ""},
        {"3.7 library problem",
         "Nov 23 21:10:04 mx postfix/smtpd[5265]: warning: TLS library problem: error:0A0000C1:SSL "
         "routines::no shared cipher:../ssl/statem/statem_srvr.c:2226:",
         MTAFAIL_REASON, NULL, NULL, NULL, "no shared cipher"},
        {"3.7 unsupported protocol",
         "Nov 23 21:10:08 mx postfix/smtpd[5352]: warning: TLS library problem: error:0A000102:SSL "
         "routines::unsupported protocol:../ssl/statem/statem_srvr.c:1664:",
         MTAFAIL_REASON, NULL, NULL, NULL, "unsupported protocol"},
        {"OpenSSL 1.1 spelling",
         "Nov 23 21:10:04 mx postfix/smtpd[1]: warning: TLS library problem: error:1417A0C1:SSL "
         "routines:tls_post_process_client_hello:no shared cipher:../ssl/statem/statem_srvr.c:2313:",
         MTAFAIL_REASON, NULL, NULL, NULL, "no shared cipher"},
        {"OpenSSL 1.0 with thread id",
         "Nov 23 21:10:04 mx postfix/smtpd[1]: warning: TLS library problem: 4711:error:1408A0C1:SSL "
         "routines:SSL3_GET_CLIENT_HELLO:no shared cipher:s3_srvr.c:1417:",
         MTAFAIL_REASON, NULL, NULL, NULL, "no shared cipher"},
        {"lost connection",
         "Nov 23 21:10:04 mx postfix/smtpd[5265]: lost connection after STARTTLS from unknown[192.0.2.10]",
         MTAFAIL_LOST, "postfix", "", "192.0.2.10", ""},
        {"service prefix postfix-out",
         "Nov 23 21:10:04 mx postfix-out/smtpd[9]: SSL_accept error from mail.partner.example[192.0.2.10]: "
         "-1",
         MTAFAIL_START, "postfix", "mail.partner.example", "192.0.2.10", ""},
        {"submission service",
         "2026-11-23T21:10:04+00:00 mx postfix/submission/smtpd[9]: SSL_accept error from "
         "unknown[192.0.2.11]: 0",
         MTAFAIL_START, "postfix", "", "192.0.2.11", ""},
        {"postscreen's tlsproxy: no name, a port (postscreen passes \"[ADDR]:PORT\")",
         "Nov 23 21:10:04 mx postfix/tlsproxy[9]: SSL_accept error from [192.0.2.12]:54321: -1",
         MTAFAIL_START, "postfix", "", "192.0.2.12", ""},
        {"tlsproxy, IPv6 with a port",
         "Nov 23 21:10:04 mx postfix/tlsproxy[9]: SSL_accept error from [2001:db8::7]:25123: -1",
         MTAFAIL_START, "postfix", "", "2001:db8::7", ""},
        {"smtpd_client_port_logging=yes",
         "Nov 23 21:10:04 mx postfix/smtpd[9]: SSL_accept error from a.example[192.0.2.13]:41234: -1",
         MTAFAIL_START, "postfix", "a.example", "192.0.2.13", ""},
        {"smtpd_client_port_logging=yes, lost connection",
         "Nov 23 21:10:04 mx postfix/smtpd[9]: lost connection after STARTTLS from a.example[192.0.2.13]:41234",
         MTAFAIL_LOST, "postfix", "a.example", "192.0.2.13", ""},
        {"a port with text after it",
         "Nov 23 21:10:04 mx postfix/smtpd[9]: lost connection after STARTTLS from a.example[192.0.2.13]:41x",
         MTAFAIL_BAD, NULL, NULL, NULL, NULL},
        {"lost connection detail",
         "Nov 23 21:10:04 mx postfix/smtpd[9]: SSL_accept error from a.example[192.0.2.1]: lost connection",
         MTAFAIL_START, "postfix", "a.example", "192.0.2.1", "lost connection"},
        {"IPv6 address canonical",
         "Nov 23 21:10:04 mx postfix/smtpd[9]: SSL_accept error from a.example[2001:DB8:0::1]: -1",
         MTAFAIL_START, "postfix", "a.example", "2001:db8::1", ""},
        {"Postfix's own TLS client is not a server failure",
         "Nov 23 21:10:04 mx postfix/smtp[9]: warning: TLS library problem: error:0A0000C1:SSL routines::no "
         "shared cipher:x:1:",
         MTAFAIL_NONE, NULL, NULL, NULL, NULL},
        {"other smtpd line", "Nov 23 21:10:04 mx postfix/smtpd[9]: connect from localhost[127.0.0.1]",
         MTAFAIL_NONE, NULL, NULL, NULL, NULL},
        {"tlspolicyd's program name",
         "Nov 23 21:10:04 mx tlspolicyd[9]: SSL_accept error from a.example[192.0.2.1]: -1", MTAFAIL_NONE,
         NULL, NULL, NULL, NULL},
    };

    (void) state;
    run_cases(cases, N(cases));
}

/* test_sendmail - the lines of a real Sendmail 8.17 */
static void test_sendmail(void **state)
{
    static const struct pcase cases[] = {
        {"8.17 accept failed",
         "Nov 23 21:11:19 mx sendmail[6476]: STARTTLS=server, error: accept failed=-1, reason=no shared "
         "cipher, "
         "SSL_error=1, errno=0, retry=-1, relay=localhost [127.0.0.1]",
         MTAFAIL_START, "sendmail", "localhost", "127.0.0.1", "no shared cipher"},
        {"address only",
         "Nov 23 21:11:19 mx sm-mta[1]: STARTTLS=server, error: accept failed=-1, reason=unsupported "
         "protocol, "
         "SSL_error=1, errno=0, retry=-1, relay=[192.0.2.10]",
         MTAFAIL_START, "sendmail", "", "192.0.2.10", "unsupported protocol"},
        {"may be forged",
         "Nov 23 21:11:19 mx sm-mta[1]: STARTTLS=server, error: accept failed=-1, reason=no shared cipher, "
         "SSL_error=1, errno=0, retry=-1, relay=mail.partner.example [192.0.2.10] (may be forged)",
         MTAFAIL_START, "sendmail", "", "192.0.2.10", "no shared cipher"},
        {"reason unknown",
         "Nov 23 21:11:19 mx sm-mta[1]: STARTTLS=server, error: accept failed=0, reason=unknown, "
         "SSL_error=5, "
         "errno=0, retry=-1, relay=mail.partner.example [IPv6:2001:db8::10]",
         MTAFAIL_START, "sendmail", "mail.partner.example", "2001:db8::10", ""},
        {"NOQUEUE prefix",
         "Nov 23 21:11:19 mx sm-mta[1]: NOQUEUE: STARTTLS=server, error: accept failed=-1, reason=no shared "
         "cipher, SSL_error=1, errno=0, retry=-1, relay=[192.0.2.10]",
         MTAFAIL_START, "sendmail", "", "192.0.2.10", "no shared cipher"},
        {"8.17 error line",
         "Nov 23 21:11:19 mx sendmail[6476]: STARTTLS=server: error:0A0000C1:SSL routines::no shared "
         "cipher:../ssl/statem/statem_srvr.c:2226:",
         MTAFAIL_REASON, NULL, NULL, NULL, "no shared cipher"},
        {"8.14 error line with thread id",
         "Nov 23 21:11:19 mx sendmail[6476]: STARTTLS=server: 1234:error:1408A0C1:SSL "
         "routines:ssl3_get_client_hello:no shared cipher:s3_srvr.c:1417:",
         MTAFAIL_REASON, NULL, NULL, NULL, "no shared cipher"},
        {"a successful handshake",
         "Nov 23 21:11:19 mx sm-mta[1]: STARTTLS=server, relay=localhost [127.0.0.1], version=TLSv1.3, "
         "verify=NO, "
         "cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
         MTAFAIL_NONE, NULL, NULL, NULL, NULL},
    };

    (void) state;
    run_cases(cases, N(cases));
}

/* test_exim - Exim's mainlog and syslog shapes */
static void test_exim(void **state)
{
    static const struct pcase cases[] = {
        {"mainlog",
         "2026-11-22 14:31:52 TLS error on connection from mail.partner.example [192.0.2.10] (SSL_accept): "
         "error:0A0000C1:SSL routines::no shared cipher",
         MTAFAIL_DONE, "exim", "mail.partner.example", "192.0.2.10", "no shared cipher"},
        {"log_selector +incoming_interface: the client's address, not I=",
         "2026-11-21 09:00:00 TLS error on connection from mail.other.example (helo.x) [198.51.100.7]:41234 "
         "I=[192.0.2.1]:25 (SSL_accept): error:0A0000C1:SSL routines::no shared cipher",
         MTAFAIL_DONE, "exim", "mail.other.example", "198.51.100.7", "no shared cipher"},
        {"+incoming_interface without a name",
         "2026-11-21 09:00:01 TLS error on connection from [203.0.113.9]:41235 I=[192.0.2.1]:25 "
         "(SSL_accept): error:0A0000C1:SSL routines::no shared cipher",
         MTAFAIL_DONE, "exim", "", "203.0.113.9", "no shared cipher"},
        {"+incoming_interface, IPv6 interface",
         "2026-11-21 09:00:01 TLS error on connection from [2001:db8::9]:41235 I=[2001:db8::1]:25 "
         "(gnutls_handshake): No supported cipher suites have been found.",
         MTAFAIL_DONE, "exim", "", "2001:db8::9", "No supported cipher suites have been found."},
        {"helo only and port",
         "2026-11-22 14:31:52 TLS error on connection from (mx.helo.example) [192.0.2.10]:41234 "
         "(SSL_accept): "
         "error:0A000102:SSL routines::unsupported protocol",
         MTAFAIL_DONE, "exim", "", "192.0.2.10", "unsupported protocol"},
        {"name, helo and port",
         "2026-11-22 14:31:52 TLS error on connection from mail.partner.example (helo) [192.0.2.10]:25 "
         "(SSL_accept): error:0A0000C1:SSL routines::no shared cipher",
         MTAFAIL_DONE, "exim", "mail.partner.example", "192.0.2.10", "no shared cipher"},
        {"mainlog with pid",
         "2026-11-22 14:31:52.123 [4242] TLS error on connection from [192.0.2.10] (SSL_accept): timed out",
         MTAFAIL_DONE, "exim", "", "192.0.2.10", "timed out"},
        {"syslog with Exim's own stamp",
         "Nov 22 14:31:52 mx exim[4242]: 2026-11-22 14:31:52 TLS error on connection from a.example "
         "[192.0.2.10] "
         "(SSL_accept): error:1408A0C1:SSL routines:ssl3_get_client_hello:no shared cipher",
         MTAFAIL_DONE, "exim", "a.example", "192.0.2.10", "no shared cipher"},
        {"syslog without stamp",
         "Nov 22 14:31:52 mx exim4[4242]: TLS error on connection from [2001:db8::5]:25 (gnutls_handshake): "
         "No "
         "supported cipher suites have been found.",
         MTAFAIL_DONE, "exim", "", "2001:db8::5", "No supported cipher suites have been found."},
        {"an error after the handshake is not one",
         "2026-11-22 14:31:52 TLS error on connection from [192.0.2.10] (recv): A TLS packet with unexpected "
         "length",
         MTAFAIL_NONE, NULL, NULL, NULL, NULL},
    };

    (void) state;
    run_cases(cases, N(cases));
}

/* test_hostile - lines that must not become failures, or not forged ones */
static void test_hostile(void **state)
{
    static char long_name[400], long_line[800], long_reason[600];
    static const struct pcase fixed[] = {
        {"escape in name",
         "Nov 23 21:10:04 mx postfix/smtpd[1]: SSL_accept error from ev\x1bil[192.0.2.1]: -1", MTAFAIL_BAD,
         NULL, NULL, NULL, NULL},
        {"not an address",
         "Nov 23 21:10:04 mx postfix/smtpd[1]: SSL_accept error from a.example[999.1.1.1]: -1", MTAFAIL_BAD,
         NULL, NULL, NULL, NULL},
        {"no closing bracket",
         "Nov 23 21:10:04 mx postfix/smtpd[1]: SSL_accept error from a.example[192.0.2.1: -1", MTAFAIL_BAD,
         NULL, NULL, NULL, NULL},
        {"empty name: no name", "Nov 23 21:10:04 mx postfix/smtpd[1]: lost connection after STARTTLS from [192.0.2.1]",
         MTAFAIL_LOST, "postfix", "", "192.0.2.1", ""},
        {"empty label",
         "Nov 23 21:10:04 mx postfix/smtpd[1]: lost connection after STARTTLS from a..b[192.0.2.1]",
         MTAFAIL_BAD, NULL, NULL, NULL, NULL},
        {"trailing text after the client",
         "Nov 23 21:10:04 mx postfix/smtpd[1]: lost connection after STARTTLS from a.example[192.0.2.1] x",
         MTAFAIL_BAD, NULL, NULL, NULL, NULL},
        {"library line without an error string",
         "Nov 23 21:10:04 mx postfix/smtpd[1]: warning: TLS library problem: something else", MTAFAIL_BAD,
         NULL, NULL, NULL, NULL},
        {"Exim HELO imitating the end of the line",
         "2026-11-22 14:31:52 TLS error on connection from (x) [10.0.0.1] (SSL_accept): error:0A0000C1:SSL "
         "routines::no shared cipher) [192.0.2.66] (SSL_accept): error:0A000102:SSL routines::unsupported "
         "protocol",
         MTAFAIL_DONE, "exim", "", "192.0.2.66", "unsupported protocol"},
        {"Exim HELO with a name and brackets",
         "2026-11-22 14:31:52 TLS error on connection from good.example (good.example [1.1.1.1]) "
         "[192.0.2.66] "
         "(SSL_accept): error:0A0000C1:SSL routines::no shared cipher",
         MTAFAIL_DONE, "exim", "good.example", "192.0.2.66", "no shared cipher"},
        {"Exim without an address",
         "2026-11-22 14:31:52 TLS error on connection from local process (SSL_accept): x", MTAFAIL_BAD, NULL,
         NULL, NULL, NULL},
        {"Sendmail relay with trailing junk",
         "Nov 23 21:11:19 mx sm-mta[1]: STARTTLS=server, error: accept failed=-1, reason=x, SSL_error=1, "
         "errno=0, "
         "retry=-1, relay=evil [192.0.2.1] and more",
         MTAFAIL_BAD, NULL, NULL, NULL, NULL},
        {"Sendmail relay cut at 100 bytes",
         "Nov 23 21:11:19 mx sm-mta[1]: STARTTLS=server, error: accept failed=-1, reason=x, SSL_error=1, "
         "errno=0, "
         "retry=-1, relay=a.example [192.0.",
         MTAFAIL_BAD, NULL, NULL, NULL, NULL},
        {"Sendmail forged relay inside the reason",
         "Nov 23 21:11:19 mx sm-mta[1]: STARTTLS=server, error: accept failed=-1, reason=a, relay=x "
         "[10.0.0.1], "
         "SSL_error=1, errno=0, retry=-1, relay=[192.0.2.7]",
         MTAFAIL_START, "sendmail", "", "192.0.2.7", NULL},
    };
    struct pcase c;
    int bad = 0;

    (void) state;
    run_cases(fixed, N(fixed));
    memset(long_name, 'a', 300);
    snprintf(long_line, sizeof(long_line),
             "Nov 23 21:10:04 mx postfix/smtpd[1]: SSL_accept error from %s.example[192.0.2.1]: -1",
             long_name);
    c = (struct pcase){"name over 253 bytes", long_line, MTAFAIL_BAD, NULL, NULL, NULL, NULL};
    bad += check_case(&c);
    memset(long_reason, 'r', 500);
    snprintf(long_line, sizeof(long_line),
             "2026-11-22 14:31:52 TLS error on connection from [192.0.2.1] (SSL_accept): %s", long_reason);
    long_reason[MTAFAIL_REASON_MAX] = 0;
    c = (struct pcase){"reason cut", long_line, MTAFAIL_DONE, "exim", "", "192.0.2.1", long_reason};
    bad += check_case(&c);
    if (bad)
        fail_msg("%d case(s) failed", bad);
}

/* test_openssl_reason - the fifth field, and what is not an error string */
static void test_openssl_reason(void **state)
{
    char out[MTAFAIL_REASON_MAX + 1];

    (void) state;
    assert_int_equal(
        mtafail_openssl_reason("error:0A0000C1:SSL routines::no shared cipher", out, sizeof(out)), 0);
    assert_string_equal(out, "no shared cipher");
    assert_int_equal(
        mtafail_openssl_reason("error:0A000102:SSL routines::unsupported protocol:f.c:1:", out, 8), 0);
    assert_string_equal(out, "unsuppo");
    assert_int_equal(mtafail_openssl_reason("error:0A0000C1:SSL routines", out, sizeof(out)), -1);
    assert_int_equal(mtafail_openssl_reason("error:1:2:3::", out, sizeof(out)), -1);
    assert_int_equal(mtafail_openssl_reason("timed out", out, sizeof(out)), -1);
}

/* What the joiner emitted. */
struct sink {
    struct mtafail v[400];
    size_t n;
};

/* collect - the emit callback */
static void collect(void *ctx, const struct mtafail *f)
{
    struct sink *s = ctx;

    if (s->n < N(s->v))
        s->v[s->n++] = *f;
}

/* feed - lines through a joiner, then flush */
static void feed(struct mtafail_track *t, const char *const *lines, size_t n, bool flush)
{
    struct prefix_ctx ctx = {2026, 0};
    struct prefix px;
    size_t i;

    for (i = 0; i < n; i++) {
        prefix_parse(&ctx, lines[i], &px);
        mtafail_track_line(t, &px);
    }
    if (flush)
        mtafail_track_flush(t);
}

/* test_track_postfix - one failure from three lines; interleaved processes and hosts */
static void test_track_postfix(void **state)
{
    static const char *const lines[] = {
        "Nov 23 21:10:04 mx1 postfix/smtpd[10]: connect from a.example[192.0.2.1]",
        "Nov 23 21:10:04 mx1 postfix/smtpd[10]: SSL_accept error from a.example[192.0.2.1]: -1",
        "Nov 23 21:10:05 mx1 postfix/smtpd[11]: SSL_accept error from unknown[192.0.2.2]: -1",
        "Nov 23 21:10:05 mx2 postfix/smtpd[10]: SSL_accept error from b.example[192.0.2.3]: -1",
        "Nov 23 21:10:05 mx1 postfix/smtpd[11]: warning: TLS library problem: error:0A000102:SSL "
        "routines::unsupported protocol:x.c:1:",
        "Nov 23 21:10:05 mx1 postfix/smtpd[10]: warning: TLS library problem: error:0A0000C1:SSL "
        "routines::no shared "
        "cipher:x.c:1:",
        "Nov 23 21:10:05 mx1 postfix/smtpd[10]: warning: TLS library problem: error:0A000000:SSL "
        "routines::later:x.c:1:",
        "Nov 23 21:10:05 mx1 postfix/smtpd[10]: lost connection after STARTTLS from a.example[192.0.2.1]",
        "Nov 23 21:10:05 mx1 postfix/smtpd[10]: disconnect from a.example[192.0.2.1]",
        "Nov 23 21:10:06 mx2 postfix/smtpd[10]: disconnect from b.example[192.0.2.3]",
        "Nov 23 21:10:07 mx1 postfix/smtpd[12]: lost connection after STARTTLS from c.example[192.0.2.4]",
    };
    struct sink s = {.n = 0};
    struct mtafail_track *t = mtafail_track_new(collect, &s);

    (void) state;
    assert_non_null(t);
    feed(t, lines, N(lines), true);
    assert_int_equal(s.n, 4);
    /* a.example: its first library line is the reason, "lost connection" the same failure */
    assert_string_equal(s.v[0].addr, "192.0.2.1");
    assert_string_equal(s.v[0].reason, "no shared cipher");
    assert_string_equal(s.v[0].host, "mx1");
    assert_true(s.v[0].has_time && s.v[0].when == 1795468204);
    /* mx2's pid 10 is another process: ended by its own disconnect, no reason */
    assert_string_equal(s.v[1].addr, "192.0.2.3");
    assert_string_equal(s.v[1].reason, "");
    assert_string_equal(s.v[1].host, "mx2");
    /* a lost connection alone followed a handshake that worked: a close, not a failure */
    assert_string_equal(s.v[2].addr, "192.0.2.4");
    assert_string_equal(s.v[2].reason, "");
    assert_true(s.v[2].closed);
    assert_false(s.v[0].closed || s.v[1].closed || s.v[3].closed);
    assert_true(s.v[0].lib_reason && s.v[3].lib_reason);
    assert_false(s.v[1].lib_reason);
    /* pid 11 had no further line: the flush ends it */
    assert_string_equal(s.v[3].addr, "192.0.2.2");
    assert_string_equal(s.v[3].reason, "unsupported protocol");
    assert_int_equal(mtafail_track_bad(t), 0);
    mtafail_track_free(t);
}

/* test_track_sendmail_exim - a reason now, a reason later, one line */
static void test_track_sendmail_exim(void **state)
{
    static const char *const lines[] = {
        "Nov 23 21:11:19 mx sendmail[1]: STARTTLS=server, error: accept failed=-1, reason=no shared cipher, "
        "SSL_error=1, errno=0, retry=-1, relay=a.example [192.0.2.1]",
        "Nov 23 21:11:19 mx sendmail[1]: STARTTLS=server: error:0A0000C1:SSL routines::no shared "
        "cipher:x.c:1:",
        "Nov 23 21:11:20 mx sendmail[2]: STARTTLS=server, error: accept failed=0, reason=unknown, "
        "SSL_error=5, "
        "errno=0, retry=-1, relay=[192.0.2.2]",
        "Nov 23 21:11:20 mx sendmail[2]: STARTTLS=server: error:0A000102:SSL routines::unsupported "
        "protocol:x.c:1:",
        "Nov 23 21:11:20 mx sendmail[2]: 6ANLBJbi000002: [192.0.2.2] did not issue MAIL/EXPN/VRFY/ETRN",
        "Nov 23 21:11:21 mx exim[3]: TLS error on connection from [192.0.2.3] (SSL_accept): timed out",
        "2026-11-23 21:11:21 TLS error on connection from a.example [192.0.2.5] (SSL_accept): timed out",
        "Nov 23 21:11:22 mx postfix/smtpd[4]: SSL_accept error from bad..name[192.0.2.4]: -1",
    };
    struct sink s = {.n = 0};
    struct mtafail_track *t = mtafail_track_new(collect, &s);

    (void) state;
    assert_non_null(t);
    feed(t, lines, N(lines), false);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.v[0].reason, "no shared cipher");
    assert_string_equal(s.v[0].name, "a.example");
    assert_string_equal(s.v[1].addr, "192.0.2.2");
    assert_string_equal(s.v[1].reason, "unsupported protocol");
    assert_int_equal(s.v[2].mta, MTAFAIL_EXIM);
    assert_string_equal(s.v[2].reason, "timed out");
    assert_string_equal(s.v[2].host, "mx");
    assert_string_equal(s.v[3].host, ""); /* Exim's mainlog names no host */
    assert_string_equal(s.v[3].name, "a.example");
    assert_int_equal(mtafail_track_bad(t), 1);
    mtafail_track_free(t);
}

/* test_track_bound - more waiting failures than the bound: none lost */
static void test_track_bound(void **state)
{
    static struct sink s;
    struct mtafail_track *t = mtafail_track_new(collect, &s);
    struct prefix_ctx ctx = {2026, 0};
    struct prefix px;
    char line[200];
    int i;

    (void) state;
    assert_non_null(t);
    s.n = 0;
    for (i = 0; i < MTAFAIL_PENDING_MAX + 50; i++) {
        snprintf(line, sizeof(line),
                 "Nov 23 21:10:04 mx postfix/smtpd[%d]: SSL_accept error from unknown[192.0.2.%d]: -1",
                 1000 + i, i % 250 + 1);
        prefix_parse(&ctx, line, &px);
        mtafail_track_line(t, &px);
    }
    assert_int_equal(s.n, 50);
    assert_string_equal(s.v[0].addr, "192.0.2.1"); /* the oldest went first */
    mtafail_track_flush(t);
    assert_int_equal(s.n, MTAFAIL_PENDING_MAX + 50);
    mtafail_track_free(t);
}

/* main - run the tests */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postfix),
        cmocka_unit_test(test_sendmail),
        cmocka_unit_test(test_exim),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_openssl_reason),
        cmocka_unit_test(test_track_postfix),
        cmocka_unit_test(test_track_sendmail_exim),
        cmocka_unit_test(test_track_bound),
    };

    setenv("TZ", "UTC", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
