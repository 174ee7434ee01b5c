/*
 * test-memo.c: core/memo.c: files of lines written whole and read back,
 * a missing file, an empty one, a last line without its newline, a file
 * too large, and no temporary file left behind.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/memo.h"
#include "tests/unit/tap.h"

int
main(void)
{
	char dir[] = "/tmp/test-memo.XXXXXX", path[64], *big;
	char **l;
	size_t n = 99;
	int fd;

	if (mkdtemp(dir) == NULL)
		return 1;
	errno = 0;
	ok(memo_read(dir, "active", &n) == NULL && errno == ENOENT,
	   "a missing file: NULL, ENOENT");
	is_int(n, 0, "no lines");

	is_int(memo_write(dir, "active", "a\nb\n", 4), 0, "written");
	l = memo_read(dir, "active", &n);
	ok(l != NULL, "read back");
	is_int(n, 2, "two lines");
	is_str(l[0], "a", "the first");
	is_str(l[1], "b", "the second");
	ok(l[2] == NULL, "then NULL");
	free(l);

	is_int(memo_write(dir, "active", "c\n\nd", 4), 0, "replaced");
	l = memo_read(dir, "active", &n);
	is_int(n, 2, "empty lines skipped, a last line without newline kept");
	is_str(l[0], "c", "c");
	is_str(l[1], "d", "d");
	free(l);

	is_int(memo_write(dir, "active", "", 0), 0, "emptied");
	l = memo_read(dir, "active", &n);
	ok(l != NULL && n == 0 && l[0] == NULL, "an empty file: no lines");
	free(l);

	snprintf(path, sizeof(path), "%s/active.tmp", dir);
	ok(access(path, F_OK) == -1, "no temporary file left");

	big = calloc(1, 70000);
	memset(big, 'x', 69999);
	snprintf(path, sizeof(path), "%s/big", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ok(fd != -1 && write(fd, big, 69999) == 69999, "a large file");
	close(fd);
	errno = 0;
	ok(memo_read(dir, "big", &n) == NULL && errno == EFBIG,
	   "is refused: EFBIG");
	free(big);

	ok(memo_write("/nonexistent/dir", "active", "a\n", 2) == -1,
	   "a missing folder: -1");

	unlink(path);
	snprintf(path, sizeof(path), "%s/active", dir);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
