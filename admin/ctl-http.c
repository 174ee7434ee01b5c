/*
 * ctl-http.c: one blocking HTTP request at a time to vigil's admin
 * listener. Plain HTTP only, never through a proxy (an http_proxy in the
 * operator's environment must not see the admin token), bounded in time.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/ctl-http.h"

/* The admin listener is a literal address in vigil; a name is fine here. */
static int
check_address(const char *a, char *err, size_t errlen)
{
	const char *port, *p = a;
	long n;
	char *end;

	if (*p == '[') {
		p++;
		while (*p && (strchr("0123456789abcdefABCDEF:.", *p) != NULL))
			p++;
		if (*p != ']' || p == a + 1)
			goto bad;
		p++;
	} else {
		while (*p &&
		       (strchr("-._", *p) != NULL || (*p >= '0' && *p <= '9') ||
			(*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			p++;
		if (p == a)
			goto bad;
	}
	if (*p != ':')
		goto bad;
	port = p + 1;
	if (*port < '0' || *port > '9')
		goto bad;
	errno = 0;
	n = strtol(port, &end, 10);
	if (*end != '\0' || errno != 0 || n < 1 || n > 65535)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen,
		 "bad admin address \"%s\": expected HOST:PORT "
		 "or [IPV6]:PORT",
		 a);
	return -1;
}

int
ctl_http_init(struct ctl_http *h, const char *address,
	      volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	size_t n;

	memset(h, 0, sizeof(*h));
	if (check_address(address, err, errlen) == -1)
		return -1;
	n = strlen("http://") + strlen(address) + 1;
	h->base = malloc(n);
	h->curl = curl_easy_init();
	if (h->base == NULL || h->curl == NULL) {
		snprintf(err, errlen, "out of memory");
		ctl_http_close(h);
		return -1;
	}
	snprintf(h->base, n, "http://%s", address);
	h->stop = stop;
	return 0;
}

void
ctl_http_close(struct ctl_http *h)
{
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->base);
	h->curl = NULL;
	h->base = NULL;
}

void
ctl_reply_free(struct ctl_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

char *
ctl_http_escape(struct ctl_http *h, const char *s)
{
	return curl_easy_escape(h->curl, s, 0);
}

struct sink {
	struct ctl_reply *r;
	bool too_big;
	bool oom;
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	struct ctl_reply *r = s->r;
	size_t n = size * nmemb;

	if (r->len + n > CTL_BODY_MAX) {
		s->too_big = true;
		return 0;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *p;

		while (cap < r->len + n + 1)
			cap *= 2;
		if ((p = realloc(r->body, cap)) == NULL) {
			s->oom = true;
			return 0;
		}
		r->body = p;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Lets a SIGINT end a transfer that waits for its 10 s timeout. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
	    curl_off_t ulnow)
{
	struct ctl_http *h = arg;

	return h->stop != NULL && *h->stop;
}

/* Why the request got no answer, in the words of the system when it can. */
static void
explain(struct ctl_http *h, CURLcode rc, const char *detail, char *err,
	size_t errlen)
{
	long os = 0;
	curl_off_t connect = 0;

	curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &os);
	curl_easy_getinfo(h->curl, CURLINFO_CONNECT_TIME_T, &connect);
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		if (connect == 0)
			snprintf(err, errlen, "no connection within %d s",
				 CTL_CONNECT_TIMEOUT_MS / 1000);
		else
			snprintf(err, errlen, "no answer within %d s",
				 CTL_TIMEOUT_MS / 1000);
		return;
	case CURLE_GOT_NOTHING:
		snprintf(err, errlen,
			 "the connection closed without an "
			 "answer");
		return;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(err, errlen, "the answer is not HTTP");
		return;
	default:
		break;
	}
	if (os != 0)
		snprintf(err, errlen, "%s", strerror((int)os));
	else if (detail[0] != '\0')
		snprintf(err, errlen, "%s", detail);
	else
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
}

enum ctl_http_result
ctl_http_request(struct ctl_http *h, const char *method, const char *path,
		 const char *token, struct ctl_reply *r, char *err,
		 size_t errlen)
{
	char detail[CURL_ERROR_SIZE] = "", *auth = NULL, *url = NULL;
	struct curl_slist *hdr = NULL, *l;
	struct sink sink = { .r = r };
	enum ctl_http_result res = CTL_HTTP_UNREACHABLE;
	size_t n;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	n = strlen(h->base) + strlen(path) + 1;
	if ((url = malloc(n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(url, n, "%s%s", h->base, path);
	/* Without this, libcurl would label the empty POST as a form. */
	hdr = curl_slist_append(hdr, "Content-Type:");
	if (hdr == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (token != NULL) {
		n = strlen("Authorization: Bearer ") + strlen(token) + 1;
		if ((auth = malloc(n)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		snprintf(auth, n, "Authorization: Bearer %s", token);
		/* libcurl's copy is wiped at the end, with the list. */
		l = curl_slist_append(hdr, auth);
		explicit_bzero(auth, n);
		if (l == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}

	curl_easy_reset(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http");
#else
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTP);
#endif
	curl_easy_setopt(h->curl, CURLOPT_PROXY, "");
	curl_easy_setopt(h->curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)CTL_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)CTL_TIMEOUT_MS);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "vigilctl/" VERSION);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, h);
	/* vigil answers and closes: never leave a connection for later. */
	curl_easy_setopt(h->curl, CURLOPT_FORBID_REUSE, 1L);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, 0L);
	}

	rc = curl_easy_perform(h->curl);
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		res = CTL_HTTP_INTERRUPTED;
		snprintf(err, errlen, "interrupted");
	} else if (rc == CURLE_WRITE_ERROR && sink.too_big) {
		snprintf(err, errlen, "the answer is larger than %u MiB",
			 CTL_BODY_MAX >> 20);
	} else if (rc == CURLE_WRITE_ERROR && sink.oom) {
		snprintf(err, errlen, "out of memory");
	} else if (rc != CURLE_OK) {
		explain(h, rc, detail, err, errlen);
	} else {
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
		/* An empty answer: give the caller "" all the same. */
		if (r->body == NULL && (r->body = calloc(1, 1)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		res = CTL_HTTP_OK;
	}
out:
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	for (l = hdr; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(hdr);
	free(auth);
	free(url);
	return res;
}
