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
 *	"!RC4-SHA" is a valid, if idle, exclusion) and the TLS 1.3 suite
 *	names, which OpenSSL skips in a cipher string but which cannot
 *	widen it. An IANA name ("TLS_ECDHE_RSA_WITH_...") is not read by
 *	OpenSSL in a cipher string and is refused with the OpenSSL name to
 *	use instead.
 *
 *	Ciphersuites strings: items separated by ':', blanks around an
 *	item ignored, each item one of the TLS 1.3 suite names.
 *
 *	Data structure: one array of words (aliases, obsolete aliases,
 *	suite names), each with its kind, sorted once with qsort() and
 *	searched with bsearch(). The names point into the static lists
 *	below and into libssl's own cipher table, so nothing is copied. The
 *	array is built on first use under CRYPTO_THREAD_run_once(), kept
 *	for the life of the process and only read afterwards, so any
 *	thread may check strings. Building it costs a few milliseconds.
 * DIAGNOSTICS
 *	The check functions fill err->msg (file and line empty; the
 *	configuration reader adds them). The message names the offending
 *	word and quotes the whole string.
 *--*/

/* System library. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* OpenSSL. */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* Application. */
#include "tls/cipherwords.h"
#include "tls/tlsinfo.h"

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

struct word {
    const char *name;
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

static struct word *vocab; /* sorted by name once built */
static size_t vocab_len;
static size_t vocab_cap;
static bool vocab_ok;
static CRYPTO_ONCE vocab_once = CRYPTO_ONCE_STATIC_INIT;

/* word_cmp - qsort and bsearch order: by name, case-sensitive */
static int word_cmp(const void *a, const void *b)
{
    return strcmp(((const struct word *) a)->name, ((const struct word *) b)->name);
}

/* vocab_push - append one word; -1 when out of memory */
static int vocab_push(const char *name, const char *ossl, enum word_kind kind)
{
    struct word *grown;
    size_t cap;

    if (vocab_len == vocab_cap) {
        cap = vocab_cap ? 2 * vocab_cap : 512;
        if ((grown = realloc(vocab, cap * sizeof(*vocab))) == NULL)
            return -1;
        vocab = grown;
        vocab_cap = cap;
    }
    vocab[vocab_len].name = name;
    vocab[vocab_len].ossl = ossl;
    vocab[vocab_len].kind = kind;
    vocab_len++;
    return 0;
}

/* vocab_add_suite - a suite under its OpenSSL name and its IANA name */
static int vocab_add_suite(const SSL_CIPHER *c)
{
    const char *name = SSL_CIPHER_get_name(c);
    const char *std = SSL_CIPHER_standard_name(c);
    unsigned long id = SSL_CIPHER_get_id(c);

    /* Signalling values, not suites; no cipher string names them. */
    if (name == NULL || id == SSL3_CK_SCSV || id == SSL3_CK_FALLBACK_SCSV)
        return 0;
    if (SSL_CIPHER_get_kx_nid(c) == NID_kx_any)
        return vocab_push(name, NULL, WORD_TLS13);
    if (vocab_push(name, NULL, WORD_SUITE) < 0)
        return -1;
    /* GOST suites have no IANA name ("(NONE)", or NULL in some builds). */
    if (std == NULL || strcmp(std, "(NONE)") == 0 || strcmp(std, name) == 0)
        return 0;
    return vocab_push(std, name, WORD_IANA);
}

/*
 * vocab_scan - every suite compiled into libssl.
 *
 * SSL_CIPHER_find() looks a two-byte suite number up in libssl's static
 * tables, whatever the providers and security level make available. All
 * 65536 numbers take about 3 ms; a list of number ranges would miss the
 * next one OpenSSL adds.
 */
static int vocab_scan(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;
    const SSL_CIPHER *c;
    unsigned char num[2];
    unsigned long v;
    int rc = ssl != NULL ? 0 : -1;

    for (v = 0; rc == 0 && v <= 0xffff; v++) {
        num[0] = (unsigned char) (v >> 8);
        num[1] = (unsigned char) (v & 0xff);
        if ((c = SSL_CIPHER_find(ssl, num)) != NULL)
            rc = vocab_add_suite(c);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return rc;
}

/* vocab_build - the sorted word list; run once per process */
static void vocab_build(void)
{
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < NELEM(aliases); i++)
        rc = vocab_push(aliases[i], NULL, WORD_ALIAS);
    for (i = 0; rc == 0 && i < NELEM(legacy); i++)
        rc = vocab_push(legacy[i], NULL, WORD_LEGACY);
    /* Leave the caller's OpenSSL error queue as it was. */
    ERR_set_mark();
    if (rc == 0)
        rc = vocab_scan();
    ERR_pop_to_mark();
    if (rc < 0) {
        free(vocab);
        vocab = NULL;
        vocab_len = vocab_cap = 0;
        return;
    }
    qsort(vocab, vocab_len, sizeof(*vocab), word_cmp);
    vocab_ok = true;
}

/* vocab_ready - build the word list on first use */
static int vocab_ready(struct tp_error *err)
{
    if (!CRYPTO_THREAD_run_once(&vocab_once, vocab_build) || !vocab_ok) {
        tp_error_set(err, NULL, 0, "cannot build the list of OpenSSL cipher names (out of memory)");
        return -1;
    }
    return 0;
}

/* vocab_find - the entry for a word of len bytes, or NULL */
static const struct word *vocab_find(const char *w, size_t len)
{
    char buf[128];
    struct word key;

    if (len >= sizeof(buf))
        return NULL;
    memcpy(buf, w, len);
    buf[len] = 0;
    key.name = buf;
    return bsearch(&key, vocab, vocab_len, sizeof(*vocab), word_cmp);
}

/* check_word - one word of a cipher-string item */
static int check_word(const char *str, const char *w, size_t len, bool negating, struct tp_error *err)
{
    const struct word *v = vocab_find(w, len);
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

    if (vocab_ready(err) < 0)
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

/* cipherwords_check_ciphersuites - every item is a TLS 1.3 suite name */
int cipherwords_check_ciphersuites(const char *str, struct tp_error *err)
{
    const char *p = str;
    const char *end;
    const char *b;
    const char *e;
    char name[64];
    size_t len;

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
        if (len > 0 && (len >= sizeof(name) || !tlsinfo_is_tls13_suite(name))) {
            tp_error_set(err, NULL, 0, "unknown TLS 1.3 ciphersuite \"%.*s\" in ciphersuites string \"%s\"",
                         (int) len, b, str);
            return -1;
        }
        if (*end == 0)
            return 0;
        p = end + 1;
    }
}
