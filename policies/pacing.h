/*
 * pacing.h: when a node's restart hook may run (SPEC.md "Restart hooks").
 * Pure: no I/O, no clock; the caller feeds each node's state and each
 * hook's outcome, asks which hook to start, and gets the restart events
 * back through a callback.
 */
#ifndef VIGIL_POLICIES_PACING_H
#define VIGIL_POLICIES_PACING_H

#include <stdbool.h>
#include <stddef.h>

#include "core/conf-types.h"
#include "policies/node.h"

enum restart_phase {
	RESTART_IDLE = 0, /* nothing to do until the node enters shut_down */
	RESTART_PENDING,  /* shut_down: waits for its turn and its back-off */
	RESTART_RUNNING,  /* its hook runs */
	RESTART_WAITING,  /* the hook exited 0: waits for the node to be back */
	RESTART_GAVE_UP,  /* max_attempts failed: until back or re-armed */
	RESTART__COUNT
};

/* "idle", "pending", "running", "waiting", "gave_up" (status JSON). */
extern const struct name_desc restart_phase_names[RESTART__COUNT];

struct restart_track {
	enum restart_phase phase;
	bool shut_down;	     /* the last state observed was shut_down */
	bool back;	     /* the last observation said "back" */
	int attempts;	     /* failed attempts since the node was last back */
	double not_before;   /* ms: back-off, no attempt before this */
	double deadline;     /* ms: WAITING ends in failure at this time */
	unsigned long order; /* when it became PENDING: first come, first run */
	int attempt;	     /* RUNNING, WAITING: the attempt's number */
	enum node_state state; /* the last state observed, for reasons */
};

struct pacing {
	struct restart_track *t; /* borrowed array of n, zeroed by the caller */
	size_t n;
	int max_attempts;    /* [1..] */
	int backoff_ms;	     /* before the 2nd attempt; doubles, ≤ 16× */
	int wait_running_ms; /* after a hook exits 0 */
	bool sequential;     /* one node RUNNING or WAITING cluster-wide */
	bool dry_run;	     /* started hooks run nothing and count nothing */
	unsigned long next_order;
};

struct pacing_event {
	enum event_kind kind; /* RESTART_SUCCEEDED, _FAILED or _GAVE_UP */
	size_t node;	      /* index into the tracks */
	int attempt;	      /* the attempt it concerns (1-based) */
	const char *reason;   /* for people; valid during the callback only */
};

typedef void (*pacing_emit_fn)(void *ctx, const struct pacing_event *ev);

/* Sets p up over t[0..n) (which the caller zeroed) with c's hooks.restart
 * settings. A reload calls it again over tracks it carried over by name. */
void pacing_init(struct pacing *p, struct restart_track *t, size_t n,
		 const struct conf *c);

/*
 * Node i is now in state s (what the evidence says, operator overrides
 * excluded); back is true when it is running, or standby with a fresh
 * heartbeat. Entering shut_down (from any other state, including the
 * first verdict) makes an IDLE node PENDING; leaving shut_down before its
 * hook started makes a PENDING node IDLE (attempts kept). Back: a WAITING
 * node's attempt succeeded (restart_succeeded); a GAVE_UP node is re-armed;
 * attempts return to 0. A RUNNING hook is never cut short here.
 */
void pacing_observe(struct pacing *p, size_t i, enum node_state s, bool back,
		    double now_ms, pacing_emit_fn emit, void *ctx);

/* A WAITING node whose wait_running_ms ran out fails its attempt ("not
 * back within N ms"), as pacing_exited(ok = false) would. */
void pacing_tick(struct pacing *p, double now_ms, pacing_emit_fn emit,
		 void *ctx);

/* The node whose hook should start now, or -1: a PENDING node past its
 * back-off, first come first; none while sequential and another node is
 * RUNNING or WAITING. */
long pacing_due(const struct pacing *p, double now_ms);

/* Node i's hook started: RUNNING, and returns the attempt's number. In a
 * dry run: IDLE again (until it next enters shut_down), no attempt
 * counted, returns attempts + 1 all the same. */
int pacing_started(struct pacing *p, size_t i, double now_ms);

/*
 * Node i's hook ended. ok (exit 0): WAITING until back or until
 * wait_running_ms — or restart_succeeded at once if it is back already.
 * Not ok: a failed attempt: restart_failed with reason, then
 * restart_gave_up when attempts reached max_attempts (GAVE_UP), else
 * PENDING after the back-off if it is still shut_down, IDLE otherwise.
 */
void pacing_exited(struct pacing *p, size_t i, bool ok, const char *reason,
		   double now_ms, pacing_emit_fn emit, void *ctx);

/* Node i's started attempt may not run after all (several appliances: the
 * claim on the database got no answer): PENDING again, not before
 * not_before (ms), nothing counted; IDLE when it is no longer shut_down. */
void pacing_unstart(struct pacing *p, size_t i, double not_before);

/* How an attempt another appliance started went, as far as it recorded. */
enum adopt_outcome {
	ADOPT_WAITING = 0, /* unknown yet: wait for the node until deadline */
	ADOPT_FAILED,	   /* its hook failed or the node was not back */
	ADOPT_SUCCEEDED,   /* the node was back */
};

/*
 * Node i's attempt (RUNNING here since pacing_started) was claimed by
 * another appliance, which got as far as attempt `attempt` (1-based): it
 * is this appliance's attempt from now on, without running the hook
 * again. WAITING: as if its hook had exited 0 with deadline_ms as the
 * end of the wait (restart_succeeded at once when the node is back).
 * FAILED: a failed attempt (restart_failed, and restart_gave_up at
 * max_attempts). SUCCEEDED: IDLE, no event (the node is back).
 */
void pacing_adopt(struct pacing *p, size_t i, int attempt,
		  enum adopt_outcome how, double deadline_ms, double now_ms,
		  pacing_emit_fn emit, void *ctx);

/* Operator's `enable`: attempts to 0, GAVE_UP ends; PENDING at once if the
 * node is shut_down. */
void pacing_rearm(struct pacing *p, size_t i, double now_ms);

/* The time (ms) of the next back-off end or deadline, or -1: when to call
 * pacing_tick and pacing_due again. */
double pacing_next(const struct pacing *p, double now_ms);

#endif
