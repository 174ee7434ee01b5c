/*
 * event.c: event ids and the event's JSON form.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/conf.h"
#include "notify/event.h"

/* Crockford's base32, as ULIDs use it: no I, L, O, U. */
static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void
hash_field(EVP_MD_CTX *md, const char *s)
{
	/* Each field ends with a NUL, so ("ab", "c") and ("a", "bc") differ;
	 * an absent field is a lone 0x01. */
	if (s == NULL)
		EVP_DigestUpdate(md, "\x01", 1);
	else
		EVP_DigestUpdate(md, s, strlen(s) + 1);
}

void
event_make_id(struct event *e)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	uint64_t t = (uint64_t)(e->evidence_ms < 0 ? 0 : e->evidence_ms);
	char when[32];
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	snprintf(when, sizeof(when), "%lld", (long long)e->evidence_ms);
	memset(h, 0, sizeof(h));
	if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
		hash_field(md, e->cluster);
		hash_field(md, event_kind_names[e->kind]);
		hash_field(md, e->node);
		hash_field(md, e->from);
		hash_field(md, e->to);
		hash_field(md, e->prev);
		hash_field(md, e->state);
		hash_field(md, when);
		if (e->attempt > 0) {
			char attempt[32];

			snprintf(attempt, sizeof(attempt), "attempt %d",
				 e->attempt);
			hash_field(md, attempt);
		}
		if (e->scope != NULL) {
			hash_field(md, "scope");
			hash_field(md, e->scope);
		}
		EVP_DigestFinal_ex(md, h, &hl);
	}
	EVP_MD_CTX_free(md);

	/* 48 bits of milliseconds in 10 characters (the top 2 bits 0). */
	for (int i = 9; i >= 0; i--) {
		e->id[i] = b32[t & 31];
		t >>= 5;
	}
	/* 80 bits of the hash in 16 characters. */
	for (int i = 0; i < 16; i++) {
		int bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v =
		    ((unsigned)h[byte] << 8 | h[byte + 1]) >> (11 - shift);

		e->id[10 + i] = b32[v & 31];
	}
	e->id[EVENT_ID_LEN] = '\0';
}

static void
field(struct buf *b, const char *name, const char *value)
{
	if (value == NULL)
		return;
	buf_printf(b, ",\"%s\":", name);
	buf_json_str(b, value);
}

void
event_json(const struct event *e, struct buf *b)
{
	buf_puts(b, "{\"id\":");
	buf_json_str(b, e->id);
	buf_puts(b, ",\"time\":");
	buf_json_time(b, e->time_ms);
	buf_printf(b, ",\"event\":\"%s\"", event_kind_names[e->kind]);
	field(b, "cluster", e->cluster);
	field(b, "node", e->node);
	field(b, "from", e->from);
	field(b, "to", e->to);
	field(b, "state", e->state);
	field(b, "reason", e->reason);
	if (e->dry_run)
		buf_puts(b, ",\"dry_run\":true");
	if (e->attempt > 0)
		buf_printf(b, ",\"attempt\":%d", e->attempt);
	field(b, "appliance", e->appliance);
	buf_puts(b, "}");
}

/*
 * The reader of event_parse(): a strict recursive-descent pass over one
 * flat object. Strings are unescaped into mem, which is as long as the
 * input (unescaping never grows a string).
 */
struct jreader {
	const char *p, *end;
	char *out; /* next free byte of mem */
};

static void
skip_ws(struct jreader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int
hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

static void
put_utf8(struct jreader *r, unsigned cp)
{
	if (cp < 0x80) {
		*r->out++ = (char)cp;
	} else if (cp < 0x800) {
		*r->out++ = (char)(0xc0 | cp >> 6);
		*r->out++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*r->out++ = (char)(0xe0 | cp >> 12);
		*r->out++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*r->out++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*r->out++ = (char)(0xf0 | cp >> 18);
		*r->out++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*r->out++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*r->out++ = (char)(0x80 | (cp & 0x3f));
	}
}

/* One \uXXXX (and its low surrogate); at most 4 bytes out for the 6 or 12
 * read. */
static int
read_u_escape(struct jreader *r)
{
	unsigned cp, lo;

	if (r->end - r->p < 4 || hex4(r->p, &cp) == -1)
		return -1;
	r->p += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
		    hex4(r->p + 2, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
			return -1;
		r->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0)
		return -1; /* would cut the C string short */
	put_utf8(r, cp);
	return 0;
}

/* A string at r->p (its opening quote); returns it, unescaped, in mem. */
static const char *
read_string(struct jreader *r)
{
	char *s = r->out;

	if (r->p >= r->end || *r->p != '"')
		return NULL;
	r->p++;
	while (r->p < r->end && *r->p != '"') {
		unsigned char c = (unsigned char)*r->p++;

		if (c < 0x20)
			return NULL;
		if (c != '\\') {
			*r->out++ = (char)c;
			continue;
		}
		if (r->p >= r->end)
			return NULL;
		c = (unsigned char)*r->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			*r->out++ = (char)c;
			break;
		case 'b':
			*r->out++ = '\b';
			break;
		case 'f':
			*r->out++ = '\f';
			break;
		case 'n':
			*r->out++ = '\n';
			break;
		case 'r':
			*r->out++ = '\r';
			break;
		case 't':
			*r->out++ = '\t';
			break;
		case 'u':
			if (read_u_escape(r) == -1)
				return NULL;
			break;
		default:
			return NULL;
		}
	}
	if (r->p >= r->end)
		return NULL;
	r->p++;
	*r->out++ = '\0';
	return s;
}

static int
read_word(struct jreader *r, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
		return -1;
	r->p += n;
	return 0;
}

static int
read_number(struct jreader *r)
{
	const char *start = r->p;

	while (r->p < r->end && strchr("+-0123456789.eE", *r->p) != NULL)
		r->p++;
	return r->p > start ? 0 : -1;
}

static void
view_set(struct event_view *v, const char *key, const char *val)
{
	static const struct {
		const char *name;
		size_t off;
	} keys[] = {
#define K(m) { #m, offsetof(struct event_view, m) }
		K(id),	 K(time), K(event), K(cluster), K(node),
		K(from), K(to),	  K(state), K(reason),	K(appliance),
#undef K
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i].name) == 0)
			*(const char **)((char *)v + keys[i].off) = val;
}

int
event_parse(const char *json, size_t len, struct event_view *v)
{
	struct jreader r = { json, json + len, NULL };

	memset(v, 0, sizeof(*v));
	if ((v->mem = malloc(len + 1)) == NULL)
		return -1;
	r.out = v->mem;
	skip_ws(&r);
	if (r.p >= r.end || *r.p++ != '{')
		return -1;
	skip_ws(&r);
	if (r.p < r.end && *r.p == '}') {
		r.p++;
		goto done;
	}
	for (;;) {
		const char *key, *val = NULL;

		skip_ws(&r);
		if ((key = read_string(&r)) == NULL)
			return -1;
		skip_ws(&r);
		if (r.p >= r.end || *r.p++ != ':')
			return -1;
		skip_ws(&r);
		if (r.p >= r.end)
			return -1;
		if (*r.p == '"') {
			if ((val = read_string(&r)) == NULL)
				return -1;
		} else if (*r.p == 't') {
			if (read_word(&r, "true") == -1)
				return -1;
			if (strcmp(key, "dry_run") == 0)
				v->dry_run = true;
		} else if (*r.p == 'f') {
			if (read_word(&r, "false") == -1)
				return -1;
		} else if (*r.p == 'n') {
			if (read_word(&r, "null") == -1)
				return -1;
		} else if (read_number(&r) == -1) {
			return -1; /* nested objects and arrays too */
		}
		view_set(v, key, val);
		skip_ws(&r);
		if (r.p >= r.end)
			return -1;
		if (*r.p == '}') {
			r.p++;
			break;
		}
		if (*r.p++ != ',')
			return -1;
	}
done:
	skip_ws(&r);
	return r.p == r.end ? 0 : -1;
}

void
event_view_free(struct event_view *v)
{
	free(v->mem);
	memset(v, 0, sizeof(*v));
}
