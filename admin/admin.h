/*
 * admin.h: the admin listener (SPEC.md "Admin interface"): status page,
 * JSON API, metrics, and the operator's changes (drain, disable, enable,
 * reload, the VIP's VRRP state) behind a bearer token.
 */
#ifndef VIGIL_ADMIN_H
#define VIGIL_ADMIN_H

#include <stddef.h>

#include <ev.h>

#include "core/conf-types.h"
#include "policies/node.h" /* struct name_desc */

struct admin;
struct errlist;
struct monitor;
struct notifier;

/* The VRRP states keepalived reports for this appliance (POST
 * /api/vip/STATE, SPEC.md "Several appliances"). */
enum vip_state {
	VIP_MASTER = 0, /* holds the VIP */
	VIP_BACKUP,	/* stands by */
	VIP_FAULT,	/* cannot hold it: a track script or link failed */
	VIP_STOP,	/* VRRP stopped */
	VIP__COUNT
};

extern const struct name_desc vip_state_names[VIP__COUNT];

/* The longest VRRP instance name POST /api/vip takes, in bytes. */
#define VIP_INSTANCE_MAX 64

/* Reloads the configuration like SIGHUP; fills errs and returns -1 when
 * the new configuration was refused. */
typedef int (*admin_reload_fn)(void *ctx, struct errlist *errs);

/* Raises vip_changed: keepalived says this appliance is now in state for
 * VRRP instance (NULL: not named; else printable ASCII, at most
 * VIP_INSTANCE_MAX bytes). */
typedef void (*admin_vip_fn)(void *ctx, enum vip_state state,
			     const char *instance);

/* What the admin listener asks of the daemon; ctx is passed to each. */
struct admin_ops {
	admin_reload_fn reload;
	admin_vip_fn vip;
	void *ctx;
};

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
 * the node changes, the notifier the events, ops the rest (copied). */
void admin_start(struct admin *a, struct ev_loop *loop, struct monitor *m,
		 struct notifier *nf, const struct admin_ops *ops);

void admin_stop(struct admin *a);

#endif
