/*
 * probe.c: the REST probes. One reusable libcurl easy handle per node
 * (so a healthy node is probed over one kept-alive connection), started by
 * a per-node timer, run by the shared multi handle, classified when done.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/curlev.h"
#include "core/log.h"
#include "health/probe.h"

/* Bodies are matched on their first 64 KiB: a health answer is small, and
 * a node that streams megabytes must not make vigil hold them. */
#define BODY_MAX (64 * 1024)

const struct name_desc probe_cause_names[PROBE__COUNT] = {
	[PROBE_OK] = { "ok", "answered" },
	[PROBE_REFUSED] = { "refused", "connection refused" },
	[PROBE_TIMEOUT] = { "timeout", "no answer within timeout_ms" },
	[PROBE_RESET] = { "reset", "connection reset" },
	[PROBE_EMPTY] = { "empty", "connection closed without an answer" },
	[PROBE_TLS] = { "tls", "TLS handshake failed" },
	[PROBE_TLS_VERIFY] = { "tls_verify",
			       "TLS certificate verification failed" },
	[PROBE_RESOLVE] = { "resolve", "host name not found" },
	[PROBE_STATUS] = { "status", "unexpected HTTP status" },
	[PROBE_NO_MATCH] = { "no_match",
			     "body matches neither running nor standby" },
	[PROBE_ERROR] = { "error", "probe failed" },
};

struct probe_node {
	struct curlev_req req; /* first: the done callback finds us */
	struct prober *p;
	size_t idx;
	ev_timer tick;
	char url[512];
	char errbuf[CURL_ERROR_SIZE];
	char *body;
	size_t len;
	bool truncated;
	bool in_flight;
	bool due; /* the timer fired while a probe was still out */
};

struct prober {
	struct ev_loop *loop;
	struct curlev *ce;
	const struct conf *conf;
	probe_result_fn cb;
	void *ctx;
	size_t n;
	struct probe_node nodes[];
};

static void probe_start(struct probe_node *pn);

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct probe_node *pn = userp;
	size_t n = size * nmemb, room = BODY_MAX - pn->len;

	if (n > room) {
		n = room;
		pn->truncated = true;
	}
	memcpy(pn->body + pn->len, data, n);
	pn->len += n;
	/* Returning less than given ends the transfer: enough was read. */
	return pn->truncated ? 0 : size * nmemb;
}

static bool
matches(const pcre2_code *re, const char *body, size_t len)
{
	pcre2_match_data *md;
	pcre2_match_context *mc;
	int rc;

	if (re == NULL)
		return false;
	md = pcre2_match_data_create_from_pattern(re, NULL);
	mc = pcre2_match_context_create(NULL);
	if (md == NULL || mc == NULL) {
		pcre2_match_data_free(md);
		pcre2_match_context_free(mc);
		return false;
	}
	/* A pattern that backtracks badly on a hostile 64 KiB body must not
	 * stall the loop: past these limits it is no match. */
	pcre2_set_match_limit(mc, 100000);
	pcre2_set_depth_limit(mc, 1000);
	rc = pcre2_match(re, (PCRE2_SPTR)body, len, 0, 0, md, mc);
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	return rc >= 0;
}

void
probe_classify(const struct conf *conf, int status, const char *body,
	       size_t len, struct probe_result *r)
{
	if (status != conf->probe_expect_status) {
		r->verdict = VERDICT_FAILED;
		r->cause = PROBE_STATUS;
		snprintf(r->detail, sizeof(r->detail), "HTTP %d (expected %d)",
			 status, conf->probe_expect_status);
		return;
	}
	if (matches(conf->probe_running_re, body, len)) {
		r->verdict = VERDICT_RUNNING;
		r->cause = PROBE_OK;
		snprintf(r->detail, sizeof(r->detail), "running");
	} else if (matches(conf->probe_standby_re, body, len)) {
		r->verdict = VERDICT_STANDBY;
		r->cause = PROBE_OK;
		snprintf(r->detail, sizeof(r->detail), "standby");
	} else {
		r->verdict = VERDICT_FAILED;
		r->cause = PROBE_NO_MATCH;
		snprintf(r->detail, sizeof(r->detail), "HTTP %d: %s", status,
			 probe_cause_names[PROBE_NO_MATCH].desc);
	}
}

static enum probe_cause
curl_cause(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return PROBE_REFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return PROBE_TIMEOUT;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		return PROBE_RESET;
	case CURLE_GOT_NOTHING:
		return PROBE_EMPTY;
	case CURLE_PEER_FAILED_VERIFICATION:
		return PROBE_TLS_VERIFY;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return PROBE_TLS;
	case CURLE_COULDNT_RESOLVE_HOST:
		return PROBE_RESOLVE;
	default:
		return PROBE_ERROR;
	}
}

static void
on_done(struct curlev_req *req, CURLcode rc)
{
	struct probe_node *pn = (struct probe_node *)req;
	struct prober *p = pn->p;
	struct probe_result r = { .node = pn->idx, .latency_ms = -1 };
	curl_off_t us = 0;
	long status = 0;

	pn->in_flight = false;
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && pn->truncated)) {
		curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(req->easy, CURLINFO_TOTAL_TIME_T, &us);
		r.latency_ms = (double)us / 1000.0;
		probe_classify(p->conf, (int)status, pn->body, pn->len, &r);
	} else {
		r.verdict = VERDICT_FAILED;
		r.cause = curl_cause(rc);
		if (r.cause == PROBE_TIMEOUT)
			snprintf(r.detail, sizeof(r.detail),
				 "timeout after %d ms",
				 p->conf->probe_timeout_ms);
		else if (r.cause == PROBE_REFUSED || r.cause == PROBE_RESET ||
			 r.cause == PROBE_EMPTY)
			snprintf(r.detail, sizeof(r.detail), "%s",
				 probe_cause_names[r.cause].desc);
		else
			snprintf(r.detail, sizeof(r.detail), "%s: %.150s",
				 probe_cause_names[r.cause].desc,
				 pn->errbuf[0] ? pn->errbuf
					       : curl_easy_strerror(rc));
	}
	log_debug("probe %s: %s (%s)", p->conf->nodes[pn->idx].name,
		  probe_verdict_names[r.verdict].name, r.detail);
	p->cb(p->ctx, &r);
	if (pn->due)
		probe_start(pn);
}

static void
probe_start(struct probe_node *pn)
{
	pn->len = 0;
	pn->truncated = false;
	pn->errbuf[0] = '\0';
	pn->due = false;
	if (curlev_add(pn->p->ce, &pn->req) == 0)
		pn->in_flight = true;
}

static void
on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe_node *pn = w->data;

	/* With timeout_ms = interval_ms the timeout and the next tick fall
	 * due together: start the next probe as soon as this one ends. */
	if (pn->in_flight)
		pn->due = true;
	else
		probe_start(pn);
}

static int
node_setup(struct prober *p, struct probe_node *pn, size_t idx)
{
	const struct conf *c = p->conf;
	const struct conf_node *node = &c->nodes[idx];
	bool v6 = strchr(node->addr.host, ':') != NULL;
	CURL *e;

	pn->p = p;
	pn->idx = idx;
	pn->req.done = on_done;
	snprintf(pn->url, sizeof(pn->url), "%s://%s%s%s:%s%s",
		 node->tls ? "https" : "http", v6 ? "[" : "", node->addr.host,
		 v6 ? "]" : "", node->addr.port, c->probe_path);
	pn->body = malloc(BODY_MAX);
	e = pn->req.easy = curl_easy_init();
	if (pn->body == NULL || e == NULL)
		return -1;
	curl_easy_setopt(e, CURLOPT_URL, pn->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Straight to the node, whatever http_proxy says: a proxy's answer
	 * is not evidence about the node. */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->probe_timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)c->probe_timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, pn);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, pn->errbuf);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER,
			 c->probe_tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST,
			 c->probe_tls_verify ? 2L : 0L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->probe_ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->probe_ca_file);

	/* Spread the nodes over one interval instead of probing them all
	 * in the same millisecond. */
	double interval = c->probe_interval_ms / 1000.0;
	double first = p->n > 1 ? interval * (double)idx / (double)p->n : 0.;

	ev_timer_init(&pn->tick, on_tick, first + 0.001, interval);
	pn->tick.data = pn;
	ev_timer_start(p->loop, &pn->tick);
	return 0;
}

struct prober *
prober_start(struct ev_loop *loop, struct curlev *ce, const struct conf *conf,
	     probe_result_fn cb, void *ctx)
{
	struct prober *p;

	p = calloc(1, sizeof(*p) + conf->n_nodes * sizeof(p->nodes[0]));
	if (p == NULL)
		return NULL;
	p->loop = loop;
	p->ce = ce;
	p->conf = conf;
	p->cb = cb;
	p->ctx = ctx;
	p->n = conf->n_nodes;
	for (size_t i = 0; i < p->n; i++) {
		if (node_setup(p, &p->nodes[i], i) == -1) {
			prober_stop(p);
			return NULL;
		}
	}
	return p;
}

void
prober_stop(struct prober *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct probe_node *pn = &p->nodes[i];

		ev_timer_stop(p->loop, &pn->tick);
		if (pn->in_flight)
			curlev_remove(p->ce, &pn->req);
		if (pn->req.easy != NULL)
			curl_easy_cleanup(pn->req.easy);
		free(pn->body);
	}
	free(p);
}
