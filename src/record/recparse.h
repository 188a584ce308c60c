/*++
 * NAME
 *	recparse 3h
 * SUMMARY
 *	read one tlspolicyd record, kv or json: every field
 * DESCRIPTION
 *	recparse_is_record() tells a tlspolicyd decision or session record
 *	from every other message by its first bytes: "event=decision" or
 *	"event=session" followed by a space (kv), '{"event":"decision"' or
 *	'{"event":"session"' (json). Other events (notices) and other
 *	programs' messages are not records.
 *
 *	recparse_record() then reads every field of the table in fields.h
 *	into struct rec, indexed by enum rec_field (REC_EVENT ...
 *	REC_DURATION_MS): the text the writer was given, byte for byte, or
 *	NULL when the field is absent ("-", null, or not in the record).
 *	Numbers are text too: a JSON number reads as its decimal digits,
 *	as kv writes them; seq is also kept as a number. Unknown fields
 *	are skipped, so newer writers stay readable; a field of the other
 *	event is kept like any other (the writer never writes one).
 *
 *	A record lacking seq, instance or tls_version (and action, for a
 *	decision), with a bad seq, a repeated kv field (the writer quotes
 *	every '=' and space: only a forger writes one), a repeated json key
 *	(json-c would keep the last value silently), a json value of the
 *	wrong type (a string field must be a string, a number field an
 *	integer or a string) or broken syntax is malformed. So is a record
 *	without its event's last field (reply, duration_ms; "-" or null is
 *	there): the writer ends every record with it, so a record without
 *	it was cut on its way, and a cut value ("tls_version=no") must never
 *	be counted. A cut inside the last value itself is seen in kv by its
 *	open quote (reply is always quoted or "-"); the digits of
 *	duration_ms cut short cannot be told, and count only there.
 *--*/
#ifndef RECORD_RECPARSE_H
#define RECORD_RECPARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "record/fields.h"

/* The text of a 64-bit integer with its sign and NUL. */
#define REC_NUM_TEXT 21

struct json_object;

struct rec {
    enum rec_event event;
    unsigned long long seq;
    const char *f[REC_NFIELDS];       /* NULL: absent; into the line, json or num */
    struct json_object *json;         /* owned; holds the json strings */
    char num[REC_NNUM][REC_NUM_TEXT]; /* json numbers as text */
    size_t nnum;
};

/* recparse_is_record - the kind of record msg starts, or REC_NONE */
enum rec_event recparse_is_record(const char *msg);

/* recparse_record - parse msg (overwritten for kv); 0, or -1 with *why */
int recparse_record(char *msg, struct rec *, const char **why);

/* recparse_clear - release what recparse_record kept */
void recparse_clear(struct rec *);

#endif
