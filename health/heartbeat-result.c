/*
 * heartbeat-result.c: reading the heartbeat query's answer into rows,
 * apart from the poller so that it can be tested and fuzzed with libpq
 * alone (tests/fuzz/fuzz-heartbeat.c).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "health/heartbeat.h"

long
heartbeat_read_result(const PGresult *res, struct hb_row *rows, size_t max,
		      char *err, size_t errlen)
{
	int nrows = PQntuples(res);
	size_t n = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "the query returned no rows: %s",
			 PQresStatus(PQresultStatus(res)));
		return -1;
	}
	if (PQnfields(res) != 2) {
		snprintf(err, errlen,
			 "the query must return 2 columns (node, age_ms), "
			 "not %d",
			 PQnfields(res));
		return -1;
	}
	for (int i = 0; i < nrows && n < max; i++) {
		const char *age;
		char *end;
		double v;

		if (PQgetisnull(res, i, 0) || PQgetisnull(res, i, 1))
			continue;
		age = PQgetvalue(res, i, 1);
		errno = 0;
		v = strtod(age, &end);
		/* PostgreSQL can answer NaN and ±Infinity: not an age. */
		if (end == age || *end != '\0' || errno != 0 || !isfinite(v)) {
			snprintf(err, errlen,
				 "row %d: age_ms \"%.40s\" is not a number",
				 i + 1, age);
			return -1;
		}
		rows[n].node = PQgetvalue(res, i, 0);
		/* A node's clock ahead of the database's gives a negative
		 * age: it beat just now. */
		rows[n].age_ms = v < 0 ? 0 : v;
		rows[n].beat_ms = -1;
		n++;
	}
	return (long)n;
}

int64_t
heartbeat_read_clock(const PGresult *res)
{
	const char *v;
	char *end;
	long long us;

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1 || PQnfields(res) != 1 ||
	    PQgetisnull(res, 0, 0))
		return -1;
	v = PQgetvalue(res, 0, 0);
	errno = 0;
	us = strtoll(v, &end, 10);
	if (end == v || *end != '\0' || errno != 0 || us <= 0)
		return -1;
	return (int64_t)us;
}

void
heartbeat_date_rows(struct hb_row *rows, size_t n, int64_t now_us)
{
	for (size_t i = 0; i < n; i++) {
		/* The age is a decimal of whole µs (now() - beat): rounded
		 * back to µs, the subtraction is exact. */
		int64_t beat_us = now_us - llround(rows[i].age_ms * 1000.0);

		rows[i].beat_ms = now_us < 0 ? -1 : beat_us / 1000;
	}
}
