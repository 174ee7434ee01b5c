/*
 * conf-check.h: checks of configured values against the world: files that
 * must be readable or executable, certificates OpenSSL must load, patterns
 * PCRE2 must compile, libpq connection strings, URLs. Each returns 0, or -1
 * with a one-line reason in err.
 */
#ifndef VIGIL_CONF_CHECK_H
#define VIGIL_CONF_CHECK_H

#include <stddef.h>

struct pcre2_real_code_8;

typedef int (*conf_check_fn)(const char *value, char *err, size_t errlen);

int check_readable_file(const char *path, char *err, size_t errlen);
int check_secret_file(const char *path, char *err, size_t errlen);
int check_token_file(const char *path, char *err, size_t errlen);

/* The first line of a secret file (without its line end), malloc'd; NULL
 * with err when it cannot be read or the line is empty. */
char *read_secret_line(const char *path, char *err, size_t errlen);
int check_executable(const char *path, char *err, size_t errlen);
int check_ca_file(const char *path, char *err, size_t errlen);
int check_conninfo(const char *conninfo, char *err, size_t errlen);
int check_http_url(const char *url, char *err, size_t errlen);
int check_smtp_url(const char *url, char *err, size_t errlen);
int check_name(const char *name, char *err, size_t errlen);
int check_cookie_name(const char *name, char *err, size_t errlen);
int check_http_path(const char *path, char *err, size_t errlen);
int check_spool_dir(const char *path, char *err, size_t errlen);
int check_log_file(const char *path, char *err, size_t errlen);
/* "Name: value" with a token name and no control characters. */
int check_http_header(const char *h, char *err, size_t errlen);
int check_mail_address(const char *addr, char *err, size_t errlen);

/* OpenSSL must load the certificate chain and the key, and they must match. */
int check_tls_pair(const char *cert, const char *key, char *err, size_t errlen);

/* Compiles pattern (JIT where available); *out owns the code. */
int check_regex(const char *pattern, struct pcre2_real_code_8 **out, char *err,
		size_t errlen);

#endif
