/*
 * sim-req.c: HTTP/1.x requests as vigil-sim reads them (request line,
 * headers, Content-Length and chunked bodies, pipelining) and the answers
 * a vRealize Orchestrator node gives. A small, strict parser: this is a
 * test tool, not the product.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tests/sim/sim.h"

/* A chunk-size line (size and extensions) longer than this is refused. */
#define CHUNK_LINE_MAX 1024
/* /slow waits at most this long. */
#define SLOW_MAX_MS 3600000ULL

struct head_info {
	bool cl_seen;
	uint64_t cl;
	bool chunked;
	bool te_other;
	bool conn_close;
	bool conn_keep_alive;
	bool conn_upgrade;
	bool upgrade_websocket;
};

static const struct {
	int code;
	const char *reason;
} reasons[] = {
	{ 100, "Continue" },
	{ 101, "Switching Protocols" },
	{ 200, "OK" },
	{ 202, "Accepted" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 426, "Upgrade Required" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
};

static const char *
reason_of(int code)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].reason;
	return "Unknown";
}

void
sim_req_reset(struct sim_req *req)
{
	free(req->target);
	free(req->authorization);
	memset(req, 0, sizeof(*req));
	req->ws_version = -1;
}

static bool
is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Case-insensitive: is [p, p+n) the literal? */
static bool
ieq(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* Does the comma-separated list [v, v+n) hold tok (any case)? */
static bool
list_has(const char *v, size_t n, const char *tok)
{
	const char *end = v + n, *comma, *item;
	size_t len;

	while (v < end) {
		comma = memchr(v, ',', (size_t)(end - v));
		if (comma == NULL)
			comma = end;
		item = v;
		len = (size_t)(comma - v);
		trim(&item, &len);
		if (ieq(item, len, tok))
			return true;
		v = comma + 1;
	}
	return false;
}

/* The last element of a comma-separated list. */
static void
list_last(const char **v, size_t *n)
{
	const char *p = *v + *n;

	while (p > *v && p[-1] != ',')
		p--;
	*n -= (size_t)(p - *v);
	*v = p;
	trim(v, n);
}

static bool
path_is(const char *target, const char *path)
{
	size_t n = strcspn(target, "?");

	return n == strlen(path) && strncmp(target, path, n) == 0;
}

bool
sim_req_path_is(const char *target, const char *path)
{
	return path_is(target, path);
}

/* The decimal value of key in the query string, if there is one. */
static bool
query_u64(const char *target, const char *key, uint64_t *out)
{
	const char *q = strchr(target, '?');
	size_t klen = strlen(key), n;
	char *end;

	if (q == NULL)
		return false;
	for (q++; *q != '\0'; q += n + (q[n] == '&')) {
		n = strcspn(q, "&");
		if (n > klen && strncmp(q, key, klen) == 0 && q[klen] == '=' &&
		    q[klen + 1] >= '0' && q[klen + 1] <= '9') {
			*out = strtoull(q + klen + 1, &end, 10);
			return true;
		}
	}
	return false;
}

static void
put(struct sim_conn *c, const void *p, size_t n)
{
	if (sim_buf_append(&c->out, p, n) == -1)
		c->failed = true;
}

static void
put_head(struct sim_conn *c, int code, const char *ctype, uint64_t length,
	 const char *extra)
{
	const char *conn = "";

	if (!c->keep_alive)
		conn = "Connection: close\r\n";
	else if (c->req.minor == 0)
		conn = "Connection: keep-alive\r\n";
	if (sim_buf_printf(&c->out,
			   "HTTP/1.1 %d %s\r\nX-Node: %s\r\n"
			   "Content-Type: %s\r\nContent-Length: %llu\r\n%s%s"
			   "\r\n",
			   code, reason_of(code), c->sim->name, ctype,
			   (unsigned long long)length, conn,
			   extra != NULL ? extra : "") == -1)
		c->failed = true;
}

static bool
is_head(const struct sim_conn *c)
{
	return strcmp(c->req.method, "HEAD") == 0;
}

static void
answer(struct sim_conn *c, int code, const char *ctype, const char *body,
       const char *extra)
{
	size_t n = strlen(body);

	put_head(c, code, ctype, n, extra);
	if (!is_head(c))
		put(c, body, n);
}

void
sim_req_respond(struct sim_conn *c, int code, const char *ctype,
		const char *body, const char *extra)
{
	answer(c, code, ctype, body, extra);
}

/* Answers a request that cannot go on and closes the connection after it;
 * what else was sent is dropped. Returns -1 for the caller to stop. */
static int
answer_error(struct sim_conn *c, int code)
{
	char body[128];

	c->keep_alive = false;
	snprintf(body, sizeof(body), "%s: %d %s\n", c->sim->name, code,
		 reason_of(code));
	c->req.method[0] = '\0'; /* even a broken HEAD gets the body */
	answer(c, code, "text/plain", body, NULL);
	sim_buf_consume(&c->in, sim_buf_pending(&c->in));
	sim_req_reset(&c->req);
	c->ps = SIM_PS_CLOSE;
	return -1;
}

static long long
epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
answer_health(struct sim_conn *c)
{
	struct sim *sim = c->sim;
	char body[256];

	if (sim->http500) {
		answer(c, 500, "application/json",
		       "{\"error\":\"simulated REST API failure\"}", NULL);
		return;
	}
	snprintf(body, sizeof(body),
		 "{\"state\":\"%s\",\"health-status\":{\"state\":\"OK\","
		 "\"time\":%lld},\"instance-id\":\"%s\"}",
		 sim_state_name(sim->state), epoch_ms(), sim->name);
	answer(c, 200, "application/json", body, NULL);
}

static void
answer_big(struct sim_conn *c)
{
	uint64_t n = 0;

	query_u64(c->req.target, "bytes", &n);
	put_head(c, 200, "application/octet-stream", n, NULL);
	if (is_head(c) || n == 0)
		return;
	c->stream_left = n;
	c->stream_off = 0;
	c->ps = SIM_PS_STREAM;
}

static void
answer_ws(struct sim_conn *c)
{
	char key[64];

	if (c->req.ws_version != 13) {
		answer(c, 426, "text/plain", "WebSocket version 13 only\n",
		       "Sec-WebSocket-Version: 13\r\n");
		return;
	}
	if (sim_ws_accept_key(c->req.ws_key, key, sizeof(key)) == -1) {
		c->keep_alive = false;
		answer(c, 400, "text/plain", "bad Sec-WebSocket-Key\n", NULL);
		return;
	}
	if (sim_buf_printf(&c->out,
			   "HTTP/1.1 101 Switching Protocols\r\nX-Node: %s\r\n"
			   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			   "Sec-WebSocket-Accept: %s\r\n\r\n",
			   c->sim->name, key) == -1)
		c->failed = true;
	c->ps = SIM_PS_WS;
	c->ws_in_message = false;
}

/* Anything else: who answered, and what it was asked. */
static void
answer_echo(struct sim_conn *c)
{
	struct sim_req *req = &c->req;
	char bytes[48] = "";
	size_t n;

	if (req->has_body)
		snprintf(bytes, sizeof(bytes), "body-bytes=%llu\n",
			 (unsigned long long)req->body_bytes);
	n = strlen(c->sim->name) + strlen(req->method) + strlen(req->target) +
	    3 + strlen(bytes);
	put_head(c, 200, "text/plain", n, NULL);
	if (!is_head(c) &&
	    sim_buf_printf(&c->out, "%s %s %s\n%s", c->sim->name, req->method,
			   req->target, bytes) == -1)
		c->failed = true;
}

void
sim_req_answer(struct sim_conn *c)
{
	struct sim *sim = c->sim;
	struct sim_req *req = &c->req;
	bool get = strcmp(req->method, "GET") == 0;
	bool get_or_head = get || is_head(c);
	char body[128];
	uint64_t ms = 0;

	c->keep_alive = req->keep_alive;
	c->ps = SIM_PS_HEAD;
	if (c->cc) {
		sim_cc_answer(c);
	} else if (sim->state == SIM_STARTING) {
		snprintf(body, sizeof(body), "%s is starting\n", sim->name);
		answer(c, 503, "text/plain", body, "Retry-After: 1\r\n");
	} else if (get_or_head &&
		   path_is(req->target, "/vco/api/healthstatus")) {
		answer_health(c);
	} else if (get_or_head &&
		   path_is(req->target, "/vco/api/health/readiness")) {
		if (sim->state == SIM_RUNNING)
			answer(c, 200, "application/json", "{\"ready\":true}",
			       NULL);
		else
			answer(c, 503, "application/json", "{\"ready\":false}",
			       NULL);
	} else if (get_or_head && path_is(req->target, "/slow")) {
		query_u64(req->target, "ms", &ms);
		snprintf(body, sizeof(body), "%s slow %llu ms\n", sim->name,
			 (unsigned long long)ms);
		answer(c, 200, "text/plain", body, NULL);
	} else if (get_or_head && path_is(req->target, "/big")) {
		answer_big(c);
	} else if (get && req->ws_upgrade && path_is(req->target, "/ws")) {
		answer_ws(c);
	} else if (path_is(req->target, "/drop")) {
		/* A node that dies after reading a request, before any byte
		 * of the answer: what a proxy may or may not send again. */
		sim->drops++;
		c->failed = true;
	} else {
		answer_echo(c);
	}
	if (c->ps == SIM_PS_HEAD && !c->keep_alive)
		c->ps = SIM_PS_CLOSE;
	sim_req_reset(req);
}

/* The whole request has been read: answer now, or after the configured
 * delay (and the delay /slow asks for). */
static void
req_complete(struct sim_conn *c)
{
	struct sim_req *req = &c->req;
	uint64_t ms = (uint64_t)c->sim->delay_ms, slow = 0;

	/* "delay" and /slow are the server's, not the Control Center's. */
	if (c->cc)
		ms = 0;
	else if ((strcmp(req->method, "GET") == 0 || is_head(c)) &&
		 path_is(req->target, "/slow") &&
		 query_u64(req->target, "ms", &slow))
		ms += slow < SLOW_MAX_MS ? slow : SLOW_MAX_MS;
	if (ms > 0) {
		c->ps = SIM_PS_WAIT;
		sim_http_delay(c, (long)ms);
		return;
	}
	sim_req_answer(c);
}

static bool
has_bare_cr_lf(const char *p, size_t n)
{
	return memchr(p, '\r', n) != NULL || memchr(p, '\n', n) != NULL ||
	       memchr(p, '\0', n) != NULL;
}

static int
parse_request_line(struct sim_req *req, const char *p, size_t n)
{
	const char *sp1, *sp2, *end = p + n;
	size_t i, tlen;

	sp1 = memchr(p, ' ', n);
	if (sp1 == NULL || sp1 == p || (size_t)(sp1 - p) >= sizeof(req->method))
		return -1;
	for (i = 0; i < (size_t)(sp1 - p); i++)
		if (!is_tchar((unsigned char)p[i]))
			return -1;
	memcpy(req->method, p, (size_t)(sp1 - p));
	req->method[sp1 - p] = '\0';

	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (sp2 == NULL || sp2 == sp1 + 1)
		return -1;
	tlen = (size_t)(sp2 - sp1 - 1);
	for (i = 0; i < tlen; i++)
		if ((unsigned char)sp1[1 + i] <= ' ' ||
		    (unsigned char)sp1[1 + i] == 0x7f)
			return -1;
	if (ieq(sp2 + 1, (size_t)(end - sp2 - 1), "HTTP/1.1") &&
	    strncmp(sp2 + 1, "HTTP/", 5) == 0)
		req->minor = 1;
	else if (ieq(sp2 + 1, (size_t)(end - sp2 - 1), "HTTP/1.0") &&
		 strncmp(sp2 + 1, "HTTP/", 5) == 0)
		req->minor = 0;
	else
		return -1;
	req->target = strndup(sp1 + 1, tlen);
	return req->target == NULL ? -1 : 0;
}

static int
parse_header(struct sim_req *req, struct head_info *h, const char *p, size_t n)
{
	const char *colon, *v;
	size_t i, namelen, vlen;
	uint64_t cl = 0;

	/* obs-fold (a line starting with white space) is refused, as RFC
	 * 9112 5.2 allows, and so is white space before the colon. */
	if (n == 0 || p[0] == ' ' || p[0] == '\t')
		return -1;
	colon = memchr(p, ':', n);
	if (colon == NULL || colon == p)
		return -1;
	namelen = (size_t)(colon - p);
	for (i = 0; i < namelen; i++)
		if (!is_tchar((unsigned char)p[i]))
			return -1;
	v = colon + 1;
	vlen = n - namelen - 1;
	trim(&v, &vlen);

	if (ieq(p, namelen, "Content-Length")) {
		if (vlen == 0 || vlen > 18)
			return -1;
		for (i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				return -1;
			cl = cl * 10 + (uint64_t)(v[i] - '0');
		}
		/* Two different lengths: a smuggling attempt. */
		if (h->cl_seen && h->cl != cl)
			return -1;
		h->cl_seen = true;
		h->cl = cl;
	} else if (ieq(p, namelen, "Transfer-Encoding")) {
		list_last(&v, &vlen);
		if (ieq(v, vlen, "chunked"))
			h->chunked = true;
		else
			h->te_other = true;
	} else if (ieq(p, namelen, "Connection")) {
		h->conn_close |= list_has(v, vlen, "close");
		h->conn_keep_alive |= list_has(v, vlen, "keep-alive");
		h->conn_upgrade |= list_has(v, vlen, "upgrade");
	} else if (ieq(p, namelen, "Upgrade")) {
		h->upgrade_websocket |= list_has(v, vlen, "websocket");
	} else if (ieq(p, namelen, "Expect")) {
		req->expect_continue |= ieq(v, vlen, "100-continue");
	} else if (ieq(p, namelen, "Sec-WebSocket-Key")) {
		if (vlen >= sizeof(req->ws_key))
			return -1;
		memcpy(req->ws_key, v, vlen);
		req->ws_key[vlen] = '\0';
	} else if (ieq(p, namelen, "Sec-WebSocket-Version")) {
		req->ws_version = vlen > 0 && vlen < 4 ? atoi(v) : 0;
	} else if (ieq(p, namelen, "Authorization")) {
		/* Two of them: neither is believed (sim-cc.c refuses ""). */
		if (req->authorization != NULL) {
			req->authorization[0] = '\0';
			return 0;
		}
		req->authorization = strndup(v, vlen);
		if (req->authorization == NULL)
			return -1;
	}
	return 0;
}

/* Reads a request line and headers. Returns 1 when they were consumed, 0
 * when more input is needed, -1 when the request was refused. */
static int
parse_head(struct sim_conn *c)
{
	struct sim_req *req = &c->req;
	struct head_info h = { 0 };
	const char *p, *end, *stop, *cur, *eol;
	size_t n;

	/* RFC 9112 2.2: empty lines before a request line are ignored. */
	while (sim_buf_pending(&c->in) >= 2 &&
	       memcmp(c->in.data + c->in.off, "\r\n", 2) == 0)
		sim_buf_consume(&c->in, 2);
	n = sim_buf_pending(&c->in);
	if (n == 0)
		return 0;
	p = c->in.data + c->in.off;
	end = memmem(p, n, "\r\n\r\n", 4);
	if (end == NULL)
		return n > SIM_HEAD_MAX ? answer_error(c, 431) : 0;
	if ((size_t)(end - p) + 4 > SIM_HEAD_MAX)
		return answer_error(c, 431);

	sim_req_reset(req);
	stop = end + 2; /* every line of [p, stop) ends with CRLF */
	eol = memmem(p, (size_t)(stop - p), "\r\n", 2);
	if (has_bare_cr_lf(p, (size_t)(eol - p)) ||
	    parse_request_line(req, p, (size_t)(eol - p)) == -1)
		return answer_error(c, 400);
	for (cur = eol + 2; cur < stop; cur = eol + 2) {
		eol = memmem(cur, (size_t)(stop - cur), "\r\n", 2);
		if (has_bare_cr_lf(cur, (size_t)(eol - cur)) ||
		    parse_header(req, &h, cur, (size_t)(eol - cur)) == -1)
			return answer_error(c, 400);
	}
	/* A length we cannot determine, or two ways of determining it
	 * (RFC 9112 6.3): refused rather than guessed. */
	if (h.te_other || (h.chunked && h.cl_seen))
		return answer_error(c, 400);
	sim_buf_consume(&c->in, (size_t)(end + 4 - p));

	req->keep_alive = req->minor >= 1 ? !h.conn_close
					  : h.conn_keep_alive && !h.conn_close;
	req->ws_upgrade = h.upgrade_websocket && h.conn_upgrade;
	req->has_body = h.chunked || h.cl > 0;
	if (req->has_body && req->expect_continue && req->minor >= 1)
		put(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	if (h.chunked) {
		c->ps = SIM_PS_CHUNK_SIZE;
	} else if (h.cl > 0) {
		req->body_left = h.cl;
		c->ps = SIM_PS_BODY;
	} else {
		req_complete(c);
	}
	return 1;
}

/* Reads "hex-size [; extensions] CRLF". Returns 1, 0 (more input), -1. */
static int
parse_chunk_size(struct sim_conn *c)
{
	const char *p = c->in.data + c->in.off, *eol;
	size_t n = sim_buf_pending(&c->in), i, len;
	uint64_t size = 0;
	int v;

	if (n == 0)
		return 0;
	eol = memmem(p, n, "\r\n", 2);
	if (eol == NULL)
		return n > CHUNK_LINE_MAX ? answer_error(c, 400) : 0;
	len = (size_t)(eol - p);
	for (i = 0; i < len; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			v = p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			v = p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			v = p[i] - 'A' + 10;
		else
			break;
		if (i >= 15)
			return answer_error(c, 400);
		size = size * 16 + (uint64_t)v;
	}
	if (i == 0 || len > CHUNK_LINE_MAX ||
	    (i < len && p[i] != ';' && p[i] != ' ' && p[i] != '\t') ||
	    has_bare_cr_lf(p, len))
		return answer_error(c, 400);
	sim_buf_consume(&c->in, len + 2);
	c->req.body_left = size;
	c->ps = size == 0 ? SIM_PS_TRAILER : SIM_PS_CHUNK_DATA;
	return 1;
}

/* Reads trailer fields up to the empty line; they count against the same
 * limit as the header block. Returns 1, 0 (more input), -1. */
static int
parse_trailer(struct sim_conn *c)
{
	const char *p = c->in.data + c->in.off, *eol, *colon;
	size_t n = sim_buf_pending(&c->in), len;

	if (n == 0)
		return 0;
	eol = memmem(p, n, "\r\n", 2);
	if (eol == NULL)
		return c->req.trailer_bytes + n > SIM_HEAD_MAX
			   ? answer_error(c, 431)
			   : 0;
	len = (size_t)(eol - p);
	if (len == 0) {
		sim_buf_consume(&c->in, 2);
		req_complete(c);
		return 1;
	}
	c->req.trailer_bytes += len + 2;
	if (c->req.trailer_bytes > SIM_HEAD_MAX)
		return answer_error(c, 431);
	colon = memchr(p, ':', len);
	if (colon == NULL || colon == p || p[0] == ' ' || p[0] == '\t' ||
	    has_bare_cr_lf(p, len))
		return answer_error(c, 400);
	sim_buf_consume(&c->in, len + 2);
	return 1;
}

/* Body bytes are counted and dropped as they come. Returns 1 when the
 * body (or chunk) is complete, 0 when more input is needed. */
static int
take_body(struct sim_conn *c)
{
	size_t n = sim_buf_pending(&c->in);

	if ((uint64_t)n > c->req.body_left)
		n = (size_t)c->req.body_left;
	sim_buf_consume(&c->in, n);
	c->req.body_bytes += n;
	c->req.body_left -= n;
	return c->req.body_left == 0;
}

void
sim_req_process(struct sim_conn *c)
{
	while (!c->failed) {
		switch (c->ps) {
		case SIM_PS_HEAD:
			if (parse_head(c) <= 0)
				return;
			break;
		case SIM_PS_BODY:
			if (!take_body(c))
				return;
			req_complete(c);
			break;
		case SIM_PS_CHUNK_SIZE:
			if (parse_chunk_size(c) <= 0)
				return;
			break;
		case SIM_PS_CHUNK_DATA:
			if (!take_body(c))
				return;
			c->ps = SIM_PS_CHUNK_END;
			break;
		case SIM_PS_CHUNK_END:
			if (sim_buf_pending(&c->in) < 2)
				return;
			if (memcmp(c->in.data + c->in.off, "\r\n", 2) != 0) {
				answer_error(c, 400);
				return;
			}
			sim_buf_consume(&c->in, 2);
			c->ps = SIM_PS_CHUNK_SIZE;
			break;
		case SIM_PS_TRAILER:
			if (parse_trailer(c) <= 0)
				return;
			break;
		case SIM_PS_WS:
			sim_ws_process(c);
			return;
		default:
			return;
		}
	}
}
