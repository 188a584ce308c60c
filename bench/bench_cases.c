/*++
 * NAME
 *	bench_cases 3
 * SUMMARY
 *	the prepared sessions of bench_core
 * SYNOPSIS
 *	#include "bench_cases.h"
 * DESCRIPTION
 *	The domain sample and the session generator of bench_core (see
 *	bench_core.c for the mix they produce). Everything is drawn from
 *	the caller's seeded generator, so runs are comparable; a setter or
 *	allocation that fails ends the process, as the run would be
 *	meaningless.
 *--*/

/* System library. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Third-party libraries. */
#include <libconfig.h>

/* Application. */
#include "bench_cases.h"
#include "core/domain_map.h"
#include "core/facts.h"

const char *const bench_mix_names[MIX_COUNT] = {"modern_tls", "legacy_tls", "plaintext", "sendmail_verified",
                                                "odd_rcpt"};

/* bench_die - report a failure that makes the run meaningless */
void bench_die(const char *what)
{
    fprintf(stderr, "bench_core: %s\n", what);
    exit(1);
}

/* must - a facts setter or allocation had to succeed */
#define must(expr) do { if ((expr) != 0) bench_die("cannot set up facts: " #expr); } while (0)

/* rnd_next - xorshift64*: fast, seeded, good enough to mix inputs */
static uint64_t rnd_next(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* rnd_below - uniform enough integer in [0, n) */
static unsigned rnd_below(uint64_t *state, unsigned n)
{
    return (unsigned) ((rnd_next(state) >> 32) % n);
}

 /*
  * The domain sample. Reservoir sampling keeps BENCH_SAMPLE domains drawn
  * uniformly from however many the configuration names, in one pass and
  * bounded memory, so that the recipients of a 1M-rule configuration
  * spread over the whole table, not over its first lines.
  */

/* sample_offer - consider one configured rule for the sample */
static void sample_offer(struct sample *sm, uint64_t *rng, const char *rule)
{
    size_t slot;
    char *copy;

    sm->seen++;
    if (sm->n < BENCH_SAMPLE)
        slot = sm->n++;
    else if ((slot = (size_t) (rnd_next(rng) % sm->seen)) >= BENCH_SAMPLE)
        return;
    if ((copy = strdup(rule)) == NULL)
        bench_die("out of memory");
    free(sm->v[slot]);           /* NULL while the sample fills */
    sm->v[slot] = copy;
}

/* sample_file - offer every rule of a domain file (format of domain_map.h) */
static void sample_file(struct sample *sm, uint64_t *rng, const char *path)
{
    char buf[1024], *p, *end;
    FILE *fp;

    if ((fp = fopen(path, "r")) == NULL) {
        fprintf(stderr, "bench_core: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    while (fgets(buf, sizeof(buf), fp) != NULL) {
        if ((p = strchr(buf, '#')) != NULL)
            *p = 0;
        for (p = buf; *p == ' ' || *p == '\t'; p++)
            /* void */ ;
        end = p + strlen(p);
        while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
            *--end = 0;
        if (*p)
            sample_offer(sm, rng, p);
    }
    fclose(fp);
}

/* sample_policy - offer the recipient rules one policy group names */
static void sample_policy(struct sample *sm, uint64_t *rng, const config_setting_t *g)
{
    const config_setting_t *list;
    const char *file, *rule;
    int i;

    if ((list = config_setting_get_member(g, "recipient_domains")) != NULL)
        for (i = 0; (rule = config_setting_get_string_elem(list, i)) != NULL; i++)
            sample_offer(sm, rng, rule);
    if (config_setting_lookup_string(g, "recipient_domains_file", &file) == CONFIG_TRUE)
        sample_file(sm, rng, file);
}

/* sample_config - the recipient rules of CONFIG, read again with libconfig */
void sample_config(struct sample *sm, uint64_t *rng, const char *path)
{
    const config_setting_t *policies, *g;
    config_t cf;
    int i;

    config_init(&cf);
    if (config_read_file(&cf, path) != CONFIG_TRUE)
        bench_die("cannot re-read the configuration");  /* config_load accepted it */
    if ((policies = config_lookup(&cf, "policies")) != NULL)
        for (i = 0; (g = config_setting_get_elem(policies, (unsigned) i)) != NULL; i++)
            sample_policy(sm, rng, g);
    config_destroy(&cf);
}

/* sample_free - release the sample */
void sample_free(struct sample *sm)
{
    size_t i;

    for (i = 0; i < sm->n; i++)
        free(sm->v[i]);
    sm->n = 0;
}

 /*
  * The sessions: one setter per macro, as the milter callbacks would call
  * them, with the values Postfix and Sendmail actually send.
  */

/* set_client - connect and HELO facts of a remote MTA */
static void set_client(struct session_facts *s, uint64_t *rng, unsigned i)
{
    char addr[64], name[64];

    if (rnd_below(rng, 4) == 0)
        snprintf(addr, sizeof(addr), "2001:db8:%x::%x", i % 4096, rnd_below(rng, 65536));
    else if (rnd_below(rng, 20) == 0)
        snprintf(addr, sizeof(addr), "198.51.100.%u", 1 + rnd_below(rng, 254));
    else
        snprintf(addr, sizeof(addr), "%u.%u.%u.%u", 198 + i % 6, rnd_below(rng, 256), rnd_below(rng, 256),
                 1 + rnd_below(rng, 254));
    snprintf(name, sizeof(name), "mx%u.sender%u.example", i % 4, rnd_below(rng, 50000));
    must(facts_set_client_addr(s, addr));
    must(facts_set_client_name(s, rnd_below(rng, 10) ? name : "unknown"));
    must(facts_set_helo(s, name));
    if (rnd_below(rng, 50) == 0)
        snprintf(name, sizeof(name), "<orders@partner.example>");
    else
        snprintf(name, sizeof(name), "<bounce+%u@sender%u.example>", i, rnd_below(rng, 50000));
    must(facts_set_sender(s, name));
}

/* set_tls - {tls_version}, {cipher}, {cipher_bits} */
static void set_tls(struct session_facts *s, const char *version, const char *cipher, const char *bits)
{
    must(facts_set_tls_version(s, version));
    must(facts_set_cipher(s, cipher));
    must(facts_set_cipher_bits(s, bits));
}

/* set_modern - TLS 1.3, or TLS 1.2 with forward secrecy and AEAD */
static void set_modern(struct session_facts *s, uint64_t *rng)
{
    static const char *const v13[][2] = {
        {"TLS_AES_256_GCM_SHA384", "256"},
        {"TLS_AES_128_GCM_SHA256", "128"},
        {"TLS_CHACHA20_POLY1305_SHA256", "256"},
    };
    static const char *const v12[][2] = {
        {"ECDHE-RSA-AES256-GCM-SHA384", "256"},
        {"ECDHE-ECDSA-AES128-GCM-SHA256", "128"},
        {"ECDHE-RSA-CHACHA20-POLY1305", "256"},
        {"ECDHE-RSA-AES128-GCM-SHA256", "128"},
    };
    unsigned k;

    if (rnd_below(rng, 2)) {
        k = rnd_below(rng, 3);
        set_tls(s, "TLSv1.3", v13[k][0], v13[k][1]);
    } else {
        k = rnd_below(rng, 4);
        set_tls(s, "TLSv1.2", v12[k][0], v12[k][1]);
    }
}

/* set_verified - Sendmail after STARTTLS with a verified client certificate */
static void set_verified(struct session_facts *s, unsigned i)
{
    char dn[160];

    set_tls(s, "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "256");
    must(facts_set_verify(s, "OK"));
    must(facts_set_sender(s, "<orders@partner.example>"));
    snprintf(dn, sizeof(dn), "/C=DE/O=Partner+20GmbH+20%u/CN=mx.partner.example", i % 100);
    must(facts_set_cert_subject(s, dn));
    must(facts_set_cert_issuer(s, "/C=DE/O=Partner+20Trust/CN=Partner+20Issuing+20CA+202"));
}

/* set_session - the session facts of one mix category */
static void set_session(struct session_facts *s, uint64_t *rng, enum mix kind, unsigned i)
{
    set_client(s, rng, i);
    switch (kind) {
    case MIX_MODERN:
    case MIX_ODD_RCPT:
        set_modern(s, rng);
        break;
    case MIX_LEGACY:
        set_tls(s, "TLSv1", "AES256-SHA", "256");
        break;
    case MIX_VERIFIED:
        set_verified(s, i);
        break;
    case MIX_PLAIN:
    case MIX_COUNT:
        break;
    }
}

/* rule_domain - a recipient domain that the configured rule matches */
static void rule_domain(char *out, size_t len, const char *rule, uint64_t *rng)
{
    static const char *const sub[] = {"mail", "eu", "lists", "shop", "b2b"};

    if (rule[0] == '.')
        snprintf(out, len, "%s%s", sub[rnd_below(rng, 5)], rule);
    else
        snprintf(out, len, "%s", rule);
}

/* set_rcpt - an ordinary recipient: configured domain or not, half each */
static void set_rcpt(struct rcpt_facts *r, const struct sample *sm, uint64_t *rng, unsigned i)
{
    static const char *const tld[] = {"de", "com", "net", "org", "fr", "co.uk"};
    char dom[DOMAIN_MAX + 16], addr[DOMAIN_MAX + 64];

    if (sm->n > 0 && rnd_below(rng, 2))
        rule_domain(dom, sizeof(dom), sm->v[rnd_below(rng, (unsigned) sm->n)], rng);
    else
        snprintf(dom, sizeof(dom), "other%u.%s", rnd_below(rng, 1000000), tld[i % 6]);
    snprintf(addr, sizeof(addr), "<user%u@%s>", i % 997, dom);
    must(facts_set_rcpt(r, addr));
    snprintf(addr, sizeof(addr), "user%u@%s", i % 997, dom);
    must(facts_set_rcpt_resolved(r, addr));
}

/* set_odd_rcpt - a recipient whose domain is an IDN, absent or unusual */
static void set_odd_rcpt(struct rcpt_facts *r, const struct sample *sm, uint64_t *rng, unsigned i)
{
    char addr[DOMAIN_MAX + 64], dom[DOMAIN_MAX + 16];

    switch (rnd_below(rng, 5)) {
    case 0:
        snprintf(addr, sizeof(addr), "<j\xc3\xbcrgen@b\xc3\xbc" "cher-%u.example>", i);
        break;
    case 1:
        snprintf(addr, sizeof(addr), "<postmaster>");
        break;
    case 2:
        snprintf(addr, sizeof(addr), "<abuse@[192.0.2.%u]>", 1 + i % 254);
        break;
    case 3:
        snprintf(addr, sizeof(addr), "<\"odd@quoted>\"@unlisted%u.example>", i);
        break;
    default:
        if (sm->n > 0)
            rule_domain(dom, sizeof(dom), sm->v[rnd_below(rng, (unsigned) sm->n)], rng);
        else
            snprintf(dom, sizeof(dom), "unlisted%u.example", i);
        snprintf(addr, sizeof(addr), "<@relay.example:user@%s>", dom);
        break;
    }
    must(facts_set_rcpt(r, addr));
}

/* pick_mix - the category of one case, in the proportions of DESCRIPTION */
static enum mix pick_mix(uint64_t *rng)
{
    unsigned p = rnd_below(rng, 100);

    if (p < 60)
        return MIX_MODERN;
    if (p < 70)
        return MIX_LEGACY;
    if (p < 90)
        return MIX_PLAIN;
    if (p < 95)
        return MIX_VERIFIED;
    return MIX_ODD_RCPT;
}

/* build_cases - prepare every case; counts says how many of each kind */
struct bench_case *build_cases(size_t n, const struct sample *sm, uint64_t *rng, size_t counts[MIX_COUNT])
{
    struct bench_case *cases;
    enum mix kind;
    size_t i;

    if ((cases = calloc(n, sizeof(*cases))) == NULL)
        bench_die("out of memory");
    for (i = 0; i < n; i++) {
        kind = pick_mix(rng);
        counts[kind]++;
        session_facts_init(&cases[i].s);
        rcpt_facts_init(&cases[i].r);
        set_session(&cases[i].s, rng, kind, (unsigned) i);
        if (kind == MIX_ODD_RCPT)
            set_odd_rcpt(&cases[i].r, sm, rng, (unsigned) i);
        else
            set_rcpt(&cases[i].r, sm, rng, (unsigned) i);
    }
    return cases;
}

/* free_cases - release what build_cases made */
void free_cases(struct bench_case *cases, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        session_facts_clear(&cases[i].s);
        rcpt_facts_clear(&cases[i].r);
    }
    free(cases);
}

/* cases_new_senders - a verified client name, so a fallback key, per case */
void cases_new_senders(struct bench_case *cases, size_t n, const char *tag)
{
    char name[64];
    size_t i;

    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "mx1.%s%zu.example", tag, i);
        must(facts_set_client_name(&cases[i].s, name));
    }
}
