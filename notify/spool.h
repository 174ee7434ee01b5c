/*
 * spool.h: the event log, spool_dir/events.log: every event as one JSON
 * line, written and fsynced before any channel is tried, and one cursor
 * file per channel naming the last event that channel acknowledged. The
 * log's tail stays in memory for redelivery and GET /api/events; the file
 * is compacted so that it does not grow without bound. A disk that is full
 * or read-only is logged loudly; the events still go on from memory.
 */
#ifndef VIGIL_SPOOL_H
#define VIGIL_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notify/event.h"

struct spool_entry {
	uint64_t seq; /* position in the log: 1, 2, … in this process */
	char id[EVENT_ID_LEN + 1];
	enum event_kind kind;
	char *json; /* the event's JSON object, no newline */
	size_t len;
};

struct spool;

/*
 * Opens (creating when missing) dir/events.log and loads its events; a
 * torn last line (a crash mid-write) is dropped, a line that does not
 * parse is skipped with a warning. keep: how many events the log keeps
 * (notify.keep_events) beyond what some channel has not acknowledged.
 * Returns NULL with err filled when dir cannot be used at all.
 */
struct spool *spool_open(const char *dir, size_t keep, char *err,
			 size_t errlen);
void spool_close(struct spool *s);

/* Appends one event: JSON line written and fsynced (or, when the disk
 * refuses, logged as an error and kept in memory only). Returns its entry
 * (owned by the spool, valid until the next append or compaction), or
 * NULL out of memory (or, logged, for an id longer than EVENT_ID_LEN or a
 * JSON holding a newline, which event.c never makes). */
const struct spool_entry *spool_append(struct spool *s, const char *id,
				       enum event_kind kind, const char *json,
				       size_t len);

/*
 * A channel's cursor, by the channel's key (a stable string such as
 * "webhook https://…"; the file is dir/cursor.<hash of key>). Returns the
 * seq of the first event the channel has not acknowledged: the one after
 * the id its file names; every event kept when that id is no longer in
 * the log (compacted); spool_end() for a channel never seen before (its
 * file is created now, so that a crash before its first acknowledgement
 * still redelivers). The spool remembers each open cursor so that
 * compaction never drops what one of them still needs.
 */
uint64_t spool_cursor_open(struct spool *s, const char *key);

/* The channel acknowledged everything up to and including seq: its
 * cursor file is replaced (write, fsync, rename). Returns 0 or -1 (logged;
 * the position still advances in memory). */
int spool_ack(struct spool *s, const char *key, uint64_t seq);

/* Forgets a cursor (channel removed by a reload) and deletes its file. */
void spool_cursor_close(struct spool *s, const char *key);

/* Deletes cursor files of channels not opened since spool_open (channels
 * removed from the configuration while vigil was stopped). */
void spool_prune_cursors(struct spool *s);

/* The entry with this seq, or NULL (compacted, or not yet appended). */
const struct spool_entry *spool_get(const struct spool *s, uint64_t seq);

/* The seq of the oldest event kept, and the one the next append gets. */
uint64_t spool_first(const struct spool *s);
uint64_t spool_end(const struct spool *s);

/* The seq after the event with this id (for GET /api/events?since=ID), or
 * spool_first() when the id is not in the log. */
uint64_t spool_after_id(const struct spool *s, const char *id);

/* False after a write to the disk failed, until one succeeds again. */
bool spool_durable(const struct spool *s);

#endif
