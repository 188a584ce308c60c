/*++
 * NAME
 *	recparse 3h
 * SUMMARY
 *	one tlspolicyd record, kv or json, as the report needs it
 * DESCRIPTION
 *	recparse_is_record() tells a tlspolicyd decision or session record
 *	from every other message by its first bytes: "event=decision" or
 *	"event=session" followed by a space (kv), '{"event":"decision"' or
 *	'{"event":"session"' (json). Other events (notices) and other
 *	programs' messages are not records. recparse_record() then reads
 *	the fields the report uses into struct rec; unknown fields are
 *	skipped, so newer writers stay readable. A record lacking seq or
 *	instance, with a bad seq, a repeated kv field (only a forger writes
 *	one) or broken syntax is malformed.
 *--*/
#ifndef REPORT_RECPARSE_H
#define REPORT_RECPARSE_H

#include <stdbool.h>

enum rec_event { REC_NONE = 0, REC_DECISION, REC_SESSION };

enum rec_field {
    REC_INSTANCE,
    REC_ACTION,
    REC_WOULD,
    REC_REASON,
    REC_MODE,
    REC_RCPT_DOMAIN,
    REC_SENDER_DOMAIN,
    REC_CLIENT_ADDR,
    REC_CLIENT_NAME,
    REC_TLS_VERSION,
    REC_CIPHER,
    REC_SUSPECTED,
    REC_RCPT, /* the address, for --diagnose: as logged (hashed, domain only) */
    REC_NFIELDS,
    REC_SEQ = REC_NFIELDS /* seq is a number: struct rec keeps it apart */
};

struct json_object;

struct rec {
    enum rec_event event;
    unsigned long long seq;
    const char *f[REC_NFIELDS]; /* NULL: absent; into the line or json */
    struct json_object *json;   /* owned; holds the json strings */
};

/* recparse_is_record - the kind of record msg starts, or REC_NONE */
enum rec_event recparse_is_record(const char *msg);

/* recparse_record - parse msg (overwritten for kv); 0, or -1 with *why */
int recparse_record(char *msg, struct rec *, const char **why);

/* recparse_clear - release what recparse_record kept */
void recparse_clear(struct rec *);

#endif
