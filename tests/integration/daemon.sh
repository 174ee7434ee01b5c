#!/usr/bin/env bash
# daemon.sh: the running daemon: it starts, binds its listeners, reloads on
# SIGHUP (keeping the old configuration when the new file is broken, and
# logging every error), and stops with exit 0 on SIGTERM and SIGINT.
. "$top_srcdir/tests/integration/lib.sh"

port=$(free_port)
write_conf() { # LOG_LEVEL
	cat >"$T/vigil.conf" <<CONF
vigil = { name = "t1"; spool_dir = "$T/spool"; log = { level = "$1"; }; };
listen = ( { address = "127.0.0.1:$port"; } );
cluster = { name = "c1"; nodes = ( { name = "n1"; address = "127.0.0.1:8281"; } ); };
CONF
}
log_has() { grep -qE -- "$1" "$T/vigil.log"; }

write_conf info
vigil_start "$T/vigil.conf"
t_wait 10 "vigil starts and says so" log_has "vigil [0-9.]+ started: appliance t1, cluster c1, 1 node"
t_ok "the spool directory is created" test -d "$T/spool"
# The one node does not exist: no node is active, 503 with Retry-After.
curl -sS -D "$T/h" -o "$T/b" --max-time 5 "http://127.0.0.1:$port/" 2>"$T/curl.err"
t_like "$(head -1 "$T/h")" "^HTTP/1.1 503" "the VIP answers 503 while no node is active"
t_like "$(cat "$T/h")" "Retry-After: 5" "with Retry-After"
t_is "$(cat "$T/b")" "503 Service Unavailable: no active node" "and a body that says why"

# A good reload is taken.
write_conf debug
kill -HUP "$VIGIL_PID"
t_wait 10 "SIGHUP with a good file reloads" log_has "configuration reloaded"

# A broken file: every error logged with file and line, old config kept.
cat >"$T/vigil.conf" <<CONF
vigil = { workers = -3; log = { level = "chatty"; }; };
listen = ( { address = "127.0.0.1:$port"; } );
cluster = { nodes = ( ) ; };
CONF
kill -HUP "$VIGIL_PID"
t_wait 10 "SIGHUP with a broken file logs that the reload failed" \
	log_has "reload failed: 3 errors; still running on the previous configuration"
t_ok "the range error is logged with file and line" \
	log_has "error: $T/vigil.conf:1: vigil.workers: -3 is out of range"
t_ok "the enum error is logged with file and line" \
	log_has "error: $T/vigil.conf:1: vigil.log.level: \"chatty\" is not one of"
t_ok "the empty node list is logged with file and line" \
	log_has "error: $T/vigil.conf:3: cluster.nodes: must have at least one entry"
t_ok "vigil is still running" kill -0 "$VIGIL_PID"
# The previous configuration (log level debug) is still in force.
kill -HUP "$VIGIL_PID"
t_wait 10 "a second bad reload is refused too" \
	bash -c "[ \$(grep -c 'reload failed' '$T/vigil.log') -ge 2 ]"
t_ok "debug logging from the kept configuration" log_has "debug: |reloading"

# A changed listen address is reported as needing a restart.
port2=$(free_port)
sed -i "s/:$port\"/:$port2\"/" "$T/vigil.conf"
write_conf info
sed -i "s/:$port\"/:$port2\"/" "$T/vigil.conf"
kill -HUP "$VIGIL_PID"
t_wait 10 "a listen change says it needs a restart" \
	log_has "reload: listen changed; the new addresses take effect at the next restart"

vigil_stop
t_is "$VIGIL_STATUS" 0 "SIGTERM: exit 0"
t_ok "SIGTERM is logged" log_has "received Terminated, stopping"

write_conf info
vigil_start "$T/vigil.conf"
t_wait 10 "vigil starts again" bash -c "[ \$(grep -c ' started: ' '$T/vigil.log') -ge 1 ]"
kill -INT "$VIGIL_PID"
wait_for 10 bash -c "! kill -0 $VIGIL_PID 2>/dev/null"
wait "$VIGIL_PID"; rc=$?
t_is "$rc" 0 "SIGINT: exit 0"
VIGIL_PID=

t_done
