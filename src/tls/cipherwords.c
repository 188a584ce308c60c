/*++
 * NAME
 *	cipherwords 3
 * SUMMARY
 *	the words OpenSSL knows in cipher and ciphersuites strings
 * SYNOPSIS
 *	#include "tls/cipherwords.h"
 *
 *	int	cipherwords_check_ciphers(str, err)
 *	int	cipherwords_check_ciphersuites(str, err)
 * DESCRIPTION
 *	OpenSSL skips, without an error, any word of a cipher string that it
 *	does not know, and SSL_CTX_set_ciphersuites() skips unknown names
 *	as long as one is known. "HIGH:!aNULL:!kRAS" therefore loads and
 *	keeps static-RSA suites. We read the string the way OpenSSL 3.0
 *	(ssl/ssl_ciph.c) reads it and insist that it knows every word.
 *
 *	Cipher strings: items are separated by ':', ' ', ';' or ','. An
 *	item has an optional prefix ('!' and '-' remove, '+' moves to the
 *	end, '@' is a directive) and one or more words joined by '+'
 *	("ECDHE+AESGCM"). Every word of a non-directive item must be known;
 *	matching is case-sensitive, as in OpenSSL. A directive (@STRENGTH, @SECLEVEL=n)
 *	was already checked by OpenSSL; only text OpenSSL would skip after
 *	it is refused here. Two words depend on their position, as in
 *	OpenSSL: "DEFAULT" counts only at the very start of the string, and
 *	a Suite B keyword (SUITEB128, SUITEB128ONLY, SUITEB128C2, SUITEB192)
 *	replaces the whole string, so it must stand alone.
 *
 *	Known words are OpenSSL's aliases (a fixed list, below), the
 *	OpenSSL names of every TLS <= 1.2 suite compiled into libssl (also
 *	those the providers or security level make unavailable, so that
 *	"!SEED-SHA" is a valid, if idle, exclusion) and the TLS 1.3 suite
 *	names, which OpenSSL skips in a cipher string but which cannot
 *	widen it. An IANA name ("TLS_ECDHE_RSA_WITH_...") is not read by
 *	OpenSSL in a cipher string and is refused with the OpenSSL name to
 *	use instead. The suites and both their names are the suite
 *	catalogue's (suites(3)), restricted to libssl's own suites.
 *
 *	Ciphersuites strings: items separated by ':', blanks around an
 *	item ignored, each item one of the TLS 1.3 suite names.
 *
 *	Nothing is built here: the aliases are two short static lists, the
 *	suites a lookup in the catalogue, which is built once per process
 *	and only read afterwards, so any thread may check strings.
 * DIAGNOSTICS
 *	The check functions fill err->msg (file and line empty; the
 *	configuration reader adds them). The message names the offending
 *	word and quotes the whole string.
 *--*/

/* System library. */
#include <stdbool.h>
#include <string.h>

/* Application. */
#include "tls/cipherwords.h"
#include "tls/suites.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* OpenSSL's item separators and word characters (ASCII, not locale). */
#define ITEM_SEP(c) ((c) == ':' || (c) == ' ' || (c) == ';' || (c) == ',')
#define WORD_CHAR(c)                                                                                         \
    (((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') || (c) == '-' || \
     (c) == '.' || (c) == '=')

/* Blanks that OpenSSL drops around a ciphersuites item. */
#define IS_BLANK(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n' || (c) == '\v' || (c) == '\f')

/* An item that removes suites: only there may an obsolete alias appear. */
#define NEGATING(prefix) ((prefix) == '!' || (prefix) == '-')

enum word_kind {
    WORD_ALIAS,  /* an alias OpenSSL knows */
    WORD_SUITE,  /* OpenSSL name of a TLS <= 1.2 suite */
    WORD_TLS13,  /* a TLS 1.3 suite name */
    WORD_IANA,   /* IANA name of a TLS <= 1.2 suite: OpenSSL does not read it */
    WORD_LEGACY, /* an alias OpenSSL dropped: accepted in an exclusion only */
};

/* What a word is. */
struct word {
    const char *ossl; /* WORD_IANA: the OpenSSL name to suggest */
    enum word_kind kind;
};

/*
 * The aliases of OpenSSL 3.0: the names of cipher_aliases[] in
 * ssl/ssl_ciph.c, as listed in ciphers(1). DEFAULT and the Suite B
 * keywords are not in that table; they are handled by position.
 */
/* clang-format off */
static const char *const aliases[] = {
    "ALL", "COMPLEMENTOFALL", "COMPLEMENTOFDEFAULT",
    /* Key exchange. */
    "kRSA", "kEDH", "kDHE", "DH", "kEECDH", "kECDHE", "ECDH", "kPSK", "kRSAPSK", "kECDHEPSK", "kDHEPSK",
    "kSRP", "kGOST", "kGOST18",
    /* Authentication. */
    "aRSA", "aDSS", "DSS", "aNULL", "aECDSA", "ECDSA", "aPSK", "aGOST01", "aGOST12", "aGOST", "aSRP",
    /* Key exchange and authentication. */
    "EDH", "DHE", "EECDH", "ECDHE", "NULL", "RSA", "ADH", "AECDH", "PSK", "SRP",
    /* Encryption. */
    "3DES", "RC4", "RC2", "IDEA", "SEED", "eNULL", "GOST89", "AES128", "AES256", "AES", "AESGCM", "AESCCM",
    "AESCCM8", "CAMELLIA128", "CAMELLIA256", "CAMELLIA", "CHACHA20", "ARIA", "ARIAGCM", "ARIA128", "ARIA256",
    "CBC",
    /* MAC. */
    "MD5", "SHA1", "SHA", "GOST94", "GOST89MAC", "SHA256", "SHA384", "GOST12",
    /* Protocol version, strength, FIPS. */
    "SSLv3", "TLSv1", "TLSv1.0", "TLSv1.2", "LOW", "MEDIUM", "HIGH", "FIPS",
    /* Old "EDH-" spellings of two "DHE-" suites. */
    "EDH-DSS-DES-CBC3-SHA", "EDH-RSA-DES-CBC3-SHA",
};
/* clang-format on */

/*
 * Obsolete aliases: OpenSSL no longer knows them and skips them, because
 * the suites they named (export, single DES, SSLv2, static DH and ECDH,
 * Kerberos, Fortezza) are gone. Hardened strings from old guides exclude
 * them ("!EXPORT:!DES"), which removes nothing and harms nothing, so they
 * are accepted after '!' or '-'. Anywhere else the administrator expects
 * them to select or reorder suites, which they do not: an error.
 */
static const char *const legacy[] = {
    "EXPORT",  "EXP",   "EXPORT40", "EXPORT56", "EXPORT1024", "SSLv2",  "TLSv1.1", "DES",
    "kDH",     "kDHr",  "kDHd",     "aDH",      "kECDH",      "kECDHr", "kECDHe",  "aECDH",
    "aGOST94", "kKRB5", "aKRB5",    "KRB5",     "kFZA",       "aFZA",   "eFZA",    "FZA",
};

/* Suite B keywords, longest first: OpenSSL compares them as prefixes. */
static const char *const suiteb[] = {"SUITEB128ONLY", "SUITEB128C2", "SUITEB128", "SUITEB192"};

/* in_list - is the NUL-terminated word one of a list's */
static bool in_list(const char *word, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(word, list[i]) == 0)
            return true;
    return false;
}

/*
 * word_find - what a word of len bytes is; false when OpenSSL does not
 * know it. Suite names come from the suite catalogue (suites(3)), but
 * only those in libssl's own tables: a row the catalogue adds for a
 * suite this libssl lacks (RC4-SHA on OpenSSL 3) is a word OpenSSL
 * skips, so it is refused like any other.
 */
static bool word_find(const char *w, size_t len, struct word *out)
{
    const struct tls_suite *st;
    char buf[128];

    if (len >= sizeof(buf))
        return false;
    memcpy(buf, w, len);
    buf[len] = 0;
    out->ossl = NULL;
    out->kind = in_list(buf, aliases, NELEM(aliases)) ? WORD_ALIAS : WORD_LEGACY;
    if (out->kind == WORD_ALIAS || in_list(buf, legacy, NELEM(legacy)))
        return true;
    if ((st = suites_find(buf)) == NULL || !st->libssl)
        return false;
    if (strcmp(buf, st->name) == 0) {
        out->kind = st->version == TLS_V_TLS13 ? WORD_TLS13 : WORD_SUITE;
        return true;
    }
    if (st->iana == NULL || strcmp(buf, st->iana) != 0)
        return false; /* an older spelling OpenSSL does not read */
    out->kind = WORD_IANA;
    out->ossl = st->name;
    return true;
}

/* check_word - one word of a cipher-string item */
static int check_word(const char *str, const char *w, size_t len, bool negating, struct tp_error *err)
{
    struct word found;
    const struct word *v = word_find(w, len, &found) ? &found : NULL;
    int n = (int) len;

    if (v != NULL && v->kind != WORD_IANA && (v->kind != WORD_LEGACY || negating))
        return 0;
    if (v != NULL && v->kind == WORD_IANA)
        tp_error_set(err, NULL, 0,
                     "IANA cipher name \"%.*s\" in cipher string \"%s\": OpenSSL does not read it there, "
                     "use \"%s\"",
                     n, w, str, v->ossl);
    else if (v != NULL)
        tp_error_set(err, NULL, 0,
                     "obsolete cipher alias \"%.*s\" in cipher string \"%s\" selects nothing; "
                     "it is accepted only as an exclusion (\"!%.*s\")",
                     n, w, str, n, w);
    else if (len == 7 && strncmp(w, "DEFAULT", 7) == 0)
        tp_error_set(err, NULL, 0,
                     "\"DEFAULT\" must begin cipher string \"%s\"; OpenSSL ignores it elsewhere", str);
    else
        tp_error_set(err, NULL, 0, "unknown cipher or alias \"%.*s\" in cipher string \"%s\"", n, w, str);
    return -1;
}

/*
 * word_end - the end of the word that starts at p.
 *
 * A directive is one OpenSSL word (letters, digits, '-', '.', '='). Any
 * other word runs to '+' or a separator: OpenSSL skips everything up to
 * the next separator after a word it does not know, and an IANA name
 * ("TLS_RSA_WITH_...") should be quoted whole, not as "TLS".
 */
static const char *word_end(const char *p, bool directive)
{
    if (directive) {
        while (WORD_CHAR(*p))
            p++;
    } else {
        while (*p != 0 && *p != '+' && !ITEM_SEP(*p))
            p++;
    }
    return p;
}

/* check_item - one item (prefix, words joined by '+'); the end of it, or NULL */
static const char *check_item(const char *str, const char *p, struct tp_error *err)
{
    char prefix = 0;
    const char *w;

    if (*p == '!' || *p == '-' || *p == '+' || *p == '@')
        prefix = *p++;
    for (;;) {
        w = p;
        p = word_end(w, prefix == '@');
        if (p == w) {
            /* OpenSSL refuses such strings before we are asked. */
            tp_error_set(err, NULL, 0, "malformed cipher string \"%s\"", str);
            return NULL;
        }
        if (prefix == '@')
            break;
        if (check_word(str, w, (size_t) (p - w), NEGATING(prefix), err) < 0)
            return NULL;
        if (*p != '+')
            return p;
        p++;
    }
    /* A directive: OpenSSL checked its word and skips what follows ("@STRENGTH+X"). */
    if (*p != 0 && !ITEM_SEP(*p)) {
        tp_error_set(err, NULL, 0, "unexpected text after \"@%.*s\" in cipher string \"%s\"", (int) (p - w),
                     w, str);
        return NULL;
    }
    return p;
}

/* check_suiteb - 1: a valid Suite B string, 0: not Suite B, -1: error */
static int check_suiteb(const char *str, struct tp_error *err)
{
    size_t i;

    for (i = 0; i < NELEM(suiteb); i++) {
        if (strncmp(str, suiteb[i], strlen(suiteb[i])) != 0)
            continue;
        if (strcmp(str, suiteb[i]) == 0)
            return 1;
        tp_error_set(err, NULL, 0, "\"%s\" must be the whole cipher string \"%s\"; OpenSSL ignores the rest",
                     suiteb[i], str);
        return -1;
    }
    return 0;
}

/* cipherwords_check_ciphers - every word of a cipher string is known */
int cipherwords_check_ciphers(const char *str, struct tp_error *err)
{
    const char *p = str;
    int rc;

    if (suites_ready(err) < 0)
        return -1;
    if ((rc = check_suiteb(str, err)) != 0)
        return rc < 0 ? -1 : 0;
    /* OpenSSL expands a leading "DEFAULT" itself, then reads the rest. */
    if (strncmp(p, "DEFAULT", 7) == 0) {
        p += 7;
        if (*p == ':')
            p++;
    }
    while (*p != 0) {
        if (ITEM_SEP(*p))
            p++;
        else if ((p = check_item(str, p, err)) == NULL)
            return -1;
    }
    return 0;
}

/* tls13_name - a TLS 1.3 suite of libssl, by its one name */
static bool tls13_name(const char *name)
{
    const struct tls_suite *st = suites_find(name);

    return st != NULL && st->libssl && st->version == TLS_V_TLS13 && strcmp(name, st->name) == 0;
}

/* cipherwords_check_ciphersuites - every item is a TLS 1.3 suite name */
int cipherwords_check_ciphersuites(const char *str, struct tp_error *err)
{
    const char *p = str;
    const char *end;
    const char *b;
    const char *e;
    char name[64];
    size_t len;

    if (suites_ready(err) < 0)
        return -1;
    for (;;) {
        if ((end = strchr(p, ':')) == NULL)
            end = p + strlen(p);
        /* Blanks around an item are OpenSSL's to drop; an empty item is skipped. */
        for (b = p; b < end && IS_BLANK(*b); b++)
            /* void */;
        for (e = end; e > b && IS_BLANK(e[-1]); e--)
            /* void */;
        len = (size_t) (e - b);
        if (len > 0 && len < sizeof(name)) {
            memcpy(name, b, len);
            name[len] = 0;
        }
        if (len > 0 && (len >= sizeof(name) || !tls13_name(name))) {
            tp_error_set(err, NULL, 0, "unknown TLS 1.3 ciphersuite \"%.*s\" in ciphersuites string \"%s\"",
                         (int) len, b, str);
            return -1;
        }
        if (*end == 0)
            return 0;
        p = end + 1;
    }
}
