/*
 * leader.h: leadership among several appliances (SPEC.md "Several
 * appliances"). Each appliance holds a session on the heartbeat database
 * and tries pg_try_advisory_lock on a key derived from the cluster name
 * at every poll; the holder is the leader. The same session keeps the
 * small tables that let a new leader continue where the last one stopped:
 * which events the leader delivered to which channel (vigil_delivered),
 * and which restart attempts were started (vigil_restart).
 */
#ifndef VIGIL_LEADER_H
#define VIGIL_LEADER_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "core/conf-types.h"

enum leadership {
	LEAD_SOLE = 0,	 /* no database: every appliance is its own leader */
	LEAD_CONNECTING, /* no answer from the database yet */
	LEAD_UNKNOWN,	 /* the database cannot be reached */
	LEAD_FOLLOWER,
	LEAD_LEADER,
	LEAD__COUNT
};

/* "sole", "connecting", "unknown", "follower", "leader". */
extern const char *const leadership_names[LEAD__COUNT];

struct leader;

struct leader_sink {
	/* Leadership changed. holder: the appliance the database names as
	 * leader (NULL: none known); prev: when this appliance just took
	 * the lead, the one that held it before (NULL: none or itself). */
	void (*changed)(void *ctx, enum leadership now, const char *holder,
			const char *prev);
	/* While following: the leader delivered event id, which it raised
	 * at raised (ms since the epoch, its clock), to channel. */
	void (*delivered)(void *ctx, const char *channel, const char *id,
			  double raised);
	void *ctx;
};

/* The restart attempts recorded for one incident of one node. */
struct restart_record {
	bool granted;	     /* the claim was granted: run the hook */
	int attempts;	     /* the latest attempt recorded (0: none) */
	int failed;	     /* attempts recorded with outcome failed */
	int hook;	     /* latest: -1 no report, 0 failed, 1 exited 0 */
	int outcome;	     /* latest: -1 none, 0 failed, 1 succeeded */
	double started_ms;   /* ms since the latest started (db clock) */
	double ended_ms;     /* ms since its hook ended; < 0: not ended */
	const char *by;	     /* the appliance that claimed it */
};

/* The answer to leader_claim: rec NULL when the database could not say
 * (this appliance is not, or no longer, the leader; the session ended). */
typedef void (*leader_claim_fn)(void *ctx, const char *node,
				const struct restart_record *rec);

/* The advisory lock's key: the first 8 bytes of SHA-256("vigil:" NAME),
 * big-endian, as a signed 64-bit integer (pg_locks shows it as classid
 * and objid, its high and low 32 bits). */
int64_t leader_key(const char *cluster);

/* Starts contending for conf's cluster on its heartbeat database; conf
 * must outlive it or be replaced with leader_reload. NULL out of memory. */
struct leader *leader_start(struct ev_loop *loop, const struct conf *conf,
			    const struct leader_sink *sink);

/* Takes conf when it names the same database, cluster and appliance and
 * returns 0 (the session and the lock stay); -1 otherwise (the caller
 * starts a new one). */
int leader_reload(struct leader *l, const struct conf *conf);

void leader_stop(struct leader *l);

/* The tables could be created: claims and records work. */
bool leader_records(const struct leader *l);
const char *leader_holder(const struct leader *l); /* NULL: unknown */

/* The leader delivered id to channel (a channel's cursor key): recorded
 * so that followers move their own cursors past it. Best effort. */
void leader_delivered(struct leader *l, const char *channel, const char *id,
		      double raised);

/*
 * Claims attempt of node's restart for incident (the time of the beat
 * that made it shut_down) inside the lock: granted when no attempt as
 * high was recorded for it; otherwise the record says what the last
 * leader did. cb is called once, later. Returns -1 when it cannot be
 * asked (not the leader): cb is not called.
 */
int leader_claim(struct leader *l, const char *node, int64_t incident,
		 int attempt, leader_claim_fn cb, void *ctx);

/* Records how a claimed attempt went: hook (its exit) or outcome (back
 * or not). Best effort. */
void leader_record_hook(struct leader *l, const char *node, int64_t incident,
			int attempt, bool ok, const char *detail);
void leader_record_outcome(struct leader *l, const char *node,
			   int64_t incident, int attempt, bool succeeded);

#endif
