/*
 * sim-db.c: vigil-sim's heartbeats and simulated cluster roles, written to
 * PostgreSQL with non-blocking libpq on the event loop, so that a dead or
 * stopped database never holds up HTTP serving.
 *
 * Every interval the node runs one transaction (a multi-statement simple
 * query, which PostgreSQL runs as one implicit transaction):
 *
 *   SELECT pg_advisory_xact_lock(ROLE_LOCK);     -- one deciding node at a time
 *   INSERT INTO vigil_heartbeat ... beat = now() -- the database's clock
 *   INSERT INTO vigil_sim_role ... RETURNING state
 *
 * where the role written is decided in SQL, after the lock, on fresh data
 * (each statement has its own snapshot under READ COMMITTED):
 *
 *   RUNNING   stays RUNNING. A running node never steps down by itself,
 *             even when it sees other running nodes (split brain stays
 *             split) or when its own beat is stale ("hung": it is the
 *             cluster's peers, and vigil, that must notice).
 *   STANDBY   becomes RUNNING when the fresh RUNNING nodes plus the fresh
 *             STANDBY nodes that rank before it (lower priority, then
 *             name) are fewer than active_nodes: the best candidates win,
 *             one lock holder at a time. Not before it has itself beaten
 *             for one failover timeout on this connection, so that a
 *             cluster starting together sees every node's row before
 *             anyone promotes.
 *   HELD      a standby told "standby" on the control socket: it neither
 *             promotes nor counts as a candidate until "running" or
 *             "restart".
 *   STARTING  during the start-up period; at its end the node joins as
 *             RUNNING when fewer than active_nodes fresh RUNNING nodes
 *             exist, else as STANDBY.
 *
 * "Fresh" is now() - beat <= interval_ms * failover_heartbeats, computed
 * by the database. Statements carry escaped literals rather than $1
 * parameters because the extended protocol allows one statement only.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim.h"

#define CONNECT_TIMEOUT_S 2.0
#define BACKOFF_MIN_S	  0.1
#define BACKOFF_MAX_S	  1.0
/* Two int4 keys: a key space apart from vigil's own single-bigint
 * leadership lock on the same database. */
#define ROLE_LOCK "pg_advisory_xact_lock(1986618221, 1)"

static const char setup_sql[] =
    "SELECT " ROLE_LOCK ";"
    "CREATE TABLE IF NOT EXISTS vigil_heartbeat "
    "(node text PRIMARY KEY, beat timestamptz NOT NULL);"
    "CREATE TABLE IF NOT EXISTS vigil_sim_role "
    "(node text PRIMARY KEY, state text NOT NULL, priority int NOT NULL)";

static void db_send_beat(struct sim *sim);

static void
db_notice(void *arg, const char *message)
{
	/* "relation already exists, skipping" and the like: not news. */
	(void)arg;
	(void)message;
}

static bool
db_should_beat(const struct sim *sim)
{
	return sim->heartbeat_on && sim->state != SIM_SHUTDOWN;
}

static double
db_query_timeout(const struct sim *sim)
{
	double s = (double)sim->interval_ms / 1000.0;

	return s > CONNECT_TIMEOUT_S ? s : CONNECT_TIMEOUT_S;
}

static void
db_watch(struct sim *sim, int events)
{
	struct sim_db *db = &sim->db;
	int fd = PQsocket(db->pg);

	if (fd == db->io_fd && ev_is_active(&db->io) &&
	    (db->io.events & (EV_READ | EV_WRITE)) == events)
		return;
	ev_io_stop(sim->loop, &db->io);
	db->io_fd = fd;
	if (fd < 0)
		return;
	ev_io_set(&db->io, fd, events);
	ev_io_start(sim->loop, &db->io);
}

static void
db_deadline(struct sim *sim, double seconds)
{
	ev_timer_stop(sim->loop, &sim->db.op_timer);
	ev_timer_set(&sim->db.op_timer, seconds, 0.);
	ev_timer_start(sim->loop, &sim->db.op_timer);
}

/* Logs a failure, once until the text changes or a beat succeeds. */
static void
db_report(struct sim *sim, const char *what, const char *detail)
{
	struct sim_db *db = &sim->db;
	char msg[512], *p, *q;

	snprintf(msg, sizeof(msg), "%s%s%s", what,
		 what[0] != '\0' && detail[0] != '\0' ? ": " : "", detail);
	/* libpq's messages span lines: make them one. */
	for (p = q = msg; *p != '\0'; p++) {
		if (isspace((unsigned char)*p)) {
			if (q > msg && q[-1] != ' ')
				*q++ = ' ';
		} else {
			*q++ = *p;
		}
	}
	while (q > msg && q[-1] == ' ')
		q--;
	*q = '\0';
	if (db->last_err != NULL && strcmp(db->last_err, msg) == 0)
		return;
	free(db->last_err);
	db->last_err = strdup(msg);
	sim_log(sim, "heartbeat write failed: %s", msg);
}

static void
db_disconnect(struct sim *sim)
{
	struct sim_db *db = &sim->db;

	ev_io_stop(sim->loop, &db->io);
	ev_timer_stop(sim->loop, &db->op_timer);
	db->io_fd = -1;
	if (db->pg != NULL)
		PQfinish(db->pg);
	db->pg = NULL;
	db->first_ok = 0;
}

/* Drops the connection and tries again after a back-off that doubles up
 * to BACKOFF_MAX_S. A join that was waiting on the answer gives up: the
 * node comes back as STANDBY and may promote later. */
static void
db_fail(struct sim *sim, const char *what)
{
	struct sim_db *db = &sim->db;

	db_report(sim, what, db->pg != NULL ? PQerrorMessage(db->pg) : "");
	db_disconnect(sim);
	if (sim->join_pending) {
		sim->join_pending = false;
		sim_set_state(sim, SIM_STANDBY, "could not ask the database");
	}
	db->phase = SIM_DB_BACKOFF;
	db_deadline(sim, db->backoff);
	db->backoff *= 2;
	if (db->backoff > BACKOFF_MAX_S)
		db->backoff = BACKOFF_MAX_S;
}

static void
db_connect(struct sim *sim)
{
	struct sim_db *db = &sim->db;

	db->pg = PQconnectStart(sim->conninfo);
	if (db->pg == NULL || PQstatus(db->pg) == CONNECTION_BAD ||
	    PQsocket(db->pg) < 0) {
		db_fail(sim, "cannot connect");
		return;
	}
	PQsetNoticeProcessor(db->pg, db_notice, NULL);
	db->phase = SIM_DB_CONNECTING;
	/* As if PQconnectPoll had said PGRES_POLLING_WRITING. */
	db_watch(sim, EV_WRITE);
	/* connect_timeout is ignored by PQconnectPoll: ours instead. */
	db_deadline(sim, CONNECT_TIMEOUT_S);
}

static int
db_send(struct sim *sim, const char *sql, enum sim_db_phase phase)
{
	struct sim_db *db = &sim->db;
	int r;

	if (PQsendQuery(db->pg, sql) != 1)
		return -1;
	r = PQflush(db->pg);
	if (r == -1)
		return -1;
	db->phase = phase;
	db->failed = false;
	db->decided[0] = '\0';
	db_watch(sim, r == 1 ? EV_READ | EV_WRITE : EV_READ);
	db_deadline(sim, db_query_timeout(sim));
	return 0;
}

/* The role expression of the heartbeat transaction; see the top. */
static int
db_role_expr(struct sim *sim, struct sim_buf *b, const char *name)
{
	long long fresh = sim_failover_ms(sim);
	bool join = sim->state == SIM_STARTING && sim->join_pending;
	bool grace =
	    sim->db.first_ok == 0 ||
	    (ev_now(sim->loop) - sim->db.first_ok) * 1000.0 < (double)fresh;
	char rank[512] = "";

	if (sim->state == SIM_RUNNING)
		return sim_buf_printf(b, "'RUNNING'");
	if (sim->state == SIM_STARTING && !join)
		return sim_buf_printf(b, "'STARTING'");
	if (sim->state == SIM_STANDBY && sim->hold)
		return sim_buf_printf(b, "'HELD'");
	if (sim->state == SIM_STANDBY && grace)
		return sim_buf_printf(b, "'STANDBY'");
	if (sim->active_nodes == 0)
		return sim_buf_printf(b, "'RUNNING'");
	/* A joining node only counts running nodes; a promoting standby
	 * also yields to the fresh standbys that rank before it. */
	if (!join)
		snprintf(rank, sizeof(rank),
			 " OR (r.state = 'STANDBY'"
			 " AND (r.priority, r.node) < (%ld, %s))",
			 sim->priority, name);
	return sim_buf_printf(
	    b,
	    "CASE WHEN (SELECT count(*) FROM vigil_sim_role r"
	    " JOIN vigil_heartbeat h USING (node)"
	    " WHERE r.node <> %s"
	    " AND now() - h.beat <= interval '1 millisecond' * %lld"
	    " AND (r.state = 'RUNNING'%s)) < %ld"
	    " THEN 'RUNNING' ELSE 'STANDBY' END",
	    name, fresh, rank, sim->active_nodes);
}

static void
db_send_beat(struct sim *sim)
{
	struct sim_db *db = &sim->db;
	struct sim_buf b = { 0 };
	char *name;
	int r;

	name = PQescapeLiteral(db->pg, sim->name, strlen(sim->name));
	if (name == NULL) {
		db_fail(sim, "cannot build the heartbeat query");
		return;
	}
	r = sim_buf_printf(&b,
			   "SELECT " ROLE_LOCK ";"
			   "INSERT INTO vigil_heartbeat (node, beat)"
			   " VALUES (%s, now()) ON CONFLICT (node)"
			   " DO UPDATE SET beat = now();"
			   "INSERT INTO vigil_sim_role (node, state, priority)"
			   " SELECT %s, ",
			   name, name);
	if (r == 0)
		r = db_role_expr(sim, &b, name);
	if (r == 0)
		r = sim_buf_printf(&b,
				   ", %ld ON CONFLICT (node) DO UPDATE SET"
				   " state = EXCLUDED.state,"
				   " priority = EXCLUDED.priority"
				   " RETURNING state",
				   sim->priority);
	PQfreemem(name);
	db->sent_gen = sim->gen;
	db->sent_join = sim->state == SIM_STARTING && sim->join_pending;
	if (r == -1 || db_send(sim, b.data, SIM_DB_BUSY) == -1)
		db_fail(sim, "cannot send the heartbeat");
	sim_buf_free(&b);
}

static void
db_beat_done(struct sim *sim)
{
	struct sim_db *db = &sim->db;
	bool running = strcmp(db->decided, "RUNNING") == 0;

	if (db->failed) {
		/* An SQL error (a table dropped, a lock timeout) on a live
		 * connection: try again next interval. */
		if (db->sent_join && sim->gen == db->sent_gen) {
			sim->join_pending = false;
			sim_set_state(sim, SIM_STANDBY,
				      "could not ask the database");
		}
		return;
	}
	db->last_ok = ev_now(sim->loop);
	if (db->first_ok == 0)
		db->first_ok = db->last_ok;
	if (db->last_err != NULL) {
		sim_log(sim, "heartbeat written again");
		free(db->last_err);
		db->last_err = NULL;
	}
	/* The state changed while we asked: the next beat writes the new
	 * one, and decides again if there is anything to decide. */
	if (sim->gen != db->sent_gen)
		return;
	if (db->sent_join) {
		sim->join_pending = false;
		sim_set_state(sim, running ? SIM_RUNNING : SIM_STANDBY,
			      running ? "joined the cluster as active node"
				      : "joined the cluster as standby");
	} else if (sim->state == SIM_STANDBY && running) {
		sim_set_state(sim, SIM_RUNNING,
			      "fewer active nodes than wanted were running");
	}
}

/* Reads every result of the query in flight. */
static void
db_results(struct sim *sim)
{
	struct sim_db *db = &sim->db;
	enum sim_db_phase phase = db->phase;
	ExecStatusType st;
	PGresult *res;

	while (!PQisBusy(db->pg)) {
		res = PQgetResult(db->pg);
		if (res == NULL)
			break;
		st = PQresultStatus(res);
		if (st == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		    PQnfields(res) == 1 && !PQgetisnull(res, 0, 0))
			snprintf(db->decided, sizeof(db->decided), "%s",
				 PQgetvalue(res, 0, 0));
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK &&
		    !db->failed) {
			db->failed = true;
			db_report(sim, "", PQresultErrorMessage(res));
		}
		PQclear(res);
	}
	if (PQisBusy(db->pg))
		return;

	ev_timer_stop(sim->loop, &db->op_timer);
	if (PQstatus(db->pg) == CONNECTION_BAD) {
		db_fail(sim, "connection lost");
		return;
	}
	db->phase = SIM_DB_IDLE;
	db_watch(sim, EV_READ);
	if (phase == SIM_DB_SETUP) {
		if (db->failed) {
			db_fail(sim, "cannot create the tables");
			return;
		}
		db->backoff = BACKOFF_MIN_S;
		sim_log(sim, "connected to the heartbeat database");
	} else {
		db_beat_done(sim);
	}
	/* Beat at once after connecting, and answer a join without waiting
	 * for the next interval. */
	if (db->phase == SIM_DB_IDLE && db_should_beat(sim) &&
	    (phase == SIM_DB_SETUP || sim->join_pending))
		db_send_beat(sim);
}

static void
db_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sim *sim = SIM_CONTAINER_OF(w, struct sim, db.io);
	struct sim_db *db = &sim->db;
	PostgresPollingStatusType st;
	int r;

	(void)loop;
	switch (db->phase) {
	case SIM_DB_CONNECTING:
		st = PQconnectPoll(db->pg);
		if (st == PGRES_POLLING_FAILED) {
			db_fail(sim, "cannot connect");
		} else if (st == PGRES_POLLING_READING) {
			db_watch(sim, EV_READ);
		} else if (st == PGRES_POLLING_WRITING) {
			db_watch(sim, EV_WRITE);
		} else if (st == PGRES_POLLING_OK) {
			if (PQsetnonblocking(db->pg, 1) == -1 ||
			    db_send(sim, setup_sql, SIM_DB_SETUP) == -1)
				db_fail(sim, "cannot create the tables");
		}
		return;
	case SIM_DB_SETUP:
	case SIM_DB_BUSY:
	case SIM_DB_IDLE:
		if ((revents & EV_READ) && PQconsumeInput(db->pg) != 1) {
			db_fail(sim, "connection lost");
			return;
		}
		if (db->phase == SIM_DB_IDLE) {
			if (PQstatus(db->pg) == CONNECTION_BAD)
				db_fail(sim, "connection lost");
			return;
		}
		if (revents & EV_WRITE) {
			r = PQflush(db->pg);
			if (r == -1) {
				db_fail(sim, "connection lost");
				return;
			}
			if (r == 0)
				db_watch(sim, EV_READ);
		}
		db_results(sim);
		return;
	default:
		ev_io_stop(sim->loop, w);
		return;
	}
}

static void
db_op_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim *sim = SIM_CONTAINER_OF(w, struct sim, db.op_timer);

	(void)loop;
	(void)revents;
	if (sim->db.phase == SIM_DB_BACKOFF)
		db_connect(sim);
	else if (sim->db.phase == SIM_DB_CONNECTING)
		db_fail(sim, "cannot connect: timed out");
	else if (sim->db.phase == SIM_DB_SETUP || sim->db.phase == SIM_DB_BUSY)
		db_fail(sim, "no answer from the database: timed out");
}

/* The node's heartbeat: also where a running node notices it has not
 * written one for --db-loss-standby-ms and steps down, as a vRO node that
 * loses its database does. */
static void
db_beat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim *sim = SIM_CONTAINER_OF(w, struct sim, db.beat_timer);
	struct sim_db *db = &sim->db;
	char why[96];

	(void)revents;
	if (db_should_beat(sim) && sim->state == SIM_RUNNING &&
	    sim->db_loss_ms > 0 &&
	    (ev_now(loop) - db->last_ok) * 1000.0 >= (double)sim->db_loss_ms) {
		snprintf(why, sizeof(why), "no heartbeat written for %ld ms",
			 sim->db_loss_ms);
		sim_set_state(sim, SIM_STANDBY, why);
	}
	if (db->phase == SIM_DB_IDLE && db_should_beat(sim))
		db_send_beat(sim);
}

void
sim_db_start(struct sim *sim)
{
	struct sim_db *db = &sim->db;
	double every = (double)sim->interval_ms / 1000.0;

	if (sim->conninfo == NULL)
		return;
	ev_init(&db->io, db_io_cb);
	db->io_fd = -1;
	ev_init(&db->op_timer, db_op_timer_cb);
	ev_timer_init(&db->beat_timer, db_beat_cb, every, every);
	ev_timer_start(sim->loop, &db->beat_timer);
	db->last_ok = ev_now(sim->loop);
	db->first_ok = 0;
	db->backoff = BACKOFF_MIN_S;
	db_connect(sim);
}

void
sim_db_stop(struct sim *sim)
{
	if (sim->conninfo == NULL)
		return;
	db_disconnect(sim);
	ev_timer_stop(sim->loop, &sim->db.beat_timer);
	sim->db.phase = SIM_DB_OFF;
}

void
sim_db_free(struct sim *sim)
{
	sim_db_stop(sim);
	free(sim->db.last_err);
	sim->db.last_err = NULL;
}

int
sim_db_join(struct sim *sim)
{
	if (!db_should_beat(sim) ||
	    (sim->db.phase != SIM_DB_IDLE && sim->db.phase != SIM_DB_BUSY))
		return -1;
	sim->join_pending = true;
	if (sim->db.phase == SIM_DB_IDLE)
		db_send_beat(sim);
	return 0;
}

void
sim_db_heartbeat_resumed(struct sim *sim)
{
	struct sim_db *db = &sim->db;

	if (sim->conninfo == NULL)
		return;
	/* Time stopped on purpose is no database loss; and a node that was
	 * silent looks at the cluster for a failover timeout before it
	 * promotes, as after a reconnect. */
	db->last_ok = ev_now(sim->loop);
	db->first_ok = 0;
	if (db->phase == SIM_DB_IDLE && db_should_beat(sim))
		db_send_beat(sim);
}
