/*
 * json.c: a strict recursive-descent JSON reader (RFC 8259) building a tree,
 * and a compact writer. Small on purpose: vigilctl reads a few kilobytes
 * from vigil, so clarity wins over speed.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/json.h"

struct reader {
	const unsigned char *p; /* the next byte */
	const unsigned char *start;
	const unsigned char *end;
	int depth;
	char *err;
	size_t errlen;
	bool failed;
};

static int parse_value(struct reader *r, struct json *v);

/* Records the first error only: it is the one that explains the others. */
static int __attribute__((format(printf, 2, 3)))
fail(struct reader *r, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	if (r->failed)
		return -1;
	r->failed = true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen, "at byte %zu: %s",
		 (size_t)(r->p - r->start), what);
	return -1;
}

/* Names the byte at p for an error: 'x' when printable, 0xHH otherwise. */
static int
unexpected(struct reader *r, const char *wanted)
{
	if (r->p >= r->end)
		return fail(r, "unexpected end of input, expected %s", wanted);
	if (*r->p >= 0x20 && *r->p < 0x7f)
		return fail(r, "unexpected '%c', expected %s", *r->p, wanted);
	return fail(r, "unexpected byte 0x%02x, expected %s", *r->p, wanted);
}

static void
skip_space(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* A growable byte string for decoded text. */
struct sbuf {
	char *p;
	size_t len;
	size_t cap;
};

static int
sbuf_add(struct sbuf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Encodes code point cp (not a surrogate, at most U+10FFFF) as UTF-8. */
static int
sbuf_utf8(struct sbuf *b, uint32_t cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return sbuf_add(b, u, n);
}

/*
 * The length of the well-formed UTF-8 sequence at p (Unicode table 3-7:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* Four hex digits after "\u"; -1 when they are not. */
static long
hex4(struct reader *r)
{
	long v = 0;

	if (r->end - r->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned char c = r->p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	r->p += 4;
	return v;
}

/* The escape after a backslash (r->p is past it) into b. */
static int
parse_escape(struct reader *r, struct sbuf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	long hi, lo;

	if (r->p >= r->end)
		return unexpected(r, "an escape");
	e = *r->p ? strchr(from, *r->p) : NULL;
	if (e != NULL) {
		r->p++;
		return sbuf_add(b, &to[e - from], 1) == -1
			   ? fail(r, "out of memory")
			   : 0;
	}
	if (*r->p != 'u') {
		r->p--;
		return fail(r, "bad escape in a string");
	}
	r->p++;
	if ((hi = hex4(r)) == -1)
		return fail(r, "\\u needs four hex digits");
	if (hi >= 0xdc00 && hi <= 0xdfff) {
		r->p -= 6;
		return fail(r, "\\u%04lX: a low surrogate without a high one",
			    hi);
	}
	if (hi >= 0xd800 && hi <= 0xdbff) {
		/* A high surrogate: a low one must follow at once. */
		if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u') {
			r->p -= 6;
			return fail(r,
				    "\\u%04lX: a high surrogate without "
				    "a low one",
				    hi);
		}
		r->p += 2;
		lo = hex4(r);
		if (lo == -1)
			return fail(r, "\\u needs four hex digits");
		if (lo < 0xdc00 || lo > 0xdfff) {
			r->p -= 12;
			return fail(r,
				    "\\u%04lX: a high surrogate without "
				    "a low one",
				    hi);
		}
		hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (sbuf_utf8(b, (uint32_t)hi) == -1)
		return fail(r, "out of memory");
	return 0;
}

/* A string at r->p (its opening quote) into *out (allocated) and *len. */
static int
parse_string(struct reader *r, char **out, size_t *len)
{
	struct sbuf b = { 0 };

	if (r->p >= r->end || *r->p != '"')
		return unexpected(r, "a string");
	r->p++;
	if (sbuf_add(&b, "", 0) == -1)
		return fail(r, "out of memory");
	for (;;) {
		const unsigned char *run = r->p;
		size_t n;

		/* Copy plain bytes in runs: most strings have no escape. */
		while (r->p < r->end && *r->p != '"' && *r->p != '\\' &&
		       *r->p >= 0x20) {
			if ((n = utf8_len(r->p, r->end)) == 0) {
				free(b.p);
				return fail(r, "invalid UTF-8 in a string");
			}
			r->p += n;
		}
		if (sbuf_add(&b, run, (size_t)(r->p - run)) == -1) {
			free(b.p);
			return fail(r, "out of memory");
		}
		if (r->p >= r->end) {
			free(b.p);
			return fail(r, "unexpected end of input in a string");
		}
		if (*r->p == '"')
			break;
		if (*r->p < 0x20) {
			free(b.p);
			return fail(r, "control character 0x%02x in a string",
				    *r->p);
		}
		r->p++; /* the backslash */
		if (parse_escape(r, &b) == -1) {
			free(b.p);
			return -1;
		}
	}
	r->p++;
	*out = b.p;
	*len = b.len;
	return 0;
}

static bool
is_digit(struct reader *r)
{
	return r->p < r->end && *r->p >= '0' && *r->p <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
parse_number(struct reader *r, struct json *v)
{
	const unsigned char *s = r->p;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (!is_digit(r))
		return unexpected(r, "a digit");
	if (*r->p == '0') {
		r->p++;
		if (is_digit(r))
			return fail(r, "a number with a leading zero");
	} else {
		while (is_digit(r))
			r->p++;
	}
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (!is_digit(r))
			return unexpected(r, "a digit after '.'");
		while (is_digit(r))
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!is_digit(r))
			return unexpected(r, "a digit in the exponent");
		while (is_digit(r))
			r->p++;
	}
	v->len = (size_t)(r->p - s);
	v->str = malloc(v->len + 1);
	if (v->str == NULL)
		return fail(r, "out of memory");
	memcpy(v->str, s, v->len);
	v->str[v->len] = '\0';
	/* The grammar above is a subset of strtod's in the C locale. */
	v->num = strtod(v->str, NULL);
	if (isinf(v->num)) {
		r->p = s;
		return fail(r, "a number too large for a double");
	}
	v->type = JSON_NUMBER;
	return 0;
}

static int
parse_word(struct reader *r, const char *word, enum json_type type,
	   struct json *v)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return unexpected(r, "a value");
	r->p += n;
	v->type = type;
	return 0;
}

/* Appends a zeroed item to v's items; NULL when out of memory. */
static struct json *
add_item(struct json *v, size_t *cap)
{
	if (v->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct json *np = realloc(v->item, ncap * sizeof(*np));

		if (np == NULL)
			return NULL;
		v->item = np;
		*cap = ncap;
	}
	memset(&v->item[v->n], 0, sizeof(v->item[0]));
	return &v->item[v->n++];
}

/* An array or an object at r->p (its bracket or brace). */
static int
parse_container(struct reader *r, struct json *v, bool object)
{
	char close = object ? '}' : ']';
	size_t cap = 0;

	if (++r->depth > JSON_MAX_DEPTH)
		return fail(r, "nested deeper than %d levels", JSON_MAX_DEPTH);
	v->type = object ? JSON_OBJECT : JSON_ARRAY;
	r->p++;
	skip_space(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		r->depth--;
		return 0;
	}
	for (;;) {
		struct json *it = add_item(v, &cap);
		const unsigned char *at;

		if (it == NULL)
			return fail(r, "out of memory");
		if (object) {
			if (v->n > JSON_MAX_MEMBERS)
				return fail(r,
					    "more than %d members in an "
					    "object",
					    JSON_MAX_MEMBERS);
			at = r->p;
			if (parse_string(r, &it->key, &it->key_len) == -1)
				return -1;
			for (size_t i = 0; i + 1 < v->n; i++) {
				if (v->item[i].key_len == it->key_len &&
				    memcmp(v->item[i].key, it->key,
					   it->key_len) == 0) {
					r->p = at;
					return fail(r, "a name used twice in "
						       "one object");
				}
			}
			skip_space(r);
			if (r->p >= r->end || *r->p != ':')
				return unexpected(r, "':'");
			r->p++;
			skip_space(r);
		}
		if (parse_value(r, it) == -1)
			return -1;
		skip_space(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			skip_space(r);
			continue;
		}
		if (r->p < r->end && *r->p == close) {
			r->p++;
			r->depth--;
			return 0;
		}
		return unexpected(r, object ? "',' or '}'" : "',' or ']'");
	}
}

static int
parse_value(struct reader *r, struct json *v)
{
	if (r->p >= r->end)
		return unexpected(r, "a value");
	switch (*r->p) {
	case '{':
		return parse_container(r, v, true);
	case '[':
		return parse_container(r, v, false);
	case '"':
		if (parse_string(r, &v->str, &v->len) == -1)
			return -1;
		v->type = JSON_STRING;
		return 0;
	case 't':
		return parse_word(r, "true", JSON_TRUE, v);
	case 'f':
		return parse_word(r, "false", JSON_FALSE, v);
	case 'n':
		return parse_word(r, "null", JSON_NULL, v);
	default:
		if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
			return parse_number(r, v);
		return unexpected(r, "a value");
	}
}

/* Frees what v holds, not v itself. */
static void
clear(struct json *v)
{
	for (size_t i = 0; i < v->n; i++)
		clear(&v->item[i]);
	free(v->item);
	free(v->key);
	free(v->str);
}

struct json *
json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct reader r = {
		.p = (const unsigned char *)text,
		.start = (const unsigned char *)text,
		.end = (const unsigned char *)text + len,
		.err = err,
		.errlen = errlen,
	};
	struct json *v = calloc(1, sizeof(*v));

	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	skip_space(&r);
	if (parse_value(&r, v) == 0) {
		skip_space(&r);
		if (r.p == r.end)
			return v;
		fail(&r, "more after the value");
	}
	json_free(v);
	return NULL;
}

void
json_free(struct json *v)
{
	if (v == NULL)
		return;
	clear(v);
	free(v);
}

const struct json *
json_get(const struct json *obj, const char *key)
{
	size_t n = strlen(key);

	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (obj->item[i].key_len == n &&
		    memcmp(obj->item[i].key, key, n) == 0)
			return &obj->item[i];
	return NULL;
}

const char *
json_string(const struct json *v)
{
	return v != NULL && v->type == JSON_STRING ? v->str : NULL;
}

int
json_number(const struct json *v, double *out)
{
	if (v == NULL || v->type != JSON_NUMBER)
		return -1;
	*out = v->num;
	return 0;
}

int
json_bool(const struct json *v)
{
	if (v == NULL)
		return -1;
	return v->type == JSON_TRUE ? 1 : v->type == JSON_FALSE ? 0 : -1;
}

static void
print_string(FILE *f, const char *s, size_t len)
{
	putc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				putc(c, f);
		}
	}
	putc('"', f);
}

static void
print_value(FILE *f, const struct json *v)
{
	switch (v->type) {
	case JSON_NULL:
		fputs("null", f);
		break;
	case JSON_FALSE:
		fputs("false", f);
		break;
	case JSON_TRUE:
		fputs("true", f);
		break;
	case JSON_NUMBER:
		fputs(v->str, f);
		break;
	case JSON_STRING:
		print_string(f, v->str, v->len);
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		putc(v->type == JSON_ARRAY ? '[' : '{', f);
		for (size_t i = 0; i < v->n; i++) {
			if (i > 0)
				putc(',', f);
			if (v->type == JSON_OBJECT) {
				print_string(f, v->item[i].key,
					     v->item[i].key_len);
				putc(':', f);
			}
			print_value(f, &v->item[i]);
		}
		putc(v->type == JSON_ARRAY ? ']' : '}', f);
		break;
	}
}

int
json_print(FILE *f, const struct json *v)
{
	print_value(f, v);
	return ferror(f) ? -1 : 0;
}
