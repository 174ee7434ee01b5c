/*
 * test-conf.c: the configuration loader against every file in
 * tests/unit/configs/. good-*.conf must load; bad-*.conf must fail, and
 * each "# expect: LINE TEXT" comment in it names an error that must be
 * reported as "FILE:LINE: TEXT…" ("FILE: TEXT…" for LINE 0); "# errors: N"
 * pins the count. Then the defaults, the SPEC example's values, and the
 * address parser, case by case.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/conf.h"
#include "tests/unit/tap.h"

static char tmp[PATH_MAX];
static char cfgdir[PATH_MAX];

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd == -1 || write(fd, text, strlen(text)) == -1) {
		perror(path);
		exit(99);
	}
	close(fd);
	chmod(path, mode); /* not subject to the umask */
}

/* The files the configurations point at, with the modes that matter. */
static void
make_fixtures(void)
{
	char path[PATH_MAX + 64];

	write_file("token-ok", "s3cret-token\n", 0600);
	write_file("token-world", "s3cret-token\n", 0644);
	write_file("token-empty", "", 0600);
	write_file("secret-ok", "0123456789abcdef0123456789abcdef", 0600);
	write_file("secret-short", "short", 0600);
	write_file("hook-ok", "#!/bin/sh\nexit 0\n", 0755);
	write_file("hook-noexec", "#!/bin/sh\nexit 0\n", 0644);
	snprintf(path, sizeof(path), "%s/adir", tmp);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/spool", tmp);
	mkdir(path, 0755);
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Replaces every @TMP@ and @TLS@ in s; returns a new string. */
static char *
substitute(const char *s)
{
	char tls[PATH_MAX + 8];
	size_t cap = strlen(s) * 4 + PATH_MAX * 4, o = 0;
	char *out = malloc(cap);

	snprintf(tls, sizeof(tls), "%s/tls", cfgdir);
	while (*s) {
		const char *rep = NULL;

		if (strncmp(s, "@TMP@", 5) == 0)
			rep = tmp;
		else if (strncmp(s, "@TLS@", 5) == 0)
			rep = tls;
		if (rep != NULL) {
			o += (size_t)snprintf(out + o, cap - o, "%s", rep);
			s += 5;
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
	return out;
}

/*
 * True when el has a line "FILE:LINE: SETTING: …MESSAGE…" for text
 * "SETTING: MESSAGE" (the message may follow a quoted value), or
 * "FILE:LINE: TEXT…" when text has no ": ".
 */
static int
has_error(const struct errlist *el, const char *file, int line,
	  const char *text)
{
	char prefix[PATH_MAX * 2 + 700];
	const char *colon = strstr(text, ": ");
	size_t setlen = colon ? (size_t)(colon - text) + 2 : strlen(text);

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%d: %.*s", file, line,
			 (int)setlen, text);
	else
		snprintf(prefix, sizeof(prefix), "%s: %.*s", file, (int)setlen,
			 text);
	for (size_t i = 0; i < el->n; i++) {
		if (strncmp(el->line[i], prefix, strlen(prefix)) != 0)
			continue;
		if (strstr(el->line[i] + strlen(prefix), text + setlen))
			return 1;
	}
	return 0;
}

static void
dump_errors(const struct errlist *el)
{
	for (size_t i = 0; i < el->n; i++)
		tap_diag("  %s", el->line[i]);
}

static void
check_file(const char *name)
{
	char src[PATH_MAX + 256], dst[PATH_MAX + 256];
	struct errlist el = { 0 };
	struct conf *c;
	char *text, *sub, *p;
	int good = strncmp(name, "good-", 5) == 0;
	int want_errors = -1;
	FILE *f;

	snprintf(src, sizeof(src), "%s/%s", cfgdir, name);
	snprintf(dst, sizeof(dst), "%s/%s", tmp, name);
	text = read_all(src);
	if (!ok(text != NULL, "%s: readable", name))
		return;
	sub = substitute(text);
	f = fopen(dst, "w");
	fputs(sub, f);
	fclose(f);

	c = conf_load(dst, &el);
	if (good) {
		if (!ok(c != NULL, "%s loads", name))
			dump_errors(&el);
		goto out;
	}
	ok(c == NULL, "%s is refused", name);

	for (p = sub; (p = strstr(p, "# ")) != NULL; p++) {
		char want[600];
		int line, n;

		if (sscanf(p, "# errors: %d", &want_errors) == 1)
			continue;
		if (sscanf(p, "# expect: %d %n", &line, &n) != 1)
			continue;
		snprintf(want, sizeof(want), "%.*s", (int)strcspn(p + n, "\n"),
			 p + n);
		if (!ok(has_error(&el, dst, line, want), "%s: %d: %s", name,
			line, want))
			dump_errors(&el);
	}
	if (want_errors >= 0)
		is_int(el.n, want_errors, "%s: every error at once", name);
out:
	conf_free(c);
	errlist_clear(&el);
	free(text);
	free(sub);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
test_files(void)
{
	char *names[512];
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(cfgdir);

	if (!ok(d != NULL, "opendir %s", cfgdir))
		return;
	while ((de = readdir(d)) != NULL && n < 512) {
		size_t len = strlen(de->d_name);

		if (len > 5 && strcmp(de->d_name + len - 5, ".conf") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	ok(n >= 60, "found %zu configuration files", n);
	/* The include lives beside the including file. */
	char src[PATH_MAX + 64], *inc;

	snprintf(src, sizeof(src), "%s/include-nodes.inc", cfgdir);
	inc = read_all(src);
	write_file("include-nodes.inc", inc ? inc : "", 0644);
	free(inc);
	for (size_t i = 0; i < n; i++) {
		check_file(names[i]);
		free(names[i]);
	}
}

static struct conf *
load_named(const char *name)
{
	char src[PATH_MAX + 64], dst[PATH_MAX + 64];
	struct errlist el = { 0 };
	struct conf *c;
	char *text, *sub;
	FILE *f;

	snprintf(src, sizeof(src), "%s/%s", cfgdir, name);
	snprintf(dst, sizeof(dst), "%s/%s", tmp, name);
	text = read_all(src);
	sub = substitute(text ? text : "");
	f = fopen(dst, "w");
	fputs(sub, f);
	fclose(f);
	c = conf_load(dst, &el);
	dump_errors(&el);
	errlist_clear(&el);
	free(text);
	free(sub);
	return c;
}

/* Every default SPEC.md shows, from a file that sets nothing else. */
static void
test_defaults(void)
{
	struct conf *c = load_named("good-minimal.conf");
	char host[256] = "";

	if (!ok(c != NULL, "minimal configuration loads"))
		return;
	gethostname(host, sizeof(host));
	is_str(c->name, host, "vigil.name defaults to the host name");
	is_int(c->workers, 0, "vigil.workers");
	ok(c->user == NULL, "vigil.user is unset");
	is_str(c->spool_dir, "/var/lib/vigil", "vigil.spool_dir");
	is_int(c->drain_timeout_ms, 30000, "vigil.drain_timeout_ms");
	is_int(c->log_level, LOG_LEVEL_INFO, "vigil.log.level");
	is_int(c->log_target, LOG_TARGET_STDERR, "vigil.log.target");
	ok(c->access_log == NULL, "vigil.access_log is unset");
	is_int(c->n_listen, 1, "one listener");
	ok(!c->listen[0].tls, "listener without tls");
	is_int(c->proxy.connect_timeout_ms, 2000, "proxy.connect_timeout_ms");
	is_int(c->proxy.client_header_timeout_ms, 10000,
	       "proxy.client_header_timeout_ms");
	is_int(c->proxy.client_idle_timeout_ms, 60000,
	       "proxy.client_idle_timeout_ms");
	is_int(c->proxy.server_timeout_ms, 60000, "proxy.server_timeout_ms");
	is_int(c->proxy.tunnel_idle_timeout_ms, 3600000,
	       "proxy.tunnel_idle_timeout_ms");
	is_int(c->proxy.max_header_bytes, 32768, "proxy.max_header_bytes");
	ok(c->proxy.forwarded_headers, "proxy.forwarded_headers");
	is_int(c->active_nodes, 1, "cluster.active_nodes");
	is_int(c->stick_mode, STICK_COOKIE, "cluster.stickiness.mode");
	is_str(c->stick_cookie, "VIGILNODE", "cluster.stickiness.cookie");
	ok(c->stick_secret_file == NULL, "no secret_file");
	is_int(c->nodes[0].priority, 100, "node priority defaults to 100");
	ok(!c->nodes[0].tls, "node tls defaults to false");
	ok(c->nodes[0].heartbeat_id == NULL, "node heartbeat_id unset");
	is_str(c->probe_path, "/vco/api/healthstatus", "health.probe.path");
	is_int(c->probe_interval_ms, 2000, "health.probe.interval_ms");
	is_int(c->probe_timeout_ms, 1000, "health.probe.timeout_ms");
	is_int(c->probe_rise, 2, "health.probe.rise");
	is_int(c->probe_fall, 3, "health.probe.fall");
	is_int(c->probe_expect_status, 200, "health.probe.expect_status");
	is_str(c->probe_running, "\"state\"\\s*:\\s*\"RUNNING\"",
	       "health.probe.running");
	ok(c->probe_running_re != NULL, "running pattern compiled");
	ok(c->probe_standby == NULL && c->probe_standby_re == NULL,
	   "no standby pattern");
	ok(c->probe_tls_verify, "health.probe.tls_verify");
	ok(c->probe_ca_file == NULL, "no ca_file");
	ok(!c->heartbeat_enabled, "no heartbeat database");
	is_int(c->heartbeat_interval_ms, 5000, "health.heartbeat.interval_ms");
	is_int(c->heartbeat_failover_heartbeats, 12,
	       "health.heartbeat.failover_heartbeats");
	is_int(conf_failover_timeout_ms(c), 60000,
	       "failover timeout is one minute");
	is_str(c->heartbeat_query,
	       "SELECT node, EXTRACT(EPOCH FROM now() - beat) * 1000 FROM "
	       "vigil_heartbeat",
	       "health.heartbeat.query");
	is_int(c->passive_consecutive_failures, 3,
	       "health.passive.consecutive_failures");
	is_int(c->passive_eject_ms, 10000, "health.passive.eject_ms");
	is_int(c->n_channels, 0, "no channels");
	is_int(c->retry_initial_ms, 1000, "notify.retry_initial_ms");
	is_int(c->retry_max_ms, 60000, "notify.retry_max_ms");
	ok(!c->restart_enabled, "no restart hook");
	is_int(c->restart_timeout_ms, 120000, "hooks.restart.timeout_ms");
	is_int(c->restart_max_attempts, 5, "hooks.restart.max_attempts");
	is_int(c->restart_backoff_ms, 30000, "hooks.restart.backoff_ms");
	ok(c->restart_sequential, "hooks.restart.sequential");
	is_int(c->restart_wait_running_ms, 600000,
	       "hooks.restart.wait_running_ms");
	ok(!c->restart_dry_run, "hooks.restart.dry_run");
	ok(!c->admin_enabled, "no admin listener");
	conf_free(c);
}

static void
test_full(void)
{
	struct conf *c = load_named("good-full.conf");

	if (!ok(c != NULL, "SPEC example loads"))
		return;
	is_str(c->name, "lb-1", "name");
	is_int(c->workers, 2, "workers");
	is_int(c->log_level, LOG_LEVEL_DEBUG, "log level");
	is_int(c->log_target, LOG_TARGET_SYSLOG, "log target");
	is_int(c->n_listen, 2, "two listeners");
	ok(c->listen[0].tls && c->listen[0].certificate && c->listen[0].key,
	   "first listener is TLS");
	ok(!c->listen[1].tls, "second listener is plain");
	is_int(c->listen[1].addr.sa.ss_family, AF_INET6, "[::1] is IPv6");
	ok(!c->proxy.forwarded_headers, "forwarded_headers off");
	is_int(c->proxy.max_header_bytes, 65536, "max_header_bytes");
	is_str(c->cluster_name, "vro-prod", "cluster name");
	is_int(c->stick_mode, STICK_SOURCE, "source stickiness");
	is_int(c->n_nodes, 3, "three nodes");
	is_str(c->nodes[1].addr.host, "localhost", "host name kept");
	ok(!c->nodes[1].addr.literal, "host name is not a literal");
	ok(c->nodes[1].addr.salen > 0, "and resolved when loaded");
	is_str(c->nodes[2].heartbeat_id, "a1f3", "heartbeat_id");
	is_int(c->nodes[2].priority, 3, "priority");
	ok(c->nodes[0].tls, "node tls");
	ok(c->probe_standby_re != NULL, "standby pattern compiled");
	is_int(c->probe_expect_status, 204, "expect_status");
	ok(!c->probe_tls_verify, "tls_verify off");
	ok(c->heartbeat_enabled, "heartbeat on");
	is_str(c->heartbeat_connect,
	       "host=127.0.0.1 port=5432 dbname=vco user=vigil_ro "
	       "hostaddr='127.0.0.1'",
	       "libpq gets hostaddr=, so it never resolves on the loop");
	is_int(conf_failover_timeout_ms(c), 1000, "200 ms × 5");
	is_int(c->passive_consecutive_failures, 4, "passive failures");
	is_int(c->n_channels, 4, "four channels");
	is_int(c->channels[0].type, CHANNEL_WEBHOOK, "webhook");
	is_int(c->channels[0].events,
	       (1u << EVENT_FAILOVER) | (1u << EVENT_NODE_DOWN) |
		   (1u << EVENT_ALL_DOWN) | (1u << EVENT_SPLIT_BRAIN),
	       "webhook event filter");
	is_int(c->channels[1].type, CHANNEL_EMAIL, "email");
	ok(c->channels[1].starttls, "starttls");
	is_int(c->channels[1].n_to, 2, "two recipients");
	is_str(c->channels[1].to[1], "oncall@example", "second recipient");
	ok(c->channels[1].to[2] == NULL, "recipients NULL-terminated");
	is_int(c->channels[2].events, (1u << EVENT__COUNT) - 1,
	       "syslog gets every event");
	is_int(c->channels[3].n_command, 2, "exec argv");
	is_int(c->retry_initial_ms, 500, "retry_initial_ms");
	ok(c->restart_enabled, "restart hook");
	is_str(c->restart_command[1], "--verbose", "hook argv");
	ok(c->restart_command[2] == NULL, "hook argv NULL-terminated");
	ok(c->restart_dry_run, "dry_run");
	ok(c->admin_enabled, "admin listener");
	is_str(c->admin_addr.text, "127.0.0.1:9090", "admin address");
	conf_free(c);
}

static void
test_conninfo_names(void)
{
	struct conf *c = load_named("good-conninfo-names.conf");

	if (!ok(c != NULL, "conninfo with host names loads"))
		return;
	ok(strstr(c->heartbeat_connect, "hostaddr='127.0.0.1,,10.1.2.3'") !=
		   NULL ||
	       strstr(c->heartbeat_connect, "hostaddr='::1,,10.1.2.3'") != NULL,
	   "localhost resolved, the socket folder left to libpq, the address "
	   "kept: %s",
	   c->heartbeat_connect);
	conf_free(c);
}

/* A reload skips the file checks of settings it does not apply. */
static void
test_reload(void)
{
	static const char *const names[] = { "bad-tls-dir.conf",
					     "bad-tls-garbage.conf",
					     "bad-spool.conf" };

	for (size_t i = 0; i < 3; i++) {
		char dst[PATH_MAX + 64];
		struct errlist el = { 0 };
		struct conf *c;

		conf_free(load_named(names[i]));
		snprintf(dst, sizeof(dst), "%s/%s", tmp, names[i]);
		c = conf_reload(dst, &el);
		if (!ok(c != NULL,
			"%s: a reload does not check restart-only "
			"files",
			names[i]))
			dump_errors(&el);
		conf_free(c);
		errlist_clear(&el);
	}
}

struct addr_case {
	const char *text;
	int literal_only;
	int ok;
	int family; /* 0: a host name */
	const char *host;
	const char *port;
};

static void
test_addr(void)
{
	static const struct addr_case cases[] = {
		{ "127.0.0.1:80", 1, 1, AF_INET, "127.0.0.1", "80" },
		{ "0.0.0.0:443", 1, 1, AF_INET, "0.0.0.0", "443" },
		{ "[::]:80", 1, 1, AF_INET6, "::", "80" },
		{ "[::1]:65535", 1, 1, AF_INET6, "::1", "65535" },
		{ "[fe80::1%eth0]:80", 1, 0, 0, NULL, NULL },
		{ "node-1.example.com:8281", 0, 1, 0, "node-1.example.com",
		  "8281" },
		{ "node-1.example.com:8281", 1, 0, 0, NULL, NULL },
		{ "localhost:1", 0, 1, 0, "localhost", "1" },
		{ "127.0.0.1:0", 1, 0, 0, NULL, NULL },
		{ "127.0.0.1:65536", 1, 0, 0, NULL, NULL },
		{ "127.0.0.1:123456", 1, 0, 0, NULL, NULL },
		{ "127.0.0.1:", 1, 0, 0, NULL, NULL },
		{ "127.0.0.1", 1, 0, 0, NULL, NULL },
		{ ":80", 0, 0, 0, NULL, NULL },
		{ "[]:80", 0, 0, 0, NULL, NULL },
		{ "[::1]", 0, 0, 0, NULL, NULL },
		{ "[::1]:", 0, 0, 0, NULL, NULL },
		{ "[::1]80", 0, 0, 0, NULL, NULL },
		{ "::1:80", 0, 0, 0, NULL, NULL },
		{ "[127.0.0.1]:80", 0, 0, 0, NULL, NULL },
		{ "256.1.1.1:80", 1, 0, 0, NULL, NULL },
		{ "host_name:80", 0, 0, 0, NULL, NULL },
		{ "-host:80", 0, 0, 0, NULL, NULL },
		{ "host-:80", 0, 0, 0, NULL, NULL },
		{ "a..b:80", 0, 0, 0, NULL, NULL },
		{ ".a:80", 0, 0, 0, NULL, NULL },
		{ "a b:80", 0, 0, 0, NULL, NULL },
		{ "host:+80", 0, 0, 0, NULL, NULL },
		{ "host:8o", 0, 0, 0, NULL, NULL },
		{ "xn--bcher-kva.example:80", 0, 1, 0, "xn--bcher-kva.example",
		  "80" },
		{ "a23456789012345678901234567890123456789012345678901234567890"
		  "1234."
		  "b:80",
		  0, 0, 0, NULL, NULL },
		{ "a23456789012345678901234567890123456789012345678901234567890"
		  "123."
		  "b:80",
		  0, 1, 0,
		  "a23456789012345678901234567890123456789012345678901234567890"
		  "123."
		  "b",
		  "80" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct addr_case *t = &cases[i];
		struct conf_addr a;
		char err[256] = "";
		int rc =
		    addr_parse(t->text, t->literal_only, &a, err, sizeof(err));

		if (!t->ok) {
			if (!ok(rc == -1 && err[0] != '\0',
				"addr \"%s\" refused", t->text))
				addr_free(&a);
			continue;
		}
		if (!ok(rc == 0, "addr \"%s\" accepted", t->text)) {
			tap_diag("%s", err);
			continue;
		}
		is_str(a.host, t->host, "addr \"%s\" host", t->text);
		is_str(a.port, t->port, "addr \"%s\" port", t->text);
		is_int(a.literal ? a.sa.ss_family : 0, t->family,
		       "addr \"%s\" family", t->text);
		addr_free(&a);
	}

	struct conf_addr x, y;
	char err[256];

	addr_parse("[::1]:80", 1, &x, err, sizeof(err));
	addr_parse("[0:0::1]:80", 1, &y, err, sizeof(err));
	ok(addr_same(&x, &y), "[::1]:80 and [0:0::1]:80 are the same");
	addr_free(&y);
	addr_parse("[::1]:81", 1, &y, err, sizeof(err));
	ok(!addr_same(&x, &y), "ports differ");
	addr_free(&y);
	addr_parse("127.0.0.1:80", 1, &y, err, sizeof(err));
	ok(!addr_same(&x, &y), "families differ");
	addr_free(&y);
	addr_free(&x);
}

/*
 * hooks.restart runs as vigil.user, or as whoever starts vigil: never as
 * root unless allow_root says so (or dry_run runs nothing).
 */
static void
test_hook_root(void)
{
	static const struct {
		const char *vigil, *hook, *what;
		int as_root; /* 1: refused when the hook would run as root */
	} cases[] = {
		{ "", "", "no vigil.user", 1 },
		{ "", "allow_root = true;", "no vigil.user, allow_root", 0 },
		{ "", "dry_run = true;", "no vigil.user, dry_run", 0 },
		{ "user = \"root\";", "", "vigil.user = root", 2 },
		{ "user = \"nobody\";", "", "vigil.user = nobody", 0 },
	};
	bool root = geteuid() == 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[PATH_MAX + 1024], path[PATH_MAX + 32];
		struct errlist el = { 0 };
		struct conf *c;
		bool refused;

		snprintf(text, sizeof(text),
			 "vigil = { %s };\n"
			 "listen = ( { address = \"127.0.0.1:8080\"; } );\n"
			 "cluster = { nodes = ( { name = \"n1\"; "
			 "address = \"127.0.0.1:8281\"; } ); };\n"
			 "hooks = { restart = {\n"
			 "  command = [\"%s/hook-ok\"]; %s }; };\n",
			 cases[i].vigil, tmp, cases[i].hook);
		write_file("hook-root.conf", text, 0644);
		snprintf(path, sizeof(path), "%s/hook-root.conf", tmp);
		c = conf_load(path, &el);
		refused = cases[i].as_root == 2 || (cases[i].as_root && root);
		if (!ok((c == NULL) == refused, "hook as %s: %s (%s)",
			root ? "root" : "a user",
			refused ? "refused" : "allowed", cases[i].what))
			dump_errors(&el);
		if (refused)
			ok(has_error(&el, path, 4,
				     "hooks.restart: the hook would run as "
				     "root; set vigil.user to an unprivileged "
				     "user, or allow_root = true"),
			   "  and says why, at hooks.restart's line");
		conf_free(c);
		errlist_clear(&el);
	}
}

int
main(void)
{
	const char *top = getenv("top_srcdir");

	snprintf(cfgdir, sizeof(cfgdir), "%s/tests/unit/configs",
		 top ? top : ".");
	snprintf(tmp, sizeof(tmp), "%s/vigil-test-conf.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	make_fixtures();
	test_files();
	test_defaults();
	test_full();
	test_reload();
	test_conninfo_names();
	test_addr();
	test_hook_root();

	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmp);
	return tap_done();
}
