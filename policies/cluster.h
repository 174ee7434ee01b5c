/*
 * cluster.h: decisions about the cluster as a whole (SPEC.md "How vigil
 * decides"): the active set, split brain, all down, and the events each
 * transition raises, exactly once. Pure: the caller sets each node's state
 * and calls cluster_update(); events come back through a callback.
 */
#ifndef VIGIL_POLICIES_CLUSTER_H
#define VIGIL_POLICIES_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/conf-types.h"
#include "policies/node.h"

struct cluster_node {
	const char *name; /* borrowed; unique */
	int priority;	  /* lower goes first */
	enum node_state
	    state; /* what vigil shows, operator overrides included */
	enum node_state base; /* what the evidence alone says */
	bool active;	      /* in the active set; written by cluster_update */
	bool held; /* held a place when vigil last stopped; no verdict yet */
};

struct policy_event {
	enum event_kind kind;
	const char *node; /* NULL for cluster-wide events */
	const char *from; /* failover */
	const char *to;	  /* failover */
	enum node_state state;
	enum node_state prev;
	const char *reason;
	double evidence_ms; /* wall clock ms of the evidence; 0: now */
	bool dry_run;	    /* restart_started without running anything */
	int attempt;	    /* restart events: the attempt; 0: none */
};

typedef void (*policy_emit_fn)(void *ctx, const struct policy_event *ev);

struct cluster {
	struct cluster_node *nodes; /* borrowed array of n */
	size_t n;
	int active_nodes; /* 0: every running node is active */
	bool all_down;
	bool split_brain;
	unsigned long generation; /* bumped when the active set changes */
	/* Active nodes that left and whose place nobody took yet, oldest
	 * first: the `from` of the next failover. Indexes into nodes. */
	size_t *departed;
	size_t n_departed;
};

/* Sets c up over nodes (all inactive). Returns 0, or -1 without memory. */
int cluster_init(struct cluster *c, struct cluster_node *nodes, size_t n,
		 int active_nodes);
void cluster_free(struct cluster *c);

/*
 * After a restart: the nodes that held places in the active set when
 * vigil stopped (members, and members that had left and were not yet
 * replaced), by name; unknown names are ignored. Each keeps its place
 * until its first verdict: running, it is a member again, without an
 * event; otherwise its place goes to the next running node as a failover
 * from it, as if vigil had never stopped. Nothing is held with
 * active_nodes = 0 (no places, no failovers). Call after cluster_init.
 */
void cluster_restore(struct cluster *c, const char *const *names, size_t n);

/*
 * The held nodes that still have no verdict give up their places (the
 * monitor calls it when they had their time): each place goes to the next
 * running node as a failover from the node that held it. A node whose
 * probes never settle cannot keep the cluster without an active node.
 * Returns true when a place was given up (call cluster_update then).
 */
bool cluster_release_held(struct cluster *c);

/*
 * The names of the nodes that hold places now (members, held nodes, and
 * members that left and were not replaced), in node order, into names
 * (room for c->n); returns how many. What cluster_restore takes after a
 * restart.
 */
size_t cluster_places(const struct cluster *c, const char **names);

/*
 * Recomputes the active set from the nodes' states: members stay while
 * running (no preemption); a draining member stays while its evidence says
 * running; free places go to running nodes by priority, then name. Raises
 * failover, split_brain and all_down. Returns true when the set changed.
 */
bool cluster_update(struct cluster *c, policy_emit_fn emit, void *ctx);

/*
 * The node events of one node's change from prev to its current state:
 * node_down when it leaves running/standby (or its first verdict is) for
 * unreachable, hung or shut_down, and again when that failed state
 * changes; node_up when it is back in running or standby.
 */
void cluster_node_changed(const struct cluster_node *n, enum node_state prev,
			  const char *why, policy_emit_fn emit, void *ctx);

#endif
