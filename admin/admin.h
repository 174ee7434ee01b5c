/*
 * admin.h: the admin listener (SPEC.md "Admin interface"). For now it
 * serves GET /api/status; the rest of the admin surface comes with the
 * operator's issue.
 */
#ifndef VIGIL_ADMIN_H
#define VIGIL_ADMIN_H

#include <stddef.h>

#include <ev.h>

#include "core/conf-types.h"

struct admin;
struct monitor;

/* Binds conf's admin address (before privileges drop). Returns NULL with
 * "ADDRESS: reason" in err. */
struct admin *admin_bind(const struct conf *conf, char *err, size_t errlen);

/* Starts answering on loop; the monitor supplies the status. */
void admin_start(struct admin *a, struct ev_loop *loop,
		 const struct monitor *m);

void admin_stop(struct admin *a);

#endif
