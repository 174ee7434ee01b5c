/*
 * test-sticky.c: policies/sticky.c: key loading, cookies that hold only
 * for their cluster, node and key, rendezvous hashing that moves only a
 * departed node's clients, the least-connections picker and the retry
 * rule.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policies/sticky.h"
#include "tests/unit/tap.h"

#define N_CLIENTS 10000

/* Writes len bytes to a fresh temporary file; its name goes into path. */
static void
temp_file(char *path, size_t pathlen, const void *data, size_t len)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, pathlen, "%s/test-sticky.XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd == -1 || write(fd, data, len) != (ssize_t)len) {
		perror(path);
		exit(1);
	}
	close(fd);
}

/* Client i's address: even ones IPv4 (4 bytes), odd ones IPv6 (16). */
static size_t
client_addr(int i, unsigned char *a)
{
	if (i % 2 == 0) {
		a[0] = 10;
		a[1] = (unsigned char)(i >> 16);
		a[2] = (unsigned char)(i >> 8);
		a[3] = (unsigned char)i;
		return 4;
	}
	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[13] = (unsigned char)(i >> 16);
	a[14] = (unsigned char)(i >> 8);
	a[15] = (unsigned char)i;
	return 16;
}

static bool
verify_str(const struct sticky_key *key, const char *cluster, const char *value,
	   char *node)
{
	return sticky_cookie_verify(key, cluster, value, strlen(value), node);
}

static struct sticky_key key32; /* bytes 0..31, from a file */
static char key32_path[256];

static void
test_key_load(void)
{
	unsigned char bytes[100];
	struct sticky_key k, k2;
	char path[256], err[256];

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)i;

	temp_file(key32_path, sizeof(key32_path), bytes, 32);
	is_int(sticky_key_load(key32_path, &key32, err, sizeof(err)), 0,
	       "a 32-byte key file loads");
	is_int(key32.len, 32, "all 32 bytes");
	ok(memcmp(key32.k, bytes, 32) == 0, "as written");

	temp_file(path, sizeof(path), bytes, sizeof(bytes));
	is_int(sticky_key_load(path, &k, err, sizeof(err)), 0,
	       "a 100-byte key file loads");
	is_int(k.len, STICKY_KEY_MAX, "its first STICKY_KEY_MAX bytes");
	unlink(path);

	temp_file(path, sizeof(path), bytes, 16);
	is_int(sticky_key_load(path, &k, err, sizeof(err)), 0,
	       "16 bytes are enough");
	is_int(k.len, 16, "16 bytes");
	unlink(path);

	temp_file(path, sizeof(path), bytes, 15);
	err[0] = '\0';
	is_int(sticky_key_load(path, &k, err, sizeof(err)), -1,
	       "15 bytes are not");
	ok(strstr(err, "needs at least 16 bytes") != NULL, "says why: %s", err);
	ok(strstr(err, path) != NULL, "and names the file");
	is_int(k.len, 0, "no half key is left behind");
	unlink(path);

	temp_file(path, sizeof(path), bytes, 0);
	is_int(sticky_key_load(path, &k, err, sizeof(err)), -1,
	       "an empty file is refused");
	unlink(path);

	err[0] = '\0';
	is_int(sticky_key_load("/nonexistent/vigil/cookie.key", &k, err,
			       sizeof(err)),
	       -1, "a missing file is refused");
	ok(strstr(err, "/nonexistent/vigil/cookie.key") != NULL &&
	       strstr(err, "No such file") != NULL,
	   "says which and why: %s", err);

	err[0] = '\0';
	is_int(sticky_key_load("/", &k, err, sizeof(err)), -1,
	       "a directory is refused");
	ok(strstr(err, "not a regular file") != NULL, "says why: %s", err);

	is_int(sticky_key_load(NULL, &k, err, sizeof(err)), 0,
	       "no file: a random key");
	is_int(k.len, 32, "of 32 bytes");
	is_int(sticky_key_load(NULL, &k2, err, sizeof(err)), 0,
	       "a second random key");
	ok(memcmp(k.k, k2.k, 32) != 0, "the two differ");

	sticky_key_wipe(&k);
	unsigned char zero[sizeof(k.k)] = { 0 };
	ok(memcmp(k.k, zero, sizeof(zero)) == 0 && k.len == 0,
	   "wipe zeroes the key");
}

static void
test_cookie(void)
{
	char c[STICKY_COOKIE_MAX], bad[STICKY_COOKIE_MAX + 16];
	char node[STICKY_COOKIE_MAX];
	char err[256];
	struct sticky_key other, same1, same2;
	size_t len;

	/* Computed independently: printf 'vro\0vro-1' | openssl dgst
	 * -sha256 -mac HMAC -macopt hexkey:000102…1f, first 16 bytes,
	 * base64url. A change here breaks every cookie clients hold and
	 * mixed vigil versions would disagree. */
	len = sticky_cookie_make(&key32, "vro", "vro-1", c);
	is_str(c, "vro-1.tYDrIjBjUGX1Iqwb6nLHqQ", "the cookie value");
	is_int(len, strlen(c), "its length is returned");

	strcpy(node, "sentinel");
	ok(verify_str(&key32, "vro", c, node), "it verifies");
	is_str(node, "vro-1", "and names its node");

	/* Exactly len bytes on the heap, no NUL: ASan sees any overread. */
	char *exact = malloc(len);
	memcpy(exact, c, len);
	ok(sticky_cookie_verify(&key32, "vro", exact, len, node),
	   "a value that is not NUL-terminated verifies");
	ok(!sticky_cookie_verify(&key32, "vro", exact, len - 1, node),
	   "and one byte short does not");
	free(exact);

	len = sticky_cookie_make(&key32, "vro", "db.vro-1.local", c);
	ok(len > 0 && verify_str(&key32, "vro", c, node),
	   "node names with dots round-trip");
	is_str(node, "db.vro-1.local", "split at the last dot");

	char n63[64], n64[65];
	memset(n63, 'a', 63);
	n63[63] = '\0';
	memset(n64, 'a', 64);
	n64[64] = '\0';
	len = sticky_cookie_make(&key32, "vro", n63, c);
	is_int(len, STICKY_COOKIE_MAX - 1, "a 63-char node fills the cookie");
	ok(verify_str(&key32, "vro", c, node), "and verifies");
	is_str(node, n63, "whole");
	strcpy(c, "unchanged");
	is_int(sticky_cookie_make(&key32, "vro", n64, c), 0,
	       "a 64-char node gets no cookie");
	is_str(c, "", "and an empty value");
	is_int(sticky_cookie_make(&key32, "vro", "", c), 0,
	       "an empty node gets none");
	is_int(sticky_cookie_make(&key32, "vro", "vro/1", c), 0,
	       "nor a node with '/'");

	sticky_cookie_make(&key32, "vro", "vro-1", c);
	const char *mac = strrchr(c, '.') + 1;

	strcpy(node, "sentinel");
	ok(!verify_str(&key32, "vra", c, node), "another cluster: refused");
	is_str(node, "sentinel", "node untouched on failure");

	snprintf(bad, sizeof(bad), "vro-2.%s", mac);
	ok(!verify_str(&key32, "vro", bad, node),
	   "vro-1's MAC on vro-2: refused (no replay onto another node)");
	snprintf(bad, sizeof(bad), "x.vro-1.%s", mac);
	ok(!verify_str(&key32, "vro", bad, node),
	   "a prefix before the node: refused");

	int flips_taken = 0;
	for (size_t i = 0; i < 22; i++) {
		strcpy(bad, c);
		char *p = strrchr(bad, '.') + 1 + i;
		*p = *p == 'A' ? 'B' : 'A';
		flips_taken += verify_str(&key32, "vro", bad, node);
	}
	is_int(flips_taken, 0, "a flipped MAC char, at any place: refused");
	strcpy(bad, c);
	bad[strlen(bad) - 1] = '\0';
	ok(!verify_str(&key32, "vro", bad, node), "truncated MAC: refused");
	snprintf(bad, sizeof(bad), "%sx", c);
	ok(!verify_str(&key32, "vro", bad, node), "an extra char: refused");
	snprintf(bad, sizeof(bad), "%s==", c);
	ok(!verify_str(&key32, "vro", bad, node), "padding: refused");
	snprintf(bad, sizeof(bad), "vro-1%s", mac);
	ok(!verify_str(&key32, "vro", bad, node), "no dot: refused");
	snprintf(bad, sizeof(bad), ".%s", mac);
	ok(!verify_str(&key32, "vro", bad, node), "empty node: refused");
	snprintf(bad, sizeof(bad), "vro/1.%s", mac);
	ok(!verify_str(&key32, "vro", bad, node), "node with '/': refused");
	snprintf(bad, sizeof(bad), "%s.%s", n64, mac);
	ok(!verify_str(&key32, "vro", bad, node), "64-char node: refused");

	is_int(sticky_key_load(NULL, &other, err, sizeof(err)), 0,
	       "another key");
	ok(!verify_str(&other, "vro", c, node), "another key: refused");
	sticky_key_wipe(&other);

	ok(sticky_key_load(key32_path, &same1, err, sizeof(err)) == 0 &&
	       sticky_key_load(key32_path, &same2, err, sizeof(err)) == 0,
	   "two keys from one file");
	sticky_cookie_make(&same1, "vro", "vro-3", c);
	ok(verify_str(&same2, "vro", c, node),
	   "one vigil's cookie holds on the other");
	sticky_cookie_make(&same2, "vro", "vro-2", c);
	ok(verify_str(&same1, "vro", c, node), "and back");
	is_str(node, "vro-2", "for the same node");

	sticky_key_wipe(&same1);
	strcpy(bad, "unchanged");
	is_int(sticky_cookie_make(&same1, "vro", "vro-2", bad), 0,
	       "a wiped key makes no cookie");
	ok(!verify_str(&same1, "vro", c, node), "and accepts none");

	/* Garbage of every kind. */
	const char *junk[] = { "",
			       ".",
			       "..",
			       "vro-1.",
			       ".vro-1",
			       "vro-1..",
			       "vro-1.tYDrIjBjUGX1Iqwb6nLHq.",
			       "vro-1.tYDrIjBjUGX1Iqwb6nLHq+",
			       "vro-1.tYDrIjBjUGX1Iqwb6nLHq/",
			       "vro-1.tYDrIjBjUGX1Iqwb6nLHqQ ",
			       " vro-1.tYDrIjBjUGX1Iqwb6nLHqQ",
			       "vr\xc3\xb6-1.tYDrIjBjUGX1Iqwb6nLHqQ",
			       "vro-1.tYDrIjBjUGX1Iqwb6nL\xc3\xb6Q",
			       "\xff\xfe.tYDrIjBjUGX1Iqwb6nLHqQ" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		ok(!verify_str(&key32, "vro", junk[i], node),
		   "junk %zu: refused", i);
	ok(!sticky_cookie_verify(&key32, "vro", NULL, 0, node),
	   "no value at all: refused");

	static const char nul_node[] = "vro\0-1.tYDrIjBjUGX1Iqwb6nLHqQ";
	ok(!sticky_cookie_verify(&key32, "vro", nul_node, sizeof(nul_node) - 1,
				 node),
	   "a NUL in the node: refused");
	static const char nul_mac[] = "vro-1.tYDrIjBjUGX1Iqwb6nLHq\0";
	ok(!sticky_cookie_verify(&key32, "vro", nul_mac, sizeof(nul_mac) - 1,
				 node),
	   "a NUL in the MAC: refused");
	static const char nul_tail[] = "vro-1.tYDrIjBjUGX1Iqwb6nLHqQ\0";
	ok(!sticky_cookie_verify(&key32, "vro", nul_tail, sizeof(nul_tail) - 1,
				 node),
	   "a NUL after the MAC: refused");

	char *big = malloc(10240);
	memset(big, 'a', 10240);
	ok(!sticky_cookie_verify(&key32, "vro", big, 10240, node),
	   "10 KB without a dot: refused");
	memcpy(big + 10240 - 29, ".vro-1.tYDrIjBjUGX1Iqwb6nLHqQ", 29);
	ok(!sticky_cookie_verify(&key32, "vro", big, 10240, node),
	   "10 KB ending in a valid cookie: refused");
	memset(big, '.', 10240);
	ok(!sticky_cookie_verify(&key32, "vro", big, 10240, node),
	   "10 KB of dots: refused");
	free(big);
	is_str(node, "vro-2", "no failure touched node");
}

static const char *const five[] = { "vro-1", "vro-2", "vro-3", "vro-4",
				    "vro-5" };

static void
test_rendezvous(void)
{
	struct sticky_candidate all[5], four[4], shuffled[5];
	unsigned char a[16];
	int count[5] = { 0 }, count4[5] = { 0 };
	int kept_moved = 0, from_gone = 0, restored_wrong = 0;
	int draining_differs = 0;

	/* Pinned: every vigil, on every host and release, must agree. */
	static const unsigned char v4[4] = { 10, 0, 0, 1 };
	ok(sticky_score(v4, 4, "vro-1") == UINT64_C(0x809b7c85fd32bc47),
	   "the score is pinned (SipHash-2-4, key \"vigil-rendezvous\")");
	ok(sticky_score("", 0, "vro-1") == UINT64_C(0xa0c2f207f784a92e),
	   "also for an empty client");
	ok(sticky_score("ab", 2, "c") != sticky_score("a", 1, "bc"),
	   "the client/node split matters");

	for (int i = 0; i < 5; i++)
		all[i] = (struct sticky_candidate){ five[i], 0, false };
	/* vro-3 gone, the others listed in another order. */
	four[0] = all[4];
	four[1] = all[0];
	four[2] = all[3];
	four[3] = all[1];
	/* Back again, in yet another order. */
	shuffled[0] = all[2];
	shuffled[1] = all[4];
	shuffled[2] = all[0];
	shuffled[3] = all[3];
	shuffled[4] = all[1];

	for (int i = 0; i < N_CLIENTS; i++) {
		size_t alen = client_addr(i, a);
		int p = sticky_pick(all, 5, true, a, alen);

		count[p]++;

		int q = sticky_pick(four, 4, true, a, alen);
		const char *now = four[q].name;
		int now_i = (int)(now[4] - '1');

		count4[now_i]++;
		if (p == 2)
			from_gone++;
		else if (now_i != p)
			kept_moved++;

		int r = sticky_pick(shuffled, 5, true, a, alen);
		if (strcmp(shuffled[r].name, five[p]) != 0)
			restored_wrong++;

		all[2].draining = true;
		if (sticky_pick(all, 5, true, a, alen) != now_i)
			draining_differs++;
		all[2].draining = false;
	}
	for (int i = 0; i < 5; i++)
		ok(count[i] >= 1700 && count[i] <= 2300,
		   "%s has %d of 10000 clients (2000 +/- 15%%)", five[i],
		   count[i]);
	is_int(kept_moved, 0, "removing vro-3 moves no other node's clients");
	ok(from_gone > 0 && count4[2] == 0, "vro-3's %d clients moved away",
	   from_gone);
	for (int i = 0; i < 5; i++)
		if (i != 2)
			ok(count4[i] >= 2125 && count4[i] <= 2875,
			   "after: %s has %d (2500 +/- 15%%)", five[i],
			   count4[i]);
	is_int(restored_wrong, 0, "adding vro-3 back restores every client");
	is_int(draining_differs, 0,
	       "draining vro-3 places new clients as removing it does");
}

static void
test_least_connections(void)
{
	struct sticky_candidate c[4] = {
		{ "vro-1", 3, false },
		{ "vro-2", 1, false },
		{ "vro-3", 1, false },
		{ "vro-4", 5, false },
	};
	unsigned char a[16];
	int picks[4] = { 0 }, wrong = 0;

	for (int i = 0; i < 1000; i++) {
		size_t alen = client_addr(i, a);
		int p = sticky_pick(c, 4, false, a, alen);
		int want = sticky_score(a, alen, "vro-2") >
				   sticky_score(a, alen, "vro-3")
			       ? 1
			       : 2;

		picks[p]++;
		if (p != want)
			wrong++;
	}
	is_int(picks[0] + picks[3], 0, "only the least loaded are picked");
	is_int(wrong, 0, "a tie goes to the higher score");
	ok(picks[1] > 400 && picks[2] > 400, "ties spread: %d and %d", picks[1],
	   picks[2]);

	client_addr(7, a);
	int by_src = sticky_pick(c, 4, true, a, 4);
	unsigned saved = c[by_src].connections;

	c[by_src].connections = 1000;
	is_int(sticky_pick(c, 4, true, a, 4), by_src,
	       "source mode ignores connections");
	c[by_src].draining = true;
	ok(sticky_pick(c, 4, true, a, 4) != by_src,
	   "but not draining: the next score wins");
	c[by_src].draining = false;
	c[by_src].connections = saved;

	c[1].draining = true;
	c[2].draining = true;
	is_int(sticky_pick(c, 4, false, a, 4), 0,
	       "draining nodes are skipped, however idle");
	c[0].draining = true;
	c[3].draining = true;
	is_int(sticky_pick(c, 4, false, a, 4), -1, "all draining: none");
	is_int(sticky_pick(c, 4, true, a, 4), -1, "in source mode too");
	is_int(sticky_pick(NULL, 0, false, a, 4), -1, "no candidates: none");
	c[3].draining = false;
	is_int(sticky_pick(c, 4, false, a, 4), 3,
	       "the one left is picked, however busy");
}

static void
test_retry(void)
{
	for (int m = 0; m < 16; m++) {
		bool idem = m & 1, body = m & 2, resp = m & 4, sent = m & 8;

		/* Nothing sent, no body sent: the other case cannot be. */
		if (!sent && body)
			continue;
		for (int tries = 1; tries <= 3; tries++) {
			bool want =
			    !resp && tries == 1 && (!sent || (idem && !body));

			is_int(retry_allowed(idem, sent, body, resp, tries),
			       want,
			       "idempotent=%d sent=%d body_sent=%d "
			       "response_started=%d tries=%d: %s",
			       idem, sent, body, resp, tries,
			       want ? "retry" : "no retry");
		}
	}
	ok(retry_allowed(false, false, false, false, 1),
	   "a POST whose connection was refused goes to another node");
	ok(!retry_allowed(false, true, false, false, 1),
	   "a POST that reached its node never goes twice");
}

/* A timeout is retried only off a node that left routing. */
static void
test_retry_after_timeout(void)
{
	for (int m = 0; m < 16; m++) {
		bool idem = m & 1, body = m & 2, resp = m & 4, routed = m & 8;

		for (int tries = 1; tries <= 2; tries++) {
			bool want =
			    idem && !body && !resp && tries == 1 && !routed;

			is_int(retry_after_timeout(idem, body, resp, tries,
						   routed),
			       want,
			       "timeout: idempotent=%d body_sent=%d "
			       "response_started=%d tries=%d routed=%d: %s",
			       idem, body, resp, tries, routed,
			       want ? "retry" : "504");
		}
	}
}

int
main(void)
{
	test_key_load();
	test_cookie();
	test_rendezvous();
	test_least_connections();
	test_retry();
	test_retry_after_timeout();
	sticky_key_wipe(&key32);
	unlink(key32_path);
	return tap_done();
}
