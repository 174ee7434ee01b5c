/*
 * daemon.c: the main loop. It owns the current configuration and the
 * signal watchers; the modules (health, policies, proxy, notify, admin)
 * start here in dependency order and are told about reloads.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "admin/admin.h"
#include "core/addr.h"
#include "core/alog.h"
#include "core/conf.h"
#include "core/curlev.h"
#include "core/daemon.h"
#include "core/errlist.h"
#include "core/log.h"
#include "core/route.h"
#include "core/sdnotify.h"
#include "health/monitor.h"
#include "notify/event.h"
#include "notify/notify.h"
#include "proxy/listener.h"
#include "proxy/proxy.h"
#include "proxy/tls.h"
#include "policies/sticky.h"

struct daemon {
	struct ev_loop *loop;
	const char *conf_path;
	struct conf *conf;
	struct listeners *listeners;
	struct proxy *proxy;
	struct alog *alog;     /* NULL: no access log */
	struct sticky_key key; /* the cookie key; random without secret_file */
	ev_timer collect;      /* frees routing tables no worker holds */
	struct admin *admin;
	struct curlev *curl;
	struct route_holder routes;
	struct monitor *monitor;
	struct notifier *notifier;
	ev_signal sig_term;
	ev_signal sig_int;
	ev_signal sig_hup;
	int exit_code;
};

#define container_of(ptr, type, member)                                        \
	((type *)((char *)(ptr)-offsetof(type, member)))

/* Settings read once at start; a reload that changes them says so. */
static void
warn_restart_only(const struct conf *old, const struct conf *new)
{
	if (!listeners_same(old, new))
		log_warn("reload: listen changed; the new addresses take "
			 "effect at the next restart");
	if (old->workers != new->workers)
		log_warn("reload: vigil.workers changed; takes effect at the "
			 "next restart");
	if ((old->user == NULL) != (new->user == NULL) ||
	    (old->user && strcmp(old->user, new->user) != 0))
		log_warn("reload: vigil.user changed; takes effect at the "
			 "next restart");
	if ((old->access_log == NULL) != (new->access_log == NULL) ||
	    (old->access_log && strcmp(old->access_log, new->access_log) != 0))
		log_warn("reload: vigil.access_log changed; takes effect at "
			 "the next restart");
	if (strcmp(old->spool_dir, new->spool_dir) != 0)
		log_warn("reload: vigil.spool_dir changed; takes effect at "
			 "the next restart");
	if (old->keep_events != new->keep_events)
		log_warn("reload: notify.keep_events changed; takes effect at "
			 "the next restart");
}

static double
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)(ts.tv_nsec / 1000000);
}

/* An event, every field set but the id: its id, a log line, and the
 * notifier. */
static void
raise_event(struct daemon *d, struct event *e)
{
	char who[256] = "";

	event_make_id(e);
	if (e->kind == EVENT_FAILOVER)
		snprintf(who, sizeof(who), " from=%s to=%s", e->from, e->to);
	else if (e->node != NULL)
		snprintf(who, sizeof(who), " node=%s state=%s", e->node,
			 e->state);
	else if (e->state != NULL)
		snprintf(who, sizeof(who), " state=%s", e->state);
	log_info("event %s %s: cluster=%s%s: %s", event_kind_names[e->kind],
		 e->id, e->cluster, who, e->reason ? e->reason : "");
	if (d->notifier != NULL)
		notifier_emit(d->notifier, e);
}

/* A decision's event. */
static void
on_event(void *ctx, const struct conf *conf, const struct policy_event *ev)
{
	struct daemon *d = ctx;
	bool has_state = ev->node != NULL;
	struct event e = {
		.kind = ev->kind,
		.time_ms = (int64_t)wall_ms(),
		.cluster = conf->cluster_name,
		.appliance = conf->name,
		.node = ev->node,
		.from = ev->from,
		.to = ev->to,
		.state = has_state ? node_state_names[ev->state].name : NULL,
		.prev = has_state ? node_state_names[ev->prev].name : NULL,
		.reason = ev->reason,
		.dry_run = ev->dry_run,
		.attempt = ev->attempt,
	};

	e.evidence_ms =
	    ev->evidence_ms > 0 ? (int64_t)ev->evidence_ms : e.time_ms;
	raise_event(d, &e);
}

/*
 * POST /api/vip/STATE: keepalived's notify script says which VRRP state
 * this appliance is in. Cluster-wide (no node), state the VRRP state; the
 * evidence is the moment vigil was told, and no other appliance sees it:
 * the appliance and the instance scope the id.
 */
static void
admin_vip(void *ctx, enum vip_state state, const char *instance)
{
	struct daemon *d = ctx;
	const char *name = vip_state_names[state].name;
	char upper[16], reason[256], scope[160];
	size_t i;

	for (i = 0; name[i] != '\0' && i < sizeof(upper) - 1; i++)
		upper[i] = (char)toupper((unsigned char)name[i]);
	upper[i] = '\0';
	if (instance != NULL)
		snprintf(reason, sizeof(reason),
			 "keepalived: VRRP instance %s is now %s on %s",
			 instance, upper, d->conf->name);
	else
		snprintf(reason, sizeof(reason), "keepalived: now %s on %s",
			 upper, d->conf->name);
	snprintf(scope, sizeof(scope), "%s %s", d->conf->name,
		 instance ? instance : "");

	struct event e = {
		.kind = EVENT_VIP_CHANGED,
		.time_ms = (int64_t)wall_ms(),
		.cluster = d->conf->cluster_name,
		.appliance = d->conf->name,
		.state = name,
		.reason = reason,
		.scope = scope,
	};

	e.evidence_ms = e.time_ms;
	raise_event(d, &e);
}

/* Several appliances: the monitor knows who leads; the notifier acts on it,
 * and its deliveries are recorded for the followers. */
static void
on_deliver(void *ctx, bool all)
{
	struct daemon *d = ctx;

	notifier_follow(d->notifier, !all);
}

static void
on_settled(void *ctx, const char *channel, const char *id, double raised)
{
	struct daemon *d = ctx;

	notifier_settled(d->notifier, channel, id, raised);
}

static void
on_delivered(void *ctx, const char *channel, const char *id, double raised)
{
	struct daemon *d = ctx;

	monitor_delivered(d->monitor, channel, id, raised);
}

static void
node_table(void *ctx, struct buf *out)
{
	struct daemon *d = ctx;

	if (d->monitor != NULL)
		monitor_table_text(d->monitor, out);
}

/* A reload that failed: every reason logged, and kept in errs for the
 * admin API. Returns -1. */
static int reload_failed(struct errlist *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
reload_failed(struct errlist *errs, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	log_error("reload failed; still running on the previous "
		  "configuration");
	errlist_add(errs, "%s", msg);
	return -1;
}

/* SIGHUP and POST /api/reload. Returns 0, or -1 with the reasons in errs
 * (the previous configuration stays). */
static int
daemon_reload(struct daemon *d, struct errlist *errs)
{
	struct conf *new;

	log_info("reloading %s", d->conf_path);
	new = conf_reload(d->conf_path, errs);
	if (new == NULL) {
		for (size_t i = 0; i < errs->n; i++)
			log_error("%s", errs->line[i]);
		if (errs->oom)
			log_error("(more errors could not be stored: out of "
				  "memory)");
		log_error("reload failed: %zu error%s; still running on the "
			  "previous configuration",
			  errs->n, errs->n == 1 ? "" : "s");
		return -1;
	}
	warn_restart_only(d->conf, new);
	if ((d->conf->admin_enabled != new->admin_enabled) ||
	    (new->admin_enabled &&
	     !addr_same(&d->conf->admin_addr, &new->admin_addr)))
		log_warn("reload: admin.address changed; takes effect at the "
			 "next restart");
	/* Modules take the new configuration here, each keeping its state
	 * (connections, node states, spool cursors) across the swap. A
	 * random cookie key stays: a new one would re-route every client. */
	struct sticky_key key = d->key;
	struct route_settings rs;
	char err[256];

	if (new->stick_secret_file != NULL &&
	    sticky_key_load(new->stick_secret_file, &key, err, sizeof(err)) ==
		-1) {
		reload_failed(errs, "%s: cluster.stickiness.secret_file: %s",
			      new->file, err);
		conf_free(new);
		return -1;
	}
	SSL_CTX *node_tls = tls_client_ctx(new, err, sizeof(err));

	if (node_tls == NULL) {
		reload_failed(errs, "%s: health.probe: %s", new->file, err);
		sticky_key_wipe(&key);
		conf_free(new);
		return -1;
	}
	route_settings_from_conf(&rs, new, &key, node_tls);
	SSL_CTX_free(node_tls); /* rs holds it now */
	struct notify_reload *nr = notifier_reload_prepare(d->notifier, new);

	if (nr == NULL || monitor_reload(d->monitor, new, &rs) == -1) {
		notifier_reload_abort(d->notifier, nr);
		reload_failed(errs, "%s: out of memory", new->file);
		route_settings_release(&rs);
		sticky_key_wipe(&key);
		conf_free(new);
		return -1;
	}
	notifier_reload_commit(d->notifier, nr);
	route_settings_release(&rs);
	conf_free(d->conf);
	d->conf = new;
	d->key = key;
	sticky_key_wipe(&key);
	log_setup(new->log_level, new->log_target);
	/* SIGHUP also reopens the access log, for rotation. */
	if (d->alog != NULL)
		alog_reopen(d->alog);
	/* The token file may have become unreadable with privileges gone:
	 * the token vigil started with stays then. */
	if (d->admin != NULL &&
	    admin_load_token(d->admin, new->admin_token_file, err,
			     sizeof(err)) == -1)
		log_warn("%s: admin.token_file: %s; keeping the previous token",
			 new->file, err);
	log_info("configuration reloaded");
	struct policy_event ev = {
		.kind = EVENT_CONFIG_RELOADED,
		.reason = d->conf_path,
	};

	on_event(d, d->conf, &ev);
	return 0;
}

/* The service manager hears of every reload, SIGHUP or API alike. */
static int
reload_notified(struct daemon *d, struct errlist *errs)
{
	int rc;

	sdnotify_reloading();
	rc = daemon_reload(d, errs);
	sdnotify_ready();
	return rc;
}

static int
admin_reload(void *ctx, struct errlist *errs)
{
	return reload_notified(ctx, errs);
}

static void
on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	log_info("received %s, stopping", strsignal(w->signum));
	sdnotify_stopping();
	ev_break(loop, EVBREAK_ALL);
}

static void
on_collect(struct ev_loop *loop, ev_timer *w, int revents)
{
	route_collect(&container_of(w, struct daemon, collect)->routes);
}

static void
on_sighup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct errlist el = { 0 };

	reload_notified(container_of(w, struct daemon, sig_hup), &el);
	errlist_clear(&el);
}

/* The spool outlives the process; create it before privileges go. */
static int
make_spool_dir(const struct conf *c, const struct passwd *pw)
{
	if (mkdir(c->spool_dir, 0750) == -1 && errno != EEXIST) {
		fprintf(stderr,
			"vigil: %s: vigil.spool_dir: cannot create %s: %s\n",
			c->file, c->spool_dir, strerror(errno));
		return -1;
	}
	if (pw != NULL && chown(c->spool_dir, pw->pw_uid, pw->pw_gid) == -1) {
		fprintf(
		    stderr,
		    "vigil: %s: vigil.spool_dir: cannot give %s to %s: %s\n",
		    c->file, c->spool_dir, pw->pw_name, strerror(errno));
		return -1;
	}
	return 0;
}

static int
drop_privileges(const struct conf *c, const struct passwd *pw)
{
	if (pw == NULL)
		return 0;
	/* Started as vigil.user already (a unit without root): nothing to
	 * drop, and initgroups() would need privileges. */
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid &&
	    getgid() == pw->pw_gid && getegid() == pw->pw_gid && getuid() != 0)
		return 0;
	if (setgroups(0, NULL) == -1 && getuid() == 0) {
		fprintf(stderr, "vigil: setgroups: %s\n", strerror(errno));
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		fprintf(stderr, "vigil: %s: vigil.user: cannot become %s: %s\n",
			c->file, pw->pw_name, strerror(errno));
		return -1;
	}
	return 0;
}

int
daemon_run(const char *conf_path, struct conf *conf)
{
	struct daemon d = { .conf_path = conf_path, .conf = conf };
	struct monitor_ops mops = { on_event, on_deliver, on_settled, NULL };
	struct route_settings rs = { 0 };
	struct passwd *pw = NULL;
	SSL_CTX *node_tls;
	char err[512];

	signal(SIGPIPE, SIG_IGN);
	log_setup(conf->log_level, conf->log_target);
	d.exit_code = EXIT_START;

	if (conf->user != NULL) {
		pw = getpwnam(conf->user);
		if (pw == NULL) {
			fprintf(stderr,
				"vigil: %s: vigil.user: no such user \"%s\"\n",
				conf->file, conf->user);
			goto out;
		}
	}
	d.loop = ev_default_loop(EVFLAG_AUTO);
	if (d.loop == NULL) {
		fprintf(stderr, "vigil: cannot create the event loop "
				"(bad LIBEV_FLAGS?)\n");
		goto out;
	}
	d.listeners = listeners_bind(conf, err, sizeof(err));
	if (d.listeners == NULL) {
		fprintf(stderr, "vigil: %s\n", err);
		goto out;
	}
	if (conf->admin_enabled) {
		d.admin = admin_bind(conf, err, sizeof(err));
		if (d.admin == NULL) {
			fprintf(stderr, "vigil: %s\n", err);
			goto out;
		}
		if (admin_load_token(d.admin, conf->admin_token_file, err,
				     sizeof(err)) == -1) {
			fprintf(stderr, "vigil: %s: admin.token_file: %s\n",
				conf->file, err);
			d.exit_code = EXIT_CONFIG;
			goto out;
		}
	}
	/* Keys, certificates and the access log are opened while vigil is
	 * still root. */
	if (conf->access_log != NULL &&
	    (d.alog = alog_open(conf->access_log, err, sizeof(err))) == NULL) {
		fprintf(stderr, "vigil: %s: vigil.access_log: %s\n", conf->file,
			err);
		goto out;
	}
	if (listeners_load_tls(d.listeners, conf, err, sizeof(err)) == -1 ||
	    sticky_key_load(conf->stick_secret_file, &d.key, err,
			    sizeof(err)) == -1 ||
	    (node_tls = tls_client_ctx(conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "vigil: %s\n", err);
		d.exit_code = EXIT_CONFIG;
		goto out;
	}
	route_settings_from_conf(&rs, conf, &d.key, node_tls);
	SSL_CTX_free(node_tls); /* rs holds it now */
	if (make_spool_dir(conf, pw) == -1 || drop_privileges(conf, pw) == -1)
		goto out;

	ev_signal_init(&d.sig_term, on_stop_signal, SIGTERM);
	ev_signal_init(&d.sig_int, on_stop_signal, SIGINT);
	ev_signal_init(&d.sig_hup, on_sighup, SIGHUP);
	ev_signal_start(d.loop, &d.sig_term);
	ev_signal_start(d.loop, &d.sig_int);
	ev_signal_start(d.loop, &d.sig_hup);

	/* Modules start here, in order: health evidence, decisions, the
	 * proxy that follows them, notifications, the admin listener. */
	d.curl = curlev_new(d.loop);
	if (d.curl != NULL &&
	    (d.notifier = notifier_start(d.loop, d.curl, d.conf, node_table, &d,
					 err, sizeof(err))) == NULL) {
		fprintf(stderr, "vigil: %s: vigil.spool_dir: %s\n", conf->file,
			err);
		goto out;
	}
	mops.ctx = &d;
	d.monitor = d.curl ? monitor_start(d.loop, d.curl, d.conf, &d.routes,
					   &rs, &mops)
			   : NULL;
	if (d.monitor != NULL)
		notifier_on_ack(d.notifier, on_delivered, &d);
	route_settings_release(&rs);
	if (d.monitor == NULL) {
		fprintf(stderr, "vigil: cannot start the monitor: out of "
				"memory\n");
		goto out;
	}
	d.proxy = proxy_start(d.conf, d.listeners, &d.routes, d.alog, err,
			      sizeof(err));
	if (d.proxy == NULL) {
		fprintf(stderr, "vigil: %s\n", err);
		goto out;
	}
	ev_timer_init(&d.collect, on_collect, 1., 1.);
	ev_timer_start(d.loop, &d.collect);
	if (d.admin != NULL) {
		struct admin_ops ops = {
			.reload = admin_reload,
			.vip = admin_vip,
			.ctx = &d,
		};

		admin_start(d.admin, d.loop, d.monitor, d.notifier, &ops);
	}

	log_info("vigil %s started: appliance %s, cluster %s, %zu node%s",
		 PACKAGE_VERSION, d.conf->name, d.conf->cluster_name,
		 d.conf->n_nodes, d.conf->n_nodes == 1 ? "" : "s");
	sdnotify_ready();
	ev_run(d.loop, 0);

	/* ...and stop in the reverse order. */
	log_info("stopped");
	d.exit_code = EXIT_OK;
out:
	admin_stop(d.admin);
	proxy_stop(d.proxy);
	alog_close(d.alog);
	monitor_stop(d.monitor);
	notifier_stop(d.notifier);
	curlev_free(d.curl);
	route_holder_free(&d.routes);
	listeners_close(d.listeners);
	route_settings_release(&rs);
	sticky_key_wipe(&d.key);
	if (d.loop != NULL)
		ev_loop_destroy(d.loop);
	conf_free(d.conf);
	log_close();
	return d.exit_code;
}
