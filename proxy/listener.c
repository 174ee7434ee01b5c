/*
 * listener.c: binding the configured addresses, before privileges are
 * dropped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "proxy/listener.h"
#include "proxy/tls.h"

struct listeners {
	size_t n;
	struct {
		int fd;
		SSL_CTX *tls;
	} l[];
};

static int
bind_one(const struct conf_listen *l, char *err, size_t errlen)
{
	int one = 1;
	int fd = socket(l->addr.sa.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd == -1) {
		snprintf(err, errlen, "%s: socket: %s", l->addr.text,
			 strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	/* [::]:80 means IPv6 only; 0.0.0.0:80 can be listed beside it. */
	if (l->addr.sa.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&l->addr.sa, l->addr.salen) ==
		-1 ||
	    listen(fd, SOMAXCONN) == -1)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "%s: cannot bind: %s", l->addr.text,
		 strerror(errno));
	close(fd);
	return -1;
}

struct listeners *
listeners_bind(const struct conf *c, char *err, size_t errlen)
{
	struct listeners *ls;

	ls = calloc(1, sizeof(*ls) + c->n_listen * sizeof(ls->l[0]));
	if (ls == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < c->n_listen; i++) {
		int fd = bind_one(&c->listen[i], err, errlen);

		if (fd == -1) {
			listeners_close(ls);
			return NULL;
		}
		ls->l[ls->n++].fd = fd;
	}
	return ls;
}

void
listeners_close(struct listeners *ls)
{
	if (ls == NULL)
		return;
	for (size_t i = 0; i < ls->n; i++) {
		close(ls->l[i].fd);
		SSL_CTX_free(ls->l[i].tls);
	}
	free(ls);
}

size_t
listeners_count(const struct listeners *ls)
{
	return ls->n;
}

int
listeners_fd(const struct listeners *ls, size_t i)
{
	return ls->l[i].fd;
}

struct ssl_ctx_st *
listeners_tls(const struct listeners *ls, size_t i)
{
	return ls->l[i].tls;
}

int
listeners_load_tls(struct listeners *ls, const struct conf *c, char *err,
		   size_t errlen)
{
	char why[512];

	for (size_t i = 0; i < ls->n && i < c->n_listen; i++) {
		if (!c->listen[i].tls)
			continue;
		ls->l[i].tls = tls_server_ctx(&c->listen[i], why, sizeof(why));
		if (ls->l[i].tls == NULL) {
			snprintf(err, errlen, "%s: listen[%zu].tls: %s",
				 c->file, i, why);
			return -1;
		}
	}
	return 0;
}

bool
listeners_same(const struct conf *a, const struct conf *b)
{
	if (a->n_listen != b->n_listen)
		return false;
	for (size_t i = 0; i < a->n_listen; i++)
		if (!addr_same(&a->listen[i].addr, &b->listen[i].addr) ||
		    a->listen[i].tls != b->listen[i].tls)
			return false;
	return true;
}
