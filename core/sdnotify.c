/*
 * sdnotify.c: the sd_notify(3) protocol spoken directly — one datagram on
 * an AF_UNIX socket — so that Type=notify works without linking libsystemd
 * (etc/vigil.service.in is the unit that uses it).
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sdnotify.h"

/* Fills sun from $NOTIFY_SOCKET; returns its length, 0 when unset, -1. */
static socklen_t
notify_addr(struct sockaddr_un *sun, int *unset)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	*unset = path == NULL || path[0] == '\0';
	if (*unset)
		return 0;
	/* Absolute paths and abstract sockets only, as libsystemd: a
	 * relative path would depend on the current directory, and AF_VSOCK
	 * ("vsock:CID:PORT", for virtual machines) is not needed here. */
	if (path[0] != '/' && path[0] != '@') {
		errno = EAFNOSUPPORT;
		return 0;
	}
	len = strlen(path);
	if (len > sizeof(sun->sun_path) ||
	    (path[0] == '/' && len == sizeof(sun->sun_path))) {
		errno = ENAMETOOLONG; /* a path needs room for its NUL */
		return 0;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len);
	if (path[0] == '@')
		sun->sun_path[0] = '\0'; /* Linux abstract namespace */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
			   (path[0] == '/' ? 1 : 0));
}

int
sdnotify_send(const char *state)
{
	struct sockaddr_un sun;
	struct timeval tv = { .tv_sec = 1 };
	int unset, fd, saved;
	socklen_t len = notify_addr(&sun, &unset);
	ssize_t n;

	if (unset)
		return 0;
	if (len == 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* systemd reads its socket at once; a bound send still keeps a
	 * wedged manager from stalling vigil's loop. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	do
		n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
			   (struct sockaddr *)&sun, len);
	while (n == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	errno = saved;
	return n == -1 ? -1 : 1;
}

static void
notify(const char *state, const char *what)
{
	if (sdnotify_send(state) == -1)
		log_warn("cannot tell systemd that vigil is %s "
			 "(NOTIFY_SOCKET=%s): %s",
			 what, getenv("NOTIFY_SOCKET"), strerror(errno));
}

void
sdnotify_ready(void)
{
	notify("READY=1\nSTATUS=running", "ready");
}

void
sdnotify_reloading(void)
{
	struct timespec ts;
	char state[96];

	/* systemd >= 253 (Type=notify-reload) wants the time of the reload
	 * request on CLOCK_MONOTONIC; older versions ignore it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(state, sizeof(state),
		 "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
		     (unsigned long long)ts.tv_nsec / 1000ULL);
	notify(state, "reloading");
}

void
sdnotify_stopping(void)
{
	notify("STOPPING=1\nSTATUS=stopping", "stopping");
}
