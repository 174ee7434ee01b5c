/*
 * buf.h: a growable byte buffer for building answers (JSON, HTML, text).
 * Allocation failures are remembered, not fatal: the caller checks oom
 * once at the end and fails that one answer.
 */
#ifndef VIGIL_BUF_H
#define VIGIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *p;
	size_t len;
	size_t cap;
	bool oom;
};

void buf_add(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A wall-clock time in milliseconds since the epoch as a quoted JSON
 * string, RFC 3339 in UTC: "2026-11-23T10:15:02.113Z". */
void buf_json_time(struct buf *b, long long epoch_ms);

/* s as a JSON string, quotes included; NULL becomes null. */
void buf_json_str(struct buf *b, const char *s);

void buf_free(struct buf *b);

#endif
