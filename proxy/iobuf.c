/*
 * iobuf.c: lazily allocated linear buffers. Linear rather than circular
 * because the HTTP parser reads a head in place, in one piece.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proxy/iobuf.h"

size_t
iobuf_room(struct iobuf *b, size_t cap)
{
	if (b->p == NULL) {
		b->p = malloc(cap);
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
	free(b->p);
	b->p = NULL;
	b->cap = b->head = b->tail = 0;
}
