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

void
passive_clear(struct passive_track *t)
{
	t->consecutive = 0;
	t->ejected_until = 0;
}

size_t
passive_routed(const bool *active, const bool *ejected, size_t n,
	       bool *routed)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		routed[i] = active[i] && !ejected[i];
		k += routed[i];
	}
	if (k > 0)
		return k;
	for (size_t i = 0; i < n; i++) {
		routed[i] = active[i];
		k += routed[i];
	}
	return k;
}
