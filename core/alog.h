/*
 * alog.h: the access log: one line per request, written by a thread of its
 * own so that a slow disk never stalls a worker. Workers hand lines over
 * through a bounded buffer; when the disk cannot keep up, lines are
 * dropped and counted, never waited for.
 */
#ifndef VIGIL_ALOG_H
#define VIGIL_ALOG_H

#include <stddef.h>

struct alog;

/* Opens path for appending and starts the writer. NULL with err set. */
struct alog *alog_open(const char *path, char *err, size_t errlen);

/* Queues one line (a newline is added). Safe from any thread. */
void alog_line(struct alog *a, const char *line, size_t len);

/* Asks the writer to open the file again (after rotation); the writer
 * logs a failure and keeps the old file. Never waits for the disk. */
void alog_reopen(struct alog *a);

/* Writes what is queued, stops the writer, closes the file. */
void alog_close(struct alog *a);

#endif
