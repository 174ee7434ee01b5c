/*
 * fuzz-cookie.c: libFuzzer target for sticky_cookie_verify(), the one
 * parser of client bytes in policies/sticky.c. Besides crashes, it checks
 * that whatever verifies is exactly the cookie vigil would have made.
 * FUZZ_SOURCES: policies/sticky.c
 * FUZZ_LIBS: -lcrypto
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policies/sticky.h"
#include "tests/fuzz/fuzz.h"

/* Fixed so that the seeds in corpus/cookie/ hold valid cookies. */
static const struct sticky_key fuzz_key = {
	.k = "vigil fuzz key, not a secret!!!!",
	.len = 32,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char node[STICKY_COOKIE_MAX];
	char again[STICKY_COOKIE_MAX];

	if (!sticky_cookie_verify(&fuzz_key, "vro", (const char *)data, size,
				  node))
		return 0;
	/* Accepted: then it must be the one canonical cookie of its node. */
	if (sticky_cookie_make(&fuzz_key, "vro", node, again) != size ||
	    memcmp(again, data, size) != 0)
		abort();
	return 0;
}
