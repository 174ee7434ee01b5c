/*
 * test-node.c: policies/node.c: every row of SPEC.md's decision table,
 * rise/fall counting, heartbeat freshness around a database outage, and
 * the sentences operators read.
 */
#include "config.h"

#include <string.h>

#include "policies/node.h"
#include "tests/unit/tap.h"

static void
test_table(void)
{
	static const struct {
		enum probe_verdict v;
		enum hb_evidence hb;
		enum node_state want;
	} rows[] = {
		{ VERDICT_RUNNING, HB_FRESH, NODE_RUNNING },
		{ VERDICT_STANDBY, HB_FRESH, NODE_STANDBY },
		{ VERDICT_FAILED, HB_FRESH, NODE_UNREACHABLE },
		{ VERDICT_RUNNING, HB_STALE, NODE_HUNG },
		{ VERDICT_STANDBY, HB_STALE, NODE_HUNG },
		{ VERDICT_FAILED, HB_STALE, NODE_SHUT_DOWN },
		/* database unknown: as if fresh, the probe alone decides */
		{ VERDICT_RUNNING, HB_UNKNOWN, NODE_RUNNING },
		{ VERDICT_STANDBY, HB_UNKNOWN, NODE_STANDBY },
		{ VERDICT_FAILED, HB_UNKNOWN, NODE_UNREACHABLE },
		/* before the first probe verdict: unknown, whatever else */
		{ VERDICT_NONE, HB_FRESH, NODE_UNKNOWN },
		{ VERDICT_NONE, HB_STALE, NODE_UNKNOWN },
		{ VERDICT_NONE, HB_UNKNOWN, NODE_UNKNOWN },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		is_int(node_decide(rows[i].v, rows[i].hb), rows[i].want,
		       "probe %s + heartbeat %s = %s",
		       probe_verdict_names[rows[i].v].name,
		       hb_evidence_names[rows[i].hb].name,
		       node_state_names[rows[i].want].name);

	ok(node_state_failed(NODE_SHUT_DOWN) && node_state_failed(NODE_HUNG) &&
	       node_state_failed(NODE_UNREACHABLE) &&
	       node_state_failed(NODE_RESTARTING),
	   "failed states");
	ok(!node_state_failed(NODE_RUNNING) &&
	       !node_state_failed(NODE_STANDBY) &&
	       !node_state_failed(NODE_UNKNOWN) &&
	       !node_state_failed(NODE_DRAINING) &&
	       !node_state_failed(NODE_DISABLED),
	   "states that are not failures");
	for (int s = 0; s < NODE__COUNT; s++)
		ok(node_state_names[s].name && node_state_names[s].desc,
		   "state %d has a name and a description", s);
}

static void
test_rise_fall(void)
{
	struct probe_track t = { 0 };
	int rise = 2, fall = 3;

	ok(!probe_track_feed(&t, VERDICT_RUNNING, NULL, rise, fall),
	   "one running result is not a verdict (rise 2)");
	is_int(t.verdict, VERDICT_NONE, "still no verdict");
	ok(probe_track_feed(&t, VERDICT_RUNNING, NULL, rise, fall),
	   "the second running result is");
	is_int(t.verdict, VERDICT_RUNNING, "verdict running");

	ok(!probe_track_feed(&t, VERDICT_FAILED, "timeout", rise, fall),
	   "failure 1 of 3");
	ok(!probe_track_feed(&t, VERDICT_FAILED, "timeout", rise, fall),
	   "failure 2 of 3");
	ok(!probe_track_feed(&t, VERDICT_RUNNING, NULL, rise, fall),
	   "a success in between resets the count");
	is_int(t.failures, 0, "consecutive failures reset");
	ok(!probe_track_feed(&t, VERDICT_FAILED, "refused", rise, fall),
	   "failure 1 again");
	ok(!probe_track_feed(&t, VERDICT_FAILED, "refused", rise, fall),
	   "failure 2 again");
	ok(probe_track_feed(&t, VERDICT_FAILED, "connection refused", rise,
			    fall),
	   "failure 3: verdict changes");
	is_int(t.verdict, VERDICT_FAILED, "verdict failed");
	is_int(t.failures, 3, "three consecutive failures");
	is_str(t.cause, "connection refused", "the last cause is kept");
	ok(!probe_track_feed(&t, VERDICT_FAILED, "refused", rise, fall),
	   "more failures do not change the verdict");
	is_int(t.failures, 4, "but are counted");

	ok(!probe_track_feed(&t, VERDICT_STANDBY, NULL, rise, fall),
	   "standby 1 of 2");
	ok(!probe_track_feed(&t, VERDICT_RUNNING, NULL, rise, fall),
	   "a different good result restarts the count");
	ok(!probe_track_feed(&t, VERDICT_STANDBY, NULL, rise, fall),
	   "standby 1 of 2 again");
	ok(probe_track_feed(&t, VERDICT_STANDBY, NULL, rise, fall),
	   "standby 2 of 2");
	is_int(t.verdict, VERDICT_STANDBY, "verdict standby");

	struct probe_track one = { 0 };

	ok(probe_track_feed(&one, VERDICT_FAILED, "x", 1, 1),
	   "rise 1 / fall 1: the first failure decides");
	ok(probe_track_feed(&one, VERDICT_RUNNING, NULL, 1, 1),
	   "rise 1: the first success decides");

	struct probe_track first = { 0 };

	ok(!probe_track_feed(&first, VERDICT_FAILED, "x", 2, 3) &&
	       !probe_track_feed(&first, VERDICT_FAILED, "x", 2, 3),
	   "a node that never answered needs fall failures too");
	ok(probe_track_feed(&first, VERDICT_FAILED, "x", 2, 3),
	   "then it is failed");
}

static struct hb_input
hb(bool up, bool row, double age, double now, double back, double watched)
{
	struct hb_input in = {
		.source_up = up,
		.have_row = row,
		.age_ms = age,
		.timeout_ms = 1000,
		.now_ms = now,
		.back_ms = back,
		.watched_ms = watched,
	};
	return in;
}

static void
test_heartbeat(void)
{
	struct hb_input in;

	in = hb(true, true, 0, 5000, -1, 0);
	is_int(hb_judge(&in), HB_FRESH, "age 0 is fresh");
	in = hb(true, true, 1000, 5000, -1, 0);
	is_int(hb_judge(&in), HB_FRESH, "age = timeout is still fresh");
	in = hb(true, true, 1001, 5000, -1, 0);
	is_int(hb_judge(&in), HB_STALE, "age > timeout is stale");
	in = hb(true, true, 1001, 10, -1, 0);
	is_int(hb_judge(&in), HB_STALE,
	       "at start, an old beat is stale at once (no outage)");
	in = hb(false, true, 99999, 5000, -1, 0);
	is_int(hb_judge(&in), HB_UNKNOWN, "database down: unknown, not stale");
	in = hb(false, false, 0, 99999, -1, 0);
	is_int(hb_judge(&in), HB_UNKNOWN, "database down, no row: unknown");

	/* The database was away from t=10 s to t=40 s: beats are 30 s old
	 * when it comes back, and that is not the nodes' fault. */
	in = hb(true, true, 30000, 40000, 40000, 0);
	is_int(hb_judge(&in), HB_UNKNOWN,
	       "just back: an old beat is not stale yet");
	in = hb(true, true, 30900, 40900, 40000, 0);
	is_int(hb_judge(&in), HB_UNKNOWN,
	       "back for less than the timeout: not stale");
	in = hb(true, true, 31000, 41000, 40000, 0);
	is_int(hb_judge(&in), HB_UNKNOWN,
	       "back for exactly the timeout: not stale");
	in = hb(true, true, 31001, 41001, 40000, 0);
	is_int(hb_judge(&in), HB_STALE,
	       "back for longer than the timeout and the beat is old: stale");
	in = hb(true, true, 200, 40500, 40000, 0);
	is_int(hb_judge(&in), HB_FRESH, "a new beat after the outage is fresh");

	in = hb(true, false, 0, 500, -1, 0);
	is_int(hb_judge(&in), HB_UNKNOWN,
	       "no row, watched for less than the timeout: unknown");
	in = hb(true, false, 0, 1001, -1, 0);
	is_int(hb_judge(&in), HB_STALE,
	       "no row, watched for longer than the timeout: stale");
	in = hb(true, false, 0, 50500, 50000, 0);
	is_int(hb_judge(&in), HB_UNKNOWN,
	       "no row, database back for less than the timeout: unknown");
	in = hb(true, false, 0, 51001, 50000, 0);
	is_int(hb_judge(&in), HB_STALE,
	       "no row, database back for longer than the timeout: stale");
	in = hb(true, false, 0, 3000, -1, 2500);
	is_int(hb_judge(&in), HB_UNKNOWN,
	       "a node added by a reload is watched from then on");
}

static void
test_why(void)
{
	struct probe_track t = { .verdict = VERDICT_FAILED, .failures = 3 };
	struct node_evidence e = {
		.verdict = VERDICT_FAILED,
		.probe = &t,
		.hb = HB_STALE,
		.have_age = true,
		.age_ms = 61300,
		.interval_ms = 5000,
	};
	char buf[256];

	strcpy(t.cause, "connection refused");
	is_str(node_why(NODE_SHUT_DOWN, &e, buf, sizeof(buf)),
	       "missed 12 heartbeats (last 61.3 s ago) and REST probe failed 3 "
	       "times: connection refused",
	       "shut_down why, as in SPEC.md");

	e.verdict = VERDICT_RUNNING;
	is_str(node_why(NODE_HUNG, &e, buf, sizeof(buf)),
	       "missed 12 heartbeats (last 61.3 s ago) but REST probe says "
	       "RUNNING",
	       "hung why");

	e.verdict = VERDICT_FAILED;
	e.hb = HB_FRESH;
	e.age_ms = 1200;
	t.failures = 1;
	strcpy(t.cause, "timeout after 1000 ms");
	is_str(node_why(NODE_UNREACHABLE, &e, buf, sizeof(buf)),
	       "REST probe failed 1 time: timeout after 1000 ms; heartbeat "
	       "fresh (last 1.2 s ago)",
	       "unreachable why");

	e.verdict = VERDICT_RUNNING;
	e.hb = HB_UNKNOWN;
	is_str(node_why(NODE_RUNNING, &e, buf, sizeof(buf)),
	       "REST probe says RUNNING, heartbeat unknown",
	       "running with the database away");

	e.verdict = VERDICT_STANDBY;
	e.hb = HB_FRESH;
	e.age_ms = 800;
	is_str(node_why(NODE_STANDBY, &e, buf, sizeof(buf)),
	       "REST probe says STANDBY, heartbeat fresh (last 0.8 s ago)",
	       "standby why");

	e.verdict = VERDICT_FAILED;
	e.hb = HB_STALE;
	e.have_age = false;
	is_str(node_why(NODE_SHUT_DOWN, &e, buf, sizeof(buf)),
	       "missed heartbeats (no heartbeat row) and REST probe failed 1 "
	       "time: timeout after 1000 ms",
	       "shut_down without a heartbeat row");

	is_str(node_why(NODE_UNKNOWN, &e, buf, sizeof(buf)),
	       "waiting for the first REST probe verdict", "unknown why");
	is_str(node_why(NODE_DISABLED, &e, buf, sizeof(buf)),
	       "operator: out of service", "disabled why");
	node_why(NODE_SHUT_DOWN, &e, buf, 16);
	is_int(strlen(buf), 15, "a short buffer cuts the sentence, safely");
}

int
main(void)
{
	test_table();
	test_rise_fall();
	test_heartbeat();
	test_why();
	return tap_done();
}
