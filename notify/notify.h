/*
 * notify.h: the notifier (SPEC.md "Events"). Every event is written to the
 * spool before anything else, then sent to each channel whose filter takes
 * it, in order, one at a time, retried with back-off until acknowledged.
 * Everything runs on the main loop; nothing blocks it but the fsync.
 */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

#include <stdbool.h>

#include <ev.h>

#include "core/buf.h"
#include "core/conf-types.h"
#include "notify/event.h"

struct curlev;
struct notifier;
struct spool;

/* Appends the cluster's node table as plain text (for e-mails). */
typedef void (*notify_table_fn)(void *ctx, struct buf *out);

/* Opens conf's spool and its channels; events the channels had not
 * acknowledged when vigil stopped are sent again. NULL with err filled
 * when the spool cannot be opened. */
struct notifier *notifier_start(struct ev_loop *loop, struct curlev *ce,
				const struct conf *conf, notify_table_fn table,
				void *table_ctx, char *err, size_t errlen);

/*
 * A reload in two steps, so that a reload that fails elsewhere changes
 * nothing: prepare builds conf's channels (a channel that stays, same type
 * and destination, will keep its place in the log; NULL out of memory);
 * then commit swaps them in and drops the removed ones, or abort forgets
 * them.
 */
struct notify_reload;
struct notify_reload *notifier_reload_prepare(struct notifier *n,
					      const struct conf *conf);
void notifier_reload_commit(struct notifier *n, struct notify_reload *r);
void notifier_reload_abort(struct notifier *n, struct notify_reload *r);

void notifier_stop(struct notifier *n);

/*
 * Several appliances (SPEC.md): follow true makes the channels send only
 * this appliance's own events (heartbeat_source_*, config_reloaded,
 * leader_changed, vip_changed); every other event waits until the
 * leader is known to have delivered it, or one after it, or one raised
 * 5 s after it, to that channel (notifier_settled), and is then passed
 * over. follow false: every event
 * is sent. A notifier starts sending everything.
 */
void notifier_follow(struct notifier *n, bool follow);

/* The leader delivered event id, which it raised at raised (ms since the
 * epoch by its clock), to the channel with this cursor key. */
void notifier_settled(struct notifier *n, const char *channel, const char *id,
		      double raised);

/* Called with a channel's cursor key, the id and the time raised (ms) of
 * each event it delivered (acknowledged by its receiver, not passed
 * over). */
typedef void (*notify_ack_fn)(void *ctx, const char *channel, const char *id,
			      double raised);
void notifier_on_ack(struct notifier *n, notify_ack_fn fn, void *ctx);

/* Spools e (its id already made) and sends it on. */
void notifier_emit(struct notifier *n, const struct event *e);

/* Notifications by channel and result, the spool's backlog (Prometheus
 * text format). */
void notifier_metrics(const struct notifier *n, struct buf *out);

/* The event log, for GET /api/events. */
const struct spool *notifier_spool(const struct notifier *n);

#endif
