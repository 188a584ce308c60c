/*++
 * NAME
 *	bench_core 1
 * SUMMARY
 *	benchmark of configuration loading and of the pure decision
 * SYNOPSIS
 *	bench_core load CONFIG
 *	bench_core decide CONFIG N [CASES]
 * DESCRIPTION
 *	"load" runs config_load() on CONFIG once and reports the wall time it
 *	took (CLOCK_MONOTONIC), the peak resident set of the process before
 *	and after (getrusage ru_maxrss), the resident set once loaded (what
 *	stays; the peak includes the growth of the tables), and the number of
 *	recipient rules
 *	(domain_map_size of the recipient map): what a reload of a hoster's
 *	customer list costs.
 *
 *	"decide" loads CONFIG, then prepares CASES (default 1024) sessions
 *	of one recipient each with the setters of facts.h, so that macro
 *	parsing is not measured. The mix imitates a hoster's inbound mail:
 *
 *	60%	TLS 1.3 or TLS 1.2 with an ECDHE or AEAD suite (Postfix macros)
 *	10%	legacy TLS 1.0 with AES256-SHA (kRSA)
 *	20%	plaintext
 *	5%	Sendmail with a verified client certificate: {verify}=OK and
 *		xtext-encoded DNs in {cert_subject} and {cert_issuer}
 *	5%	odd recipients: U-label (IDN) domains, no domain at all,
 *		address literals, quoted local parts, source routes
 *
 *	Half of the ordinary recipients are in a domain the configuration
 *	names (a sample of its recipient_domains and recipient_domains_file
 *	entries; a subdomain for a ".suffix" rule), half are not. So that
 *	sender and client selectors have work too, the verified sessions and
 *	2% of the others come from partner.example, and 5% of the IPv4
 *	clients are in 198.51.100.0/24 (bench/run.sh's small configuration
 *	names both). The generator is seeded, so runs are comparable.
 *
 *	After one untimed warm-up pass, policy_decide() is called N times,
 *	cycling through the cases, with no learned facts and no trace, in
 *	five timed rounds; the median round gives ns_per_decision and
 *	decisions_per_s, the best and worst show how noisy the machine was.
 *	The actions and reasons are counted, which keeps the compiler from
 *	discarding the work and shows the reader what the mix exercised.
 *
 *	CASES sets the working set. A case holds about 1.3 KB of facts, so
 *	the default 1024 stays in the CPU caches, as the facts of a session
 *	the milter has just parsed do: the figure is the cost of the decision
 *	itself. With CASES = 65536 the facts, and the map probes of a large
 *	configuration, miss the caches on nearly every decision: the figure
 *	is an upper bound set by memory latency.
 * OUTPUT
 *	One "key value" line per figure on stdout, for bench/run.sh and for
 *	people: load_ms, rules, maxrss_before_kb, maxrss_kb, rss_kb (load);
 *	rules, sampled_domains, cases, mix_*, n, elapsed_ms, ns_per_decision,
 *	decisions_per_s, ns_per_decision_{best,worst,mean}, action_*,
 *	reason_* (decide).
 * DIAGNOSTICS
 *	Configuration errors are printed as FILE:LINE: message on stderr and
 *	the exit status is 1; a usage error exits with status 2.
 *--*/

/* System library. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Third-party libraries. */
#include <libconfig.h>

/* Application. */
#include "config.h"
#include "domain_map.h"
#include "facts.h"
#include "policy.h"
#include "tp_error.h"

#define BENCH_CASES 1024         /* prepared cases by default: cache-resident */
#define BENCH_SAMPLE 65536       /* configured domains recipients are drawn from */
#define BENCH_SEED 0x7c5d1e2f3a4b6987ULL
#define BENCH_NOW 1700000000L    /* "now" for policy_decide; fallback unused */
#define BENCH_ACTIONS (DECISION_REJECT + 1)
#define BENCH_REASONS 32         /* room for enum reason */
#define BENCH_ROUNDS 5           /* timed rounds; the median is reported */

enum mix { MIX_MODERN, MIX_LEGACY, MIX_PLAIN, MIX_VERIFIED, MIX_ODD_RCPT, MIX_COUNT };

static const char *const mix_names[MIX_COUNT] = {"modern_tls", "legacy_tls", "plaintext", "sendmail_verified",
                                                 "odd_rcpt"};

/* One recipient of one session, ready for policy_decide(). */
struct bench_case {
    struct session_facts s;
    struct rcpt_facts r;
};

/* A reservoir sample of the domains the configuration names. */
struct sample {
    char *v[BENCH_SAMPLE];
    size_t n;                    /* entries in v */
    size_t seen;                 /* domains offered */
};

/* die - report a failure that makes the run meaningless */
static void die(const char *what)
{
    fprintf(stderr, "bench_core: %s\n", what);
    exit(1);
}

/* must - a facts setter or allocation had to succeed */
#define must(expr) do { if ((expr) != 0) die("cannot set up facts: " #expr); } while (0)

/* usage - the synopsis, then exit */
static void usage(void)
{
    fprintf(stderr, "usage: bench_core load CONFIG\n"
                    "       bench_core decide CONFIG N [CASES]   (N >= %d)\n", BENCH_ROUNDS);
    exit(2);
}

/* now_ns - monotonic clock in nanoseconds */
static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* maxrss_kb - peak resident set of this process so far, in KiB (Linux) */
static long maxrss_kb(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss;
}

/* rss_kb - resident set now, in KiB, from /proc/self/statm (Linux); -1 elsewhere */
static long rss_kb(void)
{
    long size, pages = -1;
    FILE *fp;

    if ((fp = fopen("/proc/self/statm", "r")) == NULL)
        return -1;
    if (fscanf(fp, "%ld %ld", &size, &pages) != 2)
        pages = -1;
    fclose(fp);
    return pages < 0 ? -1 : pages * (sysconf(_SC_PAGESIZE) / 1024);
}

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

/* load_or_report - config_load, printing every error as FILE:LINE: message */
static struct config *load_or_report(const char *path)
{
    struct tp_errlist errs;
    struct config *cfg;
    char line[TP_ERROR_FILE_MAX + TP_ERROR_MSG_MAX + 32];
    size_t i;

    tp_errlist_init(&errs);
    if ((cfg = config_load(path, &errs)) != NULL)
        return cfg;
    for (i = 0; i < errs.n; i++) {
        tp_error_format(&errs.items[i], line, sizeof(line));
        fprintf(stderr, "%s\n", line);
    }
    if (errs.dropped)
        fprintf(stderr, "%s: %zu more errors not shown\n", path, errs.dropped);
    if (errs.n == 0)
        fprintf(stderr, "%s: cannot load configuration\n", path);
    return NULL;
}

/* rule_count - recipient rules of a loaded configuration */
static size_t rule_count(const struct config *cfg)
{
    return cfg->policies.rcpt_map ? domain_map_size(cfg->policies.rcpt_map) : 0;
}

/* cmd_load - time one configuration load and report its memory */
static int cmd_load(const char *path)
{
    long before = maxrss_kb();
    uint64_t t0, t1;
    struct config *cfg;

    t0 = now_ns();
    cfg = load_or_report(path);
    t1 = now_ns();
    if (cfg == NULL)
        return 1;
    printf("load_ms %.1f\n", (double) (t1 - t0) / 1e6);
    printf("rules %zu\n", rule_count(cfg));
    printf("maxrss_before_kb %ld\n", before);
    printf("maxrss_kb %ld\n", maxrss_kb());
    printf("rss_kb %ld\n", rss_kb());
    config_free(cfg);
    return 0;
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
        die("out of memory");
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
static void sample_config(struct sample *sm, uint64_t *rng, const char *path)
{
    const config_setting_t *policies, *g;
    config_t cf;
    int i;

    config_init(&cf);
    if (config_read_file(&cf, path) != CONFIG_TRUE)
        die("cannot re-read the configuration");  /* config_load accepted it */
    if ((policies = config_lookup(&cf, "policies")) != NULL)
        for (i = 0; (g = config_setting_get_elem(policies, (unsigned) i)) != NULL; i++)
            sample_policy(sm, rng, g);
    config_destroy(&cf);
}

/* sample_free - release the sample */
static void sample_free(struct sample *sm)
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
static struct bench_case *build_cases(size_t n, const struct sample *sm, uint64_t *rng, size_t counts[MIX_COUNT])
{
    struct bench_case *cases;
    enum mix kind;
    size_t i;

    if ((cases = calloc(n, sizeof(*cases))) == NULL)
        die("out of memory");
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
static void free_cases(struct bench_case *cases, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        session_facts_clear(&cases[i].s);
        rcpt_facts_clear(&cases[i].r);
    }
    free(cases);
}

 /*
  * The measurement.
  */

struct tally {
    unsigned long action[BENCH_ACTIONS];
    unsigned long reason[BENCH_REASONS];
};

/* run_decide - n decisions over the cases from case k on; returns elapsed nanoseconds */
static uint64_t run_decide(const struct policy_set *ps, const struct bench_case *cases, size_t ncases,
                           size_t k, unsigned long n, struct tally *t)
{
    struct decision d;
    unsigned long i;
    uint64_t t0;

    t0 = now_ns();
    for (i = 0; i < n; i++) {
        policy_decide(ps, &cases[k].s, &cases[k].r, NULL, BENCH_NOW, NULL, &d);
        if ((unsigned) d.action < BENCH_ACTIONS)
            t->action[d.action]++;
        if ((unsigned) d.reason < BENCH_REASONS)
            t->reason[d.reason]++;
        if (++k == ncases)
            k = 0;
    }
    return now_ns() - t0;
}

/* cmp_double - qsort order of round times */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

/* time_rounds - n decisions in BENCH_ROUNDS timed rounds; ns per decision of each, sorted */
static uint64_t time_rounds(const struct policy_set *ps, const struct bench_case *cases, size_t ncases,
                            unsigned long n, struct tally *t, double per[BENCH_ROUNDS])
{
    unsigned long done = 0, m;
    uint64_t ns, total = 0;
    int r;

    for (r = 0; r < BENCH_ROUNDS; r++) {
        m = n / BENCH_ROUNDS + ((unsigned long) r < n % BENCH_ROUNDS);
        ns = run_decide(ps, cases, ncases, done % ncases, m, t);
        per[r] = m ? (double) ns / (double) m : 0;
        total += ns;
        done += m;
    }
    qsort(per, BENCH_ROUNDS, sizeof(per[0]), cmp_double);
    return total ? total : 1;
}

/* print_results - speed first, then what was decided */
static void print_results(unsigned long n, uint64_t ns, const double per[BENCH_ROUNDS], const struct tally *t)
{
    unsigned r;

    printf("n %lu\n", n);
    printf("elapsed_ms %.1f\n", (double) ns / 1e6);
    printf("ns_per_decision %.1f\n", per[BENCH_ROUNDS / 2]);
    printf("decisions_per_s %.0f\n", 1e9 / per[BENCH_ROUNDS / 2]);
    printf("ns_per_decision_best %.1f\n", per[0]);
    printf("ns_per_decision_worst %.1f\n", per[BENCH_ROUNDS - 1]);
    printf("ns_per_decision_mean %.1f\n", (double) ns / (double) n);
    printf("action_accept %lu\n", t->action[DECISION_ACCEPT]);
    printf("action_tempfail %lu\n", t->action[DECISION_TEMPFAIL]);
    printf("action_reject %lu\n", t->action[DECISION_REJECT]);
    for (r = 0; r < BENCH_REASONS; r++)
        if (t->reason[r])
            printf("reason_%s %lu\n", decision_reason_name((enum reason) r), t->reason[r]);
}

/* parse_count - N or CASES on the command line: a positive decimal number */
static unsigned long parse_count(const char *text)
{
    unsigned long n;
    char *end;

    errno = 0;
    n = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != 0 || n == 0 || text[0] == '-')
        usage();
    return n;
}

/* cmd_decide - prepare the mix, warm up, then time n decisions */
static int cmd_decide(const char *path, unsigned long n, unsigned long max_cases)
{
    static struct sample sm;
    size_t counts[MIX_COUNT] = {0}, ncases, i;
    struct tally warm = {{0}, {0}}, t = {{0}, {0}};
    uint64_t rng = BENCH_SEED, ns;
    double per[BENCH_ROUNDS];
    struct bench_case *cases;
    struct config *cfg;

    if ((cfg = load_or_report(path)) == NULL)
        return 1;
    sample_config(&sm, &rng, path);
    ncases = n < max_cases ? n : max_cases;
    cases = build_cases(ncases, &sm, &rng, counts);
    printf("rules %zu\n", rule_count(cfg));
    printf("sampled_domains %zu of %zu\n", sm.n, sm.seen);
    printf("cases %zu\n", ncases);
    for (i = 0; i < MIX_COUNT; i++)
        printf("mix_%s %zu\n", mix_names[i], counts[i]);
    (void) run_decide(&cfg->policies, cases, ncases, 0, ncases, &warm);
    ns = time_rounds(&cfg->policies, cases, ncases, n, &t, per);
    print_results(n, ns, per, &t);
    free_cases(cases, ncases);
    sample_free(&sm);
    config_free(cfg);
    return 0;
}

/* main - dispatch on the subcommand */
int main(int argc, char **argv)
{
    unsigned long n;

    if (argc == 3 && strcmp(argv[1], "load") == 0)
        return cmd_load(argv[2]);
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "decide") == 0) {
        if ((n = parse_count(argv[3])) < BENCH_ROUNDS)
            usage();             /* each round needs a decision */
        return cmd_decide(argv[2], n, argc == 5 ? parse_count(argv[4]) : BENCH_CASES);
    }
    usage();
    return 2;
}
