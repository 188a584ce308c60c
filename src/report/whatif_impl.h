/*++
 * NAME
 *	whatif_impl 3h
 * SUMMARY
 *	the forecast's counts, shared by whatif.c and its writers
 * DESCRIPTION
 *	Each change is one map key: its fields, made printable by
 *	report_safe() (so they hold no tab), joined by tabs. by_rcpt keys are
 *	rcpt_domain, change, reason, client, sender; by_client keys are
 *	client, change, reason, rcpt_domain, sender.
 *--*/
#ifndef REPORT_WHATIF_IMPL_H
#define REPORT_WHATIF_IMPL_H

#include <stdbool.h>

#include "config/config.h"
#include "util/map.h"
#include "util/strbuf.h"

struct whatif {
    const char *path;
    struct config *cfg;
    unsigned long long decisions, changed;
    unsigned long long auth_assumed; /* exempt only by the placeholder auth */
    unsigned long long fb_unknown;   /* plaintext at opportunistic, fallback on */
    unsigned long long fb_kept;      /* of them, recorded downgrades kept */
    struct map transitions;          /* "old -> new" -> count */
    struct map by_rcpt;              /* rcpt_domain \t change ... -> count */
    struct map by_client;            /* client \t change ... -> count */
    int oom;
};

#endif
