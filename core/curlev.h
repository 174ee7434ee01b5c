/*
 * curlev.h: one libcurl multi handle driven by the main libev loop
 * (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION), shared by the REST
 * probes and the network notification channels. Nothing here blocks.
 */
#ifndef VIGIL_CURLEV_H
#define VIGIL_CURLEV_H

#include <curl/curl.h>
#include <ev.h>

struct curlev;

struct curlev_req;
typedef void (*curlev_done_fn)(struct curlev_req *req, CURLcode rc);

/* Embedded by the caller in whatever owns the easy handle. */
struct curlev_req {
	CURL *easy;
	curlev_done_fn done; /* called once per transfer, from the loop */
};

struct curlev *curlev_new(struct ev_loop *loop);

/* Call after every owner removed its transfers (curlev_remove). */
void curlev_free(struct curlev *ce);

/* Starts req->easy; req->done runs when it ends. Returns 0 or -1. */
int curlev_add(struct curlev *ce, struct curlev_req *req);

/* Stops a running transfer without calling done. */
void curlev_remove(struct curlev *ce, struct curlev_req *req);

#endif
