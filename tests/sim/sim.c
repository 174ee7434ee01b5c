/*
 * sim.c: vigil-sim, a simulated vRealize Orchestrator cluster node for the
 * integration tests and the demo: command line, node state, life cycle.
 *
 * The node serves HTTP(S) (sim-http.c, sim-req.c, sim-ws.c), beats into a
 * PostgreSQL heartbeat table and takes part in a vRO-like active/standby
 * election there (sim-db.c), and obeys a control socket (sim-ctl.c) that
 * makes it shut down, restart, hang, fail or split the cluster's brain. With
 * --cc-port, a Control Center on a port of its own (sim-cc.c) reports and
 * restarts the server, as restart hooks expect of a real vRO node.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tests/sim/sim.h"

static const char *const state_names[] = {
	[SIM_STANDBY] = "STANDBY",
	[SIM_RUNNING] = "RUNNING",
	[SIM_STARTING] = "STARTING",
	[SIM_SHUTDOWN] = "SHUTDOWN",
};

static void __attribute__((format(printf, 2, 0)))
sim_vlog(struct sim *sim, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	/* One write per line, so that several sims sharing a log file do
	 * not interleave within lines. */
	n = snprintf(line, sizeof(line),
		     "sim %s: ", sim->name != NULL ? sim->name : "?");
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) == -1)
		return;
}

void
sim_log(struct sim *sim, const char *fmt, ...)
{
	va_list ap;

	if (sim->quiet)
		return;
	va_start(ap, fmt);
	sim_vlog(sim, fmt, ap);
	va_end(ap);
}

void
sim_err(struct sim *sim, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sim_vlog(sim, fmt, ap);
	va_end(ap);
}

const char *
sim_state_name(enum sim_state state)
{
	return state_names[state];
}

void
sim_set_state(struct sim *sim, enum sim_state state, const char *why)
{
	enum sim_state old = sim->state;

	if (old == state)
		return;
	sim->state = state;
	sim->gen++;
	if (state == SIM_RUNNING && old == SIM_STANDBY)
		sim_log(sim, "promoted to RUNNING (%s)", why);
	else
		sim_log(sim, "%s -> %s (%s)", state_names[old],
			state_names[state], why);
}

long long
sim_failover_ms(const struct sim *sim)
{
	return (long long)sim->interval_ms * sim->failover_heartbeats;
}

static void
sim_ready(struct sim *sim)
{
	char url[96];

	sim_listener_url(&sim->http, sim->ssl_ctx != NULL, url, sizeof(url));
	/* Printed even with --quiet: scripts wait for it. */
	sim_err(sim, "ready on %s state=%s", url, state_names[sim->state]);
}

/* A vRO node that is shut down: no listener (connects are refused), no
 * connections, no heartbeats, no database session. */
void
sim_shutdown(struct sim *sim)
{
	sim_cc_cancel(sim);
	if (sim->state == SIM_SHUTDOWN)
		return;
	ev_timer_stop(sim->loop, &sim->startup);
	sim->join_pending = false;
	sim_http_close_all(sim);
	sim_db_stop(sim);
	sim_set_state(sim, SIM_SHUTDOWN, "shut down");
}

/* Listens again on the same address, answers 503 for --startup-ms while
 * beating (role STARTING), then joins (see sim-db.c). */
int
sim_restart(struct sim *sim, char *err, size_t errlen)
{
	sim_shutdown(sim);
	if (sim_http_listen(sim, err, errlen) == -1)
		return -1;
	sim->heartbeat_on = true;
	sim->hold = false;
	sim_set_state(sim, SIM_STARTING, "restarted");
	ev_timer_set(&sim->startup, (double)sim->startup_ms / 1000.0, 0.);
	ev_timer_start(sim->loop, &sim->startup);
	sim_db_start(sim);
	sim_ready(sim);
	return 0;
}

static void
startup_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim *sim = SIM_CONTAINER_OF(w, struct sim, startup);

	(void)loop;
	(void)revents;
	/* Without a database there is no cluster to ask: the node comes
	 * back as it was started. */
	if (sim->conninfo == NULL)
		sim_set_state(sim, sim->initial_state, "start-up over");
	else if (sim_db_join(sim) == -1)
		sim_set_state(sim, SIM_STANDBY,
			      "start-up over, no database to ask");
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct sim *sim = w->signum == SIGTERM
			      ? SIM_CONTAINER_OF(w, struct sim, sigterm)
			      : SIM_CONTAINER_OF(w, struct sim, sigint);

	(void)revents;
	sim_log(sim, "stopping on %s",
		w->signum == SIGTERM ? "SIGTERM" : "SIGINT");
	ev_break(loop, EVBREAK_ALL);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: vigil-sim --name NAME --listen HOST:PORT "
		"--control SOCKET\n"
		"         [--conninfo LIBPQ-STRING] [--state running|standby]\n"
		"         [--interval-ms 5000] [--failover-heartbeats 12]\n"
		"         [--active-nodes 1] [--priority 100] "
		"[--startup-ms 3000]\n"
		"         [--db-loss-standby-ms MS] [--tls-cert FILE "
		"--tls-key FILE]\n"
		"         [--cc-port PORT [--cc-credentials USER:PASSWORD]\n"
		"          [--cc-restart-delay-ms 0]] [--pidfile FILE] "
		"[--quiet]\n");
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("vigil-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

static long
parse_long(const char *opt, const char *text, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		die_usage("--%s: \"%s\" is not a number in %ld..%ld", opt, text,
			  min, max);
	return v;
}

static void
parse_listen(struct sim *sim, const char *text)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char host[128];
	const char *colon, *h = text;
	size_t hlen;
	int r;

	colon = strrchr(text, ':');
	if (colon == NULL || colon[1] == '\0')
		die_usage("--listen: \"%s\" is not HOST:PORT", text);
	hlen = (size_t)(colon - text);
	if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		die_usage("--listen: \"%s\" is not HOST:PORT", text);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	r = getaddrinfo(host, colon + 1, &hints, &res);
	if (r != 0)
		die_usage("--listen: \"%s\": %s (an IP address and a port)",
			  text, gai_strerror(r));
	memcpy(&sim->http.addr, res->ai_addr, res->ai_addrlen);
	sim->http.addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	snprintf(sim->http.text, sizeof(sim->http.text), "%s", text);
}

static void
parse_args(struct sim *sim, int argc, char **argv)
{
	enum {
		OPT_NAME = 256,
		OPT_LISTEN,
		OPT_CONTROL,
		OPT_CONNINFO,
		OPT_STATE,
		OPT_INTERVAL,
		OPT_FAILOVER,
		OPT_ACTIVE,
		OPT_PRIORITY,
		OPT_STARTUP,
		OPT_DB_LOSS,
		OPT_TLS_CERT,
		OPT_TLS_KEY,
		OPT_PIDFILE,
		OPT_CC_PORT,
		OPT_CC_CREDENTIALS,
		OPT_CC_DELAY,
		OPT_QUIET,
		OPT_HELP,
	};
	static const struct option opts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "conninfo", required_argument, NULL, OPT_CONNINFO },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "interval-ms", required_argument, NULL, OPT_INTERVAL },
		{ "failover-heartbeats", required_argument, NULL,
		  OPT_FAILOVER },
		{ "active-nodes", required_argument, NULL, OPT_ACTIVE },
		{ "priority", required_argument, NULL, OPT_PRIORITY },
		{ "startup-ms", required_argument, NULL, OPT_STARTUP },
		{ "db-loss-standby-ms", required_argument, NULL, OPT_DB_LOSS },
		{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
		{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "cc-port", required_argument, NULL, OPT_CC_PORT },
		{ "cc-credentials", required_argument, NULL,
		  OPT_CC_CREDENTIALS },
		{ "cc-restart-delay-ms", required_argument, NULL,
		  OPT_CC_DELAY },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = NULL;
	int c;

	sim->initial_state = SIM_STANDBY;
	sim->interval_ms = 5000;
	sim->failover_heartbeats = 12;
	sim->active_nodes = 1;
	sim->priority = 100;
	sim->startup_ms = 3000;
	sim->db_loss_ms = -1;
	sim->cc_port = -1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_NAME:
			sim->name = optarg;
			break;
		case OPT_LISTEN:
			listen = optarg;
			break;
		case OPT_CONTROL:
			sim->ctl_path = optarg;
			break;
		case OPT_CONNINFO:
			sim->conninfo = optarg;
			break;
		case OPT_STATE:
			if (strcmp(optarg, "running") == 0)
				sim->initial_state = SIM_RUNNING;
			else if (strcmp(optarg, "standby") == 0)
				sim->initial_state = SIM_STANDBY;
			else
				die_usage("--state: running or standby");
			break;
		case OPT_INTERVAL:
			sim->interval_ms =
			    parse_long("interval-ms", optarg, 10, 3600000);
			break;
		case OPT_FAILOVER:
			sim->failover_heartbeats =
			    parse_long("failover-heartbeats", optarg, 1, 1000);
			break;
		case OPT_ACTIVE:
			sim->active_nodes =
			    parse_long("active-nodes", optarg, 0, 1000);
			break;
		case OPT_PRIORITY:
			sim->priority =
			    parse_long("priority", optarg, 0, 1000000);
			break;
		case OPT_STARTUP:
			sim->startup_ms =
			    parse_long("startup-ms", optarg, 0, 3600000);
			break;
		case OPT_DB_LOSS:
			sim->db_loss_ms = parse_long("db-loss-standby-ms",
						     optarg, 0, 3600000000L);
			break;
		case OPT_TLS_CERT:
			sim->tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			sim->tls_key = optarg;
			break;
		case OPT_PIDFILE:
			sim->pidfile = optarg;
			break;
		case OPT_CC_PORT:
			sim->cc_port = parse_long("cc-port", optarg, 0, 65535);
			break;
		case OPT_CC_CREDENTIALS:
			sim->cc_credentials = optarg;
			break;
		case OPT_CC_DELAY:
			sim->cc_restart_delay_ms = parse_long(
			    "cc-restart-delay-ms", optarg, 0, 3600000);
			break;
		case OPT_QUIET:
			sim->quiet = true;
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc)
		die_usage("unexpected argument \"%s\"", argv[optind]);
	if (sim->name == NULL || listen == NULL || sim->ctl_path == NULL)
		die_usage("--name, --listen and --control are required");
	/* The name goes into JSON, headers and SQL: keep it plain. */
	if (sim->name[0] == '\0' || strlen(sim->name) > 64 ||
	    strspn(sim->name, "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
		strlen(sim->name))
		die_usage("--name: 1 to 64 of A-Z a-z 0-9 . _ -");
	if ((sim->tls_cert == NULL) != (sim->tls_key == NULL))
		die_usage("--tls-cert and --tls-key go together");
	if (sim->cc_port == -1 &&
	    (sim->cc_credentials != NULL || sim->cc_restart_delay_ms > 0))
		die_usage("--cc-credentials and --cc-restart-delay-ms need "
			  "--cc-port");
	if (sim->cc_credentials != NULL &&
	    (strchr(sim->cc_credentials, ':') == NULL ||
	     sim->cc_credentials[0] == ':'))
		die_usage("--cc-credentials: USER:PASSWORD");
	parse_listen(sim, listen);
	if (sim->db_loss_ms == -1)
		sim->db_loss_ms = (long)sim_failover_ms(sim);
}

/* Many concurrent test connections need more than the usual 1024 fds. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != -1 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
write_pidfile(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0) {
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if (fclose(f) == EOF) {
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sim sim;
	char err[512];
	bool pidfile_written = false;
	int rc = 1;

	memset(&sim, 0, sizeof(sim));
	sim.http.sim = &sim;
	sim.http.fd = -1;
	sim.cc.sim = &sim;
	sim.cc.cc = true;
	sim.cc.fd = -1;
	sim.ctl_fd = -1;
	sim.db.io_fd = -1;
	parse_args(&sim, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	sim.loop = ev_default_loop(0);
	if (sim.loop == NULL) {
		sim_err(&sim, "cannot start libev");
		return 1;
	}
	ev_init(&sim.startup, startup_cb);

	if (sim.tls_cert != NULL &&
	    sim_http_tls_init(&sim, err, sizeof(err)) == -1)
		goto done;
	if (sim_ctl_open(&sim, err, sizeof(err)) == -1)
		goto done;
	if (sim_http_listen(&sim, err, sizeof(err)) == -1)
		goto done;
	if (sim_cc_open(&sim, err, sizeof(err)) == -1)
		goto done;
	if (sim.pidfile != NULL) {
		if (write_pidfile(sim.pidfile, err, sizeof(err)) == -1)
			goto done;
		pidfile_written = true;
	}
	ev_signal_init(&sim.sigterm, signal_cb, SIGTERM);
	ev_signal_init(&sim.sigint, signal_cb, SIGINT);
	ev_signal_start(sim.loop, &sim.sigterm);
	ev_signal_start(sim.loop, &sim.sigint);

	sim.state = sim.initial_state;
	sim.heartbeat_on = true;
	sim_db_start(&sim);
	sim_ready(&sim);
	ev_run(sim.loop, 0);
	rc = 0;

done:
	if (rc != 0)
		sim_err(&sim, "%s", err);
	ev_signal_stop(sim.loop, &sim.sigterm);
	ev_signal_stop(sim.loop, &sim.sigint);
	ev_timer_stop(sim.loop, &sim.startup);
	sim_db_free(&sim);
	sim_http_free(&sim);
	sim_cc_close(&sim);
	sim_ctl_close(&sim);
	if (pidfile_written)
		unlink(sim.pidfile);
	ev_loop_destroy(sim.loop);
	return rc;
}
