/*
 * test-passive.c: policies/passive.c: consecutive failures eject, a
 * success resets the count, ejection lasts eject_ms, and the last
 * routable node is never ejected.
 */
#include "config.h"

#include "policies/passive.h"
#include "tests/unit/tap.h"

int
main(void)
{
	struct passive_track t = { 0 };

	ok(!passive_feed(&t, PASSIVE_REFUSED, 3, 10000, 0, true), "failure 1");
	ok(!passive_feed(&t, PASSIVE_5XX, 3, 10000, 1, true), "failure 2");
	ok(!passive_feed(&t, PASSIVE_OK, 3, 10000, 2, true),
	   "a good answer in between");
	is_int(t.consecutive, 0, "resets the count");
	ok(!passive_feed(&t, PASSIVE_RESET, 3, 10000, 3, true), "failure 1");
	ok(!passive_feed(&t, PASSIVE_TIMEOUT, 3, 10000, 4, true), "failure 2");
	ok(passive_feed(&t, PASSIVE_5XX, 3, 10000, 5, true),
	   "failure 3 ejects");
	ok(passive_ejected(&t, 5), "ejected at once");
	ok(passive_ejected(&t, 10004), "still ejected just before eject_ms");
	ok(!passive_feed(&t, PASSIVE_5XX, 1, 10000, 6, true),
	   "failures while ejected do not eject again");
	ok(!passive_ejected(&t, 10005), "back after eject_ms");
	is_int(t.ejections, 1, "one ejection counted");

	struct passive_track last = { 0 };

	ok(!passive_feed(&last, PASSIVE_REFUSED, 1, 10000, 0, false),
	   "the last routable node is not ejected");
	ok(!passive_ejected(&last, 1), "and stays routable");
	ok(passive_feed(&last, PASSIVE_REFUSED, 1, 10000, 2, true),
	   "once another node is routable, it may be");

	for (int i = 0; i < PASSIVE__COUNT; i++)
		ok(passive_outcome_names[i].name != NULL, "outcome %d named",
		   i);
	return tap_done();
}
