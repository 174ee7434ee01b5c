/*
 * child.c: runs a restart hook or an exec channel with posix_spawn and
 * watches it from the default loop: stdin fed from a buffer, stdout and
 * stderr logged line by line, a timeout, and one result when it is over.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "core/log.h"
#include "notify/child.h"

#define container_of(ptr, type, member)                                        \
	((type *)((char *)(ptr)-offsetof(type, member)))

/* A logged line is at most this long once escaped, so that it fits log.c's
 * 2048-byte line with the time and the tag; longer lines come in pieces. */
#define CHILD_LINE_MAX 1024
/* A hook that writes more lines than this in one run is still drained
 * (it must not block on a full pipe) but no longer logged. */
#define CHILD_MAX_LOGGED 1000
/* Reads per wake-up, so that a child writing as fast as we read cannot
 * hold the loop: the watcher is level-triggered and fires again. */
#define CHILD_READS_PER_WAKE 16
/* After the exit, what a grandchild holding the pipe may still make us
 * read before we stop draining. */
#define CHILD_DRAIN_MAX	 (1024 * 1024)
#define CHILD_KILL_AFTER 5.0

const struct name_desc child_outcome_names[CHILD__COUNT] = {
	[CHILD_EXITED] = { "exited", "exited" },
	[CHILD_SIGNALED] = { "signaled", "killed by a signal" },
	[CHILD_TIMED_OUT] = { "timed_out", "timed out and was stopped" },
};

struct child {
	struct ev_loop *loop;
	ev_child w_child;
	ev_io w_out;	  /* our end of the child's stdout and stderr */
	ev_io w_in;	  /* our end of its stdin, while input is left */
	ev_timer w_timer; /* timeout, then the SIGKILL delay */
	int out_fd;	  /* -1 once closed */
	int in_fd;	  /* -1 once closed or never opened */
	pid_t pid;	  /* also its process group and session */
	int timeout_ms;
	int sent; /* 0, or SIGTERM then SIGKILL after the timeout */
	struct timespec started;
	char *tag;
	char *input;
	size_t input_len, input_off;
	child_done_fn done;
	void *ctx;

	/* The current line, escaped; a UTF-8 sequence being checked; a
	 * carriage return held back in case a newline follows. */
	char line[CHILD_LINE_MAX + 1];
	size_t line_len;
	unsigned char seq[4];
	int seq_len, seq_need;
	unsigned char seq_lo, seq_hi; /* range of the next byte */
	bool cr;
	unsigned long lines;

	/* The last bytes of escaped output, lines ended by '\n'. */
	char ring[CHILD_TAIL];
	size_t ring_total;

	struct child_result result;
};

/* --- output: escaping, lines, the tail ---------------------------------- */

static void
tail_add(struct child *c, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		c->ring[c->ring_total++ % CHILD_TAIL] = s[i];
}

/* A complete line or a piece of a long one: logged while under the limit,
 * and always kept for the tail. */
static void
line_end(struct child *c)
{
	c->line[c->line_len] = '\0';
	c->lines++;
	if (c->lines <= CHILD_MAX_LOGGED)
		log_info("%s: %s", c->tag, c->line);
	else if (c->lines == CHILD_MAX_LOGGED + 1)
		log_info("%s: further output not logged", c->tag);
	tail_add(c, c->line, c->line_len);
	tail_add(c, "\n", 1);
	c->line_len = 0;
}

/* Appends s whole: a unit (a character or its escape) is never split
 * between two pieces. */
static void
emit(struct child *c, const char *s, size_t n)
{
	if (c->line_len + n > CHILD_LINE_MAX)
		line_end(c);
	memcpy(c->line + c->line_len, s, n);
	c->line_len += n;
}

static void
emit_escaped(struct child *c, unsigned char b)
{
	char e[5];

	snprintf(e, sizeof(e), "\\x%02x", b);
	emit(c, e, 4);
}

/* Bytes of a UTF-8 sequence that turned out invalid are escaped one by
 * one, as is a lone carriage return. */
static void
flush_pending(struct child *c)
{
	for (int i = 0; i < c->seq_len; i++)
		emit_escaped(c, c->seq[i]);
	c->seq_len = 0;
	c->seq_need = 0;
	if (c->cr) {
		c->cr = false;
		emit_escaped(c, '\r');
	}
}

/*
 * Escapes what a terminal reading the log could take for a command: C0
 * controls and DEL, C1 controls (U+0080..U+009F, and their bare bytes in
 * case the reader is not UTF-8) and any byte that is not part of valid
 * UTF-8. Tabs become spaces; "\r\n" ends a line like "\n".
 */
static void
feed_byte(struct child *c, unsigned char b)
{
	if (c->seq_need > 0) {
		if (b >= c->seq_lo && b <= c->seq_hi) {
			c->seq[c->seq_len++] = b;
			c->seq_lo = 0x80;
			c->seq_hi = 0xbf;
			if (--c->seq_need == 0) {
				if (c->seq_len == 2 && c->seq[0] == 0xc2 &&
				    c->seq[1] <= 0x9f)
					flush_pending(c);
				else
					emit(c, (char *)c->seq,
					     (size_t)c->seq_len);
				c->seq_len = 0;
			}
			return;
		}
		flush_pending(c);
	}
	if (c->cr) {
		c->cr = false;
		if (b == '\n') {
			line_end(c);
			return;
		}
		emit_escaped(c, '\r');
	}

	if (b == '\n') {
		line_end(c);
	} else if (b == '\r') {
		c->cr = true;
	} else if (b == '\t') {
		emit(c, " ", 1);
	} else if (b < 0x20 || b == 0x7f) {
		emit_escaped(c, b);
	} else if (b < 0x80) {
		emit(c, (char *)&b, 1);
	} else {
		/* The lead byte gives the length and the range of the next
		 * byte that rules out overlong forms, surrogates and code
		 * points above U+10FFFF. */
		c->seq_lo = 0x80;
		c->seq_hi = 0xbf;
		if (b >= 0xc2 && b <= 0xdf) {
			c->seq_need = 1;
		} else if (b >= 0xe0 && b <= 0xef) {
			c->seq_need = 2;
			if (b == 0xe0)
				c->seq_lo = 0xa0;
			else if (b == 0xed)
				c->seq_hi = 0x9f;
		} else if (b >= 0xf0 && b <= 0xf4) {
			c->seq_need = 3;
			if (b == 0xf0)
				c->seq_lo = 0x90;
			else if (b == 0xf4)
				c->seq_hi = 0x8f;
		} else {
			emit_escaped(c, b);
			return;
		}
		c->seq[0] = b;
		c->seq_len = 1;
	}
}

/* Output that ends without a newline is still a line. */
static void
output_flush(struct child *c)
{
	flush_pending(c);
	if (c->line_len > 0)
		line_end(c);
}

static void
out_close(struct child *c)
{
	if (c->out_fd == -1)
		return;
	ev_io_stop(c->loop, &c->w_out);
	close(c->out_fd);
	c->out_fd = -1;
}

/*
 * Reads up to max_reads times, or until the pipe is empty or at its end.
 * Returns the bytes read. At the end, or on an error, the pipe is closed.
 */
static size_t
out_read(struct child *c, int max_reads)
{
	char buf[16384];
	size_t total = 0;

	while (c->out_fd != -1 && max_reads-- > 0) {
		ssize_t n = read(c->out_fd, buf, sizeof(buf));

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == -1) {
			log_warn("%s: reading its output: %s", c->tag,
				 strerror(errno));
			out_close(c);
			break;
		}
		if (n == 0) {
			out_close(c);
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			feed_byte(c, (unsigned char)buf[i]);
		total += (size_t)n;
	}
	return total;
}

static void
out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	out_read(container_of(w, struct child, w_out), CHILD_READS_PER_WAKE);
}

/* --- input --------------------------------------------------------------- */

static void
in_close(struct child *c)
{
	if (c->in_fd == -1)
		return;
	ev_io_stop(c->loop, &c->w_in);
	close(c->in_fd);
	c->in_fd = -1;
}

/* Writes what the pipe takes. A child that exits or closes its stdin
 * without reading it all is not an error: EPIPE just ends the input
 * (vigil ignores SIGPIPE, so the write returns it). */
static void
in_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct child *c = container_of(w, struct child, w_in);

	while (c->input_off < c->input_len) {
		ssize_t n = write(c->in_fd, c->input + c->input_off,
				  c->input_len - c->input_off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			if (errno != EPIPE)
				log_warn("%s: writing its input: %s", c->tag,
					 strerror(errno));
			break;
		}
		c->input_off += (size_t)n;
	}
	in_close(c);
}

/* --- the end ------------------------------------------------------------- */

static void
child_free(struct child *c)
{
	ev_child_stop(c->loop, &c->w_child);
	ev_timer_stop(c->loop, &c->w_timer);
	out_close(c);
	in_close(c);
	free(c->tag);
	free(c->input);
	free(c);
}

/* The last lines of output as whole lines, '\n'-separated, without the
 * final newline; a line cut at the front loses its start. */
static void
tail_fill(const struct child *c, char *out)
{
	size_t n =
	    c->ring_total < CHILD_TAIL - 1 ? c->ring_total : CHILD_TAIL - 1;
	size_t from = c->ring_total - n, skip = 0;

	for (size_t i = 0; i < n; i++)
		out[i] = c->ring[(from + i) % CHILD_TAIL];
	out[n] = '\0';
	if (from > 0) {
		char *nl = memchr(out, '\n', n);

		/* Without a newline the whole window is one line's end: keep
		 * it from the next character on. */
		if (nl != NULL && nl + 1 < out + n)
			skip = (size_t)(nl + 1 - out);
		while (skip < n && ((unsigned char)out[skip] & 0xc0) == 0x80)
			skip++;
		memmove(out, out + skip, n - skip + 1);
		n -= skip;
	}
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
}

/* "; last output: a | b", the end of it if it does not fit in room. */
static void
detail_tail(char *d, size_t size, const char *tail)
{
	char joined[CHILD_TAIL * 3];
	size_t off = strlen(d), j = 0;

	if (tail[0] == '\0')
		return;
	for (const char *p = tail; *p != '\0'; p++) {
		if (*p == '\n') {
			memcpy(joined + j, " | ", 3);
			j += 3;
		} else {
			joined[j++] = *p;
		}
	}
	joined[j] = '\0';

	const char *prefix = "; last output: ";
	size_t room = size - off - 1 - strlen(prefix);
	const char *s = joined;

	if (j > room) {
		prefix = "; last output: ...";
		room -= 3;
		s = joined + (j - room);
		while (((unsigned char)*s & 0xc0) == 0x80)
			s++;
	}
	snprintf(d + off, size - off, "%s%s", prefix, s);
}

static void
result_fill(struct child *c, int status)
{
	struct child_result *r = &c->result;
	struct timespec now;
	int sig = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	r->pid = (int)c->pid;
	r->ms = (double)(now.tv_sec - c->started.tv_sec) * 1e3 +
		(double)(now.tv_nsec - c->started.tv_nsec) / 1e6;
	tail_fill(c, r->tail);

	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		r->status = sig;
	} else {
		r->status = WEXITSTATUS(status);
	}

	if (c->sent != 0) {
		const char *abbrev = sig ? sigabbrev_np(sig) : NULL;

		r->outcome = CHILD_TIMED_OUT;
		if (sig && abbrev)
			snprintf(r->detail, sizeof(r->detail),
				 "timed out after %d ms; killed by SIG%s",
				 c->timeout_ms, abbrev);
		else if (sig)
			snprintf(r->detail, sizeof(r->detail),
				 "timed out after %d ms; killed by signal %d",
				 c->timeout_ms, sig);
		else
			snprintf(r->detail, sizeof(r->detail),
				 "timed out after %d ms; exit status %d after "
				 "SIG%s",
				 c->timeout_ms, r->status,
				 sigabbrev_np(c->sent));
	} else if (sig) {
		const char *descr = sigdescr_np(sig);

		r->outcome = CHILD_SIGNALED;
		snprintf(r->detail, sizeof(r->detail),
			 "killed by signal %d (%s)%s", sig,
			 descr ? descr : "unknown signal",
			 WCOREDUMP(status) ? ", core dumped" : "");
	} else {
		r->outcome = CHILD_EXITED;
		snprintf(r->detail, sizeof(r->detail), "exit status %d",
			 r->status);
	}
	if (r->outcome != CHILD_EXITED || r->status != 0)
		detail_tail(r->detail, sizeof(r->detail), r->tail);
}

/*
 * The child has exited. Its own output is all in the pipe by now (it
 * cannot exit while blocked on a full pipe), so one drain without waiting
 * gets it; a grandchild that keeps the pipe open must not hold the result
 * back, so we do not wait for the end of the pipe.
 */
static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct child *c = container_of(w, struct child, w_child);
	size_t drained = 0;

	ev_child_stop(loop, w);
	/* A timed-out hook's leader died of SIGTERM: what it started and
	 * that still ignores SIGTERM goes now, since no timer will outlive
	 * this child to send SIGKILL later. */
	if (c->sent == SIGTERM && kill(-c->pid, 0) == 0) {
		log_warn("%s: its process group outlived SIGTERM, sending "
			 "SIGKILL",
			 c->tag);
		kill(-c->pid, SIGKILL);
	}
	while (c->out_fd != -1 && drained < CHILD_DRAIN_MAX) {
		size_t n = out_read(c, CHILD_READS_PER_WAKE);

		if (n == 0)
			break;
		drained += n;
	}
	output_flush(c);
	result_fill(c, w->rstatus);
	/* Descriptors closed before done, which may start the next one. */
	ev_timer_stop(loop, &c->w_timer);
	out_close(c);
	in_close(c);
	c->done(c->ctx, &c->result);
	child_free(c);
}

/* First the timeout: SIGTERM to the group; CHILD_KILL_AFTER later, if the
 * child is still there, SIGKILL. The group, so that what a script started
 * goes too; ESRCH (the group already gone) is fine. */
static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child *c = container_of(w, struct child, w_timer);

	if (c->sent == 0) {
		log_warn("%s: timed out after %d ms, sending SIGTERM", c->tag,
			 c->timeout_ms);
		c->sent = SIGTERM;
		kill(-c->pid, SIGTERM);
		ev_timer_set(w, CHILD_KILL_AFTER, 0.);
		ev_timer_start(loop, w);
	} else {
		log_warn("%s: still running %.0f s after SIGTERM, sending "
			 "SIGKILL",
			 c->tag, CHILD_KILL_AFTER);
		c->sent = SIGKILL;
		kill(-c->pid, SIGKILL);
	}
}

/* --- start and abandon --------------------------------------------------- */

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

/*
 * posix_spawn, not fork: vigil has worker threads, and glibc's
 * posix_spawn is a vfork-like clone that reports exec failures (the
 * errno comes back). The child gets its own session (so its process group
 * can be signalled whole and it has no controlling terminal), default
 * dispositions for every signal (vigil ignores SIGPIPE and that would be
 * inherited across exec; glibc alone keeps its two internal signals, 32
 * and 33, ignored), an empty signal mask (libev may block SIGCHLD),
 * and no descriptor but 0, 1 and 2 even if one without O_CLOEXEC slipped
 * through.
 */
struct child *
child_start(struct ev_loop *loop, const struct child_spec *spec,
	    child_done_fn done, void *ctx, char *err, size_t errlen)
{
	static char *const no_env[] = { NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_ok = false, attr_ok = false;
	int out[2] = { -1, -1 }, in[2] = { -1, -1 };
	sigset_t all, none;
	struct child *c = NULL;
	pid_t pid;
	int e = 0; /* an errno for "argv[0]: strerror(e)" */

	if (!ev_is_default_loop(loop)) {
		snprintf(err, errlen, "child processes need the default loop");
		goto fail;
	}
	if (spec->argv == NULL || spec->argv[0] == NULL ||
	    spec->argv[0][0] != '/') {
		snprintf(err, errlen, "%s: not an absolute path",
			 spec->argv && spec->argv[0] ? spec->argv[0] : "");
		goto fail;
	}

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		e = errno;
		goto fail;
	}
	c->out_fd = c->in_fd = -1;
	c->tag = strdup(spec->tag ? spec->tag : spec->argv[0]);
	if (c->tag == NULL) {
		e = errno;
		goto fail;
	}
	if (spec->input != NULL && spec->input_len > 0) {
		c->input = malloc(spec->input_len);
		if (c->input == NULL) {
			e = errno;
			goto fail;
		}
		memcpy(c->input, spec->input, spec->input_len);
		c->input_len = spec->input_len;
	}

	if (pipe2(out, O_CLOEXEC) == -1 || set_nonblock(out[0]) == -1 ||
	    (spec->input != NULL &&
	     (pipe2(in, O_CLOEXEC) == -1 || set_nonblock(in[1]) == -1))) {
		e = errno;
		goto fail;
	}

	/* These return an errno value rather than setting errno. */
	if ((e = posix_spawn_file_actions_init(&fa)) != 0)
		goto fail;
	fa_ok = true;
	if (in[0] != -1)
		e = posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	else
		e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
						     O_RDONLY, 0);
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	if (e == 0)
		e = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (e != 0)
		goto fail;

	if ((e = posix_spawnattr_init(&attr)) != 0)
		goto fail;
	attr_ok = true;
	sigfillset(&all);
	sigemptyset(&none);
	e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID |
						POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETSIGMASK);
	if (e == 0)
		e = posix_spawnattr_setsigdefault(&attr, &all);
	if (e == 0)
		e = posix_spawnattr_setsigmask(&attr, &none);
	if (e != 0)
		goto fail;

	clock_gettime(CLOCK_MONOTONIC, &c->started);
	e = posix_spawn(&pid, spec->argv[0], &fa, &attr, spec->argv,
			spec->envp ? spec->envp : no_env);
	if (e != 0)
		goto fail;

	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out[1]);
	if (in[0] != -1)
		close(in[0]);

	c->loop = loop;
	c->pid = pid;
	c->done = done;
	c->ctx = ctx;
	c->timeout_ms = spec->timeout_ms;
	c->out_fd = out[0];
	c->in_fd = in[1];
	ev_child_init(&c->w_child, child_cb, pid, 0);
	ev_child_start(loop, &c->w_child);
	ev_io_init(&c->w_out, out_cb, c->out_fd, EV_READ);
	ev_io_start(loop, &c->w_out);
	ev_io_init(&c->w_in, in_cb, c->in_fd, EV_WRITE);
	if (c->input_len > 0)
		ev_io_start(loop, &c->w_in);
	else
		in_close(c); /* empty input: the child reads its end at once */
	ev_timer_init(&c->w_timer, timer_cb, spec->timeout_ms / 1e3, 0.);
	if (spec->timeout_ms > 0)
		ev_timer_start(loop, &c->w_timer);
	return c;

fail:
	if (e != 0)
		snprintf(err, errlen, "%s: %s", spec->argv[0], strerror(e));
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	for (int i = 0; i < 2; i++) {
		if (out[i] != -1)
			close(out[i]);
		if (in[i] != -1)
			close(in[i]);
	}
	if (c != NULL) {
		free(c->tag);
		free(c->input);
		free(c);
	}
	return NULL;
}

int
child_pid(const struct child *c)
{
	return (int)c->pid;
}

void
child_abandon(struct child *c)
{
	if (c == NULL)
		return;
	/* The zombie, if any, is reaped by libev's SIGCHLD handler, which
	 * waits for every child whether watched or not. */
	kill(-c->pid, SIGKILL);
	child_free(c);
}
