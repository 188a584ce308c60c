/*++
 * NAME
 *	fields 3h
 * SUMMARY
 *	the one field table of decision and session records
 * SYNOPSIS
 *	#include "record/fields.h"
 *
 *	RECORD_FIELDS(X)
 *	enum rec_event, enum rec_field
 *	const struct rec_field_desc rec_fields[REC_NFIELDS]
 *	bool	rec_field_in(field, event)
 * DESCRIPTION
 *	SPEC.md names the fields of event=decision and event=session and
 *	their order; that list is a contract with every script that reads
 *	our logs. It is written down once, here, as the X-macro
 *	RECORD_FIELDS: X(ID, "name", events, kind) per field. The writer
 *	(record.c) walks it to emit a record, the reader (recparse.c)
 *	derives its REC_* indices and its name matching from it, so the
 *	two cannot disagree about a name or an order.
 *
 *	The list is the union of both events in SPEC order: the decision
 *	fields, then the fields only a session has. Every session field
 *	that a decision also has comes in the same relative order, so each
 *	event's field list is the table filtered by its events bit.
 *
 *	kind REC_NUM marks a field the writer emits as a number (a JSON
 *	number, a plain kv token) when present; REC_STR a string. Both are
 *	"-" in kv and null in json when absent.
 *
 *	The REC_* names are those the report has always used; only the
 *	session's suspected_tls_failure is REC_SUSPECTED, for brevity.
 *--*/
#ifndef RECORD_FIELDS_H
#define RECORD_FIELDS_H

/* System library. */
#include <stdbool.h>
#include <stddef.h>

/* The events a record can be; REC_NONE is "not one of our records". */
enum rec_event { REC_NONE = 0, REC_DECISION, REC_SESSION };

/* Which events have a field: one bit per enum rec_event. */
#define REC_D  (1u << REC_DECISION)
#define REC_S  (1u << REC_SESSION)
#define REC_DS (REC_D | REC_S)

/* How the writer emits a present value. */
enum rec_kind { REC_STR, REC_NUM };

/* X(ID, "name", events, kind), in SPEC.md order; see above. */
#define RECORD_FIELDS(X)                                                                                     \
    X(EVENT, "event", REC_DS, REC_STR)                                                                       \
    X(SEQ, "seq", REC_DS, REC_NUM)                                                                           \
    X(INSTANCE, "instance", REC_DS, REC_STR)                                                                 \
    X(CONFIG, "config", REC_D, REC_STR)                                                                      \
    X(QID, "qid", REC_D, REC_STR)                                                                            \
    X(ACTION, "action", REC_D, REC_STR)                                                                      \
    X(WOULD, "would", REC_D, REC_STR)                                                                        \
    X(REASON, "reason", REC_D, REC_STR)                                                                      \
    X(POLICY, "policy", REC_D, REC_STR)                                                                      \
    X(LEVEL, "level", REC_D, REC_STR)                                                                        \
    X(MODE, "mode", REC_D, REC_STR)                                                                          \
    X(RCPT, "rcpt", REC_D, REC_STR)                                                                          \
    X(RCPT_DOMAIN, "rcpt_domain", REC_D, REC_STR)                                                            \
    X(SENDER, "sender", REC_D, REC_STR)                                                                      \
    X(SENDER_DOMAIN, "sender_domain", REC_D, REC_STR)                                                        \
    X(CLIENT_ADDR, "client_addr", REC_DS, REC_STR)                                                           \
    X(CLIENT_NAME, "client_name", REC_DS, REC_STR)                                                           \
    X(HELO, "helo", REC_DS, REC_STR)                                                                         \
    X(TLS_VERSION, "tls_version", REC_DS, REC_STR)                                                           \
    X(CIPHER, "cipher", REC_DS, REC_STR)                                                                     \
    X(CIPHER_BITS, "cipher_bits", REC_DS, REC_NUM)                                                           \
    X(CERT_VERIFIED, "cert_verified", REC_D, REC_STR)                                                        \
    X(CERT_SUBJECT, "cert_subject", REC_D, REC_STR)                                                          \
    X(CERT_ISSUER, "cert_issuer", REC_D, REC_STR)                                                            \
    X(FALLBACK_KEY, "fallback_key", REC_D, REC_STR)                                                          \
    X(DEFERRALS, "deferrals", REC_D, REC_NUM)                                                                \
    X(REPLY, "reply", REC_D, REC_STR)                                                                        \
    X(MESSAGES, "messages", REC_S, REC_NUM)                                                                  \
    X(RCPT_ACCEPTED, "rcpt_accepted", REC_S, REC_NUM)                                                        \
    X(RCPT_REJECTED, "rcpt_rejected", REC_S, REC_NUM)                                                        \
    X(RCPT_TEMPFAILED, "rcpt_tempfailed", REC_S, REC_NUM)                                                    \
    X(SUSPECTED, "suspected_tls_failure", REC_S, REC_STR)                                                    \
    X(DURATION_MS, "duration_ms", REC_S, REC_NUM)

/* REC_EVENT ... REC_DURATION_MS, in table order, then their count. */
enum rec_field {
#define REC_FIELD_ENUM(id, name, events, kind) REC_##id,
    RECORD_FIELDS(REC_FIELD_ENUM)
#undef REC_FIELD_ENUM
        REC_NFIELDS
};

/* REC_NNUM - how many fields are numbers (the reader keeps their text) */
#define REC_FIELD_IS_NUM(id, name, events, kind) +((kind) == REC_NUM)
#define REC_NNUM                                 (0 RECORD_FIELDS(REC_FIELD_IS_NUM))

/* One row of the table, for code that walks it at run time. */
struct rec_field_desc {
    const char *name;
    unsigned char len;    /* strlen(name) */
    unsigned char events; /* REC_D, REC_S or both */
    unsigned char kind;   /* enum rec_kind */
};

extern const struct rec_field_desc rec_fields[REC_NFIELDS];

/* rec_field_in - the field is one of event's */
static inline bool rec_field_in(enum rec_field f, enum rec_event event)
{
    return (rec_fields[f].events & (1u << event)) != 0;
}

#endif
