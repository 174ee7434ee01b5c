/*
 * admin.c: a deliberately small HTTP/1.1 server for operators and tests:
 * one request per connection, the request head read whole (at most 8 KiB,
 * within 5 s), the answer written, the connection closed. It moves onto
 * the proxy's parser when that exists.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin/admin.h"
#include "core/buf.h"
#include "core/log.h"
#include "health/monitor.h"

#define HEAD_MAX       8192
#define CONN_TIMEOUT_S 5.0

struct admin {
	struct ev_loop *loop;
	const struct monitor *monitor;
	int fd;
	ev_io accept;
	ev_timer pause;
};

struct admin_conn {
	ev_io io;
	ev_timer timer;
	struct admin *a;
	int fd;
	size_t len;
	struct buf out;
	size_t sent;
	bool answered;
	char head[HEAD_MAX];
};

static void
conn_close(struct ev_loop *loop, struct admin_conn *c)
{
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
	close(c->fd);
	buf_free(&c->out);
	free(c);
}

/* Queues a whole answer; for HEAD, the headers of the GET alone. */
static void
answer(struct admin_conn *c, int code, const char *reason, const char *type,
       const char *body, size_t len, bool head)
{
	buf_printf(&c->out,
		   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
		   "Content-Length: %zu\r\nCache-Control: no-store\r\n"
		   "Connection: close\r\n\r\n",
		   code, reason, type, len);
	if (!head)
		buf_add(&c->out, body, len);
	c->answered = true;
}

static void
answer_text(struct admin_conn *c, int code, const char *reason)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%d %s\n", code, reason);

	answer(c, code, reason, "text/plain", body, (size_t)n, false);
}

/* The request head is complete in c->head: decide the answer. */
static void
route(struct admin_conn *c)
{
	char method[16], target[1024], version[16];
	struct buf json = { 0 };
	char *q;

	if (sscanf(c->head, "%15s %1023s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		answer_text(c, 400, "Bad Request");
		return;
	}
	q = strchr(target, '?');
	if (q != NULL)
		*q = '\0';
	if (strcmp(target, "/api/status") != 0) {
		answer_text(c, 404, "Not Found");
		return;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		answer_text(c, 405, "Method Not Allowed");
		return;
	}
	monitor_status_json(c->a->monitor, &json);
	buf_puts(&json, "\n");
	if (json.oom)
		answer_text(c, 500, "Internal Server Error");
	else
		answer(c, 200, "OK", "application/json", json.p, json.len,
		       strcmp(method, "HEAD") == 0);
	buf_free(&json);
}

static void on_drain(struct ev_loop *loop, ev_io *w, int revents);

static void
on_conn(struct ev_loop *loop, ev_io *w, int revents)
{
	struct admin_conn *c = w->data;
	ssize_t n;

	if (!c->answered) {
		n = read(c->fd, c->head + c->len, sizeof(c->head) - 1 - c->len);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			conn_close(loop, c);
			return;
		}
		if (n > 0) {
			c->len += (size_t)n;
			c->head[c->len] = '\0';
		}
		if (strstr(c->head, "\r\n\r\n") != NULL)
			route(c);
		else if (c->len == sizeof(c->head) - 1)
			answer_text(c, 431, "Request Header Fields Too Large");
		if (!c->answered)
			return;
		ev_io_stop(loop, &c->io);
		ev_io_set(&c->io, c->fd, EV_WRITE);
		ev_io_start(loop, &c->io);
		return;
	}
	n = write(c->fd, c->out.p + c->sent, c->out.len - c->sent);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) {
		conn_close(loop, c);
		return;
	}
	c->sent += (size_t)n;
	if (c->sent < c->out.len)
		return;
	/* Our side is done; the peer's close (or the timer) ends it, so a
	 * late byte from the peer cannot reset the answer under it. */
	shutdown(c->fd, SHUT_WR);
	ev_io_stop(loop, &c->io);
	ev_io_init(&c->io, on_drain, c->fd, EV_READ);
	c->io.data = c;
	ev_io_start(loop, &c->io);
}

static void
on_drain(struct ev_loop *loop, ev_io *w, int revents)
{
	struct admin_conn *c = w->data;
	char sink[512];
	ssize_t n = read(c->fd, sink, sizeof(sink));

	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		conn_close(loop, c);
}

static void
on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	conn_close(loop, w->data);
}

static void
on_pause(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct admin *a = t->data;

	ev_io_start(loop, &a->accept);
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct admin *a = w->data;

	for (int i = 0; i < 16; i++) {
		int fd =
		    accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct admin_conn *c;

		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				/* Readable until a descriptor frees up:
				 * pause instead of spinning. */
				ev_io_stop(loop, &a->accept);
				ev_timer_start(loop, &a->pause);
			}
			return;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->a = a;
		c->fd = fd;
		ev_io_init(&c->io, on_conn, fd, EV_READ);
		ev_timer_init(&c->timer, on_timeout, CONN_TIMEOUT_S, 0.);
		c->io.data = c->timer.data = c;
		ev_io_start(loop, &c->io);
		ev_timer_start(loop, &c->timer);
	}
}

struct admin *
admin_bind(const struct conf *conf, char *err, size_t errlen)
{
	const struct conf_addr *addr = &conf->admin_addr;
	struct admin *a;
	int one = 1;

	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		snprintf(err, errlen, "admin: out of memory");
		return NULL;
	}
	a->fd = socket(addr->sa.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd == -1 ||
	    setsockopt(a->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
		-1 ||
	    bind(a->fd, (const struct sockaddr *)&addr->sa, addr->salen) ==
		-1 ||
	    listen(a->fd, 64) == -1) {
		snprintf(err, errlen, "%s: admin.address: cannot bind %s: %s",
			 conf->file, addr->text, strerror(errno));
		if (a->fd != -1)
			close(a->fd);
		free(a);
		return NULL;
	}
	return a;
}

void
admin_start(struct admin *a, struct ev_loop *loop, const struct monitor *m)
{
	a->loop = loop;
	a->monitor = m;
	ev_io_init(&a->accept, on_accept, a->fd, EV_READ);
	a->accept.data = a;
	ev_io_start(loop, &a->accept);
	ev_timer_init(&a->pause, on_pause, 0.1, 0.);
	a->pause.data = a;
}

void
admin_stop(struct admin *a)
{
	if (a == NULL)
		return;
	if (a->loop != NULL) {
		ev_io_stop(a->loop, &a->accept);
		ev_timer_stop(a->loop, &a->pause);
	}
	close(a->fd);
	free(a);
}
