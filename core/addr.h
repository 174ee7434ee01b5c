/*
 * addr.h: "host:port" and "[v6]:port" as written in the configuration.
 */
#ifndef VIGIL_ADDR_H
#define VIGIL_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/conf-types.h"

/*
 * Parses text into out (which owns copies of text, host and port; free with
 * addr_free). A host that is not an IP literal must be a valid DNS name, and
 * is refused when literal_only. Returns 0, or -1 with a reason in err.
 */
int addr_parse(const char *text, bool literal_only, struct conf_addr *out,
	       char *err, size_t errlen);

void addr_free(struct conf_addr *a);

/* True when both name the same host and port (literal addresses compared
 * by value, so "[::1]:80" and "[0:0::1]:80" are the same). */
bool addr_same(const struct conf_addr *a, const struct conf_addr *b);

#endif
