/*++
 * NAME
 *	kv 3h
 * SUMMARY
 *	reading kv records: the inverse of record_kv_value()
 * DESCRIPTION
 *	A kv record is "key=value" fields separated by one space. A value is
 *	"-" (absent), a plain token (printable ASCII except '"', '\\' and
 *	'='), or a double-quoted string in which '"' and '\\' appear only
 *	escaped, every other byte is printable ASCII, and the escapes are
 *	\" \\ \n \r \t and \xHH (two hex digits, not 00). This is exactly
 *	what record_kv_value() writes, so every record it wrote reads back
 *	as the values it was given, and a line that breaks any of these
 *	rules was not written by it: the caller counts it as malformed.
 *	Parsing is in place: the record text is overwritten with the keys
 *	and unescaped values, which are NUL-terminated.
 *--*/
#ifndef RECORD_KV_H
#define RECORD_KV_H

#include <stddef.h>

struct kv_field {
    char *key;
    size_t keylen;
    char *value; /* NULL when absent ("-") */
};

/* kv_field - as kv_next, the key's length too */
int kv_field(char **cursor, struct kv_field *, const char **why);

/*
 * kv_next - the next field at *cursor. Returns 1 with key and value
 * (value NULL when absent), 0 at the end of the record, -1 with *why set
 * when the text is not a valid record.
 */
int kv_next(char **cursor, char **key, char **value, const char **why);

#endif
