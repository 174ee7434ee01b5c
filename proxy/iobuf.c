/*
 * iobuf.c: lazily allocated linear buffers. Linear rather than circular
 * because the HTTP parser reads a head in place, in one piece.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proxy/iobuf.h"

/*
 * Buffers come and go with every exchange; a few are kept per thread for
 * the next one, so the hot path rarely reaches malloc (and memory stays
 * with the worker that uses it).
 */
#define CACHE_MAX 32

static _Thread_local struct {
	size_t n;
	struct {
		char *p;
		size_t cap;
	} b[CACHE_MAX];
} cache;

static char *
cache_get(size_t cap)
{
	for (size_t i = cache.n; i-- > 0;) {
		if (cache.b[i].cap != cap)
			continue;
		char *p = cache.b[i].p;

		cache.b[i] = cache.b[--cache.n];
		return p;
	}
	return malloc(cap);
}

static void
cache_put(char *p, size_t cap)
{
	if (cache.n < CACHE_MAX) {
		cache.b[cache.n].p = p;
		cache.b[cache.n++].cap = cap;
	} else {
		free(p);
	}
}

void
iobuf_cache_drain(void)
{
	while (cache.n > 0)
		free(cache.b[--cache.n].p);
}

size_t
iobuf_room(struct iobuf *b, size_t cap)
{
	if (b->p == NULL) {
		b->p = cache_get(cap);
		if (b->p == NULL)
			return 0;
		b->cap = cap;
		b->head = b->tail = 0;
	}
	if (b->tail == b->cap && b->head > 0) {
		memmove(b->p, b->p + b->head, b->tail - b->head);
		b->tail -= b->head;
		b->head = 0;
	}
	return b->cap - b->tail;
}

bool
iobuf_append(struct iobuf *b, const void *data, size_t len, size_t cap)
{
	if (iobuf_room(b, cap) < len) {
		if (b->p == NULL || b->tail - b->head + len > b->cap)
			return false;
		memmove(b->p, b->p + b->head, b->tail - b->head);
		b->tail -= b->head;
		b->head = 0;
	}
	memcpy(b->p + b->tail, data, len);
	b->tail += len;
	return true;
}

void
iobuf_consume(struct iobuf *b, size_t n)
{
	b->head += n;
	if (b->head == b->tail)
		iobuf_free(b);
}

void
iobuf_free(struct iobuf *b)
{
	if (b->p != NULL)
		cache_put(b->p, b->cap);
	b->p = NULL;
	b->cap = b->head = b->tail = 0;
}
