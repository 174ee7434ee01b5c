/*
 * fdbudget.c: the proxy's share of the descriptor limit.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "core/log.h"
#include "proxy/fdbudget.h"

#define FDB_WARN_EVERY_MS 60000LL
/* RLIM_INFINITY is not a number of descriptors; Linux caps at nr_open. */
#define FDB_NOFILE_MAX (1U << 20)

unsigned
fdb_reserve(unsigned open_now, size_t nodes, size_t channels)
{
	return open_now + FDB_SPARE + 2 * (unsigned)nodes +
	       2 * (unsigned)channels + 2;
}

/* Descriptors open now: /proc/self/fd less the one reading it; without
 * /proc, every descriptor below the limit is asked about. */
static unsigned
count_open(unsigned nofile)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL)
			n += e->d_name[0] != '.';
		closedir(d);
		return n > 0 ? n - 1 : 0;
	}
	for (unsigned fd = 0; fd < nofile && fd < 65536; fd++)
		n += fcntl((int)fd, F_GETFD) != -1;
	return n;
}

static unsigned
as_count(rlim_t r)
{
	return r == RLIM_INFINITY || r > FDB_NOFILE_MAX ? FDB_NOFILE_MAX
							: (unsigned)r;
}

int
fdb_init(struct fd_budget *b, const struct conf *c, char *err, size_t errlen)
{
	struct rlimit rl;
	unsigned reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		snprintf(err, errlen, "getrlimit(RLIMIT_NOFILE): %s",
			 strerror(errno));
		return -1;
	}
	/* The soft limit is a default for programs that use select(); the
	 * hard one is what the administrator allows (HAProxy and Go raise
	 * it likewise). */
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			log_info("descriptor limit raised from %u to the hard "
				 "limit, %u",
				 as_count(was), as_count(rl.rlim_cur));
		else
			rl.rlim_cur = was;
	}
	b->nofile = as_count(rl.rlim_cur);
	reserve = fdb_reserve(count_open(b->nofile), c->n_nodes, c->n_channels);
	if (b->nofile < reserve + 2) {
		snprintf(err, errlen,
			 "the descriptor limit (ulimit -n %u) leaves none for "
			 "clients: vigil keeps %u for itself and needs 2 per "
			 "client connection",
			 b->nofile, reserve);
		return -1;
	}
	b->max = b->nofile - reserve;
	atomic_store(&b->used, 0);
	atomic_store(&b->warned_ms, 0);
	atomic_store(&b->held, 0);
	log_info("proxy: descriptor limit %u (ulimit -n), %u kept for vigil's "
		 "own work: at most %u client connections",
		 b->nofile, reserve, b->max / 2);
	return 0;
}

bool
fdb_room(struct fd_budget *b, unsigned n)
{
	return atomic_load(&b->used) + n <= b->max;
}

void
fdb_take(struct fd_budget *b)
{
	atomic_fetch_add(&b->used, 1);
}

void
fdb_put(struct fd_budget *b)
{
	atomic_fetch_sub(&b->used, 1);
}

void
fdb_held(struct fd_budget *b, const char *why, long long now_ms)
{
	long long last = atomic_load(&b->warned_ms);
	unsigned long n = atomic_fetch_add(&b->held, 1) + 1;

	if (last != 0 && now_ms - last < FDB_WARN_EVERY_MS)
		return;
	/* One worker logs; the others see the new time. */
	if (!atomic_compare_exchange_strong(&b->warned_ms, &last, now_ms))
		return;
	atomic_fetch_sub(&b->held, n);
	if (last == 0)
		log_warn("proxy: %s (ulimit -n %u: %u client connections at "
			 "most); new connections wait in the listen backlog",
			 why, b->nofile, b->max / 2);
	else
		log_warn("proxy: %s (ulimit -n %u: %u client connections at "
			 "most); new connections wait in the listen backlog "
			 "(%lu pauses of accepting since the last message)",
			 why, b->nofile, b->max / 2, n);
}
