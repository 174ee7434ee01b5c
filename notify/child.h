/*
 * child.h: runs a program for a restart hook or an exec channel (SPEC.md
 * "Restart hooks"): argv without a shell, the environment given and
 * nothing else, its own session and process group, stdin from a buffer or
 * /dev/null, stdout and stderr logged line by line, no descriptor of
 * vigil's inherited, and a timeout after which the group gets SIGTERM and,
 * 5 s later, SIGKILL. Runs on the default loop (ev_child needs it).
 */
#ifndef VIGIL_CHILD_H
#define VIGIL_CHILD_H

#include <stddef.h>

#include <ev.h>

#include "policies/node.h" /* struct name_desc */

struct child_spec {
	char *const *argv; /* argv[0]: an absolute path */
	char *const *envp; /* the child's whole environment */
	const char *input; /* written to its stdin; NULL: /dev/null */
	size_t input_len;
	int timeout_ms;	 /* then SIGTERM, 5 s later SIGKILL, to the group;
			  * 0 or less: none */
	const char *tag; /* log prefix for its output, e.g. "hook vro-1" */
};

enum child_outcome {
	CHILD_EXITED = 0, /* status: its exit status */
	CHILD_SIGNALED,	  /* status: the signal that ended it */
	CHILD_TIMED_OUT,  /* status: the signal that ended it, or its exit
			   * status if it exited after SIGTERM */
	CHILD__COUNT
};

extern const struct name_desc child_outcome_names[CHILD__COUNT];

#define CHILD_TAIL 512

struct child_result {
	enum child_outcome outcome;
	int status;
	int pid;
	double ms;	       /* how long it ran */
	char tail[CHILD_TAIL]; /* its last lines of output, '\n'-separated */
	char detail[CHILD_TAIL + 128]; /* "exit status 1; last output: …",
					* "timed out after 1000 ms; killed by
					* SIGTERM"… for events and logs, on
					* one line */
};

typedef void (*child_done_fn)(void *ctx, const struct child_result *r);

struct child;

/*
 * Starts spec's program. Returns the child, or NULL with err filled when it
 * could not be started (the program missing, out of descriptors…): done
 * is then never called. Otherwise done runs exactly once, from the loop,
 * after the process ended; the child is freed after done returns. spec
 * and its strings are copied as needed: the caller may free them.
 * Call it from the default loop's thread, with SIGPIPE ignored (a child
 * that does not read all its input makes the write fail with EPIPE).
 */
struct child *child_start(struct ev_loop *loop, const struct child_spec *spec,
			  child_done_fn done, void *ctx, char *err,
			  size_t errlen);

/* Its process id, which is also its process group and session id. */
int child_pid(const struct child *c);

/* For shutdown: SIGKILL to its group, stop watching, free; done is not
 * called. Only before done has run: c is gone after it. */
void child_abandon(struct child *c);

#endif
