/*
 * pool.h: idle keep-alive connections to the nodes, per worker, so that a
 * request usually finds a connection ready instead of paying a TCP (and
 * TLS) handshake. A pooled connection that the node closes, or that stays
 * idle too long, is dropped.
 */
#ifndef VIGIL_POOL_H
#define VIGIL_POOL_H

#include <stdbool.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

struct worker;
struct route_table;

/* Keeps fd (and ssl) to node at sa for a later request. */
void pool_put(struct worker *w, const char *node, const struct sockaddr *sa,
	      socklen_t salen, int fd, SSL *ssl);

/* Takes an idle connection to node at sa; false when none is left. */
bool pool_get(struct worker *w, const char *node, const struct sockaddr *sa,
	      socklen_t salen, int *fd, SSL **ssl);

/* Drops the worker's oldest idle connection; false when it has none. */
bool pool_drop_oldest(struct worker *w);

/* Drops the connections to nodes that are not in t (all when t is NULL). */
void pool_prune(struct worker *w, const struct route_table *t);

#endif
