/*
 * test-flap.c: policies/flap.c: the threshold (below, at, above), the
 * sliding window and its edge, damping off, settling with its totals, a
 * second flapping period, and the ring's limit.
 */
#include "config.h"

#include <string.h>

#include "policies/flap.h"
#include "tests/unit/tap.h"

/* Feeds changes at t0, t0 + step, ...; returns how many started a flap. */
static int
feed(struct flap_track *f, int count, double t0, double step, int changes,
     int window_ms)
{
	int started = 0;

	for (int k = 0; k < count; k++)
		started += flap_change(f, t0 + k * step, changes, window_ms);
	return started;
}

static void
test_threshold(void)
{
	struct flap_track f;

	memset(&f, 0, sizeof(f));
	is_int(feed(&f, 2, 0, 100, 3, 1000), 0, "below: 2 of 3");
	ok(!f.flapping, "not flapping below");
	ok(!flap_change(&f, 200, 3, 1000), "at: 3 changes are allowed");
	ok(!f.flapping, "not flapping at the threshold");
	ok(flap_change(&f, 300, 3, 1000), "above: the 4th starts flapping");
	ok(f.flapping, "flapping");
	is_int((long long)f.since, 0, "since: the window's first change");
	is_int((long long)f.last, 300, "last change");
	is_int(f.changes, 4, "the changes that made it flap");
	is_int(f.suppressed, 0, "nothing suppressed yet");

	ok(!flap_change(&f, 400, 3, 1000), "a further change: not again");
	ok(!flap_change(&f, 5000, 3, 1000),
	   "not again even after the window (settling is flap_settled's)");
	is_int(f.changes, 6, "each change counted");
	is_int((long long)f.last, 5000, "last updated");
	is_int((long long)f.since, 0, "since kept");

	/* changes = 1: two changes within the window flap. */
	memset(&f, 0, sizeof(f));
	ok(!flap_change(&f, 0, 1, 1000), "1 of 1");
	ok(flap_change(&f, 999, 1, 1000), "2 within 1000 ms flap");
}

static void
test_window(void)
{
	struct flap_track f;

	/* Steady changes slower than the window allows never flap. */
	memset(&f, 0, sizeof(f));
	is_int(feed(&f, 50, 0, 334, 3, 1000), 0,
	       "one change per 334 ms: at most 3 per 1000 ms");
	ok(!f.flapping, "never flapping");
	is_int(f.n, 3, "old changes dropped from the ring");

	/* The window slides: the change at 0 no longer counts at 1200. */
	memset(&f, 0, sizeof(f));
	feed(&f, 3, 0, 400, 3, 1000); /* 0, 400, 800 */
	ok(!flap_change(&f, 1200, 3, 1000), "0 slid out: 400, 800, 1200");
	ok(flap_change(&f, 1300, 3, 1000), "400..1300: 4 changes flap");
	is_int((long long)f.since, 400, "since: the first change held");

	/* Edge: a change exactly window_ms old does not count. */
	memset(&f, 0, sizeof(f));
	feed(&f, 3, 0, 1, 3, 1000); /* 0, 1, 2 */
	ok(!flap_change(&f, 1000, 3, 1000), "0 is 1000 ms old: out");
	memset(&f, 0, sizeof(f));
	feed(&f, 3, 0, 1, 3, 1000);
	ok(flap_change(&f, 999.5, 3, 1000), "0 is 999.5 ms old: in");

	/* Many changes at once. */
	memset(&f, 0, sizeof(f));
	is_int(feed(&f, 10, 0, 0, 3, 1000), 1, "same instant: flaps once");
	is_int(f.changes, 10, "all counted");
}

static void
test_off(void)
{
	struct flap_track f;

	memset(&f, 0, sizeof(f));
	is_int(feed(&f, 1000, 0, 1, 0, 60000), 0, "changes = 0: never flaps");
	ok(!f.flapping, "not flapping");
	is_int(feed(&f, 10, 0, 1, -1, 60000), 0, "negative: off too");

	/* window 0: nothing is within the window. */
	memset(&f, 0, sizeof(f));
	is_int(feed(&f, 100, 0, 0, 3, 0), 0, "window 0: never flaps");
}

static void
test_settle(void)
{
	struct flap_track f;
	unsigned changes = 99, suppressed = 99;

	memset(&f, 0, sizeof(f));
	ok(!flap_settled(&f, 1e9, 1000, &changes, &suppressed),
	   "not flapping: nothing settles");
	is_int(changes, 99, "totals untouched");
	is_int(suppressed, 99, "totals untouched");

	is_int(feed(&f, 4, 0, 100, 3, 1000), 1, "flapping at 300");
	f.suppressed = 2; /* the caller held two node events back */
	flap_change(&f, 500, 3, 1000);
	f.suppressed++;
	ok(!flap_settled(&f, 1499, 1000, &changes, &suppressed),
	   "999 ms after the last change: not settled");
	ok(f.flapping, "still flapping");
	ok(flap_settled(&f, 1500, 1000, &changes, &suppressed),
	   "window_ms after the last change: settled");
	is_int(changes, 5, "total changes");
	is_int(suppressed, 3, "total suppressed");
	ok(!f.flapping, "no longer flapping");
	is_int(f.n, 0, "ring emptied");
	is_int(f.changes, 0, "counts afresh");
	is_int(f.suppressed, 0, "suppressed afresh");
	ok(!flap_settled(&f, 9999, 1000, &changes, &suppressed),
	   "settles once");

	/* A second flapping period needs changes + 1 new changes. */
	ok(!flap_change(&f, 1600, 3, 1000), "fresh: 1");
	is_int(feed(&f, 2, 1700, 100, 3, 1000), 0, "fresh: 2, 3");
	ok(flap_change(&f, 1900, 3, 1000), "fresh: 4th flaps again");
	is_int((long long)f.since, 1600, "second period's since");
	ok(flap_settled(&f, 2900, 1000, NULL, NULL), "NULL totals allowed");
	ok(!f.flapping, "settled");
}

static void
test_limit(void)
{
	struct flap_track f;

	memset(&f, 0, sizeof(f));
	is_int(feed(&f, FLAP_MAX_CHANGES, 0, 1, FLAP_MAX_CHANGES, 60000), 0,
	       "FLAP_MAX_CHANGES changes allowed");
	ok(flap_change(&f, FLAP_MAX_CHANGES, FLAP_MAX_CHANGES, 60000),
	   "one more flaps");
	is_int(f.changes, FLAP_MAX_CHANGES + 1, "all held");

	memset(&f, 0, sizeof(f));
	is_int(feed(&f, FLAP_MAX_CHANGES, 0, 1, 500, 60000), 0,
	       "changes over the limit clamp to FLAP_MAX_CHANGES");
	ok(flap_change(&f, FLAP_MAX_CHANGES, 500, 60000),
	   "and flap at FLAP_MAX_CHANGES + 1");

	/* The ring wraps many times without flapping. */
	memset(&f, 0, sizeof(f));
	is_int(feed(&f, 1000, 0, 700, FLAP_MAX_CHANGES, 60000), 0,
	       "86 per minute, 1000 times: no flap");
	ok(f.n <= FLAP_MAX_CHANGES, "the ring holds the window only");
	is_int(feed(&f, 30, 700000, 1, FLAP_MAX_CHANGES, 60000), 1,
	       "a burst after wrapping flaps once");
}

int
main(void)
{
	test_threshold();
	test_window();
	test_off();
	test_settle();
	test_limit();
	return tap_done();
}
