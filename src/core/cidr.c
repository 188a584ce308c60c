/*++
 * NAME
 *	cidr 3
 * SUMMARY
 *	IPv4 and IPv6 address blocks
 * SYNOPSIS
 *	#include "core/cidr.h"
 *
 *	int	cidr_parse(text, out)
 *	int	ip_addr_parse(text, out)
 *	bool	ip_addr_is_v4(addr)
 *	bool	cidr_match(block, addr)
 *	bool	cidr_list_match(list, addr)
 *	int	cidr_list_add(list, block)
 *	void	cidr_list_free(list)
 * DESCRIPTION
 *	Every address is 16 bytes; an IPv4 address a.b.c.d is kept as the
 *	IPv4-mapped ::ffff:a.b.c.d, and the prefix of an IPv4 block n is kept
 *	as 96 + n. One comparison then serves both families, an IPv4-mapped
 *	client address (what a dual-stack listener reports) matches an IPv4
 *	block, and "0.0.0.0/0" means every IPv4 address but no native IPv6
 *	one, while "::/0" means every address.
 *
 *	Accepted spellings: "192.0.2.1", "2001:db8::1", the address-literal
 *	forms "[192.0.2.1]" and "[2001:db8::1]", and the "IPv6:" tag of
 *	Sendmail's {client_addr} and RFC 5321 literals ("IPv6:2001:db8::1",
 *	"[IPv6:2001:db8::1]"). A prefix follows the address, after any closing
 *	bracket, as Postfix writes "[2001:db8::]/32" in mynetworks.
 *
 *	A list grows by doubling; its capacity is implied by its length (the
 *	smallest power of two, at least LIST_MIN, not below n), so the public
 *	structure needs no capacity field.
 * DIAGNOSTICS
 *	The parsers return -1 for malformed input and leave *out unspecified.
 *--*/

/* System library. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Application. */
#include "core/cidr.h"

/* Longest address text we accept: an IPv6 address with an embedded IPv4
   tail is at most 45 characters; leave room for "[IPv6:" and "]". */
#define ADDR_TEXT_MAX 64

#define V4_PREFIX_OFFSET 96 /* bits before the IPv4 part of ::ffff:a.b.c.d */
#define LIST_MIN         8

/* The first 12 bytes of every IPv4-mapped address. */
static const unsigned char v4_mapped_head[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* strip_literal - remove "[...]" and an "IPv6:" tag; note whether the tag was there */
static int strip_literal(const char *text, size_t len, char *buf, bool *tagged)
{
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    /* The tag is case-insensitive in RFC 5321 (Standardized-tag). */
    *tagged = len >= 5 && strncasecmp(text, "IPv6:", 5) == 0;
    if (*tagged) {
        text += 5;
        len -= 5;
    }
    if (len == 0 || len >= ADDR_TEXT_MAX)
        return -1;
    memcpy(buf, text, len);
    buf[len] = 0;
    return 0;
}

/* addr_parse_n - parse the first len bytes of text as one address */
static int addr_parse_n(const char *text, size_t len, struct ip_addr *out, bool *is_v4)
{
    char buf[ADDR_TEXT_MAX];
    unsigned char v4[4];
    bool tagged;

    if (strip_literal(text, len, buf, &tagged) < 0)
        return -1;
    if (!tagged && inet_pton(AF_INET, buf, v4) == 1) {
        memcpy(out->b, v4_mapped_head, sizeof(v4_mapped_head));
        memcpy(out->b + 12, v4, sizeof(v4));
        *is_v4 = true;
        return 0;
    }
    *is_v4 = false;
    return inet_pton(AF_INET6, buf, out->b) == 1 ? 0 : -1;
}

/* ip_addr_parse - one address, no prefix */
int ip_addr_parse(const char *text, struct ip_addr *out)
{
    bool is_v4;

    if (text == NULL)
        return -1;
    return addr_parse_n(text, strlen(text), out, &is_v4);
}

/* ip_addr_is_v4 - is this an IPv4(-mapped) address */
bool ip_addr_is_v4(const struct ip_addr *addr)
{
    return memcmp(addr->b, v4_mapped_head, sizeof(v4_mapped_head)) == 0;
}

/* parse_prefix - decimal prefix length, digits only, at most max */
static int parse_prefix(const char *s, unsigned max, unsigned *out)
{
    unsigned n = 0;
    size_t i;

    /* Digits only: strtoul would take "+8", " 8" and "8junk". Three digits
       bound the value, and a leading zero ("/08") is refused as a likely
       typo rather than read as eight. */
    if (s[0] == 0 || strlen(s) > 3 || (s[0] == '0' && s[1] != 0))
        return -1;
    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (unsigned) (s[i] - '0');
    }
    if (n > max)
        return -1;
    *out = n;
    return 0;
}

/* host_bits_clear - are all bits below the prefix zero */
static bool host_bits_clear(const struct ip_addr *addr, unsigned prefix)
{
    unsigned i;

    for (i = prefix / 8; i < 16; i++) {
        unsigned char mask = i == prefix / 8 ? (unsigned char) (0xff >> (prefix % 8)) : 0xff;

        if (addr->b[i] & mask)
            return false;
    }
    return true;
}

/* cidr_parse - address block, or one address as a full-length block */
int cidr_parse(const char *text, struct cidr *out)
{
    const char *slash;
    unsigned prefix;
    bool is_v4;

    if (text == NULL)
        return -1;
    slash = strchr(text, '/');
    if (addr_parse_n(text, slash ? (size_t) (slash - text) : strlen(text), &out->net, &is_v4) < 0)
        return -1;
    if (slash == NULL) {
        out->prefix = 128;
        return 0;
    }
    if (parse_prefix(slash + 1, is_v4 ? 32 : 128, &prefix) < 0)
        return -1;
    out->prefix = is_v4 ? V4_PREFIX_OFFSET + prefix : prefix;
    /* "10.1.2.3/8" is nearly always a typo for 10.1.2.3/32 or 10.0.0.0/8;
       guessing either could exempt the wrong clients. */
    return host_bits_clear(&out->net, out->prefix) ? 0 : -1;
}

/* cidr_match - is addr inside the block */
bool cidr_match(const struct cidr *block, const struct ip_addr *addr)
{
    unsigned whole = block->prefix / 8, rest = block->prefix % 8;
    unsigned char mask;

    if (memcmp(block->net.b, addr->b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    mask = (unsigned char) (0xff << (8 - rest));
    return (addr->b[whole] & mask) == block->net.b[whole];
}

/* cidr_list_match - is addr inside any block of the list */
bool cidr_list_match(const struct cidr_list *list, const struct ip_addr *addr)
{
    size_t i;

    /* A linear scan: lists are exemptions and client blocks written by
       hand, a few entries each. */
    for (i = 0; i < list->n; i++)
        if (cidr_match(&list->items[i], addr))
            return true;
    return false;
}

/* cidr_list_add - append a copy of a block */
int cidr_list_add(struct cidr_list *list, const struct cidr *block)
{
    struct cidr *items;
    size_t cap;

    /* Full when n is LIST_MIN or a larger power of two (see DESCRIPTION). */
    if (list->n == 0 || (list->n >= LIST_MIN && (list->n & (list->n - 1)) == 0)) {
        cap = list->n == 0 ? LIST_MIN : list->n * 2;
        if (cap > SIZE_MAX / sizeof(*items) || (items = realloc(list->items, cap * sizeof(*items))) == NULL)
            return -1;
        list->items = items;
    }
    list->items[list->n++] = *block;
    return 0;
}

/* cidr_list_free - release the blocks; the list is empty afterwards */
void cidr_list_free(struct cidr_list *list)
{
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

/* cidr_format - the block in the form an administrator writes it */
void cidr_format(const struct cidr *c, char *out, size_t len)
{
    struct ip_addr net = c->net;
    char text[INET6_ADDRSTRLEN];
    unsigned i;

    for (i = 0; i < 16; i++) {
        unsigned keep = c->prefix > i * 8 ? c->prefix - i * 8 : 0;

        if (keep < 8)
            net.b[i] &= (unsigned char) (0xff << (8 - keep));
    }
    if (ip_addr_is_v4(&net) && c->prefix >= 96) {
        inet_ntop(AF_INET, net.b + 12, text, sizeof(text));
        snprintf(out, len, "%s/%u", text, c->prefix - 96);
    } else {
        inet_ntop(AF_INET6, net.b, text, sizeof(text));
        snprintf(out, len, "%s/%u", text, c->prefix);
    }
}
