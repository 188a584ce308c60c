/*++
 * NAME
 *	bench_cases 3h
 * SUMMARY
 *	the prepared sessions of bench_core: a hoster's inbound mix
 * DESCRIPTION
 *	What bench_core decides on: sessions of one recipient each, built
 *	with the setters of facts.h from a seeded generator, and a uniform
 *	sample of the recipient domains a configuration names. The mix is
 *	described in bench_core.c.
 *--*/
#ifndef BENCH_CASES_H
#define BENCH_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "core/facts.h"

#define BENCH_SAMPLE 65536       /* configured domains recipients are drawn from */
#define BENCH_SEED 0x7c5d1e2f3a4b6987ULL

enum mix { MIX_MODERN, MIX_LEGACY, MIX_PLAIN, MIX_VERIFIED, MIX_ODD_RCPT, MIX_COUNT };

extern const char *const bench_mix_names[MIX_COUNT];

/* One recipient of one session, ready for policy_decide(). */
struct bench_case {
    struct session_facts s;
    struct rcpt_facts r;
};

/* A reservoir sample of the domains the configuration names. */
struct sample {
    char *v[BENCH_SAMPLE];
    size_t n;                    /* entries in v */
    size_t seen;                 /* domains offered */
};

/* bench_die - report a failure that makes the run meaningless, exit 1 */
void bench_die(const char *what);

/* sample_config - sample the recipient rules of CONFIG (read again with libconfig) */
void sample_config(struct sample *, uint64_t *rng, const char *path);
void sample_free(struct sample *);

/* build_cases - n cases of the mix; counts says how many of each kind */
struct bench_case *build_cases(size_t n, const struct sample *, uint64_t *rng, size_t counts[MIX_COUNT]);

/* cases_new_senders - give cases[0..n) verified client names of their own */
void cases_new_senders(struct bench_case *, size_t n, const char *tag);
void free_cases(struct bench_case *, size_t n);

#endif
