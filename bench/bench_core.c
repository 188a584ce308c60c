/*++
 * NAME
 *	bench_core 1
 * SUMMARY
 *	benchmark of configuration loading and of the decision
 * SYNOPSIS
 *	bench_core load CONFIG
 *	bench_core decide CONFIG N [CASES]
 *	bench_core decide-fallback CONFIG N [CASES]
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
 *
 *	"decide-fallback" decides with learning on: fallback_decide(), as
 *	the milter calls it, over an LMDB store (store_open_lmdb, default
 *	sync) made in a new directory under $TMPDIR (default /tmp) and
 *	removed at the end. CONFIG must enable the fallback rules. The
 *	cases are those of "decide", except that each gets a verified client
 *	name of its own, so a fallback key of its own; each case has its own
 *	struct fallback_session, reset at the start of every round (a new
 *	SMTP session). After a few untimed decisions on other keys, which
 *	create the database, two regimes are timed, in five rounds each:
 *
 *	new	one decision per case, the store not knowing its sender: each
 *		commits a write, fsync'd before fallback_decide() returns.
 *		The cost of a sender's first message, and of every message of
 *		a sender last written more than FALLBACK_REFRESH s before.
 *	steady	N decisions cycling through the same cases, now known: "now"
 *		advances from 1 s to FALLBACK_REFRESH - 1 s after the learning
 *		pass, so no sighting is due for a rewrite and each decision is
 *		one write transaction that commits nothing.
 *
 *	The store is wrapped to count the writes its backend committed, so
 *	the output shows what each regime cost in disk syncs. Each decision
 *	is timed on its own too (two clock reads, a few tens of ns, are in
 *	every figure), for the latency percentiles.
 * OUTPUT
 *	One "key value" line per figure on stdout, for bench/run.sh and for
 *	people: load_ms, rules, maxrss_before_kb, maxrss_kb, rss_kb (load);
 *	rules, sampled_domains, cases, mix_*, n, elapsed_ms, ns_per_decision,
 *	decisions_per_s, ns_per_decision_{best,worst,mean}, action_*,
 *	reason_* (decide). decide-fallback prints the same figures twice,
 *	prefixed new_ and steady_, each with latency_us_{p50,p99,max} and
 *	writes (commits that wrote), then store_errors.
 * DIAGNOSTICS
 *	Configuration errors are printed as FILE:LINE: message on stderr and
 *	the exit status is 1, as for a store that cannot be made; a usage
 *	error exits with status 2.
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

/* Application. */
#include "bench_cases.h"
#include "config/config.h"
#include "core/domain_map.h"
#include "core/facts.h"
#include "state/fallback.h"
#include "core/policy.h"
#include "state/store.h"
#include "util/tp_error.h"

#define BENCH_CASES 1024         /* prepared cases by default: cache-resident */
#define BENCH_NOW 1700000000L    /* "now" of the decisions */
#define BENCH_ACTIONS (DECISION_REJECT + 1)
#define BENCH_REASONS 32         /* room for enum reason */
#define BENCH_ROUNDS 5           /* timed rounds; the median is reported */
#define FB_PREWARM 16            /* untimed first decisions of decide-fallback */

/* usage - the synopsis, then exit */
static void usage(void)
{
    fprintf(stderr, "usage: bench_core load CONFIG\n"
                    "       bench_core decide CONFIG N [CASES]            (N >= %d)\n"
                    "       bench_core decide-fallback CONFIG N [CASES]   (N, CASES >= %d)\n",
            BENCH_ROUNDS, BENCH_ROUNDS);
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
  * The measurement, common to both decide modes: a round function makes
  * n decisions from case k on (done decisions of the phase before it)
  * and returns the nanoseconds they took.
  */

struct tally {
    unsigned long action[BENCH_ACTIONS];
    unsigned long reason[BENCH_REASONS];
};

typedef uint64_t (*round_fn)(void *ctx, size_t k, unsigned long n, unsigned long done, struct tally *t);

/* tally_add - count what one decision decided */
static void tally_add(struct tally *t, const struct decision *d)
{
    if ((unsigned) d->action < BENCH_ACTIONS)
        t->action[d->action]++;
    if ((unsigned) d->reason < BENCH_REASONS)
        t->reason[d->reason]++;
}

/* cmp_double - qsort order of round times */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

/* time_rounds - n decisions in BENCH_ROUNDS timed rounds; ns per decision of each, sorted */
static uint64_t time_rounds(round_fn run, void *ctx, size_t ncases, unsigned long n, struct tally *t,
                            double per[BENCH_ROUNDS])
{
    unsigned long done = 0, m;
    uint64_t ns, total = 0;
    int r;

    for (r = 0; r < BENCH_ROUNDS; r++) {
        m = n / BENCH_ROUNDS + ((unsigned long) r < n % BENCH_ROUNDS);
        ns = run(ctx, done % ncases, m, done, t);
        per[r] = m ? (double) ns / (double) m : 0;
        total += ns;
        done += m;
    }
    qsort(per, BENCH_ROUNDS, sizeof(per[0]), cmp_double);
    return total ? total : 1;
}

/* print_results - speed first, then what was decided; every key after prefix */
static void print_results(const char *pfx, unsigned long n, uint64_t ns, const double per[BENCH_ROUNDS],
                          const struct tally *t)
{
    unsigned r;

    printf("%sn %lu\n", pfx, n);
    printf("%selapsed_ms %.1f\n", pfx, (double) ns / 1e6);
    printf("%sns_per_decision %.1f\n", pfx, per[BENCH_ROUNDS / 2]);
    printf("%sdecisions_per_s %.0f\n", pfx, 1e9 / per[BENCH_ROUNDS / 2]);
    printf("%sns_per_decision_best %.1f\n", pfx, per[0]);
    printf("%sns_per_decision_worst %.1f\n", pfx, per[BENCH_ROUNDS - 1]);
    printf("%sns_per_decision_mean %.1f\n", pfx, (double) ns / (double) n);
    printf("%saction_accept %lu\n", pfx, t->action[DECISION_ACCEPT]);
    printf("%saction_tempfail %lu\n", pfx, t->action[DECISION_TEMPFAIL]);
    printf("%saction_reject %lu\n", pfx, t->action[DECISION_REJECT]);
    for (r = 0; r < BENCH_REASONS; r++)
        if (t->reason[r])
            printf("%sreason_%s %lu\n", pfx, decision_reason_name((enum reason) r), t->reason[r]);
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

/* prepare - load CONFIG and build its cases; prints what they are */
static struct config *prepare(const char *path, size_t ncases, struct sample *sm, uint64_t *rng,
                              struct bench_case **cases)
{
    size_t counts[MIX_COUNT] = {0}, i;
    struct config *cfg;

    if ((cfg = load_or_report(path)) == NULL)
        return NULL;
    sample_config(sm, rng, path);
    *cases = build_cases(ncases, sm, rng, counts);
    printf("rules %zu\n", rule_count(cfg));
    printf("sampled_domains %zu of %zu\n", sm->n, sm->seen);
    printf("cases %zu\n", ncases);
    for (i = 0; i < MIX_COUNT; i++)
        printf("mix_%s %zu\n", bench_mix_names[i], counts[i]);
    return cfg;
}

 /*
  * Learning off: the pure decision.
  */

struct decide_ctx {
    const struct policy_set *ps;
    const struct bench_case *cases;
    size_t ncases;
};

/* run_decide - n decisions over the cases from case k on; returns elapsed nanoseconds */
static uint64_t run_decide(void *ctx, size_t k, unsigned long n, unsigned long done, struct tally *t)
{
    const struct decide_ctx *c = ctx;
    struct decision d;
    unsigned long i;
    uint64_t t0;

    (void) done;
    t0 = now_ns();
    for (i = 0; i < n; i++) {
        policy_decide(c->ps, &c->cases[k].s, &c->cases[k].r, NULL, BENCH_NOW, NULL, &d);
        tally_add(t, &d);
        if (++k == c->ncases)
            k = 0;
    }
    return now_ns() - t0;
}

/* cmd_decide - prepare the mix, warm up, then time n decisions */
static int cmd_decide(const char *path, unsigned long n, unsigned long max_cases)
{
    static struct sample sm;
    struct tally warm = {{0}, {0}}, t = {{0}, {0}};
    uint64_t rng = BENCH_SEED, ns;
    double per[BENCH_ROUNDS];
    struct decide_ctx c;
    struct bench_case *cases;
    struct config *cfg;

    c.ncases = n < max_cases ? n : max_cases;
    if ((cfg = prepare(path, c.ncases, &sm, &rng, &cases)) == NULL)
        return 1;
    c.ps = &cfg->policies;
    c.cases = cases;
    (void) run_decide(&c, 0, c.ncases, 0, &warm);
    ns = time_rounds(run_decide, &c, c.ncases, n, &t, per);
    print_results("", n, ns, per, &t);
    free_cases(cases, c.ncases);
    sample_free(&sm);
    config_free(cfg);
    return 0;
}

 /*
  * Learning on: fallback_decide() over LMDB. The store is wrapped in one
  * whose get and update forward to LMDB and whose update counts the
  * updates that wrote; the other operations are never called here.
  */

struct counting_store {
    struct store base;
    struct store *inner;
    unsigned long writes;        /* updates that committed a write */
};

/* counting_update - store_update, counted */
static int counting_update(struct store *base, const char *key, size_t klen, store_update_fn fn, void *arg,
                           bool readable_only, struct tp_error *err)
{
    struct counting_store *cs = (struct counting_store *) base;
    int rc;

    (void) klen;
    rc = readable_only ? store_update_readable(cs->inner, key, fn, arg, err)
                       : store_update(cs->inner, key, fn, arg, err);
    if (rc == STORE_WRITE)
        cs->writes++;
    return rc;
}

/* counting_get - store_get, forwarded (fallback_decide reads first) */
static int counting_get(struct store *base, const char *key, size_t klen, struct fb_record *out,
                        struct tp_error *err)
{
    (void) klen;
    return store_get(((struct counting_store *) base)->inner, key, out, err);
}

static const struct store_ops counting_ops = {.name = "lmdb", .get = counting_get, .update = counting_update};

/* One phase of decide-fallback. */
struct fb_bench {
    struct counting_store cs;
    const struct policy_set *ps;
    const struct bench_case *cases;
    struct fallback_session *fs;     /* one per case */
    size_t ncases;
    unsigned long total;             /* decisions of the phase */
    bool steady;                     /* "now" spread over the refresh period */
    uint32_t *lat;                   /* ns of each decision of the phase */
    unsigned long errors;            /* fallback_decide() failures */
    char dir[512];                   /* the store's directory */
};

/* fb_now - the injected clock of decision i of the phase */
static long fb_now(const struct fb_bench *b, unsigned long i)
{
    if (!b->steady)
        return BENCH_NOW;
    return BENCH_NOW + 1 + (long) ((uint64_t) i * (FALLBACK_REFRESH - 2) / b->total);
}

/* run_fallback - n decisions with learning from case k on; returns elapsed nanoseconds */
static uint64_t run_fallback(void *ctx, size_t k, unsigned long n, unsigned long done, struct tally *t)
{
    struct fb_bench *b = ctx;
    struct tp_error err;
    const struct bench_case *c;
    struct decision d;
    uint64_t t0, prev, tick;
    unsigned long i;

    memset(b->fs, 0, b->ncases * sizeof(*b->fs)); /* a new SMTP session per case */
    t0 = prev = now_ns();
    for (i = 0; i < n; i++) {
        c = &b->cases[k];
        if (fallback_decide(&b->cs.base, b->ps, &c->s, &c->r, fb_now(b, done + i), &b->fs[k], &d, &err) < 0 &&
            b->errors++ == 0)
            fprintf(stderr, "bench_core: %s\n", err.msg);
        tally_add(t, &d);
        tick = now_ns();
        b->lat[done + i] = tick - prev < UINT32_MAX ? (uint32_t) (tick - prev) : UINT32_MAX;
        prev = tick;
        if (++k == b->ncases)
            k = 0;
    }
    return prev - t0;
}

/* cmp_u32 - qsort order of latencies */
static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return (x > y) - (x < y);
}

/* fb_phase - time n decisions over the cases, and print the figures after pfx */
static void fb_phase(struct fb_bench *b, const char *pfx, unsigned long n, bool steady)
{
    struct tally t = {{0}, {0}};
    double per[BENCH_ROUNDS];
    unsigned long writes = b->cs.writes;
    uint64_t ns;

    b->total = n;
    b->steady = steady;
    ns = time_rounds(run_fallback, b, b->ncases, n, &t, per);
    print_results(pfx, n, ns, per, &t);
    qsort(b->lat, n, sizeof(b->lat[0]), cmp_u32);
    printf("%slatency_us_p50 %.2f\n", pfx, b->lat[n / 2] / 1e3);
    printf("%slatency_us_p99 %.2f\n", pfx, b->lat[n - 1 - n / 100] / 1e3);
    printf("%slatency_us_max %.2f\n", pfx, b->lat[n - 1] / 1e3);
    printf("%swrites %lu\n", pfx, b->cs.writes - writes);
}

/* fb_open - a new LMDB store in a directory of its own under $TMPDIR */
static int fb_open(struct fb_bench *b)
{
    const char *tmp = getenv("TMPDIR");
    struct tp_error err;

    snprintf(b->dir, sizeof(b->dir), "%s/bench_core-lmdb.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(b->dir) == NULL) {
        fprintf(stderr, "bench_core: mkdtemp %s: %s\n", b->dir, strerror(errno));
        return -1;
    }
    if ((b->cs.inner = store_open_lmdb(b->dir, 0, STORE_DAMAGE_REFUSE, &err)) == NULL) {
        fprintf(stderr, "bench_core: %s\n", err.msg);
        rmdir(b->dir);
        return -1;
    }
    b->cs.base.ops = &counting_ops;
    return 0;
}

/* fb_close - close the store and remove its directory */
static void fb_close(struct fb_bench *b)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    char path[sizeof(b->dir) + 16];
    size_t i;

    store_close(b->cs.inner);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", b->dir, files[i]);
        if (unlink(path) != 0 && errno != ENOENT)
            fprintf(stderr, "bench_core: unlink %s: %s\n", path, strerror(errno));
    }
    if (rmdir(b->dir) != 0)
        fprintf(stderr, "bench_core: rmdir %s: %s\n", b->dir, strerror(errno));
}

/* fb_prewarm - a few untimed decisions on keys of their own: the database is made */
static void fb_prewarm(struct fb_bench *b, struct sample *sm, uint64_t *rng)
{
    size_t counts[MIX_COUNT] = {0};
    const struct bench_case *saved = b->cases;
    size_t nsaved = b->ncases;
    struct bench_case *warm;
    struct tally t = {{0}, {0}};

    warm = build_cases(FB_PREWARM, sm, rng, counts);
    cases_new_senders(warm, FB_PREWARM, "warm");
    b->cases = warm;
    b->ncases = FB_PREWARM;
    b->total = FB_PREWARM;
    (void) run_fallback(b, 0, FB_PREWARM, 0, &t);
    b->cases = saved;
    b->ncases = nsaved;
    free_cases(warm, FB_PREWARM);
}

/* cmd_fallback - new senders, then the same senders again, with learning on */
static int cmd_fallback(const char *path, unsigned long n, unsigned long ncases)
{
    static struct sample sm;
    static struct fb_bench b;
    uint64_t rng = BENCH_SEED;
    struct bench_case *cases;
    struct config *cfg;
    unsigned long nmax;

    if ((cfg = prepare(path, ncases, &sm, &rng, &cases)) == NULL)
        return 1;
    if (!cfg->policies.fallback.enabled)
        bench_die("decide-fallback: the configuration does not enable fallback");
    cases_new_senders(cases, ncases, "sender");
    b.ps = &cfg->policies;
    b.cases = cases;
    b.ncases = ncases;
    nmax = n > ncases ? n : ncases;
    if ((b.fs = calloc(ncases > FB_PREWARM ? ncases : FB_PREWARM, sizeof(*b.fs))) == NULL ||
        (b.lat = calloc(nmax > FB_PREWARM ? nmax : FB_PREWARM, sizeof(*b.lat))) == NULL)
        bench_die("out of memory");
    if (fb_open(&b) < 0)
        return 1;
    printf("store %s\n", store_backend(b.cs.inner));
    fb_prewarm(&b, &sm, &rng);
    fb_phase(&b, "new_", ncases, false);
    fb_phase(&b, "steady_", n, true);
    printf("store_errors %lu\n", b.errors);
    fb_close(&b);
    free(b.lat);
    free(b.fs);
    free_cases(cases, ncases);
    sample_free(&sm);
    config_free(cfg);
    return b.errors ? 1 : 0;
}

/* main - dispatch on the subcommand */
int main(int argc, char **argv)
{
    unsigned long n, ncases;

    if (argc == 3 && strcmp(argv[1], "load") == 0)
        return cmd_load(argv[2]);
    if (argc != 4 && argc != 5)
        usage();
    if ((n = parse_count(argv[3])) < BENCH_ROUNDS)
        usage(); /* each round needs a decision */
    ncases = argc == 5 ? parse_count(argv[4]) : BENCH_CASES;
    if (strcmp(argv[1], "decide") == 0)
        return cmd_decide(argv[2], n, ncases);
    if (strcmp(argv[1], "decide-fallback") == 0 && ncases >= BENCH_ROUNDS)
        return cmd_fallback(argv[2], n, ncases);
    usage();
    return 2;
}
