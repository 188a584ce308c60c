/*++
 * NAME
 *	pidfile 3h
 * SUMMARY
 *	the pidfile, written by root without following a planted link
 *--*/
#ifndef PIDFILE_H
#define PIDFILE_H

#include "util/tp_error.h"

/* pidfile_write - our pid into path; -1 with err set when the name is a
   symbolic link, not a regular file, hard-linked, someone else's file, or
   cannot be written */
int pidfile_write(const char *path, struct tp_error *err);

#endif
