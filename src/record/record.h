/*++
 * NAME
 *	record 3h
 * SUMMARY
 *	decision and session records: kv and json
 * DESCRIPTION
 *	The one place where log records are formatted. Field names and order
 *	are the contract of SPEC.md, written down once in fields.h, whose
 *	table the reader (recparse.h) uses too. kv: space-separated
 *	key=value, where a value that is not a plain token is double-quoted
 *	with \", \\, \n, \t and \xHH escapes, so that no value can forge a
 *	field or a line.
 *	json: one object, same keys in the same order. The caller supplies
 *	seq (one counter per instance) and writes the text wherever it goes.
 *
 *	Length: a string value takes at most RECORD_VALUE_MAX bytes as
 *	written (quotes and escapes included; RECORD_REPLY_MAX for reply).
 *	A longer one is cut at a whole character or escape and ends in
 *	RECORD_CUT_MARK inside the value, so the record stays valid kv or
 *	json and a whole record stays well under 8 KiB, the message size
 *	at which syslog daemons (rsyslog's default maxMessageSize) cut it
 *	whatever a sender puts into a HELO, an address or a certificate.
 *	Every record ends with its last SPEC field (reply, duration_ms): a
 *	reader takes a record without it as cut, hence malformed.
 * LAYER
 *	src/record/ is the record, written and read: the field table
 *	(fields.h), this writer, address forms (recaddr.c), and the reader
 *	(recparse.h, kv.h) that the report and the probe use. It sits on
 *	config/ (log settings), core/, tls/ and util/.
 *--*/
#ifndef RECORD_H
#define RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/facts.h"
#include "config/config.h"
#include "core/policy.h"
#include "util/strbuf.h"

/* The caps on a value as written, and the mark of a cut value. */
#define RECORD_VALUE_MAX 256
#define RECORD_REPLY_MAX 512
#define RECORD_CUT_MARK  "..."

struct record_opts {
    enum log_format format;
    enum log_addresses addresses;
    const unsigned char *hash_key; /* LOG_ADDR_HASH */
    size_t hash_key_len;
};

struct decision_record {
    unsigned long long seq;
    const char *instance;
    const char *config; /* configuration hash */
    const char *qid;    /* NULL: absent */
    const struct decision *decision;
    const struct session_facts *session;
    const struct rcpt_facts *rcpt;
};

struct session_record {
    unsigned long long seq;
    const char *instance;
    const struct session_facts *session;
    unsigned messages;
    unsigned rcpt_accepted;
    unsigned rcpt_rejected;
    unsigned rcpt_tempfailed;
    bool suspected_tls_failure;
    long duration_ms;
};

/* Append one record, without a trailing newline. Return 0, or -1 on OOM. */
/* record_opts_from_config - the log settings of a configuration */
struct record_opts record_opts_from_config(const struct config *);

int record_format_decision(const struct record_opts *, const struct decision_record *, struct strbuf *out);
int record_format_session(const struct record_opts *, const struct session_record *, struct strbuf *out);

/* record_address - the address as logged under opts->addresses ("full", "domain": "@dom",
   "hash": first 16 hex digits of HMAC-SHA256(key, lower-cased local part)
   "@dom"). Appends to out. In recaddr.c. */
void record_address(const struct record_opts *, const char *addr, struct strbuf *out);

/* kv value escaping, exposed for the tests and for tlspolicy-report;
   whole, without the cap of a record's value. */
void record_kv_value(struct strbuf *out, const char *value);

#endif
