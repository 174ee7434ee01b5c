/*
 * ctl-conf.c: vigilctl's two settings from vigil's configuration, and the
 * admin token. vigilctl does not validate the rest: `vigil -t` does that,
 * and an operator must be able to drain a node while a half-edited
 * configuration waits for its reload.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/ctl-conf.h"

/* A string setting of the admin group; -1 when it is there but no string. */
static int
get_string(config_t *cfg, const char *path, const char *file, char **out,
	   char *err, size_t errlen)
{
	config_setting_t *s = config_lookup(cfg, path);
	const char *v;

	*out = NULL;
	if (s == NULL)
		return 0;
	v = config_setting_get_string(s);
	if (v == NULL) {
		snprintf(err, errlen, "%s:%d: %s: must be a string",
			 config_setting_source_file(s)
			     ? config_setting_source_file(s)
			     : file,
			 config_setting_source_line(s), path);
		return -1;
	}
	if ((*out = strdup(v)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", file);
		return -1;
	}
	return 0;
}

int
ctl_conf_read(const char *path, bool missing_ok, struct ctl_conf *out,
	      char *err, size_t errlen)
{
	char dir[PATH_MAX], *slash;
	config_t cfg;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	/* config_read_file says only "file I/O error": ask the system. */
	if (access(path, R_OK) == -1) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errlen, "%s: cannot read the file: %s", path,
			 strerror(errno));
		return -1;
	}
	out->found = true;
	config_init(&cfg);
	/* As core/conf.c: @include "x.conf" is relative to this file's folder.
	 */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		config_set_include_dir(&cfg, dir[0] ? dir : "/");
	}
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		const char *f = config_error_file(&cfg);

		if (config_error_type(&cfg) == CONFIG_ERR_PARSE)
			snprintf(err, errlen, "%s:%d: %s", f ? f : path,
				 config_error_line(&cfg),
				 config_error_text(&cfg));
		else
			snprintf(err, errlen, "%s: cannot read the file: %s",
				 f ? f : path, config_error_text(&cfg));
		goto out;
	}
	out->admin = config_lookup(&cfg, "admin") != NULL;
	if (get_string(&cfg, "admin.address", path, &out->address, err,
		       errlen) == -1 ||
	    get_string(&cfg, "admin.token_file", path, &out->token_file, err,
		       errlen) == -1)
		goto out;
	rc = 0;
out:
	config_destroy(&cfg);
	if (rc == -1)
		ctl_conf_free(out);
	return rc;
}

void
ctl_conf_free(struct ctl_conf *c)
{
	free(c->address);
	free(c->token_file);
	c->address = NULL;
	c->token_file = NULL;
}

int
ctl_token_read(const char *path, char *tok, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	size_t len = 0;
	char *nl;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	/* The first line is all we want: read at most what a token may be. */
	while (len < CTL_TOKEN_MAX - 1) {
		n = read(fd, tok + len, CTL_TOKEN_MAX - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			explicit_bzero(tok, CTL_TOKEN_MAX);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (memchr(tok, '\n', len) != NULL)
			break;
	}
	close(fd);
	tok[len] = '\0';
	nl = memchr(tok, '\n', len);
	if (nl == NULL && len == CTL_TOKEN_MAX - 1) {
		snprintf(err, errlen,
			 "%s: the first line is longer than %d "
			 "bytes",
			 path, CTL_TOKEN_MAX - 2);
		explicit_bzero(tok, CTL_TOKEN_MAX);
		return -1;
	}
	if (nl != NULL)
		len = (size_t)(nl - tok);
	/* A file written on Windows still works. */
	if (len > 0 && tok[len - 1] == '\r')
		len--;
	explicit_bzero(tok + len, CTL_TOKEN_MAX - len);
	if (len == 0) {
		snprintf(err, errlen, "%s: the first line is empty", path);
		return -1;
	}
	/* It goes into an HTTP header: a control byte would break or forge one.
	 */
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)tok[i] < 0x20 || tok[i] == 0x7f) {
			snprintf(err, errlen,
				 "%s: the first line has a control character",
				 path);
			explicit_bzero(tok, CTL_TOKEN_MAX);
			return -1;
		}
	}
	return 0;
}
