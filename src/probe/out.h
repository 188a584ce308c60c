/*++
 * NAME
 *	out 3h
 * SUMMARY
 *	the probe's results as a text table or as JSON
 * DESCRIPTION
 *	Both writers take the results in profile order and return 0, or -1
 *	when the output could not be written (or memory ran out).
 *--*/
#ifndef PROBE_OUT_H
#define PROBE_OUT_H

/* System library. */
#include <stddef.h>
#include <stdio.h>

/* Application. */
#include "probe/probe.h"

/* probe_out_text - the table, notes and a summary line */
int probe_out_text(FILE *fp, const struct probe_result *r, size_t n);

/* probe_out_json - an array with one object per profile */
int probe_out_json(FILE *fp, const struct probe_result *r, size_t n);

/* probe_out_result_word - "ok", "FAIL", "fail" (need not pass), "not testable" or "error" */
const char *probe_out_result_word(const struct probe_result *r);

#endif
