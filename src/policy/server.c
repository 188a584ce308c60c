/*++
 * NAME
 *	server 3
 * SUMMARY
 *	the policy delegation service: sockets, connections, threads
 * SYNOPSIS
 *	#include "policy/server.h"
 *
 *	struct policy_server *policy_server_open(spec, err)
 *	int	policy_server_start(srv, svc, err)
 *	void	policy_server_stop(srv)
 * DESCRIPTION
 *	See server.h. The acceptor runs evconnlistener on its own event
 *	base and passes each accepted descriptor to a worker's base with
 *	event_base_once(), so that the connection's state is created,
 *	used and freed by that worker alone: no lock guards a connection.
 *
 *	Reading: complete lines are taken from the bufferevent's input as
 *	they arrive and fed to the request parser; a complete request is
 *	answered at once (Postfix waits for each reply before it sends the
 *	next request, so there is no pipelining to preserve). The parser's
 *	buffer is allocated when a request begins and freed when it ends:
 *	an idle connection holds only its dialogue.
 *
 *	Timeouts, all as bufferevent read timeouts set after each step:
 *	POLICY_REQUEST_TIMEOUT while a request is half read (then the
 *	connection is closed), POLICY_SESSION_IDLE while an SMTP session is
 *	open on a silent connection (then the session ends, the connection
 *	stays), none otherwise (Postfix closes idle connections itself).
 * DIAGNOSTICS
 *	Through the session service's notice sink: a refused or timed-out
 *	request, a connection over the limit, an accept() failure.
 *--*/

/* System library. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

/* Libraries. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

/* Application. */
#include "policy/dialogue.h"
#include "policy/server.h"
#include "util/listen.h"

#define OUTPUT_MAX 65536 /* unread replies before we stop reading */
#define CLOSE_WAIT 10    /* seconds for a last reply to leave */

struct worker;

struct conn {
    struct worker *w;
    struct bufferevent *bev;
    struct policy_conn *dialogue;
    struct policy_request *req; /* while a request is being read */
    bool closing;               /* the last reply is leaving */
    struct conn *prev, *next;
};

struct worker {
    struct policy_server *srv;
    struct event_base *base;
    pthread_t tid;
    bool running;
    struct conn *conns; /* touched by this worker's thread only */
};

struct policy_server {
    int fd;
    struct session_service *svc;
    struct event_base *accept_base;
    struct evconnlistener *listener;
    pthread_t accept_tid;
    bool accepting;
    struct worker workers[POLICY_THREADS];
    unsigned next;
    atomic_int nconns;
};

/* ---- sockets (as root, before any thread) */

/* policy_server_open - bind and listen */
struct policy_server *policy_server_open(const char *spec, struct tp_error *err)
{
    struct policy_server *srv;
    int fd;

    if (strncmp(spec, "unix:", 5) == 0)
        fd = listen_unix(spec + 5, "policy socket", err);
    else if (strncmp(spec, "inet:", 5) == 0)
        fd = listen_inet(spec + 5, "policy socket", err);
    else {
        tp_error_set(err, NULL, 0, "invalid policy socket %s (expected inet:HOST:PORT or unix:PATH)", spec);
        return NULL;
    }
    if (fd < 0)
        return NULL;
    if ((srv = calloc(1, sizeof(*srv))) == NULL) {
        close(fd);
        tp_error_set(err, NULL, 0, "out of memory");
        return NULL;
    }
    srv->fd = fd;
    return srv;
}

/* ---- connections (in their worker's thread) */

/* conn_free - end the dialogue (its session record), close, unlink */
static void conn_free(struct conn *c)
{
    struct worker *w = c->w;

    policy_conn_free(c->dialogue);
    free(c->req);
    bufferevent_free(c->bev);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub(&w->srv->nconns, 1);
    free(c);
}

/* set_timeout - what silence means now (see DESCRIPTION) */
static void set_timeout(struct conn *c)
{
    struct timeval request = {POLICY_REQUEST_TIMEOUT, 0}, session = {POLICY_SESSION_IDLE, 0};

    if (c->req && policy_request_started(c->req))
        bufferevent_set_timeouts(c->bev, &request, NULL);
    else if (policy_conn_in_session(c->dialogue))
        bufferevent_set_timeouts(c->bev, &session, NULL);
    else
        bufferevent_set_timeouts(c->bev, NULL, NULL);
}

/* send_reply - queue one answer */
static void send_reply(struct conn *c, const struct strbuf *reply)
{
    if (strbuf_failed(reply)) {
        /* No memory even for the answer: Postfix's own default action applies. */
        c->closing = true;
        return;
    }
    bufferevent_write(c->bev, strbuf_str(reply), reply->len);
}

/* close_after - a refused request: its answer leaves, then the connection closes */
static void close_after(struct conn *c, const struct strbuf *reply)
{
    struct timeval wait = {CLOSE_WAIT, 0};

    send_reply(c, reply);
    c->closing = true;
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_set_timeouts(c->bev, NULL, &wait);
}

/* take_line - one complete request line through the dialogue; false: stop reading */
static bool take_line(struct conn *c, const char *line, size_t len)
{
    struct strbuf reply;
    enum policy_parse step;

    strbuf_init(&reply);
    if (c->req == NULL && (c->req = malloc(sizeof(*c->req))) != NULL)
        policy_request_init(c->req);
    if (c->req == NULL) {
        policy_conn_malformed(c->dialogue, "out of memory", &reply);
        step = POLICY_BAD;
    } else if ((step = policy_conn_line(c->dialogue, c->req, line, len, &reply)) == POLICY_DONE) {
        free(c->req); /* an idle connection holds no parser buffer */
        c->req = NULL;
    }
    if (step == POLICY_BAD)
        close_after(c, &reply);
    else if (step == POLICY_DONE)
        send_reply(c, &reply);
    strbuf_free(&reply);
    return step != POLICY_BAD;
}

/* read_lines - every complete line in the input */
static void read_lines(struct conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    char line[POLICY_LINE_MAX + 1];
    struct evbuffer_ptr eol;
    size_t eol_len;

    while (!c->closing) {
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) > OUTPUT_MAX) {
            bufferevent_disable(c->bev, EV_READ); /* until write_cb sees it drained */
            return;
        }
        eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
        if (eol.pos < 0 ? evbuffer_get_length(in) > POLICY_LINE_MAX : (size_t) eol.pos > POLICY_LINE_MAX) {
            struct strbuf reply;

            strbuf_init(&reply);
            policy_conn_overlong(c->dialogue, &reply);
            close_after(c, &reply);
            strbuf_free(&reply);
            return;
        }
        if (eol.pos < 0)
            break;
        evbuffer_remove(in, line, (size_t) eol.pos);
        evbuffer_drain(in, eol_len);
        if (!take_line(c, line, (size_t) eol.pos))
            return;
    }
    if (!c->closing)
        set_timeout(c);
}

/* read_cb - input arrived */
static void read_cb(struct bufferevent *bev, void *arg)
{
    (void) bev;
    read_lines(arg);
}

/* write_cb - the output drained: close after a last reply, or read again */
static void write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    if (c->closing) {
        conn_free(c);
        return;
    }
    if (!(bufferevent_get_enabled(bev) & EV_READ)) {
        bufferevent_enable(bev, EV_READ);
        read_lines(c);
    }
}

/* event_cb - end of file, an error, or a timeout */
static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;

    if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && !c->closing) {
        if (c->req && policy_request_started(c->req)) {
            session_service_notice(c->w->srv->svc, LOG_WARNING,
                                   "policy service: request not finished within %d s; connection closed",
                                   POLICY_REQUEST_TIMEOUT);
        } else {
            /* A silent connection: the SMTP session is over. */
            policy_conn_end_session(c->dialogue);
            bufferevent_enable(bev, EV_READ);
            set_timeout(c);
            return;
        }
    }
    conn_free(c);
}

/* What the acceptor hands a worker. */
struct handoff {
    struct worker *w;
    evutil_socket_t fd;
};

/* setup - a new connection, in its worker's thread */
static void setup(evutil_socket_t unused, short what, void *arg)
{
    struct handoff *h = arg;
    struct worker *w = h->w;
    evutil_socket_t fd = h->fd;
    struct conn *c = calloc(1, sizeof(*c));

    (void) unused;
    (void) what;
    free(h);
    if (c == NULL || (c->dialogue = policy_conn_new(w->srv->svc)) == NULL ||
        (c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
        session_service_notice(w->srv->svc, LOG_ERR, "policy service: out of memory for a connection");
        if (c)
            policy_conn_free(c->dialogue);
        free(c);
        close(fd);
        atomic_fetch_sub(&w->srv->nconns, 1);
        return;
    }
    c->w = w;
    if ((c->next = w->conns) != NULL)
        c->next->prev = c;
    w->conns = c;
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    bufferevent_enable(c->bev, EV_READ);
}

/* ---- threads */

/* accept_cb - a new connection: to the next worker, or refused over the limit */
static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    struct policy_server *srv = arg;
    const struct timeval now = {0, 0};
    struct handoff *h;

    (void) l;
    (void) sa;
    (void) salen;
    if (atomic_fetch_add(&srv->nconns, 1) >= POLICY_CONN_MAX) {
        atomic_fetch_sub(&srv->nconns, 1);
        session_service_notice(srv->svc, LOG_WARNING,
                               "policy service: more than %d connections; a new one was closed",
                               POLICY_CONN_MAX);
        close(fd);
        return;
    }
    if ((h = malloc(sizeof(*h))) != NULL) {
        *h = (struct handoff){&srv->workers[srv->next++ % POLICY_THREADS], fd};
        if (event_base_once(h->w->base, -1, EV_TIMEOUT, setup, h, &now) == 0)
            return;
        free(h);
    }
    session_service_notice(srv->svc, LOG_ERR, "policy service: out of memory for a connection");
    close(fd);
    atomic_fetch_sub(&srv->nconns, 1);
}

/* accept_error - accept() failed (EMFILE ...): say so, keep listening */
static void accept_error(struct evconnlistener *l, void *arg)
{
    struct policy_server *srv = arg;

    (void) l;
    session_service_notice(srv->svc, LOG_ERR, "policy service: accept: %s", strerror(errno));
}

/* loop - one event base's thread */
static void *loop(void *arg)
{
    event_base_loop(arg, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

/* start_thread - a thread for base; our signals stay with the main thread */
static int start_thread(pthread_t *tid, struct event_base *base)
{
    sigset_t all, old;
    int rc;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(tid, NULL, loop, base);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? 0 : -1;
}

/* start_workers - an event base and a thread each */
static int start_workers(struct policy_server *srv)
{
    size_t i;

    for (i = 0; i < POLICY_THREADS; i++) {
        struct worker *w = &srv->workers[i];

        w->srv = srv;
        if ((w->base = event_base_new()) == NULL || start_thread(&w->tid, w->base) < 0)
            return -1;
        w->running = true;
    }
    return 0;
}

static bool threads_ok;

/* init_threads - once per process, before any base: the acceptor wakes workers */
static void init_threads(void)
{
    threads_ok = evthread_use_pthreads() == 0;
}

/* policy_server_start - the threads */
int policy_server_start(struct policy_server *srv, struct session_service *svc, struct tp_error *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    srv->svc = svc;
    pthread_once(&once, init_threads);
    if (!threads_ok) {
        tp_error_set(err, NULL, 0, "policy service: libevent has no thread support");
        return -1;
    }
    if (start_workers(srv) < 0 || (srv->accept_base = event_base_new()) == NULL ||
        (srv->listener = evconnlistener_new(srv->accept_base, accept_cb, srv, LEV_OPT_CLOSE_ON_FREE, -1,
                                            srv->fd)) == NULL) {
        tp_error_set(err, NULL, 0, "policy service: cannot start its event loops");
        return -1;
    }
    srv->fd = -1; /* the listener owns it now */
    evconnlistener_set_error_cb(srv->listener, accept_error);
    if (start_thread(&srv->accept_tid, srv->accept_base) < 0) {
        tp_error_set(err, NULL, 0, "policy service: cannot start its threads");
        return -1;
    }
    srv->accepting = true;
    return 0;
}

/* stop_base - end a loop and wait for its thread */
static void stop_base(struct event_base *base, pthread_t tid)
{
    event_base_loopbreak(base);
    pthread_join(tid, NULL);
}

/* policy_server_stop - everything down, every session's record written */
void policy_server_stop(struct policy_server *srv)
{
    size_t i;

    if (srv == NULL)
        return;
    if (srv->accepting)
        stop_base(srv->accept_base, srv->accept_tid);
    if (srv->listener)
        evconnlistener_free(srv->listener);
    if (srv->accept_base)
        event_base_free(srv->accept_base);
    for (i = 0; i < POLICY_THREADS; i++) {
        struct worker *w = &srv->workers[i];

        if (w->running)
            stop_base(w->base, w->tid);
        /* The thread is gone: its connections are ours to end. */
        while (w->conns)
            conn_free(w->conns);
        if (w->base)
            event_base_free(w->base);
    }
    if (srv->fd >= 0)
        close(srv->fd);
    free(srv);
}
