/*
 * errlist.h: a list of user-facing error lines ("FILE:LINE: SETTING:
 * problem"), so that a check can report every error at once, not just the
 * first.
 */
#ifndef VIGIL_ERRLIST_H
#define VIGIL_ERRLIST_H

#include <stddef.h>

struct errlist {
	char **line;
	size_t n;
	size_t cap;
	int oom; /* a line could not be stored: say so once when printing */
};

/* Appends a formatted line. Never fails: on allocation failure it sets oom. */
void errlist_add(struct errlist *el, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends "FILE:LINE: SETTING: problem"; line <= 0 leaves out the line. */
void errlist_at(struct errlist *el, const char *file, int line,
		const char *setting, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Frees every line; the list is empty and reusable afterwards. */
void errlist_clear(struct errlist *el);

#endif
