/*
 * probe.h: REST probes of every node (SPEC.md health.probe): GET the probe
 * path every interval_ms, classify the answer as running, standby or
 * failed with a precise cause, and hand each result to the owner.
 */
#ifndef VIGIL_PROBE_H
#define VIGIL_PROBE_H

#include <stddef.h>

#include <ev.h>

#include "core/conf-types.h"
#include "policies/node.h"

struct curlev;
struct prober;

/* Why a probe ended as it did. */
enum probe_cause {
	PROBE_OK = 0,
	PROBE_REFUSED,
	PROBE_TIMEOUT,
	PROBE_RESET,
	PROBE_EMPTY,
	PROBE_TLS,
	PROBE_TLS_VERIFY,
	PROBE_RESOLVE,
	PROBE_STATUS,
	PROBE_NO_MATCH,
	PROBE_ERROR,
	PROBE__COUNT
};

extern const struct name_desc probe_cause_names[PROBE__COUNT];

struct probe_result {
	size_t node;		    /* index into conf->nodes */
	enum probe_verdict verdict; /* RUNNING, STANDBY or FAILED */
	enum probe_cause cause;
	char detail[192];  /* "connection refused", "HTTP 503 …" */
	double latency_ms; /* < 0 when no answer came */
};

typedef void (*probe_result_fn)(void *ctx, const struct probe_result *r);

/*
 * Starts probing every node of conf (which must outlive the prober) on
 * loop, through ce. Returns NULL without memory.
 */
struct prober *prober_start(struct ev_loop *loop, struct curlev *ce,
			    const struct conf *conf, probe_result_fn cb,
			    void *ctx);

/* Stops every timer and transfer; no callback runs afterwards. */
void prober_stop(struct prober *p);

/* Classifies a finished HTTP exchange; exposed for the unit tests. */
void probe_classify(const struct conf *conf, int status, const char *body,
		    size_t len, struct probe_result *r);

#endif
