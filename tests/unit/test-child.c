/*
 * test-child.c: notify/child.c against real processes on the default
 * loop: exit statuses, signals, timeouts (SIGTERM, then SIGKILL), output
 * lines and their escaping, stdin, the environment, the session, leaked
 * descriptors, a flood, a grandchild holding the pipe, several at once.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "core/log.h"
#include "notify/child.h"
#include "tests/unit/tap.h"

static struct ev_loop *loop;
static bool in_start; /* set around child_start: done must not run there */

static char *std_env[] = { "PATH=/usr/bin:/bin", NULL };

struct run {
	int calls;
	bool during_start;
	struct child_result r;
};

static void
on_done(void *ctx, const struct child_result *r)
{
	struct run *x = ctx;

	x->calls++;
	x->during_start = in_start;
	x->r = *r;
}

static void
guard_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	*(bool *)w->data = true;
}

/* Runs the loop until *count reaches want or limit seconds pass. */
static void
wait_for(const int *count, int want, double limit)
{
	bool expired = false;
	ev_timer guard;

	ev_timer_init(&guard, guard_cb, limit, 0.);
	guard.data = &expired;
	ev_timer_start(loop, &guard);
	while (*count < want && !expired)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
	if (expired)
		tap_diag("gave up waiting after %.0f s", limit);
}

struct opts {
	char *const *envp;
	const char *input;
	size_t input_len;
	int timeout_ms;
	const char *tag;
};

static struct child *
start(struct run *x, char *const *argv, const struct opts *o, char *err,
      size_t errlen)
{
	struct child_spec spec = {
		.argv = argv,
		.envp = o && o->envp ? o->envp : std_env,
		.input = o ? o->input : NULL,
		.input_len = o ? o->input_len : 0,
		.timeout_ms = o && o->timeout_ms ? o->timeout_ms : 10000,
		.tag = o && o->tag ? o->tag : "test",
	};
	struct child *c;

	memset(x, 0, sizeof(*x));
	in_start = true;
	c = child_start(loop, &spec, on_done, x, err, errlen);
	in_start = false;
	return c;
}

/* Starts argv and waits for its result; false if it did not start or did
 * not end in time. */
static bool
run(struct run *x, char *const *argv, const struct opts *o)
{
	char err[256];

	if (start(x, argv, o, err, sizeof(err)) == NULL) {
		tap_diag("child_start: %s", err);
		return false;
	}
	wait_for(&x->calls, 1, 20);
	return x->calls == 1;
}

/* --- stderr capture, for what child.c logs ------------------------------ */

static int saved_stderr = -1;
static FILE *capture_file;

static void
capture_start(void)
{
	capture_file = tmpfile();
	saved_stderr = dup(STDERR_FILENO);
	if (capture_file != NULL)
		dup2(fileno(capture_file), STDERR_FILENO);
}

/* Returns what was logged since capture_start; the caller frees it. */
static char *
capture_end(void)
{
	off_t n = 0;
	char *s;

	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	if (capture_file != NULL)
		n = lseek(fileno(capture_file), 0, SEEK_END);
	if (n < 0)
		n = 0;
	s = calloc(1, (size_t)n + 1);
	if (s != NULL && n > 0 &&
	    pread(fileno(capture_file), s, (size_t)n, 0) != n)
		s[0] = '\0';
	if (capture_file != NULL)
		fclose(capture_file);
	return s;
}

/* How many logged lines contain "TAG: " followed by text, and the length
 * of the text of the i-th such line (-1 if fewer). */
static int
count_tagged(const char *log, const char *tag, int nth, int *len)
{
	char pat[64];
	int n = 0;

	snprintf(pat, sizeof(pat), " %s: ", tag);
	*len = -1;
	for (const char *p = log; (p = strstr(p, pat)) != NULL;) {
		const char *text = p + strlen(pat), *nl = strchr(text, '\n');

		if (n == nth)
			*len = nl ? (int)(nl - text) : (int)strlen(text);
		n++;
		p = nl ? nl : text + strlen(text);
	}
	return n;
}

/* Whether a process of group pgrp is still alive (a zombie is not). */
static bool
group_alive(int pgrp)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	bool alive = false;

	if (d == NULL)
		return false;
	while (!alive && (de = readdir(d)) != NULL) {
		char path[300], buf[512], state = 0;
		long grp = 0;
		FILE *f;
		const char *p;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p, ") %c %*d %ld", &state, &grp) == 2)
			alive = grp == pgrp && state != 'Z';
		fclose(f);
	}
	closedir(d);
	return alive;
}

/* --- the tests ------------------------------------------------------------ */

static void
test_exit_status(void)
{
	char *ok0[] = { "/bin/sh", "-c", "exit 0", NULL };
	char *ok3[] = { "/bin/sh", "-c", "echo hi; exit 3", NULL };
	char *lines[] = { "/bin/sh", "-c", "echo one; echo two >&2; echo three",
			  NULL };
	char *closes[] = { "/bin/sh", "-c", "exec >&- 2>&-; sleep 0.2; exit 4",
			   NULL };
	struct run x;

	ok(run(&x, ok0, NULL), "exit 0: done called");
	ok(!x.during_start, "done not called from inside child_start");
	is_int(x.r.outcome, CHILD_EXITED, "exit 0: exited");
	is_int(x.r.status, 0, "exit 0: status");
	is_str(x.r.detail, "exit status 0", "exit 0: detail");
	is_str(child_outcome_names[x.r.outcome].name, "exited",
	       "exit 0: outcome name");
	ok(x.r.pid > 0 && x.r.ms >= 0 && x.r.ms < 5000, "pid and ms set");

	run(&x, ok3, NULL);
	is_int(x.r.outcome, CHILD_EXITED, "exit 3: exited");
	is_int(x.r.status, 3, "exit 3: status");
	is_str(x.r.tail, "hi", "exit 3: tail");
	is_str(x.r.detail, "exit status 3; last output: hi",
	       "exit 3: detail with the last output");

	run(&x, lines, NULL);
	is_str(x.r.tail, "one\ntwo\nthree", "stdout and stderr in the tail");

	run(&x, closes, NULL);
	is_int(x.r.status, 4, "closing stdout early: the exit still counts");
}

static void
test_tail(void)
{
	char *many[] = { "/bin/sh", "-c",
			 "i=0; while [ $i -lt 200 ]; do echo line$i; "
			 "i=$((i+1)); done; exit 1",
			 NULL };
	struct run x;
	size_t n;

	run(&x, many, NULL);
	n = strlen(x.r.tail);
	ok(n > 400 && n < CHILD_TAIL, "tail: up to CHILD_TAIL bytes (%zu)", n);
	ok(strncmp(x.r.tail, "line", 4) == 0, "tail: starts at a line");
	n = strlen(x.r.tail);
	ok(n >= 8 && strcmp(x.r.tail + n - 8, "\nline199") == 0,
	   "tail: ends with the last line");
	ok(strstr(x.r.detail, "exit status 1; last output: ...") ==
		   x.r.detail &&
	       strstr(x.r.detail, "line198 | line199") != NULL &&
	       strchr(x.r.detail, '\n') == NULL,
	   "detail: the end of the output on one line");
}

static void
test_escaping(void)
{
	char *ctl[] = { "/bin/sh", "-c",
			"printf 'a\\033[31mred\\tx\\200\\302\\233y\\303\\251\\n"
			"dos\\r\\nend\\r'",
			NULL };
	char *lng[] = { "/bin/sh", "-c", "printf '%3000s\\n' '' | tr ' ' a",
			NULL };
	struct opts o = { .tag = "long" };
	struct run x;
	char *log;
	int len;

	run(&x, ctl, NULL);
	is_str(x.r.tail,
	       "a\\x1b[31mred x\\x80\\xc2\\x9by\xc3\xa9\ndos\nend\\x0d",
	       "control characters, C1 and bad UTF-8 escaped; CRLF is a "
	       "newline");

	capture_start();
	run(&x, lng, &o);
	log = capture_end();
	is_int(count_tagged(log, "long", 0, &len), 3,
	       "a 3000-byte line is logged in 3 pieces");
	is_int(len, 1024, "first piece: 1024 bytes");
	count_tagged(log, "long", 2, &len);
	is_int(len, 952, "last piece: the rest");
	free(log);
}

static void
test_stdin(void)
{
	char *cat[] = { "/bin/cat", NULL };
	char *wc[] = { "/usr/bin/wc", "-c", NULL };
	char *ignores[] = { "/bin/sh", "-c", "exit 0", NULL };
	char *fd0[] = { "/bin/readlink", "/proc/self/fd/0", NULL };
	size_t big = 4 << 20;
	char *input = malloc(big);
	struct opts o = { .input = "hello\nworld\n", .input_len = 12 };
	struct run x;

	run(&x, cat, &o);
	is_str(x.r.tail, "hello\nworld", "stdin: the input delivered");

	memset(input, 'x', big);
	o.input = input;
	o.input_len = 1 << 20;
	run(&x, wc, &o);
	is_str(x.r.tail, "1048576", "stdin: 1 MiB delivered whole");

	o.input_len = big;
	ok(run(&x, ignores, &o),
	   "stdin: a child that does not read 4 MiB of input");
	is_int(x.r.outcome, CHILD_EXITED, "stdin ignored: EPIPE tolerated");
	free(input);

	o.input = "";
	o.input_len = 0;
	run(&x, cat, &o);
	is_int(x.r.status, 0, "stdin: empty input is an end of file");

	run(&x, fd0, NULL);
	is_str(x.r.tail, "/dev/null", "stdin: /dev/null without input");
}

static void
test_environment(void)
{
	char *env[] = { "/usr/bin/env", NULL };
	char *given[] = { "A=1", "B=two words", NULL };
	char *empty[] = { NULL };
	struct opts o = { .envp = given };
	struct run x;

	setenv("VIGIL_SECRET", "do not pass", 1);
	run(&x, env, &o);
	is_str(x.r.tail, "A=1\nB=two words", "environment: exactly as given");
	o.envp = empty;
	run(&x, env, &o);
	is_str(x.r.tail, "", "environment: empty");
	unsetenv("VIGIL_SECRET");
}

static void
test_session_and_signals(void)
{
	char *stat[] = { "/bin/cat", "/proc/self/stat", NULL };
	char *sigs[] = { "/bin/grep", "-E",
			 "^Sig(Blk|Ign):", "/proc/self/status", NULL };
	struct run x;
	long pgrp = 0, sid = 0;
	unsigned long long ign = ~0ULL;
	const char *p;
	sigset_t usr1;

	run(&x, stat, NULL);
	p = strrchr(x.r.tail, ')');
	ok(p && sscanf(p, ") %*c %*d %ld %ld", &pgrp, &sid) == 2,
	   "/proc/self/stat read");
	is_int(pgrp, x.r.pid, "its own process group");
	is_int(sid, x.r.pid, "its own session");
	ok(pgrp != getpgrp() && sid != getsid(0), "not ours");

	/* vigil ignores SIGPIPE; libev may block signals. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	signal(SIGUSR2, SIG_IGN);
	run(&x, sigs, NULL);
	p = strstr(x.r.tail, "SigIgn: ");
	if (p != NULL)
		ign = strtoull(p + 8, NULL, 16);
	/* glibc's posix_spawn leaves its two internal signals (32 and 33,
	 * bits 31 and 32) ignored: no program can ask for them. */
	ign &= ~(1ULL << 31 | 1ULL << 32);
	ok(strncmp(x.r.tail, "SigBlk: 0000000000000000\n", 25) == 0,
	   "no signal blocked in the child");
	if (!ok(p != NULL && ign == 0, "no signal ignored in the child"))
		tap_diag("got %s", x.r.tail);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	signal(SIGUSR2, SIG_DFL);
}

static void
test_descriptors(void)
{
	char *ls[] = { "/bin/ls", "/proc/self/fd", NULL };
	int extra[4], pfd[2];
	struct run x;
	bool only_std = true;

	/* Without O_CLOEXEC on purpose. */
	extra[0] = open("/dev/null", O_RDONLY);
	extra[1] = open("/dev/null", O_WRONLY);
	if (pipe(pfd) == -1)
		pfd[0] = pfd[1] = -1;
	extra[2] = pfd[0];
	extra[3] = pfd[1];

	run(&x, ls, NULL);
	/* 0, 1, 2 and the one ls opens to read the directory. */
	for (char *s = x.r.tail; *s != '\0';) {
		char *end;
		long fd = strtol(s, &end, 10);

		if (end == s || fd > 3 || (*end != '\n' && *end != '\0'))
			only_std = false;
		s = *end == '\n' ? end + 1 : end + strlen(end);
	}
	if (!ok(only_std && strncmp(x.r.tail, "0\n1\n2\n", 6) == 0,
		"no descriptor leaked"))
		tap_diag("got %s", x.r.tail);
	for (int i = 0; i < 4; i++)
		if (extra[i] != -1)
			close(extra[i]);
}

static void
tick_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(*(int *)w->data)++;
}

static void
test_flood(void)
{
	char *flood[] = { "/bin/sh", "-c", "yes | head -c 50000000", NULL };
	struct opts o = { .tag = "flood" };
	struct run x;
	ev_timer tick;
	int ticks = 0, len;
	char *log;

	ev_timer_init(&tick, tick_cb, 0.01, 0.01);
	tick.data = &ticks;
	ev_timer_start(loop, &tick);
	capture_start();
	ok(run(&x, flood, &o), "flood: 50 MB of output, done called");
	log = capture_end();
	ev_timer_stop(loop, &tick);

	is_int(x.r.status, 0, "flood: exit status 0");
	ok(strlen(x.r.tail) > 400 && strncmp(x.r.tail, "y\ny\n", 4) == 0,
	   "flood: the tail holds the last lines");
	is_int(count_tagged(log, "flood", 1000, &len), 1001,
	       "flood: 1000 lines logged, then one notice");
	ok(strstr(log, "flood: further output not logged") != NULL,
	   "flood: the notice");
	tap_diag("flood: %.0f ms, %d ticks of 10 ms", x.r.ms, ticks);
	ok(ticks > 0 && ticks * 10 * 4 >= x.r.ms - 100,
	   "flood: the loop kept running timers");
	free(log);
}

static void
test_signal_and_timeout(void)
{
	char *kill9[] = { "/bin/sh", "-c", "echo bye; kill -9 $$", NULL };
	char *sleeper[] = { "/bin/sleep", "10", NULL };
	char *polite[] = { "/bin/sh", "-c",
			   "trap 'echo bye; exit 7' TERM; "
			   "while :; do sleep 0.05; done",
			   NULL };
	char *stubborn[] = { "/bin/sh", "-c",
			     "trap '' TERM; echo ready; "
			     "while :; do sleep 1; done",
			     NULL };
	struct opts o = { .timeout_ms = 300 };
	struct run x;

	run(&x, kill9, NULL);
	is_int(x.r.outcome, CHILD_SIGNALED, "kill -9: signaled");
	is_int(x.r.status, 9, "kill -9: status is the signal");
	is_str(x.r.detail, "killed by signal 9 (Killed); last output: bye",
	       "kill -9: detail");

	run(&x, sleeper, &o);
	is_int(x.r.outcome, CHILD_TIMED_OUT, "timeout: timed out");
	is_str(child_outcome_names[x.r.outcome].name, "timed_out",
	       "timeout: outcome name");
	is_int(x.r.status, SIGTERM, "timeout: SIGTERM ended it");
	is_str(x.r.detail, "timed out after 300 ms; killed by SIGTERM",
	       "timeout: detail");
	ok(x.r.ms >= 290 && x.r.ms < 3000, "timeout: after 300 ms (%.0f)",
	   x.r.ms);

	run(&x, polite, &o);
	is_int(x.r.outcome, CHILD_TIMED_OUT, "SIGTERM trapped: timed out");
	is_int(x.r.status, 7, "SIGTERM trapped: its exit status");
	/* sh may say "Terminated" for its sleep first. */
	ok(strstr(x.r.detail, "timed out after 300 ms; exit status 7 after "
			      "SIGTERM; last output: ") == x.r.detail &&
	       strcmp(x.r.detail + strlen(x.r.detail) - 3, "bye") == 0,
	   "SIGTERM trapped, then exit: detail (%s)", x.r.detail);

	o.timeout_ms = 200;
	run(&x, stubborn, &o);
	is_int(x.r.outcome, CHILD_TIMED_OUT, "SIGTERM ignored: timed out");
	is_int(x.r.status, SIGKILL, "SIGTERM ignored: SIGKILL ended it");
	is_str(x.r.detail,
	       "timed out after 200 ms; killed by SIGKILL; last output: ready",
	       "SIGTERM ignored: detail");
	ok(x.r.ms >= 5150 && x.r.ms < 8000, "SIGKILL 5 s after SIGTERM (%.0f)",
	   x.r.ms);
}

/*
 * A program that cannot be executed. glibc's posix_spawn reports the
 * exec's errno; under valgrind its clone becomes a fork, the error stays
 * in the child, and the child just exits 127: then the test checks that
 * instead and says SKIP for the message.
 */
static void
check_not_executed(char *const *argv, const char *want, const char *what)
{
	char err[256] = "";
	struct run x;
	struct child *c = start(&x, argv, NULL, err, sizeof(err));

	if (c == NULL) {
		ok(1, "%s: NULL", what);
		is_str(err, want, "%s: err", what);
		return;
	}
	wait_for(&x.calls, 1, 10);
	ok(x.calls == 1 && x.r.outcome == CHILD_EXITED && x.r.status != 0,
	   "%s: exec failed in the child (%s)", what, x.r.detail);
	ok(1, "%s: err # SKIP posix_spawn did not report the exec error", what);
}

static void
test_not_started(void)
{
	char *missing[] = { "/nonexistent/prog", NULL };
	char *notexec[] = { "/etc/passwd", NULL };
	char *relative[] = { "bin/sh", "-c", "exit 0", NULL };
	char err[256] = "";
	struct run x;

	check_not_executed(missing,
			   "/nonexistent/prog: No such file or directory",
			   "missing program");
	check_not_executed(notexec, "/etc/passwd: Permission denied",
			   "not executable");
	ok(start(&x, relative, NULL, err, sizeof(err)) == NULL,
	   "relative path: NULL");
	is_str(err, "bin/sh: not an absolute path", "relative path: err");
	is_int(x.calls, 0, "done never called when not started");
}

static void
test_grandchild(void)
{
	char *bg[] = { "/bin/sh", "-c", "sleep 30 & echo done", NULL };
	struct run x;
	ev_tstamp t0 = ev_time();

	ok(run(&x, bg, NULL), "grandchild holding the pipe: done called");
	ok(ev_time() - t0 < 3, "grandchild: done soon after sh exited");
	is_str(x.r.tail, "done", "grandchild: output read");
	if (x.r.pid > 0)
		kill(-x.r.pid, SIGKILL);
	for (int i = 0; i < 50 && x.r.pid > 0 && group_alive(x.r.pid); i++)
		ev_sleep(0.02);
	ok(x.r.pid > 0 && !group_alive(x.r.pid), "grandchild: cleaned up");
}

static void
test_concurrent(void)
{
	char *a[] = { "/bin/sh", "-c", "sleep 0.3; echo a; exit 1", NULL };
	char *b[] = { "/bin/sh", "-c", "echo b; exit 2", NULL };
	char *c[] = { "/bin/cat", NULL };
	struct opts oc = { .input = "c\n", .input_len = 2 };
	struct run x[3];
	char err[256];
	int calls;

	ok(start(&x[0], a, NULL, err, sizeof(err)) != NULL &&
	       start(&x[1], b, NULL, err, sizeof(err)) != NULL &&
	       start(&x[2], c, &oc, err, sizeof(err)) != NULL,
	   "three at once: started");
	for (;;) {
		calls = x[0].calls + x[1].calls + x[2].calls;
		if (calls == 3)
			break;
		ev_tstamp t0 = ev_time();
		ev_run(loop, EVRUN_ONCE);
		if (ev_time() - t0 > 10)
			break;
	}
	ok(x[0].calls == 1 && x[1].calls == 1 && x[2].calls == 1,
	   "three at once: each done once");
	ok(x[0].r.status == 1 && strcmp(x[0].r.tail, "a") == 0,
	   "three at once: the first's result");
	ok(x[1].r.status == 2 && strcmp(x[1].r.tail, "b") == 0,
	   "three at once: the second's result");
	ok(x[2].r.status == 0 && strcmp(x[2].r.tail, "c") == 0,
	   "three at once: the third's result");
}

static void
test_abandon(void)
{
	char *sleeper[] = { "/bin/sh", "-c", "sleep 30; sleep 30", NULL };
	char *true_[] = { "/bin/true", NULL };
	char err[256];
	struct run x, y;
	struct child *c = start(&x, sleeper, NULL, err, sizeof(err));
	bool reaped = false;
	int pid;

	ok(c != NULL, "abandon: started");
	if (c == NULL)
		return;
	pid = child_pid(c);
	/* Let it start its sleep, which is in its group. */
	ev_sleep(0.2);
	ok(group_alive(pid), "abandon: its group is running");
	child_abandon(c);
	/* libev reaps it; run something else meanwhile so the loop runs. */
	run(&y, true_, NULL);
	for (int i = 0; i < 50 && !reaped; i++) {
		reaped = kill(pid, 0) == -1 && errno == ESRCH;
		if (!reaped) {
			ev_sleep(0.05);
			ev_run(loop, EVRUN_NOWAIT);
		}
	}
	ok(reaped, "abandon: killed and reaped");
	/* The grandchild (sleep) is orphaned and reaped by init, whenever
	 * init gets to it: until then kill(-pgid, 0) still finds it. */
	for (int i = 0; i < 100 && group_alive(pid); i++)
		ev_sleep(0.05);
	ok(!group_alive(pid), "abandon: its whole group killed");
	is_int(x.calls, 0, "abandon: done not called");
	is_int(y.calls, 1, "abandon: the other child still reported");
}

int
main(void)
{
	log_setup(LOG_LEVEL_INFO, LOG_TARGET_STDERR);
	/* As vigil does: a child that closes its stdin gives EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	loop = ev_default_loop(0);

	test_exit_status();
	test_tail();
	test_escaping();
	test_stdin();
	test_environment();
	test_session_and_signals();
	test_descriptors();
	test_not_started();
	test_grandchild();
	test_concurrent();
	test_abandon();
	test_flood();
	test_signal_and_timeout();
	return tap_done();
}
