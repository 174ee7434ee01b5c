/*
 * sdnotify.h: tells the service manager (systemd, Type=notify) when vigil is
 * ready, reloading or stopping, with the sd_notify(3) datagram protocol.
 */
#ifndef VIGIL_SDNOTIFY_H
#define VIGIL_SDNOTIFY_H

/*
 * Sends state (newline-separated KEY=VALUE lines, e.g. "READY=1") to the
 * socket named by $NOTIFY_SOCKET: an absolute path, or an abstract socket
 * when it starts with '@'. Returns 1 when sent, 0 when $NOTIFY_SOCKET is not
 * set (not started by systemd: nothing to do), -1 with errno set when the
 * variable is unusable or the send failed. Blocks for at most a second.
 */
int sdnotify_send(const char *state);

/* The calls the daemon makes; failures are logged as warnings, never fatal.
 * ready: start-up is done (listeners bound, privileges dropped), and again
 * when a reload is over, whether it applied or kept the old file.
 * reloading: SIGHUP received (with MONOTONIC_USEC, as systemd >= 253 wants).
 * stopping: SIGTERM/SIGINT received, draining begins. */
void sdnotify_ready(void);
void sdnotify_reloading(void);
void sdnotify_stopping(void);

#endif
