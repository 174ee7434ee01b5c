/*
 * sim-ctl.c: vigil-sim's control socket, through which tests make the node
 * fail in the ways a real one does: a Unix stream socket (mode 0600) that
 * takes one command per line and answers one line, "ok ..." or
 * "error ...", as many times as the client likes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/sim/sim.h"

#define CTL_LINE_MAX 1024
#define CTL_ARGS_MAX 8
#define DELAY_MAX_MS 3600000L

struct ctl_cmd {
	const char *name;
	int min_args; /* words after the command's name */
	int max_args;
	const char *usage;
	void (*run)(struct sim *sim, char **argv, char *reply, size_t len);
};

static const char *
heartbeat_word(const struct sim *sim)
{
	bool on = sim->conninfo != NULL && sim->heartbeat_on &&
		  sim->state != SIM_SHUTDOWN;

	return on ? "on" : "off";
}

static int
on_off(const char *word, bool *out)
{
	if (strcmp(word, "on") == 0)
		*out = true;
	else if (strcmp(word, "off") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

static void
cmd_status(struct sim *sim, char **argv, char *reply, size_t len)
{
	(void)argv;
	snprintf(reply, len, "ok state=%s heartbeat=%s listening=%s drops=%lu",
		 sim_state_name(sim->state), heartbeat_word(sim),
		 sim->http.fd != -1 ? "yes" : "no", sim->drops);
}

static void
cmd_heartbeat(struct sim *sim, char **argv, char *reply, size_t len)
{
	if (strcmp(argv[0], "stop") == 0) {
		if (sim->heartbeat_on)
			sim_log(sim, "heartbeat stopped");
		sim->heartbeat_on = false;
	} else if (strcmp(argv[0], "resume") == 0) {
		if (!sim->heartbeat_on) {
			sim->heartbeat_on = true;
			sim_log(sim, "heartbeat resumed");
			sim_db_heartbeat_resumed(sim);
		}
	} else {
		snprintf(reply, len, "error usage: heartbeat stop|resume");
		return;
	}
	snprintf(reply, len, "ok heartbeat=%s", heartbeat_word(sim));
}

/* "standby" and "running" end a start-up period and any join in flight:
 * the test said what the node is. */
static int
force_state(struct sim *sim, enum sim_state state, char *reply, size_t len)
{
	if (sim->state == SIM_SHUTDOWN) {
		snprintf(reply, len, "error node is shut down");
		return -1;
	}
	ev_timer_stop(sim->loop, &sim->startup);
	sim->join_pending = false;
	sim->hold = state == SIM_STANDBY;
	sim_set_state(sim, state, "asked on the control socket");
	snprintf(reply, len, "ok state=%s", sim_state_name(sim->state));
	return 0;
}

static void
cmd_standby(struct sim *sim, char **argv, char *reply, size_t len)
{
	(void)argv;
	force_state(sim, SIM_STANDBY, reply, len);
}

static void
cmd_running(struct sim *sim, char **argv, char *reply, size_t len)
{
	(void)argv;
	force_state(sim, SIM_RUNNING, reply, len);
}

static void
cmd_shutdown(struct sim *sim, char **argv, char *reply, size_t len)
{
	(void)argv;
	sim_shutdown(sim);
	snprintf(reply, len, "ok state=%s", sim_state_name(sim->state));
}

static void
cmd_restart(struct sim *sim, char **argv, char *reply, size_t len)
{
	char err[256];

	(void)argv;
	if (sim_restart(sim, err, sizeof(err)) == -1)
		snprintf(reply, len, "error %s", err);
	else
		snprintf(reply, len, "ok state=%s", sim_state_name(sim->state));
}

static void
cmd_http500(struct sim *sim, char **argv, char *reply, size_t len)
{
	if (on_off(argv[0], &sim->http500) == -1) {
		snprintf(reply, len, "error usage: http500 on|off");
		return;
	}
	sim_log(sim, "healthstatus answers %s", sim->http500 ? "500" : "200");
	snprintf(reply, len, "ok http500=%s", argv[0]);
}

static void
cmd_hang(struct sim *sim, char **argv, char *reply, size_t len)
{
	if (on_off(argv[0], &sim->hang) == -1) {
		snprintf(reply, len, "error usage: hang on|off");
		return;
	}
	sim_log(sim, "hang %s", argv[0]);
	snprintf(reply, len, "ok hang=%s", argv[0]);
}

static void
cmd_delay(struct sim *sim, char **argv, char *reply, size_t len)
{
	char *end;
	long ms;

	errno = 0;
	ms = strtol(argv[0], &end, 10);
	if (errno != 0 || end == argv[0] || *end != '\0' || ms < 0 ||
	    ms > DELAY_MAX_MS) {
		snprintf(reply, len, "error usage: delay MS (0..%ld)",
			 DELAY_MAX_MS);
		return;
	}
	sim->delay_ms = ms;
	sim_log(sim, "answers delayed by %ld ms", ms);
	snprintf(reply, len, "ok delay=%ld", ms);
}

static void
cmd_cc_fail(struct sim *sim, char **argv, char *reply, size_t len)
{
	if (on_off(argv[0], &sim->cc_fail) == -1) {
		snprintf(reply, len, "error usage: cc-fail on|off");
		return;
	}
	sim_log(sim, "control center restart answers %s",
		sim->cc_fail ? "500" : "202");
	snprintf(reply, len, "ok cc-fail=%s", argv[0]);
}

static void
cmd_cc_status(struct sim *sim, char **argv, char *reply, size_t len)
{
	(void)argv;
	if (sim->cc.fd == -1) {
		snprintf(reply, len, "error no control center (--cc-port)");
		return;
	}
	snprintf(reply, len, "ok cc=%s restarts=%lu cc-fail=%s",
		 sim_cc_status(sim), sim->cc_restarts,
		 sim->cc_fail ? "on" : "off");
}

static const struct ctl_cmd cmds[] = {
	{ "status", 0, 0, "status", cmd_status },
	{ "heartbeat", 1, 1, "heartbeat stop|resume", cmd_heartbeat },
	{ "standby", 0, 0, "standby", cmd_standby },
	{ "running", 0, 0, "running", cmd_running },
	{ "shutdown", 0, 0, "shutdown", cmd_shutdown },
	{ "restart", 0, 0, "restart", cmd_restart },
	{ "http500", 1, 1, "http500 on|off", cmd_http500 },
	{ "hang", 1, 1, "hang on|off", cmd_hang },
	{ "delay", 1, 1, "delay MS", cmd_delay },
	{ "cc-fail", 1, 1, "cc-fail on|off", cmd_cc_fail },
	{ "cc-status", 0, 0, "cc-status", cmd_cc_status },
};

/* Runs one command line (NUL-terminated, no newline) into reply. */
static void
ctl_run(struct sim *sim, char *line, char *reply, size_t len)
{
	char *argv[CTL_ARGS_MAX + 1], *save = NULL, *w;
	int argc = 0;
	size_t i;

	for (w = strtok_r(line, " \t\r", &save); w != NULL;
	     w = strtok_r(NULL, " \t\r", &save)) {
		if (argc == CTL_ARGS_MAX) {
			snprintf(reply, len, "error too many words");
			return;
		}
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	if (argc == 0) {
		snprintf(reply, len, "error empty command");
		return;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].name) != 0)
			continue;
		if (argc - 1 < cmds[i].min_args ||
		    argc - 1 > cmds[i].max_args) {
			snprintf(reply, len, "error usage: %s", cmds[i].usage);
			return;
		}
		cmds[i].run(sim, argv + 1, reply, len);
		return;
	}
	snprintf(reply, len,
		 "error unknown command (status, heartbeat stop|resume, "
		 "standby, running, shutdown, restart, http500 on|off, "
		 "hang on|off, delay MS, cc-fail on|off, cc-status)");
}

static void
ctl_conn_close(struct sim_ctl_conn *cc)
{
	struct sim *sim = cc->sim;

	ev_io_stop(sim->loop, &cc->rw);
	ev_io_stop(sim->loop, &cc->ww);
	close(cc->fd);
	if (cc->prev != NULL)
		cc->prev->next = cc->next;
	else
		sim->ctl_conns = cc->next;
	if (cc->next != NULL)
		cc->next->prev = cc->prev;
	sim_buf_free(&cc->in);
	sim_buf_free(&cc->out);
	free(cc);
}

/* Writes the replies; closes once done if the client has gone or a line
 * was refused. Returns -1 when the connection was closed. */
static int
ctl_conn_flush(struct sim_ctl_conn *cc)
{
	ssize_t n;

	while (sim_buf_pending(&cc->out) > 0) {
		n = send(cc->fd, cc->out.data + cc->out.off,
			 sim_buf_pending(&cc->out), MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR) {
				ev_io_start(cc->sim->loop, &cc->ww);
				return 0;
			}
			ctl_conn_close(cc);
			return -1;
		}
		sim_buf_consume(&cc->out, (size_t)n);
	}
	ev_io_stop(cc->sim->loop, &cc->ww);
	if (cc->closing) {
		ctl_conn_close(cc);
		return -1;
	}
	return 0;
}

static void
ctl_conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sim_ctl_conn *cc = SIM_CONTAINER_OF(w, struct sim_ctl_conn, rw);
	char reply[512], *line, *nl;
	ssize_t n;

	(void)revents;
	if (sim_buf_reserve(&cc->in, 512) == -1) {
		ctl_conn_close(cc);
		return;
	}
	n = read(cc->fd, cc->in.data + cc->in.len, cc->in.cap - cc->in.len);
	if (n == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		cc->closing = true;
		ev_io_stop(loop, &cc->rw);
		ctl_conn_flush(cc);
		return;
	}
	cc->in.len += (size_t)n;
	while ((nl = memchr(cc->in.data + cc->in.off, '\n',
			    sim_buf_pending(&cc->in))) != NULL) {
		line = cc->in.data + cc->in.off;
		*nl = '\0';
		ctl_run(cc->sim, line, reply, sizeof(reply));
		sim_buf_consume(&cc->in, (size_t)(nl - line) + 1);
		if (sim_buf_printf(&cc->out, "%s\n", reply) == -1) {
			ctl_conn_close(cc);
			return;
		}
	}
	if (sim_buf_pending(&cc->in) > CTL_LINE_MAX) {
		sim_buf_printf(&cc->out, "error line too long\n");
		cc->closing = true;
		ev_io_stop(loop, &cc->rw);
	}
	ctl_conn_flush(cc);
}

static void
ctl_conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sim_ctl_conn *cc = SIM_CONTAINER_OF(w, struct sim_ctl_conn, ww);

	(void)loop;
	(void)revents;
	ctl_conn_flush(cc);
}

static void
ctl_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sim *sim = SIM_CONTAINER_OF(w, struct sim, ctl_w);
	struct sim_ctl_conn *cc;
	int fd;

	(void)revents;
	fd = accept4(sim->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	cc = calloc(1, sizeof(*cc));
	if (cc == NULL) {
		close(fd);
		return;
	}
	cc->sim = sim;
	cc->fd = fd;
	ev_io_init(&cc->rw, ctl_conn_read_cb, fd, EV_READ);
	ev_io_init(&cc->ww, ctl_conn_write_cb, fd, EV_WRITE);
	cc->next = sim->ctl_conns;
	if (sim->ctl_conns != NULL)
		sim->ctl_conns->prev = cc;
	sim->ctl_conns = cc;
	ev_io_start(loop, &cc->rw);
}

int
sim_ctl_open(struct sim *sim, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	const char *what = "socket";
	mode_t old;
	int fd = -1, saved, r;

	if (strlen(sim->ctl_path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path too long: %s",
			 sim->ctl_path);
		return -1;
	}
	memcpy(sun.sun_path, sim->ctl_path, strlen(sim->ctl_path) + 1);
	/* A socket left by a sim that was killed: ours now. */
	if (lstat(sim->ctl_path, &st) != -1 && S_ISSOCK(st.st_mode))
		unlink(sim->ctl_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	/* Born 0600: no moment when another user could connect. */
	what = "bind";
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r == -1)
		goto fail;
	what = "listen";
	if (listen(fd, 16) == -1)
		goto fail;
	sim->ctl_fd = fd;
	ev_io_init(&sim->ctl_w, ctl_accept_cb, fd, EV_READ);
	ev_io_start(sim->loop, &sim->ctl_w);
	return 0;

fail:
	saved = errno;
	snprintf(err, errlen, "control socket %s: %s: %s", sim->ctl_path, what,
		 strerror(saved));
	if (fd != -1)
		close(fd);
	return -1;
}

void
sim_ctl_close(struct sim *sim)
{
	while (sim->ctl_conns != NULL)
		ctl_conn_close(sim->ctl_conns);
	if (sim->ctl_fd != -1) {
		ev_io_stop(sim->loop, &sim->ctl_w);
		close(sim->ctl_fd);
		unlink(sim->ctl_path);
		sim->ctl_fd = -1;
	}
}
