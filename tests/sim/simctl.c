/*
 * simctl.c: vigil-simctl, the client of vigil-sim's control socket: sends
 * one command line, prints the reply line, and says by its exit code
 * whether the sim answered "ok" (0), "error" (1), or could not be asked (2).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 5000
#define REPLY_MAX  4096

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline. Returns 0, or -1 with errno
 * ETIMEDOUT. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int r;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r > 0)
			return 0;
	}
}

/* Sends the line and reads one reply line into reply (NUL-terminated,
 * newline removed). Returns 0, or -1 with errno set. */
static int
ask(int fd, const char *line, size_t len, char *reply, size_t size,
    long long deadline)
{
	size_t sent = 0, got = 0;
	char *nl = NULL;
	ssize_t r;

	while (sent < len) {
		if (wait_fd(fd, POLLOUT, deadline) == -1)
			return -1;
		r = send(fd, line + sent, len - sent, MSG_NOSIGNAL);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r == -1)
			return -1;
		sent += (size_t)r;
	}
	while (nl == NULL) {
		if (got == size - 1) {
			errno = EMSGSIZE;
			return -1;
		}
		if (wait_fd(fd, POLLIN, deadline) == -1)
			return -1;
		r = read(fd, reply + got, size - 1 - got);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r == -1)
			return -1;
		if (r == 0) {
			errno = ECONNRESET;
			return -1;
		}
		got += (size_t)r;
		nl = memchr(reply, '\n', got);
	}
	*nl = '\0';
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char line[1024], reply[REPLY_MAX];
	long long deadline = now_ms() + TIMEOUT_MS;
	size_t len = 0, n;
	const char *path;
	int fd = -1, rc = 2, i;
	bool ok;

	if (argc < 3) {
		fprintf(stderr,
			"usage: vigil-simctl SOCKET COMMAND [ARGS...]\n");
		return 2;
	}
	path = argv[1];
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vigil-simctl: %s: path too long\n", path);
		return 2;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	for (i = 2; i < argc; i++) {
		n = strlen(argv[i]);
		if (strchr(argv[i], '\n') != NULL ||
		    len + n + 2 > sizeof(line)) {
			fprintf(stderr, "vigil-simctl: command too long or "
					"has a newline\n");
			return 2;
		}
		if (i > 2)
			line[len++] = ' ';
		memcpy(line + len, argv[i], n);
		len += n;
	}
	line[len++] = '\n';

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		fprintf(stderr, "vigil-simctl: socket: %s\n", strerror(errno));
		goto done;
	}
	/* A Unix connect completes at once or fails, except when the
	 * backlog is full: then it is waited for like the rest. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    errno != EAGAIN && errno != EINPROGRESS) {
		fprintf(stderr, "vigil-simctl: cannot connect to %s: %s\n",
			path, strerror(errno));
		goto done;
	}
	if (ask(fd, line, len, reply, sizeof(reply), deadline) == -1) {
		fprintf(stderr, "vigil-simctl: %s: %s\n", path,
			strerror(errno));
		goto done;
	}
	printf("%s\n", reply);
	/* "ok" alone or "ok ...": anything else is an error. */
	ok = strncmp(reply, "ok", 2) == 0 &&
	     (reply[2] == ' ' || reply[2] == '\0');
	rc = ok ? 0 : 1;

done:
	if (fd != -1)
		close(fd);
	return rc;
}
