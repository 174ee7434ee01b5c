/*
 * heartbeat.h: the watch on the heartbeat rows the nodes write to the
 * shared database (SPEC.md health.heartbeat). libpq in non-blocking mode
 * on the main loop: one query per poll for every node; the ages come from
 * the database's own clock.
 */
#ifndef VIGIL_HEARTBEAT_H
#define VIGIL_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "core/conf-types.h"

struct heartbeat;
struct pg_result;

struct hb_row {
	const char *node; /* valid during the callback only */
	double age_ms;
	/* When the beat was written, in ms since the epoch by the database's
	 * clock (its now() less the age, exact to the microsecond the
	 * database gives), so that every appliance reading the same row
	 * dates the same beat alike; -1 when the clock was not read. */
	int64_t beat_ms;
};

struct hb_sink {
	/* A poll answered: rows (possibly none) as of now (ev_now). */
	void (*rows)(void *ctx, const struct hb_row *rows, size_t n);
	/* The database became readable (up; also after the first
	 * connection) or stopped being readable (down, with the reason).
	 * Called on changes only. */
	void (*source)(void *ctx, bool up, const char *why);
	void *ctx;
};

/* Connects to conf's heartbeat database and polls it; conf must outlive
 * the watch. Returns NULL without memory. */
struct heartbeat *heartbeat_start(struct ev_loop *loop, const struct conf *conf,
				  const struct hb_sink *sink);

void heartbeat_stop(struct heartbeat *hb);

/*
 * The database's now() in µs since the epoch, from the first result of
 * the poll (the clock query sent with the operator's query, in the same
 * implicit transaction, so its now() is the query's). -1 when absent.
 */
int64_t heartbeat_read_clock(const struct pg_result *res);

/* Dates rows[0..n) from the database's now() (µs; -1: unknown). */
void heartbeat_date_rows(struct hb_row *rows, size_t n, int64_t now_us);

/*
 * Reads one query result into rows: two columns (node text, age numeric);
 * rows whose node or age is NULL are skipped. Returns the number of rows,
 * or -1 with the reason in err when the shape is wrong. The strings point
 * into res. Exposed for the unit tests.
 */
long heartbeat_read_result(const struct pg_result *res, struct hb_row *rows,
			   size_t max, char *err, size_t errlen);

#endif
