/*
 * test-health.c: the readers of the evidence: how a probe answer is
 * classified (status, running/standby patterns, the 64 KiB limit), how a
 * heartbeat query result is read (shape, NULLs, numbers), JSON strings,
 * routing-table reclamation by epochs, and the leadership lock's key.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/buf.h"
#include "core/conf-check.h"
#include "core/route.h"
#include "health/heartbeat.h"
#include "health/leader.h"
#include "health/probe.h"
#include "tests/unit/tap.h"

static void
test_classify(void)
{
	struct conf c = { .probe_expect_status = 200 };
	struct probe_result r;
	char err[256];
	const char *running = "{\"state\":\"RUNNING\",\"health-status\":{}}";
	const char *standby = "{\"state\" : \"STANDBY\"}";

	check_regex("\"state\"\\s*:\\s*\"RUNNING\"", &c.probe_running_re, err,
		    sizeof(err));
	check_regex("\"state\"\\s*:\\s*\"STANDBY\"", &c.probe_standby_re, err,
		    sizeof(err));

	probe_classify(&c, 200, running, strlen(running), &r);
	is_int(r.verdict, VERDICT_RUNNING, "200 + running body: running");
	probe_classify(&c, 200, standby, strlen(standby), &r);
	is_int(r.verdict, VERDICT_STANDBY, "200 + standby body: standby");
	probe_classify(&c, 200, "{}", 2, &r);
	is_int(r.verdict, VERDICT_FAILED, "200 + neither: failed");
	is_int(r.cause, PROBE_NO_MATCH, "cause: no match");
	probe_classify(&c, 503, running, strlen(running), &r);
	is_int(r.verdict, VERDICT_FAILED, "503 + running body: failed");
	is_int(r.cause, PROBE_STATUS, "cause: status");
	is_str(r.detail, "HTTP 503 (expected 200)", "the status is named");
	probe_classify(&c, 500, "", 0, &r);
	is_str(r.detail, "HTTP 500 (expected 200)", "500 named");

	/* The body is matched as bytes; a NUL or invalid UTF-8 before the
	 * match does not hide it. */
	const char bin[] = "\xff\xfe\0junk \"state\":\"RUNNING\"";

	probe_classify(&c, 200, bin, sizeof(bin) - 1, &r);
	is_int(r.verdict, VERDICT_RUNNING, "binary bytes before the match");

	/* Only the given length counts (the reader stops at 64 KiB). */
	probe_classify(&c, 200, running, 5, &r);
	is_int(r.verdict, VERDICT_FAILED,
	       "a match past the length is not seen");

	pcre2_code_free(c.probe_standby_re);
	c.probe_standby_re = NULL;
	probe_classify(&c, 200, standby, strlen(standby), &r);
	is_int(r.verdict, VERDICT_FAILED, "no standby pattern: failed");

	c.probe_expect_status = 204;
	probe_classify(&c, 204, running, strlen(running), &r);
	is_int(r.verdict, VERDICT_RUNNING, "expect_status 204");
	probe_classify(&c, 200, running, strlen(running), &r);
	is_int(r.verdict, VERDICT_FAILED, "200 is not 204");
	pcre2_code_free(c.probe_running_re);

	for (int i = 0; i < PROBE__COUNT; i++)
		ok(probe_cause_names[i].name && probe_cause_names[i].desc,
		   "cause %d has a name and a description", i);
}

static PGresult *
result(int ncols, int nrows, const char *const *cells)
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc attrs[3];

	memset(attrs, 0, sizeof(attrs));
	for (int i = 0; i < ncols; i++)
		attrs[i].name = (char *)(i == 0 ? "node" : "age");
	PQsetResultAttrs(r, ncols, attrs);
	for (int row = 0; row < nrows; row++)
		for (int col = 0; col < ncols; col++) {
			const char *v = cells[row * ncols + col];

			PQsetvalue(r, row, col, (char *)v,
				   v ? (int)strlen(v) : -1);
		}
	return r;
}

/* Beats dated by the database's clock: every appliance reading the same
 * row at different moments gets the same millisecond. */
static void
test_heartbeat_clock(void)
{
	struct hb_row rows[3] = {
		{ .node = "a", .age_ms = 1200.5 },
		{ .node = "b", .age_ms = 0.001 },
		{ .node = "c", .age_ms = 86400000.123 },
	};
	struct hb_row later = { .node = "a", .age_ms = 1537.75 };
	static const char *const clock[] = { "1763892000123456" };
	static const char *const words[] = { "noon" };
	static const char *const none[] = { NULL };
	PGresult *r = result(1, 1, clock);

	is_int(heartbeat_read_clock(r), 1763892000123456LL,
	       "the clock query's µs");
	PQclear(r);
	r = result(1, 1, words);
	is_int(heartbeat_read_clock(r), -1, "a clock that is no number");
	PQclear(r);
	r = result(1, 1, none);
	is_int(heartbeat_read_clock(r), -1, "a NULL clock");
	PQclear(r);
	is_int(heartbeat_read_clock(NULL), -1, "no clock result");

	heartbeat_date_rows(rows, 3, 1763892000123456LL);
	is_int(rows[0].beat_ms, 1763891998922, "now - 1200.5 ms, in ms");
	is_int(rows[1].beat_ms, 1763892000123, "1 µs before now");
	is_int(rows[2].beat_ms, 1763805600123,
	       "a day and 123 µs before now");
	/* The same beat read 337.25 ms later, by another appliance. */
	heartbeat_date_rows(&later, 1, 1763892000460706LL);
	is_int(later.beat_ms, rows[0].beat_ms, "read later: the same beat");
	heartbeat_date_rows(rows, 1, -1);
	is_int(rows[0].beat_ms, -1, "no clock: undated");
}

static void
test_heartbeat_result(void)
{
	struct hb_row rows[8];
	char err[256];
	PGresult *r;
	long n;

	static const char *const good[] = {
		"vro-1", "1200.5", "vro-2", "0",     "vro-3",
		"-35",	 NULL,	   "10",    "vro-4", NULL,
	};
	r = result(2, 5, good);
	n = heartbeat_read_result(r, rows, 8, err, sizeof(err));
	is_int(n, 3, "three usable rows; NULL node or age skipped");
	is_str(rows[0].node, "vro-1", "first node");
	ok(rows[0].age_ms == 1200.5, "fractional age");
	ok(rows[1].age_ms == 0, "zero age");
	ok(rows[2].age_ms == 0, "a negative age (clock ahead) is 0");
	PQclear(r);

	static const char *const three[] = { "a", "1", "x" };
	r = result(3, 1, three);
	n = heartbeat_read_result(r, rows, 8, err, sizeof(err));
	is_int(n, -1, "three columns: wrong shape");
	is_str(err, "the query must return 2 columns (node, age_ms), not 3",
	       "the shape is explained");
	PQclear(r);

	static const char *const words[] = { "a", "soon" };
	r = result(2, 1, words);
	n = heartbeat_read_result(r, rows, 8, err, sizeof(err));
	is_int(n, -1, "an age that is not a number");
	is_str(err, "row 1: age_ms \"soon\" is not a number", "and why");
	PQclear(r);

	static const char *const trail[] = { "a", "12ms" };
	r = result(2, 1, trail);
	is_int(heartbeat_read_result(r, rows, 8, err, sizeof(err)), -1,
	       "trailing garbage in a number is refused");
	PQclear(r);

	r = result(2, 0, NULL);
	is_int(heartbeat_read_result(r, rows, 8, err, sizeof(err)), 0,
	       "no rows is fine");
	PQclear(r);

	static const char *const many[] = { "a", "1", "b", "2", "c", "3" };
	r = result(2, 3, many);
	is_int(heartbeat_read_result(r, rows, 2, err, sizeof(err)), 2,
	       "rows beyond the buffer are left out");
	PQclear(r);

	r = PQmakeEmptyPGresult(NULL, PGRES_COMMAND_OK);
	is_int(heartbeat_read_result(r, rows, 8, err, sizeof(err)), -1,
	       "a statement that returns no rows");
	is_str(err, "the query returned no rows: PGRES_COMMAND_OK",
	       "is explained");
	PQclear(r);
}

static void
test_json(void)
{
	struct buf b = { 0 };

	buf_json_str(&b, "plain");
	buf_puts(&b, " ");
	buf_json_str(&b, "q\"b\\n\n\r\t\x01\x7f é");
	buf_puts(&b, " ");
	buf_json_str(&b, NULL);
	is_str(b.p, "\"plain\" \"q\\\"b\\\\n\\n\\r\\t\\u0001\\u007f é\" null",
	       "JSON escaping");
	ok(!b.oom, "no allocation failure");
	buf_free(&b);
	buf_printf(&b, "%d-%s", 42, "x");
	is_str(b.p, "42-x", "buf_printf");
	buf_free(&b);
}

static void
test_routes(void)
{
	struct route_holder h;
	struct conf_node node = {
		.name = "n1",
		.addr = { .host = "127.0.0.1", .port = "80" },
	};
	const struct route_table *seen;
	size_t r0;

	memset(&h, 0, sizeof(h));
	r0 = route_reader_add(&h);
	ok(route_read(&h, r0) == NULL, "nothing published yet");
	route_quiesce(&h, r0);

	struct route_table *t1 = route_table_new(1, 1, NULL);

	route_node_set(&t1->nodes[0], &node, false, NULL);
	route_publish(&h, t1);
	seen = route_read(&h, r0);
	ok(seen == t1, "the reader sees the first table");
	is_str(seen->nodes[0].name, "n1", "with its node");

	struct route_table *t2 = route_table_new(0, 2, NULL);

	route_publish(&h, t2);
	ok(h.retired == t1, "the first table is retired, not freed: a "
			    "reader holds it");
	is_str(seen->nodes[0].name, "n1", "and it is still readable");
	route_quiesce(&h, r0);
	route_collect(&h);
	ok(h.retired == NULL, "freed once the reader moved on");
	ok(route_read(&h, r0) == t2, "the reader now sees the second");
	route_quiesce(&h, r0);
	route_publish(&h, route_table_new(0, 3, NULL));
	ok(h.retired == NULL, "with no reader inside, freed at once");
	route_holder_free(&h);
}

/* The expected keys come from sha256sum, not from leader.c:
 *   printf 'vigil:vro-prod' | sha256sum → 522868673afccb3b 1d66…
 *   printf 'vigil:vro-test' | sha256sum → b8cf91a9654347c0 3fae…
 * the first 8 bytes, big-endian, as a signed 64-bit integer. */
static void
test_leader_key(void)
{
	int64_t prod = leader_key("vro-prod");

	is_int(prod, INT64_C(0x522868673afccb3b),
	       "vro-prod: SHA-256(\"vigil:vro-prod\")[0..8) big-endian");
	is_int(prod, INT64_C(5920096502759082811), "the same in decimal");
	is_int(leader_key("vro-prod"), prod, "deterministic");
	is_int((int64_t)((uint64_t)prod >> 32), 0x52286867,
	       "pg_locks classid: the high 32 bits");
	is_int((int64_t)((uint64_t)prod & 0xffffffff), 0x3afccb3b,
	       "pg_locks objid: the low 32 bits");
	is_int(leader_key("vro-test"), INT64_C(-5129721293817296960),
	       "vro-test: a first byte >= 0x80 is a negative key");
	ok(leader_key("vro-test") != prod, "another cluster, another key");
	ok(leader_key("vro-prod2") != prod, "a longer name, another key");
	ok(leader_key("VRO-PROD") != prod, "names are case-sensitive");
}

int
main(void)
{
	test_classify();
	test_heartbeat_result();
	test_heartbeat_clock();
	test_json();
	test_routes();
	test_leader_key();
	return tap_done();
}
