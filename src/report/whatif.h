/*++
 * NAME
 *	whatif 3h
 * SUMMARY
 *	impact forecast: the recorded facts under another configuration
 * DESCRIPTION
 *	--what-if CONFIG loads CONFIG with the daemon's own config_load()
 *	and, for every decision record of the period, rebuilds the session
 *	and recipient facts from the record and decides again with the
 *	daemon's own policy_decide(). A record whose outcome (action, and
 *	would in monitor mode) differs from the recorded one is a change;
 *	changes are counted by transition and listed by recipient domain
 *	and by client, with the new reason and the fact that caused it.
 *
 *	What the records do not hold cannot be replayed; see
 *	tlspolicy-report(1), WHAT-IF, for the rules: the fallback history
 *	(learned = NULL), SASL authentication (a recorded exemption stays
 *	one when CONFIG exempts authenticated sessions), {verify} (from
 *	cert_verified), addresses hidden by log.addresses (a placeholder
 *	"x@DOMAIN" in the recorded domain).
 *
 *	Memory is proportional to the number of distinct changes, never
 *	to the number of records.
 *--*/
#ifndef REPORT_WHATIF_H
#define REPORT_WHATIF_H

#include <stdio.h>

#include "record/recparse.h"

struct whatif;
struct json_object;

/* whatif_open - load path; NULL after printing FILE:LINE errors on stderr */
struct whatif *whatif_open(const char *path, const char *prog);

/* whatif_keep - does nothing; the reader now keeps every field. Kept
   until the scan driver drops its call. */
void whatif_keep(struct whatif *, const char *msg);

/* whatif_record - decide one record of the period again; w may be NULL */
void whatif_record(struct whatif *, const struct rec *);

/* whatif_write - the "What if" section; 0, or -1 when memory ran out */
int whatif_write(FILE *, const struct whatif *);

/* whatif_json - the json report's "what_if" object; NULL on OOM */
struct json_object *whatif_json(const struct whatif *);

/* whatif_html - the html report's "What if" section; 0, or -1 on OOM */
int whatif_html(FILE *, const struct whatif *);

/* whatif_csv - -f csv with --what-if: the changes instead of the groups */
int whatif_csv(FILE *, const struct whatif *);

void whatif_free(struct whatif *);

#endif
