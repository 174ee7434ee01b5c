/*
 * memo.h: what vigil remembers across restarts beside its spool, other
 * than the events: small files of lines in the spool folder, replaced
 * whole, so that a crash leaves the old file or the new one.
 */
#ifndef VIGIL_CORE_MEMO_H
#define VIGIL_CORE_MEMO_H

#include <stddef.h>

/*
 * Reads dir/name: its non-empty lines, without their newlines, as an
 * array of *n strings followed by NULL, in one allocation (free() it).
 * Returns NULL with errno set when the file does not exist (ENOENT), is
 * larger than 64 KiB (EFBIG), cannot be read, or out of memory.
 */
char **memo_read(const char *dir, const char *name, size_t *n);

/*
 * Replaces dir/name with the len bytes of text: a temporary file beside
 * it, fsync, rename, fsync of the folder. Returns 0, or -1 with errno set
 * and the old file left as it was.
 */
int memo_write(const char *dir, const char *name, const char *text,
	       size_t len);

#endif
