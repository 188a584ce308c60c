/*++
 * NAME
 *	recparse 3
 * SUMMARY
 *	one tlspolicyd record, kv or json, as the report needs it
 * SYNOPSIS
 *	#include "record/recparse.h"
 *
 *	enum rec_event recparse_is_record(msg)
 *	int	recparse_record(msg, rec, why)
 *	void	recparse_clear(rec)
 * DESCRIPTION
 *	See recparse.h. kv goes through kv_next(); json through json-c's
 *	tokener, which must consume the whole message: text after the
 *	object means the line was not written by one record writer.
 * DIAGNOSTICS
 *	*why is a static string naming the problem.
 *--*/

/* System library. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Libraries. */
#include <json-c/json.h>

/* Application. */
#include "record/kv.h"
#include "record/recparse.h"

/* The record's field names, in enum rec_field order. */
static const char *const field_names[REC_NFIELDS] = {
    "instance",      "action",      "would",       "reason",      "mode",   "rcpt_domain",
    "sender_domain", "client_addr", "client_name", "tls_version", "cipher", "suspected_tls_failure", "rcpt",
};

/* recparse_is_record - decision or session, kv or json, by the first bytes */
enum rec_event recparse_is_record(const char *msg)
{
    if (strncmp(msg, "event=decision", 14) == 0 && (msg[14] == ' ' || msg[14] == 0))
        return REC_DECISION;
    if (strncmp(msg, "event=session", 13) == 0 && (msg[13] == ' ' || msg[13] == 0))
        return REC_SESSION;
    if (strncmp(msg, "{\"event\":\"decision\"", 19) == 0)
        return REC_DECISION;
    if (strncmp(msg, "{\"event\":\"session\"", 18) == 0)
        return REC_SESSION;
    return REC_NONE;
}

/* KEY_IS - key (of length len) is the literal name */
#define KEY_IS(key, len, name) ((len) == sizeof(name) - 1 && memcmp((key), (name), (len)) == 0)

/*
 * field_index - the rec_field named key (of length len), REC_SEQ for
 * seq, or -1. A record has some 28 keys and we want 14: the length and
 * first byte rule out nearly every name without a string comparison.
 */
static int field_index(const char *key, size_t len)
{
    switch (key[0]) {
    case 'a':
        return KEY_IS(key, len, "action") ? REC_ACTION : -1;
    case 'c':
        if (len != 11)
            return KEY_IS(key, len, "cipher") ? REC_CIPHER : -1;
        return KEY_IS(key, len, "client_addr") ? REC_CLIENT_ADDR
               : KEY_IS(key, len, "client_name") ? REC_CLIENT_NAME
                                                 : -1;
    case 'i':
        return KEY_IS(key, len, "instance") ? REC_INSTANCE : -1;
    case 'm':
        return KEY_IS(key, len, "mode") ? REC_MODE : -1;
    case 'r':
        return KEY_IS(key, len, "reason")        ? REC_REASON
               : KEY_IS(key, len, "rcpt_domain") ? REC_RCPT_DOMAIN
               : KEY_IS(key, len, "rcpt")        ? REC_RCPT
                                                 : -1;
    case 's':
        return KEY_IS(key, len, "seq") ? REC_SEQ
               : KEY_IS(key, len, "sender_domain") ? REC_SENDER_DOMAIN
               : KEY_IS(key, len, "suspected_tls_failure") ? REC_SUSPECTED
                                                           : -1;
    case 't':
        return KEY_IS(key, len, "tls_version") ? REC_TLS_VERSION : -1;
    case 'w':
        return KEY_IS(key, len, "would") ? REC_WOULD : -1;
    default:
        return -1;
    }
}

/* parse_seq - a decimal seq from 1 to 2^64-1 */
static int parse_seq(const char *s, unsigned long long *seq)
{
    char *end;

    if (s == NULL || *s < '1' || *s > '9')
        return -1;
    errno = 0;
    *seq = strtoull(s, &end, 10);
    return errno != 0 || *end != 0 ? -1 : 0;
}

/* check_required - the fields without which a record proves nothing */
static int check_required(const struct rec *r, bool have_seq, const char **why)
{
    if (!have_seq) {
        *why = "missing or bad seq";
        return -1;
    }
    if (r->f[REC_INSTANCE] == NULL) {
        *why = "missing instance";
        return -1;
    }
    if (r->f[REC_TLS_VERSION] == NULL) {
        *why = "missing tls_version";
        return -1;
    }
    if (r->event == REC_DECISION && r->f[REC_ACTION] == NULL) {
        *why = "missing action";
        return -1;
    }
    return 0;
}

/* parse_kv - the fields of a kv record */
static int parse_kv(char *msg, struct rec *r, const char **why)
{
    unsigned seen = 0;
    bool have_seq = false;
    struct kv_field f;
    int rc, i;

    while ((rc = kv_field(&msg, &f, why)) > 0) {
        if ((i = field_index(f.key, f.keylen)) < 0)
            continue;
        /* The writer quotes every '=' and space: a second reason= is forged. */
        if (seen & (1u << i)) {
            *why = i == REC_SEQ ? "repeated field seq" : "repeated field";
            return -1;
        }
        seen |= 1u << i;
        if (i == REC_SEQ)
            have_seq = parse_seq(f.value, &r->seq) == 0;
        else
            r->f[i] = f.value;
    }
    return rc < 0 ? -1 : check_required(r, have_seq, why);
}

/* json_seq - seq as a JSON number (or a string of digits) */
static bool json_seq(struct json_object *v, unsigned long long *seq)
{
    if (json_object_is_type(v, json_type_string))
        return parse_seq(json_object_get_string(v), seq) == 0;
    if (!json_object_is_type(v, json_type_int))
        return false;
    errno = 0;
    *seq = json_object_get_uint64(v);
    /* json-c answers 0 for negative numbers: seq starts at 1 anyway. */
    return errno == 0 && *seq > 0;
}

/* parse_json - the fields of a json record */
static int parse_json(const char *msg, struct rec *r, const char **why)
{
    struct json_tokener *tok;
    struct json_object *v;
    bool have_seq = false;
    size_t len = strlen(msg);
    int i;

    if ((tok = json_tokener_new()) == NULL) {
        *why = "out of memory";
        return -1;
    }
    r->json = json_tokener_parse_ex(tok, msg, (int) (len > 65536 ? 65536 : len));
    i = json_tokener_get_error(tok) == json_tokener_success &&
        (size_t) json_tokener_get_parse_end(tok) == len;
    json_tokener_free(tok);
    if (r->json == NULL || !i || !json_object_is_type(r->json, json_type_object)) {
        *why = "bad json";
        return -1;
    }
    if (json_object_object_get_ex(r->json, "seq", &v))
        have_seq = json_seq(v, &r->seq);
    for (i = 0; i < REC_NFIELDS; i++) {
        if (!json_object_object_get_ex(r->json, field_names[i], &v) || json_object_is_type(v, json_type_null))
            continue;
        if (!json_object_is_type(v, json_type_string)) {
            *why = "json field is not a string";
            return -1;
        }
        r->f[i] = json_object_get_string(v);
    }
    return check_required(r, have_seq, why);
}

/* recparse_record - the report's view of one record */
int recparse_record(char *msg, struct rec *r, const char **why)
{
    memset(r, 0, sizeof(*r));
    if ((r->event = recparse_is_record(msg)) == REC_NONE) {
        *why = "not a record";
        return -1;
    }
    return *msg == '{' ? parse_json(msg, r, why) : parse_kv(msg, r, why);
}

/* recparse_clear - drop the json object, if any */
void recparse_clear(struct rec *r)
{
    if (r->json != NULL)
        json_object_put(r->json);
    r->json = NULL;
}
