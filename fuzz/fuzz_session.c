/*++
 * NAME
 *	fuzz_session 1
 * SUMMARY
 *	libFuzzer harness: session facts and decisions from arbitrary MTA values
 * SYNOPSIS
 *	fuzz_session [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is a script of session calls, one per line, as a front end
 *	makes them (tests/unit/test_session.c does the same with fixed
 *	values): a word, a space and the arguments separated by tabs; an
 *	argument "\0" (backslash, zero) is NULL (the MTA did not send the
 *	macro), a missing one too. Values therefore hold no tab or newline;
 *	the record harness (fuzz_record) covers those bytes.
 *
 *	    open ADDR	NAME	RESOLVE	MTA
 *	    tls VERSION	CIPHER	BITS	SUBJECT	ISSUER	VERIFY	AUTH	FINGERPRINT	PUBKEY_FINGERPRINT
 *	    helo NAME
 *	    mail SENDER	RESOLVED
 *	    qid ID
 *	    rcpt RCPT	RESOLVED
 *	    eom | abort | close
 *	    reload N	(N 0, 1 or 2: kv, json with domains, hash)
 *
 *	Calls out of order (tls before open, a second open) are dropped, as
 *	the milter never makes them. Each input runs on a fresh service
 *	whose sink captures the records, under configuration 0 unless a
 *	reload says otherwise; the configurations and the hash key file live
 *	in a private directory (mkdtemp(), removed at exit).
 *
 *	Checked beyond the sanitizers: every record line reads back with
 *	recparse_record() and seq runs 1, 2, 3 ...; session_rcpt() returns
 *	the action of its reply, a refusal has a reply text and an
 *	acceptance none, and a reply text is printable ASCII (decision.h:
 *	it goes to the SMTP client as is, so a CR or LF from a recipient's
 *	domain would forge protocol lines).
 *--*/

/* System library. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Application. */
#include "config/config.h"
#include "config/config_ref.h"
#include "record/recparse.h"
#include "session/session.h"

#define MAX_ARGS 9
#define NCONF    3

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The policies of tests/unit/test_session.c and etc/tlspolicyd.conf: a reply with %d. */
static const char policies[] =
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
    "    level = \"verified\"; mode = \"monitor\"; },\n"
    "  { name = \"pinned\"; recipient_domains = [ \"pinned.example\" ]; level = \"verified\";\n"
    "    cert_fingerprint = [ \"MD5:00112233445566778899aabbccddeeff\" ]; }\n"
    ");\n";

static const char *const logs[NCONF] = {
    "log = { format = \"kv\"; addresses = \"full\"; };\n",
    "log = { format = \"json\"; addresses = \"domain\"; };\n",
    "log = { format = \"kv\"; addresses = \"hash\"; hash_key_file = ", /* "DIR/key"; }; */
};

static char dir[256];
static bool reloaded; /* configuration 0 is to be put back after the input */

/* path_of - a file of the private directory */
static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

/* cleanup - the private directory goes with the process */
static void cleanup(void)
{
    char p[300];

    config_ref_shutdown();
    path_of(p, sizeof(p), "key");
    unlink(p);
    path_of(p, sizeof(p), "t.conf");
    unlink(p);
    rmdir(dir);
}

/* install - load configuration k and put it in force; exit when it does not load */
static void install(int k)
{
    struct tp_errlist *errs = malloc(sizeof(*errs));
    char p[300], err[512];
    struct config *cfg;
    FILE *fp;

    path_of(p, sizeof(p), "t.conf");
    if (errs == NULL || (fp = fopen(p, "w")) == NULL)
        exit(2);
    fputs(logs[k], fp);
    if (k == 2)
        fprintf(fp, "\"%s/key\"; };\n", dir);
    fputs(policies, fp);
    fclose(fp);
    tp_errlist_init(errs);
    if ((cfg = config_load(p, errs)) == NULL || config_ref_install(cfg) != 0) {
        tp_error_format(&errs->items[0], err, sizeof(err));
        fprintf(stderr, "fuzz_session: configuration %d: %s\n", k, err);
        exit(2);
    }
    free(errs);
}

/* LLVMFuzzerInitialize - the private directory, its key, configuration 0 */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");
    char p[300];
    FILE *fp;

    (void) argc, (void) argv;
    snprintf(dir, sizeof(dir), "%s/fuzz_session.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        exit(2);
    atexit(cleanup);
    path_of(p, sizeof(p), "key");
    if ((fp = fopen(p, "w")) == NULL)
        exit(2);
    fputs("0123456789abcdef0123456789abcdef", fp);
    fclose(fp);
    install(0);
    return 0;
}

/* The sink: checks each record as it comes. */
struct capture {
    unsigned long long seq;
};

/* cap_record - sink: the line reads back, its seq is the one handed over
   and follows the last */
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

/* cap_notice - sink: operational messages are fine */
static void cap_notice(void *arg, int priority, const char *text)
{
    (void) arg, (void) priority, (void) text;
}

/* split_args - up to MAX_ARGS tab-separated arguments of s (overwritten); "\0" and missing are NULL */
static void split_args(char *s, const char **av)
{
    int i;

    for (i = 0; i < MAX_ARGS; i++) {
        av[i] = s;
        if (s == NULL)
            continue;
        if ((s = strchr(s, '\t')) != NULL)
            *s++ = 0;
        if (strcmp(av[i], "\\0") == 0)
            av[i] = NULL;
    }
}

/* check_reply - what session.h and decision.h promise of a reply */
static void check_reply(enum decision_action got, const struct session_reply *r)
{
    const unsigned char *p;

    if (got != r->action || (got != DECISION_ACCEPT) != (r->text[0] != 0))
        abort();
    if (memchr(r->text, 0, sizeof(r->text)) == NULL)
        abort();
    for (p = (const unsigned char *) r->text; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            abort();
}

/* op - one call; s is the open session or NULL */
static struct session *op(struct session_service *svc, struct session *s, const char *word, const char **av)
{
    struct session_tls_values tls = {.version = av[0],
                                     .cipher = av[1],
                                     .cipher_bits = av[2],
                                     .cert_subject = av[3],
                                     .cert_issuer = av[4],
                                     .verify = av[5],
                                     .auth_type = av[6],
                                     .cert_fingerprint = av[7],
                                     .cert_pubkey_fingerprint = av[8]};
    struct session_client client = {av[0], av[1], av[2], av[3], FRONT_END_MILTER};
    struct session_reply reply;

    if (strcmp(word, "reload") == 0 && av[0] != NULL) {
        install((unsigned char) av[0][0] % NCONF); /* any byte; '0' is 48: '0', '1', '2' as named */
        reloaded = true;
        return s;
    }
    if (strcmp(word, "open") == 0)
        return s ? s : session_open(svc, config_ref_acquire(), &client);
    if (s == NULL)
        return NULL;
    if (strcmp(word, "tls") == 0)
        session_tls(s, &tls);
    else if (strcmp(word, "helo") == 0)
        session_helo(s, av[0]);
    else if (strcmp(word, "mail") == 0)
        session_mail(s, av[0], av[1]);
    else if (strcmp(word, "qid") == 0)
        session_queue_id(s, av[0]);
    else if (strcmp(word, "rcpt") == 0)
        check_reply(session_rcpt(s, av[0], av[1], &reply), &reply);
    else if (strcmp(word, "eom") == 0)
        session_message_end(s);
    else if (strcmp(word, "abort") == 0)
        session_abort(s);
    else if (strcmp(word, "close") == 0) {
        session_close(s);
        return NULL;
    }
    return s;
}

/* LLVMFuzzerTestOneInput - run the script on a fresh service */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct capture cap = {0};
    struct session_sink sink = {cap_record, cap_notice, &cap};
    const char *av[MAX_ARGS];
    struct session_service *svc;
    struct session *s = NULL;
    char *text, *line, *next, *sp;

    if ((text = malloc(size + 1)) == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    if ((svc = session_service_new(&sink, "fuzz")) == NULL) {
        free(text);
        return 0;
    }
    for (line = text; line != NULL; line = next) {
        if ((next = strchr(line, '\n')) != NULL)
            *next++ = 0;
        if ((sp = strchr(line, ' ')) != NULL)
            *sp++ = 0;
        split_args(sp, av);
        s = op(svc, s, line, av);
    }
    session_close(s);
    session_service_free(svc);
    if (reloaded)
        install(0);
    reloaded = false;
    free(text);
    return 0;
}
