/*
 * test-event.c: notify/event.c: the event JSON (every field escaped, the
 * SPEC.md shape) and ids derived from the transition (the same evidence
 * gives the same id on every appliance; ids sort by evidence time).
 */
#include "config.h"

#include <string.h>

#include "notify/event.h"
#include "tests/unit/tap.h"

static struct event
failover(void)
{
	struct event e = {
		.kind = EVENT_FAILOVER,
		.time_ms = 1795428902113LL, /* 2026-11-23T10:15:02.113Z */
		.evidence_ms = 1795428900000LL,
		.cluster = "vro-prod",
		.appliance = "lb-1",
		.node = "vro-1",
		.from = "vro-1",
		.to = "vro-2",
		.state = "shut_down",
		.prev = "running",
		.reason = "missed 12 heartbeats (last 61.3 s ago)",
	};
	return e;
}

static bool
ulid_chars(const char *id)
{
	if (strlen(id) != EVENT_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", *p) == NULL)
			return false;
	return true;
}

static void
test_id(void)
{
	struct event a = failover(), b = failover();

	event_make_id(&a);
	event_make_id(&b);
	ok(ulid_chars(a.id), "the id is a ULID: %s", a.id);
	is_str(a.id, b.id,
	       "the same transition and evidence: the same id "
	       "(another appliance computes it alike)");
	b.appliance = "lb-2";
	b.time_ms += 250; /* the other appliance raised it a bit later */
	event_make_id(&b);
	is_str(a.id, b.id, "the appliance and the raising time are not in it");
	b = failover();
	b.to = "vro-3";
	event_make_id(&b);
	ok(strcmp(a.id, b.id) != 0, "another target: another id");
	b = failover();
	b.evidence_ms += 1;
	event_make_id(&b);
	ok(strcmp(a.id, b.id) < 0, "later evidence sorts after");
	ok(memcmp(a.id, b.id, 10) != 0 || a.id[9] != b.id[9],
	   "the time is the first 10 characters");
	b = failover();
	b.node = NULL;
	event_make_id(&b);
	ok(strcmp(a.id, b.id) != 0,
	   "a missing field differs from a present one");

	struct event x = { .kind = EVENT_NODE_DOWN,
			   .cluster = "ab",
			   .node = "c",
			   .evidence_ms = 5 };
	struct event y = { .kind = EVENT_NODE_DOWN,
			   .cluster = "a",
			   .node = "bc",
			   .evidence_ms = 5 };

	event_make_id(&x);
	event_make_id(&y);
	ok(strcmp(x.id, y.id) != 0, "fields do not run into each other");
	ok(strncmp(x.id, "0000000005", 10) == 0, "evidence 5 ms: time part");

	/* vip_changed: only its appliance sees it, so its scope (appliance
	 * and VRRP instance) is in the id, never in the JSON. */
	struct event v1 = { .kind = EVENT_VIP_CHANGED,
			    .cluster = "c",
			    .appliance = "lb-1",
			    .state = "master",
			    .evidence_ms = 7,
			    .scope = "lb-1 VI_1" };
	struct event v2 = v1;
	struct buf js = { 0 };

	v2.appliance = "lb-2";
	v2.scope = "lb-2 VI_1";
	event_make_id(&v1);
	event_make_id(&v2);
	ok(strcmp(v1.id, v2.id) != 0,
	   "two appliances' MASTER in the same millisecond: two ids");
	v2 = v1;
	event_make_id(&v2);
	is_str(v1.id, v2.id, "the same scope: the same id");
	v2.scope = NULL;
	event_make_id(&v2);
	ok(strcmp(v1.id, v2.id) != 0, "a scope changes the id");
	event_json(&v1, &js);
	buf_add(&js, "", 1);
	ok(!js.oom && strstr(js.p, "VI_1") == NULL,
	   "the scope is not in the JSON");
	buf_free(&js);
}

static void
test_json(void)
{
	struct event e = failover();
	struct buf b = { 0 };

	event_make_id(&e);
	event_json(&e, &b);
	char want[1024];

	snprintf(want, sizeof(want),
		 "{\"id\":\"%s\",\"time\":\"2026-11-23T10:15:02.113Z\","
		 "\"event\":\"failover\",\"cluster\":\"vro-prod\","
		 "\"node\":\"vro-1\",\"from\":\"vro-1\",\"to\":\"vro-2\","
		 "\"state\":\"shut_down\",\"reason\":\"missed 12 heartbeats "
		 "(last 61.3 s ago)\",\"appliance\":\"lb-1\"}",
		 e.id);
	is_str(b.p, want, "the SPEC.md shape");
	buf_free(&b);

	struct event q = {
		.kind = EVENT_NODE_DOWN,
		.time_ms = 0,
		.cluster = "c\"1",
		.appliance = "a\\b",
		.node = "n\n1",
		.state = "hung",
		.reason = "tab\there \x01 ctl, caf\xc3\xa9",
	};
	event_make_id(&q);
	event_json(&q, &b);
	ok(strstr(b.p, "\"cluster\":\"c\\\"1\"") != NULL, "quotes escaped");
	ok(strstr(b.p, "\"appliance\":\"a\\\\b\"") != NULL,
	   "backslashes escaped");
	ok(strstr(b.p, "\"node\":\"n\\n1\"") != NULL, "newlines escaped");
	ok(strstr(b.p, "\"reason\":\"tab\\there \\u0001 ctl, caf\xc3\xa9\"") !=
	       NULL,
	   "tabs and control characters escaped, UTF-8 kept");
	ok(strstr(b.p, "\"from\"") == NULL && strstr(b.p, "\"to\"") == NULL,
	   "absent fields are left out");
	ok(strstr(b.p, "\"time\":\"1970-01-01T00:00:00.000Z\"") != NULL,
	   "time in UTC with milliseconds");
	buf_free(&b);

	struct event d = { .kind = EVENT_RESTART_STARTED,
			   .cluster = "c",
			   .node = "n",
			   .dry_run = true };
	event_make_id(&d);
	event_json(&d, &b);
	ok(strstr(b.p, "\"dry_run\":true") != NULL, "dry_run when set");
	buf_free(&b);
}

/* Every restart attempt is news, even when the evidence has not moved
 * (a shut-down node's last beat stays where it was). */
static void
test_attempt(void)
{
	struct event a = failover(), b;
	struct buf j = { 0 };

	a.kind = EVENT_RESTART_FAILED;
	a.from = a.to = NULL;
	a.prev = a.state = "restarting";
	a.attempt = 1;
	b = a;
	b.attempt = 2;
	event_make_id(&a);
	event_make_id(&b);
	ok(strcmp(a.id, b.id) != 0, "attempts 1 and 2: two ids");
	ok(strncmp(a.id, b.id, 10) == 0, "with the same evidence time");
	b.attempt = 1;
	event_make_id(&b);
	is_str(a.id, b.id, "the same attempt: the same id");
	event_json(&a, &j);
	buf_add(&j, "", 1);
	ok(strstr(j.p, ",\"attempt\":1") != NULL,
	   "the JSON carries the attempt");
	buf_free(&j);
	a = failover();
	event_json(&a, &j);
	buf_add(&j, "", 1);
	ok(strstr(j.p, "attempt") == NULL, "other events carry none");
	buf_free(&j);
}

int
main(void)
{
	test_id();
	test_json();
	test_attempt();
	return tap_done();
}
