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
		n++;
	}
	return (long)n;
}
