/*
 * hooks.h: runs the restart hook for one node (SPEC.md "Restart hooks"):
 * hooks.restart.command with the VIGIL_* environment and nothing else of
 * vigil's, or, in a dry run, only logs exactly what it would run. When to
 * run it is policies/pacing.c's business.
 */
#ifndef VIGIL_HOOKS_H
#define VIGIL_HOOKS_H

#include <stdbool.h>

#include <ev.h>

#include "core/conf-types.h"

/* What the hook is told about the node. */
struct hook_node {
	const char *node;
	const char *address; /* as configured, "host:port" */
	const char *reason;  /* why vigil thinks it is shut down */
	int attempt;	     /* 1-based */
	double hb_age_ms;    /* < 0: unknown */
};

/* The hook of node ended: ok when it exited 0; detail says how it ended
 * ("exit status 1; last output: …"). node is valid during the call. */
typedef void (*hook_done_fn)(void *ctx, const char *node, bool ok,
			     const char *detail);

struct hook_run;

/* The environment the hook gets, NULL-terminated, in one allocation
 * (free() it). NULL out of memory. */
char **hook_env(const struct conf *c, const struct hook_node *n);

/*
 * Starts c's restart command for n. Returns 1 for a dry run (logged,
 * nothing runs, done never called), 0 when it started (done is called
 * once it ended, *run lets a stop abandon it), -1 with err when it could
 * not start.
 */
int hook_run(struct ev_loop *loop, const struct conf *c,
	     const struct hook_node *n, hook_done_fn done, void *ctx,
	     struct hook_run **run, char *err, size_t errlen);

/* Kills the hook's process group; done is not called. */
void hook_abandon(struct hook_run *run);

#endif
