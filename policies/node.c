/*
 * node.c: one node's state from its evidence: rise/fall counting of probe
 * results, the freshness of its heartbeat, SPEC.md's decision table, and
 * the sentence that explains the result to an operator.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "policies/node.h"

const struct name_desc node_state_names[NODE__COUNT] = {
	[NODE_UNKNOWN] = { "unknown", "no probe verdict yet" },
	[NODE_RUNNING] = { "running", "serving" },
	[NODE_STANDBY] = { "standby", "standing by" },
	[NODE_UNREACHABLE] = { "unreachable",
			       "REST API fails but the node still beats" },
	[NODE_HUNG] = { "hung", "REST API answers but the node no longer "
				"beats" },
	[NODE_SHUT_DOWN] = { "shut_down", "no REST API and no heartbeat" },
	[NODE_RESTARTING] = { "restarting", "restart requested, not back" },
	[NODE_DRAINING] = { "draining", "operator: no new clients" },
	[NODE_DISABLED] = { "disabled", "operator: out of service" },
};

const struct name_desc probe_verdict_names[VERDICT__COUNT] = {
	[VERDICT_NONE] = { "none", "no verdict yet" },
	[VERDICT_RUNNING] = { "running", "REST probe says running" },
	[VERDICT_STANDBY] = { "standby", "REST probe says standby" },
	[VERDICT_FAILED] = { "failed", "REST probe failed" },
};

const struct name_desc hb_evidence_names[HB__COUNT] = {
	[HB_UNKNOWN] = { "unknown", "heartbeat unknown" },
	[HB_FRESH] = { "fresh", "heartbeat fresh" },
	[HB_STALE] = { "stale", "heartbeat stale" },
};

bool
probe_track_feed(struct probe_track *t, enum probe_verdict result,
		 const char *cause, int rise, int fall)
{
	if (result == VERDICT_FAILED) {
		t->failures++;
		snprintf(t->cause, sizeof(t->cause), "%s",
			 cause ? cause : "failed");
	} else {
		t->failures = 0;
	}
	if (result == t->verdict) {
		t->pending = VERDICT_NONE;
		t->streak = 0;
		return false;
	}
	if (result == t->pending) {
		t->streak++;
	} else {
		t->pending = result;
		t->streak = 1;
	}
	if (t->streak < (result == VERDICT_FAILED ? fall : rise))
		return false;
	t->verdict = result;
	t->pending = VERDICT_NONE;
	t->streak = 0;
	return true;
}

enum hb_evidence
hb_judge(const struct hb_input *in)
{
	double since = in->watched_ms;

	if (!in->source_up)
		return HB_UNKNOWN;
	if (in->back_ms >= 0 && in->back_ms > since)
		since = in->back_ms;
	if (in->have_row) {
		if (in->age_ms <= in->timeout_ms)
			return HB_FRESH;
		/* Beats missed while we could not look are not held
		 * against the node until it has had a timeout to beat. */
		if (in->back_ms >= 0 &&
		    in->now_ms - in->back_ms <= in->timeout_ms)
			return HB_UNKNOWN;
		return HB_STALE;
	}
	return in->now_ms - since > in->timeout_ms ? HB_STALE : HB_UNKNOWN;
}

enum node_state
node_decide(enum probe_verdict v, enum hb_evidence hb)
{
	bool stale = hb == HB_STALE;

	switch (v) {
	case VERDICT_RUNNING:
		return stale ? NODE_HUNG : NODE_RUNNING;
	case VERDICT_STANDBY:
		return stale ? NODE_HUNG : NODE_STANDBY;
	case VERDICT_FAILED:
		return stale ? NODE_SHUT_DOWN : NODE_UNREACHABLE;
	case VERDICT_NONE:
	case VERDICT__COUNT:
		break;
	}
	return NODE_UNKNOWN;
}

bool
node_state_failed(enum node_state s)
{
	return s == NODE_UNREACHABLE || s == NODE_HUNG || s == NODE_SHUT_DOWN ||
	       s == NODE_RESTARTING;
}

/* "last 61.3 s ago" or "no heartbeat row" */
static void
beat_phrase(const struct node_evidence *e, char *out, size_t len)
{
	if (e->have_age)
		snprintf(out, len, "last %.1f s ago", e->age_ms / 1000.0);
	else
		snprintf(out, len, "no heartbeat row");
}

static void
missed_phrase(const struct node_evidence *e, char *out, size_t len)
{
	char beat[64];

	beat_phrase(e, beat, sizeof(beat));
	if (e->have_age && e->interval_ms > 0)
		snprintf(out, len, "missed %lld heartbeats (%s)",
			 (long long)(e->age_ms / e->interval_ms), beat);
	else
		snprintf(out, len, "missed heartbeats (%s)", beat);
}

static void
probe_failed_phrase(const struct node_evidence *e, char *out, size_t len)
{
	int n = e->probe ? e->probe->failures : 0;
	const char *cause =
	    e->probe && e->probe->cause[0] ? e->probe->cause : "failed";

	snprintf(out, len, "REST probe failed %d time%s: %s", n,
		 n == 1 ? "" : "s", cause);
}

static void
hb_phrase(const struct node_evidence *e, char *out, size_t len)
{
	char beat[64];

	switch (e->hb) {
	case HB_FRESH:
		beat_phrase(e, beat, sizeof(beat));
		snprintf(out, len, "heartbeat fresh (%s)", beat);
		return;
	case HB_STALE:
		missed_phrase(e, out, len);
		return;
	case HB_UNKNOWN:
	case HB__COUNT:
		break;
	}
	snprintf(out, len, "heartbeat unknown");
}

char *
node_why(enum node_state s, const struct node_evidence *e, char *out,
	 size_t len)
{
	char a[192], b[192];

	switch (s) {
	case NODE_RUNNING:
	case NODE_STANDBY:
		hb_phrase(e, b, sizeof(b));
		snprintf(out, len, "REST probe says %s, %s",
			 s == NODE_RUNNING ? "RUNNING" : "STANDBY", b);
		break;
	case NODE_UNREACHABLE:
		probe_failed_phrase(e, a, sizeof(a));
		hb_phrase(e, b, sizeof(b));
		snprintf(out, len, "%s; %s", a, b);
		break;
	case NODE_HUNG:
		missed_phrase(e, a, sizeof(a));
		snprintf(out, len, "%s but REST probe says %s", a,
			 e->verdict == VERDICT_STANDBY ? "STANDBY" : "RUNNING");
		break;
	case NODE_SHUT_DOWN:
	case NODE_RESTARTING:
		missed_phrase(e, a, sizeof(a));
		probe_failed_phrase(e, b, sizeof(b));
		snprintf(out, len, "%s and %s", a, b);
		break;
	case NODE_UNKNOWN:
		snprintf(out, len, "waiting for the first REST probe verdict");
		break;
	case NODE_DRAINING:
	case NODE_DISABLED:
	case NODE__COUNT:
		snprintf(out, len, "%s",
			 node_state_names[s < NODE__COUNT ? s : 0].desc);
		break;
	}
	return out;
}
