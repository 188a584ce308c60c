/*++
 * NAME
 *	suites 3
 * SUMMARY
 *	the one catalogue of TLS cipher suites
 * SYNOPSIS
 *	#include "tls/suites.h"
 *
 *	int	suites_ready(err)
 *	const struct tls_suite *suites_find(name)
 *	const struct tls_suite *suites_by_id(id)
 *	size_t	suites_count()
 *	const struct tls_suite *suites_at(index)
 *	const char *suites_kx_name(kx)
 *	const char *suites_auth_name(auth)
 *	const char *suites_mode_name(mode)
 * DESCRIPTION
 *	What the catalogue holds, and where each fact comes from:
 *
 *	Every suite compiled into libssl, found by asking SSL_CIPHER_find()
 *	for each of the 65536 two-byte suite numbers. That is libssl's own
 *	table, whatever the providers and the security level make usable
 *	(the legacy provider's SEED, a GOST suite without its engine), so a
 *	suite a sender negotiated elsewhere is still known here. Names,
 *	protocol, key exchange, authentication and bits are OpenSSL's
 *	(SSL_CIPHER_get_name(), SSL_CIPHER_standard_name(),
 *	SSL_CIPHER_get_version(), SSL_CIPHER_get_kx_nid(),
 *	SSL_CIPHER_get_auth_nid(), SSL_CIPHER_get_bits()); the mode is AEAD
 *	when SSL_CIPHER_is_aead() says so, else the bulk cipher's EVP mode
 *	(or, where libcrypto lacks the cipher, its object name: "IDEA-CBC").
 *	The signalling values (renegotiation info, fallback SCSV) are not
 *	suites and are left out. A suite is "available" when this OpenSSL
 *	can negotiate it (OpenSSL's own expansion of "ALL:COMPLEMENTOFALL"
 *	and of every TLS 1.3 suite at security level 0 lists it).
 *
 *	A few rows of ours (legacy_rows[] below): the 3DES and RC4 suites
 *	that MTAs still negotiate and that OpenSSL 3 builds may lack
 *	entirely (this project's Debian 12 OpenSSL has neither), so that a
 *	record naming one still tells tlspolicy-report what the sender
 *	spoke. A row is used only where libssl does not know its number;
 *	where it does, the row lends libssl's entry no more than its older
 *	spelling ("EDH-RSA-DES-CBC3-SHA", as OpenSSL 1.0 logged it).
 *
 *	Data structure: one array of struct tls_suite, sorted by number, so
 *	suites_by_id() is a binary search and suites_at() an index; and
 *	one open-addressing hash table (linear probing, FNV-1a) from every
 *	name of a suite (OpenSSL, IANA, older spelling) to its entry,
 *	because MTAs log either form. The table has a power-of-two size at
 *	least twice the number of names, is filled once and never deleted
 *	from, so every probe ends at an empty slot. The names point into
 *	libssl's static cipher tables and the rows below: nothing is copied.
 *
 *	Invariants: the catalogue is built exactly once per process, under
 *	pthread_once(), by the first caller of any function here; after
 *	that nothing writes to it, so any number of threads may read it
 *	without a lock (the daemon decides in several threads). It is kept
 *	until the process exits. A build that runs out of memory leaves it
 *	empty: every lookup fails, and suites_ready() says why.
 * DIAGNOSTICS
 *	suites_ready() fills err->msg (file and line empty) when the
 *	catalogue could not be built.
 *--*/

/* System library. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* OpenSSL. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

/* Application. */
#include "tls/suites.h"
#include "util/hash.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Legacy rows: suites a sender may negotiate with an older server that
 * this libssl may not have. Numbers and names from the IANA TLS Cipher
 * Suites registry; OpenSSL's names as OpenSSL 1.1 spells them, 3DES
 * strength as OpenSSL rates it (112 bits of its 168-bit key).
 */
/* clang-format off */
#define LEGACY_ROW(id, name, iana, alias, version, kx, auth, mode, bits, alg_bits) \
    {(id), 0, (name), (iana), (alias), (version), (kx), (auth), (mode), (bits), (alg_bits), \
     false /* libssl */, false /* available */, true /* legacy */}

static const struct tls_suite legacy_rows[] = {
    LEGACY_ROW(0x0004, "RC4-MD5", "TLS_RSA_WITH_RC4_128_MD5", NULL,
               TLS_V_SSL3, TLS_KX_RSA, TLS_AUTH_RSA, TLS_MODE_STREAM, 128, 128),
    LEGACY_ROW(0x0005, "RC4-SHA", "TLS_RSA_WITH_RC4_128_SHA", NULL,
               TLS_V_SSL3, TLS_KX_RSA, TLS_AUTH_RSA, TLS_MODE_STREAM, 128, 128),
    LEGACY_ROW(0x000A, "DES-CBC3-SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", NULL,
               TLS_V_SSL3, TLS_KX_RSA, TLS_AUTH_RSA, TLS_MODE_CBC, 112, 168),
    LEGACY_ROW(0x0016, "DHE-RSA-DES-CBC3-SHA", "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "EDH-RSA-DES-CBC3-SHA",
               TLS_V_SSL3, TLS_KX_DHE, TLS_AUTH_RSA, TLS_MODE_CBC, 112, 168),
    LEGACY_ROW(0xC007, "ECDHE-ECDSA-RC4-SHA", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", NULL,
               TLS_V_TLS1, TLS_KX_ECDHE, TLS_AUTH_ECDSA, TLS_MODE_STREAM, 128, 128),
    LEGACY_ROW(0xC008, "ECDHE-ECDSA-DES-CBC3-SHA", "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", NULL,
               TLS_V_TLS1, TLS_KX_ECDHE, TLS_AUTH_ECDSA, TLS_MODE_CBC, 112, 168),
    LEGACY_ROW(0xC011, "ECDHE-RSA-RC4-SHA", "TLS_ECDHE_RSA_WITH_RC4_128_SHA", NULL,
               TLS_V_TLS1, TLS_KX_ECDHE, TLS_AUTH_RSA, TLS_MODE_STREAM, 128, 128),
    LEGACY_ROW(0xC012, "ECDHE-RSA-DES-CBC3-SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", NULL,
               TLS_V_TLS1, TLS_KX_ECDHE, TLS_AUTH_RSA, TLS_MODE_CBC, 112, 168),
};
/* clang-format on */

/* OpenSSL's key-exchange and authentication NIDs, and our names for them. */
static const struct {
    int nid;
    enum tls_kx kx;
} kx_nids[] = {
    {NID_kx_any, TLS_KX_ANY},         {NID_kx_rsa, TLS_KX_RSA},
    {NID_kx_dhe, TLS_KX_DHE},         {NID_kx_ecdhe, TLS_KX_ECDHE},
    {NID_kx_psk, TLS_KX_PSK},         {NID_kx_rsa_psk, TLS_KX_RSA_PSK},
    {NID_kx_dhe_psk, TLS_KX_DHE_PSK}, {NID_kx_ecdhe_psk, TLS_KX_ECDHE_PSK},
    {NID_kx_srp, TLS_KX_SRP},         {NID_kx_gost, TLS_KX_GOST},
#ifdef NID_kx_gost18
    {NID_kx_gost18, TLS_KX_GOST18},
#endif
};

static const struct {
    int nid;
    enum tls_auth auth;
} auth_nids[] = {
    {NID_auth_any, TLS_AUTH_ANY},       {NID_auth_rsa, TLS_AUTH_RSA},       {NID_auth_ecdsa, TLS_AUTH_ECDSA},
    {NID_auth_dss, TLS_AUTH_DSS},       {NID_auth_psk, TLS_AUTH_PSK},       {NID_auth_srp, TLS_AUTH_SRP},
    {NID_auth_gost01, TLS_AUTH_GOST01}, {NID_auth_gost12, TLS_AUTH_GOST12}, {NID_auth_null, TLS_AUTH_NULL},
};

static const char *const kx_names[] = {
    [TLS_KX_OTHER] = "other",    [TLS_KX_ANY] = "any",        [TLS_KX_RSA] = "RSA",
    [TLS_KX_DHE] = "DHE",        [TLS_KX_ECDHE] = "ECDHE",    [TLS_KX_PSK] = "PSK",
    [TLS_KX_RSA_PSK] = "RSAPSK", [TLS_KX_DHE_PSK] = "DHEPSK", [TLS_KX_ECDHE_PSK] = "ECDHEPSK",
    [TLS_KX_SRP] = "SRP",        [TLS_KX_GOST] = "GOST",      [TLS_KX_GOST18] = "GOST18",
};
static const char *const auth_names[] = {
    [TLS_AUTH_OTHER] = "other", [TLS_AUTH_ANY] = "any",       [TLS_AUTH_RSA] = "RSA",
    [TLS_AUTH_ECDSA] = "ECDSA", [TLS_AUTH_DSS] = "DSS",       [TLS_AUTH_PSK] = "PSK",
    [TLS_AUTH_SRP] = "SRP",     [TLS_AUTH_GOST01] = "GOST01", [TLS_AUTH_GOST12] = "GOST12",
    [TLS_AUTH_NULL] = "none",
};
static const char *const mode_names[] = {
    [TLS_MODE_NULL] = "none",
    [TLS_MODE_STREAM] = "stream",
    [TLS_MODE_CBC] = "CBC",
    [TLS_MODE_AEAD] = "AEAD",
};

/* SSL_CIPHER_get_version()'s spellings of a suite's oldest protocol. */
static const struct {
    const char *name;
    enum tls_version version;
} versions[] = {
    {"SSLv3", TLS_V_SSL3},    {"TLSv1", TLS_V_TLS1},    {"TLSv1.0", TLS_V_TLS1},
    {"TLSv1.1", TLS_V_TLS11}, {"TLSv1.2", TLS_V_TLS12}, {"TLSv1.3", TLS_V_TLS13},
};

/* A name-table slot: one of the suite's names, and the suite. */
struct slot {
    const char *key;
    const struct tls_suite *suite;
};

static pthread_once_t cat_once = PTHREAD_ONCE_INIT;
static struct tls_suite *cat; /* sorted by id once built */
static size_t cat_len;
static size_t cat_cap;
static struct slot *slots; /* name table; NULL until built */
static size_t slot_mask;   /* size - 1; the size is a power of two */

/* kx_of - our key exchange of an OpenSSL suite */
static enum tls_kx kx_of(const SSL_CIPHER *c)
{
    int nid = SSL_CIPHER_get_kx_nid(c);
    size_t i;

    for (i = 0; i < NELEM(kx_nids); i++)
        if (kx_nids[i].nid == nid)
            return kx_nids[i].kx;
    return TLS_KX_OTHER;
}

/* auth_of - our authentication of an OpenSSL suite */
static enum tls_auth auth_of(const SSL_CIPHER *c)
{
    int nid = SSL_CIPHER_get_auth_nid(c);
    size_t i;

    for (i = 0; i < NELEM(auth_nids); i++)
        if (auth_nids[i].nid == nid)
            return auth_nids[i].auth;
    return TLS_AUTH_OTHER;
}

/* mode_of - how an OpenSSL suite's bulk cipher protects records */
static enum tls_mode mode_of(const SSL_CIPHER *c)
{
    int nid = SSL_CIPHER_get_cipher_nid(c);
    const EVP_CIPHER *evp;
    const char *sn;
    size_t len;

    if (nid == NID_undef)
        return TLS_MODE_NULL;
    if (SSL_CIPHER_is_aead(c))
        return TLS_MODE_AEAD;
    if ((evp = EVP_get_cipherbynid(nid)) != NULL)
        return EVP_CIPHER_mode(evp) == EVP_CIPH_CBC_MODE ? TLS_MODE_CBC : TLS_MODE_STREAM;
    /* libssl may know a suite whose cipher libcrypto was built without
       (IDEA); the object database still names it, "IDEA-CBC". */
    sn = OBJ_nid2sn(nid);
    len = sn != NULL ? strlen(sn) : 0;
    return len >= 4 && strcasecmp(sn + len - 4, "-CBC") == 0 ? TLS_MODE_CBC : TLS_MODE_STREAM;
}

/* version_of - the oldest protocol of an OpenSSL suite */
static enum tls_version version_of(const SSL_CIPHER *c)
{
    const char *v = SSL_CIPHER_get_version(c);
    size_t i;

    for (i = 0; v != NULL && i < NELEM(versions); i++)
        if (strcmp(v, versions[i].name) == 0)
            return versions[i].version;
    return TLS_V_UNKNOWN;
}

/* cat_push - append one entry; NULL when out of memory */
static struct tls_suite *cat_push(void)
{
    struct tls_suite *grown;
    size_t cap;

    if (cat_len == cat_cap) {
        cap = cat_cap ? 2 * cat_cap : 256;
        if ((grown = realloc(cat, cap * sizeof(*cat))) == NULL)
            return NULL;
        cat = grown;
        cat_cap = cap;
    }
    memset(&cat[cat_len], 0, sizeof(*cat));
    return &cat[cat_len++];
}

/* add_libssl - one suite of libssl's tables; -1 when out of memory */
static int add_libssl(const SSL_CIPHER *c)
{
    const char *std = SSL_CIPHER_standard_name(c);
    unsigned long id = SSL_CIPHER_get_id(c);
    int nid = SSL_CIPHER_get_cipher_nid(c);
    struct tls_suite *s;

    /* Signalling values, not suites; no MTA logs them as negotiated. */
    if (SSL_CIPHER_get_name(c) == NULL || id == SSL3_CK_SCSV || id == SSL3_CK_FALLBACK_SCSV)
        return 0;
    if ((s = cat_push()) == NULL)
        return -1;
    s->id = SSL_CIPHER_get_protocol_id(c);
    s->name = SSL_CIPHER_get_name(c);
    /* OpenSSL says "(NONE)" (or NULL in some builds) for a suite without
       an IANA name: GOST. */
    s->iana = std != NULL && strcmp(std, "(NONE)") != 0 ? std : NULL;
    s->version = version_of(c);
    s->kx = kx_of(c);
    s->auth = auth_of(c);
    s->mode = mode_of(c);
    s->bits = SSL_CIPHER_get_bits(c, &s->alg_bits);
    s->libssl = true;
    s->legacy = nid == NID_des_ede3_cbc || nid == NID_rc4;
    return 0;
}

/*
 * scan_libssl - every suite compiled into libssl.
 *
 * SSL_CIPHER_find() looks a suite number up in libssl's static tables;
 * all 65536 numbers take a few milliseconds, once. A list of number
 * ranges would miss the next suite OpenSSL adds. The scan runs in number
 * order, so the entries come out sorted.
 */
static int scan_libssl(void)
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
            rc = add_libssl(c);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return rc;
}

/* id_cmp - qsort and bsearch order of entries: by number */
static int id_cmp(const void *a, const void *b)
{
    unsigned x = ((const struct tls_suite *) a)->id, y = ((const struct tls_suite *) b)->id;

    return x < y ? -1 : x > y;
}

/* find_id - the entry with a number, while building or after; NULL if none */
static struct tls_suite *find_id(size_t len, unsigned id)
{
    struct tls_suite key;

    key.id = id;
    return len > 0 ? bsearch(&key, cat, len, sizeof(*cat), id_cmp) : NULL;
}

/* add_legacy - the legacy rows libssl lacks; their old spellings where it has them */
static int add_legacy(void)
{
    size_t i, scanned = cat_len;
    struct tls_suite *s;

    for (i = 0; i < NELEM(legacy_rows); i++) {
        if ((s = find_id(scanned, legacy_rows[i].id)) != NULL) {
            if (s->alias == NULL)
                s->alias = legacy_rows[i].alias;
            continue;
        }
        if ((s = cat_push()) == NULL)
            return -1;
        *s = legacy_rows[i];
    }
    qsort(cat, cat_len, sizeof(*cat), id_cmp);
    for (i = 0; i < cat_len; i++)
        cat[i].index = i;
    return 0;
}

/* name_slot - the slot that holds key, or the empty slot where it belongs */
static size_t name_slot(const char *key)
{
    size_t i = hash_str32(key) & slot_mask;

    while (slots[i].key != NULL && strcmp(slots[i].key, key) != 0)
        i = (i + 1) & slot_mask;
    return i;
}

/* name_insert - one name of a suite; the first suite to claim a name keeps it */
static void name_insert(const char *key, const struct tls_suite *s)
{
    size_t i;

    if (key == NULL)
        return;
    /* A TLS 1.3 suite's IANA name is its OpenSSL name: one key. */
    if (slots[i = name_slot(key)].key == NULL) {
        slots[i].key = key;
        slots[i].suite = s;
    }
}

/* tls13_list - every TLS 1.3 suite's name, ':' separated, for SSL_CTX_set_ciphersuites() */
static void tls13_list(char *buf, size_t size)
{
    size_t i, len = 0, n;

    buf[0] = 0;
    for (i = 0; i < cat_len; i++) {
        n = strlen(cat[i].name);
        if (cat[i].version != TLS_V_TLS13 || len + n + 2 > size)
            continue;
        if (len > 0)
            buf[len++] = ':';
        memcpy(buf + len, cat[i].name, n + 1);
        len += n;
    }
}

/*
 * mark_available - the suites this OpenSSL can negotiate.
 *
 * libssl's tables also hold suites whose algorithms no provider loaded
 * here offers (SEED and RC4 live in the legacy provider, GOST in an
 * engine). Expanding "ALL:COMPLEMENTOFALL" and every TLS 1.3 suite at
 * security level 0 leaves exactly those out, as a handshake would.
 */
static int mark_available(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    STACK_OF(SSL_CIPHER) *sk = NULL;
    struct tls_suite *s;
    char list[1024];
    int i;

    if (ctx == NULL)
        return -1;
    tls13_list(list, sizeof(list));
    SSL_CTX_set_security_level(ctx, 0);
    if (SSL_CTX_set_cipher_list(ctx, "ALL:COMPLEMENTOFALL") == 1 && SSL_CTX_set_ciphersuites(ctx, list) == 1)
        sk = SSL_CTX_get_ciphers(ctx);
    for (i = 0; sk != NULL && i < sk_SSL_CIPHER_num(sk); i++)
        if ((s = find_id(cat_len, SSL_CIPHER_get_protocol_id(sk_SSL_CIPHER_value(sk, i)))) != NULL)
            s->available = true;
    SSL_CTX_free(ctx);
    return 0;
}

/* index_names - the name table over the finished, sorted array */
static int index_names(void)
{
    size_t i, size = 16;

    /* Three names per suite at most, load factor at most one half. */
    while (size < 6 * cat_len)
        size *= 2;
    if ((slots = calloc(size, sizeof(*slots))) == NULL)
        return -1;
    slot_mask = size - 1;
    for (i = 0; i < cat_len; i++) {
        name_insert(cat[i].name, &cat[i]);
        name_insert(cat[i].iana, &cat[i]);
        name_insert(cat[i].alias, &cat[i]);
    }
    return 0;
}

/* build - the catalogue; run once per process */
static void build(void)
{
    int rc;

    /* Leave the caller's OpenSSL error queue as it was. */
    ERR_set_mark();
    rc = scan_libssl();
    if (rc == 0)
        rc = mark_available();
    ERR_pop_to_mark();
    if (rc == 0)
        rc = add_legacy();
    if (rc == 0)
        rc = index_names();
    if (rc < 0) {
        /* Out of memory: an empty catalogue, in which every lookup fails. */
        free(cat);
        free(slots);
        cat = NULL;
        slots = NULL;
        cat_len = cat_cap = 0;
    }
}

/* built - the catalogue, built on first use; false when building failed */
static bool built(void)
{
    return pthread_once(&cat_once, build) == 0 && slots != NULL;
}

/* suites_ready - build now, and say whether it worked */
int suites_ready(struct tp_error *err)
{
    if (built())
        return 0;
    tp_error_set(err, NULL, 0, "cannot build the list of OpenSSL cipher names (out of memory)");
    return -1;
}

/* suites_find - a suite by any of its names */
const struct tls_suite *suites_find(const char *name)
{
    if (name == NULL || !built())
        return NULL;
    return slots[name_slot(name)].suite;
}

/* suites_by_id - a suite by its number */
const struct tls_suite *suites_by_id(unsigned id)
{
    return built() ? find_id(cat_len, id) : NULL;
}

/* suites_count - how many suites the catalogue holds */
size_t suites_count(void)
{
    return built() ? cat_len : 0;
}

/* suites_at - the suite at an index, in order of number; NULL past the end */
const struct tls_suite *suites_at(size_t index)
{
    return built() && index < cat_len ? &cat[index] : NULL;
}

/* suites_kx_name - short name of a key exchange */
const char *suites_kx_name(enum tls_kx kx)
{
    return (size_t) kx < NELEM(kx_names) ? kx_names[kx] : "other";
}

/* suites_auth_name - short name of an authentication */
const char *suites_auth_name(enum tls_auth auth)
{
    return (size_t) auth < NELEM(auth_names) ? auth_names[auth] : "other";
}

/* suites_mode_name - short name of a mode */
const char *suites_mode_name(enum tls_mode mode)
{
    return (size_t) mode < NELEM(mode_names) ? mode_names[mode] : "none";
}
