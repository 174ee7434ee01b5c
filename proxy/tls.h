/*
 * tls.h: OpenSSL for the proxy: server contexts for TLS listeners, a
 * client context for nodes with tls = true, and non-blocking reads and
 * writes that say which readiness the TLS layer waits for.
 */
#ifndef VIGIL_TLS_H
#define VIGIL_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "core/conf-types.h"

/* TLS 1.2 and later, server cipher preference, no compression, no
 * client-started renegotiation, session resumption, ALPN http/1.1. */
SSL_CTX *tls_server_ctx(const struct conf_listen *l, char *err, size_t errlen);

/* For connections to nodes: verification as health.probe says
 * (tls_verify, ca_file), TLS 1.2 and later. The system's trust store is
 * read only when a node has tls = true (ca_file always). */
SSL_CTX *tls_client_ctx(const struct conf *c, char *err, size_t errlen);

/* What an operation waits for before it can go on. */
enum tls_want {
	TLS_WANT_NONE = 0,
	TLS_WANT_READ,
	TLS_WANT_WRITE,
};

/*
 * Reads or writes through ssl, or the plain fd when ssl is NULL. Returns
 * bytes moved (> 0); 0 at a clean end of stream (reads only); -1 with
 * *want set when the operation must wait for readiness, or with *want
 * TLS_WANT_NONE on a hard error.
 */
ssize_t tls_read(int fd, SSL *ssl, void *buf, size_t len, enum tls_want *want);
ssize_t tls_write(int fd, SSL *ssl, const void *buf, size_t len,
		  enum tls_want *want);

/* Drives a handshake: 1 done, 0 waiting (*want set), -1 failed. */
int tls_handshake(SSL *ssl, enum tls_want *want);

#endif
