/*++
 * NAME
 *	prefix 3h
 * SUMMARY
 *	syslog line prefixes and their time stamps
 * DESCRIPTION
 *	A log line is a prefix and a message. Shapes recognised:
 *	RFC 5424 ("<PRI>1 TIME HOST APP PROCID MSGID SD MSG"), RFC 3339 or
 *	journalctl short-iso time stamps ("TIME HOST TAG: MSG"), the
 *	traditional BSD shape of rsyslog, journalctl -o short and Postfix's
 *	maillog_file ("Mmm dd hh:mm:ss HOST TAG: MSG"), either optionally
 *	after a "<PRI>", and a line without a prefix (journalctl -o cat,
 *	tlspolicyd -f on stderr), whose message is the whole line.
 *
 *	Time: a stamp with an offset is an instant; one without (the
 *	traditional shape, or an RFC 3339 stamp lacking its offset) is taken
 *	in the reader's local time zone (TZ), as syslog readers do. The
 *	traditional shape has no year: it is prefix_ctx.year when set, else
 *	the current year, or the previous one when that would put the line
 *	more than a month into the future (a December log read in January).
 *	The day of a line is its date as written, the logging host's day.
 *
 *	Who wrote the line: the logging host, the program name (the tag
 *	without "[pid]", "postfix/smtpd" for Postfix) and the process id,
 *	each pointing into the line with its length, and empty (length 0)
 *	where the shape has none. A stamped line whose second word does not
 *	end in ":" has no tag: its host is the first word after the time
 *	(Exim's own log, "2026-11-22 14:31:52 TLS error ...", has no host:
 *	that word starts the message). Exim's "log_timezone" writes the
 *	offset one space after the time ("14:31:52 +0100"); it is read as
 *	the offset.
 * LAYER
 *	src/logread/ reads logs for the companion programs: syslog prefixes
 *	(this module), inputs plain or gzip'd, files, pipes or standard input
 *	(input), and the MTAs' TLS handshake-failure lines (mtafail). It sits
 *	on util/ only; the report and the probe build on it.
 *--*/
#ifndef REPORT_PREFIX_H
#define REPORT_PREFIX_H

#include <stdbool.h>
#include <time.h>

struct prefix_ctx {
    int year; /* 0: infer, see above */
    time_t now;
};

struct prefix {
    const char *msg; /* into the line */
    bool has_time;
    time_t when;
    char day[24];                 /* "YYYY-MM-DD", or "" */
    const char *host, *tag, *pid; /* into the line, not terminated */
    size_t host_len, tag_len, pid_len;
};

/* prefix_parse - split line into time and message; never fails */
void prefix_parse(const struct prefix_ctx *, const char *line, struct prefix *out);

/*
 * prefix_time_parse - an RFC 3339 date ("2026-11-22") or date-time
 * ("2026-11-22T14:31:52.5+01:00", "T" or one space, offset optional and
 * also written "+0100"). Sets *end past the text read. Returns 0, or -1
 * when s does not start with one.
 */
int prefix_time_parse(const char *s, const char **end, time_t *when, char day[24]);

#endif
