/*
 * test-pacing.c: policies/pacing.c: which states arm a restart, sequential
 * and parallel pacing, first come first run, back-off and its cap,
 * max_attempts, giving up and re-arming, dry runs, waiting for the node
 * to be back, pacing_next and reloads; with several appliances, an attempt
 * unstarted (its claim got no answer) or adopted (another appliance's).
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

/* The ways into node 0's phase for the table below. */
enum reach {
	REACH_IDLE = 0,	    /* never shut down */
	REACH_IDLE_DOWN,    /* shut_down, idle after a dry run */
	REACH_PENDING,	    /* shut_down, due */
	REACH_PENDING_WAIT, /* shut_down, in the back-off of attempt 1 */
	REACH_RUNNING,	    /* attempt 1's hook runs, still shut_down */
	REACH_RUNNING_LEFT, /* attempt 1's hook runs, the node is hung */
	REACH_RUNNING_BACK, /* attempt 1's hook runs, the node is back */
	REACH_WAITING,	    /* attempt 1's hook exited 0 */
	REACH_GAVE_UP,	    /* 3 of 3 attempts failed */
};

/* max_attempts 3, backoff_ms 1000, wait_running_ms 5000, sequential;
 * every step before t = 4000. */
static void
reach(struct pacing *p, struct restart_track *t, enum reach r)
{
	setup(p, t, 3, 1000, 5000, true, r == REACH_IDLE_DOWN);
	if (r == REACH_IDLE) {
		see(p, 0, NODE_HUNG, 0);
		return;
	}
	see(p, 0, NODE_SHUT_DOWN, 0);
	switch (r) {
	case REACH_IDLE_DOWN:
		pacing_started(p, 0, 0);
		break;
	case REACH_PENDING:
		break;
	case REACH_PENDING_WAIT:
		pacing_started(p, 0, 0);
		pacing_exited(p, 0, false, "exit 1", 10, record, NULL);
		break;
	case REACH_RUNNING:
		pacing_started(p, 0, 0);
		break;
	case REACH_RUNNING_LEFT:
		pacing_started(p, 0, 0);
		see(p, 0, NODE_HUNG, 10);
		break;
	case REACH_RUNNING_BACK:
		pacing_started(p, 0, 0);
		see(p, 0, NODE_RUNNING, 10);
		break;
	case REACH_WAITING:
		start_ok(p, 0, 0);
		break;
	case REACH_GAVE_UP:
		pacing_started(p, 0, 0);
		pacing_exited(p, 0, false, "exit 1", 10, record, NULL);
		pacing_started(p, 0, 1010);
		pacing_exited(p, 0, false, "exit 1", 1020, record, NULL);
		pacing_started(p, 0, 3020);
		pacing_exited(p, 0, false, "exit 1", 3030, record, NULL);
		break;
	default:
		break;
	}
	events();
}

static bool
same_track(const struct restart_track *a, const struct restart_track *b)
{
	return a->phase == b->phase && a->shut_down == b->shut_down &&
	       a->back == b->back && a->attempts == b->attempts &&
	       a->not_before == b->not_before && a->deadline == b->deadline &&
	       a->order == b->order && a->attempt == b->attempt &&
	       a->state == b->state;
}

enum claim_op {
	OP_UNSTART = 0, /* pacing_unstart(not_before 9000) */
	OP_WAITING,	/* pacing_adopt(attempt 2, ADOPT_WAITING, 9000) */
	OP_FAILED,	/* pacing_adopt(attempt 2, ADOPT_FAILED) */
	OP_SUCCEEDED,	/* pacing_adopt(attempt 2, ADOPT_SUCCEEDED) */
	OP__COUNT
};

static const char *const op_names[OP__COUNT] = { "unstart", "adopt waiting",
						 "adopt failed",
						 "adopt succeeded" };

/* Every starting phase × every answer to a claim, at t = 4000: only a
 * RUNNING node is touched, and what it becomes, written out by hand. */
static void
test_claim_table(void)
{
	static const struct {
		const char *name;
		enum reach r;
		bool touched; /* false: the track must stay as it was */
		enum restart_phase want[OP__COUNT];
		const char *ev[OP__COUNT];
	} rows[] = {
		{ "idle",
		  REACH_IDLE,
		  false,
		  { RESTART_IDLE, RESTART_IDLE, RESTART_IDLE, RESTART_IDLE },
		  { "", "", "", "" } },
		{ "idle, shut_down (dry run)",
		  REACH_IDLE_DOWN,
		  false,
		  { RESTART_IDLE, RESTART_IDLE, RESTART_IDLE, RESTART_IDLE },
		  { "", "", "", "" } },
		{ "pending",
		  REACH_PENDING,
		  false,
		  { RESTART_PENDING, RESTART_PENDING, RESTART_PENDING,
		    RESTART_PENDING },
		  { "", "", "", "" } },
		{ "pending in back-off",
		  REACH_PENDING_WAIT,
		  false,
		  { RESTART_PENDING, RESTART_PENDING, RESTART_PENDING,
		    RESTART_PENDING },
		  { "", "", "", "" } },
		{ "running",
		  REACH_RUNNING,
		  true,
		  { RESTART_PENDING, RESTART_WAITING, RESTART_PENDING,
		    RESTART_IDLE },
		  { "", "", "restart_failed 0 #2;", "" } },
		{ "running, node hung",
		  REACH_RUNNING_LEFT,
		  true,
		  { RESTART_IDLE, RESTART_WAITING, RESTART_IDLE, RESTART_IDLE },
		  { "", "", "restart_failed 0 #2;", "" } },
		{ "running, node back",
		  REACH_RUNNING_BACK,
		  true,
		  { RESTART_IDLE, RESTART_IDLE, RESTART_IDLE, RESTART_IDLE },
		  { "", "restart_succeeded 0 #2;", "restart_failed 0 #2;",
		    "" } },
		{ "waiting",
		  REACH_WAITING,
		  false,
		  { RESTART_WAITING, RESTART_WAITING, RESTART_WAITING,
		    RESTART_WAITING },
		  { "", "", "", "" } },
		{ "gave_up",
		  REACH_GAVE_UP,
		  false,
		  { RESTART_GAVE_UP, RESTART_GAVE_UP, RESTART_GAVE_UP,
		    RESTART_GAVE_UP },
		  { "", "", "", "" } },
	};
	static const enum adopt_outcome how[OP__COUNT] = {
		[OP_WAITING] = ADOPT_WAITING,
		[OP_FAILED] = ADOPT_FAILED,
		[OP_SUCCEEDED] = ADOPT_SUCCEEDED,
	};
	struct restart_track t[N], before;
	struct pacing p;
	unsigned long next;

	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		for (int op = 0; op < OP__COUNT; op++) {
			reach(&p, t, rows[k].r);
			before = t[0];
			next = p.next_order;
			if (op == OP_UNSTART)
				pacing_unstart(&p, 0, 9000);
			else
				pacing_adopt(&p, 0, 2, how[op], 9000, 4000,
					     record, NULL);
			is_int(t[0].phase, rows[k].want[op], "%s, %s: %s",
			       rows[k].name, op_names[op],
			       restart_phase_names[rows[k].want[op]].name);
			is_str(events(), rows[k].ev[op], "%s, %s: events",
			       rows[k].name, op_names[op]);
			if (!rows[k].touched)
				ok(same_track(&t[0], &before),
				   "%s, %s: track untouched", rows[k].name,
				   op_names[op]);
			/* A failure re-queues, as pacing_exited's does. */
			if (!rows[k].touched || op == OP_UNSTART)
				is_int(p.next_order, next,
				       "%s, %s: no new place in line",
				       rows[k].name, op_names[op]);
		}
	}
}

static void
test_unstart(void)
{
	struct restart_track t[N];
	struct pacing p;
	unsigned long order, next;

	/* The claim got no answer: pending again, in its old place. */
	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 10);
	is_int(pacing_due(&p, 10), 0, "node 0 first");
	is_int(pacing_started(&p, 0, 10), 1, "attempt 1 started");
	see(&p, 2, NODE_SHUT_DOWN, 20); /* arrives while node 0 runs */
	order = t[0].order;
	next = p.next_order;
	pacing_unstart(&p, 0, 20);
	is_int(t[0].phase, RESTART_PENDING, "unstarted, shut_down: pending");
	is_int(t[0].attempts, 0, "the attempt is not counted");
	is_int(t[0].order, order, "its place in line kept");
	is_int(p.next_order, next, "no new place taken");
	is_int((long long)t[0].not_before, 20, "not before the time given");
	is_str(events(), "", "unstart raises nothing");
	is_int(pacing_due(&p, 20), 0, "first in line again, before 1 and 2");
	is_int(pacing_started(&p, 0, 20), 1, "the same attempt number again");

	/* A later not_before: a back-off of its own. */
	pacing_unstart(&p, 0, 3000);
	is_int((long long)t[0].not_before, 3000, "not_before raised");
	is_int(pacing_next(&p, 30), 3000, "pacing_next wakes up for it");
	is_int(pacing_due(&p, 2999), 1,
	       "in its wait, the next in line may run");
	is_int(pacing_due(&p, 3000), 0, "at not_before: first again");
	is_int(pacing_started(&p, 0, 3000), 1, "still attempt 1");

	/* An earlier not_before never shortens a wait. */
	pacing_unstart(&p, 0, 1000);
	is_int((long long)t[0].not_before, 3000, "not_before not lowered");
	is_int(pacing_due(&p, 2999), 1, "node 0 still waits");

	/* Nor a failure's back-off; the failed attempts stay counted. */
	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_exited(&p, 0, false, "exit 1", 10, record, NULL); /* 1010 */
	events();
	is_int(pacing_started(&p, 0, 1010), 2, "attempt 2 started");
	pacing_unstart(&p, 0, 500);
	is_int(t[0].phase, RESTART_PENDING, "pending");
	is_int((long long)t[0].not_before, 1010,
	       "the back-off's end is kept over an earlier time");
	is_int(t[0].attempts, 1, "the earlier failure still counted");
	is_int(pacing_due(&p, 1010), 0, "due");
	is_int(pacing_started(&p, 0, 1010), 2, "attempt 2 again, not 3");
	pacing_exited(&p, 0, false, "exit 1", 1020, record, NULL);
	is_str(events(), "restart_failed 0 #2;",
	       "the re-run attempt 2 fails as #2");
	is_int((long long)(t[0].not_before - 1020), 2000,
	       "back-off after the 2nd failure");

	/* Parallel: first again over a node queued after it. */
	setup(&p, t, 3, 1000, 5000, false, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 10);
	see(&p, 2, NODE_SHUT_DOWN, 20);
	pacing_started(&p, 0, 20);
	pacing_started(&p, 1, 20);
	pacing_unstart(&p, 1, 30);
	pacing_unstart(&p, 0, 30);
	is_int(pacing_due(&p, 30), 0, "node 0 ahead of node 2");
	pacing_started(&p, 0, 30);
	is_int(pacing_due(&p, 30), 1, "node 1 ahead of node 2");

	/* No longer shut_down: idle, nothing due. */
	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	see(&p, 0, NODE_HUNG, 5);
	pacing_unstart(&p, 0, 2000);
	is_int(t[0].phase, RESTART_IDLE, "unstarted, hung: idle");
	is_int(t[0].attempts, 0, "not counted");
	is_int(pacing_due(&p, 1e9), -1, "nothing due");
	is_int(pacing_next(&p, 10), -1, "nothing to wake up for");
	is_str(events(), "", "nothing raised");
	see(&p, 0, NODE_SHUT_DOWN, 100);
	is_int(t[0].phase, RESTART_PENDING, "entering shut_down arms");
	is_int(pacing_due(&p, 1999), -1,
	       "the claim's wait kept across the short leave");
	is_int(pacing_due(&p, 2000), 0, "due when it ends");
	is_int(pacing_started(&p, 0, 2000), 1, "attempt 1");

	/* Back while the claim was out: idle, attempts 0. */
	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_exited(&p, 0, false, "exit 1", 10, record, NULL);
	pacing_started(&p, 0, 1010);
	see(&p, 0, NODE_RUNNING, 1020);
	pacing_unstart(&p, 0, 1030);
	is_int(t[0].phase, RESTART_IDLE, "unstarted, back: idle");
	is_int(t[0].attempts, 0, "back: attempts 0");
	is_str(events(), "restart_failed 0 #1;", "only the earlier failure");

	/* Sequential: unstarting frees the slot. */
	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	is_int(pacing_due(&p, 0), -1, "slot held while running");
	pacing_unstart(&p, 0, 1000);
	is_int(pacing_due(&p, 0), 1, "unstarted: the slot is free");
}

static void
test_adopt_waiting(void)
{
	struct restart_track t[N];
	struct pacing p;

	/* Another appliance's attempt 3 ran; its wait ends at 9000. */
	setup(&p, t, 5, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 0);
	is_int(pacing_started(&p, 0, 0), 1, "attempt 1 started here");
	pacing_adopt(&p, 0, 3, ADOPT_WAITING, 9000, 100, record, NULL);
	is_int(t[0].phase, RESTART_WAITING, "adopted: waiting");
	is_int(t[0].attempt, 3, "the adopted attempt's number");
	is_int(t[0].attempts, 2, "two failed before it");
	is_int((long long)t[0].deadline, 9000,
	       "deadline as given, not now + wait_running_ms");
	is_str(events(), "", "nothing raised yet");
	is_int(pacing_next(&p, 100), 9000, "pacing_next: the deadline");
	is_int(pacing_due(&p, 100), -1, "sequential: it holds the slot");
	is_int(pacing_due(&p, 8999), -1, "until its deadline");
	pacing_tick(&p, 8999, record, NULL);
	is_str(events(), "", "no failure before the deadline");
	pacing_tick(&p, 9000, record, NULL);
	is_str(events(), "restart_failed 0 #3;",
	       "deadline: the adopted attempt failed");
	is_int(t[0].attempts, 3, "three failed");
	is_int(t[0].phase, RESTART_PENDING, "still shut_down: pending");
	is_int((long long)(t[0].not_before - 9000), 4000,
	       "back-off after the 3rd failure");
	is_int(pacing_due(&p, 9000), 1, "the slot is free for node 1");
	pacing_tick(&p, 99999, record, NULL);
	is_str(events(), "", "failed once");
	is_int(pacing_started(&p, 0, 13000), 4, "then attempt 4");

	/* The node comes back within the wait. */
	setup(&p, t, 5, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_adopt(&p, 0, 2, ADOPT_WAITING, 9000, 100, record, NULL);
	see(&p, 0, NODE_RUNNING, 200);
	is_str(events(), "restart_succeeded 0 #2;", "back: succeeded");
	is_str(last_reason, "back as running after attempt 2",
	       "the reason names the adopted attempt");
	is_int(t[0].phase, RESTART_IDLE, "idle");
	is_int(t[0].attempts, 0, "attempts 0");
	is_int(pacing_next(&p, 200), -1, "no deadline left");

	/* Back already when adopted: succeeded at once. */
	setup(&p, t, 5, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	see(&p, 0, NODE_RUNNING, 50);
	pacing_adopt(&p, 0, 2, ADOPT_WAITING, 9000, 100, record, NULL);
	is_str(events(), "restart_succeeded 0 #2;",
	       "back already: succeeded at once");
	is_int(t[0].phase, RESTART_IDLE, "idle");
	is_int(t[0].attempts, 0, "attempts 0");
	is_int(pacing_next(&p, 100), -1, "no deadline");
	is_int(pacing_due(&p, 100), 1, "the slot is free");

	/* Adopting the last attempt: at its deadline, gave up. */
	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_adopt(&p, 0, 3, ADOPT_WAITING, 9000, 100, record, NULL);
	pacing_tick(&p, 9000, record, NULL);
	is_str(events(), "restart_failed 0 #3;restart_gave_up 0 #3;",
	       "the last attempt's deadline: failed, then gave_up");
	is_int(t[0].phase, RESTART_GAVE_UP, "gave up");

	/* A deadline already past fails at the next tick. */
	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_adopt(&p, 0, 1, ADOPT_WAITING, 100, 100, record, NULL);
	is_int(t[0].phase, RESTART_WAITING, "waiting, deadline now");
	is_str(events(), "", "nothing raised by adopting");
	pacing_tick(&p, 100, record, NULL);
	is_str(events(), "restart_failed 0 #1;", "failed at the tick");

	/* Parallel: an adopted wait holds nothing. */
	setup(&p, t, 3, 1000, 5000, false, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_adopt(&p, 0, 1, ADOPT_WAITING, 9000, 100, record, NULL);
	is_int(pacing_due(&p, 100), 1, "not sequential: node 1 due");
}

static void
test_adopt_failed(void)
{
	/* attempt k adopted as failed with max_attempts 8, backoff_ms
	 * 1000: the back-off after the k-th failure, -1 for gave up. */
	static const struct {
		int attempt;
		long long backoff;
	} rows[] = {
		{ 1, 1000 },  { 2, 2000 },  { 3, 4000 },
		{ 4, 8000 },  { 5, 16000 }, { 6, 16000 },
		{ 7, 16000 }, { 8, -1 },    { 12, -1 },
	};
	struct restart_track t[N];
	struct pacing p;
	char want[128];

	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		int a = rows[k].attempt;

		setup(&p, t, 8, 1000, 5000, true, false);
		see(&p, 0, NODE_SHUT_DOWN, 0);
		pacing_started(&p, 0, 0);
		pacing_adopt(&p, 0, a, ADOPT_FAILED, 0, 100, record, NULL);
		if (rows[k].backoff < 0)
			snprintf(want, sizeof(want),
				 "restart_failed 0 #%d;restart_gave_up 0 #%d;",
				 a, a);
		else
			snprintf(want, sizeof(want), "restart_failed 0 #%d;",
				 a);
		is_str(events(), want, "adopted failed #%d: events", a);
		is_int(t[0].attempts, a, "adopted failed #%d: %d counted", a,
		       a);
		if (rows[k].backoff < 0) {
			is_int(t[0].phase, RESTART_GAVE_UP,
			       "adopted failed #%d: gave up", a);
			is_int(pacing_due(&p, 1e9), -1,
			       "adopted failed #%d: never due", a);
			continue;
		}
		is_int(t[0].phase, RESTART_PENDING,
		       "adopted failed #%d: pending", a);
		is_int((long long)(t[0].not_before - 100), rows[k].backoff,
		       "adopted failed #%d: back-off", a);
		is_int(pacing_due(&p, t[0].not_before - 1), -1,
		       "adopted failed #%d: not due in its back-off", a);
		is_int(pacing_due(&p, t[0].not_before), 0,
		       "adopted failed #%d: due when it ends", a);
		is_int(pacing_started(&p, 0, t[0].not_before), a + 1,
		       "adopted failed #%d: attempt %d next", a, a + 1);
	}

	/* The reason says whose attempt it was. */
	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_adopt(&p, 0, 1, ADOPT_FAILED, 0, 100, record, NULL);
	is_str(last_reason, "the restart another appliance ran failed",
	       "adopted failure's reason");
	events();

	/* Like any failure, it goes to the back of the queue. */
	setup(&p, t, 3, 0, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 10);
	pacing_started(&p, 0, 10);
	pacing_adopt(&p, 0, 1, ADOPT_FAILED, 0, 100, record, NULL);
	ok(t[0].order > t[1].order, "re-queued after node 1");
	is_int(pacing_due(&p, 100), 1, "node 1 runs next");
	events();

	/* No longer shut_down: idle, the back-off kept. */
	setup(&p, t, 3, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	see(&p, 0, NODE_HUNG, 50);
	pacing_adopt(&p, 0, 2, ADOPT_FAILED, 0, 100, record, NULL);
	is_str(events(), "restart_failed 0 #2;", "failed");
	is_int(t[0].phase, RESTART_IDLE, "hung: idle");
	is_int(t[0].attempts, 2, "counted");
	see(&p, 0, NODE_SHUT_DOWN, 200);
	is_int(pacing_due(&p, 2099), -1, "re-armed, in its back-off");
	is_int(pacing_due(&p, 2100), 0, "due when it ends");
	is_int(pacing_started(&p, 0, 2100), 3, "attempt 3");

	/* Back already: failed, nothing to give up on. */
	setup(&p, t, 2, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	see(&p, 0, NODE_RUNNING, 50);
	pacing_adopt(&p, 0, 2, ADOPT_FAILED, 0, 100, record, NULL);
	is_str(events(), "restart_failed 0 #2;",
	       "back: failed, no gave_up at max_attempts");
	is_int(t[0].phase, RESTART_IDLE, "idle");
	is_int(t[0].attempts, 0, "attempts 0");
}

static void
test_adopt_succeeded(void)
{
	struct restart_track t[N];
	struct pacing p;

	setup(&p, t, 5, 1000, 5000, true, false);
	see(&p, 0, NODE_SHUT_DOWN, 0);
	see(&p, 1, NODE_SHUT_DOWN, 0);
	pacing_started(&p, 0, 0);
	pacing_exited(&p, 0, false, "exit 1", 10, record, NULL);
	events();
	is_int(pacing_started(&p, 0, 1010), 2, "attempt 2 started");
	pacing_adopt(&p, 0, 4, ADOPT_SUCCEEDED, 9000, 1100, record, NULL);
	is_int(t[0].phase, RESTART_IDLE, "adopted success: idle");
	is_int(t[0].attempts, 0, "attempts 0");
	is_int((long long)t[0].not_before, 0, "no back-off left");
	is_str(events(), "", "no event: its appliance raised it");
	is_int(pacing_next(&p, 1100), -1, "no deadline");
	is_int(pacing_due(&p, 1100), 1, "the slot is free for node 1");
	pacing_started(&p, 1, 1100);
	pacing_exited(&p, 1, true, NULL, 1110, record, NULL);
	see(&p, 1, NODE_RUNNING, 1120);
	events();
	is_int(pacing_due(&p, 1120), -1,
	       "still seen shut_down: not armed again");
	see(&p, 0, NODE_RUNNING, 1200);
	see(&p, 0, NODE_SHUT_DOWN, 1300);
	is_int(pacing_due(&p, 1300), 0, "down again: due at once");
	is_int(pacing_started(&p, 0, 1300), 1, "attempt 1 afresh");
	is_str(events(), "", "nothing raised");
}

/* attempt < 1 is no attempt: ignored, whatever the outcome. */
static void
test_adopt_bad_attempt(void)
{
	static const enum adopt_outcome hows[] = { ADOPT_WAITING, ADOPT_FAILED,
						   ADOPT_SUCCEEDED };
	static const int bad[] = { 0, -1, -1000 };
	struct restart_track t[N], before;
	struct pacing p;

	for (size_t h = 0; h < sizeof(hows) / sizeof(hows[0]); h++) {
		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			setup(&p, t, 3, 1000, 5000, true, false);
			see(&p, 0, NODE_SHUT_DOWN, 0);
			see(&p, 1, NODE_SHUT_DOWN, 0);
			pacing_started(&p, 0, 0);
			before = t[0];
			pacing_adopt(&p, 0, bad[b], hows[h], 9000, 100, record,
				     NULL);
			ok(same_track(&t[0], &before),
			   "adopt %zu, attempt %d: ignored", h, bad[b]);
			is_int(t[0].phase, RESTART_RUNNING,
			       "adopt %zu, attempt %d: still running", h,
			       bad[b]);
			is_str(events(), "", "adopt %zu, attempt %d: no event",
			       h, bad[b]);
			is_int(pacing_due(&p, 100), -1,
			       "adopt %zu, attempt %d: slot still held", h,
			       bad[b]);
		}
	}
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
	test_claim_table();
	test_unstart();
	test_adopt_waiting();
	test_adopt_failed();
	test_adopt_succeeded();
	test_adopt_bad_attempt();
	return tap_done();
}
