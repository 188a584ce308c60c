/*++
 * NAME
 *	dialogue 3h
 * SUMMARY
 *	one policy connection: requests in, session calls, replies out
 * DESCRIPTION
 *	The policy protocol has requests but no sessions: Postfix's smtpd
 *	sends one request per restriction it evaluates, over a connection
 *	it keeps across the SMTP sessions it serves one after another. A
 *	policy_conn rebuilds the SMTP session from them for the session
 *	service, as the milter gets it from libmilter:
 *
 *	- a session begins with the first RCPT request; it ends when a
 *	  request names another client (client_address, client_port), when
 *	  the connection closes, or when the server finds the connection
 *	  silent for POLICY_SESSION_IDLE seconds;
 *	- a message begins with a RCPT whose instance differs from the last
 *	  one (Postfix's instance is one per message); END-OF-MESSAGE ends
 *	  it, so that the accepted recipients' records carry the queue id.
 *
 *	Decisions happen at protocol_state=RCPT; DATA and END-OF-MESSAGE
 *	only bring the queue id; every other state is answered DUNNO
 *	without a record.
 *
 *	A policy_conn belongs to one thread at a time.
 *--*/
#ifndef POLICY_DIALOGUE_H
#define POLICY_DIALOGUE_H

#include <stdbool.h>

#include "policy/request.h"
#include "session/session.h"
#include "util/strbuf.h"

/* Postfix's smtpd_policy_service_max_idle: it closes a silent
   connection after this long itself; we end the session no later. */
#define POLICY_SESSION_IDLE 300

/* Recipients decided per message (ten times Postfix's default
   smtpd_recipient_limit); each further RCPT of the message is answered
   "action=452 4.5.3 Too many recipients", undecided and unlogged but
   for one notice. The accepted ones wait in memory for the queue id. */
#define POLICY_MESSAGE_RCPT_MAX 10000

struct policy_conn;

/* policy_conn_new - a new connection of svc; NULL: no memory */
struct policy_conn *policy_conn_new(struct session_service *svc);

/* policy_conn_answer - decide one complete request; reply gets "action=...\n\n" */
void policy_conn_answer(struct policy_conn *, const struct policy_request *, struct strbuf *reply);

/* policy_conn_malformed - log why a request was refused; reply gets the answer */
void policy_conn_malformed(struct policy_conn *, const char *why, struct strbuf *reply);

/*
 * policy_conn_line - one line of the stream, without its newline, as the
 * service takes it: into req (a longer line than POLICY_LINE_MAX is
 * refused without parsing); POLICY_DONE: reply has the answer and req is
 * empty again; POLICY_BAD: reply has the refusal, logged, and the
 * connection must be closed; POLICY_MORE: nothing to send yet.
 */
enum policy_parse policy_conn_line(struct policy_conn *, struct policy_request *req, const char *line,
                                   size_t len, struct strbuf *reply);

/* policy_conn_overlong - refuse a line that grew past POLICY_LINE_MAX unfinished */
void policy_conn_overlong(struct policy_conn *, struct strbuf *reply);

/* policy_conn_in_session - an SMTP session is open on this connection */
bool policy_conn_in_session(const struct policy_conn *);

/* policy_conn_end_session - the session went silent: its records now */
void policy_conn_end_session(struct policy_conn *);

/* policy_conn_free - the connection closed: end the session, free; NULL is allowed */
void policy_conn_free(struct policy_conn *);

#endif
