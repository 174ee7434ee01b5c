/*
 * flap.c: flap damping: a ring of recent change times per node, and when a
 * flapping node has settled.
 */
#include "config.h"

#include <string.h>

#include "policies/flap.h"

#define FLAP_RING (FLAP_MAX_CHANGES + 1) /* changes + 1 make a flap */

/* The time of the oldest change held. */
static double
oldest(const struct flap_track *f)
{
	return f->at[(f->head + FLAP_RING - f->n) % FLAP_RING];
}

/*
 * A change counts while it is less than window_ms old, so that the change
 * that starts a flap is exactly window_ms before flap_settled may end it.
 * flapping: since is the first change of the window that made the node
 * flap, changes counts those changes too.
 */
bool
flap_change(struct flap_track *f, double now_ms, int changes, int window_ms)
{
	unsigned limit;

	if (changes <= 0)
		return false;
	if (f->flapping) {
		f->changes++;
		f->last = now_ms;
		return false;
	}
	limit =
	    changes > FLAP_MAX_CHANGES ? FLAP_MAX_CHANGES : (unsigned)changes;

	f->at[f->head] = now_ms;
	f->head = (f->head + 1) % FLAP_RING;
	if (f->n < FLAP_RING)
		f->n++;
	while (f->n > 0 && now_ms - oldest(f) >= window_ms)
		f->n--;
	if (f->n <= limit)
		return false;

	f->flapping = true;
	f->since = oldest(f);
	f->last = now_ms;
	f->changes = f->n;
	f->suppressed = 0;
	return true;
}

bool
flap_settled(struct flap_track *f, double now_ms, int window_ms,
	     unsigned *changes, unsigned *suppressed)
{
	if (!f->flapping || now_ms - f->last < window_ms)
		return false;
	if (changes)
		*changes = f->changes;
	if (suppressed)
		*suppressed = f->suppressed;
	memset(f, 0, sizeof(*f));
	return true;
}
