/*
 * test-tls.c: proxy/tls.c's client context for nodes: verification as
 * health.probe says, and the system's trust store read only when a node
 * speaks TLS (reading it blocks the loop at every start and reload).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "proxy/tls.h"
#include "tests/unit/tap.h"

/* Certificates and CRLs in ctx's trust store. */
static int
store_size(SSL_CTX *ctx)
{
	return sk_X509_OBJECT_num(
	    X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx)));
}

int
main(void)
{
	struct conf_node nodes[2] = { { .name = (char *)"a" },
				      { .name = (char *)"b" } };
	struct conf c = { .nodes = nodes,
			  .n_nodes = 2,
			  .probe_tls_verify = true };
	const char *bundle = X509_get_default_cert_file();
	bool have_bundle = access(bundle, R_OK) == 0;
	char err[256] = "";
	SSL_CTX *ctx;

	ctx = tls_client_ctx(&c, err, sizeof(err));
	ok(ctx != NULL, "no TLS node: a context (%s)", err);
	is_int(store_size(ctx), 0, "no TLS node: the trust store is not read");
	is_int(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER,
	       "no TLS node: peers are still verified (fails closed)");
	SSL_CTX_free(ctx);

	c.probe_tls_verify = false;
	nodes[1].tls = true;
	ctx = tls_client_ctx(&c, err, sizeof(err));
	ok(ctx != NULL, "tls_verify = false: a context");
	is_int(store_size(ctx), 0, "tls_verify = false: no trust store");
	is_int(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE,
	       "tls_verify = false: no verification");
	SSL_CTX_free(ctx);

	c.probe_tls_verify = true;
	if (have_bundle) {
		ctx = tls_client_ctx(&c, err, sizeof(err));
		ok(ctx != NULL && store_size(ctx) > 0,
		   "a TLS node: the system's trust store (%s) is read", bundle);
		SSL_CTX_free(ctx);
	} else {
		ok(1,
		   "a TLS node: the trust store is read # SKIP no "
		   "system trust store at %s",
		   bundle);
	}

	/* An operator's ca_file is loaded whether or not a node needs it,
	 * so that a bad one is refused the same way. */
	nodes[1].tls = false;
	c.probe_ca_file = (char *)"/nonexistent/vigil-ca.pem";
	err[0] = '\0';
	ctx = tls_client_ctx(&c, err, sizeof(err));
	ok(ctx == NULL, "no TLS node, a missing ca_file: refused");
	ok(strstr(err, "cannot load the CA file") != NULL &&
	       strstr(err, "/nonexistent/vigil-ca.pem") != NULL,
	   "and the error names the file: %s", err);
	if (have_bundle) {
		c.probe_ca_file = (char *)bundle;
		ctx = tls_client_ctx(&c, err, sizeof(err));
		ok(ctx != NULL && store_size(ctx) > 0,
		   "no TLS node, a ca_file: it is read");
		SSL_CTX_free(ctx);
	} else {
		ok(1, "no TLS node, a ca_file: it is read # SKIP no "
		      "certificate file to load");
	}

	return tap_done();
}
