/*
 * json.h: a small strict JSON reader (RFC 8259) for vigilctl, which reads
 * vigil's admin API; and a compact writer for the values it read.
 */
#ifndef VIGIL_JSON_H
#define VIGIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Nesting deeper than this is refused: the reader recurses once a level. */
#define JSON_MAX_DEPTH 64

/* Members one object may have: duplicate names are looked for pairwise. */
#define JSON_MAX_MEMBERS 4096

enum json_type {
	JSON_NULL = 1,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json {
	enum json_type type;
	/* A member of an object: its name, decoded, NUL-terminated. */
	char *key;
	size_t key_len;
	/*
	 * JSON_STRING: the decoded UTF-8, NUL-terminated; len bytes, which
	 * may include a NUL written as \u0000. JSON_NUMBER: the number as
	 * written, so that json_print gives it back unchanged.
	 */
	char *str;
	size_t len;
	double num; /* JSON_NUMBER */
	/* JSON_ARRAY, JSON_OBJECT: the n items, members in their order. */
	struct json *item;
	size_t n;
};

/*
 * Parses exactly one value from text[0..len) (whitespace around it is
 * allowed, anything else is not). Strings must be valid UTF-8 with no
 * control characters; \u escapes must pair surrogates; numbers must fit a
 * double; names in an object must differ. Returns the value (the caller
 * frees it with json_free), or NULL with "at byte N: problem" in err.
 */
struct json *json_parse(const char *text, size_t len, char *err, size_t errlen);

/* Frees v and everything in it; NULL is fine. */
void json_free(struct json *v);

/* The member named key of obj; NULL when obj is not an object or has none. */
const struct json *json_get(const struct json *obj, const char *key);

/* v's text when v is a string; NULL otherwise (v may be NULL). */
const char *json_string(const struct json *v);

/* 0 with v's value in *out when v is a number; -1 otherwise. */
int json_number(const struct json *v, double *out);

/* 1 for true, 0 for false, -1 for anything else (v may be NULL). */
int json_bool(const struct json *v);

/* Writes v as compact JSON (no newline); -1 on a write error. */
int json_print(FILE *f, const struct json *v);

#endif
