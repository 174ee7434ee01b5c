/*
 * http.h: vigil's HTTP/1.1 message parser (RFC 9112), strict where
 * leniency lets requests be smuggled past the proxy. Zero-copy: a parsed
 * head points into the caller's buffer. Incremental: the caller calls it
 * again with more bytes until the head is complete; `scanned` lets it
 * resume the search for the end of the head where it stopped.
 */
#ifndef VIGIL_HTTP_H
#define VIGIL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_HEADERS 100

enum http_method {
	HTTP_M_OTHER = 0, /* a valid token we do not know: forwarded as is */
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_OPTIONS,
	HTTP_M_PATCH,
	HTTP_M_TRACE,
	HTTP_M_CONNECT,
};

/* How the body of a message is delimited (RFC 9112 section 6.3). */
enum http_framing {
	HTTP_BODY_NONE = 0, /* no body at all */
	HTTP_BODY_LENGTH,   /* content_length bytes */
	HTTP_BODY_CHUNKED,  /* chunked, ends with the last chunk + trailers */
	HTTP_BODY_CLOSE,    /* responses only: until the connection closes */
};

struct http_str {
	const char *p;
	size_t len;
};

struct http_header {
	struct http_str name;  /* a token, case as received */
	struct http_str value; /* leading and trailing whitespace removed */
};

/* Why a message was refused: the status to answer and a short reason. */
struct http_error {
	int status; /* 400, 431, 501 or 505 (requests); 502 (responses) */
	const char *reason; /* static text for logs, e.g. "bare CR in header" */
};

struct http_msg {
	/* Request line (requests only). */
	enum http_method method;
	struct http_str method_str;
	struct http_str target; /* as received */
	struct http_str path; /* origin-form: target; absolute-form: its path */
	/* Status line (responses only). */
	int status;
	struct http_str reason_phrase;

	int minor; /* HTTP/1.minor: 0 or 1 */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t n_headers;
	size_t head_len; /* the whole head, final CRLF CRLF included */

	/* What the headers mean, filled by the parser. */
	enum http_framing framing;
	uint64_t content_length; /* HTTP_BODY_LENGTH */
	struct http_str host;	 /* the Host header (requests) */
	bool keep_alive;	 /* after this message (version + Connection) */
	bool upgrade;		 /* Connection: upgrade and an Upgrade header */
	bool expect_continue;	 /* Expect: 100-continue (requests) */
};

/*
 * Parses a request head from buf[0..len). *scanned (0 on the first call
 * for a message) remembers how far the end of the head was searched.
 * Returns the head's length (> 0) when complete, 0 when more bytes are
 * needed, or -1 with err filled: 400 for a malformed or smuggling-prone
 * request, 431 when the head exceeds max_head bytes or HTTP_MAX_HEADERS
 * headers, 501 for a Transfer-Encoding it does not know, 505 for a version
 * other than HTTP/1.0 and 1.1.
 */
ssize_t http_parse_request(const char *buf, size_t len, size_t max_head,
			   size_t *scanned, struct http_msg *m,
			   struct http_error *err);

/*
 * Parses a response head; req_method is the method of the request it
 * answers (HEAD and CONNECT change the framing). 1xx answers are parsed
 * like others (the caller forwards them and waits for the final one).
 * Errors are reported with status 502.
 */
ssize_t http_parse_response(const char *buf, size_t len, size_t max_head,
			    size_t *scanned, enum http_method req_method,
			    struct http_msg *m, struct http_error *err);

/* The value of the first header called name (case-insensitive), or NULL. */
const struct http_header *http_header_find(const struct http_msg *m,
					   const char *name);

/* The reason phrase vigil sends with a status it answers itself. */
const char *http_status_reason(int code);

/* True when the method may be retried on another node (RFC 9110 9.2.2). */
bool http_method_idempotent(enum http_method m);

/*
 * Chunked body scanner: it does not decode, it finds where the body ends
 * so the proxy can forward the bytes as they are, and rejects what is not
 * valid chunked coding (RFC 9112 section 7.1).
 */
struct http_chunked {
	int state;	    /* private */
	uint64_t remaining; /* bytes left in the current chunk's data */
	size_t line_len;    /* length of the size line or trailer so far */
	size_t trailer_bytes;
};

/*
 * Scans buf[0..len) as the continuation of a chunked body. Returns the
 * number of bytes that belong to the body (all of len unless it ended
 * inside buf), sets *done when the last chunk and the trailers ended, or
 * returns -1 with err (status 400 for requests; the caller maps it to 502
 * for responses).
 */
ssize_t http_chunked_scan(struct http_chunked *c, const char *buf, size_t len,
			  bool *done, struct http_error *err);

#endif
