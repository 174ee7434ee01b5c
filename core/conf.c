/*
 * conf.c: the configuration schema as tables, and the loader that walks a
 * libconfig tree with them: types, ranges, defaults, unknown settings, then
 * the rules that span several settings. Every error found is reported, each
 * as "FILE:LINE: SETTING: problem".
 */
#include "config.h"

#include <arpa/inet.h>
#include <libconfig.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <limits.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/addr.h"
#include "core/conf-check.h"
#include "core/conf.h"
#include "core/log.h"

const char *const event_kind_names[] = {
	[EVENT_NODE_UP] = "node_up",
	[EVENT_NODE_DOWN] = "node_down",
	[EVENT_FAILOVER] = "failover",
	[EVENT_ALL_DOWN] = "all_down",
	[EVENT_SPLIT_BRAIN] = "split_brain",
	[EVENT_HEARTBEAT_SOURCE_DOWN] = "heartbeat_source_down",
	[EVENT_HEARTBEAT_SOURCE_UP] = "heartbeat_source_up",
	[EVENT_RESTART_STARTED] = "restart_started",
	[EVENT_RESTART_SUCCEEDED] = "restart_succeeded",
	[EVENT_RESTART_FAILED] = "restart_failed",
	[EVENT_RESTART_GAVE_UP] = "restart_gave_up",
	[EVENT_CONFIG_RELOADED] = "config_reloaded",
	[EVENT_NODE_FLAPPING] = "node_flapping",
	[EVENT_NODE_STABLE] = "node_stable",
	[EVENT_LEADER_CHANGED] = "leader_changed",
	[EVENT_VIP_CHANGED] = "vip_changed",
	NULL,
};

const char *const stick_mode_names[] = {
	[STICK_COOKIE] = "cookie",
	[STICK_SOURCE] = "source",
	[STICK_NONE] = "none",
	NULL,
};

const char *const channel_type_names[] = {
	[CHANNEL_WEBHOOK] = "webhook",
	[CHANNEL_EMAIL] = "email",
	[CHANNEL_SYSLOG] = "syslog",
	[CHANNEL_EXEC] = "exec",
	NULL,
};

const char *const channel_format_names[] = {
	[FORMAT_JSON] = "json",
	[FORMAT_SLACK] = "slack",
	NULL,
};

#define ALL_EVENTS ((1u << EVENT__COUNT) - 1)

enum field_type {
	FT_INT = 1, /* int, range [min..max] */
	FT_BOOL,    /* bool */
	FT_STR,	    /* char * */
	FT_ENUM,    /* an enum stored as int, spelled as one of names[] */
	FT_STRV,    /* char ** NULL-terminated, count at aux */
	FT_ADDR,    /* struct conf_addr */
	FT_EVENTS,  /* unsigned bit set of enum event_kind */
	FT_GROUP,   /* a group whose fields live in the same struct */
	FT_LIST,    /* a list of groups: an array of elements, see list_desc */
};

enum field_flag {
	F_REQUIRED = 1 << 0, /* no default: leaving it out is an error */
	F_NONEMPTY = 1 << 1, /* strings and lists must not be empty */
	F_LITERAL = 1 << 2,  /* FT_ADDR: an IP address, not a host name */
	F_PRESENCE = 1 << 3, /* FT_GROUP: bool at off says it was written */
	F_RESTART = 1 << 4, /* applied at start only: no file check on reload */
};

struct list_desc {
	size_t elem_size;
	size_t count_off; /* size_t in the parent: number of elements */
	size_t line_off;  /* int in the element: its line in the file */
};

struct field {
	const char *name;
	enum field_type type;
	size_t off; /* of the value in the struct being filled */
	size_t aux; /* FT_STRV: offset of the size_t count */
	long long min, max;
	long long def;	 /* default of FT_INT, FT_BOOL, FT_ENUM */
	const char *str; /* default of FT_STR and FT_ADDR; NULL: none */
	unsigned flags;
	const char *const *names;     /* FT_ENUM */
	conf_check_fn check;	      /* FT_STR, FT_STRV (on argv[0]) */
	const struct field *sub;      /* FT_GROUP, FT_LIST */
	const struct list_desc *list; /* FT_LIST */
};

/* The schema reads best as aligned tables. */
/* clang-format off */
#define END { .name = NULL }
#define C(m) offsetof(struct conf, m)
#define INT(n, o, lo, hi, d) \
	{ .name = n, .type = FT_INT, .off = o, .min = lo, .max = hi, .def = d }
#define BOOL(n, o, d) { .name = n, .type = FT_BOOL, .off = o, .def = d }
#define STR(n, o, d, fl, chk) \
	{ .name = n, .type = FT_STR, .off = o, .str = d, .flags = fl, \
	  .check = chk }
#define ENUM(n, o, d, nm) \
	{ .name = n, .type = FT_ENUM, .off = o, .def = d, .names = nm }
#define STRV(n, o, cnt, fl, chk) \
	{ .name = n, .type = FT_STRV, .off = o, .aux = cnt, .flags = fl, \
	  .check = chk }
#define GROUP(n, o, fl, s) \
	{ .name = n, .type = FT_GROUP, .off = o, .flags = fl, .sub = s }
#define LIST(n, o, fl, s, l) \
	{ .name = n, .type = FT_LIST, .off = o, .flags = fl, .sub = s, \
	  .list = l }

#define MAX_MS 3600000

static const struct field log_fields[] = {
	ENUM("level", C(log_level), LOG_LEVEL_INFO, log_level_names),
	ENUM("target", C(log_target), LOG_TARGET_STDERR, log_target_names),
	END,
};

static const struct field vigil_fields[] = {
	STR("name", C(name), NULL, 0, check_name),
	INT("workers", C(workers), 0, 64, 0),
	STR("user", C(user), NULL, F_NONEMPTY, NULL),
	STR("spool_dir", C(spool_dir), "/var/lib/vigil", F_RESTART,
	    check_spool_dir),
	INT("drain_timeout_ms", C(drain_timeout_ms), 0, 600000, 30000),
	GROUP("log", 0, 0, log_fields),
	STR("access_log", C(access_log), NULL, F_RESTART, check_log_file),
	END,
};

#define L(m) offsetof(struct conf_listen, m)
static const struct field listen_tls_fields[] = {
	STR("certificate", L(certificate), NULL, F_REQUIRED | F_RESTART,
	    check_readable_file),
	STR("key", L(key), NULL, F_REQUIRED | F_RESTART, check_readable_file),
	END,
};

static const struct field listen_fields[] = {
	{ .name = "address", .type = FT_ADDR, .off = L(addr),
	  .flags = F_REQUIRED | F_LITERAL },
	GROUP("tls", L(tls), F_PRESENCE, listen_tls_fields),
	END,
};

static const struct list_desc listen_list = {
	sizeof(struct conf_listen), C(n_listen), L(line)
};

static const struct field proxy_fields[] = {
	INT("connect_timeout_ms", C(proxy.connect_timeout_ms), 10, 600000, 2000),
	INT("client_header_timeout_ms", C(proxy.client_header_timeout_ms), 10,
	    600000, 10000),
	INT("client_idle_timeout_ms", C(proxy.client_idle_timeout_ms), 10, MAX_MS,
	    60000),
	INT("server_timeout_ms", C(proxy.server_timeout_ms), 10, MAX_MS, 60000),
	INT("tunnel_idle_timeout_ms", C(proxy.tunnel_idle_timeout_ms), 10,
	    24 * MAX_MS, 3600000),
	INT("max_header_bytes", C(proxy.max_header_bytes), 1024, 1048576, 32768),
	BOOL("forwarded_headers", C(proxy.forwarded_headers), true),
	END,
};

static const struct field stickiness_fields[] = {
	ENUM("mode", C(stick_mode), STICK_COOKIE, stick_mode_names),
	STR("cookie", C(stick_cookie), "VIGILNODE", 0, check_cookie_name),
	STR("secret_file", C(stick_secret_file), NULL, 0, check_secret_file),
	END,
};

#define N(m) offsetof(struct conf_node, m)
static const struct field node_fields[] = {
	STR("name", N(name), NULL, F_REQUIRED, check_name),
	{ .name = "address", .type = FT_ADDR, .off = N(addr),
	  .flags = F_REQUIRED },
	BOOL("tls", N(tls), false),
	INT("priority", N(priority), 0, 1000000, 100),
	STR("heartbeat_id", N(heartbeat_id), NULL, F_NONEMPTY, NULL),
	END,
};

static const struct list_desc node_list = {
	sizeof(struct conf_node), C(n_nodes), N(line)
};

static const struct field cluster_fields[] = {
	STR("name", C(cluster_name), "cluster", 0, check_name),
	INT("active_nodes", C(active_nodes), 0, 1000, 1),
	GROUP("stickiness", 0, 0, stickiness_fields),
	LIST("nodes", C(nodes), F_REQUIRED, node_fields, &node_list),
	END,
};

static const struct field probe_fields[] = {
	STR("path", C(probe_path), "/vco/api/healthstatus", 0,
	    check_http_path),
	INT("interval_ms", C(probe_interval_ms), 100, MAX_MS, 2000),
	INT("timeout_ms", C(probe_timeout_ms), 50, MAX_MS, 1000),
	INT("rise", C(probe_rise), 1, 100, 2),
	INT("fall", C(probe_fall), 1, 100, 3),
	INT("expect_status", C(probe_expect_status), 100, 599, 200),
	STR("running", C(probe_running), "\"state\"\\s*:\\s*\"RUNNING\"",
	    F_NONEMPTY, NULL),
	STR("standby", C(probe_standby), NULL, F_NONEMPTY, NULL),
	BOOL("tls_verify", C(probe_tls_verify), true),
	STR("ca_file", C(probe_ca_file), NULL, 0, check_ca_file),
	END,
};

static const struct field heartbeat_fields[] = {
	STR("conninfo", C(heartbeat_conninfo), NULL, F_REQUIRED,
	    check_conninfo),
	STR("query", C(heartbeat_query),
	    "SELECT node, EXTRACT(EPOCH FROM now() - beat) * 1000 FROM "
	    "vigil_heartbeat",
	    F_NONEMPTY, NULL),
	INT("interval_ms", C(heartbeat_interval_ms), 100, MAX_MS, 5000),
	INT("failover_heartbeats", C(heartbeat_failover_heartbeats), 1, 1000,
	    12),
	END,
};

static const struct field passive_fields[] = {
	INT("consecutive_failures", C(passive_consecutive_failures), 1, 1000,
	    3),
	INT("eject_ms", C(passive_eject_ms), 100, MAX_MS, 10000),
	END,
};

static const struct field health_fields[] = {
	GROUP("probe", 0, 0, probe_fields),
	GROUP("heartbeat", C(heartbeat_enabled), F_PRESENCE,
	      heartbeat_fields),
	GROUP("passive", 0, 0, passive_fields),
	END,
};

/* A channel's fields are the union of every type's; which ones a type
 * takes is checked after loading, with channel_allows[]. */
#define CH(m) offsetof(struct conf_channel, m)
static const struct field channel_fields[] = {
	ENUM("type", CH(type), -1, channel_type_names),
	{ .name = "events", .type = FT_EVENTS, .off = CH(events) },
	STR("url", CH(url), NULL, 0, NULL),
	BOOL("starttls", CH(starttls), false),
	STR("from", CH(from), NULL, 0, check_mail_address),
	STRV("to", CH(to), CH(n_to), F_NONEMPTY, check_mail_address),
	STRV("command", CH(command), CH(n_command), F_NONEMPTY,
	     check_executable),
	STRV("headers", CH(headers), CH(n_headers), 0, check_http_header),
	ENUM("format", CH(format), FORMAT_JSON, channel_format_names),
	STR("username", CH(username), NULL, 0, NULL),
	STR("password_file", CH(password_file), NULL, 0, check_token_file),
	INT("timeout_ms", CH(timeout_ms), 100, MAX_MS, 10000),
	END,
};

static const struct list_desc channel_list = {
	sizeof(struct conf_channel), C(n_channels), CH(line)
};

static const struct field notify_fields[] = {
	LIST("channels", C(channels), 0, channel_fields, &channel_list),
	INT("retry_initial_ms", C(retry_initial_ms), 10, MAX_MS, 1000),
	INT("retry_max_ms", C(retry_max_ms), 10, 24 * MAX_MS, 60000),
	INT("flap_changes", C(flap_changes), 0, 100, 5),
	INT("flap_window_ms", C(flap_window_ms), 100, 24 * MAX_MS, 60000),
	INT("keep_events", C(keep_events), 10, 100000, 1000),
	END,
};

static const struct field restart_fields[] = {
	STRV("command", C(restart_command), C(n_restart_command),
	     F_REQUIRED | F_NONEMPTY, check_executable),
	INT("timeout_ms", C(restart_timeout_ms), 100, 24 * MAX_MS, 120000),
	INT("max_attempts", C(restart_max_attempts), 1, 1000, 5),
	INT("backoff_ms", C(restart_backoff_ms), 0, 24 * MAX_MS, 30000),
	BOOL("sequential", C(restart_sequential), true),
	INT("wait_running_ms", C(restart_wait_running_ms), 100, 24 * MAX_MS,
	    600000),
	BOOL("dry_run", C(restart_dry_run), false),
	BOOL("allow_root", C(restart_allow_root), false),
	END,
};

static const struct field hooks_fields[] = {
	GROUP("restart", C(restart_enabled), F_PRESENCE, restart_fields),
	END,
};

static const struct field admin_fields[] = {
	{ .name = "address", .type = FT_ADDR, .off = C(admin_addr),
	  .str = "127.0.0.1:9090", .flags = F_LITERAL },
	STR("token_file", C(admin_token_file), NULL, 0, check_token_file),
	END,
};

static const struct field root_fields[] = {
	GROUP("vigil", 0, 0, vigil_fields),
	LIST("listen", C(listen), F_REQUIRED, listen_fields, &listen_list),
	GROUP("proxy", 0, 0, proxy_fields),
	GROUP("cluster", 0, F_REQUIRED, cluster_fields),
	GROUP("health", 0, 0, health_fields),
	GROUP("notify", 0, 0, notify_fields),
	GROUP("hooks", 0, 0, hooks_fields),
	GROUP("admin", C(admin_enabled), F_PRESENCE, admin_fields),
	END,
};

/* Which channel settings each type takes (bit i = channel_fields[i]). */
#define CF(i) (1u << (i))
static const unsigned channel_allows[] = {
	[CHANNEL_WEBHOOK] = CF(0) | CF(1) | CF(2) | CF(7) | CF(8) | CF(11),
	[CHANNEL_EMAIL] = CF(0) | CF(1) | CF(2) | CF(3) | CF(4) | CF(5) |
			  CF(9) | CF(10) | CF(11),
	[CHANNEL_SYSLOG] = CF(0) | CF(1),
	[CHANNEL_EXEC] = CF(0) | CF(1) | CF(6) | CF(11),
};

/* clang-format on */

struct loader {
	const char *file; /* the file named on the command line */
	bool reload;	  /* skip the file checks of F_RESTART settings */
	config_t cfg;
	struct errlist *el;
};

#define at(ld, s, path, ...)                                                   \
	errlist_at((ld)->el, setting_file(ld, s), setting_line(s), path,       \
		   __VA_ARGS__)

static const char *
setting_file(const struct loader *ld, const config_setting_t *s)
{
	const char *f = s ? config_setting_source_file(s) : NULL;

	return f ? f : ld->file;
}

static int
setting_line(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

static void *
field_ptr(void *base, const struct field *f)
{
	return (char *)base + f->off;
}

static void
join_path(char *out, size_t len, const char *parent, const char *name)
{
	if (parent[0] == '\0')
		snprintf(out, len, "%s", name);
	else
		snprintf(out, len, "%s.%s", parent, name);
}

static const char *
type_word(int type)
{
	switch (type) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a number with a fraction";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "true or false";
	case CONFIG_TYPE_ARRAY:
		return "an array [ … ]";
	case CONFIG_TYPE_LIST:
		return "a list ( … )";
	case CONFIG_TYPE_GROUP:
		return "a group { … }";
	}
	return "something else";
}

static void
wrong_type(struct loader *ld, const config_setting_t *s, const char *path,
	   const char *want)
{
	at(ld, s, path, "must be %s, not %s", want,
	   type_word(config_setting_type(s)));
}

static char *
dup_or_oom(struct loader *ld, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		errlist_add(ld->el, "%s: out of memory", ld->file);
	return d;
}

/* A list of names separated by ", " for messages. */
static void
names_list(char *out, size_t len, const char *const *names)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; names[i] && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s",
					i ? ", " : "", names[i]);
}

static int
lookup_name(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

static void
run_check(struct loader *ld, const config_setting_t *s, const char *path,
	  conf_check_fn check, const char *v)
{
	char err[512];

	if (check != NULL && check(v, err, sizeof(err)) == -1)
		at(ld, s, path, "%s", err);
}

static void load_fields(struct loader *ld, const config_setting_t *grp,
			const char *path, const struct field *fields,
			void *base);

static void
load_default(struct loader *ld, const config_setting_t *grp, const char *path,
	     const struct field *f, void *base)
{
	void *p = field_ptr(base, f);
	char err[512];

	if (f->flags & F_REQUIRED) {
		/* A missing setting has no line: name its group's. */
		at(ld, grp, path, "missing (required)");
		return;
	}
	switch (f->type) {
	case FT_INT:
	case FT_ENUM:
		*(int *)p = (int)f->def;
		break;
	case FT_BOOL:
		*(bool *)p = f->def != 0;
		break;
	case FT_STR:
		if (f->str != NULL)
			*(char **)p = dup_or_oom(ld, f->str);
		break;
	case FT_ADDR:
		if (f->str != NULL && addr_parse(f->str, f->flags & F_LITERAL,
						 p, err, sizeof(err)) == -1)
			at(ld, grp, path, "%s", err);
		break;
	case FT_EVENTS:
		*(unsigned *)p = ALL_EVENTS;
		break;
	case FT_GROUP:
		if (f->flags & F_PRESENCE)
			*(bool *)p = false;
		load_fields(ld, NULL, path, f->sub, base);
		break;
	case FT_STRV:
	case FT_LIST:
		break;
	}
}

static void
load_strv(struct loader *ld, const config_setting_t *s, const char *path,
	  const struct field *f, void *base)
{
	int type = config_setting_type(s);
	int n = config_setting_length(s);
	char **v;

	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		wrong_type(ld, s, path, "a list of strings [\"…\", …]");
		return;
	}
	if (n == 0 && (f->flags & F_NONEMPTY)) {
		at(ld, s, path, "must not be empty");
		return;
	}
	v = calloc((size_t)n + 1, sizeof(*v));
	if (v == NULL) {
		errlist_add(ld->el, "%s: out of memory", ld->file);
		return;
	}
	*(char ***)field_ptr(base, f) = v;
	*(size_t *)((char *)base + f->aux) = (size_t)n;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *str = config_setting_get_string(e);

		if (str == NULL) {
			wrong_type(ld, e, path, "a list of strings");
			return;
		}
		if (str[0] == '\0') {
			at(ld, e, path, "element %d is empty", i + 1);
			return;
		}
		v[i] = dup_or_oom(ld, str);
		if (v[i] == NULL)
			return;
	}
	/* For argv the check is on the program; for lists on every item. */
	if (f->check == check_executable)
		run_check(ld, s, path, f->check, v[0]);
	else
		for (int i = 0; i < n; i++)
			run_check(ld, s, path, f->check, v[i]);
}

static void
load_events(struct loader *ld, const config_setting_t *s, const char *path,
	    unsigned *out)
{
	int type = config_setting_type(s);
	int n = config_setting_length(s);
	char names[512];

	*out = 0;
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		wrong_type(ld, s, path, "a list of event names");
		return;
	}
	if (n == 0) {
		at(ld, s, path,
		   "lists no event (leave it out for every event)");
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *str =
		    config_setting_get_string(config_setting_get_elem(s, i));
		int k = str ? lookup_name(event_kind_names, str) : -1;

		if (k == -1) {
			names_list(names, sizeof(names), event_kind_names);
			at(ld, s, path, "\"%s\" is not an event; events: %s",
			   str ? str : "(not a string)", names);
			continue;
		}
		*out |= 1u << k;
	}
}

static void
load_list(struct loader *ld, const config_setting_t *s, const char *path,
	  const struct field *f, void *base)
{
	const struct list_desc *l = f->list;
	int type = config_setting_type(s);
	int n = config_setting_length(s);
	char *arr;

	/* An empty ( ) or [ ] is the same to libconfig's reader. */
	if (type != CONFIG_TYPE_LIST &&
	    !(type == CONFIG_TYPE_ARRAY && n == 0)) {
		wrong_type(ld, s, path, "a list ( { … }, { … } )");
		return;
	}
	if (n == 0) {
		if (f->flags & F_REQUIRED)
			at(ld, s, path, "must have at least one entry");
		return;
	}
	arr = calloc((size_t)n, l->elem_size);
	if (arr == NULL) {
		errlist_add(ld->el, "%s: out of memory", ld->file);
		return;
	}
	*(void **)field_ptr(base, f) = arr;
	*(size_t *)((char *)base + l->count_off) = (size_t)n;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		void *elem = arr + (size_t)i * l->elem_size;
		char epath[300]; /* path (< 256) and "[index]" */

		snprintf(epath, sizeof(epath), "%s[%d]", path, i);
		*(int *)((char *)elem + l->line_off) = setting_line(e);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			wrong_type(ld, e, epath, "a group { … }");
			continue;
		}
		load_fields(ld, e, epath, f->sub, elem);
	}
}

static void
load_value(struct loader *ld, const config_setting_t *s, const char *path,
	   const struct field *f, void *base)
{
	void *p = field_ptr(base, f);
	int type = config_setting_type(s);
	const char *str;
	char err[512];

	switch (f->type) {
	case FT_INT: {
		long long v;

		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			wrong_type(ld, s, path, "an integer");
			return;
		}
		v = config_setting_get_int64(s);
		if (v < f->min || v > f->max) {
			at(ld, s, path, "%lld is out of range [%lld..%lld]", v,
			   f->min, f->max);
			return;
		}
		*(int *)p = (int)v;
		return;
	}
	case FT_BOOL:
		if (type != CONFIG_TYPE_BOOL) {
			wrong_type(ld, s, path, "true or false");
			return;
		}
		*(bool *)p = config_setting_get_bool(s) != 0;
		return;
	case FT_STR:
	case FT_ENUM:
	case FT_ADDR:
		if (type != CONFIG_TYPE_STRING) {
			wrong_type(ld, s, path, "a string");
			return;
		}
		str = config_setting_get_string(s);
		if (f->type == FT_ENUM) {
			int k = lookup_name(f->names, str);

			if (k == -1) {
				names_list(err, sizeof(err), f->names);
				at(ld, s, path, "\"%s\" is not one of: %s", str,
				   err);
				return;
			}
			*(int *)p = k;
			return;
		}
		if (f->type == FT_ADDR) {
			if (addr_parse(str, f->flags & F_LITERAL, p, err,
				       sizeof(err)) == -1)
				at(ld, s, path, "%s", err);
			return;
		}
		if (str[0] == '\0' && (f->flags & F_NONEMPTY)) {
			at(ld, s, path, "must not be empty");
			return;
		}
		*(char **)p = dup_or_oom(ld, str);
		if (!(ld->reload && (f->flags & F_RESTART)))
			run_check(ld, s, path, f->check, str);
		return;
	case FT_STRV:
		load_strv(ld, s, path, f, base);
		return;
	case FT_EVENTS:
		load_events(ld, s, path, p);
		return;
	case FT_GROUP:
		if (type != CONFIG_TYPE_GROUP) {
			wrong_type(ld, s, path, "a group { … }");
			return;
		}
		if (f->flags & F_PRESENCE)
			*(bool *)p = true;
		load_fields(ld, s, path, f->sub, base);
		return;
	case FT_LIST:
		load_list(ld, s, path, f, base);
		return;
	}
}

/*
 * Fills base from the settings of grp (NULL: the group is absent, so every
 * field takes its default), then reports the settings no field names.
 */
static void
load_fields(struct loader *ld, const config_setting_t *grp, const char *path,
	    const struct field *fields, void *base)
{
	char sub[256];

	for (const struct field *f = fields; f->name; f++) {
		const config_setting_t *s =
		    grp ? config_setting_get_member(grp, f->name) : NULL;

		join_path(sub, sizeof(sub), path, f->name);
		if (s == NULL) {
			/* Inside an absent optional group nothing is
			 * required: the group is not in use. */
			if (grp == NULL && path[0] != '\0' &&
			    (f->flags & F_REQUIRED))
				continue;
			load_default(ld, grp, sub, f, base);
		} else {
			load_value(ld, s, sub, f, base);
		}
	}
	if (grp == NULL)
		return;
	for (int i = 0; i < config_setting_length(grp); i++) {
		const config_setting_t *s = config_setting_get_elem(grp, i);
		const char *name = config_setting_name(s);
		const struct field *f;

		for (f = fields; f->name; f++)
			if (strcmp(f->name, name) == 0)
				break;
		if (f->name == NULL) {
			join_path(sub, sizeof(sub), path, name);
			at(ld, s, sub, "unknown setting");
		}
	}
}

static void
free_fields(const struct field *fields, void *base)
{
	for (const struct field *f = fields; f->name; f++) {
		void *p = field_ptr(base, f);

		switch (f->type) {
		case FT_STR:
			free(*(char **)p);
			break;
		case FT_STRV: {
			char **v = *(char ***)p;

			for (size_t i = 0; v && v[i]; i++)
				free(v[i]);
			free(v);
			break;
		}
		case FT_ADDR:
			addr_free(p);
			break;
		case FT_GROUP:
			free_fields(f->sub, base);
			break;
		case FT_LIST: {
			char *arr = *(char **)p;
			size_t n =
			    *(size_t *)((char *)base + f->list->count_off);

			for (size_t i = 0; i < n; i++)
				free_fields(f->sub,
					    arr + i * f->list->elem_size);
			free(arr);
			break;
		}
		case FT_INT:
		case FT_BOOL:
		case FT_ENUM:
		case FT_EVENTS:
			break;
		}
	}
}

/* The setting at a dotted path, or its nearest existing ancestor, for an
 * error's line number. */
static const config_setting_t *
nearest(struct loader *ld, const char *path)
{
	char buf[256];
	char *dot;

	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		const config_setting_t *s = config_lookup(&ld->cfg, buf);

		if (s != NULL)
			return s;
		dot = strrchr(buf, '.');
		if (dot == NULL)
			return NULL;
		*dot = '\0';
	}
}

static void __attribute__((format(printf, 3, 4)))
error_at_path(struct loader *ld, const char *path, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	at(ld, nearest(ld, path), path, "%s", msg);
}

static void
error_in_elem(struct loader *ld, const char *list, size_t i, int line,
	      const char *name, const char *msg)
{
	char path[256];

	snprintf(path, sizeof(path), "%s[%zu].%s", list, i, name);
	errlist_at(ld->el, ld->file, line, path, "%s", msg);
}

static void
validate_listen(struct loader *ld, struct conf *c)
{
	char err[512];

	for (size_t i = 0; i < c->n_listen; i++) {
		struct conf_listen *l = &c->listen[i];

		if (l->addr.text == NULL)
			continue;
		for (size_t j = 0; j < i; j++) {
			if (c->listen[j].addr.text != NULL &&
			    addr_same(&l->addr, &c->listen[j].addr)) {
				snprintf(err, sizeof(err),
					 "%s is listed twice (also at line %d)",
					 l->addr.text, c->listen[j].line);
				error_in_elem(ld, "listen", i, l->line,
					      "address", err);
			}
		}
		/* Files that are not there were reported already; a reload
		 * keeps the listeners it has. */
		if (!ld->reload && l->tls && l->certificate && l->key &&
		    check_readable_file(l->certificate, err, sizeof(err)) ==
			0 &&
		    check_readable_file(l->key, err, sizeof(err)) == 0 &&
		    check_tls_pair(l->certificate, l->key, err, sizeof(err)) ==
			-1)
			error_in_elem(ld, "listen", i, l->line, "tls", err);
	}
}

static const char *
heartbeat_key(const struct conf_node *n)
{
	return n->heartbeat_id ? n->heartbeat_id : n->name;
}

/*
 * A node given by host name is resolved when the configuration is loaded,
 * as HAProxy does without a resolvers section: the proxy connects to the
 * address found then (and a reload looks again).
 */
static void
resolve_node(struct loader *ld, struct conf_node *n, size_t i)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	char err[512];
	int rc;

	if (n->addr.text == NULL || n->addr.literal)
		return;
	rc = getaddrinfo(n->addr.host, n->addr.port, &hints, &res);
	if (rc != 0) {
		snprintf(err, sizeof(err), "\"%s\": cannot resolve %s: %s",
			 n->addr.text, n->addr.host, gai_strerror(rc));
		error_in_elem(ld, "cluster.nodes", i, n->line, "address", err);
		return;
	}
	memcpy(&n->addr.sa, res->ai_addr, res->ai_addrlen);
	n->addr.salen = res->ai_addrlen;
	freeaddrinfo(res);
}

static void
validate_nodes(struct loader *ld, struct conf *c)
{
	char err[512];

	for (size_t i = 0; i < c->n_nodes; i++)
		resolve_node(ld, &c->nodes[i], i);

	for (size_t i = 0; i < c->n_nodes; i++) {
		struct conf_node *n = &c->nodes[i];

		for (size_t j = 0; j < i; j++) {
			struct conf_node *m = &c->nodes[j];

			if (n->name && m->name &&
			    strcmp(n->name, m->name) == 0) {
				snprintf(err, sizeof(err),
					 "duplicate node name \"%s\" (also at "
					 "line %d)",
					 n->name, m->line);
				error_in_elem(ld, "cluster.nodes", i, n->line,
					      "name", err);
			}
			if (n->addr.text && m->addr.text &&
			    addr_same(&n->addr, &m->addr)) {
				snprintf(err, sizeof(err),
					 "duplicate node address %s (also "
					 "node \"%s\" at line %d)",
					 n->addr.text, m->name ? m->name : "?",
					 m->line);
				error_in_elem(ld, "cluster.nodes", i, n->line,
					      "address", err);
			}
			if (n->name && m->name &&
			    strcmp(heartbeat_key(n), heartbeat_key(m)) == 0 &&
			    strcmp(n->name, m->name) != 0) {
				snprintf(err, sizeof(err),
					 "heartbeat row \"%s\" would belong "
					 "to nodes \"%s\" and \"%s\"",
					 heartbeat_key(n), m->name, n->name);
				error_in_elem(ld, "cluster.nodes", i, n->line,
					      "heartbeat_id", err);
			}
		}
	}
	if (c->n_nodes > 0 && (size_t)c->active_nodes > c->n_nodes)
		error_at_path(ld, "cluster.active_nodes",
			      "%d is more than the %zu configured nodes",
			      c->active_nodes, c->n_nodes);
}

static void
validate_channels(struct loader *ld, struct conf *c)
{
	static const char *const required[] = {
		[CHANNEL_WEBHOOK] = "url",
		[CHANNEL_EMAIL] = "url",
		[CHANNEL_SYSLOG] = NULL,
		[CHANNEL_EXEC] = "command",
	};
	config_setting_t *list = config_lookup(&ld->cfg, "notify.channels");
	char err[512];

	for (size_t i = 0; i < c->n_channels; i++) {
		struct conf_channel *ch = &c->channels[i];
		config_setting_t *s = config_setting_get_elem(list, (int)i);
		const struct field *f;
		const char *tname;
		int k;

		if (s == NULL || config_setting_type(s) != CONFIG_TYPE_GROUP)
			continue;
		if (config_setting_get_member(s, "type") == NULL) {
			char names[256];

			names_list(names, sizeof(names), channel_type_names);
			snprintf(err, sizeof(err),
				 "missing (required); one of: %s", names);
			error_in_elem(ld, "notify.channels", i, ch->line,
				      "type", err);
			continue;
		}
		tname = config_setting_get_string(
		    config_setting_get_member(s, "type"));
		if (tname == NULL ||
		    lookup_name(channel_type_names, tname) == -1)
			continue; /* already reported as not one of */
		for (k = 0, f = channel_fields; f->name; f++, k++) {
			config_setting_t *m =
			    config_setting_get_member(s, f->name);

			if (m != NULL && !(channel_allows[ch->type] & CF(k))) {
				snprintf(err, sizeof(err),
					 "not a setting of %s channels",
					 channel_type_names[ch->type]);
				error_in_elem(ld, "notify.channels", i,
					      setting_line(m), f->name, err);
			}
		}
		if (required[ch->type] != NULL &&
		    config_setting_get_member(s, required[ch->type]) == NULL)
			error_in_elem(ld, "notify.channels", i, ch->line,
				      required[ch->type], "missing (required)");
		if (ch->type == CHANNEL_EMAIL) {
			if (ch->from == NULL)
				error_in_elem(ld, "notify.channels", i,
					      ch->line, "from",
					      "missing (required)");
			if (ch->to == NULL)
				error_in_elem(ld, "notify.channels", i,
					      ch->line, "to",
					      "missing (required)");
			if (ch->password_file != NULL &&
			    (ch->password = read_secret_line(
				 ch->password_file, err, sizeof(err))) == NULL)
				error_in_elem(ld, "notify.channels", i,
					      ch->line, "password_file", err);
			if ((ch->username == NULL) !=
			    (ch->password_file == NULL))
				error_in_elem(
				    ld, "notify.channels", i, ch->line,
				    ch->username ? "password_file" : "username",
				    "missing (username and password_file go "
				    "together)");
		}
		if (ch->url != NULL &&
		    (ch->type == CHANNEL_WEBHOOK
			 ? check_http_url
			 : check_smtp_url)(ch->url, err, sizeof(err)) == -1)
			error_in_elem(
			    ld, "notify.channels", i,
			    setting_line(config_setting_get_member(s, "url")),
			    "url", err);
	}
}

static void
compile_pattern(struct loader *ld, const char *path, const char *pattern,
		struct pcre2_real_code_8 **out)
{
	char err[512];

	if (pattern != NULL && pattern[0] != '\0' &&
	    check_regex(pattern, out, err, sizeof(err)) == -1)
		error_at_path(ld, path, "%s", err);
}

/*
 * libpq resolves host names synchronously, which would stall the main loop
 * (probes, admin, signals) whenever DNS is slow. Names are resolved here,
 * when the configuration is loaded, and handed to libpq as hostaddr= (the
 * names stay as host= for TLS and .pgpass), as for nodes.
 */
static void
resolve_conninfo(struct loader *ld, struct conf *c)
{
	PQconninfoOption *opts, *o;
	const char *host = NULL, *hostaddr = NULL;
	char addrs[1024] = "", err[512];
	size_t off = 0;

	if (!c->heartbeat_enabled || c->heartbeat_conninfo == NULL)
		return;
	opts = PQconninfoParse(c->heartbeat_conninfo, NULL);
	if (opts == NULL)
		return; /* reported by check_conninfo */
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
	}
	if (host == NULL || *host == '\0' ||
	    (hostaddr != NULL && *hostaddr != '\0')) {
		c->heartbeat_connect = dup_or_oom(ld, c->heartbeat_conninfo);
		goto out;
	}
	for (const char *p = host; *p && off < sizeof(addrs);) {
		size_t n = strcspn(p, ",");
		char name[256], num[256] = "";
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
		struct in6_addr tmp6;
		int rc;

		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		if (name[0] != '/' && name[0] != '@' &&
		    inet_pton(AF_INET, name, &tmp6) != 1 &&
		    inet_pton(AF_INET6, name, &tmp6) != 1) {
			rc = getaddrinfo(name, NULL, &hints, &res);
			if (rc != 0) {
				snprintf(err, sizeof(err),
					 "cannot resolve %s: %s", name,
					 gai_strerror(rc));
				error_at_path(ld, "health.heartbeat.conninfo",
					      "%s", err);
				goto out;
			}
			getnameinfo(res->ai_addr, res->ai_addrlen, num,
				    sizeof(num), NULL, 0, NI_NUMERICHOST);
			freeaddrinfo(res);
		} else if (name[0] != '/' && name[0] != '@') {
			snprintf(num, sizeof(num), "%s", name);
		}
		off += (size_t)snprintf(addrs + off, sizeof(addrs) - off,
					"%s%s", off ? "," : "", num);
		p += n;
		if (*p == ',')
			p++;
	}
	if (asprintf(&c->heartbeat_connect, "%s hostaddr='%s'",
		     c->heartbeat_conninfo, addrs) == -1) {
		c->heartbeat_connect = NULL;
		errlist_add(ld->el, "%s: out of memory", ld->file);
	}
out:
	PQconninfoFree(opts);
}

/*
 * A restart hook runs as vigil runs once it has dropped privileges:
 * vigil.user, or whoever started it. Root only when the operator says so.
 * (A user that does not exist is vigil.user's own error, at start.)
 */
static void
validate_hook_user(struct loader *ld, const struct conf *c)
{
	const struct passwd *pw;
	uid_t uid = geteuid();

	if (!c->restart_enabled || c->restart_dry_run || c->restart_allow_root)
		return;
	if (c->user != NULL) {
		pw = getpwnam(c->user);
		if (pw == NULL)
			return;
		uid = pw->pw_uid;
	}
	if (uid == 0)
		error_at_path(ld, "hooks.restart",
			      "the hook would run as root; set vigil.user to "
			      "an unprivileged user, or allow_root = true");
}

static void
validate(struct loader *ld, struct conf *c)
{
	if (c->name == NULL) {
		char host[256] = "vigil";

		if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
			snprintf(host, sizeof(host), "vigil");
		host[sizeof(host) - 1] = '\0';
		c->name = dup_or_oom(ld, host);
	}
	validate_listen(ld, c);
	validate_nodes(ld, c);
	resolve_conninfo(ld, c);
	validate_channels(ld, c);
	validate_hook_user(ld, c);

	if (c->probe_timeout_ms > c->probe_interval_ms)
		error_at_path(ld, "health.probe.timeout_ms",
			      "%d is more than interval_ms (%d)",
			      c->probe_timeout_ms, c->probe_interval_ms);
	if (c->retry_initial_ms > c->retry_max_ms)
		error_at_path(ld, "notify.retry_initial_ms",
			      "%d is more than retry_max_ms (%d)",
			      c->retry_initial_ms, c->retry_max_ms);
	compile_pattern(ld, "health.probe.running", c->probe_running,
			&c->probe_running_re);
	compile_pattern(ld, "health.probe.standby", c->probe_standby,
			&c->probe_standby_re);
}

static struct conf *
load(const char *path, bool reload, struct errlist *el)
{
	struct loader ld = { .file = path, .el = el, .reload = reload };
	size_t before = el->n;
	struct conf *c = NULL;
	char dir[PATH_MAX];
	char *slash;

	config_init(&ld.cfg);
	/* @include "x.conf" is relative to the including file's folder. */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		config_set_include_dir(&ld.cfg, dir[0] ? dir : "/");
	}
	if (access(path, R_OK) == -1 ||
	    config_read_file(&ld.cfg, path) != CONFIG_TRUE) {
		const char *f = config_error_file(&ld.cfg);
		int line = config_error_line(&ld.cfg);

		if (config_error_type(&ld.cfg) == CONFIG_ERR_PARSE)
			errlist_add(el, "%s:%d: %s", f ? f : path, line,
				    config_error_text(&ld.cfg));
		else
			errlist_add(el, "%s: cannot read the file: %m", path);
		goto out;
	}

	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->file = strdup(path)) == NULL) {
		errlist_add(el, "%s: out of memory", path);
		goto out;
	}
	load_fields(&ld, config_root_setting(&ld.cfg), "", root_fields, c);
	validate(&ld, c);
out:
	config_destroy(&ld.cfg);
	if (el->n > before || el->oom) {
		conf_free(c);
		return NULL;
	}
	return c;
}

struct conf *
conf_load(const char *path, struct errlist *el)
{
	return load(path, false, el);
}

struct conf *
conf_reload(const char *path, struct errlist *el)
{
	return load(path, true, el);
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; c->channels != NULL && i < c->n_channels; i++) {
		char *pw = c->channels[i].password;

		if (pw != NULL) {
			explicit_bzero(pw, strlen(pw));
			free(pw);
		}
	}
	free_fields(root_fields, c);
	pcre2_code_free(c->probe_running_re);
	pcre2_code_free(c->probe_standby_re);
	free(c->heartbeat_connect);
	free(c->file);
	free(c);
}

long long
conf_failover_timeout_ms(const struct conf *c)
{
	return (long long)c->heartbeat_interval_ms *
	       c->heartbeat_failover_heartbeats;
}
