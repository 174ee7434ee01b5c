/*
 * test-json.c: admin/json.c, vigilctl's JSON reader: every escape (with
 * surrogate pairs and \u0000), nesting, numbers, the shapes vigil's admin
 * API answers with, refusal of every kind of bad input with the byte where
 * it went wrong, the depth limit, and the compact writer giving back what
 * it read.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin/json.h"
#include "tests/unit/tap.h"

static struct json *
parse(const char *s, char *err, size_t errlen)
{
	return json_parse(s, strlen(s), err, errlen);
}

/* The value of s printed back compactly ("" when it does not parse). */
static char *
reprint(const char *s)
{
	char err[200], *out = NULL;
	size_t len = 0;
	struct json *v = parse(s, err, sizeof(err));
	FILE *f;

	if (v == NULL)
		return strdup("");
	f = open_memstream(&out, &len);
	if (f != NULL) {
		json_print(f, v);
		fclose(f);
	}
	json_free(v);
	return out;
}

static void
test_scalars(void)
{
	char err[200];
	struct json *v;
	double d = 0;

	v = parse(" true ", err, sizeof(err));
	is_int(json_bool(v), 1, "true");
	json_free(v);
	v = parse("false", err, sizeof(err));
	is_int(json_bool(v), 0, "false");
	json_free(v);
	v = parse("\n\t\r null", err, sizeof(err));
	ok(v != NULL && v->type == JSON_NULL, "null after all four spaces");
	is_int(json_bool(v), -1, "null is not a boolean");
	json_free(v);

	static const struct {
		const char *text;
		double want;
	} nums[] = {
		{ "0", 0 },	      { "-0", 0 },     { "42", 42 },
		{ "-17", -17 },	      { "1.5", 1.5 },  { "61300", 61300 },
		{ "1e3", 1000 },      { "1E+2", 100 }, { "25e-1", 2.5 },
		{ "-0.125", -0.125 }, { "1e-400", 0 },
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		v = parse(nums[i].text, err, sizeof(err));
		ok(json_number(v, &d) == 0 && d == nums[i].want, "number %s",
		   nums[i].text);
		json_free(v);
	}
	v = parse("\"x\"", err, sizeof(err));
	is_int(json_number(v, &d), -1, "a string is not a number");
	ok(json_string(v) != NULL && strcmp(json_string(v), "x") == 0,
	   "a string");
	json_free(v);
	ok(json_string(NULL) == NULL && json_bool(NULL) == -1 &&
	       json_get(NULL, "a") == NULL,
	   "the getters take NULL");
}

static void
test_escapes(void)
{
	static const struct {
		const char *json;
		const char *want;
		size_t len;
	} cases[] = {
		{ "\"\\\"\\\\\\/\"", "\"\\/", 3 },
		{ "\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t", 5 },
		{ "\"\\u0041\\u00e9\"", "A\xc3\xa9", 3 },
		{ "\"\\u20AC\"", "\xe2\x82\xac", 3 },
		{ "\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80", 4 },
		{ "\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf", 4 },
		{ "\"a\\u0000b\"", "a\0b", 3 },
		{ "\"\\u001b[31m\"", "\x1b[31m", 5 },
		{ "\"raw \xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80\"",
		  "raw \xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80", 15 },
		{ "\"\"", "", 0 },
	};
	char err[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json *v = parse(cases[i].json, err, sizeof(err));

		ok(v != NULL && v->type == JSON_STRING &&
		       v->len == cases[i].len &&
		       memcmp(v->str, cases[i].want, v->len) == 0 &&
		       v->str[v->len] == '\0',
		   "string %s decodes", cases[i].json);
		if (v == NULL)
			tap_diag("%s", err);
		json_free(v);
	}
}

static void
test_nesting(void)
{
	/* What GET /api/status answers, cut down. */
	static const char status[] =
	    "{\"cluster\":\"c\",\"leader\":true,\"active\":[\"vro-2\"],"
	    "\"nodes\":[{\"name\":\"vro-1\",\"state\":\"shut_down\","
	    "\"probe\":{\"verdict\":\"failed\",\"latency_ms\":null},"
	    "\"heartbeat_age_ms\":61300,\"restart\":{\"attempts\":1}},"
	    "{\"name\":\"vro-2\",\"state\":\"running\"}],\"empty\":{},"
	    "\"none\":[]}";
	char err[200];
	struct json *v = parse(status, err, sizeof(err));
	const struct json *nodes, *n0;
	double d = 0;

	ok(v != NULL, "a status answer parses");
	if (v == NULL) {
		tap_diag("%s", err);
		return;
	}
	is_str(json_string(json_get(v, "cluster")), "c", "cluster");
	is_int(json_bool(json_get(v, "leader")), 1, "leader");
	nodes = json_get(v, "nodes");
	ok(nodes != NULL && nodes->type == JSON_ARRAY && nodes->n == 2,
	   "two nodes");
	n0 = nodes != NULL && nodes->n > 0 ? &nodes->item[0] : NULL;
	is_str(json_string(json_get(json_get(n0, "probe"), "verdict")),
	       "failed", "a member of a member");
	ok(json_get(json_get(n0, "probe"), "latency_ms")->type == JSON_NULL,
	   "null member");
	ok(json_number(json_get(n0, "heartbeat_age_ms"), &d) == 0 && d == 61300,
	   "number member");
	ok(json_get(v, "nope") == NULL, "a missing member is NULL");
	ok(json_get(nodes, "name") == NULL, "an array has no members");
	ok(json_get(v, "empty")->type == JSON_OBJECT &&
	       json_get(v, "empty")->n == 0,
	   "empty object");
	ok(json_get(v, "none")->type == JSON_ARRAY &&
	       json_get(v, "none")->n == 0,
	   "empty array");
	is_str(nodes->item[1].key, NULL, "array items have no name");
	json_free(v);
}

static void
test_bad(void)
{
	static const struct {
		const char *json;
		const char *err; /* the start of the message */
	} cases[] = {
		{ "", "at byte 0: unexpected end of input" },
		{ "   ", "at byte 3: unexpected end of input" },
		{ "{", "at byte 1: unexpected end of input" },
		{ "[1,]", "at byte 3: unexpected ']'" },
		{ "[1 2]", "at byte 3: unexpected '2'" },
		{ "{\"a\" 1}", "at byte 5: unexpected '1', expected ':'" },
		{ "{\"a\":1,}",
		  "at byte 7: unexpected '}', expected a string" },
		{ "{a:1}", "at byte 1: unexpected 'a', expected a string" },
		{ "{\"a\":1,\"a\":2}", "at byte 7: a name used twice" },
		{ "[1]]", "at byte 3: more after the value" },
		{ "1 2", "at byte 2: more after the value" },
		{ "tru", "at byte 0: unexpected 't'" },
		{ "nul", "at byte 0: unexpected 'n'" },
		{ "True", "at byte 0: unexpected 'T'" },
		{ "'x'", "at byte 0: unexpected '''" },
		{ "01", "at byte 1: a number with a leading zero" },
		{ "-", "at byte 1: unexpected end of input, expected a digit" },
		{ "1.", "at byte 2: unexpected end of input" },
		{ ".5", "at byte 0: unexpected '.'" },
		{ "+1", "at byte 0: unexpected '+'" },
		{ "1e", "at byte 2: unexpected end of input" },
		{ "1e999", "at byte 0: a number too large" },
		{ "NaN", "at byte 0: unexpected 'N'" },
		{ "\"abc", "at byte 4: unexpected end of input in a string" },
		{ "\"a\nb\"", "at byte 2: control character 0x0a" },
		{ "\"a\tb\"", "at byte 2: control character 0x09" },
		{ "\"\\x\"", "at byte 1: bad escape" },
		{ "\"\\u12\"", "at byte 3: \\u needs four hex digits" },
		{ "\"\\u12g4\"", "at byte 3: \\u needs four hex digits" },
		{ "\"\\uDC00\"", "at byte 1: \\uDC00: a low surrogate" },
		{ "\"\\uD800\"", "at byte 1: \\uD800: a high surrogate" },
		{ "\"\\uD800x\"", "at byte 1: \\uD800: a high surrogate" },
		{ "\"\\uD800\\u0041\"",
		  "at byte 1: \\uD800: a high surrogate" },
		{ "\"\xff\"", "at byte 1: invalid UTF-8" },
		{ "\"\xc0\xaf\"", "at byte 1: invalid UTF-8" }, /* overlong */
		{ "\"\xed\xa0\x80\"",
		  "at byte 1: invalid UTF-8" }, /* surrogate */
		{ "\"\xf4\x90\x80\x80\"", "at byte 1: invalid UTF-8" },
		{ "\"\xe2\x82\"", "at byte 1: invalid UTF-8" }, /* cut short */
		{ "\xef\xbb\xbf{}", "at byte 0: unexpected byte 0xef" },
		{ "/* c */ 1", "at byte 0: unexpected '/'" },
	};
	char err[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json *v;

		err[0] = '\0';
		v = parse(cases[i].json, err, sizeof(err));
		ok(v == NULL &&
		       strncmp(err, cases[i].err, strlen(cases[i].err)) == 0,
		   "refused: %s", cases[i].err);
		if (v != NULL ||
		    strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			tap_diag("got \"%s\"", err);
		json_free(v);
	}

	/* A NUL byte in the input is just a bad byte, not the end. */
	struct json *v = json_parse("[1]\0", 4, err, sizeof(err));
	ok(v == NULL && strncmp(err, "at byte 3: more", 15) == 0,
	   "a NUL after the value is refused");
	json_free(v);
	v = json_parse("\"a\0\"", 4, err, sizeof(err));
	ok(v == NULL && strstr(err, "control character 0x00") != NULL,
	   "a raw NUL in a string is refused");
	json_free(v);
}

static void
test_depth(void)
{
	char deep[2 * (JSON_MAX_DEPTH + 1) + 1], err[200];
	struct json *v;
	int n = JSON_MAX_DEPTH;

	memset(deep, '[', (size_t)n);
	memset(deep + n, ']', (size_t)n);
	deep[2 * n] = '\0';
	v = parse(deep, err, sizeof(err));
	ok(v != NULL, "%d levels of nesting are fine", n);
	json_free(v);

	n = JSON_MAX_DEPTH + 1;
	memset(deep, '[', (size_t)n);
	memset(deep + n, ']', (size_t)n);
	deep[2 * n] = '\0';
	v = parse(deep, err, sizeof(err));
	ok(v == NULL && strstr(err, "nested deeper than") != NULL,
	   "%d levels are refused", n);
	json_free(v);

	/* Objects count as levels too, and a deep bomb stops early. */
	size_t big = 100000;
	char *bomb = malloc(big * 5 + 1);

	for (size_t i = 0; bomb != NULL && i < big; i++)
		memcpy(bomb + i * 5, "{\"a\":", 5);
	if (bomb != NULL)
		bomb[big * 5] = '\0';
	v = bomb ? parse(bomb, err, sizeof(err)) : NULL;
	ok(v == NULL && strstr(err, "nested deeper than") != NULL,
	   "100000 nested objects are refused, not followed");
	free(bomb);
}

static void
test_members(void)
{
	char *s = malloc((JSON_MAX_MEMBERS + 1) * 16 + 2), err[200];
	size_t len = 0;
	struct json *v;

	s[len++] = '{';
	for (int i = 0; i <= JSON_MAX_MEMBERS; i++)
		len += (size_t)sprintf(s + len, "%s\"k%d\":%d", i ? "," : "", i,
				       i);
	s[len++] = '}';
	v = json_parse(s, len, err, sizeof(err));
	ok(v == NULL && strstr(err, "more than") != NULL,
	   "an object with too many members is refused");
	json_free(v);
	free(s);
}

static void
test_print(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ " { \"a\" : [ 1 , 2.50 , -3e+2 ] , \"b\" : { } } ",
		  "{\"a\":[1,2.50,-3e+2],\"b\":{}}" },
		{ "[true,false,null,\"\"]", "[true,false,null,\"\"]" },
		{ "\"\\u0041\\/\\\"\\\\\\n\\u0001\\u007f\\u00e9\"",
		  "\"A/\\\"\\\\\\n\\u0001\\u007f\xc3\xa9\"" },
		{ "{\"\\u0000k\":\"a\\u0000b\"}",
		  "{\"\\u0000k\":\"a\\u0000b\"}" },
		{ "\"\\uD83D\\uDE00\"", "\"\xf0\x9f\x98\x80\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = reprint(cases[i].in);

		is_str(got, cases[i].out, "printed back: %s", cases[i].out);
		/* And what it printed reads the same again. */
		char *again = reprint(got);

		is_str(again, got, "printing is stable");
		free(got);
		free(again);
	}
}

int
main(void)
{
	test_scalars();
	test_escapes();
	test_nesting();
	test_bad();
	test_depth();
	test_members();
	test_print();
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
