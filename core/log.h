/*
 * log.h: levelled log lines to stderr or syslog. Safe to call from any
 * thread: each line is formatted on the stack and written with one call.
 */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include "core/conf-types.h"

/* Sets the threshold and the target; may be called again on reload. */
void log_setup(enum log_level level, enum log_target target);

/* Closes syslog if it was opened. */
void log_close(void);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Names of levels and targets, as written in the configuration. */
extern const char *const log_level_names[];
extern const char *const log_target_names[];

#endif
