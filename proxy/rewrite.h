/*
 * rewrite.h: the heads vigil sends on: a request head for the node and a
 * response head for the client, with hop-by-hop headers removed (RFC 9110
 * section 7.6.1) and vigil's own added (X-Forwarded-*, Forwarded, the
 * stickiness cookie, Connection).
 */
#ifndef VIGIL_REWRITE_H
#define VIGIL_REWRITE_H

#include <stdbool.h>

#include "proxy/http.h"
#include "proxy/iobuf.h"

struct rewrite_req {
	const char *client_ip;	/* as text, for X-Forwarded-For */
	bool tls;		/* the client came over TLS */
	bool forwarded_headers; /* proxy.forwarded_headers */
	const char
	    *node_authority; /* host:port, when the client sent no Host */
};

struct rewrite_resp {
	bool keep_alive;	/* the client connection stays open */
	bool client_http10;	/* the client spoke HTTP/1.0 */
	const char *set_cookie; /* a whole Set-Cookie value, or NULL */
};

/* Appends the request head for the node to out; false if over cap. */
bool rewrite_request(const struct http_msg *m, const struct rewrite_req *o,
		     struct iobuf *out, size_t cap);

/* Appends the response head for the client to out; false if over cap. */
bool rewrite_response(const struct http_msg *m, const struct rewrite_resp *o,
		      struct iobuf *out, size_t cap);

/*
 * Finds the value of cookie name in the request's Cookie headers; returns
 * true and sets *value. Used to read the stickiness cookie.
 */
bool rewrite_find_cookie(const struct http_msg *m, const char *name,
			 struct http_str *value);

#endif
