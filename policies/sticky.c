/*
 * sticky.c: the stickiness cookie (HMAC-SHA256 over cluster and node,
 * OpenSSL 3 EVP_MAC), rendezvous scores (SipHash-2-4), the new-client
 * picker and the retry rule.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "policies/sticky.h"

#define STICKY_KEY_MIN	  16 /* as check_secret_file() demands */
#define STICKY_KEY_RANDOM 32 /* SHA-256 output size: full HMAC strength */
#define STICKY_NODE_MAX	  63 /* as check_name() allows */
#define STICKY_MAC_CHARS  22 /* base64url of 16 bytes, no padding */

int
sticky_key_load(const char *path, struct sticky_key *key, char *err,
		size_t errlen)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd = -1;
	int rc = -1;

	explicit_bzero(key, sizeof(*key));
	if (path == NULL) {
		if (RAND_bytes(key->k, STICKY_KEY_RANDOM) != 1) {
			snprintf(err, errlen,
				 "cookie key: no random bytes from OpenSSL");
			goto out;
		}
		key->len = STICKY_KEY_RANDOM;
		rc = 0;
		goto out;
	}

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	while (got < sizeof(key->k)) {
		n = read(fd, key->k + got, sizeof(key->k) - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got < STICKY_KEY_MIN) {
		snprintf(err, errlen,
			 "%s: a key needs at least %d bytes (it has %zu)", path,
			 STICKY_KEY_MIN, got);
		goto out;
	}
	key->len = got;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	/* A half-read key must not be mistaken for one. */
	if (rc == -1)
		explicit_bzero(key, sizeof(*key));
	return rc;
}

void
sticky_key_wipe(struct sticky_key *key)
{
	explicit_bzero(key, sizeof(*key));
}

/* The characters check_name() allows, in ASCII whatever the locale. */
static bool
node_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool
node_valid(const char *node, size_t len)
{
	if (len == 0 || len > STICKY_NODE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!node_char((unsigned char)node[i]))
			return false;
	return true;
}

static bool
b64url_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* RFC 4648 section 5 without padding; out gets 4 chars per 3 bytes. */
static size_t
b64url_encode(const unsigned char *in, size_t len, char *out)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	size_t i;

	for (i = 0; i + 3 <= len; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 |
				  (unsigned long)in[i + 1] << 8 | in[i + 2];

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (len - i == 1) {
		unsigned long v = (unsigned long)in[i] << 16;

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
	} else if (len - i == 2) {
		unsigned long v =
		    (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8;

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
	}
	return o;
}

/*
 * The MAC of node (len bytes, not NUL-terminated) in cluster, as the 22
 * characters a cookie carries. The NUL between cluster and node keeps
 * ("ab", "c") and ("a", "bc") apart: neither name may contain one.
 * Returns 0, or -1 when OpenSSL fails or the key is empty (never loaded,
 * or wiped), so that no cookie is ever made or accepted under no key.
 */
static int
mac_chars(const struct sticky_key *key, const char *cluster, const char *node,
	  size_t len, char out[STICKY_MAC_CHARS])
{
	static const unsigned char sep = 0;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest,
						 0),
		OSSL_PARAM_construct_end(),
	};
	unsigned char full[EVP_MAX_MD_SIZE];
	size_t full_len = 0;
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	int rc = -1;

	if (key->len == 0 || key->len > sizeof(key->k))
		goto out;
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac == NULL)
		goto out;
	ctx = EVP_MAC_CTX_new(mac);
	if (ctx == NULL)
		goto out;
	if (EVP_MAC_init(ctx, key->k, key->len, params) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)cluster,
			   strlen(cluster)) != 1 ||
	    EVP_MAC_update(ctx, &sep, 1) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)node, len) != 1 ||
	    EVP_MAC_final(ctx, full, &full_len, sizeof(full)) != 1 ||
	    full_len < STICKY_MAC_BYTES)
		goto out;
	b64url_encode(full, STICKY_MAC_BYTES, out);
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

size_t
sticky_cookie_make(const struct sticky_key *key, const char *cluster,
		   const char *node, char *out)
{
	size_t len = strnlen(node, STICKY_NODE_MAX + 1);

	/* A name the cookie could not carry back is refused, not cut. */
	out[0] = '\0';
	if (!node_valid(node, len))
		return 0;
	if (mac_chars(key, cluster, node, len, out + len + 1) == -1)
		return 0;
	memcpy(out, node, len);
	out[len] = '.';
	out[len + 1 + STICKY_MAC_CHARS] = '\0';
	return len + 1 + STICKY_MAC_CHARS;
}

bool
sticky_cookie_verify(const struct sticky_key *key, const char *cluster,
		     const char *value, size_t len, char *node)
{
	char want[STICKY_MAC_CHARS];
	const char *got;
	size_t dot = len;

	/* The last dot: node names may hold dots, the MAC never does. */
	for (size_t i = len; i > 0; i--) {
		if (value[i - 1] == '.') {
			dot = i - 1;
			break;
		}
	}
	if (dot == len || len - dot - 1 != STICKY_MAC_CHARS)
		return false;
	if (!node_valid(value, dot))
		return false;
	got = value + dot + 1;
	for (size_t i = 0; i < STICKY_MAC_CHARS; i++)
		if (!b64url_char((unsigned char)got[i]))
			return false;
	if (mac_chars(key, cluster, value, dot, want) == -1)
		return false;
	if (CRYPTO_memcmp(want, got, STICKY_MAC_CHARS) != 0)
		return false;
	memcpy(node, value, dot);
	node[dot] = '\0';
	return true;
}

/*
 * SipHash-2-4 (Aumasson and Bernstein), fed a byte at a time so that the
 * result does not depend on the host's byte order or alignment. The inputs
 * are a few dozen bytes, so speed does not matter; agreement does.
 */
struct siphash {
	uint64_t v0, v1, v2, v3;
	uint64_t m;	/* the word being filled, little-endian */
	uint64_t total; /* bytes fed so far */
};

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void
sip_round(struct siphash *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL64(s->v2, 32);
}

static void
sip_init(struct siphash *s, const unsigned char k[16])
{
	uint64_t k0 = 0, k1 = 0;

	for (int i = 7; i >= 0; i--) {
		k0 = k0 << 8 | k[i];
		k1 = k1 << 8 | k[i + 8];
	}
	s->v0 = k0 ^ UINT64_C(0x736f6d6570736575);
	s->v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
	s->v2 = k0 ^ UINT64_C(0x6c7967656e657261);
	s->v3 = k1 ^ UINT64_C(0x7465646279746573);
	s->m = 0;
	s->total = 0;
}

static void
sip_update(struct siphash *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		s->m |= (uint64_t)p[i] << (8 * (s->total & 7));
		if ((++s->total & 7) == 0) {
			s->v3 ^= s->m;
			sip_round(s);
			sip_round(s);
			s->v0 ^= s->m;
			s->m = 0;
		}
	}
}

static uint64_t
sip_final(struct siphash *s)
{
	uint64_t b = s->total << 56 | s->m;

	s->v3 ^= b;
	sip_round(s);
	sip_round(s);
	s->v0 ^= b;
	s->v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/*
 * The key is fixed, not secret: every vigil must score alike. Changing it
 * (or the encoding below) moves every source-mode client at once and makes
 * old and new vigils disagree; tests/unit/test-sticky.c pins a value.
 */
static const unsigned char rendezvous_key[] = "vigil-rendezvous";
_Static_assert(sizeof(rendezvous_key) == 16 + 1, "a 128-bit SipHash key");

uint64_t
sticky_score(const void *client, size_t client_len, const char *node)
{
	struct siphash s;
	unsigned char len_le[8];
	uint64_t n = client_len;

	/* The client's length first, so that client/node splits differ. */
	for (int i = 0; i < 8; i++, n >>= 8)
		len_le[i] = (unsigned char)(n & 0xff);
	sip_init(&s, rendezvous_key);
	sip_update(&s, len_le, sizeof(len_le));
	sip_update(&s, client, client_len);
	sip_update(&s, node, strlen(node));
	return sip_final(&s);
}

/*
 * Whether candidate a beats b for this client. Equal scores are broken by
 * name, not by position, so that vigils listing nodes in another order
 * still agree.
 */
static bool
beats(const struct sticky_candidate *a, uint64_t a_score,
      const struct sticky_candidate *b, uint64_t b_score, bool by_source)
{
	if (!by_source && a->connections != b->connections)
		return a->connections < b->connections;
	if (a_score != b_score)
		return a_score > b_score;
	return strcmp(a->name, b->name) < 0;
}

int
sticky_pick(const struct sticky_candidate *c, size_t n, bool by_source,
	    const void *client, size_t client_len)
{
	uint64_t best_score = 0;
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		uint64_t score;

		if (c[i].draining)
			continue;
		score = sticky_score(client, client_len, c[i].name);
		if (best == -1 ||
		    beats(&c[i], score, &c[best], best_score, by_source)) {
			best = (int)i;
			best_score = score;
		}
	}
	return best;
}

/*
 * One retry only: a second node refusing as well points at the client or
 * the network rather than the node, and more tries would multiply load
 * during an outage. A request the node got nothing of cannot have been
 * applied, so its method does not matter (RFC 9110 section 9.2.2), as
 * with HAProxy's retries on connection failures.
 */
bool
retry_allowed(bool idempotent, bool sent, bool body_sent, bool response_started,
	      int tries)
{
	if (tries >= 2 || response_started)
		return false;
	if (!sent)
		return true;
	return idempotent && !body_sent;
}

bool
retry_after_timeout(bool idempotent, bool body_sent, bool response_started,
		    int tries, bool node_routed)
{
	return !node_routed && retry_allowed(idempotent, true, body_sent,
					     response_started, tries);
}
