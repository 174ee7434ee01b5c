/*
 * log.c: log lines. The threshold and target are process-wide (they are
 * what syslog itself is), kept in atomics so worker threads read them
 * without locks while a reload changes them.
 */
#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

const char *const log_level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
	NULL,
};

const char *const log_target_names[] = {
	[LOG_TARGET_STDERR] = "stderr",
	[LOG_TARGET_SYSLOG] = "syslog",
	NULL,
};

static const int syslog_prio[] = {
	[LOG_LEVEL_ERROR] = LOG_ERR,
	[LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

static _Atomic int log_threshold = LOG_LEVEL_INFO;
static _Atomic int log_to = LOG_TARGET_STDERR;
static _Atomic int syslog_open;

void
log_setup(enum log_level level, enum log_target target)
{
	if (target == LOG_TARGET_SYSLOG && !atomic_exchange(&syslog_open, 1))
		openlog("vigil", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&log_threshold, (int)level);
	atomic_store(&log_to, (int)target);
}

void
log_close(void)
{
	if (atomic_exchange(&syslog_open, 0))
		closelog();
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	size_t off = 0;
	va_list ap;
	int n;

	if ((int)level > atomic_load(&log_threshold))
		return;

	if (atomic_load(&log_to) == LOG_TARGET_SYSLOG) {
		va_start(ap, fmt);
		n = vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		if (n >= 0)
			syslog(syslog_prio[level], "%s", line);
		return;
	}

	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	off = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line + off, sizeof(line) - off,
		     ".%03ldZ vigil[%ld]: %s: ", ts.tv_nsec / 1000000,
		     (long)getpid(), log_level_names[level]);
	if (n > 0)
		off += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
	va_end(ap);
	if (n > 0)
		off += (size_t)n;
	if (off > sizeof(line) - 2) /* cut short: keep the newline */
		off = sizeof(line) - 2;
	line[off++] = '\n';
	/* One write per line so threads never interleave within a line. */
	if (write(STDERR_FILENO, line, off) == -1)
		return;
}
