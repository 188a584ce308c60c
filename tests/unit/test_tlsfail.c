/*
 * test_tlsfail - the table of recent EHLO-then-close sessions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "session/tlsfail.h"

/* addr - parse or fail */
static struct ip_addr addr(const char *text)
{
    struct ip_addr a;

    assert_int_equal(ip_addr_parse(text, &a), 0);
    return a;
}

/* test_window - a note is found within the window, once */
static void test_window(void **state)
{
    struct tlsfail *t = tlsfail_new(64, 600);
    struct ip_addr a = addr("192.0.2.7"), b = addr("2001:db8::7");

    (void) state;
    tlsfail_note(t, &a, 1000);
    assert_false(tlsfail_take(t, &b, 1001));
    assert_true(tlsfail_take(t, &a, 1600));
    assert_false(tlsfail_take(t, &a, 1601)); /* taken */
    tlsfail_note(t, &b, 1000);
    assert_false(tlsfail_take(t, &b, 1601)); /* expired */
    tlsfail_note(t, &b, 2000);
    assert_false(tlsfail_take(t, &b, 1999)); /* clock went back: not trusted */
    tlsfail_free(t);
}

/* test_renote - a second note refreshes the time */
static void test_renote(void **state)
{
    struct tlsfail *t = tlsfail_new(64, 600);
    struct ip_addr a = addr("192.0.2.8");

    (void) state;
    tlsfail_note(t, &a, 1000);
    tlsfail_note(t, &a, 1500);
    assert_true(tlsfail_take(t, &a, 2000));
    tlsfail_free(t);
}

/* test_bounded - a full set forgets its oldest entry, nothing else */
static void test_bounded(void **state)
{
    struct tlsfail *t = tlsfail_new(4, 600); /* one set of four */
    struct ip_addr a[5];
    char text[32];
    int i;

    (void) state;
    for (i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), "198.51.100.%d", i + 1);
        a[i] = addr(text);
        tlsfail_note(t, &a[i], 1000 + i);
    }
    assert_false(tlsfail_take(t, &a[0], 1100));
    for (i = 1; i < 5; i++)
        assert_true(tlsfail_take(t, &a[i], 1100));
    tlsfail_free(t);
}

/* test_many - a large table keeps many clients apart */
static void test_many(void **state)
{
    struct tlsfail *t = tlsfail_new(4096, 600);
    struct ip_addr a;
    char text[32];
    int i, found = 0;

    (void) state;
    for (i = 0; i < 1000; i++) {
        snprintf(text, sizeof(text), "10.0.%d.%d", i / 256, i % 256);
        a = addr(text);
        tlsfail_note(t, &a, 5000);
    }
    for (i = 0; i < 1000; i++) {
        snprintf(text, sizeof(text), "10.0.%d.%d", i / 256, i % 256);
        a = addr(text);
        found += tlsfail_take(t, &a, 5001);
    }
    /* 1000 clients in 1024 sets of 4: collisions past 4 in a set are rare */
    assert_true(found >= 990);
    tlsfail_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_renote),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
