/*
 * proxy.c: the workers. Each is a thread with its own libev loop watching
 * every listening socket (the kernel hands each connection to one of
 * them), reading the routing table through its own reader slot and
 * announcing after every loop iteration that it holds no table.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "proxy/fdbudget.h"
#include "proxy/listener.h"
#include "proxy/iobuf.h"
#include "proxy/pool.h"
#include "proxy/proxy.h"
#include "proxy/session.h"

/* How long accepting stops when the descriptors run out. */
#define ACCEPT_PAUSE_S 0.1

struct proxy {
	struct route_holder *routes;
	struct listeners *ls;
	struct fd_budget fdb;
	size_t n;
	struct worker_slot {
		struct worker w;
		pthread_t thread;
		bool started;
	} * workers;
};

/*
 * After each loop iteration: when the table changed, close the tunnels of
 * nodes that left it, so their clients reconnect to an active node instead
 * of hanging on a dead one; then announce that no table is held. An idle
 * keep-alive client is left alone: its next request is routed afresh, and
 * closing it would race with that request, which the client may be
 * sending at this very moment (RFC 9112 section 9.6) and would see fail.
 */
static void
on_check(struct ev_loop *loop, ev_check *c, int revents)
{
	struct worker *w = c->data;
	const struct route_table *t = route_read(w->routes, w->reader);

	if (t != NULL && t->generation != w->seen_generation) {
		struct session *s = w->sessions, *next;

		w->seen_generation = t->generation;
		pool_prune(w, t);
		for (; s != NULL; s = next) {
			next = s->next;
			if (s->node[0] == '\0' || route_has_node(t, s->node))
				continue;
			if (s->state == SS_TUNNEL)
				session_close(s);
		}
	}
	route_quiesce(w->routes, w->reader);
}

/*
 * Out of descriptors: the listening socket stays readable, so watching it
 * would spin. Stop accepting for a moment; the connections waiting in the
 * backlog are taken once some close.
 */
static void
on_accept_pause(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	for (size_t i = 0; i < w->n_accept && !w->stopping; i++)
		ev_io_start(loop, &w->accept[i]);
}

static void
pause_accepting(struct worker *w, const char *why)
{
	struct timespec ts;

	if (ev_is_active(&w->accept_pause))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fdb_held(w->fdb, why,
		 (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	for (size_t i = 0; i < w->n_accept; i++)
		ev_io_stop(w->loop, &w->accept[i]);
	/* Set each time: a one-shot timer that fired keeps no interval. */
	ev_timer_set(&w->accept_pause, ACCEPT_PAUSE_S, 0.);
	ev_timer_start(w->loop, &w->accept_pause);
}

/* Accepts while the descriptor budget has room for the client and its
 * node connection. */
static void
on_accept(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker *w = io->data;
	SSL_CTX *tls = listeners_tls(w->px_ls, (size_t)(io - w->accept));

	for (int i = 0; i < 64 && !w->stopping; i++) {
		int fd;

		/* Idle connections to nodes give way to a new client. */
		while (!fdb_room(w->fdb, 2) && pool_drop_oldest(w))
			;
		if (!fdb_room(w->fdb, 2)) {
			pause_accepting(w, "at the connection limit");
			return;
		}
		fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				pause_accepting(w, errno == EMFILE
						       ? "out of descriptors"
						       : "the system is out "
							 "of descriptors");
			return;
		}
		session_start(w, fd, tls);
	}
}

static void
on_stop(struct ev_loop *loop, ev_async *a, int revents)
{
	struct worker *w = a->data;

	w->stopping = true;
	ev_timer_stop(loop, &w->accept_pause);
	for (size_t i = 0; i < w->n_accept; i++)
		ev_io_stop(loop, &w->accept[i]);
	while (w->sessions != NULL)
		session_close(w->sessions);
	pool_prune(w, NULL);
	ev_break(loop, EVBREAK_ALL);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	ev_run(w->loop, 0);
	iobuf_cache_drain();
	return NULL;
}

static void
on_wake(struct ev_loop *loop, ev_async *a, int revents)
{
	/* Nothing to do here: waking up runs on_check after this. */
}

static int
worker_init(struct proxy *px, struct worker *w)
{
	w->px_ls = px->ls;
	w->routes = px->routes;
	w->fdb = &px->fdb;
	w->loop = ev_loop_new(EVFLAG_AUTO);
	if (w->loop == NULL)
		return -1;
	w->reader = route_reader_add(px->routes);
	w->n_accept = listeners_count(px->ls);
	w->accept = calloc(w->n_accept ? w->n_accept : 1, sizeof(ev_io));
	if (w->accept == NULL)
		return -1;
	for (size_t i = 0; i < w->n_accept; i++) {
		ev_io_init(&w->accept[i], on_accept, listeners_fd(px->ls, i),
			   EV_READ);
		w->accept[i].data = w;
		ev_io_start(w->loop, &w->accept[i]);
	}
	ev_timer_init(&w->accept_pause, on_accept_pause, ACCEPT_PAUSE_S, 0.);
	w->accept_pause.data = w;
	ev_async_init(&w->wake, on_wake);
	ev_async_start(w->loop, &w->wake);
	ev_async_init(&w->stop, on_stop);
	w->stop.data = w;
	ev_async_start(w->loop, &w->stop);
	ev_check_init(&w->quiesce, on_check);
	w->quiesce.data = w;
	ev_check_start(w->loop, &w->quiesce);
	return 0;
}

/* A new routing table: every worker runs its check (on_check) soon. */
static void
on_table(void *ctx)
{
	struct proxy *px = ctx;

	for (size_t i = 0; i < px->n; i++)
		if (px->workers[i].started)
			ev_async_send(px->workers[i].w.loop,
				      &px->workers[i].w.wake);
}

struct proxy *
proxy_start(const struct conf *conf, struct listeners *ls,
	    struct route_holder *routes, struct alog *alog, char *err,
	    size_t errlen)
{
	struct proxy *px = calloc(1, sizeof(*px));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (px == NULL) {
		snprintf(err, errlen, "proxy: out of memory");
		return NULL;
	}
	px->routes = routes;
	px->ls = ls;
	px->n = conf->workers > 0 ? (size_t)conf->workers
				  : (size_t)(cpus > 0 ? cpus : 1);
	if (px->n > ROUTE_MAX_READERS)
		px->n = ROUTE_MAX_READERS;
	px->workers = calloc(px->n, sizeof(*px->workers));
	if (px->workers == NULL) {
		snprintf(err, errlen, "proxy: out of memory");
		free(px);
		return NULL;
	}
	for (size_t i = 0; i < px->n; i++) {
		struct worker_slot *ws = &px->workers[i];

		ws->w.alog = alog;
		if (worker_init(px, &ws->w) == -1) {
			snprintf(err, errlen, "proxy: cannot set up worker %zu",
				 i);
			proxy_stop(px);
			return NULL;
		}
	}
	/* Once every loop holds its descriptors, before any accepts. */
	if (fdb_init(&px->fdb, conf, err, errlen) == -1) {
		proxy_stop(px);
		return NULL;
	}
	for (size_t i = 0; i < px->n; i++) {
		struct worker_slot *ws = &px->workers[i];

		if (pthread_create(&ws->thread, NULL, worker_main, &ws->w) !=
		    0) {
			snprintf(err, errlen, "proxy: cannot start worker %zu",
				 i);
			proxy_stop(px);
			return NULL;
		}
		ws->started = true;
	}
	routes->on_publish_ctx = px;
	routes->on_publish = on_table;
	log_info("proxy: %zu worker%s", px->n, px->n == 1 ? "" : "s");
	return px;
}

void
proxy_stop(struct proxy *px)
{
	if (px == NULL)
		return;
	px->routes->on_publish = NULL;
	for (size_t i = 0; i < px->n; i++) {
		struct worker_slot *ws = &px->workers[i];

		if (ws->started) {
			ev_async_send(ws->w.loop, &ws->w.stop);
			pthread_join(ws->thread, NULL);
		}
		if (ws->w.loop != NULL)
			ev_loop_destroy(ws->w.loop);
		free(ws->w.accept);
	}
	free(px->workers);
	free(px);
}
