/*
 * test-format.c: notify/event.c's reader (event_parse) and notify/format.c:
 * an event survives the trip JSON → view with every field and every
 * escape intact, bad JSON is refused, and the summaries, syslog lines and
 * e-mails say what SPEC.md says they say.
 */
#include "config.h"

#include <string.h>

#include "notify/event.h"
#include "notify/format.h"
#include "tests/unit/tap.h"

static struct event
sample(void)
{
	struct event e = {
		.kind = EVENT_FAILOVER,
		.time_ms = 1795428902113LL,
		.evidence_ms = 1795428900000LL,
		.cluster = "vro-prod",
		.appliance = "lb-1",
		.node = "vro-1",
		.from = "vro-1",
		.to = "vro-2",
		.state = "shut_down",
		.prev = "running",
		.reason = "missed 12 heartbeats",
	};
	event_make_id(&e);
	return e;
}

/* JSON → view for e, through event_json. */
static int
round_trip(const struct event *e, struct event_view *v)
{
	struct buf b = { 0 };
	int rc;

	event_json(e, &b);
	rc = event_parse(b.p, b.len, v);
	buf_free(&b);
	return rc;
}

static void
test_round_trip(void)
{
	/* Every byte that needs escaping, in every string field. */
	static const char nasty[] = "q\" b\\ s/ n\n r\r t\t c\x01\x1f d\x7f "
				    "u\xc3\xa9 e\xe2\x86\x92 4\xf0\x9f\x98\x80";
	const char *fields[] = { "cluster", "appliance", "node",  "from",
				 "to",	    "state",	 "reason" };
	struct event e = sample();
	struct event_view v;

	is_int(round_trip(&e, &v), 0, "the event's JSON parses");
	is_str(v.id, e.id, "id");
	is_str(v.time, "2026-11-23T10:15:02.113Z", "time");
	is_str(v.event, "failover", "event");
	is_str(v.cluster, "vro-prod", "cluster");
	is_str(v.node, "vro-1", "node");
	is_str(v.from, "vro-1", "from");
	is_str(v.to, "vro-2", "to");
	is_str(v.state, "shut_down", "state");
	is_str(v.reason, "missed 12 heartbeats", "reason");
	is_str(v.appliance, "lb-1", "appliance");
	ok(!v.dry_run, "no dry_run");
	event_view_free(&v);

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		struct event n = sample();
		const char *got = NULL;

		if (strcmp(fields[i], "cluster") == 0)
			n.cluster = nasty;
		else if (strcmp(fields[i], "appliance") == 0)
			n.appliance = nasty;
		else if (strcmp(fields[i], "node") == 0)
			n.node = nasty;
		else if (strcmp(fields[i], "from") == 0)
			n.from = nasty;
		else if (strcmp(fields[i], "to") == 0)
			n.to = nasty;
		else if (strcmp(fields[i], "state") == 0)
			n.state = nasty;
		else
			n.reason = nasty;
		is_int(round_trip(&n, &v), 0, "%s with every escape parses",
		       fields[i]);
		if (strcmp(fields[i], "cluster") == 0)
			got = v.cluster;
		else if (strcmp(fields[i], "appliance") == 0)
			got = v.appliance;
		else if (strcmp(fields[i], "node") == 0)
			got = v.node;
		else if (strcmp(fields[i], "from") == 0)
			got = v.from;
		else if (strcmp(fields[i], "to") == 0)
			got = v.to;
		else if (strcmp(fields[i], "state") == 0)
			got = v.state;
		else
			got = v.reason;
		is_str(got, nasty, "%s comes back byte for byte", fields[i]);
		event_view_free(&v);
	}

	e = sample();
	e.kind = EVENT_ALL_DOWN;
	e.node = e.from = e.to = e.state = e.prev = NULL;
	is_int(round_trip(&e, &v), 0, "a cluster-wide event parses");
	ok(v.node == NULL && v.from == NULL && v.state == NULL,
	   "absent fields are NULL");
	event_view_free(&v);

	e = sample();
	e.kind = EVENT_RESTART_STARTED;
	e.dry_run = true;
	is_int(round_trip(&e, &v), 0, "a dry run parses");
	ok(v.dry_run, "dry_run comes back");
	event_view_free(&v);
}

static void
test_parse_edges(void)
{
	static const struct {
		const char *json;
		int rc;
		const char *what;
	} cases[] = {
		{ "{}", 0, "an empty object" },
		{ " \t\r\n{ \"id\" : \"x\" } \n", 0, "white space around" },
		{ "{\"id\":\"\\u00e9\\ud83d\\ude00\"}", 0, "\\u and pairs" },
		{ "{\"n\":12.5e-3,\"b\":false,\"z\":null,\"id\":\"a\"}", 0,
		  "numbers, false and null are skipped" },
		{ "{\"x\":\"a\"}", 0, "unknown members are ignored" },
		{ "", -1, "nothing" },
		{ "[]", -1, "an array" },
		{ "{", -1, "cut after {" },
		{ "{\"id\"", -1, "cut after a key" },
		{ "{\"id\":", -1, "cut after the colon" },
		{ "{\"id\":\"a", -1, "an unterminated string" },
		{ "{\"id\":\"a\"", -1, "no closing brace" },
		{ "{\"id\":\"a\",}", -1, "a trailing comma" },
		{ "{\"id\" \"a\"}", -1, "no colon" },
		{ "{id:\"a\"}", -1, "an unquoted key" },
		{ "{\"id\":\"a\"} x", -1, "junk after the object" },
		{ "{\"id\":{\"a\":1}}", -1, "a nested object" },
		{ "{\"id\":[1]}", -1, "an array value" },
		{ "{\"id\":tru}", -1, "a cut true" },
		{ "{\"id\":\"\\x\"}", -1, "an unknown escape" },
		{ "{\"id\":\"\\u12\"}", -1, "a short \\u" },
		{ "{\"id\":\"\\u0000\"}", -1,
		  "\\u0000 (would cut the string)" },
		{ "{\"id\":\"\\ud800\"}", -1, "a lone high surrogate" },
		{ "{\"id\":\"\\udc00\"}", -1, "a lone low surrogate" },
		{ "{\"id\":\"\\ud800\\u0041\"}", -1, "a bad low surrogate" },
		{ "{\"id\":\"a\nb\"}", -1, "a raw control character" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct event_view v;

		is_int(event_parse(cases[i].json, strlen(cases[i].json), &v),
		       cases[i].rc, "parse: %s", cases[i].what);
		event_view_free(&v);
	}

	struct event_view v;
	const char *j = "{\"id\":\"\\u00e9\\ud83d\\ude00\\/\"}";

	event_parse(j, strlen(j), &v);
	is_str(v.id, "\xc3\xa9\xf0\x9f\x98\x80/", "\\u escapes become UTF-8");
	event_view_free(&v);
	/* The length bounds the read: the NUL inside is not read past. */
	j = "{\"id\":\"a\"}{\"id\":\"b\"}";
	is_int(event_parse(j, 10, &v), 0, "only len bytes are read");
	is_str(v.id, "a", "the first object");
	event_view_free(&v);
}

static const char *
text(struct buf *b)
{
	buf_add(b, "", 1);
	b->len--;
	return b->p;
}

static void
test_formats(void)
{
	struct event e = sample();
	struct event_view v;
	struct buf b = { 0 };
	char *to[] = { "ops@example", "oncall@example", NULL };

	round_trip(&e, &v);
	format_summary(&v, &b);
	is_str(text(&b), "[vigil vro-prod] failover: vro-1 \xe2\x86\x92 vro-2",
	       "failover summary: FROM → TO");
	buf_free(&b);
	format_slack(&v, &b);
	is_str(text(&b),
	       "{\"text\":\"[vigil vro-prod] failover: vro-1 \xe2\x86\x92 "
	       "vro-2: missed 12 heartbeats\"}",
	       "slack: the summary and the reason as text");
	buf_free(&b);
	format_syslog(&v, &b);
	ok(strncmp(text(&b), "event=failover id=", 18) == 0,
	   "syslog line starts with event= and id=");
	ok(strstr(b.p, " from=vro-1 to=vro-2 state=shut_down appliance=lb-1 "
		       "reason=\"missed 12 heartbeats\"") != NULL,
	   "syslog: fields, the reason quoted: %s", b.p);
	buf_free(&b);

	format_email(&v, "vigil@example", to, "NODE STATE\nvro-1 shut_down\n",
		     1795428902113LL, &b);
	text(&b);
	ok(strstr(b.p, "Date: Mon, 23 Nov 2026 10:15:02 +0000\r\n") != NULL,
	   "e-mail: Date");
	ok(strstr(b.p, "From: vigil <vigil@example>\r\n") != NULL,
	   "e-mail: From");
	ok(strstr(b.p, "To: <ops@example>,\r\n <oncall@example>\r\n") != NULL,
	   "e-mail: every recipient");
	ok(strstr(b.p, "Subject: =?UTF-8?B?") != NULL,
	   "e-mail: a subject with an arrow is RFC 2047-encoded");
	ok(strstr(b.p, "Content-Type: text/plain; charset=utf-8\r\n") != NULL,
	   "e-mail: plain text UTF-8");
	ok(strstr(b.p, "\r\n\r\nevent:     failover\r\n") != NULL,
	   "e-mail: the body starts with the event after a blank line");
	ok(strstr(b.p, "reason:    missed 12 heartbeats\r\n") != NULL,
	   "e-mail: the reason");
	ok(strstr(b.p, "vro-1 shut_down\r\n") != NULL,
	   "e-mail: the node table, CRLF line ends");
	ok(strstr(b.p, "\n") == strstr(b.p, "\r\n") + 1, "e-mail: no bare LF");
	buf_free(&b);
	event_view_free(&v);

	e = sample();
	e.kind = EVENT_NODE_DOWN;
	e.from = e.to = NULL;
	round_trip(&e, &v);
	format_summary(&v, &b);
	is_str(text(&b), "[vigil vro-prod] node_down: vro-1 (shut_down)",
	       "node summary: NODE (STATE)");
	buf_free(&b);
	format_email(&v, "a@b", to, NULL, 0, &b);
	ok(strstr(text(&b), "Subject: [vigil vro-prod] node_down: vro-1 "
			    "(shut_down)\r\n") != NULL,
	   "an ASCII subject stays as it is");
	buf_free(&b);
	event_view_free(&v);

	e = sample();
	e.kind = EVENT_SPLIT_BRAIN;
	e.node = e.from = e.to = e.state = NULL;
	e.reason = "say \"hi\"\\ \x01now";
	round_trip(&e, &v);
	format_summary(&v, &b);
	is_str(text(&b), "[vigil vro-prod] split_brain",
	       "cluster-wide summary");
	buf_free(&b);
	format_syslog(&v, &b);
	ok(strstr(text(&b), "reason=\"say \\\"hi\\\"\\\\ now\"") != NULL,
	   "syslog: quotes and backslashes escaped, control characters "
	   "dropped: %s",
	   b.p);
	buf_free(&b);
	event_view_free(&v);

	e = sample();
	e.kind = EVENT_VIP_CHANGED;
	e.node = e.from = e.to = NULL;
	e.state = "master";
	round_trip(&e, &v);
	format_summary(&v, &b);
	is_str(text(&b), "[vigil vro-prod] vip_changed: lb-1 (master)",
	       "vip_changed summary: APPLIANCE (STATE)");
	buf_free(&b);
	event_view_free(&v);
}

int
main(void)
{
	test_round_trip();
	test_parse_edges();
	test_formats();
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
