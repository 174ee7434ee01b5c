/*
 * http.c: HTTP/1.1 heads and chunked bodies (RFC 9112), parsed in place
 * and refused at the first ambiguity, so that what vigil forwards is
 * framed exactly as vigil understood it and no request can be smuggled.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "proxy/http.h"

/* Empty lines ignored before a request line (RFC 9112 section 2.2). */
#define HTTP_MAX_EMPTY_LINES 4
/* A chunk-size line with its extensions, and all trailers of a body. */
#define HTTP_CHUNK_LINE_MAX 4096
#define HTTP_TRAILERS_MAX   (32 * 1024)
/* More hex digits could not fit the 64-bit chunk size. */
#define HTTP_CHUNK_DIGITS_MAX 16

enum {
	CC_TCHAR = 0x01,  /* token (RFC 9110 section 5.6.2) */
	CC_FVALUE = 0x02, /* field-value octet: VCHAR, obs-text, SP, HTAB */
	CC_TARGET = 0x04, /* request-target octet: VCHAR only */
	CC_HEX = 0x08,
	CC_DIGIT = 0x10,
	CC_HOST = 0x20,	  /* reg-name octet we accept: ALPHA DIGIT - . _ ~ */
	CC_QDTEXT = 0x40, /* quoted-string text (RFC 9110 section 5.6.4) */
};

/*
 * One lookup per octet. NUL, CR and LF belong to no class, so every scan
 * of a run stops at the end of its line at the latest: a complete head
 * ends with CRLF CRLF, which keeps all head scans inside the buffer.
 */
// clang-format off
static const unsigned char cc[256] = {
	/* 0x00 */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* 0x08 */ 0x00, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* 0x10 */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* 0x18 */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* 0x20 */ 0x42, 0x47, 0x06, 0x47, 0x47, 0x47, 0x47, 0x47,
	/* 0x28 */ 0x46, 0x46, 0x47, 0x47, 0x46, 0x67, 0x67, 0x46,
	/* 0x30 */ 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f,
	/* 0x38 */ 0x7f, 0x7f, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46,
	/* 0x40 */ 0x46, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x67,
	/* 0x48 */ 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67,
	/* 0x50 */ 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67,
	/* 0x58 */ 0x67, 0x67, 0x67, 0x46, 0x06, 0x46, 0x47, 0x67,
	/* 0x60 */ 0x47, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x67,
	/* 0x68 */ 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67,
	/* 0x70 */ 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67,
	/* 0x78 */ 0x67, 0x67, 0x67, 0x46, 0x47, 0x46, 0x67, 0x00,
	/* 0x80 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0x88 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0x90 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0x98 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xa0 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xa8 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xb0 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xb8 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xc0 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xc8 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xd0 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xd8 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xe0 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xe8 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xf0 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xf8 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
};
// clang-format on

#define IS(c, cls) (cc[(unsigned char)(c)] & (cls))

/* The state of one head's parse; the message is filled as it goes. */
struct head {
	const char *p;	 /* next octet to parse */
	const char *end; /* one past the LF of the final empty line */
	struct http_msg *m;
	struct http_error *err;
	unsigned hosts;
	const char *cl_error; /* first Content-Length problem, if any */
	const char *te_error; /* first Transfer-Encoding problem, if any */
	bool cl_seen;
	bool te_seen;
	bool te_last_chunked;
	bool te_other; /* a coding other than chunked */
	unsigned te_chunked;
	bool conn_close;
	bool conn_keep_alive;
	bool conn_upgrade;
	bool upgrade_seen;
	bool expect_continue;
};

/* Iterates over a comma-separated list (RFC 9110 section 5.6.1). */
struct list_iter {
	const char *p;
	const char *end;
	bool done;
};

static const struct {
	const char *name;
	size_t len;
	enum http_method method;
} methods[] = {
	{ "GET", 3, HTTP_M_GET },	  { "HEAD", 4, HTTP_M_HEAD },
	{ "POST", 4, HTTP_M_POST },	  { "PUT", 3, HTTP_M_PUT },
	{ "DELETE", 6, HTTP_M_DELETE },	  { "OPTIONS", 7, HTTP_M_OPTIONS },
	{ "PATCH", 5, HTTP_M_PATCH },	  { "TRACE", 5, HTTP_M_TRACE },
	{ "CONNECT", 7, HTTP_M_CONNECT },
};

/* Fills err and returns -1, so that `return fail(...)` is one step. */
static int
fail(struct http_error *err, int status, const char *reason)
{
	err->status = status;
	err->reason = reason;
	return -1;
}

/*
 * Names the octet that stopped a scan of the head when it is one of the
 * classic smuggling octets. A CR inside a complete head is never its
 * last octet, so p[1] can be read.
 */
static const char *
why(const char *p, const char *otherwise)
{
	if (*p == '\0')
		return "NUL byte";
	if (*p == '\r' && p[1] != '\n')
		return "bare CR";
	return otherwise;
}

/* ASCII-only case-insensitive comparison: the locale must not matter. */
static bool
caseeq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

static bool
str_is(const struct http_str *s, const char *lit, size_t n)
{
	return s->len == n && caseeq(s->p, lit, n);
}

#define STR_IS(s, lit) str_is((s), (lit), sizeof(lit) - 1)

#define IS_OWS(c) ((c) == ' ' || (c) == '\t')

/* The next element, OWS removed; empty elements are returned too. */
static bool
list_next(struct list_iter *it, struct http_str *e)
{
	const char *s = it->p, *t;

	if (it->done)
		return false;
	t = memchr(s, ',', (size_t)(it->end - s));
	if (t == NULL) {
		t = it->end;
		it->done = true;
	} else {
		it->p = t + 1;
	}
	while (s < t && IS_OWS(*s))
		s++;
	while (t > s && IS_OWS(t[-1]))
		t--;
	e->p = s;
	e->len = (size_t)(t - s);
	return true;
}

static bool
all_tchar(const struct http_str *s)
{
	for (size_t i = 0; i < s->len; i++)
		if (!IS(s->p[i], CC_TCHAR))
			return false;
	return s->len > 0;
}

/*
 * Splits an authority "host[:port]" (RFC 3986 section 3.2): an
 * IP-literal in brackets or a reg-name of ALPHA DIGIT - . _ ~ only
 * (sub-delims, pct-encoding and userinfo are refused: no real host needs
 * them and backends read them differently), and a port of 1 to 5 digits
 * up to 65535. *port is -1 when absent.
 */
static bool
authority_parse(const char *p, size_t n, struct http_str *host, int *port)
{
	const char *end = p + n, *q = p;
	long v = 0;

	if (n == 0)
		return false;
	if (*q == '[') {
		for (q++; q < end && (IS(*q, CC_HEX) || *q == ':' || *q == '.');
		     q++)
			;
		if (q == end || *q != ']' || q == p + 1)
			return false;
		q++;
	} else {
		for (; q < end && IS(*q, CC_HOST); q++)
			;
		if (q == p)
			return false;
	}
	host->p = p;
	host->len = (size_t)(q - p);
	*port = -1;
	if (q == end)
		return true;
	if (*q++ != ':' || q == end || end - q > 5)
		return false;
	for (; q < end; q++) {
		if (!IS(*q, CC_DIGIT))
			return false;
		v = v * 10 + (*q - '0');
	}
	if (v > 65535)
		return false;
	*port = (int)v;
	return true;
}

/* "HTTP/1.0" or "HTTP/1.1": 0; another version: -2; garbage: -1. */
static int
parse_version(const char *p, size_t n, int *minor)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || !IS(p[5], CC_DIGIT) ||
	    p[6] != '.' || !IS(p[7], CC_DIGIT))
		return -1;
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return -2;
	*minor = p[7] - '0';
	return 0;
}

/*
 * Finds the empty line that ends a head starting at buf[start], resuming
 * the search at *scanned. Every LF met must end a CRLF: a bare LF is
 * refused as soon as it arrives rather than when the head completes.
 * Returns the head's length, 0 when it has not ended yet, or -1.
 */
static ssize_t
head_end(const char *buf, size_t len, size_t start, size_t max_head,
	 size_t *scanned, struct http_error *err)
{
	size_t pos = *scanned > start ? *scanned : start;
	size_t lim = len < max_head ? len : max_head;
	const char *lf;

	while (pos < lim && (lf = memchr(buf + pos, '\n', lim - pos)) != NULL) {
		size_t i = (size_t)(lf - buf);

		if (i == start || buf[i - 1] != '\r')
			return fail(err, 400, "bare LF");
		/* That earlier LF was checked to end a CRLF as well. */
		if (i >= start + 3 && buf[i - 2] == '\n')
			return (ssize_t)(i + 1);
		pos = i + 1;
	}
	if (lim > *scanned)
		*scanned = lim;
	/* Incomplete after max_head octets: it can only grow longer. */
	if (len >= max_head)
		return fail(err, 431, "head too large");
	return 0;
}

static void
head_init(struct head *h, const char *p, const char *end, struct http_msg *m,
	  struct http_error *err)
{
	memset(h, 0, sizeof(*h));
	h->p = p;
	h->end = end;
	h->m = m;
	h->err = err;
	/* Every field but the 3 KiB headers array, which is not read. */
	memset(m, 0, offsetof(struct http_msg, headers));
	memset(&m->n_headers, 0,
	       sizeof(*m) - offsetof(struct http_msg, n_headers));
}

static int
parse_request_line(struct head *h)
{
	struct http_msg *m = h->m;
	const char *p = h->p, *q, *cr;
	int r;

	for (q = p; IS(*q, CC_TCHAR); q++)
		;
	if (q == p || *q != ' ')
		return fail(h->err, 400, why(q, "invalid method"));
	m->method_str = (struct http_str){ p, (size_t)(q - p) };
	m->method = HTTP_M_OTHER;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].len == m->method_str.len &&
		    memcmp(methods[i].name, p, methods[i].len) == 0)
			m->method = methods[i].method;

	for (p = ++q; IS(*q, CC_TARGET); q++)
		;
	if (q > p && q[0] == '\r' && q[1] == '\n')
		return fail(h->err, 400, "missing HTTP version");
	if (q == p || *q != ' ')
		return fail(h->err, 400, why(q, "invalid request-target"));
	m->target = (struct http_str){ p, (size_t)(q - p) };

	p = q + 1;
	cr = memchr(p, '\r', (size_t)(h->end - p));
	r = parse_version(p, (size_t)(cr - p), &m->minor);
	if (r == -2)
		return fail(h->err, 505, "HTTP version not supported");
	if (r == -1)
		return fail(h->err, 400, "invalid HTTP version");
	if (cr[1] != '\n')
		return fail(h->err, 400, "bare CR");
	h->p = cr + 2;
	return 0;
}

/* Lenient on the reason phrase only: "HTTP/1.1 200" is accepted. */
static int
parse_status_line(struct head *h)
{
	struct http_msg *m = h->m;
	const char *p = h->p, *q, *cr;
	size_t n;

	cr = memchr(p, '\r', (size_t)(h->end - p));
	n = (size_t)(cr - p);
	if (n < 12 || parse_version(p, 8, &m->minor) != 0 || p[8] != ' ' ||
	    !IS(p[9], CC_DIGIT) || !IS(p[10], CC_DIGIT) ||
	    !IS(p[11], CC_DIGIT) || (n > 12 && p[12] != ' '))
		return fail(h->err, 502, "invalid status line");
	m->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	/* RFC 9110 section 15: codes outside 100..599 are invalid. */
	if (m->status < 100 || m->status > 599)
		return fail(h->err, 502, "invalid status code");
	p += n > 12 ? 13 : 12;
	for (q = p; q < cr && IS(*q, CC_FVALUE); q++)
		;
	if (q != cr)
		return fail(h->err, 502, "invalid reason phrase");
	if (cr[1] != '\n')
		return fail(h->err, 502, "bare CR");
	m->reason_phrase = (struct http_str){ p, (size_t)(q - p) };
	h->p = cr + 2;
	return 0;
}

/* A list of identical 1*DIGIT values (RFC 9110 section 8.6). */
static void
content_length(struct head *h, const struct http_str *v)
{
	struct list_iter it = { v->p, v->p + v->len, false };
	struct http_str e;

	while (list_next(&it, &e)) {
		uint64_t n = 0;

		if (e.len == 0 && h->cl_error == NULL)
			h->cl_error = "invalid Content-Length";
		for (size_t i = 0; i < e.len; i++) {
			unsigned d = (unsigned char)e.p[i] - '0';

			if (d > 9 || n > ((uint64_t)INT64_MAX - d) / 10) {
				if (h->cl_error == NULL)
					h->cl_error = "invalid Content-Length";
				break;
			}
			n = n * 10 + d;
		}
		if (h->cl_seen && n != h->m->content_length &&
		    h->cl_error == NULL)
			h->cl_error = "conflicting Content-Length";
		h->cl_seen = true;
		h->m->content_length = n;
	}
}

/*
 * Records the codings in their order, over every Transfer-Encoding
 * field. Elements must be bare tokens: empty elements and parameters are
 * refused because recipients disagree on them (TE.TE smuggling).
 */
static void
transfer_encoding(struct head *h, const struct http_str *v)
{
	struct list_iter it = { v->p, v->p + v->len, false };
	struct http_str e;

	h->te_seen = true;
	while (list_next(&it, &e)) {
		if (!all_tchar(&e)) {
			if (h->te_error == NULL)
				h->te_error = "invalid Transfer-Encoding";
			continue;
		}
		h->te_last_chunked = STR_IS(&e, "chunked");
		if (h->te_last_chunked)
			h->te_chunked++;
		else
			h->te_other = true;
	}
}

static void
connection(struct head *h, const struct http_str *v)
{
	struct list_iter it = { v->p, v->p + v->len, false };
	struct http_str e;

	while (list_next(&it, &e)) {
		if (STR_IS(&e, "close"))
			h->conn_close = true;
		else if (STR_IS(&e, "keep-alive"))
			h->conn_keep_alive = true;
		else if (STR_IS(&e, "upgrade"))
			h->conn_upgrade = true;
	}
}

/* Notes what the fields that frame and route a message say. */
static void
interpret(struct head *h, const struct http_header *hd)
{
	const struct http_str *n = &hd->name, *v = &hd->value;

	if (STR_IS(n, "host")) {
		if (h->hosts++ == 0)
			h->m->host = *v;
	} else if (STR_IS(n, "content-length")) {
		content_length(h, v);
	} else if (STR_IS(n, "transfer-encoding")) {
		transfer_encoding(h, v);
	} else if (STR_IS(n, "connection")) {
		connection(h, v);
	} else if (STR_IS(n, "upgrade")) {
		h->upgrade_seen = true;
	} else if (STR_IS(n, "expect")) {
		if (STR_IS(v, "100-continue"))
			h->expect_continue = true;
	}
}

/* Header lines up to the empty line; statuses are those of requests. */
static int
parse_fields(struct head *h)
{
	struct http_msg *m = h->m;
	const char *p = h->p, *q, *ne, *v, *ve;

	while (!(p[0] == '\r' && p[1] == '\n')) {
		struct http_header *hd;

		/* RFC 9112 section 5.2: a proxy refuses obs-fold. */
		if (IS_OWS(*p))
			return fail(h->err, 400, "obs-fold line folding");
		for (q = p; IS(*q, CC_TCHAR); q++)
			;
		if (q == p || *q != ':')
			return fail(h->err, 400,
				    q > p && IS_OWS(*q)
					? "whitespace before colon"
					: why(q, "invalid header name"));
		ne = q;
		for (v = q + 1; IS_OWS(*v); v++)
			;
		for (q = v; IS(*q, CC_FVALUE); q++)
			;
		if (q[0] != '\r' || q[1] != '\n')
			return fail(h->err, 400,
				    why(q, "invalid header value"));
		for (ve = q; ve > v && IS_OWS(ve[-1]); ve--)
			;
		if (m->n_headers == HTTP_MAX_HEADERS)
			return fail(h->err, 431, "too many headers");
		hd = &m->headers[m->n_headers++];
		hd->name = (struct http_str){ p, (size_t)(ne - p) };
		hd->value = (struct http_str){ v, (size_t)(ve - v) };
		interpret(h, hd);
		p = q + 2;
	}
	h->p = p + 2;
	return 0;
}

/*
 * The request-target's form must suit the method (RFC 9112 section 3.2);
 * an absolute-form must name the same authority as Host, or the proxy
 * and the backend would route it differently. host and port are the
 * parsed Host field (port -1 when absent), host->p NULL without Host.
 */
static int
check_target(struct head *h, const struct http_str *host, int port)
{
	struct http_msg *m = h->m;
	const char *t = m->target.p, *tend = t + m->target.len, *a, *ae;
	struct http_str ah;
	int aport, dport;

	if (memchr(t, '#', m->target.len) != NULL)
		return fail(h->err, 400, "fragment in request-target");
	if (m->method == HTTP_M_CONNECT) {
		/* authority-form, port included (RFC 9110 section 9.3.6) */
		if (!authority_parse(t, m->target.len, &ah, &aport) ||
		    aport == -1)
			return fail(h->err, 400, "CONNECT needs host:port");
		m->path = (struct http_str){ t, 0 };
		return 0;
	}
	if (*t == '/') {
		m->path = m->target;
		return 0;
	}
	if (m->target.len == 1 && *t == '*') {
		if (m->method != HTTP_M_OPTIONS)
			return fail(h->err, 400,
				    "asterisk-form without OPTIONS");
		m->path = m->target;
		return 0;
	}
	if (m->target.len > 7 && caseeq(t, "http://", 7)) {
		a = t + 7;
		dport = 80;
	} else if (m->target.len > 8 && caseeq(t, "https://", 8)) {
		a = t + 8;
		dport = 443;
	} else {
		return fail(h->err, 400, "invalid request-target");
	}
	for (ae = a; ae < tend && *ae != '/' && *ae != '?'; ae++)
		;
	if (!authority_parse(a, (size_t)(ae - a), &ah, &aport))
		return fail(h->err, 400, "invalid authority in request-target");
	/* The path must stand alone as an origin-form. */
	if (ae < tend && *ae == '?')
		return fail(h->err, 400, "absolute-form without a path");
	if (ae < tend)
		m->path = (struct http_str){ ae, (size_t)(tend - ae) };
	else
		m->path = (struct http_str){ "/", 1 };
	if (host->p == NULL) {
		m->host = (struct http_str){ a, (size_t)(ae - a) };
		return 0;
	}
	if (ah.len != host->len || !caseeq(ah.p, host->p, ah.len) ||
	    (aport == -1 ? dport : aport) != (port == -1 ? dport : port))
		return fail(h->err, 400, "request-target and Host differ");
	return 0;
}

/* RFC 9112 section 6.3 for requests, refusing every ambiguous framing. */
static int
request_semantics(struct head *h)
{
	struct http_msg *m = h->m;
	struct http_str host = { NULL, 0 };
	int port = -1;

	if (h->hosts > 1)
		return fail(h->err, 400, "duplicate Host");
	if (h->hosts == 0 && m->minor == 1)
		return fail(h->err, 400, "missing Host");
	if (h->hosts == 1 &&
	    !authority_parse(m->host.p, m->host.len, &host, &port))
		return fail(h->err, 400, "invalid Host");
	if (check_target(h, &host, port) == -1)
		return -1;

	if (h->te_seen) {
		if (h->te_error != NULL)
			return fail(h->err, 400, h->te_error);
		if (m->minor == 0)
			return fail(h->err, 400,
				    "Transfer-Encoding in HTTP/1.0");
		if (h->cl_seen)
			return fail(h->err, 400,
				    "Transfer-Encoding with Content-Length");
		if (!h->te_last_chunked)
			return fail(h->err, 400,
				    "chunked is not the last coding");
		if (h->te_chunked > 1)
			return fail(h->err, 400, "chunked more than once");
		if (h->te_other)
			return fail(h->err, 501,
				    "transfer-coding not implemented");
		m->framing = HTTP_BODY_CHUNKED;
	} else if (h->cl_seen) {
		if (h->cl_error != NULL)
			return fail(h->err, 400, h->cl_error);
		m->framing =
		    m->content_length > 0 ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	}
	m->keep_alive = !h->conn_close && (m->minor == 1 || h->conn_keep_alive);
	/* RFC 9110 sections 7.8 and 10.1.1: ignored in HTTP/1.0. */
	m->upgrade = m->minor == 1 && h->conn_upgrade && h->upgrade_seen;
	m->expect_continue = m->minor == 1 && h->expect_continue;
	return 0;
}

/*
 * RFC 9112 section 6.3 for responses. Transfer-Encoding with
 * Content-Length is refused rather than resolved for chunked: a backend
 * sending both is broken or attacked, and a 502 is the safe answer.
 */
static int
response_semantics(struct head *h, enum http_method req)
{
	struct http_msg *m = h->m;
	int s = m->status;
	bool tunnel = req == HTTP_M_CONNECT && s / 100 == 2;

	m->keep_alive = !h->conn_close && (m->minor == 1 || h->conn_keep_alive);
	m->host = (struct http_str){ NULL, 0 };
	if (req == HTTP_M_HEAD || s < 200 || s == 204 || s == 304 || tunnel) {
		/* Whatever the fields say, no body follows. */
		m->framing = HTTP_BODY_NONE;
		m->content_length = 0;
		/* The connection stops speaking HTTP after these. */
		if (s == 101 || tunnel)
			m->keep_alive = false;
	} else if (h->te_seen) {
		if (h->te_error != NULL)
			return fail(h->err, 502, h->te_error);
		if (m->minor == 0)
			return fail(h->err, 502,
				    "Transfer-Encoding in HTTP/1.0");
		if (h->cl_seen)
			return fail(h->err, 502,
				    "Transfer-Encoding with Content-Length");
		if (h->te_chunked > 1)
			return fail(h->err, 502, "chunked more than once");
		if (h->te_last_chunked) {
			m->framing = HTTP_BODY_CHUNKED;
		} else {
			m->framing = HTTP_BODY_CLOSE;
			m->keep_alive = false;
		}
	} else if (h->cl_seen) {
		if (h->cl_error != NULL)
			return fail(h->err, 502, h->cl_error);
		m->framing =
		    m->content_length > 0 ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	} else {
		m->framing = HTTP_BODY_CLOSE;
		m->keep_alive = false;
	}
	m->upgrade = s == 101 && h->upgrade_seen;
	return 0;
}

ssize_t
http_parse_request(const char *buf, size_t len, size_t max_head,
		   size_t *scanned, struct http_msg *m, struct http_error *err)
{
	struct head h;
	size_t start = 0;
	ssize_t n;
	int empty = 0;

	/* RFC 9112 section 2.2: CRLFs left over after a previous body. */
	while (start + 1 < len && buf[start] == '\r' &&
	       buf[start + 1] == '\n') {
		if (++empty > HTTP_MAX_EMPTY_LINES)
			return fail(err, 400, "too many empty lines");
		start += 2;
	}
	if (start + 1 == len && buf[start] == '\r')
		return 0;
	n = head_end(buf, len, start, max_head, scanned, err);
	if (n <= 0)
		return n;
	head_init(&h, buf + start, buf + n, m, err);
	if (parse_request_line(&h) == -1 || parse_fields(&h) == -1 ||
	    request_semantics(&h) == -1)
		return -1;
	m->head_len = (size_t)n;
	return n;
}

ssize_t
http_parse_response(const char *buf, size_t len, size_t max_head,
		    size_t *scanned, enum http_method req_method,
		    struct http_msg *m, struct http_error *err)
{
	struct head h;
	ssize_t n;

	n = head_end(buf, len, 0, max_head, scanned, err);
	if (n > 0) {
		head_init(&h, buf, buf + n, m, err);
		if (parse_status_line(&h) == 0 && parse_fields(&h) == 0 &&
		    response_semantics(&h, req_method) == 0) {
			m->head_len = (size_t)n;
			return n;
		}
		n = -1;
	}
	/* Whatever is wrong with an answer, the client gets a 502. */
	if (n == -1)
		err->status = 502;
	return n;
}

const struct http_header *
http_header_find(const struct http_msg *m, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < m->n_headers; i++)
		if (str_is(&m->headers[i].name, name, len))
			return &m->headers[i];
	return NULL;
}

bool
http_method_idempotent(enum http_method m)
{
	switch (m) {
	case HTTP_M_GET:
	case HTTP_M_HEAD:
	case HTTP_M_OPTIONS:
	case HTTP_M_PUT:
	case HTTP_M_DELETE:
	case HTTP_M_TRACE:
		return true;
	default:
		return false;
	}
}

/*
 * Chunked coding (RFC 9112 section 7.1), one state per position in the
 * grammar so that any split of the input gives the same answer. A zeroed
 * struct http_chunked starts at CK_SIZE.
 */
enum chunk_state {
	CK_SIZE = 0,	 /* first hex digit of a chunk-size */
	CK_SIZE_MORE,	 /* more digits, then BWS, ";" or CR */
	CK_EXT_BWS,	 /* BWS that only ";" may follow */
	CK_EXT_NAME0,	 /* BWS, then an extension name */
	CK_EXT_NAME,	 /* the name, then BWS, "=", ";" or CR */
	CK_EXT_NAME_BWS, /* BWS after a name: "=" or ";" */
	CK_EXT_VAL0,	 /* BWS, then a token or a quoted-string */
	CK_EXT_TOKEN,	 /* a token value, then BWS, ";" or CR */
	CK_EXT_QUOTED,	 /* inside a quoted-string value */
	CK_EXT_QPAIR,	 /* after a backslash in it */
	CK_EXT_END,	 /* after the closing quote: BWS, ";" or CR */
	CK_SIZE_LF,	 /* LF ending the size line */
	CK_DATA,	 /* remaining octets of chunk-data */
	CK_DATA_CR,	 /* the CRLF after chunk-data */
	CK_DATA_LF,
	CK_TRAILER, /* a trailer field's first octet, or the final CR */
	CK_TR_NAME,
	CK_TR_VALUE,
	CK_TR_LF,
	CK_END_LF, /* LF of the final CRLF */
	CK_DONE,
};

static const char *
chunk_error(int state)
{
	if (state <= CK_SIZE_MORE)
		return "invalid chunk size";
	if (state < CK_SIZE_LF)
		return "invalid chunk extension";
	if (state == CK_SIZE_LF)
		return "bare CR in chunk size line";
	if (state < CK_TRAILER)
		return "chunk data not followed by CRLF";
	if (state < CK_TR_LF)
		return "invalid trailer field";
	return "bare CR in trailers";
}

/* After a size or an extension: ";", BWS before ";", or the CR. */
static int
after_size(unsigned char ch)
{
	if (ch == ';')
		return CK_EXT_NAME0;
	if (IS_OWS(ch))
		return CK_EXT_BWS;
	return ch == '\r' ? CK_SIZE_LF : -1;
}

static unsigned
hex_value(unsigned char ch)
{
	return ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10;
}

/* The state after octet ch, or -1 when ch cannot come there. */
static int
chunk_step(struct http_chunked *c, unsigned char ch)
{
	bool ws = IS_OWS(ch);

	switch (c->state) {
	case CK_SIZE:
		if (!IS(ch, CC_HEX))
			return -1;
		c->remaining = hex_value(ch);
		return CK_SIZE_MORE;
	case CK_SIZE_MORE:
		if (!IS(ch, CC_HEX))
			return after_size(ch);
		/* line_len counts the digits so far. */
		if (c->line_len >= HTTP_CHUNK_DIGITS_MAX)
			return -1;
		c->remaining = c->remaining << 4 | hex_value(ch);
		return CK_SIZE_MORE;
	case CK_EXT_BWS:
		return ws ? CK_EXT_BWS : ch == ';' ? CK_EXT_NAME0 : -1;
	case CK_EXT_NAME0:
		return ws ? CK_EXT_NAME0 : IS(ch, CC_TCHAR) ? CK_EXT_NAME : -1;
	case CK_EXT_NAME:
		if (IS(ch, CC_TCHAR))
			return CK_EXT_NAME;
		if (ch == '=')
			return CK_EXT_VAL0;
		return ws ? CK_EXT_NAME_BWS : after_size(ch);
	case CK_EXT_NAME_BWS:
		if (ws)
			return CK_EXT_NAME_BWS;
		if (ch == '=')
			return CK_EXT_VAL0;
		return ch == ';' ? CK_EXT_NAME0 : -1;
	case CK_EXT_VAL0:
		if (ws)
			return CK_EXT_VAL0;
		if (ch == '"')
			return CK_EXT_QUOTED;
		return IS(ch, CC_TCHAR) ? CK_EXT_TOKEN : -1;
	case CK_EXT_TOKEN:
		return IS(ch, CC_TCHAR) ? CK_EXT_TOKEN : after_size(ch);
	case CK_EXT_QUOTED:
		if (ch == '"')
			return CK_EXT_END;
		if (ch == '\\')
			return CK_EXT_QPAIR;
		return IS(ch, CC_QDTEXT) ? CK_EXT_QUOTED : -1;
	case CK_EXT_QPAIR:
		return IS(ch, CC_FVALUE) ? CK_EXT_QUOTED : -1;
	case CK_EXT_END:
		return after_size(ch);
	case CK_SIZE_LF:
		if (ch != '\n')
			return -1;
		return c->remaining > 0 ? CK_DATA : CK_TRAILER;
	case CK_DATA_CR:
		return ch == '\r' ? CK_DATA_LF : -1;
	case CK_DATA_LF:
		return ch == '\n' ? CK_SIZE : -1;
	case CK_TRAILER:
		/* SP or HTAB here would be obs-fold: refused. */
		if (ch == '\r')
			return CK_END_LF;
		return IS(ch, CC_TCHAR) ? CK_TR_NAME : -1;
	case CK_TR_NAME:
		if (IS(ch, CC_TCHAR))
			return CK_TR_NAME;
		return ch == ':' ? CK_TR_VALUE : -1;
	case CK_TR_VALUE:
		if (IS(ch, CC_FVALUE))
			return CK_TR_VALUE;
		return ch == '\r' ? CK_TR_LF : -1;
	case CK_TR_LF:
		return ch == '\n' ? CK_TRAILER : -1;
	case CK_END_LF:
		return ch == '\n' ? CK_DONE : -1;
	default:
		return -1;
	}
}

ssize_t
http_chunked_scan(struct http_chunked *c, const char *buf, size_t len,
		  bool *done, struct http_error *err)
{
	size_t i = 0;

	*done = false;
	if (c->state < CK_SIZE || c->state > CK_DONE)
		return fail(err, 400, "invalid chunked state");
	while (i < len && c->state != CK_DONE) {
		unsigned char ch = (unsigned char)buf[i];
		int next;

		if (c->state == CK_DATA) {
			size_t n = len - i;

			if (n > c->remaining)
				n = (size_t)c->remaining;
			i += n;
			c->remaining -= n;
			if (c->remaining == 0)
				c->state = CK_DATA_CR;
			continue;
		}
		next = chunk_step(c, ch);
		if (next == -1)
			return fail(err, 400,
				    c->state == CK_SIZE_MORE && IS(ch, CC_HEX)
					? "chunk size too large"
					: chunk_error(c->state));
		if (c->state < CK_SIZE_LF && next != CK_SIZE_LF &&
		    ++c->line_len > HTTP_CHUNK_LINE_MAX)
			return fail(err, 400, "chunk size line too long");
		if (c->state >= CK_TRAILER &&
		    ++c->trailer_bytes > HTTP_TRAILERS_MAX)
			return fail(err, 400, "trailer section too large");
		if (next == CK_SIZE)
			c->line_len = 0;
		c->state = next;
		i++;
	}
	*done = c->state == CK_DONE;
	return (ssize_t)i;
}

const char *
http_status_reason(int code)
{
	switch (code) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 414:
		return "URI Too Long";
	case 422:
		return "Unprocessable Content";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Error";
}
