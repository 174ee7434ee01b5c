/*
 * vigilctl.c: the operator's command-line client of vigil's admin interface
 * (SPEC.md "Command line", "Admin interface"): status, nodes and events to
 * read, drain/disable/enable/reload to act, vip for keepalived's notify
 * script. One clear line on stderr and a distinct exit status for every
 * way it can fail, so scripts can tell "vigil said no" from "vigil is not
 * there".
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <libconfig.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "admin/ctl-conf.h"
#include "admin/ctl-http.h"
#include "admin/ctl-show.h"
#include "admin/json.h"

#define DEFAULT_CONF SYSCONFDIR "/vigil/vigil.conf"

enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_VIGIL = 1,	  /* vigil answered with an error */
	CTL_EXIT_USAGE = 2,	  /* the command line or configuration file */
	CTL_EXIT_UNREACHABLE = 3, /* no answer from vigil */
	CTL_EXIT_TOKEN = 4,	  /* the token file cannot be read */
};

#define EVENTS_DEFAULT 20
#define EVENTS_MAX     1000000
/* Event ids printed lately by `events -f`: see seen_before(). */
#define SEEN_IDS 4096

struct ctl {
	const char *conf_path;
	bool conf_given; /* -c: then the file must exist */
	const char *address_opt;
	const char *token_opt;
	bool json;
	long events_n;
	bool follow;

	struct ctl_conf conf;
	bool conf_done; /* read (or tried) already */
	const char *address;
	char hint[600]; /* for "cannot reach": where the address came from */
	const char *token_file;
	struct ctl_http http;
	struct ctl_term term;

	char *seen[SEEN_IDS];
	size_t seen_next;
};

/* The one global: all a signal handler may touch (`events -f`, SIGINT). */
static volatile sig_atomic_t stop_flag;

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: vigilctl [-c CONFIG] [-a ADDRESS] [-k TOKEN_FILE] [-j] "
		"COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  status              the cluster and its nodes, as a table\n"
		"  nodes               one line per node: NAME STATE ACTIVE\n"
		"  events [-n N] [-f]  the last N events (default %d), oldest "
		"first;\n"
		"                      -f: then the new ones as they happen, "
		"until ^C\n"
		"  drain NODE          no new clients for NODE; clients with "
		"its cookie stay\n"
		"  disable NODE        take NODE out of service\n"
		"  enable NODE         put NODE back into service\n"
		"  reload              reload vigil's configuration (like "
		"SIGHUP)\n"
		"  vip STATE [INSTANCE]\n"
		"                      for keepalived's notify script: this "
		"appliance's VRRP\n"
		"                      state (master, backup, fault, stop); "
		"vigil raises\n"
		"                      vip_changed\n"
		"\n"
		"options:\n"
		"  -c CONFIG      vigil's configuration, read for "
		"admin.address and\n"
		"                 admin.token_file only (default %s)\n"
		"  -a ADDRESS     vigil's admin address, HOST:PORT "
		"(default: admin.address,\n"
		"                 or %s)\n"
		"  -k TOKEN_FILE  the admin token for drain, disable, enable, "
		"reload and vip\n"
		"                 (default: admin.token_file)\n"
		"  -j             print vigil's JSON instead (events: one "
		"object a line)\n"
		"  -V             print the version\n"
		"  -h, --help     print this help\n"
		"\n"
		"exit status: 0 ok, 1 vigil answered with an error, 2 usage "
		"or configuration\n"
		"file, 3 vigil cannot be reached, 4 the admin token cannot be "
		"read\n",
		EVENTS_DEFAULT, DEFAULT_CONF, CTL_DEFAULT_ADDRESS);
}

static int __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("vigilctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (vigilctl --help for usage)\n", stderr);
	return CTL_EXIT_USAGE;
}

static void
print_version(void)
{
	printf("vigilctl %s\n", PACKAGE_VERSION);
	printf("  libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
	printf("  libconfig %d.%d.%d\n", LIBCONFIG_VER_MAJOR,
	       LIBCONFIG_VER_MINOR, LIBCONFIG_VER_REVISION);
}

/* Reads the configuration once, the first time something is needed. */
static int
need_conf(struct ctl *c)
{
	char err[PATH_MAX + 256];

	if (c->conf_done)
		return 0;
	c->conf_done = true;
	if (ctl_conf_read(c->conf_path, !c->conf_given, &c->conf, err,
			  sizeof(err)) == -1) {
		fprintf(stderr, "vigilctl: %s%s\n", err,
			c->conf_given ? "" : " (give -c CONFIG, or -a and -t)");
		return -1;
	}
	return 0;
}

/* Where to find vigil, and what to say when it is not there. */
static int
resolve_address(struct ctl *c)
{
	if (c->address_opt != NULL) {
		c->address = c->address_opt;
		snprintf(c->hint, sizeof(c->hint),
			 " — is vigil running? (the address given with -a)");
		return 0;
	}
	if (need_conf(c) == -1)
		return -1;
	if (c->conf.address != NULL) {
		c->address = c->conf.address;
		snprintf(c->hint, sizeof(c->hint),
			 " — is vigil running? (admin.address in %s)",
			 c->conf_path);
	} else if (!c->conf.found) {
		c->address = CTL_DEFAULT_ADDRESS;
		snprintf(c->hint, sizeof(c->hint),
			 " — is vigil running? (the default address: %s does "
			 "not exist; give -c CONFIG or -a ADDRESS)",
			 c->conf_path);
	} else if (!c->conf.admin) {
		c->address = CTL_DEFAULT_ADDRESS;
		snprintf(c->hint, sizeof(c->hint),
			 " — %s has no admin group, and without one vigil "
			 "runs no admin interface",
			 c->conf_path);
	} else {
		c->address = CTL_DEFAULT_ADDRESS;
		snprintf(c->hint, sizeof(c->hint),
			 " — is vigil running? (the default admin.address; "
			 "%s does not set it)",
			 c->conf_path);
	}
	return 0;
}

/* The token file for a POST: -t, else admin.token_file, else none. */
static int
resolve_token_file(struct ctl *c)
{
	if (c->token_opt != NULL) {
		c->token_file = c->token_opt;
		return 0;
	}
	if (need_conf(c) == -1)
		return -1;
	c->token_file = c->conf.token_file;
	return 0;
}

static int
unreachable(struct ctl *c, const char *why)
{
	fprintf(stderr, "vigilctl: cannot reach vigil at %s: %s%s\n",
		c->address, why, c->hint);
	return CTL_EXIT_UNREACHABLE;
}

/*
 * Prints the first line of an answer that is not JSON (not vigil's, or an
 * older vigil's text error), short and in printable ASCII: it may be
 * anything, in any encoding.
 */
static void
print_snippet(const char *body)
{
	char line[120];
	size_t n = strcspn(body, "\r\n");

	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	for (size_t i = 0; i < n; i++)
		line[i] = body[i] >= 0x20 && body[i] < 0x7f ? body[i] : '?';
	line[n] = '\0';
	if (n > 0)
		fprintf(stderr, ": %s", line);
}

/*
 * Looks at an answer: 0 with the parsed object in *out when it is a 2xx
 * JSON object; otherwise says why on stderr (with -j, vigil's JSON on
 * stdout as well) and returns the exit status. token_sent tells a refused
 * token from a missing one.
 */
static int
check_answer(struct ctl *c, const char *what, const struct ctl_reply *r,
	     bool token_sent, struct json **out)
{
	char err[200];
	struct json *v = json_parse(r->body, r->len, err, sizeof(err));
	const char *msg = json_string(json_get(v, "error"));
	char *clean = NULL;
	int rc = CTL_EXIT_VIGIL;

	*out = NULL;
	if (r->status >= 200 && r->status <= 299) {
		if (v != NULL && v->type == JSON_OBJECT) {
			*out = v;
			return CTL_EXIT_OK;
		}
		if (v == NULL)
			fprintf(stderr,
				"vigilctl: %s: vigil's answer is not valid "
				"JSON (%s)\n",
				what, err);
		else
			fprintf(stderr,
				"vigilctl: %s: vigil's answer is not a JSON "
				"object\n",
				what);
		json_free(v);
		return CTL_EXIT_VIGIL;
	}
	if (c->json && v != NULL) {
		json_print(stdout, v);
		putchar('\n');
	}
	if (msg != NULL)
		clean = ctl_clean(msg);
	if (r->status == 401 && token_sent) {
		fprintf(stderr,
			"vigilctl: the token was refused (%s): is %s the "
			"running vigil's admin.token_file?\n",
			clean ? clean : "HTTP 401", c->token_file);
	} else if (r->status == 401) {
		fprintf(stderr,
			"vigilctl: vigil wants the admin token and vigilctl "
			"has none: give -k TOKEN_FILE, or set "
			"admin.token_file in %s\n",
			c->conf_path);
	} else if (r->status == 403) {
		fprintf(stderr, "vigilctl: vigil has no admin.token_file "
				"configured: POSTs are refused\n");
	} else if (clean != NULL) {
		fprintf(stderr, "vigilctl: %s\n", clean);
	} else {
		fprintf(stderr, "vigilctl: %s: vigil at %s answered HTTP %ld",
			what, c->address, r->status);
		print_snippet(r->body);
		if (r->status == 404 || r->status == 405)
			fputs(" (a vigil without this command?)", stderr);
		fputc('\n', stderr);
	}
	free(clean);
	json_free(v);
	return rc;
}

/* GET path, checked; on success *out is the answer's object. */
static int
get(struct ctl *c, const char *path, struct ctl_reply *r, struct json **out)
{
	char err[256], what[300];
	enum ctl_http_result res;

	*out = NULL;
	res =
	    ctl_http_request(&c->http, "GET", path, NULL, r, err, sizeof(err));
	if (res == CTL_HTTP_INTERRUPTED)
		return CTL_EXIT_OK;
	if (res != CTL_HTTP_OK)
		return unreachable(c, err);
	snprintf(what, sizeof(what), "GET %s", path);
	return check_answer(c, what, r, false, out);
}

/* The raw answer for -j, with a line end. */
static void
print_body(const struct ctl_reply *r)
{
	fwrite(r->body, 1, r->len, stdout);
	if (r->len == 0 || r->body[r->len - 1] != '\n')
		putchar('\n');
}

/* GET /api/status, then the raw JSON (-j), the table, or the node list. */
static int
show_status(struct ctl *c, bool table)
{
	struct ctl_reply r;
	struct json *st;
	int rc = get(c, "/api/status", &r, &st);

	if (st != NULL) {
		if (c->json)
			print_body(&r);
		else if (table)
			ctl_show_status(stdout, st, &c->term);
		else
			ctl_show_nodes(stdout, st);
	}
	json_free(st);
	ctl_reply_free(&r);
	return rc;
}

static int
cmd_status(struct ctl *c, char **args)
{
	return show_status(c, true);
}

static int
cmd_nodes(struct ctl *c, char **args)
{
	return show_status(c, false);
}

/*
 * Whether `events -f` printed this id already, remembering it if not. The
 * API answers every kept event when it no longer knows the id asked after
 * (vigil restarted, or compacted its log past it): the ids printed lately
 * keep those from being printed twice.
 */
static bool
seen_before(struct ctl *c, const char *id)
{
	for (size_t i = 0; i < SEEN_IDS; i++)
		if (c->seen[i] != NULL && strcmp(c->seen[i], id) == 0)
			return true;
	free(c->seen[c->seen_next]);
	c->seen[c->seen_next] = strdup(id);
	c->seen_next = (c->seen_next + 1) % SEEN_IDS;
	return false;
}

/*
 * Prints the events of one answer, keeping the last id in *last (owned).
 * remember: dedupe through seen_before. print: false only takes the id.
 */
static int
print_events(struct ctl *c, const struct json *ans, char **last, bool remember,
	     bool print)
{
	const struct json *evs = json_get(ans, "events");

	if (evs == NULL || evs->type != JSON_ARRAY) {
		fprintf(stderr, "vigilctl: vigil's answer to GET /api/events "
				"has no \"events\" list\n");
		return CTL_EXIT_VIGIL;
	}
	for (size_t i = 0; i < evs->n; i++) {
		const struct json *ev = &evs->item[i];
		const char *id = json_string(json_get(ev, "id"));

		/* The newest id even when seen: the next poll asks after it. */
		if (id != NULL) {
			free(*last);
			*last = strdup(id);
			if (remember && seen_before(c, id))
				continue;
		}
		if (!print)
			continue;
		if (c->json) {
			json_print(stdout, ev);
			putchar('\n');
		} else {
			ctl_show_event(stdout, ev);
		}
	}
	fflush(stdout);
	return CTL_EXIT_OK;
}

static void
on_stop(int sig)
{
	stop_flag = 1;
}

/* Sleeps one second, or less when SIGINT or SIGTERM comes. */
static void
pause_second(void)
{
	struct timespec ts = { .tv_sec = 1 };

	while (!stop_flag && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
follow(struct ctl *c, char **last)
{
	bool lost = false;
	char err[256];

	while (!stop_flag) {
		char path[200] = "/api/events", *id = NULL;
		struct ctl_reply r;
		struct json *ans = NULL;
		enum ctl_http_result res;
		int rc;

		pause_second();
		if (stop_flag)
			break;
		if (*last != NULL) {
			id = ctl_http_escape(&c->http, *last);
			if (id == NULL) {
				fprintf(stderr, "vigilctl: out of memory\n");
				return CTL_EXIT_VIGIL;
			}
			snprintf(path, sizeof(path), "/api/events?since=%s",
				 id);
			curl_free(id);
		}
		res = ctl_http_request(&c->http, "GET", path, NULL, &r, err,
				       sizeof(err));
		if (res == CTL_HTTP_INTERRUPTED) {
			ctl_reply_free(&r);
			break;
		}
		/* vigil restarting is what one may be watching for: wait. */
		if (res == CTL_HTTP_UNREACHABLE) {
			if (!lost)
				fprintf(stderr,
					"vigilctl: lost vigil at %s: %s; "
					"trying again every second\n",
					c->address, err);
			lost = true;
			ctl_reply_free(&r);
			continue;
		}
		if (lost)
			fprintf(stderr, "vigilctl: vigil at %s answers again\n",
				c->address);
		lost = false;
		rc = check_answer(c, "GET /api/events", &r, false, &ans);
		if (rc == CTL_EXIT_OK)
			rc = print_events(c, ans, last, true, true);
		json_free(ans);
		ctl_reply_free(&r);
		if (rc != CTL_EXIT_OK)
			return rc;
	}
	return CTL_EXIT_OK;
}

static int
cmd_events(struct ctl *c, char **args)
{
	char path[64], *last = NULL;
	struct ctl_reply r;
	struct json *ans;
	int rc;

	if (c->follow) {
		struct sigaction sa = { .sa_handler = on_stop };

		/* No SA_RESTART: the sleep must end at once. */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	/* -n 0 -f: only what happens from now on (the last id is needed). */
	snprintf(path, sizeof(path), "/api/events?limit=%ld",
		 c->events_n > 0 ? c->events_n : 1);
	rc = get(c, path, &r, &ans);
	if (ans != NULL)
		rc = print_events(c, ans, &last, c->follow, c->events_n > 0);
	json_free(ans);
	ctl_reply_free(&r);
	if (rc == CTL_EXIT_OK && c->follow && !stop_flag)
		rc = follow(c, &last);
	free(last);
	for (size_t i = 0; i < SEEN_IDS; i++)
		free(c->seen[i]);
	return rc;
}

/* POST path with the token; on success *out is the answer's object. */
static int
post(struct ctl *c, const char *path, struct ctl_reply *r, struct json **out,
     bool (*own)(struct ctl *, const struct ctl_reply *, int *))
{
	char tok[CTL_TOKEN_MAX], err[PATH_MAX + 256], what[300];
	enum ctl_http_result res;
	bool have = false;
	int rc;

	*out = NULL;
	memset(r, 0, sizeof(*r));
	if (resolve_token_file(c) == -1)
		return CTL_EXIT_USAGE;
	if (c->token_file != NULL) {
		if (ctl_token_read(c->token_file, tok, err, sizeof(err)) ==
		    -1) {
			fprintf(stderr,
				"vigilctl: cannot read the admin token: %s\n",
				err);
			return CTL_EXIT_TOKEN;
		}
		have = true;
	}
	res = ctl_http_request(&c->http, "POST", path, have ? tok : NULL, r,
			       err, sizeof(err));
	explicit_bzero(tok, sizeof(tok));
	if (res != CTL_HTTP_OK)
		return unreachable(c, err);
	/* An answer the command explains better itself (reload's 422). */
	if (own != NULL && own(c, r, &rc))
		return rc;
	snprintf(what, sizeof(what), "POST %s", path);
	return check_answer(c, what, r, have, out);
}

static int
node_action(struct ctl *c, const char *node, const char *action)
{
	char path[1200], *esc;
	struct ctl_reply r;
	struct json *ans;
	const char *state;
	char *name, *st;
	int rc;

	/* A node name is one path segment, whatever it holds. */
	if ((esc = ctl_http_escape(&c->http, node)) == NULL) {
		fprintf(stderr, "vigilctl: out of memory\n");
		return CTL_EXIT_VIGIL;
	}
	if (strlen(esc) > sizeof(path) - 64) {
		curl_free(esc);
		return usage_error("the node name is too long");
	}
	snprintf(path, sizeof(path), "/api/nodes/%s/%s", esc, action);
	curl_free(esc);
	rc = post(c, path, &r, &ans, NULL);
	if (ans != NULL && c->json) {
		print_body(&r);
	} else if (ans != NULL) {
		state = json_string(json_get(ans, "state"));
		name = ctl_clean(node);
		st = ctl_clean(state ? state : "?");
		if (name == NULL || st == NULL)
			puts("done");
		else if (strcmp(action, "drain") == 0 &&
			 strcmp(st, "draining") == 0)
			printf("%s is draining: it gets no new clients; "
			       "clients with its cookie keep going to it\n",
			       name);
		else if (strcmp(action, "disable") == 0 &&
			 strcmp(st, "disabled") == 0)
			printf("%s is disabled: out of service until "
			       "`vigilctl enable %s`\n",
			       name, name);
		else if (strcmp(action, "enable") == 0)
			printf("%s is enabled: back in service, now %s\n", name,
			       st);
		else
			printf("%s is now %s\n", name, st);
		free(name);
		free(st);
	}
	json_free(ans);
	ctl_reply_free(&r);
	return rc;
}

static int
cmd_drain(struct ctl *c, char **args)
{
	return node_action(c, args[0], "drain");
}

static int
cmd_disable(struct ctl *c, char **args)
{
	return node_action(c, args[0], "disable");
}

static int
cmd_enable(struct ctl *c, char **args)
{
	return node_action(c, args[0], "enable");
}

/* 422 {"reloaded":false,"errors":[…]}: every error, as `vigil -t` would. */
static bool
reload_refused(struct ctl *c, const struct ctl_reply *r, int *rc)
{
	char err[200];
	struct json *v;
	const struct json *errs;

	if (r->status != 422)
		return false;
	v = json_parse(r->body, r->len, err, sizeof(err));
	errs = json_get(v, "errors");
	if (errs == NULL || errs->type != JSON_ARRAY) {
		json_free(v);
		return false;
	}
	if (c->json) {
		json_print(stdout, v);
		putchar('\n');
	}
	for (size_t i = 0; i < errs->n; i++) {
		char *line = ctl_clean(json_string(&errs->item[i]));

		if (line != NULL)
			fprintf(stderr, "%s\n", line);
		free(line);
	}
	fprintf(stderr,
		"vigilctl: the configuration was not reloaded (%zu error%s); "
		"vigil goes on with the one it had\n",
		errs->n, errs->n == 1 ? "" : "s");
	json_free(v);
	*rc = CTL_EXIT_VIGIL;
	return true;
}

static int
cmd_reload(struct ctl *c, char **args)
{
	struct ctl_reply r;
	struct json *ans;
	int rc = post(c, "/api/reload", &r, &ans, reload_refused);

	if (ans != NULL && c->json)
		print_body(&r);
	else if (ans != NULL && json_bool(json_get(ans, "reloaded")) == 0) {
		fprintf(stderr, "vigilctl: the configuration was not "
				"reloaded\n");
		rc = CTL_EXIT_VIGIL;
	} else if (ans != NULL)
		puts("configuration reloaded");
	json_free(ans);
	ctl_reply_free(&r);
	return rc;
}

/* POST /api/vip/STATE[?instance=INSTANCE]: keepalived's notify script
 * (etc/keepalived/vigil-notify) tells vigil this appliance's VRRP state.
 * vigil judges STATE and INSTANCE (404, 400): its word, exit 1. */
static int
cmd_vip(struct ctl *c, char **args)
{
	char path[600], *st, *inst = NULL;
	struct ctl_reply r;
	struct json *ans;
	int rc;

	if ((st = ctl_http_escape(&c->http, args[0])) == NULL ||
	    (args[1] != NULL &&
	     (inst = ctl_http_escape(&c->http, args[1])) == NULL)) {
		curl_free(st);
		fprintf(stderr, "vigilctl: out of memory\n");
		return CTL_EXIT_VIGIL;
	}
	if (strlen(st) + (inst ? strlen(inst) : 0) > sizeof(path) - 64) {
		curl_free(st);
		curl_free(inst);
		return usage_error("the VRRP state or instance is too long");
	}
	snprintf(path, sizeof(path), "/api/vip/%s%s%s", st,
		 inst ? "?instance=" : "", inst ? inst : "");
	curl_free(st);
	curl_free(inst);
	rc = post(c, path, &r, &ans, NULL);
	if (ans != NULL && c->json) {
		print_body(&r);
	} else if (ans != NULL) {
		const char *got = json_string(json_get(ans, "vip"));
		char *vip = ctl_clean(got ? got : "?");
		char *name = args[1] ? ctl_clean(args[1]) : NULL;

		if (vip == NULL || (args[1] != NULL && name == NULL))
			puts("done");
		else if (name != NULL)
			printf("vip_changed raised: VRRP instance %s is now "
			       "%s\n",
			       name, vip);
		else
			printf("vip_changed raised: now %s\n", vip);
		free(vip);
		free(name);
	}
	json_free(ans);
	ctl_reply_free(&r);
	return rc;
}

static const struct command {
	const char *name;
	int min_args, max_args;
	const char *missing; /* the question when an argument is missing */
	bool events_opts;
	int (*run)(struct ctl *c, char **args);
} commands[] = {
	{ "status", 0, 0, NULL, false, cmd_status },
	{ "nodes", 0, 0, NULL, false, cmd_nodes },
	{ "events", 0, 0, NULL, true, cmd_events },
	{ "drain", 1, 1, "which node?", false, cmd_drain },
	{ "disable", 1, 1, "which node?", false, cmd_disable },
	{ "enable", 1, 1, "which node?", false, cmd_enable },
	{ "reload", 0, 0, NULL, false, cmd_reload },
	{ "vip", 1, 2, "which VRRP state? master, backup, fault or stop", false,
	  cmd_vip },
};

static const struct option long_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/*
 * One option of either scan (before the command or after it, so that
 * `vigilctl status -j` works too). Returns -1 to go on, or an exit status.
 */
static int
option(struct ctl *c, int opt, char **argv)
{
	char *end;

	switch (opt) {
	case 'c':
		c->conf_path = optarg;
		c->conf_given = true;
		return -1;
	case 'a':
		c->address_opt = optarg;
		return -1;
	case 'k': /* SPEC.md's spelling */
	case 't':
		c->token_opt = optarg;
		return -1;
	case 'j':
		c->json = true;
		return -1;
	case 'n':
		errno = 0;
		c->events_n = strtol(optarg, &end, 10);
		if (errno != 0 || end == optarg || *end != '\0' ||
		    c->events_n < 0 || c->events_n > EVENTS_MAX)
			return usage_error("-n %s: expected a number of "
					   "events, 0 to 1000000",
					   optarg);
		return -1;
	case 'f':
		c->follow = true;
		return -1;
	case 'V':
		print_version();
		return CTL_EXIT_OK;
	case 'h':
		usage(stdout);
		return CTL_EXIT_OK;
	case ':':
		return usage_error("option -%c needs a value", optopt);
	default:
		if (optopt != 0)
			return usage_error("unknown option -%c", optopt);
		return usage_error("unknown option %s", argv[optind - 1]);
	}
}

static int
run(struct ctl *c, int argc, char **argv)
{
	const struct command *cmd = NULL;
	char err[300];
	int opt, rc;

	/* "+": stop at the command; its own options come after it. ":":
	 * vigilctl words the errors itself. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:c:a:k:t:jVh", long_opts,
				  NULL)) != -1)
		if ((rc = option(c, opt, argv)) != -1)
			return rc;
	if (optind == argc)
		return usage_error("no command given");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL)
		return usage_error("unknown command \"%s\"", argv[optind]);

	argc -= optind;
	argv += optind;
	/* 0, not 1: glibc starts over and forgets the "+" of the first scan,
	 * so that `vigilctl drain vro-1 -j` reads -j. */
	optind = 0;
	while ((opt = getopt_long(argc, argv,
				  cmd->events_opts ? ":c:a:k:t:jn:fVh"
						   : ":c:a:k:t:jVh",
				  long_opts, NULL)) != -1)
		if ((rc = option(c, opt, argv)) != -1)
			return rc;
	if (argc - optind < cmd->min_args)
		return usage_error("%s: %s", cmd->name, cmd->missing);
	if (argc - optind > cmd->max_args)
		return usage_error("unexpected \"%s\"",
				   argv[optind + cmd->max_args]);

	if (resolve_address(c) == -1)
		return CTL_EXIT_USAGE;
	if (ctl_http_init(&c->http, c->address, &stop_flag, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "vigilctl: %s\n", err);
		return CTL_EXIT_USAGE;
	}
	ctl_term_detect(&c->term);
	rc = cmd->run(c, argv + optind);
	ctl_http_close(&c->http);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ctl c = {
		.conf_path = DEFAULT_CONF,
		.events_n = EVENTS_DEFAULT,
	};
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "vigilctl: cannot initialise libcurl\n");
		return CTL_EXIT_UNREACHABLE;
	}
	rc = run(&c, argc, argv);
	ctl_conf_free(&c.conf);
	curl_global_cleanup();
	/* A full disk or a closed pipe must not pass for success. */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "vigilctl: cannot write the output: %s\n",
			strerror(errno));
		if (rc == CTL_EXIT_OK)
			rc = CTL_EXIT_VIGIL;
	}
	return rc;
}
