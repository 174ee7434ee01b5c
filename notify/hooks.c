/*
 * hooks.c: the restart hook's process: argv from the configuration, no
 * shell, the VIGIL_* environment, output to the log (notify/child.c does
 * the process work).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "notify/child.h"
#include "notify/hooks.h"

struct hook_run {
	struct child *child;
	hook_done_fn done;
	void *ctx;
	char node[64];
};

char **
hook_env(const struct conf *c, const struct hook_node *n)
{
	enum { N_ENV = 9 };
	char age[32] = "";
	const char *vals[N_ENV - 1][2] = {
		{ "VIGIL_EVENT", "restart" },
		{ "VIGIL_CLUSTER", c->cluster_name },
		{ "VIGIL_NODE", n->node },
		{ "VIGIL_NODE_ADDRESS", n->address },
		{ "VIGIL_REASON", n->reason ? n->reason : "" },
		{ "VIGIL_ATTEMPT", NULL },
		{ "VIGIL_HEARTBEAT_AGE_MS", age },
		{ "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
			  "/sbin:/bin" },
	};
	char attempt[16];
	size_t size = N_ENV * sizeof(char *);
	char **env, *p;

	snprintf(attempt, sizeof(attempt), "%d", n->attempt);
	vals[5][1] = attempt;
	if (n->hb_age_ms >= 0)
		snprintf(age, sizeof(age), "%.0f", n->hb_age_ms);
	for (int i = 0; i < N_ENV - 1; i++)
		size += strlen(vals[i][0]) + strlen(vals[i][1]) + 2;
	if ((env = malloc(size)) == NULL)
		return NULL;
	p = (char *)(env + N_ENV);
	for (int i = 0; i < N_ENV - 1; i++) {
		env[i] = p;
		p += sprintf(p, "%s=%s", vals[i][0], vals[i][1]) + 1;
	}
	env[N_ENV - 1] = NULL;
	return env;
}

/* "argv: '/x' '--y'; environment: A=b C=d", for the dry run's log line. */
static void
describe(const struct conf *c, char **env, struct buf *b)
{
	buf_puts(b, "argv:");
	for (size_t i = 0; c->restart_command[i] != NULL; i++) {
		buf_puts(b, " ");
		buf_json_str(b, c->restart_command[i]);
	}
	buf_puts(b, "; environment:");
	for (size_t i = 0; env[i] != NULL; i++) {
		buf_puts(b, " ");
		buf_json_str(b, env[i]);
	}
	buf_add(b, "", 1);
}

static void
on_child(void *ctx, const struct child_result *r)
{
	struct hook_run *run = ctx;

	run->done(run->ctx, run->node,
		  r->outcome == CHILD_EXITED && r->status == 0, r->detail);
	free(run);
}

int
hook_run(struct ev_loop *loop, const struct conf *c, const struct hook_node *n,
	 hook_done_fn done, void *ctx, struct hook_run **out, char *err,
	 size_t errlen)
{
	char **env = hook_env(c, n);
	struct hook_run *run = NULL;
	char tag[96];
	int rc = -1;

	*out = NULL;
	if (env == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (c->restart_dry_run) {
		struct buf b = { 0 };

		describe(c, env, &b);
		log_info("hook %s: dry run, would run %s", n->node,
			 b.oom ? "(out of memory)" : b.p);
		buf_free(&b);
		free(env);
		return 1;
	}
	snprintf(tag, sizeof(tag), "hook %s", n->node);
	struct child_spec spec = {
		.argv = c->restart_command,
		.envp = env,
		.timeout_ms = c->restart_timeout_ms,
		.tag = tag,
	};

	if ((run = calloc(1, sizeof(*run))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	run->done = done;
	run->ctx = ctx;
	snprintf(run->node, sizeof(run->node), "%s", n->node);
	run->child = child_start(loop, &spec, on_child, run, err, errlen);
	if (run->child == NULL) {
		free(run);
		goto out;
	}
	log_info("hook %s: started %s (attempt %d)", n->node,
		 c->restart_command[0], n->attempt);
	*out = run;
	rc = 0;
out:
	free(env);
	return rc;
}

void
hook_abandon(struct hook_run *run)
{
	if (run == NULL)
		return;
	child_abandon(run->child);
	free(run);
}
