/*
 * cluster.c: the active set and the cluster-wide events. A cluster such as
 * vRO runs one active node; when it fails, the standby promotes itself only
 * after the failover timeout, so a failover is usually "active node left,
 * nobody running for a while, then another node joined": the node that
 * left is remembered until its place is taken.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "policies/cluster.h"

int
cluster_init(struct cluster *c, struct cluster_node *nodes, size_t n,
	     int active_nodes)
{
	memset(c, 0, sizeof(*c));
	c->nodes = nodes;
	c->n = n;
	c->active_nodes = active_nodes;
	c->departed = calloc(n ? n : 1, sizeof(*c->departed));
	if (c->departed == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		nodes[i].active = false;
		nodes[i].held = false;
	}
	return 0;
}

void
cluster_restore(struct cluster *c, const char *const *names, size_t n)
{
	if (c->active_nodes <= 0)
		return;
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < c->n; i++)
			if (strcmp(c->nodes[i].name, names[k]) == 0)
				c->nodes[i].held = true;
}

static bool
is_departed(const struct cluster *c, size_t idx)
{
	for (size_t i = 0; i < c->n_departed; i++)
		if (c->departed[i] == idx)
			return true;
	return false;
}

bool
cluster_release_held(struct cluster *c)
{
	bool any = false;

	for (size_t i = 0; i < c->n; i++) {
		if (!c->nodes[i].held)
			continue;
		c->nodes[i].held = false;
		if (!is_departed(c, i))
			c->departed[c->n_departed++] = i;
		any = true;
	}
	return any;
}

size_t
cluster_places(const struct cluster *c, const char **names)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++)
		if (c->nodes[i].active || c->nodes[i].held || is_departed(c, i))
			names[k++] = c->nodes[i].name;
	return k;
}

void
cluster_free(struct cluster *c)
{
	free(c->departed);
	c->departed = NULL;
	c->n_departed = 0;
}

/* Serving as far as the evidence goes: running, or draining but running. */
static bool
serving(const struct cluster_node *n)
{
	return n->state == NODE_RUNNING ||
	       (n->state == NODE_DRAINING && n->base == NODE_RUNNING);
}

static void
emit_event(policy_emit_fn emit, void *ctx, enum event_kind kind,
	   const struct cluster_node *n, const char *reason)
{
	struct policy_event ev = {
		.kind = kind,
		.node = n ? n->name : NULL,
		.state = n ? n->state : NODE_UNKNOWN,
		.prev = n ? n->state : NODE_UNKNOWN,
		.reason = reason,
	};

	emit(ctx, &ev);
}

static void
departed_remove(struct cluster *c, size_t idx)
{
	for (size_t i = 0; i < c->n_departed; i++) {
		if (c->departed[i] != idx)
			continue;
		memmove(&c->departed[i], &c->departed[i + 1],
			(c->n_departed - i - 1) * sizeof(*c->departed));
		c->n_departed--;
		return;
	}
}

/* The running non-member that goes first: lowest priority, then name. */
static struct cluster_node *
best_candidate(struct cluster *c)
{
	struct cluster_node *best = NULL;

	for (size_t i = 0; i < c->n; i++) {
		struct cluster_node *n = &c->nodes[i];

		if (n->active || n->state != NODE_RUNNING)
			continue;
		if (best == NULL || n->priority < best->priority ||
		    (n->priority == best->priority &&
		     strcmp(n->name, best->name) < 0))
			best = n;
	}
	return best;
}

/* The member that goes last: highest priority, then name. */
static struct cluster_node *
worst_member(struct cluster *c)
{
	struct cluster_node *worst = NULL;

	for (size_t i = 0; i < c->n; i++) {
		struct cluster_node *n = &c->nodes[i];

		if (!n->active)
			continue;
		if (worst == NULL || n->priority > worst->priority ||
		    (n->priority == worst->priority &&
		     strcmp(n->name, worst->name) > 0))
			worst = n;
	}
	return worst;
}

bool
cluster_update(struct cluster *c, policy_emit_fn emit, void *ctx)
{
	size_t limit =
	    c->active_nodes > 0 ? (size_t)c->active_nodes : (size_t)-1;
	size_t members = 0, running = 0, unknown = 0, held = 0, places;
	struct cluster_node *n;
	bool changed = false;

	for (size_t i = 0; i < c->n; i++) {
		n = &c->nodes[i];
		/* Its place from before a restart: taken back, or left. */
		if (n->held && n->state != NODE_UNKNOWN) {
			n->held = false;
			if (serving(n)) {
				n->active = true;
				changed = true;
			} else {
				c->departed[c->n_departed++] = i;
			}
		}
		if (n->active && !serving(n)) {
			n->active = false;
			changed = true;
			/* With every running node active there are no
			 * places to take over, so no failover either. */
			if (c->active_nodes > 0)
				c->departed[c->n_departed++] = i;
		}
		members += n->active;
		held += n->held;
		running += serving(n);
		unknown += n->state == NODE_UNKNOWN;
	}

	/* Fewer places than members (a reload lowered active_nodes): the
	 * members that would be picked last leave, without a failover. */
	while (members > limit && (n = worst_member(c)) != NULL) {
		n->active = false;
		members--;
		changed = true;
	}

	/* The places of held nodes wait for their verdicts. */
	places = limit > held ? limit - held : 0;
	while (members < places && (n = best_candidate(c)) != NULL) {
		size_t idx = (size_t)(n - c->nodes);

		n->active = true;
		members++;
		changed = true;
		departed_remove(c, idx); /* back before anyone replaced it */
		if (c->n_departed > 0) {
			struct policy_event ev = {
				.kind = EVENT_FAILOVER,
				.node = c->nodes[c->departed[0]].name,
				.from = c->nodes[c->departed[0]].name,
				.to = n->name,
				.state = c->nodes[c->departed[0]].state,
				.prev = NODE_RUNNING,
				.reason = "an active node left the active set",
			};

			departed_remove(c, c->departed[0]);
			emit(ctx, &ev);
		}
	}

	bool split = c->active_nodes > 0 && running > (size_t)c->active_nodes;

	if (split && !c->split_brain)
		emit_event(emit, ctx, EVENT_SPLIT_BRAIN, NULL,
			   "more nodes are running than active_nodes allows");
	c->split_brain = split;

	/* Before every node has a verdict, nobody knows yet. */
	bool down = running == 0 && unknown == 0 && c->n > 0;

	if (down && !c->all_down)
		emit_event(emit, ctx, EVENT_ALL_DOWN, NULL,
			   "no node is running");
	c->all_down = down;

	if (changed)
		c->generation++;
	return changed;
}

static bool
down_state(enum node_state s)
{
	return s == NODE_UNREACHABLE || s == NODE_HUNG || s == NODE_SHUT_DOWN;
}

static bool
up_state(enum node_state s)
{
	return s == NODE_RUNNING || s == NODE_STANDBY;
}

void
cluster_node_changed(const struct cluster_node *n, enum node_state prev,
		     const char *why, policy_emit_fn emit, void *ctx)
{
	struct policy_event ev = {
		.node = n->name,
		.state = n->state,
		.prev = prev,
		.reason = why,
	};

	if (n->state == prev)
		return;
	if (down_state(n->state) &&
	    (up_state(prev) || down_state(prev) || prev == NODE_UNKNOWN))
		ev.kind = EVENT_NODE_DOWN;
	else if (up_state(n->state) &&
		 (down_state(prev) || prev == NODE_RESTARTING))
		ev.kind = EVENT_NODE_UP;
	else
		return;
	emit(ctx, &ev);
}
