/*
 * heartbeat.c: the heartbeat poller. A small state machine over one libpq
 * connection: connect (PQconnectStart/PQconnectPoll), then every poll
 * send the query and read its answer as the socket allows. Any failure
 * drops the connection and reconnects with a capped back-off; until then
 * the heartbeat evidence is unknown, never stale.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/conf.h"
#include "core/log.h"
#include "health/heartbeat.h"

#define RETRY_MIN_S 0.2
#define RETRY_MAX_S 5.0
#define POLL_MAX_S  1.0 /* poll at least every second */

enum hb_phase {
	HB_IDLE = 0,   /* no connection; retry timer running */
	HB_CONNECTING, /* PQconnectPoll in progress */
	HB_READY,      /* connected, no query out */
	HB_QUERYING,   /* query sent, answer not complete */
};

struct heartbeat {
	struct ev_loop *loop;
	const struct conf *conf;
	struct hb_sink sink;
	PGconn *pg;
	enum hb_phase phase;
	ev_io io;
	ev_timer poll;	  /* next query */
	ev_timer retry;	  /* next connection attempt */
	ev_timer timeout; /* connect or query taking too long */
	double backoff;
	int up; /* -1 never known, 0 down, 1 up */
	struct hb_row *rows;
	size_t max_rows;
	PGresult *clock; /* the answer to CLOCK_QUERY */
	PGresult *first; /* the answer, while the rest of it arrives */
	int results;	 /* results read of the poll so far */
	char *query;	 /* CLOCK_QUERY, then the operator's query */
};

/* Sent with the operator's query in one Query message: both run in one
 * implicit transaction, so this now() is the one the ages are taken
 * from, and a beat is dated exactly (struct hb_row.beat_ms). */
#define CLOCK_QUERY "SELECT (EXTRACT(EPOCH FROM now()) * 1000000)::bigint;\n"


static void hb_connect(struct heartbeat *hb);

/* Tells the sink when readability changes; the sink decides what is news. */
static void
set_source(struct heartbeat *hb, bool up, const char *why)
{
	if (hb->up == (int)up)
		return;
	if (up && hb->up == 0)
		log_info("heartbeat database: readable again");
	else if (!up)
		log_warn("heartbeat database: %s", why);
	hb->up = up;
	hb->sink.source(hb->sink.ctx, up, why);
}

static void
watch(struct heartbeat *hb, int events)
{
	ev_io_stop(hb->loop, &hb->io);
	if (events == 0)
		return;
	ev_io_set(&hb->io, PQsocket(hb->pg), events);
	ev_io_start(hb->loop, &hb->io);
}

/* Drops the connection; the retry timer brings it back. */
static void
hb_fail(struct heartbeat *hb, const char *what, const char *why)
{
	char msg[512];
	size_t n;

	snprintf(msg, sizeof(msg), "%s: %s", what, why && *why ? why : "?");
	n = strlen(msg); /* libpq's messages end in newlines */
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	watch(hb, 0);
	ev_timer_stop(hb->loop, &hb->poll);
	ev_timer_stop(hb->loop, &hb->timeout);
	PQclear(hb->first);
	PQclear(hb->clock);
	hb->first = hb->clock = NULL;
	if (hb->pg != NULL) {
		PQfinish(hb->pg);
		hb->pg = NULL;
	}
	hb->phase = HB_IDLE;
	set_source(hb, false, msg);
	ev_timer_set(&hb->retry, hb->backoff, 0.);
	ev_timer_start(hb->loop, &hb->retry);
	hb->backoff *= 2;
	if (hb->backoff > RETRY_MAX_S)
		hb->backoff = RETRY_MAX_S;
}

/* Makes room for n rows: every row of the answer is read, however many. */
static bool
rows_fit(struct heartbeat *hb, size_t n)
{
	struct hb_row *r;

	if (n <= hb->max_rows)
		return true;
	r = reallocarray(hb->rows, n, sizeof(*r));
	if (r == NULL)
		return false;
	hb->rows = r;
	hb->max_rows = n;
	return true;
}

/* Reads what the socket has; hands over the answer once complete. */
static void
hb_read(struct heartbeat *hb)
{
	char err[256] = "";
	PGresult *res, *first, *clock;
	long n = -1;

	if (PQconsumeInput(hb->pg) == 0) {
		hb_fail(hb, "connection lost", PQerrorMessage(hb->pg));
		return;
	}
	/* The clock's answer, then the operator's query's first result, the
	 * one that counts; the rows point into it, so it lives until the
	 * sink has seen them. */
	while (!PQisBusy(hb->pg) && (res = PQgetResult(hb->pg)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		/* In COPY state PQgetResult never returns NULL. */
		if (st == PGRES_COPY_OUT || st == PGRES_COPY_IN ||
		    st == PGRES_COPY_BOTH) {
			PQclear(res);
			hb_fail(hb, "heartbeat query",
				"COPY is not a heartbeat query");
			return;
		}
		if (hb->results++ == 0)
			hb->clock = res;
		else if (hb->first == NULL)
			hb->first = res;
		else
			PQclear(res);
	}
	if (PQisBusy(hb->pg))
		return; /* more to come */
	first = hb->first;
	clock = hb->clock;
	hb->first = hb->clock = NULL;
	hb->results = 0;
	/* A clock query that failed aborts the rest: its error is the one. */
	if (first == NULL && clock != NULL &&
	    PQresultStatus(clock) == PGRES_FATAL_ERROR) {
		first = clock;
		clock = NULL;
	}
	ev_timer_stop(hb->loop, &hb->timeout);
	watch(hb, 0);
	hb->phase = HB_READY;
	if (first == NULL)
		snprintf(err, sizeof(err), "no result");
	else if (PQresultStatus(first) == PGRES_FATAL_ERROR)
		snprintf(err, sizeof(err), "%s", PQresultErrorMessage(first));
	else if (!rows_fit(hb, (size_t)PQntuples(first)))
		snprintf(err, sizeof(err), "out of memory for %d rows",
			 PQntuples(first));
	else
		n = heartbeat_read_result(first, hb->rows, hb->max_rows, err,
					  sizeof(err));
	if (n < 0) {
		/* A query that fails or has the wrong shape says nothing
		 * about the nodes: the evidence is unknown until fixed. */
		for (char *p = err; *p; p++)
			if (*p == '\n')
				*p = ' ';
		/* set_source logs it once, when it starts: not every poll. */
		set_source(hb, false, err);
	} else {
		hb->backoff = RETRY_MIN_S;
		heartbeat_date_rows(hb->rows, (size_t)n,
				    heartbeat_read_clock(clock));
		set_source(hb, true, NULL);
		hb->sink.rows(hb->sink.ctx, hb->rows, (size_t)n);
	}
	PQclear(first);
	PQclear(clock);
}

static double
query_timeout_s(const struct conf *c)
{
	double quarter = (double)conf_failover_timeout_ms(c) / 4000.0;

	return fmax(0.1, fmin(2 * POLL_MAX_S, quarter));
}

static void
hb_send(struct heartbeat *hb)
{
	hb->results = 0;
	if (PQsendQuery(hb->pg, hb->query) == 0) {
		hb_fail(hb, "cannot send the query", PQerrorMessage(hb->pg));
		return;
	}
	hb->phase = HB_QUERYING;
	/* A query that hangs must turn the evidence unknown well before
	 * beats could age past the failover timeout on its account. */
	ev_timer_set(&hb->timeout, query_timeout_s(hb->conf), 0.);
	ev_timer_start(hb->loop, &hb->timeout);
	/* PQflush: 1 means part of the query is still to be written. */
	int rc = PQflush(hb->pg);

	if (rc == -1) {
		hb_fail(hb, "connection lost", PQerrorMessage(hb->pg));
		return;
	}
	watch(hb, EV_READ | (rc == 1 ? EV_WRITE : 0));
}

static void
on_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct heartbeat *hb = w->data;

	if (hb->phase == HB_READY)
		hb_send(hb);
}

static void
connect_step(struct heartbeat *hb)
{
	switch (PQconnectPoll(hb->pg)) {
	case PGRES_POLLING_READING:
		watch(hb, EV_READ);
		return;
	case PGRES_POLLING_WRITING:
		watch(hb, EV_WRITE);
		return;
	case PGRES_POLLING_OK:
		ev_timer_stop(hb->loop, &hb->timeout);
		watch(hb, 0);
		if (PQsetnonblocking(hb->pg, 1) == -1) {
			hb_fail(hb, "cannot go non-blocking",
				PQerrorMessage(hb->pg));
			return;
		}
		log_info("heartbeat database: connected");
		hb->phase = HB_READY;
		ev_timer_again(hb->loop, &hb->poll);
		hb_send(hb);
		return;
	case PGRES_POLLING_FAILED:
	default:
		hb_fail(hb, "cannot connect", PQerrorMessage(hb->pg));
		return;
	}
}

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct heartbeat *hb = w->data;

	if (hb->phase == HB_CONNECTING) {
		connect_step(hb);
		return;
	}
	if (hb->phase != HB_QUERYING)
		return;
	if (revents & EV_WRITE) {
		int rc = PQflush(hb->pg);

		if (rc == -1) {
			hb_fail(hb, "connection lost", PQerrorMessage(hb->pg));
			return;
		}
		watch(hb, EV_READ | (rc == 1 ? EV_WRITE : 0));
	}
	if (revents & EV_READ)
		hb_read(hb);
}

static void
on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct heartbeat *hb = w->data;

	hb_fail(hb,
		hb->phase == HB_CONNECTING ? "cannot connect"
					   : "the query did not answer",
		"timed out");
}

static void
on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	hb_connect(w->data);
}

static void
hb_connect(struct heartbeat *hb)
{
	hb->pg = PQconnectStart(hb->conf->heartbeat_connect);
	if (hb->pg == NULL) {
		hb_fail(hb, "cannot connect", "out of memory");
		return;
	}
	if (PQstatus(hb->pg) == CONNECTION_BAD) {
		hb_fail(hb, "cannot connect", PQerrorMessage(hb->pg));
		return;
	}
	hb->phase = HB_CONNECTING;
	/* libpq's connect_timeout does not apply to PQconnectPoll. */
	ev_timer_set(&hb->timeout, 5.0, 0.);
	ev_timer_start(hb->loop, &hb->timeout);
	connect_step(hb);
}

struct heartbeat *
heartbeat_start(struct ev_loop *loop, const struct conf *conf,
		const struct hb_sink *sink)
{
	struct heartbeat *hb = calloc(1, sizeof(*hb));
	double every = conf->heartbeat_interval_ms / 1000.0;

	if (hb == NULL)
		return NULL;
	hb->max_rows = conf->n_nodes * 4 + 64; /* foreign rows are fine */
	hb->rows = calloc(hb->max_rows, sizeof(*hb->rows));
	hb->query = malloc(sizeof(CLOCK_QUERY) + strlen(conf->heartbeat_query));
	if (hb->rows == NULL || hb->query == NULL) {
		free(hb->rows);
		free(hb->query);
		free(hb);
		return NULL;
	}
	strcpy(hb->query, CLOCK_QUERY);
	strcat(hb->query, conf->heartbeat_query);
	hb->loop = loop;
	hb->conf = conf;
	hb->sink = *sink;
	hb->up = -1;
	hb->backoff = RETRY_MIN_S;
	ev_init(&hb->io, on_io);
	hb->io.data = hb;
	ev_init(&hb->poll, on_poll);
	hb->poll.repeat = every < POLL_MAX_S ? every : POLL_MAX_S;
	hb->poll.data = hb;
	ev_init(&hb->retry, on_retry);
	hb->retry.data = hb;
	ev_init(&hb->timeout, on_timeout);
	hb->timeout.data = hb;
	hb_connect(hb);
	return hb;
}

void
heartbeat_stop(struct heartbeat *hb)
{
	if (hb == NULL)
		return;
	ev_io_stop(hb->loop, &hb->io);
	ev_timer_stop(hb->loop, &hb->poll);
	ev_timer_stop(hb->loop, &hb->retry);
	ev_timer_stop(hb->loop, &hb->timeout);
	PQclear(hb->first);
	PQclear(hb->clock);
	if (hb->pg != NULL)
		PQfinish(hb->pg);
	free(hb->query);
	free(hb->rows);
	free(hb);
}
