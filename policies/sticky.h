/*
 * sticky.h: which node a client goes to (SPEC.md "Stickiness"). The
 * cookie names the node and carries an HMAC-SHA256 over the cluster and
 * the node, so every vigil with the same key routes alike and a cookie
 * cannot be forged or moved onto another node. Source mode uses
 * rendezvous hashing, so a node's departure moves only its own clients.
 * Pure: no I/O but sticky_key_load().
 */
#ifndef VIGIL_POLICIES_STICKY_H
#define VIGIL_POLICIES_STICKY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STICKY_KEY_MAX	 64
#define STICKY_MAC_BYTES 16 /* HMAC-SHA256 truncated to 128 bits */
/* "NODE.MAC": node (≤ 63) + '.' + base64url of 16 bytes (22) + NUL */
#define STICKY_COOKIE_MAX (63 + 1 + 22 + 1)

struct sticky_key {
	unsigned char k[STICKY_KEY_MAX];
	size_t len;
};

/*
 * Loads the key: the first STICKY_KEY_MAX bytes of path, or, with path
 * NULL, random bytes (a key per process: cookies then hold only for this
 * vigil). Returns 0, or -1 with the reason in err.
 */
int sticky_key_load(const char *path, struct sticky_key *key, char *err,
		    size_t errlen);

/* Wipes the key (explicit_bzero). */
void sticky_key_wipe(struct sticky_key *key);

/* Writes the cookie value for node into out (STICKY_COOKIE_MAX bytes);
 * returns its length. */
size_t sticky_cookie_make(const struct sticky_key *key, const char *cluster,
			  const char *node, char *out);

/*
 * Checks a cookie value (not NUL-terminated). When its MAC is right for
 * this cluster (compared in constant time), copies the node name into
 * node (STICKY_COOKIE_MAX bytes) and returns true.
 */
bool sticky_cookie_verify(const struct sticky_key *key, const char *cluster,
			  const char *value, size_t len, char *node);

/* The rendezvous score of a client (its address bytes) on a node. */
uint64_t sticky_score(const void *client, size_t client_len, const char *node);

/* What the picker knows of each candidate node. */
struct sticky_candidate {
	const char *name;
	unsigned connections; /* open client connections on it now */
	bool draining;	      /* keeps sticky clients, takes no new ones */
};

/*
 * Picks a node for a new client among n candidates; returns its index, or
 * -1 when none may take new clients. by_source: the highest rendezvous
 * score wins (source mode); otherwise the fewest connections, ties broken
 * by the score so that equal clients spread evenly. Draining nodes are
 * never picked.
 */
int sticky_pick(const struct sticky_candidate *c, size_t n, bool by_source,
		const void *client, size_t client_len);

/*
 * Whether a request that failed on a node may be sent to another
 * (SPEC.md), once only (tries counts the tries made so far, the first
 * included): whatever its method when the node got no byte of it (sent
 * false: the connection was refused, timed out or failed its TLS
 * handshake); otherwise only an idempotent one (GET, HEAD, OPTIONS, PUT,
 * DELETE, TRACE), only while no byte of its body has been sent and before
 * any byte of a response came back.
 */
bool retry_allowed(bool idempotent, bool sent, bool body_sent,
		   bool response_started, int tries);

/*
 * Whether a request whose node said nothing within server_timeout_ms may
 * be sent to another: as retry_allowed for a request that was sent, and
 * only when the node has left
 * routing meanwhile (node_routed false: it failed, froze, hung or was
 * ejected). A node still routed is slow, not gone: the client gets 504,
 * so that a slow request is never run twice.
 */
bool retry_after_timeout(bool idempotent, bool body_sent, bool response_started,
			 int tries, bool node_routed);

#endif
