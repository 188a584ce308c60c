/*++
 * NAME
 *	explain_policy 3
 * SUMMARY
 *	tlspolicyd --explain-policy-request: raw policy requests, decided offline
 * SYNOPSIS
 *	#include "daemon/explain_policy.h"
 *
 *	int	explain_policy_run(config, in, out, err)
 * DESCRIPTION
 *	The requests go through the policy service's own parser
 *	(policy/request.c) and dialogue (policy/dialogue.c) into the
 *	session service, with a capture sink instead of syslog and no
 *	state store: what is printed is what the service would answer
 *	and log, byte for byte, for the same requests on one connection.
 *	The session record is left out, as --explain leaves it out: it
 *	describes a connection that never was.
 *
 *	Output: one "action=..." line per request, in order; then the
 *	decision records in the order the daemon would log them (a
 *	refusal at its RCPT, an acceptance when its message ends); then
 *	the notices (a malformed request's reason).
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "daemon/explain_policy.h"
#include "policy/dialogue.h"
#include "policy/request.h"
#include "session/session.h"
#include "util/strbuf.h"

struct capture {
    struct strbuf records, notices;
};

/* capture_record - a decision record (the session record is left out) */
static void capture_record(void *arg, int priority, unsigned long long seq, const char *line)
{
    struct capture *c = arg;

    (void) priority;
    (void) seq;
    if (strncmp(line, "event=session", 13) != 0 && strstr(line, "\"event\":\"session\"") == NULL)
        strbuf_printf(&c->records, "%s\n", line);
}

/* capture_notice - a notice, e.g. why a request was refused */
static void capture_notice(void *arg, int priority, const char *text)
{
    struct capture *c = arg;

    (void) priority;
    strbuf_printf(&c->notices, "notice: %s\n", text);
}

/* one_line - feed one line as the service does; 1: go on, 0: refused (stop) */
static int one_line(struct policy_conn *conn, struct policy_request *req, const char *line, size_t len,
                    struct strbuf *replies)
{
    struct strbuf reply;
    enum policy_parse step;

    strbuf_init(&reply);
    step = policy_conn_line(conn, req, line, len, &reply);
    /* One answer a line: without the empty line that ends it on the wire. */
    strbuf_putn(replies, strbuf_str(&reply), reply.len > 0 ? reply.len - 1 : 0);
    strbuf_free(&reply);
    return step != POLICY_BAD;
}

/* feed - every request of in; 0, or 1 after a malformed one */
static int feed(struct policy_conn *conn, struct policy_request *req, FILE *in, struct strbuf *replies)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int ok = 1;

    policy_request_init(req);
    while (ok && (n = getline(&line, &cap, in)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            n--;
        ok = one_line(conn, req, line, (size_t) n, replies);
    }
    /* The end of the input ends a request that lacks its empty line. */
    if (ok && policy_request_started(req))
        ok = one_line(conn, req, "", 0, replies);
    free(line);
    return ok ? 0 : 1;
}

/* explain_policy_run - answer and log every request of in */
int explain_policy_run(struct config *cfg, FILE *in, FILE *out, struct tp_error *err)
{
    struct capture cap;
    const struct session_sink sink = {capture_record, capture_notice, &cap};
    struct session_service *svc;
    struct policy_conn *conn = NULL;
    struct policy_request *req = malloc(sizeof(*req));
    struct strbuf replies;
    int rc = -1;

    strbuf_init(&cap.records);
    strbuf_init(&cap.notices);
    strbuf_init(&replies);
    /* The dialogue takes the configuration in force, as in the daemon. */
    if ((svc = session_service_new(&sink, "explain")) == NULL || req == NULL || config_ref_install(cfg) < 0) {
        tp_error_set(err, NULL, 0, "--explain-policy-request: out of memory");
        goto out;
    }
    cfg = NULL; /* in force now */
    if ((conn = policy_conn_new(svc)) == NULL) {
        tp_error_set(err, NULL, 0, "--explain-policy-request: out of memory");
        goto out;
    }
    rc = feed(conn, req, in, &replies);
    policy_conn_free(conn); /* the accepted recipients' records */
    conn = NULL;
    if (strbuf_failed(&replies) || strbuf_failed(&cap.records) || strbuf_failed(&cap.notices)) {
        tp_error_set(err, NULL, 0, "--explain-policy-request: out of memory");
        rc = -1;
        goto out;
    }
    fputs(strbuf_str(&replies), out);
    fputs(strbuf_str(&cap.records), out);
    fputs(strbuf_str(&cap.notices), out);
out:
    policy_conn_free(conn);
    if (cfg)
        config_free(cfg);
    config_ref_shutdown();
    session_service_free(svc);
    free(req);
    strbuf_free(&replies);
    strbuf_free(&cap.records);
    strbuf_free(&cap.notices);
    return rc;
}
