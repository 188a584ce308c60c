/*++
 * NAME
 *	fuzz_fromrec 1
 * SUMMARY
 *	libFuzzer harness: the probe's --profile-from-record parser
 * SYNOPSIS
 *	fuzz_fromrec [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is one line (a NUL ends it, as a C string would), given to
 *	fromrec_parse() as tlspolicy-probe gives it a line of a log or its
 *	argument. src/probe/fromrec.c is compiled into this program.
 *
 *	Checked beyond the sanitizers: a line that becomes a profile
 *	(0) is printed by fromrec_print() and the text must parse as a
 *	libconfig group whose name, versions and cipher are the ones parsed:
 *	fromrec.h promises every field is safe in a libconfig string, so a
 *	hostile record can never add a setting to the profiles it prints. A
 *	refusal (-1) must say why.
 *--*/

/* System library. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* External libraries. */
#include <libconfig.h>

/* Application. */
#include "probe/fromrec.h"
#include "tls/tlsinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* same - the group's string setting is want; abort() otherwise */
static void same(const config_setting_t *g, const char *name, const char *want)
{
    const char *got;

    if (!config_setting_lookup_string(g, name, &got) || strcmp(got, want) != 0)
        abort();
}

/* check_printed - the printed profile reads back as the parsed one */
static void check_printed(const struct fromrec *f)
{
    const config_setting_t *g;
    char *text = NULL;
    size_t len = 0;
    config_t lc;
    FILE *fp;

    if ((fp = open_memstream(&text, &len)) == NULL)
        return;
    fputs("profiles = (\n", fp);
    fromrec_print(fp, f);
    fputs(");\n", fp);
    if (fclose(fp) != 0) {
        free(text);
        return;
    }
    config_init(&lc);
    if (config_read_string(&lc, text) != CONFIG_TRUE)
        abort();
    g = config_setting_get_elem(config_lookup(&lc, "profiles"), 0);
    /* One group of exactly six settings: nothing added by a value. */
    if (g == NULL || config_setting_length(config_lookup(&lc, "profiles")) != 1 ||
        config_setting_length(g) != 6)
        abort();
    same(g, "name", f->name);
    same(g, "min_version", tlsinfo_version_name(f->version));
    same(g, "max_version", tlsinfo_version_name(f->version));
    same(g, f->version == TLS_V_TLS13 ? "ciphersuites" : "ciphers", f->cipher);
    config_destroy(&lc);
    free(text);
}

/* LLVMFuzzerTestOneInput - one line */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line, why[256];
    struct fromrec f;
    int rc;

    if ((line = malloc(size + 1)) == NULL)
        return 0;
    memcpy(line, data, size);
    line[size] = 0;
    why[0] = 0;
    rc = fromrec_parse(line, &f, why, sizeof(why));
    if (rc == 0)
        check_printed(&f);
    else if (rc < 0 && why[0] == 0)
        abort();
    free(line);
    return 0;
}
