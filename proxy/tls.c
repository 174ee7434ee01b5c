/*
 * tls.c: TLS contexts and non-blocking I/O on OpenSSL. The settings follow
 * Mozilla's "intermediate" profile: TLS 1.2 and 1.3, forward-secret AEAD
 * ciphers only for 1.2, the server's order preferred.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "proxy/tls.h"

static const char ciphers12[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

static void
ssl_err(char *err, size_t errlen, const char *what, const char *file)
{
	char why[256] = "unknown error";
	unsigned long e = ERR_peek_last_error();

	if (e != 0)
		ERR_error_string_n(e, why, sizeof(why));
	ERR_clear_error();
	snprintf(err, errlen, "%s%s%s: %s", file ? file : "", file ? ": " : "",
		 what, why);
}

/* ALPN: http/1.1 when the client offers it; without it, no ALPN at all
 * rather than a failed handshake (old clients offer nothing). */
static int
on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
	const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h11[] = "\x08http/1.1";
	unsigned char *sel;

	if (SSL_select_next_proto(&sel, outlen, h11, sizeof(h11) - 1, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static int
no_password(char *buf, int size, int rwflag, void *u)
{
	return 0; /* an encrypted key must not wait for a terminal */
}

SSL_CTX *
tls_server_ctx(const struct conf_listen *l, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		ssl_err(err, errlen, "SSL_CTX_new", NULL);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
				     SSL_OP_NO_RENEGOTIATION |
				     SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_default_passwd_cb(ctx, no_password);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"vigil", 5);
	SSL_CTX_set_alpn_select_cb(ctx, on_alpn, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				  SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_cipher_list(ctx, ciphers12) != 1) {
		ssl_err(err, errlen, "cipher list", NULL);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, l->certificate) != 1) {
		ssl_err(err, errlen, "cannot load the certificate",
			l->certificate);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, l->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, errlen, "cannot load the key", l->key);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Does any node speak TLS, so that the client context verifies anyone? */
static bool
any_tls_node(const struct conf *c)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].tls)
			return true;
	return false;
}

SSL_CTX *
tls_client_ctx(const struct conf *c, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	static const unsigned char h11[] = "\x08http/1.1";

	if (ctx == NULL) {
		ssl_err(err, errlen, "SSL_CTX_new", NULL);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx,
			    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				  SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_alpn_protos(ctx, h11, sizeof(h11) - 1);
	if (c->probe_tls_verify)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* The system's trust store only when a node will be verified
	 * against it: parsing the bundle (~150 certificates) blocks the loop
	 * for tens of milliseconds at every start and reload, seconds under
	 * valgrind, and heartbeats age unread meanwhile. With no store a
	 * handshake fails verification: closed, not open. An operator's
	 * ca_file is always loaded, so that a bad one fails the same way. */
	if (c->probe_tls_verify &&
	    (c->probe_ca_file != NULL || any_tls_node(c))) {
		if ((c->probe_ca_file != NULL
			 ? SSL_CTX_load_verify_locations(ctx, c->probe_ca_file,
							 NULL)
			 : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
			ssl_err(err, errlen, "cannot load the CA file",
				c->probe_ca_file);
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	return ctx;
}

static ssize_t
ssl_result(SSL *ssl, int n, enum tls_want *want)
{
	switch (SSL_get_error(ssl, n)) {
	case SSL_ERROR_WANT_READ:
		*want = TLS_WANT_READ;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		*want = TLS_WANT_WRITE;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		*want = TLS_WANT_NONE;
		return 0;
	default:
		ERR_clear_error();
		*want = TLS_WANT_NONE;
		return -1;
	}
}

ssize_t
tls_read(int fd, SSL *ssl, void *buf, size_t len, enum tls_want *want)
{
	ssize_t n;

	*want = TLS_WANT_NONE;
	if (ssl == NULL) {
		n = read(fd, buf, len);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			*want = TLS_WANT_READ;
		return n;
	}
	n = SSL_read(ssl, buf, (int)(len > 1 << 30 ? 1 << 30 : len));
	return n > 0 ? n : ssl_result(ssl, (int)n, want);
}

ssize_t
tls_write(int fd, SSL *ssl, const void *buf, size_t len, enum tls_want *want)
{
	ssize_t n;

	*want = TLS_WANT_NONE;
	if (ssl == NULL) {
		n = write(fd, buf, len);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			*want = TLS_WANT_WRITE;
		return n;
	}
	n = SSL_write(ssl, buf, (int)(len > 1 << 30 ? 1 << 30 : len));
	if (n > 0)
		return n;
	n = ssl_result(ssl, (int)n, want);
	return n == 0 ? -1 : n; /* a write never "ends the stream" */
}

int
tls_handshake(SSL *ssl, enum tls_want *want)
{
	int n = SSL_do_handshake(ssl);

	if (n == 1)
		return 1;
	if (ssl_result(ssl, n, want) == -1 && *want != TLS_WANT_NONE)
		return 0;
	return -1;
}
