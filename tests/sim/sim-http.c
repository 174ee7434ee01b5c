/*
 * sim-http.c: vigil-sim's HTTP listener and connections: accept, TLS,
 * non-blocking reads and writes with back-pressure, lingering close. What
 * the bytes mean is sim-req.c's and sim-ws.c's business.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tests/sim/sim.h"

/* Stop reading from a connection while this much input waits unparsed (a
 * pipelining client while an answer is delayed) or this much output is
 * unwritten (a client that sends but does not read): memory stays bounded
 * per connection whatever the client does. */
#define IN_MAX	 (1024 * 1024)
#define OUT_HIGH (1024 * 1024)
/* /big bodies are generated this much at a time, only once the previous
 * piece has been written, so a 50 MB answer never sits in memory. */
#define STREAM_CHUNK (64 * 1024)
#define READ_CHUNK   (16 * 1024)
#define IDLE_S	     300.0
/* After the last answer on a closing connection, keep reading (and
 * dropping) for this long so that unread request bytes do not turn our
 * close into a reset that destroys the answer in flight (RFC 9112 9.6). */
#define LINGER_S 2.0

enum io_result {
	IO_OK = 0,
	IO_AGAIN,
	IO_EOF,
	IO_ERROR,
};

static void conn_close(struct sim_conn *c);

/* The list a connection is on: the Control Center's outlive the server's. */
static struct sim_conn **
conn_list(struct sim_conn *c)
{
	return c->cc ? &c->sim->cc_conns : &c->sim->conns;
}

static bool
io_again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static enum io_result
conn_recv(struct sim_conn *c, char *p, size_t n, size_t *got)
{
	ssize_t r;
	int ret;

	if (c->ssl == NULL) {
		r = read(c->fd, p, n);
		if (r == -1)
			return io_again() ? IO_AGAIN : IO_ERROR;
		if (r == 0)
			return IO_EOF;
		*got = (size_t)r;
		return IO_OK;
	}
	ERR_clear_error();
	ret = SSL_read(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
	if (ret > 0) {
		*got = (size_t)ret;
		return IO_OK;
	}
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return IO_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->read_wants_write = true;
		return IO_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return IO_EOF;
	default:
		return IO_ERROR;
	}
}

static enum io_result
conn_send(struct sim_conn *c, const char *p, size_t n, size_t *put)
{
	ssize_t r;
	int ret;

	if (c->ssl == NULL) {
		r = send(c->fd, p, n, MSG_NOSIGNAL);
		if (r == -1)
			return io_again() ? IO_AGAIN : IO_ERROR;
		*put = (size_t)r;
		return IO_OK;
	}
	ERR_clear_error();
	ret = SSL_write(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
	if (ret > 0) {
		*put = (size_t)ret;
		return IO_OK;
	}
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_WRITE:
		return IO_AGAIN;
	case SSL_ERROR_WANT_READ:
		c->write_wants_read = true;
		return IO_AGAIN;
	default:
		return IO_ERROR;
	}
}

static size_t
conn_in_limit(const struct sim_conn *c)
{
	return c->in_need > IN_MAX ? c->in_need : IN_MAX;
}

/* Reads what the socket has, up to the input limit. Input of a hung or
 * lingering connection is read and dropped. Returns -1 when the
 * connection failed. */
static int
conn_fill(struct sim_conn *c)
{
	enum io_result r;
	size_t got;

	for (;;) {
		if (sim_buf_pending(&c->in) >= conn_in_limit(c))
			return 0;
		if (sim_buf_reserve(&c->in, READ_CHUNK) == -1)
			return -1;
		got = 0;
		r = conn_recv(c, c->in.data + c->in.len, c->in.cap - c->in.len,
			      &got);
		if (r == IO_AGAIN)
			return 0;
		if (r == IO_EOF) {
			c->read_eof = true;
			return 0;
		}
		if (r == IO_ERROR)
			return -1;
		ev_timer_again(c->sim->loop, &c->idle);
		/* "hang" is the server's; the Control Center still answers. */
		if (c->sim->hang && !c->cc && c->ps != SIM_PS_LINGER &&
		    !c->hung) {
			c->hung = true;
			sim_buf_consume(&c->in, sim_buf_pending(&c->in));
		}
		if (!c->hung && c->ps != SIM_PS_LINGER)
			c->in.len += got;
	}
}

static int
stream_refill(struct sim_conn *c)
{
	size_t n, i;
	char *p;

	n = c->stream_left < STREAM_CHUNK ? (size_t)c->stream_left
					  : STREAM_CHUNK;
	if (sim_buf_reserve(&c->out, n) == -1)
		return -1;
	/* A pattern that depends on the offset, so that a test comparing
	 * bytes would notice lost or repeated pieces. */
	p = c->out.data + c->out.len;
	for (i = 0; i < n; i++)
		p[i] = (char)('a' + (c->stream_off + i) % 26);
	c->out.len += n;
	c->stream_left -= n;
	c->stream_off += n;
	return 0;
}

/* Writes until the socket would block. Returns -1 when the connection
 * failed. */
static int
conn_flush(struct sim_conn *c)
{
	enum io_result r;
	size_t n, put;

	if (c->ps == SIM_PS_LINGER)
		return 0;
	for (;;) {
		n = sim_buf_pending(&c->out);
		if (n == 0) {
			if (c->ps != SIM_PS_STREAM || c->stream_left == 0)
				return 0;
			if (stream_refill(c) == -1)
				return -1;
			continue;
		}
		put = 0;
		r = conn_send(c, c->out.data + c->out.off, n, &put);
		if (r == IO_AGAIN)
			return 0;
		if (r != IO_OK)
			return -1;
		sim_buf_consume(&c->out, put);
		ev_timer_again(c->sim->loop, &c->idle);
	}
}

static void
conn_linger(struct sim_conn *c)
{
	if (c->ssl != NULL) {
		ERR_clear_error();
		SSL_shutdown(c->ssl);
	}
	shutdown(c->fd, SHUT_WR);
	c->ps = SIM_PS_LINGER;
	sim_buf_consume(&c->in, sim_buf_pending(&c->in));
	ev_timer_stop(c->sim->loop, &c->timer);
	ev_timer_set(&c->timer, LINGER_S, 0.);
	ev_timer_start(c->sim->loop, &c->timer);
}

static void
conn_watch(struct sim_conn *c)
{
	struct ev_loop *loop = c->sim->loop;
	bool want_read, want_write;

	want_read =
	    !c->read_eof && (c->ps == SIM_PS_LINGER || c->hung ||
			     (sim_buf_pending(&c->in) < conn_in_limit(c) &&
			      sim_buf_pending(&c->out) < OUT_HIGH));
	if (c->write_wants_read && !c->read_eof)
		want_read = true;
	want_write = c->ps != SIM_PS_LINGER &&
		     (sim_buf_pending(&c->out) > 0 ||
		      (c->ps == SIM_PS_STREAM && c->stream_left > 0));
	if (c->read_wants_write)
		want_write = true;

	if (want_read)
		ev_io_start(loop, &c->rw);
	else
		ev_io_stop(loop, &c->rw);
	if (want_write)
		ev_io_start(loop, &c->ww);
	else
		ev_io_stop(loop, &c->ww);

	/* Bytes OpenSSL has already decrypted never wake the socket. */
	if (c->ssl != NULL && ev_is_active(&c->rw) && SSL_pending(c->ssl) > 0)
		ev_feed_event(loop, &c->rw, EV_READ);
}

static bool
conn_is_idle_state(enum sim_parse ps)
{
	return ps <= SIM_PS_TRAILER || ps == SIM_PS_WS;
}

/* Parses what has been read, writes what can be written, and moves the
 * connection on. Returns -1 when it was closed (and freed). */
static int
conn_run(struct sim_conn *c)
{
	for (;;) {
		sim_req_process(c);
		if (c->failed || conn_flush(c) == -1) {
			conn_close(c);
			return -1;
		}
		if (c->ps == SIM_PS_STREAM && c->stream_left == 0 &&
		    sim_buf_pending(&c->out) == 0) {
			c->ps = c->keep_alive ? SIM_PS_HEAD : SIM_PS_CLOSE;
			continue;
		}
		break;
	}
	if (c->ps == SIM_PS_CLOSE && sim_buf_pending(&c->out) == 0)
		conn_linger(c);
	if (c->read_eof &&
	    (c->ps == SIM_PS_LINGER ||
	     (conn_is_idle_state(c->ps) && sim_buf_pending(&c->out) == 0))) {
		conn_close(c);
		return -1;
	}
	conn_watch(c);
	return 0;
}

static void
conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sim_conn *c = SIM_CONTAINER_OF(w, struct sim_conn, rw);

	(void)loop;
	(void)revents;
	c->write_wants_read = false;
	if (conn_fill(c) == -1) {
		conn_close(c);
		return;
	}
	conn_run(c);
}

static void
conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sim_conn *c = SIM_CONTAINER_OF(w, struct sim_conn, ww);

	(void)loop;
	(void)revents;
	if (c->read_wants_write) {
		c->read_wants_write = false;
		if (conn_fill(c) == -1) {
			conn_close(c);
			return;
		}
	}
	conn_run(c);
}

static void
conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim_conn *c = SIM_CONTAINER_OF(w, struct sim_conn, timer);

	(void)loop;
	(void)revents;
	if (c->ps == SIM_PS_LINGER) {
		conn_close(c);
		return;
	}
	if (c->ps == SIM_PS_WAIT)
		sim_req_answer(c);
	conn_run(c);
}

static void
conn_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim_conn *c = SIM_CONTAINER_OF(w, struct sim_conn, idle);

	(void)revents;
	/* A long /slow or a slow reader of /big is not idle. */
	if (c->ps == SIM_PS_WAIT ||
	    (c->ps == SIM_PS_STREAM && sim_buf_pending(&c->out) > 0)) {
		ev_timer_again(loop, &c->idle);
		return;
	}
	conn_close(c);
}

void
sim_http_delay(struct sim_conn *c, long ms)
{
	ev_timer_stop(c->sim->loop, &c->timer);
	ev_timer_set(&c->timer, (double)ms / 1000.0, 0.);
	ev_timer_start(c->sim->loop, &c->timer);
}

/* The one teardown of a connection: every watcher, the SSL, the fd, the
 * buffers, and its place in the list. */
static void
conn_close(struct sim_conn *c)
{
	struct sim *sim = c->sim;

	ev_io_stop(sim->loop, &c->rw);
	ev_io_stop(sim->loop, &c->ww);
	ev_timer_stop(sim->loop, &c->timer);
	ev_timer_stop(sim->loop, &c->idle);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd != -1)
		close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		*conn_list(c) = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	sim_buf_free(&c->in);
	sim_buf_free(&c->out);
	sim_req_reset(&c->req);
	free(c);
}

static void
conn_new(struct sim_listener *l, int fd)
{
	struct sim *sim = l->sim;
	struct sim_conn *c, **list;
	int one = 1;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		sim_err(sim, "out of memory: dropping a connection");
		close(fd);
		return;
	}
	c->sim = sim;
	c->cc = l->cc;
	c->fd = fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The Control Center speaks plain HTTP (the real one is HTTPS). */
	if (sim->ssl_ctx != NULL && !l->cc) {
		c->ssl = SSL_new(sim->ssl_ctx);
		if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
			sim_err(sim, "SSL_new failed: dropping a connection");
			if (c->ssl != NULL)
				SSL_free(c->ssl);
			close(fd);
			free(c);
			return;
		}
		SSL_set_accept_state(c->ssl);
	}
	c->req.target = NULL;
	sim_req_reset(&c->req);
	ev_io_init(&c->rw, conn_read_cb, fd, EV_READ);
	ev_io_init(&c->ww, conn_write_cb, fd, EV_WRITE);
	ev_init(&c->timer, conn_timer_cb);
	ev_init(&c->idle, conn_idle_cb);
	c->idle.repeat = IDLE_S;
	list = conn_list(c);
	c->next = *list;
	if (*list != NULL)
		(*list)->prev = c;
	*list = c;
	ev_io_start(sim->loop, &c->rw);
	ev_timer_again(sim->loop, &c->idle);
}

static void
accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim_listener *l =
	    SIM_CONTAINER_OF(w, struct sim_listener, accept_retry);

	(void)revents;
	if (l->fd != -1)
		ev_io_start(loop, &l->w);
}

static void
listen_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sim_listener *l = SIM_CONTAINER_OF(w, struct sim_listener, w);
	int i, fd;

	(void)revents;
	for (i = 0; i < 64; i++) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			/* Out of descriptors: the listener would wake us
			 * again at once, so pause it instead of spinning. */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				sim_err(l->sim, "accept: %s (pausing 100 ms)",
					strerror(errno));
				ev_io_stop(loop, &l->w);
				ev_timer_set(&l->accept_retry, 0.1, 0.);
				ev_timer_start(loop, &l->accept_retry);
			}
			return;
		}
		conn_new(l, fd);
	}
}

int
sim_http_tls_init(struct sim *sim, char *err, size_t errlen)
{
	unsigned long e;

	sim->ssl_ctx = SSL_CTX_new(TLS_server_method());
	if (sim->ssl_ctx == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(sim->ssl_ctx, TLS1_2_VERSION);
	/* The output buffer may move (realloc) between a short write and
	 * its retry. */
	SSL_CTX_set_mode(sim->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
					   SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(sim->ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
					      SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(sim->ssl_ctx, sim->tls_cert) !=
	    1)
		goto fail;
	if (SSL_CTX_use_PrivateKey_file(sim->ssl_ctx, sim->tls_key,
					SSL_FILETYPE_PEM) != 1)
		goto fail;
	if (SSL_CTX_check_private_key(sim->ssl_ctx) != 1)
		goto fail;
	return 0;

fail:
	e = ERR_get_error();
	snprintf(err, errlen, "TLS set-up (%s, %s): %s", sim->tls_cert,
		 sim->tls_key,
		 e != 0 ? ERR_reason_error_string(e) : "unknown error");
	if (sim->ssl_ctx != NULL)
		SSL_CTX_free(sim->ssl_ctx);
	sim->ssl_ctx = NULL;
	return -1;
}

int
sim_listener_open(struct sim_listener *l, char *err, size_t errlen)
{
	const char *what;
	int fd, one = 1, saved;

	what = "socket";
	fd = socket(l->addr.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	/* "restart" must get the same port back while old connections of
	 * ours are still in TIME_WAIT. */
	what = "setsockopt";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	if (l->addr.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		goto fail;
	what = "bind";
	if (bind(fd, (struct sockaddr *)&l->addr, l->addrlen) == -1)
		goto fail;
	what = "listen";
	if (listen(fd, 1024) == -1)
		goto fail;
	/* With port 0 the kernel chose one: keep it for later restarts. */
	what = "getsockname";
	if (getsockname(fd, (struct sockaddr *)&l->addr, &l->addrlen) == -1)
		goto fail;
	l->fd = fd;
	ev_io_init(&l->w, listen_cb, fd, EV_READ);
	ev_init(&l->accept_retry, accept_retry_cb);
	ev_io_start(l->sim->loop, &l->w);
	return 0;

fail:
	saved = errno;
	snprintf(err, errlen, "%s %s: %s", what, l->text, strerror(saved));
	if (fd != -1)
		close(fd);
	return -1;
}

static void
listener_close(struct sim_listener *l)
{
	if (l->fd == -1)
		return;
	ev_io_stop(l->sim->loop, &l->w);
	ev_timer_stop(l->sim->loop, &l->accept_retry);
	close(l->fd);
	l->fd = -1;
}

void
sim_listener_url(const struct sim_listener *l, bool tls, char *buf, size_t len)
{
	char host[64], port[16];
	bool v6 = l->addr.ss_family == AF_INET6;

	if (getnameinfo((const struct sockaddr *)&l->addr, l->addrlen, host,
			sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(host, sizeof(host), "?");
		snprintf(port, sizeof(port), "?");
	}
	snprintf(buf, len, "%s://%s%s%s:%s", tls ? "https" : "http",
		 v6 ? "[" : "", host, v6 ? "]" : "", port);
}

int
sim_http_listen(struct sim *sim, char *err, size_t errlen)
{
	return sim_listener_open(&sim->http, err, errlen);
}

void
sim_http_close_all(struct sim *sim)
{
	listener_close(&sim->http);
	while (sim->conns != NULL)
		conn_close(sim->conns);
}

void
sim_http_free(struct sim *sim)
{
	sim_http_close_all(sim);
	listener_close(&sim->cc);
	while (sim->cc_conns != NULL)
		conn_close(sim->cc_conns);
	if (sim->ssl_ctx != NULL)
		SSL_CTX_free(sim->ssl_ctx);
	sim->ssl_ctx = NULL;
}
