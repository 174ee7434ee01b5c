/*
 * errlist.c: collected user-facing errors, each one line.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errlist.h"

static void
errlist_push(struct errlist *el, char *line)
{
	if (line == NULL) {
		el->oom = 1;
		return;
	}
	if (el->n == el->cap) {
		size_t cap = el->cap ? el->cap * 2 : 8;
		char **v = realloc(el->line, cap * sizeof(*v));

		if (v == NULL) {
			free(line);
			el->oom = 1;
			return;
		}
		el->line = v;
		el->cap = cap;
	}
	el->line[el->n++] = line;
}

/*
 * Formats a message with its control characters escaped (\n, \xNN): values
 * from the file end up in log lines and a newline in one would forge a
 * second line.
 */
static char *
vformat(const char *fmt, va_list ap)
{
	char *s = NULL, *out, *o;

	if (vasprintf(&s, fmt, ap) == -1)
		return NULL;
	out = malloc(strlen(s) * 4 + 1);
	if (out == NULL) {
		free(s);
		return NULL;
	}
	o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t') {
			*o++ = '\\';
			*o++ = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
		} else if (*p < 0x20 || *p == 0x7f) {
			o += sprintf(o, "\\x%02x", *p);
		} else {
			*o++ = (char)*p;
		}
	}
	*o = '\0';
	free(s);
	return out;
}

void
errlist_add(struct errlist *el, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errlist_push(el, vformat(fmt, ap));
	va_end(ap);
}

void
errlist_at(struct errlist *el, const char *file, int line, const char *setting,
	   const char *fmt, ...)
{
	va_list ap;
	char *msg, *s = NULL;
	int rc;

	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	if (msg == NULL) {
		el->oom = 1;
		return;
	}
	if (line > 0)
		rc = asprintf(&s, "%s:%d: %s: %s", file, line, setting, msg);
	else
		rc = asprintf(&s, "%s: %s: %s", file, setting, msg);
	free(msg);
	errlist_push(el, rc == -1 ? NULL : s);
}

void
errlist_clear(struct errlist *el)
{
	for (size_t i = 0; i < el->n; i++)
		free(el->line[i]);
	free(el->line);
	memset(el, 0, sizeof(*el));
}
