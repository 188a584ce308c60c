/*++
 * NAME
 *	fuzz_config 1
 * SUMMARY
 *	libFuzzer harness: the configuration loader
 * SYNOPSIS
 *	fuzz_config [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is a configuration text, then optionally a NUL byte and
 *	the text of a domain file. Both are written into one private
 *	directory (mkdtemp() under $TMPDIR, removed at exit) and the
 *	configuration is loaded with config_load(), as the daemon loads it;
 *	a configuration that loads is freed again. Nothing else is written.
 *
 *	Files the configuration names: "@DIR@" in the text is replaced by
 *	the directory's path, so "@DIR@domains" names the domain file (for
 *	recipient_domains_file, sender_domains_file and hash_key_file alike).
 *	config_load() only reads, but it reads any absolute path it is
 *	given, and /dev/zero or a FIFO would hang the run. So an input with
 *	a '/' or a "\x" escape of its own (libconfig's only way to spell a
 *	'/' without writing one) is skipped: every absolute path then lies
 *	in the private directory. Comments of the form // and slash-star are
 *	lost that way; '#' comments remain.
 *
 *	Checked beyond the sanitizers: a refused configuration says why
 *	(errs not empty), a loaded one has its 12-digit hash.
 *--*/

/* System library. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Application. */
#include "config/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256], conf_path[300], domains_path[300];

/* cleanup - the private directory goes with the process */
static void cleanup(void)
{
    unlink(conf_path);
    unlink(domains_path);
    rmdir(dir);
}

/* LLVMFuzzerInitialize - the private directory */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");

    (void) argc, (void) argv;
    snprintf(dir, sizeof(dir), "%s/fuzz_config.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror(dir);
        exit(2);
    }
    snprintf(conf_path, sizeof(conf_path), "%s/t.conf", dir);
    snprintf(domains_path, sizeof(domains_path), "%s/domains", dir);
    atexit(cleanup);
    return 0;
}

/* write_all - n bytes into path; -1 on failure */
static int write_all(const char *path, const char *text, size_t n)
{
    FILE *fp = fopen(path, "wb");

    if (fp == NULL)
        return -1;
    if (fwrite(text, 1, n, fp) != n) {
        fclose(fp);
        return -1;
    }
    return fclose(fp) == 0 ? 0 : -1;
}

/* expand - text with every "@DIR@" as dir followed by '/'; NULL without memory */
static char *expand(const char *text, size_t n, size_t *outlen)
{
    static const char mark[] = "@DIR@";
    size_t dlen = strlen(dir), i, k = 0;
    char *out = malloc(n * (dlen + 2) / 5 + n + 1); /* every 5 bytes at most dlen + 1 */

    if (out == NULL)
        return NULL;
    for (i = 0; i < n;) {
        if (n - i >= 5 && memcmp(text + i, mark, 5) == 0) {
            memcpy(out + k, dir, dlen);
            k += dlen;
            out[k++] = '/';
            i += 5;
        } else {
            out[k++] = text[i++];
        }
    }
    *outlen = k;
    return out;
}

/* LLVMFuzzerTestOneInput - write, load, free */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *) data, *z = memchr(data, 0, size);
    size_t clen = z ? (size_t) (z - text) : size, len, i;
    static struct tp_errlist errs; /* large: not on the stack */
    struct config *cfg;
    char *conf;

    /* Only paths into the private directory (see DESCRIPTION). */
    for (i = 0; i < clen; i++)
        if (text[i] == '/' || (text[i] == '\\' && i + 1 < clen && (text[i + 1] | 0x20) == 'x'))
            return 0;
    if ((conf = expand(text, clen, &len)) == NULL)
        return 0;
    if (write_all(conf_path, conf, len) != 0 ||
        write_all(domains_path, z ? z + 1 : "", z ? size - clen - 1 : 0) != 0) {
        free(conf);
        return 0;
    }
    free(conf);
    tp_errlist_init(&errs);
    cfg = config_load(conf_path, &errs);
    if (cfg == NULL && errs.n + errs.dropped == 0)
        abort();
    if (cfg != NULL && strlen(cfg->hash) != CONFIG_HASH_LEN)
        abort();
    if (cfg != NULL)
        config_free(cfg);
    return 0;
}
