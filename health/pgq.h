/*
 * pgq.h: one PostgreSQL session on the main loop and a queue of queries
 * sent on it one at a time (libpq's non-blocking API). The session is
 * what matters to its user (leader.c holds an advisory lock on it), so it
 * is never replaced behind the user's back: when it ends, the user is
 * told, every query still queued gets its callback with no result, and a
 * new session is started after a short back-off.
 */
#ifndef VIGIL_PGQ_H
#define VIGIL_PGQ_H

#include <stdbool.h>

#include <ev.h>
#include <libpq-fe.h>

struct pgq;

struct pgq_sink {
	void (*up)(void *ctx);			 /* a session began */
	void (*down)(void *ctx, const char *why); /* it ended, or none began */
	void *ctx;
};

/* The answer of one query: res is NULL when the session ended before it
 * answered (why says how); an SQL error is a result with its status. */
typedef void (*pgq_result_fn)(void *ctx, const PGresult *res, const char *why);

/*
 * Starts connecting to conninfo with application_name (both copied).
 * timeout_s bounds a connection attempt and every query: a query that
 * outlives it ends the session. Returns NULL out of memory.
 */
struct pgq *pgq_start(struct ev_loop *loop, const char *conninfo,
		      const char *application_name, double timeout_s,
		      const struct pgq_sink *sink);

/* Stops at once; each queued query's callback gets no result ("stopped"),
 * so that its context can be freed. */
void pgq_stop(struct pgq *q);

/*
 * Queues sql with n text parameters (copied; NULL is SQL NULL). With no
 * parameters the simple protocol is used, so sql may hold several
 * statements (the first result is the one passed on, or the first error). Returns 0, or -1
 * (cb not called) when there is no session or no memory.
 */
int pgq_send(struct pgq *q, const char *sql, int n, const char *const *params,
	     pgq_result_fn cb, void *ctx);

/* A session is up. */
bool pgq_up(const struct pgq *q);

#endif
