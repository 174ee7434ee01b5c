/*
 * node.h: what vigil concludes about one node from its evidence (SPEC.md
 * "How vigil decides"). Pure functions: no I/O, no clock; the caller
 * passes the time in milliseconds of a monotonic clock.
 */
#ifndef VIGIL_POLICIES_NODE_H
#define VIGIL_POLICIES_NODE_H

#include <stdbool.h>
#include <stddef.h>

enum node_state {
	NODE_UNKNOWN = 0, /* no probe verdict yet */
	NODE_RUNNING,
	NODE_STANDBY,
	NODE_UNREACHABLE, /* probe failing, heartbeat fresh */
	NODE_HUNG,	  /* probe answers, heartbeat stale */
	NODE_SHUT_DOWN,	  /* probe failing, heartbeat stale */
	NODE_RESTARTING,  /* shut_down, its restart hook ran */
	NODE_DRAINING,	  /* operator: no new clients */
	NODE_DISABLED,	  /* operator: out of service */
	NODE__COUNT
};

/* One probe's outcome, and the verdict that rise/fall make of them. */
enum probe_verdict {
	VERDICT_NONE = 0, /* no verdict yet */
	VERDICT_RUNNING,
	VERDICT_STANDBY,
	VERDICT_FAILED,
	VERDICT__COUNT
};

enum hb_evidence {
	HB_UNKNOWN = 0, /* no database, database unreachable, or too early */
	HB_FRESH,
	HB_STALE,
	HB__COUNT
};

struct name_desc {
	const char *name; /* in events, JSON, metrics labels */
	const char *desc; /* for people */
};

extern const struct name_desc node_state_names[NODE__COUNT];
extern const struct name_desc probe_verdict_names[VERDICT__COUNT];
extern const struct name_desc hb_evidence_names[HB__COUNT];

/*
 * Rise/fall: a verdict changes only after `rise` consecutive running (or
 * standby) results, or `fall` consecutive failures.
 */
struct probe_track {
	enum probe_verdict verdict;
	enum probe_verdict pending; /* the result being counted */
	int streak;		    /* consecutive results equal to pending */
	int failures;		    /* consecutive failures, for the why */
	char cause[128];	    /* the last failure's cause */
};

/* Feeds one result (not VERDICT_NONE); cause describes a failure. Returns
 * true when the verdict changed. */
bool probe_track_feed(struct probe_track *t, enum probe_verdict result,
		      const char *cause, int rise, int fall);

/* What the heartbeat watch knows of one node at one moment. */
struct hb_input {
	bool source_up;	   /* the last poll of the database answered */
	bool have_row;	   /* the query returned a row for this node */
	double age_ms;	   /* the row's age by the database's clock */
	double timeout_ms; /* interval_ms × failover_heartbeats */
	double now_ms;	   /* vigil's monotonic clock */
	double back_ms;	   /* when the database came back; < 0: never lost */
	double watched_ms; /* when vigil began to watch this node */
};

/*
 * Fresh while age ≤ timeout. Time during which the database could not be
 * read does not count: after it comes back, a beat is stale only once the
 * database has been back for longer than the timeout. A node without a row
 * is stale once watched (since start or since the database came back) for
 * longer than the timeout; before that, and while the database cannot be
 * read, the evidence is unknown.
 */
enum hb_evidence hb_judge(const struct hb_input *in);

/* SPEC.md's table: the state from the probe verdict and the heartbeat. */
enum node_state node_decide(enum probe_verdict v, enum hb_evidence hb);

/* True for the states in which the cluster lost the node. */
bool node_state_failed(enum node_state s);

/* The evidence behind a state, for node_why(). */
struct node_evidence {
	enum probe_verdict verdict;
	const struct probe_track *probe;
	enum hb_evidence hb;
	bool have_age;
	double age_ms;
	int interval_ms; /* the cluster's heartbeat interval */
};

/* Writes a one-line human explanation of state into out, e.g. "missed 12
 * heartbeats (last 61.3 s ago) and REST probe failed 3 times: connection
 * refused". Returns out. */
char *node_why(enum node_state s, const struct node_evidence *e, char *out,
	       size_t len);

#endif
