/*++
 * NAME
 *	test_cidr 1
 * SUMMARY
 *	unit tests for cidr: address and block parsing, matching, lists
 * DESCRIPTION
 *	Table-driven; each case has a name that a failure prints.
 *--*/

/* System library. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

/* Application. */
#include "core/cidr.h"

/*
 * Parsing: the text, and the block it must become (as canonical text of
 * the 16-byte form and the stored prefix), or NULL for an error.
 */
static const struct {
    const char *name;
    const char *text;
    const char *net; /* hex of the 16 bytes; NULL: must be rejected */
    unsigned prefix;
} parse_cases[] = {
    {"v4 host", "192.0.2.1", "00000000000000000000ffffc0000201", 128},
    {"v4 /24", "192.0.2.0/24", "00000000000000000000ffffc0000200", 120},
    {"v4 /8", "10.0.0.0/8", "00000000000000000000ffff0a000000", 104},
    {"v4 /32", "192.0.2.1/32", "00000000000000000000ffffc0000201", 128},
    {"v4 /0", "0.0.0.0/0", "00000000000000000000ffff00000000", 96},
    {"v4 /31", "192.0.2.254/31", "00000000000000000000ffffc00002fe", 127},
    {"v4 bracketed", "[192.0.2.1]", "00000000000000000000ffffc0000201", 128},
    {"v6 host", "2001:db8::1", "20010db8000000000000000000000001", 128},
    {"v6 /32", "2001:db8::/32", "20010db8000000000000000000000000", 32},
    {"v6 /128", "2001:db8::1/128", "20010db8000000000000000000000001", 128},
    {"v6 /0", "::/0", "00000000000000000000000000000000", 0},
    {"v6 /65", "2001:db8:0:0:8000::/65", "20010db8000000008000000000000000", 65},
    {"v6 loopback", "::1", "00000000000000000000000000000001", 128},
    {"v6 bracketed", "[2001:db8::1]", "20010db8000000000000000000000001", 128},
    {"v6 bracketed with prefix", "[2001:db8::]/32", "20010db8000000000000000000000000", 32},
    {"v6 tag", "IPv6:2001:db8::1", "20010db8000000000000000000000001", 128},
    {"v6 tag lower case", "ipv6:2001:db8::1", "20010db8000000000000000000000001", 128},
    {"v6 tag bracketed", "[IPv6:2001:db8::1]", "20010db8000000000000000000000001", 128},
    {"v6 tag with prefix", "IPv6:2001:db8::/48", "20010db8000000000000000000000000", 48},
    {"v6 upper case hex", "2001:DB8::A", "20010db800000000000000000000000a", 128},
    {"v4-mapped v6 text", "::ffff:192.0.2.1", "00000000000000000000ffffc0000201", 128},
    {"v4-mapped v6 block", "::ffff:10.0.0.0/104", "00000000000000000000ffff0a000000", 104},
    {"empty", "", NULL, 0},
    {"only slash", "/8", NULL, 0},
    {"no prefix after slash", "10.0.0.0/", NULL, 0},
    {"v4 host bits set", "10.1.2.3/8", NULL, 0},
    {"v4 host bits in last bit", "192.0.2.1/31", NULL, 0},
    {"v6 host bits set", "2001:db8::1/64", NULL, 0},
    {"v4 prefix too long", "10.0.0.0/33", NULL, 0},
    {"v6 prefix too long", "2001:db8::/129", NULL, 0},
    {"huge prefix", "10.0.0.0/4294967304", NULL, 0},
    {"negative prefix", "10.0.0.0/-8", NULL, 0},
    {"plus sign", "10.0.0.0/+8", NULL, 0},
    {"leading zero prefix", "10.0.0.0/08", NULL, 0},
    {"junk after prefix", "10.0.0.0/8x", NULL, 0},
    {"space after prefix", "10.0.0.0/8 ", NULL, 0},
    {"space before prefix", "10.0.0.0/ 8", NULL, 0},
    {"two slashes", "10.0.0.0/8/8", NULL, 0},
    {"leading space", " 10.0.0.1", NULL, 0},
    {"three octets", "10.0.0", NULL, 0},
    {"octet too large", "10.0.0.256", NULL, 0},
    {"hostname", "mx.example.com", NULL, 0},
    {"v6 too many groups", "1:2:3:4:5:6:7:8:9", NULL, 0},
    {"v6 two double colons", "2001::db8::1", NULL, 0},
    {"v6 zone id", "fe80::1%eth0", NULL, 0},
    {"v4 with v6 tag", "IPv6:192.0.2.1", NULL, 0},
    {"tag only", "IPv6:", NULL, 0},
    {"empty brackets", "[]", NULL, 0},
    {"unbalanced bracket", "[2001:db8::1", NULL, 0},
    {"prefix inside brackets", "[2001:db8::/32]", NULL, 0},
    {"overlong", "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001", NULL, 0},
};

/* hex16 - the 16 bytes as hex, for comparison with a table */
static void hex16(const struct ip_addr *a, char *buf)
{
    size_t i;

    for (i = 0; i < 16; i++)
        snprintf(buf + 2 * i, 3, "%02x", a->b[i]);
}

/* test_parse - blocks and their errors */
static void test_parse(void **state)
{
    char hex[33];
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        struct cidr c;
        int rc = cidr_parse(parse_cases[i].text, &c);

        if (parse_cases[i].net == NULL) {
            if (rc == 0)
                fail_msg("case \"%s\": accepted", parse_cases[i].name);
            continue;
        }
        if (rc != 0)
            fail_msg("case \"%s\": rejected", parse_cases[i].name);
        hex16(&c.net, hex);
        if (strcmp(hex, parse_cases[i].net) != 0 || c.prefix != parse_cases[i].prefix)
            fail_msg("case \"%s\": got %s/%u", parse_cases[i].name, hex, c.prefix);
    }
    assert_int_equal(cidr_parse(NULL, &(struct cidr){0}), -1);
}

/* Single addresses: a prefix is not part of an address. */
static const struct {
    const char *name;
    const char *text;
    int rc;
    bool v4;
} addr_cases[] = {
    {"v4", "198.51.100.7", 0, true},
    {"v4 bracketed", "[198.51.100.7]", 0, true},
    {"v4-mapped", "::ffff:198.51.100.7", 0, true},
    {"v6", "2001:db8::7", 0, false},
    {"v6 sendmail tag", "IPv6:2001:db8::7", 0, false},
    {"v6 literal", "[IPv6:2001:db8::7]", 0, false},
    {"v4-compatible is not v4", "::198.51.100.7", 0, false},
    {"unspecified", "::", 0, false},
    {"v4 with prefix", "198.51.100.7/32", -1, false},
    {"v6 with prefix", "2001:db8::7/128", -1, false},
    {"empty", "", -1, false},
    {"garbage", "unknown", -1, false},
};

/* test_addr_parse - single addresses and their family */
static void test_addr_parse(void **state)
{
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
        struct ip_addr a;
        int rc = ip_addr_parse(addr_cases[i].text, &a);

        if (rc != addr_cases[i].rc)
            fail_msg("case \"%s\": rc %d", addr_cases[i].name, rc);
        if (rc == 0 && ip_addr_is_v4(&a) != addr_cases[i].v4)
            fail_msg("case \"%s\": wrong family", addr_cases[i].name);
    }
    assert_int_equal(ip_addr_parse(NULL, &(struct ip_addr){{0}}), -1);
}

/* Matching: block, address, expected answer. */
static const struct {
    const char *name;
    const char *block;
    const char *addr;
    bool want;
} match_cases[] = {
    {"v4 /8 inside", "10.0.0.0/8", "10.255.1.2", true},
    {"v4 /8 outside", "10.0.0.0/8", "11.0.0.0", false},
    {"v4 /24 first", "192.0.2.0/24", "192.0.2.0", true},
    {"v4 /24 last", "192.0.2.0/24", "192.0.2.255", true},
    {"v4 /24 next", "192.0.2.0/24", "192.0.3.0", false},
    {"v4 /32 same", "192.0.2.1/32", "192.0.2.1", true},
    {"v4 /32 neighbour", "192.0.2.1/32", "192.0.2.2", false},
    {"v4 host same", "127.0.0.1", "127.0.0.1", true},
    {"v4 /0 any v4", "0.0.0.0/0", "203.0.113.9", true},
    {"v4 /0 not v6", "0.0.0.0/0", "2001:db8::1", false},
    {"v4 /0 not v6 loopback", "0.0.0.0/0", "::1", false},
    {"v4 /12 boundary in", "172.16.0.0/12", "172.31.255.255", true},
    {"v4 /12 boundary out", "172.16.0.0/12", "172.32.0.0", false},
    {"v4 block, mapped client", "127.0.0.0/8", "::ffff:127.0.0.1", true},
    {"v4 block, mapped client outside", "127.0.0.0/8", "::ffff:128.0.0.1", false},
    {"v4 block, bracketed client", "192.0.2.0/24", "[192.0.2.77]", true},
    {"mapped block, v4 client", "::ffff:10.0.0.0/104", "10.9.8.7", true},
    {"v6 /32 inside", "2001:db8::/32", "2001:db8:ffff::1", true},
    {"v6 /32 outside", "2001:db8::/32", "2001:db9::1", false},
    {"v6 /65 boundary in", "2001:db8:0:0:8000::/65", "2001:db8::ffff:0:0:1", true},
    {"v6 /65 boundary out", "2001:db8:0:0:8000::/65", "2001:db8::7fff:0:0:1", false},
    {"v6 /128 same", "2001:db8::1/128", "2001:db8::1", true},
    {"v6 /128 neighbour", "2001:db8::1/128", "2001:db8::2", false},
    {"v6 /0 any v6", "::/0", "2001:db8::1", true},
    {"v6 /0 any v4 too", "::/0", "192.0.2.1", true},
    {"v6 loopback", "::1", "::1", true},
    {"v6 loopback is not v4 loopback", "::1", "127.0.0.1", false},
    {"v6 block, sendmail tagged client", "2001:db8::/32", "IPv6:2001:db8::25", true},
    {"v6 block, v4 client", "2001:db8::/32", "32.1.13.184", false},
};

/* test_match - blocks against addresses */
static void test_match(void **state)
{
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        struct cidr c;
        struct ip_addr a;

        if (cidr_parse(match_cases[i].block, &c) != 0 || ip_addr_parse(match_cases[i].addr, &a) != 0)
            fail_msg("case \"%s\": does not parse", match_cases[i].name);
        if (cidr_match(&c, &a) != match_cases[i].want)
            fail_msg("case \"%s\": got %d", match_cases[i].name, !match_cases[i].want);
    }
}

/* test_list - growth past several doublings, match, free */
static void test_list(void **state)
{
    struct cidr_list list = {NULL, 0};
    struct ip_addr a;
    struct cidr c;
    char text[32];
    int i;

    (void) state;
    assert_false(cidr_list_match(&list, &(struct ip_addr){{0}}));
    for (i = 0; i < 100; i++) {
        snprintf(text, sizeof(text), "10.%d.0.0/16", i);
        assert_int_equal(cidr_parse(text, &c), 0);
        assert_int_equal(cidr_list_add(&list, &c), 0);
    }
    assert_int_equal(cidr_parse("::1", &c), 0);
    assert_int_equal(cidr_list_add(&list, &c), 0);
    assert_int_equal(list.n, 101);

    assert_int_equal(ip_addr_parse("10.0.1.1", &a), 0);
    assert_true(cidr_list_match(&list, &a));
    assert_int_equal(ip_addr_parse("::ffff:10.99.255.255", &a), 0);
    assert_true(cidr_list_match(&list, &a));
    assert_int_equal(ip_addr_parse("10.100.0.1", &a), 0);
    assert_false(cidr_list_match(&list, &a));
    assert_int_equal(ip_addr_parse("::1", &a), 0);
    assert_true(cidr_list_match(&list, &a));
    assert_int_equal(ip_addr_parse("::2", &a), 0);
    assert_false(cidr_list_match(&list, &a));

    cidr_list_free(&list);
    assert_null(list.items);
    assert_int_equal(list.n, 0);
    /* A freed list is empty and can be reused. */
    assert_int_equal(cidr_list_add(&list, &c), 0);
    assert_int_equal(list.n, 1);
    cidr_list_free(&list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
