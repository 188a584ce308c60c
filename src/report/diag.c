/*++
 * NAME
 *	diag 3
 * SUMMARY
 *	diagnostics: clients whose sessions went from TLS to plaintext
 * SYNOPSIS
 *	#include "report/diag.h"
 *
 *	struct diag *diag_new()
 *	void	diag_record(d, rec, prefix)
 *	int	diag_write(fp, d)
 *	struct json_object *diag_json(d)
 *	void	diag_free(d)
 *
 *	struct diag_suites *diag_suites_open()
 *	bool	diag_rsa_auth(suites, name)
 *	void	diag_suites_close(suites)
 *	void	diag_implies(suites, versions, ciphers, im)
 *	const char *diag_imp_text(imp)
 *	const char *diag_unknown_text(sb, cipher)
 * DESCRIPTION
 *	See diag.h. Times are the line's time stamp in the reader's time
 *	zone (TZ), "-" for a line without one. A cipher is looked up by
 *	its OpenSSL or its standard (RFC) name in the suite catalogue
 *	(tls/suites.h) among the suites this OpenSSL can negotiate and
 *	the 3DES/RC4 suites it may lack; when one seen is unknown, nothing
 *	is implied from the ciphers, and "unknown" says so. Only decision records count:
 *	session records name no recipient. The implications are public: tlspolicy-report
 *	--diagnose states them for its own timeline.
 * DIAGNOSTICS
 *	When memory runs out the facts are incomplete; diag_write() and
 *	diag_json() report it.
 *--*/

/* System library. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Libraries. */
#include <json-c/json.h>

/* Application. */
#include "core/domain_map.h"
#include "report/agg.h"
#include "report/diag.h"
#include "util/map.h"
#include "report/out.h"
#include "tls/suites.h"
#include "util/strbuf.h"

#define TIME_MAX 32

/* One client's history. */
struct diag_client {
    char last_tls[TIME_MAX]; /* last TLS sighting before the change */
    char *version, *cipher;  /* at that sighting */
    struct map versions;     /* seen over TLS before the change */
    struct map ciphers;
    char first_plain[TIME_MAX]; /* the change; "" until then */
    unsigned long long plaintext, refused;
};

struct diag {
    struct map clients; /* key -> struct diag_client */
    int oom;
};

static const char *const imp_text[DIAG_IMP_N] = {
    "only TLS 1.0/1.1 seen: a server requiring TLSv1.2 or newer leaves no shared protocol",
    "only RSA-authenticated suites seen: an ECDSA-only server certificate leaves no shared cipher",
    "only static RSA key exchange seen: a server offering only forward-secret suites leaves no shared cipher",
    "only CBC/3DES suites seen: a server offering only AEAD suites (GCM, ChaCha20) leaves no shared cipher",
    "only 3DES/RC4 suites seen: a server whose OpenSSL lacks them (OpenSSL 3 as Debian 12 builds it) leaves no "
    "shared cipher",
};

/* Suites are looked up in the catalogue (tls/suites.h), built once per
   process; a handle only keeps the callers' open/close pairs working. */
struct diag_suites {
    char unused;
};

static struct diag_suites catalogue_handle;

/* diag_new - no clients yet */
struct diag *diag_new(void)
{
    struct diag *d = calloc(1, sizeof(*d));

    if (d != NULL)
        map_init(&d->clients);
    return d;
}

/* set_str - replace *dst with a copy of src unless equal */
static int set_str(char **dst, const char *src)
{
    char *copy;

    if (*dst != NULL && strcmp(*dst, src) == 0)
        return 0;
    if ((copy = strdup(src)) == NULL)
        return -1;
    free(*dst);
    *dst = copy;
    return 0;
}

/* fmt_time - a line's time stamp as text */
static void fmt_time(const struct prefix *px, char *buf)
{
    struct tm tm;

    if (!px->has_time || localtime_r(&px->when, &tm) == NULL ||
        strftime(buf, TIME_MAX, "%Y-%m-%dT%H:%M:%S%z", &tm) == 0)
        strcpy(buf, "-");
}

/* client - the history of key; created only when create */
static struct diag_client *client(struct diag *d, const char *key, bool create)
{
    struct map_entry *e;

    if (!create)
        return (e = map_find(&d->clients, key)) != NULL ? e->ptr : NULL;
    if ((e = map_get(&d->clients, key)) == NULL)
        return NULL;
    if (e->ptr == NULL && (e->ptr = calloc(1, sizeof(struct diag_client))) != NULL) {
        map_init(&((struct diag_client *) e->ptr)->versions);
        map_init(&((struct diag_client *) e->ptr)->ciphers);
    }
    return e->ptr;
}

/* seen_tls - one decision over TLS before the change */
static int seen_tls(struct diag_client *c, const struct rec *r, const struct prefix *px)
{
    const char *cipher = r->f[REC_CIPHER] != NULL ? r->f[REC_CIPHER] : "-";

    fmt_time(px, c->last_tls);
    if (set_str(&c->version, r->f[REC_TLS_VERSION]) != 0 || set_str(&c->cipher, cipher) != 0 ||
        map_get(&c->versions, r->f[REC_TLS_VERSION]) == NULL)
        return -1;
    if (strcmp(cipher, "-") != 0 && map_get(&c->ciphers, cipher) == NULL)
        return -1;
    return 0;
}

/* diag_record - one decision record, in the order read */
void diag_record(struct diag *d, const struct rec *r, const struct prefix *px)
{
    char buf[DOMAIN_MAX + 1];
    const char *key, *version = r->f[REC_TLS_VERSION], *action = r->f[REC_ACTION];
    struct diag_client *c;
    bool tls;

    if (d == NULL || r->event != REC_DECISION || version == NULL)
        return;
    if ((key = agg_client_key(r, buf, sizeof(buf))) == NULL || *key == 0)
        key = "-";
    tls = strcmp(version, "none") != 0;
    if ((c = client(d, key, tls)) == NULL) {
        d->oom |= tls;
        return;
    }
    if (tls) {
        if (c->first_plain[0] == 0 && seen_tls(c, r, px) != 0)
            d->oom = 1;
        return;
    }
    if (c->first_plain[0] == 0)
        fmt_time(px, c->first_plain);
    c->plaintext++;
    if (action != NULL && (strcmp(action, "reject") == 0 || strcmp(action, "tempfail") == 0))
        c->refused++;
}

/* version_rank - 10 * major + minor of an OpenSSL version name, or -1 */
static int version_rank(const char *v)
{
    static const char *const names[] = {"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
    static const int ranks[] = {3, 10, 11, 12, 13};
    size_t i;

    for (i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++)
        if (strcmp(v, names[i]) == 0)
            return ranks[i];
    return -1;
}

/* known - a suite this OpenSSL can negotiate, or a 3DES/RC4 suite it may
   lack (the catalogue has them so that a client last seen with one still
   implies something); NULL for any other name */
static const struct tls_suite *known(const char *name)
{
    const struct tls_suite *st = suites_find(name);

    return st != NULL && (st->available || st->legacy) ? st : NULL;
}

/* implies_one - fold one cipher's properties in; false when unknown */
static bool implies_one(const char *name, struct diag_implies *im)
{
    const struct tls_suite *st = known(name);

    if (st == NULL)
        return false;
    im->imp[DIAG_IMP_RSA_AUTH] &= st->auth == TLS_AUTH_RSA;
    im->imp[DIAG_IMP_RSA_KX] &= st->kx == TLS_KX_RSA;
    im->imp[DIAG_IMP_CBC] &= st->mode != TLS_MODE_AEAD;
    im->imp[DIAG_IMP_LEGACY] &= st->legacy;
    return true;
}

/* diag_rsa_auth - one suite's authentication */
bool diag_rsa_auth(const struct diag_suites *suites, const char *name)
{
    const struct tls_suite *st = known(name);

    (void) suites;
    return st != NULL && st->auth == TLS_AUTH_RSA;
}

/* implies_ciphers - what every cipher seen has in common */
static void implies_ciphers(const struct map *ciphers, struct diag_implies *im)
{
    size_t i, n = 0;

    im->imp[DIAG_IMP_RSA_AUTH] = im->imp[DIAG_IMP_RSA_KX] = im->imp[DIAG_IMP_CBC] = true;
    im->imp[DIAG_IMP_LEGACY] = true;
    for (i = 0; i < ciphers->cap; i++) {
        if (ciphers->slots[i].key == NULL)
            continue;
        if (!implies_one(ciphers->slots[i].key, im)) {
            im->unknown = ciphers->slots[i].key;
            break;
        }
        n++;
    }
    if (n == 0 || im->unknown != NULL)
        im->imp[DIAG_IMP_RSA_AUTH] = im->imp[DIAG_IMP_RSA_KX] = im->imp[DIAG_IMP_CBC] =
            im->imp[DIAG_IMP_LEGACY] = false;
}

/* diag_implies - the implications of one client's TLS facts */
void diag_implies(const struct diag_suites *suites, const struct map *versions, const struct map *ciphers,
                  struct diag_implies *im)
{
    size_t i;
    int rank;

    memset(im, 0, sizeof(*im));
    im->imp[DIAG_IMP_OLD_TLS] = versions->len > 0;
    for (i = 0; i < versions->cap; i++)
        if (versions->slots[i].key != NULL &&
            ((rank = version_rank(versions->slots[i].key)) < 0 || rank >= 12))
            im->imp[DIAG_IMP_OLD_TLS] = false;
    (void) suites;
    implies_ciphers(ciphers, im);
}

/* diag_imp_text - one implication as a sentence */
const char *diag_imp_text(enum diag_imp imp)
{
    return imp_text[imp];
}

/* diag_suites_open - the suite catalogue, built on first use */
struct diag_suites *diag_suites_open(void)
{
    return &catalogue_handle;
}

/* diag_suites_close - nothing to release: the catalogue lives as long as the process */
void diag_suites_close(struct diag_suites *s)
{
    (void) s;
}

/* changed - the clients that went from TLS to plaintext, sorted by key;
   *n 0 and NULL when none, -1 on OOM */
static int changed(const struct diag *d, struct map_entry ***out, size_t *n)
{
    struct map_entry **v;
    size_t i;

    *out = NULL;
    *n = 0;
    if (d->clients.len == 0)
        return 0;
    if ((v = map_sorted(&d->clients, 0)) == NULL)
        return -1;
    for (i = 0; i < d->clients.len; i++) {
        const struct diag_client *c = v[i]->ptr;

        if (c != NULL && c->first_plain[0] != 0)
            v[(*n)++] = v[i];
    }
    *out = v;
    return 0;
}

/* diag_unknown_text - the implication of an unknown cipher */
const char *diag_unknown_text(struct strbuf *sb, const char *cipher)
{
    strbuf_reset(sb);
    strbuf_puts(sb, "unknown: cipher ");
    out_safe(sb, cipher);
    strbuf_puts(sb, " not known to OpenSSL, nothing implied from the ciphers");
    return strbuf_str(sb);
}

/* keys_text - the keys of a map, sorted, escaped, comma separated */
static const char *keys_text(struct strbuf *sb, const struct map *m)
{
    struct map_entry **v;
    size_t i;

    strbuf_reset(sb);
    if (m->len == 0 || (v = map_sorted(m, 0)) == NULL)
        return m->len == 0 ? "-" : NULL;
    for (i = 0; i < m->len; i++) {
        strbuf_puts(sb, i > 0 ? ", " : "");
        out_safe(sb, v[i]->key);
    }
    free(v);
    return strbuf_failed(sb) ? NULL : strbuf_str(sb);
}

/* keys_or_oom - keys_text, or a note when memory ran out */
static const char *keys_or_oom(struct strbuf *sb, const struct map *m)
{
    const char *text = keys_text(sb, m);

    return text != NULL ? text : "(out of memory)";
}

/* safe - a log value made printable */
static const char *safe(struct strbuf *sb, const char *value)
{
    strbuf_reset(sb);
    out_safe(sb, value);
    return strbuf_str(sb);
}

/* write_client - one client's entry of the text section */
static int write_client(FILE *fp, const struct diag_suites *sk, const struct map_entry *e, struct strbuf *sb)
{
    const struct diag_client *c = e->ptr;
    struct diag_implies im;
    const char *label = "    implies:";
    int i;

    fprintf(fp, "  %s\n", safe(sb, e->key));
    fprintf(fp, "    last TLS:        %s %s", c->last_tls, safe(sb, c->version));
    fprintf(fp, " %s\n", safe(sb, c->cipher));
    fprintf(fp, "    first plaintext: %s\n", c->first_plain);
    fprintf(fp, "    plaintext decisions: %llu, refused recipients: %llu\n", c->plaintext, c->refused);
    fprintf(fp, "    versions seen over TLS: %s\n", keys_or_oom(sb, &c->versions));
    fprintf(fp, "    ciphers seen over TLS:  %s\n", keys_or_oom(sb, &c->ciphers));
    diag_implies(sk, &c->versions, &c->ciphers, &im);
    for (i = 0; i < DIAG_IMP_N; i++) {
        if (im.imp[i]) {
            fprintf(fp, "%-20s %s\n", label, imp_text[i]);
            label = "";
        }
    }
    if (im.unknown != NULL) {
        fprintf(fp, "%-20s %s\n", label, diag_unknown_text(sb, im.unknown));
        label = "";
    }
    if (*label != 0)
        fprintf(fp, "%-20s none\n", label);
    return strbuf_failed(sb) ? -1 : 0;
}

/* diag_write - the text section */
int diag_write(FILE *fp, const struct diag *d)
{
    struct diag_suites *sk;
    struct map_entry **v;
    struct strbuf sb;
    size_t i, n;
    int rc = 0;

    if (d == NULL || changed(d, &v, &n) != 0)
        return -1;
    if (n == 0) {
        free(v);
        return d->oom ? -1 : 0;
    }
    sk = diag_suites_open();
    strbuf_init(&sb);
    fprintf(fp, "\nTLS to plaintext (by client domain):\n");
    for (i = 0; i < n; i++)
        if (write_client(fp, sk, v[i], &sb) != 0)
            rc = -1;
    if (d->oom)
        fprintf(fp, "  (out of memory: the list is incomplete)\n");
    strbuf_free(&sb);
    diag_suites_close(sk);
    free(v);
    return d->oom ? -1 : rc;
}

/* jimplies - the implications as a JSON array of phrases */
static struct json_object *jimplies(const struct diag_suites *sk, const struct diag_client *c,
                                    struct strbuf *sb)
{
    struct json_object *arr = json_object_new_array();
    struct diag_implies im;
    int i;

    if (arr == NULL)
        return NULL;
    diag_implies(sk, &c->versions, &c->ciphers, &im);
    for (i = 0; i < DIAG_IMP_N; i++)
        if (im.imp[i])
            json_object_array_add(arr, json_object_new_string(imp_text[i]));
    if (im.unknown != NULL)
        json_object_array_add(arr, json_object_new_string(diag_unknown_text(sb, im.unknown)));
    return arr;
}

/* jclient - one client as a JSON object */
static struct json_object *jclient(const struct diag_suites *sk, const struct map_entry *e, struct strbuf *sb)
{
    const struct diag_client *c = e->ptr;
    struct json_object *o = json_object_new_object();

    if (o == NULL)
        return NULL;
    json_object_object_add(o, "client", out_json_str(sb, e->key));
    json_object_object_add(o, "last_tls_time", json_object_new_string(c->last_tls));
    json_object_object_add(o, "last_tls_version", out_json_str(sb, c->version));
    json_object_object_add(o, "last_cipher", out_json_str(sb, c->cipher));
    json_object_object_add(o, "first_plaintext_time", json_object_new_string(c->first_plain));
    json_object_object_add(o, "plaintext_decisions", json_object_new_uint64(c->plaintext));
    json_object_object_add(o, "refused_recipients", json_object_new_uint64(c->refused));
    json_object_object_add(o, "versions_seen", out_json_keys(sb, &c->versions));
    json_object_object_add(o, "ciphers_seen", out_json_keys(sb, &c->ciphers));
    json_object_object_add(o, "implications", jimplies(sk, c, sb));
    return o;
}

/* diag_json - the "diagnostics" array */
struct json_object *diag_json(const struct diag *d)
{
    struct diag_suites *sk;
    struct json_object *arr;
    struct map_entry **v;
    struct strbuf sb;
    size_t i, n;

    if (d == NULL || d->oom || changed(d, &v, &n) != 0)
        return NULL;
    if ((arr = json_object_new_array()) == NULL || n == 0) {
        free(v);
        return arr;
    }
    sk = diag_suites_open();
    strbuf_init(&sb);
    for (i = 0; i < n; i++)
        json_object_array_add(arr, jclient(sk, v[i], &sb));
    strbuf_free(&sb);
    diag_suites_close(sk);
    free(v);
    return arr;
}

/* client_free - one client's history */
static void client_free(void *p)
{
    struct diag_client *c = p;

    if (c == NULL)
        return;
    map_free(&c->versions, NULL);
    map_free(&c->ciphers, NULL);
    free(c->version);
    free(c->cipher);
    free(c);
}

/* diag_free - every client */
void diag_free(struct diag *d)
{
    if (d == NULL)
        return;
    map_free(&d->clients, client_free);
    free(d);
}
