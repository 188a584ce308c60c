/*++
 * NAME
 *	fuzz_policy 1
 * SUMMARY
 *	libFuzzer harness: Postfix policy requests through the parser and the dialogue
 * SYNOPSIS
 *	fuzz_policy [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is what a policy client sends on one connection: it is cut
 *	at each newline and every line goes to policy_conn_line(), the one
 *	function the server (src/policy/server.c) feeds lines to: a line
 *	longer than POLICY_LINE_MAX is refused, a complete request is
 *	answered by the connection's dialogue over a session service whose
 *	sink checks each record, a malformed one is refused and the
 *	connection closed
 *	(policy_conn_free) and the rest of the input arrives on a new one,
 *	as a client that reconnects. The end of the input closes the last
 *	connection, which writes its session's records.
 *
 *	One fixed configuration (the policies of fuzz_session, monitor and
 *	tempfail among them) is written to a private directory (mkdtemp(),
 *	removed at exit) and loaded once.
 *
 *	Checked beyond the sanitizers: every reply is one of the documented
 *	forms, "action=DUNNO", "action=DEFER_IF_PERMIT 4.3.5 ..." or
 *	"action=CODE X.Y.Z text" with a 4xx or 5xx code, printable ASCII, one
 *	line and the empty line (a CR or LF from a recipient would forge a
 *	request of Postfix's own); a malformed request is never answered
 *	with anything but DEFER_IF_PERMIT; every record reads back with
 *	recparse_record() and seq runs 1, 2, 3 ... per service.
 *--*/

/* System library. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Application. */
#include "config/config.h"
#include "config/config_ref.h"
#include "policy/dialogue.h"
#include "policy/request.h"
#include "record/recparse.h"
#include "session/session.h"
#include "util/strbuf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MALFORMED "action=DEFER_IF_PERMIT 4.3.5 Malformed policy request\n\n"

static const char conf[] =
    "exempt = { clients = [ \"127.0.0.0/8\", \"::1\" ]; authenticated = true; };\n"
    "policies = (\n"
    "  { name = \"gdpr\"; recipient_domains = [ \"gdpr.example\", \".gdpr.example\" ]; level = "
    "\"required\";\n"
    "    min_tls_version = \"TLSv1.2\"; ciphers = \"HIGH:!aNULL:!RC4:!3DES\"; min_cipher_bits = 128;\n"
    "    reply = \"Mail for %d must arrive over TLS\"; },\n"
    "  { name = \"soft\"; recipient_domains = [ \"soft.example\" ]; level = \"required\";\n"
    "    action = \"tempfail\"; },\n"
    "  { name = \"partner\"; sender_domains = [ \"partner.example\" ]; level = \"verified\";\n"
    "    cert_subject = \"mx.partner.example\"; cert_issuer = \"Partner CA\"; },\n"
    "  { name = \"watch\"; client_addresses = [ \"192.0.2.0/24\" ];\n"
    "    level = \"verified\"; mode = \"monitor\"; }\n"
    ");\n";

static char dir[256];
static struct policy_request *req; /* 32 KiB, allocated once */

/* cleanup - the configuration and the private directory go with the process */
static void cleanup(void)
{
    config_ref_shutdown();
    free(req);
    rmdir(dir);
}

/* LLVMFuzzerInitialize - the configuration, loaded once */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");
    struct tp_errlist *errs = malloc(sizeof(*errs));
    struct config *cfg;
    char p[300], err[512];
    FILE *fp;

    (void) argc, (void) argv;
    snprintf(dir, sizeof(dir), "%s/fuzz_policy.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
    if (errs == NULL || (req = malloc(sizeof(*req))) == NULL || mkdtemp(dir) == NULL)
        exit(2);
    atexit(cleanup);
    snprintf(p, sizeof(p), "%s/t.conf", dir);
    if ((fp = fopen(p, "w")) == NULL)
        exit(2);
    fputs(conf, fp);
    fclose(fp);
    tp_errlist_init(errs);
    cfg = config_load(p, errs);
    unlink(p);
    if (cfg == NULL || config_ref_install(cfg) != 0) {
        tp_error_format(&errs->items[0], err, sizeof(err));
        fprintf(stderr, "fuzz_policy: configuration: %s\n", err);
        exit(2);
    }
    free(errs);
    return 0;
}

/* The sink: checks each record as it comes. */
struct capture {
    unsigned long long seq;
};

/* cap_record - sink: the line reads back, its seq is the one handed over and follows the last */
static void cap_record(void *arg, int priority, unsigned long long seq, const char *line)
{
    struct capture *c = arg;
    char *copy = strdup(line);
    const char *why = NULL;
    struct rec r;

    (void) priority;
    if (copy == NULL)
        return;
    if (recparse_record(copy, &r, &why) != 0) {
        fprintf(stderr, "record not read back: %s\n%s\n", why, line);
        abort();
    }
    if (r.seq != ++c->seq || r.seq != seq)
        abort();
    recparse_clear(&r);
    free(copy);
}

/* cap_notice - sink: a malformed request's reason; discarded */
static void cap_notice(void *arg, int priority, const char *text)
{
    (void) arg, (void) priority, (void) text;
}

/* check_reply - one of the forms dialogue.h documents, on one line */
static void check_reply(const struct strbuf *reply)
{
    const char *s = strbuf_str(reply);
    size_t i, len = reply->len;

    if (strbuf_failed(reply) || len < 9 || strncmp(s, "action=", 7) != 0 || strcmp(s + len - 2, "\n\n") != 0)
        abort();
    for (i = 7; i < len - 2; i++)
        if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e)
            abort();
    if (strcmp(s, "action=DUNNO\n\n") == 0 || strcmp(s, MALFORMED) == 0)
        return;
    /* "action=530 5.7.0 text": a 4xx or 5xx code, an enhanced code of the same class, a text */
    if (!(s[7] == '4' || s[7] == '5') || !isdigit((unsigned char) s[8]) || !isdigit((unsigned char) s[9]) ||
        s[10] != ' ' || s[11] != s[7] || s[12] != '.' || len < 16)
        abort();
}

/* A connection in the harness: the dialogue and its request. */
struct conn {
    struct session_service *svc;
    struct policy_conn *dialogue;
};

/* reconnect - the server closed the connection; the client opens another */
static bool reconnect(struct conn *c)
{
    policy_conn_free(c->dialogue);
    c->dialogue = policy_conn_new(c->svc);
    policy_request_init(req);
    return c->dialogue != NULL;
}

/* take_line - one line as the server takes it; false: out of memory */
static bool take_line(struct conn *c, const char *line, size_t len)
{
    struct strbuf reply;
    enum policy_parse step;

    strbuf_init(&reply);
    step = policy_conn_line(c->dialogue, req, line, len, &reply);
    if (step == POLICY_BAD && strcmp(strbuf_str(&reply), MALFORMED) != 0)
        abort();
    if (step == POLICY_DONE)
        check_reply(&reply);
    strbuf_free(&reply);
    /* A malformed request: the one answer, then a new connection. */
    return step == POLICY_BAD ? reconnect(c) : true;
}

/* LLVMFuzzerTestOneInput - the input as one client's byte stream, on a fresh service */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct capture cap = {0};
    struct session_sink sink = {cap_record, cap_notice, &cap};
    const char *p = (const char *) data, *end = p + size, *nl;
    struct conn c = {0};

    if ((c.svc = session_service_new(&sink, "fuzz")) == NULL)
        return 0;
    if ((c.dialogue = policy_conn_new(c.svc)) != NULL) {
        policy_request_init(req);
        /* A last line without its newline never reaches the parser: the
           server waits for the rest of it. */
        for (; p < end && (nl = memchr(p, '\n', (size_t) (end - p))) != NULL; p = nl + 1)
            if (!take_line(&c, p, (size_t) (nl - p)))
                break;
        policy_conn_free(c.dialogue);
    }
    session_service_free(c.svc);
    return 0;
}
