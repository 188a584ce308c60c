/*++
 * NAME
 *	hash 3h
 * SUMMARY
 *	the one string hash of the project: FNV-1a, 32 and 64 bits
 * DESCRIPTION
 *	Every hash table here (domain map, cipher catalogue, report maps,
 *	the failed-STARTTLS table, the MTA failure joiner) hashes short
 *	names: FNV-1a is fast on them and good enough with a power-of-two
 *	table when the caller mixes the result (hash_mix32) or uses the 64-bit
 *	form. The values are never stored on disk or sent anywhere, so the
 *	choice can change without a format change.
 *
 *	Feed bytes one at a time with hash_step32/64 where a caller walks a
 *	key its own way (the domain map feeds labels right to left), or hash
 *	a whole string or buffer with the helpers below.
 *--*/
#ifndef UTIL_HASH_H
#define UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH32_INIT 2166136261u
#define HASH64_INIT 14695981039346656037ULL

/* hash_step32 - extend a 32-bit FNV-1a hash by one byte */
static inline uint32_t hash_step32(uint32_t h, unsigned char c)
{
    return (h ^ c) * 16777619u;
}

/* hash_step64 - extend a 64-bit FNV-1a hash by one byte */
static inline uint64_t hash_step64(uint64_t h, unsigned char c)
{
    return (h ^ c) * 1099511628211ULL;
}

/* hash_bytes32 - FNV-1a over n bytes, continuing h */
static inline uint32_t hash_bytes32(uint32_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    while (n-- > 0)
        h = hash_step32(h, *b++);
    return h;
}

/* hash_bytes64 - FNV-1a over n bytes, continuing h */
static inline uint64_t hash_bytes64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    while (n-- > 0)
        h = hash_step64(h, *b++);
    return h;
}

/* hash_str32 - FNV-1a of a NUL-terminated string */
static inline uint32_t hash_str32(const char *s)
{
    uint32_t h = HASH32_INIT;

    for (; *s; s++)
        h = hash_step32(h, (unsigned char) *s);
    return h;
}

/* hash_str64 - FNV-1a of a NUL-terminated string */
static inline uint64_t hash_str64(const char *s)
{
    uint64_t h = HASH64_INIT;

    for (; *s; s++)
        h = hash_step64(h, (unsigned char) *s);
    return h;
}

/* hash_mix32 - spread all bits into the low ones, which pick a slot
   (FNV-1a's low bits are weak for keys that differ only at one end) */
static inline uint32_t hash_mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

#endif
