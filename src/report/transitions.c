/*++
 * NAME
 *	transitions 3
 * SUMMARY
 *	clients whose sessions went from TLS to plaintext, and what their
 *	TLS facts imply
 * SYNOPSIS
 *	#include "report/transitions.h"
 *
 *	struct transitions *transitions_new()
 *	void	transitions_consumer(t, consumer)
 *	int	transitions_changed(t, out, n)
 *	bool	transitions_oom(t)
 *	void	transitions_free(t)
 *
 *	bool	transitions_rsa_auth(name)
 *	void	transitions_implies(versions, ciphers, im)
 *	const char *transitions_imp_text(imp)
 *	const char *transitions_unknown_text(sb, cipher)
 * DESCRIPTION
 *	See transitions.h; the writers are in transitions_out.c.
 *	Times are the line's time stamp in the reader's time
 *	zone (TZ), "-" for a line without one. A cipher is looked up by
 *	its OpenSSL or its standard (RFC) name in the suite catalogue
 *	(tls/suites.h) among the suites this OpenSSL can negotiate and
 *	the 3DES/RC4 suites it may lack; when one seen is unknown, nothing
 *	is implied from the ciphers, and "unknown" says so. Only decision records count:
 *	session records name no recipient. The implications are public: tlspolicy-report
 *	--diagnose states them for its own timeline.
 * DIAGNOSTICS
 *	When memory runs out the facts are incomplete; the writers
 *	report it.
 *--*/

/* System library. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Application. */
#include "core/domain_map.h"
#include "report/agg.h"
#include "report/scan.h"
#include "report/transitions.h"
#include "util/map.h"
#include "report/out.h"
#include "tls/suites.h"
#include "util/strbuf.h"

struct transitions {
    struct map clients; /* key -> struct transitions_client */
    int oom;
};

static const char *const imp_text[TRANSITIONS_IMP_N] = {
    "only TLS 1.0/1.1 seen: a server requiring TLSv1.2 or newer leaves no shared protocol",
    "only RSA-authenticated suites seen: an ECDSA-only server certificate leaves no shared cipher",
    "only static RSA key exchange seen: a server offering only forward-secret suites leaves no shared cipher",
    "only CBC/3DES suites seen: a server offering only AEAD suites (GCM, ChaCha20) leaves no shared cipher",
    "only 3DES/RC4 suites seen: a server whose OpenSSL lacks them (OpenSSL 3 as Debian 12 builds it) "
    "leaves no shared cipher",
};

/* transitions_new - no clients yet */
struct transitions *transitions_new(void)
{
    struct transitions *d = calloc(1, sizeof(*d));

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
        strftime(buf, TRANSITIONS_TIME_MAX, "%Y-%m-%dT%H:%M:%S%z", &tm) == 0)
        strcpy(buf, "-");
}

/* client - the history of key; created only when create */
static struct transitions_client *client(struct transitions *d, const char *key, bool create)
{
    struct map_entry *e;

    if (!create)
        return (e = map_find(&d->clients, key)) != NULL ? e->ptr : NULL;
    if ((e = map_get(&d->clients, key)) == NULL)
        return NULL;
    if (e->ptr == NULL && (e->ptr = calloc(1, sizeof(struct transitions_client))) != NULL) {
        map_init(&((struct transitions_client *) e->ptr)->versions);
        map_init(&((struct transitions_client *) e->ptr)->ciphers);
    }
    return e->ptr;
}

/* seen_tls - one decision over TLS before the change */
static int seen_tls(struct transitions_client *c, const struct rec *r, const struct prefix *px)
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

/* transitions_record - one decision record of the period, in the order read */
static void transitions_record(struct transitions *d, const struct rec *r, const struct prefix *px)
{
    char buf[DOMAIN_MAX + 1];
    const char *key, *version = r->f[REC_TLS_VERSION], *action = r->f[REC_ACTION];
    struct transitions_client *c;
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
static bool implies_one(const char *name, struct transitions_implies *im)
{
    const struct tls_suite *st = known(name);

    if (st == NULL)
        return false;
    im->imp[TRANSITIONS_IMP_RSA_AUTH] &= st->auth == TLS_AUTH_RSA;
    im->imp[TRANSITIONS_IMP_RSA_KX] &= st->kx == TLS_KX_RSA;
    im->imp[TRANSITIONS_IMP_CBC] &= st->mode != TLS_MODE_AEAD;
    im->imp[TRANSITIONS_IMP_LEGACY] &= st->legacy;
    return true;
}

/* transitions_rsa_auth - one suite's authentication */
bool transitions_rsa_auth(const char *name)
{
    const struct tls_suite *st = known(name);

    return st != NULL && st->auth == TLS_AUTH_RSA;
}

/* implies_ciphers - what every cipher seen has in common */
static void implies_ciphers(const struct map *ciphers, struct transitions_implies *im)
{
    const struct map_entry *e;
    size_t pos = 0, n = 0;

    im->imp[TRANSITIONS_IMP_RSA_AUTH] = im->imp[TRANSITIONS_IMP_RSA_KX] = im->imp[TRANSITIONS_IMP_CBC] = true;
    im->imp[TRANSITIONS_IMP_LEGACY] = true;
    /* In table order: the first unknown cipher is named, the same one
       every run for the same input. */
    while ((e = map_next(ciphers, &pos)) != NULL) {
        if (!implies_one(e->key, im)) {
            im->unknown = e->key;
            break;
        }
        n++;
    }
    if (n == 0 || im->unknown != NULL)
        im->imp[TRANSITIONS_IMP_RSA_AUTH] = im->imp[TRANSITIONS_IMP_RSA_KX] = im->imp[TRANSITIONS_IMP_CBC] =
            im->imp[TRANSITIONS_IMP_LEGACY] = false;
}

/* transitions_implies - the implications of one client's TLS facts */
void transitions_implies(const struct map *versions, const struct map *ciphers,
                         struct transitions_implies *im)
{
    const struct map_entry *e;
    size_t pos = 0;
    int rank;

    memset(im, 0, sizeof(*im));
    im->imp[TRANSITIONS_IMP_OLD_TLS] = versions->len > 0;
    while ((e = map_next(versions, &pos)) != NULL)
        if ((rank = version_rank(e->key)) < 0 || rank >= 12)
            im->imp[TRANSITIONS_IMP_OLD_TLS] = false;
    implies_ciphers(ciphers, im);
}

/* transitions_imp_text - one implication as a sentence */
const char *transitions_imp_text(enum transitions_imp imp)
{
    return imp_text[imp];
}

/* transitions_changed - the clients that went from TLS to plaintext, sorted by key */
int transitions_changed(const struct transitions *d, struct map_entry ***out, size_t *n)
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
        const struct transitions_client *c = v[i]->ptr;

        if (c != NULL && c->first_plain[0] != 0)
            v[(*n)++] = v[i];
    }
    *out = v;
    return 0;
}

/* transitions_oom - memory ran out while the records were read */
bool transitions_oom(const struct transitions *d)
{
    return d->oom != 0;
}

/* transitions_unknown_text - the implication of an unknown cipher */
const char *transitions_unknown_text(struct strbuf *sb, const char *cipher)
{
    strbuf_reset(sb);
    strbuf_puts(sb, "unknown: cipher ");
    report_safe(sb, cipher);
    strbuf_puts(sb, " not known to OpenSSL, nothing implied from the ciphers");
    return strbuf_str(sb);
}

/* client_free - one client's history */
static void client_free(void *p)
{
    struct transitions_client *c = p;

    if (c == NULL)
        return;
    map_free(&c->versions, NULL);
    map_free(&c->ciphers, NULL);
    free(c->version);
    free(c->cipher);
    free(c);
}

/* transitions_free - every client */
void transitions_free(struct transitions *d)
{
    if (d == NULL)
        return;
    map_free(&d->clients, client_free);
    free(d);
}

/* on_record - the scan event, to transitions_record() */
static void on_record(void *ctx, const struct rec *r, const struct scan_at *at)
{
    transitions_record(ctx, r, at->px);
}

/* transitions_consumer - the records of the period, in the order read */
void transitions_consumer(struct transitions *d, struct scan_consumer *c)
{
    memset(c, 0, sizeof(*c));
    c->name = "transitions";
    c->pass = 1;
    c->ctx = d;
    c->record = on_record;
}
