/*++
 * NAME
 *	fromrec 3
 * SUMMARY
 *	a client profile from what a tlspolicyd record says was negotiated
 * SYNOPSIS
 *	#include "probe/fromrec.h"
 *
 *	int	fromrec_parse(line, facts, why, len)
 *	void	fromrec_print(fp, facts)
 * DESCRIPTION
 *	The line is read the way tlspolicy-report reads it (prefix.c,
 *	recparse.c); a line that is not a record is read as bare kv fields,
 *	so that an administrator can also type the two facts by hand.
 *
 *	The record's values come from the network (a client chooses its
 *	name's DNS, a forger can write any line to syslog): the version must
 *	be one tlspolicyd.conf names, the suite a plain OpenSSL or IANA name
 *	(an IANA name is printed as OpenSSL's: a cipher string knows only
 *	those), and the client name and address must be made of the bytes
 *	a host name or address uses, before any of them goes into the
 *	printed configuration text; a record that fails is refused whole.
 * DIAGNOSTICS
 *	why: "no tls_version field", "SSLv3 cannot be offered",
 *	"client_name is not a host name or address", ...
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Application. */
#include "probe/fromrec.h"
#include "record/kv.h"
#include "logread/prefix.h"
#include "record/recparse.h"
#include "tls/suites.h"

#define HOSTCHARS  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:_"
#define SUITECHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

/* The fields read from a line, pointing into it or into its json. */
struct facts {
    const char *version, *cipher, *name, *addr;
};

/* absent - a field that is missing or written as "-" */
static int absent(const char *v)
{
    return v == NULL || v[0] == 0 || strcmp(v, "-") == 0;
}

/* bare_fields - the four fields of a line of bare kv fields; -1 when it is not one */
static int bare_fields(char *msg, struct facts *x)
{
    char *key, *value;
    const char *why;
    int rc;

    while ((rc = kv_next(&msg, &key, &value, &why)) == 1) {
        if (strcmp(key, "tls_version") == 0)
            x->version = value;
        else if (strcmp(key, "cipher") == 0)
            x->cipher = value;
        else if (strcmp(key, "client_name") == 0)
            x->name = value;
        else if (strcmp(key, "client_addr") == 0)
            x->addr = value;
    }
    return rc;
}

/* host_value - a client_name or client_addr made of host name bytes, or "" for none; -1 with why */
static int host_value(const char *key, const char *v, char *out, size_t size, char *why, size_t len)
{
    out[0] = 0;
    /* "unknown" is Postfix's word for a name that did not verify. */
    if (absent(v) || strcmp(v, "unknown") == 0)
        return 0;
    if (strspn(v, HOSTCHARS) != strlen(v) || strlen(v) >= size) {
        snprintf(why, len, "%s is not a host name or address", key);
        return -1;
    }
    snprintf(out, size, "%s", v);
    return 0;
}

/* client - "NAME [ADDR]" or "ADDR" of the sender; -1 with why when either is not a host's */
static int client(struct fromrec *f, const struct facts *x, char *why, size_t len)
{
    char name[FROMREC_HOST_MAX + 1], addr[FROMREC_ADDR_MAX];

    if (host_value("client_name", x->name, name, sizeof(name), why, len) < 0 ||
        host_value("client_addr", x->addr, addr, sizeof(addr), why, len) < 0)
        return -1;
    if (name[0] && addr[0])
        snprintf(f->client, sizeof(f->client), "%s [%s]", name, addr);
    else
        snprintf(f->client, sizeof(f->client), "%s", name[0] ? name : addr);
    /* Cut to the longest profile name: main.c makes cut names unique. */
    snprintf(f->name, sizeof(f->name), "from-%.*s", PROFILES_NAME_MAX - 5,
             name[0]   ? name
             : addr[0] ? addr
                       : "record");
    /* ':' of an IPv6 address is not a profile name byte. */
    for (char *p = f->name; *p; p++)
        if (*p == ':')
            *p = '-';
    return 0;
}

/* openssl_name - OpenSSL's name of a suite named either way, NULL when OpenSSL lacks it */
static const char *openssl_name(const char *cipher)
{
    const struct tls_suite *st = suites_find(cipher);

    /* Only a suite this OpenSSL can offer; any other keeps the name the
       record wrote, and the probe reports the profile as not testable. */
    return st != NULL && st->available ? st->name : NULL;
}

/*
 * check - the facts make a profile; 0, or -1 with why. An IANA name is
 * turned into OpenSSL's, which is what a cipher string takes; a name
 * this OpenSSL does not know is kept as written, and the profile is then
 * reported as not testable by the probe.
 */
static int check(const struct facts *x, struct fromrec *f, char *why, size_t len)
{
    const char *name;

    if (absent(x->cipher)) {
        snprintf(why, len, "no cipher field");
        return -1;
    }
    if (f->version == TLS_V_UNKNOWN || f->version == TLS_V_SSL3) {
        snprintf(why, len, "tls_version: %s (a profile offers TLSv1 to TLSv1.3)",
                 f->version == TLS_V_SSL3 ? "SSLv3 cannot be offered" : "not a protocol version");
        return -1;
    }
    if (strlen(x->cipher) >= sizeof(f->cipher) || strspn(x->cipher, SUITECHARS) != strlen(x->cipher)) {
        snprintf(why, len, "cipher is not an OpenSSL or IANA suite name");
        return -1;
    }
    if (tlsinfo_is_tls13_suite(x->cipher) != (f->version == TLS_V_TLS13)) {
        snprintf(why, len, "cipher %s was not negotiated over %s", x->cipher,
                 tlsinfo_version_name(f->version));
        return -1;
    }
    /* TLS 1.3 suites have one name; OpenSSL's set of them is another list. */
    name = f->version == TLS_V_TLS13 ? NULL : openssl_name(x->cipher);
    snprintf(f->recorded, sizeof(f->recorded), "%s", x->cipher);
    snprintf(f->cipher, sizeof(f->cipher), "%s", name ? name : x->cipher);
    return 0;
}

/* from_facts - the profile's facts; 0, 1 without TLS, -1 with why */
static int from_facts(const struct facts *x, struct fromrec *f, char *why, size_t len)
{
    if (x->version == NULL) {
        snprintf(why, len, "no tls_version field");
        return 1;
    }
    /* The record writes "none" for a plaintext session. */
    if (absent(x->version) || strcmp(x->version, "none") == 0 ||
        (f->version = tlsinfo_version_from_macro(x->version)) == TLS_V_NONE) {
        snprintf(why, len, "the session was not encrypted");
        return 1;
    }
    if (client(f, x, why, len) < 0)
        return -1;
    return check(x, f, why, len);
}

/* fromrec_parse - the facts of one line */
int fromrec_parse(const char *line, struct fromrec *f, char *why, size_t len)
{
    struct prefix_ctx pctx = {0, time(NULL)};
    struct facts x = {NULL, NULL, NULL, NULL};
    struct prefix pf;
    struct rec rec;
    const char *bad = "not a record";
    char *copy, *msg;
    int rc = 1;

    memset(f, 0, sizeof(*f));
    if ((copy = strdup(line)) == NULL) {
        snprintf(why, len, "out of memory");
        return -1;
    }
    copy[strcspn(copy, "\r\n")] = 0;
    prefix_parse(&pctx, copy, &pf);
    msg = copy + (pf.msg - copy);
    memset(&rec, 0, sizeof(rec));
    if (recparse_is_record(msg) != REC_NONE) {
        if (recparse_record(msg, &rec, &bad) == 0) {
            x = (struct facts){rec.f[REC_TLS_VERSION], rec.f[REC_CIPHER], rec.f[REC_CLIENT_NAME],
                               rec.f[REC_CLIENT_ADDR]};
            rc = from_facts(&x, f, why, len);
        } else {
            snprintf(why, len, "malformed record: %s", bad);
        }
    } else if (bare_fields(msg, &x) == 0) {
        rc = from_facts(&x, f, why, len);
    } else {
        snprintf(why, len, "neither a tlspolicyd record nor key=value fields");
    }
    recparse_clear(&rec);
    free(copy);
    return rc;
}

/* fromrec_print - the profile as a libconfig group to paste into the profiles list */
void fromrec_print(FILE *fp, const struct fromrec *f)
{
    const char *v = tlsinfo_version_name(f->version);
    const char *client = f->client[0] ? f->client : "a sender";

    fprintf(fp, "# From a tlspolicyd record: %s negotiated %s with %s", client, v, f->recorded);
    if (strcmp(f->recorded, f->cipher) != 0)
        fprintf(fp, " (OpenSSL: %s)", f->cipher);
    fprintf(fp, ".\n"
                "# One negotiated suite is a lower bound of what the sender offers:\n"
                "# this profile is conservative (see tlspolicy-probe(1)).\n");
    fprintf(fp, "{\n    name = \"%s\";\n", f->name);
    fprintf(fp, "    note = \"tlspolicyd record: %s negotiated %s %s\";\n", client, v, f->cipher);
    fprintf(fp, "    min_version = \"%s\";\n    max_version = \"%s\";\n", v, v);
    fprintf(fp, "    %s = \"%s\";\n", f->version == TLS_V_TLS13 ? "ciphersuites" : "ciphers", f->cipher);
    fprintf(fp, "    must_pass = true;\n}\n");
}
