/*
 * fuzz-http.c: libFuzzer target for proxy/http.c. Heads and chunked
 * bodies must never be read out of bounds, and must get the same answer
 * whether their octets arrive in one write or in two.
 *
 * FUZZ_SOURCES: proxy/http.c
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http.h"
#include "tests/fuzz/fuzz.h"

struct parse {
	ssize_t r;
	int status;
	size_t head_len;
	enum http_framing framing;
	uint64_t content_length;
	bool keep_alive;
};

static bool
inside(struct http_str s, const char *buf, size_t len)
{
	if (s.p == NULL)
		return s.len == 0;
	return s.p >= buf && s.len <= len && s.p + s.len <= buf + len;
}

/* What every parse that succeeded must satisfy. */
static void
check_msg(const struct http_msg *m, const char *buf, size_t len, ssize_t r)
{
	CHECK(r >= 0 && (size_t)r <= len);
	if (r == 0)
		return;
	CHECK(m->head_len == (size_t)r);
	CHECK(m->n_headers <= HTTP_MAX_HEADERS);
	for (size_t i = 0; i < m->n_headers; i++) {
		CHECK(m->headers[i].name.len > 0);
		CHECK(inside(m->headers[i].name, buf, (size_t)r));
		CHECK(inside(m->headers[i].value, buf, (size_t)r));
	}
	CHECK(inside(m->method_str, buf, (size_t)r));
	CHECK(inside(m->target, buf, (size_t)r));
	CHECK(inside(m->reason_phrase, buf, (size_t)r));
	CHECK(inside(m->host, buf, (size_t)r));
	/* An absolute-form without a path gets a static "/". */
	CHECK(inside(m->path, buf, (size_t)r) ||
	      (m->path.len == 1 && m->path.p[0] == '/'));
	CHECK(m->minor == 0 || m->minor == 1);
	CHECK(http_header_find(m, "Host") == NULL ||
	      inside(http_header_find(m, "Host")->value, buf, (size_t)r));
	CHECK(!http_method_idempotent(m->method) || m->method != HTTP_M_POST);
	CHECK(m->framing != HTTP_BODY_LENGTH || m->content_length > 0);
	CHECK(m->framing != HTTP_BODY_CLOSE || !m->keep_alive);
}

/* req < 0: a request; otherwise a response to that method. */
static struct parse
run(const char *buf, size_t len, size_t max_head, size_t *scanned, int req,
    struct http_msg *m)
{
	struct http_error err = { 0, NULL };
	struct parse p;

	if (req < 0)
		p.r = http_parse_request(buf, len, max_head, scanned, m, &err);
	else
		p.r = http_parse_response(buf, len, max_head, scanned,
					  (enum http_method)req, m, &err);
	CHECK(p.r >= -1);
	if (p.r == -1) {
		CHECK(err.reason != NULL);
		CHECK(req < 0 ? err.status == 400 || err.status == 431 ||
				    err.status == 501 || err.status == 505
			      : err.status == 502);
	} else {
		check_msg(m, buf, len, p.r);
	}
	p.status = p.r == -1 ? err.status : 0;
	p.head_len = p.r > 0 ? m->head_len : 0;
	p.framing = p.r > 0 ? m->framing : HTTP_BODY_NONE;
	p.content_length = p.r > 0 ? m->content_length : 0;
	p.keep_alive = p.r > 0 && m->keep_alive;
	return p;
}

/* The whole input at once, then in two writes: the same answer. */
static void
heads(const uint8_t *data, size_t size, size_t at, size_t max_head, int req)
{
	static struct http_msg m;
	const char *buf = (const char *)data;
	struct parse whole, part;
	size_t scanned = 0;
	char *prefix;

	whole = run(buf, size, max_head, &scanned, req, &m);
	/* An exact copy, so that ASan sees a read past the first write. */
	prefix = malloc(at ? at : 1);
	CHECK(prefix != NULL);
	memcpy(prefix, data, at);
	scanned = 0;
	part = run(prefix, at, max_head, &scanned, req, &m);
	free(prefix);
	if (part.r == 0) {
		CHECK(scanned <= at);
		part = run(buf, size, max_head, &scanned, req, &m);
	}
	CHECK(part.r == whole.r && part.status == whole.status &&
	      part.head_len == whole.head_len &&
	      part.framing == whole.framing &&
	      part.content_length == whole.content_length &&
	      part.keep_alive == whole.keep_alive);
}

static void
chunked(const uint8_t *data, size_t size, size_t at)
{
	struct http_chunked c = { 0 };
	struct http_error err;
	const char *buf = (const char *)data;
	ssize_t whole, r1, r2 = 0;
	bool done_whole, done;
	char *prefix;

	whole = http_chunked_scan(&c, buf, size, &done_whole, &err);
	CHECK(whole >= -1 && (whole == -1 || (size_t)whole <= size));
	CHECK(whole == -1 || done_whole || (size_t)whole == size);

	memset(&c, 0, sizeof(c));
	prefix = malloc(at ? at : 1);
	CHECK(prefix != NULL);
	memcpy(prefix, data, at);
	r1 = http_chunked_scan(&c, prefix, at, &done, &err);
	free(prefix);
	CHECK(r1 >= -1 && (r1 == -1 || (size_t)r1 <= at));
	if (r1 != -1 && !done) {
		CHECK((size_t)r1 == at);
		r2 = http_chunked_scan(&c, buf + at, size - at, &done, &err);
		CHECK(r2 == -1 || (size_t)r2 <= size - at);
	}
	if (whole == -1) {
		CHECK(r1 == -1 || r2 == -1);
	} else {
		CHECK(r1 != -1 && r2 != -1);
		CHECK((size_t)(r1 + r2) == (size_t)whole && done == done_whole);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = size ? data[0] % size : 0;

	heads(data, size, at, 8192, -1);
	heads(data, size, at, 64, -1);
	heads(data, size, at, 8192, HTTP_M_GET);
	heads(data, size, at, 8192, HTTP_M_HEAD);
	heads(data, size, at, 8192, HTTP_M_CONNECT);
	chunked(data, size, at);
	return 0;
}
