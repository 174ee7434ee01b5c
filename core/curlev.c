/*
 * curlev.c: libcurl's multi-socket API on libev, after the pattern libcurl
 * documents (evhiperfifo.c): curl tells us which sockets to watch and when
 * to time out; we tell curl what happened with curl_multi_socket_action.
 */
#include "config.h"

#include <stdlib.h>

#include "core/curlev.h"
#include "core/log.h"

struct curlev {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer timer;
	int running;
};

/* One socket curl asked us to watch. */
struct curlev_sock {
	ev_io io;
	struct curlev *ce;
	curl_socket_t fd;
};

static void
check_done(struct curlev *ce)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(ce->multi, &left)) != NULL) {
		struct curlev_req *req = NULL;
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req);
		curl_multi_remove_handle(ce->multi, easy);
		if (req != NULL && req->done != NULL)
			req->done(req, rc);
	}
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct curlev *ce = w->data;

	curl_multi_socket_action(ce->multi, CURL_SOCKET_TIMEOUT, 0,
				 &ce->running);
	check_done(ce);
}

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct curlev_sock *s = (struct curlev_sock *)w;
	struct curlev *ce = s->ce;
	int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
		     (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);

	/* s may be freed inside socket_action: use nothing of it after. */
	curl_multi_socket_action(ce->multi, s->fd, action, &ce->running);
	/* No timer stop here when nothing runs: a done callback may have
	 * added a transfer, and curl arms (or clears) its timer itself. */
	check_done(ce);
}

static int
socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct curlev *ce = userp;
	struct curlev_sock *s = sockp;
	int events = (what & CURL_POLL_IN ? EV_READ : 0) |
		     (what & CURL_POLL_OUT ? EV_WRITE : 0);

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			ev_io_stop(ce->loop, &s->io);
			free(s);
		}
		return 0;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return -1; /* curl fails this transfer */
		s->ce = ce;
		s->fd = fd;
		curl_multi_assign(ce->multi, fd, s);
	} else {
		ev_io_stop(ce->loop, &s->io);
	}
	ev_io_init(&s->io, on_io, fd, events);
	ev_io_start(ce->loop, &s->io);
	return 0;
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlev *ce = userp;

	ev_timer_stop(ce->loop, &ce->timer);
	if (timeout_ms >= 0) {
		/* 0 means "now": still go through the loop, never recurse
		 * into curl from inside curl. */
		ev_timer_set(&ce->timer, (double)timeout_ms / 1000.0, 0.);
		ev_timer_start(ce->loop, &ce->timer);
	}
	return 0;
}

struct curlev *
curlev_new(struct ev_loop *loop)
{
	struct curlev *ce = calloc(1, sizeof(*ce));
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	/* Without an asynchronous resolver, probing a node by host name
	 * would stall the loop on every connection. */
	if (!(v->features & CURL_VERSION_ASYNCHDNS))
		log_warn("libcurl %s resolves names synchronously: give nodes "
			 "by IP address",
			 v->version);

	if (ce == NULL)
		return NULL;
	ce->loop = loop;
	ce->multi = curl_multi_init();
	if (ce->multi == NULL) {
		free(ce);
		return NULL;
	}
	ev_timer_init(&ce->timer, on_timer, 0., 0.);
	ce->timer.data = ce;
	curl_multi_setopt(ce->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(ce->multi, CURLMOPT_SOCKETDATA, ce);
	curl_multi_setopt(ce->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(ce->multi, CURLMOPT_TIMERDATA, ce);
	return ce;
}

void
curlev_free(struct curlev *ce)
{
	if (ce == NULL)
		return;
	/* The owners removed their transfers (curlev_remove), which made
	 * curl hand back every socket through socket_cb(REMOVE); nothing
	 * may call back into ce while it goes. */
	curl_multi_setopt(ce->multi, CURLMOPT_SOCKETFUNCTION, NULL);
	curl_multi_setopt(ce->multi, CURLMOPT_TIMERFUNCTION, NULL);
	curl_multi_cleanup(ce->multi);
	ev_timer_stop(ce->loop, &ce->timer);
	free(ce);
}

int
curlev_add(struct curlev *ce, struct curlev_req *req)
{
	curl_easy_setopt(req->easy, CURLOPT_PRIVATE, req);
	if (curl_multi_add_handle(ce->multi, req->easy) != CURLM_OK) {
		log_error("curl: cannot start a transfer");
		return -1;
	}
	return 0;
}

void
curlev_remove(struct curlev *ce, struct curlev_req *req)
{
	curl_multi_remove_handle(ce->multi, req->easy);
}
