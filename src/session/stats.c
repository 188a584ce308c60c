/*++
 * NAME
 *	stats 3
 * SUMMARY
 *	the session service's live counters, for the metrics page
 * SYNOPSIS
 *	#include "core/policy.h"
#include "session/stats.h"
#include "tls/tlsinfo.h"
 *
 *	void	session_stats_decision(stats, front_end, decision, facts)
 *	void	session_stats_render(stats, out)
 * DESCRIPTION
 *	See stats.h. The policy label of a decision: the deciding policy of
 *	a refusal (or of a monitored would-be refusal), otherwise the first
 *	policy in force in configuration order ("default" when no other
 *	applies), "-" for an exempt session, where no policy is looked at.
 *	Unlike the record's policy field it is never a list, so that each
 *	decision is counted once and the label stays bounded by the
 *	configuration. A series is on the page once it counted something, and
 *	stays until the process ends; for each configured policy (and
 *	"default") the enforcing accept tls_ok and plaintext_allowed, and the
 *	reject and tempfail plaintext and downgrade series of both front ends
 *	are there from the start, at 0, so that rate() sees their first count.
 *--*/

/* System library. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "core/policy.h"
#include "session/stats.h"
#include "tls/tlsinfo.h"

#define ADD(c) atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed)
#define GET(c) atomic_load_explicit(&(c), memory_order_relaxed)

static const char *const fe_names[FRONT_END_COUNT] = {"milter", "policy"};
static const char *const mode_names[STATS_MODES] = {"enforce", "monitor"};

/* front_end_name - "milter", "policy" */
const char *front_end_name(enum front_end fe)
{
    return (unsigned) fe < FRONT_END_COUNT ? fe_names[fe] : "?";
}

/* session_stats_init - all zero */
int session_stats_init(struct session_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (slots_init(&st->policies, "_other") < 0 || slots_intern(&st->policies, "-") != 1 ||
        (st->decisions = calloc(SLOTS_MAX, sizeof(*st->decisions))) == NULL) {
        slots_free(&st->policies);
        return -1;
    }
    return 0;
}

/* session_stats_free - release the counters */
void session_stats_free(struct session_stats *st)
{
    slots_free(&st->policies);
    free(st->decisions);
}

/* session_stats_name_policies - give every policy of cfg its slot */
void session_stats_name_policies(struct session_stats *st, struct config *cfg)
{
    struct policy_set *ps = &cfg->policies;

    ps->dflt.metric_slot = slots_intern(&st->policies, ps->dflt.name ? ps->dflt.name : "default");
    for (size_t i = 0; i < ps->npolicies; i++)
        ps->policies[i].metric_slot = slots_intern(&st->policies, ps->policies[i].name);
}

/* policy_slot - the policy label of a decision (see DESCRIPTION) */
static size_t policy_slot(const struct decision *d)
{
    if (d->reason == REASON_EXEMPT)
        return 1; /* "-" */
    if (d->policy != NULL)
        return d->policy->metric_slot;
    return d->ninforce > 0 ? d->inforce[0]->metric_slot : SLOTS_OVERFLOW;
}

/* session_stats_decision - one decision record written */
void session_stats_decision(struct session_stats *st, enum front_end fe, const struct decision *d,
                            const struct session_facts *sf)
{
    size_t slot = policy_slot(d);

    /* The modulos only keep a value that cannot occur inside the array. */
    ADD(st->decisions[slot < SLOTS_MAX ? slot : SLOTS_OVERFLOW][(unsigned) fe % FRONT_END_COUNT]
                     [(unsigned) d->action % STATS_ACTIONS][(unsigned) d->reason % STATS_REASONS]
                     [d->mode == POLICY_MODE_MONITOR]);
    if ((unsigned) sf->tls_version < STATS_TLS_V)
        ADD(st->rcpt_tls[sf->tls_version]);
}

/* session_stats_session - one session record written */
void session_stats_session(struct session_stats *st, enum front_end fe, const struct session_facts *sf,
                           bool suspected_tls_failure)
{
    ADD(st->sessions[(unsigned) fe % FRONT_END_COUNT][sf->tls_version != TLS_V_NONE]);
    if (suspected_tls_failure)
        ADD(st->suspected);
}

/* family - the HELP and TYPE lines of one family */
static void family(struct strbuf *out, const char *name, const char *type, const char *help)
{
    strbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* label_value - a value escaped as the text format wants: \\, \", \n */
static void label_value(struct strbuf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            strbuf_putc(out, '\\');
        if (*v == '\n')
            strbuf_puts(out, "\\n");
        else
            strbuf_putc(out, *v);
    }
}

/*
 * shown_at_zero - the series of a configured policy that are on the page
 * before they count anything: rate() and increase() miss what a series
 * counted before its first scrape, so a first plaintext refusal (what
 * alerts watch) would go unseen. The rest appear with their first count.
 */
static bool shown_at_zero(size_t slot, int a, int r, int m)
{
    if (slot < 2 || m != 0) /* "_other", "-"; monitor */
        return false;
    if (a == DECISION_ACCEPT)
        return r == REASON_TLS_OK || r == REASON_PLAINTEXT_ALLOWED;
    return r == REASON_PLAINTEXT || r == REASON_DOWNGRADE;
}

/* render_row - the decision counters of one policy slot: those that
   counted something, and those shown at zero */
static void render_row(const struct session_stats *st, size_t slot, struct strbuf *out)
{
    const char *policy = slots_name(&st->policies, slot);

    for (int fe = 0; fe < FRONT_END_COUNT; fe++)
        for (int a = 0; a < STATS_ACTIONS; a++)
            for (int r = 0; r < STATS_REASONS; r++)
                for (int m = 0; m < STATS_MODES; m++) {
                    uint64_t n = GET(st->decisions[slot][fe][a][r][m]);

                    if (n == 0 && !shown_at_zero(slot, a, r, m))
                        continue;
                    strbuf_printf(
                        out,
                        "tlspolicyd_decisions_total{front_end=\"%s\",action=\"%s\",reason=\"%s\",policy=\"",
                        fe_names[fe], decision_action_name((enum decision_action) a),
                        decision_reason_name((enum reason) r));
                    label_value(out, policy);
                    strbuf_printf(out, "\",mode=\"%s\"} %" PRIu64 "\n", mode_names[m], n);
                }
}

/* render_tls - recipients by protocol version, sessions by front end and TLS */
static void render_tls(const struct session_stats *st, struct strbuf *out)
{
    family(out, "tlspolicyd_recipients_tls_total", "counter",
           "Recipients decided, by the TLS version of their session (none: plaintext).");
    for (int v = 0; v < STATS_TLS_V; v++)
        strbuf_printf(out, "tlspolicyd_recipients_tls_total{tls_version=\"%s\"} %" PRIu64 "\n",
                      tlsinfo_version_name((enum tls_version) v), GET(st->rcpt_tls[v]));
    family(out, "tlspolicyd_sessions_total", "counter", "SMTP sessions ended (session records written).");
    for (int fe = 0; fe < FRONT_END_COUNT; fe++)
        for (int t = 0; t < 2; t++)
            strbuf_printf(out, "tlspolicyd_sessions_total{front_end=\"%s\",tls=\"%s\"} %" PRIu64 "\n",
                          fe_names[fe], t ? "yes" : "no", GET(st->sessions[fe][t]));
    family(out, "tlspolicyd_suspected_starttls_failures_total", "counter",
           "Plaintext sessions that followed the pattern of a failed STARTTLS.");
    strbuf_printf(out, "tlspolicyd_suspected_starttls_failures_total %" PRIu64 "\n", GET(st->suspected));
}

/* session_stats_render - the families above in the Prometheus text format */
void session_stats_render(const struct session_stats *st, struct strbuf *out)
{
    size_t n = slots_count(&st->policies);

    family(out, "tlspolicyd_decisions_total", "counter",
           "Recipient decisions (decision records written), by front end, action, reason, policy and mode.");
    for (size_t slot = 0; slot < n; slot++)
        render_row(st, slot, out);
    render_tls(st, out);
    family(out, "tlspolicyd_decision_duration_seconds", "histogram",
           "Time from a recipient's arrival to tlspolicyd's answer.");
    histogram_render(&st->decision_duration, "tlspolicyd_decision_duration_seconds", "", out);
}
