/*
 * event.h: one event (SPEC.md "Events") as it is stored and sent: the same
 * JSON object in the spool, the webhook body, exec's stdin and the admin
 * API. Its id is derived from the transition itself, so that several
 * appliances that see the same evidence give the same event the same id.
 */
#ifndef VIGIL_EVENT_H
#define VIGIL_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/conf-types.h"

#define EVENT_ID_LEN 26 /* a ULID: 10 characters of time, 16 of hash */

struct event {
	enum event_kind kind;
	int64_t time_ms;     /* wall clock when vigil raised it */
	int64_t evidence_ms; /* when the evidence happened (the id's time) */
	const char *cluster;
	const char *appliance;
	const char *node;  /* NULL for cluster-wide events */
	const char *from;  /* failover */
	const char *to;	   /* failover */
	const char *state; /* the node's state after the transition */
	const char *prev;  /* its state before (in the id, not the JSON) */
	const char *reason;
	bool dry_run; /* restart_started without running anything */
	int attempt;  /* restart events: the attempt (in the id); 0: none */
	/* In the id, not the JSON: for an event only this appliance can see
	 * (vip_changed: "APPLIANCE INSTANCE"), so that another appliance's
	 * event of the same kind, state and millisecond is not taken for a
	 * duplicate of it. NULL for evidence every appliance shares. */
	const char *scope;
	char id[EVENT_ID_LEN + 1];
};

/*
 * Sets e->id: a ULID whose time is evidence_ms and whose other 80 bits
 * are a SHA-256 of (cluster, event, node, from, to, prev, state,
 * evidence_ms, the attempt of restart events: every attempt is news
 * even when the evidence has not moved, and the scope when set). Sorting
 * ids sorts events by the time of their evidence.
 */
void event_make_id(struct event *e);

/* Appends e as one JSON object (no newline) to out. */
void event_json(const struct event *e, struct buf *out);

/*
 * An event read back from its JSON: the spool holds JSON only, and the
 * channels that do not send JSON (e-mail, syslog, chat) format from this.
 * Strings are NUL-terminated UTF-8, NULL when absent or null.
 */
struct event_view {
	const char *id, *time, *event, *cluster, *node, *from, *to, *state,
	    *reason, *appliance;
	bool dry_run;
	char *mem; /* owns the strings */
};

/* Parses one flat JSON object (string, true/false/null and number
 * values; unknown members ignored). Returns 0, or -1 when it is not one
 * or out of memory; v needs event_view_free() either way. */
int event_parse(const char *json, size_t len, struct event_view *v);
void event_view_free(struct event_view *v);

#endif
