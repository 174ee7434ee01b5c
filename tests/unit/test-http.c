/*
 * test-http.c: proxy/http.c: every framing rule in its accepted and its
 * refused form, a corpus of smuggling and malformed messages with the
 * exact status each must get, heads fed one octet at a time, and chunked
 * bodies split at every position.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proxy/http.h"
#include "tests/unit/tap.h"

#define MAX_HEAD 8192
/* A literal and its length, embedded NULs included. */
#define RAW(s) s, sizeof(s) - 1

/* A request the parser must refuse, and the status it must answer. */
struct bad {
	const char *raw;
	size_t len;
	int status;
	const char *why;
	size_t max_head; /* 0: MAX_HEAD */
};

// clang-format off
static const struct bad bad_requests[] = {
	/* CL.TE and TE.CL */
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), 400, "CL.TE: Content-Length then Transfer-Encoding", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), 400, "TE.CL: Transfer-Encoding then Content-Length", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n"), 400, "TE.CL with Content-Length 0", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: gzip\r\n\r\n"), 400, "CL with a non-chunked TE", 0 },
	{ RAW("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400, "Transfer-Encoding in HTTP/1.0", 0 },
	{ RAW("POST / HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), 400, "CL.TE in HTTP/1.0", 0 },
	/* TE.TE: obfuscated Transfer-Encoding */
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"), 400, "TE.TE: xchunked", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked-false\r\n\r\n"), 400, "TE.TE: chunked-false", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunk\r\n\r\n"), 400, "TE.TE: chunk", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n"), 400, "TE.TE: chunked, identity", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n"), 400, "TE.TE: chunked then identity in two fields", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n"), 400, "TE.TE: chunked then x", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), 400, "TE.TE: chunked twice in one field", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), 400, "TE.TE: chunked twice in two fields", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n"), 400, "TE.TE: quoted chunked", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n"), 400, "TE.TE: chunked with a parameter", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ch unked\r\n\r\n"), 400, "TE.TE: space inside chunked", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked\r\n\r\n"), 400, "TE.TE: empty element first", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n"), 400, "TE.TE: empty element last", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"), 400, "TE.TE: empty Transfer-Encoding", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x0b\r\n\r\n"), 400, "TE.TE: trailing VT", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0c" "chunked\r\n\r\n"), 400, "TE.TE: FF as whitespace", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"), 400, "TE.TE: space before colon", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n"), 400, "TE.TE: HTAB before colon", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\n Transfer-Encoding: chunked\r\n\r\n"), 400, "TE.TE: obs-fold hides the field", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"), 400, "TE.TE: obs-fold continues the value", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n\tTransfer-Encoding: chunked\r\n\r\n"), 400, "TE.TE: HTAB obs-fold", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\rX: y\r\n\r\n"), 400, "TE.TE: bare CR inside the value", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\nX: y\r\n\r\n"), 400, "TE.TE: bare LF ends the field", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\0: chunked\r\n\r\n"), 400, "TE.TE: NUL in the name", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), 400, "gzip alone: chunked is not last", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501, "gzip then chunked: not implemented", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n"), 501, "identity then chunked: not implemented", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n"), 501, "x then chunked in two fields", 0 },
	/* Content-Length */
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400, "two different Content-Length fields", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"), 400, "a Content-Length list with different values", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5, 7\r\n\r\n"), 400, "a third value differs", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"), 400, "Content-Length with a sign", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400, "negative Content-Length", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"), 400, "hex Content-Length", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n"), 400, "space inside Content-Length", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3\r\n\r\n"), 400, "exponent in Content-Length", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), 400, "empty Content-Length", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n"), 400, "Content-Length with an empty element", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n"), 400, "Content-Length of 2^63", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 400, "Content-Length overflowing 64 bits", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n"), 400, "space before colon in Content-Length", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\r\n\r\n"), 400, "CR CR LF after Content-Length", 0 },
	{ RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \x0b" "5\r\n\r\n"), 400, "VT before Content-Length", 0 },
	/* Field syntax */
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"), 400, "NUL in a value", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), 400, "bare CR in a value", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n"), 400, "CTL in a value", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"), 400, "DEL in a value", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nX\"Y: 1\r\n\r\n"), 400, "DQUOTE in a name", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nX@Y: 1\r\n\r\n"), 400, "@ in a name", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nX(Y): 1\r\n\r\n"), 400, "parentheses in a name", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nX Y: 1\r\n\r\n"), 400, "space in a name", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nX\x80: 1\r\n\r\n"), 400, "obs-text in a name", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n"), 400, "empty name", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), 400, "field without a colon", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\n\rX: 1\r\n\r\n"), 400, "bare CR at the start of a line", 0 },
	{ RAW("GET / HTTP/1.1\nHost: a\r\n\r\n"), 400, "bare LF after the request line", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\n\r\n"), 400, "bare LF after a field", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\n\n"), 400, "bare LF as the empty line", 0 },
	{ RAW("GET / HTTP/1.1\n\n"), 400, "LF-only head", 0 },
	{ RAW("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "a leading bare LF", 0 },
	/* Host */
	{ RAW("GET / HTTP/1.1\r\n\r\n"), 400, "HTTP/1.1 without Host", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400, "two Host fields, same value", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400, "two Host fields, different values", 0 },
	{ RAW("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400, "two Host fields in HTTP/1.0", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400, "space inside Host", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a, b\r\n\r\n"), 400, "a list in Host", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 400, "empty Host", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), 400, "userinfo in Host", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n"), 400, "port out of range in Host", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n"), 400, "port not numeric in Host", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400, "slash in Host", 0 },
	{ RAW("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"), 400, "unclosed IP-literal in Host", 0 },
	/* Request-target */
	{ RAW("GET http://evil/ HTTP/1.1\r\nHost: good\r\n\r\n"), 400, "absolute-form for another host", 0 },
	{ RAW("GET http://good:81/ HTTP/1.1\r\nHost: good\r\n\r\n"), 400, "absolute-form for another port", 0 },
	{ RAW("GET https://good/ HTTP/1.1\r\nHost: good:80\r\n\r\n"), 400, "https default port is not 80", 0 },
	{ RAW("GET http://u@good/ HTTP/1.1\r\nHost: good\r\n\r\n"), 400, "userinfo in absolute-form", 0 },
	{ RAW("GET http:///x HTTP/1.1\r\nHost: good\r\n\r\n"), 400, "absolute-form without authority", 0 },
	{ RAW("GET http://good?x HTTP/1.1\r\nHost: good\r\n\r\n"), 400, "absolute-form with a query and no path", 0 },
	{ RAW("GET ftp://good/ HTTP/1.1\r\nHost: good\r\n\r\n"), 400, "absolute-form with another scheme", 0 },
	{ RAW("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "asterisk-form without OPTIONS", 0 },
	{ RAW("GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "authority-form without CONNECT", 0 },
	{ RAW("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "CONNECT with origin-form", 0 },
	{ RAW("CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "CONNECT without a port", 0 },
	{ RAW("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "fragment in the target", 0 },
	{ RAW("GET /a\x80 HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "obs-text in the target", 0 },
	{ RAW("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "DEL in the target", 0 },
	{ RAW("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "CTL in the target", 0 },
	{ RAW("GET /a\0 HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "NUL in the target", 0 },
	{ RAW("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "HTAB in the target", 0 },
	/* Request line */
	{ RAW("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "two spaces after the method", 0 },
	{ RAW("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "two spaces after the target", 0 },
	{ RAW("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400, "space after the version", 0 },
	{ RAW("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "HTAB as separator", 0 },
	{ RAW(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "leading space", 0 },
	{ RAW("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "method with a delimiter", 0 },
	{ RAW("GET /\r\nHost: a\r\n\r\n"), 400, "no version", 0 },
	{ RAW("GET / HTTP/1.1\rHost: a\r\n\r\n"), 400, "bare CR after the request line", 0 },
	{ RAW("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "too many empty lines first", 0 },
	/* Version */
	{ RAW("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505, "HTTP/2.0", 0 },
	{ RAW("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505, "HTTP/1.2", 0 },
	{ RAW("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 505, "HTTP/0.9", 0 },
	{ RAW("GET / HTTP/3.0\r\nHost: a\r\n\r\n"), 505, "HTTP/3.0", 0 },
	{ RAW("GET / http/1.1\r\nHost: a\r\n\r\n"), 400, "lower-case version", 0 },
	{ RAW("GET / HTTP/1\r\nHost: a\r\n\r\n"), 400, "version without minor", 0 },
	{ RAW("GET / HTTP/1.1x\r\nHost: a\r\n\r\n"), 400, "version with trailing garbage", 0 },
	{ RAW("GET / HTTP/11.1\r\nHost: a\r\n\r\n"), 400, "two-digit major", 0 },
	{ RAW("GET / HTTX/1.1\r\nHost: a\r\n\r\n"), 400, "not HTTP", 0 },
	/* Limits */
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"), 431, "head over max_head", 64 },
	{ RAW("GET / HTTP/1.1\r\nHost: a\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 431, "incomplete head already over max_head", 64 },
};

/* A request the parser must accept, and what it must find in it. */
struct good {
	const char *raw;
	enum http_method method;
	const char *method_str;
	const char *target;
	const char *path;
	int minor;
	enum http_framing framing;
	uint64_t content_length;
	const char *host; /* NULL: none */
	bool keep_alive;
	bool upgrade;
	bool expect_continue;
	size_t n_headers;
	const char *why;
};

static const struct good good_requests[] = {
	{ "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 1, HTTP_BODY_NONE, 0, "example.com", true, false, false, 1, "simplest HTTP/1.1 request" },
	{ "GET /a?b=c HTTP/1.0\r\n\r\n", HTTP_M_GET, "GET", "/a?b=c", "/a?b=c", 0, HTTP_BODY_NONE, 0, NULL, false, false, false, 0, "HTTP/1.0 without Host closes" },
	{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 0, HTTP_BODY_NONE, 0, NULL, true, false, false, 1, "HTTP/1.0 keep-alive" },
	{ "GET / HTTP/1.0\r\nConnection: Keep-Alive, close\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 0, HTTP_BODY_NONE, 0, NULL, false, false, false, 1, "HTTP/1.0 close wins over keep-alive" },
	{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 1, HTTP_BODY_NONE, 0, "a", false, false, false, 2, "HTTP/1.1 close" },
	{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo ,CLOSE\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 1, HTTP_BODY_NONE, 0, "a", false, false, false, 2, "close in a list, any case" },
	{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nConnection: close\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 1, HTTP_BODY_NONE, 0, "a", false, false, false, 3, "close in a second Connection field" },
	{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 2, "HTTP/1.1 keep-alive" },
	{ "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n", HTTP_M_GET, "GET", "/chat", "/chat", 1, HTTP_BODY_NONE, 0, "a", true, true, false, 3, "upgrade request" },
	{ "GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 0, HTTP_BODY_NONE, 0, NULL, false, false, false, 2, "Upgrade is ignored in HTTP/1.0" },
	{ "PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", HTTP_M_PUT, "PUT", "/", "/", 0, HTTP_BODY_LENGTH, 1, NULL, false, false, false, 2, "Expect is ignored in HTTP/1.0" },
	{ "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 2, "Upgrade without Connection: upgrade" },
	{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 2, "Connection: upgrade without Upgrade" },
	{ "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", HTTP_M_POST, "POST", "/f", "/f", 1, HTTP_BODY_LENGTH, 5, "a", true, false, false, 2, "Content-Length" },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", HTTP_M_POST, "POST", "/", "/", 1, HTTP_BODY_LENGTH, 5, "a", true, false, false, 3, "identical Content-Length fields" },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 , 5,5\r\n\r\n", HTTP_M_POST, "POST", "/", "/", 1, HTTP_BODY_LENGTH, 5, "a", true, false, false, 2, "identical Content-Length list" },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", HTTP_M_POST, "POST", "/", "/", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 2, "Content-Length 0 means no body" },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n", HTTP_M_POST, "POST", "/", "/", 1, HTTP_BODY_LENGTH, 7, "a", true, false, false, 2, "leading zeros are digits" },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n", HTTP_M_POST, "POST", "/", "/", 1, HTTP_BODY_LENGTH, 9223372036854775807ull, "a", true, false, false, 2, "largest Content-Length" },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_M_POST, "POST", "/", "/", 1, HTTP_BODY_CHUNKED, 0, "a", true, false, false, 2, "chunked" },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\t\r\n\r\n", HTTP_M_POST, "POST", "/", "/", 1, HTTP_BODY_CHUNKED, 0, "a", true, false, false, 2, "chunked between HTABs (OWS)" },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n", HTTP_M_POST, "POST", "/", "/", 1, HTTP_BODY_CHUNKED, 0, "a", true, false, false, 2, "chunked in upper case" },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n", HTTP_M_POST, "POST", "/", "/", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 2, "Transfer_Encoding is another field" },
	{ "PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", HTTP_M_PUT, "PUT", "/u", "/u", 1, HTTP_BODY_LENGTH, 3, "a", true, false, true, 3, "Expect: 100-continue" },
	{ "PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n", HTTP_M_PUT, "PUT", "/u", "/u", 1, HTTP_BODY_LENGTH, 3, "a", true, false, true, 3, "Expect is case-insensitive" },
	{ "PUT /u HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n", HTTP_M_PUT, "PUT", "/u", "/u", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 2, "another Expect is ignored" },
	{ "GET http://Example.COM:80/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n", HTTP_M_GET, "GET", "http://Example.COM:80/x?y", "/x?y", 1, HTTP_BODY_NONE, 0, "example.com", true, false, false, 1, "absolute-form, explicit default port" },
	{ "GET http://a HTTP/1.1\r\nHost: a:80\r\n\r\n", HTTP_M_GET, "GET", "http://a", "/", 1, HTTP_BODY_NONE, 0, "a:80", true, false, false, 1, "absolute-form without a path" },
	{ "GET HTTPS://a/ HTTP/1.1\r\nHost: a:443\r\n\r\n", HTTP_M_GET, "GET", "HTTPS://a/", "/", 1, HTTP_BODY_NONE, 0, "a:443", true, false, false, 1, "https absolute-form, default port 443" },
	{ "GET http://a:8080/p HTTP/1.1\r\nHost: A:8080\r\n\r\n", HTTP_M_GET, "GET", "http://a:8080/p", "/p", 1, HTTP_BODY_NONE, 0, "A:8080", true, false, false, 1, "absolute-form, other port" },
	{ "GET http://a/p HTTP/1.0\r\n\r\n", HTTP_M_GET, "GET", "http://a/p", "/p", 0, HTTP_BODY_NONE, 0, "a", false, false, false, 0, "HTTP/1.0 absolute-form gives the host" },
	{ "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_OPTIONS, "OPTIONS", "*", "*", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 1, "asterisk-form" },
	{ "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", HTTP_M_CONNECT, "CONNECT", "a.example:443", "", 1, HTTP_BODY_NONE, 0, "a.example:443", true, false, false, 1, "authority-form" },
	{ "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 1, "leading empty lines are skipped" },
	{ "get / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_OTHER, "get", "/", "/", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 1, "methods are case-sensitive" },
	{ "PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_OTHER, "PURGE", "/x", "/x", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 1, "unknown method" },
	{ "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_HEAD, "HEAD", "/", "/", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 1, "HEAD" },
	{ "DELETE /r HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_DELETE, "DELETE", "/r", "/r", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 1, "DELETE" },
	{ "PATCH /r HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n", HTTP_M_PATCH, "PATCH", "/r", "/r", 1, HTTP_BODY_LENGTH, 2, "a", true, false, false, 2, "PATCH" },
	{ "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_TRACE, "TRACE", "/", "/", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 1, "TRACE" },
	{ "GET //x/../y;p?q=%20 HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_GET, "GET", "//x/../y;p?q=%20", "//x/../y;p?q=%20", 1, HTTP_BODY_NONE, 0, "a", true, false, false, 1, "odd but valid origin-form" },
	{ "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 1, HTTP_BODY_NONE, 0, "[::1]:8080", true, false, false, 1, "IP-literal Host" },
	{ "GET / HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 1, HTTP_BODY_NONE, 0, "192.0.2.1", true, false, false, 1, "IPv4 Host" },
	{ "GET / HTTP/1.1\r\nHost:a.b_c-d~e\r\nX-Obs: caf\xc3\xa9\r\nX-Empty:\r\n\r\n", HTTP_M_GET, "GET", "/", "/", 1, HTTP_BODY_NONE, 0, "a.b_c-d~e", true, false, false, 3, "no OWS, obs-text and empty values" },
};
// clang-format on

/* A copy of exactly len octets, so that ASan sees any read past it. */
static char *
exact(const char *raw, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (p == NULL)
		abort();
	memcpy(p, raw, len);
	return p;
}

/* A http_str as a C string, for is_str; ring of buffers for diagnostics. */
static const char *
cstr(struct http_str s)
{
	static char ring[4][512];
	static int next;
	char *b;

	if (s.p == NULL)
		return NULL;
	b = ring[next++ % 4];
	if (s.len >= sizeof(ring[0]))
		s.len = sizeof(ring[0]) - 1;
	memcpy(b, s.p, s.len);
	b[s.len] = '\0';
	return b;
}

static ssize_t
request(const char *raw, size_t len, size_t max_head, struct http_msg *m,
	struct http_error *e)
{
	char *buf = exact(raw, len);
	size_t scanned = 0;
	ssize_t r = http_parse_request(buf, len, max_head, &scanned, m, e);

	free(buf);
	return r;
}

/*
 * Feeds raw one more octet per call, like the slowest client, each time
 * in an exact-size copy. Returns the first non-zero answer, or 0.
 */
static ssize_t
request_slowly(const char *raw, size_t len, size_t max_head, struct http_msg *m,
	       struct http_error *e)
{
	size_t scanned = 0;

	for (size_t i = 1; i <= len; i++) {
		char *buf = exact(raw, i);
		ssize_t r =
		    http_parse_request(buf, i, max_head, &scanned, m, e);

		free(buf);
		if (r != 0)
			return r;
	}
	return 0;
}

static ssize_t
response(const char *raw, size_t len, enum http_method req, struct http_msg *m,
	 struct http_error *e)
{
	char *buf = exact(raw, len);
	size_t scanned = 0;
	ssize_t r =
	    http_parse_response(buf, len, MAX_HEAD, &scanned, req, m, e);

	free(buf);
	return r;
}

static ssize_t
response_slowly(const char *raw, size_t len, enum http_method req,
		struct http_msg *m, struct http_error *e)
{
	size_t scanned = 0;

	for (size_t i = 1; i <= len; i++) {
		char *buf = exact(raw, i);
		ssize_t r =
		    http_parse_response(buf, i, MAX_HEAD, &scanned, req, m, e);

		free(buf);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Both parses must agree on everything the proxy acts on. */
static bool
same_msg(const struct http_msg *a, const struct http_msg *b)
{
	if (a->method != b->method || a->minor != b->minor ||
	    a->status != b->status || a->framing != b->framing ||
	    a->content_length != b->content_length ||
	    a->keep_alive != b->keep_alive || a->upgrade != b->upgrade ||
	    a->expect_continue != b->expect_continue ||
	    a->n_headers != b->n_headers || a->head_len != b->head_len ||
	    a->target.len != b->target.len || a->path.len != b->path.len ||
	    a->host.len != b->host.len)
		return false;
	for (size_t i = 0; i < a->n_headers; i++)
		if (a->headers[i].name.len != b->headers[i].name.len ||
		    a->headers[i].value.len != b->headers[i].value.len)
			return false;
	return true;
}

static void
test_bad_requests(void)
{
	size_t n = sizeof(bad_requests) / sizeof(bad_requests[0]);
	static struct http_msg m;
	struct http_error e;

	tap_diag("%zu malformed or smuggling requests", n);
	for (size_t i = 0; i < n; i++) {
		const struct bad *b = &bad_requests[i];
		size_t max = b->max_head ? b->max_head : MAX_HEAD;
		ssize_t r;

		e.status = 0;
		e.reason = NULL;
		r = request(b->raw, b->len, max, &m, &e);
		is_int(r, -1, "refused: %s", b->why);
		is_int(e.status, b->status, "status %d: %s (%s)", b->status,
		       b->why, e.reason ? e.reason : "no reason");
		ok(e.reason != NULL && *e.reason != '\0', "a reason: %s",
		   b->why);
		e.status = 0;
		r = request_slowly(b->raw, b->len, max, &m, &e);
		ok(r == -1 && e.status == b->status,
		   "refused octet by octet too: %s", b->why);
	}
}

static void
test_good_requests(void)
{
	size_t n = sizeof(good_requests) / sizeof(good_requests[0]);
	static struct http_msg m, slow;
	struct http_error e = { 0, NULL };

	for (size_t i = 0; i < n; i++) {
		const struct good *g = &good_requests[i];
		size_t len = strlen(g->raw);
		char *buf = exact(g->raw, len);
		size_t scanned = 0;
		ssize_t r;

		r = http_parse_request(buf, len, MAX_HEAD, &scanned, &m, &e);
		if (!ok(r == (ssize_t)len, "accepted: %s", g->why))
			tap_diag("got %zd: %d %s", r, e.status,
				 e.reason ? e.reason : "");
		if (r <= 0) {
			free(buf);
			continue;
		}
		is_int(m.head_len, len, "head_len: %s", g->why);
		is_int(m.method, g->method, "method: %s", g->why);
		is_str(cstr(m.method_str), g->method_str, "method_str: %s",
		       g->why);
		is_str(cstr(m.target), g->target, "target: %s", g->why);
		is_str(cstr(m.path), g->path, "path: %s", g->why);
		is_int(m.minor, g->minor, "minor: %s", g->why);
		is_int(m.framing, g->framing, "framing: %s", g->why);
		is_int((long long)m.content_length,
		       (long long)g->content_length, "content_length: %s",
		       g->why);
		is_str(cstr(m.host), g->host, "host: %s", g->why);
		is_int(m.keep_alive, g->keep_alive, "keep_alive: %s", g->why);
		is_int(m.upgrade, g->upgrade, "upgrade: %s", g->why);
		is_int(m.expect_continue, g->expect_continue,
		       "expect_continue: %s", g->why);
		is_int(m.n_headers, g->n_headers, "n_headers: %s", g->why);
		for (size_t h = 0; h < m.n_headers; h++)
			ok(m.headers[h].name.p >= buf &&
			       m.headers[h].value.p + m.headers[h].value.len <=
				   buf + len,
			   "header %zu inside the buffer: %s", h, g->why);
		r = request_slowly(g->raw, len, MAX_HEAD, &slow, &e);
		ok(r == (ssize_t)len && same_msg(&m, &slow),
		   "octet by octet, the same: %s", g->why);
		free(buf);
	}
}

static void
test_fields(void)
{
	static struct http_msg m;
	struct http_error e = { 0, NULL };
	const char *raw = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: \t a b \t\r\n"
			  "x-pad:c\r\nX-Empty: \t \r\n\r\n";
	size_t len = strlen(raw), scanned = 0;
	char *buf = exact(raw, len);
	const struct http_header *h;

	is_int(http_parse_request(buf, len, MAX_HEAD, &scanned, &m, &e), len,
	       "fields parsed");
	is_int(m.n_headers, 4, "four fields");
	is_str(cstr(m.headers[1].name), "X-Pad", "name as received");
	is_str(cstr(m.headers[1].value), "a b", "OWS trimmed, inner SP kept");
	is_str(cstr(m.headers[2].value), "c", "value without OWS");
	is_str(cstr(m.headers[3].value), "", "value of OWS only is empty");
	h = http_header_find(&m, "x-PAD");
	ok(h == &m.headers[1], "http_header_find: the first, any case");
	h = http_header_find(&m, "host");
	ok(h != NULL && h->value.len == 1, "http_header_find: Host");
	ok(http_header_find(&m, "X-Pa") == NULL, "http_header_find: no prefix");
	ok(http_header_find(&m, "X-Padding") == NULL,
	   "http_header_find: no longer name");
	ok(http_header_find(&m, "Missing") == NULL, "http_header_find: NULL");
	free(buf);
}

static void
test_methods(void)
{
	ok(http_method_idempotent(HTTP_M_GET), "GET is idempotent");
	ok(http_method_idempotent(HTTP_M_HEAD), "HEAD is idempotent");
	ok(http_method_idempotent(HTTP_M_OPTIONS), "OPTIONS is idempotent");
	ok(http_method_idempotent(HTTP_M_PUT), "PUT is idempotent");
	ok(http_method_idempotent(HTTP_M_DELETE), "DELETE is idempotent");
	ok(http_method_idempotent(HTTP_M_TRACE), "TRACE is idempotent");
	ok(!http_method_idempotent(HTTP_M_POST), "POST is not");
	ok(!http_method_idempotent(HTTP_M_PATCH), "PATCH is not");
	ok(!http_method_idempotent(HTTP_M_CONNECT), "CONNECT is not");
	ok(!http_method_idempotent(HTTP_M_OTHER), "an unknown method is not");
}

/* Requests one after the other in one buffer: each head ends exactly. */
#define PIPE_1 "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
#define PIPE_2 "\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n"
#define PIPE_3 "GET /c HTTP/1.1\r\nHost: a\r\n\r\n"
#define PIPE_4 "GET /d HT"

static void
test_pipelining(void)
{
	static struct http_msg m;
	struct http_error e = { 0, NULL };
	const char raw[] = PIPE_1 "hello" PIPE_2 PIPE_3 PIPE_4;
	size_t len = sizeof(raw) - 1, off = 0, scanned = 0;
	char *buf = exact(raw, len);
	ssize_t r;

	r = http_parse_request(buf, len, MAX_HEAD, &scanned, &m, &e);
	is_int(r, sizeof(PIPE_1) - 1, "first head ends before its body");
	is_str(cstr(m.target), "/a", "first target");
	is_int(m.content_length, 5, "first body length");
	off = (size_t)r + m.content_length;
	scanned = 0;
	r = http_parse_request(buf + off, len - off, MAX_HEAD, &scanned, &m,
			       &e);
	is_int(r, sizeof(PIPE_2) - 1, "second head, an empty line first");
	is_str(cstr(m.target), "/b", "second target");
	off += (size_t)r;
	scanned = 0;
	r = http_parse_request(buf + off, len - off, MAX_HEAD, &scanned, &m,
			       &e);
	is_int(r, sizeof(PIPE_3) - 1, "third head");
	is_str(cstr(m.target), "/c", "third target");
	off += (size_t)r;
	scanned = 0;
	r = http_parse_request(buf + off, len - off, MAX_HEAD, &scanned, &m,
			       &e);
	is_int(r, 0, "fourth head is incomplete");
	is_int(len - off, sizeof(PIPE_4) - 1, "and left whole");
	free(buf);
}

static void
test_limits(void)
{
	static struct http_msg m;
	static char raw[8192];
	struct http_error e = { 0, NULL };
	const char *head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t len, hlen = strlen(head), scanned;
	ssize_t r;
	int n;

	/* HTTP_MAX_HEADERS fields pass, one more is 431. */
	n = snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 1; i < HTTP_MAX_HEADERS; i++)
		n += snprintf(raw + n, sizeof(raw) - (size_t)n, "X-%d: v\r\n",
			      i);
	len = (size_t)n;
	memcpy(raw + len, "\r\n", 2);
	r = request(raw, len + 2, MAX_HEAD, &m, &e);
	is_int(r, (long long)(len + 2), "HTTP_MAX_HEADERS fields accepted");
	is_int(m.n_headers, HTTP_MAX_HEADERS, "all of them kept");
	memcpy(raw + len, "X-Last: v\r\n\r\n", 13);
	r = request(raw, len + 13, MAX_HEAD, &m, &e);
	ok(r == -1 && e.status == 431, "one more field: 431");
	r = request_slowly(raw, len + 13, MAX_HEAD, &m, &e);
	ok(r == -1 && e.status == 431, "one more field, slowly: 431");

	/* max_head: a head of exactly max_head octets is fine. */
	r = request(head, hlen, hlen, &m, &e);
	is_int(r, (long long)hlen, "head of exactly max_head accepted");
	r = request(head, hlen, hlen - 1, &m, &e);
	ok(r == -1 && e.status == 431, "one octet over max_head: 431");
	r = request_slowly(head, hlen, hlen - 1, &m, &e);
	ok(r == -1 && e.status == 431, "one octet over, slowly: 431");
	r = request(head, hlen - 1, hlen, &m, &e);
	is_int(r, 0, "incomplete under max_head: wait");
	r = request(head, hlen - 1, hlen - 1, &m, &e);
	ok(r == -1 && e.status == 431,
	   "incomplete at max_head: 431 without waiting");
	/* Bytes after a complete head do not count against it. */
	memcpy(raw, head, hlen);
	memset(raw + hlen, 'x', 200);
	r = request(raw, hlen + 200, hlen, &m, &e);
	is_int(r, (long long)hlen, "a body after the head is not head");

	/* Up to HTTP_MAX_EMPTY_LINES (4) empty lines first. */
	r = request(RAW("\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
		    MAX_HEAD, &m, &e);
	is_int(r, 35, "four empty lines skipped, counted in head_len");
	r = request(RAW("\r\n\r\n\r"), MAX_HEAD, &m, &e);
	is_int(r, 0, "empty lines only: wait");

	/* scanned resumes: a head delivered in three writes. */
	memcpy(raw, head, hlen);
	scanned = 0;
	r = http_parse_request(raw, 10, MAX_HEAD, &scanned, &m, &e);
	is_int(r, 0, "first write: incomplete");
	ok(scanned > 0 && scanned <= 10, "scanned moved on");
	r = http_parse_request(raw, hlen - 2, MAX_HEAD, &scanned, &m, &e);
	is_int(r, 0, "second write: incomplete");
	r = http_parse_request(raw, hlen, MAX_HEAD, &scanned, &m, &e);
	is_int(r, (long long)hlen, "third write: complete");
}

struct good_response {
	const char *raw;
	enum http_method req;
	int status;
	const char *reason;
	enum http_framing framing;
	uint64_t content_length;
	bool keep_alive;
	bool upgrade;
	const char *why;
};

// clang-format off
static const struct good_response good_responses[] = {
	{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", HTTP_M_GET, 200, "OK", HTTP_BODY_LENGTH, 3, true, false, "Content-Length" },
	{ "HTTP/1.1 200 OK\r\n\r\n", HTTP_M_GET, 200, "OK", HTTP_BODY_CLOSE, 0, false, false, "no framing: until close" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_M_GET, 200, "OK", HTTP_BODY_CHUNKED, 0, true, false, "chunked" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", HTTP_M_GET, 200, "OK", HTTP_BODY_CHUNKED, 0, true, false, "gzip then chunked" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP_M_GET, 200, "OK", HTTP_BODY_CLOSE, 0, false, false, "TE without chunked last: until close" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", HTTP_M_GET, 200, "OK", HTTP_BODY_CLOSE, 0, false, false, "chunked not last: until close" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", HTTP_M_HEAD, 200, "OK", HTTP_BODY_NONE, 0, true, false, "answer to HEAD" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_M_HEAD, 200, "OK", HTTP_BODY_NONE, 0, true, false, "chunked answer to HEAD" },
	{ "HTTP/1.1 200 OK\r\n\r\n", HTTP_M_HEAD, 200, "OK", HTTP_BODY_NONE, 0, true, false, "unframed answer to HEAD" },
	{ "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", HTTP_M_GET, 204, "No Content", HTTP_BODY_NONE, 0, true, false, "204" },
	{ "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_M_GET, 304, "Not Modified", HTTP_BODY_NONE, 0, true, false, "304" },
	{ "HTTP/1.1 100 Continue\r\n\r\n", HTTP_M_PUT, 100, "Continue", HTTP_BODY_NONE, 0, true, false, "100" },
	{ "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n", HTTP_M_GET, 103, "Early Hints", HTTP_BODY_NONE, 0, true, false, "103" },
	{ "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", HTTP_M_GET, 101, "Switching Protocols", HTTP_BODY_NONE, 0, false, true, "101 with Upgrade" },
	{ "HTTP/1.1 101 Switching Protocols\r\n\r\n", HTTP_M_GET, 101, "Switching Protocols", HTTP_BODY_NONE, 0, false, false, "101 without Upgrade" },
	{ "HTTP/1.1 200 Connection established\r\n\r\n", HTTP_M_CONNECT, 200, "Connection established", HTTP_BODY_NONE, 0, false, false, "2xx to CONNECT: tunnel" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", HTTP_M_CONNECT, 200, "OK", HTTP_BODY_NONE, 0, false, false, "2xx to CONNECT ignores Content-Length" },
	{ "HTTP/1.1 407 Proxy Auth\r\nContent-Length: 5\r\n\r\n", HTTP_M_CONNECT, 407, "Proxy Auth", HTTP_BODY_LENGTH, 5, true, false, "CONNECT refused: a body" },
	{ "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", HTTP_M_GET, 200, "", HTTP_BODY_NONE, 0, true, false, "no reason, no SP" },
	{ "HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\n", HTTP_M_GET, 200, "", HTTP_BODY_LENGTH, 1, true, false, "empty reason" },
	{ "HTTP/1.1 200 caf\xc3\xa9 \tok\r\nContent-Length: 1\r\n\r\n", HTTP_M_GET, 200, "caf\xc3\xa9 \tok", HTTP_BODY_LENGTH, 1, true, false, "obs-text and HTAB in the reason" },
	{ "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", HTTP_M_GET, 200, "OK", HTTP_BODY_LENGTH, 2, false, false, "HTTP/1.0 closes" },
	{ "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n", HTTP_M_GET, 200, "OK", HTTP_BODY_LENGTH, 2, true, false, "HTTP/1.0 keep-alive" },
	{ "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n", HTTP_M_GET, 200, "OK", HTTP_BODY_LENGTH, 2, false, false, "HTTP/1.1 close" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 4, 4\r\nContent-Length: 4\r\n\r\n", HTTP_M_GET, 200, "OK", HTTP_BODY_LENGTH, 4, true, false, "identical Content-Length values" },
	{ "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", HTTP_M_GET, 404, "Not Found", HTTP_BODY_NONE, 0, true, false, "404 without a body" },
	{ "HTTP/1.1 599 X\r\nContent-Length: 1\r\n\r\n", HTTP_M_GET, 599, "X", HTTP_BODY_LENGTH, 1, true, false, "599" },
};

static const struct bad bad_responses[] = {
	{ RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), 502, "TE with CL", 0 },
	{ RAW("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 502, "different Content-Length", 0 },
	{ RAW("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"), 502, "invalid Content-Length", 0 },
	{ RAW("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), 502, "negative Content-Length", 0 },
	{ RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), 502, "chunked twice", 0 },
	{ RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;x=1\r\n\r\n"), 502, "chunked with a parameter", 0 },
	{ RAW("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), 502, "chunked in HTTP/1.0", 0 },
	{ RAW("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n"), 502, "bare CR", 0 },
	{ RAW("HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n"), 502, "bare LF", 0 },
	{ RAW("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), 502, "obs-fold", 0 },
	{ RAW("HTTP/1.1 200 OK\rX\r\n\r\n"), 502, "bare CR in the status line", 0 },
	{ RAW("HTTP/1.1 200 OK\r\nX Y: a\r\n\r\n"), 502, "space in a name", 0 },
	{ RAW("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n"), 502, "space before colon", 0 },
	{ RAW("HTTP/1.1 200 O\0K\r\n\r\n"), 502, "NUL in the reason", 0 },
	{ RAW("HTTP/1.1 200 OK\r\nX: \0\r\n\r\n"), 502, "NUL in a value", 0 },
	{ RAW("HTTP/2.0 200 OK\r\n\r\n"), 502, "HTTP/2.0", 0 },
	{ RAW("HTTP/1.2 200 OK\r\n\r\n"), 502, "HTTP/1.2", 0 },
	{ RAW("http/1.1 200 OK\r\n\r\n"), 502, "lower-case version", 0 },
	{ RAW("HTTP/1.1 20 OK\r\n\r\n"), 502, "two-digit status", 0 },
	{ RAW("HTTP/1.1 2000 OK\r\n\r\n"), 502, "four-digit status", 0 },
	{ RAW("HTTP/1.1 200OK\r\n\r\n"), 502, "no SP after the status", 0 },
	{ RAW("HTTP/1.1  200 OK\r\n\r\n"), 502, "two SP before the status", 0 },
	{ RAW("HTTP/1.1 099 X\r\n\r\n"), 502, "status under 100", 0 },
	{ RAW("HTTP/1.1 600 X\r\n\r\n"), 502, "status over 599", 0 },
	{ RAW("HTTP/1.1 2x0 OK\r\n\r\n"), 502, "status not numeric", 0 },
	{ RAW("\r\nHTTP/1.1 200 OK\r\n\r\n"), 502, "an empty line first", 0 },
	{ RAW("HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"), 502, "head over max_head", 64 },
};
// clang-format on

static void
test_responses(void)
{
	size_t n = sizeof(good_responses) / sizeof(good_responses[0]);
	static struct http_msg m, slow;
	static char raw[8192];
	struct http_error e = { 0, NULL };
	ssize_t r;
	int len;

	for (size_t i = 0; i < n; i++) {
		const struct good_response *g = &good_responses[i];
		size_t glen = strlen(g->raw), scanned = 0;

		r = http_parse_response(g->raw, glen, MAX_HEAD, &scanned,
					g->req, &m, &e);
		if (!ok(r == (ssize_t)glen, "response accepted: %s", g->why))
			tap_diag("got %zd: %s", r, e.reason ? e.reason : "");
		if (r <= 0)
			continue;
		is_int(m.status, g->status, "status: %s", g->why);
		is_str(cstr(m.reason_phrase), g->reason, "reason: %s", g->why);
		is_int(m.framing, g->framing, "framing: %s", g->why);
		is_int((long long)m.content_length,
		       (long long)g->content_length, "content_length: %s",
		       g->why);
		is_int(m.keep_alive, g->keep_alive, "keep_alive: %s", g->why);
		is_int(m.upgrade, g->upgrade, "upgrade: %s", g->why);
		r = response_slowly(g->raw, glen, g->req, &slow, &e);
		ok(r == (ssize_t)glen && same_msg(&m, &slow),
		   "response octet by octet, the same: %s", g->why);
	}

	n = sizeof(bad_responses) / sizeof(bad_responses[0]);
	for (size_t i = 0; i < n; i++) {
		const struct bad *b = &bad_responses[i];
		char *buf = exact(b->raw, b->len);
		size_t scanned = 0;

		e.status = 0;
		r = http_parse_response(buf, b->len,
					b->max_head ? b->max_head : MAX_HEAD,
					&scanned, HTTP_M_GET, &m, &e);
		free(buf);
		ok(r == -1 && e.status == 502, "response refused with 502: %s",
		   b->why);
		if (b->max_head == 0) {
			r = response_slowly(b->raw, b->len, HTTP_M_GET, &m, &e);
			ok(r == -1 && e.status == 502,
			   "refused octet by octet too: %s", b->why);
		}
	}

	len = snprintf(raw, sizeof(raw), "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
		len += snprintf(raw + len, sizeof(raw) - (size_t)len,
				"X-%d: v\r\n", i);
	len += snprintf(raw + len, sizeof(raw) - (size_t)len, "\r\n");
	r = response(raw, (size_t)len, HTTP_M_GET, &m, &e);
	ok(r == -1 && e.status == 502, "too many fields in a response: 502");
}

/* A valid chunked body; consumed < len when a request follows it. */
struct chunked_case {
	const char *raw;
	size_t len;
	size_t consumed;
	const char *why;
};

/* Scans raw from a fresh state: split at `at`, then the rest. */
static ssize_t
chunked_split(const char *raw, size_t len, size_t at, bool *done,
	      struct http_error *e)
{
	struct http_chunked c = { 0 };
	char *a = exact(raw, at), *b = exact(raw + at, len - at);
	ssize_t r1, r2 = 0;

	r1 = http_chunked_scan(&c, a, at, done, e);
	if (r1 != -1 && !*done) {
		r2 = http_chunked_scan(&c, b, len - at, done, e);
		if (r2 == -1)
			r1 = -1;
	}
	free(a);
	free(b);
	return r1 == -1 ? -1 : r1 + r2;
}

/* One octet per call. */
static ssize_t
chunked_slowly(const char *raw, size_t len, bool *done, struct http_error *e)
{
	struct http_chunked c = { 0 };
	size_t total = 0;

	*done = false;
	for (size_t i = 0; i < len && !*done; i++) {
		char *b = exact(raw + i, 1);
		ssize_t r = http_chunked_scan(&c, b, 1, done, e);

		free(b);
		if (r == -1)
			return -1;
		total += (size_t)r;
	}
	return (ssize_t)total;
}

// clang-format off
static const struct chunked_case good_chunked[] = {
	{ RAW("0\r\n\r\n"), 5, "last chunk only" },
	{ RAW("5\r\nhello\r\n0\r\n\r\n"), 15, "one chunk" },
	{ RAW("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), 26, "two chunks" },
	{ RAW("A\r\n0123456789\r\n0\r\n\r\n"), 20, "upper-case hex" },
	{ RAW("a\r\n0123456789\r\n0\r\n\r\n"), 20, "lower-case hex" },
	{ RAW("0000000000000005\r\nhello\r\n0\r\n\r\n"), 30, "16 digits with leading zeros" },
	{ RAW("5;name=value\r\nhello\r\n0\r\n\r\n"), 26, "an extension" },
	{ RAW("5;a;b=c;d=\"q\\\"x y\"\r\nhello\r\n0;last\r\n\r\n"), 37, "several extensions, quoted value" },
	{ RAW("5 ;\ta = b ; c\r\nhello\r\n0\r\n\r\n"), 27, "BWS around ; and =" },
	{ RAW("5;a \t=\t b\r\nhello\r\n0\r\n\r\n"), 23, "BWS of several octets" },
	{ RAW("0\r\nX-Trailer: v\r\nOther:\r\n\r\n"), 27, "trailer fields" },
	{ RAW("3\r\n\r\n\r\r\n0\r\n\r\n"), 13, "data that looks like CRLF" },
	{ RAW("2\r\n\0\0\r\n0\r\n\r\n"), 12, "NUL octets in data" },
	{ RAW("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 15, "stops before the next request" },
	{ RAW("0\r\nT: 1\r\n\r\n0\r\n\r\n"), 11, "stops after the trailers" },
};

static const struct chunked_case bad_chunked[] = {
	{ RAW("  5\r\nhello\r\n0\r\n\r\n"), 0, "spaces before the size" },
	{ RAW(" 5\r\nhello\r\n0\r\n\r\n"), 0, "a space before the size" },
	{ RAW("\t5\r\nhello\r\n0\r\n\r\n"), 0, "HTAB before the size" },
	{ RAW("+5\r\nhello\r\n0\r\n\r\n"), 0, "plus sign" },
	{ RAW("-5\r\nhello\r\n0\r\n\r\n"), 0, "negative size" },
	{ RAW("0x5\r\nhello\r\n0\r\n\r\n"), 0, "0x prefix" },
	{ RAW("5\r\nhelloXX0\r\n\r\n"), 0, "TE.CL: data longer than the size" },
	{ RAW("5\r\nhell\r\n0\r\n\r\n"), 0, "data shorter than the size" },
	{ RAW("5\r\nhello\n0\r\n\r\n"), 0, "LF alone after data" },
	{ RAW("5\r\nhello\r0\r\n\r\n"), 0, "CR alone after data" },
	{ RAW("5\nhello\r\n0\r\n\r\n"), 0, "bare LF after the size" },
	{ RAW("5\rhello\r\n0\r\n\r\n"), 0, "bare CR after the size" },
	{ RAW("10000000000000000\r\n"), 0, "17 digits: overflow" },
	{ RAW("ffffffffffffffff0\r\n"), 0, "64 bits and one digit more" },
	{ RAW("\r\n\r\n"), 0, "empty size" },
	{ RAW("5 \r\nhello\r\n0\r\n\r\n"), 0, "whitespace after the size" },
	{ RAW("5;\r\nhello\r\n0\r\n\r\n"), 0, "empty extension name" },
	{ RAW("5;a=\r\nhello\r\n0\r\n\r\n"), 0, "empty extension value" },
	{ RAW("5;a =\r\nhello\r\n0\r\n\r\n"), 0, "empty value after BWS" },
	{ RAW("5;a \r\nhello\r\n0\r\n\r\n"), 0, "BWS after a name at the end" },
	{ RAW("5;a b\r\nhello\r\n0\r\n\r\n"), 0, "two names without ;" },
	{ RAW("5;a=b c\r\nhello\r\n0\r\n\r\n"), 0, "two values" },
	{ RAW("5;a=\"x\r\nhello\r\n0\r\n\r\n"), 0, "unterminated quoted value" },
	{ RAW("5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n"), 0, "CTL in a quoted value" },
	{ RAW("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n"), 0, "text after a quoted value" },
	{ RAW("5;a@b\r\nhello\r\n0\r\n\r\n"), 0, "delimiter in a name" },
	{ RAW("5;a\nhello\r\n0\r\n\r\n"), 0, "bare LF after an extension" },
	{ RAW("g\r\n"), 0, "not hex" },
	{ RAW("5\0\r\nhello\r\n0\r\n\r\n"), 0, "NUL in the size line" },
	{ RAW("0\r\nX: a\r\n b\r\n\r\n"), 0, "obs-fold in trailers" },
	{ RAW("0\r\n X: a\r\n\r\n"), 0, "trailer starting with SP" },
	{ RAW("0\r\nX Y: a\r\n\r\n"), 0, "space in a trailer name" },
	{ RAW("0\r\nX : a\r\n\r\n"), 0, "space before a trailer colon" },
	{ RAW("0\r\nX: a\rb\r\n\r\n"), 0, "bare CR in a trailer" },
	{ RAW("0\r\nX: a\nY: b\r\n\r\n"), 0, "bare LF in trailers" },
	{ RAW("0\r\nX: a\0\r\n\r\n"), 0, "NUL in a trailer" },
	{ RAW("0\r\nfoo\r\n\r\n"), 0, "trailer without colon" },
	{ RAW("0\r\n\rX"), 0, "bare CR at the end" },
	{ RAW("0\r\n\n"), 0, "bare LF at the end" },
};
// clang-format on

static void
test_chunked(void)
{
	size_t n = sizeof(good_chunked) / sizeof(good_chunked[0]);
	static char big[64 * 1024];
	struct http_error e = { 0, NULL };
	struct http_chunked c;
	bool done;
	ssize_t r;
	size_t len;

	for (size_t i = 0; i < n; i++) {
		const struct chunked_case *g = &good_chunked[i];
		bool all = true;

		r = chunked_split(g->raw, g->len, g->len, &done, &e);
		ok(r == (ssize_t)g->consumed && done, "chunked: %s", g->why);
		for (size_t at = 0; at <= g->len; at++) {
			r = chunked_split(g->raw, g->len, at, &done, &e);
			if (r != (ssize_t)g->consumed || !done) {
				tap_diag("split at %zu: %zd", at, r);
				all = false;
			}
		}
		ok(all, "chunked, split anywhere, the same: %s", g->why);
		r = chunked_slowly(g->raw, g->len, &done, &e);
		ok(r == (ssize_t)g->consumed && done,
		   "chunked octet by octet, the same: %s", g->why);
	}

	n = sizeof(bad_chunked) / sizeof(bad_chunked[0]);
	tap_diag("%zu malformed chunked bodies", n);
	for (size_t i = 0; i < n; i++) {
		const struct chunked_case *b = &bad_chunked[i];
		bool all = true;

		e.status = 0;
		r = chunked_split(b->raw, b->len, b->len, &done, &e);
		ok(r == -1 && e.status == 400 && e.reason != NULL,
		   "chunked refused: %s", b->why);
		for (size_t at = 0; at <= b->len; at++)
			if (chunked_split(b->raw, b->len, at, &done, &e) != -1)
				all = false;
		ok(all, "refused however split: %s", b->why);
		ok(chunked_slowly(b->raw, b->len, &done, &e) == -1,
		   "refused octet by octet: %s", b->why);
	}

	/* A size line of 4096 octets passes, 4097 does not. */
	memset(big, 'x', sizeof(big));
	memcpy(big, "5;a=", 4);
	memcpy(big + 4096, "\r\nhello\r\n0\r\n\r\n", 14);
	r = chunked_split(big, 4096 + 14, 4096 + 14, &done, &e);
	ok(r == 4096 + 14 && done, "size line of 4096 octets");
	big[4096] = 'x';
	memcpy(big + 4097, "\r\nhello\r\n0\r\n\r\n", 14);
	r = chunked_split(big, 4097 + 14, 4097 + 14, &done, &e);
	ok(r == -1 && e.status == 400, "size line of 4097 octets refused");
	r = chunked_slowly(big, 4097 + 14, &done, &e);
	ok(r == -1, "size line of 4097 octets refused, slowly");

	/* Trailers: 32 KiB in all, not one octet more. */
	len = 0;
	memcpy(big, "0\r\n", 3);
	len = 3;
	while (len + 1000 < 3 + 32 * 1024 - 2)
		len += (size_t)snprintf(big + len, 1001, "X: %0995d\r\n", 0);
	/* Pad the last field so the trailers are exactly 32 KiB with CRLF. */
	{
		size_t fill = 3 + 32 * 1024 - 2 - len - 5;

		memcpy(big + len, "Y: ", 3);
		memset(big + len + 3, 'y', fill);
		memcpy(big + len + 3 + fill, "\r\n\r\n", 4);
		len += 3 + fill + 4;
	}
	r = chunked_split(big, len, len, &done, &e);
	ok(r == (ssize_t)len && done, "trailers of exactly 32 KiB");
	memmove(big + 4, big + 3, len - 3);
	big[3] = 'Z';
	r = chunked_split(big, len + 1, len + 1, &done, &e);
	ok(r == -1 && e.status == 400, "trailers of 32 KiB + 1 refused");

	/* Huge chunk sizes are counted down, not allocated. */
	memset(&c, 0, sizeof(c));
	r = http_chunked_scan(&c, RAW("ffffffffffffffff\r\nabc"), &done, &e);
	ok(r == 21 && !done && c.remaining == UINT64_MAX - 3,
	   "largest chunk size, counting down");

	/* Once done, nothing more belongs to the body. */
	memset(&c, 0, sizeof(c));
	r = http_chunked_scan(&c, RAW("0\r\n\r\n"), &done, &e);
	ok(r == 5 && done, "done");
	r = http_chunked_scan(&c, RAW("GET"), &done, &e);
	ok(r == 0 && done, "after done, no octet is consumed");

	/* A state no scan can leave behind is refused, not trusted. */
	memset(&c, 0, sizeof(c));
	c.state = 1000;
	r = http_chunked_scan(&c, RAW("0\r\n\r\n"), &done, &e);
	ok(r == -1 && !done, "corrupt state refused");
}

int
main(void)
{
	test_bad_requests();
	test_good_requests();
	test_fields();
	test_methods();
	test_pipelining();
	test_limits();
	test_responses();
	test_chunked();
	return tap_done();
}
