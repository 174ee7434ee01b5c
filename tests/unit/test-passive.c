/*
 * test-passive.c: policies/passive.c: consecutive failures eject, a
 * success resets the count, ejection lasts eject_ms, and the last
 * routable node is never ejected, nor left out of routing when the
 * others leave the active set; a node that left the active set comes
 * back with its ejection and its failures forgotten.
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

	/* Cleared when the node leaves the active set. */
	struct passive_track gone = { 0 };

	ok(passive_feed(&gone, PASSIVE_REFUSED, 1, 10000, 0, true),
	   "a node that dies is ejected");
	passive_feed(&gone, PASSIVE_REFUSED, 3, 10000, 1, true);
	passive_clear(&gone);
	ok(!passive_ejected(&gone, 2), "cleared: routable when it is back");
	is_int(gone.consecutive, 0, "and its failures forgotten");
	is_int(gone.ejections, 1, "the ejection is still counted");

	/* Which active nodes are routed. */
	bool act[4] = { true, true, false, true };
	bool ej[4] = { false, true, false, false };
	bool r[4];

	is_int(passive_routed(act, ej, 4, r), 2, "one ejected: two routed");
	ok(r[0] && !r[1] && !r[2] && r[3], "the active ones not ejected");
	ej[0] = ej[3] = true;
	is_int(passive_routed(act, ej, 4, r), 3,
	       "every active node ejected: all of them routed");
	ok(r[0] && r[1] && !r[2] && r[3], "the inactive one still is not");
	/* Seen under load: node 1 ejected while node 0 was routable, then
	 * node 0 left the active set; node 1, running, must stay routed. */
	bool act2[2] = { false, true }, ej2[2] = { false, true };

	is_int(passive_routed(act2, ej2, 2, r), 1,
	       "the only active node is routed although ejected");
	ok(!r[0] && r[1], "and only it");
	ej2[0] = false;
	act2[1] = false;
	is_int(passive_routed(act2, ej2, 2, r), 0, "no active node: none");
	is_int(passive_routed(act2, ej2, 0, r), 0, "no node at all: none");

	for (int i = 0; i < PASSIVE__COUNT; i++)
		ok(passive_outcome_names[i].name != NULL, "outcome %d named",
		   i);
	return tap_done();
}
