/*
 * test-cluster.c: policies/cluster.c: the active set (no preemption,
 * priorities, ties by name, active_nodes = 0), failover pairing across an
 * all-down gap, split brain and all down raised once, draining, the
 * places remembered across a restart, and the node_up / node_down events
 * of each transition.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "policies/cluster.h"
#include "tests/unit/tap.h"

static char log_buf[4096];

/* Records events as "kind node from>to;" for comparison. */
static void
record(void *ctx, const struct policy_event *ev)
{
	size_t off = strlen(log_buf);

	if (ev->kind == EVENT_FAILOVER)
		snprintf(log_buf + off, sizeof(log_buf) - off,
			 "failover %s>%s;", ev->from, ev->to);
	else if (ev->node)
		snprintf(log_buf + off, sizeof(log_buf) - off, "%s %s %s;",
			 event_kind_names[ev->kind], ev->node,
			 node_state_names[ev->state].name);
	else
		snprintf(log_buf + off, sizeof(log_buf) - off, "%s;",
			 event_kind_names[ev->kind]);
}

static const char *
events(void)
{
	static char copy[sizeof(log_buf)];

	strcpy(copy, log_buf);
	log_buf[0] = '\0';
	return copy;
}

static void
set(struct cluster_node *n, enum node_state s)
{
	n->state = s;
	n->base = s;
}

static const char *
active_names(const struct cluster *c)
{
	static char buf[256];

	buf[0] = '\0';
	for (size_t i = 0; i < c->n; i++)
		if (c->nodes[i].active)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
				 "%s%s", buf[0] ? "," : "", c->nodes[i].name);
	return buf;
}

static void
test_one_active(void)
{
	struct cluster_node nodes[] = {
		{ .name = "vro-1", .priority = 1 },
		{ .name = "vro-2", .priority = 2 },
		{ .name = "vro-3", .priority = 3 },
	};
	struct cluster c;

	cluster_init(&c, nodes, 3, 1);
	ok(!cluster_update(&c, record, NULL), "all unknown: no change");
	is_str(events(), "", "no all_down before the first verdicts");
	ok(!c.all_down, "not all down while nodes are unknown");

	set(&nodes[1], NODE_STANDBY);
	set(&nodes[2], NODE_STANDBY);
	set(&nodes[0], NODE_RUNNING);
	ok(cluster_update(&c, record, NULL), "the running node joins");
	is_str(active_names(&c), "vro-1", "active set: vro-1");
	is_str(events(), "", "starting up is no failover");
	is_int(c.generation, 1, "generation bumped");

	ok(!cluster_update(&c, record, NULL), "nothing changed: no change");
	is_int(c.generation, 1, "generation kept");

	/* vRO: the active node dies, nobody runs for a while. */
	set(&nodes[0], NODE_UNREACHABLE);
	ok(cluster_update(&c, record, NULL), "the active node leaves");
	is_str(active_names(&c), "", "active set empty");
	is_str(events(), "all_down;", "all_down raised");
	cluster_update(&c, record, NULL);
	is_str(events(), "", "all_down raised once");

	set(&nodes[0], NODE_SHUT_DOWN);
	set(&nodes[2], NODE_RUNNING); /* the standby promoted itself */
	cluster_update(&c, record, NULL);
	is_str(active_names(&c), "vro-3", "the promoted standby joins");
	is_str(events(), "failover vro-1>vro-3;",
	       "failover from the node that left to the one that joined, "
	       "across the all-down gap");
	ok(!c.all_down, "all_down cleared");

	/* vro-2 starts running too: split brain, no preemption. */
	set(&nodes[1], NODE_RUNNING);
	cluster_update(&c, record, NULL);
	is_str(active_names(&c), "vro-3", "no preemption by a better priority");
	is_str(events(), "split_brain;", "split_brain raised");
	ok(c.split_brain, "split brain flagged");
	cluster_update(&c, record, NULL);
	is_str(events(), "", "split_brain raised once");
	set(&nodes[1], NODE_STANDBY);
	cluster_update(&c, record, NULL);
	ok(!c.split_brain, "split brain clears when resolved");
	is_str(events(), "", "clearing raises nothing");

	/* vro-1 comes back running: split brain again, then vro-3 dies:
	 * vro-1 takes the place at once. */
	set(&nodes[0], NODE_RUNNING);
	cluster_update(&c, record, NULL);
	is_str(events(), "split_brain;", "split brain again");
	set(&nodes[2], NODE_HUNG);
	cluster_update(&c, record, NULL);
	is_str(active_names(&c), "vro-1", "vro-1 replaces vro-3");
	is_str(events(), "failover vro-3>vro-1;", "direct failover");
	ok(!c.split_brain, "one running node: no split brain");
	cluster_free(&c);
}

static void
test_priorities(void)
{
	struct cluster_node nodes[] = {
		{ .name = "c", .priority = 5 },
		{ .name = "b", .priority = 5 },
		{ .name = "a", .priority = 9 },
		{ .name = "d", .priority = 1 },
	};
	struct cluster c;

	cluster_init(&c, nodes, 4, 2);
	for (int i = 0; i < 4; i++)
		set(&nodes[i], NODE_RUNNING);
	cluster_update(&c, record, NULL);
	is_str(active_names(&c), "b,d",
	       "two places: lowest priority first, ties by name");
	is_str(events(), "split_brain;", "4 running for 2 places");

	set(&nodes[3], NODE_DISABLED);
	cluster_update(&c, record, NULL);
	is_str(active_names(&c), "c,b", "a disabled node leaves; next in line");
	is_str(events(), "failover d>c;", "its place is taken");
	cluster_free(&c);
}

static void
test_fewer_places(void)
{
	struct cluster_node nodes[] = {
		{ .name = "n1", .priority = 1 },
		{ .name = "n2", .priority = 2 },
		{ .name = "n3", .priority = 3 },
	};
	struct cluster c;

	cluster_init(&c, nodes, 3, 3);
	for (int i = 0; i < 3; i++)
		set(&nodes[i], NODE_RUNNING);
	cluster_update(&c, record, NULL);
	is_str(active_names(&c), "n1,n2,n3", "three places, three members");
	c.active_nodes = 1; /* a reload lowered active_nodes */
	ok(cluster_update(&c, record, NULL), "the set changes");
	is_str(active_names(&c), "n1", "the members picked last leave");
	is_str(events(), "split_brain;",
	       "no failover; three running for one place is split brain");
	cluster_free(&c);
}

static void
test_the_same_node_returns(void)
{
	struct cluster_node nodes[] = {
		{ .name = "n1", .priority = 1 },
		{ .name = "n2", .priority = 2 },
	};
	struct cluster c;

	cluster_init(&c, nodes, 2, 1);
	set(&nodes[0], NODE_RUNNING);
	set(&nodes[1], NODE_STANDBY);
	cluster_update(&c, record, NULL);
	set(&nodes[0], NODE_UNREACHABLE);
	cluster_update(&c, record, NULL);
	is_str(events(), "all_down;",
	       "a standby does not serve: nobody running is all down");
	set(&nodes[0], NODE_RUNNING);
	cluster_update(&c, record, NULL);
	is_str(active_names(&c), "n1", "the node that left comes back");
	is_str(events(), "", "coming back is no failover");
	set(&nodes[0], NODE_STANDBY);
	set(&nodes[1], NODE_RUNNING);
	cluster_update(&c, record, NULL);
	is_str(events(), "failover n1>n2;", "a later failover pairs correctly");
	cluster_free(&c);
}

static void
test_all_active(void)
{
	struct cluster_node nodes[] = {
		{ .name = "u1" },
		{ .name = "u2" },
		{ .name = "u3" },
	};
	struct cluster c;

	cluster_init(&c, nodes, 3, 0);
	for (int i = 0; i < 3; i++)
		set(&nodes[i], NODE_RUNNING);
	cluster_update(&c, record, NULL);
	is_str(active_names(&c), "u1,u2,u3", "active_nodes = 0: all running");
	set(&nodes[1], NODE_UNREACHABLE);
	cluster_update(&c, record, NULL);
	is_str(active_names(&c), "u1,u3", "a failed node leaves");
	set(&nodes[1], NODE_RUNNING);
	cluster_update(&c, record, NULL);
	is_str(active_names(&c), "u1,u2,u3", "and comes back");
	is_str(events(), "", "no failover and no split brain with all active");
	for (int i = 0; i < 3; i++)
		set(&nodes[i], NODE_UNREACHABLE);
	cluster_update(&c, record, NULL);
	is_str(events(), "all_down;", "all down");
	cluster_free(&c);
}

static void
test_draining(void)
{
	struct cluster_node nodes[] = {
		{ .name = "n1", .priority = 1 },
		{ .name = "n2", .priority = 2 },
	};
	struct cluster c;

	cluster_init(&c, nodes, 2, 1);
	set(&nodes[0], NODE_RUNNING);
	set(&nodes[1], NODE_STANDBY);
	cluster_update(&c, record, NULL);
	nodes[0].state = NODE_DRAINING; /* base stays running */
	ok(!cluster_update(&c, record, NULL),
	   "a draining node that still runs stays active");
	is_str(active_names(&c), "n1", "draining member kept");
	nodes[0].base = NODE_UNREACHABLE;
	cluster_update(&c, record, NULL);
	is_str(active_names(&c), "", "a draining node that fails leaves");

	struct cluster_node idle[] = {
		{ .name = "d",
		  .priority = 1,
		  .state = NODE_DRAINING,
		  .base = NODE_RUNNING },
	};
	struct cluster c2;

	cluster_init(&c2, idle, 1, 1);
	cluster_update(&c2, record, NULL);
	is_str(active_names(&c2), "", "a draining node never joins");
	events();
	cluster_free(&c2);
	cluster_free(&c);
}

static void
check_change(enum node_state prev, enum node_state next, const char *want)
{
	struct cluster_node n = { .name = "n", .state = next };
	char desc[128];

	cluster_node_changed(&n, prev, "why", record, NULL);
	snprintf(desc, sizeof(desc), "%s -> %s: %s",
		 node_state_names[prev].name, node_state_names[next].name,
		 want[0] ? want : "no event");
	is_str(events(), want, "%s", desc);
}

/* places NAMES: cluster_places() as "a,b" */
static const char *
places(const struct cluster *c)
{
	static char buf[256];
	const char *names[8];
	size_t k = cluster_places(c, names);

	buf[0] = '\0';
	for (size_t i = 0; i < k; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
			 i ? "," : "", names[i]);
	return buf;
}

/* vigil killed in the middle of a failover and started again. */
static void
test_restart(void)
{
	struct cluster_node nodes[] = {
		{ .name = "a", .priority = 1 },
		{ .name = "b", .priority = 2 },
	};
	const char *const before[] = { "a", "gone" };
	struct cluster c;

	/* a was active; b got its verdict first, running (it promoted
	 * while vigil was away): a's place waits for a's verdict. */
	cluster_init(&c, nodes, 2, 1);
	cluster_restore(&c, before, 2);
	ok(nodes[0].held && !nodes[1].held, "a holds its place; "
					     "unknown names are ignored");
	is_str(places(&c), "a", "a's place is remembered");
	set(&nodes[1], NODE_RUNNING);
	ok(!cluster_update(&c, record, NULL), "b running: no change yet");
	is_str(active_names(&c), "", "b does not take a's place yet");
	is_str(events(), "", "no event");
	set(&nodes[0], NODE_UNREACHABLE);
	ok(cluster_update(&c, record, NULL), "a failed: b takes its place");
	is_str(active_names(&c), "b", "b active");
	is_str(events(), "failover a>b;", "failover a -> b, as if vigil "
					  "had never stopped");
	ok(!nodes[0].held, "a holds no place any more");
	is_str(places(&c), "b", "b's place");
	cluster_free(&c);

	/* a running again: back in its place, no event, and b (running
	 * too) does not take it. */
	set(&nodes[0], NODE_UNKNOWN);
	set(&nodes[1], NODE_UNKNOWN);
	cluster_init(&c, nodes, 2, 1);
	cluster_restore(&c, before, 1);
	set(&nodes[1], NODE_RUNNING);
	cluster_update(&c, record, NULL);
	set(&nodes[0], NODE_RUNNING);
	ok(cluster_update(&c, record, NULL), "a running: a member again");
	is_str(active_names(&c), "a", "a active, no preemption by b");
	is_str(events(), "split_brain;", "no failover (b runs too: split)");
	cluster_free(&c);

	/* a had left before the kill, nobody had taken its place: it is
	 * remembered as a place still to take. */
	set(&nodes[0], NODE_RUNNING);
	set(&nodes[1], NODE_STANDBY);
	cluster_init(&c, nodes, 2, 1);
	cluster_update(&c, record, NULL);
	set(&nodes[0], NODE_SHUT_DOWN);
	cluster_update(&c, record, NULL);
	is_str(active_names(&c), "", "a left");
	is_str(places(&c), "a", "its place is still a's");
	events();
	cluster_free(&c);

	/* a's probes never settle (it answers every other one): its place
	 * is given up when the monitor says so, to b, as a failover. */
	set(&nodes[0], NODE_UNKNOWN);
	set(&nodes[1], NODE_UNKNOWN);
	cluster_init(&c, nodes, 2, 1);
	cluster_restore(&c, before, 1);
	set(&nodes[1], NODE_RUNNING);
	cluster_update(&c, record, NULL);
	is_str(active_names(&c), "", "a without a verdict: b waits");
	ok(cluster_release_held(&c), "a's time is up: it gives up its place");
	ok(!cluster_release_held(&c), "and nothing more is held");
	ok(cluster_update(&c, record, NULL), "then the cluster changes");
	is_str(active_names(&c), "b", "b active");
	is_str(events(), "failover a>b;", "as a failover from a");
	cluster_free(&c);

	/* With active_nodes = 0 nothing is held. */
	set(&nodes[0], NODE_UNKNOWN);
	cluster_init(&c, nodes, 2, 0);
	cluster_restore(&c, before, 1);
	ok(!nodes[0].held, "active_nodes = 0: no place held");
	cluster_free(&c);
}

static void
test_node_events(void)
{
	check_change(NODE_RUNNING, NODE_UNREACHABLE,
		     "node_down n unreachable;");
	check_change(NODE_RUNNING, NODE_HUNG, "node_down n hung;");
	check_change(NODE_STANDBY, NODE_SHUT_DOWN, "node_down n shut_down;");
	check_change(NODE_UNREACHABLE, NODE_SHUT_DOWN,
		     "node_down n shut_down;");
	check_change(NODE_HUNG, NODE_SHUT_DOWN, "node_down n shut_down;");
	check_change(NODE_SHUT_DOWN, NODE_UNREACHABLE,
		     "node_down n unreachable;");
	check_change(NODE_UNKNOWN, NODE_SHUT_DOWN, "node_down n shut_down;");
	check_change(NODE_SHUT_DOWN, NODE_RUNNING, "node_up n running;");
	check_change(NODE_HUNG, NODE_STANDBY, "node_up n standby;");
	check_change(NODE_RESTARTING, NODE_STANDBY, "node_up n standby;");
	check_change(NODE_UNKNOWN, NODE_RUNNING, "");
	check_change(NODE_RUNNING, NODE_STANDBY, "");
	check_change(NODE_STANDBY, NODE_RUNNING, "");
	check_change(NODE_SHUT_DOWN, NODE_RESTARTING, "");
	check_change(NODE_RUNNING, NODE_DRAINING, "");
	check_change(NODE_RUNNING, NODE_DISABLED, "");
	check_change(NODE_SHUT_DOWN, NODE_SHUT_DOWN, "");
}

int
main(void)
{
	test_one_active();
	test_priorities();
	test_fewer_places();
	test_the_same_node_returns();
	test_all_active();
	test_draining();
	test_restart();
	test_node_events();
	return tap_done();
}
