/*
 * notify.c: events to the spool, then to the channels. Each channel walks
 * the log from its cursor, one event at a time: it sends the event, waits
 * for the acknowledgement (webhook: 2xx, e-mail: accepted, exec: exit 0,
 * syslog: written), moves its cursor, and goes on; a failure waits
 * retry_initial_ms, doubling up to retry_max_ms, and sends the same event
 * again. That is at least once, in order, per channel.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "core/conf.h"
#include "core/curlev.h"
#include "core/log.h"
#include "notify/child.h"
#include "notify/format.h"
#include "notify/notify.h"
#include "notify/spool.h"

struct channel {
	struct notifier *nf;
	const struct conf_channel *conf;
	char key[128];	  /* the cursor's key: type, destination, hash */
	char label[128];  /* for logs: no URL path, no secret */
	uint64_t next;	  /* seq of the next event to look at */
	uint64_t sending; /* seq in flight; 0: none */
	int failures;	  /* in a row, for the back-off */
	ev_timer retry;
	struct curlev_req req; /* webhook, email */
	struct curl_slist *list;
	struct buf body;
	size_t body_off;
	char errbuf[CURL_ERROR_SIZE];
	struct child *child;		 /* exec */
	unsigned long delivered, failed; /* tries, for the metrics */
	/* Following a leader: the ids it delivered on this channel lately. */
	char (*settled)[EVENT_ID_LEN + 1];
	size_t n_settled; /* how many were ever added (the ring's head) */
	double leader_raised; /* the latest "time" of those events (ms) */
};

#define SETTLED_RING	256
#define SETTLE_GRACE_MS 5000.0

struct notifier {
	struct ev_loop *loop;
	struct curlev *ce;
	const struct conf *conf;
	struct spool *spool;
	notify_table_fn table;
	void *table_ctx;
	struct channel **ch;
	size_t n_ch;
	ev_idle kick; /* pumps the channels from the loop, never re-entrant */
	bool follow;  /* another appliance leads: see notifier_follow() */
	notify_ack_fn on_ack;
	void *ack_ctx;
};

static void channel_sent(struct channel *ch, bool ok, const char *detail);

/* ------------------------------------------------------------------ */
/* Channel identity */

/* The host of a URL, for labels: "https://u:p@h:1/x" gives "h:1". */
static void
url_host(const char *url, char *out, size_t len)
{
	const char *p = strstr(url, "://"), *end, *at;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at != NULL)
		p = at + 1;
	snprintf(out, len, "%.*s", (int)(end - p), p);
}

/* The cursor key names the destination (type, URL or program, recipients)
 * by a hash, so that no URL token lands in the spool directory. */
static void
channel_names(struct channel *ch, size_t idx)
{
	const struct conf_channel *c = ch->conf;
	const char *type = channel_type_names[c->type];
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char host[96] = "", hex[17];

	memset(h, 0, sizeof(h));
	if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
		EVP_DigestUpdate(md, type, strlen(type) + 1);
		if (c->url)
			EVP_DigestUpdate(md, c->url, strlen(c->url) + 1);
		for (size_t i = 0; i < c->n_command; i++)
			EVP_DigestUpdate(md, c->command[i],
					 strlen(c->command[i]) + 1);
		for (size_t i = 0; i < c->n_to; i++)
			EVP_DigestUpdate(md, c->to[i], strlen(c->to[i]) + 1);
		EVP_DigestFinal_ex(md, h, &hl);
	}
	EVP_MD_CTX_free(md);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	if (c->url)
		url_host(c->url, host, sizeof(host));
	else if (c->command)
		snprintf(host, sizeof(host), "%s", c->command[0]);
	snprintf(ch->key, sizeof(ch->key), "%s %s %s", type, host, hex);
	snprintf(ch->label, sizeof(ch->label), "%s channel %zu%s%s", type,
		 idx + 1, host[0] ? " " : "", host);
}

/* ------------------------------------------------------------------ */
/* Drivers: each starts one delivery and ends in channel_sent(). */

static size_t
discard(char *p, size_t size, size_t n, void *ud)
{
	return size * n;
}

static size_t
upload(char *p, size_t size, size_t n, void *ud)
{
	struct channel *ch = ud;
	size_t left = ch->body.len - ch->body_off, k = size * n;

	if (k > left)
		k = left;
	memcpy(p, ch->body.p + ch->body_off, k);
	ch->body_off += k;
	return k;
}

static void
curl_done(struct curlev_req *req, CURLcode rc)
{
	struct channel *ch =
	    (struct channel *)((char *)req - offsetof(struct channel, req));
	long code = 0;
	char detail[CURL_ERROR_SIZE + 64];
	bool ok;

	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK)
		snprintf(detail, sizeof(detail), "%s",
			 ch->errbuf[0] ? ch->errbuf : curl_easy_strerror(rc));
	else if (ch->conf->type == CHANNEL_WEBHOOK)
		snprintf(detail, sizeof(detail), "HTTP %ld", code);
	else
		snprintf(detail, sizeof(detail), "accepted (%ld)", code);
	ok = rc == CURLE_OK &&
	     (ch->conf->type != CHANNEL_WEBHOOK || (code >= 200 && code < 300));
	curl_easy_cleanup(req->easy);
	req->easy = NULL;
	curl_slist_free_all(ch->list);
	ch->list = NULL;
	buf_free(&ch->body);
	channel_sent(ch, ok, detail);
}

static CURL *
easy_new(struct channel *ch)
{
	CURL *e = curl_easy_init();

	if (e == NULL)
		return NULL;
	ch->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, ch->conf->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ch->conf->timeout_ms);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ch->errbuf);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	return e;
}

static int
webhook_send(struct channel *ch, const struct spool_entry *en,
	     const struct event_view *v)
{
	CURL *e = easy_new(ch);
	struct curl_slist *l;

	if (e == NULL)
		return -1;
	if (ch->conf->format == FORMAT_SLACK)
		format_slack(v, &ch->body);
	else
		buf_add(&ch->body, en->json, en->len);
	l = curl_slist_append(NULL, "Content-Type: application/json");
	for (size_t i = 0; l != NULL && i < ch->conf->n_headers; i++) {
		struct curl_slist *more =
		    curl_slist_append(l, ch->conf->headers[i]);

		if (more == NULL) {
			curl_slist_free_all(l);
			l = NULL;
		}
		l = more;
	}
	ch->list = l;
	if (l == NULL || ch->body.oom) {
		curl_easy_cleanup(e);
		return -1;
	}
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, l);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)ch->body.len);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, ch->body.p);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	ch->req.easy = e;
	return 0;
}

static int
email_send(struct channel *ch, const struct spool_entry *en,
	   const struct event_view *v)
{
	struct notifier *nf = ch->nf;
	const struct conf_channel *c = ch->conf;
	struct buf table = { 0 };
	struct curl_slist *l = NULL;
	char from[320];
	struct timespec ts;
	CURL *e;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (nf->table != NULL) {
		nf->table(nf->table_ctx, &table);
		buf_add(&table, "", 1);
	}
	format_email(
	    v, c->from, c->to, table.p != NULL && !table.oom ? table.p : NULL,
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &ch->body);
	buf_free(&table);
	for (size_t i = 0; i < c->n_to; i++) {
		char rcpt[320];
		struct curl_slist *more;

		snprintf(rcpt, sizeof(rcpt), "<%s>", c->to[i]);
		if ((more = curl_slist_append(l, rcpt)) == NULL) {
			curl_slist_free_all(l);
			return -1;
		}
		l = more;
	}
	ch->list = l;
	if (ch->body.oom || (e = easy_new(ch)) == NULL)
		return -1;
	snprintf(from, sizeof(from), "<%s>", c->from);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, l);
	if (c->starttls)
		curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (c->username != NULL && c->password != NULL) {
		curl_easy_setopt(e, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, c->password);
	}
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_INFILESIZE, (long)ch->body.len);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, upload);
	curl_easy_setopt(e, CURLOPT_READDATA, ch);
	ch->body_off = 0;
	ch->req.easy = e;
	return 0;
}

static void
exec_done(void *ctx, const struct child_result *r)
{
	struct channel *ch = ctx;

	ch->child = NULL;
	channel_sent(ch, r->outcome == CHILD_EXITED && r->status == 0,
		     r->detail);
}

static int
exec_send(struct channel *ch, const struct spool_entry *en,
	  const struct event_view *v, char *err, size_t errlen)
{
	char event_env[64], id_env[64];
	char *envp[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
		"/sbin:/bin",
		event_env,
		id_env,
		NULL,
	};
	struct child_spec spec = {
		.argv = ch->conf->command,
		.envp = envp,
		.input = en->json,
		.input_len = en->len,
		.timeout_ms = ch->conf->timeout_ms,
		.tag = ch->label,
	};

	snprintf(event_env, sizeof(event_env), "VIGIL_EVENT=%s",
		 event_kind_names[en->kind]);
	snprintf(id_env, sizeof(id_env), "VIGIL_EVENT_ID=%s", en->id);
	ch->child =
	    child_start(ch->nf->loop, &spec, exec_done, ch, err, errlen);
	return ch->child ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* The walk along the log */

static bool
wanted(const struct channel *ch, const struct spool_entry *en)
{
	return (ch->conf->events & (1u << en->kind)) != 0;
}

/* Events about this appliance itself, which only it can send. */
static bool
own_event(enum event_kind k)
{
	return k == EVENT_HEARTBEAT_SOURCE_DOWN ||
	       k == EVENT_HEARTBEAT_SOURCE_UP || k == EVENT_CONFIG_RELOADED ||
	       k == EVENT_LEADER_CHANGED || k == EVENT_VIP_CHANGED;
}

/* An event's "time" (when its appliance raised it), in ms; -1 when the
 * JSON has none. event.c writes it as 2026-11-23T10:15:02.113Z. */
static double
raised_ms(const struct spool_entry *en)
{
	const char *p = memmem(en->json, en->len, "\"time\":\"", 8);
	struct tm tm = { 0 };
	int ms = 0;

	if (p == NULL ||
	    sscanf(p + 8, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year,
		   &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &ms) != 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) * 1000.0 + ms;
}

static bool
settled_id(const struct channel *ch, const char *id)
{
	size_t n = ch->n_settled < SETTLED_RING ? ch->n_settled : SETTLED_RING;

	for (size_t k = 0; k < n; k++)
		if (strcmp(ch->settled[k], id) == 0)
			return true;
	return false;
}

/*
 * Following: en is settled when the leader delivered it, or delivered an
 * event that comes after it here, or one it raised SETTLE_GRACE_MS after
 * en was raised here. The leader sends in order, so it either sent its
 * own copy of en before, or never raised it: a transition each appliance
 * dates from evidence of its own (a REST probe) has an id of its own on
 * each, and appliances raise one transition within a probe or two.
 */
static bool
settled(const struct channel *ch, const struct spool_entry *en)
{
	struct notifier *nf = ch->nf;
	double t = raised_ms(en);

	if (ch->n_settled == 0)
		return false;
	if (t > 0 && ch->leader_raised > t + SETTLE_GRACE_MS)
		return true;
	for (uint64_t q = en->seq; q < spool_end(nf->spool); q++) {
		const struct spool_entry *e = spool_get(nf->spool, q);

		if (e != NULL && wanted(ch, e) && !own_event(e->kind) &&
		    settled_id(ch, e->id))
			return true;
	}
	return false;
}

static void
channel_pump(struct channel *ch)
{
	struct notifier *nf = ch->nf;
	const struct spool_entry *en = NULL;
	struct event_view v;
	char err[256] = "out of memory";
	int rc = -1;

	if (ch->sending != 0 || ev_is_active(&ch->retry))
		return;
	/* Events the filter does not take are passed over, and acknowledged
	 * once for the lot (each acknowledgement is an fsync). */
	uint64_t passed = 0;

	while (ch->next < spool_end(nf->spool)) {
		bool mine;

		if (ch->next < spool_first(nf->spool))
			ch->next = spool_first(nf->spool);
		en = spool_get(nf->spool, ch->next);
		mine = en != NULL && (!nf->follow || own_event(en->kind));
		if (en != NULL && wanted(ch, en) && mine)
			break;
		if (en != NULL && wanted(ch, en) && !settled(ch, en)) {
			en = NULL; /* the leader's to send, for now */
			break;
		}
		if (en != NULL && wanted(ch, en))
			log_debug("%s: %s %s settled by the leader", ch->label,
				  event_kind_names[en->kind], en->id);
		passed = ch->next++;
		en = NULL;
	}
	if (passed != 0)
		spool_ack(nf->spool, ch->key, passed);
	if (en == NULL)
		return;
	ch->sending = en->seq;
	if (event_parse(en->json, en->len, &v) == -1) {
		log_error("%s: event %s does not parse; skipping it", ch->label,
			  en->id);
		event_view_free(&v);
		channel_sent(ch, true, "skipped");
		return;
	}
	switch (ch->conf->type) {
	case CHANNEL_WEBHOOK:
		rc = webhook_send(ch, en, &v);
		break;
	case CHANNEL_EMAIL:
		rc = email_send(ch, en, &v);
		break;
	case CHANNEL_EXEC:
		rc = exec_send(ch, en, &v, err, sizeof(err));
		break;
	case CHANNEL_SYSLOG: {
		struct buf line = { 0 };

		format_syslog(&v, &line);
		buf_add(&line, "", 1);
		if (!line.oom)
			syslog(LOG_DAEMON | LOG_NOTICE, "%s", line.p);
		buf_free(&line);
		event_view_free(&v);
		channel_sent(ch, !line.oom, "written");
		return;
	}
	}
	event_view_free(&v);
	if (rc == 0 && ch->req.easy != NULL &&
	    curlev_add(nf->ce, &ch->req) == -1) {
		curl_easy_cleanup(ch->req.easy);
		ch->req.easy = NULL;
		snprintf(err, sizeof(err), "cannot start the transfer");
		rc = -1;
	}
	if (rc == -1) {
		curl_slist_free_all(ch->list);
		ch->list = NULL;
		buf_free(&ch->body);
		channel_sent(ch, false, err);
	}
}

static void
on_kick(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct notifier *nf = w->data;

	ev_idle_stop(loop, w);
	for (size_t i = 0; i < nf->n_ch; i++)
		channel_pump(nf->ch[i]);
}

static void
kick(struct notifier *nf)
{
	ev_idle_start(nf->loop, &nf->kick);
}

static void
on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct channel *ch = w->data;

	ev_timer_stop(loop, w);
	channel_pump(ch);
}

static void
channel_sent(struct channel *ch, bool ok, const char *detail)
{
	struct notifier *nf = ch->nf;
	const struct spool_entry *en = spool_get(nf->spool, ch->sending);
	const char *what = en ? event_kind_names[en->kind] : "event";
	const char *id = en ? en->id : "?";
	double delay, max;

	if (ok) {
		ch->delivered++;
		log_info("%s: %s %s delivered (%s)", ch->label, what, id,
			 detail);
		if (nf->on_ack != NULL && en != NULL && !own_event(en->kind))
			nf->on_ack(nf->ack_ctx, ch->key, en->id, raised_ms(en));
		spool_ack(nf->spool, ch->key, ch->sending);
		ch->next = ch->sending + 1;
		ch->sending = 0;
		ch->failures = 0;
		kick(nf);
		return;
	}
	ch->failures++;
	ch->failed++;
	delay = nf->conf->retry_initial_ms / 1000.0;
	max = nf->conf->retry_max_ms / 1000.0;
	for (int i = 1; i < ch->failures && delay < max; i++)
		delay *= 2;
	if (delay > max)
		delay = max;
	log_warn("%s: %s %s not delivered (%s); try %d again in %.1f s",
		 ch->label, what, id, detail, ch->failures + 1, delay);
	ch->sending = 0;
	ev_timer_set(&ch->retry, delay, 0.);
	ev_timer_start(nf->loop, &ch->retry);
}

/* ------------------------------------------------------------------ */
/* Channels' life */

static struct channel *
channel_new(struct notifier *nf, const struct conf_channel *c,
	    const struct channel *names)
{
	struct channel *ch = calloc(1, sizeof(*ch));

	if (ch == NULL)
		return NULL;
	ch->nf = nf;
	ch->conf = c;
	ch->req.done = curl_done;
	ev_init(&ch->retry, on_retry);
	ch->retry.data = ch;
	memcpy(ch->key, names->key, sizeof(ch->key));
	memcpy(ch->label, names->label, sizeof(ch->label));
	ch->next = spool_cursor_open(nf->spool, ch->key);
	return ch;
}

/* Stops what is in flight; the event is sent again by whoever takes the
 * cursor next (at least once). */
static void
channel_free(struct channel *ch)
{
	struct notifier *nf;

	if (ch == NULL)
		return;
	nf = ch->nf;
	ev_timer_stop(nf->loop, &ch->retry);
	if (ch->req.easy != NULL) {
		curlev_remove(nf->ce, &ch->req);
		curl_easy_cleanup(ch->req.easy);
	}
	child_abandon(ch->child);
	curl_slist_free_all(ch->list);
	buf_free(&ch->body);
	free(ch->settled);
	free(ch);
}

/*
 * A configuration's channels, before they replace the running ones: each
 * takes over the running channel with its key (same type and destination),
 * or is new. Nothing running changes until notifier_reload_commit(), so
 * that a reload that fails later leaves every channel and cursor as it
 * was.
 */
struct notify_reload {
	const struct conf *conf;
	struct channel **ch;   /* new channels; NULL where one is taken over */
	long *from;	       /* the running channel taken over, or -1 */
	struct channel *names; /* the keys and labels each will have */
};

static void
reload_free(struct notify_reload *r)
{
	if (r == NULL)
		return;
	free(r->ch);
	free(r->from);
	free(r->names);
	free(r);
}

/* Keys are unique within a configuration: two channels with the same
 * destination (two syslog channels, one URL with two filters) each get
 * their own cursor, told apart by their rank among the look-alikes. */
static void
unique_keys(struct channel *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int same = 0;

		for (size_t j = 0; j < i; j++)
			same += strncmp(names[j].key, names[i].key,
					strcspn(names[i].key, "#")) == 0;
		if (same > 0) {
			size_t len = strlen(names[i].key);

			snprintf(names[i].key + len, sizeof(names[i].key) - len,
				 " #%d", same + 1);
		}
	}
}

struct notify_reload *
notifier_reload_prepare(struct notifier *nf, const struct conf *conf)
{
	size_t n = conf->n_channels;
	struct notify_reload *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->conf = conf;
	r->ch = calloc(n + 1, sizeof(*r->ch));
	r->from = calloc(n + 1, sizeof(*r->from));
	r->names = calloc(n + 1, sizeof(*r->names));
	if (r->ch == NULL || r->from == NULL || r->names == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		r->names[i].conf = &conf->channels[i];
		channel_names(&r->names[i], i);
	}
	unique_keys(r->names, n);
	for (size_t i = 0; i < n; i++) {
		r->from[i] = -1;
		for (size_t j = 0; j < nf->n_ch; j++)
			if (strcmp(nf->ch[j]->key, r->names[i].key) == 0)
				r->from[i] = (long)j;
		if (r->from[i] < 0 &&
		    (r->ch[i] = channel_new(nf, &conf->channels[i],
					    &r->names[i])) == NULL)
			goto fail;
	}
	return r;
fail:
	notifier_reload_abort(nf, r);
	return NULL;
}

void
notifier_reload_abort(struct notifier *nf, struct notify_reload *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; r->ch != NULL && i < r->conf->n_channels; i++) {
		if (r->ch[i] == NULL)
			continue;
		spool_cursor_close(nf->spool, r->ch[i]->key);
		channel_free(r->ch[i]);
	}
	reload_free(r);
}

void
notifier_reload_commit(struct notifier *nf, struct notify_reload *r)
{
	const struct conf *conf = r->conf;

	for (size_t i = 0; i < conf->n_channels; i++) {
		struct channel *ch;

		if (r->from[i] < 0)
			continue;
		ch = r->ch[i] = nf->ch[r->from[i]];
		nf->ch[r->from[i]] = NULL;
		ch->conf = &conf->channels[i];
		memcpy(ch->label, r->names[i].label, sizeof(ch->label));
	}
	for (size_t j = 0; j < nf->n_ch; j++) {
		if (nf->ch[j] == NULL)
			continue; /* taken over */
		log_info("%s: removed from the configuration",
			 nf->ch[j]->label);
		spool_cursor_close(nf->spool, nf->ch[j]->key);
		channel_free(nf->ch[j]);
	}
	free(nf->ch);
	nf->ch = r->ch;
	nf->n_ch = conf->n_channels;
	nf->conf = conf;
	r->ch = NULL;
	reload_free(r);
	kick(nf);
}

struct notifier *
notifier_start(struct ev_loop *loop, struct curlev *ce, const struct conf *conf,
	       notify_table_fn table, void *table_ctx, char *err, size_t errlen)
{
	struct notifier *nf = calloc(1, sizeof(*nf));
	struct notify_reload *r;

	if (nf == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	nf->loop = loop;
	nf->ce = ce;
	nf->conf = conf;
	nf->table = table;
	nf->table_ctx = table_ctx;
	ev_idle_init(&nf->kick, on_kick);
	nf->kick.data = nf;
	nf->spool =
	    spool_open(conf->spool_dir, (size_t)conf->keep_events, err, errlen);
	if (nf->spool == NULL) {
		free(nf);
		return NULL;
	}
	if ((r = notifier_reload_prepare(nf, conf)) == NULL) {
		snprintf(err, errlen, "out of memory");
		spool_close(nf->spool);
		free(nf);
		return NULL;
	}
	notifier_reload_commit(nf, r);
	spool_prune_cursors(nf->spool);
	for (size_t i = 0; i < nf->n_ch; i++) {
		uint64_t behind = spool_end(nf->spool) - nf->ch[i]->next;

		if (behind > 0)
			log_info("%s: %llu event%s not acknowledged before "
				 "the last stop; sending again",
				 nf->ch[i]->label, (unsigned long long)behind,
				 behind == 1 ? "" : "s");
	}
	return nf;
}

void
notifier_stop(struct notifier *nf)
{
	if (nf == NULL)
		return;
	for (size_t i = 0; i < nf->n_ch; i++)
		channel_free(nf->ch[i]);
	free(nf->ch);
	ev_idle_stop(nf->loop, &nf->kick);
	spool_close(nf->spool);
	free(nf);
}

void
notifier_emit(struct notifier *nf, const struct event *e)
{
	struct buf json = { 0 };

	event_json(e, &json);
	if (json.oom ||
	    spool_append(nf->spool, e->id, e->kind, json.p, json.len) == NULL)
		log_error("event %s %s lost: out of memory", e->id,
			  event_kind_names[e->kind]);
	buf_free(&json);
	kick(nf);
}

void
notifier_follow(struct notifier *nf, bool follow)
{
	if (nf->follow == follow)
		return;
	nf->follow = follow;
	if (!follow)
		log_info("notifications: every event is sent from this "
			 "appliance");
	kick(nf);
}

void
notifier_settled(struct notifier *nf, const char *channel, const char *id,
		 double raised)
{
	for (size_t i = 0; i < nf->n_ch; i++) {
		struct channel *ch = nf->ch[i];

		if (strcmp(ch->key, channel) != 0)
			continue;
		if (ch->settled == NULL &&
		    (ch->settled = calloc(SETTLED_RING,
					  sizeof(*ch->settled))) == NULL)
			return;
		snprintf(ch->settled[ch->n_settled++ % SETTLED_RING],
			 sizeof(*ch->settled), "%s", id);
		if (raised > ch->leader_raised)
			ch->leader_raised = raised;
		kick(nf);
	}
}

void
notifier_on_ack(struct notifier *nf, notify_ack_fn fn, void *ctx)
{
	nf->on_ack = fn;
	nf->ack_ctx = ctx;
}

const struct spool *
notifier_spool(const struct notifier *nf)
{
	return nf->spool;
}

void
notifier_metrics(const struct notifier *nf, struct buf *b)
{
	static const char *const results[] = { "delivered", "failed" };

	buf_puts(b, "# HELP vigil_notifications_total tries to send an event "
		    "to a channel, by result\n"
		    "# TYPE vigil_notifications_total counter\n");
	for (size_t i = 0; i < nf->n_ch; i++)
		for (int r = 0; r < 2; r++)
			buf_printf(
			    b,
			    "vigil_notifications_total{channel=\"%s-%zu\","
			    "result=\"%s\"} %lu\n",
			    channel_type_names[nf->ch[i]->conf->type], i + 1,
			    results[r],
			    r ? nf->ch[i]->failed : nf->ch[i]->delivered);
	buf_puts(b, "# HELP vigil_spool_backlog events a channel has not "
		    "acknowledged yet\n# TYPE vigil_spool_backlog gauge\n");
	for (size_t i = 0; i < nf->n_ch; i++)
		buf_printf(b, "vigil_spool_backlog{channel=\"%s-%zu\"} %llu\n",
			   channel_type_names[nf->ch[i]->conf->type], i + 1,
			   (unsigned long long)(spool_end(nf->spool) -
						nf->ch[i]->next));
	buf_printf(b,
		   "# HELP vigil_spool_durable 0 while the disk refuses the "
		   "event log\n# TYPE vigil_spool_durable gauge\n"
		   "vigil_spool_durable %d\n",
		   spool_durable(nf->spool));
}
