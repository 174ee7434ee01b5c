/*
 * fuzz-heartbeat.c: libFuzzer target for heartbeat_read_result(), the
 * reader of what the heartbeat query returns. The database is a peer
 * vigil does not control (a view may be redefined, a column change
 * type), so any shape and any value must be refused or read within
 * bounds: never more rows than asked for, never a row skipped or made up,
 * every node a string inside the result, every age a finite number >= 0.
 *
 * Input: octet 0 the result status (0 to 2: tuples; otherwise another
 * status), octet 1 the number of columns (mod 5), octet 2 the rows the
 * caller has room for (mod 17), octet 3 the error buffer's size, then
 * the cells, separated by TAB, row after row; a cell "\N" is NULL (as in
 * COPY). Cells may hold any octet, NUL included.
 *
 * FUZZ_SOURCES: health/heartbeat-result.c
 * FUZZ_PKGS: libpq
 * FUZZ_LIBS: -lm
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "health/heartbeat.h"
#include "tests/fuzz/fuzz.h"

/* More rows than that only repeat what one row already exercises. */
#define MAX_ROWS 256

static const ExecStatusType other_status[] = {
	PGRES_EMPTY_QUERY, PGRES_COMMAND_OK,   PGRES_COPY_OUT,
	PGRES_COPY_IN,	   PGRES_BAD_RESPONSE, PGRES_NONFATAL_ERROR,
	PGRES_FATAL_ERROR, PGRES_COPY_BOTH,    PGRES_SINGLE_TUPLE,
};

/* The result the input describes; NULL when libpq has no memory. */
static PGresult *
build(const uint8_t *p, size_t n, ExecStatusType status, int ncols)
{
	static char name[] = "c0";
	PGresAttDesc attrs[4];
	PGresult *res;
	size_t i = 0;
	int row = 0, col = 0;

	res = PQmakeEmptyPGresult(NULL, status);
	if (res == NULL || ncols == 0)
		return res;
	memset(attrs, 0, sizeof(attrs));
	for (int c = 0; c < ncols; c++) {
		attrs[c].name = name;
		attrs[c].format = 0; /* text */
		attrs[c].typid = 25; /* text */
		attrs[c].typlen = -1;
		attrs[c].atttypmod = -1;
	}
	CHECK(PQsetResultAttrs(res, ncols, attrs));
	while (i < n && row < MAX_ROWS) {
		const uint8_t *tab = memchr(p + i, '\t', n - i);
		size_t len = tab ? (size_t)(tab - (p + i)) : n - i;
		bool null = len == 2 && p[i] == '\\' && p[i + 1] == 'N';

		if (!PQsetvalue(res, row, col, null ? NULL : (char *)(p + i),
				null ? -1 : (int)len)) {
			PQclear(res);
			return NULL;
		}
		i += len + 1;
		if (++col == ncols) {
			col = 0;
			row++;
		}
	}
	return res;
}

/* What the reader must have found, from the cells themselves. */
static void
check_rows(const PGresult *res, const struct hb_row *rows, long n, size_t max)
{
	long k = 0;

	CHECK(n >= 0 && (size_t)n <= max && n <= PQntuples(res));
	for (int i = 0; i < PQntuples(res) && (size_t)k < max; i++) {
		const char *age;
		char *end;
		double v;

		if (PQgetisnull(res, i, 0) || PQgetisnull(res, i, 1))
			continue;
		age = PQgetvalue(res, i, 1);
		errno = 0;
		v = strtod(age, &end);
		/* The reader refused the whole answer at a bad age. */
		CHECK(end != age && *end == '\0' && errno == 0 && isfinite(v));
		CHECK(k < n);
		CHECK(rows[k].node == PQgetvalue(res, i, 0));
		CHECK(strlen(rows[k].node) <= (size_t)PQgetlength(res, i, 0));
		CHECK(isfinite(rows[k].age_ms) && rows[k].age_ms >= 0);
		CHECK(rows[k].age_ms == (v < 0 ? 0 : v));
		k++;
	}
	CHECK(k == n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ExecStatusType status;
	struct hb_row *rows;
	size_t max, errlen;
	PGresult *res;
	char *err;
	int ncols;
	long n;

	if (size < 4)
		return 0;
	status = data[0] < 3
		     ? PGRES_TUPLES_OK
		     : other_status[data[0] % (sizeof(other_status) /
					       sizeof(other_status[0]))];
	ncols = data[1] % 5;
	max = data[2] % 17;
	errlen = 1 + data[3];
	res = build(data + 4, size - 4, status, ncols);
	if (res == NULL)
		return 0;

	/* Exactly the room announced, so that ASan sees a write past it. */
	rows = malloc(max ? max * sizeof(*rows) : 1);
	err = malloc(errlen);
	CHECK(rows != NULL && err != NULL);
	memset(err, 'x', errlen);

	n = heartbeat_read_result(res, rows, max, err, errlen);
	if (n == -1) {
		CHECK(memchr(err, '\0', errlen) != NULL);
		CHECK(errlen == 1 || err[0] != '\0');
		CHECK(PQresultStatus(res) != PGRES_TUPLES_OK ||
		      PQnfields(res) != 2 || PQntuples(res) > 0);
	} else {
		CHECK(PQresultStatus(res) == PGRES_TUPLES_OK &&
		      PQnfields(res) == 2);
		check_rows(res, rows, n, max);
	}
	free(err);
	free(rows);
	PQclear(res);
	return 0;
}
