/*
 * leader.c: the advisory lock and the shared records, on a session of its
 * own (health/pgq.c). Every poll a follower tries the lock and reads what
 * the leader delivered since its last look; the leader pings its session
 * (the lock lives as long as the session) and now and then deletes old
 * records. A session that ends makes the appliance's leadership unknown
 * until the next one answers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/log.h"
#include "health/leader.h"
#include "health/pgq.h"

const char *const leadership_names[LEAD__COUNT] = {
	[LEAD_SOLE] = "sole",
	[LEAD_CONNECTING] = "connecting",
	[LEAD_UNKNOWN] = "unknown",
	[LEAD_FOLLOWER] = "follower",
	[LEAD_LEADER] = "leader",
};

#define POLL_MAX_S    1.0   /* as the heartbeat poll: at least every second */
#define QUERY_TIMEOUT 5.0   /* s: connect, or one query */
#define CLEANUP_S     600.0 /* how often the leader deletes old records */

/* The tables, created by the first appliance that may (the role needs
 * CREATE on the schema; SPEC.md gives the statements to run by hand). The
 * transaction-scoped lock serialises appliances starting together. */
#define SETUP_SQL                                                              \
	"BEGIN;\n"                                                             \
	"SELECT pg_advisory_xact_lock(%lld);\n"                                \
	"CREATE TABLE IF NOT EXISTS vigil_leader (cluster text PRIMARY KEY, "  \
	"appliance text NOT NULL, since timestamptz NOT NULL DEFAULT now());\n" \
	"CREATE TABLE IF NOT EXISTS vigil_delivered (seq bigserial PRIMARY "   \
	"KEY, cluster text NOT NULL, channel text NOT NULL, id text NOT NULL, " \
	"raised bigint NOT NULL, at timestamptz NOT NULL DEFAULT now());\n"    \
	"CREATE TABLE IF NOT EXISTS vigil_restart (cluster text NOT NULL, "    \
	"node text NOT NULL, incident bigint NOT NULL, attempt int NOT NULL, " \
	"appliance text NOT NULL, started timestamptz NOT NULL DEFAULT now(), " \
	"ended timestamptz, hook_ok boolean, outcome text, detail text, "      \
	"PRIMARY KEY (cluster, node, incident, attempt));\n"                   \
	"COMMIT;"

#define TRY_SQL                                                                \
	"SELECT pg_try_advisory_lock($1::bigint), (SELECT appliance FROM "     \
	"vigil_leader WHERE cluster = $2)"
#define TRY_BARE_SQL "SELECT pg_try_advisory_lock($1::bigint), NULL::text"

#define TOOK_SQL                                                               \
	"INSERT INTO vigil_leader (cluster, appliance) VALUES ($1, $2) ON "    \
	"CONFLICT (cluster) DO UPDATE SET appliance = EXCLUDED.appliance, "    \
	"since = now()"

#define FETCH_SQL                                                              \
	"SELECT seq, channel, id, raised FROM vigil_delivered WHERE cluster = " \
	"$1 AND "                                                              \
	"seq > $2::bigint AND at > now() - interval '1 day' ORDER BY seq "     \
	"LIMIT 1000"

#define DELIVERED_SQL                                                          \
	"INSERT INTO vigil_delivered (cluster, channel, id, raised) VALUES "    \
	"($1, $2, $3, $4::bigint)"

#define CLEANUP_DELIVERED_SQL                                                  \
	"DELETE FROM vigil_delivered WHERE cluster = $1 AND at < now() - "     \
	"interval '1 day'"
#define CLEANUP_RESTART_SQL                                                    \
	"DELETE FROM vigil_restart WHERE cluster = $1 AND started < now() - "  \
	"interval '7 days'"

/* Granted when no attempt as high is recorded for the incident; either
 * way the attempts recorded before this statement come back (the outer
 * SELECT does not see the CTE's insert), at least one row. */
#define CLAIM_SQL                                                              \
	"WITH ins AS (INSERT INTO vigil_restart (cluster, node, incident, "    \
	"attempt, appliance) SELECT $1, $2, $3::bigint, $4::int, $5 WHERE "    \
	"NOT EXISTS (SELECT 1 FROM vigil_restart WHERE cluster = $1 AND node " \
	"= $2 AND incident = $3::bigint AND attempt >= $4::int) RETURNING "    \
	"attempt) SELECT (SELECT count(*) FROM ins), r.attempt, r.hook_ok, "   \
	"r.outcome, EXTRACT(EPOCH FROM now() - r.started) * 1000, "            \
	"EXTRACT(EPOCH FROM now() - r.ended) * 1000, r.appliance FROM "        \
	"(SELECT 1) AS one LEFT JOIN vigil_restart r ON r.cluster = $1 AND "   \
	"r.node = $2 AND r.incident = $3::bigint ORDER BY r.attempt"

#define HOOK_SQL                                                               \
	"UPDATE vigil_restart SET ended = now(), hook_ok = $5::boolean, "      \
	"detail = $6 WHERE cluster = $1 AND node = $2 AND incident = "         \
	"$3::bigint AND attempt = $4::int"
#define OUTCOME_SQL                                                            \
	"UPDATE vigil_restart SET outcome = $5 WHERE cluster = $1 AND node = " \
	"$2 AND incident = $3::bigint AND attempt = $4::int"

struct leader {
	struct ev_loop *loop;
	const struct conf *conf;
	struct leader_sink sink;
	struct pgq *q;
	enum leadership state;
	char *holder;	  /* as the database names it */
	char key[24];	  /* the lock's key, as text */
	bool tables;	  /* the tables exist (setup answered) */
	bool told_tables; /* their absence was logged */
	bool asking;	  /* a TRY or ping is out */
	bool fetching;	  /* a FETCH is out */
	bool stopping;
	long long seq; /* the last vigil_delivered row read */
	double cleaned;
	ev_timer tick;
};

struct claim {
	struct leader *l;
	leader_claim_fn cb;
	void *ctx;
	char node[];
};

static int64_t
key_of(const char *a, const char *b)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	uint64_t k = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	memset(h, 0, sizeof(h));
	if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
		EVP_DigestUpdate(md, a, strlen(a));
		EVP_DigestUpdate(md, b, strlen(b));
		EVP_DigestFinal_ex(md, h, &hl);
	}
	EVP_MD_CTX_free(md);
	for (int i = 0; i < 8; i++)
		k = k << 8 | h[i];
	return (int64_t)k;
}

int64_t
leader_key(const char *cluster)
{
	return key_of("vigil:", cluster);
}

static void
set_holder(struct leader *l, const char *holder)
{
	char *h = holder ? strdup(holder) : NULL;

	free(l->holder);
	l->holder = h;
}

static void
set_state(struct leader *l, enum leadership s, const char *holder,
	  const char *prev)
{
	bool same = l->state == s &&
		    ((holder == NULL && l->holder == NULL) ||
		     (holder != NULL && l->holder != NULL &&
		      strcmp(holder, l->holder) == 0));

	if (same)
		return;
	if (s == LEAD_LEADER && l->state != LEAD_LEADER)
		log_info("leadership: this appliance (%s) leads cluster %s "
			 "(advisory lock %s)%s%s",
			 l->conf->name, l->conf->cluster_name, l->key,
			 prev ? "; it took over from " : "", prev ? prev : "");
	else if (s == LEAD_FOLLOWER && l->state != LEAD_FOLLOWER)
		log_info("leadership: following %s", holder ? holder : "?");
	else if (s != LEAD_LEADER && l->state == LEAD_LEADER)
		log_warn("leadership: this appliance no longer leads (%s)",
			 leadership_names[s]);
	l->state = s;
	set_holder(l, holder);
	l->sink.changed(l->sink.ctx, s, l->holder, prev);
}

static void
queue(struct leader *l, const char *sql, int n, const char *const *params,
     pgq_result_fn cb, void *ctx)
{
	if (pgq_send(l->q, sql, n, params, cb, ctx) == -1 && cb != NULL)
		cb(ctx, NULL, "no session");
}

static bool
ok_result(const PGresult *res)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/* What an INSERT or UPDATE that matters little says: logged at debug. */
static void
on_record(void *ctx, const PGresult *res, const char *why)
{
	struct leader *l = ctx;

	if (!l->stopping && res != NULL && !ok_result(res))
		log_debug("leadership: a record was not written: %s",
			  PQresultErrorMessage(res));
}

static void
on_try(void *ctx, const PGresult *res, const char *why)
{
	struct leader *l = ctx;
	const char *holder;

	l->asking = false;
	if (l->stopping || res == NULL)
		return;
	if (!ok_result(res) || PQntuples(res) != 1 || PQnfields(res) != 2) {
		log_warn("leadership: the lock query failed: %s",
			 PQresultErrorMessage(res));
		return;
	}
	holder = PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1);
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		set_state(l, LEAD_FOLLOWER, holder, NULL);
		return;
	}
	if (l->tables) {
		const char *p[] = { l->conf->cluster_name, l->conf->name };

		queue(l, TOOK_SQL, 2, p, on_record, l);
	}
	set_state(l, LEAD_LEADER, l->conf->name,
		  holder && strcmp(holder, l->conf->name) != 0 ? holder : NULL);
}

static void
on_ping(void *ctx, const PGresult *res, const char *why)
{
	struct leader *l = ctx;

	l->asking = false;
}

static void
on_fetch(void *ctx, const PGresult *res, const char *why)
{
	struct leader *l = ctx;

	l->fetching = false;
	if (l->stopping || res == NULL || !ok_result(res) ||
	    PQnfields(res) != 4)
		return;
	for (int i = 0; i < PQntuples(res); i++) {
		l->seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		if (l->state == LEAD_FOLLOWER)
			l->sink.delivered(l->sink.ctx, PQgetvalue(res, i, 1),
					  PQgetvalue(res, i, 2),
					  strtod(PQgetvalue(res, i, 3), NULL));
	}
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents);

static void
on_setup(void *ctx, const PGresult *res, const char *why)
{
	struct leader *l = ctx;

	if (l->stopping || res == NULL)
		return;
	if (ok_result(res)) {
		l->tables = true;
		on_tick(l->loop, &l->tick, 0);
		return;
	}
	/* The transaction is aborted: end it, or every query fails. */
	queue(l, "ROLLBACK", 0, NULL, on_record, l);
	if (!l->told_tables)
		log_error("leadership: cannot create vigil's tables "
			  "(vigil_leader, vigil_delivered, vigil_restart): %s; "
			  "the lock still elects a leader, but a new leader "
			  "cannot tell what the last one delivered or "
			  "restarted (SPEC.md \"Several appliances\")",
			  PQresultErrorMessage(res));
	l->told_tables = true;
}

static void
send_setup(struct leader *l)
{
	char sql[sizeof(SETUP_SQL) + 32];

	snprintf(sql, sizeof(sql), SETUP_SQL,
		 (long long)key_of("vigil schema:", ""));
	queue(l, sql, 0, NULL, on_setup, l);
}

static void
on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct leader *l = w->data;
	const char *p[2] = { NULL, NULL };
	char seq[32];

	if (!pgq_up(l->q))
		return;
	if (!l->tables && !l->told_tables)
		return; /* the setup is still out */
	if (!l->asking) {
		l->asking = true;
		if (l->state == LEAD_LEADER) {
			queue(l, "SELECT 1", 0, NULL, on_ping, l);
		} else {
			p[0] = l->key;
			p[1] = l->conf->cluster_name;
			queue(l, l->tables ? TRY_SQL : TRY_BARE_SQL, 2, p,
			     on_try, l);
		}
	}
	if (!l->tables)
		return;
	p[0] = l->conf->cluster_name;
	if (l->state == LEAD_FOLLOWER && !l->fetching) {
		l->fetching = true;
		snprintf(seq, sizeof(seq), "%lld", l->seq);
		p[1] = seq;
		queue(l, FETCH_SQL, 2, p, on_fetch, l);
	}
	if (l->state == LEAD_LEADER && ev_now(loop) - l->cleaned > CLEANUP_S) {
		l->cleaned = ev_now(loop);
		queue(l, CLEANUP_DELIVERED_SQL, 1, p, on_record, l);
		queue(l, CLEANUP_RESTART_SQL, 1, p, on_record, l);
	}
}

static void
on_up(void *ctx)
{
	struct leader *l = ctx;

	l->asking = l->fetching = false;
	if (!l->tables)
		send_setup(l);
	/* Ask at once: a follower whose leader vanished takes over now. */
	on_tick(l->loop, &l->tick, 0);
}

static void
on_down(void *ctx, const char *why)
{
	struct leader *l = ctx;

	l->asking = l->fetching = false;
	if (l->state != LEAD_UNKNOWN)
		log_warn("leadership: the database session ended (%s): "
			 "notifications go out as if this appliance led; no "
			 "restart hook runs",
			 why);
	set_state(l, LEAD_UNKNOWN, NULL, NULL);
}

struct leader *
leader_start(struct ev_loop *loop, const struct conf *conf,
	     const struct leader_sink *sink)
{
	static const struct pgq_sink proto = { on_up, on_down, NULL };
	struct pgq_sink ps = proto;
	struct leader *l = calloc(1, sizeof(*l));
	double every = conf->heartbeat_interval_ms / 1000.0;
	char app[128];

	if (l == NULL)
		return NULL;
	l->loop = loop;
	l->conf = conf;
	l->sink = *sink;
	l->state = LEAD_CONNECTING;
	l->cleaned = ev_now(loop);
	snprintf(l->key, sizeof(l->key), "%lld",
		 (long long)leader_key(conf->cluster_name));
	ev_timer_init(&l->tick, on_tick, 0., every < POLL_MAX_S ? every
							       : POLL_MAX_S);
	l->tick.data = l;
	ev_timer_again(loop, &l->tick);
	snprintf(app, sizeof(app), "vigil %s", conf->name);
	ps.ctx = l;
	l->q = pgq_start(loop, conf->heartbeat_connect, app, QUERY_TIMEOUT,
			 &ps);
	if (l->q == NULL) {
		leader_stop(l);
		return NULL;
	}
	return l;
}

int
leader_reload(struct leader *l, const struct conf *conf)
{
	double every = conf->heartbeat_interval_ms / 1000.0;

	if (!conf->heartbeat_enabled ||
	    strcmp(conf->heartbeat_connect, l->conf->heartbeat_connect) != 0 ||
	    strcmp(conf->cluster_name, l->conf->cluster_name) != 0 ||
	    strcmp(conf->name, l->conf->name) != 0)
		return -1;
	l->conf = conf;
	l->tick.repeat = every < POLL_MAX_S ? every : POLL_MAX_S;
	ev_timer_again(l->loop, &l->tick);
	return 0;
}

void
leader_stop(struct leader *l)
{
	if (l == NULL)
		return;
	l->stopping = true;
	ev_timer_stop(l->loop, &l->tick);
	pgq_stop(l->q); /* ends the session: the lock goes with it */
	free(l->holder);
	free(l);
}


bool
leader_records(const struct leader *l)
{
	return l != NULL && l->tables;
}

const char *
leader_holder(const struct leader *l)
{
	return l ? l->holder : NULL;
}

void
leader_delivered(struct leader *l, const char *channel, const char *id,
		 double raised)
{
	char r[32];
	const char *p[] = { l->conf->cluster_name, channel, id, r };

	snprintf(r, sizeof(r), "%.0f", raised);
	if (l->state == LEAD_LEADER && l->tables)
		queue(l, DELIVERED_SQL, 4, p, on_record, l);
}

static double
number(const PGresult *res, int row, int col, double none)
{
	return PQgetisnull(res, row, col)
		   ? none
		   : strtod(PQgetvalue(res, row, col), NULL);
}

static void
on_claim(void *ctx, const PGresult *res, const char *why)
{
	struct claim *c = ctx;
	struct restart_record rec = { .hook = -1, .outcome = -1 };
	int n;

	if (c->l->stopping)
		goto out;
	if (res == NULL || !ok_result(res) ||
	    (n = PQntuples(res)) < 1 || PQnfields(res) != 7) {
		log_warn("leadership: cannot claim the restart of %s: %s",
			 c->node,
			 res ? PQresultErrorMessage(res) : why ? why : "?");
		c->cb(c->ctx, c->node, NULL);
		goto out;
	}
	rec.granted = strcmp(PQgetvalue(res, 0, 0), "1") == 0;
	for (int i = 0; i < n; i++) {
		const char *outcome = PQgetvalue(res, i, 3);

		if (PQgetisnull(res, i, 1))
			continue;
		rec.attempts = atoi(PQgetvalue(res, i, 1));
		rec.failed += strcmp(outcome, "failed") == 0;
		rec.hook = PQgetisnull(res, i, 2)
			       ? -1
			       : strcmp(PQgetvalue(res, i, 2), "t") == 0;
		rec.outcome = PQgetisnull(res, i, 3)
				  ? -1
				  : strcmp(outcome, "succeeded") == 0;
		rec.started_ms = number(res, i, 4, 0);
		rec.ended_ms = number(res, i, 5, -1);
		rec.by = PQgetvalue(res, i, 6);
	}
	c->cb(c->ctx, c->node, &rec);
out:
	free(c);
}

int
leader_claim(struct leader *l, const char *node, int64_t incident,
	     int attempt, leader_claim_fn cb, void *ctx)
{
	char inc[32], att[16];
	const char *p[] = { l->conf->cluster_name, node, inc, att,
			    l->conf->name };
	struct claim *c;

	if (l->state != LEAD_LEADER || !l->tables)
		return -1;
	if ((c = malloc(sizeof(*c) + strlen(node) + 1)) == NULL)
		return -1;
	c->l = l;
	c->cb = cb;
	c->ctx = ctx;
	strcpy(c->node, node);
	snprintf(inc, sizeof(inc), "%lld", (long long)incident);
	snprintf(att, sizeof(att), "%d", attempt);
	if (pgq_send(l->q, CLAIM_SQL, 5, p, on_claim, c) == -1) {
		free(c);
		return -1;
	}
	return 0;
}

static void
record(struct leader *l, const char *sql, const char *node, int64_t incident,
       int attempt, const char *v5, const char *v6)
{
	char inc[32], att[16];
	const char *p[] = { l->conf->cluster_name, node, inc, att, v5, v6 };

	if (!l->tables)
		return;
	snprintf(inc, sizeof(inc), "%lld", (long long)incident);
	snprintf(att, sizeof(att), "%d", attempt);
	queue(l, sql, v6 ? 6 : 5, p, on_record, l);
}

void
leader_record_hook(struct leader *l, const char *node, int64_t incident,
		   int attempt, bool ok, const char *detail)
{
	record(l, HOOK_SQL, node, incident, attempt, ok ? "true" : "false",
	       detail ? detail : "");
}

void
leader_record_outcome(struct leader *l, const char *node, int64_t incident,
		      int attempt, bool succeeded)
{
	record(l, OUTCOME_SQL, node, incident, attempt,
	       succeeded ? "succeeded" : "failed", NULL);
}
