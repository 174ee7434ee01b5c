/*
 * fuzz-json.c: libFuzzer target for json_parse(), vigilctl's reader of
 * what comes back from the admin listener. Besides crashes, it checks that
 * whatever parses prints as JSON that parses again to the same text.
 * FUZZ_SOURCES: admin/json.c
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/json.h"
#include "tests/fuzz/fuzz.h"

/* v printed compactly, in a new string; NULL when out of memory. */
static char *
print(const struct json *v, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	if (f == NULL)
		return NULL;
	json_print(f, v);
	fclose(f);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[200], *once, *twice;
	size_t n1 = 0, n2 = 0;
	struct json *v, *w;

	v = json_parse((const char *)data, size, err, sizeof(err));
	if (v == NULL) {
		if (strncmp(err, "at byte ", 8) != 0)
			abort();
		return 0;
	}
	once = print(v, &n1);
	json_free(v);
	if (once == NULL)
		return 0;
	w = json_parse(once, n1, err, sizeof(err));
	if (w == NULL)
		abort();
	twice = print(w, &n2);
	if (twice != NULL && (n1 != n2 || memcmp(once, twice, n1) != 0))
		abort();
	json_free(w);
	free(once);
	free(twice);
	return 0;
}
