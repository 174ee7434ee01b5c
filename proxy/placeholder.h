/*
 * placeholder.h: until the proxy lands (issue "The VIP"), every client of a
 * listener gets 503 with Retry-After, which is what SPEC.md says vigil
 * answers when no node is active — and none is, with no health checking.
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
