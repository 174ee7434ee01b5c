/*
 * placeholder.h: until the proxy lands (issue "The VIP"), every client of a
 * listener gets 503 with Retry-After and a body that says vigil does not
 * proxy yet, instead of a connection that hangs or is refused.
 */
#ifndef VIGIL_PLACEHOLDER_H
#define VIGIL_PLACEHOLDER_H

#include <ev.h>

struct listeners;
struct placeholder;

struct placeholder *placeholder_start(struct ev_loop *loop,
				      struct listeners *ls);
void placeholder_stop(struct placeholder *p);

#endif
