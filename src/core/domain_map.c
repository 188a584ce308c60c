/*++
 * NAME
 *	domain_map 3
 * SUMMARY
 *	domain name -> policy lookup (exact and suffix rules, IDN)
 * SYNOPSIS
 *	#include "core/domain_map.h"
 *
 *	int	domain_normalize(in, out, err)
 *
 *	struct domain_map *domain_map_new()
 *	int	domain_map_add(map, rule, idx, err)
 *	int	domain_map_add_file(map, path, idx, errs)
 *	size_t	domain_map_size(map)
 *	void	domain_map_lookup(map, domain, fn, arg)
 *	void	domain_map_free(map)
 * DESCRIPTION
 *	domain_normalize() gives the one form under which a domain is stored
 *	and looked up: lower case, no trailing dot, A-labels. ASCII names
 *	(including A-label input) are only lower-cased and checked; names with
 *	UTF-8 go through libidn2 (IDNA2008, TR46 non-transitional).
 *
 *	A map holds rules "x" (exactly x) and ".x" (every subdomain of x),
 *	each for one or more policy indices. domain_map_lookup() reports
 *	every index whose rule matches; it never modifies the map.
 * DIAGNOSTICS
 *	Messages name the offending domain, e.g. invalid domain "a..b": empty
 *	label. domain_map_add_file() adds the file name and line number.
 *--*/

/*
 * The table. Rules are stored under their own text: an exact rule under
 * "example.org", a suffix rule under ".example.org" with its dot. So the
 * kind of a rule is part of its key, and the keys a lookup of a.b.example.org
 * needs are the tails of the name itself, starting at each dot:
 * "a.b.example.org" (exact), ".b.example.org", ".example.org", ".org"
 * (suffix). The hash is computed from the right end of the name, so one
 * pass from right to left yields the hash of every tail: a lookup costs one
 * probe per label, whatever the number of rules, and copies nothing.
 *
 * Memory layout, chosen so that a million rules fit in some tens of MB:
 *
 *  arena:   "example.org\0.example.org\0xn--bcher-kva.example\0..."
 *           every distinct key once, NUL-terminated; referenced by 32-bit
 *           offsets, so that growing the arena (realloc) moves nothing else.
 *  entries: {hash, key offset, policy, next}, 16 bytes each. One entry per
 *           distinct (key, policy) pair. Entries of the same key form a
 *           chain through "next" (an entry index, NIL at the end); the key
 *           text is shared.
 *  slots:   open addressing, linear probing: a power-of-two array of 32-bit
 *           entry indices, NIL when free. A used slot holds the first entry
 *           of one distinct key. A key lives at its home slot (hash & mask)
 *           or, after collisions, in the next slots up, wrapping around; a
 *           search stops at the first free slot. Nothing is ever removed, so
 *           no tombstones are needed.
 *
 * Invariants: at most 70% of the slots are used, which keeps probe runs
 * short and guarantees a free slot to stop at; when an insert would pass
 * that, the slot array doubles and every key is re-placed from its stored
 * hash (the arena and entries do not move). The 32-bit hash is stored to
 * compare keys cheaply and to avoid rehashing text when growing.
 *
 * Rules come from the administrator, never from the network, so the hash
 * needs no secret seed: a sender can choose names to look up but cannot
 * choose what collides in the table.
 */

/* System library. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Utility library. */
#include <idn2.h>

/* Application. */
#include "core/domain_map.h"
#include "util/hash.h"

#define NIL               UINT32_MAX
#define FIRST_SLOTS       64
#define LABEL_MAX         63
#define INPUT_MAX         1024 /* bytes of UTF-8 input we are willing to convert */
#define SHOW_MAX          120  /* bytes of a bad name quoted in a message */
#define IDN2_FLAGS        (IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT)
#define IS_ASCII_UPPER(c) ((c) >= 'A' && (c) <= 'Z')
#define IS_NAME_CHAR(c)   (((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') || (c) == '-' || (c) == '_')

enum add_status { ADD_OK = 0, ADD_BAD = -1, ADD_NOMEM = -2 };

struct entry {
    uint32_t hash;
    uint32_t key;    /* offset of the key text in the arena */
    uint32_t policy; /* the caller's policy index */
    uint32_t next;   /* next entry with the same key, or NIL */
};

struct domain_map {
    uint32_t *slots; /* entry index of a key's first entry, or NIL */
    size_t mask;     /* number of slots - 1 */
    size_t nkeys;    /* used slots */
    struct entry *entries;
    size_t nentries;
    size_t entries_cap;
    char *arena;
    size_t arena_len;
    size_t arena_cap;
};

/* show - a name as it may appear in a message: printable ASCII only */
static const char *show(const char *in, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    unsigned char c;

    /* A domain file may hold anything; escaping keeps a message one line
       and free of terminal control sequences. */
    for (; (c = (unsigned char) *in) != 0 && n + 8 < size; in++) {
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            buf[n++] = (char) c;
        } else {
            buf[n++] = '\\';
            buf[n++] = 'x';
            buf[n++] = hex[c >> 4];
            buf[n++] = hex[c & 15];
        }
    }
    if (*in) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = 0;
    return buf;
}

/* invalid - report a bad domain name */
static int invalid(struct tp_error *err, const char *name, const char *why)
{
    char buf[SHOW_MAX + 8];

    tp_error_set(err, NULL, 0, "invalid domain \"%s\": %s", show(name, buf, sizeof(buf)), why);
    return -1;
}

/* is_ascii - true when no byte needs IDN conversion */
static int is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s >= 0x80)
            return 0;
    return 1;
}

/* ascii_lower - lower-case in place; not tolower(), which follows the locale */
static void ascii_lower(char *s)
{
    for (; *s; s++)
        if (IS_ASCII_UPPER(*s))
            *s = (char) (*s - 'A' + 'a');
}

/* idn_by_label - convert each label on its own: ASCII ones as they are */
static int idn_by_label(const char *in, char *out, size_t size)
{
    char label[INPUT_MAX + 1];
    const char *dot;
    char *alabel;
    size_t len, n = 0;
    int rc;

    for (;;) {
        len = (dot = strchr(in, '.')) ? (size_t) (dot - in) : strlen(in);
        memcpy(label, in, len);
        label[len] = 0;
        if (is_ascii(label)) {
            alabel = strdup(label);
        } else if ((rc = idn2_to_ascii_8z(label, &alabel, IDN2_FLAGS)) != IDN2_OK) {
            return rc;
        }
        if (alabel == NULL)
            return IDN2_MALLOC;
        len = strlen(alabel);
        if (n + len + 2 > size) {
            idn2_free(alabel);
            return IDN2_TOO_BIG_DOMAIN;
        }
        memcpy(out + n, alabel, len);
        n += len;
        idn2_free(alabel);
        if (dot == NULL)
            break;
        out[n++] = '.';
        in = dot + 1;
    }
    out[n] = 0;
    return IDN2_OK;
}

/* idn_convert - U-labels to A-labels, in a buffer of size bytes */
static int idn_convert(const char *in, char *out, size_t size)
{
    char *alabels;
    int rc;

    /*
     * IDNA2008 also judges the ASCII labels: it refuses "ab--c" (hyphens
     * in positions 3-4) or a label starting with '-', which the DNS and
     * our ASCII path accept. Falling back to converting only the non-ASCII
     * labels is safe: each still passes libidn2 on its own, and the result
     * is an A-label name a sender could write directly anyway.
     */
    if ((rc = idn2_to_ascii_8z(in, &alabels, IDN2_FLAGS)) != IDN2_OK)
        return idn_by_label(in, out, size);
    if (strlen(alabels) >= size) {
        idn2_free(alabels);
        return IDN2_TOO_BIG_DOMAIN;
    }
    strcpy(out, alabels);
    idn2_free(alabels);
    return IDN2_OK;
}

/* check_labels - the syntax every stored or looked-up name has */
static int check_labels(const char *name, const char *shown, struct tp_error *err)
{
    const char *p, *start = name;
    char what[40];

    for (p = name;; p++) {
        if (*p == '.' || *p == 0) {
            if (p == start)
                return invalid(err, shown, "empty label");
            if (p - start > LABEL_MAX)
                return invalid(err, shown, "label longer than 63 octets");
            if (*p == 0)
                break;
            start = p + 1;
        } else if (!IS_NAME_CHAR(*p)) {
            char one[2] = {*p, 0}, buf[16];

            snprintf(what, sizeof(what), "invalid character \"%s\"", show(one, buf, sizeof(buf)));
            return invalid(err, shown, what);
        }
    }
    if (p - name > DOMAIN_MAX)
        return invalid(err, shown, "name longer than 253 octets");
    return 0;
}

/* normalize - domain_normalize, naming shown (the rule as written) in messages */
static int normalize(const char *in, const char *shown, char *out, struct tp_error *err)
{
    char buf[INPUT_MAX + 1], conv[INPUT_MAX + 1];
    size_t len = strlen(in);
    int stripped, rc;

    if (len > INPUT_MAX)
        return invalid(err, shown, "name longer than 253 octets");
    memcpy(buf, in, len + 1);
    /* "example.org." is the same domain, written fully qualified. */
    if ((stripped = (len > 0 && buf[len - 1] == '.')) != 0)
        buf[--len] = 0;
    if (len == 0)
        return invalid(err, shown, "empty name");
    if (is_ascii(buf)) {
        memcpy(conv, buf, len + 1);
    } else if ((rc = idn_convert(buf, conv, sizeof(conv))) != IDN2_OK) {
        return invalid(err, shown, rc == IDN2_MALLOC ? "out of memory" : idn2_strerror(rc));
    } else if (!stripped && (len = strlen(conv)) > 0 && conv[len - 1] == '.') {
        /* TR46 maps the ideographic full stop to '.': a trailing dot too. */
        conv[len - 1] = 0;
    }
    /* libidn2 output is lower case already, but not the ASCII labels it
       leaves alone in idn_by_label(). */
    ascii_lower(conv);
    if (check_labels(conv, shown, err) < 0)
        return -1;
    strcpy(out, conv);
    return 0;
}

/* domain_normalize - canonical A-label form of a domain name */
int domain_normalize(const char *in, char *out, struct tp_error *err)
{
    if (in == NULL)
        return invalid(err, "", "empty name");
    return normalize(in, in, out, err);
}

/* FNV-1a fed right to left (util/hash.h), so a lookup can extend the hash
   label by label from the top-level domain down. */
#define hash_step  hash_step32
#define hash_final hash_mix32
#define HASH_INIT  HASH32_INIT

/* hash_key - the hash of a whole key, as a lookup computes it */
static uint32_t hash_key(const char *key, size_t len)
{
    uint32_t h = HASH_INIT;

    while (len > 0)
        h = hash_step(h, (unsigned char) key[--len]);
    return hash_final(h);
}

/* find_slot - the slot holding key, or the free slot where it belongs */
static size_t find_slot(const struct domain_map *map, const char *key, uint32_t hash)
{
    size_t i;
    const struct entry *e;

    for (i = hash & map->mask; map->slots[i] != NIL; i = (i + 1) & map->mask) {
        e = map->entries + map->slots[i];
        if (e->hash == hash && strcmp(map->arena + e->key, key) == 0)
            break;
    }
    return i;
}

/* new_slots - a slot array of n free slots */
static uint32_t *new_slots(size_t n)
{
    uint32_t *slots;

    if ((slots = malloc(n * sizeof(*slots))) != NULL)
        memset(slots, 0xff, n * sizeof(*slots)); /* every slot NIL */
    return slots;
}

/* grow_slots - double the slot array and re-place every key */
static int grow_slots(struct domain_map *map)
{
    size_t old_n = map->mask + 1, i, j;
    uint32_t *old = map->slots, *slots;

    /* Entry indices are 32-bit; so is everything the slots refer to. */
    if (old_n > (size_t) UINT32_MAX / 2 || (slots = new_slots(old_n * 2)) == NULL)
        return ADD_NOMEM;
    map->slots = slots;
    map->mask = old_n * 2 - 1;
    /* Keys are distinct: each one goes to the first free slot from home. */
    for (i = 0; i < old_n; i++) {
        if (old[i] == NIL)
            continue;
        for (j = map->entries[old[i]].hash & map->mask; slots[j] != NIL; j = (j + 1) & map->mask)
            ;
        slots[j] = old[i];
    }
    free(old);
    return ADD_OK;
}

/* reserve - room for n more bytes, doubling */
static int reserve(void **p, size_t *cap, size_t used, size_t n, size_t elem, size_t first)
{
    size_t want = *cap ? *cap : first;
    void *q;

    while (want < used + n)
        want *= 2;
    if (want == *cap)
        return ADD_OK;
    if (want > UINT32_MAX || want > SIZE_MAX / elem || (q = realloc(*p, want * elem)) == NULL)
        return ADD_NOMEM;
    *p = q;
    *cap = want;
    return ADD_OK;
}

/* new_entry - append an entry; its key text is already in the arena */
static int new_entry(struct domain_map *map, uint32_t hash, uint32_t key, unsigned idx, uint32_t next)
{
    struct entry *e;

    if (reserve((void **) &map->entries, &map->entries_cap, map->nentries, 1, sizeof(*e), 64) != ADD_OK)
        return ADD_NOMEM;
    e = map->entries + map->nentries++;
    e->hash = hash;
    e->key = key;
    e->policy = idx;
    e->next = next;
    return ADD_OK;
}

/* new_key - store a key not yet in the table, with its first entry */
static int new_key(struct domain_map *map, const char *key, uint32_t hash, unsigned idx)
{
    size_t len = strlen(key) + 1, slot;
    uint32_t off = (uint32_t) map->arena_len;

    /* Stay at or under 70% load, so that probe runs stay short. */
    if ((map->nkeys + 1) * 10 > (map->mask + 1) * 7 && grow_slots(map) != ADD_OK)
        return ADD_NOMEM;
    if (reserve((void **) &map->arena, &map->arena_cap, map->arena_len, len, 1, 4096) != ADD_OK)
        return ADD_NOMEM;
    if (new_entry(map, hash, off, idx, NIL) != ADD_OK)
        return ADD_NOMEM;
    memcpy(map->arena + off, key, len);
    map->arena_len += len;
    slot = find_slot(map, key, hash);
    map->slots[slot] = (uint32_t) (map->nentries - 1);
    map->nkeys++;
    return ADD_OK;
}

/* add_key - store (key, idx) unless already there */
static int add_key(struct domain_map *map, const char *key, unsigned idx)
{
    uint32_t hash = hash_key(key, strlen(key)), i;
    struct entry *head;
    size_t slot = find_slot(map, key, hash);

    if (map->slots[slot] == NIL)
        return new_key(map, key, hash, idx);
    head = map->entries + map->slots[slot];
    for (i = map->slots[slot]; i != NIL; i = map->entries[i].next)
        if (map->entries[i].policy == idx)
            return ADD_OK;
    /* Chain the new entry second, so the slot keeps pointing at the head. */
    if (new_entry(map, hash, head->key, idx, head->next) != ADD_OK)
        return ADD_NOMEM;
    map->entries[map->slots[slot]].next = (uint32_t) (map->nentries - 1);
    return ADD_OK;
}

/* add_rule - domain_map_add, telling a bad rule from a lack of memory */
static int add_rule(struct domain_map *map, const char *rule, unsigned idx, struct tp_error *err)
{
    char key[DOMAIN_MAX + 2];
    int suffix = rule[0] == '.';

    /* "*.example.org" is what many other tools call a subdomain rule. */
    if (rule[0] == '*' && rule[1] == '.') {
        char what[DOMAIN_MAX + 40];

        snprintf(what, sizeof(what), "write \"%.*s\" for every subdomain", DOMAIN_MAX, rule + 1);
        return invalid(err, rule, what);
    }
    key[0] = '.';
    if (normalize(rule + suffix, rule, key + 1, err) < 0)
        return ADD_BAD;
    if (add_key(map, suffix ? key : key + 1, idx) != ADD_OK) {
        tp_error_set(err, NULL, 0, "out of memory (or over 4 GB) adding domain rules");
        return ADD_NOMEM;
    }
    return ADD_OK;
}

/* domain_map_new - empty map */
struct domain_map *domain_map_new(void)
{
    struct domain_map *map;

    if ((map = calloc(1, sizeof(*map))) == NULL)
        return NULL;
    if ((map->slots = new_slots(FIRST_SLOTS)) == NULL) {
        free(map);
        return NULL;
    }
    map->mask = FIRST_SLOTS - 1;
    return map;
}

/* domain_map_add - add one rule for policy idx */
int domain_map_add(struct domain_map *map, const char *rule, unsigned idx, struct tp_error *err)
{
    if (rule == NULL)
        return invalid(err, "", "empty name");
    return add_rule(map, rule, idx, err) == ADD_OK ? 0 : -1;
}

/* add_line - one line of a domain file */
static int add_line(struct domain_map *map, char *line, size_t n, unsigned idx, struct tp_error *err)
{
    char *p, *end;

    /* A NUL would silently cut the line short: say so instead. */
    if (strlen(line) != n) {
        tp_error_set(err, NULL, 0, "line contains a NUL byte");
        return ADD_BAD;
    }
    if ((p = strchr(line, '#')) != NULL)
        *p = 0;
    /* Trailing \r: files edited on Windows. */
    for (p = line; *p == ' ' || *p == '\t'; p++)
        ;
    for (end = p + strlen(p); end > p && strchr(" \t\r\n\v\f", end[-1]) != NULL; end--)
        ;
    *end = 0;
    return *p ? add_rule(map, p, idx, err) : ADD_OK;
}

/* domain_map_add_file - add every rule of a domain file for idx */
int domain_map_add_file(struct domain_map *map, const char *path, unsigned idx, struct tp_errlist *errs)
{
    struct tp_error err;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, nerr = 0, rc = ADD_OK;
    FILE *fp;

    if ((fp = fopen(path, "r")) == NULL) {
        tp_errlist_add(errs, path, 0, "cannot read domain file: %s", strerror(errno));
        return 1;
    }
    while (rc != ADD_NOMEM && (n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if ((rc = add_line(map, line, (size_t) n, idx, &err)) != ADD_OK) {
            tp_errlist_add(errs, path, lineno, "%s", err.msg);
            nerr++;
        }
    }
    /* getline() also fails on a directory (EISDIR) or an I/O error. */
    if (rc != ADD_NOMEM && !feof(fp)) {
        tp_errlist_add(errs, path, 0, "cannot read domain file: %s", strerror(errno));
        nerr++;
    }
    free(line);
    fclose(fp);
    return nerr;
}

/* domain_map_size - distinct (rule, idx) pairs */
size_t domain_map_size(const struct domain_map *map)
{
    return map->nentries;
}

/* report - call fn for every policy stored under one key */
static void report(const struct domain_map *map, const char *key, uint32_t hash, void (*fn)(unsigned, void *),
                   void *arg)
{
    size_t slot = find_slot(map, key, hash);
    uint32_t i;

    for (i = map->slots[slot]; i != NIL; i = map->entries[i].next)
        fn(map->entries[i].policy, arg);
}

/* report_tails - fn for every ".parent" rule of name, and name itself if exact */
static void report_tails(const struct domain_map *map, const char *name, bool exact,
                         void (*fn)(unsigned idx, void *arg), void *arg)
{
    size_t i = strlen(name);
    uint32_t h = HASH_INIT;

    /* Right to left: at each dot, h covers the tail ".parent". */
    while (i-- > 0) {
        h = hash_step(h, (unsigned char) name[i]);
        if (name[i] == '.')
            report(map, name + i, hash_final(h), fn, arg);
    }
    if (exact)
        report(map, name, hash_final(h), fn, arg);
}

/* domain_map_lookup - every policy whose rule matches a normalised domain */
void domain_map_lookup(const struct domain_map *map, const char *domain, void (*fn)(unsigned idx, void *arg),
                       void *arg)
{
    /* Not normalised: a leading dot would find ".x" rules as exact ones. */
    if (domain[0] == 0 || domain[0] == '.')
        return;
    report_tails(map, domain, true, fn, arg);
}

/* domain_map_lookup_rule - every policy whose rules cover all a stored rule covers */
void domain_map_lookup_rule(const struct domain_map *map, const char *rule,
                            void (*fn)(unsigned idx, void *arg), void *arg)
{
    /* ".x" is covered by ".x" and ".parent" rules, not by the exact rule "x". */
    if (rule[0] == '.')
        report_tails(map, rule, false, fn, arg);
    else
        domain_map_lookup(map, rule, fn, arg);
}

/* domain_map_walk - every stored (rule, idx) pair, in the order added */
void domain_map_walk(const struct domain_map *map, void (*fn)(const char *rule, unsigned idx, void *arg),
                     void *arg)
{
    size_t i;

    for (i = 0; i < map->nentries; i++)
        fn(map->arena + map->entries[i].key, map->entries[i].policy, arg);
}

/* domain_map_free - release the map and everything in it */
void domain_map_free(struct domain_map *map)
{
    if (map == NULL)
        return;
    free(map->slots);
    free(map->entries);
    free(map->arena);
    free(map);
}
