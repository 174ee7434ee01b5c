/*
 * alog.c: the access log writer thread. Workers append to a 1 MiB buffer
 * under a mutex (a memcpy); the writer swaps it for an empty one and
 * writes it out with the lock released.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alog.h"
#include "core/log.h"

#define ALOG_BUF (1024 * 1024)

struct alog {
	char *path;
	int fd;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more;
	char *buf; /* filled by workers */
	size_t len;
	char *spare; /* written by the thread */
	unsigned long dropped;
	bool reopen; /* asked by SIGHUP; done by the writer, never the loop */
	bool stop;
};

static void
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return; /* a full disk loses lines, not the daemon */
		}
		p += n;
		len -= (size_t)n;
	}
}

static int
open_log(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

	if (fd == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return fd;
}

static void *
writer(void *arg)
{
	struct alog *a = arg;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (a->len == 0 && !a->stop && !a->reopen)
			pthread_cond_wait(&a->more, &a->lock);
		if (a->reopen) {
			char err[512];
			int fd;

			a->reopen = false;
			pthread_mutex_unlock(&a->lock);
			fd = open_log(a->path, err, sizeof(err));
			if (fd == -1) {
				log_error("access log: %s; still writing the "
					  "old file",
					  err);
			} else {
				close(a->fd);
				a->fd = fd;
			}
			pthread_mutex_lock(&a->lock);
			continue;
		}
		if (a->len == 0 && a->stop)
			break;
		char *full = a->buf;
		size_t len = a->len;
		unsigned long dropped = a->dropped;

		a->buf = a->spare;
		a->len = 0;
		a->dropped = 0;
		pthread_mutex_unlock(&a->lock);
		write_all(a->fd, full, len); /* only this thread uses fd */
		if (dropped > 0)
			log_warn("access log: %lu lines dropped (the disk "
				 "did not keep up)",
				 dropped);
		pthread_mutex_lock(&a->lock);
		a->spare = full;
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

struct alog *
alog_open(const char *path, char *err, size_t errlen)
{
	struct alog *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		snprintf(err, errlen, "access log: out of memory");
		return NULL;
	}
	a->path = strdup(path);
	a->buf = malloc(ALOG_BUF);
	a->spare = malloc(ALOG_BUF);
	if (a->path == NULL || a->buf == NULL || a->spare == NULL) {
		snprintf(err, errlen, "access log: out of memory");
		goto fail;
	}
	a->fd = open_log(path, err, errlen);
	if (a->fd == -1)
		goto fail;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->more, NULL);
	if (pthread_create(&a->thread, NULL, writer, a) != 0) {
		snprintf(err, errlen, "access log: cannot start its thread");
		close(a->fd);
		goto fail;
	}
	return a;
fail:
	free(a->path);
	free(a->buf);
	free(a->spare);
	free(a);
	return NULL;
}

void
alog_line(struct alog *a, const char *line, size_t len)
{
	pthread_mutex_lock(&a->lock);
	if (a->len + len + 1 > ALOG_BUF) {
		a->dropped++;
	} else {
		memcpy(a->buf + a->len, line, len);
		a->len += len;
		a->buf[a->len++] = '\n';
		pthread_cond_signal(&a->more);
	}
	pthread_mutex_unlock(&a->lock);
}

void
alog_reopen(struct alog *a)
{
	pthread_mutex_lock(&a->lock);
	a->reopen = true;
	pthread_cond_signal(&a->more);
	pthread_mutex_unlock(&a->lock);
}

void
alog_close(struct alog *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_signal(&a->more);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	close(a->fd);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->more);
	free(a->path);
	free(a->buf);
	free(a->spare);
	free(a);
}
