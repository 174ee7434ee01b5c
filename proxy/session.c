/*
 * session.c: one client connection through the proxy. A request head is
 * read and checked whole, rewritten, and sent to a node; its body and the
 * response stream through fixed buffers with back-pressure (a side is read
 * only while the other side's buffer has room). Keep-alive and pipelined
 * requests are served one after the other, in order; a 101 answer turns
 * the pair into a byte tunnel.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/alog.h"
#include "core/log.h"
#include "policies/passive.h"
#include "policies/sticky.h"
#include "proxy/pool.h"
#include "proxy/rewrite.h"
#include "proxy/session.h"

#define BUF_MIN		 16384
#define CLOSING_LINGER_S 1.0

static bool advance(struct session *s);
static void connect_node(struct session *s);
static void connect_node_fresh(struct session *s);
static void connect_failed(struct session *s, enum passive_outcome why);
static void reconnect_fresh(struct session *s);
static int flow_scan(struct flow *f, struct http_error *err);

static const struct route_settings *
settings(struct session *s)
{
	const struct route_table *t = route_read(s->w->routes, s->w->reader);

	return &t->settings;
}

static size_t
buf_cap(struct session *s)
{
	size_t h = (size_t)settings(s)->proxy.max_header_bytes + 1;

	return h > BUF_MIN ? h : BUF_MIN;
}

static void
set_timer(struct session *s, int ms)
{
	ev_timer_stop(s->w->loop, &s->timer);
	ev_timer_set(&s->timer, ms / 1000.0, 0.);
	ev_timer_start(s->w->loop, &s->timer);
}

static void
watch(struct session *s, ev_io *io, int fd, int events)
{
	if (fd == -1 || events == 0) {
		ev_io_stop(s->w->loop, io);
		return;
	}
	if (ev_is_active(io) && io->fd == fd &&
	    (io->events & (EV_READ | EV_WRITE)) == events)
		return;
	ev_io_stop(s->w->loop, io);
	ev_io_set(io, fd, events);
	ev_io_start(s->w->loop, io);
}

/*
 * Bytes moved during an exchange or a tunnel: the idle timeout starts
 * again (ev_timer_again: no heap work on the hot path when the timer
 * runs already).
 */
static void
activity(struct session *s)
{
	if (s->state != SS_TUNNEL && s->state != SS_EXCHANGE)
		return;
	s->timer.repeat =
	    (s->state == SS_TUNNEL ? settings(s)->proxy.tunnel_idle_timeout_ms
				   : settings(s)->proxy.server_timeout_ms) /
	    1000.0;
	ev_timer_again(s->w->loop, &s->timer);
}

static bool
flow_pending(const struct flow *f)
{
	return f->head_sent < iobuf_len(&f->head) || f->fwd > 0;
}

/* The events each side is watched for, from the state and the buffers. */
static void
update_io(struct session *s)
{
	size_t cap = buf_cap(s);
	int cev = 0, sev = 0;
	bool req_room = iobuf_len(&s->req.in) < cap;
	bool resp_room = iobuf_len(&s->resp.in) < cap;

	switch (s->state) {
	case SS_HANDSHAKE:
		cev = s->cwant == TLS_WANT_WRITE ? EV_WRITE : EV_READ;
		break;
	case SS_HEAD:
		cev = req_room ? EV_READ : 0;
		break;
	case SS_CONNECT:
		cev = 0;
		sev = !s->shaking || s->swant == TLS_WANT_WRITE ? EV_WRITE
								: EV_READ;
		break;
	case SS_EXCHANGE:
	case SS_TUNNEL:
		if (req_room && !s->req.eof)
			cev |= EV_READ;
		if (flow_pending(&s->resp))
			cev |= EV_WRITE;
		if (resp_room && !s->resp.eof)
			sev |= EV_READ;
		if (flow_pending(&s->req))
			sev |= EV_WRITE;
		break;
	case SS_CLOSING:
		cev = flow_pending(&s->resp) ? EV_WRITE : EV_READ;
		break;
	}
	/* TLS may need the other readiness to go on (a read that must
	 * write, a write that must read). */
	if (s->cssl != NULL && s->state != SS_HANDSHAKE && cev != 0)
		cev |= s->cwant == TLS_WANT_READ    ? EV_READ
		       : s->cwant == TLS_WANT_WRITE ? EV_WRITE
						    : 0;
	if (s->sssl != NULL && s->state != SS_CONNECT && sev != 0)
		sev |= s->swant == TLS_WANT_READ    ? EV_READ
		       : s->swant == TLS_WANT_WRITE ? EV_WRITE
						    : 0;
	watch(s, &s->cio, s->cfd, cev);
	watch(s, &s->sio, s->sfd, sev);
	/* Bytes OpenSSL already decrypted wake no poll: feed the event. */
	if ((cev & EV_READ) && s->cssl != NULL && SSL_pending(s->cssl) > 0)
		ev_feed_event(s->w->loop, &s->cio, EV_READ);
	if ((sev & EV_READ) && s->sssl != NULL && SSL_pending(s->sssl) > 0)
		ev_feed_event(s->w->loop, &s->sio, EV_READ);
}

static void
flow_reset(struct flow *f, bool keep_input)
{
	iobuf_free(&f->head);
	if (!keep_input)
		iobuf_free(&f->in);
	f->head_sent = 0;
	f->scanned = 0;
	f->framing = HTTP_BODY_NONE;
	f->left = 0;
	memset(&f->chunked, 0, sizeof(f->chunked));
	f->fwd = 0;
	f->head_done = false;
	f->body_done = false;
	f->eof = false;
	f->sent = 0;
}

/* Lets go of the node: its connection (kept in the pool when the node
 * keeps it alive and the exchange ended cleanly) and its counters. */
static void
release_node_keep(struct session *s, bool keep)
{
	/* Pooled only in step with the node: nothing left unread of it,
	 * and a node still routable. */
	if (keep && s->sfd != -1 && s->node_keep_alive && !s->resp.eof &&
	    iobuf_len(&s->resp.in) == 0 &&
	    (s->sssl == NULL || SSL_pending(s->sssl) == 0) &&
	    route_has_node(route_read(s->w->routes, s->w->reader), s->node)) {
		ev_io_stop(s->w->loop, &s->sio);
		pool_put(s->w, s->node, &s->sa.sa, s->salen, s->sfd, s->sssl);
		s->sfd = -1;
		s->sssl = NULL;
		s->swant = TLS_WANT_NONE;
	}
	s->node_keep_alive = false;
	s->reused = false;
	if (s->sssl != NULL) {
		SSL_free(s->sssl);
		s->sssl = NULL;
		s->swant = TLS_WANT_NONE;
		s->shaking = false;
	}
	if (s->sfd != -1) {
		ev_io_stop(s->w->loop, &s->sio);
		close(s->sfd);
		fdb_put(s->w->fdb);
		s->sfd = -1;
	}
	if (s->stats != NULL) {
		atomic_fetch_sub(&s->stats->connections, 1);
		node_stats_unref(s->stats);
		s->stats = NULL;
	}
}

static void
release_node(struct session *s)
{
	release_node_keep(s, false);
}

static void
passive(struct session *s, enum passive_outcome o)
{
	if (s->stats == NULL)
		return;
	if (o == PASSIVE_OK) {
		if (atomic_load(&s->stats->failures) != 0)
			atomic_store(&s->stats->failures, 0);
		return;
	}
	atomic_store(&s->stats->last_failure, (unsigned)o);
	atomic_fetch_add(&s->stats->failures, 1);
}

/*
 * One access log line for the request being served: time, client,
 * request line, status, node, bytes to the client, duration. Status 0:
 * the exchange broke off before an answer.
 */
static void
access_log(struct session *s)
{
	char line[700], when[32];
	struct timespec ts;
	struct tm tm;
	int n;

	if (!s->in_request)
		return;
	s->in_request = false;
	free(s->cookie); /* sent with the answer, if any */
	s->cookie = NULL;
	if (s->w->alog == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line),
		     "%s.%03ldZ %s \"%s HTTP/1.%d\" %d %s %llu %.1fms", when,
		     ts.tv_nsec / 1000000, s->client_ip,
		     s->request ? s->request : "- -", s->minor, s->status,
		     s->node[0] ? s->node : "-",
		     (unsigned long long)s->resp.sent,
		     (ev_now(s->w->loop) - s->t_start) * 1000.0);
	if (n > 0)
		alog_line(s->w->alog, line,
			  (size_t)n < sizeof(line) ? (size_t)n
						   : sizeof(line) - 1);
}

void
session_close(struct session *s)
{
	struct worker *w = s->w;

	access_log(s);
	release_node(s);
	ev_io_stop(w->loop, &s->cio);
	ev_timer_stop(w->loop, &s->timer);
	/* close_notify went out on clean ends (close_write); after an
	 * error OpenSSL must not be asked to send anything. */
	SSL_free(s->cssl);
	free(s->cookie);
	free(s->request);
	close(s->cfd);
	fdb_put(w->fdb);
	flow_reset(&s->req, false);
	flow_reset(&s->resp, false);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		w->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	free(s);
}

/*
 * Answers the client with code and closes: nothing more of this
 * connection is read as requests (after a bad request, where the next
 * one starts is unknown).
 */
static void
answer_error(struct session *s, int code, const char *why)
{
	char msg[512], head[256];
	int body, hl;

	log_debug("proxy: %s: %d %s", s->client_ip, code, why);
	if (s->resp.head_done || s->resp.head_sent > 0) {
		/* The client is inside an answer already: no second one can
		 * follow. End the connection (the client sees it cut). */
		s->status = 0;
		release_node(s);
		flow_reset(&s->resp, false);
		flow_reset(&s->req, false);
		shutdown(s->cfd, SHUT_RDWR);
		s->state = SS_CLOSING;
		set_timer(s, (int)(CLOSING_LINGER_S * 1000));
		return;
	}
	release_node(s);
	flow_reset(&s->resp, false);
	body = snprintf(msg, sizeof(msg), "%d %s: %s\n", code, http_status_reason(code),
			why);
	hl = snprintf(head, sizeof(head),
		      "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		      "Content-Length: %d\r\n%sConnection: close\r\n\r\n",
		      code, http_status_reason(code), body,
		      code == 503 ? "Retry-After: 5\r\n" : "");

	s->status = code;
	iobuf_append(&s->resp.head, head, (size_t)hl, (size_t)hl + 1024);
	if (s->method != HTTP_M_HEAD)
		iobuf_append(&s->resp.head, msg, (size_t)body,
			     (size_t)hl + 1024);
	s->state = SS_CLOSING;
	/* Time to deliver the answer, but an fd is not held for long. */
	set_timer(s, settings(s)->proxy.client_header_timeout_ms);
}

/* Fills addr bytes of the client for the rendezvous hash. */
static size_t
client_bytes(const struct session *s, const void **p)
{
	if (s->client.sa.sa_family == AF_INET6) {
		*p = &s->client.in6.sin6_addr;
		return 16;
	}
	*p = &s->client.in.sin_addr;
	return 4;
}

/*
 * Chooses the node for this request: the one the client's valid cookie
 * names while it is routable, else a pick among the routable nodes (never
 * `exclude`, the node a retry leaves). Returns the table index or -1.
 */
static int
choose(struct session *s, const struct route_table *t, const char *exclude,
       const struct http_msg *m)
{
	const struct route_settings *rs = &t->settings;
	struct sticky_candidate c[64];
	char node[STICKY_COOKIE_MAX];
	struct http_str v;
	const void *cb;
	size_t n = t->n < 64 ? t->n : 64, clen;
	int pick;

	free(s->cookie);
	s->cookie = NULL;
	if (rs->stick_mode == STICK_COOKIE && m != NULL &&
	    rewrite_find_cookie(m, rs->cookie, &v) &&
	    sticky_cookie_verify(&rs->key, rs->cluster, v.p, v.len, node)) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(t->nodes[i].name, node) == 0 &&
			    (exclude == NULL || strcmp(node, exclude) != 0))
				return (int)i;
	}
	for (size_t i = 0; i < n; i++) {
		c[i].name = t->nodes[i].name;
		c[i].connections =
		    t->nodes[i].stats
			? atomic_load(&t->nodes[i].stats->connections)
			: 0;
		/* A node being left is out of the running, like a draining
		 * one. */
		c[i].draining =
		    t->nodes[i].draining ||
		    (exclude != NULL && strcmp(t->nodes[i].name, exclude) == 0);
	}
	clen = client_bytes(s, &cb);
	pick = sticky_pick(c, n, rs->stick_mode == STICK_SOURCE, cb, clen);
	if (pick >= 0 && rs->stick_mode == STICK_COOKIE) {
		char val[STICKY_COOKIE_MAX];

		sticky_cookie_make(&rs->key, rs->cluster, t->nodes[pick].name,
				   val);
		if (asprintf(&s->cookie, "%s=%s; Path=/; HttpOnly%s",
			     rs->cookie, val,
			     s->tls_listener ? "; Secure" : "") == -1)
			s->cookie = NULL; /* no cookie this time, no harm */
	}
	return pick;
}

/* Takes node i of t for this session. */
static void
bind_node(struct session *s, const struct route_node *rn)
{
	snprintf(s->node, sizeof(s->node), "%s", rn->name);
	s->node_tls = rn->tls;
	memcpy(&s->sa, &rn->sa,
	       rn->salen < sizeof(s->sa) ? rn->salen : sizeof(s->sa));
	s->salen = rn->salen < sizeof(s->sa) ? rn->salen : 0;
	s->stats = node_stats_ref(rn->stats);
	if (s->stats != NULL) {
		atomic_fetch_add(&s->stats->connections, 1);
		atomic_fetch_add(&s->stats->requests, 1);
	}
}

static bool
retry_elsewhere(struct session *s, enum passive_outcome why)
{
	const struct route_table *t = route_read(s->w->routes, s->w->reader);
	struct node_stats *was = node_stats_ref(s->stats); /* for retries */
	char failed[64];
	int i;

	passive(s, why);
	snprintf(failed, sizeof(failed), "%s", s->node);
	release_node(s);
	/* What matters is whether the client saw anything: an answer that
	 * broke off inside its head reached nobody. */
	if (!retry_allowed(http_method_idempotent(s->method), s->req.sent > 0,
			   s->body_sent, s->resp.head_done, s->tries)) {
		node_stats_unref(was);
		return false;
	}
	flow_reset(&s->resp, false); /* what the failed node half-said */
	i = choose(s, t, failed, NULL);
	if (i >= 0 && was != NULL)
		atomic_fetch_add(&was->retries, 1);
	node_stats_unref(was);
	if (i < 0)
		return false;
	bind_node(s, &t->nodes[i]);
	s->req.head_sent = 0; /* the whole head again, to the new node */
	s->refreshed = true;  /* and over a new connection */
	log_info("proxy: %s unreachable (%s); retrying on %s", failed,
		 passive_outcome_names[why].desc, s->node);
	connect_node_fresh(s);
	return true;
}

static void
connect_failed(struct session *s, enum passive_outcome why)
{
	if (!retry_elsewhere(s, why))
		answer_error(s, 502,
			     why == PASSIVE_TIMEOUT
				 ? "no node answered in time"
				 : "no node could be reached");
}

static void
connected(struct session *s)
{
	s->state = SS_EXCHANGE;
	set_timer(s, settings(s)->proxy.server_timeout_ms);
}

/* One step of the TLS handshake with the node. */
static void
node_handshake(struct session *s)
{
	int rc = tls_handshake(s->sssl, &s->swant);

	if (rc == 1) {
		s->shaking = false;
		s->swant = TLS_WANT_NONE;
		connected(s);
	} else if (rc == -1) {
		log_info("proxy: TLS handshake with %s failed", s->node);
		connect_failed(s, PASSIVE_RESET);
	}
}

/* TCP is up: for a TLS node, the handshake comes first. */
static void
tcp_connected(struct session *s)
{
	const struct route_table *t = route_read(s->w->routes, s->w->reader);
	const struct route_settings *rs = &t->settings;
	const char *host = NULL;
	struct in6_addr a6;
	struct in_addr a4;
	int one = 1;

	setsockopt(s->sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!s->node_tls) {
		connected(s);
		return;
	}
	/* The name to check the certificate against, from the table (a
	 * session does not carry it: idle clients stay small). */
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->nodes[i].name, s->node) == 0)
			host = t->nodes[i].host;
	s->sssl = rs->node_tls && host ? SSL_new(rs->node_tls) : NULL;
	if (s->sssl == NULL || SSL_set_fd(s->sssl, s->sfd) != 1) {
		connect_failed(s, PASSIVE_RESET);
		return;
	}
	SSL_set_connect_state(s->sssl);
	/* The node's certificate must name it: a host name is also sent
	 * as SNI; an IP address is checked against the IP SANs. */
	if (inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->sssl), host);
	} else {
		SSL_set_tlsext_host_name(s->sssl, host);
		SSL_set1_host(s->sssl, host);
	}
	s->shaking = true;
	s->state = SS_CONNECT;
	node_handshake(s);
}

static void
connect_node(struct session *s)
{
	s->tries++;
	/* Only an idempotent request may ride a pooled connection: if the
	 * node closed it meanwhile, the request is sent again (HAProxy's
	 * "http-reuse safe"). */
	if (s->salen != 0 && http_method_idempotent(s->method) &&
	    pool_get(s->w, s->node, &s->sa.sa, s->salen, &s->sfd, &s->sssl)) {
		s->reused = true;
		connected(s);
		return;
	}
	s->tries--;
	connect_node_fresh(s);
}

static void
connect_node_fresh(struct session *s)
{
	int fd;

	s->tries++;
	if (s->salen == 0) {
		answer_error(s, 502, "the node's address is not an IP address");
		return;
	}
	/* Every client has room for its node connection, but idle pooled
	 * ones may have taken it. */
	if (!fdb_room(s->w->fdb, 1))
		pool_drop_oldest(s->w);
	fd = socket(s->sa.sa.sa_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("proxy: socket: %s", strerror(errno));
		answer_error(s, 502, "out of sockets");
		return;
	}
	fdb_take(s->w->fdb);
	s->sfd = fd;
	if (connect(fd, &s->sa.sa, s->salen) == 0) {
		tcp_connected(s);
		return;
	}
	if (errno != EINPROGRESS) {
		connect_failed(s, PASSIVE_REFUSED);
		return;
	}
	s->state = SS_CONNECT;
	set_timer(s, settings(s)->proxy.connect_timeout_ms);
}

/* A request head is complete in req.in: route it. */
static void
start_request(struct session *s, struct http_msg *m, size_t head_len)
{
	const struct route_table *t = route_read(s->w->routes, s->w->reader);
	const struct route_settings *rs = &t->settings;
	struct rewrite_req o = {
		.client_ip = s->client_ip,
		.tls = s->tls_listener,
		.forwarded_headers = rs->proxy.forwarded_headers,
	};
	struct http_error err = { 400, "bad chunked body" };
	int i;

	s->method = m->method;
	s->minor = m->minor;
	s->node[0] = '\0';
	s->in_request = true;
	s->status = 0;
	s->t_start = ev_now(s->w->loop);
	free(s->request);
	s->request = NULL;
	if (s->w->alog != NULL &&
	    asprintf(&s->request, "%.*s %.*s", (int)m->method_str.len,
		     m->method_str.p, (int)m->target.len, m->target.p) == -1)
		s->request = NULL;
	s->client_keep_alive = m->keep_alive;
	s->upgrade = m->upgrade;
	s->body_sent = false;
	s->refreshed = false;
	s->tries = 0;
	if (m->method == HTTP_M_CONNECT) {
		answer_error(s, 405, "vigil is not a forward proxy");
		return;
	}
	i = choose(s, t, NULL, m);
	if (i < 0) {
		answer_error(s, 503, "no active node");
		return;
	}
	bind_node(s, &t->nodes[i]);
	/* An HTTP/1.0 request may come without Host: the node's own. */
	const struct route_node *rn = &t->nodes[i];
	char authority[300];

	snprintf(authority, sizeof(authority), "%s%s%s:%s",
		 strchr(rn->host, ':') ? "[" : "", rn->host,
		 strchr(rn->host, ':') ? "]" : "", rn->port);
	o.node_authority = authority;
	if (!rewrite_request(m, &o, &s->req.head,
			     (size_t)rs->proxy.max_header_bytes + 4096)) {
		answer_error(s, 431, "request head too large once forwarded");
		return;
	}
	iobuf_consume(&s->req.in, head_len);
	s->req.head_done = true;
	s->req.framing = m->framing;
	s->req.left = m->content_length;
	s->req.body_done =
	    m->framing == HTTP_BODY_NONE ||
	    (m->framing == HTTP_BODY_LENGTH && m->content_length == 0);
	/* The body octets that came with the head are checked before the
	 * node is even connected to: a bad chunk among them is refused with
	 * nothing forwarded (SPEC: "nothing of it reaches a node"), where
	 * the head would otherwise leave as soon as the connection is up.
	 * A bad chunk that comes later can only cut the node's connection. */
	if (flow_scan(&s->req, &err) == -1) {
		answer_error(s, 400, err.reason);
		return;
	}
	connect_node(s);
}

/* Extends f->fwd over the body bytes that arrived; -1 on bad chunking. */
static int
flow_scan(struct flow *f, struct http_error *err)
{
	size_t avail = iobuf_len(&f->in) - f->fwd;
	bool done = false;
	ssize_t n;

	if (!f->head_done || f->body_done)
		return 0;
	switch (f->framing) {
	case HTTP_BODY_NONE:
		f->body_done = true;
		break;
	case HTTP_BODY_LENGTH:
		n = (ssize_t)(avail < f->left ? avail : f->left);
		f->fwd += (size_t)n;
		f->left -= (uint64_t)n;
		f->body_done = f->left == 0;
		break;
	case HTTP_BODY_CHUNKED:
		if (avail == 0)
			break;
		n = http_chunked_scan(&f->chunked, iobuf_data(&f->in) + f->fwd,
				      avail, &done, err);
		if (n < 0)
			return -1;
		f->fwd += (size_t)n;
		f->body_done = done;
		break;
	case HTTP_BODY_CLOSE:
		f->fwd += avail;
		f->body_done = f->eof;
		break;
	}
	return 0;
}

/* Writes f's head, then its checked body bytes, to fd (through ssl when
 * set). -1: the connection failed. */
static int
flow_write(struct flow *f, int fd, SSL *ssl, enum tls_want *want,
	   bool *wrote_body)
{
	ssize_t n;

	/* Plain TCP: head and body leave in one writev, one segment. */
	if (ssl == NULL && f->head_sent < iobuf_len(&f->head) && f->fwd > 0) {
		size_t hl = iobuf_len(&f->head) - f->head_sent;
		struct iovec iov[2] = {
			{ iobuf_data(&f->head) + f->head_sent, hl },
			{ iobuf_data(&f->in), f->fwd },
		};

		n = writev(fd, iov, 2);
		if (n == -1) {
			*want = errno == EAGAIN || errno == EINTR
				    ? TLS_WANT_WRITE
				    : TLS_WANT_NONE;
			return *want != TLS_WANT_NONE ? 0 : -1;
		}
		f->sent += (uint64_t)n;
		if ((size_t)n <= hl) {
			f->head_sent += (size_t)n;
		} else {
			f->head_sent += hl;
			iobuf_consume(&f->in, (size_t)n - hl);
			f->fwd -= (size_t)n - hl;
			if (wrote_body != NULL)
				*wrote_body = true;
		}
	}
	while (f->head_sent < iobuf_len(&f->head)) {
		n = tls_write(fd, ssl, iobuf_data(&f->head) + f->head_sent,
			      iobuf_len(&f->head) - f->head_sent, want);
		if (n == -1)
			return *want != TLS_WANT_NONE ? 0 : -1;
		f->head_sent += (size_t)n;
		f->sent += (uint64_t)n;
	}
	while (f->fwd > 0) {
		n = tls_write(fd, ssl, iobuf_data(&f->in), f->fwd, want);
		if (n == -1)
			return *want != TLS_WANT_NONE ? 0 : -1;
		iobuf_consume(&f->in, (size_t)n);
		f->fwd -= (size_t)n;
		f->sent += (uint64_t)n;
		if (wrote_body != NULL)
			*wrote_body = true;
	}
	*want = TLS_WANT_NONE;
	return 0;
}

/* Reads what fd has into f->in. Returns -1 on error, 0 on EOF (sets
 * f->eof), 1 otherwise. */
static int
flow_read(struct flow *f, int fd, SSL *ssl, enum tls_want *want, size_t cap)
{
	size_t room = iobuf_room(&f->in, cap);
	ssize_t n;

	if (room == 0)
		return 1;
	n = tls_read(fd, ssl, f->in.p + f->in.tail, room, want);
	if (n == -1)
		return *want != TLS_WANT_NONE ? 1 : -1;
	if (n == 0) {
		if (iobuf_len(&f->in) == 0)
			iobuf_free(&f->in);
		f->eof = true;
		return 0;
	}
	f->in.tail += (size_t)n;
	return 1;
}

/* Returns false when the session was closed. */
static bool
try_request_head(struct session *s)
{
	const struct route_settings *rs = settings(s);
	struct http_msg *m = &s->w->msg;
	struct http_error err = { 400, "bad request" };
	ssize_t n;

	if (iobuf_len(&s->req.in) == 0) {
		if (!s->req.eof)
			return true;
		session_close(s);
		return false;
	}
	if (!s->head_timer) {
		/* The first byte of a request: the idle wait is over. */
		s->head_timer = true;
		set_timer(s, rs->proxy.client_header_timeout_ms);
	}
	n = http_parse_request(iobuf_data(&s->req.in), iobuf_len(&s->req.in),
			       (size_t)rs->proxy.max_header_bytes,
			       &s->req.scanned, m, &err);
	if (n < 0)
		answer_error(s, err.status, err.reason);
	else if (n == 0 && s->req.eof)
		answer_error(s, 400, "connection closed inside a request head");
	else if (n > 0)
		start_request(s, m, (size_t)n);
	return true;
}

static void
try_response_head(struct session *s)
{
	const struct route_settings *rs = settings(s);
	struct http_msg *m = &s->w->msg;
	struct http_error err = { 502, "bad response" };
	struct rewrite_resp o;
	ssize_t n;

	while (!s->resp.head_done && iobuf_len(&s->resp.in) > 0) {
		n = http_parse_response(iobuf_data(&s->resp.in),
					iobuf_len(&s->resp.in),
					(size_t)rs->proxy.max_header_bytes,
					&s->resp.scanned, s->method, m, &err);
		if (n == 0)
			return;
		if (n < 0) {
			passive(s, PASSIVE_5XX);
			answer_error(s, 502, err.reason);
			return;
		}
		o = (struct rewrite_resp){
			.keep_alive = s->client_keep_alive && m->keep_alive &&
				      m->framing != HTTP_BODY_CLOSE,
			.client_http10 = s->minor == 0,
			.set_cookie = s->cookie,
		};
		if (m->status >= 100 && m->status < 200 && m->status != 101) {
			/* Interim answers go through; the final one follows. */
			o.set_cookie = NULL;
			o.keep_alive = true;
			if (s->minor > 0 &&
			    !rewrite_response(
				m, &o, &s->resp.head,
				(size_t)rs->proxy.max_header_bytes + 4096)) {
				answer_error(s, 502, "response head too large");
				return;
			}
			iobuf_consume(&s->resp.in, (size_t)n);
			s->resp.scanned = 0;
			continue;
		}
		if (m->status == 101 && !s->upgrade) {
			answer_error(s, 502,
				     "101 to a request without Upgrade");
			return;
		}
		if (!rewrite_response(m, &o, &s->resp.head,
				      (size_t)rs->proxy.max_header_bytes +
					  4096)) {
			answer_error(s, 502, "response head too large");
			return;
		}
		passive(s, m->status >= 500 ? PASSIVE_5XX : PASSIVE_OK);
		if (s->stats != NULL && m->status >= 100 && m->status <= 599)
			atomic_fetch_add(&s->stats->codes[m->status - 100], 1);
		s->client_keep_alive = o.keep_alive;
		s->status = m->status;
		/* An HTTP/1.0 client's request went with Connection: close. */
		s->node_keep_alive = m->keep_alive && s->minor > 0 &&
				     m->framing != HTTP_BODY_CLOSE &&
				     m->status != 101;
		iobuf_consume(&s->resp.in, (size_t)n);
		s->resp.head_done = true;
		if (m->status == 101) {
			s->state = SS_TUNNEL;
			s->req.framing = s->resp.framing = HTTP_BODY_CLOSE;
			s->req.head_done = true;
			s->req.body_done = s->req.eof;
			set_timer(s, rs->proxy.tunnel_idle_timeout_ms);
			return;
		}
		s->resp.framing = m->framing;
		s->resp.left = m->content_length;
	}
}

/* Our side of the client connection is done: TLS close_notify first (so
 * a body that ends with the connection is not mistaken for a cut one),
 * then FIN. */
static void
close_write(struct session *s)
{
	if (s->cssl != NULL)
		SSL_shutdown(s->cssl); /* best effort: one try, no waiting */
	shutdown(s->cfd, SHUT_WR);
}

/* The exchange is over: keep the client for its next request, or close. */
static void
finish_exchange(struct session *s)
{
	bool keep = s->client_keep_alive && !s->req.eof;

	access_log(s);
	release_node_keep(s, true);
	s->method = HTTP_M_OTHER; /* an error answer now has a body */
	s->minor = 1;
	flow_reset(&s->resp, false);
	flow_reset(&s->req, true);
	if (!keep) {
		close_write(s);
		s->state = SS_CLOSING;
		set_timer(s, (int)(CLOSING_LINGER_S * 1000));
		return;
	}
	s->state = SS_HEAD;
	s->head_timer = false;
	set_timer(s, settings(s)->proxy.client_idle_timeout_ms);
}

/* The pooled connection was dead: the same node, a new connection. */
static void
reconnect_fresh(struct session *s)
{
	struct node_stats *st = node_stats_ref(s->stats);
	char node[64];

	snprintf(node, sizeof(node), "%s", s->node);
	release_node(s); /* drops the dead connection and the counters */
	s->stats = st;
	if (st != NULL)
		atomic_fetch_add(&st->connections, 1);
	flow_reset(&s->resp, false);
	s->req.head_sent = 0;
	s->tries--;	     /* not the node's fault: no try used */
	s->refreshed = true; /* but only once: a node that keeps failing
			      * is failing */
	s->state = SS_CONNECT;
	connect_node_fresh(s);
}

static bool
exchange_done(const struct session *s)
{
	return s->req.body_done && s->req.fwd == 0 && !flow_pending(&s->req) &&
	       s->resp.head_done && s->resp.body_done &&
	       !flow_pending(&s->resp);
}

/* Moves the session on after I/O. Returns false when it was closed. */
static bool
advance(struct session *s)
{
	struct http_error err = { 400, "bad chunked body" };

	for (;;) {
		switch (s->state) {
		case SS_HEAD:
			if (!try_request_head(s))
				return false;
			if (s->state == SS_HEAD)
				return true; /* waiting for more */
			continue;
		case SS_HANDSHAKE:
		case SS_CONNECT:
		case SS_CLOSING:
			return true;
		case SS_EXCHANGE:
			if (flow_scan(&s->req, &err) == -1) {
				answer_error(s, 400, err.reason);
				return true;
			}
			if (s->req.eof && !s->req.body_done) {
				session_close(s); /* the request cannot end */
				return false;
			}
			try_response_head(s);
			if (s->state != SS_EXCHANGE)
				continue;
			err.status = 502;
			if (flow_scan(&s->resp, &err) == -1) {
				s->status = 0; /* the answer broke off */
				session_close(s);
				return false;
			}
			if (exchange_done(s)) {
				finish_exchange(s);
				continue;
			}
			if (!s->resp.eof || s->resp.body_done)
				return true;
			/* The node went away mid-answer. A pooled connection
			 * it had closed is no failure of the node: try a
			 * fresh one to it. */
			if (s->reused && !s->refreshed && !s->body_sent &&
			    !s->resp.head_done) {
				reconnect_fresh(s);
				return true;
			}
			if (!s->resp.head_done &&
			    iobuf_len(&s->resp.head) == 0) {
				if (!retry_elsewhere(s, PASSIVE_RESET))
					answer_error(s, 502,
						     "the node closed the "
						     "connection");
				return true;
			}
			s->status = 0; /* the answer broke off */
			session_close(s);
			return false;
		case SS_TUNNEL:
			flow_scan(&s->req, &err);
			flow_scan(&s->resp, &err);
			if (s->req.eof && s->req.fwd == 0 && s->sfd != -1 &&
			    !s->half_closed) {
				shutdown(s->sfd, SHUT_WR);
				s->half_closed = true;
			}
			if (s->resp.eof && !flow_pending(&s->resp)) {
				session_close(s);
				return false;
			}
			return true;
		}
	}
}

/*
 * Writes what is ready now, before asking the loop to watch for
 * writability: usually the socket takes it all, and no write interest is
 * armed and dropped around every answer. A failure is left for the event
 * handlers, which see it again on their next write.
 */
static void
flush(struct session *s)
{
	if ((s->state == SS_EXCHANGE || s->state == SS_TUNNEL) &&
	    flow_pending(&s->req))
		flow_write(&s->req, s->sfd, s->sssl, &s->swant, &s->body_sent);
	if ((s->state == SS_EXCHANGE || s->state == SS_TUNNEL) &&
	    flow_pending(&s->resp))
		flow_write(&s->resp, s->cfd, s->cssl, &s->cwant, NULL);
}

/* After I/O: move on, write what can go, move on again, watch. */
static void
settle(struct session *s)
{
	if (!advance(s))
		return;
	flush(s);
	if (advance(s))
		update_io(s);
}

static void
on_client(struct ev_loop *loop, ev_io *w, int revents)
{
	struct session *s = w->data;
	int rc;

	if (s->state == SS_HANDSHAKE) {
		rc = tls_handshake(s->cssl, &s->cwant);
		if (rc == -1) {
			session_close(s);
			return;
		}
		if (rc == 1) {
			s->cwant = TLS_WANT_NONE;
			s->state = SS_HEAD;
		}
		if (advance(s))
			update_io(s);
		return;
	}
	if (revents & EV_WRITE) {
		if (flow_write(&s->resp, s->cfd, s->cssl, &s->cwant, NULL) ==
		    -1) {
			session_close(s);
			return;
		}
		if (s->state == SS_CLOSING && !flow_pending(&s->resp))
			close_write(s);
	}
	if (revents & EV_READ) {
		if (s->state == SS_CLOSING) {
			char sink[4096];

			enum tls_want want;

			if (tls_read(s->cfd, s->cssl, sink, sizeof(sink),
				     &want) <= 0 &&
			    want == TLS_WANT_NONE)
				session_close(s);
			else
				update_io(s);
			return;
		}
		rc = flow_read(&s->req, s->cfd, s->cssl, &s->cwant, buf_cap(s));
		if (rc == -1) {
			session_close(s);
			return;
		}
		activity(s);
	}
	settle(s);
}

static void
on_server(struct ev_loop *loop, ev_io *w, int revents)
{
	struct session *s = w->data;
	int err = 0, rc;
	socklen_t len = sizeof(err);

	if (s->state == SS_CONNECT && s->shaking) {
		node_handshake(s);
		if (s->state != SS_EXCHANGE) {
			update_io(s);
			return;
		}
		revents = EV_WRITE; /* the request head can go now */
	} else if (s->state == SS_CONNECT) {
		if (getsockopt(s->sfd, SOL_SOCKET, SO_ERROR, &err, &len) ==
			-1 ||
		    err != 0) {
			connect_failed(s, PASSIVE_REFUSED);
			update_io(s);
			return;
		}
		tcp_connected(s);
		if (s->state != SS_EXCHANGE) {
			update_io(s);
			return;
		}
	}
	if (revents & EV_WRITE) {
		if (flow_write(&s->req, s->sfd, s->sssl, &s->swant,
			       &s->body_sent) == -1) {
			if (s->reused && !s->refreshed && !s->body_sent &&
			    !s->resp.head_done) {
				reconnect_fresh(s);
				update_io(s);
				return;
			}
			if (!s->body_sent && !s->resp.head_done &&
			    retry_elsewhere(s, PASSIVE_RESET)) {
				update_io(s);
				return;
			}
			session_close(s);
			return;
		}
	}
	if (revents & EV_READ) {
		rc =
		    flow_read(&s->resp, s->sfd, s->sssl, &s->swant, buf_cap(s));
		if (rc == -1)
			s->resp.eof = true;
		activity(s);
	}
	settle(s);
}

/*
 * The node said nothing within server_timeout_ms. Once it has left
 * routing (dead, frozen, hung, ejected), an idempotent request goes once
 * to another node, as when its connection fails; a node still routed is
 * slow, not gone. Returns true when the request went elsewhere.
 */
static bool
timeout_retry(struct session *s)
{
	const struct route_table *t = route_read(s->w->routes, s->w->reader);

	if (!retry_after_timeout(http_method_idempotent(s->method),
				 s->body_sent, iobuf_len(&s->resp.in) > 0,
				 s->tries, route_has_node(t, s->node)))
		return false;
	return retry_elsewhere(s, PASSIVE_TIMEOUT);
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session *s = w->data;

	switch (s->state) {
	case SS_HANDSHAKE:
		session_close(s);
		return;
	case SS_HEAD:
		if (iobuf_len(&s->req.in) == 0) {
			session_close(s); /* idle keep-alive ended */
			return;
		}
		answer_error(s, 408, "the request head took too long");
		break;
	case SS_CONNECT:
		connect_failed(s, PASSIVE_TIMEOUT);
		break;
	case SS_EXCHANGE:
		if (!s->resp.head_done && iobuf_len(&s->resp.head) == 0) {
			if (timeout_retry(s))
				break;
			passive(s, PASSIVE_TIMEOUT);
			answer_error(s, 504, "the node did not answer in time");
			break;
		}
		s->status = 0; /* the answer broke off */
		session_close(s);
		return;
	case SS_TUNNEL:
	case SS_CLOSING:
		session_close(s);
		return;
	}
	update_io(s);
}

void
session_start(struct worker *w, int fd, SSL_CTX *tls)
{
	struct session *s = calloc(1, sizeof(*s));
	socklen_t len = sizeof(s->client);
	int one = 1;

	fdb_take(w->fdb);
	if (s == NULL) {
		close(fd);
		fdb_put(w->fdb);
		return;
	}
	s->w = w;
	s->cfd = fd;
	s->sfd = -1;
	s->tls_listener = tls != NULL;
	if (tls != NULL) {
		s->cssl = SSL_new(tls);
		if (s->cssl == NULL || SSL_set_fd(s->cssl, fd) != 1) {
			SSL_free(s->cssl);
			close(fd);
			fdb_put(w->fdb);
			free(s);
			return;
		}
		SSL_set_accept_state(s->cssl);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (getpeername(fd, &s->client.sa, &len) == 0) {
		if (s->client.sa.sa_family == AF_INET6)
			inet_ntop(AF_INET6, &s->client.in6.sin6_addr,
				  s->client_ip, sizeof(s->client_ip));
		else
			inet_ntop(AF_INET, &s->client.in.sin_addr, s->client_ip,
				  sizeof(s->client_ip));
	}
	ev_io_init(&s->cio, on_client, fd, EV_READ);
	ev_io_init(&s->sio, on_server, -1, EV_READ);
	ev_init(&s->timer, on_timer);
	s->cio.data = s->sio.data = s->timer.data = s;
	s->next = w->sessions;
	if (w->sessions != NULL)
		w->sessions->prev = s;
	w->sessions = s;
	s->state = s->cssl != NULL ? SS_HANDSHAKE : SS_HEAD;
	s->head_timer = true; /* a new connection has the header timeout */
	set_timer(s, settings(s)->proxy.client_header_timeout_ms);
	ev_io_start(w->loop, &s->cio);
}
