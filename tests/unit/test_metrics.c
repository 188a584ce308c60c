/*++
 * NAME
 *	test_metrics 1
 * SUMMARY
 *	unit tests of the live counters: histogram, slots, session stats
 * DESCRIPTION
 *	The bucket a duration falls in (bounds inclusive, as Prometheus's
 *	"le"), cumulative rendering, the sum in seconds; slots that keep a
 *	name's number and overflow into slot 0; the policy label of a
 *	decision (deciding policy, first in force, "-" when exempt);
 *	escaping of a hostile policy name; and exact counts under eight
 *	threads adding at once.
 *--*/

/* System library. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

/* Application. */
#include "session/stats.h"
#include "util/histogram.h"
#include "util/slots.h"

#define THREADS 8
#define PER     100000

/* has_line - does the page hold exactly this line */
static bool has_line(const struct strbuf *page, const char *line)
{
    const char *p = strbuf_str(page);
    size_t n = strlen(line);

    for (; (p = strstr(p, line)) != NULL; p += n)
        if ((p == strbuf_str(page) || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

/* test_histogram - buckets, cumulative counts, sum and count */
static void test_histogram(void **state)
{
    struct histogram h;
    struct strbuf out;

    (void) state;
    memset(&h, 0, sizeof(h));
    strbuf_init(&out);
    histogram_observe(&h, 100000);     /* exactly 0.0001 s: le="0.0001" */
    histogram_observe(&h, 100001);     /* just above: le="0.00025" */
    histogram_observe(&h, 3000000000); /* 3 s: only +Inf */
    histogram_render(&h, "x_seconds", "op=\"get\"", &out);
    assert_true(has_line(&out, "x_seconds_bucket{op=\"get\",le=\"0.0001\"} 1"));
    assert_true(has_line(&out, "x_seconds_bucket{op=\"get\",le=\"0.00025\"} 2"));
    assert_true(has_line(&out, "x_seconds_bucket{op=\"get\",le=\"2.5\"} 2"));
    assert_true(has_line(&out, "x_seconds_bucket{op=\"get\",le=\"+Inf\"} 3"));
    assert_true(has_line(&out, "x_seconds_sum{op=\"get\"} 3.000200001"));
    assert_true(has_line(&out, "x_seconds_count{op=\"get\"} 3"));
    strbuf_reset(&out);
    histogram_render(&h, "y_seconds", "", &out);
    assert_true(has_line(&out, "y_seconds_bucket{le=\"+Inf\"} 3"));
    assert_true(has_line(&out, "y_seconds_count 3"));
    strbuf_free(&out);
}

/* test_slots - a name keeps its number; a full table overflows into 0 */
static void test_slots(void **state)
{
    struct slots s;
    char name[32];
    size_t first;

    (void) state;
    assert_int_equal(slots_init(&s, "_other"), 0);
    first = slots_intern(&s, "gdpr");
    assert_int_equal(first, 1);
    assert_int_equal(slots_intern(&s, "bank"), 2);
    assert_int_equal(slots_intern(&s, "gdpr"), first);
    for (int i = 0; slots_count(&s) < SLOTS_MAX; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        assert_int_not_equal(slots_intern(&s, name), SLOTS_OVERFLOW);
    }
    assert_int_equal(slots_intern(&s, "one too many"), SLOTS_OVERFLOW);
    assert_int_equal(slots_intern(&s, "bank"), 2);
    assert_string_equal(slots_name(&s, SLOTS_OVERFLOW), "_other");
    slots_free(&s);
}

/* named - a policy with a name and a slot of st */
static void named(struct session_stats *st, struct policy *p, char *name)
{
    policy_init(p);
    p->name = name;
    p->metric_slot = slots_intern(&st->policies, name);
}

/* test_policy_label - deciding policy, first in force, "-" for exempt */
static void test_policy_label(void **state)
{
    struct session_stats st;
    struct session_facts sf;
    struct policy gdpr, dflt, evil, idle;
    struct decision d;
    struct strbuf out;

    (void) state;
    assert_int_equal(session_stats_init(&st), 0);
    named(&st, &gdpr, "gdpr");
    named(&st, &dflt, "default");
    named(&st, &evil, "a\"b\\c\nd");
    named(&st, &idle, "idle");
    session_facts_init(&sf);
    memset(&d, 0, sizeof(d));
    d.action = d.would = DECISION_REJECT;
    d.reason = REASON_PLAINTEXT;
    d.policy = &gdpr;
    d.mode = POLICY_MODE_ENFORCE;
    session_stats_decision(&st, FRONT_END_POLICY, &d, &sf);
    d.action = DECISION_ACCEPT;
    d.would = DECISION_REJECT;
    d.mode = POLICY_MODE_MONITOR;
    d.policy = &evil;
    session_stats_decision(&st, FRONT_END_MILTER, &d, &sf);
    memset(&d, 0, sizeof(d));
    d.reason = REASON_PLAINTEXT_ALLOWED;
    d.inforce[0] = &dflt;
    d.ninforce = 1;
    session_stats_decision(&st, FRONT_END_MILTER, &d, &sf);
    d.reason = REASON_EXEMPT;
    session_stats_decision(&st, FRONT_END_MILTER, &d, &sf);
    session_stats_session(&st, FRONT_END_POLICY, &sf, true);
    strbuf_init(&out);
    session_stats_render(&st, &out);
    assert_true(has_line(&out, "tlspolicyd_decisions_total{front_end=\"policy\",action=\"reject\","
                               "reason=\"plaintext\",policy=\"gdpr\",mode=\"enforce\"} 1"));
    assert_true(has_line(&out, "tlspolicyd_decisions_total{front_end=\"milter\",action=\"accept\","
                               "reason=\"plaintext\",policy=\"a\\\"b\\\\c\\nd\",mode=\"monitor\"} 1"));
    assert_true(has_line(&out, "tlspolicyd_decisions_total{front_end=\"milter\",action=\"accept\","
                               "reason=\"plaintext_allowed\",policy=\"default\",mode=\"enforce\"} 1"));
    assert_true(has_line(&out, "tlspolicyd_decisions_total{front_end=\"milter\",action=\"accept\","
                               "reason=\"exempt\",policy=\"-\",mode=\"enforce\"} 1"));
    /* A policy that decided nothing yet: its refusal series are there at 0. */
    assert_true(has_line(&out, "tlspolicyd_decisions_total{front_end=\"milter\",action=\"reject\","
                               "reason=\"plaintext\",policy=\"idle\",mode=\"enforce\"} 0"));
    assert_true(has_line(&out, "tlspolicyd_decisions_total{front_end=\"policy\",action=\"tempfail\","
                               "reason=\"downgrade\",policy=\"idle\",mode=\"enforce\"} 0"));
    assert_false(strstr(strbuf_str(&out), "reason=\"cipher\",policy=\"idle\""));
    assert_false(strstr(strbuf_str(&out), "policy=\"_other\""));
    assert_true(has_line(&out, "tlspolicyd_recipients_tls_total{tls_version=\"none\"} 4"));
    assert_true(has_line(&out, "tlspolicyd_sessions_total{front_end=\"policy\",tls=\"no\"} 1"));
    assert_true(has_line(&out, "tlspolicyd_suspected_starttls_failures_total 1"));
    strbuf_free(&out);
    session_stats_free(&st);
}

struct adder {
    struct session_stats *st;
    const struct decision *d;
    const struct session_facts *sf;
};

/* add_many - PER decisions from one thread */
static void *add_many(void *arg)
{
    struct adder *a = arg;

    for (int i = 0; i < PER; i++)
        session_stats_decision(a->st, FRONT_END_MILTER, a->d, a->sf);
    return NULL;
}

/* test_threads - eight threads at once: not one count lost */
static void test_threads(void **state)
{
    struct session_stats st;
    struct session_facts sf;
    struct policy p;
    struct decision d;
    struct adder a = {&st, &d, &sf};
    pthread_t t[THREADS];
    struct strbuf out;
    char want[256];

    (void) state;
    assert_int_equal(session_stats_init(&st), 0);
    named(&st, &p, "gdpr");
    session_facts_init(&sf);
    memset(&d, 0, sizeof(d));
    d.reason = REASON_TLS_OK;
    d.inforce[0] = &p;
    d.ninforce = 1;
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, add_many, &a), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    strbuf_init(&out);
    session_stats_render(&st, &out);
    snprintf(want, sizeof(want),
             "tlspolicyd_decisions_total{front_end=\"milter\",action=\"accept\",reason=\"tls_ok\","
             "policy=\"gdpr\",mode=\"enforce\"} %d",
             THREADS * PER);
    assert_true(has_line(&out, want));
    strbuf_free(&out);
    session_stats_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_policy_label),
        cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
