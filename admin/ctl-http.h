/*
 * ctl-http.h: vigilctl's requests to vigil's admin listener (plain HTTP on
 * loopback, one request per connection), through libcurl's easy interface.
 */
#ifndef VIGIL_CTL_HTTP_H
#define VIGIL_CTL_HTTP_H

#include <signal.h>
#include <stddef.h>

#include <curl/curl.h>

#define CTL_CONNECT_TIMEOUT_MS 2000
#define CTL_TIMEOUT_MS	       10000
/* Bigger answers are cut off: 100,000 kept events are about 40 MB. */
#define CTL_BODY_MAX (64u << 20)

struct ctl_http {
	CURL *curl;
	char *base; /* "http://ADDRESS" */
	/* Set by a signal handler: the transfer in progress stops. */
	volatile sig_atomic_t *stop;
};

struct ctl_reply {
	long status;
	char *body; /* NUL-terminated; len bytes */
	size_t len;
	size_t cap;
};

enum ctl_http_result {
	CTL_HTTP_OK = 0,      /* an HTTP answer came, whatever its status */
	CTL_HTTP_UNREACHABLE, /* no answer: err says why */
	CTL_HTTP_INTERRUPTED, /* *stop was set */
};

/*
 * Checks address ("HOST:PORT" or "[V6]:PORT") and prepares h. stop may be
 * NULL. Returns 0, or -1 with why in err.
 */
int ctl_http_init(struct ctl_http *h, const char *address,
		  volatile sig_atomic_t *stop, char *err, size_t errlen);

/*
 * method "GET" or "POST" (with an empty body) of path (already escaped).
 * token, when not NULL, goes in "Authorization: Bearer TOKEN" and is wiped
 * from every copy vigilctl made. r is filled on CTL_HTTP_OK; free it with
 * ctl_reply_free either way.
 */
enum ctl_http_result ctl_http_request(struct ctl_http *h, const char *method,
				      const char *path, const char *token,
				      struct ctl_reply *r, char *err,
				      size_t errlen);

/* s escaped for a path segment or a query value; free with curl_free. */
char *ctl_http_escape(struct ctl_http *h, const char *s);

void ctl_reply_free(struct ctl_reply *r);

void ctl_http_close(struct ctl_http *h);

#endif
