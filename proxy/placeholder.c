/*
 * placeholder.c: answers every connection with 503 and closes it politely:
 * the answer is written, our side shut down, and the socket closed only
 * when the client has finished sending (or after a second), so that the
 * kernel does not reset the connection under the client's feet.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "proxy/listener.h"
#include "proxy/placeholder.h"

#define LINGER_S 1.0

struct ph_conn {
	ev_io io;
	ev_timer timer;
	int fd;
};

struct placeholder {
	struct ev_loop *loop;
	size_t n;
	ev_io accept[];
};

static const char answer[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain\r\n"
    "Retry-After: 5\r\n"
    "Content-Length: 53\r\n"
    "Connection: close\r\n"
    "\r\n"
    "503 this vigil build monitors, it does not proxy yet\n";

static void
conn_close(struct ev_loop *loop, struct ph_conn *c)
{
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
	close(c->fd);
	free(c);
}

static void
on_conn_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ph_conn *c = w->data;
	char buf[4096];
	ssize_t n = read(c->fd, buf, sizeof(buf));

	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		conn_close(loop, c);
}

static void
on_conn_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	conn_close(loop, w->data);
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	for (int i = 0; i < 64; i++) {
		int fd =
		    accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ph_conn *c;

		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		/* A fresh socket's send buffer takes the whole answer. */
		if (write(fd, answer, sizeof(answer) - 1) == -1 ||
		    shutdown(fd, SHUT_WR) == -1) {
			close(fd);
			free(c);
			continue;
		}
		ev_io_init(&c->io, on_conn_read, fd, EV_READ);
		ev_timer_init(&c->timer, on_conn_timeout, LINGER_S, 0.);
		c->io.data = c->timer.data = c;
		ev_io_start(loop, &c->io);
		ev_timer_start(loop, &c->timer);
	}
}

struct placeholder *
placeholder_start(struct ev_loop *loop, struct listeners *ls)
{
	size_t n = listeners_count(ls);
	struct placeholder *p = calloc(1, sizeof(*p) + n * sizeof(ev_io));

	if (p == NULL)
		return NULL;
	p->loop = loop;
	p->n = n;
	for (size_t i = 0; i < n; i++) {
		ev_io_init(&p->accept[i], on_accept, listeners_fd(ls, i),
			   EV_READ);
		ev_io_start(loop, &p->accept[i]);
	}
	return p;
}

void
placeholder_stop(struct placeholder *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		ev_io_stop(p->loop, &p->accept[i]);
	free(p);
}
