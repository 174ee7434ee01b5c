/*
 * addr.c: parsing of configured socket addresses. No name resolution here:
 * host names are only checked for shape (RFC 1123); the proxy resolves them.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"

static bool
valid_hostname(const char *h)
{
	size_t len = strlen(h), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (const char *p = h; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return false;
		if (*p == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return h[len - 1] != '-';
}

static int
parse_port(const char *s)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

int
addr_parse(const char *text, bool literal_only, struct conf_addr *out,
	   char *err, size_t errlen)
{
	const char *colon, *hs, *he;
	int port;

	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {
		hs = text + 1;
		he = strchr(hs, ']');
		if (he == NULL || he[1] != ':') {
			snprintf(err, errlen, "\"%s\": expected [IPv6]:port",
				 text);
			return -1;
		}
		colon = he + 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL) {
			snprintf(err, errlen, "\"%s\": expected host:port",
				 text);
			return -1;
		}
		hs = text;
		he = colon;
		if (memchr(hs, ':', (size_t)(he - hs)) != NULL) {
			snprintf(err, errlen,
				 "\"%s\": an IPv6 address needs brackets: "
				 "[addr]:port",
				 text);
			return -1;
		}
	}
	if (he == hs) {
		snprintf(err, errlen, "\"%s\": the host is empty", text);
		return -1;
	}
	port = parse_port(colon + 1);
	if (port == -1) {
		snprintf(err, errlen, "\"%s\": the port must be 1..65535",
			 text);
		return -1;
	}

	out->text = strdup(text);
	out->host = strndup(hs, (size_t)(he - hs));
	out->port = strdup(colon + 1);
	if (out->text == NULL || out->host == NULL || out->port == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	struct sockaddr_in *sin = (struct sockaddr_in *)&out->sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->sa;

	if (text[0] == '[') {
		if (inet_pton(AF_INET6, out->host, &sin6->sin6_addr) != 1) {
			snprintf(err, errlen, "\"%s\": not an IPv6 address",
				 text);
			goto fail;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		out->salen = sizeof(*sin6);
		out->literal = true;
	} else if (inet_pton(AF_INET, out->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		out->salen = sizeof(*sin);
		out->literal = true;
	} else if (literal_only) {
		snprintf(err, errlen,
			 "\"%s\": must be an IP address (a.b.c.d:port or "
			 "[v6]:port)",
			 text);
		goto fail;
	} else if (!valid_hostname(out->host)) {
		snprintf(err, errlen, "\"%s\": not a valid host name", text);
		goto fail;
	}
	return 0;

fail:
	addr_free(out);
	return -1;
}

void
addr_free(struct conf_addr *a)
{
	free(a->text);
	free(a->host);
	free(a->port);
	memset(a, 0, sizeof(*a));
}

bool
addr_same(const struct conf_addr *a, const struct conf_addr *b)
{
	if (a->literal != b->literal)
		return false;
	if (!a->literal)
		return strcasecmp(a->host, b->host) == 0 &&
		       strcmp(a->port, b->port) == 0;
	if (a->sa.ss_family != b->sa.ss_family)
		return false;
	if (a->sa.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->sa;
		const struct sockaddr_in *y = (const void *)&b->sa;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)&a->sa;
	const struct sockaddr_in6 *y = (const void *)&b->sa;

	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}
