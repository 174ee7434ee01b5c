/*
 * fuzz-response.c: libFuzzer target for http_parse_response() and the
 * framing it decides (RFC 9112 section 6.3): what a node answers is read
 * the way the proxy reads it, head after head (1xx before the final
 * answer), each body delimited by content-length, chunked coding or the
 * end of the connection. The framing must follow from the fields and the
 * request method alone, and the same whether the octets come at once or
 * in two writes.
 *
 * Input: octet 0 names the request method (G GET, H HEAD, C CONNECT,
 * P POST, O OPTIONS; any other octet picks one by its value), octet 1
 * where the second write starts (in 256ths of the rest), then the bytes
 * the node sent.
 *
 * FUZZ_SOURCES: proxy/http.c
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http.h"
#include "tests/fuzz/fuzz.h"

/* More answers to one request than any node sends: 1xx, then one. */
#define MAX_ANSWERS 8

static enum http_method
method_of(uint8_t c)
{
	static const enum http_method all[] = {
		HTTP_M_OTHER, HTTP_M_GET,     HTTP_M_HEAD,    HTTP_M_POST,
		HTTP_M_PUT,   HTTP_M_DELETE,  HTTP_M_OPTIONS, HTTP_M_PATCH,
		HTTP_M_TRACE, HTTP_M_CONNECT,
	};

	switch (c) {
	case 'G':
		return HTTP_M_GET;
	case 'H':
		return HTTP_M_HEAD;
	case 'C':
		return HTTP_M_CONNECT;
	case 'P':
		return HTTP_M_POST;
	case 'O':
		return HTTP_M_OPTIONS;
	default:
		return all[c % (sizeof(all) / sizeof(all[0]))];
	}
}

static bool
inside(struct http_str s, const char *buf, size_t len)
{
	if (s.p == NULL)
		return s.len == 0;
	return s.p >= buf && s.len <= len && s.p + s.len <= buf + len;
}

/* How many fields are called name, whatever their case. */
static size_t
count(const struct http_msg *m, const char *name)
{
	size_t n = 0, len = strlen(name);

	for (size_t i = 0; i < m->n_headers; i++) {
		const struct http_str *h = &m->headers[i].name;

		if (h->len != len)
			continue;
		n++;
		for (size_t j = 0; j < len; j++)
			if ((h->p[j] | 0x20) != name[j]) {
				n--;
				break;
			}
	}
	return n;
}

/*
 * What RFC 9112 section 6.3 says of an answer vigil accepted, checked
 * from the fields rather than from the parser's notes.
 */
static void
check_framing(const struct http_msg *m, enum http_method req)
{
	int s = m->status;
	size_t te = count(m, "transfer-encoding");
	size_t cl = count(m, "content-length");
	bool tunnel = req == HTTP_M_CONNECT && s / 100 == 2;

	CHECK(s >= 100 && s <= 599);
	CHECK(m->minor == 0 || m->minor == 1);
	CHECK(m->host.p == NULL && m->host.len == 0);
	CHECK(!m->upgrade || s == 101);
	if (req == HTTP_M_HEAD || s < 200 || s == 204 || s == 304 || tunnel) {
		CHECK(m->framing == HTTP_BODY_NONE && m->content_length == 0);
		if (s == 101 || tunnel)
			CHECK(!m->keep_alive);
		return;
	}
	switch (m->framing) {
	case HTTP_BODY_NONE:
		/* Content-Length: 0, and only that. */
		CHECK(te == 0 && cl > 0 && m->content_length == 0);
		break;
	case HTTP_BODY_LENGTH:
		CHECK(te == 0 && cl > 0 && m->content_length > 0);
		CHECK(m->content_length <= (uint64_t)INT64_MAX);
		break;
	case HTTP_BODY_CHUNKED:
		/* Both would be a request to smuggle: never resolved. */
		CHECK(te > 0 && cl == 0 && m->minor == 1);
		break;
	case HTTP_BODY_CLOSE:
		CHECK(cl == 0 && !m->keep_alive);
		CHECK(te == 0 || m->minor == 1);
		break;
	default:
		CHECK(0);
	}
}

/* One answer's head and body, as the proxy would delimit them. */
struct answer {
	ssize_t r;	 /* the head's length, 0 incomplete, -1 refused */
	int status;	 /* the HTTP status, or the error's (502) */
	const char *why; /* the error's reason */
	enum http_framing framing;
	uint64_t content_length;
	bool keep_alive;
	ssize_t body; /* body octets in the rest, -1 invalid chunking */
	bool body_done;
};

/*
 * Parses the head at buf[0..len) in one call, or in two at `at`: the
 * first write may hold a whole head already.
 */
static struct answer
head(const char *buf, size_t len, size_t at, enum http_method req,
     struct http_msg *m)
{
	struct http_error err = { 0, NULL };
	struct answer a = { 0 };
	const char *src = buf;
	char *prefix = NULL;
	size_t scanned = 0, n = len;

	if (at > 0 && at < len) {
		/* An exact copy, so that ASan sees a read past it. */
		prefix = malloc(at);
		CHECK(prefix != NULL);
		memcpy(prefix, buf, at);
		a.r = http_parse_response(prefix, at, 8192, &scanned, req, m,
					  &err);
		CHECK(scanned <= at);
		if (a.r != 0) {
			src = prefix;
			n = at;
		}
	}
	if (src == buf)
		a.r =
		    http_parse_response(buf, len, 8192, &scanned, req, m, &err);
	CHECK(a.r >= -1 && (a.r == -1 || (size_t)a.r <= n));
	if (a.r == -1) {
		CHECK(err.status == 502 && err.reason != NULL);
		a.status = err.status;
		a.why = err.reason;
	} else if (a.r > 0) {
		CHECK(m->head_len == (size_t)a.r);
		CHECK(m->n_headers <= HTTP_MAX_HEADERS);
		CHECK(inside(m->reason_phrase, src, (size_t)a.r));
		for (size_t i = 0; i < m->n_headers; i++) {
			CHECK(m->headers[i].name.len > 0);
			CHECK(inside(m->headers[i].name, src, (size_t)a.r));
			CHECK(inside(m->headers[i].value, src, (size_t)a.r));
		}
		check_framing(m, req);
		a.status = m->status;
		a.framing = m->framing;
		a.content_length = m->content_length;
		a.keep_alive = m->keep_alive;
	}
	free(prefix);
	return a;
}

/* Delimits the body that follows a head in buf[0..len), split at `at`. */
static void
body(struct answer *a, const char *buf, size_t len, size_t at)
{
	struct http_chunked c = { 0 };
	struct http_error err;
	ssize_t r1, r2 = 0;
	bool done = false;

	switch (a->framing) {
	case HTTP_BODY_NONE:
		a->body = 0;
		a->body_done = true;
		break;
	case HTTP_BODY_LENGTH:
		a->body = (ssize_t)(len < a->content_length
					? len
					: (size_t)a->content_length);
		a->body_done = (uint64_t)a->body == a->content_length;
		break;
	case HTTP_BODY_CLOSE:
		/* Everything until the node closes: nothing can follow. */
		a->body = (ssize_t)len;
		a->body_done = false;
		break;
	case HTTP_BODY_CHUNKED:
		if (at > len)
			at = len;
		r1 = http_chunked_scan(&c, buf, at, &done, &err);
		CHECK(r1 >= -1 && (r1 == -1 || (size_t)r1 <= at));
		if (r1 != -1 && !done) {
			CHECK((size_t)r1 == at);
			r2 = http_chunked_scan(&c, buf + at, len - at, &done,
					       &err);
			CHECK(r2 >= -1 && (r2 == -1 || (size_t)r2 <= len - at));
		}
		if (r1 == -1 || r2 == -1)
			CHECK(err.status == 400 && err.reason != NULL);
		a->body = r1 == -1 || r2 == -1 ? -1 : r1 + r2;
		a->body_done = a->body != -1 && done;
		break;
	}
}

/*
 * Reads the answers in buf as the proxy does: a 1xx (but 101) is
 * followed by another answer to the same request; anything else ends
 * the exchange. Fills as[] and returns how many were read.
 */
static size_t
answers(const char *buf, size_t len, size_t split, enum http_method req,
	struct answer *as)
{
	static struct http_msg m;
	size_t off = 0, n = 0;

	while (n < MAX_ANSWERS) {
		struct answer *a = &as[n++];
		size_t at = split > off ? split - off : 0;

		*a = head(buf + off, len - off, at, req, &m);
		if (a->r <= 0)
			break;
		off += (size_t)a->r;
		body(a, buf + off, len - off, split > off ? split - off : 0);
		if (a->body <= 0 && !a->body_done)
			break;
		if (a->body > 0)
			off += (size_t)a->body;
		if (!a->body_done || a->status >= 200 || a->status == 101)
			break;
		CHECK(a->framing == HTTP_BODY_NONE && a->body == 0);
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct answer whole[MAX_ANSWERS], part[MAX_ANSWERS];
	enum http_method req;
	const char *buf;
	size_t len, at, n;

	if (size < 2)
		return 0;
	req = method_of(data[0]);
	buf = (const char *)data + 2;
	len = size - 2;
	at = len * data[1] / 256;

	n = answers(buf, len, 0, req, whole);
	CHECK(answers(buf, len, at, req, part) == n);
	for (size_t i = 0; i < n; i++) {
		CHECK(part[i].r == whole[i].r);
		CHECK(part[i].status == whole[i].status);
		CHECK(part[i].why == whole[i].why);
		if (whole[i].r <= 0)
			continue;
		CHECK(part[i].framing == whole[i].framing);
		CHECK(part[i].content_length == whole[i].content_length);
		CHECK(part[i].keep_alive == whole[i].keep_alive);
		CHECK(part[i].body == whole[i].body);
		CHECK(part[i].body_done == whole[i].body_done);
	}
	return 0;
}
