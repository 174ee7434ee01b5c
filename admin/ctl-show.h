/*
 * ctl-show.h: how vigilctl prints what vigil answered: the status table,
 * the node list and event lines, safe for a terminal.
 */
#ifndef VIGIL_CTL_SHOW_H
#define VIGIL_CTL_SHOW_H

#include <stdbool.h>
#include <stdio.h>

#include "admin/json.h"

struct ctl_term {
	int width;   /* columns to fit in; 0 = no limit (not a terminal) */
	bool colour; /* ANSI colours for states */
};

/* What stdout is: a terminal's width, colours unless NO_COLOR or TERM=dumb. */
void ctl_term_detect(struct ctl_term *t);

/*
 * A copy of s fit for a terminal: control characters (C0, DEL, C1) become
 * '?', so that nothing vigil relays (a node's error text) can move the
 * cursor or retitle the window. s must be valid UTF-8 (json.c checks).
 * NULL when out of memory; "" for NULL.
 */
char *ctl_clean(const char *s);

/* GET /api/status as a table (SPEC.md "Admin interface"). */
void ctl_show_status(FILE *f, const struct json *st, const struct ctl_term *t);

/* GET /api/status as "NAME STATE ACTIVE" lines, for scripts. */
void ctl_show_nodes(FILE *f, const struct json *st);

/* One event (SPEC.md "Events") as one line: time event node state reason. */
void ctl_show_event(FILE *f, const struct json *ev);

#endif
