/*
 * pacing.c: when a node's restart hook may run: one phase per node, back-off
 * between failed attempts, first come first run, and the restart events.
 */
#include "config.h"

#include <stdio.h>

#include "policies/pacing.h"

#define PACING_BACKOFF_CAP 16.0 /* the longest back-off, × backoff_ms */

const struct name_desc restart_phase_names[RESTART__COUNT] = {
	[RESTART_IDLE] = { "idle", "nothing to do" },
	[RESTART_PENDING] = { "pending", "shut down: waits for its turn" },
	[RESTART_RUNNING] = { "running", "restart hook running" },
	[RESTART_WAITING] = { "waiting", "hook exited 0: waiting for the node "
					 "to be back" },
	[RESTART_GAVE_UP] = { "gave_up",
			      "max_attempts failed: until back or enabled" },
};

void
pacing_init(struct pacing *p, struct restart_track *t, size_t n,
	    const struct conf *c)
{
	unsigned long next = 1;

	/* The tracks may carry phases over a reload: read them, never
	 * reset them, and keep new orders after every carried one. */
	for (size_t i = 0; i < n; i++)
		if (t[i].order >= next)
			next = t[i].order + 1;

	p->t = t;
	p->n = n;
	p->max_attempts =
	    c->restart_max_attempts < 1 ? 1 : c->restart_max_attempts;
	p->backoff_ms = c->restart_backoff_ms < 0 ? 0 : c->restart_backoff_ms;
	p->wait_running_ms =
	    c->restart_wait_running_ms < 0 ? 0 : c->restart_wait_running_ms;
	p->sequential = c->restart_sequential;
	p->dry_run = c->restart_dry_run;
	p->next_order = next;
}

static void
emit_one(pacing_emit_fn emit, void *ctx, enum event_kind kind, size_t i,
	 int attempt, const char *reason)
{
	struct pacing_event ev = {
		.kind = kind,
		.node = i,
		.attempt = attempt,
		.reason = reason,
	};

	if (emit)
		emit(ctx, &ev);
}

static void
make_pending(struct pacing *p, struct restart_track *t)
{
	t->phase = RESTART_PENDING;
	t->order = p->next_order++;
}

/* The wait after the k-th failed attempt: backoff_ms × 2^(k−1), capped.
 * Doubles so that neither a large backoff_ms nor k can overflow. */
static double
backoff(const struct pacing *p, int k)
{
	double cap = PACING_BACKOFF_CAP * p->backoff_ms;
	double w = p->backoff_ms;

	for (int j = 1; j < k && w < cap; j++)
		w *= 2;
	return w < cap ? w : cap;
}

static void
succeeded(struct pacing *p, size_t i, pacing_emit_fn emit, void *ctx)
{
	struct restart_track *t = &p->t[i];
	char why[96];

	snprintf(why, sizeof(why), "back as %s after attempt %d",
		 node_state_names[t->state].name, t->attempt);
	t->phase = RESTART_IDLE;
	t->attempts = 0;
	t->not_before = 0;
	emit_one(emit, ctx, EVENT_RESTART_SUCCEEDED, i, t->attempt, why);
}

/* The attempt in progress (RUNNING or WAITING) failed. */
static void
failed(struct pacing *p, size_t i, const char *reason, double now_ms,
       pacing_emit_fn emit, void *ctx)
{
	struct restart_track *t = &p->t[i];
	char why[160];

	t->attempts++;
	emit_one(emit, ctx, EVENT_RESTART_FAILED, i, t->attempt,
		 reason ? reason : "restart hook failed");
	if (t->back) {
		/* Back already, so nothing to give up on: re-armed, as
		 * pacing_observe would have done after the hook ended. */
		t->phase = RESTART_IDLE;
		t->attempts = 0;
		t->not_before = 0;
		return;
	}
	if (t->attempts >= p->max_attempts) {
		t->phase = RESTART_GAVE_UP;
		snprintf(why, sizeof(why),
			 "%d attempts failed; no more tries until the node "
			 "is seen running or `vigilctl enable` re-arms it",
			 t->attempts);
		emit_one(emit, ctx, EVENT_RESTART_GAVE_UP, i, t->attempt, why);
		return;
	}
	t->not_before = now_ms + backoff(p, t->attempts);
	if (t->shut_down)
		make_pending(p, t);
	else
		t->phase = RESTART_IDLE;
}

void
pacing_observe(struct pacing *p, size_t i, enum node_state s, bool back,
	       double now_ms, pacing_emit_fn emit, void *ctx)
{
	struct restart_track *t = &p->t[i];
	/* restarting is shut_down once its hook ran: the same evidence. */
	bool down = s == NODE_SHUT_DOWN || s == NODE_RESTARTING;
	bool entered = down && !t->shut_down;
	bool left = !down && t->shut_down;

	(void)now_ms;
	t->shut_down = down;
	t->back = back;
	t->state = s;

	if (back) {
		switch (t->phase) {
		case RESTART_WAITING:
			succeeded(p, i, emit, ctx);
			return;
		case RESTART_RUNNING:
			/* The hook is not cut short: its exit decides. */
			break;
		case RESTART_PENDING:
		case RESTART_GAVE_UP:
			t->phase = RESTART_IDLE;
			break;
		default:
			break;
		}
		t->attempts = 0;
		t->not_before = 0;
		return;
	}
	if (entered && t->phase == RESTART_IDLE)
		make_pending(p, t);
	else if (left && t->phase == RESTART_PENDING)
		t->phase = RESTART_IDLE;
}

void
pacing_tick(struct pacing *p, double now_ms, pacing_emit_fn emit, void *ctx)
{
	char why[96];

	for (size_t i = 0; i < p->n; i++) {
		if (p->t[i].phase != RESTART_WAITING ||
		    now_ms < p->t[i].deadline)
			continue;
		snprintf(why, sizeof(why),
			 "not back within %d ms of the restart",
			 p->wait_running_ms);
		failed(p, i, why, now_ms, emit, ctx);
	}
}

/* True when sequential pacing keeps every other hook from starting. */
static bool
slot_taken(const struct pacing *p)
{
	if (!p->sequential)
		return false;
	for (size_t i = 0; i < p->n; i++)
		if (p->t[i].phase == RESTART_RUNNING ||
		    p->t[i].phase == RESTART_WAITING)
			return true;
	return false;
}

long
pacing_due(const struct pacing *p, double now_ms)
{
	long best = -1;

	if (slot_taken(p))
		return -1;
	for (size_t i = 0; i < p->n; i++) {
		const struct restart_track *t = &p->t[i];

		if (t->phase != RESTART_PENDING || now_ms < t->not_before)
			continue;
		if (best < 0 || t->order < p->t[best].order)
			best = (long)i;
	}
	return best;
}

int
pacing_started(struct pacing *p, size_t i, double now_ms)
{
	struct restart_track *t = &p->t[i];

	(void)now_ms;
	t->attempt = t->attempts + 1;
	/* A dry run has nothing to wait for: not due again until the node
	 * next enters shut_down. */
	t->phase = p->dry_run ? RESTART_IDLE : RESTART_RUNNING;
	return t->attempt;
}

void
pacing_exited(struct pacing *p, size_t i, bool ok, const char *reason,
	      double now_ms, pacing_emit_fn emit, void *ctx)
{
	struct restart_track *t = &p->t[i];

	/* Only a started, real hook has an outcome to count. */
	if (t->phase != RESTART_RUNNING)
		return;
	if (!ok) {
		failed(p, i, reason, now_ms, emit, ctx);
		return;
	}
	if (t->back) {
		succeeded(p, i, emit, ctx);
		return;
	}
	t->phase = RESTART_WAITING;
	t->deadline = now_ms + p->wait_running_ms;
}

void
pacing_unstart(struct pacing *p, size_t i, double not_before)
{
	struct restart_track *t = &p->t[i];

	if (t->phase != RESTART_RUNNING)
		return;
	t->phase = t->shut_down ? RESTART_PENDING : RESTART_IDLE;
	if (t->not_before < not_before)
		t->not_before = not_before;
}

void
pacing_adopt(struct pacing *p, size_t i, int attempt, enum adopt_outcome how,
	     double deadline_ms, double now_ms, pacing_emit_fn emit, void *ctx)
{
	struct restart_track *t = &p->t[i];

	if (t->phase != RESTART_RUNNING || attempt < 1)
		return;
	t->attempt = attempt;
	t->attempts = attempt - 1;
	switch (how) {
	case ADOPT_SUCCEEDED:
		t->phase = RESTART_IDLE;
		t->attempts = 0;
		t->not_before = 0;
		return;
	case ADOPT_FAILED:
		failed(p, i, "the restart another appliance ran failed", now_ms,
		       emit, ctx);
		return;
	case ADOPT_WAITING:
	default:
		if (t->back) {
			succeeded(p, i, emit, ctx);
			return;
		}
		t->phase = RESTART_WAITING;
		t->deadline = deadline_ms;
		return;
	}
}

void
pacing_rearm(struct pacing *p, size_t i, double now_ms)
{
	struct restart_track *t = &p->t[i];

	(void)now_ms;
	t->attempts = 0;
	t->not_before = 0;
	if (t->phase == RESTART_GAVE_UP)
		t->phase = RESTART_IDLE;
	if (t->phase == RESTART_IDLE && t->shut_down)
		make_pending(p, t);
}

double
pacing_next(const struct pacing *p, double now_ms)
{
	bool taken = slot_taken(p);
	double next = -1;

	for (size_t i = 0; i < p->n; i++) {
		const struct restart_track *t = &p->t[i];
		double at;

		if (t->phase == RESTART_WAITING)
			at = t->deadline;
		else if (t->phase == RESTART_PENDING && !taken &&
			 t->not_before > now_ms)
			at = t->not_before;
		else
			continue;
		if (next < 0 || at < next)
			next = at;
	}
	return next;
}
