/*++
 * NAME
 *	fbkey 3
 * SUMMARY
 *	the key the fallback rules learn a sender under
 * SYNOPSIS
 *	#include "state/fbkey.h"
 *
 *	int	fbkey_make(kind, session, out, len)
 *	int	fbkey_registered_domain(host, out, len)
 * DESCRIPTION
 *	See fbkey.h. The public suffix list is Debian's (package publicsuffix,
 *	read once); libpsl's built-in list is the fallback when that file is
 *	missing. A host name that is itself a public suffix has no registered
 *	domain.
 *--*/

/* System library. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Libraries. */
#include <libpsl.h>

/* Application. */
#include "state/fbkey.h"

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static psl_ctx_t *psl;

/* load_psl - the newest list available, once per process */
static void load_psl(void)
{
    if ((psl = psl_latest(NULL)) == NULL)
        psl = (psl_ctx_t *) psl_builtin();
}

/* fbkey_registered_domain - "mx1.mail.example.co.uk" -> "example.co.uk" */
int fbkey_registered_domain(const char *host, char *out, size_t len)
{
    char name[DOMAIN_MAX + 1];
    struct tp_error err;
    const char *reg;

    if (host == NULL || domain_normalize(host, name, &err) != 0)
        return -1;
    pthread_once(&psl_once, load_psl);
    if (psl == NULL || (reg = psl_registrable_domain(psl, name)) == NULL)
        return -1;
    snprintf(out, len, "%s", reg);
    return 0;
}

/* client_net - "192.0.2.0/24" or "2001:db8:1:2::/64" */
static int client_net(const struct session_facts *s, char *out, size_t len)
{
    struct cidr net;
    char text[64];

    if (!s->has_client_addr)
        return -1;
    net.net = s->client_ip;
    net.prefix = ip_addr_is_v4(&s->client_ip) ? 96 + 24 : 64;
    cidr_format(&net, text, sizeof(text));
    snprintf(out, len, "client_net:%s", text);
    return 0;
}

/* fbkey_make - the key for this session */
int fbkey_make(enum fallback_key kind, const struct session_facts *s, char *out, size_t len)
{
    char reg[DOMAIN_MAX + 1];
    const char *dom;

    switch (kind) {
    case FB_KEY_CLIENT_DOMAIN:
        /* An unverified name is the client's claim: an attacker could make
           us learn, or forget, another sender's history under it. */
        if (s->client_name_verified && fbkey_registered_domain(s->client_name, reg, sizeof(reg)) == 0) {
            snprintf(out, len, "client_domain:%s", reg);
            return 0;
        }
        return client_net(s, out, len);
    case FB_KEY_CLIENT_NET:
        return client_net(s, out, len);
    case FB_KEY_CLIENT_ADDR:
        if (!s->has_client_addr)
            return -1;
        snprintf(out, len, "client_addr:%s", s->client_addr);
        return 0;
    case FB_KEY_SENDER_DOMAIN:
        if ((dom = facts_sender_domain(s)) == NULL)
            return -1;
        snprintf(out, len, "sender_domain:%s", dom);
        return 0;
    }
    return -1;
}
