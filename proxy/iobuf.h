/*
 * iobuf.h: a connection's byte buffer: data lives in p[head..tail), the
 * storage is allocated on first use and given back when the buffer runs
 * empty, so an idle keep-alive connection costs no buffer memory.
 */
#ifndef VIGIL_IOBUF_H
#define VIGIL_IOBUF_H

#include <stdbool.h>
#include <stddef.h>

struct iobuf {
	char *p;
	size_t cap; /* allocated size, 0 until first use */
	size_t head;
	size_t tail;
};

static inline size_t
iobuf_len(const struct iobuf *b)
{
	return b->tail - b->head;
}

static inline char *
iobuf_data(const struct iobuf *b)
{
	return b->p + b->head;
}

/* Room for at least one byte at the tail, allocating or compacting;
 * returns the writable size (0 when full or out of memory). */
size_t iobuf_room(struct iobuf *b, size_t cap);

/* Appends len bytes; returns false when they do not fit in cap. */
bool iobuf_append(struct iobuf *b, const void *data, size_t len, size_t cap);

/* Drops n bytes from the front; an empty buffer gives back its memory. */
void iobuf_consume(struct iobuf *b, size_t n);

void iobuf_free(struct iobuf *b);

/* Frees the buffers this thread keeps for reuse (at thread exit). */
void iobuf_cache_drain(void);

#endif
