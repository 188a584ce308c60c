/*++
 * NAME
 *	statebench 1
 * SUMMARY
 *	decisions per second through the fallback rules and their learned state
 * SYNOPSIS
 *	statebench -c CONFIG [-j THREADS] [-n DECISIONS | -t SECONDS]
 *		[--senders N] [--plain-share PCT] [--new-share PCT]
 *		[--max-rcpts N] [--rate N] [--seed N]
 * DESCRIPTION
 *	Loads CONFIG with the config module and opens its state store (the
 *	"state" group: LMDB in state.path, or Redis on state.servers) as the
 *	daemon does, with the fallback window as the store's expiry; CONFIG
 *	must enable the fallback rules. Then THREADS threads decide
 *	recipients with fallback_decide(), the daemon's decision path with
 *	learning on, on that one store, until each has made DECISIONS
 *	decisions (-n, default 20000) or SECONDS have passed (-t).
 *
 *	The workload. N sender keys (--senders, default 10,000): sender k
 *	is a Postfix client mail.sK.example (a verified name, so the key is
 *	client_domain:sK.example with the default key), 10.x.y.z. Before
 *	timing, each sends one TLS session, untimed, at a time spread over
 *	the last FALLBACK_REFRESH seconds: every known sender has a TLS
 *	history. Then each thread walks SMTP sessions of 1 to MAX_RCPTS
 *	recipients (--max-rcpts, default 3), each recipient one decision,
 *	one struct fallback_session per session. A session is
 *
 *	PLAIN %	plaintext from a known sender (--plain-share, default 10): a
 *		downgrade, deferred (a deferral counted: a write) until
 *		max_deferrals, then the "then" rule;
 *	NEW %	TLS from a sender never seen (--new-share, default 5): a
 *		first record written;
 *	the rest TLS from a known sender: a read, and a write when the
 *		sender's last TLS sighting is FALLBACK_REFRESH s old.
 *
 *	Known senders are drawn with Zipf popularity (s = 1): a few send
 *	most of the mail, as on a real MX. The clock passed to
 *	fallback_decide() starts at the end of the preload and advances by
 *	one second per RATE decisions (--rate, default 500: a busy MX), all
 *	threads together, so that sightings age past the refresh interval
 *	and are rewritten as they would be.
 *
 *	Every decision is checked: TLS sessions must be accepted as
 *	tls_ok, plaintext from a known sender must be a downgrade (deferred,
 *	or accepted after max_deferrals); a store error or anything else
 *	fails the run. One exception, counted as reason_plaintext_allowed:
 *	with several threads, one that read the clock and then waited for a
 *	core may decide a second behind a TLS sighting another thread has
 *	just written, as an MX host whose clock is behind another's would,
 *	and policy.c counts no TLS sighting from the future. More than 1 %
 *	of the plaintext decisions so, or any with one thread, fails the run. Each decision is timed on its own (two clock reads
 *	are in every figure).
 *
 *	With Redis, the server's INFO commandstats are read before and after
 *	the timed part (on a connection of the tool's own to the first of
 *	state.servers): the commands the store sent per decision, in all and
 *	per command name (INFO itself not counted). The tool relies on
 *	nothing but store.h and fallback.h: it measures whatever the store
 *	does.
 * DIAGNOSTICS
 *	"key value" lines on standard output: backend, threads, senders,
 *	workload, decisions, sessions_*, elapsed_s, decisions_per_s,
 *	latency_us_p50/p90/p99/max, reason_*, sim_seconds, errors,
 *	unexpected, and with Redis redis_calls, redis_calls_per_decision and
 *	redis_calls_per_decision_NAME. Exit status 1 when a decision failed
 *	or was not what the workload must get, 2 on a usage or setup error.
 *--*/

/* System library. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Utility library. */
#include <hiredis/hiredis.h>

/* Application. */
#include "config/config.h"
#include "core/facts.h"
#include "core/policy.h"
#include "percentile.h"
#include "state/fallback.h"
#include "state/store.h"
#include "util/tp_error.h"

#define T0          1700000000L /* the clock at the end of the preload */
#define MAX_THREADS 256
#define MAX_SHOWN   5
#define NRCPTS      4   /* recipients the sessions cycle through */
#define MAX_CMDS    256 /* command names kept from INFO commandstats */

/* What the command line asks for. */
static struct {
    const char *config;
    int threads;
    long decisions; /* per thread; 0 with -t */
    double seconds;
    int senders, plain_pct, new_pct, max_rcpts;
    long rate;
    unsigned seed;
} opt = {NULL, 1, 0, 0, 10000, 10, 5, 3, 500, 1};

enum kind { K_TLS, K_PLAIN, K_NEW, K_COUNT };
static const char *const kind_names[K_COUNT] = {"tls_known", "plain_known", "new_sender"};

/* What a known sender's sessions look like, built once, read by every thread. */
struct sender {
    struct session_facts tls, plain;
};

/* One thread's sessions and figures. */
struct worker {
    pthread_t tid;
    int id;
    uint64_t rng;
    struct session_facts fresh; /* the session of a new sender */
    unsigned long fresh_seq;
    double *lat; /* microseconds per decision */
    size_t nlat, cap;
    unsigned long sessions[K_COUNT];
    unsigned long tls_ok, downgrade, downgrade_accepted, plain_allowed;
    unsigned long errors, unexpected;
};

/* One line of INFO commandstats. */
struct cmdstat {
    char name[64];
    unsigned long long calls;
};

static struct config *cfg;
static struct store *store;
static struct sender *senders;
static double *zipf_cdf;
static struct rcpt_facts rcpts[NRCPTS];
static atomic_ulong ticks; /* decisions so far, all threads: the clock */
static atomic_int shown;
static pthread_barrier_t start_line;
static double t_end;

/* now_s - monotonic time in seconds */
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* die - a setup failure: exit 2 */
static void die(const char *what, const char *detail)
{
    fprintf(stderr, "statebench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

/* must - a facts setter on our own input cannot fail but for memory */
static void must(int rc)
{
    if (rc != 0)
        die("cannot build the sessions", "out of memory");
}

/* rnd - xorshift64, one generator per thread, seeded: runs repeat */
static uint32_t rnd(uint64_t *r)
{
    *r ^= *r << 13;
    *r ^= *r >> 7;
    *r ^= *r << 17;
    return (uint32_t) (*r >> 11);
}

/* set_client - a Postfix client session of sender NAME from ADDR, TLS 1.3 or plaintext */
static void set_client(struct session_facts *s, const char *name, const char *addr, bool tls)
{
    char host[128], from[160];

    snprintf(host, sizeof(host), "mail.%s", name);
    snprintf(from, sizeof(from), "<bounce@%s>", name);
    must(facts_set_mta(s, "Postfix 3.7.11"));
    must(facts_set_client_addr(s, addr));
    must(facts_set_client_name(s, host)); /* Postfix: a name other than "unknown" is verified */
    must(facts_set_helo(s, host));
    must(facts_set_sender(s, from));
    must(facts_set_tls_version(s, tls ? "TLSv1.3" : NULL));
    must(facts_set_cipher(s, tls ? "TLS_AES_256_GCM_SHA384" : NULL));
    must(facts_set_cipher_bits(s, tls ? "256" : NULL));
}

/* build_senders - the known senders, the Zipf table and the recipients */
static void build_senders(void)
{
    char name[64], addr[32];
    double sum = 0;
    int k;

    if ((senders = calloc((size_t) opt.senders, sizeof(*senders))) == NULL ||
        (zipf_cdf = calloc((size_t) opt.senders, sizeof(*zipf_cdf))) == NULL)
        die("cannot build the sessions", "out of memory");
    for (k = 0; k < opt.senders; k++) {
        snprintf(name, sizeof(name), "s%05d.example", k);
        snprintf(addr, sizeof(addr), "10.%d.%d.%d", (k >> 16) & 255, (k >> 8) & 255, k & 255);
        session_facts_init(&senders[k].tls);
        session_facts_init(&senders[k].plain);
        set_client(&senders[k].tls, name, addr, true);
        set_client(&senders[k].plain, name, addr, false);
        sum += 1.0 / (k + 1);
        zipf_cdf[k] = sum;
    }
    for (k = 0; k < opt.senders; k++)
        zipf_cdf[k] /= sum;
    for (k = 0; k < NRCPTS; k++) {
        snprintf(name, sizeof(name), "<user%d@customer.example>", k);
        rcpt_facts_init(&rcpts[k]);
        must(facts_set_rcpt(&rcpts[k], name));
    }
}

/* zipf_pick - a known sender, the k-th most active with probability ~ 1/k */
static int zipf_pick(uint64_t *r)
{
    double u = (double) rnd(r) / 4294967296.0;
    int lo = 0, hi = opt.senders - 1;

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;

        if (zipf_cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* note_latency - keep one decision's latency */
static void note_latency(struct worker *w, double us)
{
    if (w->nlat == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 65536;
        if ((w->lat = realloc(w->lat, w->cap * sizeof(*w->lat))) == NULL)
            abort();
    }
    w->lat[w->nlat++] = us;
}

/* check - is the decision what a session of this kind must get? Counts it. */
static bool check(struct worker *w, enum kind k, const struct decision *d)
{
    if (k != K_PLAIN && d->action == DECISION_ACCEPT && d->reason == REASON_TLS_OK) {
        w->tls_ok++;
        return true;
    }
    if (k == K_PLAIN && d->reason == REASON_DOWNGRADE) {
        w->downgrade++;
        return true;
    }
    if (k == K_PLAIN && d->reason == REASON_DOWNGRADE_ACCEPTED) {
        w->downgrade_accepted++;
        return true;
    }
    /* A thread that read the clock, then waited for a core, decides a
       tick behind a TLS sighting another thread just wrote, as an MX
       host whose clock is behind another's: policy.c takes a sighting in
       the future for none. Counted, not failed. */
    if (k == K_PLAIN && d->reason == REASON_PLAINTEXT_ALLOWED) {
        w->plain_allowed++;
        return true;
    }
    w->unexpected++;
    return false;
}

/* decide - one timed decision; false when the run must stop (the clock, the count) */
static bool decide(struct worker *w, const struct session_facts *s, enum kind k, const struct rcpt_facts *r,
                   struct fallback_session *fs)
{
    long now = T0 + (long) (atomic_fetch_add(&ticks, 1) / (unsigned long) opt.rate);
    struct tp_error err;
    struct decision d;
    double t0, t1;
    int rc;

    t0 = now_s();
    rc = fallback_decide(store, &cfg->policies, s, r, now, fs, &d, &err);
    t1 = now_s();
    note_latency(w, (t1 - t0) * 1e6);
    if (rc < 0) {
        w->errors++;
        if (atomic_fetch_add(&shown, 1) < MAX_SHOWN)
            fprintf(stderr, "statebench: thread %d: %s\n", w->id, err.msg);
    } else if (!check(w, k, &d) && atomic_fetch_add(&shown, 1) < MAX_SHOWN) {
        fprintf(stderr, "statebench: thread %d: %s session of %s: unexpected action %d reason %d\n", w->id,
                kind_names[k], s->client_name, (int) d.action, (int) d.reason);
    }
    if (opt.seconds > 0)
        return t1 < t_end;
    return (long) w->nlat < opt.decisions;
}

/* next_session - the kind and facts of the thread's next session */
static const struct session_facts *next_session(struct worker *w, enum kind *k)
{
    unsigned p = rnd(&w->rng) % 100;
    char name[64], addr[32];

    if (p < (unsigned) opt.plain_pct) {
        *k = K_PLAIN;
        return &senders[zipf_pick(&w->rng)].plain;
    }
    if (p < (unsigned) (opt.plain_pct + opt.new_pct)) {
        /* Built before the clock starts on the decision: not timed. */
        *k = K_NEW;
        w->fresh_seq++;
        snprintf(name, sizeof(name), "n%dx%lu.example", w->id, w->fresh_seq);
        snprintf(addr, sizeof(addr), "172.%d.%lu.%lu", 16 + w->id % 16, (w->fresh_seq >> 8) & 255,
                 w->fresh_seq & 255);
        set_client(&w->fresh, name, addr, true);
        return &w->fresh;
    }
    *k = K_TLS;
    return &senders[zipf_pick(&w->rng)].tls;
}

/* worker_main - sessions of 1..max_rcpts recipients until the run is over */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct fallback_session fs;
    const struct session_facts *s;
    enum kind k;
    bool go = true;
    int i, n;

    pthread_barrier_wait(&start_line);
    while (go) {
        s = next_session(w, &k);
        w->sessions[k]++;
        memset(&fs, 0, sizeof(fs)); /* a new SMTP session */
        n = 1 + (int) (rnd(&w->rng) % (unsigned) opt.max_rcpts);
        for (i = 0; i < n && go; i++)
            go = decide(w, s, k, &rcpts[i % NRCPTS], &fs);
    }
    return NULL;
}

/* preload - every known sender's TLS session, untimed, spread over the last refresh interval */
static void preload(void)
{
    struct fallback_session fs;
    struct tp_error err;
    struct decision d;
    int k;

    for (k = 0; k < opt.senders; k++) {
        memset(&fs, 0, sizeof(fs));
        if (fallback_decide(store, &cfg->policies, &senders[k].tls, &rcpts[0],
                            T0 - FALLBACK_REFRESH + (long) k * FALLBACK_REFRESH / opt.senders, &fs, &d,
                            &err) < 0)
            die("preload", err.msg);
        if (d.reason != REASON_TLS_OK)
            die("preload", "a TLS session was not decided tls_ok: check the configuration");
    }
}

/* open_store - the configured backend, as the daemon opens it */
static void open_store(void)
{
    struct store_redis_opts o = {0};
    struct tp_error err;

    if (cfg->state.backend == STATE_REDIS) {
        o.servers = (const char *const *) cfg->state.servers;
        o.prefix = cfg->state.prefix;
        o.password = cfg->state.password;
        o.password_len = cfg->state.password_len;
        o.db = cfg->state.db;
        o.timeout_ms = cfg->state.timeout_ms;
        store = store_open_redis(&o, &err);
    } else {
        store = store_open_lmdb(
            cfg->state.path, cfg->state.map_size,
            cfg->state.on_damage == STATE_ON_DAMAGE_REFUSE ? STORE_DAMAGE_REFUSE : STORE_DAMAGE_RESET, &err);
    }
    if (store == NULL)
        die("cannot open the state store", err.msg);
    if (err.msg[0])
        fprintf(stderr, "statebench: %s\n", err.msg);
    store_set_ttl(store, cfg->policies.fallback.window);
}

/* load_config - CONFIG through config_load, as the daemon reads it */
static void load_config(void)
{
    static struct tp_errlist errs;
    char line[TP_ERROR_FILE_MAX + TP_ERROR_MSG_MAX + 32];
    size_t i;

    tp_errlist_init(&errs);
    if ((cfg = config_load(opt.config, &errs)) == NULL) {
        for (i = 0; i < errs.n; i++) {
            tp_error_format(&errs.items[i], line, sizeof(line));
            fprintf(stderr, "statebench: %s\n", line);
        }
        die("cannot load", opt.config);
    }
    if (!cfg->policies.fallback.enabled)
        die(opt.config, "the fallback rules are not enabled (fallback.enabled)");
}

/*
  * Redis commands per decision: INFO commandstats, on a connection of our
  * own, before and after the timed part.
  */

/* stats_connect - the first configured server, AUTH as the store does */
static redisContext *stats_connect(void)
{
    const char *sv = cfg->state.servers ? cfg->state.servers[0] : NULL;
    struct timeval tv = {2, 0};
    char host[256];
    const char *colon;
    redisContext *c;
    redisReply *r;
    size_t hl;

    if (sv == NULL)
        die("state.servers", "empty");
    if (strncmp(sv, "unix:", 5) == 0) {
        c = redisConnectUnixWithTimeout(sv + 5, tv);
    } else {
        if ((colon = strrchr(sv, ':')) == NULL)
            die("state.servers: no port in", sv);
        hl = (size_t) (colon - sv);
        if (sv[0] == '[' && hl >= 2 && sv[hl - 1] == ']')
            snprintf(host, sizeof(host), "%.*s", (int) hl - 2, sv + 1);
        else
            snprintf(host, sizeof(host), "%.*s", (int) hl, sv);
        c = redisConnectWithTimeout(host, atoi(colon + 1), tv);
    }
    if (c == NULL || c->err)
        die("INFO connection", c ? c->errstr : "out of memory");
    if (cfg->state.password) {
        r = redisCommand(c, "AUTH %b", cfg->state.password, cfg->state.password_len);
        if (r == NULL || r->type == REDIS_REPLY_ERROR)
            die("INFO connection: AUTH", r ? r->str : c->errstr);
        freeReplyObject(r);
    }
    return c;
}

/* commandstats - parse "cmdstat_NAME:calls=N,..." lines; the number of names */
static size_t commandstats(redisContext *c, struct cmdstat *v)
{
    redisReply *r = redisCommand(c, "INFO commandstats");
    size_t n = 0;
    const char *p;

    if (r == NULL || r->type != REDIS_REPLY_STRING)
        die("INFO commandstats", r && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr);
    for (p = r->str; (p = strstr(p, "cmdstat_")) != NULL && n < MAX_CMDS; p++) {
        if (sscanf(p, "cmdstat_%63[^:]:calls=%llu", v[n].name, &v[n].calls) == 2)
            n++;
    }
    freeReplyObject(r);
    return n;
}

/* calls_before - NAME's calls in the first snapshot, 0 if absent */
static unsigned long long calls_before(const struct cmdstat *v, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return v[i].calls;
    return 0;
}

/* report_redis - commands sent during the timed part, per decision */
static void report_redis(const struct cmdstat *b, size_t nb, const struct cmdstat *a, size_t na,
                         unsigned long decisions)
{
    unsigned long long total = 0, d;
    size_t i;

    for (i = 0; i < na; i++)
        if (strcmp(a[i].name, "info") != 0)
            total += a[i].calls - calls_before(b, nb, a[i].name);
    printf("redis_calls %llu\nredis_calls_per_decision %.3f\n", total,
           decisions ? (double) total / (double) decisions : 0.0);
    for (i = 0; i < na; i++) {
        d = a[i].calls - calls_before(b, nb, a[i].name);
        if (d > 0 && strcmp(a[i].name, "info") != 0)
            printf("redis_calls_per_decision_%s %.3f\n", a[i].name, decisions ? (double) d / decisions : 0.0);
    }
}

/* report - the figures; nonzero when the run must fail */
static int report(struct worker *ws, double elapsed)
{
    unsigned long sessions[K_COUNT] = {0}, tls_ok = 0, dg = 0, dga = 0, pa = 0, errors = 0, unexpected = 0;
    size_t n = 0, i;
    double *all;
    int t, k;

    for (t = 0; t < opt.threads; t++)
        n += ws[t].nlat;
    if ((all = malloc((n ? n : 1) * sizeof(*all))) == NULL)
        abort();
    for (n = 0, t = 0; t < opt.threads; t++) {
        memcpy(all + n, ws[t].lat, ws[t].nlat * sizeof(*all));
        n += ws[t].nlat;
        for (k = 0; k < K_COUNT; k++)
            sessions[k] += ws[t].sessions[k];
        tls_ok += ws[t].tls_ok;
        dg += ws[t].downgrade;
        dga += ws[t].downgrade_accepted;
        pa += ws[t].plain_allowed;
        errors += ws[t].errors;
        unexpected += ws[t].unexpected;
    }
    pct_sort(all, n);
    printf("decisions %zu\n", n);
    for (i = 0; i < K_COUNT; i++)
        printf("sessions_%s %lu\n", kind_names[i], sessions[i]);
    printf("elapsed_s %.3f\ndecisions_per_s %.0f\n", elapsed, (double) n / elapsed);
    printf("latency_us_p50 %.1f\nlatency_us_p90 %.1f\nlatency_us_p99 %.1f\nlatency_us_max %.1f\n",
           pct(all, n, 50), pct(all, n, 90), pct(all, n, 99), n ? all[n - 1] : 0.0);
    printf("reason_tls_ok %lu\nreason_downgrade %lu\nreason_downgrade_accepted %lu\n", tls_ok, dg, dga);
    printf("reason_plaintext_allowed %lu\n", pa);
    printf("sim_seconds %lu\nerrors %lu\nunexpected %lu\n", (unsigned long) (atomic_load(&ticks) / opt.rate),
           errors, unexpected);
    free(all);
    /* One thread's clock never runs behind itself; with more, a skew is
       rare: anything else is a store that forgot a TLS history. */
    if (pa > 0 && (opt.threads == 1 || pa * 100 > dg + dga + pa)) {
        fprintf(stderr, "statebench: %lu plaintext sessions of known senders were not downgrades\n", pa);
        return 1;
    }
    return errors > 0 || unexpected > 0 || n == 0;
}

/* usage - the synopsis, exit 2 */
static void usage(const char *why)
{
    fprintf(stderr,
            "statebench: %s\nusage: statebench -c CONFIG [-j THREADS] [-n DECISIONS | -t SECONDS] "
            "[--senders N]\n       [--plain-share PCT] [--new-share PCT] [--max-rcpts N] [--rate N] "
            "[--seed N]\n",
            why);
    exit(2);
}

/* num - a whole number in [LO, HI] or a usage error */
static long num(const char *s, long lo, long hi, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        usage(what);
    return v;
}

/* parse_args - fill opt from the command line */
static void parse_args(int argc, char **argv)
{
    static const struct option lo[] = {{"senders", 1, 0, 'S'},
                                       {"plain-share", 1, 0, 'P'},
                                       {"new-share", 1, 0, 'N'},
                                       {"max-rcpts", 1, 0, 'r'},
                                       {"rate", 1, 0, 'R'},
                                       {"seed", 1, 0, 'e'},
                                       {0, 0, 0, 0}};
    int ch;

    while ((ch = getopt_long(argc, argv, "c:j:n:t:r:", lo, NULL)) != -1) {
        switch (ch) {
        case 'c':
            opt.config = optarg;
            break;
        case 'j':
            opt.threads = (int) num(optarg, 1, MAX_THREADS, "-j: 1 to 256 threads");
            break;
        case 'n':
            opt.decisions = num(optarg, 1, 1000000000L, "-n: a positive count");
            break;
        case 't':
            opt.seconds = (double) num(optarg, 1, 86400, "-t: 1 to 86400 seconds");
            break;
        case 'S':
            opt.senders = (int) num(optarg, 1, 1000000, "--senders: 1 to 1000000");
            break;
        case 'P':
            opt.plain_pct = (int) num(optarg, 0, 100, "--plain-share: 0 to 100");
            break;
        case 'N':
            opt.new_pct = (int) num(optarg, 0, 100, "--new-share: 0 to 100");
            break;
        case 'r':
            opt.max_rcpts = (int) num(optarg, 1, 1000, "--max-rcpts: 1 to 1000");
            break;
        case 'R':
            opt.rate = num(optarg, 1, 100000000L, "--rate: decisions per simulated second");
            break;
        case 'e':
            opt.seed = (unsigned) num(optarg, 0, 1000000000L, "--seed: a number");
            break;
        default:
            usage("unknown option");
        }
    }
    if (optind != argc || opt.config == NULL)
        usage("-c CONFIG is required; no operands");
    if (opt.plain_pct + opt.new_pct > 100)
        usage("--plain-share and --new-share add up to more than 100");
    if (opt.decisions > 0 && opt.seconds > 0)
        usage("-n and -t exclude each other");
    if (opt.decisions == 0 && opt.seconds == 0)
        opt.decisions = 20000;
}

/* print_setup - what was measured, before the figures */
static void print_setup(void)
{
    printf("backend %s\nthreads %d\nsenders %d\n", store_backend(store), opt.threads, opt.senders);
    printf("workload sessions of 1-%d recipients: %d%% TLS from a known sender (Zipf s=1), "
           "%d%% plaintext from a known sender, %d%% TLS from a new sender; clock %ld decisions/s\n",
           opt.max_rcpts, 100 - opt.plain_pct - opt.new_pct, opt.plain_pct, opt.new_pct, opt.rate);
}

int main(int argc, char **argv)
{
    static struct cmdstat before[MAX_CMDS], after[MAX_CMDS];
    size_t nbefore = 0, nafter = 0;
    redisContext *rc = NULL;
    struct worker *ws;
    double t0, elapsed;
    int t, status;

    parse_args(argc, argv);
    load_config();
    open_store();
    build_senders();
    preload();
    print_setup();
    fflush(stdout);
    if ((ws = calloc((size_t) opt.threads, sizeof(*ws))) == NULL)
        die("threads", "out of memory");
    if (cfg->state.backend == STATE_REDIS) {
        rc = stats_connect();
        nbefore = commandstats(rc, before);
    }
    pthread_barrier_init(&start_line, NULL, (unsigned) opt.threads + 1);
    for (t = 0; t < opt.threads; t++) {
        ws[t].id = t;
        ws[t].rng = 0x9E3779B97F4A7C15ULL * (uint64_t) (opt.seed * 1000ULL + (unsigned) t + 1);
        session_facts_init(&ws[t].fresh);
        if (pthread_create(&ws[t].tid, NULL, worker_main, &ws[t]) != 0)
            die("pthread_create", strerror(errno));
    }
    t0 = now_s();
    t_end = t0 + opt.seconds;
    pthread_barrier_wait(&start_line);
    for (t = 0; t < opt.threads; t++)
        pthread_join(ws[t].tid, NULL);
    elapsed = now_s() - t0;
    if (rc != NULL)
        nafter = commandstats(rc, after);
    status = report(ws, elapsed);
    if (rc != NULL) {
        report_redis(before, nbefore, after, nafter, (unsigned long) atomic_load(&ticks));
        redisFree(rc);
    }
    for (t = 0; t < opt.threads; t++) {
        session_facts_clear(&ws[t].fresh);
        free(ws[t].lat);
    }
    free(ws);
    store_close(store);
    config_free(cfg);
    return status;
}
