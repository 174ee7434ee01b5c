/*
 * sim-cc.c: vigil-sim's Control Center, the separate service through which
 * a vRO node's server is stopped and started (the real one listens on 8283
 * over HTTPS; this one speaks plain HTTP). It has a listener of its own, so
 * it answers while the node's server is shut down, and it is what restart
 * hooks such as etc/hooks/restart-vro talk to:
 *
 *   GET  /vco-controlcenter/api/server/status          200 {"currentStatus":S}
 *   POST /vco-controlcenter/api/server/status/restart  202 {"currentStatus":S}
 *
 * S is RUNNING, STOPPED, STARTING or UNDEFINED. With --cc-credentials both
 * want HTTP Basic authentication (401 otherwise).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tests/sim/sim.h"

#define CC_STATUS  "/vco-controlcenter/api/server/status"
#define CC_RESTART "/vco-controlcenter/api/server/status/restart"

static const char cc_challenge[] =
    "WWW-Authenticate: Basic realm=\"vco-controlcenter\"\r\n";

const char *
sim_cc_status(const struct sim *sim)
{
	switch (sim->state) {
	case SIM_SHUTDOWN:
		return "STOPPED";
	case SIM_STARTING:
		return "STARTING";
	case SIM_RUNNING:
	case SIM_STANDBY:
		/* A hung server: the Control Center cannot tell. */
		return sim->hang ? "UNDEFINED" : "RUNNING";
	}
	return "UNDEFINED";
}

/* Does the request carry "Basic <token>" with our token? */
static bool
cc_authorized(const struct sim_conn *c)
{
	const char *v = c->req.authorization, *tok;
	size_t n;

	if (c->sim->cc_token == NULL)
		return true;
	if (v == NULL || strncasecmp(v, "Basic ", 6) != 0)
		return false;
	tok = v + 6;
	while (*tok == ' ')
		tok++;
	n = strlen(c->sim->cc_token);
	return strlen(tok) == n && CRYPTO_memcmp(tok, c->sim->cc_token, n) == 0;
}

static void
cc_respond_status(struct sim_conn *c, int code)
{
	char body[64];

	snprintf(body, sizeof(body), "{\"currentStatus\":\"%s\"}",
		 sim_cc_status(c->sim));
	sim_req_respond(c, code, "application/json", body, NULL);
}

static void
cc_restart(struct sim_conn *c)
{
	struct sim *sim = c->sim;
	char err[256];

	if (sim->cc_fail) {
		sim_log(sim, "control center: restart refused (cc-fail on)");
		sim_req_respond(c, 500, "application/json",
				"{\"error\":\"simulated restart failure\"}",
				NULL);
		return;
	}
	sim->cc_restarts++;
	if (sim->cc_restart_delay_ms > 0) {
		/* Stopped now, started later: what a hook polling the
		 * status sees first is STOPPED. */
		sim_shutdown(sim);
		sim->cc_restart_pending = true;
		ev_timer_set(&sim->cc_restart,
			     (double)sim->cc_restart_delay_ms / 1000.0, 0.);
		ev_timer_start(sim->loop, &sim->cc_restart);
		sim_log(sim,
			"control center: restart asked, starting in %ld ms",
			sim->cc_restart_delay_ms);
	} else {
		sim_log(sim, "control center: restart asked");
		if (sim_restart(sim, err, sizeof(err)) == -1) {
			sim_err(sim, "control center: restart: %s", err);
			sim_req_respond(c, 500, "application/json",
					"{\"error\":\"restart failed\"}", NULL);
			return;
		}
	}
	cc_respond_status(c, 202);
}

void
sim_cc_answer(struct sim_conn *c)
{
	struct sim_req *req = &c->req;
	bool get_or_head =
	    strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;

	if (!cc_authorized(c)) {
		sim_log(c->sim, "control center: %s %s: %s", req->method,
			req->target,
			req->authorization == NULL ? "no credentials"
						   : "wrong credentials");
		sim_req_respond(c, 401, "application/json",
				"{\"error\":\"Unauthorized\"}", cc_challenge);
	} else if (sim_req_path_is(req->target, CC_STATUS)) {
		if (get_or_head)
			cc_respond_status(c, 200);
		else
			sim_req_respond(c, 405, "application/json",
					"{\"error\":\"Method Not Allowed\"}",
					"Allow: GET, HEAD\r\n");
	} else if (sim_req_path_is(req->target, CC_RESTART)) {
		if (strcmp(req->method, "POST") == 0)
			cc_restart(c);
		else
			sim_req_respond(c, 405, "application/json",
					"{\"error\":\"Method Not Allowed\"}",
					"Allow: POST\r\n");
	} else {
		sim_req_respond(c, 404, "application/json",
				"{\"error\":\"Not Found\"}", NULL);
	}
}

static void
cc_restart_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim *sim = SIM_CONTAINER_OF(w, struct sim, cc_restart);
	char err[256];

	(void)loop;
	(void)revents;
	sim->cc_restart_pending = false;
	if (sim_restart(sim, err, sizeof(err)) == -1)
		sim_err(sim, "control center: restart: %s", err);
}

void
sim_cc_cancel(struct sim *sim)
{
	if (!sim->cc_restart_pending)
		return;
	ev_timer_stop(sim->loop, &sim->cc_restart);
	sim->cc_restart_pending = false;
	sim_log(sim, "control center: pending restart cancelled");
}

int
sim_cc_open(struct sim *sim, char *err, size_t errlen)
{
	struct sim_listener *l = &sim->cc;
	size_t n;
	char url[96];

	ev_init(&sim->cc_restart, cc_restart_cb);
	if (sim->cc_port < 0)
		return 0;
	if (sim->cc_credentials != NULL) {
		n = strlen(sim->cc_credentials);
		sim->cc_token = malloc(4 * ((n + 2) / 3) + 1);
		if (sim->cc_token == NULL) {
			snprintf(err, errlen, "control center: %s",
				 strerror(ENOMEM));
			return -1;
		}
		EVP_EncodeBlock((unsigned char *)sim->cc_token,
				(const unsigned char *)sim->cc_credentials,
				(int)n);
	}
	/* The server's host, the Control Center's port. */
	memcpy(&l->addr, &sim->http.addr, sizeof(l->addr));
	l->addrlen = sim->http.addrlen;
	if (l->addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&l->addr)->sin6_port =
		    htons((uint16_t)sim->cc_port);
	else
		((struct sockaddr_in *)&l->addr)->sin_port =
		    htons((uint16_t)sim->cc_port);
	snprintf(l->text, sizeof(l->text), "--cc-port %ld", sim->cc_port);
	if (sim_listener_open(l, err, errlen) == -1)
		return -1;
	sim_listener_url(l, false, url, sizeof(url));
	/* Printed even with --quiet, like the ready line. */
	sim_err(sim, "control center on %s%s", url,
		sim->cc_token != NULL ? " (basic auth)" : "");
	return 0;
}

void
sim_cc_close(struct sim *sim)
{
	if (sim->cc_restart_pending)
		ev_timer_stop(sim->loop, &sim->cc_restart);
	sim->cc_restart_pending = false;
	if (sim->cc_token != NULL) {
		OPENSSL_cleanse(sim->cc_token, strlen(sim->cc_token));
		free(sim->cc_token);
		sim->cc_token = NULL;
	}
}
