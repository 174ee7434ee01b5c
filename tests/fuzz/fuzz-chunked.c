/*
 * fuzz-chunked.c: libFuzzer target for http_chunked_scan(), the scanner
 * that finds where a chunked body ends without decoding it. Whatever the
 * writes the octets arrive in (every split in two for short inputs,
 * pseudo-random splits in many pieces, one octet at a time), the answer
 * must be the same: where the body ends, or the same refusal. And where
 * it says a body ends, a lenient reading of RFC 9112 section 7.1 must
 * end it at the same octet: the scanner may refuse more, never frame
 * differently.
 *
 * FUZZ_SOURCES: proxy/http.c
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http.h"
#include "tests/fuzz/fuzz.h"

/* Every two-way split below this size; pseudo-random pieces above. */
#define EVERY_SPLIT_MAX 512
#define RANDOM_SPLITS	8

struct scan {
	ssize_t r; /* octets of the body, or -1 */
	bool done;
	const char *why; /* the refusal's reason */
};

/* Scans buf[0..len) in pieces ending at cuts[0..n) (ascending). */
static struct scan
scan_pieces(const char *buf, size_t len, const size_t *cuts, size_t n)
{
	struct http_chunked c = { 0 };
	struct http_error err = { 0, NULL };
	struct scan s = { 0, false, NULL };
	size_t from = 0;

	for (size_t i = 0; i <= n && !s.done; i++) {
		size_t to = i < n ? cuts[i] : len;
		char *piece;
		ssize_t r;

		if (to < from)
			to = from;
		/* An exact copy, so that ASan sees a read past the piece. */
		piece = malloc(to - from ? to - from : 1);
		CHECK(piece != NULL);
		memcpy(piece, buf + from, to - from);
		r = http_chunked_scan(&c, piece, to - from, &s.done, &err);
		free(piece);
		if (r == -1) {
			CHECK(err.status == 400 && err.reason != NULL);
			CHECK(!s.done);
			s.r = -1;
			s.why = err.reason;
			return s;
		}
		CHECK((size_t)r <= to - from);
		/* Short of the piece only when the body ended inside it. */
		CHECK(s.done || (size_t)r == to - from);
		s.r += r;
		from = to;
	}
	return s;
}

/* The same answer, however the octets came. */
static void
same(struct scan a, struct scan b)
{
	CHECK(a.r == b.r && a.done == b.done && a.why == b.why);
}

/*
 * A lenient reading of chunked coding: 1 to 16 hex digits, anything but
 * CR and LF up to the CRLF, the data, CRLF; after the last chunk, lines
 * up to an empty one. Returns where the body ends, 0 when it has not
 * ended yet, or -1.
 */
static ssize_t
lenient(const char *p, size_t len)
{
	size_t i = 0;

	for (;;) {
		uint64_t size = 0;
		size_t digits = 0;

		for (; i < len && digits <= 16; i++, digits++) {
			char ch = p[i];
			unsigned d;

			if (ch >= '0' && ch <= '9')
				d = (unsigned)(ch - '0');
			else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
				d = (unsigned)((ch | 0x20) - 'a' + 10);
			else
				break;
			size = size << 4 | d;
		}
		if (i == len)
			return 0;
		if (digits == 0 || digits > 16)
			return -1;
		while (i < len && p[i] != '\r' && p[i] != '\n')
			i++;
		if (i + 1 >= len)
			return 0;
		if (p[i] != '\r' || p[i + 1] != '\n')
			return -1;
		i += 2;
		if (size == 0)
			break;
		if (size > len - i)
			return 0;
		i += (size_t)size;
		if (i + 1 >= len)
			return 0;
		if (p[i] != '\r' || p[i + 1] != '\n')
			return -1;
		i += 2;
	}
	/* Trailer lines, then the empty line. */
	for (;;) {
		size_t start = i;

		while (i < len && p[i] != '\r' && p[i] != '\n')
			i++;
		if (i + 1 >= len)
			return 0;
		if (p[i] != '\r' || p[i + 1] != '\n')
			return -1;
		i += 2;
		if (i - 2 == start)
			return (ssize_t)i;
	}
}

/* xorshift64*, seeded from the input, so that a crash replays. */
static uint64_t
next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ size;
	struct scan whole, s;
	size_t cuts[16];
	ssize_t l;

	whole = scan_pieces(buf, size, NULL, 0);
	l = lenient(buf, size);
	if (whole.done)
		CHECK(l == whole.r);
	else if (whole.r != -1)
		CHECK(l == 0 && (size_t)whole.r == size);

	if (size <= EVERY_SPLIT_MAX) {
		for (size_t at = 0; at <= size; at++) {
			cuts[0] = at;
			same(whole, scan_pieces(buf, size, cuts, 1));
		}
	}
	for (size_t i = 0; i < size && i < 64; i++)
		seed = (seed ^ data[i]) * 0x100000001b3ull;
	for (int k = 0; k < RANDOM_SPLITS && size > 0; k++) {
		size_t n = 1 + next(&seed) % 16;

		for (size_t i = 0; i < n; i++)
			cuts[i] = next(&seed) % (size + 1);
		qsort(cuts, n, sizeof(cuts[0]), cmp_size);
		same(whole, scan_pieces(buf, size, cuts, n));
	}
	/* One octet per call, the slowest client. */
	if (size <= 4 * EVERY_SPLIT_MAX) {
		struct http_chunked c = { 0 };
		struct http_error err = { 0, NULL };
		bool done = false;

		s.r = 0;
		s.why = NULL;
		for (size_t i = 0; i < size && !done; i++) {
			ssize_t r =
			    http_chunked_scan(&c, buf + i, 1, &done, &err);

			if (r == -1) {
				s.r = -1;
				s.why = err.reason;
				break;
			}
			CHECK(r == 1);
			s.r += r;
		}
		s.done = done;
		same(whole, s);
	}
	return 0;
}
