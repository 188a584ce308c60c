/*++
 * NAME
 *	live 3h
 * SUMMARY
 *	one client profile against a running server, over the network
 * DESCRIPTION
 *	The same ClientHello as the offline probe (client.c), sent to a
 *	running MX after SMTP's STARTTLS or straight away (port 465).
 *--*/
#ifndef PROBE_LIVE_H
#define PROBE_LIVE_H

/* System library. */
#include <stdbool.h>

/* Application. */
#include "probe/probe.h"
#include "util/tp_error.h"

struct live_target {
    char host[256];
    char port[8];
    bool starttls; /* SMTP STARTTLS first; else TLS at once */
    int timeout;   /* seconds for one profile, connect to QUIT */
};

/* live_target_parse - HOST, HOST:PORT, [ADDR] or [ADDR]:PORT; port 25 by default */
int live_target_parse(const char *arg, struct live_target *t, struct tp_error *err);

/* live_probe - one connection, one handshake of profile p; the outcome into r */
void live_probe(const struct live_target *t, const struct probe_profile *p, struct probe_result *r);

#endif
