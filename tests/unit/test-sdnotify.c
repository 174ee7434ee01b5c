/*
 * test-sdnotify.c: core/sdnotify.c against real AF_UNIX datagram sockets
 * standing in for systemd's notify socket: a path, an abstract name, and
 * the cases where there is nothing to tell or nowhere to tell it.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/sdnotify.h"
#include "tests/unit/tap.h"

/* A datagram socket bound to name ("@x" = abstract); returns the fd. */
static int
listen_at(const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd == -1 || len >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, name, len);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	if (bind(fd, (struct sockaddr *)&sun,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) ==
	    -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The next datagram, or "" when none is waiting. */
static const char *
receive(int fd)
{
	static char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

int
main(void)
{
	char dir[] = "/tmp/vigil-sdnotify.XXXXXX", path[256], abstract[64];
	char longname[200];
	const char *got;
	int fd;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/notify", dir);

	unsetenv("NOTIFY_SOCKET");
	is_int(sdnotify_send("READY=1"), 0, "no NOTIFY_SOCKET: nothing sent");
	setenv("NOTIFY_SOCKET", "", 1);
	is_int(sdnotify_send("READY=1"), 0, "an empty NOTIFY_SOCKET: nothing");
	sdnotify_ready(); /* must neither crash nor complain */

	/* A socket file, as systemd's /run/systemd/notify. */
	fd = listen_at(path);
	ok(fd != -1, "listening at %s", path);
	setenv("NOTIFY_SOCKET", path, 1);
	is_int(sdnotify_send("READY=1"), 1, "sent to a path");
	is_str(receive(fd), "READY=1", "the datagram is the state as given");
	sdnotify_ready();
	got = receive(fd);
	ok(strncmp(got, "READY=1\n", 8) == 0, "sdnotify_ready: READY=1 first");
	sdnotify_reloading();
	got = receive(fd);
	ok(strncmp(got, "RELOADING=1\n", 12) == 0,
	   "sdnotify_reloading: RELOADING=1");
	ok(strstr(got, "\nMONOTONIC_USEC=") != NULL &&
	       strtoull(strstr(got, "MONOTONIC_USEC=") + 15, NULL, 10) > 0,
	   "sdnotify_reloading: with MONOTONIC_USEC (systemd >= 253)");
	sdnotify_stopping();
	got = receive(fd);
	ok(strncmp(got, "STOPPING=1", 10) == 0,
	   "sdnotify_stopping: STOPPING=1");
	is_str(receive(fd), "", "one datagram per call");
	close(fd);
	unlink(path);

	/* Nobody listening any more: an error, not a crash or a hang. */
	errno = 0;
	is_int(sdnotify_send("READY=1"), -1, "a socket that is gone: -1");
	ok(errno == ENOENT || errno == ECONNREFUSED, "with errno (%s)",
	   strerror(errno));
	sdnotify_stopping(); /* logs a warning, returns */

	/* An abstract socket, as systemd in containers and user managers. */
	snprintf(abstract, sizeof(abstract), "@vigil-test-%ld", (long)getpid());
	fd = listen_at(abstract);
	ok(fd != -1, "listening at %s", abstract);
	setenv("NOTIFY_SOCKET", abstract, 1);
	is_int(sdnotify_send("READY=1\nSTATUS=x"), 1,
	       "sent to an abstract socket");
	is_str(receive(fd), "READY=1\nSTATUS=x", "received intact");
	close(fd);

	/* What libsystemd refuses, refused alike. */
	setenv("NOTIFY_SOCKET", "relative/notify", 1);
	is_int(sdnotify_send("READY=1"), -1, "a relative path is refused");
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	is_int(sdnotify_send("READY=1"), -1, "vsock: is not supported");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	errno = 0;
	is_int(sdnotify_send("READY=1"), -1, "a path too long is refused");
	is_int(errno, ENAMETOOLONG, "with ENAMETOOLONG");

	rmdir(dir);
	return tap_done();
}
