/*
 * proxy.h: the VIP: worker threads, each with its own libev loop, that
 * accept clients on the listeners and forward their requests to the
 * active nodes of the current routing table.
 */
#ifndef VIGIL_PROXY_H
#define VIGIL_PROXY_H

#include <stddef.h>

#include "core/conf-types.h"
#include "core/route.h"

struct listeners;
struct proxy;

struct alog;

/* Starts conf->workers workers (0: one per CPU) on ls; requests are
 * logged to alog when it is not NULL. Returns NULL with the reason. */
struct proxy *proxy_start(const struct conf *conf, struct listeners *ls,
			  struct route_holder *routes, struct alog *alog,
			  char *err, size_t errlen);

/* Stops accepting, closes every connection, joins the workers. */
void proxy_stop(struct proxy *px);

#endif
