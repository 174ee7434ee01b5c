/*
 * fdbudget.h: the proxy's share of the descriptor limit (ulimit -n). Out
 * of the limit, vigil keeps descriptors for its own work (probes, the
 * database, notifications, hooks, the admin interface); the rest is the
 * proxy's, two per client connection (the client and its node), like
 * HAProxy's maxconn derived from ulimit-n. At the limit the workers stop
 * accepting, and connections wait in the listen backlog, instead of
 * running out of descriptors where a probe or a webhook needs one.
 */
#ifndef VIGIL_FDBUDGET_H
#define VIGIL_FDBUDGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/conf-types.h"

/* Descriptors kept for vigil's own work beyond those open at start: a few
 * admin connections, a hook and an exec channel's pipes, the spool and
 * cursor rewrites, a reload's files and name lookups. */
#define FDB_SPARE 16

struct fd_budget {
	atomic_uint used; /* client and node connections, pooled ones too */
	unsigned max;	  /* how many the proxy may hold */
	unsigned nofile;  /* the limit */
	atomic_llong warned_ms; /* when the limit was last logged */
	atomic_ulong held;	/* times it held up accepting since */
};

/*
 * The descriptors kept out of the proxy's share: those open now, the
 * spare, two per node (its probe, a reconnect), two per notification
 * channel and two for the heartbeat database. Pure.
 */
unsigned fdb_reserve(unsigned open_now, size_t nodes, size_t channels);

/*
 * Raises the soft descriptor limit to the hard one and sets b from it and
 * from the descriptors open now (call it once vigil's own are open, before
 * any worker runs). Returns 0, or -1 with the reason in err when the limit
 * leaves no room for one client connection.
 */
int fdb_init(struct fd_budget *b, const struct conf *c, char *err,
	     size_t errlen);

/* Whether n more descriptors fit in the proxy's share. */
bool fdb_room(struct fd_budget *b, unsigned n);

/* A descriptor was opened (take) or closed (put). */
void fdb_take(struct fd_budget *b);
void fdb_put(struct fd_budget *b);

/*
 * The limit held up accepting (why: the share is used up, or the system
 * said EMFILE/ENFILE): logged at most once a minute, with how many times
 * it happened since. now_ms: any monotonic clock in ms.
 */
void fdb_held(struct fd_budget *b, const char *why, long long now_ms);

#endif
