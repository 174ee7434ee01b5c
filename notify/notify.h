/*
 * notify.h: the notifier (SPEC.md "Events"). Every event is written to the
 * spool before anything else, then sent to each channel whose filter takes
 * it, in order, one at a time, retried with back-off until acknowledged.
 * Everything runs on the main loop; nothing blocks it but the fsync.
 */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

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

/* Spools e (its id already made) and sends it on. */
void notifier_emit(struct notifier *n, const struct event *e);

/* Notifications by channel and result, the spool's backlog (Prometheus
 * text format). */
void notifier_metrics(const struct notifier *n, struct buf *out);

/* The event log, for GET /api/events. */
const struct spool *notifier_spool(const struct notifier *n);

#endif
