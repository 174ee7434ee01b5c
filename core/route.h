/*
 * route.h: the routing table the main loop publishes for the proxy
 * workers (DESIGN.md "Threads and loops"): an immutable snapshot of the
 * active nodes swapped in by an atomic pointer store, so the request path
 * takes no lock. Old tables are freed once every reader has moved past
 * them (epochs): a reader announces route_quiesce() between requests.
 */
#ifndef VIGIL_ROUTE_H
#define VIGIL_ROUTE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/conf-types.h"

struct route_node {
	char *name;
	char *host;
	char *port;
	bool tls;
	bool draining;		    /* sticky clients only, no new ones */
	struct sockaddr_storage sa; /* when the address is a literal */
	socklen_t salen;
};

struct route_table {
	unsigned long generation;
	size_t n; /* active nodes */
	struct route_table *next_retired;
	unsigned long retired_epoch;
	struct route_node nodes[];
};

#define ROUTE_MAX_READERS 64

struct route_holder {
	_Atomic(struct route_table *) current;
	atomic_ulong epoch;
	atomic_ulong reader_epoch[ROUTE_MAX_READERS]; /* 0: not reading */
	size_t n_readers;
	struct route_table *retired; /* main loop only */
};

/* A table for n nodes, filled by the caller with route_node_set(). */
struct route_table *route_table_new(size_t n, unsigned long generation);
int route_node_set(struct route_node *rn, const struct conf_node *node,
		   bool draining);

/* Main loop: publish t (the holder owns it); the previous table retires. */
void route_publish(struct route_holder *h, struct route_table *t);

/* Main loop: free retired tables no reader can still see. */
void route_collect(struct route_holder *h);

/* Main loop, before readers start: a slot for one reader thread. */
size_t route_reader_add(struct route_holder *h);

/* Reader: the current table, valid until its next route_quiesce(). */
const struct route_table *route_read(struct route_holder *h, size_t reader);

/* Reader: it holds no table from now on. */
void route_quiesce(struct route_holder *h, size_t reader);

/* Main loop, at exit: frees every table. */
void route_holder_free(struct route_holder *h);

#endif
