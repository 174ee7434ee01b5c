/*
 * admin.c: the admin listener (SPEC.md "Admin interface"): the status page,
 * the JSON API, the metrics. A deliberately small HTTP/1.1 server: one
 * request per connection, its head read whole (at most 8 KiB, within 5 s)
 * and parsed by the proxy's strict parser (proxy/http.c), the answer
 * written, the connection closed. Changes need the bearer token.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "admin/admin.h"
#include "admin/status-page.h"
#include "core/buf.h"
#include "core/errlist.h"
#include "core/log.h"
#include "health/monitor.h"
#include "notify/notify.h"
#include "notify/spool.h"
#include "proxy/http.h"

#define HEAD_MAX       8192
#define CONN_TIMEOUT_S 5.0
/* Connections served at once; more wait in the listen backlog, so that a
 * burst of scrapers cannot take the descriptors probes need. */
#define CONNS_MAX 32

struct admin {
	struct ev_loop *loop;
	struct monitor *monitor;
	struct notifier *notifier;
	struct admin_ops ops;
	unsigned char token[32]; /* SHA-256 of the bearer token */
	bool have_token;
	double started; /* wall clock */
	int fd;
	size_t conns; /* open admin connections */
	ev_io accept;
	ev_timer pause;
};

const struct name_desc vip_state_names[VIP__COUNT] = {
	[VIP_MASTER] = { "master", "holds the VIP" },
	[VIP_BACKUP] = { "backup", "stands by to take the VIP" },
	[VIP_FAULT] = { "fault", "cannot hold the VIP (a track script or "
				 "interface failed)" },
	[VIP_STOP] = { "stop", "VRRP stopped on this appliance" },
};

struct admin_conn {
	ev_io io;
	ev_timer timer;
	struct admin *a;
	int fd;
	size_t len;
	size_t scanned; /* how far the end of the head was searched */
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
	c->a->conns--;
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
		   "X-Content-Type-Options: nosniff\r\n"
		   "Connection: close\r\n\r\n",
		   code, reason, type, len);
	if (!head)
		buf_add(&c->out, body, len);
	c->answered = true;
}

static void
answer_buf(struct admin_conn *c, int code, const char *reason, const char *type,
	   struct buf *b, bool head)
{
	if (b->oom)
		answer(c, 500, "Internal Server Error", "application/json",
		       "{\"error\":\"out of memory\"}\n", 27, false);
	else
		answer(c, code, reason, type, b->p, b->len, head);
}

/* {"error":"…"} with code. */
static void
answer_error(struct admin_conn *c, int code, const char *reason,
	     const char *msg)
{
	struct buf b = { 0 };

	buf_puts(&b, "{\"error\":");
	buf_json_str(&b, msg);
	buf_puts(&b, "}\n");
	answer_buf(c, code, reason, "application/json", &b, false);
	buf_free(&b);
}

/* The bearer token checked in constant time: both sides are hashed, so
 * neither the token's bytes nor its length leak through timing. */
static int
authorize(struct admin_conn *c, const struct http_msg *m)
{
	const struct http_header *auth = http_header_find(m, "Authorization");
	unsigned char got[32];

	if (!c->a->have_token) {
		answer_error(c, 403, "Forbidden",
			     "no admin.token_file is configured: changes "
			     "through the API are refused");
		return -1;
	}
	if (auth == NULL || auth->value.len < 7 ||
	    strncasecmp(auth->value.p, "Bearer ", 7) != 0) {
		answer_error(c, 401, "Unauthorized",
			     "missing bearer token (Authorization: Bearer "
			     "TOKEN)");
		return -1;
	}
	SHA256((const unsigned char *)auth->value.p + 7, auth->value.len - 7,
	       got);
	if (CRYPTO_memcmp(got, c->a->token, sizeof(got)) != 0) {
		answer_error(c, 401, "Unauthorized", "wrong token");
		return -1;
	}
	return 0;
}

/* The first value of a query parameter as it is in the query (not
 * decoded): *val and *len; false when absent. */
static bool
query_raw(const char *query, const char *name, const char **val, size_t *len)
{
	size_t n = strlen(name);

	for (const char *p = query; p != NULL && *p;) {
		const char *end = p + strcspn(p, "&");

		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			*val = p + n + 1;
			*len = (size_t)(end - *val);
			return true;
		}
		p = *end ? end + 1 : end;
	}
	return false;
}

/* The value of a query parameter, copied into out; false when absent. */
static bool
query_param(const char *query, const char *name, char *out, size_t len)
{
	const char *v;
	size_t n;

	if (!query_raw(query, name, &v, &n))
		return false;
	snprintf(out, len, "%.*s", (int)n, v);
	return true;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The instance=NAME of POST /api/vip, percent-decoded into out (which
 * holds VIP_INSTANCE_MAX bytes and a NUL). Returns 1 when present, 0 when
 * absent, -1 when it is not 1 to VIP_INSTANCE_MAX bytes of printable
 * ASCII: it goes into the event's reason, logs and e-mail subjects.
 */
static int
vip_instance(const char *query, char *out)
{
	const char *v;
	size_t len, n = 0;

	if (!query_raw(query, "instance", &v, &len))
		return 0;
	for (size_t i = 0; i < len; i++) {
		int ch = (unsigned char)v[i];

		if (ch == '%') {
			int hi = i + 2 < len ? hex_digit(v[i + 1]) : -1;
			int lo = hi != -1 ? hex_digit(v[i + 2]) : -1;

			if (lo == -1)
				return -1;
			ch = hi << 4 | lo;
			i += 2;
		}
		if (ch < 0x20 || ch > 0x7e || n == VIP_INSTANCE_MAX)
			return -1;
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return n > 0 ? 1 : -1;
}

/* GET /api/events?since=ID&limit=N */
static void
events(struct admin_conn *c, const char *query, bool head)
{
	const struct spool *sp = notifier_spool(c->a->notifier);
	uint64_t from = spool_first(sp), end = spool_end(sp);
	struct buf b = { 0 };
	char id[64], lim[16];
	bool first = true;

	if (query_param(query, "since", id, sizeof(id)))
		from = spool_after_id(sp, id);
	if (query_param(query, "limit", lim, sizeof(lim))) {
		char *e;
		unsigned long n = strtoul(lim, &e, 10);

		if (*e != '\0' || lim[0] == '\0') {
			answer_error(c, 400, "Bad Request",
				     "limit must be a number");
			return;
		}
		if (end - from > n)
			from = end - n;
	}
	buf_puts(&b, "{\"events\":[");
	for (uint64_t q = from; q < end; q++) {
		const struct spool_entry *en = spool_get(sp, q);

		if (en == NULL)
			continue;
		buf_puts(&b, first ? "\n" : ",\n");
		buf_add(&b, en->json, en->len);
		first = false;
	}
	buf_puts(&b, "]}\n");
	answer_buf(c, 200, "OK", "application/json", &b, head);
	buf_free(&b);
}

static void
metrics(struct admin_conn *c, bool head)
{
	struct buf b = { 0 };

	buf_printf(&b,
		   "# HELP vigil_build_info vigil's version\n"
		   "# TYPE vigil_build_info gauge\n"
		   "vigil_build_info{version=\"%s\"} 1\n"
		   "# HELP vigil_process_start_time_seconds when vigil "
		   "started, seconds since the epoch\n"
		   "# TYPE vigil_process_start_time_seconds gauge\n"
		   "vigil_process_start_time_seconds %.3f\n",
		   PACKAGE_VERSION, c->a->started);
	monitor_metrics(c->a->monitor, &b);
	notifier_metrics(c->a->notifier, &b);
	answer_buf(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", &b,
		   head);
	buf_free(&b);
}

/* POST /api/nodes/NAME/ACTION */
static void
node_action(struct admin_conn *c, const char *path)
{
	static const struct {
		const char *name;
		enum node_state override;
		const char *state;
	} actions[] = {
		{ "drain", NODE_DRAINING, "draining" },
		{ "disable", NODE_DISABLED, "disabled" },
		{ "enable", NODE_UNKNOWN, "enabled" },
	};
	const char *slash = strrchr(path, '/');
	char node[64], msg[128];
	struct buf b = { 0 };
	size_t n = (size_t)(slash - path);

	if (n == 0 || n >= sizeof(node)) {
		answer_error(c, 404, "Not Found", "no such node");
		return;
	}
	memcpy(node, path, n);
	node[n] = '\0';
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(slash + 1, actions[i].name) != 0)
			continue;
		if (monitor_set_override(c->a->monitor, node,
					 actions[i].override) == -1) {
			snprintf(msg, sizeof(msg), "no node %s", node);
			answer_error(c, 404, "Not Found", msg);
			return;
		}
		buf_puts(&b, "{\"node\":");
		buf_json_str(&b, node);
		buf_printf(&b, ",\"state\":\"%s\"}\n", actions[i].state);
		answer_buf(c, 200, "OK", "application/json", &b, false);
		buf_free(&b);
		return;
	}
	answer_error(c, 404, "Not Found",
		     "the actions are drain, disable and enable");
}

/* POST /api/vip/STATE?instance=NAME: keepalived's notify script tells
 * this appliance's VRRP state; the daemon raises vip_changed. */
static void
vip_action(struct admin_conn *c, const char *state, const char *query)
{
	char instance[VIP_INSTANCE_MAX + 1];
	struct buf b = { 0 };
	size_t i;
	int has;

	for (i = 0; i < VIP__COUNT; i++)
		if (strcmp(state, vip_state_names[i].name) == 0)
			break;
	if (i == VIP__COUNT) {
		answer_error(c, 404, "Not Found",
			     "the VRRP states are master, backup, fault and "
			     "stop");
		return;
	}
	has = vip_instance(query, instance);
	if (has == -1) {
		answer_error(c, 400, "Bad Request",
			     "instance: a VRRP instance name is 1 to 64 "
			     "printable ASCII characters");
		return;
	}
	c->a->ops.vip(c->a->ops.ctx, (enum vip_state)i, has ? instance : NULL);
	buf_printf(&b,
		   "{\"vip\":\"%s\",\"instance\":", vip_state_names[i].name);
	if (has)
		buf_json_str(&b, instance);
	else
		buf_puts(&b, "null");
	buf_puts(&b, "}\n");
	answer_buf(c, 200, "OK", "application/json", &b, false);
	buf_free(&b);
}

static void
api_reload(struct admin_conn *c)
{
	struct errlist el = { 0 };
	struct buf b = { 0 };
	int rc = c->a->ops.reload(c->a->ops.ctx, &el);

	buf_printf(&b, "{\"reloaded\":%s", rc == 0 ? "true" : "false");
	if (rc != 0) {
		buf_puts(&b, ",\"errors\":[");
		for (size_t i = 0; i < el.n; i++) {
			buf_puts(&b, i ? "," : "");
			buf_json_str(&b, el.line[i]);
		}
		buf_puts(&b, "]");
	}
	buf_puts(&b, "}\n");
	answer_buf(c, rc == 0 ? 200 : 422,
		   rc == 0 ? "OK" : "Unprocessable Content", "application/json",
		   &b, false);
	buf_free(&b);
	errlist_clear(&el);
}

/* The request head m (in c->head) is complete: decide the answer. */
static void
route(struct admin_conn *c, const struct http_msg *m)
{
	char target[1024];
	const char *query = "";
	bool get, head, post;
	char *q;

	if (m->path.len >= sizeof(target)) {
		answer_error(c, 414, "URI Too Long", "the target is too long");
		return;
	}
	memcpy(target, m->path.p, m->path.len);
	target[m->path.len] = '\0';
	q = strchr(target, '?');
	if (q != NULL) {
		*q = '\0';
		query = q + 1;
	}
	head = m->method == HTTP_M_HEAD;
	get = head || m->method == HTTP_M_GET;
	post = m->method == HTTP_M_POST;
	if (strcmp(target, "/") == 0 || strcmp(target, "/api/status") == 0 ||
	    strcmp(target, "/api/events") == 0 ||
	    strcmp(target, "/metrics") == 0) {
		if (!get) {
			answer_error(c, 405, "Method Not Allowed",
				     "use GET or HEAD");
			return;
		}
	} else if (strncmp(target, "/api/nodes/", 11) == 0 ||
		   strncmp(target, "/api/vip/", 9) == 0 ||
		   strcmp(target, "/api/reload") == 0) {
		if (!post) {
			answer_error(c, 405, "Method Not Allowed", "use POST");
			return;
		}
		if (authorize(c, m) == -1)
			return;
	} else {
		answer_error(c, 404, "Not Found", "no such page");
		return;
	}
	if (strcmp(target, "/") == 0) {
		answer(c, 200, "OK", "text/html; charset=utf-8",
		       admin_status_html, admin_status_html_len, head);
	} else if (strcmp(target, "/api/status") == 0) {
		struct buf json = { 0 };

		monitor_status_json(c->a->monitor, &json);
		buf_puts(&json, "\n");
		answer_buf(c, 200, "OK", "application/json", &json, head);
		buf_free(&json);
	} else if (strcmp(target, "/api/events") == 0) {
		events(c, query, head);
	} else if (strcmp(target, "/metrics") == 0) {
		metrics(c, head);
	} else if (strcmp(target, "/api/reload") == 0) {
		api_reload(c);
	} else if (strncmp(target, "/api/vip/", 9) == 0) {
		vip_action(c, target + 9, query);
	} else {
		node_action(c, target + 11);
	}
}

static void on_drain(struct ev_loop *loop, ev_io *w, int revents);

/* Parses what came of the head so far: routes it once complete, refuses
 * it (400, 431, 501, 505) when the proxy would. */
static void
read_head(struct admin_conn *c)
{
	struct http_msg m;
	struct http_error err;
	ssize_t r = http_parse_request(c->head, c->len, sizeof(c->head) - 1,
				       &c->scanned, &m, &err);

	if (r > 0) {
		route(c, &m);
	} else if (r == -1) {
		log_debug("admin: refused a request: %s", err.reason);
		answer_error(c, err.status, http_status_reason(err.status),
			     err.reason);
	} else if (c->len == sizeof(c->head) - 1) {
		answer_error(c, 431, "Request Header Fields Too Large",
			     "the request head is over 8 KiB");
	}
}

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
		read_head(c);
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

/* The listener stays readable while connections wait (out of descriptors,
 * or CONNS_MAX served): pause instead of spinning. Set each time: a
 * one-shot timer that fired keeps no interval, and would fire at once. */
static void
pause_accept(struct ev_loop *loop, struct admin *a)
{
	ev_io_stop(loop, &a->accept);
	ev_timer_set(&a->pause, 0.1, 0.);
	ev_timer_start(loop, &a->pause);
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct admin *a = w->data;

	for (int i = 0; i < 16; i++) {
		struct admin_conn *c;
		int fd;

		if (a->conns >= CONNS_MAX) {
			pause_accept(loop, a);
			return;
		}
		fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				pause_accept(loop, a);
			return;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->a = a;
		c->fd = fd;
		a->conns++;
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

int
admin_load_token(struct admin *a, const char *path, char *err, size_t errlen)
{
	char tok[512];
	ssize_t n;
	int fd;

	if (path == NULL) {
		a->have_token = false;
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, tok, sizeof(tok) - 1);
	close(fd);
	if (n <= 0) {
		snprintf(err, errlen, "%s: empty or unreadable", path);
		return -1;
	}
	tok[n] = '\0';
	tok[strcspn(tok, "\r\n")] = '\0';
	if (tok[0] == '\0') {
		snprintf(err, errlen, "%s: the first line is empty", path);
		explicit_bzero(tok, sizeof(tok));
		return -1;
	}
	SHA256((const unsigned char *)tok, strlen(tok), a->token);
	explicit_bzero(tok, sizeof(tok));
	a->have_token = true;
	return 0;
}

void
admin_start(struct admin *a, struct ev_loop *loop, struct monitor *m,
	    struct notifier *nf, const struct admin_ops *ops)
{
	a->loop = loop;
	a->monitor = m;
	a->notifier = nf;
	a->ops = *ops;
	a->started = ev_time();
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
	explicit_bzero(a->token, sizeof(a->token));
	free(a);
}
