/*++
 * NAME
 *	cidr 3h
 * SUMMARY
 *	IPv4 and IPv6 address blocks
 * DESCRIPTION
 *	Addresses are kept as 16 bytes; IPv4 addresses are stored as
 *	IPv4-mapped IPv6 (::ffff:a.b.c.d) so that one comparison covers both
 *	families and an IPv4-mapped client address matches an IPv4 block.
 *--*/
#ifndef CIDR_H
#define CIDR_H

#include <stdbool.h>
#include <stddef.h>

struct ip_addr {
    unsigned char b[16];
};

struct cidr {
    struct ip_addr net; /* host bits are zero */
    unsigned prefix;    /* 0..128, counted on the 16-byte form */
};

struct cidr_list {
    struct cidr *items;
    size_t n;
};

/* Parses "a.b.c.d", "a.b.c.d/n", "x::y", "x::y/n", also "[x::y]" and an
   "IPv6:" prefix as MTAs write them. Returns 0, or -1 for a malformed
   address or prefix. Host bits set below the prefix are an error too, since
   "10.1.2.3/8" is nearly always a typo the administrator wants to hear of. */
int cidr_parse(const char *text, struct cidr *out);

/* Parses a single address as above, without a prefix. */
int ip_addr_parse(const char *text, struct ip_addr *out);

bool ip_addr_is_v4(const struct ip_addr *);
bool cidr_match(const struct cidr *, const struct ip_addr *);
bool cidr_list_match(const struct cidr_list *, const struct ip_addr *);

/* cidr_format - "192.0.2.0/24" or "2001:db8::/64", host bits cleared */
void cidr_format(const struct cidr *, char *out, size_t len);

/* Appends; returns -1 when out of memory. */
int cidr_list_add(struct cidr_list *, const struct cidr *);
void cidr_list_free(struct cidr_list *);

#endif
