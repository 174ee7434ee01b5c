/*
 * pgq.c: a PostgreSQL session driven by the main loop. Connect with
 * PQconnectStartParams/PQconnectPoll, then send the queue's head, flush,
 * read its results as the socket allows, and go on with the next. Any
 * failure ends the session (PQfinish, so that the server ends it too and
 * releases its locks) and the user hears of it before a new one starts.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/pgq.h"

#define RETRY_MIN_S 0.2
#define RETRY_MAX_S 1.0
#define MAX_PARAMS  8

struct pgq_item {
	struct pgq_item *next;
	char *sql;
	int n;
	char *params[MAX_PARAMS];
	pgq_result_fn cb;
	void *ctx;
};

enum pgq_phase {
	PGQ_IDLE = 0,	/* no session; retry timer running */
	PGQ_CONNECTING, /* PQconnectPoll in progress */
	PGQ_READY,	/* session up, nothing in flight */
	PGQ_BUSY,	/* the head of the queue is in flight */
};

struct pgq {
	struct ev_loop *loop;
	struct pgq_sink sink;
	char *conninfo, *appname;
	double timeout_s, backoff;
	PGconn *pg;
	enum pgq_phase phase;
	ev_io io;
	ev_timer retry, timeout;
	ev_idle kick; /* sends the next query outside the caller's stack */
	struct pgq_item *head, **tail;
	PGresult *first; /* the head's first result, while the rest arrives */
	bool told_down;	 /* down() was called since the last up() */
};

static void pgq_connect(struct pgq *q);

static void
item_free(struct pgq_item *it)
{
	free(it->sql);
	for (int i = 0; i < it->n; i++)
		free(it->params[i]);
	free(it);
}

static struct pgq_item *
pop(struct pgq *q)
{
	struct pgq_item *it = q->head;

	if (it == NULL)
		return NULL;
	q->head = it->next;
	if (q->head == NULL)
		q->tail = &q->head;
	return it;
}

static void
watch(struct pgq *q, int events)
{
	ev_io_stop(q->loop, &q->io);
	if (events == 0)
		return;
	ev_io_set(&q->io, PQsocket(q->pg), events);
	ev_io_start(q->loop, &q->io);
}

/* libpq's messages end in new lines and may hold several. */
static void
one_line(char *msg)
{
	size_t n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

/* Ends the session: the user hears of it, then every queued query. */
static void
pgq_fail(struct pgq *q, const char *what, const char *why)
{
	char msg[512];
	struct pgq_item *it;

	snprintf(msg, sizeof(msg), "%s: %s", what, why && *why ? why : "?");
	one_line(msg);
	watch(q, 0);
	ev_timer_stop(q->loop, &q->timeout);
	ev_idle_stop(q->loop, &q->kick);
	PQclear(q->first);
	q->first = NULL;
	if (q->pg != NULL) {
		PQfinish(q->pg);
		q->pg = NULL;
	}
	q->phase = PGQ_IDLE;
	ev_timer_set(&q->retry, q->backoff, 0.);
	ev_timer_start(q->loop, &q->retry);
	q->backoff *= 2;
	if (q->backoff > RETRY_MAX_S)
		q->backoff = RETRY_MAX_S;
	if (!q->told_down) {
		q->told_down = true;
		q->sink.down(q->sink.ctx, msg);
	}
	while ((it = pop(q)) != NULL) {
		it->cb(it->ctx, NULL, msg);
		item_free(it);
	}
}

static void
send_head(struct pgq *q)
{
	struct pgq_item *it = q->head;
	int ok, rc;

	if (q->phase != PGQ_READY || it == NULL)
		return;
	if (it->n == 0)
		ok = PQsendQuery(q->pg, it->sql);
	else
		ok = PQsendQueryParams(q->pg, it->sql, it->n, NULL,
				       (const char *const *)it->params, NULL,
				       NULL, 0);
	if (!ok) {
		pgq_fail(q, "cannot send a query", PQerrorMessage(q->pg));
		return;
	}
	q->phase = PGQ_BUSY;
	ev_timer_set(&q->timeout, q->timeout_s, 0.);
	ev_timer_start(q->loop, &q->timeout);
	if ((rc = PQflush(q->pg)) == -1) {
		pgq_fail(q, "connection lost", PQerrorMessage(q->pg));
		return;
	}
	watch(q, EV_READ | (rc == 1 ? EV_WRITE : 0));
}

static void
on_kick(struct ev_loop *loop, ev_idle *w, int revents)
{
	ev_idle_stop(loop, w);
	send_head(w->data);
}

/* Reads what the socket has; passes the head's answer on once whole. */
static void
read_answer(struct pgq *q)
{
	PGresult *res;
	struct pgq_item *it;

	if (PQconsumeInput(q->pg) == 0) {
		pgq_fail(q, "connection lost", PQerrorMessage(q->pg));
		return;
	}
	while (!PQisBusy(q->pg) && (res = PQgetResult(q->pg)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_COPY_OUT || st == PGRES_COPY_IN ||
		    st == PGRES_COPY_BOTH) {
			PQclear(res);
			pgq_fail(q, "query", "COPY is not expected here");
			return;
		}
		/* The first result, or the first error after it. */
		if (q->first == NULL ||
		    (st == PGRES_FATAL_ERROR &&
		     PQresultStatus(q->first) != PGRES_FATAL_ERROR)) {
			PQclear(q->first);
			q->first = res;
		} else {
			PQclear(res);
		}
	}
	if (PQisBusy(q->pg))
		return;
	ev_timer_stop(q->loop, &q->timeout);
	watch(q, 0);
	q->phase = PGQ_READY;
	res = q->first;
	q->first = NULL;
	it = pop(q);
	if (it != NULL) {
		it->cb(it->ctx, res, res ? NULL : "no result");
		item_free(it);
	}
	PQclear(res);
	if (q->phase == PGQ_READY && q->head != NULL)
		ev_idle_start(q->loop, &q->kick);
}

static void
quiet(void *arg, const char *message)
{
}

static void
connect_step(struct pgq *q)
{
	switch (PQconnectPoll(q->pg)) {
	case PGRES_POLLING_READING:
		watch(q, EV_READ);
		return;
	case PGRES_POLLING_WRITING:
		watch(q, EV_WRITE);
		return;
	case PGRES_POLLING_OK:
		ev_timer_stop(q->loop, &q->timeout);
		watch(q, 0);
		if (PQsetnonblocking(q->pg, 1) == -1) {
			pgq_fail(q, "cannot go non-blocking",
				 PQerrorMessage(q->pg));
			return;
		}
		/* NOTICEs (CREATE TABLE IF NOT EXISTS ... skipping) are no
		 * news; libpq would print them on stderr. */
		PQsetNoticeProcessor(q->pg, quiet, NULL);
		q->phase = PGQ_READY;
		q->backoff = RETRY_MIN_S;
		q->told_down = false;
		q->sink.up(q->sink.ctx);
		if (q->phase == PGQ_READY && q->head != NULL)
			ev_idle_start(q->loop, &q->kick);
		return;
	case PGRES_POLLING_FAILED:
	default:
		pgq_fail(q, "cannot connect", PQerrorMessage(q->pg));
		return;
	}
}

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct pgq *q = w->data;

	if (q->phase == PGQ_CONNECTING) {
		connect_step(q);
		return;
	}
	if (q->phase != PGQ_BUSY)
		return;
	if (revents & EV_WRITE) {
		int rc = PQflush(q->pg);

		if (rc == -1) {
			pgq_fail(q, "connection lost", PQerrorMessage(q->pg));
			return;
		}
		watch(q, EV_READ | (rc == 1 ? EV_WRITE : 0));
	}
	if (revents & EV_READ)
		read_answer(q);
}

static void
on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pgq *q = w->data;

	pgq_fail(q,
		 q->phase == PGQ_CONNECTING ? "cannot connect"
					    : "a query did not answer",
		 "timed out");
}

static void
on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	pgq_connect(w->data);
}

static void
pgq_connect(struct pgq *q)
{
	/* dbname is expanded as a connection string; application_name,
	 * after it, names the session in pg_stat_activity. */
	const char *const keys[] = { "dbname", "application_name", NULL };
	const char *const values[] = { q->conninfo, q->appname, NULL };

	q->pg = PQconnectStartParams(keys, values, 1);
	if (q->pg == NULL) {
		pgq_fail(q, "cannot connect", "out of memory");
		return;
	}
	if (PQstatus(q->pg) == CONNECTION_BAD) {
		pgq_fail(q, "cannot connect", PQerrorMessage(q->pg));
		return;
	}
	q->phase = PGQ_CONNECTING;
	ev_timer_set(&q->timeout, q->timeout_s, 0.);
	ev_timer_start(q->loop, &q->timeout);
	connect_step(q);
}

struct pgq *
pgq_start(struct ev_loop *loop, const char *conninfo,
	  const char *application_name, double timeout_s,
	  const struct pgq_sink *sink)
{
	struct pgq *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->conninfo = strdup(conninfo);
	q->appname = strdup(application_name);
	if (q->conninfo == NULL || q->appname == NULL) {
		free(q->conninfo);
		free(q->appname);
		free(q);
		return NULL;
	}
	q->loop = loop;
	q->sink = *sink;
	q->timeout_s = timeout_s;
	q->backoff = RETRY_MIN_S;
	q->tail = &q->head;
	ev_init(&q->io, on_io);
	q->io.data = q;
	ev_init(&q->retry, on_retry);
	q->retry.data = q;
	ev_init(&q->timeout, on_timeout);
	q->timeout.data = q;
	ev_idle_init(&q->kick, on_kick);
	q->kick.data = q;
	pgq_connect(q);
	return q;
}

void
pgq_stop(struct pgq *q)
{
	struct pgq_item *it;

	if (q == NULL)
		return;
	ev_io_stop(q->loop, &q->io);
	ev_timer_stop(q->loop, &q->retry);
	ev_timer_stop(q->loop, &q->timeout);
	ev_idle_stop(q->loop, &q->kick);
	PQclear(q->first);
	if (q->pg != NULL)
		PQfinish(q->pg);
	q->pg = NULL;
	q->phase = PGQ_IDLE;
	while ((it = pop(q)) != NULL) {
		it->cb(it->ctx, NULL, "stopped");
		item_free(it);
	}
	free(q->conninfo);
	free(q->appname);
	free(q);
}

int
pgq_send(struct pgq *q, const char *sql, int n, const char *const *params,
	 pgq_result_fn cb, void *ctx)
{
	struct pgq_item *it;

	if (!pgq_up(q) || n < 0 || n > MAX_PARAMS)
		return -1;
	if ((it = calloc(1, sizeof(*it))) == NULL ||
	    (it->sql = strdup(sql)) == NULL) {
		free(it);
		return -1;
	}
	for (int i = 0; i < n; i++, it->n++)
		if (params[i] != NULL &&
		    (it->params[i] = strdup(params[i])) == NULL) {
			item_free(it);
			return -1;
		}
	it->cb = cb;
	it->ctx = ctx;
	*q->tail = it;
	q->tail = &it->next;
	if (q->phase == PGQ_READY)
		ev_idle_start(q->loop, &q->kick);
	return 0;
}

bool
pgq_up(const struct pgq *q)
{
	return q != NULL && (q->phase == PGQ_READY || q->phase == PGQ_BUSY);
}

