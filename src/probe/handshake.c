/*++
 * NAME
 *	handshake 3
 * SUMMARY
 *	one client profile against a server SSL_CTX, in memory
 * SYNOPSIS
 *	#include "probe/handshake.h"
 *
 *	void	handshake_memory(server, profile, result)
 *	void	handshake_step(ssl, state, why, len)
 * DESCRIPTION
 *	handshake_memory() joins a client built from the profile and a
 *	server from the given context with a BIO pair and lets them take
 *	turns until both have finished or one has failed and the other has
 *	read its alert.
 *
 *	On failure the result's error is the server's reason when it has
 *	one: that is the line the MTA logs ("no shared cipher"), so the
 *	probe's table reads like the log of the break it predicts. The
 *	client's reason, usually the alert it received, is kept beside it.
 *
 *	handshake_step() is one turn of one side; the live probe uses it
 *	over a socket.
 *--*/

/* System library. */
#include <stdio.h>

/* Libraries. */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* Application. */
#include "probe/client.h"
#include "probe/handshake.h"
#include "probe/sslerr.h"

/* A TLS 1.2 handshake takes four turns a side; far more means a stuck peer. */
#define TURNS_MAX 64

/* handshake_step - one SSL_do_handshake() call on a pending side */
void handshake_step(SSL *ssl, enum handshake_state *st, char *why, size_t len)
{
    int rc, e;

    if (*st != HS_PENDING)
        return;
    ERR_clear_error();
    if ((rc = SSL_do_handshake(ssl)) == 1) {
        *st = HS_DONE;
        return;
    }
    e = SSL_get_error(ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return;
    *st = HS_FAILED;
    sslerr_take(why, len,
                e == SSL_ERROR_SYSCALL ? "connection closed during the handshake" : "handshake failed");
}

/* take_turns - run both sides until neither can move */
static void take_turns(SSL *c, SSL *s, struct probe_result *r, char *server_why, size_t len)
{
    enum handshake_state cs = HS_PENDING, ss = HS_PENDING;
    int turn, failed_at = -1;

    for (turn = 0; turn < TURNS_MAX && (cs == HS_PENDING || ss == HS_PENDING); turn++) {
        handshake_step(c, &cs, r->client_error, sizeof(r->client_error));
        handshake_step(s, &ss, server_why, len);
        /* The other side reads the alert within two turns; a side that
           failed without one would leave it waiting for ever. */
        if (failed_at < 0 && (cs == HS_FAILED || ss == HS_FAILED))
            failed_at = turn;
        else if (failed_at >= 0 && turn >= failed_at + 2)
            break;
    }
    if (cs == HS_DONE && ss == HS_DONE) {
        client_outcome(c, r);
        return;
    }
    r->verdict = PROBE_FAIL;
    if (server_why[0] == 0 && r->client_error[0] == 0)
        snprintf(server_why, len, "handshake did not complete");
    snprintf(r->error, sizeof(r->error), "%s", server_why[0] ? server_why : r->client_error);
}

/* handshake_memory - handshake profile p against server; the outcome into r */
void handshake_memory(SSL_CTX *server, const struct probe_profile *p, struct probe_result *r)
{
    char server_why[PROBE_TEXT_MAX] = "";
    SSL_CTX *cctx;
    SSL *c = NULL, *s = NULL;
    BIO *cb = NULL, *sb = NULL;

    if ((cctx = client_ctx_new(p, r)) == NULL)
        return;
    if ((c = SSL_new(cctx)) == NULL || (s = SSL_new(server)) == NULL ||
        BIO_new_bio_pair(&cb, 0, &sb, 0) != 1) {
        r->verdict = PROBE_ERROR;
        sslerr_take(r->error, sizeof(r->error), "out of memory");
    } else {
        /* Each SSL owns its end of the pair from here on. */
        SSL_set_bio(c, cb, cb);
        SSL_set_bio(s, sb, sb);
        SSL_set_connect_state(c);
        SSL_set_accept_state(s);
        take_turns(c, s, r, server_why, sizeof(server_why));
    }
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(cctx);
}
