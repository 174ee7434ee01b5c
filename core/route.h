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
#include "policies/sticky.h"

/*
 * Per-node counters shared by the main loop and the workers, reference
 * counted: a routing table and every session using the node hold one.
 */
struct node_stats {
	atomic_uint refs;
	atomic_uint connections;  /* sessions forwarding to it now */
	atomic_ulong requests;	  /* requests sent to it */
	atomic_uint failures;	  /* consecutive errors seen by the proxy */
	atomic_uint last_failure; /* enum passive_outcome of the last one */
	atomic_ulong retries;	  /* requests moved off it to another node */
	atomic_ulong codes[500];  /* answers it gave, by status 100..599 */
};

struct node_stats *node_stats_new(void);
struct node_stats *node_stats_ref(struct node_stats *s);
void node_stats_unref(struct node_stats *s);

/* What the workers need of the configuration, copied into every table
 * so a reload never frees it under them. */
struct route_settings {
	struct conf_proxy proxy;
	enum stick_mode stick_mode;
	char cookie[65];
	char cluster[64];
	struct sticky_key key;
	struct ssl_ctx_st
	    *node_tls; /* for nodes with tls = true; a reference */
};

/* Fills rs from c; rs takes a reference on node_tls. */
void route_settings_from_conf(struct route_settings *rs, const struct conf *c,
			      const struct sticky_key *key,
			      struct ssl_ctx_st *node_tls);

/* dst = src, with a reference of its own on node_tls. */
void route_settings_copy(struct route_settings *dst,
			 const struct route_settings *src);

/* Drops rs's reference and wipes its key. */
void route_settings_release(struct route_settings *rs);

struct route_node {
	char *name;
	char *host;
	char *port;
	bool tls;
	bool draining;		    /* sticky clients only, no new ones */
	struct sockaddr_storage sa; /* when the address is a literal */
	socklen_t salen;
	struct node_stats *stats; /* a reference */
};

struct route_table {
	unsigned long generation;
	struct route_settings settings;
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
	/* Called after each publish, so readers that sleep (an idle worker
	 * with only tunnels open) wake up and look at the new table. */
	void (*on_publish)(void *ctx);
	void *on_publish_ctx;
};

/* A table for n nodes, filled by the caller with route_node_set(). */
struct route_table *route_table_new(size_t n, unsigned long generation,
				    const struct route_settings *rs);
int route_node_set(struct route_node *rn, const struct conf_node *node,
		   bool draining, struct node_stats *stats);

/* Main loop: publish t (the holder owns it); the previous table retires. */
void route_publish(struct route_holder *h, struct route_table *t);

/* True when t routes to node (NULL t: false). */
bool route_has_node(const struct route_table *t, const char *node);

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
