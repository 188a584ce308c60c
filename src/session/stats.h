/*++
 * NAME
 *	stats 3h
 * SUMMARY
 *	the session service's live counters, for the metrics page
 * DESCRIPTION
 *	What tlspolicyd_decisions_total, _recipients_tls_total,
 *	_sessions_total, _suspected_starttls_failures_total and
 *	_decision_duration_seconds count. Every counter is an atomic that a
 *	decision adds to with one relaxed fetch-add; nothing here takes a
 *	lock on a decision, and the renderer takes none at all, so a scrape
 *	never waits for a decision nor a decision for a scrape.
 *
 *	Decisions are counted where their record is handed to the sink
 *	(service.c), so that the counts sum to the records written. The
 *	policy label is a slot (util/slots.h) given to each policy name when
 *	a configuration is loaded (session_stats_name_policies), so counts
 *	survive reloads and a decision looks up nothing.
 *
 *	Memory: the decision counters are one array of SLOTS_MAX rows of
 *	STATS_ROW counters (1.2 MB of address space, allocated zeroed: only
 *	the rows of policies that decided are ever touched and resident).
 *--*/
#ifndef STATS_H
#define STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "config/config.h"
#include "core/decision.h"
#include "core/facts.h"
#include "util/histogram.h"
#include "util/slots.h"
#include "util/strbuf.h"

/* Who drives a session: a label value of the metrics. */
enum front_end {
    FRONT_END_MILTER = 0,
    FRONT_END_POLICY,
};
#define FRONT_END_COUNT 2

#define STATS_ACTIONS (DECISION_REJECT + 1)
#define STATS_REASONS (REASON_STATE_ERROR + 1)
#define STATS_MODES   2 /* enforce, monitor */
#define STATS_TLS_V   (TLS_V_TLS13 + 1)

typedef _Atomic uint64_t stats_row[FRONT_END_COUNT][STATS_ACTIONS][STATS_REASONS][STATS_MODES];

struct session_stats {
    struct slots policies; /* label values of "policy"; slot 0: "_other" */
    stats_row *decisions;  /* [SLOTS_MAX] */
    _Atomic uint64_t rcpt_tls[STATS_TLS_V];
    _Atomic uint64_t sessions[FRONT_END_COUNT][2]; /* [front end][tls] */
    _Atomic uint64_t suspected;
    struct histogram decision_duration;
};

/* session_stats_init - all zero; 0, or -1 out of memory */
int session_stats_init(struct session_stats *);

/* session_stats_free - release the counters */
void session_stats_free(struct session_stats *);

/* session_stats_name_policies - give every policy of cfg its slot; before cfg decides */
void session_stats_name_policies(struct session_stats *, struct config *cfg);

/* session_stats_decision - one decision record written */
void session_stats_decision(struct session_stats *, enum front_end, const struct decision *,
                            const struct session_facts *);

/* session_stats_session - one session record written */
void session_stats_session(struct session_stats *, enum front_end, const struct session_facts *,
                           bool suspected_tls_failure);

/* session_stats_render - the families above in the Prometheus text format */
void session_stats_render(const struct session_stats *, struct strbuf *out);

/* front_end_name - "milter", "policy" */
const char *front_end_name(enum front_end);

#endif
