/*++
 * NAME
 *	recparse 3
 * SUMMARY
 *	read one tlspolicyd record, kv or json: every field
 * SYNOPSIS
 *	#include "record/recparse.h"
 *
 *	enum rec_event recparse_is_record(msg)
 *	int	recparse_record(msg, rec, why)
 *	void	recparse_clear(rec)
 * DESCRIPTION
 *	See recparse.h. kv goes through kv_field(); json through json-c's
 *	tokener, which must consume the whole message: text after the
 *	object means the line was not written by one record writer.
 *
 *	Names are matched against the field table of fields.h, the one the
 *	writer walks. The writer's order is known, so each key is first
 *	compared with the name of the field that should come next: one
 *	compare a field on every record the writer made. A key out of that
 *	order (a newer writer, a hand-made line) falls back to a search of
 *	the whole table; an unknown key is skipped.
 * DIAGNOSTICS
 *	*why is a static string naming the problem.
 *--*/

/* System library. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Libraries. */
#include <json-c/json.h>

/* Application. */
#include "record/kv.h"
#include "record/recparse.h"

/* The writer's fields fit one bit each in the reader's "seen" mask. */
_Static_assert(REC_NFIELDS <= 64, "one bit per field");

/* recparse_is_record - decision or session, kv or json, by the first bytes */
enum rec_event recparse_is_record(const char *msg)
{
    /* Most lines of a mail log are other programs': one byte rules them out. */
    if (msg[0] == 'e') {
        if (strncmp(msg, "event=decision", 14) == 0 && (msg[14] == ' ' || msg[14] == 0))
            return REC_DECISION;
        if (strncmp(msg, "event=session", 13) == 0 && (msg[13] == ' ' || msg[13] == 0))
            return REC_SESSION;
    } else if (msg[0] == '{') {
        if (strncmp(msg, "{\"event\":\"decision\"", 19) == 0)
            return REC_DECISION;
        if (strncmp(msg, "{\"event\":\"session\"", 18) == 0)
            return REC_SESSION;
    }
    return REC_NONE;
}

/* load8, load4, load2 - unaligned loads of 8, 4, 2 bytes */
static inline uint64_t load8(const char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint32_t load4(const char *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint16_t load2(const char *p)
{
    uint16_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/*
 * A field name as words, to compare a key with in two or three loads
 * instead of a memcmp() call: this runs for each of the ~28 fields of
 * every record, and the report is bound by it. head is the name's
 * first 8 (4, 2) bytes, tail its last, mid bytes 8..15 (names of 17 to
 * 24 bytes); the loads overlap where the length is not a multiple of
 * the word, and never reach past the key. Made once from rec_fields,
 * with the same loads that read keys, so byte order does not matter.
 */
struct key_sig {
    uint64_t head, mid, tail;
    size_t len; /* 0: matches no key (the sentinel after the last field) */
};

#define SIG_MIN 2
#define SIG_MAX 24

/* Every name of the table fits a signature. */
#define REC_SIG_FITS(id, name, events, kind)                                                                 \
    _Static_assert(sizeof(name) - 1 >= SIG_MIN && sizeof(name) - 1 <= SIG_MAX, "key signature of " name);
RECORD_FIELDS(REC_SIG_FITS)
#undef REC_SIG_FITS

static struct key_sig sigs[REC_NFIELDS + 1];

/* The field after each field in each event's order; REC_NFIELDS: none. */
static unsigned char next_field[REC_SESSION + 1][REC_NFIELDS];

/* The last field of each event (reply, duration_ms): a record without
   it was cut short on its way (a syslog daemon's message size). */
static unsigned char last_field[REC_SESSION + 1];

/* sig_of - the signature of name, from a zero-padded copy */
static struct key_sig sig_of(const char *name, size_t len)
{
    char pad[SIG_MAX + 8] = {0};
    struct key_sig k = {0, 0, 0, len};

    memcpy(pad, name, len);
    if (len >= 8) {
        k.head = load8(pad);
        k.mid = load8(pad + 8);
        k.tail = load8(pad + len - 8);
    } else if (len >= 4) {
        k.head = load4(pad);
        k.tail = load4(pad + len - 4);
    } else {
        k.head = load2(pad);
        k.tail = load2(pad + len - 2);
    }
    return k;
}

/* tables_init - the signatures and the order of each event, once (the
   writes are the same on every call: a race between two first callers
   is harmless) */
static void tables_init(void)
{
    int f, e, n;

    for (e = REC_DECISION; e <= REC_SESSION; e++)
        for (f = 0; f < REC_NFIELDS; f++) {
            for (n = f + 1; n < REC_NFIELDS && !rec_field_in((enum rec_field) n, (enum rec_event) e); n++)
                /* void */;
            next_field[e][f] = (unsigned char) n;
            if (rec_field_in((enum rec_field) f, (enum rec_event) e))
                last_field[e] = (unsigned char) f;
        }
    for (f = REC_NFIELDS - 1; f >= 0; f--)
        sigs[f] = sig_of(rec_fields[f].name, rec_fields[f].len);
}

/* key_is - key (of length len) is the name of field f, or f is REC_NFIELDS */
static inline bool key_is(int f, const char *key, size_t len)
{
    const struct key_sig *k = &sigs[f];

    if (len != k->len)
        return false;
    if (len >= 8)
        return load8(key) == k->head && load8(key + len - 8) == k->tail &&
               (len <= 16 || load8(key + 8) == k->mid);
    if (len >= 4)
        return load4(key) == k->head && load4(key + len - 4) == k->tail;
    return load2(key) == k->head && load2(key + len - 2) == k->tail;
}

/* field_find - the field named key in any order, or -1: the slow path */
static int field_find(const char *key, size_t len)
{
    int f;

    for (f = 0; f < REC_NFIELDS; f++)
        if (key_is(f, key, len))
            return f;
    return -1;
}

/*
 * field_index - the field named key, or -1: first the one the writer
 * puts next (*expect), which is every field of every record it wrote,
 * then any other. next is the event's row of next_field. Inline: a
 * call per field would cost as much as the work.
 */
static inline int field_index(const char *key, size_t len, const unsigned char *next, int *expect)
{
    int f = *expect;

    if (!key_is(f, key, len) && (f = field_find(key, len)) < 0)
        return -1;
    *expect = next[f];
    return f;
}

/* parse_seq - a decimal seq from 1 to 2^64-1; by hand, as strtoull()
   showed in the report's profile */
static int parse_seq(const char *s, unsigned long long *seq)
{
    unsigned long long v = 0;
    unsigned d;

    if (s == NULL || *s < '1' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        d = (unsigned) (*s - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (*s != 0)
        return -1;
    *seq = v;
    return 0;
}

/* check_required - the fields without which a record proves nothing;
   seen has a bit for each field read */
static int check_required(struct rec *r, unsigned long long seen, const char **why)
{
    if (parse_seq(r->f[REC_SEQ], &r->seq) != 0) {
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
    /* The writer ends every record with this field: without it the
       record was cut, and a cut value (tls_version=no) must not count. */
    if (!(seen & (1ull << last_field[r->event]))) {
        *why = r->event == REC_DECISION ? "missing reply: record cut short"
                                        : "missing duration_ms: record cut short";
        return -1;
    }
    return 0;
}

/* parse_kv - the fields of a kv record */
static int parse_kv(char *msg, struct rec *r, const char **why)
{
    const unsigned char *next = next_field[r->event];
    unsigned long long seen = 0;
    struct kv_field f;
    int rc, i, expect = REC_EVENT;

    while ((rc = kv_field(&msg, &f, why)) > 0) {
        if ((i = field_index(f.key, f.keylen, next, &expect)) < 0)
            continue;
        /* The writer quotes every '=' and space: a second reason= is forged. */
        if (seen & (1ull << i)) {
            *why = i == REC_SEQ ? "repeated field seq" : "repeated field";
            return -1;
        }
        seen |= 1ull << i;
        r->f[i] = f.value;
    }
    return rc < 0 ? -1 : check_required(r, seen, why);
}

/* num_text - the decimal text of a json integer, kept in r; NULL when full */
static const char *num_text(struct rec *r, struct json_object *v)
{
    char tmp[REC_NUM_TEXT], *p = tmp + sizeof(tmp), *out;
    int64_t s = json_object_get_int64(v);
    /* json-c answers INT64_MAX for anything larger: ask again, unsigned. */
    uint64_t u = s == INT64_MAX ? json_object_get_uint64(v) : s < 0 ? 0 - (uint64_t) s : (uint64_t) s;

    if (r->nnum >= REC_NNUM)
        return NULL;
    *--p = 0;
    do
        *--p = (char) ('0' + u % 10);
    while ((u /= 10) != 0);
    if (s < 0)
        *--p = '-';
    out = r->num[r->nnum++];
    memcpy(out, p, (size_t) (tmp + sizeof(tmp) - p));
    return out;
}

/* json_value - one json field into r; -1 with *why for a wrong type */
static int json_value(struct rec *r, int i, struct json_object *v, const char **why)
{
    if (v == NULL || json_object_is_type(v, json_type_null))
        return 0;
    if (json_object_is_type(v, json_type_string))
        r->f[i] = json_object_get_string(v);
    else if (rec_fields[i].kind == REC_NUM && json_object_is_type(v, json_type_int))
        r->f[i] = num_text(r, v);
    if (r->f[i] == NULL) {
        *why = rec_fields[i].kind == REC_NUM ? "json field is not a number" : "json field is not a string";
        return -1;
    }
    return 0;
}

/* json_members - the members of the object msg, counted in its text
   (which the tokener found valid): commas outside strings, one level
   deep */
static size_t json_members(const char *msg)
{
    size_t commas = 0;
    int depth = 0;
    bool str = false, empty = true;

    for (; *msg; msg++) {
        if (str) {
            if (*msg == '\\' && msg[1] != 0)
                msg++;
            else if (*msg == '"')
                str = false;
            continue;
        }
        if (*msg == '"') {
            str = true;
            empty = empty && depth != 1;
        } else if (*msg == '{' || *msg == '[') {
            depth++;
        } else if (*msg == '}' || *msg == ']') {
            depth--;
        } else if (*msg == ',' && depth == 1) {
            commas++;
        }
    }
    return empty ? 0 : commas + 1;
}

/* parse_json - the fields of a json record */
static int parse_json(const char *msg, struct rec *r, const char **why)
{
    struct json_tokener *tok;
    const unsigned char *next = next_field[r->event];
    unsigned long long seen = 0;
    size_t len = strlen(msg);
    int i, expect = REC_EVENT;
    bool whole;

    if ((tok = json_tokener_new()) == NULL) {
        *why = "out of memory";
        return -1;
    }
    r->json = json_tokener_parse_ex(tok, msg, (int) (len > 65536 ? 65536 : len));
    whole = json_tokener_get_error(tok) == json_tokener_success &&
            (size_t) json_tokener_get_parse_end(tok) == len;
    json_tokener_free(tok);
    if (r->json == NULL || !whole || !json_object_is_type(r->json, json_type_object)) {
        *why = "bad json";
        return -1;
    }
    /* json-c keeps one value per key, the last: a key given twice shows
       as one member less than the text has. Only a forger writes one. */
    if ((size_t) json_object_object_length(r->json) != json_members(msg)) {
        *why = "repeated json key";
        return -1;
    }
    json_object_object_foreach(r->json, key, v)
    {
        if ((i = field_index(key, strlen(key), next, &expect)) < 0)
            continue;
        seen |= 1ull << i;
        if (json_value(r, i, v, why) != 0)
            return -1;
    }
    return check_required(r, seen, why);
}

/* recparse_record - every field of one record */
int recparse_record(char *msg, struct rec *r, const char **why)
{
    /* Not all of *r: each number text is written before it is read. */
    if (sigs[REC_EVENT].len == 0) /* written last by tables_init() */
        tables_init();
    memset(r->f, 0, sizeof(r->f));
    r->seq = 0;
    r->json = NULL;
    r->nnum = 0;
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
