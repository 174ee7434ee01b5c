/*
 * passive.c: counting the proxy's errors per node and ejecting.
 */
#include "config.h"

#include "policies/passive.h"

const struct name_desc passive_outcome_names[PASSIVE__COUNT] = {
	[PASSIVE_OK] = { "ok", "answered" },
	[PASSIVE_REFUSED] = { "refused", "connection refused" },
	[PASSIVE_TIMEOUT] = { "timeout", "timed out" },
	[PASSIVE_RESET] = { "reset", "closed before answering" },
	[PASSIVE_5XX] = { "5xx", "answered with a server error" },
};

bool
passive_judge(struct passive_track *t, unsigned consecutive,
	      int consecutive_failures, double eject_ms, double now_ms,
	      bool may_eject)
{
	if (consecutive < (unsigned)consecutive_failures ||
	    passive_ejected(t, now_ms) || !may_eject)
		return false;
	t->ejected_until = now_ms + eject_ms;
	t->ejections++;
	return true;
}

bool
passive_feed(struct passive_track *t, enum passive_outcome o,
	     int consecutive_failures, double eject_ms, double now_ms,
	     bool may_eject)
{
	if (o == PASSIVE_OK) {
		t->consecutive = 0;
		return false;
	}
	t->consecutive++;
	if (!passive_judge(t, (unsigned)t->consecutive, consecutive_failures,
			   eject_ms, now_ms, may_eject))
		return false;
	t->consecutive = 0;
	return true;
}

bool
passive_ejected(const struct passive_track *t, double now_ms)
{
	return now_ms < t->ejected_until;
}
