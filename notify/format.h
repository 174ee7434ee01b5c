/*
 * format.h: an event as the channels that do not send its JSON show it:
 * a one-line summary (e-mail subject, chat text), a syslog line, an
 * e-mail message. Pure: the time and the node table are passed in.
 */
#ifndef VIGIL_FORMAT_H
#define VIGIL_FORMAT_H

#include <stdint.h>

#include "core/buf.h"
#include "notify/event.h"

/* "[vigil CLUSTER] EVENT: NODE (STATE)", "[vigil CLUSTER] failover: FROM →
 * TO", "[vigil CLUSTER] EVENT" for cluster-wide events. */
void format_summary(const struct event_view *v, struct buf *out);

/* {"text":"SUMMARY: REASON"}: what Slack, Teams and Mattermost incoming
 * webhooks take. */
void format_slack(const struct event_view *v, struct buf *out);

/* One structured line: event=… id=… cluster=… node=… … reason="…";
 * values with spaces, quotes or backslashes are quoted and escaped,
 * control characters dropped. */
void format_syslog(const struct event_view *v, struct buf *out);

/* An RFC 5322 message with CRLF line ends: headers (Date from now_ms,
 * From, To, Subject — RFC 2047-encoded when not ASCII —, Message-ID from
 * the event id, MIME headers), then every field of the event, one per
 * line, then the node table (plain text, '\n' line ends, may be NULL). */
void format_email(const struct event_view *v, const char *from, char *const *to,
		  const char *table, int64_t now_ms, struct buf *out);

#endif
