/*
 * conf-check.c: checks of configured values against the world, so that
 * `vigil -t` catches what would otherwise fail at start or, worse, at the
 * first failover (a hook that is not executable, a CA file OpenSSL rejects).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <curl/curl.h>
#include <libpq-fe.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pcre2.h>

#include "core/conf-check.h"

/* Opens path for reading and checks it is a regular file; returns the fd. */
static int
open_regular(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	return fd;
}

int
check_readable_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open_regular(path, &st, err, errlen);

	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}

/* The cookie key: at least 16 bytes, so that the HMAC is worth its name. */
int
check_secret_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open_regular(path, &st, err, errlen);

	if (fd == -1)
		return -1;
	close(fd);
	if (st.st_size < 16) {
		snprintf(err, errlen,
			 "%s: a key needs at least 16 bytes (it has %lld)",
			 path, (long long)st.st_size);
		return -1;
	}
	return 0;
}

/* The admin token: not empty, and not readable by every local user. */
int
check_token_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char buf[8];
	ssize_t n;
	int fd = open_regular(path, &st, err, errlen);

	if (fd == -1)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || (n == 1 && buf[0] == '\n')) {
		snprintf(err, errlen, "%s: the token file is empty", path);
		return -1;
	}
	if (st.st_mode & S_IROTH) {
		snprintf(err, errlen,
			 "%s: readable by every user (mode %04o); "
			 "chmod o-rwx it",
			 path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

char *
read_secret_line(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char buf[1024];
	ssize_t n;
	char *line = NULL;
	int fd = open_regular(path, &st, err, errlen);

	if (fd == -1)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		snprintf(err, errlen, "%s: the first line is empty", path);
	else if ((line = strdup(buf)) == NULL)
		snprintf(err, errlen, "out of memory");
	explicit_bzero(buf, sizeof(buf));
	return line;
}

int
check_executable(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (path[0] != '/') {
		snprintf(err, errlen,
			 "%s: needs an absolute path (no shell, no PATH "
			 "search)",
			 path);
		return -1;
	}
	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (access(path, X_OK) == -1) {
		snprintf(err, errlen, "%s: not executable", path);
		return -1;
	}
	return 0;
}

/* The first OpenSSL error, or fallback when the queue is empty. */
static const char *
ssl_reason(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, len, "%s", fallback);
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

int
check_ca_file(const char *path, char *err, size_t errlen)
{
	char why[256];
	SSL_CTX *ctx;
	int rc = -1;

	if (check_readable_file(path, err, errlen) == -1)
		return -1;
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		snprintf(err, errlen, "OpenSSL: %s",
			 ssl_reason(why, sizeof(why), "out of memory"));
		return -1;
	}
	if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1) {
		snprintf(err, errlen, "%s: OpenSSL cannot load it: %s", path,
			 ssl_reason(why, sizeof(why), "no certificate"));
		goto out;
	}
	rc = 0;
out:
	SSL_CTX_free(ctx);
	return rc;
}

int
check_tls_pair(const char *cert, const char *key, char *err, size_t errlen)
{
	char why[256];
	SSL_CTX *ctx;
	int rc = -1;

	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		snprintf(err, errlen, "OpenSSL: %s",
			 ssl_reason(why, sizeof(why), "out of memory"));
		return -1;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen,
			 "%s: OpenSSL cannot load the certificate: %s", cert,
			 ssl_reason(why, sizeof(why), "unknown error"));
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "%s: OpenSSL cannot load the key: %s",
			 key, ssl_reason(why, sizeof(why), "unknown error"));
		goto out;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "%s does not match the certificate %s",
			 key, cert);
		ERR_clear_error();
		goto out;
	}
	rc = 0;
out:
	SSL_CTX_free(ctx);
	return rc;
}

int
check_regex(const char *pattern, struct pcre2_real_code_8 **out, char *err,
	    size_t errlen)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re;

	/* Bytes, not UTF-8: a node may answer with any bytes, and a UTF
	 * pattern on invalid UTF-8 is an error, not a mismatch. */
	re =
	    pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			  PCRE2_NEVER_UTF | PCRE2_NEVER_UCP, &code, &off, NULL);
	if (re == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "bad pattern at offset %zu: %s",
			 (size_t)off, (const char *)msg);
		return -1;
	}
	/* JIT is an optimisation: a platform without it still matches. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	*out = re;
	return 0;
}

int
check_conninfo(const char *conninfo, char *err, size_t errlen)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);

	if (opts == NULL) {
		size_t n;

		snprintf(err, errlen, "libpq: %s", msg ? msg : "out of memory");
		/* libpq's messages end with a newline; a log line does not. */
		n = strlen(err);
		while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
			err[--n] = '\0';
		PQfreemem(msg);
		return -1;
	}
	PQconninfoFree(opts);
	return 0;
}

/* Parses url with libcurl and checks its scheme is one of schemes. */
static int
check_url(const char *url, const char *const *schemes, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = -1;

	if (u == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "\"%s\": not a valid URL", url);
		goto out;
	}
	for (const char *const *s = schemes; *s; s++) {
		if (strcmp(scheme, *s) == 0) {
			rc = 0;
			goto out;
		}
	}
	snprintf(err, errlen, "\"%s\": the scheme must be %s%s%s", url,
		 schemes[0], schemes[1] ? " or " : "",
		 schemes[1] ? schemes[1] : "");
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

int
check_http_url(const char *url, char *err, size_t errlen)
{
	static const char *const schemes[] = { "https", "http", NULL };

	return check_url(url, schemes, err, errlen);
}

int
check_smtp_url(const char *url, char *err, size_t errlen)
{
	static const char *const schemes[] = { "smtp", "smtps", NULL };

	return check_url(url, schemes, err, errlen);
}

/*
 * Names of appliances and nodes end up in URLs (/api/nodes/NAME/drain),
 * cookies, metric labels and hook environments: keep them plain.
 */
int
check_name(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (n == 0 || n > 63) {
		snprintf(err, errlen, "\"%s\": must be 1 to 63 characters",
			 name);
		return -1;
	}
	for (const char *p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.') {
			snprintf(err, errlen,
				 "\"%s\": only letters, digits, '-', '_' and "
				 "'.' are allowed",
				 name);
			return -1;
		}
	}
	return 0;
}

/* An extra webhook header, RFC 9110: token ":" value, nothing that could
 * end the header early or smuggle a second one. */
int
check_http_header(const char *h, char *err, size_t errlen)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	const char *colon = strchr(h, ':');

	if (colon == NULL || colon == h) {
		snprintf(err, errlen, "must be \"Name: value\"");
		return -1;
	}
	for (const char *p = h; p < colon; p++) {
		if (!isalnum((unsigned char)*p) && strchr(tchar, *p) == NULL) {
			snprintf(err, errlen,
				 "the header name must be a token (letters, "
				 "digits, -)");
			return -1;
		}
	}
	for (const char *p = colon + 1; *p; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			snprintf(err, errlen,
				 "control characters are not allowed in a "
				 "header value");
			return -1;
		}
		if (*p == 0x7f) {
			snprintf(err, errlen,
				 "control characters are not allowed in a "
				 "header value");
			return -1;
		}
	}
	return 0;
}

/* RFC 6265 cookie-name: an RFC 9110 token. */
int
check_cookie_name(const char *name, char *err, size_t errlen)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (*name == '\0' || strlen(name) > 64) {
		snprintf(err, errlen, "must be 1 to 64 characters");
		return -1;
	}
	for (const char *p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && strchr(extra, *p) == NULL) {
			snprintf(err, errlen,
				 "\"%s\": not a valid cookie name (RFC 6265 "
				 "token characters only)",
				 name);
			return -1;
		}
	}
	return 0;
}

/* An origin-form request target (RFC 9112 3.2.1). */
int
check_http_path(const char *path, char *err, size_t errlen)
{
	if (path[0] != '/') {
		snprintf(err, errlen, "\"%s\": must start with '/'", path);
		return -1;
	}
	for (const char *p = path; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '#') {
			snprintf(err, errlen,
				 "\"%s\": no spaces, control characters or "
				 "'#' in a request path",
				 path);
			return -1;
		}
	}
	return 0;
}

/* The directory that will hold path, or the existing directory path. */
static int
check_dir_writable(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		snprintf(err, errlen, "%s: not writable", dir);
		return -1;
	}
	return 0;
}

static int
check_parent_dir(const char *path, char *err, size_t errlen)
{
	char copy[PATH_MAX];

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	return check_dir_writable(dirname(copy), err, errlen);
}

/* The spool directory is created at start when missing, so either it or
 * its parent must be a writable directory. */
int
check_spool_dir(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (path[0] == '\0') {
		snprintf(err, errlen, "must not be empty");
		return -1;
	}
	if (stat(path, &st) == 0)
		return check_dir_writable(path, err, errlen);
	return check_parent_dir(path, err, errlen);
}

int
check_log_file(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file", path);
			return -1;
		}
		if (access(path, W_OK) == -1) {
			snprintf(err, errlen, "%s: not writable", path);
			return -1;
		}
		return 0;
	}
	return check_parent_dir(path, err, errlen);
}

/* Just the shape local@domain, without spaces or angle brackets that would
 * let a value inject SMTP commands. */
int
check_mail_address(const char *addr, char *err, size_t errlen)
{
	const char *at = strchr(addr, '@');

	for (const char *p = addr; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == '<' || *p == '>' ||
		    *p == 0x7f) {
			snprintf(err, errlen,
				 "\"%s\": no spaces, control characters or "
				 "angle brackets",
				 addr);
			return -1;
		}
	}
	if (at == NULL || at == addr || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL) {
		snprintf(err, errlen, "\"%s\": expected local@domain", addr);
		return -1;
	}
	return 0;
}
