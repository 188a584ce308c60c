/*++
 * NAME
 *	recaddr 3
 * SUMMARY
 *	addresses as the records log them
 * SYNOPSIS
 *	#include "record/record.h"
 *
 *	void	record_address(opts, addr, out)
 * DESCRIPTION
 *	Addresses under "log.addresses": "full" logs them as sent; "domain"
 *	logs "@domain"; "hash" logs the first 16 hex digits of
 *	HMAC-SHA256(key, local part) and "@domain". The local part is hashed
 *	without its quotes and backslash escapes and in ASCII lower case, so
 *	that the spellings of one mailbox give one hash. The domain is the
 *	normalised (lower case, A-label) domain, or an address literal as
 *	written; a source route is dropped. An address without a domain
 *	("postmaster") logs in hash mode as the hash of its local part alone,
 *	an unparsable one as the hash of its whole text (treated like a local
 *	part: quotes and escapes removed, lower case); in domain mode both
 *	log as absent, since nothing in them is a domain. The null sender
 *	logs as "<>" in every mode.
 *
 *	Kept apart from record.c, which lays out the fields: this is the
 *	privacy rule, and the reply text needs it too.
 * DIAGNOSTICS
 *	When the HMAC cannot be computed the local part logs as "?", never
 *	as the clear text.
 *--*/

/* System library. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* OpenSSL. */
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Application. */
#include "record/record.h"

#define HASH_HEX_DIGITS 16

/* local_span - where the local part is, past brackets and a source route */
static const char *local_span(const char *s, const char **end)
{
    const char *p, *start;

    for (p = s; *p == ' ' || *p == '\t'; p++)
        /* void */;
    if (*p == '<')
        p++;
    if (*p == '@' && strchr(p, ':') != NULL)
        p = strchr(p, ':') + 1;
    start = p;
    for (bool quoted = false; *p && (quoted || (*p != '@' && *p != '>' && *p != ' ')); p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '\\' && p[1] != 0)
            p++;
    }
    *end = p;
    return start;
}

/* canonical_local - local part without quotes and escapes, ASCII lower case */
static void canonical_local(const char *p, const char *end, struct strbuf *out)
{
    for (; p < end; p++) {
        if (*p == '"')
            continue;
        if (*p == '\\' && p + 1 < end)
            p++;
        strbuf_putc(out, *p >= 'A' && *p <= 'Z' ? (char) (*p - 'A' + 'a') : *p);
    }
}

/* put_hash - first 16 hex digits of HMAC-SHA256(key, text) */
static void put_hash(const struct record_opts *opts, const struct strbuf *text, struct strbuf *out)
{
    static const unsigned char no_key[1];
    const unsigned char *key = opts->hash_key ? opts->hash_key : no_key;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int i;

    if (opts->hash_key_len > INT_MAX || strbuf_failed(text) ||
        HMAC(EVP_sha256(), key, opts->hash_key ? (int) opts->hash_key_len : 0,
             (const unsigned char *) strbuf_str(text), text->len, md, &mdlen) == NULL ||
        mdlen * 2 < HASH_HEX_DIGITS) {
        /* Never fall back to the clear text: the point is not to log it. */
        strbuf_puts(out, "?");
        return;
    }
    for (i = 0; i < HASH_HEX_DIGITS / 2; i++)
        strbuf_printf(out, "%02x", md[i]);
}

/* put_domain - "@" and the domain to log: normalised, or a literal as written */
static void put_domain(const struct address *a, const char *at, struct strbuf *out)
{
    const char *end;

    strbuf_putc(out, '@');
    if (a->kind == ADDR_DOMAIN) {
        strbuf_puts(out, a->domain);
    } else if ((end = strchr(at + 1, ']')) != NULL) {
        strbuf_putn(out, at + 1, (size_t) (end - at));
    }
}

/* record_address - the address as logged under opts->addresses */
void record_address(const struct record_opts *opts, const char *addr, struct strbuf *out)
{
    struct address a;
    struct strbuf text;
    const char *start, *end;

    if (addr == NULL)
        return;
    if (opts->addresses == LOG_ADDR_FULL) {
        strbuf_puts(out, addr);
        return;
    }
    address_parse(addr, &a);
    if (a.kind == ADDR_NULL) {
        strbuf_puts(out, "<>");
        return;
    }
    if (opts->addresses == LOG_ADDR_DOMAIN && a.kind != ADDR_DOMAIN && a.kind != ADDR_LITERAL)
        return;
    start = local_span(addr, &end);
    if (opts->addresses == LOG_ADDR_HASH) {
        strbuf_init(&text);
        /* An unreadable address has no known local part: all of it is hashed. */
        if (a.kind == ADDR_INVALID)
            canonical_local(addr, addr + strlen(addr), &text);
        else
            canonical_local(start, end, &text);
        put_hash(opts, &text, out);
        if (strbuf_failed(&text))
            out->failed = true;
        strbuf_free(&text);
    }
    if (a.kind == ADDR_DOMAIN || a.kind == ADDR_LITERAL)
        put_domain(&a, end, out);
}
