/*
 * monitor.h: the node monitor: it gathers the evidence (REST probes,
 * heartbeat rows), asks policies/ what it means, publishes the routing
 * table, and hands every event to the event sink.
 */
#ifndef VIGIL_MONITOR_H
#define VIGIL_MONITOR_H

#include <stdbool.h>

#include <ev.h>

#include "core/buf.h"
#include "core/conf-types.h"
#include "core/route.h"
#include "policies/cluster.h"

struct curlev;
struct monitor;

/* Receives every event, in order, on the main loop. */
typedef void (*monitor_event_fn)(void *ctx, const struct conf *conf,
				 const struct policy_event *ev);

/* What the monitor tells the rest of vigil, on the main loop. */
struct monitor_ops {
	monitor_event_fn event;
	/* all: this appliance's channels send every event (it leads, it is
	 * alone, or the database cannot say); else they follow the
	 * leader's deliveries (SPEC.md "Several appliances"). */
	void (*deliver)(void *ctx, bool all);
	/* While following: the leader delivered id (raised at raised, ms)
	 * to channel. */
	void (*settled)(void *ctx, const char *channel, const char *id,
			double raised);
	void *ctx;
};

/*
 * Starts watching conf's nodes (conf must outlive the monitor or be
 * replaced with monitor_reload), and, with a heartbeat database,
 * contending for the lead. Routing tables go to routes.
 */
struct monitor *monitor_start(struct ev_loop *loop, struct curlev *ce,
			      const struct conf *conf,
			      struct route_holder *routes,
			      const struct route_settings *rs,
			      const struct monitor_ops *ops);

/* This appliance's channel delivered id: recorded for the followers. */
void monitor_delivered(struct monitor *m, const char *channel, const char *id,
		       double raised);

/* Switches to a new configuration, keeping what is known of every node
 * whose name stays. Returns 0, or -1 (the old configuration stays). */
int monitor_reload(struct monitor *m, const struct conf *conf,
		   const struct route_settings *rs);

void monitor_stop(struct monitor *m);

/* SPEC.md's GET /api/status document. */
void monitor_status_json(const struct monitor *m, struct buf *out);

/* The node table as plain text for people (e-mails): one line per node
 * with its state, whether it is active, its heartbeat age and why. */
void monitor_table_text(const struct monitor *m, struct buf *out);

/* The operator's override of node name: NODE_DRAINING, NODE_DISABLED, or
 * NODE_UNKNOWN to enable it again (which also re-arms its restart hook
 * after restart_gave_up). Returns 0, or -1 when there is no such node. */
int monitor_set_override(struct monitor *m, const char *name,
			 enum node_state s);

/* The nodes' and the cluster's metrics, Prometheus text format. */
void monitor_metrics(const struct monitor *m, struct buf *out);

#endif
