/*++
 * NAME
 *	nullmilter 1
 * SUMMARY
 *	a libmilter program that lets every message through
 * SYNOPSIS
 *	nullmilter -p SOCKET
 * DESCRIPTION
 *	The baseline of bench/postfix.sh: what the milter interface alone
 *	costs Postfix. It registers the callbacks tlspolicyd registers
 *	(connect, HELO, MAIL, RCPT, end of message, abort, close), each of
 *	which answers SMFIS_CONTINUE, and negotiates the same protocol steps
 *	away (no headers, no body, no DATA, no unknown commands), so that
 *	Postfix sends both milters the same packets and the difference
 *	between the two is tlspolicyd's own work. It asks for no macro list:
 *	Postfix sends its default macros.
 *
 *	SOCKET is a libmilter connection spec: inet:PORT@HOST, unix:PATH.
 *	It runs in the foreground until SIGTERM or SIGINT (libmilter's own
 *	signal handling).
 * DIAGNOSTICS
 *	Exit status 1 when the socket cannot be opened, 2 on a usage error.
 *--*/

/* System library. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Milter library. */
#include <libmilter/mfapi.h>

/* cont_conn - xxfi_connect: continue */
static sfsistat cont_conn(SMFICTX *ctx, char *name, _SOCK_ADDR *addr)
{
    (void) ctx;
    (void) name;
    (void) addr;
    return SMFIS_CONTINUE;
}

/* cont_arg - xxfi_helo: continue */
static sfsistat cont_arg(SMFICTX *ctx, char *arg)
{
    (void) ctx;
    (void) arg;
    return SMFIS_CONTINUE;
}

/* cont_argv - xxfi_envfrom, xxfi_envrcpt: continue */
static sfsistat cont_argv(SMFICTX *ctx, char **argv)
{
    (void) ctx;
    (void) argv;
    return SMFIS_CONTINUE;
}

/* cont_ctx - xxfi_eom, xxfi_abort, xxfi_close: continue */
static sfsistat cont_ctx(SMFICTX *ctx)
{
    (void) ctx;
    return SMFIS_CONTINUE;
}

/* negotiate - the same protocol steps as tlspolicyd: none of the message data */
static sfsistat negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                          unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
                          unsigned long *pf3)
{
    (void) ctx;
    (void) f0;
    (void) f2;
    (void) f3;
    *pf0 = 0;
    *pf1 = f1 & (SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA);
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
    .xxfi_name = "nullmilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = 0,
    .xxfi_connect = cont_conn,
    .xxfi_helo = cont_arg,
    .xxfi_envfrom = cont_argv,
    .xxfi_envrcpt = cont_argv,
    .xxfi_eom = cont_ctx,
    .xxfi_abort = cont_ctx,
    .xxfi_close = cont_ctx,
    .xxfi_negotiate = negotiate,
};

int main(int argc, char **argv)
{
    const char *spec = NULL;
    int ch;

    while ((ch = getopt(argc, argv, "p:")) != -1) {
        if (ch != 'p')
            goto usage;
        spec = optarg;
    }
    if (spec == NULL || optind != argc)
        goto usage;
    if (smfi_setconn((char *) spec) == MI_FAILURE || smfi_register(filter) == MI_FAILURE ||
        smfi_opensocket(true) == MI_FAILURE) {
        fprintf(stderr, "nullmilter: cannot open milter socket %s\n", spec);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
usage:
    fprintf(stderr, "usage: nullmilter -p SOCKET\n");
    return 2;
}
