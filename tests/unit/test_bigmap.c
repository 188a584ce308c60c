/*++
 * NAME
 *	test_bigmap 1
 * SUMMARY
 *	a configuration with a 1,000,000-domain recipient_domains_file
 * DESCRIPTION
 *	Hosters keep their customers' domains in files of this size. The test
 *	writes one (exact rules, ".suffix" rules, IDNs in U-label and A-label
 *	form), loads a configuration that names it beside a small inline
 *	policy, and checks the size of the map and a sample of lookups. It
 *	asserts results, not time.
 *
 *	Rule i of the file is, by i % 100: 1: "bücher.nI.idn.example"
 *	(U-label); 2: "xn--bcher-kva.aI.idn.example" (A-label); else by
 *	i % 10: 0: ".subI.big.example" (suffix); else "dI.big.example".
 *--*/

/* System library. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Test framework. */
#include <cmocka.h>

/* Application. */
#include "config/config.h"

#define NRULES 1000000

static char tmpdir[] = "/tmp/test_bigmap.XXXXXX";
static char domains_path[PATH_MAX];
static char config_path[PATH_MAX];

/* write_rules - the big domain file, with a comment and a blank line */
static int write_rules(const char *path)
{
    FILE *fp = fopen(path, "w");
    long i;

    if (fp == NULL)
        return -1;
    fprintf(fp, "# %d generated rules\n\n", NRULES);
    for (i = 0; i < NRULES; i++) {
        if (i % 100 == 1)
            fprintf(fp,
                    "b\xc3\xbc"
                    "cher.n%ld.idn.example\n",
                    i);
        else if (i % 100 == 2)
            fprintf(fp, "xn--bcher-kva.a%ld.idn.example\n", i);
        else if (i % 10 == 0)
            fprintf(fp, ".sub%ld.big.example\n", i);
        else
            fprintf(fp, "d%ld.big.example\n", i);
    }
    return fclose(fp) == 0 ? 0 : -1;
}

/* setup - the temporary directory, the domain file and the configuration */
static int setup(void **state)
{
    FILE *fp;

    (void) state;
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(domains_path, sizeof(domains_path), "%s/customers.txt", tmpdir);
    snprintf(config_path, sizeof(config_path), "%s/big.conf", tmpdir);
    if (write_rules(domains_path) != 0 || (fp = fopen(config_path, "w")) == NULL)
        return -1;
    fprintf(fp,
            "policies = (\n"
            "  { name = \"small\"; level = \"required\"; recipient_domains = [ \"other.example\" ]; },\n"
            "  { name = \"customers\"; level = \"required\"; recipient_domains_file = \"%s\"; }\n"
            ");\n",
            domains_path);
    return fclose(fp) == 0 ? 0 : -1;
}

/* teardown - remove what setup wrote */
static int teardown(void **state)
{
    (void) state;
    unlink(domains_path);
    unlink(config_path);
    return rmdir(tmpdir);
}

/* collect - domain_map_lookup callback: a bit per policy index */
static void collect(unsigned idx, void *arg)
{
    *(unsigned *) arg |= 1u << idx;
}

/* test_big_file - load, size, and a sample of lookups */
static void test_big_file(void **state)
{
    static const struct {
        const char *name;
        const char *domain;
        unsigned want; /* bit set of policy indexes */
    } cases[] = {
        {"exact, first", "d3.big.example", 1u << 1},
        {"exact, middle", "d123457.big.example", 1u << 1},
        {"exact, last", "d999999.big.example", 1u << 1},
        {"exact, upper case and trailing dot", "D777777.Big.Example.", 1u << 1},
        {"suffix rule, child", "mx.sub10.big.example", 1u << 1},
        {"suffix rule, grandchild", "a.b.sub999990.big.example", 1u << 1},
        {"suffix rule does not match its parent", "sub10.big.example", 0},
        {"exact rule does not match a child", "mx.d3.big.example", 0},
        {"absent, next number", "d1000000.big.example", 0},
        {"absent, suffix number as exact", "d10.big.example", 0},
        {"absent, unrelated", "nothing.example", 0},
        {"absent, the shared parent", "big.example", 0},
        {"U-label rule, A-label query", "xn--bcher-kva.n101.idn.example", 1u << 1},
        {"U-label rule, U-label query",
         "b\xc3\xbc"
         "cher.n999901.idn.example",
         1u << 1},
        {"A-label rule, U-label query",
         "b\xc3\xbc"
         "cher.a102.idn.example",
         1u << 1},
        {"A-label rule, other number",
         "b\xc3\xbc"
         "cher.a103.idn.example",
         0},
        {"inline policy", "other.example", 1u << 0},
    };
    struct tp_errlist errs;
    struct config *cfg;
    char norm[DOMAIN_MAX + 1], msg[1024];
    struct tp_error err;
    unsigned found;
    size_t i;

    (void) state;
    tp_errlist_init(&errs);
    cfg = config_load(config_path, &errs);
    for (i = 0; i < errs.n; i++) {
        tp_error_format(&errs.items[i], msg, sizeof(msg));
        print_error("unexpected error: %s\n", msg);
    }
    assert_non_null(cfg);
    assert_int_equal(cfg->policies.npolicies, 2);
    assert_true(cfg->policies.policies[1].by_rcpt);
    assert_int_equal(domain_map_size(cfg->policies.rcpt_map), NRULES + 1);
    assert_int_equal(domain_map_size(cfg->policies.sender_map), 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        found = 0;
        if (domain_normalize(cases[i].domain, norm, &err) != 0)
            fail_msg("case \"%s\": %s", cases[i].name, err.msg);
        domain_map_lookup(cfg->policies.rcpt_map, norm, collect, &found);
        if (found != cases[i].want)
            fail_msg("case \"%s\": %s selects %#x, expected %#x", cases[i].name, cases[i].domain, found,
                     cases[i].want);
    }
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_big_file),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
