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
struct report_section;
struct scan_consumer;

/* whatif_open - load path; NULL after printing FILE:LINE errors on stderr */
struct whatif *whatif_open(const char *path, const char *prog);

/* whatif_consumer - the scan consumer (pass one): every record of the
   period is decided again under the other configuration */
void whatif_consumer(struct whatif *, struct scan_consumer *);

/* whatif_section - the report's section (whatif_out.c): the text and
   html "What if" sections, the json "what_if" object, and with -f csv
   the changes instead of the groups */
void whatif_section(const struct whatif *, struct report_section *);

void whatif_free(struct whatif *);

#endif
