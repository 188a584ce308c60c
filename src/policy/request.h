/*++
 * NAME
 *	request 3h
 * SUMMARY
 *	one Postfix policy delegation request: strict parser
 * DESCRIPTION
 *	Postfix sends "name=value" lines ended by an empty line
 *	(SMTPD_POLICY_README). The parser takes one line at a time, without
 *	its newline, and keeps the attributes in a fixed table: no request,
 *	however hostile, makes it allocate more than POLICY_REQUEST_MAX
 *	bytes. Anything Postfix never sends is refused with a reason the
 *	server answers and logs: a line without '=', an empty or oversized
 *	name, a name outside [a-z0-9_], an oversized value, a NUL byte, too
 *	many attributes, an attribute twice, a request that is not
 *	"request=smtpd_access_policy". Attributes we do not know are kept
 *	and ignored: Postfix adds new ones in new versions.
 *
 *	Memory bounds: POLICY_ATTRS_MAX attributes, each name at most
 *	POLICY_NAME_MAX and each value at most POLICY_VALUE_MAX bytes, the
 *	whole request at most POLICY_REQUEST_MAX bytes.
 * LAYER
 *	src/policy/ is the Postfix policy delegation front end, a sibling
 *	of milter/: it translates requests into session/ calls and replies
 *	back. It sits on session/, config/ and util/; daemon/ starts it.
 *--*/
#ifndef POLICY_REQUEST_H
#define POLICY_REQUEST_H

#include <stddef.h>

#include "util/tp_error.h"

#define POLICY_NAME_MAX    64    /* Postfix's longest today: 24 (ccert_pubkey_fingerprint) */
#define POLICY_VALUE_MAX   4096  /* Postfix cuts SMTP lines at 2048 (line_length_limit) */
#define POLICY_ATTRS_MAX   64    /* Postfix 3.7 sends 31 */
#define POLICY_REQUEST_MAX 32768 /* all lines with their newlines */
/* The longest line the server ever hands the parser. */
#define POLICY_LINE_MAX (POLICY_NAME_MAX + 1 + POLICY_VALUE_MAX)

struct policy_attr {
    const char *name; /* into the request's own buffer */
    const char *value;
};

struct policy_request {
    struct policy_attr attrs[POLICY_ATTRS_MAX];
    size_t nattrs;
    size_t used;  /* bytes of buf in use */
    size_t bytes; /* bytes of the request read so far, newlines included */
    char buf[POLICY_REQUEST_MAX];
};

enum policy_parse {
    POLICY_MORE = 0, /* the line was taken; the request goes on */
    POLICY_DONE,     /* the empty line: a complete, valid request */
    POLICY_BAD,      /* malformed (err says why); the stream cannot be trusted */
};

/* policy_request_init - an empty request; also after POLICY_DONE or POLICY_BAD */
void policy_request_init(struct policy_request *);

/* policy_request_line - one line without its "\n" (a trailing "\r" is refused) */
enum policy_parse policy_request_line(struct policy_request *, const char *line, size_t len,
                                      struct tp_error *);

/* policy_request_started - some line of a request was read */
int policy_request_started(const struct policy_request *);

/* policy_request_get - the value of name, or NULL when Postfix did not send it */
const char *policy_request_get(const struct policy_request *, const char *name);

#endif
