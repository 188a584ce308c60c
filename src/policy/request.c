/*++
 * NAME
 *	request 3
 * SUMMARY
 *	one Postfix policy delegation request: strict parser
 * SYNOPSIS
 *	#include "policy/request.h"
 *
 *	void	policy_request_init(req)
 *	enum policy_parse policy_request_line(req, line, len, err)
 *	int	policy_request_started(req)
 *	const char *policy_request_get(req, name)
 * DESCRIPTION
 *	See request.h. The parser is pure: no I/O, no allocation, so that
 *	a libFuzzer harness and --explain-policy-request run exactly the
 *	code the server runs.
 * DIAGNOSTICS
 *	POLICY_BAD with err->msg naming the first thing wrong, e.g.
 *	"line 3: no '=' in \"foo\"". Names and values in messages are cut
 *	and made printable: they come from the other end of a socket.
 *--*/

/* System library. */
#include <ctype.h>
#include <string.h>

/* Application. */
#include "policy/request.h"

/* policy_request_init - an empty request */
void policy_request_init(struct policy_request *req)
{
    req->nattrs = 0;
    req->used = 0;
    req->bytes = 0;
}

/* policy_request_started - some line of a request was read */
int policy_request_started(const struct policy_request *req)
{
    return req->bytes > 0;
}

/* shown - up to 40 bytes of untrusted text, printable, for an error message */
static const char *shown(const char *s, size_t len, char *buf, size_t size)
{
    size_t i, n = 0;

    for (i = 0; i < len && n + 5 < size && i < 40; i++)
        buf[n++] = isprint((unsigned char) s[i]) && s[i] != '"' ? s[i] : '?';
    if (i < len && n + 4 < size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = 0;
    return buf;
}

/* valid_name - [a-z0-9_]+, as every Postfix attribute name is */
static int valid_name(const char *name, size_t len)
{
    size_t i;

    if (len == 0 || len > POLICY_NAME_MAX)
        return 0;
    for (i = 0; i < len; i++)
        if (!(islower((unsigned char) name[i]) || isdigit((unsigned char) name[i]) || name[i] == '_'))
            return 0;
    return 1;
}

/* store - copy name and value into the request's buffer */
static void store(struct policy_request *req, const char *name, size_t nlen, const char *value, size_t vlen)
{
    char *p = req->buf + req->used;

    memcpy(p, name, nlen);
    p[nlen] = 0;
    memcpy(p + nlen + 1, value, vlen);
    p[nlen + 1 + vlen] = 0;
    req->attrs[req->nattrs].name = p;
    req->attrs[req->nattrs].value = p + nlen + 1;
    req->nattrs++;
    req->used += nlen + vlen + 2;
}

/* attribute - check and keep one "name=value" line */
static enum policy_parse attribute(struct policy_request *req, const char *line, size_t len,
                                   struct tp_error *err)
{
    const char *eq = memchr(line, '=', len);
    size_t nlen, vlen, lineno = req->nattrs + 1;
    char a[64];

    if (eq == NULL) {
        tp_error_set(err, NULL, 0, "line %zu: no '=' in \"%s\"", lineno, shown(line, len, a, sizeof(a)));
        return POLICY_BAD;
    }
    nlen = (size_t) (eq - line);
    vlen = len - nlen - 1;
    if (!valid_name(line, nlen)) {
        tp_error_set(err, NULL, 0, "line %zu: invalid attribute name \"%s\"", lineno,
                     shown(line, nlen, a, sizeof(a)));
        return POLICY_BAD;
    }
    if (vlen > POLICY_VALUE_MAX) {
        tp_error_set(err, NULL, 0, "line %zu: value of %.*s longer than %d bytes", lineno, (int) nlen, line,
                     POLICY_VALUE_MAX);
        return POLICY_BAD;
    }
    if (req->nattrs == POLICY_ATTRS_MAX || req->used + nlen + vlen + 2 > sizeof(req->buf)) {
        tp_error_set(err, NULL, 0, "more than %d attributes or %d bytes", POLICY_ATTRS_MAX,
                     POLICY_REQUEST_MAX);
        return POLICY_BAD;
    }
    for (size_t i = 0; i < req->nattrs; i++) {
        if (strlen(req->attrs[i].name) == nlen && memcmp(req->attrs[i].name, line, nlen) == 0) {
            tp_error_set(err, NULL, 0, "line %zu: attribute %.*s sent twice", lineno, (int) nlen, line);
            return POLICY_BAD;
        }
    }
    store(req, line, nlen, eq + 1, vlen);
    return POLICY_MORE;
}

/* finish - the empty line: a request must say what it is */
static enum policy_parse finish(const struct policy_request *req, struct tp_error *err)
{
    const char *kind = policy_request_get(req, "request");
    char a[64];

    if (kind == NULL) {
        tp_error_set(err, NULL, 0, "no request attribute");
        return POLICY_BAD;
    }
    if (strcmp(kind, "smtpd_access_policy") != 0) {
        tp_error_set(err, NULL, 0, "request \"%s\" is not smtpd_access_policy",
                     shown(kind, strlen(kind), a, sizeof(a)));
        return POLICY_BAD;
    }
    return POLICY_DONE;
}

/* policy_request_line - take one line of a request */
enum policy_parse policy_request_line(struct policy_request *req, const char *line, size_t len,
                                      struct tp_error *err)
{
    req->bytes += len + 1;
    if (req->bytes > POLICY_REQUEST_MAX) {
        tp_error_set(err, NULL, 0, "request longer than %d bytes", POLICY_REQUEST_MAX);
        return POLICY_BAD;
    }
    if (memchr(line, 0, len) != NULL) {
        tp_error_set(err, NULL, 0, "line %zu: NUL byte", req->nattrs + 1);
        return POLICY_BAD;
    }
    if (len > 0 && line[len - 1] == '\r') {
        tp_error_set(err, NULL, 0, "line %zu: ends in CR (Postfix ends lines with LF only)", req->nattrs + 1);
        return POLICY_BAD;
    }
    return len == 0 ? finish(req, err) : attribute(req, line, len, err);
}

/* policy_request_get - the value of name, or NULL */
const char *policy_request_get(const struct policy_request *req, const char *name)
{
    size_t i;

    for (i = 0; i < req->nattrs; i++)
        if (strcmp(req->attrs[i].name, name) == 0)
            return req->attrs[i].value;
    return NULL;
}
