/*
 * memo.c: small files of lines in the spool folder that vigil reads when
 * it starts and replaces whole (temporary file, fsync, rename).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/memo.h"

#define MEMO_MAX (64 * 1024)

char **
memo_read(const char *dir, const char *name, size_t *n)
{
	char path[PATH_MAX], *buf = NULL, **lines = NULL, *text, *p, *nl;
	size_t len = 0, count = 0, k = 0;
	ssize_t r;
	int fd, e;

	*n = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	buf = malloc(MEMO_MAX + 1);
	if (buf == NULL)
		goto out;
	while ((r = read(fd, buf + len, MEMO_MAX + 1 - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto out;
		len += (size_t)r;
		if (len > MEMO_MAX) {
			errno = EFBIG;
			goto out;
		}
	}
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		count += buf[i] == '\n';
	count++; /* a last line without its newline */
	lines = malloc((count + 1) * sizeof(*lines) + len + 1);
	if (lines == NULL)
		goto out;
	text = (char *)(lines + count + 1);
	memcpy(text, buf, len + 1);
	for (p = text; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p) - 1; /* ends the loop at the NUL */
		else
			*nl = '\0';
		if (*p != '\0')
			lines[k++] = p;
	}
	lines[k] = NULL;
	*n = k;
out:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return lines;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t r = write(fd, p, len);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int
memo_write(const char *dir, const char *name, const char *text, size_t len)
{
	char tmp[NAME_MAX + 1];
	int dfd, fd = -1, ret = -1, e;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return -1;
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1 || write_all(fd, text, len) == -1 || fsync(fd) == -1)
		goto out;
	e = close(fd);
	fd = -1;
	if (e == -1 || renameat(dfd, tmp, dfd, name) == -1)
		goto out;
	(void)fsync(dfd); /* without it a crash may bring back the old one */
	ret = 0;
out:
	e = errno;
	if (fd != -1)
		close(fd);
	if (ret == -1)
		(void)unlinkat(dfd, tmp, 0);
	close(dfd);
	errno = e;
	return ret;
}
