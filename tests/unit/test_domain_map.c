/* test_domain_map - normalisation, exact and suffix rules, domain files */

/* System library. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* Application. */
#include "core/domain_map.h"

#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

/* Policy indices a lookup reported, as a bit mask, and how many calls. */
struct hits {
    unsigned mask;
    unsigned calls;
};

static void collect(unsigned idx, void *arg)
{
    struct hits *h = arg;

    h->mask |= 1u << idx;
    h->calls++;
}

static struct hits lookup(const struct domain_map *map, const char *domain)
{
    struct hits h = {0, 0};

    domain_map_lookup(map, domain, collect, &h);
    return h;
}

/* A name of n octets: labels of 63 'a' and a shorter last one. */
static char *long_name(size_t n)
{
    char *s = malloc(n + 1);
    size_t i;

    for (i = 0; i < n; i++)
        s[i] = (i % 64 == 63 && i + 1 < n) ? '.' : 'a';
    s[n] = 0;
    return s;
}

/*
 * Normalisation. want == NULL means an error whose message is msg
 * (or starts with msg when prefix is set: libidn2's texts vary by version).
 */
struct norm_case {
    const char *name;
    const char *in;
    const char *want;
    const char *msg;
    int prefix;
};

static const struct norm_case norm_cases[] = {
    {"lower case", "Example.ORG", "example.org", NULL, 0},
    {"trailing dot", "example.org.", "example.org", NULL, 0},
    {"two trailing dots", "example.org..", NULL, "invalid domain \"example.org..\": empty label", 0},
    {"single label", "localhost", "localhost", NULL, 0},
    {"underscore", "_dmarc.Example.org", "_dmarc.example.org", NULL, 0},
    {"U-label", "bücher.example", "xn--bcher-kva.example", NULL, 0},
    {"U-label upper case and dot", "BÜCHER.example.", "xn--bcher-kva.example", NULL, 0},
    {"A-label", "xn--bcher-kva.example", "xn--bcher-kva.example", NULL, 0},
    {"A-label upper case", "XN--BCHER-KVA.Example", "xn--bcher-kva.example", NULL, 0},
    {"sharp s non-transitional", "straße.de", "xn--strae-oqa.de", NULL, 0},
    {"ideographic full stops", "bücher。example。", "xn--bcher-kva.example", NULL, 0},
    {"fullwidth letters", "\xef\xbd\x82ücher.example", "xn--bcher-kva.example", NULL, 0},
    {"IDN beside ASCII label IDNA2008 refuses", "AB--c.bücher.example", "ab--c.xn--bcher-kva.example", NULL,
     0},
    {"IDN beside underscore label", "_x.bücher.example", "_x.xn--bcher-kva.example", NULL, 0},
    {"empty", "", NULL, "invalid domain \"\": empty name", 0},
    {"lone dot", ".", NULL, "invalid domain \".\": empty name", 0},
    {"two dots", "..", NULL, "invalid domain \"..\": empty label", 0},
    {"empty label", "a..b", NULL, "invalid domain \"a..b\": empty label", 0},
    {"leading dot", ".example.org", NULL, "invalid domain \".example.org\": empty label", 0},
    {"space", "exa mple.org", NULL, "invalid domain \"exa mple.org\": invalid character \" \"", 0},
    {"leading space", " example.org", NULL, "invalid domain \" example.org\": invalid character \" \"", 0},
    {"at sign", "user@example.org", NULL, "invalid domain \"user@example.org\": invalid character \"@\"", 0},
    {"tab", "a\tb", NULL, "invalid domain \"a\\x09b\": invalid character \"\\x09\"", 0},
    {"quote", "a\"b", NULL, "invalid domain \"a\\x22b\": invalid character \"\\x22\"", 0},
    {"IDN with empty label", "bücher..example", NULL,
     "invalid domain \"b\\xc3\\xbccher..example\": empty label", 0},
    {"IDN with space", "b ücher.example", NULL, "invalid domain \"b \\xc3\\xbccher.example\": ", 1},
    {"disallowed code point", "\xf0\x9f\x98\x80.de", NULL, "invalid domain \"\\xf0\\x9f\\x98\\x80.de\": ", 1},
    {"U-label with leading hyphen", "-ü.example", NULL, "invalid domain \"-\\xc3\\xbc.example\": ", 1},
    {"invalid UTF-8", "b\374cher.example", NULL, "invalid domain \"b\\xfccher.example\": ", 1},
};

static void test_normalize(void **state)
{
    char out[DOMAIN_MAX + 1];
    struct tp_error err;
    size_t i;
    int rc;

    (void) state;
    for (i = 0; i < NCASES(norm_cases); i++) {
        const struct norm_case *c = norm_cases + i;

        print_message("normalize: %s\n", c->name);
        memset(&err, 0, sizeof(err));
        rc = domain_normalize(c->in, out, &err);
        if (c->want) {
            if (rc != 0)
                fail_msg("%s: unexpected error: %s", c->name, err.msg);
            assert_string_equal(out, c->want);
        } else {
            assert_int_equal(rc, -1);
            if (c->prefix ? strncmp(err.msg, c->msg, strlen(c->msg)) != 0 : strcmp(err.msg, c->msg) != 0)
                fail_msg("%s: got <%s> want <%s>", c->name, err.msg, c->msg);
        }
    }
}

/* Lengths at the limits: label 63/64, name 253/254, and absurd input. */
static void test_normalize_lengths(void **state)
{
    static const struct {
        const char *name;
        size_t len;
        const char *suffix;
        const char *msg;
    } cases[] = {
        {"label of 63", 63, "", NULL},
        {"label of 64", 64, "", "label longer than 63 octets"},
        {"name of 253", 253, "", NULL},
        {"name of 253 and a trailing dot", 253, ".", NULL},
        {"name of 254", 254, "", "name longer than 253 octets"},
        {"input of 5000", 5000, "", "name longer than 253 octets"},
        {"name of 254 with a U-label", 250, ".\xc3\xbc", NULL /* checked below */},
    };
    char out[DOMAIN_MAX + 1], in[6000], *s;
    struct tp_error err;
    size_t i;
    int rc;

    (void) state;
    for (i = 0; i < NCASES(cases); i++) {
        print_message("length: %s\n", cases[i].name);
        s = long_name(cases[i].len);
        snprintf(in, sizeof(in), "%s%s", s, cases[i].suffix);
        rc = domain_normalize(in, out, &err);
        if (i == NCASES(cases) - 1) {
            /* "ü" becomes "xn--tda": 250 + 8 octets, too long after conversion. */
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err.msg, "longer than"));
        } else if (cases[i].msg == NULL) {
            assert_int_equal(rc, 0);
            assert_memory_equal(out, s, cases[i].len);
            assert_int_equal(strlen(out), cases[i].len);
        } else {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err.msg, cases[i].msg));
            /* The name in the message is cut short, never the reason. */
            assert_true(strlen(err.msg) < 200);
        }
        free(s);
    }
}

static void test_normalize_null(void **state)
{
    char out[DOMAIN_MAX + 1];
    struct tp_error err;

    (void) state;
    assert_int_equal(domain_normalize(NULL, out, &err), -1);
    assert_string_equal(err.msg, "invalid domain \"\": empty name");
}

/* The fixture map; several rules share policies, one rule has two. */
static const struct {
    const char *rule;
    unsigned idx;
} fixture_rules[] = {
    {"example.org", 0},
    {".example.org", 1},
    {"Gdpr.Example.", 2},
    {".gdpr.example", 2},
    {"gdpr.example", 3},
    {"bücher.example", 4},
    {".deep.a.b.c.example.net", 5},
    {".com", 6},
    /* duplicates of stored pairs, in other spellings */
    {"example.org", 0},
    {"EXAMPLE.ORG.", 0},
    {".xn--bcher-kva.example", 7},
    {".BÜCHER.example", 7},
};

static struct domain_map *fixture(void)
{
    struct domain_map *map = domain_map_new();
    struct tp_error err;
    size_t i;

    assert_non_null(map);
    for (i = 0; i < NCASES(fixture_rules); i++)
        if (domain_map_add(map, fixture_rules[i].rule, fixture_rules[i].idx, &err) != 0)
            fail_msg("rule %s: %s", fixture_rules[i].rule, err.msg);
    return map;
}

#define BIT(i) (1u << (i))

static const struct {
    const char *name;
    const char *domain;
    unsigned mask;
    unsigned calls;
} lookup_cases[] = {
    {"exact rule", "example.org", BIT(0), 1},
    {"exact rule misses a subdomain, suffix rule has it", "sub.gdpr.example", BIT(2), 1},
    {"suffix rule, one level", "a.example.org", BIT(1), 1},
    {"suffix rule, two levels", "a.b.example.org", BIT(1), 1},
    {"suffix is not a string suffix", "notexample.org", 0, 0},
    {"parent of a rule", "org", 0, 0},
    {"two policies for one rule", "gdpr.example", BIT(2) | BIT(3), 2},
    {"IDN rule, A-label lookup", "xn--bcher-kva.example", BIT(4), 1},
    {"IDN suffix rule", "www.xn--bcher-kva.example", BIT(7), 1},
    {"deep suffix, the parent itself", "deep.a.b.c.example.net", 0, 0},
    {"deep suffix, child", "x.deep.a.b.c.example.net", BIT(5), 1},
    {"deeper than any rule", "q.w.e.r.t.y.u.i.o.p.x.deep.a.b.c.example.net", BIT(5), 1},
    {"deeper than any rule, no match", "q.w.e.r.t.y.u.i.o.p.nowhere.test", 0, 0},
    {"top-level suffix", "shop.com", BIT(6), 1},
    {"top-level itself", "com", 0, 0},
    {"empty name", "", 0, 0},
    {"not normalised: leading dot", ".example.org", 0, 0},
};

static void test_lookup(void **state)
{
    struct domain_map *map = fixture();
    struct hits h;
    size_t i;

    (void) state;
    for (i = 0; i < NCASES(lookup_cases); i++) {
        print_message("lookup: %s\n", lookup_cases[i].name);
        h = lookup(map, lookup_cases[i].domain);
        if (h.mask != lookup_cases[i].mask || h.calls != lookup_cases[i].calls)
            fail_msg("%s: %s: mask %#x calls %u, want %#x calls %u", lookup_cases[i].name,
                     lookup_cases[i].domain, h.mask, h.calls, lookup_cases[i].mask, lookup_cases[i].calls);
    }
    domain_map_free(map);
}

/* walk_rule - "rule:idx " for every pair domain_map_walk reports */
static void walk_rule(const char *rule, unsigned idx, void *arg)
{
    char *out = arg;

    snprintf(out + strlen(out), 256 - strlen(out), "%s:%u ", rule, idx);
}

/* test_walk_and_lookup_rule - what config_diff.c compares configurations with */
static void test_walk_and_lookup_rule(void **state)
{
    static const struct {
        const char *rule;
        unsigned mask;
    } cases[] = {
        {"a.example", 1u << 0 | 1u << 2},   /* the exact rule, and ".example" */
        {"x.a.example", 1u << 1 | 1u << 2}, /* ".a.example" and ".example" cover it */
        {".a.example", 1u << 1 | 1u << 2},  /* the suffix rule and the parent suffix */
        {".b.example", 1u << 2},            /* only the parent suffix, not "b.example" */
        {".c.org", 0},                      /* nothing */
    };
    struct domain_map *map = domain_map_new();
    struct tp_error err;
    char walked[256] = "";
    struct hits h;
    size_t i;

    (void) state;
    assert_int_equal(domain_map_add(map, "A.example.", 0, &err), 0);
    assert_int_equal(domain_map_add(map, ".a.example", 1, &err), 0);
    assert_int_equal(domain_map_add(map, ".example", 2, &err), 0);
    assert_int_equal(domain_map_add(map, "b.example", 3, &err), 0);
    domain_map_walk(map, walk_rule, walked);
    assert_string_equal(walked, "a.example:0 .a.example:1 .example:2 b.example:3 ");
    for (i = 0; i < NCASES(cases); i++) {
        h = (struct hits){0, 0};
        domain_map_lookup_rule(map, cases[i].rule, collect, &h);
        if (h.mask != cases[i].mask)
            fail_msg("lookup_rule %s: mask %#x, want %#x", cases[i].rule, h.mask, cases[i].mask);
    }
    domain_map_free(map);
}

/* Duplicates are stored once; the same rule for a new policy is not one. */
static void test_duplicates(void **state)
{
    struct domain_map *map = fixture();
    struct tp_error err;

    (void) state;
    /* 12 rules in the fixture, 3 of them repeat a (rule, idx) pair. */
    assert_int_equal(domain_map_size(map), 9);
    assert_int_equal(domain_map_add(map, "gdpr.example", 3, &err), 0);
    assert_int_equal(domain_map_add(map, "gdpr.example", 2, &err), 0);
    assert_int_equal(domain_map_size(map), 9);
    assert_int_equal(domain_map_add(map, "gdpr.example", 9, &err), 0);
    assert_int_equal(domain_map_size(map), 10);
    assert_int_equal(lookup(map, "gdpr.example").calls, 3);
    domain_map_free(map);
}

/* Bad rules are refused with the rule as written; the map is unchanged. */
static void test_bad_rules(void **state)
{
    static const struct {
        const char *name;
        const char *rule;
        const char *msg;
    } cases[] = {
        {"lone dot", ".", "invalid domain \".\": empty name"},
        {"two dots", "..", "invalid domain \"..\": empty name"},
        {"suffix with empty label", ".a..b", "invalid domain \".a..b\": empty label"},
        {"wildcard", "*.example.org",
         "invalid domain \"*.example.org\": write \".example.org\" for every subdomain"},
        {"star alone", "*", "invalid domain \"*\": invalid character \"*\""},
        {"empty", "", "invalid domain \"\": empty name"},
        {"address", "user@example.org", "invalid domain \"user@example.org\": invalid character \"@\""},
    };
    struct domain_map *map = domain_map_new();
    struct tp_error err;
    size_t i;

    (void) state;
    for (i = 0; i < NCASES(cases); i++) {
        print_message("bad rule: %s\n", cases[i].name);
        assert_int_equal(domain_map_add(map, cases[i].rule, 0, &err), -1);
        assert_string_equal(err.msg, cases[i].msg);
    }
    assert_int_equal(domain_map_add(map, NULL, 0, &err), -1);
    assert_int_equal(domain_map_size(map), 0);
    assert_int_equal(lookup(map, "example.org").calls, 0);
    domain_map_free(map);
    domain_map_free(NULL);
}

/* write_temp - a file with the given bytes; returns its path */
static char *write_temp(const char *text, size_t len)
{
    char *path = strdup("/tmp/test_domain_map.XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t) len);
    close(fd);
    return path;
}

static void test_add_file(void **state)
{
    static const char text[] = "# GDPR domains\n"
                               "example.org\n"
                               "  .example.org   # and every subdomain\n"
                               "\n"
                               "Bücher.example.\r\n"
                               "bad domain.example\n"
                               "a..b\n"
                               "*.wild.example\n"
                               "\t.ok.example\t\n"
                               "   # indented comment\n"
                               "nul\0byte.example\n"
                               "last.example"; /* no final newline */
    char *path = write_temp(text, sizeof(text) - 1);
    struct domain_map *map = domain_map_new();
    struct tp_errlist errs;
    char buf[TP_ERROR_MSG_MAX + TP_ERROR_FILE_MAX + 16], want[TP_ERROR_FILE_MAX + 200];
    static const struct {
        int line;
        const char *msg;
    } wants[] = {
        {6, "invalid domain \"bad domain.example\": invalid character \" \""},
        {7, "invalid domain \"a..b\": empty label"},
        {8, "invalid domain \"*.wild.example\": write \".wild.example\" for every subdomain"},
        {11, "line contains a NUL byte"},
    };
    size_t i;

    (void) state;
    tp_errlist_init(&errs);
    assert_int_equal(domain_map_add_file(map, path, 5, &errs), 4);
    assert_int_equal(errs.n, 4);
    for (i = 0; i < NCASES(wants); i++) {
        tp_error_format(&errs.items[i], buf, sizeof(buf));
        snprintf(want, sizeof(want), "%s:%d: %s", path, wants[i].line, wants[i].msg);
        assert_string_equal(buf, want);
    }
    assert_int_equal(domain_map_size(map), 5);
    assert_int_equal(lookup(map, "example.org").mask, BIT(5));
    assert_int_equal(lookup(map, "www.example.org").mask, BIT(5));
    assert_int_equal(lookup(map, "xn--bcher-kva.example").mask, BIT(5));
    assert_int_equal(lookup(map, "a.ok.example").mask, BIT(5));
    assert_int_equal(lookup(map, "ok.example").mask, 0);
    assert_int_equal(lookup(map, "last.example").mask, BIT(5));
    unlink(path);
    free(path);
    domain_map_free(map);
}

/* A very long line is read whole, and quoted only in part. */
static void test_add_file_long_line(void **state)
{
    size_t n = 100000;
    char *text = long_name(n), *path, buf[TP_ERROR_MSG_MAX + TP_ERROR_FILE_MAX + 16],
         want[TP_ERROR_FILE_MAX + 16];
    struct domain_map *map = domain_map_new();
    struct tp_errlist errs;

    (void) state;
    text[n - 1] = '\n';
    path = write_temp(text, n);
    tp_errlist_init(&errs);
    assert_int_equal(domain_map_add_file(map, path, 0, &errs), 1);
    tp_error_format(&errs.items[0], buf, sizeof(buf));
    snprintf(want, sizeof(want), "%s:1: invalid domain \"aaaa", path);
    assert_memory_equal(buf, want, strlen(want));
    assert_non_null(strstr(buf, "...\": name longer than 253 octets"));
    unlink(path);
    free(path);
    free(text);
    domain_map_free(map);
}

static void test_add_file_unreadable(void **state)
{
    static const struct {
        const char *name;
        const char *path;
        const char *msg;
    } cases[] = {
        {"missing", "/nonexistent/domains.txt",
         "/nonexistent/domains.txt: cannot read domain file: No such file or directory"},
        {"directory", "/", "/: cannot read domain file: Is a directory"},
    };
    char buf[TP_ERROR_MSG_MAX + TP_ERROR_FILE_MAX + 16];
    struct domain_map *map = domain_map_new();
    struct tp_errlist errs;
    size_t i;

    (void) state;
    for (i = 0; i < NCASES(cases); i++) {
        print_message("unreadable: %s\n", cases[i].name);
        tp_errlist_init(&errs);
        assert_int_equal(domain_map_add_file(map, cases[i].path, 0, &errs), 1);
        assert_int_equal(errs.n, 1);
        tp_error_format(&errs.items[0], buf, sizeof(buf));
        assert_string_equal(buf, cases[i].msg);
    }
    assert_int_equal(domain_map_size(map), 0);
    domain_map_free(map);
}

/* 200,000 rules: the table grows many times; every rule is still found. */
#define BULK 200000u

static void test_bulk(void **state)
{
    struct domain_map *map = domain_map_new();
    struct tp_error err;
    char name[DOMAIN_MAX + 1];
    struct hits h;
    unsigned i;

    (void) state;
    /* Even i: exact rule; odd i: suffix rule. Policy i % 8. */
    for (i = 0; i < BULK; i++) {
        snprintf(name, sizeof(name), "%sh%u.z%u.example", i % 2 ? "." : "", i, i % 997);
        if (domain_map_add(map, name, i % 8, &err) != 0)
            fail_msg("%s: %s", name, err.msg);
    }
    assert_int_equal(domain_map_size(map), BULK);
    for (i = 0; i < BULK; i++) {
        snprintf(name, sizeof(name), "%sh%u.z%u.example", i % 2 ? "mx." : "", i, i % 997);
        h = lookup(map, name);
        if (h.mask != BIT(i % 8) || h.calls != 1)
            fail_msg("%s: mask %#x calls %u", name, h.mask, h.calls);
        if (i % 2) {
            /* A suffix rule never matches the parent itself. */
            assert_int_equal(lookup(map, name + 3).calls, 0);
        } else {
            /* An exact rule never matches a subdomain. */
            snprintf(name, sizeof(name), "mx.h%u.z%u.example", i, i % 997);
            assert_int_equal(lookup(map, name).calls, 0);
        }
    }
    for (i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "h%u.z%u.example", BULK + i, i);
        assert_int_equal(lookup(map, name).calls, 0);
        snprintf(name, sizeof(name), "h%u.z%u.absent", i, i % 997);
        assert_int_equal(lookup(map, name).calls, 0);
    }
    domain_map_free(map);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_normalize_lengths),
        cmocka_unit_test(test_normalize_null),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_walk_and_lookup_rule),
        cmocka_unit_test(test_bad_rules),
        cmocka_unit_test(test_add_file),
        cmocka_unit_test(test_add_file_long_line),
        cmocka_unit_test(test_add_file_unreadable),
        cmocka_unit_test(test_bulk),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
