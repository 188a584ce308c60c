/*
 * test_fbkey - the keys the fallback rules learn senders under.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "state/fbkey.h"

struct kcase {
    const char *name;
    enum fallback_key kind;
    const char *addr, *client_name, *client_resolve, *sender;
    const char *want; /* NULL: no key */
};

static const struct kcase cases[] = {
    {"verified name: registered domain", FB_KEY_CLIENT_DOMAIN, "192.0.2.7", "mx1.mail.Partner.example.", NULL, NULL, "client_domain:partner.example"},
    {"public suffix with two labels", FB_KEY_CLIENT_DOMAIN, "192.0.2.7", "mx.example.co.uk", NULL, NULL, "client_domain:example.co.uk"},
    {"Postfix unknown name: client_net", FB_KEY_CLIENT_DOMAIN, "192.0.2.7", "unknown", NULL, NULL, "client_net:192.0.2.0/24"},
    {"Sendmail bracketed address: client_net", FB_KEY_CLIENT_DOMAIN, "192.0.2.7", "[192.0.2.7]", NULL, NULL, "client_net:192.0.2.0/24"},
    {"Sendmail FORGED name: client_net", FB_KEY_CLIENT_DOMAIN, "192.0.2.7", "mx.partner.example", "FORGED", NULL, "client_net:192.0.2.0/24"},
    {"Sendmail OK name", FB_KEY_CLIENT_DOMAIN, "192.0.2.7", "mx.partner.example", "OK", NULL, "client_domain:partner.example"},
    {"name is a public suffix: client_net", FB_KEY_CLIENT_DOMAIN, "192.0.2.7", "co.uk", NULL, NULL, "client_net:192.0.2.0/24"},
    {"IDN name in A-label form", FB_KEY_CLIENT_DOMAIN, "192.0.2.7", "mx.Bücher.example", NULL, NULL, "client_domain:xn--bcher-kva.example"},
    {"IPv6 client_net is the /64", FB_KEY_CLIENT_NET, "2001:db8:1:2:3:4:5:6", "mx.partner.example", NULL, NULL, "client_net:2001:db8:1:2::/64"},
    {"IPv4 client_net", FB_KEY_CLIENT_NET, "198.51.100.200", NULL, NULL, NULL, "client_net:198.51.100.0/24"},
    {"client_addr", FB_KEY_CLIENT_ADDR, "2001:db8::1", NULL, NULL, NULL, "client_addr:2001:db8::1"},
    {"no client address: no net key", FB_KEY_CLIENT_NET, NULL, NULL, NULL, NULL, NULL},
    {"sender domain", FB_KEY_SENDER_DOMAIN, "192.0.2.7", NULL, NULL, "<a@Partner.Example>", "sender_domain:partner.example"},
    {"null sender has no key", FB_KEY_SENDER_DOMAIN, "192.0.2.7", NULL, NULL, "<>", NULL},
};

/* test_keys - each case */
static void test_keys(void **state)
{
    size_t i, failed = 0;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct kcase *c = &cases[i];
        struct session_facts s;
        char key[FBKEY_MAX];
        int rc;

        session_facts_init(&s);
        facts_set_client_addr(&s, c->addr);
        facts_set_client_name(&s, c->client_name);
        facts_set_client_resolve(&s, c->client_resolve);
        facts_set_sender(&s, c->sender);
        key[0] = 0;
        rc = fbkey_make(c->kind, &s, key, sizeof(key));
        if ((c->want == NULL) != (rc < 0) || (c->want && strcmp(key, c->want) != 0)) {
            print_error("case \"%s\": rc=%d key=\"%s\"\n", c->name, rc, key);
            failed++;
        }
        session_facts_clear(&s);
    }
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
