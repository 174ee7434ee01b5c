/*
 * spool.c: the notifier's durable event log (dir/events.log, one event
 * JSON per line), the channels' cursor files beside it, and the log's tail
 * in memory, compacted so that neither grows without bound.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/log.h"
#include "notify/spool.h"

#define LOG_NAME	"events.log"
#define LOG_TMP		"events.log.tmp"
#define CURSOR_PREFIX	"cursor."
#define CURSOR_HASH_LEN 16 /* hex characters of SHA-256(key) */
#define CURSOR_NAME_LEN (sizeof(CURSOR_PREFIX) - 1 + CURSOR_HASH_LEN)
#define CURSOR_TMP_LEN	(CURSOR_NAME_LEN + 4) /* ".tmp" */
/* An event is a few hundred bytes; a longer line is not one of ours. */
#define MAX_LINE (64 * 1024)
/* A cursor file is a key and an id; more is not one of ours. */
#define MAX_CURSOR_FILE (16 * 1024)
/* Compaction writes the log in chunks of this size. */
#define WRITE_CHUNK (64 * 1024)

struct cursor {
	char *key;
	char name[CURSOR_NAME_LEN + 1];
	uint64_t next; /* the first seq not acknowledged */
};

struct spool {
	char *dir;
	char *log_path; /* dir/events.log, for messages */
	int dirfd;
	int fd;	     /* events.log, O_APPEND; -1 when it cannot be written */
	size_t keep; /* at least 1: the newest event always stays */
	bool durable;
	bool cursor_failing;	  /* a cursor file could not be written */
	struct spool_entry *ents; /* ents[i].seq == first + i */
	size_t n, cap;
	uint64_t first;
	struct cursor *cursors;
	size_t n_cursors, cap_cursors;
};

/* --- entries ------------------------------------------------------------ */

static int
push(struct spool *s, const char *id, enum event_kind kind, const char *json,
     size_t len)
{
	struct spool_entry *e;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;

		e = reallocarray(s->ents, cap, sizeof(*e));
		if (e == NULL)
			return -1;
		s->ents = e;
		s->cap = cap;
	}
	e = &s->ents[s->n];
	/* The NUL's byte doubles as the newline: see write_line(). */
	e->json = malloc(len + 1);
	if (e->json == NULL)
		return -1;
	memcpy(e->json, json, len);
	e->json[len] = '\0';
	e->len = len;
	e->seq = s->first + s->n;
	e->kind = kind;
	snprintf(e->id, sizeof(e->id), "%s", id);
	s->n++;
	return 0;
}

/* The seq of the first entry with this id, or 0. Ids repeat when one
 * transition happens twice on the same evidence; a cursor then resumes
 * after the oldest copy, which may send some events twice but never
 * skips one (at least once). */
static uint64_t
find_id(const struct spool *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->ents[i].id, id) == 0)
			return s->ents[i].seq;
	return 0;
}

/*
 * Drops from memory the entries that no open cursor needs and that are
 * more than keep from the end, once there are more than keep of them:
 * the log then holds at most 2 × keep + 1 events plus what some open
 * channel has not acknowledged, and is rewritten once every keep events
 * rather than at each one. Returns how many were dropped.
 */
static size_t
compact(struct spool *s)
{
	uint64_t need = s->n > s->keep ? s->first + s->n - s->keep : s->first;
	size_t drop;

	for (size_t i = 0; i < s->n_cursors; i++)
		if (s->cursors[i].next < need)
			need = s->cursors[i].next;
	if (need < s->first || need - s->first <= s->keep)
		return 0;
	drop = (size_t)(need - s->first);
	for (size_t i = 0; i < drop; i++)
		free(s->ents[i].json);
	memmove(s->ents, s->ents + drop, (s->n - drop) * sizeof(*s->ents));
	s->n -= drop;
	s->first = need;
	return drop;
}

/* --- writing ------------------------------------------------------------ */

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Writes the entry's JSON and its newline in one write(2) where the
 * kernel allows: the byte of the NUL becomes the newline meanwhile. */
static int
write_line(int fd, struct spool_entry *e)
{
	int r;

	e->json[e->len] = '\n';
	r = write_all(fd, e->json, e->len + 1);
	e->json[e->len] = '\0';
	return r;
}

/* The rename is durable once the directory is; without it a crash leaves
 * the old file, which holds the same events (or, for a cursor, an older
 * position: some events are delivered twice). Hence no error. */
static void
sync_dir(struct spool *s)
{
	(void)fsync(s->dirfd);
}

/*
 * Replaces events.log with the entries in memory (temporary file, fsync,
 * rename) and appends to the new file from now on. Returns 0, or -1 with
 * errno set and the old file left as it was.
 */
static int
rewrite(struct spool *s)
{
	char *chunk = NULL;
	size_t used = 0;
	int fd, ret = -1, e;

	fd = openat(s->dirfd, LOG_TMP,
		    O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	chunk = malloc(WRITE_CHUNK);
	if (chunk == NULL) {
		errno = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct spool_entry *en = &s->ents[i];

		if (used + en->len + 1 > WRITE_CHUNK) {
			if (write_all(fd, chunk, used) == -1)
				goto out;
			used = 0;
		}
		if (en->len + 1 > WRITE_CHUNK) {
			if (write_line(fd, en) == -1)
				goto out;
			continue;
		}
		memcpy(chunk + used, en->json, en->len);
		chunk[used + en->len] = '\n';
		used += en->len + 1;
	}
	if (write_all(fd, chunk, used) == -1 || fsync(fd) == -1)
		goto out;
	if (renameat(s->dirfd, LOG_TMP, s->dirfd, LOG_NAME) == -1)
		goto out;
	sync_dir(s);
	if (s->fd != -1)
		close(s->fd);
	s->fd = fd;
	fd = -1;
	ret = 0;
out:
	e = errno;
	if (fd != -1) {
		close(fd);
		(void)unlinkat(s->dirfd, LOG_TMP, 0);
	}
	free(chunk);
	errno = e;
	return ret;
}

/* The first failure of a streak is logged loudly; the rest are quiet
 * until a write succeeds again. */
static void
not_durable(struct spool *s, int err)
{
	if (s->durable)
		log_error("spool: cannot write %s: %s; events are kept in "
			  "memory only and are lost if vigil stops",
			  s->log_path, strerror(err));
	s->durable = false;
}

const struct spool_entry *
spool_append(struct spool *s, const char *id, enum event_kind kind,
	     const char *json, size_t len)
{
	uint64_t seq = s->first + s->n;
	size_t dropped;

	/* event_json never writes either; one would break the file. */
	if (strlen(id) > EVENT_ID_LEN || memchr(json, '\n', len) != NULL) {
		log_error("spool: event %s is not one JSON line; not logged",
			  id);
		return NULL;
	}
	if (push(s, id, kind, json, len) == -1)
		return NULL;
	dropped = compact(s);

	if (!s->durable) {
		/*
		 * The last append may have left part of a line, or the file
		 * may be gone: write the whole log afresh, which also makes
		 * the events kept in memory meanwhile durable again.
		 */
		if (rewrite(s) == 0) {
			s->durable = true;
			log_info("spool: writing %s again", s->log_path);
		}
	} else if (dropped == 0 || rewrite(s) == -1) {
		if (dropped > 0)
			log_warn("spool: cannot compact %s: %s; the old file "
				 "stays",
				 s->log_path, strerror(errno));
		if (s->fd == -1)
			not_durable(s, EBADF);
		else if (write_line(s->fd, &s->ents[s->n - 1]) == -1 ||
			 fdatasync(s->fd) == -1)
			not_durable(s, errno);
	}
	return spool_get(s, seq);
}

/* --- loading ------------------------------------------------------------ */

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

/* p is at a '"': returns the position after the closing quote, or NULL. */
static const char *
skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			if (++p == end)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* Skips one value: returns the position of the ',' or '}' that ends it. */
static const char *
skip_value(const char *p, const char *end)
{
	int depth = 0;

	while (p < end) {
		if (*p == '"') {
			p = skip_string(p, end);
			if (p == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return p;
			depth--;
		} else if (*p == ',' && depth == 0) {
			return p;
		}
		p++;
	}
	return NULL;
}

/* The content of a string value without escapes, or -1. */
static int
plain_string(const char *v, const char *vend, const char **out, size_t *len)
{
	const char *q = v < vend && *v == '"' ? skip_string(v, vend) : NULL;

	if (q == NULL || skip_ws(q, vend) != vend ||
	    memchr(v + 1, '\\', (size_t)(q - v - 2)) != NULL)
		return -1;
	*out = v + 1;
	*len = (size_t)(q - v - 2);
	return 0;
}

/*
 * Reads just the top-level "id" and "event" of one line, walking the
 * object's keys so that a field's text ("reason") cannot pass for one.
 * Returns 0, or -1 with why filled.
 */
static int
parse_line(const char *p, size_t len, char id[EVENT_ID_LEN + 1],
	   enum event_kind *kind, char *why, size_t whylen)
{
	const char *end = p + len, *k, *v, *str;
	size_t klen, slen;
	int found = 0;

	p = skip_ws(p, end);
	if (p == end || *p != '{')
		goto bad;
	p = skip_ws(p + 1, end);
	while (p < end && *p != '}') {
		if (*p != '"' || (v = skip_string(p, end)) == NULL)
			goto bad;
		k = p + 1;
		klen = (size_t)(v - k - 1);
		p = skip_ws(v, end);
		if (p == end || *p != ':')
			goto bad;
		v = skip_ws(p + 1, end);
		if ((p = skip_value(v, end)) == NULL)
			goto bad;
		if (klen == 2 && memcmp(k, "id", 2) == 0) {
			if (plain_string(v, p, &str, &slen) == -1 ||
			    slen == 0 || slen > EVENT_ID_LEN) {
				snprintf(why, whylen, "bad \"id\"");
				return -1;
			}
			memcpy(id, str, slen);
			id[slen] = '\0';
			found |= 1;
		} else if (klen == 5 && memcmp(k, "event", 5) == 0) {
			int i;

			if (plain_string(v, p, &str, &slen) == -1)
				goto bad;
			for (i = 0; i < EVENT__COUNT; i++)
				if (strlen(event_kind_names[i]) == slen &&
				    memcmp(event_kind_names[i], str, slen) == 0)
					break;
			if (i == EVENT__COUNT) {
				snprintf(why, whylen, "unknown event \"%.*s\"",
					 slen > 64 ? 64 : (int)slen, str);
				return -1;
			}
			*kind = (enum event_kind)i;
			found |= 2;
		}
		if (*p == ',')
			p = skip_ws(p + 1, end);
	}
	if (p == end || skip_ws(p + 1, end) != end)
		goto bad;
	if (found != 3) {
		snprintf(why, whylen, "no \"%s\"", found & 1 ? "event" : "id");
		return -1;
	}
	return 0;
bad:
	snprintf(why, whylen, "not a JSON object");
	return -1;
}

/* Returns -1 only out of memory; a line that does not parse is skipped. */
static int
load_line(struct spool *s, const char *line, size_t len, size_t lineno)
{
	char id[EVENT_ID_LEN + 1], why[128];
	enum event_kind kind = EVENT_NODE_UP;

	if (parse_line(line, len, id, &kind, why, sizeof(why)) == -1) {
		log_warn("%s:%zu: %s; line skipped", s->log_path, lineno, why);
		return 0;
	}
	return push(s, id, kind, line, len);
}

/*
 * Loads events.log from fd. A last line without its newline is a write
 * that a crash cut short: it is dropped and, when writable, the file is
 * cut back to its last newline so that the next append starts a line.
 */
static int
load(struct spool *s, int fd, bool writable, char *err, size_t errlen)
{
	size_t cap = MAX_LINE + 1, len = 0, lineno = 0;
	off_t off = 0;	/* the file offset of buf[0] */
	off_t good = 0; /* the offset after the last newline */
	bool skipping = false;
	char *buf = malloc(cap);
	int ret = -1;

	if (buf == NULL) {
		snprintf(err, errlen, "%s: out of memory", s->log_path);
		return -1;
	}
	for (;;) {
		ssize_t r = pread(fd, buf + len, cap - len, off + (off_t)len);
		size_t start = 0;
		char *nl;

		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", s->log_path,
				 strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		while ((nl = memchr(buf + start, '\n', len - start)) != NULL) {
			size_t l = (size_t)(nl - (buf + start));

			lineno++;
			if (skipping)
				skipping = false; /* the end of a long line */
			else if (load_line(s, buf + start, l, lineno) == -1) {
				snprintf(err, errlen, "%s: out of memory",
					 s->log_path);
				goto out;
			}
			start += l + 1;
		}
		off += (off_t)start;
		if (start > 0)
			good = off;
		len -= start;
		memmove(buf, buf + start, len);
		if (len == cap) {
			if (!skipping)
				log_warn("%s:%zu: line longer than %d bytes; "
					 "line skipped",
					 s->log_path, lineno + 1, MAX_LINE);
			skipping = true;
			off += (off_t)len;
			len = 0;
		}
	}
	if (len > 0 || skipping) {
		log_warn("%s:%zu: last line cut short (vigil stopped while "
			 "writing it); dropped",
			 s->log_path, lineno + 1);
		if (writable && ftruncate(fd, good) == -1)
			log_warn("spool: cannot truncate %s: %s", s->log_path,
				 strerror(errno));
	}
	ret = 0;
out:
	free(buf);
	return ret;
}

struct spool *
spool_open(const char *dir, size_t keep, char *err, size_t errlen)
{
	struct spool *s = calloc(1, sizeof(*s));
	struct stat st;
	bool writable = true;
	size_t plen;

	if (s == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		return NULL;
	}
	s->dirfd = -1;
	s->fd = -1;
	s->keep = keep > 0 ? keep : 1;
	s->durable = true;
	s->first = 1;
	plen = strlen(dir) + sizeof("/" LOG_NAME);
	s->dir = strdup(dir);
	s->log_path = malloc(plen);
	if (s->dir == NULL || s->log_path == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		goto fail;
	}
	snprintf(s->log_path, plen, "%s/%s", dir, LOG_NAME);

	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	s->fd = openat(s->dirfd, LOG_NAME,
		       O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (s->fd == -1) {
		/* A read-only or full disk: keep the history and go on from
		 * memory. A log that cannot even be read is not ignored,
		 * since the next rewrite would replace it. */
		int e = errno;

		s->fd = openat(s->dirfd, LOG_NAME, O_RDONLY | O_CLOEXEC);
		if (s->fd == -1 && errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", s->log_path,
				 strerror(errno));
			goto fail;
		}
		writable = false;
		not_durable(s, e);
	}
	if (s->fd != -1) {
		if (fstat(s->fd, &st) == -1) {
			snprintf(err, errlen, "%s: %s", s->log_path,
				 strerror(errno));
			goto fail;
		}
		if (!S_ISREG(st.st_mode))
			log_warn("spool: %s is not a regular file; nothing "
				 "loaded from it",
				 s->log_path);
		else if (load(s, s->fd, writable, err, errlen) == -1)
			goto fail;
	}
	if (!writable && s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	return s;
fail:
	spool_close(s);
	return NULL;
}

void
spool_close(struct spool *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->ents[i].json);
	free(s->ents);
	for (size_t i = 0; i < s->n_cursors; i++)
		free(s->cursors[i].key);
	free(s->cursors);
	if (s->fd != -1)
		close(s->fd);
	if (s->dirfd != -1)
		close(s->dirfd);
	free(s->log_path);
	free(s->dir);
	free(s);
}

/* --- cursors ------------------------------------------------------------ */

static void
cursor_name(const char *key, char name[CURSOR_NAME_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	size_t off = sizeof(CURSOR_PREFIX) - 1;

	memset(h, 0, sizeof(h));
	EVP_Digest(key, strlen(key), h, &hl, EVP_sha256(), NULL);
	memcpy(name, CURSOR_PREFIX, off);
	for (int i = 0; i < CURSOR_HASH_LEN / 2; i++) {
		name[off + 2 * i] = hex[h[i] >> 4];
		name[off + 2 * i + 1] = hex[h[i] & 15];
	}
	name[CURSOR_NAME_LEN] = '\0';
}

static struct cursor *
find_cursor(struct spool *s, const char *key)
{
	for (size_t i = 0; i < s->n_cursors; i++)
		if (strcmp(s->cursors[i].key, key) == 0)
			return &s->cursors[i];
	return NULL;
}

/* Reads a small file of dir into buf (NUL-terminated); -1 with errno. */
static int
read_small(struct spool *s, const char *name, char *buf, size_t cap)
{
	size_t len = 0;
	int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC), ret = -1, e;

	if (fd == -1)
		return -1;
	while (len < cap - 1) {
		ssize_t r = read(fd, buf + len, cap - 1 - len);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	ret = 0;
out:
	e = errno;
	close(fd);
	errno = e;
	return ret;
}

/*
 * Replaces the cursor file name: the key on the first line (for people;
 * a newline in it becomes a space), the acknowledged id on the second.
 * Failures are logged once per streak, like the log's.
 */
static int
write_cursor(struct spool *s, const char *name, const char *key, const char *id)
{
	char tmp[CURSOR_TMP_LEN + 1];
	struct buf b = { 0 };
	int fd = -1, ret = -1, e;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	for (const char *p = key; *p; p++)
		buf_add(&b, *p == '\n' ? " " : p, 1);
	buf_printf(&b, "\n%s\n", id);
	if (b.oom) {
		errno = ENOMEM;
		goto out;
	}
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0640);
	if (fd == -1 || write_all(fd, b.p, b.len) == -1 || fsync(fd) == -1)
		goto out;
	e = close(fd);
	fd = -1;
	if (e == -1 || renameat(s->dirfd, tmp, s->dirfd, name) == -1)
		goto out;
	sync_dir(s);
	ret = 0;
out:
	e = errno;
	if (ret == -1) {
		if (fd != -1)
			close(fd);
		(void)unlinkat(s->dirfd, tmp, 0);
		if (!s->cursor_failing)
			log_error("spool: cannot write %s/%s (channel %s): %s; "
				  "its position is kept in memory only",
				  s->dir, name, key, strerror(e));
		s->cursor_failing = true;
	} else if (s->cursor_failing) {
		log_info("spool: writing cursor files in %s again", s->dir);
		s->cursor_failing = false;
	}
	buf_free(&b);
	return ret;
}

/* Where a cursor file says the channel is: after the id on its second
 * line, or the oldest kept event (no id yet, or one compacted away). */
static uint64_t
cursor_position(struct spool *s, const char *contents)
{
	const char *id = strchr(contents, '\n');
	size_t idlen;
	char want[EVENT_ID_LEN + 1];
	uint64_t seq;

	if (id == NULL)
		return s->first;
	id++;
	idlen = strcspn(id, "\r\n");
	if (idlen == 0 || idlen > EVENT_ID_LEN)
		return s->first;
	memcpy(want, id, idlen);
	want[idlen] = '\0';
	seq = find_id(s, want);
	return seq != 0 ? seq + 1 : s->first;
}

uint64_t
spool_cursor_open(struct spool *s, const char *key)
{
	struct cursor *c = find_cursor(s, key);
	char name[CURSOR_NAME_LEN + 1];
	char *contents = NULL;
	uint64_t next;

	if (c != NULL)
		return c->next;
	cursor_name(key, name);
	contents = malloc(MAX_CURSOR_FILE);
	if (contents == NULL) {
		next = s->first; /* redeliver rather than lose */
	} else if (read_small(s, name, contents, MAX_CURSOR_FILE) == 0) {
		next = cursor_position(s, contents);
	} else if (errno == ENOENT) {
		/* A new channel starts at the end; its file says so now, so
		 * that what comes next is redelivered after a crash. */
		next = spool_end(s);
		write_cursor(s, name, key,
			     s->n > 0 ? s->ents[s->n - 1].id : "");
	} else {
		log_warn("spool: cannot read %s/%s (channel %s): %s; "
			 "delivering every kept event",
			 s->dir, name, key, strerror(errno));
		next = s->first;
	}
	free(contents);

	if (s->n_cursors == s->cap_cursors) {
		size_t cap = s->cap_cursors ? s->cap_cursors * 2 : 8;

		c = reallocarray(s->cursors, cap, sizeof(*c));
		if (c == NULL)
			goto oom;
		s->cursors = c;
		s->cap_cursors = cap;
	}
	c = &s->cursors[s->n_cursors];
	c->key = strdup(key);
	if (c->key == NULL)
		goto oom;
	memcpy(c->name, name, sizeof(name));
	c->next = next;
	s->n_cursors++;
	return next;
oom:
	log_error("spool: out of memory; compaction may drop events channel "
		  "%s has not acknowledged",
		  key);
	return next;
}

int
spool_ack(struct spool *s, const char *key, uint64_t seq)
{
	struct cursor *c = find_cursor(s, key);

	if (c == NULL || seq >= spool_end(s)) {
		log_error("spool: acknowledgement of event %llu by %s: %s",
			  (unsigned long long)seq, key,
			  c == NULL ? "no such cursor" : "no such event");
		return -1;
	}
	if (seq < c->next)
		return 0; /* acknowledged before */
	/* c->next <= seq < end, and compaction keeps c->next on: the entry
	 * is in memory. */
	c->next = seq + 1;
	return write_cursor(s, c->name, c->key, spool_get(s, seq)->id);
}

void
spool_cursor_close(struct spool *s, const char *key)
{
	struct cursor *c = find_cursor(s, key);

	if (c == NULL)
		return;
	if (unlinkat(s->dirfd, c->name, 0) == -1 && errno != ENOENT)
		log_warn("spool: cannot remove %s/%s: %s", s->dir, c->name,
			 strerror(errno));
	free(c->key);
	*c = s->cursors[--s->n_cursors];
}

void
spool_prune_cursors(struct spool *s)
{
	int fd = fcntl(s->dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd == -1 ? NULL : fdopendir(fd);
	struct dirent *de;
	size_t plen = sizeof(CURSOR_PREFIX) - 1;
	char *contents = malloc(256);
	const char *who;

	if (d == NULL) {
		log_warn("spool: cannot list %s: %s", s->dir, strerror(errno));
		if (fd != -1)
			close(fd);
		goto out;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		bool open = false;

		if (strncmp(de->d_name, CURSOR_PREFIX, plen) != 0)
			continue;
		for (size_t i = 0; i < s->n_cursors && !open; i++)
			open = strcmp(s->cursors[i].name, de->d_name) == 0;
		if (open)
			continue;
		/* The first line names the channel, for the log. */
		who = "?";
		if (contents != NULL &&
		    read_small(s, de->d_name, contents, 256) == 0) {
			contents[strcspn(contents, "\n")] = '\0';
			who = contents;
		}
		if (unlinkat(s->dirfd, de->d_name, 0) == -1)
			log_warn("spool: cannot remove %s/%s: %s", s->dir,
				 de->d_name, strerror(errno));
		else
			log_info("spool: removed %s/%s of channel %s, no "
				 "longer configured",
				 s->dir, de->d_name, who);
	}
	closedir(d);
out:
	free(contents);
}

/* --- reading ------------------------------------------------------------ */

const struct spool_entry *
spool_get(const struct spool *s, uint64_t seq)
{
	if (seq < s->first || seq - s->first >= s->n)
		return NULL;
	return &s->ents[seq - s->first];
}

uint64_t
spool_first(const struct spool *s)
{
	return s->first;
}

uint64_t
spool_end(const struct spool *s)
{
	return s->first + s->n;
}

uint64_t
spool_after_id(const struct spool *s, const char *id)
{
	uint64_t seq = find_id(s, id);

	return seq != 0 ? seq + 1 : s->first;
}

bool
spool_durable(const struct spool *s)
{
	return s->durable;
}
