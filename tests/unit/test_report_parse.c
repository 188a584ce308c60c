/*++
 * NAME
 *	test_report_parse 1
 * SUMMARY
 *	unit tests for tlspolicy-report's kv reader, seq set and prefixes
 * DESCRIPTION
 *	kv: every byte value and the awkward strings ("", "-", "a=b", quotes,
 *	backslashes) written by record_kv_value() read back identical with
 *	kv_next(), and text the writer cannot produce is refused. seqset:
 *	out-of-order arrival, merges, duplicates and extreme numbers. map:
 *	map_next() walks every entry once, in the same order for the same
 *	insertions.
 *	prefix: one named case per log shape, and the host, program name
 *	and pid of each (the report's --ident rule reads the program name).
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
#include "record/record.h"
#include "record/kv.h"
#include "logread/prefix.h"
#include "util/map.h"
#include "util/seqset.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* roundtrip - write "k=" value with the record writer, read it back */
static void roundtrip(const char *value)
{
    struct strbuf sb;
    char *cur, *key, *val, *text;
    const char *why = NULL;

    strbuf_init(&sb);
    strbuf_puts(&sb, "k=");
    record_kv_value(&sb, value);
    strbuf_puts(&sb, " z=-");
    text = strdup(strbuf_str(&sb));
    cur = text;
    assert_int_equal(kv_next(&cur, &key, &val, &why), 1);
    assert_string_equal(key, "k");
    assert_non_null(val);
    assert_string_equal(val, value);
    assert_int_equal(kv_next(&cur, &key, &val, &why), 1);
    assert_null(val);
    assert_int_equal(kv_next(&cur, &key, &val, &why), 0);
    free(text);
    strbuf_free(&sb);
}

/* test_kv_roundtrip - every byte and the awkward strings */
static void test_kv_roundtrip(void **state)
{
    static const char *const values[] = {
        "",      "-",         "--",      "a=b", "\"",       "\\",   "a b", "x reason=tls_ok\nevent=decision",
        "\\x41", "tab\there", "TLSv1.3", "<>",  "\xff\xfe", "\r\n",
    };
    char one[3];
    size_t i;

    (void) state;
    for (i = 0; i < N(values); i++)
        roundtrip(values[i]);
    for (i = 1; i < 256; i++) {
        one[0] = (char) i;
        one[1] = 'x';
        one[2] = 0;
        roundtrip(one);
    }
}

/* test_kv_refused - text the writer never produces */
static void test_kv_refused(void **state)
{
    static const struct {
        const char *name, *text;
    } cases[] = {
        {"bad escape", "k=\"a\\qb\""},
        {"NUL escape", "k=\"a\\x00\""},
        {"short hex", "k=\"a\\x4\""},
        {"unterminated", "k=\"abc"},
        {"raw control", "k=\"a\x01\""},
        {"raw high byte", "k=\"a\xc3\xa9\""},
        {"plain quote", "k=a\"b"},
        {"plain backslash", "k=a\\b"},
        {"empty plain", "k= z=1"},
        {"double space", "k=1  z=1"},
        {"trailing space", "k=1 "},
        {"no key", "=1"},
        {"upper key", "K=1"},
        {"no equals", "k"},
        {"junk after quote", "k=\"a\"b"},
    };
    char *text, *cur, *key, *val;
    const char *why;
    size_t i;
    int rc;

    (void) state;
    for (i = 0; i < N(cases); i++) {
        text = strdup(cases[i].text);
        cur = text;
        while ((rc = kv_next(&cur, &key, &val, &why)) > 0)
            /* void */;
        if (rc != -1)
            fail_msg("case \"%s\" was accepted", cases[i].name);
        free(text);
    }
}

/* test_seqset - order, merges, duplicates, extremes */
static void test_seqset(void **state)
{
    static const unsigned long long in[] = {1, 2, 3, 7, 5, 4, 10, 10, 9, 18446744073709551615ULL};
    struct seqset s;
    size_t i;

    (void) state;
    seqset_init(&s);
    for (i = 0; i < N(in); i++)
        assert_int_equal(seqset_add(&s, in[i]), 0);
    /* {1-5, 7, 9-10, max}: holes 6, 8, 11..max-1 */
    assert_int_equal(s.n, 4);
    assert_int_equal(s.records, 9);
    assert_int_equal(s.duplicates, 1);
    assert_true(seqset_missing(&s) == 1 + 1 + (18446744073709551615ULL - 11));
    assert_int_equal(seqset_add(&s, 6), 0);
    assert_int_equal(seqset_add(&s, 8), 0);
    assert_int_equal(s.n, 2);
    assert_true(s.v[0].lo == 1 && s.v[0].hi == 10);
    seqset_free(&s);
}

/* walk - the keys of a map in map_next() order, joined by spaces */
static void walk(const struct map *m, char *buf, size_t len)
{
    const struct map_entry *e;
    size_t pos = 0, n = 0;

    buf[0] = 0;
    while ((e = map_next(m, &pos)) != NULL) {
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", n > 0 ? " " : "", e->key);
        n++;
    }
    assert_int_equal(n, m->len);
}

/* test_map_next - an empty map, then every key once, repeatably */
static void test_map_next(void **state)
{
    struct map a, b;
    char key[16], wa[2048], wb[2048], all[2048 + 2];
    size_t pos = 0;
    int i;

    (void) state;
    map_init(&a);
    map_init(&b);
    assert_null(map_next(&a, &pos));
    for (i = 0; i < 100; i++) { /* enough to grow the table a few times */
        snprintf(key, sizeof(key), "k%d", i);
        assert_non_null(map_get(&a, key));
        assert_non_null(map_get(&b, key));
        map_get(&a, key)->count++;
    }
    walk(&a, wa, sizeof(wa));
    walk(&b, wb, sizeof(wb));
    assert_string_equal(wa, wb);
    /* 100 entries walked, and each of the 100 keys among them */
    snprintf(all, sizeof(all), " %s ", wa);
    for (i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), " k%d ", i);
        if (strstr(all, key) == NULL)
            fail_msg("key%s not walked", key);
    }
    map_free(&a, NULL);
    map_free(&b, NULL);
}

/* test_prefix - one case per shape */
static void test_prefix(void **state)
{
    static const struct {
        const char *name, *line, *msg, *day;
        long long when; /* -1: no time */
    } cases[] = {
        {"traditional", "Nov 22 14:31:52 host tlspolicyd[123]: event=x", "event=x", "2026-11-22", 1795357912},
        {"traditional padded day", "Nov  2 04:05:06 h p: m", "m", "2026-11-02", 1793592306},
        {"maillog_file", "Nov 22 14:31:52 h postfix/tlspolicyd[1]: m", "m", "2026-11-22", 1795357912},
        {"rfc3339", "2026-11-22T14:31:52.123456+01:00 h tlspolicyd[1]: m", "m", "2026-11-22", 1795354312},
        {"short-iso", "2026-11-22T14:31:52+0100 h tlspolicyd[1]: m", "m", "2026-11-22", 1795354312},
        {"rfc5424", "<22>1 2026-11-22T14:31:52Z h tlspolicyd 123 - - m", "m", "2026-11-22", 1795357912},
        {"rfc5424 sd bom", "<22>1 2026-11-22T14:31:52Z h a 1 id [x y=\"]\"] \xef\xbb\xbfm", "m", "2026-11-22",
         1795357912},
        {"rfc5424 nil time", "<22>1 - h a 1 - - m", "m", "", -1},
        {"pri traditional", "<30>Nov 22 14:31:52 h p[1]: m", "m", "2026-11-22", 1795357912},
        {"bare", "event=decision seq=1", "event=decision seq=1", "", -1},
        {"bad date", "Feb 30 14:31:52 h p: m", "Feb 30 14:31:52 h p: m", "", -1},
        /* The hour memo: a refused date must not leave its hour behind. */
        {"same hour after a bad date", "Nov 22 14:59:59 h p: m", "m", "2026-11-22", 1795359599},
        {"next hour", "Nov 22 15:00:00 h p: m", "m", "2026-11-22", 1795359600},
        {"bad minute", "Nov 22 15:60:00 h p: m", "Nov 22 15:60:00 h p: m", "", -1},
        {"leap second", "Nov 22 15:59:60 h p: m", "m", "2026-11-22", 1795363200},
        {"bad pri", "<999>1 x", "<999>1 x", "", -1},
    };
    struct prefix_ctx ctx = {2026, 0};
    struct prefix px;
    size_t i;

    (void) state;
    setenv("TZ", "UTC", 1);
    tzset();
    for (i = 0; i < N(cases); i++) {
        prefix_parse(&ctx, cases[i].line, &px);
        if (strcmp(px.msg, cases[i].msg) != 0 || strcmp(px.day, cases[i].day) != 0 ||
            (cases[i].when < 0 ? px.has_time : (!px.has_time || (long long) px.when != cases[i].when)))
            fail_msg("case \"%s\": msg \"%s\" day \"%s\" time %lld", cases[i].name, px.msg, px.day,
                     px.has_time ? (long long) px.when : -1LL);
    }
}

/* test_prefix_short - lines shorter than a traditional stamp: no time, read
   in a copy of exactly their size, so that ASan sees a read past the end
   (fuzz/fuzz_logline found one: an empty line was read up to s[9]) */
static void test_prefix_short(void **state)
{
    static const char *const lines[] = {"", "N", "Nov", "Nov 22", "Nov 22 14:31", "Nov 22 14:31:5"};
    struct prefix_ctx ctx = {2026, 0};
    struct prefix px;
    char *copy;
    size_t i;

    (void) state;
    for (i = 0; i < N(lines); i++) {
        assert_non_null(copy = strdup(lines[i]));
        prefix_parse(&ctx, copy, &px);
        if (px.has_time || strcmp(px.msg, lines[i]) != 0)
            fail_msg("line \"%s\": msg \"%s\", has_time %d", lines[i], px.msg, px.has_time);
        free(copy);
    }
}

/* test_prefix_source - host, tag and pid, and Exim's stamps */
static void test_prefix_source(void **state)
{
    static const struct {
        const char *name, *line, *host, *tag, *pid, *msg;
        long long when;
    } cases[] = {
        {"traditional", "Nov 22 14:31:52 mx1 postfix/smtpd[5265]: m", "mx1", "postfix/smtpd", "5265", "m",
         1795357912},
        {"service prefix", "Nov 22 14:31:52 mx postfix/submission/smtpd[7]: m", "mx",
         "postfix/submission/smtpd", "7", "m", 1795357912},
        {"no pid", "Nov 22 14:31:52 mx kernel: m", "mx", "kernel", "", "m", 1795357912},
        {"rfc3339", "2026-11-22T14:31:52+00:00 mx sm-mta[42]: m", "mx", "sm-mta", "42", "m", 1795357912},
        {"rfc5424", "<22>1 2026-11-22T14:31:52Z mx exim 99 - - m", "mx", "exim", "99", "m", 1795357912},
        {"rfc5424 nil", "<22>1 2026-11-22T14:31:52Z - - - - - m", "", "", "", "m", 1795357912},
        {"exim mainlog", "2026-11-22 14:31:52 TLS error on x: y", "TLS", "", "", "error on x: y", 1795357912},
        {"exim log_timezone", "2026-11-22 14:31:52 +0100 TLS error", "TLS", "", "", "error", 1795354312},
        {"bare", "event=decision", "", "", "", "event=decision", -1},
        /* What the report's ident rule reads: logger's lines name their program. */
        {"logger -t alice", "Nov 22 14:31:52 mx1 alice: event=decision", "mx1", "alice", "", "event=decision",
         1795357912},
        {"logger", "Nov 22 14:31:52 mx1 logger[4242]: event=decision", "mx1", "logger", "4242",
         "event=decision", 1795357912},
        {"logger rfc5424", "<13>1 2026-11-22T14:31:52Z mx1 alice - - - event=decision", "mx1", "alice", "",
         "event=decision", 1795357912},
        {"stamped, no tag", "Nov 22 14:31:52 mx1 event=decision seq=1", "mx1", "", "", "event=decision seq=1",
         1795357912},
    };
    struct prefix_ctx ctx = {2026, 0};
    struct prefix px;
    size_t i;
    char host[64], tag[64], pid[64];

    (void) state;
    setenv("TZ", "UTC", 1);
    tzset();
    for (i = 0; i < N(cases); i++) {
        prefix_parse(&ctx, cases[i].line, &px);
        snprintf(host, sizeof(host), "%.*s", (int) px.host_len, px.host);
        snprintf(tag, sizeof(tag), "%.*s", (int) px.tag_len, px.tag);
        snprintf(pid, sizeof(pid), "%.*s", (int) px.pid_len, px.pid);
        if (strcmp(host, cases[i].host) != 0 || strcmp(tag, cases[i].tag) != 0 ||
            strcmp(pid, cases[i].pid) != 0 || strcmp(px.msg, cases[i].msg) != 0 ||
            (cases[i].when < 0 ? px.has_time : (!px.has_time || (long long) px.when != cases[i].when)))
            fail_msg("case \"%s\": host \"%s\" tag \"%s\" pid \"%s\" msg \"%s\" time %lld", cases[i].name,
                     host, tag, pid, px.msg, px.has_time ? (long long) px.when : -1LL);
    }
}

/* main - run the tests */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_roundtrip),  cmocka_unit_test(test_kv_refused),
        cmocka_unit_test(test_seqset),        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_prefix_source), cmocka_unit_test(test_map_next),
        cmocka_unit_test(test_prefix_short),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
