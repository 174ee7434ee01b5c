/*
 * listener.h: the sockets of `listen`, bound at start (before privileges
 * are dropped, so ports below 1024 work) and handed to the proxy workers.
 */
#ifndef VIGIL_LISTENER_H
#define VIGIL_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/conf-types.h"

struct listeners;

/* Binds every listen address and listens. Returns NULL with "ADDRESS: reason"
 * in err when one cannot be bound; none stays bound then. */
struct listeners *listeners_bind(const struct conf *c, char *err,
				 size_t errlen);

void listeners_close(struct listeners *ls);

/* Loads the TLS context of every TLS listener (before privileges drop:
 * keys are often readable by root alone). Returns 0, or -1 with the file
 * and the reason in err. */
int listeners_load_tls(struct listeners *ls, const struct conf *c, char *err,
		       size_t errlen);

/* The TLS context of the i-th listener, NULL for plain HTTP. */
struct ssl_ctx_st *listeners_tls(const struct listeners *ls, size_t i);

size_t listeners_count(const struct listeners *ls);

/* The listening socket of the i-th `listen` entry. */
int listeners_fd(const struct listeners *ls, size_t i);

/* True when both configurations listen on the same addresses alike. */
bool listeners_same(const struct conf *a, const struct conf *b);

#endif
