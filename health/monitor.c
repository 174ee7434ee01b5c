/*
 * monitor.c: evidence in, decisions out. Every probe result and every
 * heartbeat poll re-evaluates the nodes with policies/node.c and the
 * cluster with policies/cluster.c; a changed active set is published as a
 * new routing table.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/memo.h"
#include "health/heartbeat.h"
#include "health/leader.h"
#include "health/monitor.h"
#include "health/probe.h"
#include "notify/hooks.h"
#include "policies/flap.h"
#include "policies/node.h"
#include "policies/pacing.h"
#include "policies/passive.h"

enum hb_source {
	SOURCE_NONE = 0, /* no database configured */
	SOURCE_CONNECTING,
	SOURCE_UP,
	SOURCE_DOWN,
};

static const char *const hb_source_names[] = {
	[SOURCE_NONE] = "none",
	[SOURCE_CONNECTING] = "connecting",
	[SOURCE_UP] = "up",
	[SOURCE_DOWN] = "down",
};

struct mon_node {
	const struct conf_node *conf;
	struct probe_track probe;
	double latency_ms; /* of the last answer; < 0: none */
	bool hb_row;	   /* the last poll had a row for it */
	double hb_age_ms;  /* at hb_polled */
	double hb_polled;  /* ev_now() of that poll */
	int64_t hb_beat_ms; /* when it beat, by the database's clock; < 0: ? */
	double watched;	   /* ev_now() when watching began */
	enum hb_evidence hb;
	enum node_state override; /* NODE_UNKNOWN: none */
	struct passive_track passive;
	struct node_stats *stats; /* shared with the proxy workers */
	double since;		  /* wall clock of the last state change */
	struct flap_track flap;
	struct hook_run *hook;	 /* its restart hook, while it runs */
	bool claiming;		 /* its restart attempt is being claimed */
	int64_t incident;	 /* the beat that made it shut_down (ms) */
	double episode_ms; /* evidence of the node_down that began its outage */
	unsigned long ejections; /* passive ejections so far */
};

struct monitor {
	struct ev_loop *loop;
	struct curlev *ce;
	const struct conf *conf;
	struct route_holder *routes;
	struct route_settings settings;
	struct monitor_ops ops;
	struct leader *leader; /* NULL without a heartbeat database */
	enum leadership lead;
	struct prober *prober;
	struct heartbeat *heartbeat;
	enum hb_source source;
	double back; /* ev_now() when the database came back; < 0: never */
	size_t n;
	struct mon_node *nodes;
	struct cluster_node *cnodes;
	struct cluster cluster;
	unsigned long published; /* cluster generation of the last table */
	unsigned long tables;	 /* tables published so far */
	unsigned long events[EVENT__COUNT]; /* raised (not held back) */
	unsigned long hook_runs[3];	    /* by enum hook_result */
	ev_timer eject_end;	      /* the next passive ejection to run out */
	ev_timer passive_poll;	      /* reads the workers' failure counters */
	struct restart_track *tracks; /* restart pacing, one per node */
	struct pacing pacing;
	ev_timer restart_timer; /* the next back-off end or deadline */
	double started;		/* wall clock */
	char *memo_dir;		/* spool_dir at start: where ACTIVE_MEMO is */
	struct buf places;	/* ACTIVE_MEMO as last written */
	bool places_saved;	/* places holds what the file holds */
	bool memo_failing;	/* it could not be written; logged once */
	ev_timer hold_end;	/* held places from before a restart run out */
};

/* The nodes that hold places in the active set, one a line, so that a
 * failover vigil did not see to its end (killed, restarted) is still
 * told when it starts again. */
#define ACTIVE_MEMO "active"

/* Seconds of a monotonic clock: beats age by it, and neither an NTP step
 * nor a resumed VM may age them (ev_now() follows the wall clock). */
static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum hook_result {
	HOOK_OK = 0, /* exited 0 */
	HOOK_FAILED, /* could not start, exited non-zero, killed, timed out */
	HOOK_DRY_RUN,
};

static const char *const hook_result_names[] = {
	[HOOK_OK] = "ok",
	[HOOK_FAILED] = "failed",
	[HOOK_DRY_RUN] = "dry_run",
};

static double
node_age_ms(const struct monitor *m, const struct mon_node *mn)
{
	return mn->hb_age_ms + (mono_now() - mn->hb_polled) * 1000.0;
}

static long
node_index(const struct monitor *m, const char *name)
{
	for (size_t i = 0; name != NULL && i < m->n; i++)
		if (strcmp(m->cnodes[i].name, name) == 0)
			return (long)i;
	return -1;
}

static bool
up_state(enum node_state s)
{
	return s == NODE_RUNNING || s == NODE_STANDBY || s == NODE_UNKNOWN ||
	       s == NODE_DRAINING;
}

/*
 * Every event leaves through here. Its evidence time (part of its id) is
 * the node's last beat as the database dates it, when the database has
 * one: several appliances reading the same rows then give the transition
 * one id. The node events of a flapping node are held back (flap damping).
 */
static void
emit(void *ctx, const struct policy_event *ev)
{
	struct monitor *m = ctx;
	struct policy_event e = *ev;
	long i = node_index(m, ev->node);

	if (i >= 0 && m->nodes[i].flap.flapping &&
	    (ev->kind == EVENT_NODE_UP || ev->kind == EVENT_NODE_DOWN)) {
		m->nodes[i].flap.suppressed++;
		log_info("event %s: node %s is flapping; held back",
			 event_kind_names[ev->kind], ev->node);
		return;
	}
	if (e.evidence_ms == 0 && i >= 0 && m->nodes[i].hb_row &&
	    m->source == SOURCE_UP) {
		double beat = ev_time() * 1000.0 - node_age_ms(m, &m->nodes[i]);

		/* Without the database's clock: vigil's own, to the second. */
		e.evidence_ms = m->nodes[i].hb_beat_ms > 0
				    ? (double)m->nodes[i].hb_beat_ms
				    : floor(beat / 1000.0) * 1000.0;
	}
	/* A node back is dated by the start of its outage, which every
	 * appliance saw alike, rather than by the beats that flow again
	 * (each appliance sees the recovery after its own latest one);
	 * and the state it came back from is left out, since only the
	 * leader shows restarting. */
	if (i >= 0 && ev->kind == EVENT_NODE_DOWN && up_state(ev->prev))
		m->nodes[i].episode_ms = e.evidence_ms;
	if (i >= 0 && ev->kind == EVENT_NODE_UP &&
	    m->nodes[i].episode_ms > 0) {
		e.evidence_ms = m->nodes[i].episode_ms;
		e.prev = e.state;
		m->nodes[i].episode_ms = 0;
	}
	m->events[e.kind]++;
	m->ops.event(m->ops.ctx, m->conf, &e);
}

static enum hb_evidence
judge(const struct monitor *m, const struct mon_node *mn)
{
	struct hb_input in = {
		.source_up = m->source == SOURCE_UP,
		.have_row = mn->hb_row,
		.age_ms = mn->hb_row ? node_age_ms(m, mn) : 0,
		.timeout_ms = (double)conf_failover_timeout_ms(m->conf),
		.now_ms = mono_now() * 1000.0,
		.back_ms = m->back < 0 ? -1 : m->back * 1000.0,
		.watched_ms = mn->watched * 1000.0,
	};

	if (!m->conf->heartbeat_enabled)
		return HB_UNKNOWN;
	return hb_judge(&in);
}

static bool
routable(struct monitor *m, size_t i)
{
	return m->cnodes[i].active &&
	       !passive_ejected(&m->nodes[i].passive, mono_now() * 1000.0);
}

/* The routing table: the active set less the nodes passively ejected,
 * unless that would leave none (policies/passive.c). */
static void
publish(struct monitor *m)
{
	size_t n, k = 0;
	bool *active = calloc(m->n * 3 + 1, sizeof(*active));
	bool *ejected = active + m->n, *routed = ejected + m->n;
	double now = mono_now() * 1000.0;
	struct route_table *t;

	if (active == NULL) {
		log_error("routing table: out of memory; keeping the last one");
		return;
	}
	for (size_t i = 0; i < m->n; i++) {
		active[i] = m->cnodes[i].active;
		ejected[i] = passive_ejected(&m->nodes[i].passive, now);
	}
	n = passive_routed(active, ejected, m->n, routed);
	t = route_table_new(n, ++m->tables, &m->settings);
	if (t == NULL) {
		log_error("routing table: out of memory; keeping the last one");
		free(active);
		return;
	}
	for (size_t i = 0; i < m->n; i++) {
		if (!routed[i])
			continue;
		if (route_node_set(&t->nodes[k++], m->nodes[i].conf,
				   m->cnodes[i].state == NODE_DRAINING,
				   m->nodes[i].stats) == -1)
			log_error("routing table: out of memory");
	}
	free(active);
	route_publish(m->routes, t);
	m->published = m->cluster.generation;
	log_info("routing table %lu (active set generation %lu): %zu node%s",
		 t->generation, m->cluster.generation, n, n == 1 ? "" : "s");
}

/* Arms the timer for the earliest ejection still running. */
static void
arm_eject_end(struct monitor *m)
{
	double now = mono_now() * 1000.0, next = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct passive_track *p = &m->nodes[i].passive;

		if (passive_ejected(p, now) &&
		    (next == 0 || p->ejected_until < next))
			next = p->ejected_until;
	}
	ev_timer_stop(m->loop, &m->eject_end);
	if (next > 0) {
		ev_timer_set(&m->eject_end, (next - now) / 1000.0 + 0.001, 0.);
		ev_timer_start(m->loop, &m->eject_end);
	}
}

static void
on_eject_end(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct monitor *m = w->data;

	publish(m);
	arm_eject_end(m);
}

static void check_settled(struct monitor *m);

/*
 * Reads the failures the workers counted: a node with passive
 * .consecutive_failures in a row leaves routing for eject_ms, unless it is
 * the last routable node.
 */
static void
on_passive_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct monitor *m = w->data;
	double now = mono_now() * 1000.0;

	check_settled(m);
	for (size_t i = 0; i < m->n; i++) {
		struct node_stats *st = m->nodes[i].stats;
		unsigned f = atomic_load(&st->failures);
		size_t others = 0;

		/* Out of the active set, the probes have the say: what the
		 * proxy saw before must not eject the node when it is back. */
		if (!m->cnodes[i].active) {
			passive_clear(&m->nodes[i].passive);
			if (f != 0)
				atomic_store(&st->failures, 0);
			continue;
		}
		if (f < (unsigned)m->conf->passive_consecutive_failures)
			continue;
		for (size_t j = 0; j < m->n; j++)
			others += j != i && routable(m, j);
		if (!passive_judge(&m->nodes[i].passive, f,
				   m->conf->passive_consecutive_failures,
				   m->conf->passive_eject_ms, now, others > 0))
			continue;
		atomic_store(&st->failures, 0);
		m->nodes[i].ejections++;
		log_warn("node %s: ejected from routing for %d ms after %u "
			 "consecutive errors (last: %s)",
			 m->cnodes[i].name, m->conf->passive_eject_ms, f,
			 passive_outcome_names[atomic_load(&st->last_failure) %
					       PASSIVE__COUNT]
			     .desc);
		publish(m);
		arm_eject_end(m);
	}
}

static void
node_evidence(const struct monitor *m, const struct mon_node *mn,
	      struct node_evidence *e)
{
	*e = (struct node_evidence){
		.verdict = mn->probe.verdict,
		.probe = &mn->probe,
		.hb = mn->hb,
		.have_age = mn->hb_row && m->source == SOURCE_UP,
		.age_ms = mn->hb_row ? node_age_ms(m, mn) : 0,
		.interval_ms = m->conf->heartbeat_interval_ms,
	};
}

/* Back after a restart: running, or standby with a fresh heartbeat (an
 * active/standby cluster brings a restarted node back as standby). */
static bool
node_back(enum node_state base, enum hb_evidence hb)
{
	return base == NODE_RUNNING || (base == NODE_STANDBY && hb == HB_FRESH);
}

static bool
restarting(const struct monitor *m, size_t i)
{
	enum restart_phase ph = m->tracks[i].phase;

	return m->conf->restart_enabled &&
	       (ph == RESTART_RUNNING || ph == RESTART_WAITING);
}

/* The state node i shows: the operator's override, else restarting while
 * its hook runs or is awaited on shut_down evidence, else the evidence. */
static enum node_state
shown_state(const struct monitor *m, size_t i)
{
	const struct cluster_node *cn = &m->cnodes[i];

	if (m->nodes[i].override != NODE_UNKNOWN)
		return m->nodes[i].override;
	if (cn->base == NODE_SHUT_DOWN && restarting(m, i))
		return NODE_RESTARTING;
	return cn->base;
}

/* An event the monitor raises about node i itself (flapping, restarts):
 * its state as shown now, unchanged; the caller adjusts what differs. */
static struct policy_event
node_event(const struct monitor *m, size_t i, enum event_kind kind,
	   const char *reason)
{
	struct policy_event ev = {
		.kind = kind,
		.node = m->cnodes[i].name,
		.state = m->cnodes[i].state,
		.prev = m->cnodes[i].state,
		.reason = reason,
	};

	return ev;
}

static void
pacing_emit(void *ctx, const struct pacing_event *pe)
{
	struct monitor *m = ctx;
	char reason[800];
	struct policy_event ev = node_event(m, pe->node, pe->kind, reason);

	ev.state = shown_state(m, pe->node); /* after this outcome */
	ev.attempt = pe->attempt;

	snprintf(reason, sizeof(reason), "attempt %d: %s", pe->attempt,
		 pe->reason);
	if (m->leader != NULL && (pe->kind == EVENT_RESTART_SUCCEEDED ||
				  pe->kind == EVENT_RESTART_FAILED))
		leader_record_outcome(m->leader, ev.node,
				      m->nodes[pe->node].incident, pe->attempt,
				      pe->kind == EVENT_RESTART_SUCCEEDED);
	log_info("node %s: %s", ev.node, reason);
	emit(m, &ev);
}

static void
flapping_began(struct monitor *m, size_t i)
{
	char reason[256];
	struct policy_event ev = node_event(m, i, EVENT_NODE_FLAPPING, reason);

	snprintf(reason, sizeof(reason),
		 "more than %d state changes in %.0f s; its node_up and "
		 "node_down events are held back until it is stable for %.0f s",
		 m->conf->flap_changes, m->conf->flap_window_ms / 1000.0,
		 m->conf->flap_window_ms / 1000.0);
	log_warn("node %s: flapping: %s", ev.node, reason);
	emit(m, &ev);
}

/* Flapping nodes that have been stable for the window: node_stable. */
static void
check_settled(struct monitor *m)
{
	for (size_t i = 0; i < m->n; i++) {
		unsigned changes, held;
		char reason[256];
		struct policy_event ev =
		    node_event(m, i, EVENT_NODE_STABLE, reason);

		if (!m->nodes[i].flap.flapping ||
		    !flap_settled(&m->nodes[i].flap, mono_now() * 1000.0,
				  m->conf->flap_window_ms, &changes, &held))
			continue;
		snprintf(reason, sizeof(reason),
			 "stable as %s for %.0f s after %u state changes; %u "
			 "node_up/node_down event%s held back",
			 node_state_names[ev.state].name,
			 m->conf->flap_window_ms / 1000.0, changes, held,
			 held == 1 ? " was" : "s were");
		log_info("node %s: %s", ev.node, reason);
		emit(m, &ev);
	}
}

/* Re-judges node i; logs and raises its events when its state changed. */
static void
evaluate_node(struct monitor *m, size_t i)
{
	struct mon_node *mn = &m->nodes[i];
	struct cluster_node *cn = &m->cnodes[i];
	enum node_state prev = cn->state;
	struct node_evidence e;
	char why[320];

	enum node_state prev_base = cn->base;

	mn->hb = judge(m, mn);
	cn->base = node_decide(mn->probe.verdict, mn->hb);
	/* The incident a restart belongs to: the beat after which the node
	 * fell silent, the same on every appliance (0: no beat known). */
	if (cn->base == NODE_SHUT_DOWN && prev_base != NODE_SHUT_DOWN)
		mn->incident = mn->hb_row && mn->hb_beat_ms > 0 ? mn->hb_beat_ms
								 : 0;
	cn->state = shown_state(m, i);
	if (m->conf->restart_enabled)
		pacing_observe(&m->pacing, i,
			       mn->override != NODE_UNKNOWN ? mn->override
							    : cn->base,
			       node_back(cn->base, mn->hb), mono_now() * 1000.0,
			       pacing_emit, m);
	if (cn->state == prev)
		return;
	mn->since = ev_time();
	node_evidence(m, mn, &e);
	node_why(cn->state, &e, why, sizeof(why));
	log_info("node %s: %s -> %s: %s", cn->name, node_state_names[prev].name,
		 node_state_names[cn->state].name, why);
	/* shut_down and restarting are one verdict shown two ways: going
	 * between them is a restart's progress, not flapping. */
	if (prev != NODE_UNKNOWN &&
	    !((prev == NODE_SHUT_DOWN || prev == NODE_RESTARTING) &&
	      (cn->state == NODE_SHUT_DOWN || cn->state == NODE_RESTARTING)) &&
	    flap_change(&mn->flap, mono_now() * 1000.0, m->conf->flap_changes,
			m->conf->flap_window_ms))
		flapping_began(m, i);
	cluster_node_changed(cn, prev, why, emit, m);
}

static void restart_pump(struct monitor *m);

/* Writes ACTIVE_MEMO when the places changed. A failure costs only the
 * failover event of a restart in the middle of a failover: logged once. */
static void
save_places(struct monitor *m)
{
	struct buf b = { 0 };
	const char **names = calloc(m->n + 1, sizeof(*names));
	size_t k;

	/* With active_nodes = 0 there are no places to remember. */
	if (names == NULL || m->conf->active_nodes <= 0) {
		free(names);
		return;
	}
	k = cluster_places(&m->cluster, names);
	for (size_t i = 0; i < k; i++)
		buf_printf(&b, "%s\n", names[i]);
	free(names);
	if (b.oom || (m->places_saved && b.len == m->places.len &&
		      (b.len == 0 || memcmp(b.p, m->places.p, b.len) == 0))) {
		buf_free(&b);
		return;
	}
	if (memo_write(m->memo_dir, ACTIVE_MEMO, b.len ? b.p : "", b.len) ==
	    -1) {
		if (!m->memo_failing)
			log_warn("cannot write %s/%s: %s; a restart in the "
				 "middle of a failover would not tell it",
				 m->memo_dir, ACTIVE_MEMO, strerror(errno));
		m->memo_failing = true;
		buf_free(&b);
		return;
	}
	m->memo_failing = false;
	m->places_saved = true;
	buf_free(&m->places);
	m->places = b;
}

static void evaluate_cluster(struct monitor *m);

/* The held nodes had time for a verdict (consistent probes give one within
 * max(rise, fall) probes): their places go to others. */
static void
on_hold_end(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct monitor *m = w->data;

	(void)loop;
	(void)revents;
	for (size_t i = 0; i < m->n; i++)
		if (m->cnodes[i].held)
			log_warn("node %s: no verdict since vigil started; it "
				 "gives up its place in the active set",
				 m->cnodes[i].name);
	if (cluster_release_held(&m->cluster))
		evaluate_cluster(m);
}

/* What the last run left in ACTIVE_MEMO: those nodes keep their places
 * until their first verdicts. */
static void
restore_places(struct monitor *m)
{
	const struct conf *c = m->conf;
	int probes = 0; /* > 0 when a place is held */
	size_t n;
	char **names = memo_read(m->memo_dir, ACTIVE_MEMO, &n);

	if (names == NULL) {
		if (errno != ENOENT)
			log_warn("cannot read %s/%s: %s", m->memo_dir,
				 ACTIVE_MEMO, strerror(errno));
		return;
	}
	cluster_restore(&m->cluster, (const char *const *)names, n);
	free(names);
	for (size_t i = 0; i < m->n; i++) {
		if (!m->cnodes[i].held)
			continue;
		log_info("node %s: in the active set when vigil stopped; its "
			 "place waits for its first verdict",
			 m->cnodes[i].name);
		probes = c->probe_rise > c->probe_fall ? c->probe_rise
						       : c->probe_fall;
	}
	if (probes > 0) {
		ev_timer_set(&m->hold_end,
			     ((probes + 1) * (double)c->probe_interval_ms +
			      c->probe_timeout_ms) /
				 1000.0,
			     0.0);
		ev_timer_start(m->loop, &m->hold_end);
	}
}

/* After nodes changed: the cluster's turn, the routing table, and the
 * restart hooks. */
static void
evaluate_cluster(struct monitor *m)
{
	cluster_update(&m->cluster, emit, m);
	save_places(m);
	if (m->cluster.generation != m->published)
		publish(m);
	restart_pump(m);
}

static void
on_hook_done(void *ctx, const char *node, bool ok, const char *detail)
{
	struct monitor *m = ctx;
	long i = node_index(m, node);

	if (i < 0) {
		log_info("hook %s: ended (%s); the node is no longer "
			 "configured",
			 node, detail);
		return;
	}
	m->nodes[i].hook = NULL;
	m->hook_runs[ok ? HOOK_OK : HOOK_FAILED]++;
	log_info("hook %s: %s", node, detail);
	if (m->leader != NULL)
		leader_record_hook(m->leader, node, m->nodes[i].incident,
				   m->tracks[i].attempt, ok, detail);
	pacing_exited(&m->pacing, (size_t)i, ok, detail, mono_now() * 1000.0,
		      pacing_emit, m);
	evaluate_node(m, (size_t)i);
	evaluate_cluster(m);
}

/* Runs node i's hook for attempt (started in pacing already), or its dry
 * run; a hook that cannot start is a failed attempt. */
static void
restart_run(struct monitor *m, size_t i, int attempt)
{
	struct mon_node *mn = &m->nodes[i];
	struct node_evidence e;
	char why[320], err[256], reason[400];
	struct hook_node hn = {
		.node = m->cnodes[i].name,
		.address = mn->conf->addr.text,
		.reason = why,
		.attempt = attempt,
		.hb_age_ms = mn->hb_row && m->source == SOURCE_UP
				 ? node_age_ms(m, mn)
				 : -1,
	};
	struct policy_event ev;
	int rc;

	node_evidence(m, mn, &e);
	node_why(m->cnodes[i].base, &e, why, sizeof(why));
	rc = hook_run(m->loop, m->conf, &hn, on_hook_done, m, &mn->hook, err,
		      sizeof(err));
	if (rc != 0)
		m->hook_runs[rc == 1 ? HOOK_DRY_RUN : HOOK_FAILED]++;
	if (rc == -1) {
		log_error("hook %s: cannot start %s: %s", hn.node,
			  m->conf->restart_command[0], err);
		snprintf(reason, sizeof(reason), "cannot start %s: %s",
			 m->conf->restart_command[0], err);
		if (m->leader != NULL)
			leader_record_hook(m->leader, hn.node, mn->incident,
					   attempt, false, reason);
		pacing_exited(&m->pacing, i, false, reason, mono_now() * 1000.0,
			      pacing_emit, m);
		evaluate_node(m, i);
		return;
	}
	evaluate_node(m, i);
	snprintf(reason, sizeof(reason), "attempt %d%s: %s", hn.attempt,
		 rc == 1 ? " (dry run: nothing was run)" : "", why);
	ev = node_event(m, i, EVENT_RESTART_STARTED, reason);
	ev.dry_run = rc == 1;
	ev.attempt = hn.attempt;
	emit(m, &ev);
}

/* The database's answer to node's claim (SPEC.md "Several appliances"):
 * run the hook, or carry on with the attempt another appliance ran. */
static void
on_claimed(void *ctx, const char *node, const struct restart_record *rec)
{
	struct monitor *m = ctx;
	long i = node_index(m, node);
	double now = mono_now() * 1000.0, left;
	const struct conf *c = m->conf;
	enum adopt_outcome how = ADOPT_WAITING;
	struct restart_track *t;

	if (i < 0 || !m->nodes[i].claiming)
		return;
	m->nodes[i].claiming = false;
	t = &m->tracks[i];
	if (rec == NULL || (rec->granted && t->back)) {
		/* No answer: asked again in a second, if still leading. */
		pacing_unstart(&m->pacing, (size_t)i, now + 1000.0);
	} else if (rec->granted) {
		restart_run(m, (size_t)i, t->attempt);
	} else {
		if (rec->outcome == 1)
			how = ADOPT_SUCCEEDED;
		else if (rec->outcome == 0 || rec->hook == 0)
			how = ADOPT_FAILED;
		/* Its hook exited 0: the wait runs from its end. Still
		 * running, or its appliance died: the hook's timeout and the
		 * kill's grace, then the wait, all from its start. */
		if (rec->hook == 1)
			left = c->restart_wait_running_ms - rec->ended_ms;
		else
			left = c->restart_timeout_ms + 5000.0 +
			       c->restart_wait_running_ms - rec->started_ms;
		log_info("node %s: attempt %d of its restart was started by "
			 "%s %.1f s ago; this appliance carries it on instead "
			 "of running the hook again",
			 node, rec->attempts, rec->by ? rec->by : "?",
			 rec->started_ms / 1000.0);
		pacing_adopt(&m->pacing, (size_t)i, rec->attempts, how,
			     now + (left > 0 ? left : 0), now, pacing_emit, m);
	}
	evaluate_node(m, (size_t)i);
	evaluate_cluster(m);
}

/* Starts node i's next attempt: with several appliances, claimed on the
 * database first, so that no attempt runs twice. Returns false when it
 * could not be started now. */
static bool
restart_start(struct monitor *m, size_t i)
{
	struct mon_node *mn = &m->nodes[i];
	int attempt = pacing_started(&m->pacing, i, mono_now() * 1000.0);

	if (m->leader == NULL || m->pacing.dry_run ||
	    !leader_records(m->leader)) {
		restart_run(m, i, attempt);
		return true;
	}
	if (leader_claim(m->leader, m->cnodes[i].name, mn->incident, attempt,
			 on_claimed, m) == -1) {
		pacing_unstart(&m->pacing, i, mono_now() * 1000.0 + 1000.0);
		return false;
	}
	mn->claiming = true;
	evaluate_node(m, i);
	return true;
}

/* Hooks run on the leader only, and on an appliance alone. */
static bool
may_run_hooks(const struct monitor *m)
{
	return m->lead == LEAD_SOLE || m->lead == LEAD_LEADER;
}

static void
restart_pump(struct monitor *m)
{
	double now = mono_now() * 1000.0, next;
	long i;

	if (!m->conf->restart_enabled)
		return;
	pacing_tick(&m->pacing, now, pacing_emit, m);
	while (may_run_hooks(m) && (i = pacing_due(&m->pacing, now)) >= 0)
		if (!restart_start(m, (size_t)i))
			break;
	/* A wait that ran out shows the node shut_down again. */
	for (size_t k = 0; k < m->n; k++)
		if (m->cnodes[k].state != shown_state(m, k))
			evaluate_node(m, k);
	ev_timer_stop(m->loop, &m->restart_timer);
	next = pacing_next(&m->pacing, now);
	if (next >= 0) {
		ev_timer_set(&m->restart_timer, (next - now) / 1000.0 + 0.001,
			     0.);
		ev_timer_start(m->loop, &m->restart_timer);
	}
}

static void
on_restart_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct monitor *m = w->data;

	evaluate_cluster(m);
}

static void
evaluate(struct monitor *m)
{
	for (size_t i = 0; i < m->n; i++)
		evaluate_node(m, i);
	evaluate_cluster(m);
}

static void
on_probe(void *ctx, const struct probe_result *r)
{
	struct monitor *m = ctx;
	struct mon_node *mn = &m->nodes[r->node];

	mn->latency_ms = r->latency_ms;
	probe_track_feed(&mn->probe, r->verdict, r->detail, m->conf->probe_rise,
			 m->conf->probe_fall);
	/* One node's probe changes only that node; the heartbeat poll
	 * (at least every second) re-judges them all. */
	evaluate_node(m, r->node);
	evaluate_cluster(m);
}

static const char *
hb_key(const struct conf_node *c)
{
	return c->heartbeat_id ? c->heartbeat_id : c->name;
}

static struct mon_node *
node_by_heartbeat(struct monitor *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct conf_node *c = m->nodes[i].conf;

		if (strcmp(hb_key(c), key) == 0)
			return &m->nodes[i];
	}
	return NULL;
}

/* The database is readable (up) or not; raises the event on a change. */
static void
source_changed(struct monitor *m, bool up, const char *why)
{
	struct policy_event ev = {
		.kind = up ? EVENT_HEARTBEAT_SOURCE_UP
			   : EVENT_HEARTBEAT_SOURCE_DOWN,
		.reason = why ? why : "the heartbeat query answers again",
	};
	enum hb_source was = m->source;

	m->source = up ? SOURCE_UP : SOURCE_DOWN;
	if (up && was == SOURCE_DOWN)
		m->back = mono_now();
	/* The first answer after start is no news; losing it always is. */
	if (was != m->source && (was == SOURCE_DOWN || !up))
		emit(m, &ev);
}

static void
on_rows(void *ctx, const struct hb_row *rows, size_t n)
{
	struct monitor *m = ctx;
	double now = mono_now();

	for (size_t i = 0; i < m->n; i++)
		m->nodes[i].hb_row = false;
	for (size_t i = 0; i < n; i++) {
		struct mon_node *mn = node_by_heartbeat(m, rows[i].node);

		if (mn == NULL)
			continue; /* a node vigil does not front */
		/* Several rows for one node: its latest beat counts. */
		if (mn->hb_row && rows[i].age_ms >= mn->hb_age_ms)
			continue;
		mn->hb_row = true;
		mn->hb_age_ms = rows[i].age_ms;
		mn->hb_beat_ms = rows[i].beat_ms;
		mn->hb_polled = now;
	}
	source_changed(m, true, NULL);
	evaluate(m);
}

static void
on_source(void *ctx, bool up, const char *why)
{
	struct monitor *m = ctx;

	source_changed(m, up, why);
	evaluate(m);
}

static void
on_lead(void *ctx, enum leadership now, const char *holder, const char *prev)
{
	struct monitor *m = ctx;
	enum leadership was = m->lead;
	char reason[256];
	struct policy_event ev = { .kind = EVENT_LEADER_CHANGED,
				   .reason = reason };

	m->lead = now;
	m->ops.deliver(m->ops.ctx,
		       now != LEAD_FOLLOWER && now != LEAD_CONNECTING);
	if (now != LEAD_LEADER || was == LEAD_LEADER)
		return;
	/* Taking the lead from another appliance is news; being first to
	 * start, or taking it back after a blip of this one's session, is
	 * not. */
	if (prev != NULL || was == LEAD_FOLLOWER) {
		snprintf(reason, sizeof(reason),
			 "%s leads cluster %s now%s%s", m->conf->name,
			 m->conf->cluster_name,
			 prev ? "; the last leader was " : "",
			 prev ? prev : "");
		emit(m, &ev);
	}
	/* Hooks that waited for a leader, and attempts to carry on. */
	restart_pump(m);
}

static void
on_settled(void *ctx, const char *channel, const char *id, double raised)
{
	struct monitor *m = ctx;

	m->ops.settled(m->ops.ctx, channel, id, raised);
}

/* Contends for the lead when a heartbeat database is configured; alone
 * otherwise. Returns -1 out of memory. */
static int
lead_start(struct monitor *m)
{
	static const struct leader_sink proto = { on_lead, on_settled, NULL };
	struct leader_sink sink = proto;

	if (!m->conf->heartbeat_enabled) {
		m->lead = LEAD_SOLE;
		m->ops.deliver(m->ops.ctx, true);
		return 0;
	}
	sink.ctx = m;
	m->lead = LEAD_CONNECTING;
	m->ops.deliver(m->ops.ctx, false);
	m->leader = leader_start(m->loop, m->conf, &sink);
	return m->leader ? 0 : -1;
}

/* A reload keeps the session (and the lock) unless it names another
 * database, cluster or appliance. */
static void
lead_reload(struct monitor *m)
{
	if (m->leader != NULL && leader_reload(m->leader, m->conf) == 0)
		return;
	if (m->leader != NULL) {
		leader_stop(m->leader); /* the lock goes with the session */
		m->leader = NULL;
		for (size_t i = 0; i < m->n; i++)
			if (m->nodes[i].claiming) {
				m->nodes[i].claiming = false;
				pacing_unstart(&m->pacing, i,
					       mono_now() * 1000.0);
			}
	}
	if (lead_start(m) == -1)
		log_error("leadership: out of memory; this appliance neither "
			  "leads nor follows until the next reload");
}

void
monitor_delivered(struct monitor *m, const char *channel, const char *id,
		  double raised)
{
	if (m->leader != NULL && m->lead == LEAD_LEADER)
		leader_delivered(m->leader, channel, id, raised);
}

static int
start_sources(struct monitor *m)
{
	static const struct hb_sink sink_proto = { on_rows, on_source, NULL };
	struct hb_sink sink = sink_proto;

	m->prober = prober_start(m->loop, m->ce, m->conf, on_probe, m);
	if (m->prober == NULL)
		return -1;
	if (m->conf->heartbeat_enabled) {
		sink.ctx = m;
		if (m->source == SOURCE_NONE)
			m->source = SOURCE_CONNECTING;
		m->heartbeat = heartbeat_start(m->loop, m->conf, &sink);
		if (m->heartbeat == NULL)
			return -1;
	} else {
		m->source = SOURCE_NONE;
	}
	return 0;
}

static void
stop_sources(struct monitor *m)
{
	prober_stop(m->prober);
	heartbeat_stop(m->heartbeat);
	m->prober = NULL;
	m->heartbeat = NULL;
}

/* Fresh node arrays for conf, taking over what old knew by name. */
static int
build_nodes(struct monitor *m, const struct conf *conf,
	    const struct monitor *old)
{
	size_t n = conf->n_nodes;

	/* Nothing of old's cluster may be freed through m on failure. */
	memset(&m->cluster, 0, sizeof(m->cluster));
	m->nodes = calloc(n, sizeof(*m->nodes));
	m->cnodes = calloc(n, sizeof(*m->cnodes));
	m->tracks = calloc(n, sizeof(*m->tracks));
	if (m->nodes == NULL || m->cnodes == NULL || m->tracks == NULL)
		return -1;
	m->n = n;
	for (size_t i = 0; i < n; i++) {
		struct mon_node *mn = &m->nodes[i];
		struct cluster_node *cn = &m->cnodes[i];

		mn->conf = &conf->nodes[i];
		mn->latency_ms = -1;
		mn->watched = mono_now();
		mn->since = ev_time();
		cn->name = conf->nodes[i].name;
		cn->priority = conf->nodes[i].priority;
		for (size_t j = 0; old && j < old->n; j++) {
			if (strcmp(old->cnodes[j].name, cn->name) != 0)
				continue;
			*mn = old->nodes[j];
			mn->conf = &conf->nodes[i];
			mn->stats = node_stats_ref(old->nodes[j].stats);
			/* A heartbeat row vigil has not watched yet gets a
			 * full failover timeout before it can be stale. */
			if (!old->conf->heartbeat_enabled ||
			    strcmp(hb_key(old->nodes[j].conf),
				   hb_key(mn->conf)) != 0) {
				mn->watched = mono_now();
				mn->hb_row = false;
			}
			cn->state = old->cnodes[j].state;
			cn->base = old->cnodes[j].base;
			m->tracks[i] = old->tracks[j];
		}
		if (mn->stats == NULL && (mn->stats = node_stats_new()) == NULL)
			return -1;
	}
	if (cluster_init(&m->cluster, m->cnodes, n, conf->active_nodes) == -1)
		return -1;
	pacing_init(&m->pacing, m->tracks, n, conf);
	/* Members stay members across a reload (no preemption). */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; old && j < old->n; j++)
			if (strcmp(old->cnodes[j].name, m->cnodes[i].name) ==
			    0) {
				m->cnodes[i].active = old->cnodes[j].active;
				m->cnodes[i].held = old->cnodes[j].held &&
						    conf->active_nodes > 0;
			}
	if (old != NULL) {
		/* A failover in progress (the active node left, its place
		 * not taken yet) survives the reload. */
		for (size_t k = 0; k < old->cluster.n_departed; k++) {
			const char *gone =
			    old->cnodes[old->cluster.departed[k]].name;

			for (size_t i = 0; i < n; i++)
				if (strcmp(m->cnodes[i].name, gone) == 0)
					m->cluster
					    .departed[m->cluster.n_departed++] =
					    i;
		}
		m->cluster.all_down = old->cluster.all_down;
		m->cluster.split_brain = old->cluster.split_brain;
		m->cluster.generation = old->cluster.generation;
		m->published = old->published;
	}
	return 0;
}

static void
free_nodes(struct monitor *m)
{
	for (size_t i = 0; m->nodes != NULL && i < m->n; i++)
		node_stats_unref(m->nodes[i].stats);
	cluster_free(&m->cluster);
	free(m->nodes);
	free(m->cnodes);
	free(m->tracks);
	m->nodes = NULL;
	m->cnodes = NULL;
	m->tracks = NULL;
	m->n = 0;
}

struct monitor *
monitor_start(struct ev_loop *loop, struct curlev *ce, const struct conf *conf,
	      struct route_holder *routes, const struct route_settings *rs,
	      const struct monitor_ops *ops)
{
	struct monitor *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->loop = loop;
	m->ce = ce;
	m->conf = conf;
	m->routes = routes;
	route_settings_copy(&m->settings, rs);
	m->ops = *ops;
	m->back = -1;
	m->started = ev_time();
	ev_init(&m->eject_end, on_eject_end);
	m->eject_end.data = m;
	ev_timer_init(&m->passive_poll, on_passive_poll, 0.1, 0.1);
	m->passive_poll.data = m;
	ev_init(&m->restart_timer, on_restart_timer);
	m->restart_timer.data = m;
	ev_init(&m->hold_end, on_hold_end);
	m->hold_end.data = m;
	ev_timer_start(loop, &m->passive_poll);
	m->memo_dir = strdup(conf->spool_dir);
	if (m->memo_dir == NULL || build_nodes(m, conf, NULL) == -1) {
		monitor_stop(m);
		return NULL;
	}
	restore_places(m);
	if (start_sources(m) == -1 || lead_start(m) == -1) {
		monitor_stop(m);
		return NULL;
	}
	publish(m); /* an empty table: nothing is routed before verdicts */
	return m;
}

int
monitor_reload(struct monitor *m, const struct conf *conf,
	       const struct route_settings *rs)
{
	struct monitor old = *m;

	m->conf = conf;
	route_settings_copy(&m->settings, rs);
	if (build_nodes(m, conf, &old) == -1) {
		free_nodes(m);
		route_settings_release(&m->settings);
		*m = old;
		return -1;
	}
	/* The new sources start before the old stop: a failure leaves the
	 * old configuration running, whole. */
	m->prober = NULL;
	m->heartbeat = NULL;
	if (!conf->heartbeat_enabled)
		m->source = SOURCE_NONE;
	else if (m->source == SOURCE_NONE)
		m->source = SOURCE_CONNECTING;
	if (start_sources(m) == -1) {
		stop_sources(m);
		free_nodes(m);
		route_settings_release(&m->settings);
		*m = old;
		return -1;
	}
	stop_sources(&old);
	for (size_t j = 0; j < old.n; j++)
		if (old.nodes[j].hook != NULL &&
		    node_index(m, old.cnodes[j].name) < 0) {
			log_warn("hook %s: the node left the configuration; "
				 "killing its restart hook",
				 old.cnodes[j].name);
			hook_abandon(old.nodes[j].hook);
		}
	free_nodes(&old);
	route_settings_release(&old.settings);
	lead_reload(m);
	evaluate(m);
	/* A node that left the configuration may have left the set. */
	if (m->cluster.generation == m->published)
		publish(m);
	return 0;
}

void
monitor_stop(struct monitor *m)
{
	if (m == NULL)
		return;
	leader_stop(m->leader);
	stop_sources(m);
	for (size_t i = 0; i < m->n; i++)
		hook_abandon(m->nodes[i].hook);
	ev_timer_stop(m->loop, &m->eject_end);
	ev_timer_stop(m->loop, &m->passive_poll);
	ev_timer_stop(m->loop, &m->restart_timer);
	ev_timer_stop(m->loop, &m->hold_end);
	free_nodes(m);
	route_settings_release(&m->settings);
	buf_free(&m->places);
	free(m->memo_dir);
	free(m);
}

/* SPEC.md: leader while it holds the lock, or with no database. */
static bool
monitor_leads(const struct monitor *m)
{
	return m->lead == LEAD_LEADER || m->lead == LEAD_SOLE;
}

void
monitor_status_json(const struct monitor *m, struct buf *b)
{
	const struct conf *c = m->conf;
	bool first = true;

	buf_puts(b, "{\"cluster\":");
	buf_json_str(b, c->cluster_name);
	buf_puts(b, ",\"appliance\":");
	buf_json_str(b, c->name);
	buf_puts(b, ",\"version\":\"" PACKAGE_VERSION "\",\"started\":");
	buf_json_time(b, (long long)(m->started * 1000.0));
	buf_printf(b, ",\"leader\":%s,\"leadership\":\"%s\",\"leader_appliance\":",
		   monitor_leads(m) ? "true" : "false",
		   leadership_names[m->lead]);
	buf_json_str(b, m->lead == LEAD_SOLE ? c->name
					     : leader_holder(m->leader));
	buf_printf(b, ",\"generation\":%lu,\"active\":[",
		   m->cluster.generation);
	for (size_t i = 0; i < m->n; i++) {
		if (!m->cnodes[i].active)
			continue;
		if (!first)
			buf_puts(b, ",");
		buf_json_str(b, m->cnodes[i].name);
		first = false;
	}
	buf_printf(b,
		   "],\"active_nodes\":%d,\"all_down\":%s,\"split_brain\":%s,"
		   "\"heartbeat_source\":\"%s\",\"nodes\":[",
		   c->active_nodes, m->cluster.all_down ? "true" : "false",
		   m->cluster.split_brain ? "true" : "false",
		   hb_source_names[m->source]);
	for (size_t i = 0; i < m->n; i++) {
		const struct mon_node *mn = &m->nodes[i];
		const struct cluster_node *cn = &m->cnodes[i];
		struct node_evidence e;
		char why[320];

		buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
		buf_json_str(b, cn->name);
		buf_puts(b, ",\"address\":");
		buf_json_str(b, mn->conf->addr.text);
		node_evidence(m, mn, &e);
		buf_printf(b, ",\"state\":\"%s\",\"why\":",
			   node_state_names[cn->state].name);
		buf_json_str(b, node_why(cn->state, &e, why, sizeof(why)));
		buf_printf(b, ",\"active\":%s,\"since\":",
			   cn->active ? "true" : "false");
		buf_json_time(b, (long long)(mn->since * 1000.0));
		buf_printf(b, ",\"probe\":{\"verdict\":\"%s\",\"cause\":",
			   probe_verdict_names[mn->probe.verdict].name);
		buf_json_str(b, mn->probe.verdict == VERDICT_FAILED
				    ? mn->probe.cause
				    : NULL);
		if (mn->latency_ms >= 0)
			buf_printf(b, ",\"latency_ms\":%.1f}", mn->latency_ms);
		else
			buf_puts(b, ",\"latency_ms\":null}");
		if (mn->hb_row && m->source == SOURCE_UP)
			buf_printf(b, ",\"heartbeat_age_ms\":%.0f",
				   node_age_ms(m, mn));
		else
			buf_puts(b, ",\"heartbeat_age_ms\":null");
		buf_printf(b, ",\"ejected\":%s",
			   passive_ejected(&mn->passive, mono_now() * 1000.0)
			       ? "true"
			       : "false");
		buf_puts(b, ",\"heartbeat\":");
		buf_json_str(b, hb_evidence_names[mn->hb].name);
		buf_printf(b,
			   ",\"connections\":%u,\"requests\":%lu,"
			   "\"restart\":{\"attempts\":%d,\"state\":\"%s\"}}",
			   atomic_load(&mn->stats->connections),
			   atomic_load(&mn->stats->requests),
			   m->tracks[i].attempts,
			   restart_phase_names[m->tracks[i].phase].name);
	}
	buf_puts(b, "]}");
}

void
monitor_table_text(const struct monitor *m, struct buf *b)
{
	buf_printf(b, "%-20s %-12s %-6s %-10s %s\n", "NODE", "STATE", "ACTIVE",
		   "HEARTBEAT", "WHY");
	for (size_t i = 0; i < m->n; i++) {
		const struct mon_node *mn = &m->nodes[i];
		const struct cluster_node *cn = &m->cnodes[i];
		struct node_evidence e;
		char why[320], age[32] = "-";

		node_evidence(m, mn, &e);
		node_why(cn->state, &e, why, sizeof(why));
		if (mn->hb_row && m->source == SOURCE_UP)
			snprintf(age, sizeof(age), "%.1f s",
				 node_age_ms(m, mn) / 1000.0);
		buf_printf(b, "%-20s %-12s %-6s %-10s %s\n", cn->name,
			   node_state_names[cn->state].name,
			   cn->active ? "yes" : "no", age, why);
	}
	buf_printf(b, "\nappliance %s: %s\n", m->conf->name,
		   leadership_names[m->lead]);
	buf_printf(b, "heartbeat database: %s%s%s\n",
		   hb_source_names[m->source],
		   m->cluster.all_down ? "; ALL NODES DOWN" : "",
		   m->cluster.split_brain ? "; SPLIT BRAIN" : "");
}

int
monitor_set_override(struct monitor *m, const char *name, enum node_state s)
{
	long i = node_index(m, name);

	if (i < 0)
		return -1;
	if (s == NODE_UNKNOWN && m->conf->restart_enabled) {
		pacing_rearm(&m->pacing, (size_t)i, mono_now() * 1000.0);
		/* Attempts from 1 again: a new incident for the claims, or
		 * the database would say they were run already. */
		m->nodes[i].incident = (int64_t)(ev_time() * 1000.0);
	}
	m->nodes[i].override = s;
	log_info("node %s: %s by the operator", name,
		 s == NODE_DRAINING   ? "draining"
		 : s == NODE_DISABLED ? "disabled"
				      : "enabled");
	evaluate_node(m, (size_t)i);
	evaluate_cluster(m);
	return 0;
}

/* A label value: backslash, double quote and new line escaped. */
static void
label(struct buf *b, const char *v)
{
	buf_add(b, "\"", 1);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_add(b, "\\", 1);
		if (*v == '\n')
			buf_add(b, "\\n", 2);
		else
			buf_add(b, v, 1);
	}
	buf_add(b, "\"", 1);
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample per node: name{node="…"} value. */
static void
node_sample(struct buf *b, const char *name, const char *node, double v)
{
	buf_printf(b, "%s{node=", name);
	label(b, node);
	buf_printf(b, "} %.17g\n", v);
}

void
monitor_metrics(const struct monitor *m, struct buf *b)
{
	double now = mono_now() * 1000.0;

	family(b, "vigil_node_state", "gauge",
	       "1 for the node's current state, 0 for the others");
	for (size_t i = 0; i < m->n; i++)
		for (int s = 0; s < NODE__COUNT; s++) {
			buf_puts(b, "vigil_node_state{node=");
			label(b, m->cnodes[i].name);
			buf_printf(b, ",state=\"%s\"} %d\n",
				   node_state_names[s].name,
				   m->cnodes[i].state == (enum node_state)s);
		}
	family(b, "vigil_node_active", "gauge",
	       "1 while the node is in the active set");
	for (size_t i = 0; i < m->n; i++)
		node_sample(b, "vigil_node_active", m->cnodes[i].name,
			    m->cnodes[i].active);
	family(b, "vigil_node_ejected", "gauge",
	       "1 while the proxy's own errors keep the node out of routing");
	for (size_t i = 0; i < m->n; i++)
		node_sample(b, "vigil_node_ejected", m->cnodes[i].name,
			    passive_ejected(&m->nodes[i].passive, now));
	family(b, "vigil_node_heartbeat_age_seconds", "gauge",
	       "age of the node's heartbeat row by the database's clock");
	for (size_t i = 0; i < m->n; i++)
		if (m->nodes[i].hb_row && m->source == SOURCE_UP)
			node_sample(b, "vigil_node_heartbeat_age_seconds",
				    m->cnodes[i].name,
				    node_age_ms(m, &m->nodes[i]) / 1000.0);
	family(b, "vigil_node_probe_latency_seconds", "gauge",
	       "how long the node's last REST probe answer took");
	for (size_t i = 0; i < m->n; i++)
		if (m->nodes[i].latency_ms >= 0)
			node_sample(b, "vigil_node_probe_latency_seconds",
				    m->cnodes[i].name,
				    m->nodes[i].latency_ms / 1000.0);
	family(b, "vigil_node_connections", "gauge",
	       "client connections forwarded to the node now");
	for (size_t i = 0; i < m->n; i++)
		node_sample(b, "vigil_node_connections", m->cnodes[i].name,
			    atomic_load(&m->nodes[i].stats->connections));
	family(b, "vigil_requests_total", "counter",
	       "answers the node gave to clients, by status code");
	for (size_t i = 0; i < m->n; i++)
		for (int c = 0; c < 500; c++) {
			unsigned long v =
			    atomic_load(&m->nodes[i].stats->codes[c]);

			if (v == 0)
				continue;
			buf_puts(b, "vigil_requests_total{node=");
			label(b, m->cnodes[i].name);
			buf_printf(b, ",code=\"%d\"} %lu\n", c + 100, v);
		}
	family(b, "vigil_node_requests_total", "counter",
	       "requests sent to the node, answered or not");
	for (size_t i = 0; i < m->n; i++)
		node_sample(b, "vigil_node_requests_total", m->cnodes[i].name,
			    (double)atomic_load(&m->nodes[i].stats->requests));
	family(b, "vigil_node_retries_total", "counter",
	       "requests that failed on the node and went to another one");
	for (size_t i = 0; i < m->n; i++)
		node_sample(b, "vigil_node_retries_total", m->cnodes[i].name,
			    (double)atomic_load(&m->nodes[i].stats->retries));
	family(b, "vigil_node_ejections_total", "counter",
	       "times the proxy's own errors took the node out of routing");
	for (size_t i = 0; i < m->n; i++)
		node_sample(b, "vigil_node_ejections_total", m->cnodes[i].name,
			    (double)m->nodes[i].ejections);
	family(b, "vigil_node_restart_attempts", "gauge",
	       "failed restart attempts since the node was last back");
	for (size_t i = 0; i < m->n; i++)
		node_sample(b, "vigil_node_restart_attempts", m->cnodes[i].name,
			    m->tracks[i].attempts);
	family(b, "vigil_failovers_total", "counter",
	       "failovers: a node took the place of an active node");
	buf_printf(b, "vigil_failovers_total %lu\n", m->events[EVENT_FAILOVER]);
	family(b, "vigil_events_total", "counter", "events raised, by event");
	for (int k = 0; k < EVENT__COUNT; k++)
		buf_printf(b, "vigil_events_total{event=\"%s\"} %lu\n",
			   event_kind_names[k], m->events[k]);
	family(b, "vigil_hook_runs_total", "counter",
	       "restart hook runs, by result");
	for (int r = 0; r < 3; r++)
		buf_printf(b, "vigil_hook_runs_total{result=\"%s\"} %lu\n",
			   hook_result_names[r], m->hook_runs[r]);
	family(b, "vigil_cluster_all_down", "gauge",
	       "1 while no node is running");
	buf_printf(b, "vigil_cluster_all_down %d\n", m->cluster.all_down);
	family(b, "vigil_cluster_split_brain", "gauge",
	       "1 while more nodes run than active_nodes allows");
	buf_printf(b, "vigil_cluster_split_brain %d\n", m->cluster.split_brain);
	family(b, "vigil_heartbeat_source_up", "gauge",
	       "1 while the heartbeat query answers (absent: no database)");
	if (m->source != SOURCE_NONE)
		buf_printf(b, "vigil_heartbeat_source_up %d\n",
			   m->source == SOURCE_UP);
	family(b, "vigil_leader", "gauge",
	       "1 while this appliance sends notifications and runs hooks");
	buf_printf(b, "vigil_leader %d\n", monitor_leads(m));
}
