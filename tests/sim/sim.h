/*
 * sim.h: vigil-sim, a simulated vRealize Orchestrator cluster node for the
 * integration tests and the demo; the types its files share and what each
 * file offers the others.
 */
#ifndef VIGIL_SIM_H
#define VIGIL_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ev.h>
#include <libpq-fe.h>
#include <openssl/ssl.h>

#define SIM_CONTAINER_OF(ptr, type, member)                                    \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* A header block (request line and headers, or chunked trailers) may not be
 * longer than this: the brief's 64 KiB, answered with 431. */
#define SIM_HEAD_MAX (64 * 1024)

enum sim_state {
	SIM_STANDBY = 0,
	SIM_RUNNING,
	SIM_STARTING, /* after "restart": every request gets 503 */
	SIM_SHUTDOWN, /* no listener, no heartbeats */
};

/* A byte buffer; the bytes still to use are [off, len). */
struct sim_buf {
	char *data;
	size_t off;
	size_t len;
	size_t cap;
};

/* Where an HTTP connection is: parsing a request (HEAD..TRAILER), waiting
 * to answer (WAIT: a delay timer runs), streaming a /big body, speaking
 * WebSocket, or closing once its output is written (CLOSE, then LINGER:
 * write side shut, input read and dropped until EOF). */
enum sim_parse {
	SIM_PS_HEAD = 0,
	SIM_PS_BODY,
	SIM_PS_CHUNK_SIZE,
	SIM_PS_CHUNK_DATA,
	SIM_PS_CHUNK_END,
	SIM_PS_TRAILER,
	SIM_PS_WAIT,
	SIM_PS_STREAM,
	SIM_PS_WS,
	SIM_PS_CLOSE,
	SIM_PS_LINGER,
};

/* The request being read or answered; reset between requests. */
struct sim_req {
	char method[32];
	char *target; /* as received, query included; owned */
	int minor;    /* HTTP/1.minor */
	bool keep_alive;
	bool has_body;
	bool expect_continue;
	bool ws_upgrade;    /* Upgrade: websocket and Connection: upgrade */
	char ws_key[64];    /* Sec-WebSocket-Key, empty when absent */
	int ws_version;	    /* Sec-WebSocket-Version, -1 when absent */
	uint64_t body_left; /* Content-Length bytes or chunk bytes to read */
	uint64_t body_bytes;
	size_t trailer_bytes;
	/* The Authorization value, NULL when none, "" when twice; owned. */
	char *authorization;
};

struct sim;

/* A listening socket: the node's server, or its Control Center. */
struct sim_listener {
	struct sim *sim;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[160]; /* the address as given, for messages */
	bool cc;	/* connections accepted here are Control Center ones */
	int fd;		/* -1 while closed */
	ev_io w;
	ev_timer accept_retry;
};

struct sim_conn {
	struct sim *sim;
	bool cc; /* a Control Center connection: see sim-cc.c */
	struct sim_conn *prev;
	struct sim_conn *next;
	int fd;
	SSL *ssl;
	ev_io rw;
	ev_io ww;
	ev_timer timer; /* answer delay, then the lingering close */
	ev_timer idle;
	struct sim_buf in;
	struct sim_buf out;
	size_t in_need; /* a WebSocket frame this long must fit in `in` */
	enum sim_parse ps;
	struct sim_req req;
	bool keep_alive; /* of the request answered last */
	uint64_t stream_left;
	uint64_t stream_off;
	bool ws_in_message; /* a fragmented message has started */
	bool read_eof;
	bool hung;
	bool failed;	       /* out of memory answering: close it */
	bool read_wants_write; /* TLS: SSL_read needs the socket writable */
	bool write_wants_read;
};

enum sim_db_phase {
	SIM_DB_OFF = 0,
	SIM_DB_CONNECTING,
	SIM_DB_SETUP,
	SIM_DB_IDLE,
	SIM_DB_BUSY,
	SIM_DB_BACKOFF,
};

struct sim_db {
	PGconn *pg;
	enum sim_db_phase phase;
	ev_io io;
	int io_fd;
	ev_timer op_timer; /* connect or query deadline, or the back-off */
	ev_timer beat_timer;
	double backoff;
	ev_tstamp last_ok; /* last heartbeat written (or the moment we began) */
	ev_tstamp first_ok; /* first heartbeat of this connection, 0 if none */
	unsigned sent_gen;  /* sim->gen when the heartbeat was sent */
	bool sent_join;
	bool failed;
	char decided[16]; /* the role the heartbeat transaction returned */
	char *last_err;
};

struct sim_ctl_conn {
	struct sim *sim;
	struct sim_ctl_conn *prev;
	struct sim_ctl_conn *next;
	int fd;
	ev_io rw;
	ev_io ww;
	struct sim_buf in;
	struct sim_buf out;
	bool closing;
};

struct sim {
	struct ev_loop *loop;

	/* command line */
	const char *name;
	const char *ctl_path;
	const char *conninfo;
	const char *pidfile;
	const char *tls_cert;
	const char *tls_key;
	long cc_port;		    /* -1: no Control Center */
	const char *cc_credentials; /* USER:PASSWORD, NULL: no auth */
	long cc_restart_delay_ms;
	enum sim_state initial_state;
	long interval_ms;
	long failover_heartbeats;
	long active_nodes;
	long priority;
	long startup_ms;
	long db_loss_ms;
	bool quiet;

	/* what the node is doing now */
	enum sim_state state;
	unsigned gen; /* bumped on every change of state */
	bool heartbeat_on;
	bool hold; /* "standby" was asked for: do not promote until told */
	bool join_pending;
	bool http500;
	bool hang;
	long delay_ms;
	/* requests to /drop: read, then the connection cut */
	unsigned long drops;
	ev_timer startup;

	struct sim_listener http;
	SSL_CTX *ssl_ctx;
	struct sim_conn *conns;

	/* The Control Center (sim-cc.c): up while the server is shut down. */
	struct sim_listener cc;
	struct sim_conn *cc_conns;
	char *cc_token; /* base64 of cc_credentials; owned */
	bool cc_fail;	/* the restart endpoint answers 500 */
	bool cc_restart_pending;
	unsigned long cc_restarts; /* restarts asked for and accepted */
	ev_timer cc_restart;

	struct sim_db db;

	int ctl_fd;
	ev_io ctl_w;
	struct sim_ctl_conn *ctl_conns;

	ev_signal sigterm;
	ev_signal sigint;
};

/* sim.c */
void sim_log(struct sim *sim, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sim_err(struct sim *sim, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *sim_state_name(enum sim_state state);
void sim_set_state(struct sim *sim, enum sim_state state, const char *why);
long long sim_failover_ms(const struct sim *sim);
void sim_shutdown(struct sim *sim);
int sim_restart(struct sim *sim, char *err, size_t errlen);

/* sim-buf.c: every function but sim_buf_free returns 0, or -1 when out of
 * memory (the buffer is then unchanged). */
int sim_buf_reserve(struct sim_buf *b, size_t more);
int sim_buf_append(struct sim_buf *b, const void *p, size_t n);
int sim_buf_printf(struct sim_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
size_t sim_buf_pending(const struct sim_buf *b);
void sim_buf_consume(struct sim_buf *b, size_t n);
void sim_buf_free(struct sim_buf *b);

/* sim-http.c: the listeners and the connections' I/O */
int sim_http_tls_init(struct sim *sim, char *err, size_t errlen);
/* Opens l on l->addr; with port 0, l->addr gets the port chosen. */
int sim_listener_open(struct sim_listener *l, char *err, size_t errlen);
/* "http://127.0.0.1:8281" or "https://[::1]:8281" into buf. */
void sim_listener_url(const struct sim_listener *l, bool tls, char *buf,
		      size_t len);
int sim_http_listen(struct sim *sim, char *err, size_t errlen);
/* Closes the server's listener and every server connection; connects are
 * refused after. The Control Center stays. */
void sim_http_close_all(struct sim *sim);
/* Closes everything, the Control Center included. */
void sim_http_free(struct sim *sim);
/* Starts the answer-delay timer of a connection in SIM_PS_WAIT. */
void sim_http_delay(struct sim_conn *c, long ms);

/* sim-req.c: HTTP/1.x requests and their answers. Both only fill c->out
 * and move c->ps; the connection layer writes and closes. */
void sim_req_process(struct sim_conn *c);
void sim_req_answer(struct sim_conn *c);
void sim_req_reset(struct sim_req *req);
/* Queues a whole answer with body (none for HEAD); extra: more header
 * lines, each ending in CRLF, or NULL. */
void sim_req_respond(struct sim_conn *c, int code, const char *ctype,
		     const char *body, const char *extra);
bool sim_req_path_is(const char *target, const char *path);

/* sim-cc.c: the Control Center */
int sim_cc_open(struct sim *sim, char *err, size_t errlen);
void sim_cc_close(struct sim *sim);
/* "RUNNING", "STOPPED", "STARTING" or "UNDEFINED" */
const char *sim_cc_status(const struct sim *sim);
void sim_cc_answer(struct sim_conn *c);
/* A restart asked for on the Control Center and not yet begun is
 * forgotten (the control socket said otherwise). */
void sim_cc_cancel(struct sim *sim);

/* sim-ws.c: RFC 6455 echo. sim_ws_accept_key fills out (>= 29 bytes) with
 * the Sec-WebSocket-Accept of a Sec-WebSocket-Key, or returns -1 when the
 * key is not 16 bytes in base64. */
int sim_ws_accept_key(const char *key, char *out, size_t outlen);
void sim_ws_process(struct sim_conn *c);

/* sim-db.c: heartbeats and the simulated cluster roles */
void sim_db_start(struct sim *sim);
void sim_db_stop(struct sim *sim);
void sim_db_free(struct sim *sim);
/* After the start-up period: decide RUNNING or STANDBY in the database.
 * Returns -1 when no connection is ready to ask. */
int sim_db_join(struct sim *sim);
void sim_db_heartbeat_resumed(struct sim *sim);

/* sim-ctl.c: the control socket */
int sim_ctl_open(struct sim *sim, char *err, size_t errlen);
void sim_ctl_close(struct sim *sim);

#endif
