/*
 * format.c: events as text for people: summaries, syslog lines, e-mails.
 */
#include "config.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "notify/format.h"

void
format_summary(const struct event_view *v, struct buf *b)
{
	buf_printf(b, "[vigil %s] %s", v->cluster ? v->cluster : "?",
		   v->event ? v->event : "event");
	if (v->from != NULL && v->to != NULL)
		buf_printf(b, ": %s \xe2\x86\x92 %s", v->from, v->to);
	else if (v->node != NULL && v->state != NULL)
		buf_printf(b, ": %s (%s)", v->node, v->state);
	else if (v->node != NULL)
		buf_printf(b, ": %s", v->node);
	else if (v->state != NULL && v->appliance != NULL)
		/* A cluster-wide event with a state is about the appliance's
		 * own (vip_changed: its VRRP state). */
		buf_printf(b, ": %s (%s)", v->appliance, v->state);
}

void
format_slack(const struct event_view *v, struct buf *b)
{
	struct buf text = { 0 };

	format_summary(v, &text);
	if (v->reason != NULL)
		buf_printf(&text, ": %s", v->reason);
	if (v->dry_run)
		buf_puts(&text, " (dry run)");
	buf_add(&text, "", 1);
	buf_puts(b, "{\"text\":");
	buf_json_str(b, text.oom ? "(out of memory)" : text.p);
	buf_puts(b, "}");
	buf_free(&text);
}

static void
syslog_value(struct buf *b, const char *name, const char *s)
{
	bool plain;

	if (s == NULL)
		return;
	plain = *s != '\0';
	for (const char *p = s; *p && plain; p++)
		plain = *p != ' ' && *p != '"' && *p != '\\' && *p != '=' &&
			(unsigned char)*p >= 0x20 && *p != 0x7f;
	buf_printf(b, " %s=", name);
	if (plain) {
		buf_puts(b, s);
		return;
	}
	buf_add(b, "\"", 1);
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			continue;
		if (*p == '"' || *p == '\\')
			buf_add(b, "\\", 1);
		buf_add(b, p, 1);
	}
	buf_add(b, "\"", 1);
}

void
format_syslog(const struct event_view *v, struct buf *b)
{
	buf_puts(b, "event=");
	buf_puts(b, v->event ? v->event : "?");
	if (v->id)
		syslog_value(b, "id", v->id);
	if (v->cluster)
		syslog_value(b, "cluster", v->cluster);
	if (v->node)
		syslog_value(b, "node", v->node);
	if (v->from)
		syslog_value(b, "from", v->from);
	if (v->to)
		syslog_value(b, "to", v->to);
	if (v->state)
		syslog_value(b, "state", v->state);
	if (v->dry_run)
		buf_puts(b, " dry_run=true");
	if (v->appliance)
		syslog_value(b, "appliance", v->appliance);
	if (v->reason)
		syslog_value(b, "reason", v->reason);
}

static bool
ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* The subject as one RFC 2047 encoded-word when it is not ASCII. */
static void
header_text(struct buf *b, const char *s)
{
	unsigned char enc[4 * 256 / 3 + 8];
	size_t n = strlen(s);

	if (ascii(s)) {
		for (; *s; s++)
			if ((unsigned char)*s >= 0x20)
				buf_add(b, s, 1);
		return;
	}
	/* Encoded-words are at most 75 characters: one per 45 bytes, each
	 * cut on a UTF-8 character boundary, folded onto new lines. */
	for (size_t i = 0; i < n;) {
		size_t k = n - i > 45 ? 45 : n - i;

		while (i + k < n && k > 0 &&
		       ((unsigned char)s[i + k] & 0xc0) == 0x80)
			k--;
		if (k == 0)
			k = n - i > 45 ? 45 : n - i;
		EVP_EncodeBlock(enc, (const unsigned char *)s + i, (int)k);
		buf_printf(b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", enc);
		i += k;
	}
}

/* Body text: '\n' becomes CRLF, control characters go. */
static void
body_text(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			buf_add(b, "\r\n", 2);
		else if ((unsigned char)*s >= 0x20 || *s == '\t')
			buf_add(b, s, 1);
	}
}

static void
body_field(struct buf *b, const char *name, const char *value)
{
	if (value == NULL)
		return;
	buf_printf(b, "%-10s ", name);
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p >= 0x20 || *p == '\t')
			buf_add(b, p, 1);
	buf_puts(b, "\r\n");
}

void
format_email(const struct event_view *v, const char *from, char *const *to,
	     const char *table, int64_t now_ms, struct buf *b)
{
	time_t sec = (time_t)(now_ms / 1000);
	struct buf subject = { 0 };
	struct tm tm;
	char date[64];

	gmtime_r(&sec, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_printf(b, "Date: %s\r\nFrom: vigil <%s>\r\nTo: ", date, from);
	for (size_t i = 0; to[i] != NULL; i++)
		buf_printf(b, "%s<%s>", i ? ",\r\n " : "", to[i]);
	format_summary(v, &subject);
	buf_add(&subject, "", 1);
	buf_puts(b, "\r\nSubject: ");
	header_text(b, subject.oom ? "[vigil] event" : subject.p);
	buf_free(&subject);
	buf_printf(b,
		   "\r\nMessage-ID: <%s.%s@vigil>\r\n"
		   "MIME-Version: 1.0\r\n"
		   "Content-Type: text/plain; charset=utf-8\r\n"
		   "Content-Transfer-Encoding: 8bit\r\n"
		   "Auto-Submitted: auto-generated\r\n\r\n",
		   v->id ? v->id : "0", v->cluster ? v->cluster : "cluster");
	body_field(b, "event:", v->event);
	body_field(b, "time:", v->time);
	body_field(b, "cluster:", v->cluster);
	body_field(b, "node:", v->node);
	body_field(b, "from:", v->from);
	body_field(b, "to:", v->to);
	body_field(b, "state:", v->state);
	body_field(b, "reason:", v->reason);
	if (v->dry_run)
		body_field(b, "dry_run:", "true");
	body_field(b, "appliance:", v->appliance);
	body_field(b, "id:", v->id);
	if (table != NULL) {
		buf_puts(b, "\r\nThe cluster now:\r\n\r\n");
		body_text(b, table);
		if (b->len < 2 || memcmp(b->p + b->len - 2, "\r\n", 2) != 0)
			buf_puts(b, "\r\n");
	}
}
