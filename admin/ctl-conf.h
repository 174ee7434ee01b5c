/*
 * ctl-conf.h: what vigilctl takes from vigil's configuration (the admin
 * address and token file, nothing else) and the admin token itself.
 */
#ifndef VIGIL_CTL_CONF_H
#define VIGIL_CTL_CONF_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_DEFAULT_ADDRESS "127.0.0.1:9090" /* vigil's admin.address */
#define CTL_TOKEN_MAX	    1024

struct ctl_conf {
	bool found;	  /* the file exists (a missing default is no error) */
	bool admin;	  /* it has an admin group: vigil runs the listener */
	char *address;	  /* admin.address, or NULL when not set */
	char *token_file; /* admin.token_file, or NULL when not set */
};

/*
 * Reads admin.address and admin.token_file from the libconfig file at path,
 * with @include relative to its folder as vigil reads it; other settings
 * are not looked at. A file that does not exist is fine when missing_ok
 * (out->found is then false). Returns 0, or -1 with "FILE:LINE: problem"
 * or "FILE: problem" in err. Free out with ctl_conf_free.
 */
int ctl_conf_read(const char *path, bool missing_ok, struct ctl_conf *out,
		  char *err, size_t errlen);

void ctl_conf_free(struct ctl_conf *c);

/*
 * The token: the first line of the file at path, without its line end.
 * tok must hold CTL_TOKEN_MAX bytes. Returns 0, or -1 with why in err (which
 * never holds the token). The caller wipes tok with explicit_bzero.
 */
int ctl_token_read(const char *path, char *tok, char *err, size_t errlen);

#endif
