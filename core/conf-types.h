/*
 * conf-types.h: the typed form of vigil's configuration file (SPEC.md
 * "Configuration"). Built whole by conf_load(), never changed after; a
 * reload builds a second one beside it and swaps.
 */
#ifndef VIGIL_CONF_TYPES_H
#define VIGIL_CONF_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct pcre2_real_code_8;

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_target {
	LOG_TARGET_STDERR = 0,
	LOG_TARGET_SYSLOG,
};

enum stick_mode {
	STICK_COOKIE = 0,
	STICK_SOURCE,
	STICK_NONE,
};

enum channel_type {
	CHANNEL_WEBHOOK = 0,
	CHANNEL_EMAIL,
	CHANNEL_SYSLOG,
	CHANNEL_EXEC,
};

/* A webhook's body: the event's JSON, or {"text": "one line"} for chat
 * incoming webhooks (Slack, Teams, Mattermost). */
enum channel_format {
	FORMAT_JSON = 0,
	FORMAT_SLACK,
};

/* Event kinds (SPEC.md "Events"); a channel's filter is a bit set of them. */
enum event_kind {
	EVENT_NODE_UP = 0,
	EVENT_NODE_DOWN,
	EVENT_FAILOVER,
	EVENT_ALL_DOWN,
	EVENT_SPLIT_BRAIN,
	EVENT_HEARTBEAT_SOURCE_DOWN,
	EVENT_HEARTBEAT_SOURCE_UP,
	EVENT_RESTART_STARTED,
	EVENT_RESTART_SUCCEEDED,
	EVENT_RESTART_FAILED,
	EVENT_RESTART_GAVE_UP,
	EVENT_CONFIG_RELOADED,
	EVENT_NODE_FLAPPING,
	EVENT_NODE_STABLE,
	EVENT_LEADER_CHANGED,
	EVENT_VIP_CHANGED,
	EVENT__COUNT
};

/* A "host:port" from the file; sa is filled when host is a literal address. */
struct conf_addr {
	char *text; /* as written, for messages */
	char *host; /* without brackets */
	char *port; /* service, digits only */
	bool literal;
	struct sockaddr_storage sa;
	socklen_t salen;
};

/* proxy = { … }: one struct, so that the routing table can carry a copy
 * of it to the workers. */
struct conf_proxy {
	int connect_timeout_ms;
	int client_header_timeout_ms;
	int client_idle_timeout_ms;
	int server_timeout_ms;
	int tunnel_idle_timeout_ms;
	int max_header_bytes;
	bool forwarded_headers;
};

struct conf_listen {
	struct conf_addr addr;
	bool tls;
	char *certificate;
	char *key;
	int line;
};

struct conf_node {
	char *name;
	struct conf_addr addr;
	bool tls;
	int priority;
	char *heartbeat_id; /* NULL: the heartbeat row is looked up by name */
	int line;
};

struct conf_channel {
	enum channel_type type;
	unsigned events; /* 1u << enum event_kind */
	char *url;	 /* webhook, email */
	bool starttls;	 /* email */
	char *from;	 /* email */
	char **to;	 /* email; NULL-terminated */
	size_t n_to;
	char **command; /* exec; argv, NULL-terminated */
	size_t n_command;
	char **headers; /* webhook; "Name: value", NULL-terminated */
	size_t n_headers;
	enum channel_format format; /* webhook */
	char *username;		    /* email: SMTP login */
	char *password_file;	    /* email: its password */
	char *password; /* read at load (while vigil may): a secret */
	int timeout_ms;		    /* webhook, email, exec: one try */
	int line;
};

struct conf {
	char *file; /* the path it was read from */

	/* vigil = { … } */
	char *name;
	int workers;
	char *user;
	char *spool_dir;
	int drain_timeout_ms;
	enum log_level log_level;
	enum log_target log_target;
	char *access_log;

	struct conf_listen *listen;
	size_t n_listen;

	struct conf_proxy proxy; /* proxy = { … } */

	/* cluster = { … } */
	char *cluster_name;
	int active_nodes;
	enum stick_mode stick_mode;
	char *stick_cookie;
	char *stick_secret_file;
	struct conf_node *nodes;
	size_t n_nodes;

	/* health.probe */
	char *probe_path;
	int probe_interval_ms;
	int probe_timeout_ms;
	int probe_rise;
	int probe_fall;
	int probe_expect_status;
	char *probe_running;
	char *probe_standby; /* NULL: no standby pattern */
	struct pcre2_real_code_8 *probe_running_re;
	struct pcre2_real_code_8 *probe_standby_re;
	bool probe_tls_verify;
	char *probe_ca_file;

	/* health.heartbeat; enabled == false: probes alone decide */
	bool heartbeat_enabled;
	char *heartbeat_conninfo;
	char *heartbeat_connect; /* conninfo with hostaddr= for host names */
	char *heartbeat_query;
	int heartbeat_interval_ms;
	int heartbeat_failover_heartbeats;

	/* health.passive */
	int passive_consecutive_failures;
	int passive_eject_ms;

	/* notify */
	struct conf_channel *channels;
	size_t n_channels;
	int retry_initial_ms;
	int retry_max_ms;
	int flap_changes;   /* more changes than this in the window: flapping */
	int flap_window_ms; /* 0 changes: no damping */
	int keep_events;    /* events the log keeps for GET /api/events */

	/* hooks.restart; enabled == false: no restart hook */
	bool restart_enabled;
	char **restart_command; /* NULL-terminated */
	size_t n_restart_command;
	int restart_timeout_ms;
	int restart_max_attempts;
	int restart_backoff_ms;
	bool restart_sequential;
	int restart_wait_running_ms;
	bool restart_dry_run;
	bool restart_allow_root; /* run the hook even as root */

	/* admin; enabled == false: no admin listener */
	bool admin_enabled;
	struct conf_addr admin_addr;
	char *admin_token_file;
};

#endif
