/*
 * session.h: inside the proxy: a worker (one thread, one loop) and the
 * sessions it runs, one per client connection. Private to proxy/.
 */
#ifndef VIGIL_SESSION_H
#define VIGIL_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ev.h>
#include <openssl/ssl.h>

#include "core/route.h"
#include "proxy/fdbudget.h"
#include "proxy/http.h"
#include "proxy/iobuf.h"
#include "proxy/tls.h"

#include <netinet/in.h>

/* An IPv4 or IPv6 address, no bigger than the larger of the two: a
 * session is kept small, since an idle client costs one. */
union sockaddr_any {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct listeners;
struct pooled;

struct worker {
	struct route_holder *routes;
	const struct listeners *px_ls;
	struct ev_loop *loop;
	size_t reader; /* routing table reader slot */
	size_t n_accept;
	ev_io *accept;
	ev_async stop;
	ev_async wake;	       /* a new routing table was published */
	ev_timer accept_pause; /* out of descriptors: accept again later */
	struct fd_budget *fdb; /* the proxy's descriptors, all workers' */
	ev_check quiesce;
	unsigned long seen_generation;
	struct session *sessions; /* doubly linked, for closing them */
	struct pooled *pool;	  /* idle connections to nodes */
	size_t pool_size;
	struct http_msg msg; /* scratch for parsing, one at a time */
	bool stopping;
	struct alog *alog; /* NULL: no access log */
};

enum sess_state {
	SS_HANDSHAKE = 0, /* TLS handshake with the client */
	SS_HEAD,	  /* reading a request head */
	SS_CONNECT,	  /* connecting to a node */
	SS_EXCHANGE,	  /* request and response flowing */
	SS_TUNNEL,	  /* after 101: bytes both ways */
	SS_CLOSING,	  /* our last answer is out; waiting for the client */
};

/* One direction of an exchange: bytes read from one side, forwarded to
 * the other after a rewritten head. */
struct flow {
	struct iobuf in;   /* read from the source */
	struct iobuf head; /* rewritten head, written first */
	size_t head_sent;
	size_t scanned; /* of the head search, for the parser */
	enum http_framing framing;
	uint64_t left; /* HTTP_BODY_LENGTH: bytes to come */
	struct http_chunked chunked;
	size_t fwd; /* body bytes at the front of in, checked */
	bool head_done;
	bool body_done;
	bool eof;      /* the source closed */
	uint64_t sent; /* bytes written on, head included */
};

struct session {
	struct worker *w;
	struct session *prev, *next;
	enum sess_state state;
	int cfd, sfd;
	ev_io cio, sio;
	SSL *cssl, *sssl;	    /* NULL: plain TCP on that side */
	enum tls_want cwant, swant; /* what TLS waits for on each side */
	bool shaking;		    /* TLS handshake with the node */
	ev_timer timer;
	struct flow req, resp;

	/* The request being served. */
	enum http_method method;
	int minor;
	bool client_keep_alive;
	bool upgrade;
	bool body_sent;	      /* a byte of the request body went to the node */
	bool head_timer;      /* the header timeout runs (a request began) */
	bool half_closed;     /* tunnel: the node was told the client is done */
	bool reused;	      /* the node connection came from the pool */
	bool refreshed;	      /* a stale pooled connection was replaced once */
	bool in_request;      /* a request head was read and not yet logged */
	int status;	      /* of the answer the client got */
	double t_start;	      /* when the request head was complete */
	char *request;	      /* "METHOD TARGET" for the access log, or NULL */
	bool node_keep_alive; /* the node keeps the connection after this */
	int tries;

	/* The node it goes to. */
	char node[64];
	bool node_tls;
	union sockaddr_any sa;
	socklen_t salen;
	struct node_stats *stats;
	char *cookie; /* Set-Cookie value to send, or NULL */

	char client_ip[INET6_ADDRSTRLEN];
	union sockaddr_any client;
	bool tls_listener;
};

/* A new client on fd; tls: the listener's TLS context, or NULL. */
void session_start(struct worker *w, int fd, SSL_CTX *tls);
void session_close(struct session *s);

#endif
