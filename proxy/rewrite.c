/*
 * rewrite.c: building the heads vigil forwards. Hop-by-hop headers stop
 * here; so do the headers a Connection header names, except the ones that
 * frame the message (Content-Length, Transfer-Encoding) and Host: letting
 * "Connection: transfer-encoding" strip the framing would let a client
 * desynchronise vigil and the node (request smuggling).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proxy/rewrite.h"

static bool
name_is(const struct http_str *s, const char *name)
{
	return s->len == strlen(name) && strncasecmp(s->p, name, s->len) == 0;
}

/* True when value, a comma list of tokens, contains token. */
static bool
list_has(const struct http_str *value, const char *token, size_t toklen)
{
	const char *p = value->p, *end = value->p + value->len;

	while (p < end) {
		const char *e;
		size_t n;

		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		e = p;
		while (e < end && *e != ',')
			e++;
		n = (size_t)(e - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == toklen && strncasecmp(p, token, n) == 0)
			return true;
		p = e;
	}
	return false;
}

/* A header that ends at this hop: always, or because Connection names it. */
static bool
hop_by_hop(const struct http_msg *m, const struct http_header *h)
{
	static const char *const always[] = {
		"connection", "keep-alive", "proxy-connection",
		"te",	      "trailer",    "upgrade",
	};

	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		if (name_is(&h->name, always[i]))
			return true;
	if (name_is(&h->name, "content-length") ||
	    name_is(&h->name, "transfer-encoding") || name_is(&h->name, "host"))
		return false;
	for (size_t i = 0; i < m->n_headers; i++) {
		const struct http_header *c = &m->headers[i];

		if (name_is(&c->name, "connection") &&
		    list_has(&c->value, h->name.p, h->name.len))
			return true;
	}
	return false;
}

static bool
put(struct iobuf *out, size_t cap, const char *s, size_t len)
{
	return iobuf_append(out, s, len, cap);
}

static bool
puts_(struct iobuf *out, size_t cap, const char *s)
{
	return put(out, cap, s, strlen(s));
}

static bool
put_header(struct iobuf *out, size_t cap, const struct http_header *h)
{
	return put(out, cap, h->name.p, h->name.len) && puts_(out, cap, ": ") &&
	       put(out, cap, h->value.p, h->value.len) &&
	       puts_(out, cap, "\r\n");
}

bool
rewrite_request(const struct http_msg *m, const struct rewrite_req *o,
		struct iobuf *out, size_t cap)
{
	const struct http_header *xff = NULL, *fwd = NULL;
	bool ok, v6 = strchr(o->client_ip, ':') != NULL;
	char line[512];

	ok = put(out, cap, m->method_str.p, m->method_str.len) &&
	     puts_(out, cap, " ") && put(out, cap, m->path.p, m->path.len) &&
	     /* An HTTP/1.0 client gets an HTTP/1.0 exchange with the node,
	      * so no chunked answer comes back that it cannot read. */
	     puts_(out, cap, m->minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
	for (size_t i = 0; ok && i < m->n_headers; i++) {
		const struct http_header *h = &m->headers[i];

		if (m->upgrade && name_is(&h->name, "upgrade")) {
			ok = put_header(out, cap, h);
			continue;
		}
		if (hop_by_hop(m, h))
			continue;
		if (o->forwarded_headers) {
			if (name_is(&h->name, "x-forwarded-for")) {
				xff = h;
				continue;
			}
			if (name_is(&h->name, "forwarded")) {
				fwd = h;
				continue;
			}
			/* Set by vigil alone: a client could lie. */
			if (name_is(&h->name, "x-forwarded-proto") ||
			    name_is(&h->name, "x-forwarded-host"))
				continue;
		}
		ok = put_header(out, cap, h);
	}
	if (ok && m->host.p == NULL && o->node_authority != NULL) {
		snprintf(line, sizeof(line), "Host: %s\r\n", o->node_authority);
		ok = puts_(out, cap, line);
	}
	if (ok && o->forwarded_headers) {
		if (xff != NULL)
			ok = puts_(out, cap, "X-Forwarded-For: ") &&
			     put(out, cap, xff->value.p, xff->value.len) &&
			     puts_(out, cap, ", ");
		else
			ok = puts_(out, cap, "X-Forwarded-For: ");
		snprintf(line, sizeof(line), "%s\r\nX-Forwarded-Proto: %s\r\n",
			 o->client_ip, o->tls ? "https" : "http");
		ok = ok && puts_(out, cap, line);
		if (ok && m->host.p != NULL)
			ok = puts_(out, cap, "X-Forwarded-Host: ") &&
			     put(out, cap, m->host.p, m->host.len) &&
			     puts_(out, cap, "\r\n");
		if (ok && fwd != NULL)
			ok = puts_(out, cap, "Forwarded: ") &&
			     put(out, cap, fwd->value.p, fwd->value.len) &&
			     puts_(out, cap, ", ");
		else if (ok)
			ok = puts_(out, cap, "Forwarded: ");
		snprintf(line, sizeof(line), "for=%s%s%s;proto=%s",
			 v6 ? "\"[" : "", o->client_ip, v6 ? "]\"" : "",
			 o->tls ? "https" : "http");
		ok = ok && puts_(out, cap, line);
		/* host= is a quoted-string: leave it out rather than let a
		 * quote or backslash in Host end it early. */
		if (ok && m->host.p != NULL &&
		    memchr(m->host.p, '"', m->host.len) == NULL &&
		    memchr(m->host.p, '\\', m->host.len) == NULL)
			ok = puts_(out, cap, ";host=\"") &&
			     put(out, cap, m->host.p, m->host.len) &&
			     puts_(out, cap, "\"");
		ok = ok && puts_(out, cap, "\r\n");
	}
	if (ok && m->upgrade)
		ok = puts_(out, cap, "Connection: upgrade\r\n");
	else if (ok && m->minor == 0)
		ok = puts_(out, cap, "Connection: close\r\n");
	return ok && puts_(out, cap, "\r\n");
}

bool
rewrite_response(const struct http_msg *m, const struct rewrite_resp *o,
		 struct iobuf *out, size_t cap)
{
	bool upgrade = m->status == 101;
	char line[128];
	bool ok;

	snprintf(line, sizeof(line), "HTTP/1.1 %03d ", m->status);
	ok = puts_(out, cap, line) &&
	     put(out, cap, m->reason_phrase.p, m->reason_phrase.len) &&
	     puts_(out, cap, "\r\n");
	for (size_t i = 0; ok && i < m->n_headers; i++) {
		const struct http_header *h = &m->headers[i];

		if (upgrade && name_is(&h->name, "upgrade")) {
			ok = put_header(out, cap, h);
			continue;
		}
		if (!hop_by_hop(m, h))
			ok = put_header(out, cap, h);
	}
	if (ok && o->set_cookie != NULL)
		ok = puts_(out, cap, "Set-Cookie: ") &&
		     puts_(out, cap, o->set_cookie) && puts_(out, cap, "\r\n");
	if (ok && upgrade)
		ok = puts_(out, cap, "Connection: upgrade\r\n");
	else if (ok && !o->keep_alive)
		ok = puts_(out, cap, "Connection: close\r\n");
	else if (ok && o->client_http10)
		ok = puts_(out, cap, "Connection: keep-alive\r\n");
	return ok && puts_(out, cap, "\r\n");
}

bool
rewrite_find_cookie(const struct http_msg *m, const char *name,
		    struct http_str *value)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < m->n_headers; i++) {
		const struct http_header *h = &m->headers[i];
		const char *p, *end;

		if (!name_is(&h->name, "cookie"))
			continue;
		p = h->value.p;
		end = p + h->value.len;
		while (p < end) {
			const char *e = memchr(p, ';', (size_t)(end - p));

			if (e == NULL)
				e = end;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			if ((size_t)(e - p) > nlen && p[nlen] == '=' &&
			    memcmp(p, name, nlen) == 0) {
				value->p = p + nlen + 1;
				value->len = (size_t)(e - value->p);
				while (value->len > 0 &&
				       (value->p[value->len - 1] == ' ' ||
					value->p[value->len - 1] == '\t'))
					value->len--;
				return true;
			}
			p = e + 1;
		}
	}
	return false;
}
