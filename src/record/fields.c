/*++
 * NAME
 *	fields 3
 * SUMMARY
 *	the one field table of decision and session records
 * SYNOPSIS
 *	#include "record/fields.h"
 *
 *	const struct rec_field_desc rec_fields[REC_NFIELDS]
 * DESCRIPTION
 *	The run-time copy of RECORD_FIELDS (fields.h), indexed by enum
 *	rec_field: what the writer walks to emit a record and what the
 *	reader's slow path searches for a name out of order.
 *--*/

/* Application. */
#include "record/fields.h"

#define REC_FIELD_ROW(id, name, events, kind) [REC_##id] = {name, sizeof(name) - 1, events, kind},

const struct rec_field_desc rec_fields[REC_NFIELDS] = {RECORD_FIELDS(REC_FIELD_ROW)};
