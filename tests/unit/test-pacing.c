/*
 * test-pacing.c: policies/pacing.c: which states arm a restart, sequential
 * and parallel pacing, first come first run, back-off and its cap,
 * max_attempts, giving up and re-arming, dry runs, waiting for the node
 * to be back, pacing_next and reloads.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "policies/pacing.h"
#include "tests/unit/tap.h"

#define N 3

static char log_buf[4096];
static char last_reason[256];

/* Records events as "kind node #attempt;"; keeps the last reason. */
static void
record(void *ctx, const struct pacing_event *ev)
{
	size_t off = strlen(log_buf);

	(void)ctx;
	snprintf(log_buf + off, sizeof(log_buf) - off, "%s %zu #%d;",
		 event_kind_names[ev->kind], ev->node, ev->attempt);
	snprintf(last_reason, sizeof(last_reason), "%s",
		 ev->reason ? ev->reason : "(null)");
}

static const char *
events(void)
{
	static char copy[sizeof(log_buf)];

	strcpy(copy, log_buf);
	log_buf[0] = '\0';
	return copy;
}

static struct conf
settings(int max_attempts, int backoff_ms, int wait_ms, bool sequential,
	 bool dry_run)
{
	struct conf c;

	memset(&c, 0, sizeof(c));
	c.restart_enabled = true;
	c.restart_max_attempts = max_attempts;
	c.restart_backoff_ms = backoff_ms;
	c.restart_wait_running_ms = wait_ms;
	c.restart_sequential = sequential;
	c.restart_dry_run = dry_run;
	return c;
}

static void
setup(struct pacing *p, struct restart_track *t, int max_attempts,
      int backoff_ms, int wait_ms, bool sequential, bool dry_run)
{
	struct conf c =
	    settings(max_attempts, backoff_ms, wait_ms, sequential, dry_run);

	memset(t, 0, sizeof(*t) * N);
	memset(p, 0, sizeof(*p));
	pacing_init(p, t, N, &c);
	events();
}

static void
see(struct pacing *p, size_t i, enum node_state s, double now)
{
	bool back = s == NODE_RUNNING;

	pacing_observe(p, i, s, back, now, record, NULL);
}

static void
test_names(void)
{
	static const char *const want[] = { "idle", "pending", "running",
					    "waiting", "gave_up" };

	for (int i = 0; i < RESTART__COUNT; i++) {
		is_str(restart_phase_names[i].name, want[i], "phase %d named",
		       i);
		ok(restart_phase_names[i].desc &&
		       restart_phase_names[i].desc[0],
		   "phase %s described", want[i]);
	}
}

static void
test_init(void)
{
	struct restart_track t[N];
	struct pacing p;
	struct conf c = settings(0, -5, -1, false, false);

	memset(t, 0, sizeof(t));
	pacing_init(&p, t, N, &c);
	is_int(p.max_attempts, 1, "max_attempts at least 1");
	is_int(p.backoff_ms, 0, "negative backoff_ms taken as 0");
	is_int(p.wait_running_ms, 0, "negative wait_running_ms taken as 0");
	is_int(p.next_order, 1, "fresh tracks: orders start at 1");
	ok(p.t == t && p.n == N, "tracks borrowed");

	c = settings(7, 1500, 9000, true, true);
	pacing_init(&p, t, N, &c);
	is_int(p.max_attempts, 7, "max_attempts read");
	is_int(p.backoff_ms, 1500, "backoff_ms read");
	is_int(p.wait_running_ms, 9000, "wait_running_ms read");
	ok(p.sequential, "sequential read");
	ok(p.dry_run, "dry_run read");
}

static void
test_arming(void)
{
	static const enum node_state never[] = {
		NODE_UNKNOWN, NODE_RUNNING,  NODE_STANDBY,  NODE_UNREACHABLE,
		NODE_HUNG,    NODE_DRAINING, NODE_DISABLED,
	};
	struct restart_track t[N];
	struct pacing p;

	setup(&p, t, 3, 1000, 5000, true, false);
	for (size_t k = 0; k < sizeof(never) / sizeof(never[0]); k++) {
		pacing_observe(&p, 0, never[k], false, 10, record, NULL);
		is_int(t[0].phase, RESTART_IDLE, "%s does not arm",
		       node_state_names[never[k]].name);
		is_int(pacing_due(&p, 10), -1, "%s: nothing due",
		       node_state_names[never[k]].name);
	}
	is_str(events(), "", "no events while arming nothing");

	/* The first verdict may be shut_down: a zeroed track was never
	 * shut down, so this is entering it. */
	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 1, NODE_SHUT_DOWN, 0);
	is_int(t[1].phase, RESTART_PENDING, "first verdict shut_down arms");
	is_int(pacing_due(&p, 0), 1, "due at once: no back-off on the first");
	is_int(t[1].attempts, 0, "no attempt counted by arming");

	see(&p, 1, NODE_SHUT_DOWN, 50);
	is_int(t[1].phase, RESTART_PENDING, "shut_down again: still pending");

	/* Leaving before the hook started disarms; entering arms again. */
	see(&p, 1, NODE_HUNG, 100);
	is_int(t[1].phase, RESTART_IDLE, "leaving shut_down disarms");
	is_int(pacing_due(&p, 100), -1, "nothing due once disarmed");
	see(&p, 1, NODE_SHUT_DOWN, 200);
	is_int(t[1].phase, RESTART_PENDING, "hung -> shut_down arms");
	see(&p, 1, NODE_UNREACHABLE, 300);
	is_int(t[1].phase, RESTART_IDLE, "-> unreachable disarms");
	see(&p, 1, NODE_RUNNING, 400);
	see(&p, 1, NODE_SHUT_DOWN, 500);
	is_int(t[1].phase, RESTART_PENDING, "running -> shut_down arms");
	see(&p, 1, NODE_RESTARTING, 600);
	is_int(t[1].phase, RESTART_PENDING,
	       "restarting counts as shut_down: not disarmed");
	is_str(events(), "", "arming and disarming raise nothing");
}

/* Runs node i's hook to exit 0: WAITING. */
static int
start_ok(struct pacing *p, size_t i, double now)
{
	int n = pacing_started(p, i, now);

	pacing_exited(p, i, true, NULL, now + 10, record, NULL);
	return n;
}

static void
test_sequential(void)
{
	struct restart_track t[N];
	struct pacing p;

	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 0);
	is_int(pacing_due(&p, 0), 0, "node 0 first");
	is_int(pacing_started(&p, 0, 0), 1, "attempt 1");
	is_int(t[0].phase, RESTART_RUNNING, "node 0 running");
	is_int(pacing_due(&p, 0), -1, "node 1 waits while node 0 RUNNING");
	pacing_exited(&p, 0, true, NULL, 100, record, NULL);
	is_int(t[0].phase, RESTART_WAITING, "exit 0: waiting");
	is_int((long long)t[0].deadline, 5100, "deadline wait_running_ms on");
	is_str(events(), "", "exit 0 raises nothing yet");
	is_int(pacing_due(&p, 200), -1, "node 1 waits while node 0 WAITING");
	see(&p, 0, NODE_SHUT_DOWN, 300);
	is_int(t[0].phase, RESTART_WAITING, "still shut_down: still waiting");
	see(&p, 0, NODE_RUNNING, 400);
	is_str(events(), "restart_succeeded 0 #1;", "back: succeeded");
	is_str(last_reason, "back as running after attempt 1",
	       "succeeded's reason");
	is_int(t[0].phase, RESTART_IDLE, "succeeded: idle");
	is_int(pacing_due(&p, 400), 1, "node 1 starts after node 0 is back");

	/* Standby with a fresh heartbeat is back too. */
	start_ok(&p, 1, 500);
	is_int(pacing_due(&p, 600), -1, "nothing else due");
	pacing_observe(&p, 1, NODE_STANDBY, false, 700, record, NULL);
	is_int(t[1].phase, RESTART_WAITING,
	       "standby with a stale heartbeat is not back");
	is_str(events(), "", "nothing raised");
	pacing_observe(&p, 1, NODE_STANDBY, true, 800, record, NULL);
	is_str(events(), "restart_succeeded 1 #1;", "standby, back: succeeded");
	is_str(last_reason, "back as standby after attempt 1",
	       "the reason names the state");

	/* wait_running_ms runs out: the slot frees. */
	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 0);
	start_ok(&p, 0, 0); /* deadline 5010 */
	pacing_tick(&p, 5009, record, NULL);
	is_str(events(), "", "no failure before the deadline");
	is_int(pacing_due(&p, 5009), -1, "node 1 still waits");
	pacing_tick(&p, 5010, record, NULL);
	is_str(events(), "restart_failed 0 #1;", "deadline: failed");
	is_str(last_reason, "not back within 5000 ms of the restart",
	       "the wait's reason");
	is_int(t[0].phase, RESTART_PENDING, "still shut_down: pending again");
	is_int(t[0].attempts, 1, "one failed attempt");
	is_int(pacing_due(&p, 5010), 1, "node 1 starts after the wait");
	pacing_tick(&p, 9999, record, NULL);
	is_str(events(), "", "a failure is raised once");

	/* A node that gave up, is idle or pending does not hold the slot. */
	setup(&p, t, 1, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_exited(&p, 0, false, "exit 1", 10, record, NULL);
	is_int(t[0].phase, RESTART_GAVE_UP, "node 0 gave up");
	see(&p, 1, NODE_SHUT_DOWN, 20);
	is_int(pacing_due(&p, 20), 1, "GAVE_UP does not hold the slot");
	see(&p, 2, NODE_SHUT_DOWN, 20);
	is_int(pacing_due(&p, 20), 1, "PENDING does not hold the slot");
}

static void
test_parallel(void)
{
	struct restart_track t[N];
	struct pacing p;

	setup(&p, t, 3, 1000, 5000, false, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 0);
	is_int(pacing_due(&p, 0), 0, "node 0 due");
	pacing_started(&p, 0, 0);
	is_int(pacing_due(&p, 0), 1, "not sequential: node 1 due too");
	pacing_started(&p, 1, 0);
	is_int(pacing_due(&p, 0), -1, "both running: none due");
	ok(t[0].phase == RESTART_RUNNING && t[1].phase == RESTART_RUNNING,
	   "both hooks run");
	pacing_exited(&p, 0, true, NULL, 10, record, NULL);
	see(&p, 2, NODE_SHUT_DOWN, 20);
	is_int(pacing_due(&p, 20), 2, "a third starts beside a WAITING node");
}

static void
test_order(void)
{
	struct restart_track t[N];
	struct pacing p;

	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 2, NODE_SHUT_DOWN, 0);
	see(&p, 0, NODE_SHUT_DOWN, 10);
	see(&p, 1, NODE_SHUT_DOWN, 20);
	ok(t[2].order < t[0].order && t[0].order < t[1].order,
	   "orders follow arrival");
	is_int(pacing_due(&p, 20), 2, "first come, first run (not by index)");
	pacing_started(&p, 2, 20);
	pacing_exited(&p, 2, false, "exit 1", 30, record, NULL);
	is_int(t[2].phase, RESTART_PENDING, "failed: pending again");
	ok(t[2].order > t[1].order, "a retry goes to the back of the queue");
	is_int(pacing_due(&p, 30), 0, "the next in line runs");

	/* A node disarmed and re-armed queues again from its new arrival. */
	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 10);
	see(&p, 0, NODE_HUNG, 20);
	see(&p, 0, NODE_SHUT_DOWN, 30);
	is_int(pacing_due(&p, 30), 1, "re-armed node 0 queues after node 1");
}

static void
test_backoff(void)
{
	static const long long want[] = { 1000,	 2000,	4000, 8000,
					  16000, 16000, 16000 };
	struct restart_track t[N];
	struct pacing p;
	double now = 0;

	setup(&p, t, 100, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, now);
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		long due = pacing_due(&p, now);

		is_int(due, 0, "attempt %zu due", k + 1);
		is_int(pacing_started(&p, 0, now), (long long)k + 1,
		       "attempt %zu numbered", k + 1);
		now += 10;
		pacing_exited(&p, 0, false, "exit 3", now, record, NULL);
		is_int((long long)(t[0].not_before - now), want[k],
		       "back-off after failure %zu", k + 1);
		is_int(pacing_due(&p, t[0].not_before - 1), -1,
		       "not due 1 ms before its back-off ends");
		now = t[0].not_before;
	}
	is_str(last_reason, "exit 3", "failed carries the caller's reason");
	is_int(pacing_due(&p, now), 0, "due when its back-off ends");

	/* A failure while the node is not shut_down: idle, back-off kept
	 * across the short leave. */
	setup(&p, t, 5, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	see(&p, 0, NODE_HUNG, 5);
	is_int(t[0].phase, RESTART_RUNNING, "a running hook is not cut short");
	pacing_exited(&p, 0, false, "exit 1", 10, record, NULL);
	is_str(events(), "restart_failed 0 #1;", "failed");
	is_int(t[0].phase, RESTART_IDLE, "not shut_down: idle");
	is_int(t[0].attempts, 1, "attempt counted");
	see(&p, 0, NODE_SHUT_DOWN, 20);
	is_int(t[0].phase, RESTART_PENDING, "entering shut_down arms");
	is_int(pacing_due(&p, 20), -1, "the earlier back-off still runs");
	is_int(pacing_due(&p, 1010), 0, "due when it ends");
	is_int(pacing_started(&p, 0, 1010), 2, "attempts kept: attempt 2");

	/* backoff_ms = 0: retries at once. */
	setup(&p, t, 3, 0, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_exited(&p, 0, false, "x", 10, record, NULL);
	is_int(pacing_due(&p, 10), 0, "no back-off: due at once");
}

static void
test_cap(void)
{
	struct restart_track t[N];
	struct pacing p;
	double now = 0, cap = 16.0 * 24 * 3600 * 1000;

	setup(&p, t, 1000, 24 * 3600 * 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	for (int k = 1; k <= 60; k++) {
		pacing_started(&p, 0, now);
		pacing_exited(&p, 0, false, "x", now, record, NULL);
		if (t[0].not_before - now > cap) {
			ok(0, "back-off %d over the cap", k);
			return;
		}
		now = t[0].not_before;
	}
	ok(now > 0 && now < 1e20, "no overflow after 60 failures");
	pacing_started(&p, 0, now);
	pacing_exited(&p, 0, false, "x", now, record, NULL);
	ok(t[0].not_before - now == cap, "capped at 16 x backoff_ms");
	events();
}

static void
test_give_up(void)
{
	struct restart_track t[N];
	struct pacing p;

	setup(&p, t, 2, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_exited(&p, 0, false, "exit 1", 10, record, NULL);
	is_str(events(), "restart_failed 0 #1;", "first failure");
	is_int(pacing_started(&p, 0, 1010), 2, "attempt 2");
	pacing_exited(&p, 0, false, "exit 2", 1020, record, NULL);
	is_str(events(), "restart_failed 0 #2;restart_gave_up 0 #2;",
	       "max_attempts: failed, then gave_up");
	is_str(last_reason,
	       "2 attempts failed; no more tries until the node is seen "
	       "running or `vigilctl enable` re-arms it",
	       "gave_up's reason");
	is_int(t[0].phase, RESTART_GAVE_UP, "gave up");
	is_int(pacing_due(&p, 1e9), -1, "never due again");
	is_int(pacing_next(&p, 1020), -1, "nothing to wake up for");
	see(&p, 0, NODE_HUNG, 2000);
	see(&p, 0, NODE_SHUT_DOWN, 3000);
	is_int(t[0].phase, RESTART_GAVE_UP,
	       "re-entering shut_down does not re-arm");
	is_int(pacing_due(&p, 1e9), -1, "still never due");
	pacing_exited(&p, 0, false, "stray", 3000, record, NULL);
	is_str(events(), "", "an exit without a running hook is ignored");

	/* Back re-arms: attempts to 0, the next shut_down arms at once. */
	see(&p, 0, NODE_RUNNING, 4000);
	is_int(t[0].phase, RESTART_IDLE, "back: idle");
	is_int(t[0].attempts, 0, "back: attempts 0");
	is_str(events(), "", "re-arming raises nothing");
	see(&p, 0, NODE_SHUT_DOWN, 5000);
	is_int(pacing_due(&p, 5000), 0, "after back: due at once");
	is_int(pacing_started(&p, 0, 5000), 1, "attempt 1 again");

	/* A WAITING node whose wait runs out on the last attempt. */
	setup(&p, t, 1, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	start_ok(&p, 0, 0);
	pacing_tick(&p, 6000, record, NULL);
	is_str(events(), "restart_failed 0 #1;restart_gave_up 0 #1;",
	       "deadline on the last attempt: failed, then gave_up");
	is_int(t[0].phase, RESTART_GAVE_UP, "gave up");

	/* A hook that fails while the node is back: nothing to give up. */
	setup(&p, t, 1, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	see(&p, 0, NODE_RUNNING, 5);
	pacing_exited(&p, 0, false, "exit 1", 10, record, NULL);
	is_str(events(), "restart_failed 0 #1;",
	       "failed while back: failed, no gave_up");
	is_int(t[0].phase, RESTART_IDLE, "idle");
	is_int(t[0].attempts, 0, "back: attempts 0");
}

static void
test_rearm(void)
{
	struct restart_track t[N];
	struct pacing p;

	setup(&p, t, 1, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_exited(&p, 0, false, "exit 1", 10, record, NULL);
	events();
	pacing_rearm(&p, 0, 20);
	is_int(t[0].phase, RESTART_PENDING, "rearm while shut_down: pending");
	is_int(t[0].attempts, 0, "rearm: attempts 0");
	is_int(pacing_due(&p, 20), 0, "due at once, no back-off");
	is_int(pacing_started(&p, 0, 20), 1, "attempt 1");

	/* Re-armed while not shut_down: idle until it enters shut_down. */
	setup(&p, t, 1, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_exited(&p, 0, false, "exit 1", 10, record, NULL);
	see(&p, 0, NODE_HUNG, 20);
	pacing_rearm(&p, 0, 30);
	is_int(t[0].phase, RESTART_IDLE, "rearm while hung: idle");
	is_int(pacing_due(&p, 30), -1, "nothing due");
	see(&p, 0, NODE_SHUT_DOWN, 40);
	is_int(pacing_due(&p, 40), 0, "due once shut_down");

	/* Rearm drops a running back-off; it leaves a running hook be. */
	setup(&p, t, 5, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_exited(&p, 0, false, "exit 1", 10, record, NULL);
	is_int(pacing_due(&p, 20), -1, "in back-off");
	pacing_started(&p, 0, 1010);
	pacing_exited(&p, 0, false, "exit 1", 1020, record, NULL);
	is_str(events(), "restart_failed 0 #1;restart_failed 0 #2;",
	       "two failures");
	pacing_rearm(&p, 0, 1030);
	is_int(pacing_due(&p, 1030), 0, "rearm ends the back-off");
	is_int(pacing_started(&p, 0, 1030), 1, "numbering starts afresh");
	pacing_exited(&p, 0, false, "exit 1", 1040, record, NULL);
	is_int(pacing_started(&p, 0, 2040), 2, "attempt 2");
	pacing_rearm(&p, 0, 2050);
	is_int(t[0].phase, RESTART_RUNNING, "rearm does not stop a hook");
	pacing_exited(&p, 0, false, "exit 1", 2060, record, NULL);
	is_str(events(), "restart_failed 0 #1;restart_failed 0 #2;",
	       "the running attempt keeps its number");
	is_int(t[0].attempts, 1, "counted from the rearm");
	is_int((long long)(t[0].not_before - 2060), 1000,
	       "back-off from the rearm's count");
}

static void
test_dry_run(void)
{
	struct restart_track t[N];
	struct pacing p;

	setup(&p, t, 3, 1000, 5000, true, true);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 0);
	is_int(pacing_due(&p, 0), 0, "dry run: due like a real one");
	is_int(pacing_started(&p, 0, 0), 1, "returns attempts + 1");
	is_int(t[0].phase, RESTART_IDLE, "idle again at once");
	is_int(t[0].attempts, 0, "no attempt counted");
	is_int(pacing_due(&p, 0), 1, "no waiting: the next node is due");
	is_int(pacing_started(&p, 1, 0), 1, "node 1 dry-runs too");
	is_int(pacing_due(&p, 1e9), -1, "neither due again");
	see(&p, 0, NODE_SHUT_DOWN, 100);
	is_int(pacing_due(&p, 100), -1, "still shut_down: not due again");
	is_int(pacing_next(&p, 100), -1, "nothing to wake up for");
	see(&p, 0, NODE_HUNG, 200);
	see(&p, 0, NODE_SHUT_DOWN, 300);
	is_int(pacing_due(&p, 300), 0, "re-entering shut_down: due again");
	is_int(pacing_started(&p, 0, 300), 1, "attempt 1 again");
	is_str(events(), "", "a dry run raises no restart outcome");
}

static void
test_back_early(void)
{
	struct restart_track t[N];
	struct pacing p;

	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_exited(&p, 0, false, "exit 1", 10, record, NULL);
	events();
	is_int(pacing_started(&p, 0, 1010), 2, "attempt 2");
	see(&p, 0, NODE_RUNNING, 1020);
	is_int(t[0].phase, RESTART_RUNNING, "back while running: not cut");
	is_str(events(), "", "nothing raised before the exit");
	pacing_exited(&p, 0, true, NULL, 1030, record, NULL);
	is_str(events(), "restart_succeeded 0 #2;",
	       "exit 0 while back: succeeded at once");
	is_str(last_reason, "back as running after attempt 2", "reason");
	is_int(t[0].phase, RESTART_IDLE, "idle");
	is_int(t[0].attempts, 0, "attempts 0");
	is_int(pacing_next(&p, 1030), -1, "no deadline");

	/* Back while pending: idle, attempts and back-off forgotten. */
	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_exited(&p, 0, false, "exit 1", 10, record, NULL);
	see(&p, 0, NODE_RUNNING, 20);
	is_int(t[0].phase, RESTART_IDLE, "back while pending: idle");
	is_int(t[0].attempts, 0, "attempts 0");
	see(&p, 0, NODE_SHUT_DOWN, 30);
	is_int(pacing_due(&p, 30), 0, "no back-off left");
}

static void
test_next(void)
{
	struct restart_track t[N];
	struct pacing p;

	setup(&p, t, 5, 1000, 5000, false, false);
	is_int(pacing_next(&p, 0), -1, "nothing: -1");
	see(&p, 0, NODE_SHUT_DOWN, 0);
	is_int(pacing_next(&p, 0), -1, "due now is not a wake-up");
	pacing_started(&p, 0, 0);
	is_int(pacing_next(&p, 0), -1, "a running hook has no deadline");
	pacing_exited(&p, 0, true, NULL, 100, record, NULL); /* 5100 */
	is_int(pacing_next(&p, 100), 5100, "the deadline");
	see(&p, 1, NODE_SHUT_DOWN, 200);
	pacing_started(&p, 1, 200);
	pacing_exited(&p, 1, false, "x", 300, record, NULL); /* 1300 */
	is_int(pacing_next(&p, 300), 1300, "the earlier back-off");
	is_str(events(), "restart_failed 1 #1;", "node 1 failed");
	see(&p, 2, NODE_SHUT_DOWN, 400);
	pacing_started(&p, 2, 400);
	pacing_exited(&p, 2, true, NULL, 500, record, NULL); /* 5500 */
	is_int(pacing_next(&p, 500), 1300, "still the earliest");
	is_int(pacing_next(&p, 1300), 5100,
	       "a back-off that ended is no wake-up");
	pacing_tick(&p, 5100, record, NULL);
	is_str(events(), "restart_failed 0 #1;", "node 0's wait ran out");
	is_int(pacing_next(&p, 5100), 5500, "node 2's deadline next");

	/* Sequential: back-offs wait for the slot, deadlines do not. */
	setup(&p, t, 5, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_exited(&p, 0, false, "x", 0, record, NULL); /* 1000 */
	see(&p, 1, NODE_SHUT_DOWN, 10);
	is_int(pacing_next(&p, 10), 1000, "node 0's back-off");
	start_ok(&p, 1, 10); /* deadline 5020 */
	is_int(pacing_next(&p, 20), 5020,
	       "slot held: the deadline, not the back-off");
	events();
}

static void
test_reload(void)
{
	struct restart_track t[N];
	struct pacing p;
	struct conf c = settings(9, 50, 700, false, false);
	unsigned long top;

	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 0);
	start_ok(&p, 0, 0);
	see(&p, 2, NODE_SHUT_DOWN, 20);
	top = t[2].order;

	/* The tracks are carried over into a new struct pacing. */
	memset(&p, 0, sizeof(p));
	pacing_init(&p, t, N, &c);
	is_int(t[0].phase, RESTART_WAITING, "reload keeps WAITING");
	is_int((long long)t[0].deadline, 5010, "and its deadline");
	is_int(t[1].phase, RESTART_PENDING, "reload keeps PENDING");
	is_int(t[2].phase, RESTART_PENDING, "and the other PENDING");
	ok(p.next_order > top, "new orders come after carried ones");
	ok(!p.sequential, "new settings apply");
	is_int(pacing_due(&p, 30), 1, "not sequential now: node 1 due");
	pacing_started(&p, 1, 30);
	see(&p, 0, NODE_HUNG, 40);
	see(&p, 0, NODE_SHUT_DOWN, 50);
	ok(t[0].phase == RESTART_WAITING, "waiting goes on");
	pacing_exited(&p, 1, false, "x", 60, record, NULL);
	is_int((long long)(t[1].not_before - 60), 50, "new backoff_ms");
	ok(t[1].order > top, "re-queued after every carried order");
	events();
}

int
main(void)
{
	test_names();
	test_init();
	test_arming();
	test_sequential();
	test_parallel();
	test_order();
	test_backoff();
	test_cap();
	test_give_up();
	test_rearm();
	test_dry_run();
	test_back_early();
	test_next();
	test_reload();
	return tap_done();
}
