/*
 * admin.h: the admin listener (SPEC.md "Admin interface"): status page,
 * JSON API, metrics, and the operator's changes (drain, disable, enable,
 * reload) behind a bearer token.
 */
#ifndef VIGIL_ADMIN_H
#define VIGIL_ADMIN_H

#include <stddef.h>

#include <ev.h>

#include "core/conf-types.h"

struct admin;
struct errlist;
struct monitor;
struct notifier;

/* Reloads the configuration like SIGHUP; fills errs and returns -1 when
 * the new configuration was refused. */
typedef int (*admin_reload_fn)(void *ctx, struct errlist *errs);

/* Binds conf's admin address (before privileges drop). Returns NULL with
 * "ADDRESS: reason" in err. */
struct admin *admin_bind(const struct conf *conf, char *err, size_t errlen);

/* Reads the bearer token (the file's first line; NULL: none, and every
 * POST is refused with 403). Read while vigil may still read it (before
 * privileges drop) and on reload. Returns 0, or -1 with err (the previous
 * token stays). */
int admin_load_token(struct admin *a, const char *token_file, char *err,
		     size_t errlen);

/* Starts answering on loop: the monitor supplies the status and takes
 * the changes, the notifier the events. */
void admin_start(struct admin *a, struct ev_loop *loop, struct monitor *m,
		 struct notifier *nf, admin_reload_fn reload, void *ctx);

void admin_stop(struct admin *a);

#endif
