/*
 * daemon.h: the running daemon: the main libev loop, signals, reload, and
 * the order in which modules start and stop.
 */
#ifndef VIGIL_DAEMON_H
#define VIGIL_DAEMON_H

#include "core/conf-types.h"

/* Exit codes (SPEC.md "Command line"). */
enum vigil_exit {
	EXIT_OK = 0,
	EXIT_CONFIG = 1,
	EXIT_START = 2,
};

/*
 * Runs vigil on conf (which it takes over) until SIGTERM or SIGINT.
 * conf_path is re-read on SIGHUP. Returns an enum vigil_exit code.
 */
int daemon_run(const char *conf_path, struct conf *conf);

#endif
