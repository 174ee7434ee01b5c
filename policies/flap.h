/*
 * flap.h: flap damping for notifications. A node that changes state more
 * than `changes` times within `window_ms` is flapping: one node_flapping
 * event, then its node_up/node_down are summarised instead of sent, until
 * it has not changed for window_ms (node_stable). Routing still follows
 * every decision; only what operators are sent is damped. Pure.
 */
#ifndef VIGIL_POLICIES_FLAP_H
#define VIGIL_POLICIES_FLAP_H

#include <stdbool.h>

#define FLAP_MAX_CHANGES 100 /* notify.flap_changes' upper bound */

struct flap_track {
	double at[FLAP_MAX_CHANGES + 1]; /* ring: times (ms) of changes */
	unsigned n, head;		 /* changes held, next slot */
	bool flapping;
	double since;	     /* ms: flapping began */
	double last;	     /* ms: the last change */
	unsigned changes;    /* changes since flapping began */
	unsigned suppressed; /* node events held back since then */
};

/* A state change at now_ms. Returns true when it makes the node start
 * flapping (more than `changes` changes within window_ms); changes == 0
 * turns damping off (never flapping). */
bool flap_change(struct flap_track *f, double now_ms, int changes,
		 int window_ms);

/* True when a flapping node has not changed for window_ms: flapping ends,
 * *changes and *suppressed get its totals (for node_stable's reason) and
 * f starts afresh. The caller counts f->suppressed itself. */
bool flap_settled(struct flap_track *f, double now_ms, int window_ms,
		  unsigned *changes, unsigned *suppressed);

#endif
