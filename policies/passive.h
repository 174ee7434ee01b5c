/*
 * passive.h: the errors the proxy itself sees on a node (connect refused,
 * reset, timeout, 5xx). consecutive_failures in a row eject the node from
 * routing for eject_ms, like Envoy's outlier detection; then the probes
 * decide again. Ejection never empties the routing table: errors seen by
 * the proxy alone must not take the whole cluster away.
 */
#ifndef VIGIL_POLICIES_PASSIVE_H
#define VIGIL_POLICIES_PASSIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "policies/node.h"

enum passive_outcome {
	PASSIVE_OK = 0,	 /* a response that is not 5xx */
	PASSIVE_REFUSED, /* connect refused */
	PASSIVE_TIMEOUT, /* connect or response timed out */
	PASSIVE_RESET,	 /* closed or reset before a response */
	PASSIVE_5XX,	 /* the node answered 500..599 */
	PASSIVE__COUNT
};

extern const struct name_desc passive_outcome_names[PASSIVE__COUNT];

struct passive_track {
	int consecutive;      /* failures in a row */
	double ejected_until; /* ms; 0: not ejected */
	unsigned long ejections;
};

/*
 * Counts one outcome at now_ms. may_eject says whether the node may leave
 * routing (false when it is the last routable node). Returns true when
 * this outcome ejected the node.
 */
bool passive_feed(struct passive_track *t, enum passive_outcome o,
		  int consecutive_failures, double eject_ms, double now_ms,
		  bool may_eject);

/*
 * The same decision when the failures are counted elsewhere (the proxy
 * workers count them in shared atomics): consecutive failures in a row so
 * far. Returns true when the node is to be ejected now.
 */
bool passive_judge(struct passive_track *t, unsigned consecutive,
		   int consecutive_failures, double eject_ms, double now_ms,
		   bool may_eject);

/* True while the node is ejected. */
bool passive_ejected(const struct passive_track *t, double now_ms);

/*
 * Ends an ejection and forgets the failures counted: for a node the
 * probes and heartbeats have taken out of the active set. An ejection is
 * the proxy's quicker verdict, until the probes decide; once they have,
 * it says nothing about the node that comes back.
 */
void passive_clear(struct passive_track *t);

/*
 * Which of n nodes are routed: the active ones that are not ejected, or,
 * when every active node is ejected, all the active ones (ejection never
 * empties the routing table, even when the nodes that were routable
 * leave the active set after the ejection). routed[i] gets the answer;
 * returns how many are routed.
 */
size_t passive_routed(const bool *active, const bool *ejected, size_t n,
		      bool *routed);

#endif
