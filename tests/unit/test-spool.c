/*
 * test-spool.c: notify/spool.c in a scratch directory: the log survives a
 * restart (torn last line dropped, junk skipped), cursors start where a
 * channel left off (new, crashed, acknowledged, compacted away, files
 * written by hand), compaction keeps what open cursors need and bounds the
 * file otherwise, and a full disk keeps events flowing from memory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/buf.h"
#include "core/conf.h"
#include "notify/event.h"
#include "notify/spool.h"
#include "tests/unit/tap.h"

static char root[256];

/* --- helpers ------------------------------------------------------------ */

/* Event number i, always the same: its id and JSON as notify/event.c
 * makes them. */
struct ev {
	char id[EVENT_ID_LEN + 1];
	enum event_kind kind;
	struct buf json;
};

static void
make(int i, struct ev *out)
{
	char node[32];
	struct event e = {
		.kind = (enum event_kind)(i % EVENT__COUNT),
		.time_ms = 1795428902113LL + i,
		.evidence_ms = 1795428900000LL + i,
		.cluster = "vro-prod",
		.appliance = "lb-1",
		.node = node,
		.state = "shut_down",
		.prev = "running",
		.reason = "missed \"12\" heartbeats\n(last 61.3 s ago)",
	};

	snprintf(node, sizeof(node), "vro-%d", i);
	event_make_id(&e);
	memset(out, 0, sizeof(*out));
	memcpy(out->id, e.id, sizeof(out->id));
	out->kind = e.kind;
	event_json(&e, &out->json);
}

static const char *
id_of(int i)
{
	static char id[EVENT_ID_LEN + 1];
	struct ev e;

	make(i, &e);
	memcpy(id, e.id, sizeof(id));
	buf_free(&e.json);
	return id;
}

/* Appends event i; returns its seq, or 0 when spool_append failed. */
static uint64_t
add(struct spool *s, int i)
{
	const struct spool_entry *en;
	struct ev e;

	make(i, &e);
	en = spool_append(s, e.id, e.kind, e.json.p, e.json.len);
	buf_free(&e.json);
	return en ? en->seq : 0;
}

/* The entry at seq is event i, whole. */
static bool
is_event(const struct spool *s, uint64_t seq, int i)
{
	const struct spool_entry *en = spool_get(s, seq);
	struct ev e;
	bool same;

	if (en == NULL)
		return false;
	make(i, &e);
	same = en->seq == seq && strcmp(en->id, e.id) == 0 &&
	       en->kind == e.kind && en->len == e.json.len &&
	       strcmp(en->json, e.json.p) == 0;
	buf_free(&e.json);
	return same;
}

static const char *
path(const char *dir, const char *name)
{
	static char p[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static const char *
fresh_dir(const char *name)
{
	static char d[512];

	snprintf(d, sizeof(d), "%s/%s", root, name);
	if (mkdir(d, 0700) == -1)
		tap_diag("mkdir %s: %s", d, strerror(errno));
	return d;
}

static struct spool *
open_spool(const char *dir, size_t keep)
{
	char err[256] = "";
	struct spool *s = spool_open(dir, keep, err, sizeof(err));

	if (s == NULL)
		tap_diag("spool_open %s: %s", dir, err);
	return s;
}

/* The file's contents (NUL-terminated, malloc'd), or NULL. */
static char *
slurp(const char *p, size_t *lenp)
{
	FILE *f = fopen(p, "rb");
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	buf_add(&b, "", 0);
	if (lenp)
		*lenp = b.len;
	return b.p ? b.p : strdup("");
}

static void
spit(const char *p, const char *data, size_t len)
{
	FILE *f = fopen(p, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len)
		tap_diag("cannot write %s", p);
	if (f)
		fclose(f);
}

/* Lines in dir/events.log, or -1 when its last line has no newline. */
static long
count_lines(const char *dir)
{
	size_t len;
	char *t = slurp(path(dir, "events.log"), &len);
	long n = 0;

	if (t == NULL)
		return -1;
	for (size_t i = 0; i < len; i++)
		n += t[i] == '\n';
	if (len > 0 && t[len - 1] != '\n')
		n = -1;
	free(t);
	return n;
}

static long long
file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) == -1 ? -1 : (long long)st.st_size;
}

static bool
exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* dir/cursor.<16 hex of SHA-256(key)>, computed here independently. */
static const char *
cursor_file(const char *dir, const char *key)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	char name[32];

	EVP_Digest(key, strlen(key), h, &hl, EVP_sha256(), NULL);
	snprintf(name, sizeof(name), "cursor.");
	for (int i = 0; i < 8; i++)
		snprintf(name + 7 + 2 * i, 3, "%02x", h[i]);
	return path(dir, name);
}

/* stderr into a file while the spool logs what is being tested. */
static int saved_stderr = -1;

static void
capture(const char *file)
{
	int fd;

	fflush(stderr);
	saved_stderr = dup(2);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	dup2(fd, 2);
	close(fd);
}

static void
release(void)
{
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	saved_stderr = -1;
}

static int
occurrences(const char *text, const char *what)
{
	int n = 0;

	for (const char *p = text; p && (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

/* --- the log ------------------------------------------------------------ */

static void
test_log(void)
{
	const char *dir = fresh_dir("log");
	struct spool *s = open_spool(dir, 10);
	struct buf want = { 0 };
	char err[256] = "";
	char *t;

	ok(s != NULL, "a fresh directory opens");
	is_int(spool_first(s), 1, "empty: first is 1");
	is_int(spool_end(s), 1, "empty: end is 1");
	ok(spool_get(s, 0) == NULL && spool_get(s, 1) == NULL,
	   "empty: nothing to get");
	ok(spool_durable(s), "durable");
	is_int(file_size(path(dir, "events.log")), 0, "events.log created");
	is_int(spool_after_id(s, id_of(1)), 1, "empty: after any id is 1");

	is_int(add(s, 1), 1, "first event: seq 1");
	is_int(add(s, 2), 2, "second: seq 2");
	is_int(add(s, 3), 3, "third: seq 3");
	ok(is_event(s, 1, 1) && is_event(s, 2, 2) && is_event(s, 3, 3),
	   "each entry holds its id, kind and JSON");
	ok(spool_get(s, 4) == NULL, "past the end: NULL");
	ok(spool_get(s, 0) == NULL, "seq 0: NULL");
	is_int(spool_end(s), 4, "end is 4");
	for (int i = 1; i <= 3; i++) {
		struct ev e;

		make(i, &e);
		buf_add(&want, e.json.p, e.json.len);
		buf_add(&want, "\n", 1);
		buf_free(&e.json);
	}
	t = slurp(path(dir, "events.log"), NULL);
	is_str(t, want.p, "the file is exactly one event JSON per line");
	free(t);
	buf_free(&want);
	spool_close(s);

	s = open_spool(dir, 10);
	ok(s != NULL, "reopens");
	is_int(spool_first(s), 1, "reloaded: first 1");
	is_int(spool_end(s), 4, "reloaded: end 4");
	ok(is_event(s, 1, 1) && is_event(s, 2, 2) && is_event(s, 3, 3),
	   "reloaded entries are the same");
	spool_close(s);

	ok(spool_open(path(root, "missing/deeper"), 10, err, sizeof(err)) ==
	       NULL,
	   "a missing directory: NULL");
	ok(strstr(err, "missing/deeper") != NULL, "err names it: %s", err);
	spit(path(root, "plain"), "x", 1);
	ok(spool_open(path(root, "plain"), 10, err, sizeof(err)) == NULL,
	   "a regular file for a directory: NULL (%s)", err);
}

/* --- cursors ------------------------------------------------------------ */

static void
test_new_cursor(void)
{
	const char *dir = fresh_dir("new");
	const char *key = "webhook https://hooks.example/a";
	struct spool *s = open_spool(dir, 10);
	char want[256];
	char *t;

	for (int i = 1; i <= 3; i++)
		add(s, i);
	is_int(spool_cursor_open(s, key), 4, "a new channel starts at the end");
	is_int(spool_cursor_open(s, key), 4, "opened twice: the same");
	snprintf(want, sizeof(want), "%s\n%s\n", key, id_of(3));
	t = slurp(cursor_file(dir, key), NULL);
	is_str(t, want,
	       "its file (cursor.<SHA-256 of the key>) is written at once: "
	       "key, last id");
	free(t);
	add(s, 4);
	add(s, 5);
	spool_close(s); /* a crash before any acknowledgement */

	s = open_spool(dir, 10);
	is_int(spool_cursor_open(s, key), 4,
	       "after a crash: the same start, events since then redelivered");
	ok(is_event(s, 4, 4), "and seq 4 is the first event after it");
	spool_close(s);

	dir = fresh_dir("new-empty");
	s = open_spool(dir, 10);
	is_int(spool_cursor_open(s, "k"), 1, "new channel, empty log: 1");
	t = slurp(cursor_file(dir, "k"), NULL);
	is_str(t, "k\n\n", "its file names no id");
	free(t);
	add(s, 1);
	add(s, 2);
	spool_close(s);
	s = open_spool(dir, 10);
	is_int(spool_cursor_open(s, "k"), 1,
	       "after a crash: both events redelivered");
	spool_close(s);

	dir = fresh_dir("new-key-newline");
	s = open_spool(dir, 10);
	spool_cursor_open(s, "exec /bin/x\narg");
	t = slurp(cursor_file(dir, "exec /bin/x\narg"), NULL);
	is_str(t, "exec /bin/x arg\n\n",
	       "a newline in the key is a space in the file");
	free(t);
	spool_close(s);
}

static void
test_ack(void)
{
	const char *dir = fresh_dir("ack");
	struct spool *s = open_spool(dir, 10);
	char want[256];
	char *t;

	is_int(spool_cursor_open(s, "a"), 1, "opened on an empty log: 1");
	for (int i = 1; i <= 5; i++)
		add(s, i);
	is_int(spool_ack(s, "a", 3), 0, "ack 3");
	snprintf(want, sizeof(want), "a\n%s\n", id_of(3));
	t = slurp(cursor_file(dir, "a"), NULL);
	is_str(t, want, "the file names event 3's id");
	free(t);
	is_int(spool_ack(s, "a", 2), 0, "an older ack: fine");
	t = slurp(cursor_file(dir, "a"), NULL);
	is_str(t, want, "and the position does not go back");
	free(t);
	is_int(spool_ack(s, "a", 6), -1, "ack past the end: -1");
	is_int(spool_ack(s, "nobody", 1), -1, "ack by a cursor not open: -1");
	ok(!exists(cursor_file(dir, "nobody")), "and no file for it");
	ok(!exists(path(dir, "cursor.tmp")), "no temporary file left");
	spool_close(s);

	s = open_spool(dir, 10);
	is_int(spool_cursor_open(s, "a"), 4, "reopened: after the acked id");
	is_int(spool_ack(s, "a", 5), 0, "ack the last");
	spool_close(s);
	s = open_spool(dir, 10);
	is_int(spool_cursor_open(s, "a"), 6, "all acked: the end");
	is_int(spool_end(s), 6, "(which is 6)");
	spool_close(s);
}

static void
test_two_channels(void)
{
	const char *dir = fresh_dir("two");
	struct spool *s = open_spool(dir, 10);

	spool_cursor_open(s, "a");
	spool_cursor_open(s, "b");
	for (int i = 1; i <= 6; i++)
		add(s, i);
	spool_ack(s, "a", 5);
	spool_ack(s, "b", 2);
	spool_close(s);
	s = open_spool(dir, 10);
	is_int(spool_cursor_open(s, "b"), 3, "b resumes after its ack");
	is_int(spool_cursor_open(s, "a"), 6, "a resumes after its own");
	is_int(spool_cursor_open(s, "c"), 7, "a third, new, at the end");
	spool_close(s);
}

static void
test_compacted_away(void)
{
	const char *dir = fresh_dir("gone");
	struct spool *s = open_spool(dir, 3);
	uint64_t first;

	spool_cursor_open(s, "a");
	spool_cursor_open(s, "b");
	add(s, 1);
	spool_ack(s, "a", 1);
	spool_ack(s, "b", 1);
	spool_close(s);

	/* b is not configured this time: nothing holds event 1. */
	s = open_spool(dir, 3);
	is_int(spool_cursor_open(s, "a"), 2, "a after event 1");
	for (int i = 2; i <= 20; i++)
		spool_ack(s, "a", add(s, i));
	ok(spool_first(s) > 1, "event 1 compacted away (first %llu)",
	   (unsigned long long)spool_first(s));
	spool_close(s);

	s = open_spool(dir, 3);
	first = spool_first(s);
	is_int(spool_after_id(s, id_of(1)), first,
	       "event 1 is gone from the file too");
	is_int(spool_cursor_open(s, "b"), first,
	       "b's acked id compacted away: every kept event");
	ok(is_event(s, first, 20 - (int)(spool_end(s) - first) + 1),
	   "the first kept is the oldest survivor");
	spool_close(s);
}

static void
test_cursor_files(void)
{
	const char *dir = fresh_dir("files");
	struct spool *s = open_spool(dir, 10);
	char t[256];

	for (int i = 1; i <= 4; i++)
		add(s, i);
	spool_close(s);
	spit(cursor_file(dir, "empty"), "empty\n\n", 7);
	spit(cursor_file(dir, "keyonly"), "keyonly\n", 8);
	spit(cursor_file(dir, "nothing"), "", 0);
	spit(cursor_file(dir, "unknown"),
	     "unknown\n01ZZZZZZZZZZZZZZZZZZZZZZZZ\n", 35);
	spit(cursor_file(dir, "toolong"),
	     "toolong\n01ZZZZZZZZZZZZZZZZZZZZZZZZZZZZ\n", 39);
	snprintf(t, sizeof(t), "two\n%s\n", id_of(2));
	spit(cursor_file(dir, "two"), t, strlen(t));
	snprintf(t, sizeof(t), "nonl\n%s", id_of(3));
	spit(cursor_file(dir, "nonl"), t, strlen(t));
	snprintf(t, sizeof(t), "some other key\n%s\n", id_of(4));
	spit(cursor_file(dir, "other"), t, strlen(t));

	s = open_spool(dir, 10);
	is_int(spool_cursor_open(s, "empty"), 1,
	       "an empty id: from the first kept");
	is_int(spool_cursor_open(s, "keyonly"), 1, "no id line: the first");
	is_int(spool_cursor_open(s, "nothing"), 1, "an empty file: the first");
	is_int(spool_cursor_open(s, "unknown"), 1,
	       "an id not in the log: the first");
	is_int(spool_cursor_open(s, "toolong"), 1, "a bad id: the first");
	is_int(spool_cursor_open(s, "two"), 3, "event 2's id: 3");
	is_int(spool_cursor_open(s, "nonl"), 4, "no final newline: still read");
	is_int(spool_cursor_open(s, "other"), 5,
	       "the first line is for people only");
	spool_close(s);
}

/* --- compaction --------------------------------------------------------- */

static void
test_compaction_keeps(void)
{
	const char *dir = fresh_dir("keeps");
	struct spool *s = open_spool(dir, 5);
	bool all = true;

	spool_cursor_open(s, "a");
	for (int i = 1; i <= 50; i++)
		add(s, i);
	for (int i = 1; i <= 50; i++)
		all = all && is_event(s, (uint64_t)i, i);
	ok(all, "50 events, keep 5, nothing acked: all 50 kept");
	is_int(count_lines(dir), 50, "and all 50 in the file");
	is_int(spool_cursor_open(s, "b"), 51, "b joins at the end");

	spool_ack(s, "a", 30);
	add(s, 51);
	is_int(spool_first(s), 31, "a acked 30: compacted up to it");
	ok(spool_get(s, 30) == NULL, "seq 30 compacted: NULL");
	ok(is_event(s, 31, 31), "seq 31 kept");
	is_int(count_lines(dir), 21, "the file holds 31..51");

	for (int i = 52; i <= 70; i++)
		spool_ack(s, "a", add(s, i));
	ok(spool_first(s) <= 51 && is_event(s, 51, 51),
	   "b acked nothing: 51 on stay (first %llu)",
	   (unsigned long long)spool_first(s));
	is_int(count_lines(dir), (long)(spool_end(s) - spool_first(s)),
	       "the file matches memory");
	ok(count_lines(dir) <= 20 + 2 * 5 + 1,
	   "at most b's 20 unacknowledged + 2 x keep + 1");
	spool_cursor_close(s, "b");
	ok(!exists(cursor_file(dir, "b")), "cursor_close removes its file");
	spool_ack(s, "a", add(s, 71));
	is_int(spool_first(s), 67, "b gone: down to the last 5");
	is_int(count_lines(dir), 5, "and so is the file");
	spool_close(s);

	s = open_spool(dir, 5);
	is_int(spool_end(s) - spool_first(s), 5, "reloaded: 5 events");
	ok(is_event(s, 1, 67) && is_event(s, 5, 71), "67..71");
	is_int(spool_cursor_open(s, "a"), 6, "a: all acked");
	spool_close(s);
}

static void
test_compaction_bounds(void)
{
	const char *dir = fresh_dir("bound");
	struct spool *s = open_spool(dir, 5);
	long most = 0, lines, kept = 0;

	spool_cursor_open(s, "a");
	for (int i = 1; i <= 100; i++) {
		spool_ack(s, "a", add(s, i));
		lines = count_lines(dir);
		if (lines > most || lines == -1)
			most = lines == -1 ? 1000 : lines;
		if ((long)(spool_end(s) - spool_first(s)) > kept)
			kept = (long)(spool_end(s) - spool_first(s));
	}
	ok(most <= 2 * 5 + 1,
	   "all acked, keep 5: never more than 11 lines "
	   "(at most %ld)",
	   most);
	ok(kept <= 2 * 5 + 1, "nor in memory (at most %ld)", kept);
	ok(kept >= 5, "but at least keep");
	is_int(count_lines(dir), (long)(spool_end(s) - spool_first(s)),
	       "the file matches memory");
	spool_close(s);
	s = open_spool(dir, 5);
	ok(is_event(s, spool_end(s) - 1, 100), "the last is event 100");
	spool_close(s);

	dir = fresh_dir("bound-none");
	s = open_spool(dir, 5);
	most = 0;
	for (int i = 1; i <= 60; i++) {
		add(s, i);
		lines = count_lines(dir);
		if (lines > most || lines == -1)
			most = lines == -1 ? 1000 : lines;
	}
	ok(most <= 11, "no cursor at all: bounded too (%ld)", most);
	spool_close(s);
}

static void
test_after_id(void)
{
	const char *dir = fresh_dir("after");
	struct spool *s = open_spool(dir, 10);

	spool_cursor_open(s, "k");
	for (int i = 1; i <= 4; i++)
		add(s, i);
	is_int(add(s, 2), 5, "the same event again (ids repeat in theory)");
	is_int(spool_after_id(s, id_of(3)), 4, "after event 3: 4");
	is_int(spool_after_id(s, id_of(2)), 3,
	       "a repeated id: after its first copy (nothing skipped)");
	is_int(spool_after_id(s, id_of(1)), 2, "after the first: 2");
	is_int(spool_after_id(s, "01ZZZZZZZZZZZZZZZZZZZZZZZZ"), 1,
	       "an unknown id: first");
	is_int(spool_after_id(s, ""), 1, "an empty id: first");
	spool_ack(s, "k", 2);
	spool_close(s);
	s = open_spool(dir, 10);
	is_int(spool_cursor_open(s, "k"), 3,
	       "a cursor naming a repeated id: after its first copy, so "
	       "that no event between the copies is skipped");
	spool_close(s);
}

/* --- damaged files ------------------------------------------------------ */

static void
test_torn(void)
{
	const char *dir = fresh_dir("torn");
	struct buf b = { 0 };
	struct ev e[3];
	struct spool *s;
	char *big;

	for (int i = 0; i < 3; i++)
		make(i + 1, &e[i]);
	buf_add(&b, e[0].json.p, e[0].json.len);
	buf_add(&b, "\n", 1);
	buf_add(&b, e[1].json.p, e[1].json.len);
	buf_add(&b, "\n", 1);
	buf_add(&b, e[2].json.p, 40); /* a crash mid-write */
	spit(path(dir, "events.log"), b.p, b.len);

	s = open_spool(dir, 10);
	is_int(spool_end(s), 3, "torn last line: dropped, two events");
	is_int(file_size(path(dir, "events.log")),
	       (long long)(e[0].json.len + e[1].json.len + 2),
	       "the file is cut back to its last newline");
	is_int(add(s, 3), 3, "the next append");
	is_int(count_lines(dir), 3, "starts on a line of its own");
	spool_close(s);
	s = open_spool(dir, 10);
	ok(is_event(s, 1, 1) && is_event(s, 2, 2) && is_event(s, 3, 3),
	   "reloaded: 1, 2, 3");
	spool_close(s);

	/* A torn line longer than the longest line read. */
	dir = fresh_dir("torn-long");
	big = malloc(70000);
	memset(big, 'x', 70000);
	b.len = 0;
	buf_add(&b, e[0].json.p, e[0].json.len);
	buf_add(&b, "\n", 1);
	buf_add(&b, big, 70000);
	spit(path(dir, "events.log"), b.p, b.len);
	s = open_spool(dir, 10);
	is_int(spool_end(s), 2, "a long torn line: dropped");
	is_int(file_size(path(dir, "events.log")), (long long)e[0].json.len + 1,
	       "and cut");
	spool_close(s);

	free(big);
	buf_free(&b);
	for (int i = 0; i < 3; i++)
		buf_free(&e[i].json);
}

static void
test_junk(void)
{
	const char *dir = fresh_dir("junk");
	char logf[512];
	struct buf b = { 0 }, tricky = { 0 };
	struct ev e[3];
	struct spool *s;
	char *big, *t;

	snprintf(logf, sizeof(logf), "%s", path(root, "junk.stderr"));
	for (int i = 0; i < 3; i++)
		make(i + 1, &e[i]);
	buf_printf(&b, "%s\n", e[0].json.p);			   /* 1 */
	buf_puts(&b, "garbage\n");				   /* 2 */
	buf_puts(&b, "\n");					   /* 3 */
	buf_puts(&b, "{}\n");					   /* 4 */
	buf_puts(&b, "{\"id\":\"01ABC\",\"event\":\"reboot\"}\n"); /* 5 */
	buf_puts(&b, "{\"event\":\"node_up\"}\n");		   /* 6 */
	buf_puts(&b, "{\"id\":\"0123456789012345678901234567\","
		     "\"event\":\"node_up\"}\n"); /* 7 */
	/* 8: "id" inside a string and nested values do not fool it. */
	buf_printf(&tricky,
		   "{\"reason\":\"\\\"id\\\":\\\"FAKE\\\",\\\\\","
		   "\"x\":{\"id\":\"NESTED\",\"a\":[1,{\"b\":\"}]\"}]},"
		   "\"id\":\"%s\", \"event\" : \"node_down\",\"dry_run\":true}",
		   e[1].id);
	buf_printf(&b, "%s\n", tricky.p);
	big = malloc(70000); /* 9 */
	memset(big, 'x', 70000);
	buf_add(&b, big, 70000);
	buf_puts(&b, "\n");
	buf_puts(&b,
		 "{\"id\":\"X\",\"event\":\"node_up\"} trailing\n"); /* 10 */
	buf_puts(&b, "{\"id\":\"X\",\"event\":\"node_up\"\n");	     /* 11 */
	buf_puts(&b, "{\"id\":\"X\\\"\",\"event\":\"node_up\"}\n");  /* 12 */
	buf_printf(&b, "%s\n", e[2].json.p);			     /* 13 */
	spit(path(dir, "events.log"), b.p, b.len);

	capture(logf);
	s = open_spool(dir, 10);
	release();
	is_int(spool_end(s), 4, "junk skipped: three events");
	ok(is_event(s, 1, 1), "line 1 loaded");
	ok(spool_get(s, 2) && strcmp(spool_get(s, 2)->id, e[1].id) == 0 &&
	       spool_get(s, 2)->kind == EVENT_NODE_DOWN,
	   "line 8: the top-level id and event, not those in strings or "
	   "nested objects");
	is_str(spool_get(s, 2) ? spool_get(s, 2)->json : NULL, tricky.p,
	       "and its JSON as written");
	ok(is_event(s, 3, 3), "line 13 loaded");
	t = slurp(logf, NULL);
	ok(strstr(t, "junk/events.log:5: unknown event \"reboot\"") != NULL,
	   "an unknown kind: warned with file and line");
	ok(strstr(t, "junk/events.log:9: line longer than") != NULL,
	   "a long line: warned");
	is_int(occurrences(t, "line skipped"), 10, "ten lines skipped");
	free(t);
	is_int(add(s, 4), 4, "append after junk");
	spool_close(s);
	s = open_spool(dir, 10);
	is_int(spool_end(s), 5, "reloaded: four events");
	ok(is_event(s, 4, 4), "the appended one last");
	spool_close(s);

	free(big);
	buf_free(&b);
	buf_free(&tricky);
	for (int i = 0; i < 3; i++)
		buf_free(&e[i].json);
}

static void
test_prune(void)
{
	const char *dir = fresh_dir("prune");
	struct spool *s = open_spool(dir, 10);

	spool_cursor_open(s, "a");
	spool_cursor_open(s, "b");
	spool_cursor_open(s, "c");
	add(s, 1);
	spool_close(s);
	spit(path(dir, "cursor.0123456789abcdef.tmp"), "x\n", 2);
	spit(path(dir, "README"), "x\n", 2);

	s = open_spool(dir, 10);
	spool_cursor_open(s, "a");
	spool_cursor_open(s, "b");
	spool_prune_cursors(s);
	ok(exists(cursor_file(dir, "a")) && exists(cursor_file(dir, "b")),
	   "prune keeps the cursors opened");
	ok(!exists(cursor_file(dir, "c")), "and removes c's, not opened");
	ok(!exists(path(dir, "cursor.0123456789abcdef.tmp")),
	   "and a left-over temporary file");
	ok(exists(path(dir, "README")) && exists(path(dir, "events.log")),
	   "other files stay");
	spool_cursor_close(s, "b");
	ok(!exists(cursor_file(dir, "b")), "cursor_close removes b's file");
	spool_cursor_close(s, "b"); /* twice: nothing */
	spool_cursor_close(s, "never");
	is_int(spool_cursor_open(s, "b"), 2, "b again: a new channel");
	ok(exists(cursor_file(dir, "b")), "with a new file");
	spool_close(s);
}

/* --- a full disk -------------------------------------------------------- */

static void
test_disk_full(void)
{
	const char *dir = fresh_dir("full");
	char logf[512];
	struct spool *s;
	uint64_t next;
	bool got = true, acked = true;
	char *t;

	snprintf(logf, sizeof(logf), "%s", path(root, "full.stderr"));
	/* /dev/full fails every write with ENOSPC; a directory where the
	 * rewrite's temporary file goes makes that fail too. */
	if (symlink("/dev/full", path(dir, "events.log")) == -1 ||
	    mkdir(path(dir, "events.log.tmp"), 0700) == -1) {
		ok(0, "cannot set up a full disk: %s", strerror(errno));
		return;
	}
	capture(logf);
	s = open_spool(dir, 10);
	next = spool_cursor_open(s, "a");
	for (int i = 1; i <= 3; i++)
		got = got && add(s, i) == (uint64_t)i;
	release();
	ok(s != NULL, "opens with events.log on a full disk");
	ok(got, "append still returns each entry");
	ok(!spool_durable(s), "not durable");
	is_int(next, 1, "a channel opened before");
	for (; spool_get(s, next) != NULL; next++) {
		got = got && is_event(s, next, (int)next);
		acked = acked && spool_ack(s, "a", next) == 0;
	}
	ok(got && next == 4, "gets all three from memory");
	ok(acked, "and acknowledges them (its cursor file is elsewhere)");
	t = slurp(logf, NULL);
	is_int(occurrences(t, "cannot write"), 1,
	       "the failure is logged once for the streak");
	ok(strstr(t, "full/events.log: No space left on device; events are "
		     "kept in memory only and are lost if vigil stops") != NULL,
	   "loudly, with the cause");
	free(t);

	unlink(path(dir, "events.log"));
	rmdir(path(dir, "events.log.tmp"));
	capture(logf);
	add(s, 4);
	release();
	ok(spool_durable(s), "space again: durable");
	t = slurp(logf, NULL);
	is_int(occurrences(t, "full/events.log again"), 1,
	       "\"writing ... again\" logged");
	free(t);
	is_int(count_lines(dir), 4,
	       "every event kept in memory is now on disk");
	spool_close(s);
	s = open_spool(dir, 10);
	ok(is_event(s, 1, 1) && is_event(s, 4, 4), "reloaded: 1..4");
	is_int(spool_cursor_open(s, "a"), 4, "the cursor after event 3");
	spool_close(s);
}

/* A write cut short by the file size limit leaves half a line. */
static void
test_partial_write(void)
{
	const char *dir = fresh_dir("partial");
	struct spool *s = open_spool(dir, 10);
	struct rlimit old, lim;
	long long size, cut;
	bool durable3, durable4, got;

	add(s, 1);
	add(s, 2);
	size = file_size(path(dir, "events.log"));
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)size + 40;
	signal(SIGXFSZ, SIG_IGN);
	capture("/dev/null");
	setrlimit(RLIMIT_FSIZE, &lim);
	got = add(s, 3) == 3;
	durable3 = spool_durable(s);
	cut = file_size(path(dir, "events.log"));
	got = got && add(s, 4) == 4;
	durable4 = spool_durable(s);
	setrlimit(RLIMIT_FSIZE, &old);
	release();
	signal(SIGXFSZ, SIG_DFL);

	ok(got && !durable3 && !durable4,
	   "over the size limit: not durable, entries returned");
	is_int(cut, size + 40, "a partial line was written");
	is_int(add(s, 5), 5, "the limit lifted: append");
	ok(spool_durable(s), "durable again");
	is_int(count_lines(dir), 5, "five whole lines, no half one");
	spool_close(s);
	s = open_spool(dir, 10);
	got = true;
	for (int i = 1; i <= 5; i++)
		got = got && is_event(s, (uint64_t)i, i);
	ok(got && spool_end(s) == 6, "reloaded: 1..5");
	spool_close(s);
}

/* --- main --------------------------------------------------------------- */

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/test-spool.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(root) == NULL) {
		printf("Bail out! mkdtemp %s: %s\n", root, strerror(errno));
		return 1;
	}
	test_log();
	test_new_cursor();
	test_ack();
	test_two_channels();
	test_compacted_away();
	test_cursor_files();
	test_compaction_keeps();
	test_compaction_bounds();
	test_after_id();
	test_torn();
	test_junk();
	test_prune();
	test_disk_full();
	test_partial_write();
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
