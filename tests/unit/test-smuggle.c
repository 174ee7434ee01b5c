/*
 * test-smuggle.c: the request smuggling corpus (tests/unit/smuggle/
 * requests.txt) through proxy/http.c as the proxy reads a request: the
 * head, then its body by the framing the head gave. Each case must get
 * the status SPEC.md gives it, or be accepted whole, both when its octets
 * come at once and when they come one at a time.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http.h"
#include "tests/unit/tap.h"

/* max_header_bytes in tests/integration/smuggle.sh. */
#define MAX_HEAD 4096
/* A case's octets once unescaped; the longest is about 5 KiB. */
#define RAW_MAX (16 * 1024)

/* What the proxy makes of a request. */
struct verdict {
	int status; /* 0 accepted, -1 incomplete, or the refusal's status */
	const char *why;
	size_t used; /* octets of the request, body included (accepted) */
};

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

/*
 * Reads raw as the proxy would, `step` octets more per read: the head
 * (resuming with scanned) until complete, then its body. Stops at the
 * end of the first request.
 */
static struct verdict
judge(const char *raw, size_t len, size_t step)
{
	static struct http_msg m;
	struct verdict v = { -1, NULL, 0 };
	struct http_error err = { 0, NULL };
	struct http_chunked c = { 0 };
	size_t have = 0, scanned = 0, head = 0, body = 0;
	bool done = false;

	while (have < len) {
		size_t got = len - have < step ? len - have : step;
		char *buf;
		ssize_t r;

		have += got;
		if (head == 0) {
			buf = exact(raw, have);
			r = http_parse_request(buf, have, MAX_HEAD, &scanned,
					       &m, &err);
			free(buf);
			if (r == -1)
				return (struct verdict){ err.status, err.reason,
							 0 };
			if (r == 0)
				continue;
			head = (size_t)r;
			if (m.framing == HTTP_BODY_NONE)
				return (struct verdict){ 0, NULL, head };
			got = have - head; /* the body's octets so far */
		}
		if (m.framing == HTTP_BODY_LENGTH) {
			body += got;
			if (body >= m.content_length)
				return (struct verdict){
					0, NULL, head + (size_t)m.content_length
				};
			continue;
		}
		buf = exact(raw + have - got, got);
		r = http_chunked_scan(&c, buf, got, &done, &err);
		free(buf);
		if (r == -1)
			return (struct verdict){ err.status, err.reason, 0 };
		body += (size_t)r;
		if (done)
			return (struct verdict){ 0, NULL, head + body };
	}
	return v;
}

static int
hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Unescapes \r \n \t \\ \xHH and \{N} into out; -1 on a bad escape. */
static long
unescape(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned long rep;
		char *end;
		int hi, lo;

		if (*s != '\\') {
			if (n == cap)
				return -1;
			out[n++] = *s;
			continue;
		}
		switch (*++s) {
		case 'r':
		case 'n':
		case 't':
		case '\\':
			if (n == cap)
				return -1;
			out[n++] = *s == 'r'   ? '\r'
				   : *s == 'n' ? '\n'
				   : *s == 't' ? '\t'
					       : '\\';
			break;
		case 'x':
			hi = hex(s[1]);
			lo = hi < 0 ? -1 : hex(s[2]);
			if (lo < 0 || n == cap)
				return -1;
			out[n++] = (char)(hi << 4 | lo);
			s += 2;
			break;
		case '{':
			rep = strtoul(s + 1, &end, 10);
			if (end == s + 1 || *end != '}' || n == 0 ||
			    rep > cap - n)
				return -1;
			memset(out + n, out[n - 1], rep);
			n += rep;
			s = end;
			break;
		default:
			return -1;
		}
	}
	return (long)n;
}

static const char *
status_name(int s)
{
	static char b[16];

	if (s == 0)
		return "accepted";
	if (s == -1)
		return "incomplete";
	snprintf(b, sizeof(b), "%d", s);
	return b;
}

/* One line of the corpus: checked for form, then judged twice. */
static void
run_case(const char *file, int lineno, char *line, int *cases, int *wire)
{
	static char raw[RAW_MAX];
	char status[8], where[8], name[128];
	struct verdict whole, slow;
	int want, off = 0;
	long len;

	if (sscanf(line, "%7s %7s %127s %n", status, where, name, &off) != 3 ||
	    off == 0 || line[off] == '\0') {
		ok(0, "%s:%d: STATUS WHERE NAME RAW", file, lineno);
		return;
	}
	if (strcmp(status, "ok") == 0) {
		want = 0;
	} else {
		want = atoi(status);
		if (want != 400 && want != 431 && want != 501 && want != 505) {
			ok(0, "%s:%d: status %s: ok, 400, 431, 501 or 505",
			   file, lineno, status);
			return;
		}
	}
	if (strcmp(where, "unit") != 0 && strcmp(where, "wire") != 0) {
		ok(0, "%s:%d: %s: unit or wire", file, lineno, where);
		return;
	}
	if (strchr(line, '\t') != NULL || line[off - 1] != ' ' ||
	    (off >= 2 && line[off - 2] == ' ') ||
	    line[strlen(line) - 1] == ' ') {
		ok(0, "%s:%d: %s: TAB, or space around RAW (write \\x20)", file,
		   lineno, name);
		return;
	}
	len = unescape(line + off, raw, sizeof(raw));
	if (len < 0) {
		ok(0, "%s:%d: %s: bad escape", file, lineno, name);
		return;
	}
	if (strcmp(where, "wire") == 0) {
		(*wire)++;
		if (memmem(raw, (size_t)len, "smuggle", 7) == NULL) {
			ok(0, "%s:%d: %s: a wire case must say \"smuggle\"",
			   file, lineno, name);
			return;
		}
	}
	(*cases)++;

	whole = judge(raw, (size_t)len, (size_t)len);
	slow = judge(raw, (size_t)len, 1);
	if (want == 0)
		ok(whole.status == 0 && whole.used == (size_t)len &&
		       slow.status == 0 && slow.used == (size_t)len,
		   "accepted: %s", name);
	else
		ok(whole.status == want && slow.status == want, "%d: %s (%s)",
		   want, name, whole.why ? whole.why : "-");
	if (whole.status != want || slow.status != want ||
	    (want == 0 &&
	     (whole.used != (size_t)len || slow.used != whole.used)))
		tap_diag("%s:%d: got %s (%s), octet by octet %s (%s); used "
			 "%zu of %ld",
			 file, lineno, status_name(whole.status),
			 whole.why ? whole.why : "-", status_name(slow.status),
			 slow.why ? slow.why : "-", whole.used, len);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	char file[4096], line[8192];
	int lineno = 0, cases = 0, wire = 0;
	FILE *f;

	snprintf(file, sizeof(file), "%s/tests/unit/smuggle/requests.txt",
		 top ? top : ".");
	f = fopen(file, "r");
	if (!ok(f != NULL, "the corpus opens: %s", file))
		return tap_done();
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);

		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		run_case(file, lineno, line, &cases, &wire);
	}
	fclose(f);
	tap_diag("%d cases, %d of them also sent over a socket by smuggle.sh",
		 cases, wire);
	ok(cases >= 60 && wire >= 12,
	   "the corpus has %d cases (60 or more), "
	   "%d for the wire (12 or more)",
	   cases, wire);
	return tap_done();
}
