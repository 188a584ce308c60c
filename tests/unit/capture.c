/*++
 * NAME
 *	capture 3
 * SUMMARY
 *	a session sink that keeps what the session service emits, for unit tests
 * SYNOPSIS
 *	#include "capture.h"
 * DESCRIPTION
 *	See capture.h. Shared by test_session and test_policy_dialogue, which
 *	drive the same session service from its two front ends.
 *--*/

/* System library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Utility library. */
#include <cmocka.h>

/* Application. */
#include "capture.h"

/* cap_record - sink: keep the record line and the seq handed over */
void cap_record(void *arg, int priority, unsigned long long seq, const char *line)
{
    struct capture *c = arg;

    (void) priority;
    if (c->n == CAP_LINES) {
        c->dropped++;
        return;
    }
    c->seqs[c->n] = seq;
    c->lines[c->n++] = strdup(line);
}

/* cap_notice - sink: count the notice (print it), keep the last */
void cap_notice(void *arg, int priority, const char *text)
{
    struct capture *c = arg;

    (void) priority;
    if (strncmp(text, "state store expiry: ", 20) == 0)
        return;
    if (strncmp(text, "state store: ", 13) == 0) {
        c->store_notices++;
        return;
    }
    c->notices++;
    snprintf(c->last_notice, sizeof(c->last_notice), "%s", text);
    print_message("notice: %s\n", text);
}

/* cap_clear - forget what was captured */
void cap_clear(struct capture *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->lines[i]);
    memset(c, 0, sizeof(*c));
}

/* kv_get - the value of key in a kv record line, unquoted */
bool kv_get(const char *line, const char *key, char *out, size_t len)
{
    size_t klen = strlen(key), n;
    const char *p = line;

    while (*p) {
        bool match = strncmp(p, key, klen) == 0 && p[klen] == '=';

        if ((p = strchr(p, '=')) == NULL)
            return false;
        p++;
        n = 0;
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                if (n + 1 < len)
                    out[n++] = *p;
            }
            p += *p == '"';
        } else {
            for (; *p && *p != ' '; p++)
                if (n + 1 < len)
                    out[n++] = *p;
        }
        out[n] = 0;
        if (match)
            return true;
        while (*p == ' ')
            p++;
    }
    return false;
}
