/*
 * pool.c: the per-worker pool of idle connections to nodes. Small and
 * linear: a worker keeps at most POOL_MAX of them, newest first, and a
 * lookup walks the list (the nodes of one cluster are few).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/pool.h"
#include "proxy/session.h"

#define POOL_MAX    512
#define POOL_IDLE_S 15.0 /* below the usual keep-alive timeouts of servers */

struct pooled {
	struct pooled *prev, *next;
	struct worker *w;
	int fd;
	SSL *ssl;
	char node[64];
	struct sockaddr_storage sa;
	socklen_t salen;
	ev_io io;
	ev_timer timer;
};

static void
unlink_conn(struct pooled *p)
{
	struct worker *w = p->w;

	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		w->pool = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	w->pool_size--;
	ev_io_stop(w->loop, &p->io);
	ev_timer_stop(w->loop, &p->timer);
}

static void
drop(struct pooled *p)
{
	unlink_conn(p);
	SSL_free(p->ssl);
	close(p->fd);
	fdb_put(p->w->fdb);
	free(p);
}

/* Readable while idle: the node closed it (or sent what nobody asked). */
static void
on_idle_io(struct ev_loop *loop, ev_io *io, int revents)
{
	drop(io->data);
}

static void
on_idle_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	drop(t->data);
}

static bool
same_addr(const struct pooled *p, const struct sockaddr *sa, socklen_t salen)
{
	return p->salen == salen && memcmp(&p->sa, sa, salen) == 0;
}

bool
pool_drop_oldest(struct worker *w)
{
	struct pooled *last = w->pool;

	if (last == NULL)
		return false;
	while (last->next != NULL)
		last = last->next;
	drop(last);
	return true;
}

void
pool_put(struct worker *w, const char *node, const struct sockaddr *sa,
	 socklen_t salen, int fd, SSL *ssl)
{
	struct pooled *p;

	if (w->pool_size >= POOL_MAX)
		pool_drop_oldest(w);
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		SSL_free(ssl);
		close(fd);
		fdb_put(w->fdb);
		return;
	}
	p->w = w;
	p->fd = fd;
	p->ssl = ssl;
	memcpy(&p->sa, sa, salen);
	p->salen = salen;
	strncpy(p->node, node, sizeof(p->node) - 1);
	ev_io_init(&p->io, on_idle_io, fd, EV_READ);
	ev_timer_init(&p->timer, on_idle_timer, POOL_IDLE_S, 0.);
	p->io.data = p->timer.data = p;
	ev_io_start(w->loop, &p->io);
	ev_timer_start(w->loop, &p->timer);
	p->next = w->pool;
	if (w->pool != NULL)
		w->pool->prev = p;
	w->pool = p;
	w->pool_size++;
}

bool
pool_get(struct worker *w, const char *node, const struct sockaddr *sa,
	 socklen_t salen, int *fd, SSL **ssl)
{
	for (struct pooled *p = w->pool; p != NULL; p = p->next) {
		if (strcmp(p->node, node) != 0 || !same_addr(p, sa, salen))
			continue;
		unlink_conn(p);
		*fd = p->fd;
		*ssl = p->ssl;
		free(p);
		return true;
	}
	return false;
}

void
pool_prune(struct worker *w, const struct route_table *t)
{
	struct pooled *p = w->pool, *next;

	for (; p != NULL; p = next) {
		bool keep = false;

		next = p->next;
		for (size_t i = 0; t != NULL && i < t->n && !keep; i++)
			keep = strcmp(t->nodes[i].name, p->node) == 0;
		if (!keep)
			drop(p);
	}
}
