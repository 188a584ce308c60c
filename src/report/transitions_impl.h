/*++
 * NAME
 *	transitions_impl 3h
 * SUMMARY
 *	the TLS-to-plaintext transitions' state, shared with their writers
 * DESCRIPTION
 *	transitions.c fills it from the records; transitions_out.c
 *	prints it. A client is a key of clients; until its first
 *	plaintext decision after one over TLS, first_plain is "" and the
 *	TLS facts follow the records; from then on they stay as they were.
 *--*/
#ifndef REPORT_TRANSITIONS_IMPL_H
#define REPORT_TRANSITIONS_IMPL_H

#include "util/map.h"

#define TRANSITIONS_TIME_MAX 32

/* One client's history. */
struct transitions_client {
    char last_tls[TRANSITIONS_TIME_MAX]; /* last TLS sighting before the change */
    char *version, *cipher;              /* at that sighting */
    struct map versions;                 /* seen over TLS before the change */
    struct map ciphers;
    char first_plain[TRANSITIONS_TIME_MAX]; /* the change; "" until then */
    unsigned long long plaintext, refused;
};

struct transitions {
    struct map clients; /* key -> struct transitions_client */
    int oom;
};

#endif
