/*
 * event.c: event ids and the event's JSON form.
 */
#include "config.h"

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
	time_t sec = (time_t)(e->time_ms / 1000);
	struct tm tm;
	char when[32];

	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_puts(b, "{\"id\":");
	buf_json_str(b, e->id);
	buf_printf(b, ",\"time\":\"%s.%03dZ\",\"event\":\"%s\"", when,
		   (int)(e->time_ms % 1000), event_kind_names[e->kind]);
	field(b, "cluster", e->cluster);
	field(b, "node", e->node);
	field(b, "from", e->from);
	field(b, "to", e->to);
	field(b, "state", e->state);
	field(b, "reason", e->reason);
	if (e->dry_run)
		buf_puts(b, ",\"dry_run\":true");
	field(b, "appliance", e->appliance);
	buf_puts(b, "}");
}
