/*
 * conf.h: loading and checking the configuration file (SPEC.md
 * "Configuration"). conf_load() parses the whole file into a fresh struct
 * conf and validates everything before returning it, so a caller either
 * gets a configuration that is fit to run or every reason why not.
 */
#ifndef VIGIL_CONF_H
#define VIGIL_CONF_H

#include "core/conf-types.h"
#include "core/errlist.h"

/*
 * Reads and validates path. Returns a new configuration, or NULL with every
 * problem appended to el as "FILE:LINE: SETTING: problem".
 */
struct conf *conf_load(const char *path, struct errlist *el);

/*
 * The same for a reload: the files of settings a reload does not apply
 * (TLS listeners' certificates and keys, the access log, the spool) are
 * not checked, since vigil may no longer be able to read them after it
 * dropped its privileges.
 */
struct conf *conf_reload(const char *path, struct errlist *el);

void conf_free(struct conf *c);

/* interval_ms × failover_heartbeats: how old a beat may be and be fresh. */
long long conf_failover_timeout_ms(const struct conf *c);

/* Event names as in SPEC.md "Events", indexed by enum event_kind. */
extern const char *const event_kind_names[];

/* Names of the enumerated settings, as written in the file. */
extern const char *const stick_mode_names[];
extern const char *const channel_type_names[];
extern const char *const channel_format_names[];

#endif
